//! The RFC 3261 §16 proxy core, sans-IO.
//!
//! The runtime feeds it datagrams / stream messages (`Core::handle`) and clock ticks
//! (`Core::handle_timeout`); it answers with `Transmit`s to send (`poll_transmit`), the next
//! wake-up (`poll_timeout`) and `Event`s for metrics and logs (`poll_event`). It never reads the
//! clock, never touches a socket and takes its randomness from a seeded generator.
//!
//! One `Core` owns every transaction, call and dialog of its shard (the runtime shards by
//! Call-ID), so nothing on this path takes a lock except the shared `Services` counters.

mod admission;
mod call;
mod call_timers;
mod challenge;
mod dialog;
mod forward;
mod hop;
mod incoming;
pub mod keepalive;
mod local;
mod oneshot;
mod register;
pub mod registrar;
mod response;
mod scanner;
mod services;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
#[cfg(test)]
mod tests;
mod timers;
pub mod uac_register;

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

pub use services::Services;

use crate::config::Transport;
use call::Call;
use dialog::{Dialogs, RouteSigner};
use timers::{TimerKey, Timers};

/// Identifies a stream connection in the runtime (TCP/TLS); datagrams have none.
pub type ConnId = u64;

/// One message received from the network.
#[derive(Debug, Clone)]
pub struct Input {
    /// Who sent it (the source address of the datagram / the connection's peer).
    pub src: SocketAddr,
    /// The local address it arrived on.
    pub local: SocketAddr,
    pub transport: Transport,
    /// The connection it arrived on (streams only).
    pub conn: Option<ConnId>,
    pub bytes: Bytes,
}

/// Something to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub dest: SocketAddr,
    pub transport: Transport,
    /// Send over this existing connection when it is still open (responses, registered peers).
    pub conn: Option<ConnId>,
    pub bytes: Bytes,
}

/// What happened, for metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A request was received (method token).
    Request { method: &'static str },
    /// A response was sent or relayed upstream.
    Response { code: u16 },
    /// A datagram could not be parsed.
    ParseError,
    /// Digest authentication failed (reason label).
    AuthFailure { reason: &'static str },
    /// A call was accepted and routed.
    CallStarted,
    /// A call ended (answered calls end at BYE or max duration).
    CallEnded { code: u16 },
    /// A request from an unknown source carried a known scanner's User-Agent.
    Scanner,
}

/// Per-core settings derived from the snapshot when the core is built (addresses do not change
/// on reload: listeners are bound once).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Host put in Via / Record-Route.
    pub advertise: String,
    /// Port per transport we listen on (Via/Record-Route port).
    pub ports: Vec<(Transport, u16)>,
    /// Secret for Record-Route signatures and branch ids (persisted by the runtime).
    pub secret: [u8; 32],
    /// Seed for tags and branch ids.
    pub seed: u64,
}

/// The proxy core of one shard. Calls, relays and answered transactions are boxed in their
/// maps: a table of 1 KB entries would keep up to twice that per live call in spare capacity
/// and copy it all on every resize.
pub struct Core {
    cfg: CoreConfig,
    signer: RouteSigner,
    rng: fastrand::Rng,
    /// Calls by their server INVITE transaction key.
    calls: IdMap<TxnKey, Box<Call>>,
    /// Our client branch id → the call that owns it.
    branches: IdMap<u64, TxnKey>,
    /// Non-INVITE relays (BYE, in-dialog requests...) by server transaction key.
    relays: IdMap<TxnKey, Box<response::Relay>>,
    /// Our branch id → the relay that owns it.
    relay_branches: IdMap<u64, TxnKey>,
    /// Locally answered non-INVITE requests: key → last response, for retransmissions.
    answered: IdMap<TxnKey, Box<local::Answered>>,
    dialogs: Dialogs,
    /// CANCELs and race BYEs in flight, by (branch id, kind).
    oneshots: IdMap<(u64, oneshot::Kind), oneshot::Oneshot>,
    /// Keep-alive pings in flight by branch id, and when each carrier is due next.
    pings: IdMap<u64, keepalive::Ping>,
    keepalive_next: HashMap<String, Instant>,
    /// Our registrations at carriers, by carrier name, and their REGISTER branches.
    out_regs: HashMap<String, uac_register::OutReg>,
    reg_branches: IdMap<u64, String>,
    timers: Timers,
    out: VecDeque<Transmit>,
    events: VecDeque<Event>,
    /// Keyed hasher for transaction keys.
    hasher: KeyedHasher,
    /// SIGTERM received: new calls get 503.
    draining: bool,
    /// `advertise` when it is an IP literal (compared without formatting on every Route).
    advertise_ip: Option<std::net::IpAddr>,
    /// The monotonic instant matching `unix_base` (nonces need wall-clock seconds).
    mono_base: Instant,
    unix_base: u64,
}

/// How often the dialog table is swept for `max_call_duration`.
const SWEEP: std::time::Duration = std::time::Duration::from_secs(1);

/// SipHash keyed from the core's seed (deterministic for tests, unguessable in production).
#[derive(Clone, Copy)]
struct KeyedHasher(u64, u64);

impl std::hash::BuildHasher for KeyedHasher {
    #[allow(deprecated)]
    type Hasher = std::hash::SipHasher;
    #[allow(deprecated)]
    fn build_hasher(&self) -> Self::Hasher {
        std::hash::SipHasher::new_with_keys(self.0, self.1)
    }
}

/// A map keyed by values that are already uniformly random and out of a sender's control:
/// `TxnKey`s (a keyed SipHash) and our own random branch ids. Hashing them again with SipHash
/// (the std default) would only cost time; the DoS resistance comes from the key or the id.
type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// The hasher of `IdMap`: a `u64` passes through; other parts (an enum tag in a tuple key)
/// are folded in.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(32) ^ n;
    }
}

/// Server transaction key (RFC 3261 §17.2.3): a keyed SipHash of branch, sent-by and method
/// class (INVITE and ACK share one). Hashing keeps the tables free of per-request allocations;
/// the random key makes collisions impossible to aim for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnKey(pub u64);

impl Core {
    /// A new, empty core; `now` and `unix` anchor the wall clock used for nonces.
    pub fn new(cfg: CoreConfig, now: Instant, unix: u64) -> Core {
        let mut seeder = fastrand::Rng::with_seed(cfg.seed ^ 0x5eed);
        Core {
            hasher: KeyedHasher(seeder.u64(..), seeder.u64(..)),
            draining: false,
            advertise_ip: cfg.advertise.trim_matches(['[', ']']).parse().ok(),
            mono_base: now,
            unix_base: unix,
            signer: RouteSigner::new(cfg.secret),
            rng: fastrand::Rng::with_seed(cfg.seed),
            cfg,
            calls: IdMap::default(),
            branches: IdMap::default(),
            relays: IdMap::default(),
            relay_branches: IdMap::default(),
            answered: IdMap::default(),
            dialogs: Dialogs::default(),
            pings: IdMap::default(),
            oneshots: IdMap::default(),
            keepalive_next: HashMap::new(),
            out_regs: HashMap::new(),
            reg_branches: IdMap::default(),
            timers: Timers::new(now),
            out: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The next thing to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Number of live calls, relays and dialogs (for status and leak tests).
    pub fn counts(&self) -> CoreCounts {
        CoreCounts {
            calls: self.calls.len(),
            relays: self.relays.len() + self.answered.len() + self.oneshots.len(),
            dialogs: self.dialogs.len(),
            timers: self.timers.len(),
        }
    }

    /// Wall-clock seconds at `now`.
    fn unix(&self, now: Instant) -> u64 {
        self.unix_base + now.saturating_duration_since(self.mono_base).as_secs()
    }

    fn port(&self, t: Transport) -> u16 {
        self.cfg
            .ports
            .iter()
            .find(|(tr, _)| *tr == t)
            .or(self.cfg.ports.first())
            .map_or(5060, |p| p.1)
    }

    fn send(&mut self, dest: SocketAddr, transport: Transport, conn: Option<ConnId>, bytes: Bytes) {
        self.out.push_back(Transmit {
            dest,
            transport,
            conn,
            bytes,
        });
    }

    fn new_branch_id(&mut self) -> u64 {
        self.rng.u64(..)
    }

    fn new_tag(&mut self) -> String {
        let mut s = String::with_capacity(16);
        forward::push_hex(&mut s, self.rng.u64(..));
        s
    }

    fn arm(&mut self, at: Option<Instant>, key: TimerKey) {
        if let Some(at) = at {
            self.timers.arm(at, key);
        }
    }
}

/// Sizes of the core's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreCounts {
    pub calls: usize,
    pub relays: usize,
    pub dialogs: usize,
    pub timers: usize,
}
