//! Routing decisions (SPEC §4): DID → server (inbound), server → carriers (outbound), failover
//! chains. Pure functions of the snapshot and the call's facts; live calls and
//! `trunkgate route` both call them.
//!
//! What policy cannot know is left to the core at attempt time: carrier ONLINE/OFFLINE state,
//! carrier `concurrency` and account `trunks` (`limits`), and the live registration binding of
//! `Destination::Registered*` targets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::callerid::{self, Cid};
use super::compose::{self, Origin};
use super::number::{format_number, is_emergency, normalise, strip_separators};
use super::{CallFacts, Decision, Destination, Direction, Identity, Plan, Rejection, Target, TargetKind};
use crate::config::{
    Carrier, CarrierAuthMode, CarrierId, DidFilter, Failover, NumberFormat, NumberSource, Server, ServerId,
    Snapshot, Transport,
};

/// Host put in the Request-URI of a target whose destination is a live registration binding;
/// the core replaces the whole URI by the binding's Contact and keeps only the user part.
pub const REGISTERED_PLACEHOLDER: &str = "registered";

/// Default SIP port (RFC 3261 §19.1.2).
const SIP_PORT: u16 = 5060;
/// Default SIPS port.
const SIPS_PORT: u16 = 5061;

/// An INVITE from carrier `carrier` (SPEC §4 rows 1-4): the called number (per the carrier's
/// `inbound_parameters.called_num`) normalised to E.164, checked against the carrier's
/// `did_numbers` (404), looked up as a DID (404), its server enabled (480); then either the
/// server followed by the failover (the DID's, else the server's), or with `force_outbound`
/// the DID number dialled out over the carriers (caller ID untouched).
pub fn inbound(snap: &Snapshot, carrier: CarrierId, facts: &CallFacts) -> Decision {
    let Some(c) = snap.carriers.get(carrier.0 as usize) else {
        return Decision::Reject(Rejection::Forbidden);
    };
    let raw = strip_separators(number_from(facts, c.inbound_parameters.called_num).unwrap_or_default());
    let e164 = normalise(&raw, &snap.proxy.default_country_code);
    if let Some(filter) = &c.did_numbers {
        if !did_allowed(filter, &raw, e164.as_deref()) {
            return Decision::Reject(Rejection::DidNotAllowed);
        }
    }
    let Some((e164, did)) = e164.and_then(|n| snap.dids.get(&n).map(|d| (n, d))) else {
        return Decision::Reject(Rejection::UnknownDid);
    };
    let Some(server) = snap.servers.get(did.server.0 as usize) else {
        return Decision::Reject(Rejection::UnknownDid);
    };
    if !server.options.enabled {
        return Decision::Reject(Rejection::ServerDisabled);
    }
    let origin = || Origin::of_carrier(facts, c, &snap.proxy.default_country_code);
    if did.force_outbound || server.options.force_outbound {
        return dial_out(snap, server, e164, None, &origin());
    }
    let failover = did.failover.as_ref().or(server.options.failover.as_ref());
    let mut targets = vec![server_target(server, &e164)];
    targets.extend(
        failover
            .map(|f| failover_targets(snap, server, f, &origin()))
            .unwrap_or_default(),
    );
    relay(Direction::Inbound, server, e164, targets)
}

/// An INVITE from server `server` (authenticated by IP or digest; SPEC §4 rows 5-10).
///
/// Disabled server → 403. The Request-URI user is normalised to E.164; a number that cannot be
/// normalised → 484, unless the server has `hunt_non_reconcilable` or it is an emergency number:
/// then it goes as dialled, to the carriers whose rules match the raw string. Carriers are taken
/// in `outbound_order` (weight, ties in file order): enabled, `rules` empty or one matching, and
/// having every flag in the server's `flags`; none → 404.
///
/// Carrier ONLINE state and `concurrency` are runtime state: the core skips OFFLINE or full
/// carriers at attempt time, and answers 503 (`Rejection::CarriersUnavailable`) when every
/// target was skipped. Each target carries the server's `timeout` (Timer C, 180 s, unless set)
/// and `progress_timeout` (none unless set), `sip_headers` and `ignore_early_media`; `delay` is
/// inbound-only, so 0.
pub fn outbound(snap: &Snapshot, server: ServerId, facts: &CallFacts) -> Decision {
    let Some(s) = snap.servers.get(server.0 as usize) else {
        return Decision::Reject(Rejection::Forbidden);
    };
    if !s.options.enabled {
        return Decision::Reject(Rejection::CallerDisabled);
    }
    let dialled = strip_separators(facts.ruri_user);
    let emergency = is_emergency(&dialled, snap);
    let number = match normalise(&dialled, &snap.proxy.default_country_code) {
        Some(n) => n,
        None if emergency || s.options.hunt_non_reconcilable => dialled.into_owned(),
        None => return Decision::Reject(Rejection::NotReconcilable),
    };
    let cid = callerid::choose(snap, s, facts, emergency);
    let origin = Origin::of_server(facts, &snap.proxy.default_country_code);
    dial_out(snap, s, number, cid.as_ref(), &origin)
}

/// `trunkgate route`: a human-readable plan for a call from `from` to `to` (digest `user` when
/// the caller authenticated), computed by the same functions live calls use.
pub fn dry_run(snap: &Snapshot, from: SocketAddr, to: &str, user: Option<&str>) -> String {
    super::dryrun::render(snap, from, to, user)
}

/// The carriers that may take `number` for a server asking for `flags`, in hunting order.
pub fn select_carriers<'a>(
    snap: &'a Snapshot,
    number: &'a str,
    flags: &'a [String],
) -> impl Iterator<Item = &'a Carrier> + 'a {
    snap.outbound_order
        .iter()
        .filter_map(|id| snap.carriers.get(id.0 as usize))
        .filter(|c| c.enabled)
        .filter(move |c| c.rules.is_empty() || c.rules.iter().any(|r| r.is_match(number)))
        .filter(move |c| flags.iter().all(|f| c.flags.contains(f)))
}

/// The field of the INVITE a carrier's `inbound_parameters` names.
pub fn number_from<'a>(facts: &CallFacts<'a>, source: NumberSource) -> Option<&'a str> {
    match source {
        NumberSource::RequestUriUser => Some(facts.ruri_user),
        NumberSource::ToUser => Some(facts.to_user),
        NumberSource::FromUser => Some(facts.from_user),
        NumberSource::PAssertedIdentityUser => facts.pai_user,
        NumberSource::RemotePartyIdUser => facts.rpid_user,
    }
}

/// SPEC §2 `did_numbers`: the called number, as E.164 or as the bare digits it came in (short
/// numbers such as `3000`), is one of the items or inside a same-length range.
fn did_allowed(filter: &DidFilter, raw: &str, e164: Option<&str>) -> bool {
    let candidates = [Some(raw), e164];
    candidates
        .into_iter()
        .flatten()
        .filter(|n| !n.is_empty())
        .any(|n| {
            filter.exact.iter().any(|x| x == n)
                || filter.ranges.iter().any(|(lo, hi)| {
                    lo.len() == n.len() && hi.len() == n.len() && lo.as_str() <= n && n <= hi.as_str()
                })
        })
}

fn relay(direction: Direction, server: &Server, number: String, targets: Vec<Target>) -> Decision {
    if targets.is_empty() {
        return Decision::Reject(Rejection::NoRoute);
    }
    Decision::Relay(Plan {
        direction,
        account: server.account,
        number,
        targets,
    })
}

/// `number` out over the carriers on behalf of `server` (outbound calls, `force_outbound`).
fn dial_out(
    snap: &Snapshot,
    server: &Server,
    number: String,
    cid: Option<&Cid>,
    origin: &Origin,
) -> Decision {
    let targets = carrier_targets(snap, server, &number, cid, origin);
    relay(Direction::Outbound, server, number, targets)
}

fn carrier_targets(
    snap: &Snapshot,
    server: &Server,
    number: &str,
    cid: Option<&Cid>,
    origin: &Origin,
) -> Vec<Target> {
    let flags = &server.options.flags;
    select_carriers(snap, number, flags)
        .map(|c| carrier_target(snap, c, server, (number, cid, origin)))
        .collect()
}

/// The server leg of an inbound call. Without a static destination the target is the server's
/// live registration (`Destination::Registered`), with `sip:USER@registered` as a placeholder
/// Request-URI whose user part the core puts on the binding's Contact.
fn server_target(server: &Server, e164: &str) -> Target {
    let o = &server.options;
    let user = match o.inbound_format {
        NumberFormat::Username => format_number(e164, o.inbound_format, server.auth.user.as_deref()),
        f => format_number(e164, f, None),
    };
    let (ruri, dest) = match o.destination {
        Some(addr) => (
            sip_uri(&user, |s| push_socket_addr(s, addr), o.transport),
            Destination::Addr {
                addr,
                transport: o.transport,
            },
        ),
        None => (
            format!("sip:{user}@{REGISTERED_PLACEHOLDER}"),
            Destination::Registered(server.id),
        ),
    };
    Target {
        kind: TargetKind::Server(server.id),
        ruri,
        ruri_user: user,
        dest,
        delay: o.delay,
        ..leg(server)
    }
}

/// A carrier leg: Request-URI `sip:NUMBER@hostname[:port]` (NUMBER in the carrier's `format`),
/// sent to `next_hop` (or resolved at call time when it is a DNS name; the live registration
/// for an ACCEPT_REGISTER carrier), with the chosen caller ID in the carrier's format; the
/// carrier's `outbound_parameters` may change the Request-URI parts and compose the headers.
fn carrier_target(
    snap: &Snapshot,
    c: &Carrier,
    server: &Server,
    (number, cid, origin): (&str, Option<&Cid>, &Origin),
) -> Target {
    let called = format_number(number, c.format, None);
    let identity = cid.map(|cid| Identity {
        display: cid.name.clone(),
        user: format_number(&cid.number, c.format, None),
    });
    let ctx = compose::Context {
        carrier: c,
        advertise: &snap.proxy.advertise,
        called: &called,
        identity: identity.as_ref(),
        origin,
    };
    let (user, host) = compose::request_uri(&ctx);
    let compose = compose::plan(&ctx).map(Box::new);
    let user = user.unwrap_or(called);
    let (ruri, dest) = carrier_destination(c, &user, host.as_deref());
    Target {
        kind: TargetKind::Carrier(c.id),
        ruri,
        ruri_user: user,
        dest,
        identity,
        compose,
        ..leg(server)
    }
}

/// The Request-URI (`host`: the `request_line_uri_host_part` override) and where it goes.
fn carrier_destination(c: &Carrier, user: &str, host: Option<&str>) -> (String, Destination) {
    if c.auth_mode == CarrierAuthMode::AcceptRegister {
        return (
            format!("sip:{user}@{REGISTERED_PLACEHOLDER}"),
            Destination::RegisteredCarrier(c.id),
        );
    }
    let ruri = match host {
        Some(host) => sip_uri(user, |s| s.push_str(host), c.transport),
        None => sip_uri(user, |s| push_host_port(s, &c.hostname, c.port), c.transport),
    };
    let dest = match c.next_hop {
        Some(addr) => Destination::Addr {
            addr,
            transport: c.transport,
        },
        None => {
            let (host, port) = match &c.outbound_server {
                Some(h) => (h.clone(), c.outbound_server_port),
                None => (c.hostname.clone(), c.port),
            };
            Destination::Host {
                host,
                port: Some(port),
                transport: c.transport,
            }
        }
    };
    (ruri, dest)
}

/// The failover after the server: `e164` → out over the carriers (caller ID untouched), `sip` →
/// that URI.
fn failover_targets(snap: &Snapshot, server: &Server, failover: &Failover, origin: &Origin) -> Vec<Target> {
    match failover {
        Failover::E164(n) => {
            let n = normalise(n, &snap.proxy.default_country_code).unwrap_or_else(|| n.clone());
            carrier_targets(snap, server, &n, None, origin)
        }
        Failover::Sip(uri) => uri_target(server, uri).into_iter().collect(),
    }
}

/// A failover SIP URI: sent to its host when it is an IP literal (port 5060, udp unless
/// `;transport=`), else resolved at call time.
fn uri_target(server: &Server, uri: &str) -> Option<Target> {
    let parts = SipUri::parse(uri)?;
    let dest = match parts.host.parse::<IpAddr>() {
        Ok(ip) => Destination::Addr {
            addr: SocketAddr::new(ip, parts.port.unwrap_or(parts.default_port())),
            transport: parts.transport,
        },
        Err(_) => Destination::Host {
            host: parts.host.to_owned(),
            port: parts.port,
            transport: parts.transport,
        },
    };
    let ruri_user = parts.user.to_owned();
    Some(Target {
        kind: TargetKind::Uri,
        ruri: uri.to_owned(),
        ruri_user,
        dest,
        ..leg(server)
    })
}

/// The settings every leg of `server`'s calls shares; callers fill in the rest.
fn leg(server: &Server) -> Target {
    let o = &server.options;
    Target {
        kind: TargetKind::Server(server.id),
        ruri: String::new(),
        ruri_user: String::new(),
        dest: Destination::Registered(server.id),
        headers: o.sip_headers.clone(),
        identity: None,
        compose: None,
        delay: Duration::ZERO,
        progress_timeout: o.progress_timeout,
        timeout: o.timeout,
        ignore_early_media: o.ignore_early_media,
    }
}

/// `sip:USER@HOST[;transport=tcp|tls]`, `host` writing the host part: one allocation per
/// target (a call's plan builds one per carrier it may try).
fn sip_uri(user: &str, host: impl FnOnce(&mut String), transport: Transport) -> String {
    let mut s = String::with_capacity(user.len() + 64);
    s.push_str("sip:");
    s.push_str(user);
    s.push('@');
    host(&mut s);
    match transport {
        Transport::Udp => {}
        Transport::Tcp => s.push_str(";transport=tcp"),
        Transport::Tls => s.push_str(";transport=tls"),
    }
    s
}

/// Appends `ip:port` (IPv6 bracketed).
fn push_socket_addr(s: &mut String, addr: SocketAddr) {
    use std::fmt::Write;
    let _ = write!(s, "{addr}");
}

/// Appends `host:port`: an IP literal always with its port (IPv6 bracketed), a name without
/// the default port.
fn push_host_port(s: &mut String, host: &str, port: u16) {
    use std::fmt::Write;
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        let _ = write!(s, "[{v6}]:{port}");
        return;
    }
    s.push_str(host);
    if port != SIP_PORT || host.parse::<Ipv4Addr>().is_ok() {
        let _ = write!(s, ":{port}");
    }
}

/// The pieces of a `sip:`/`sips:` URI a failover target needs.
struct SipUri<'a> {
    sips: bool,
    user: &'a str,
    host: &'a str,
    port: Option<u16>,
    transport: Transport,
}

impl<'a> SipUri<'a> {
    fn parse(uri: &'a str) -> Option<Self> {
        let (sips, rest) = match uri.get(..5) {
            Some(s) if s.eq_ignore_ascii_case("sips:") => (true, uri.get(5..)?),
            _ if uri.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("sip:")) => (false, uri.get(4..)?),
            _ => return None,
        };
        let rest = rest.split('?').next().unwrap_or_default();
        let mut parts = rest.split(';');
        let first = parts.next()?;
        let (user, host_port) = match first.rsplit_once('@') {
            Some((u, h)) => (u.split(':').next().unwrap_or_default(), h),
            None => ("", first),
        };
        let default = if sips { Transport::Tls } else { Transport::Udp };
        let transport = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case("transport"));
        let transport = transport.map_or(default, |(_, v)| parse_transport(v, default));
        let (host, port) = split_host_port(host_port)?;
        Some(SipUri {
            sips,
            user,
            host,
            port,
            transport,
        })
    }

    fn default_port(&self) -> u16 {
        if self.sips || self.transport == Transport::Tls {
            SIPS_PORT
        } else {
            SIP_PORT
        }
    }
}

fn parse_transport(v: &str, default: Transport) -> Transport {
    match v.to_ascii_lowercase().as_str() {
        "tcp" => Transport::Tcp,
        "tls" => Transport::Tls,
        "udp" => Transport::Udp,
        _ => default,
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn split_host_port(hp: &str) -> Option<(&str, Option<u16>)> {
    if let Some(v6) = hp.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = after.strip_prefix(':').map(str::parse).transpose().ok()?;
        return Some((host, port));
    }
    let (host, port) = match hp.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (hp, None),
    };
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests_inbound;
#[cfg(test)]
mod tests_outbound;
