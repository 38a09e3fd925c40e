//! `trunkgate route`: identifies the caller, runs the live routing functions and writes the
//! result for a human.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use super::identify::{digest_owner, identify};
use super::number::{is_emergency, normalise};
use super::route::{inbound, outbound};
use super::{CallFacts, Decision, Destination, Plan, Rejection, Target, TargetKind};
use crate::config::{AuthMethod, CarrierId, DigestOwner, ServerId, Snapshot, SourceOwner};

/// Who the dry run decided the caller is.
enum Who {
    Carrier(CarrierId, String),
    Server(ServerId, String),
    /// Stop here: what the proxy answers before routing.
    Stop(String),
}

/// The whole report (see `route::dry_run`).
pub(crate) fn render(snap: &Snapshot, from: SocketAddr, to: &str, user: Option<&str>) -> String {
    let mut out = String::new();
    let facts = CallFacts {
        ruri_user: to,
        to_user: to,
        ..CallFacts::default()
    };
    let (decision, inbound_carrier) = match classify(snap, from, user) {
        Who::Stop(text) => return format!("caller: {from}\n{text}\n"),
        Who::Carrier(id, text) => {
            line(&mut out, format_args!("{text}\ndirection: inbound"));
            (inbound(snap, id, &facts), Some(id))
        }
        Who::Server(id, text) => {
            line(&mut out, format_args!("{text}\ndirection: outbound"));
            (outbound(snap, id, &facts), None)
        }
    };
    write_number(&mut out, snap, to);
    match &decision {
        Decision::Reject(r) => line(
            &mut out,
            format_args!("decision: reject {} ({})", r.code(), describe(r)),
        ),
        Decision::Relay(plan) => write_plan(&mut out, snap, plan),
    }
    write_limits(&mut out, snap, &decision, inbound_carrier);
    out
}

fn classify(snap: &Snapshot, from: SocketAddr, user: Option<&str>) -> Who {
    match identify(snap, from) {
        Some(SourceOwner::Carrier(id)) => {
            let name = snap.carriers.get(id.0 as usize).map_or("?", |c| c.name.as_str());
            return Who::Carrier(
                id,
                format!("caller: carrier {name} (source {from})\nauth: none (source address)"),
            );
        }
        Some(SourceOwner::Server(id)) => {
            let name = server_name(snap, id);
            return Who::Server(
                id,
                format!("caller: server {name} (source {from})\nauth: none (IP)"),
            );
        }
        None => {}
    }
    let Some(user) = user else {
        return Who::Stop("caller: unknown source\nauth: would be challenged (407)".into());
    };
    let realms = std::iter::once(&snap.proxy.realm).chain(&snap.server_realms);
    let found = realms
        .filter_map(|r| digest_owner(snap, r, user).map(|o| (r, o)))
        .next();
    match found {
        None => Who::Stop(format!(
            "caller: unknown digest user {user}\nauth: 407 challenge, then 403"
        )),
        Some((realm, DigestOwner::Carrier(id))) => {
            let name = snap.carriers.get(id.0 as usize).map_or("?", |c| c.name.as_str());
            Who::Carrier(
                id,
                format!(
                    "caller: carrier {name} (ACCEPT_REGISTER)\nauth: {}",
                    digest(user, realm)
                ),
            )
        }
        Some((realm, DigestOwner::Server(id))) => password_server(snap, from, id, &digest(user, realm)),
    }
}

fn digest(user: &str, realm: &str) -> String {
    format!("digest user {user} in realm {realm} (407 challenge first)")
}

fn password_server(snap: &Snapshot, from: SocketAddr, id: ServerId, auth: &str) -> Who {
    let Some(s) = snap.servers.get(id.0 as usize) else {
        return Who::Stop("caller: unknown server".into());
    };
    let ip_ok = s.auth.ips.is_empty() || s.auth.ips.iter().any(|n| n.contains(&from.ip()));
    if s.auth.method == AuthMethod::Password && !ip_ok {
        return Who::Stop(format!(
            "caller: server {} (source {from} not in auth.ip)\nanswer: 403",
            s.name
        ));
    }
    Who::Server(
        id,
        format!("caller: server {} (source {from})\nauth: {auth}", s.name),
    )
}

fn write_number(out: &mut String, snap: &Snapshot, to: &str) {
    let normalised = normalise(to, &snap.proxy.default_country_code);
    let shown = normalised.as_deref().unwrap_or("not reconcilable to E.164");
    let emergency = if is_emergency(to, snap) {
        " (emergency number)"
    } else {
        ""
    };
    line(out, format_args!("number: {to} -> {shown}{emergency}"));
}

fn write_plan(out: &mut String, snap: &Snapshot, plan: &Plan) {
    let account = snap
        .accounts
        .get(plan.account.0 as usize)
        .map_or("?", |a| a.account_id.as_str());
    line(
        out,
        format_args!(
            "decision: relay {:?} (account {account}), number {}",
            plan.direction, plan.number
        ),
    );
    for (i, t) in plan.targets.iter().enumerate() {
        write_target(out, snap, i + 1, t);
    }
}

fn write_target(out: &mut String, snap: &Snapshot, n: usize, t: &Target) {
    let kind = match t.kind {
        TargetKind::Server(id) => format!("server {}", server_name(snap, id)),
        TargetKind::Carrier(id) => format!("carrier {}", carrier_name(snap, id)),
        TargetKind::Uri => "failover uri".to_owned(),
    };
    line(out, format_args!("target {n}: {kind}"));
    line(out, format_args!("  request-uri: {}", t.ruri));
    line(out, format_args!("  destination: {}", destination(snap, &t.dest)));
    let headers: Vec<String> = t.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let headers = if headers.is_empty() {
        "none".to_owned()
    } else {
        headers.join(", ")
    };
    line(out, format_args!("  headers added: {headers}"));
    let identity = match &t.identity {
        None => "unchanged".to_owned(),
        Some(id) => format!("\"{}\" <{}>", id.display.as_deref().unwrap_or(""), id.user),
    };
    line(out, format_args!("  caller id: {identity}"));
    if let Some(c) = &t.compose {
        line(out, format_args!("  outbound parameters: {}", c.describe()));
    }
    let progress = t.progress_timeout.map_or("none".to_owned(), secs);
    let early = if t.ignore_early_media {
        ", ignore early media"
    } else {
        ""
    };
    line(
        out,
        format_args!(
            "  delay {}, progress timeout {progress}, timeout {}{early}",
            secs(t.delay),
            secs(t.timeout)
        ),
    );
}

fn destination(snap: &Snapshot, d: &Destination) -> String {
    match d {
        Destination::Addr { addr, transport } => format!("{} {addr}", transport.via_name().to_lowercase()),
        Destination::Registered(id) => {
            format!(
                "registration of server {} (480 when not registered)",
                server_name(snap, *id)
            )
        }
        Destination::RegisteredCarrier(id) => format!("registration of carrier {}", carrier_name(snap, *id)),
        Destination::Host {
            host,
            port,
            transport,
        } => {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{} {host}{port} (resolved at call time)",
                transport.via_name().to_lowercase()
            )
        }
    }
}

fn write_limits(out: &mut String, snap: &Snapshot, d: &Decision, inbound_carrier: Option<CarrierId>) {
    let mut carriers: Vec<CarrierId> = inbound_carrier.into_iter().collect();
    if let Decision::Relay(plan) = d {
        let account = snap.accounts.get(plan.account.0 as usize);
        if let Some(a) = account {
            line(
                out,
                format_args!("limits: account {} trunks {}", a.account_id, limit(a.trunks)),
            );
        }
        carriers.extend(plan.targets.iter().filter_map(|t| match t.kind {
            TargetKind::Carrier(id) => Some(id),
            _ => None,
        }));
    }
    carriers.dedup();
    for c in carriers.iter().filter_map(|id| snap.carriers.get(id.0 as usize)) {
        line(
            out,
            format_args!("limits: carrier {} concurrency {}", c.name, limit(c.concurrency)),
        );
    }
}

fn describe(r: &Rejection) -> &'static str {
    match r {
        Rejection::UnknownDid => "called number is no DID",
        Rejection::DidNotAllowed => "outside the carrier's did_numbers",
        Rejection::ServerDisabled => "the DID's server is disabled",
        Rejection::CallerDisabled => "the calling server is disabled",
        Rejection::NotReconcilable => "dialled number cannot be normalised to E.164",
        Rejection::NoRoute => "no carrier's rules/flags match",
        Rejection::CarriersUnavailable => "every matching carrier is full or offline",
        Rejection::TrunkLimit => "trunk limit reached",
        Rejection::NotRegistered => "server not registered",
        Rejection::Forbidden => "forbidden",
    }
}

fn limit(n: u32) -> String {
    if n == 0 {
        "unlimited".to_owned()
    } else {
        n.to_string()
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

fn server_name(snap: &Snapshot, id: ServerId) -> &str {
    snap.servers.get(id.0 as usize).map_or("?", |s| s.name.as_str())
}

fn carrier_name(snap: &Snapshot, id: CarrierId) -> &str {
    snap.carriers.get(id.0 as usize).map_or("?", |c| c.name.as_str())
}

fn line(out: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Failover;
    use crate::policy::testing::{sock, Fixture};

    fn snap() -> Snapshot {
        Fixture::loopback()
            .edit_account(|a| a.trunks = 10)
            .ip_server("acme-ip", "127.0.0.8")
            .server_with(|s| s.options.sip_headers = vec![("X-Account".into(), "acme".into())])
            .did_with("+14155550101", |d| {
                d.failover = Some(Failover::Sip("sip:backup@127.0.0.6:5060".into()))
            })
            .build()
    }

    #[test]
    fn inbound_from_carrier() {
        let out = render(&snap(), sock("127.0.0.2:5060"), "4155550100", None);
        assert!(out.contains("caller: carrier carrier-a"), "{out}");
        assert!(out.contains("number: 4155550100 -> +14155550100"), "{out}");
        assert!(out.contains("target 1: server acme-pbx"), "{out}");
        assert!(
            out.contains("request-uri: sip:4155550100@127.0.0.4:5060"),
            "{out}"
        );
        assert!(out.contains("destination: udp 127.0.0.4:5060"), "{out}");
        assert!(out.contains("timeout 180s"), "{out}");
        assert!(
            out.contains("limits: carrier carrier-a concurrency unlimited"),
            "{out}"
        );
    }

    #[test]
    fn inbound_with_failover_and_headers() {
        let out = render(&snap(), sock("127.0.0.2:5060"), "+14155550101", None);
        assert!(out.contains("headers added: X-Account: acme"), "{out}");
        assert!(out.contains("target 2: failover uri"), "{out}");
        assert!(out.contains("request-uri: sip:backup@127.0.0.6:5060"), "{out}");
        assert!(out.contains("limits: account acme trunks 10"), "{out}");
    }

    #[test]
    fn unknown_did_rejected() {
        let out = render(&snap(), sock("127.0.0.2:5060"), "+14155559876", None);
        assert!(out.contains("decision: reject 404"), "{out}");
    }

    #[test]
    fn outbound_from_digest_user() {
        let out = render(&snap(), sock("127.0.0.3:5060"), "4155551234", Some("pbx1"));
        assert!(out.contains("caller: server acme-pbx"), "{out}");
        assert!(out.contains("digest user pbx1 in realm edge.test"), "{out}");
        assert!(out.contains("target 1: carrier termination"), "{out}");
        assert!(out.contains("target 2: carrier failover"), "{out}");
        assert!(
            out.contains("request-uri: sip:+14155551234@127.0.0.5:5060"),
            "{out}"
        );
        assert!(
            out.contains("limits: carrier termination concurrency unlimited"),
            "{out}"
        );
    }

    #[test]
    fn outbound_from_ip_server() {
        let out = render(&snap(), sock("127.0.0.8:5060"), "911", None);
        assert!(out.contains("caller: server acme-ip"), "{out}");
        assert!(out.contains("(emergency number)"), "{out}");
        assert!(out.contains("request-uri: sip:911@127.0.0.5:5060"), "{out}");
    }

    #[test]
    fn unknown_source_is_challenged() {
        let out = render(&snap(), sock("127.0.0.9:5060"), "4155551234", None);
        assert!(out.contains("would be challenged (407)"), "{out}");
        let out = render(&snap(), sock("127.0.0.9:5060"), "4155551234", Some("nobody"));
        assert!(out.contains("then 403"), "{out}");
    }

    #[test]
    fn outbound_parameters_shown() {
        use crate::config::{OutboundParameter, OutboundValue};
        let snap = Fixture::loopback()
            .ip_server("acme-ip", "127.0.0.8")
            .edit_carrier("termination", |c| {
                c.outbound_parameters = vec![OutboundParameter {
                    key: "to_host_part".into(),
                    value: OutboundValue::TrunkHostPort,
                }]
            })
            .build();
        let out = render(&snap, sock("127.0.0.8:5060"), "4155551234", None);
        assert!(
            out.contains("outbound parameters: To host \"127.0.0.5\""),
            "{out}"
        );
    }

    #[test]
    fn not_reconcilable() {
        let out = render(&snap(), sock("127.0.0.8:5060"), "3000", None);
        assert!(out.contains("not reconcilable"), "{out}");
        assert!(out.contains("decision: reject 484"), "{out}");
    }
}
