//! Carrier keep-alive (seed 003 / SPEC §2 `keep_alive`): an OPTIONS ping every
//! `keep_alive_interval` seconds (±10 % jitter) to each enabled carrier; any response means
//! ONLINE, `keep_alive_failures` consecutive unanswered pings mean OFFLINE. Routing skips
//! OFFLINE carriers. The status lives in `Services` (shared with the status endpoint); the
//! schedule and the pings in flight live in the core, driven by `Core::tick`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;
use tracing::{info, warn};

use super::forward;
use super::uac_register::RegStatus;
use super::Core;
use crate::config::{Carrier, Snapshot, Transport};
use crate::proxy::Services;
use crate::sip::Message;
use crate::txn::{ClientNonInvite, ClientTimerEvent, TimerConfig};

/// A ping is a miss when no response came within this long (or the interval, if shorter).
const PING_TIMEOUT: Duration = Duration::from_secs(32);

/// Reachability of one carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LinkState {
    pub online: bool,
    /// Consecutive unanswered pings.
    pub misses: u32,
    /// Status code of the last answer (0: none yet).
    pub last_code: u16,
}

/// Carrier status by carrier name (survives reloads). Carriers never pinged are ONLINE.
#[derive(Debug, Default)]
pub struct CarrierStatus {
    map: DashMap<String, LinkState>,
    registrations: DashMap<String, RegStatus>,
}

impl CarrierStatus {
    /// Whether routing may use the carrier.
    pub fn is_online(&self, name: &str) -> bool {
        self.map.get(name).is_none_or(|s| s.online)
    }

    /// The carrier's state, `None` when it was never pinged.
    pub fn get(&self, name: &str) -> Option<LinkState> {
        self.map.get(name).map(|s| *s)
    }

    /// Our registration at the carrier, `None` when it does not register.
    pub fn registration(&self, name: &str) -> Option<RegStatus> {
        self.registrations.get(name).map(|r| r.clone())
    }

    pub(super) fn set_registration(&self, name: &str, status: RegStatus) {
        self.registrations.insert(name.to_owned(), status);
    }

    fn answered(&self, name: &str, code: u16) {
        let mut s = self.map.entry(name.to_owned()).or_insert(LinkState {
            online: true,
            misses: 0,
            last_code: 0,
        });
        if !s.online {
            info!(carrier = name, code, "carrier ONLINE");
        }
        *s = LinkState {
            online: true,
            misses: 0,
            last_code: code,
        };
    }

    fn missed(&self, name: &str, failures: u32) {
        let mut s = self.map.entry(name.to_owned()).or_insert(LinkState {
            online: true,
            misses: 0,
            last_code: 0,
        });
        s.misses = s.misses.saturating_add(1);
        if s.online && s.misses >= failures.max(1) {
            s.online = false;
            warn!(
                carrier = name,
                misses = s.misses,
                "carrier OFFLINE: keep-alive unanswered"
            );
        }
    }
}

/// One OPTIONS ping in flight.
pub struct Ping {
    pub carrier: String,
    pub txn: ClientNonInvite,
    pub dest: SocketAddr,
    pub transport: Transport,
    pub deadline: Instant,
    pub failures: u32,
}

impl Core {
    /// Periodic input (about once a second): sends due pings and counts unanswered ones.
    pub fn tick(&mut self, now: Instant, snap: &Arc<Snapshot>, svc: &Services) {
        self.tick_registrations(now, snap, svc);
        self.expire_pings(now, svc);
        for carrier in snap.carriers.iter().filter(|c| c.enabled && c.keep_alive) {
            let Some(dest) = carrier.next_hop else { continue };
            let due = *self.keepalive_next.entry(carrier.name.clone()).or_insert(now);
            let in_flight = self.pings.values().any(|p| p.carrier == carrier.name);
            if due <= now && !in_flight {
                self.send_ping(now, carrier, dest);
                let jitter = self.rng.f64() * 0.2 - 0.1;
                let next = carrier
                    .keep_alive_interval
                    .mul_f64(1.0 + jitter)
                    .max(Duration::from_millis(500));
                self.keepalive_next.insert(carrier.name.clone(), now + next);
            }
        }
        self.keepalive_next
            .retain(|name, _| snap.carriers.iter().any(|c| &c.name == name && c.keep_alive));
    }

    fn send_ping(&mut self, now: Instant, carrier: &Carrier, dest: SocketAddr) {
        let id = self.new_branch_id();
        let tag = self.new_tag();
        let port = self.port(carrier.transport);
        let via = forward::via(carrier.transport, &self.cfg.advertise, port, id);
        let target = format!("sip:{}:{}", carrier.hostname, carrier.port);
        let text = format!(
            "OPTIONS {target} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\nFrom: <sip:keepalive@{adv}>;tag={tag}\r\n\
             To: <{target}>\r\nCall-ID: ka-{tag}@{adv}\r\nCSeq: 1 OPTIONS\r\nUser-Agent: trunkgate\r\nContent-Length: 0\r\n\r\n",
            adv = self.cfg.advertise
        );
        let bytes = Bytes::from(text);
        let txn = ClientNonInvite::new(
            now,
            bytes.clone(),
            TimerConfig::for_transport(carrier.transport != Transport::Udp),
        );
        self.send(dest, carrier.transport, None, bytes);
        let deadline = now + carrier.keep_alive_interval.min(PING_TIMEOUT);
        let failures = carrier.keep_alive_failures;
        self.pings.insert(
            id,
            Ping {
                carrier: carrier.name.clone(),
                txn,
                dest,
                transport: carrier.transport,
                deadline,
                failures,
            },
        );
    }

    /// Retransmits pings (UDP) and turns overdue ones into misses.
    fn expire_pings(&mut self, now: Instant, svc: &Services) {
        let mut missed = Vec::new();
        for (id, p) in &mut self.pings {
            if p.deadline <= now {
                missed.push(*id);
                continue;
            }
            if let Some(ClientTimerEvent::Retransmit(b)) = p.txn.on_timeout(now) {
                self.out.push_back(super::Transmit {
                    dest: p.dest,
                    transport: p.transport,
                    conn: None,
                    bytes: b,
                });
            }
        }
        for id in missed {
            if let Some(p) = self.pings.remove(&id) {
                svc.carriers.missed(&p.carrier, p.failures);
            }
        }
    }

    /// A response to one of our pings: the carrier is alive, whatever the code.
    pub(super) fn ping_response(&mut self, svc: &Services, id: u64, msg: &Message) -> bool {
        let Some(p) = self.pings.remove(&id) else {
            return false;
        };
        svc.carriers.answered(&p.carrier, msg.status().unwrap_or(0));
        true
    }
}
