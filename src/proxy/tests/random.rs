//! 1,000 calls per run with random outcomes on one core (seeded, reproducible): answered then hung up by
//! either side, busy, 503, silent targets, ringing forever, CANCEL at random moments, failover,
//! account and carrier limits. Scripted endpoints answer like real UAs (ACK every final, 200
//! every BYE and CANCEL, 487 a cancelled INVITE). Checked: the limits are never exceeded, every
//! call gets one consistent final answer, every 2xx is ACKed and ends with a BYE, every non-2xx
//! is ACKed, and at the end nothing is left in the core or the counters.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use super::*;

const CALLS: usize = 1000;
/// Seconds over which the calls start (a load that keeps the trunk limit busy without refusing most calls).
const WINDOW: f64 = 12000.0;
const TRUNKS: u32 = 3;
const CARRIERS: [(&str, u32); 3] = [("termination", 2), ("failover", 2), ("carrier-a", 1)];
const ENDPOINTS: [SocketAddr; 5] = [CARRIER, PBX, SERVER, TERMINATION, FAILOVER];

enum Act {
    Start(usize),
    Send(SocketAddr, Bytes),
    Respond { leg: usize, code: u16, again: bool },
    Cancel(usize),
    CallerBye(usize),
    CalleeBye(usize),
}

/// The caller side of one call.
struct CallSt {
    uac: Uac,
    cancel_after: Option<f64>,
    hold: f64,
    caller_hangs_up: bool,
    cancelled: bool,
    finals: Vec<(u16, String)>,
    ok: Option<Message>,
    bye_sent: bool,
    got_bye: bool,
}

/// One INVITE as a target received it.
struct Leg {
    at: SocketAddr,
    invite: Message,
    tag: String,
    final_code: Option<u16>,
    got_ack: bool,
    got_bye: bool,
    sent_bye: bool,
}

struct Sim {
    net: Net,
    rng: fastrand::Rng,
    heap: BinaryHeap<Reverse<(Duration, u64)>>,
    acts: HashMap<u64, Act>,
    seq: u64,
    calls: Vec<CallSt>,
    by_call_id: HashMap<Vec<u8>, usize>,
    legs: Vec<Leg>,
    by_branch: HashMap<(SocketAddr, Vec<u8>), usize>,
    by_tag: HashMap<Vec<u8>, usize>,
}

fn fixture() -> Fixture {
    let mut fx = Fixture::loopback()
        .edit_account(|a| a.trunks = TRUNKS)
        .server_with(|s| s.options.failover = Some(Failover::Sip("sip:4155550100@127.0.0.6".into())))
        .ip_server("pbx-ip", "127.0.0.3");
    for (name, n) in CARRIERS {
        fx = fx.edit_carrier(name, |c| c.concurrency = n);
    }
    fx
}

impl Sim {
    fn new(seed: u64) -> Sim {
        Sim {
            net: Net::new(fixture().build()),
            rng: fastrand::Rng::with_seed(seed),
            heap: BinaryHeap::new(),
            acts: HashMap::new(),
            seq: 0,
            calls: Vec::new(),
            by_call_id: HashMap::new(),
            legs: Vec::new(),
            by_branch: HashMap::new(),
            by_tag: HashMap::new(),
        }
    }

    fn at(&mut self, t: Duration, act: Act) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq)));
        self.acts.insert(self.seq, act);
    }

    fn after(&mut self, s: f64, act: Act) {
        let t = self.net.elapsed() + secs(s);
        self.at(t, act);
    }

    /// A send after a small network latency.
    fn send(&mut self, from: SocketAddr, bytes: Bytes) {
        let lat = 0.001 + self.rng.f64() * 0.04;
        self.after(lat, Act::Send(from, bytes));
    }

    fn add_calls(&mut self) {
        for i in 0..CALLS {
            let outbound = self.rng.bool();
            let uac = if outbound {
                Uac::new(PBX, i as u64, "+12125550123")
            } else {
                Uac::new(CARRIER, i as u64, DID)
            };
            let cancel_after = (self.rng.u8(..4) == 0).then(|| self.rng.f64() * 8.0);
            self.by_call_id.insert(uac.call_id.clone().into_bytes(), i);
            self.calls.push(CallSt {
                uac,
                cancel_after,
                hold: 1.0 + self.rng.f64() * 20.0,
                caller_hangs_up: self.rng.bool(),
                cancelled: false,
                finals: Vec::new(),
                ok: None,
                bye_sent: false,
                got_bye: false,
            });
            let start = secs(self.rng.f64() * WINDOW);
            self.at(start, Act::Start(i));
        }
    }

    fn run(&mut self, end: Duration) {
        loop {
            let t_act = self.heap.peek().map(|Reverse((t, _))| *t);
            let now = self.net.now();
            let t_core = self
                .net
                .core
                .poll_timeout()
                .map(|i| self.net.elapsed() + i.saturating_duration_since(now));
            let core_first = match (t_core, t_act) {
                (Some(c), Some(a)) => c <= a,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if core_first { t_core } else { t_act };
            if next.is_some_and(|t| t > end) {
                break;
            }
            if core_first {
                self.net.step();
            } else if let Some(a) = t_act {
                self.net.run_until(a);
                self.due_acts(a);
            }
            self.route();
            self.check_limits();
        }
    }

    fn due_acts(&mut self, t: Duration) {
        while self.heap.peek().is_some_and(|Reverse((at, _))| *at <= t) {
            let Some(Reverse((_, seq))) = self.heap.pop() else {
                break;
            };
            if let Some(act) = self.acts.remove(&seq) {
                self.act(act);
            }
        }
    }

    fn act(&mut self, act: Act) {
        match act {
            Act::Start(i) => {
                let c = &self.calls[i];
                let (from, invite) = (c.uac.addr, c.uac.invite());
                let cancel = c.cancel_after;
                self.net.deliver(from, invite.clone());
                if self.rng.u8(..5) == 0 {
                    self.send(from, invite);
                }
                if let Some(s) = cancel {
                    self.after(s, Act::Cancel(i));
                }
            }
            Act::Send(from, bytes) => self.net.deliver(from, bytes),
            Act::Respond { leg, code, again } => self.respond(leg, code, again),
            Act::Cancel(i) => {
                let c = &mut self.calls[i];
                if c.finals.is_empty() {
                    c.cancelled = true;
                    let (from, b) = (c.uac.addr, c.uac.cancel());
                    self.net.deliver(from, b);
                }
            }
            Act::CallerBye(i) => {
                let c = &mut self.calls[i];
                let Some(ok) = c.ok.clone() else { return };
                if c.bye_sent || c.got_bye {
                    return;
                }
                c.bye_sent = true;
                let (from, b) = (c.uac.addr, c.uac.bye(&ok));
                self.net.deliver(from, b);
            }
            Act::CalleeBye(l) => {
                let leg = &mut self.legs[l];
                if leg.sent_bye || leg.got_bye {
                    return;
                }
                leg.sent_bye = true;
                let b = callee_bye(&leg.invite, &leg.tag, leg.at, 1);
                let at = leg.at;
                self.net.deliver(at, b);
            }
        }
    }

    fn respond(&mut self, l: usize, code: u16, again: bool) {
        let leg = &mut self.legs[l];
        let due = if again {
            leg.final_code == Some(code)
        } else {
            leg.final_code.is_none()
        };
        if !due {
            return;
        }
        if code >= 200 {
            leg.final_code = Some(code);
        }
        let b = respond(&leg.invite, code, &leg.tag, Some(leg.at));
        let at = leg.at;
        self.net.deliver(at, b);
    }

    fn route(&mut self) {
        for addr in ENDPOINTS {
            for m in self.net.take_sent_to(addr) {
                self.on_message(addr, m);
            }
        }
        let stray = self.net.take_all();
        assert!(
            stray.is_empty(),
            "sent to nobody: {:?}",
            stray.first().map(|s| s.0)
        );
    }

    fn on_message(&mut self, addr: SocketAddr, m: Message) {
        if m.status().is_some() {
            return self.on_response(addr, m);
        }
        match method(&m) {
            "INVITE" => self.on_invite(addr, m),
            "CANCEL" => {
                let key = (addr, branch(&m));
                let Some(&l) = self.by_branch.get(&key) else {
                    panic!("CANCEL for no INVITE")
                };
                self.send(addr, respond(&m, 200, &self.legs[l].tag.clone(), None));
                if self.legs[l].final_code.is_none() {
                    self.after(
                        0.01,
                        Act::Respond {
                            leg: l,
                            code: 487,
                            again: false,
                        },
                    );
                }
            }
            "ACK" => {
                let l = to_tag(&m).and_then(|t| self.by_tag.get(&t).copied());
                let Some(l) = l else {
                    panic!("ACK for no leg at {addr}")
                };
                self.legs[l].got_ack = true;
            }
            "BYE" => {
                self.send(addr, respond(&m, 200, "x", None));
                let tag = to_tag(&m).unwrap_or_default();
                if let Some(&l) = self.by_tag.get(&tag) {
                    self.legs[l].got_bye = true;
                } else if let Some(&i) = m.call_id().ok().and_then(|c| self.by_call_id.get(c)) {
                    self.calls[i].got_bye = true;
                }
            }
            other => panic!("unexpected {other} at {addr}"),
        }
    }

    fn on_invite(&mut self, addr: SocketAddr, m: Message) {
        let key = (addr, branch(&m));
        if self.by_branch.contains_key(&key) {
            return;
        }
        let l = self.legs.len();
        let tag = format!("leg{l}");
        self.by_branch.insert(key, l);
        self.by_tag.insert(tag.clone().into_bytes(), l);
        self.legs.push(Leg {
            at: addr,
            invite: m,
            tag,
            final_code: None,
            got_ack: false,
            got_bye: false,
            sent_bye: false,
        });
        let d = 0.05 + self.rng.f64() * 3.0;
        let r = |code| Act::Respond {
            leg: l,
            code,
            again: false,
        };
        match self.rng.u8(..10) {
            0..=3 => {
                let ring = 0.1 + self.rng.f64() * 5.0;
                self.after(d, r(180));
                self.after(d + ring, r(200));
            }
            4 => self.after(d, r(200)),
            5 => self.after(d, r(486)),
            6 => self.after(d, r(503)),
            7 => {}
            8 => self.after(d, r(180)),
            _ => self.after(d, r(100)),
        }
        if self.rng.u8(..3) == 0 {
            for code in [200, 486, 503] {
                self.after(
                    d + 6.0,
                    Act::Respond {
                        leg: l,
                        code,
                        again: true,
                    },
                );
            }
        }
    }

    fn on_response(&mut self, addr: SocketAddr, m: Message) {
        let cseq = m.cseq().map(|c| c.method_bytes.to_vec()).unwrap_or_default();
        let code = code(&m);
        if cseq != b"INVITE" || code < 200 {
            return;
        }
        let i = m.call_id().ok().and_then(|c| self.by_call_id.get(c).copied());
        let Some(i) = i else {
            panic!("response for no call at {addr}")
        };
        let c = &mut self.calls[i];
        assert_eq!(c.uac.addr, addr, "INVITE response sent to the wrong place");
        let tag = String::from_utf8_lossy(&to_tag(&m).unwrap_or_default()).into_owned();
        c.finals.push((code, tag.clone()));
        let ack = c.uac.ack(&m);
        let first_ok = code < 300 && c.ok.is_none();
        if first_ok {
            c.ok = Some(m);
        }
        let (cancelled, caller, hold) = (c.cancelled, c.caller_hangs_up, c.hold);
        self.send(addr, ack);
        if !first_ok {
            return;
        }
        match self.by_tag.get(tag.as_bytes()).copied() {
            Some(l) if !caller && !cancelled => self.after(hold, Act::CalleeBye(l)),
            _ => self.after(if cancelled { 0.05 } else { hold }, Act::CallerBye(i)),
        }
    }

    fn check_limits(&self) {
        let active = self.net.account_active("acme");
        assert!(active <= TRUNKS, "account over its trunks: {active}");
        for (name, n) in CARRIERS {
            let a = self.net.carrier_active(name);
            assert!(a <= n, "carrier {name} over its concurrency: {a}");
        }
    }
}

fn branch(m: &Message) -> Vec<u8> {
    m.top_via().ok().and_then(|v| v.branch()).unwrap_or(b"").to_vec()
}

fn to_tag(m: &Message) -> Option<Vec<u8>> {
    m.to().ok().and_then(|t| t.tag()).map(<[u8]>::to_vec)
}

#[test]
fn a_thousand_random_calls_per_run_leave_nothing_behind() {
    for seed in [1, 2, 3] {
        let mut sim = Sim::new(seed);
        sim.add_calls();
        sim.run(secs(WINDOW + 1600.0));
        sim.net.run_for(DRAIN);
        sim.route();
        check_outcomes(&sim, seed);
        sim.net.assert_no_leaks();
        assert!(sim.heap.is_empty(), "seed {seed}: the script did not finish");
    }
}

fn check_outcomes(sim: &Sim, seed: u64) {
    let mut tally: HashMap<u16, usize> = HashMap::new();
    for (i, c) in sim.calls.iter().enumerate() {
        let Some((first, tag)) = c.finals.first() else {
            panic!("seed {seed}: call {i} got no final")
        };
        *tally.entry(*first).or_default() += 1;
        for (code, t) in &c.finals {
            assert_eq!(
                (code, t),
                (first, tag),
                "seed {seed}: call {i} got two different finals"
            );
        }
        if *first < 300 {
            assert!(
                c.bye_sent || c.got_bye,
                "seed {seed}: answered call {i} never hung up"
            );
        }
    }
    for (l, leg) in sim.legs.iter().enumerate() {
        match leg.final_code {
            Some(code) => assert!(leg.got_ack, "seed {seed}: leg {l} ({code}) never ACKed"),
            None => continue,
        }
        if leg.final_code == Some(200) {
            let cid = leg
                .invite
                .call_id()
                .ok()
                .and_then(|c| sim.by_call_id.get(c).copied());
            let finals = cid.map(|i| &sim.calls[i].finals);
            assert!(
                leg.got_bye || leg.sent_bye,
                "seed {seed}: answered leg {l} at {} left up (call {cid:?}, finals {finals:?})",
                leg.at
            );
        }
    }
    let failover_legs = sim.legs.iter().filter(|l| l.at == FAILOVER).count();
    assert!(failover_legs > 5, "seed {seed}: few failovers: {failover_legs}");
    // Answered, busy / trunk limit, cancelled, relayed 503 (500), carriers full (503), timeout.
    for code in [200, 486, 487, 500, 503, 408] {
        assert!(
            tally.get(&code).is_some_and(|n| *n > 5),
            "seed {seed}: few {code}: {tally:?}"
        );
    }
}
