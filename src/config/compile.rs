//! The compile step: readers feed a `Builder` (ids are indexes, assigned in file order), which
//! runs the cross-entity checks (DIDs claimed twice, overlapping ranges, duplicate digest users)
//! and produces the immutable `Snapshot`.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::IpAddr;
use std::ops::Range;
use std::path::PathBuf;

use ipnet::IpNet;

use super::diagnose::Diag;
use super::read_carrier::{digest_user, ip_literal};
use super::schema::Tbl;
use super::snapshot::*;

/// A `did_ranges` entry waiting for the overlap check.
#[derive(Debug)]
pub(crate) struct RangeClaim {
    pub len: usize,
    pub start: u64,
    pub end: u64,
    pub did: Did,
    pub file: usize,
    pub span: Range<usize>,
    pub path: String,
}

/// Everything read so far.
#[derive(Debug)]
pub(crate) struct Builder {
    pub proxy: ProxySettings,
    /// Index (in `Diag`) of the file being read.
    pub file: usize,
    pub carriers: Vec<Carrier>,
    pub carrier_names: HashMap<String, CarrierId>,
    pub accounts: Vec<Account>,
    pub servers: Vec<Server>,
    pub sources: SourceIndex,
    pub dids: HashMap<u64, Did, BuildHasherDefault<DigitsHasher>>,
    pub ranges: Vec<RangeClaim>,
    pub digest_users: HashMap<(String, String), DigestOwner>,
    pub server_realms: Vec<String>,
}

impl Builder {
    /// Starts from the `[proxy]` settings (realm, country code and own addresses are needed by
    /// the other readers).
    pub fn new(proxy: ProxySettings) -> Self {
        Builder {
            proxy,
            file: 0,
            carriers: Vec::new(),
            carrier_names: HashMap::new(),
            accounts: Vec::new(),
            servers: Vec::new(),
            sources: SourceIndex::default(),
            dids: HashMap::default(),
            ranges: Vec::new(),
            digest_users: HashMap::new(),
            server_realms: Vec::new(),
        }
    }

    /// Indexes a carrier's sources (or digest credentials for ACCEPT_REGISTER) and keeps it.
    pub fn add_carrier(&mut self, d: &mut Diag, t: &Tbl<'_, '_>, c: Carrier) {
        if c.auth_mode == CarrierAuthMode::AcceptRegister {
            let realm = self.proxy.realm.clone();
            let user = digest_user(&c).to_owned();
            if !user.is_empty() {
                let k = if c.username.is_empty() {
                    "auth_id"
                } else {
                    "username"
                };
                self.add_digest_user(
                    d,
                    &realm,
                    &user,
                    DigestOwner::Carrier(c.id),
                    &t.span_of(k),
                    &t.key(k),
                );
            }
        } else {
            let port = c.verify_port.then_some(c.port);
            let hosts = [Some(c.hostname.as_str()), c.outbound_server.as_deref()];
            let literals = hosts
                .into_iter()
                .flatten()
                .filter_map(ip_literal)
                .map(IpNet::from);
            for net in literals.chain(c.additional_ips.iter().copied()) {
                self.sources.insert(
                    net,
                    SourceEntry {
                        owner: SourceOwner::Carrier(c.id),
                        port,
                    },
                );
            }
        }
        self.carriers.push(c);
    }

    /// Registers digest credentials; a user claimed twice within one realm is an error.
    pub fn add_digest_user(
        &mut self,
        d: &mut Diag,
        realm: &str,
        user: &str,
        owner: DigestOwner,
        at: &Range<usize>,
        key: &str,
    ) {
        match self
            .digest_users
            .entry((realm.to_ascii_lowercase(), user.to_owned()))
        {
            Entry::Occupied(_) => {
                d.error(
                    at,
                    key,
                    format!("auth_user `{user}` is already used in realm `{realm}`"),
                );
            }
            Entry::Vacant(v) => {
                v.insert(owner);
            }
        }
    }

    /// Remembers a server realm other than `[proxy].realm`.
    pub fn note_realm(&mut self, realm: &str) {
        let r = realm.to_ascii_lowercase();
        if !r.eq_ignore_ascii_case(&self.proxy.realm) && !self.server_realms.contains(&r) {
            self.server_realms.push(r);
        }
    }

    /// Claims an exact DID; a number claimed twice (after normalisation) is an error.
    pub fn claim_did(
        &mut self,
        d: &mut Diag,
        num: String,
        did: Did,
        at: &Range<usize>,
        path: impl FnOnce() -> String,
    ) {
        let Some(key) = did_key(&num) else {
            d.error(at, &path(), format!("DID `{num}` is not an E.164 number"));
            return;
        };
        match self.dids.entry(key) {
            Entry::Occupied(e) => {
                let owner = self
                    .servers
                    .get(e.get().server.0 as usize)
                    .map_or("?", |s| s.name.as_str());
                d.error(
                    at,
                    &path(),
                    format!("DID `{num}` is already claimed by server `{owner}`"),
                );
            }
            Entry::Vacant(v) => {
                v.insert(did);
            }
        }
    }

    /// `true` when `host:port` is one of the proxy's own listen / advertise addresses.
    pub fn is_own_address(&self, host: &str, port: u16) -> bool {
        let ip: Option<IpAddr> = ip_literal(host);
        let port_ours = self.proxy.listen.iter().any(|l| l.addr.port() == port);
        let host_ours = host.eq_ignore_ascii_case(&self.proxy.advertise)
            || ip.is_some_and(|ip| self.proxy.listen.iter().any(|l| l.addr.ip() == ip));
        host_ours && port_ours
    }

    /// Runs the range checks and builds the snapshot.
    pub fn finish(mut self, d: &mut Diag, parts: Parts) -> Snapshot {
        let ranges = self.check_ranges(d);
        let mut outbound_order: Vec<CarrierId> = self.carriers.iter().map(|c| c.id).collect();
        outbound_order.sort_by_key(|id| self.carriers.get(id.0 as usize).map_or(u32::MAX, |c| c.weight));
        Snapshot {
            generation: parts.generation,
            source: parts.source,
            proxy: self.proxy,
            security: parts.security,
            admin: parts.admin,
            log: parts.log,
            carriers: self.carriers,
            outbound_order,
            accounts: self.accounts,
            servers: self.servers,
            sources: self.sources,
            dids: DidIndex {
                exact: self.dids,
                ranges,
            },
            digest_users: self.digest_users,
            server_realms: self.server_realms,
            resolved: Default::default(),
        }
    }

    /// Sorts the ranges, rejects overlaps and exact DIDs of other servers inside a range.
    fn check_ranges(&mut self, d: &mut Diag) -> Vec<(usize, u64, u64, Did)> {
        let mut claims = std::mem::take(&mut self.ranges);
        claims.sort_by_key(|c| (c.len, c.start));
        let mut kept: Vec<RangeClaim> = Vec::with_capacity(claims.len());
        for c in claims {
            match kept.last() {
                Some(p) if p.len == c.len && c.start <= p.end => {
                    d.set_file(c.file);
                    let owner = self.server_name(p.did.server);
                    d.error(
                        &c.span,
                        &c.path,
                        format!("DID range overlaps a range of server `{owner}`"),
                    );
                }
                _ => kept.push(c),
            }
        }
        if !kept.is_empty() {
            self.check_exact_in_ranges(d, &kept);
        }
        kept.into_iter().map(|c| (c.len, c.start, c.end, c.did)).collect()
    }

    fn check_exact_in_ranges(&self, d: &mut Diag, kept: &[RangeClaim]) {
        let mut hits: Vec<(usize, String, ServerId)> = Vec::new();
        for (&n, did) in &self.dids {
            let num = format!("+{n}");
            let len = key_digits(n);
            let i = kept.partition_point(|c| (c.len, c.start) <= (len, n));
            if let Some(c) = i.checked_sub(1).and_then(|i| kept.get(i).map(|c| (i, c))) {
                if c.1.len == len && n <= c.1.end && c.1.did.server != did.server {
                    hits.push((c.0, num, did.server));
                }
            }
        }
        hits.sort();
        for (i, num, server) in hits {
            let Some(c) = kept.get(i) else { continue };
            d.set_file(c.file);
            let owner = self.server_name(server);
            d.error(
                &c.span,
                &c.path,
                format!("DID range contains `{num}`, a DID of server `{owner}`"),
            );
        }
    }

    fn server_name(&self, id: ServerId) -> &str {
        self.servers.get(id.0 as usize).map_or("?", |s| s.name.as_str())
    }
}

/// The snapshot parts that are not built by the `Builder`.
pub(crate) struct Parts {
    pub generation: u64,
    pub source: PathBuf,
    pub security: Security,
    pub admin: Option<Admin>,
    pub log: LogSettings,
}
