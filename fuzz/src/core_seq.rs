//! `core` target: the sans-IO proxy core on `Fixture::loopback()` (max_call_duration 60 s), fed an
//! arbitrary sequence of datagrams from the SPEC §7 peers (grammar + mutations, peer answers to
//! what the core sent, digest answers to its challenges), clock advances and ticks.
//!
//! Invariants: no panic; everything the core sends parses and never goes to the core itself; calls never
//! outnumber the INVITEs delivered; and ten simulated minutes after the last action every call,
//! relay and dialog is gone and every concurrency permit is back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use trunkgate::config::{Snapshot, Transport};
use trunkgate::policy::digest::answer;
use trunkgate::policy::testing::Fixture;
use trunkgate::proxy::{Core, CoreConfig, Input, Services, Transmit};
use trunkgate::sip::{Message, Method};

use crate::sipgen::{self, CodePick, MethodPick, Mutation, Req};

/// The peers datagrams come from: carrier A, the PBX, the DID server, termination, failover,
/// and a stranger.
const PEERS: [&str; 6] = [
    "127.0.0.2:5060",
    "127.0.0.3:5060",
    "127.0.0.4:5060",
    "127.0.0.5:5060",
    "127.0.0.6:5060",
    "203.0.113.9:5060",
];
const LOCAL: &str = "127.0.0.1:5060";
const MAX_ACTIONS: usize = 64;
/// How many of the core's transmits (and of our requests) the actions can refer to.
const MEMORY: usize = 32;

/// One step of a fuzz case.
#[derive(Debug, Arbitrary)]
enum Action {
    /// A request of the grammar, maybe damaged.
    Send {
        peer: u8,
        req: Req,
        mutations: Vec<Mutation>,
    },
    /// Arbitrary bytes.
    Raw { peer: u8, bytes: Vec<u8> },
    /// The peer a request was sent to answers it.
    Reply {
        pick: u8,
        code: CodePick,
        mutations: Vec<Mutation>,
    },
    /// An in-dialog request (ACK, BYE...) from the peer a message was sent to.
    InDialog { pick: u8, method: MethodPick },
    /// CANCEL of one of our requests.
    Cancel { pick: u8 },
    /// One of our requests again, with digest credentials answering the latest challenge.
    Auth { pick: u8, wrong_password: bool },
    /// The clock moves (0..40 s).
    Advance { secs: u8, millis: u16 },
    /// `Core::tick` (keep-alives).
    Tick,
}

/// The harness's world: core, services, snapshot, clock and what was said so far.
struct World {
    core: Core,
    svc: Services,
    snap: Arc<Snapshot>,
    now: Instant,
    start: Instant,
    /// Requests the core sent (dest, parsed), newest last.
    core_requests: Vec<(SocketAddr, Message)>,
    /// Responses the core sent, newest last.
    core_responses: Vec<(SocketAddr, Message)>,
    /// Requests of the grammar we delivered (peer index, request, method).
    ours: Vec<(usize, Req, MethodPick)>,
    invites: usize,
    nc: u32,
    /// Print what goes in and out (`FUZZ_TRACE=1`).
    trace: bool,
}

/// Runs one input through every check of the target.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut w = World::new();
    let trace = std::env::var_os("FUZZ_TRACE").is_some();
    for _ in 0..MAX_ACTIONS {
        if u.is_empty() {
            break;
        }
        let Ok(action) = Action::arbitrary(&mut u) else {
            break;
        };
        if trace {
            eprintln!("@{:?} {action:?}", w.now.duration_since(w.start));
        }
        w.trace = trace;
        w.act(action);
        if trace {
            eprintln!("  counts {:?}", w.core.counts());
        }
        w.check_bounds();
    }
    w.drain();
}

fn peer(i: u8) -> (usize, SocketAddr) {
    let i = usize::from(i) % PEERS.len();
    (i, PEERS[i].parse().unwrap_or_else(|_| unreachable!()))
}

fn pick<T>(items: &[T], i: u8) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(usize::from(i) % items.len())
    }
}

impl World {
    fn new() -> World {
        let snap = Fixture::loopback()
            .proxy(|p| p.max_call_duration = Duration::from_secs(60))
            .build();
        let cfg = CoreConfig {
            advertise: "127.0.0.1".into(),
            ports: vec![(Transport::Udp, 5060), (Transport::Tcp, 5060)],
            secret: [9; 32],
            seed: 1,
        };
        let now = Instant::now();
        World {
            core: Core::new(cfg, now, 1_750_000_000),
            svc: Services::new([7; 32]),
            snap: Arc::new(snap),
            now,
            start: now,
            core_requests: Vec::new(),
            core_responses: Vec::new(),
            ours: Vec::new(),
            invites: 0,
            nc: 0,
            trace: false,
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Send {
                peer: p,
                req,
                mutations,
            } => {
                let (i, src) = peer(p);
                let bytes = sipgen::render(&req, req.method, src, &[]);
                self.deliver(src, req.tcp, sipgen::mutate(bytes, &mutations));
                remember(&mut self.ours, (i, req.clone(), req.method));
            }
            Action::Raw { peer: p, bytes } => self.deliver(peer(p).1, false, bytes),
            Action::Reply {
                pick: k,
                code,
                mutations,
            } => self.reply(k, code, &mutations),
            Action::InDialog { pick: k, method } => self.in_dialog(k, method),
            Action::Cancel { pick: k } => {
                if let Some((i, req, _)) = pick(&self.ours, k).cloned() {
                    let src = peer(i as u8).1;
                    let bytes = sipgen::render(&req, MethodPick::Cancel, src, &[]);
                    self.deliver(src, req.tcp, bytes);
                }
            }
            Action::Auth {
                pick: k,
                wrong_password,
            } => self.auth(k, wrong_password),
            Action::Advance { secs, millis } => {
                let step = Duration::from_secs(u64::from(secs % 40))
                    + Duration::from_millis(u64::from(millis % 1000));
                self.advance_to(self.now + step);
            }
            Action::Tick => {
                self.core.tick(self.now, &self.snap, &self.svc);
                self.collect();
            }
        }
    }

    fn reply(&mut self, k: u8, code: CodePick, mutations: &[Mutation]) {
        let Some((dest, req)) = pick(&self.core_requests, k) else {
            return;
        };
        if req.method() == Some(Method::Ack) {
            return;
        }
        let bytes = sipgen::respond(req, code.code(), *dest, k);
        let dest = *dest;
        self.deliver(dest, false, sipgen::mutate(bytes.to_vec(), mutations));
    }

    fn in_dialog(&mut self, k: u8, method: MethodPick) {
        let all: Vec<&(SocketAddr, Message)> =
            self.core_requests.iter().chain(&self.core_responses).collect();
        let Some((dest, sent)) = pick(&all, k) else { return };
        let dest = *dest;
        if let Some(bytes) = sipgen::in_dialog(sent, method, dest, k) {
            self.deliver(dest, false, bytes);
        }
    }

    fn auth(&mut self, k: u8, wrong_password: bool) {
        let Some((i, req, method)) = pick(&self.ours, k).cloned() else {
            return;
        };
        let src = peer(i as u8).1;
        let challenge = self
            .core_responses
            .iter()
            .rev()
            .filter(|(d, _)| *d == src)
            .find_map(|(_, m)| sipgen::challenge_of(m));
        let Some((header, challenge)) = challenge else {
            return;
        };
        self.nc += 1;
        let password = if wrong_password { "wrong" } else { "s3cret" };
        let ruri = sipgen::render(&req, method, src, &[]);
        let ruri = ruri.split(|c| *c == b' ').nth(1).unwrap_or_default();
        let ruri = String::from_utf8_lossy(ruri).into_owned();
        let Ok(creds) = answer(
            &challenge,
            method.token(),
            &ruri,
            "pbx1",
            password,
            "cn0",
            self.nc,
        ) else {
            return;
        };
        let mut again = req.clone();
        again.cseq = again.cseq.wrapping_add(1);
        again.branch = again.branch.wrapping_add(1);
        let bytes = sipgen::render(&again, method, src, &[format!("{header}: {creds}")]);
        self.deliver(src, again.tcp, bytes);
        remember(&mut self.ours, (i, again, method));
    }

    fn deliver(&mut self, src: SocketAddr, tcp: bool, bytes: Vec<u8>) {
        let bytes = Bytes::from(bytes);
        if self.trace {
            eprintln!("  IN from {src}:\n{}", String::from_utf8_lossy(&bytes));
        }
        if Message::parse(bytes.clone()).is_ok_and(|m| m.method() == Some(Method::Invite)) {
            self.invites += 1;
        }
        let (transport, conn) = if tcp {
            (Transport::Tcp, Some(u64::from(src.port())))
        } else {
            (Transport::Udp, None)
        };
        let input = Input {
            src,
            local: LOCAL.parse().unwrap_or_else(|_| unreachable!()),
            transport,
            conn,
            bytes,
        };
        self.core.handle(self.now, &self.snap, &self.svc, input);
        self.collect();
    }

    /// Fires timers up to `to` in order, then sets the clock there.
    fn advance_to(&mut self, to: Instant) {
        for _ in 0..10_000 {
            match self.core.poll_timeout() {
                Some(at) if at <= to => {
                    self.now = self.now.max(at);
                    self.core.handle_timeout(self.now, &self.snap, &self.svc);
                    self.collect();
                }
                _ => break,
            }
        }
        self.now = self.now.max(to);
        self.core.handle_timeout(self.now, &self.snap, &self.svc);
        self.collect();
    }

    /// Takes every transmit and event; checks each transmit.
    fn collect(&mut self) {
        while self.core.poll_event().is_some() {}
        while let Some(t) = self.core.poll_transmit() {
            if self.trace {
                eprintln!(
                    "  OUT to {} {:?}:\n{}",
                    t.dest,
                    t.transport,
                    String::from_utf8_lossy(&t.bytes)
                );
            }
            let msg = check_transmit(&t);
            let list = if msg.is_request() {
                &mut self.core_requests
            } else {
                &mut self.core_responses
            };
            remember(list, (t.dest, msg));
        }
    }

    fn check_bounds(&self) {
        let c = self.core.counts();
        assert!(
            c.calls <= self.invites,
            "{} calls from {} INVITEs",
            c.calls,
            self.invites
        );
        assert!(
            c.dialogs <= self.invites,
            "{} dialogs from {} INVITEs",
            c.dialogs,
            self.invites
        );
    }

    /// Ten simulated minutes with ticks: everything must drain.
    fn drain(&mut self) {
        let end = self.now + Duration::from_secs(600);
        while self.now < end {
            let step = (self.now + Duration::from_secs(30)).min(end);
            self.advance_to(step);
            self.core.tick(self.now, &self.snap, &self.svc);
            self.collect();
        }
        let c = self.core.counts();
        let elapsed = self.now.duration_since(self.start);
        assert_eq!(c.calls, 0, "calls left after draining ({c:?}, {elapsed:?})");
        assert_eq!(c.relays, 0, "relays left after draining ({c:?})");
        assert_eq!(c.dialogs, 0, "dialogs left after draining ({c:?})");
        for count in self.svc.limits.iter() {
            assert_eq!(count.active, 0, "permit not released: {count:?}");
        }
    }
}

/// Everything the core sends must parse and never go to the core's own address (a loop).
/// (Other destinations are not checked: in-dialog requests follow their Request-URI.)
fn check_transmit(t: &Transmit) -> Message {
    let to_self = LOCAL.parse::<SocketAddr>().is_ok_and(|a| a == t.dest);
    assert!(
        !to_self,
        "core sent to itself: {:?}",
        String::from_utf8_lossy(&t.bytes)
    );
    match Message::parse(t.bytes.clone()) {
        Ok(m) => m,
        Err(e) => panic!(
            "core sent an unparseable message ({e:?}): {:?}",
            String::from_utf8_lossy(&t.bytes)
        ),
    }
}

fn remember<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= MEMORY {
        list.remove(0);
    }
    list.push(item);
}
