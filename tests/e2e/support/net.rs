//! Address blocks and the config template.
//!
//! Every test takes its own block `127.0.N.0/24` (SPEC §7: the whole 127/8 is loopback on
//! Linux), with the shipped layout's last octets, so tests never share a socket and run in
//! parallel.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// The proxy under test (udp + tcp :5060).
pub const PROXY: u8 = 1;
/// Carrier A: sends inbound calls, recognised by IP.
pub const CARRIER_A: u8 = 2;
/// The customer PBX: digest pbx1 / s3cret.
pub const PBX: u8 = 3;
/// The customer server receiving DID calls on :5060.
pub const SERVER: u8 = 4;
/// The termination carrier (:5060, weight 10).
pub const TERMINATION: u8 = 5;
/// The failover carrier (:5060, weight 20).
pub const FAILOVER: u8 = 6;

/// The DID every inbound test dials.
pub const DID: &str = "+14155550100";

static NEXT: AtomicU8 = AtomicU8::new(0);
static BASE: OnceLock<u8> = OnceLock::new();

/// One test's address block 127.0.N.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub n: u8,
}

/// Tweaks applied to the shipped layout.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Extra lines in `[proxy]`.
    pub proxy_extra: String,
    /// Extra lines in the customer server's `[connectivity.servers.options]`.
    pub server_options: String,
    /// Extra DIDs of the customer server (besides the shipped three).
    pub extra_dids: Vec<String>,
    /// TOML appended at the end of the file.
    pub extra: String,
}

impl Net {
    /// The next free block: 30, 31, ... (`TRUNKGATE_E2E_BASE` moves the start, so two
    /// checkouts can run the suite at the same time).
    pub fn next() -> Net {
        let base = *BASE.get_or_init(|| {
            std::env::var("TRUNKGATE_E2E_BASE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(30)
        });
        let n = base.saturating_add(NEXT.fetch_add(1, Ordering::SeqCst));
        assert!(n < 255, "out of address blocks");
        Net { n }
    }

    /// `127.0.N.host`.
    pub fn ip(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(127, 0, self.n, host)
    }

    /// `127.0.N.host:5060`.
    pub fn addr(&self, host: u8) -> SocketAddr {
        SocketAddr::from((self.ip(host), 5060))
    }

    /// The proxy's address.
    pub fn proxy(&self) -> SocketAddr {
        self.addr(PROXY)
    }

    /// The shipped layout for this block.
    pub fn config(&self) -> String {
        self.config_with(&Layout::default())
    }

    /// The shipped layout for this block, tweaked.
    pub fn config_with(&self, l: &Layout) -> String {
        let ip = |h: u8| self.ip(h).to_string();
        let mut s = format!(
            r#"[proxy]
listen = ["udp:{p}:5060", "tcp:{p}:5060"]
advertise = "{p}"
realm = "edge.test"
digest_algorithms = ["MD5", "SHA-256"]
default_country_code = "1"
emergency_numbers = ["911", "933", "112"]
unknown_source = "reject"
{proxy_extra}

[security]
auth_failures = 10
auth_window = 60
ban_time = 300

[log]
level = "info"
format = "text"

[[carriers]]
name = "carrier-a"
auth_mode = "IP_AUTH"
hostname = "{a}"
port = 5060
transport = "udp"
keep_alive = false
concurrency = 0
rules = ["^$"]

[[carriers]]
name = "termination"
hostname = "{t}"
port = 5060
weight = 10
format = "e164"
keep_alive = false

[[carriers]]
name = "failover"
hostname = "{f}"
port = 5060
weight = 20
keep_alive = false

[[connectivity]]
account_id = "acme"
name = "Acme Corp"

[connectivity.account]
trunks = 0
caller_id = {{ cid_name = "Acme", cid_number = "+14155550100" }}

[[connectivity.servers]]
name = "acme-server"

[connectivity.servers.auth]
auth_method = "IP"
ip = "{srv}"
port = 5060

[connectivity.servers.options]
inbound_format = "npan"
{server_options}

[connectivity.servers.DIDs."+14155550100"]
[connectivity.servers.DIDs."+14155550101"]
[connectivity.servers.DIDs."+14155550102"]
caller_id = {{ cid_name = "Acme Sales", cid_number = "+14155550102" }}
"#,
            p = ip(PROXY),
            a = ip(CARRIER_A),
            t = ip(TERMINATION),
            f = ip(FAILOVER),
            srv = ip(SERVER),
            proxy_extra = l.proxy_extra,
            server_options = l.server_options,
        );
        for did in &l.extra_dids {
            let _ = writeln!(s, "[connectivity.servers.DIDs.\"{did}\"]");
        }
        let _ = write!(
            s,
            r#"
[[connectivity.servers]]
name = "acme-pbx"

[connectivity.servers.auth]
auth_method = "password"
auth_user = "pbx1"
auth_password = "s3cret"
ip = "{pbx}"

[connectivity.servers.options]
inbound_format = "e164"
{extra}
"#,
            pbx = ip(PBX),
            extra = l.extra,
        );
        s
    }
}
