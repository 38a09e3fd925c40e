//! Registration at carriers (seed 003 `registration`, `register_interval`; SPEC §2
//! `REGISTER_AUTH`): trunkgate keeps a binding at each such carrier, answering its 401/407
//! with `auth_id`/`username`/`password`, refreshing before expiry and retrying with backoff.
//! Driven by `Core::tick`; the state shown to operators lives in `Services::carriers`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::{info, warn};

use super::forward;
use super::Core;
use crate::config::{Carrier, CarrierAuthMode, Snapshot, Transport};
use crate::policy::digest::answer;
use crate::proxy::Services;
use crate::sip::{HeaderName, Message};
use crate::txn::{ClientNonInvite, ClientNonInviteAction, ClientTimerEvent, TimerConfig};

/// First retry delay after a failed registration; doubles up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// A REGISTER unanswered this long is a failure.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(32);

/// Registration state of one carrier as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegStatus {
    pub registered: bool,
    /// Last final response (408 for a timeout, 0 before the first answer).
    pub last_code: u16,
}

/// The core's side of one carrier registration.
pub struct OutReg {
    next_at: Instant,
    call_id: String,
    from_tag: String,
    cseq: u32,
    backoff: Duration,
    in_flight: Option<InFlight>,
}

struct InFlight {
    id: u64,
    txn: ClientNonInvite,
    dest: SocketAddr,
    transport: Transport,
    deadline: Instant,
    /// This round already answered a challenge.
    authed: bool,
}

/// Whether trunkgate must keep a registration at this carrier.
pub fn registers(c: &Carrier) -> bool {
    c.enabled && (c.registration || c.auth_mode == CarrierAuthMode::RegisterAuth) && c.next_hop.is_some()
}

impl Core {
    /// Sends due REGISTERs and times out unanswered ones.
    pub(super) fn tick_registrations(&mut self, now: Instant, snap: &Snapshot, svc: &Services) {
        for carrier in snap.carriers.iter().filter(|c| registers(c)) {
            self.reg_timeouts(now, carrier, svc);
            let tag = self.new_tag();
            let reg = self
                .out_regs
                .entry(carrier.name.clone())
                .or_insert_with(|| OutReg {
                    next_at: now,
                    call_id: format!("reg-{tag}"),
                    from_tag: tag,
                    cseq: 0,
                    backoff: MIN_BACKOFF,
                    in_flight: None,
                });
            if reg.in_flight.is_none() && reg.next_at <= now {
                self.send_register(now, carrier, None);
            }
        }
        self.out_regs
            .retain(|name, _| snap.carriers.iter().any(|c| &c.name == name && registers(c)));
    }

    fn reg_timeouts(&mut self, now: Instant, carrier: &Carrier, svc: &Services) {
        let Some(reg) = self.out_regs.get_mut(&carrier.name) else {
            return;
        };
        let Some(f) = reg.in_flight.as_mut() else { return };
        if f.deadline <= now {
            self.registration_failed(now, &carrier.name, 408, svc);
            return;
        }
        if let Some(ClientTimerEvent::Retransmit(b)) = f.txn.on_timeout(now) {
            let (dest, transport) = (f.dest, f.transport);
            self.send(dest, transport, None, b);
        }
    }

    /// Sends a REGISTER (with `credentials` when answering a challenge).
    fn send_register(&mut self, now: Instant, carrier: &Carrier, credentials: Option<(&str, String)>) {
        let Some(dest) = carrier.next_hop else { return };
        let id = self.new_branch_id();
        let port = self.port(carrier.transport);
        let via = forward::via(carrier.transport, &self.cfg.advertise, port, id);
        let adv = self.cfg.advertise.clone();
        let Some(reg) = self.out_regs.get_mut(&carrier.name) else {
            return;
        };
        reg.cseq += 1;
        let user = if carrier.username.is_empty() {
            &carrier.auth_id
        } else {
            &carrier.username
        };
        let host = &carrier.hostname;
        let auth = credentials
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "REGISTER sip:{host}:{cport} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@{host}>;tag={tag}\r\nTo: <sip:{user}@{host}>\r\nCall-ID: {cid}@{adv}\r\n\
             CSeq: {seq} REGISTER\r\nContact: <sip:{user}@{adv}:{port}>\r\nExpires: {exp}\r\n{auth}\
             User-Agent: trunkgate\r\nContent-Length: 0\r\n\r\n",
            cport = carrier.port,
            tag = reg.from_tag,
            cid = reg.call_id,
            seq = reg.cseq,
            exp = carrier.register_interval.as_secs(),
        );
        let bytes = Bytes::from(text);
        let reliable = carrier.transport != Transport::Udp;
        let authed = !auth.is_empty();
        let txn = ClientNonInvite::new(now, bytes.clone(), TimerConfig::for_transport(reliable));
        let deadline = now + REGISTER_TIMEOUT;
        reg.in_flight = Some(InFlight {
            id,
            txn,
            dest,
            transport: carrier.transport,
            deadline,
            authed,
        });
        self.reg_branches.insert(id, carrier.name.clone());
        self.send(dest, carrier.transport, None, bytes);
    }

    /// A response to one of our REGISTERs; false when `id` is not one.
    pub(super) fn register_response(
        &mut self,
        now: Instant,
        snap: &Snapshot,
        svc: &Services,
        id: u64,
        msg: &Message,
    ) -> bool {
        let Some(name) = self.reg_branches.get(&id).cloned() else {
            return false;
        };
        let code = msg.status().unwrap_or(0);
        let Some(reg) = self.out_regs.get_mut(&name) else {
            return true;
        };
        let Some(f) = reg.in_flight.as_mut().filter(|f| f.id == id) else {
            return true;
        };
        if !matches!(f.txn.on_response(now, code), ClientNonInviteAction::Pass { .. }) || code < 200 {
            return true;
        }
        let authed = f.authed;
        reg.in_flight = None;
        self.reg_branches.remove(&id);
        let Some(carrier) = snap.carriers.iter().find(|c| c.name == name) else {
            return true;
        };
        match code {
            200..=299 => self.registered(now, carrier, msg, svc),
            401 | 407 if !authed => {
                match credentials(carrier, msg, code, &format!("{:016x}", self.rng.u64(..))) {
                    Some(c) => self.send_register(now, carrier, Some(c)),
                    None => self.registration_failed(now, &name, code, svc),
                }
            }
            _ => self.registration_failed(now, &name, code, svc),
        }
        true
    }

    fn registered(&mut self, now: Instant, carrier: &Carrier, msg: &Message, svc: &Services) {
        let granted = granted_expires(msg).unwrap_or(carrier.register_interval);
        if let Some(reg) = self.out_regs.get_mut(&carrier.name) {
            reg.next_at = now + granted.mul_f64(0.8).max(Duration::from_secs(1));
            reg.backoff = MIN_BACKOFF;
        }
        let was = svc
            .carriers
            .registration(&carrier.name)
            .is_some_and(|r| r.registered);
        if !was {
            info!(carrier = %carrier.name, "registered at carrier");
        }
        svc.carriers.set_registration(
            &carrier.name,
            RegStatus {
                registered: true,
                last_code: msg.status().unwrap_or(200),
            },
        );
    }

    fn registration_failed(&mut self, now: Instant, name: &str, code: u16, svc: &Services) {
        let Some(reg) = self.out_regs.get_mut(name) else {
            return;
        };
        if let Some(f) = reg.in_flight.take() {
            self.reg_branches.remove(&f.id);
        }
        reg.next_at = now + reg.backoff;
        reg.backoff = (reg.backoff * 2).min(MAX_BACKOFF);
        warn!(carrier = name, code, "registration at carrier failed");
        svc.carriers.set_registration(
            name,
            RegStatus {
                registered: false,
                last_code: code,
            },
        );
    }
}

/// The header and value answering a carrier's challenge to our REGISTER.
fn credentials(carrier: &Carrier, msg: &Message, code: u16, cnonce: &str) -> Option<(&'static str, String)> {
    if carrier.password.is_empty() {
        return None;
    }
    let user = if carrier.auth_id.is_empty() {
        &carrier.username
    } else {
        &carrier.auth_id
    };
    let uri = format!("sip:{}:{}", carrier.hostname, carrier.port);
    let (challenge, name) = if code == 407 {
        (HeaderName::ProxyAuthenticate, "Proxy-Authorization")
    } else {
        (HeaderName::WwwAuthenticate, "Authorization")
    };
    msg.headers_named(challenge).find_map(|h| {
        let value = String::from_utf8_lossy(msg.slice(h.value));
        answer(&value, "REGISTER", &uri, user, &carrier.password, cnonce, 1)
            .ok()
            .map(|v| (name, v))
    })
}

/// What the registrar granted: `expires` of our Contact, else the Expires header.
fn granted_expires(msg: &Message) -> Option<Duration> {
    let from_contact = msg.header_values(HeaderName::Contact).find_map(|c| {
        let na = crate::sip::header::parse_name_addr(c).ok()?;
        crate::sip::header::parse_u32(na.params.get("expires").flatten()?).ok()
    });
    let secs = from_contact.or_else(|| {
        msg.header(HeaderName::Expires)
            .and_then(|v| crate::sip::header::parse_u32(v).ok())
    })?;
    (secs > 0).then(|| Duration::from_secs(u64::from(secs)))
}
