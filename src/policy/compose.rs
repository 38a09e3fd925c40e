//! A carrier's `outbound_parameters` (SPEC §2, seed 003) turned into a per-target header plan:
//! every header part the INVITE towards that carrier gets, resolved to its final text here, so
//! the core only splices and `trunkgate route` can show it.
//!
//! Rules: `DEFAULT` is what SPEC §4 gives anyway (the caller ID on From and P-Asserted-Identity,
//! everything else as it came); `NONE` removes a display name, or (on any
//! P-Asserted-Identity / Remote-Party-ID part) that header; any other value on a
//! P-Asserted-Identity / Remote-Party-ID part adds that header (replacing what came), its other
//! parts from the caller ID (else the caller's number and name) and the proxy's host. A value
//! that resolves to nothing (`AUTH_ID` without an auth_id, `CALLER_DISPLAY_NAME` without a
//! name) falls back to `DEFAULT` for a user or host part, and to no display name.

use std::fmt::Write as _;

use super::number::format_number;
use super::{CallFacts, Identity};
use crate::config::{Carrier, DisplaySource, OutboundParameter, OutboundValue};

const PAI_KEYS: [&str; 3] = [
    "p_asserted_identity_display_name",
    "p_asserted_identity_user_part",
    "p_asserted_identity_host_part",
];
const RPID_KEYS: [&str; 3] = [
    "remote_party_id_calling_party_display_name",
    "remote_party_id_calling_party_user_part",
    "remote_party_id_calling_party_host_part",
];

/// New content for the parts of a From or To header; `None` keeps what came.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartyEdit {
    /// Display name (unquoted); `Some("")` removes it.
    pub display: Option<String>,
    /// URI user part, already %-escaped.
    pub user: Option<String>,
    /// URI `host[:port]`, replacing host and port.
    pub host: Option<String>,
}

impl PartyEdit {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.display.is_none() && self.user.is_none() && self.host.is_none()
    }
}

/// One P-Asserted-Identity / Remote-Party-ID value: `"display" <sip:user@host>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Display name (unquoted), `None`: none.
    pub display: Option<String>,
    /// URI user part, already %-escaped.
    pub user: String,
    /// URI `host[:port]`.
    pub host: String,
}

/// What becomes of a P-Asserted-Identity or Remote-Party-ID header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PartyHeader {
    /// Left as it came.
    #[default]
    Keep,
    /// Every such header removed (`NONE`).
    Remove,
    /// Every such header replaced by this one.
    Set(Party),
}

/// How the INVITE to one carrier target is composed (beyond the Request-URI, which policy puts
/// in `Target::ruri` itself). When a target has one, it supersedes `Target::identity`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compose {
    /// From display name, user and host.
    pub from: PartyEdit,
    /// To user and host (the seed's `to_display_name` is not offered).
    pub to: PartyEdit,
    /// P-Asserted-Identity.
    pub pai: PartyHeader,
    /// Remote-Party-ID (calling party).
    pub rpid: PartyHeader,
}

impl Compose {
    /// One line for `trunkgate route`: every header part that changes.
    pub fn describe(&self) -> String {
        let mut out = Vec::new();
        for (name, e) in [("From", &self.from), ("To", &self.to)] {
            let parts = [("display", &e.display), ("user", &e.user), ("host", &e.host)];
            for (part, v) in parts {
                if let Some(v) = v {
                    out.push(format!("{name} {part} {v:?}"));
                }
            }
        }
        for (name, h) in [
            ("P-Asserted-Identity", &self.pai),
            ("Remote-Party-ID", &self.rpid),
        ] {
            match h {
                PartyHeader::Keep => {}
                PartyHeader::Remove => out.push(format!("{name} removed")),
                PartyHeader::Set(p) => {
                    let d = p.display.as_deref().unwrap_or("");
                    out.push(format!("{name} \"{d}\" <sip:{}@{}>", p.user, p.host));
                }
            }
        }
        out.join(", ")
    }
}

/// The caller as policy saw it: number (E.164 when it normalised) and display name, read per
/// the calling side's `inbound_parameters` (servers: From).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// E.164 when it normalised, else as it came.
    pub number: String,
    /// The caller's display name, if any.
    pub display: Option<String>,
}

impl Origin {
    /// A server's caller: From user and display name.
    pub fn of_server(facts: &CallFacts, cc: &str) -> Origin {
        Origin::new(facts.from_user, facts.from_display, cc)
    }

    /// A carrier's caller, per its `caller_num` / `caller_display_name`.
    pub fn of_carrier(facts: &CallFacts, c: &Carrier, cc: &str) -> Origin {
        let number = super::route::number_from(facts, c.inbound_parameters.caller_num);
        let display = display_from(facts, c.inbound_parameters.caller_display_name);
        Origin::new(number.unwrap_or_default(), display, cc)
    }

    fn new(number: &str, display: Option<&str>, cc: &str) -> Origin {
        let raw = super::number::strip_separators(number);
        let number = super::number::normalise(&raw, cc).unwrap_or_else(|| raw.into_owned());
        Origin {
            number,
            display: display.map(str::to_owned),
        }
    }
}

/// The display name a carrier's `caller_display_name` names.
pub fn display_from<'a>(facts: &CallFacts<'a>, source: DisplaySource) -> Option<&'a str> {
    match source {
        DisplaySource::FromDisplayName => facts.from_display,
        DisplaySource::PAssertedIdentityDisplayName => facts.pai_display,
        DisplaySource::RemotePartyIdDisplayName => facts.rpid_display,
    }
}

/// Everything a value can be resolved from, for one carrier target.
pub struct Context<'a> {
    /// The carrier the target goes to (its `outbound_parameters`, credentials, host).
    pub carrier: &'a Carrier,
    /// `[proxy].advertise` (PROXY_HOST, and the host of added PAI / RPID).
    pub advertise: &'a str,
    /// The called number in the carrier's format.
    pub called: &'a str,
    /// SPEC §4 caller ID already in the carrier's format, if any.
    pub identity: Option<&'a Identity>,
    /// The caller, for CALLER_NUMBER / CALLER_DISPLAY_NAME without a caller ID.
    pub origin: &'a Origin,
}

/// The Request-URI user and host a target gets (`None`: the §4 default).
pub fn request_uri(ctx: &Context<'_>) -> (Option<String>, Option<String>) {
    let p = &ctx.carrier.outbound_parameters;
    let user = resolve(ctx, lookup(p, "request_line_uri_user_part")).map(|u| escape_user(&u));
    let host = resolve(ctx, lookup(p, "request_line_uri_host_part"));
    (user, host)
}

/// The header plan of a target, `None` when every header part is `DEFAULT` (then
/// `Target::identity` alone says what changes).
pub fn plan(ctx: &Context<'_>) -> Option<Compose> {
    let p = &ctx.carrier.outbound_parameters;
    let touched = p.iter().any(|e| {
        e.value != OutboundValue::Default
            && !e.key.starts_with("request_line_")
            && !e.key.starts_with("contact_")
    });
    if !touched {
        return None;
    }
    Some(Compose {
        from: from(ctx),
        to: PartyEdit {
            display: None,
            user: user_part(ctx, "to_user_part", None),
            host: resolve(ctx, lookup(p, "to_host_part")),
        },
        pai: party_header(ctx, PAI_KEYS, true),
        rpid: party_header(ctx, RPID_KEYS, false),
    })
}

fn from(ctx: &Context<'_>) -> PartyEdit {
    let p = &ctx.carrier.outbound_parameters;
    let id_display = ctx.identity.map(|i| i.display.clone().unwrap_or_default());
    let display = match lookup(p, "from_display_name") {
        OutboundValue::Default => id_display,
        OutboundValue::None => Some(String::new()),
        v => Some(resolve(ctx, v).unwrap_or_default()),
    };
    PartyEdit {
        display,
        user: user_part(ctx, "from_user_part", ctx.identity.map(|i| escape_user(&i.user))),
        host: resolve(ctx, lookup(p, "from_host_part")),
    }
}

/// A user part: the resolved value %-escaped, else `default`.
fn user_part(ctx: &Context<'_>, key: &str, default: Option<String>) -> Option<String> {
    let v = lookup(&ctx.carrier.outbound_parameters, key);
    resolve(ctx, v).map(|u| escape_user(&u)).or(default)
}

/// P-Asserted-Identity (follows the caller ID by default) or Remote-Party-ID (only when asked
/// for); `keys`: the display name, user and host part keys.
fn party_header(ctx: &Context<'_>, keys: [&str; 3], follows_identity: bool) -> PartyHeader {
    let p = &ctx.carrier.outbound_parameters;
    let values = keys.map(|k| lookup(p, k));
    if values.iter().any(|v| **v == OutboundValue::None) {
        return PartyHeader::Remove;
    }
    let asked = values.iter().any(|v| **v != OutboundValue::Default);
    let changed = asked || (follows_identity && ctx.identity.is_some());
    if !changed {
        return PartyHeader::Keep;
    }
    let [display, user, host] = values;
    let base_display = match ctx.identity {
        Some(i) => i.display.clone(),
        None => ctx.origin.display.clone(),
    };
    let display = match display {
        OutboundValue::Default => base_display,
        v => resolve(ctx, v),
    };
    let base_user = match ctx.identity {
        Some(i) => escape_user(&i.user),
        None => escape_user(&caller_number(ctx)),
    };
    PartyHeader::Set(Party {
        display,
        user: resolve(ctx, user).map_or(base_user, |u| escape_user(&u)),
        host: resolve(ctx, host).unwrap_or_else(|| ctx.advertise.to_owned()),
    })
}

/// The value an entry names, `None` for DEFAULT / NONE or when it resolves to nothing.
fn resolve(ctx: &Context<'_>, v: &OutboundValue) -> Option<String> {
    let c = ctx.carrier;
    let s = match v {
        OutboundValue::Default | OutboundValue::None => return None,
        OutboundValue::CallerNumber => caller_number(ctx),
        OutboundValue::CallerDisplayName => match ctx.identity {
            Some(i) => i.display.clone().unwrap_or_default(),
            None => ctx.origin.display.clone().unwrap_or_default(),
        },
        OutboundValue::CalledNumber => ctx.called.to_owned(),
        OutboundValue::AuthId => c.auth_id.clone(),
        OutboundValue::Username => c.username.clone(),
        OutboundValue::TrunkHostPort => trunk_host_port(c),
        OutboundValue::ProxyHost => ctx.advertise.to_owned(),
        OutboundValue::Custom(s) => s.clone(),
    };
    (!s.is_empty()).then_some(s)
}

/// CALLER_NUMBER: the caller ID's number, else the caller's own, in the carrier's format.
fn caller_number(ctx: &Context<'_>) -> String {
    match ctx.identity {
        Some(i) => i.user.clone(),
        None => format_number(&ctx.origin.number, ctx.carrier.format, None),
    }
}

/// TRUNK_HOST_PORT: `hostname[:port]`, the port written unless it is 5060 (IPv6 bracketed).
pub fn trunk_host_port(c: &Carrier) -> String {
    let host = match c.hostname.parse::<std::net::Ipv6Addr>() {
        Ok(_) => format!("[{}]", c.hostname),
        Err(_) => c.hostname.clone(),
    };
    if c.port == 5060 {
        host
    } else {
        format!("{host}:{}", c.port)
    }
}

fn lookup<'p>(params: &'p [OutboundParameter], key: &str) -> &'p OutboundValue {
    params
        .iter()
        .find(|e| e.key == key)
        .map_or(&OutboundValue::Default, |e| &e.value)
}

/// RFC 3261 §25.1 `user`: unreserved, user-unreserved and `%` escapes kept; anything else
/// (spaces, `:`, `@`, `<`, quotes, non-ASCII) %-escaped.
pub fn escape_user(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/%".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests;
