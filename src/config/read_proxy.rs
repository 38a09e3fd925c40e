//! `[proxy]`, `[security]`, `[admin]`, `[log]`: the process-wide settings (SPEC §2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::diagnose::Diag;
use super::schema::Tbl;
use super::snapshot::{
    Admin, DigestAlgorithm, Listen, LogSettings, ProxySettings, Security, Transport, UnknownSource,
};
use super::values;

const PROXY_KEYS: &[&str] = &[
    "listen",
    "advertise",
    "realm",
    "digest_algorithms",
    "nonce_ttl",
    "default_country_code",
    "emergency_numbers",
    "unknown_source",
    "max_call_duration",
    "max_message_bytes",
    "udp_mtu_switch",
    "connectivity_dir",
    "state_dir",
    "tls_certificate",
    "tls_private_key",
    "register_min_expires",
    "register_max_expires",
    "dns_servers",
];

const DAY: u32 = 86_400;

fn secs(n: u32) -> Duration {
    Duration::from_secs(u64::from(n))
}

/// `host` as Via sent-by and SIP URIs write it: an IPv6 literal bracketed (RFC 3261 §25.1),
/// anything else (names, IPv4, an already bracketed literal) unchanged.
fn uri_host(host: String) -> String {
    if host.parse::<Ipv6Addr>().is_ok() {
        format!("[{host}]")
    } else {
        host
    }
}

/// Reads `[proxy]` (an absent table gives every default).
pub(crate) fn read_proxy(d: &mut Diag, t: Option<&Tbl<'_, '_>>) -> ProxySettings {
    let empty = toml::de::DeTable::new();
    let fallback = Tbl {
        map: &empty,
        span: 0..0,
        path: "proxy".into(),
    };
    let t = t.unwrap_or(&fallback);
    t.check_keys(d, PROXY_KEYS);
    let listen = read_listen(d, t);
    let first_host = listen
        .first()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |l| l.addr.ip())
        .to_string();
    let advertise = uri_host(t.opt_string(d, "advertise").unwrap_or(first_host));
    let realm = t.opt_string(d, "realm").unwrap_or_else(|| advertise.clone());
    let register_min_expires = t.u32(d, "register_min_expires", 1..=DAY, 60);
    let register_max_expires = t.u32(d, "register_max_expires", 1..=7 * DAY, 3600);
    if register_min_expires > register_max_expires {
        d.error(
            &t.span_of("register_min_expires"),
            &t.key("register_min_expires"),
            "must not exceed register_max_expires",
        );
    }
    let p = ProxySettings {
        listen,
        advertise,
        realm,
        digest_algorithms: read_algorithms(d, t),
        nonce_ttl: secs(t.u32(d, "nonce_ttl", 1..=DAY, 300)),
        default_country_code: read_country_code(d, t),
        emergency_numbers: read_emergency(d, t),
        unknown_source: t.choice(
            d,
            "unknown_source",
            &[("reject", UnknownSource::Reject), ("drop", UnknownSource::Drop)],
            true,
            UnknownSource::Reject,
        ),
        max_call_duration: secs(t.u32(d, "max_call_duration", 1..=30 * DAY, 14_400)),
        max_message_bytes: t.u32(d, "max_message_bytes", 1024..=16 * 1024 * 1024, 65_535) as usize,
        udp_mtu_switch: t.bool(d, "udp_mtu_switch", false),
        connectivity_dir: t.opt_string(d, "connectivity_dir").map(PathBuf::from),
        state_dir: t.opt_string(d, "state_dir").map(PathBuf::from),
        tls_certificate: t.opt_string(d, "tls_certificate").map(PathBuf::from),
        tls_private_key: t.opt_string(d, "tls_private_key").map(PathBuf::from),
        register_min_expires,
        register_max_expires,
        dns_servers: read_dns_servers(d, t),
    };
    check_tls(d, t, &p);
    p
}

fn read_listen(d: &mut Diag, t: &Tbl<'_, '_>) -> Vec<Listen> {
    if t.get("listen").is_none() {
        let lo = SocketAddr::from((Ipv4Addr::LOCALHOST, 5060));
        return vec![
            Listen {
                transport: Transport::Udp,
                addr: lo,
            },
            Listen {
                transport: Transport::Tcp,
                addr: lo,
            },
        ];
    }
    let items = t.list(d, "listen");
    if items.is_empty() {
        d.error(
            &t.span_of("listen"),
            &t.key("listen"),
            "at least one listen address is required",
        );
    }
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        match values::parse_listen(it.text) {
            Ok(l) if out.contains(&l) => d.error(&it.span, &it.path, "listed twice"),
            Ok(l) => out.push(l),
            Err(m) => d.error(&it.span, &it.path, m),
        }
    }
    out
}

/// `dns_servers`: `IP` (port 53) or `IP:PORT` / `[IPv6]:PORT`; empty = the system resolver.
fn read_dns_servers(d: &mut Diag, t: &Tbl<'_, '_>) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for it in t.strings(d, "dns_servers") {
        match parse_dns_server(it.text) {
            Some(a) => out.push(a),
            None => d.error(&it.span, &it.path, "expected IP or IP:PORT"),
        }
    }
    out
}

fn parse_dns_server(s: &str) -> Option<SocketAddr> {
    if let Ok(ip) = s.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    s.parse().ok().filter(|a: &SocketAddr| a.port() != 0)
}

fn check_tls(d: &mut Diag, t: &Tbl<'_, '_>, p: &ProxySettings) {
    if !p.listen.iter().any(|l| l.transport == Transport::Tls) {
        return;
    }
    for (k, v) in [
        ("tls_certificate", &p.tls_certificate),
        ("tls_private_key", &p.tls_private_key),
    ] {
        if v.is_none() {
            d.error(&t.span_of("listen"), &t.key(k), "required by the tls: listener");
        }
    }
}

fn read_algorithms(d: &mut Diag, t: &Tbl<'_, '_>) -> Vec<DigestAlgorithm> {
    if t.get("digest_algorithms").is_none() {
        return vec![DigestAlgorithm::Md5, DigestAlgorithm::Sha256];
    }
    let mut out = Vec::new();
    for it in t.strings(d, "digest_algorithms") {
        let a = match it.text.to_ascii_uppercase().as_str() {
            "MD5" => DigestAlgorithm::Md5,
            "SHA-256" => DigestAlgorithm::Sha256,
            _ => {
                d.error(
                    &it.span,
                    &it.path,
                    format!("unknown algorithm `{}` (MD5, SHA-256)", it.text),
                );
                continue;
            }
        };
        if !out.contains(&a) {
            out.push(a);
        }
    }
    if out.is_empty() {
        d.error(
            &t.span_of("digest_algorithms"),
            &t.key("digest_algorithms"),
            "at least one algorithm is required",
        );
    }
    out
}

fn read_country_code(d: &mut Diag, t: &Tbl<'_, '_>) -> String {
    let cc = t.string(d, "default_country_code", "1");
    let cc = cc.strip_prefix('+').unwrap_or(&cc).to_owned();
    if cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()) || cc.starts_with('0') {
        let k = "default_country_code";
        d.error(
            &t.span_of(k),
            &t.key(k),
            "must be 1 to 3 digits, e.g. \"1\" or \"44\"",
        );
        return "1".into();
    }
    cc
}

fn read_emergency(d: &mut Diag, t: &Tbl<'_, '_>) -> Vec<String> {
    if t.get("emergency_numbers").is_none() {
        return vec!["911".into(), "933".into(), "112".into()];
    }
    let mut out = Vec::new();
    for it in t.strings(d, "emergency_numbers") {
        if it.text.is_empty() || !it.text.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
            d.error(&it.span, &it.path, "must be digits");
        } else {
            out.push(it.text.to_owned());
        }
    }
    out
}

const SECURITY_KEYS: &[&str] = &[
    "auth_failures",
    "auth_window",
    "ban_time",
    "rate_limit",
    "rate_window",
    "tcp_connections_per_ip",
    "tcp_keepalives_per_second",
];

/// Reads `[security]`.
pub(crate) fn read_security(d: &mut Diag, t: Option<&Tbl<'_, '_>>) -> Security {
    let Some(t) = t else {
        return Security::default();
    };
    t.check_keys(d, SECURITY_KEYS);
    Security {
        auth_failures: t.u32(d, "auth_failures", 0..=1_000_000, 10),
        auth_window: secs(t.u32(d, "auth_window", 1..=DAY, 60)),
        ban_time: secs(t.u32(d, "ban_time", 0..=30 * DAY, 300)),
        rate_limit: t.u32(d, "rate_limit", 0..=10_000_000, 200),
        rate_window: secs(t.u32(d, "rate_window", 1..=3600, 2)),
        tcp_connections_per_ip: t.u32(d, "tcp_connections_per_ip", 0..=1_000_000, 32),
        tcp_keepalives_per_second: t.u32(d, "tcp_keepalives_per_second", 0..=1_000_000, 10),
    }
}

/// Reads `[admin]` (absent: no admin listener).
pub(crate) fn read_admin(d: &mut Diag, t: Option<&Tbl<'_, '_>>) -> Option<Admin> {
    let t = t?;
    t.check_keys(d, &["listen", "token"]);
    let default = SocketAddr::from((Ipv4Addr::LOCALHOST, 9060));
    let listen = match t.str(d, "listen") {
        Some(s) => values::parse_socket(s).unwrap_or_else(|m| {
            d.error(&t.span_of("listen"), &t.key("listen"), m);
            default
        }),
        None => default,
    };
    let token = t.opt_string(d, "token");
    if let Some(tok) = &token {
        if !values::is_header_safe(tok) || tok.contains(' ') {
            d.error(
                &t.span_of("token"),
                &t.key("token"),
                "must not contain spaces or line breaks",
            );
        }
    }
    Some(Admin { listen, token })
}

/// Reads `[log]`.
pub(crate) fn read_log(d: &mut Diag, t: Option<&Tbl<'_, '_>>) -> LogSettings {
    let Some(t) = t else {
        return LogSettings {
            level: "info".into(),
            json: false,
        };
    };
    t.check_keys(d, &["level", "format"]);
    let level = t.string(d, "level", "info");
    if level.trim().is_empty() {
        d.error(&t.span_of("level"), &t.key("level"), "must not be empty");
    }
    let json = t.choice(d, "format", &[("text", false), ("json", true)], true, false);
    LogSettings { level, json }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::Tbl;

    fn proxy(text: &str) -> (ProxySettings, Vec<crate::config::ConfigError>) {
        let (doc, errs) = toml::de::DeTable::parse_recoverable(text);
        assert!(errs.is_empty());
        let mut d = Diag::default();
        d.enter_file("t.toml", text);
        let root = Tbl::root(&doc, "");
        let t = root.table(&mut d, "proxy");
        let p = read_proxy(&mut d, t.as_ref());
        (p, d.errors)
    }

    #[test]
    fn defaults() {
        let (p, e) = proxy("");
        assert!(e.is_empty());
        assert_eq!(p.listen.len(), 2);
        assert_eq!(p.advertise, "127.0.0.1");
        assert_eq!(p.realm, "127.0.0.1");
        assert_eq!(p.nonce_ttl, secs(300));
        assert_eq!(p.default_country_code, "1");
        assert_eq!(p.emergency_numbers, vec!["911", "933", "112"]);
        assert_eq!(p.max_message_bytes, 65_535);
        assert_eq!((p.register_min_expires, p.register_max_expires), (60, 3600));
        assert_eq!(
            p.digest_algorithms,
            vec![DigestAlgorithm::Md5, DigestAlgorithm::Sha256]
        );
    }

    #[test]
    fn advertise_from_first_listen() {
        let (p, e) = proxy("[proxy]\nlisten = [\"udp:[::1]:5070\"]\n");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(p.advertise, "[::1]");
        for written in ["::1", "[::1]"] {
            let (p, e) = proxy(&format!("[proxy]\nadvertise = \"{written}\"\n"));
            assert!(e.is_empty(), "{e:?}");
            assert_eq!(p.advertise, "[::1]", "{written}");
        }
    }

    #[test]
    fn tls_needs_files() {
        let (_, e) = proxy("[proxy]\nlisten = [\"tls:127.0.0.1:5061\"]\n");
        let keys: Vec<_> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, vec!["proxy.tls_certificate", "proxy.tls_private_key"]);
    }

    #[test]
    fn bad_listen_located() {
        let (_, e) = proxy("[proxy]\nlisten = [\"udp:127.0.0.1:5060\", \"udp:127.0.0.1:0\"]\n");
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].key.as_str(), e[0].line, e[0].col),
            ("proxy.listen[1]", 2, 33)
        );
    }
}
