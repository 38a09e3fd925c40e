//! Hand-built `Snapshot`s for tests and benches, so policy can be exercised without the TOML
//! loader: `Fixture::new().carrier("a", "127.0.0.2").account("acme").ip_server(..).did(..)`.
//! `Fixture::loopback()` is the SPEC §7 layout. Fixture input is trusted test data: bad literals
//! panic with a message.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::config::{
    Account, AccountId, AuthMethod, Carrier, CarrierAuthMode, CarrierId, Did, DidIndex, DigestAlgorithm,
    DigestOwner, DisplaySource, InboundParameters, Listen, LogSettings, NumberFormat, NumberSource,
    ProxySettings, Security, Server, ServerAuth, ServerId, ServerOptions, Snapshot, SourceEntry, SourceIndex,
    SourceOwner, Transport, UnknownSource,
};
use crate::policy::number::normalise;

/// Timer C (RFC 3261 §16.6 step 11): the default final-answer timeout.
const TIMER_C: Duration = Duration::from_secs(180);

/// Builder of a `Snapshot`. Servers attach to the last account (an account `acme` is made when
/// there is none); DIDs attach to the last server.
#[derive(Debug)]
pub struct Fixture {
    proxy: ProxySettings,
    carriers: Vec<Carrier>,
    accounts: Vec<Account>,
    servers: Vec<Server>,
    dids: DidIndex,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// An empty config with `[proxy]` defaults (realm `edge.test`, country code 1).
    pub fn new() -> Self {
        Fixture {
            proxy: default_proxy(),
            carriers: Vec::new(),
            accounts: Vec::new(),
            servers: Vec::new(),
            dids: DidIndex::default(),
        }
    }

    /// SPEC §7: carrier A (127.0.0.2) sends inbound calls (weight 30: hunted last); termination
    /// carrier 127.0.0.5:5060 (weight 10); failover carrier 127.0.0.6:5060 (weight 20); account `acme` with password server
    /// `acme-pbx` (pbx1 / s3cret, calls from 127.0.0.3) receiving DID +14155550100 at
    /// 127.0.0.4:5060 in `npan`.
    pub fn loopback() -> Self {
        Fixture::new()
            .carrier_with("carrier-a", "127.0.0.2", |c| c.weight = 30)
            .carrier("termination", "127.0.0.5")
            .carrier_with("failover", "127.0.0.6", |c| c.weight = 20)
            .account("acme")
            .password_server("acme-pbx", "pbx1", "s3cret")
            .server_with(|s| {
                s.options.destination = Some(sock("127.0.0.4:5060"));
                s.options.inbound_format = NumberFormat::Npan;
            })
            .did("+14155550100")
    }

    /// Changes `[proxy]`.
    pub fn proxy(mut self, f: impl FnOnce(&mut ProxySettings)) -> Self {
        f(&mut self.proxy);
        self
    }

    /// Adds an IP_AUTH udp carrier at `host`:5060, weight 10, e164, no rules or flags.
    pub fn carrier(self, name: &str, host: &str) -> Self {
        self.carrier_with(name, host, |_| {})
    }

    /// Adds a carrier and lets `f` change it (`next_hop` is derived at `build`).
    pub fn carrier_with(mut self, name: &str, host: &str, f: impl FnOnce(&mut Carrier)) -> Self {
        let id = CarrierId(index(self.carriers.len()));
        let mut c = default_carrier(id, name, host);
        f(&mut c);
        self.carriers.push(c);
        self
    }

    /// Changes the carrier called `name`.
    pub fn edit_carrier(mut self, name: &str, f: impl FnOnce(&mut Carrier)) -> Self {
        f(self
            .carriers
            .iter_mut()
            .find(|c| c.name == name)
            .expect("fixture: no such carrier"));
        self
    }

    /// Adds an account (a `[[connectivity]]` document); later servers belong to it.
    pub fn account(self, account_id: &str) -> Self {
        self.account_with(account_id, |_| {})
    }

    /// Adds an account and lets `f` change it (`trunks`, caller IDs).
    pub fn account_with(mut self, account_id: &str, f: impl FnOnce(&mut Account)) -> Self {
        let mut a = Account {
            id: AccountId(index(self.accounts.len())),
            account_id: account_id.to_owned(),
            connectivity_id: account_id.to_owned(),
            name: account_id.to_owned(),
            trunks: 0,
            caller_id: None,
            emergency_caller_id: None,
            servers: Vec::new(),
        };
        f(&mut a);
        self.accounts.push(a);
        self
    }

    /// Changes the last account.
    pub fn edit_account(mut self, f: impl FnOnce(&mut Account)) -> Self {
        f(self
            .accounts
            .last_mut()
            .expect("fixture: edit_account before any account"));
        self
    }

    /// Adds an IP-auth server at `ip` (destination `ip`:`auth.port`, default 5060).
    pub fn ip_server(self, name: &str, ip: &str) -> Self {
        let net = IpNet::from(ip.parse::<IpAddr>().expect("fixture: server ip"));
        self.push_server(name, AuthMethod::Ip, None, None, vec![net])
    }

    /// Adds a digest server (no static destination: calls go to its registration).
    pub fn password_server(self, name: &str, user: &str, password: &str) -> Self {
        self.push_server(name, AuthMethod::Password, Some(user), Some(password), Vec::new())
    }

    /// Changes the last server.
    pub fn server_with(mut self, f: impl FnOnce(&mut Server)) -> Self {
        f(self
            .servers
            .last_mut()
            .expect("fixture: server_with before any server"));
        self
    }

    /// Adds a DID (normalised to E.164) to the last server.
    pub fn did(self, number: &str) -> Self {
        self.did_with(number, |_| {})
    }

    /// Adds a DID to the last server and lets `f` change its settings.
    pub fn did_with(mut self, number: &str, f: impl FnOnce(&mut Did)) -> Self {
        let e164 = normalise(number, &self.proxy.default_country_code).expect("fixture: DID number");
        let did = self.new_did(f);
        self.dids.insert(&e164, did);
        self
    }

    /// Adds a DID range (same-length E.164 ends) to the last server.
    pub fn did_range(mut self, start: &str, end: &str) -> Self {
        let digits = |s: &str| s.trim_start_matches('+').to_owned();
        let (s, e) = (digits(start), digits(end));
        let n = |d: &str| d.parse::<u64>().expect("fixture: range end");
        let did = self.new_did(|_| {});
        self.dids.ranges.push((s.len(), n(&s), n(&e), did));
        self.dids.ranges.sort_by_key(|r| r.1);
        self
    }

    /// Compiles the snapshot: outbound order, source index, digest users, realms, next hops.
    pub fn build(mut self) -> Snapshot {
        self.carriers.iter_mut().for_each(derive_next_hop);
        self.servers.iter_mut().for_each(derive_destination);
        let mut order: Vec<CarrierId> = self.carriers.iter().map(|c| c.id).collect();
        order.sort_by_key(|id| self.carriers.get(id.0 as usize).map_or(u32::MAX, |c| c.weight));
        Snapshot {
            generation: 1,
            source: PathBuf::from("fixture.toml"),
            security: Security {
                auth_failures: 10,
                auth_window: Duration::from_secs(60),
                ban_time: Duration::from_secs(300),
                ..Security::default()
            },
            admin: None,
            log: LogSettings {
                level: "info".into(),
                json: false,
            },
            outbound_order: order,
            sources: self.sources(),
            digest_users: self.digest_users(),
            server_realms: self.server_realms(),
            resolved: Default::default(),
            dids: self.dids,
            carriers: self.carriers,
            accounts: self.accounts,
            servers: self.servers,
            proxy: self.proxy,
        }
    }

    fn push_server(
        mut self,
        name: &str,
        method: AuthMethod,
        user: Option<&str>,
        password: Option<&str>,
        ips: Vec<IpNet>,
    ) -> Self {
        if self.accounts.is_empty() {
            self = self.account("acme");
        }
        let id = ServerId(index(self.servers.len()));
        let account = self.accounts.last_mut().expect("fixture: account");
        account.servers.push(id);
        let auth = ServerAuth {
            method,
            user: user.map(str::to_owned),
            password: password.map(str::to_owned),
            ips,
            realm: self.proxy.realm.clone(),
            port: None,
        };
        let server = Server {
            id,
            account: account.id,
            name: name.to_owned(),
            auth,
            options: default_options(),
        };
        self.servers.push(server);
        self
    }

    fn new_did(&self, f: impl FnOnce(&mut Did)) -> Did {
        let server = self.servers.last().expect("fixture: DID before any server").id;
        let mut did = Did {
            server,
            caller_id: None,
            failover: None,
            force_outbound: false,
        };
        f(&mut did);
        did
    }

    fn sources(&self) -> SourceIndex {
        let mut idx = SourceIndex::default();
        for c in self
            .carriers
            .iter()
            .filter(|c| c.auth_mode != CarrierAuthMode::AcceptRegister)
        {
            let port = c.verify_port.then_some(c.port);
            let entry = SourceEntry {
                owner: SourceOwner::Carrier(c.id),
                port,
            };
            let hosts = [Some(c.hostname.as_str()), c.outbound_server.as_deref()];
            let ips = hosts
                .into_iter()
                .flatten()
                .filter_map(|h| h.parse::<IpAddr>().ok())
                .map(IpNet::from);
            ips.chain(c.additional_ips.iter().copied())
                .for_each(|net| idx.insert(net, entry));
        }
        for s in self.servers.iter().filter(|s| s.auth.method == AuthMethod::Ip) {
            let entry = SourceEntry {
                owner: SourceOwner::Server(s.id),
                port: s.auth.port,
            };
            s.auth.ips.iter().for_each(|net| idx.insert(*net, entry));
        }
        idx
    }

    fn digest_users(&self) -> HashMap<(String, String), DigestOwner> {
        let servers = self
            .servers
            .iter()
            .filter(|s| s.auth.method == AuthMethod::Password);
        let mut users: HashMap<_, _> = servers
            .filter_map(|s| {
                Some((
                    (s.auth.realm.to_lowercase(), s.auth.user.clone()?),
                    DigestOwner::Server(s.id),
                ))
            })
            .collect();
        let realm = self.proxy.realm.to_lowercase();
        for c in self
            .carriers
            .iter()
            .filter(|c| c.auth_mode == CarrierAuthMode::AcceptRegister)
        {
            users.insert((realm.clone(), c.username.clone()), DigestOwner::Carrier(c.id));
        }
        users
    }

    fn server_realms(&self) -> Vec<String> {
        let proxy = self.proxy.realm.to_lowercase();
        let mut realms: Vec<String> = self.servers.iter().map(|s| s.auth.realm.to_lowercase()).collect();
        realms.retain(|r| *r != proxy);
        realms.sort();
        realms.dedup();
        realms
    }
}

/// Parses a socket address literal (test data).
pub fn sock(s: &str) -> SocketAddr {
    s.parse().expect("fixture: socket address")
}

fn index(len: usize) -> u32 {
    u32::try_from(len).expect("fixture: too many items")
}

fn derive_next_hop(c: &mut Carrier) {
    let (host, port) = match &c.outbound_server {
        Some(h) => (h.as_str(), c.outbound_server_port),
        None => (c.hostname.as_str(), c.port),
    };
    c.next_hop = host.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, port));
}

fn derive_destination(s: &mut Server) {
    if s.auth.method != AuthMethod::Ip {
        return;
    }
    let port = s.auth.port.unwrap_or(5060);
    s.options.destination = s.auth.ips.first().map(|net| SocketAddr::new(net.addr(), port));
}

fn default_proxy() -> ProxySettings {
    ProxySettings {
        listen: vec![Listen {
            transport: Transport::Udp,
            addr: sock("127.0.0.1:5060"),
        }],
        advertise: "127.0.0.1".into(),
        realm: "edge.test".into(),
        digest_algorithms: vec![DigestAlgorithm::Md5, DigestAlgorithm::Sha256],
        nonce_ttl: Duration::from_secs(300),
        default_country_code: "1".into(),
        emergency_numbers: vec!["911".into(), "933".into(), "112".into()],
        unknown_source: UnknownSource::Reject,
        max_call_duration: Duration::from_secs(14400),
        max_message_bytes: 65535,
        udp_mtu_switch: false,
        connectivity_dir: None,
        state_dir: None,
        tls_certificate: None,
        tls_private_key: None,
        register_min_expires: 60,
        register_max_expires: 3600,
        dns_servers: Vec::new(),
    }
}

fn default_carrier(id: CarrierId, name: &str, host: &str) -> Carrier {
    Carrier {
        id,
        name: name.to_owned(),
        enabled: true,
        auth_mode: CarrierAuthMode::IpAuth,
        transport: Transport::Udp,
        hostname: host.to_owned(),
        port: 5060,
        port_explicit: true,
        next_hop: None,
        outbound_server: None,
        outbound_server_port: 5060,
        outbound_server_port_explicit: true,
        additional_ips: Vec::new(),
        verify_port: false,
        auth_id: String::new(),
        username: String::new(),
        password: String::new(),
        registration: false,
        register_interval: Duration::from_secs(600),
        keep_alive: true,
        keep_alive_interval: Duration::from_secs(360),
        keep_alive_failures: 2,
        concurrency: 0,
        weight: 10,
        rules: Vec::new(),
        flags: Vec::new(),
        format: NumberFormat::E164,
        did_numbers: None,
        ca_file: None,
        inbound_parameters: InboundParameters {
            called_num: NumberSource::RequestUriUser,
            caller_num: NumberSource::FromUser,
            caller_display_name: DisplaySource::FromDisplayName,
        },
        outbound_parameters: Vec::new(),
    }
}

fn default_options() -> ServerOptions {
    ServerOptions {
        enabled: true,
        inbound_format: NumberFormat::E164,
        destination: None,
        transport: Transport::Udp,
        delay: Duration::ZERO,
        timeout: TIMER_C,
        progress_timeout: None,
        force_outbound: false,
        ignore_early_media: false,
        hunt_non_reconcilable: false,
        flags: Vec::new(),
        sip_headers: Vec::new(),
        failover: None,
        caller_id: None,
        emergency_caller_id: None,
    }
}
