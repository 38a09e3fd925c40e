//! A deterministic in-memory network around one [`Core`], on simulated time (after quinn's
//! `Pair` and rustls' `transfer`), for unit tests, fuzz targets and benches.
//!
//! [`Net`] owns the core, its [`Services`] and a [`Snapshot`], and a clock that only the harness
//! moves: it starts at `t0` and advances to the core's next deadline ([`Net::step`]) or by a
//! given amount ([`Net::run_for`]), firing every due timer on the way. Everything the core sends
//! is parsed and queued per destination address, stamped with the simulated time it was sent at;
//! tests read those queues ([`Net::take_sent_to`], [`Net::take_timed`]) and answer as scripted
//! endpoints by [`Net::deliver`]ing bytes from an address.
//!
//! The endpoints follow SPEC §7: carrier A [`CARRIER`] (the UAC of inbound calls), the PBX
//! [`PBX`], the customer server [`SERVER`] (the UAS of inbound calls), the termination carrier
//! [`TERMINATION`] and the failover target [`FAILOVER`]; the proxy is [`PROXY`]. The message
//! builders in [`build`] make the requests a UAC sends ([`Uac`]) and the responses / requests a
//! UAS sends ([`respond`], [`callee_bye`]).
//!
//! ```ignore
//! let mut net = Net::loopback();
//! let uac = Uac::new(CARRIER, 1, DID);
//! net.deliver(CARRIER, uac.invite());
//! let invite = net.take_sent_to(SERVER).remove(0);
//! net.deliver(SERVER, respond(&invite, 200, "uas1", Some(SERVER)));
//! ```
//!
//! `Net::new` reads the real clock once (the only place outside the runtime that does): a
//! simulated `Instant` still needs a real base. Use [`Net::with_clock`] to pass it in.

pub mod build;
pub mod workload;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use build::{callee_bye, respond, Uac};

use super::{Core, CoreConfig, CoreCounts, Event, Input, Services};
use crate::config::{Snapshot, Transport};
use crate::policy::testing::Fixture;
use crate::sip::Message;

/// The proxy under test (SPEC §7).
pub const PROXY: SocketAddr = addr(1);
/// Carrier A: sends inbound calls (the UAC in most tests).
pub const CARRIER: SocketAddr = addr(2);
/// The customer PBX (digest user pbx1).
pub const PBX: SocketAddr = addr(3);
/// The customer server receiving DID calls (the UAS in most tests).
pub const SERVER: SocketAddr = addr(4);
/// The termination carrier.
pub const TERMINATION: SocketAddr = addr(5);
/// The failover carrier / failover target.
pub const FAILOVER: SocketAddr = addr(6);
/// The DID of `Fixture::loopback()`, routed to [`SERVER`].
pub const DID: &str = "+14155550100";

/// Secret handed to the core and the services (fixed: runs are reproducible).
const SECRET: [u8; 32] = [0x42; 32];
/// Wall-clock seconds at `t0` (nonces only).
const UNIX_T0: u64 = 1_700_000_000;
/// A run that fires more timers than this without the clock moving is a core bug (a timer that
/// re-arms in the past); the harness panics rather than spin.
const MAX_STEPS: usize = 1_000_000;

const fn addr(last: u8) -> SocketAddr {
    SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, last)),
        5060,
    )
}

/// One message the core sent, as a scripted endpoint receives it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Simulated time since `t0` when it was sent.
    pub at: Duration,
    pub transport: Transport,
    pub msg: Message,
}

/// The core, its services and snapshot, a simulated clock and per-destination inboxes.
pub struct Net {
    pub core: Core,
    pub services: Services,
    pub snap: Arc<Snapshot>,
    t0: Instant,
    now: Instant,
    inbox: HashMap<SocketAddr, VecDeque<Sent>>,
    /// Events drained from the core, in order.
    pub events: Vec<Event>,
}

impl Net {
    /// A network around `Fixture::loopback()`.
    pub fn loopback() -> Net {
        Net::new(Fixture::loopback().build())
    }

    /// A network around `snap`; the clock starts at the real `Instant::now()`.
    pub fn new(snap: Snapshot) -> Net {
        Net::with_clock(snap, Instant::now())
    }

    /// A network around `snap` whose simulated clock starts at `t0`.
    pub fn with_clock(snap: Snapshot, t0: Instant) -> Net {
        let cfg = CoreConfig {
            advertise: snap.proxy.advertise.clone(),
            ports: snap
                .proxy
                .listen
                .iter()
                .map(|l| (l.transport, l.addr.port()))
                .collect(),
            secret: SECRET,
            seed: 7,
        };
        Net {
            core: Core::new(cfg, t0, UNIX_T0),
            services: Services::new(SECRET),
            snap: Arc::new(snap),
            t0,
            now: t0,
            inbox: HashMap::new(),
            events: Vec::new(),
        }
    }

    /// The simulated instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Simulated time since `t0`.
    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// A datagram from `from` to the proxy (UDP), handled at the current simulated time.
    pub fn deliver(&mut self, from: SocketAddr, bytes: impl Into<Bytes>) {
        let input = Input {
            src: from,
            local: PROXY,
            transport: Transport::Udp,
            conn: None,
            bytes: bytes.into(),
        };
        self.core.handle(self.now, &self.snap, &self.services, input);
        self.drain();
    }

    /// Hands a datagram to the core without draining what it sends (benches and allocation
    /// counts that must not include the harness's own parsing); call `drain` afterwards.
    pub fn handle_only(&mut self, from: SocketAddr, bytes: Bytes) {
        let input = Input {
            src: from,
            local: PROXY,
            transport: Transport::Udp,
            conn: None,
            bytes,
        };
        self.core.handle(self.now, &self.snap, &self.services, input);
    }

    /// Advances the clock to the core's next deadline (never backwards) and fires the due
    /// timers; `false` when the core has no timer armed.
    pub fn step(&mut self) -> bool {
        let Some(at) = self.core.poll_timeout() else {
            return false;
        };
        self.now = self.now.max(at);
        self.core.handle_timeout(self.now, &self.snap, &self.services);
        self.drain();
        true
    }

    /// Steps through every deadline within `d`, then sets the clock to exactly `now + d`.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.run_to(end);
    }

    /// Like `run_for`, up to `at` after `t0` (no-op when already past it).
    pub fn run_until(&mut self, at: Duration) {
        let end = self.t0 + at;
        self.run_to(end.max(self.now));
    }

    fn run_to(&mut self, end: Instant) {
        let mut steps = 0;
        while self.core.poll_timeout().is_some_and(|t| t <= end) {
            self.step();
            steps += 1;
            assert!(steps < MAX_STEPS, "core timers do not converge");
        }
        self.now = end;
    }

    /// Drains the core's output into the inboxes and its events into `events`.
    /// Moves what the core sent into the per-address inboxes (parsed), and its events into
    /// `events`; `deliver` does this after every message.
    pub fn drain(&mut self) {
        let at = self.elapsed();
        while let Some(t) = self.core.poll_transmit() {
            let msg = match Message::parse(t.bytes.clone()) {
                Ok(m) => m,
                Err(e) => panic!("the core sent an unparseable message ({e}): {:?}", t.bytes),
            };
            let sent = Sent {
                at,
                transport: t.transport,
                msg,
            };
            self.inbox.entry(t.dest).or_default().push_back(sent);
        }
        while let Some(e) = self.core.poll_event() {
            self.events.push(e);
        }
    }

    /// Everything sent to `addr` since the last take, oldest first.
    pub fn take_sent_to(&mut self, addr: SocketAddr) -> Vec<Message> {
        self.take_timed(addr).into_iter().map(|s| s.msg).collect()
    }

    /// Like `take_sent_to`, with the simulated send times.
    pub fn take_timed(&mut self, addr: SocketAddr) -> Vec<Sent> {
        self.inbox.remove(&addr).map(Vec::from).unwrap_or_default()
    }

    /// Every unread message, by destination (for "nothing else was sent" checks).
    pub fn take_all(&mut self) -> Vec<(SocketAddr, Sent)> {
        let mut all: Vec<(SocketAddr, Sent)> = self
            .inbox
            .drain()
            .flat_map(|(a, q)| q.into_iter().map(move |s| (a, s)))
            .collect();
        all.sort_by_key(|(_, s)| s.at);
        all
    }

    /// Sizes of the core's tables.
    pub fn counts(&self) -> CoreCounts {
        self.core.counts()
    }

    /// Active calls of an account (the `trunks` counter).
    pub fn account_active(&self, account_id: &str) -> u32 {
        self.services.limits.active_account(account_id)
    }

    /// Active calls of a carrier (the `concurrency` counter).
    pub fn carrier_active(&self, name: &str) -> u32 {
        self.services.limits.active_carrier(name)
    }

    /// Panics unless the core holds nothing (calls, relays, answered transactions, dialogs,
    /// timers) and every account and carrier counter of the snapshot is back to 0.
    pub fn assert_no_leaks(&self) {
        let c = self.counts();
        assert_eq!(
            c,
            CoreCounts::default(),
            "core tables not empty at {:?}",
            self.elapsed()
        );
        for a in &self.snap.accounts {
            assert_eq!(
                self.account_active(&a.account_id),
                0,
                "account {} leaked",
                a.account_id
            );
        }
        for carrier in &self.snap.carriers {
            assert_eq!(
                self.carrier_active(&carrier.name),
                0,
                "carrier {} leaked",
                carrier.name
            );
        }
    }
}

/// The status code of a response (0 for a request).
pub fn code(m: &Message) -> u16 {
    m.status().unwrap_or(0)
}

/// The method of a request, `""` for a response.
pub fn method(m: &Message) -> &'static str {
    m.method().map_or("", |x| x.as_str())
}

/// A short label for asserting sequences: `"INVITE"`, `"180"`.
pub fn label(m: &Message) -> String {
    match m.status() {
        Some(c) => c.to_string(),
        None => method(m).to_owned(),
    }
}

/// Labels of a list of messages.
pub fn labels(ms: &[Message]) -> Vec<String> {
    ms.iter().map(label).collect()
}

/// Labels with send times (milliseconds since `t0`).
pub fn timeline(ss: &[Sent]) -> Vec<(u128, String)> {
    ss.iter().map(|s| (s.at.as_millis(), label(&s.msg))).collect()
}

/// Seconds as a `Duration` (tests read better with it).
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
