//! The compiled, immutable configuration every lookup reads. Built once per (re)load by
//! `config::compile`, shared as `Arc<Snapshot>` through one `ArcSwap`; nothing in it changes
//! afterwards, so readers take no lock.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use regex::Regex;

/// Index of a carrier in `Snapshot::carriers` (file order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CarrierId(pub u32);
/// Index of an account (one `[[connectivity]]` document) in `Snapshot::accounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub u32);
/// Index of a server in `Snapshot::servers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(pub u32);

/// The whole compiled configuration.
#[derive(Debug)]
pub struct Snapshot {
    /// Increments on every successful (re)load; shown by status and metrics.
    pub generation: u64,
    /// The file it was loaded from.
    pub source: PathBuf,
    pub proxy: ProxySettings,
    pub security: Security,
    pub admin: Option<Admin>,
    pub log: LogSettings,
    /// In file order.
    pub carriers: Vec<Carrier>,
    /// Carriers in outbound hunting order: by `weight`, ties in file order.
    pub outbound_order: Vec<CarrierId>,
    pub accounts: Vec<Account>,
    pub servers: Vec<Server>,
    /// Source address → carrier / IP server (longest prefix wins).
    pub sources: SourceIndex,
    /// E.164 DID → server.
    pub dids: DidIndex,
    /// (realm lower-cased, digest user) → who owns those credentials.
    pub digest_users: HashMap<(String, String), DigestOwner>,
    /// Server realms (lower-cased) that are not `[proxy].realm` (SPEC §3 "Realm").
    pub server_realms: Vec<String>,
    /// Carrier names as last resolved by the runtime (next hops and extra source entries).
    /// The one interior-mutable cell of a snapshot: the runtime's DNS task swaps it whole,
    /// readers `load()` it lock-free (see `config::resolved`).
    pub resolved: arc_swap::ArcSwap<super::resolved::ResolvedHosts>,
}

/// `[proxy]`.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    pub listen: Vec<Listen>,
    /// Host put in Via / Record-Route (an IPv6 literal bracketed, as in a URI).
    pub advertise: String,
    pub realm: String,
    pub digest_algorithms: Vec<DigestAlgorithm>,
    pub nonce_ttl: Duration,
    pub default_country_code: String,
    pub emergency_numbers: Vec<String>,
    pub unknown_source: UnknownSource,
    pub max_call_duration: Duration,
    pub max_message_bytes: usize,
    pub udp_mtu_switch: bool,
    pub connectivity_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub tls_certificate: Option<PathBuf>,
    pub tls_private_key: Option<PathBuf>,
    /// Registrar: expires accepted from clients are clamped to [min, max] (extension).
    pub register_min_expires: u32,
    pub register_max_expires: u32,
    /// DNS servers for carrier names (`[proxy] dns_servers`); empty: the system resolver
    /// (`/etc/resolv.conf`).
    pub dns_servers: Vec<SocketAddr>,
}

/// A listener: `udp:127.0.0.1:5060`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    pub transport: Transport,
    pub addr: SocketAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// As written in a Via (`UDP`, `TCP`, `TLS`).
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownSource {
    Reject,
    Drop,
}

/// `[security]`.
#[derive(Debug, Clone)]
pub struct Security {
    pub auth_failures: u32,
    pub auth_window: Duration,
    pub ban_time: Duration,
    /// Requests (datagrams or stream messages) one source IP may send per `rate_window`;
    /// 0 = no flood limit. Carriers and configured server addresses are exempt.
    pub rate_limit: u32,
    /// The flood counting window.
    pub rate_window: Duration,
    /// Simultaneous inbound TCP connections one source IP may hold; 0 = unlimited.
    pub tcp_connections_per_ip: u32,
    /// CRLF keep-alives one TCP connection may send per second before it is closed; 0 = no limit.
    pub tcp_keepalives_per_second: u32,
}

impl Default for Security {
    /// The SPEC §2 defaults.
    fn default() -> Security {
        Security {
            auth_failures: 10,
            auth_window: Duration::from_secs(60),
            ban_time: Duration::from_secs(300),
            rate_limit: 200,
            rate_window: Duration::from_secs(2),
            tcp_connections_per_ip: 32,
            tcp_keepalives_per_second: 10,
        }
    }
}

/// `[admin]`.
#[derive(Debug, Clone)]
pub struct Admin {
    pub listen: SocketAddr,
    pub token: Option<String>,
}

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub level: String,
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierAuthMode {
    IpAuth,
    RegisterAuth,
    AcceptRegister,
}

/// Number format towards a peer (SPEC §2 `format`, `inbound_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberFormat {
    E164,
    Npan,
    OneNpan,
    StripPlus,
    /// Inbound only: the server's `auth_user`.
    Username,
}

/// Where a carrier's calls carry the called/caller numbers (seed 003 `inbound_parameters`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberSource {
    RequestUriUser,
    ToUser,
    FromUser,
    PAssertedIdentityUser,
    RemotePartyIdUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplaySource {
    FromDisplayName,
    PAssertedIdentityDisplayName,
    RemotePartyIdDisplayName,
}

#[derive(Debug, Clone)]
pub struct InboundParameters {
    pub called_num: NumberSource,
    pub caller_num: NumberSource,
    pub caller_display_name: DisplaySource,
}

/// One `outbound_parameters` entry: which header part, and what to put there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundParameter {
    /// The seed-003 key, e.g. `from_user_part`.
    pub key: String,
    pub value: OutboundValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundValue {
    Default,
    CallerNumber,
    CallerDisplayName,
    CalledNumber,
    AuthId,
    Username,
    TrunkHostPort,
    ProxyHost,
    Custom(String),
    None,
}

/// `did_numbers` of a carrier: what it may deliver.
#[derive(Debug, Clone, Default)]
pub struct DidFilter {
    /// Exact numbers, normalised (E.164, or bare digits for short numbers).
    pub exact: Vec<String>,
    /// Inclusive ranges over same-length numbers (numeric compare).
    pub ranges: Vec<(String, String)>,
}

/// A `[[carriers]]` entry.
#[derive(Debug, Clone)]
pub struct Carrier {
    pub id: CarrierId,
    pub name: String,
    pub enabled: bool,
    pub auth_mode: CarrierAuthMode,
    pub transport: Transport,
    pub hostname: String,
    pub port: u16,
    /// Whether `port` was written in the file. The loader still fills `port` with 5060 when it
    /// is not, but a DNS-name `hostname` without an explicit port is looked up with SRV first
    /// (RFC 3263 §4.2), and the Request-URI then carries no port.
    pub port_explicit: bool,
    /// Where calls to this carrier go: outbound_server:port when set, else hostname:port.
    /// `None` when the host is a DNS name (resolved at run time).
    pub next_hop: Option<SocketAddr>,
    pub outbound_server: Option<String>,
    pub outbound_server_port: u16,
    /// Whether `outbound_server_port` was written in the file (see `port_explicit`).
    pub outbound_server_port_explicit: bool,
    pub additional_ips: Vec<IpNet>,
    pub verify_port: bool,
    pub auth_id: String,
    pub username: String,
    pub password: String,
    pub registration: bool,
    pub register_interval: Duration,
    pub keep_alive: bool,
    pub keep_alive_interval: Duration,
    pub keep_alive_failures: u32,
    /// 0 = unlimited.
    pub concurrency: u32,
    pub weight: u32,
    pub rules: Vec<Regex>,
    pub flags: Vec<String>,
    pub format: NumberFormat,
    pub did_numbers: Option<DidFilter>,
    pub ca_file: Option<PathBuf>,
    pub inbound_parameters: InboundParameters,
    pub outbound_parameters: Vec<OutboundParameter>,
}

/// Caller-ID pair from the seeds (`cid_name`, `cid_number`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallerId {
    pub cid_name: Option<String>,
    pub cid_number: Option<String>,
}

/// One `[[connectivity]]` document.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub account_id: String,
    /// Connectivity id.
    pub connectivity_id: String,
    pub name: String,
    /// 0 = unlimited.
    pub trunks: u32,
    pub caller_id: Option<CallerId>,
    pub emergency_caller_id: Option<CallerId>,
    pub servers: Vec<ServerId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Password,
    Ip,
}

/// A server's auth block.
#[derive(Debug, Clone)]
pub struct ServerAuth {
    pub method: AuthMethod,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `auth.ip` as prefixes (plain addresses are /32 or /128).
    pub ips: Vec<IpNet>,
    /// The effective digest realm (server's `realm`, else `[proxy].realm`).
    pub realm: String,
    pub port: Option<u16>,
}

/// Failover target of a DID or server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failover {
    /// Dial this E.164 number out over the carriers.
    E164(String),
    /// Send to this SIP URI.
    Sip(String),
}

/// A server's `options` block, compiled.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub enabled: bool,
    pub inbound_format: NumberFormat,
    /// Static destination of inbound calls (auth.ip:auth.port, else options.ip:options.port);
    /// `None`: the live registration binding.
    pub destination: Option<SocketAddr>,
    pub transport: Transport,
    pub delay: Duration,
    /// Final-answer timeout (Timer C default 180 s when 0 in the file).
    pub timeout: Duration,
    pub progress_timeout: Option<Duration>,
    pub force_outbound: bool,
    pub ignore_early_media: bool,
    pub hunt_non_reconcilable: bool,
    pub flags: Vec<String>,
    pub sip_headers: Vec<(String, String)>,
    pub failover: Option<Failover>,
    pub caller_id: Option<CallerId>,
    pub emergency_caller_id: Option<CallerId>,
}

/// A `[[connectivity.servers]]` entry.
#[derive(Debug, Clone)]
pub struct Server {
    pub id: ServerId,
    pub account: AccountId,
    pub name: String,
    pub auth: ServerAuth,
    pub options: ServerOptions,
}

/// One DID's own settings.
#[derive(Debug, Clone)]
pub struct Did {
    pub server: ServerId,
    pub caller_id: Option<CallerId>,
    pub failover: Option<Failover>,
    pub force_outbound: bool,
}

/// Who owns a set of digest credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestOwner {
    Server(ServerId),
    /// An `ACCEPT_REGISTER` carrier.
    Carrier(CarrierId),
}

/// Who a source address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceOwner {
    Carrier(CarrierId),
    Server(ServerId),
}

/// One entry of the source index: owner plus an optional required source port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceEntry {
    pub owner: SourceOwner,
    pub port: Option<u16>,
}

/// Longest-prefix-match index of source addresses. Carriers are listed before servers for the
/// same prefix (SPEC §3 order).
#[derive(Debug, Default, Clone)]
pub struct SourceIndex {
    pub(crate) v4: prefix_trie::PrefixMap<ipnet::Ipv4Net, Vec<SourceEntry>>,
    pub(crate) v6: prefix_trie::PrefixMap<ipnet::Ipv6Net, Vec<SourceEntry>>,
}

impl SourceIndex {
    /// The entries of the longest prefix containing `ip` (empty when none).
    pub fn lookup(&self, ip: IpAddr) -> &[SourceEntry] {
        let hit = match ip {
            IpAddr::V4(a) => self.v4.get_lpm(&ipnet::Ipv4Net::from(a)).map(|(_, v)| v),
            IpAddr::V6(a) => self.v6.get_lpm(&ipnet::Ipv6Net::from(a)).map(|(_, v)| v),
        };
        hit.map_or(&[], Vec::as_slice)
    }

    /// Adds an entry for a prefix.
    pub fn insert(&mut self, net: IpNet, entry: SourceEntry) {
        match net.trunc() {
            IpNet::V4(n) => push_entry(&mut self.v4, n, entry),
            IpNet::V6(n) => push_entry(&mut self.v6, n, entry),
        }
    }
}

fn push_entry<P: prefix_trie::Prefix>(
    map: &mut prefix_trie::PrefixMap<P, Vec<SourceEntry>>,
    p: P,
    e: SourceEntry,
) {
    match map.get_mut(&p) {
        Some(v) => v.push(e),
        None => {
            map.insert(p, vec![e]);
        }
    }
}

/// DID index: exact E.164 numbers keyed by the value of their digits (E.164 digits never start
/// with 0, so the value is unique), and ranges.
#[derive(Debug, Default)]
pub struct DidIndex {
    pub(crate) exact: HashMap<u64, Did, BuildHasherDefault<DigitsHasher>>,
    /// Sorted by (digits length, start), never overlapping; (digits length, start, end, did
    /// settings).
    pub(crate) ranges: Vec<(usize, u64, u64, Did)>,
}

/// The lookup key of an E.164 number (`+` and 1..=19 digits): the value of its digits.
pub fn did_key(e164: &str) -> Option<u64> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits
        .bytes()
        .try_fold(0u64, |n, c| n.checked_mul(10)?.checked_add(u64::from(c - b'0')))
}

/// Number of decimal digits of a DID key.
pub fn key_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// A multiply-shift hasher for DID keys: the keys come from the config (the table is built
/// once), and a lookup of an attacker's number can only miss, so SipHash buys nothing here.
#[derive(Default, Clone, Copy)]
pub struct DigitsHasher(u64);

impl Hasher for DigitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 ^= self.0 >> 32;
    }
}

impl DidIndex {
    /// Looks up an E.164 number (`+` and digits).
    pub fn get(&self, e164: &str) -> Option<&Did> {
        let n = did_key(e164)?;
        if let Some(d) = self.exact.get(&n) {
            return Some(d);
        }
        let len = key_digits(n);
        // Ranges never overlap (config validation), so the only candidate is the last range
        // starting at or before `n` among those of the same length.
        let i = self.ranges.partition_point(|r| (r.0, r.1) <= (len, n));
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (r.0 == len && n <= r.2).then_some(&r.3)
    }

    /// Adds an exact DID (tests and fixtures; the compiler checks duplicates itself).
    pub fn insert(&mut self, e164: &str, did: Did) -> bool {
        match did_key(e164) {
            Some(n) => self.exact.insert(n, did).is_none(),
            None => false,
        }
    }

    /// Number of exact DIDs.
    pub fn exact_len(&self) -> usize {
        self.exact.len()
    }

    /// Number of DID ranges.
    pub fn range_len(&self) -> usize {
        self.ranges.len()
    }

    /// Number of exact DIDs plus ranges.
    pub fn len(&self) -> usize {
        self.exact.len() + self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
