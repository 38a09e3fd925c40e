//! `[[carriers]]` (seed 003 names): one upstream provider each.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use regex::Regex;

use super::compile::Builder;
use super::diagnose::Diag;
use super::schema::Tbl;
use super::snapshot::*;
use super::values;

const KEYS: &[&str] = &[
    "name",
    "enabled",
    "auth_mode",
    "transport",
    "hostname",
    "port",
    "outbound_server",
    "outbound_server_port",
    "additional_ips",
    "verify_port",
    "auth_id",
    "username",
    "password",
    "registration",
    "register_interval",
    "keep_alive",
    "keep_alive_interval",
    "keep_alive_failures",
    "concurrency",
    "weight",
    "rules",
    "flags",
    "format",
    "did_numbers",
    "ca_file",
    "inbound_parameters",
    "outbound_parameters",
];

/// Number formats towards a carrier.
pub(crate) const FORMATS: &[(&str, NumberFormat)] = &[
    ("e164", NumberFormat::E164),
    ("strip_plus", NumberFormat::StripPlus),
    ("npan", NumberFormat::Npan),
    ("1npan", NumberFormat::OneNpan),
];

pub(crate) const TRANSPORTS: &[(&str, Transport)] = &[
    ("udp", Transport::Udp),
    ("tcp", Transport::Tcp),
    ("tls", Transport::Tls),
];

/// Reads one carrier, checks its name is unique, indexes its source addresses and digest
/// credentials, and appends it to the builder.
pub(crate) fn read_carrier(d: &mut Diag, b: &mut Builder, t: &Tbl<'_, '_>) {
    t.check_keys(d, KEYS);
    let id = CarrierId(b.carriers.len() as u32);
    let name = t.required_str(d, "name").unwrap_or("").to_owned();
    if !name.is_empty() && b.carrier_names.insert(name.clone(), id).is_some() {
        d.error(
            &t.span_of("name"),
            &t.key("name"),
            format!("duplicate carrier name `{name}`"),
        );
    }
    let auth_mode = read_auth_mode(d, t);
    let hostname = t.required_str(d, "hostname").unwrap_or("").to_owned();
    let port = t.port(d, "port", false, 5060);
    let outbound_server = t.opt_string(d, "outbound_server");
    let outbound_server_port = t.port(d, "outbound_server_port", false, 5060);
    let next_hop = match &outbound_server {
        Some(h) => ip_literal(h).map(|ip| SocketAddr::new(ip, outbound_server_port)),
        None => ip_literal(&hostname).map(|ip| SocketAddr::new(ip, port)),
    };
    let c = Carrier {
        id,
        name,
        enabled: t.bool(d, "enabled", true),
        auth_mode,
        transport: t.choice(d, "transport", TRANSPORTS, true, Transport::Udp),
        hostname,
        port,
        port_explicit: t.get("port").is_some(),
        next_hop,
        outbound_server,
        outbound_server_port,
        outbound_server_port_explicit: t.get("outbound_server_port").is_some(),
        additional_ips: read_nets(d, t, "additional_ips"),
        verify_port: t.bool(d, "verify_port", false),
        auth_id: t.string(d, "auth_id", ""),
        username: t.string(d, "username", ""),
        password: t.string(d, "password", ""),
        registration: t.bool(d, "registration", false) || auth_mode == CarrierAuthMode::RegisterAuth,
        register_interval: secs(t.u32(d, "register_interval", 60..=86_400, 600)),
        keep_alive: t.bool(d, "keep_alive", true),
        keep_alive_interval: secs(t.u32(d, "keep_alive_interval", 1..=86_400, 360)),
        keep_alive_failures: t.u32(d, "keep_alive_failures", 1..=100, 2),
        concurrency: t.u32(d, "concurrency", 0..=u32::MAX, 0),
        weight: t.u32(d, "weight", 0..=u32::MAX, 10),
        rules: read_rules(d, t),
        flags: t
            .strings(d, "flags")
            .into_iter()
            .map(|i| i.text.to_owned())
            .collect(),
        format: t.choice(d, "format", FORMATS, true, NumberFormat::E164),
        did_numbers: read_did_numbers(d, t, &b.proxy.default_country_code),
        ca_file: t.opt_string(d, "ca_file").map(Into::into),
        inbound_parameters: read_inbound(d, t),
        outbound_parameters: super::read_outbound::read_outbound(d, t),
    };
    check_credentials(d, t, &c);
    b.add_carrier(d, t, c);
}

fn secs(n: u32) -> Duration {
    Duration::from_secs(u64::from(n))
}

/// The address when `host` is an IP literal (DNS names are resolved at run time).
pub(crate) fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

fn read_auth_mode(d: &mut Diag, t: &Tbl<'_, '_>) -> CarrierAuthMode {
    if let Some(s) = t.str(d, "auth_mode") {
        if s.eq_ignore_ascii_case("TEAMS") || s.eq_ignore_ascii_case("WHATS_APP") {
            d.error(
                &t.span_of("auth_mode"),
                &t.key("auth_mode"),
                format!("auth_mode `{s}` is not supported"),
            );
            return CarrierAuthMode::IpAuth;
        }
    }
    let modes = [
        ("IP_AUTH", CarrierAuthMode::IpAuth),
        ("REGISTER_AUTH", CarrierAuthMode::RegisterAuth),
        ("ACCEPT_REGISTER", CarrierAuthMode::AcceptRegister),
    ];
    t.choice(d, "auth_mode", &modes, true, CarrierAuthMode::IpAuth)
}

/// An IP/CIDR list (`;`-separated string or array).
pub(crate) fn read_nets(d: &mut Diag, t: &Tbl<'_, '_>, k: &str) -> Vec<ipnet::IpNet> {
    let mut out = Vec::new();
    for it in t.list(d, k) {
        match values::parse_net(it.text) {
            Ok(n) => out.push(n),
            Err(m) => d.error(&it.span, &it.path, m),
        }
    }
    out
}

fn read_rules(d: &mut Diag, t: &Tbl<'_, '_>) -> Vec<Regex> {
    let mut out = Vec::new();
    for it in t.strings(d, "rules") {
        match Regex::new(it.text) {
            Ok(r) => out.push(r),
            Err(e) => {
                let first = e.to_string().lines().last().unwrap_or("").trim().to_owned();
                d.error(&it.span, &it.path, format!("invalid regex: {first}"));
            }
        }
    }
    out
}

fn read_did_numbers(d: &mut Diag, t: &Tbl<'_, '_>, cc: &str) -> Option<DidFilter> {
    let s = t.opt_string(d, "did_numbers")?;
    match values::parse_did_numbers(&s, cc) {
        Ok(f) => Some(f),
        Err(msgs) => {
            for m in msgs {
                d.error(&t.span_of("did_numbers"), &t.key("did_numbers"), m);
            }
            None
        }
    }
}

fn read_inbound(d: &mut Diag, t: &Tbl<'_, '_>) -> InboundParameters {
    let mut p = InboundParameters {
        called_num: NumberSource::RequestUriUser,
        caller_num: NumberSource::FromUser,
        caller_display_name: DisplaySource::FromDisplayName,
    };
    let Some(t) = t.table(d, "inbound_parameters") else {
        return p;
    };
    t.check_keys(d, &["called_num", "caller_num", "caller_display_name"]);
    let called = [
        ("REQUEST_LINE_URI_USER_PART", NumberSource::RequestUriUser),
        ("TO_USER_PART", NumberSource::ToUser),
    ];
    p.called_num = t.choice(d, "called_num", &called, true, p.called_num);
    let caller = [
        ("FROM_USER_PART", NumberSource::FromUser),
        (
            "P_ASSERTED_IDENTITY_USER_PART",
            NumberSource::PAssertedIdentityUser,
        ),
        ("REMOTE_PARTY_ID_USER_PART", NumberSource::RemotePartyIdUser),
    ];
    p.caller_num = t.choice(d, "caller_num", &caller, true, p.caller_num);
    let display = [
        ("FROM_DISPLAY_NAME", DisplaySource::FromDisplayName),
        (
            "P_ASSERTED_IDENTITY_DISPLAY_NAME",
            DisplaySource::PAssertedIdentityDisplayName,
        ),
        (
            "REMOTE_PARTY_ID_DISPLAY_NAME",
            DisplaySource::RemotePartyIdDisplayName,
        ),
    ];
    p.caller_display_name = t.choice(d, "caller_display_name", &display, true, p.caller_display_name);
    p
}

/// Credentials are put in headers: no line breaks; ACCEPT_REGISTER needs a user and password.
fn check_credentials(d: &mut Diag, t: &Tbl<'_, '_>, c: &Carrier) {
    for (k, v) in [
        ("auth_id", &c.auth_id),
        ("username", &c.username),
        ("password", &c.password),
    ] {
        if !values::is_header_safe(v) || v.contains('"') {
            d.error(&t.span_of(k), &t.key(k), "must not contain quotes or line breaks");
        }
    }
    if c.auth_mode == CarrierAuthMode::AcceptRegister && (digest_user(c).is_empty() || c.password.is_empty())
    {
        d.error(
            &t.span_of("auth_mode"),
            &t.key("password"),
            "ACCEPT_REGISTER needs username (or auth_id) and password",
        );
    }
    if c.registration && c.password.is_empty() {
        d.error(
            &t.span_of("registration"),
            &t.key("password"),
            "registration needs credentials (password)",
        );
    }
}

/// The digest user of an ACCEPT_REGISTER carrier: `username`, else `auth_id`.
pub(crate) fn digest_user(c: &Carrier) -> &str {
    if c.username.is_empty() {
        &c.auth_id
    } else {
        &c.username
    }
}
