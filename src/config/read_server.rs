//! A server's `options`, its `DIDs` and `did_ranges`, and failover targets.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use toml::de::DeValue;

use super::compile::{Builder, RangeClaim};
use super::diagnose::Diag;
use super::e164;
use super::read_carrier::{ip_literal, TRANSPORTS};
use super::read_conn::read_caller_id;
use super::schema::{join, Tbl};
use super::snapshot::*;
use super::values;

const KEYS: &[&str] = &[
    "enabled",
    "inbound_format",
    "ip",
    "port",
    "transport",
    "delay",
    "timeout",
    "progress_timeout",
    "force_outbound",
    "media_handling",
    "ignore_early_media",
    "hunt_non_reconcilable",
    "hunt_account_id",
    "dynamic_flags",
    "flags",
    "sip_headers",
    "failover",
    "caller_id",
    "emergency_caller_id",
    "did_ranges",
];

const INBOUND_FORMATS: &[(&str, NumberFormat)] = &[
    ("e164", NumberFormat::E164),
    ("npan", NumberFormat::Npan),
    ("1npan", NumberFormat::OneNpan),
    ("username", NumberFormat::Username),
    ("strip_plus", NumberFormat::StripPlus),
];

/// Timer C default when `timeout = 0`.
const TIMER_C: Duration = Duration::from_secs(180);

/// Reads `options` (absent: every default) of a server whose auth block is `auth`.
pub(crate) fn read_options(
    d: &mut Diag,
    b: &Builder,
    t: Option<&Tbl<'_, '_>>,
    server: &Tbl<'_, '_>,
    auth: &ServerAuth,
) -> ServerOptions {
    let empty = toml::de::DeTable::new();
    let fallback = Tbl {
        map: &empty,
        span: server.span.clone(),
        path: server.key("options"),
    };
    let t = t.unwrap_or(&fallback);
    t.check_keys(d, KEYS);
    let inbound_format = t.choice(d, "inbound_format", INBOUND_FORMATS, true, NumberFormat::Npan);
    if inbound_format == NumberFormat::Username && auth.user.is_none() {
        d.error(
            &t.span_of("inbound_format"),
            &t.key("inbound_format"),
            "\"username\" needs auth.auth_user",
        );
    }
    let media = t.choice(
        d,
        "media_handling",
        &[("bypass", false), ("process", true)],
        true,
        false,
    );
    if media {
        let msg = "\"process\" is not supported until a media relay is integrated (use \"bypass\")";
        d.error(&t.span_of("media_handling"), &t.key("media_handling"), msg);
    }
    let _ = t.str(d, "hunt_account_id");
    if !t.strings(d, "dynamic_flags").is_empty() {
        d.warn(
            &t.span_of("dynamic_flags"),
            &t.key("dynamic_flags"),
            "accepted but not used yet",
        );
    }
    let timeout = t.u32(d, "timeout", 0..=86_400, 0);
    let progress = t.u32(d, "progress_timeout", 0..=86_400, 0);
    ServerOptions {
        enabled: t.bool(d, "enabled", true),
        inbound_format,
        destination: destination(d, t, auth),
        transport: t.choice(d, "transport", TRANSPORTS, true, Transport::Udp),
        delay: Duration::from_secs(u64::from(t.u32(d, "delay", 0..=300, 0))),
        timeout: if timeout == 0 {
            TIMER_C
        } else {
            Duration::from_secs(u64::from(timeout))
        },
        progress_timeout: (progress != 0).then(|| Duration::from_secs(u64::from(progress))),
        force_outbound: t.bool(d, "force_outbound", false),
        ignore_early_media: t.bool(d, "ignore_early_media", false),
        hunt_non_reconcilable: t.bool(d, "hunt_non_reconcilable", false),
        flags: t
            .strings(d, "flags")
            .into_iter()
            .map(|i| i.text.to_owned())
            .collect(),
        sip_headers: read_headers(d, t),
        failover: read_failover(d, b, t),
        caller_id: read_caller_id(d, t, "caller_id"),
        emergency_caller_id: read_caller_id(d, t, "emergency_caller_id"),
    }
}

/// auth.ip's first plain address with auth.port, else options.ip:options.port (5060 default).
fn destination(d: &mut Diag, t: &Tbl<'_, '_>, auth: &ServerAuth) -> Option<SocketAddr> {
    let port = t.port(d, "port", true, 0);
    let opt_ip = t.opt_string(d, "ip");
    let opt_ip = opt_ip.and_then(|s| match ip_literal(&s) {
        Some(ip) => Some(ip),
        None => {
            d.error(
                &t.span_of("ip"),
                &t.key("ip"),
                format!("`{s}` is not an IP address"),
            );
            None
        }
    });
    let plain = auth
        .ips
        .iter()
        .find(|n| n.prefix_len() == n.max_prefix_len())
        .map(|n| n.addr());
    if let Some(ip) = plain {
        return Some(SocketAddr::new(ip, auth.port.unwrap_or(5060)));
    }
    opt_ip.map(|ip: IpAddr| SocketAddr::new(ip, if port == 0 { 5060 } else { port }))
}

/// `sip_headers = [ { "X-Name" = "value" }, ... ]`.
fn read_headers(d: &mut Diag, t: &Tbl<'_, '_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for h in t.tables(d, "sip_headers") {
        for (k, v) in h.map.iter() {
            let name: &str = k.get_ref();
            let path = join(&h.path, name);
            if !values::is_token(name) {
                d.error(
                    &k.span(),
                    &path,
                    format!("`{name}` is not a valid SIP header name"),
                );
                continue;
            }
            match v.get_ref() {
                DeValue::String(s) if values::is_header_safe(s) => out.push((name.to_owned(), s.to_string())),
                DeValue::String(_) => d.error(&v.span(), &path, "header value must not contain CR or LF"),
                other => d.error(
                    &v.span(),
                    &path,
                    format!("expected a string, found {}", other.type_str()),
                ),
            }
        }
    }
    out
}

/// `failover = { e164 = "..." }` or `{ sip = "sip:..." }` (exactly one).
pub(crate) fn read_failover(d: &mut Diag, b: &Builder, parent: &Tbl<'_, '_>) -> Option<Failover> {
    let t = parent.table(d, "failover")?;
    t.check_keys(d, &["e164", "sip"]);
    let e164 = t.opt_string(d, "e164");
    let sip = t.opt_string(d, "sip");
    match (e164, sip) {
        (Some(_), Some(_)) => {
            d.error(&t.span, &t.path, "set either e164 or sip, not both");
            None
        }
        (Some(n), None) => match e164::normalise(&n, &b.proxy.default_country_code) {
            Some(n) => Some(Failover::E164(n)),
            None => {
                d.error(
                    &t.span_of("e164"),
                    &t.key("e164"),
                    format!("`{n}` is not a valid number"),
                );
                None
            }
        },
        (None, Some(uri)) => check_sip_failover(d, b, &t, uri),
        (None, None) => None,
    }
}

fn check_sip_failover(d: &mut Diag, b: &Builder, t: &Tbl<'_, '_>, uri: String) -> Option<Failover> {
    let at = t.span_of("sip");
    match values::sip_uri_host_port(&uri) {
        Err(m) => d.error(&at, &t.key("sip"), m),
        Ok(_) if !values::is_header_safe(&uri) || uri.contains(['<', '>', ' ']) => {
            d.error(&at, &t.key("sip"), "must be a bare SIP URI")
        }
        Ok((host, port)) if b.is_own_address(&host, port) => d.error(
            &at,
            &t.key("sip"),
            format!("`{uri}` points at the proxy itself (loop)"),
        ),
        Ok(_) => return Some(Failover::Sip(uri)),
    }
    None
}

/// `options.did_ranges`: DID blocks owned by server `id`.
pub(crate) fn read_ranges(d: &mut Diag, b: &mut Builder, t: &Tbl<'_, '_>, id: ServerId) {
    for it in t.strings(d, "did_ranges") {
        match values::parse_did_range(it.text, &b.proxy.default_country_code) {
            Ok((len, start, end)) => {
                let did = Did {
                    server: id,
                    caller_id: None,
                    failover: None,
                    force_outbound: false,
                };
                let claim = RangeClaim {
                    len,
                    start,
                    end,
                    did,
                    file: b.file,
                    span: it.span,
                    path: it.path,
                };
                b.ranges.push(claim);
            }
            Err(m) => d.error(&it.span, &it.path, m),
        }
    }
}

/// `DIDs."+14155550100" = { ... }`: every key normalised and claimed for server `id`.
pub(crate) fn read_dids(d: &mut Diag, b: &mut Builder, t: &Tbl<'_, '_>, id: ServerId) {
    b.dids.reserve(t.map.len());
    for (k, v) in t.map.iter() {
        let raw: &str = k.get_ref();
        let Some(num) = did_key(raw, &b.proxy.default_country_code) else {
            let msg = format!("DID `{raw}` is not a number (^\\+?\\d*$) that normalises to E.164");
            d.error(&k.span(), &join(&t.path, raw), msg);
            continue;
        };
        let did = match v.get_ref() {
            DeValue::Table(m) if m.is_empty() => Did {
                server: id,
                caller_id: None,
                failover: None,
                force_outbound: false,
            },
            DeValue::Table(m) => read_did(
                d,
                b,
                &Tbl {
                    map: m,
                    span: v.span(),
                    path: join(&t.path, raw),
                },
                id,
            ),
            other => {
                d.error(
                    &v.span(),
                    &join(&t.path, raw),
                    format!("expected a table, found {}", other.type_str()),
                );
                continue;
            }
        };
        b.claim_did(d, num, did, &k.span(), || join(&t.path, raw));
    }
}

/// A DID key: `^\+?\d*$`, then E.164.
fn did_key(raw: &str, cc: &str) -> Option<String> {
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    e164::normalise(raw, cc)
}

fn read_did(d: &mut Diag, b: &Builder, t: &Tbl<'_, '_>, id: ServerId) -> Did {
    t.check_keys(d, &["caller_id", "failover", "force_outbound", "options"]);
    let _ = t.strings(d, "options");
    Did {
        server: id,
        caller_id: read_caller_id(d, t, "caller_id"),
        failover: read_failover(d, b, t),
        force_outbound: t.bool(d, "force_outbound", false),
    }
}
