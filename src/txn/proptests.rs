//! Randomised tests shared by the four machines: random inputs and clock advances (punctual or late
//! wake-ups) never panic, never leave a due timer behind, and once the inputs stop (after the TU
//! answers and the proxy's Timer C has sent a CANCEL) every machine terminates within
//! 64*T1 + T4 + slack of its last input.

use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

/// One machine behind a uniform face, so one runner drives all four.
trait Machine {
    type Op: std::fmt::Debug;
    fn apply(&mut self, now: Instant, op: &Self::Op);
    /// The inputs the core still owes once the peers fall silent (a final from the TU, a CANCEL).
    fn finish(&mut self, now: Instant);
    fn tick(&mut self, now: Instant);
    fn next(&self) -> Option<Instant>;
    fn done(&self) -> bool;
}

#[derive(Debug, Clone)]
enum ClientOp {
    Response(u16),
    SetAck,
    Cancel,
    TransportError,
}

#[derive(Debug, Clone)]
enum ServerOp {
    Retransmit,
    Provisional,
    Final(u16),
    Ack,
    TransportError,
}

impl Machine for ClientInvite {
    type Op = ClientOp;
    fn apply(&mut self, now: Instant, op: &ClientOp) {
        match op {
            ClientOp::Response(code) => drop(self.on_response(now, *code)),
            ClientOp::SetAck => self.set_ack(Bytes::from_static(b"ACK")),
            ClientOp::Cancel => self.cancel_sent(now),
            ClientOp::TransportError => self.transport_error(),
        }
    }
    fn finish(&mut self, now: Instant) {
        self.cancel_sent(now);
    }
    fn tick(&mut self, now: Instant) {
        drop(self.on_timeout(now));
    }
    fn next(&self) -> Option<Instant> {
        self.next_timeout()
    }
    fn done(&self) -> bool {
        self.is_terminated()
    }
}

impl Machine for ClientNonInvite {
    type Op = ClientOp;
    fn apply(&mut self, now: Instant, op: &ClientOp) {
        match op {
            ClientOp::Response(code) => drop(self.on_response(now, *code)),
            ClientOp::TransportError => self.transport_error(),
            ClientOp::SetAck | ClientOp::Cancel => {}
        }
    }
    fn finish(&mut self, _now: Instant) {}
    fn tick(&mut self, now: Instant) {
        drop(self.on_timeout(now));
    }
    fn next(&self) -> Option<Instant> {
        self.next_timeout()
    }
    fn done(&self) -> bool {
        self.is_terminated()
    }
}

impl Machine for ServerInvite {
    type Op = ServerOp;
    fn apply(&mut self, now: Instant, op: &ServerOp) {
        match op {
            ServerOp::Retransmit => drop(self.on_request_retransmit(now)),
            ServerOp::Provisional => drop(self.send_provisional(Bytes::from_static(b"180"))),
            ServerOp::Final(code) => drop(self.send_final(now, *code, Bytes::from_static(b"final"))),
            ServerOp::Ack => drop(self.on_ack(now)),
            ServerOp::TransportError => self.transport_error(),
        }
    }
    fn finish(&mut self, now: Instant) {
        drop(self.send_final(now, 500, Bytes::from_static(b"500")));
    }
    fn tick(&mut self, now: Instant) {
        drop(self.on_timeout(now));
    }
    fn next(&self) -> Option<Instant> {
        self.next_timeout()
    }
    fn done(&self) -> bool {
        self.is_terminated()
    }
}

impl Machine for ServerNonInvite {
    type Op = ServerOp;
    fn apply(&mut self, now: Instant, op: &ServerOp) {
        match op {
            ServerOp::Retransmit | ServerOp::Ack => drop(self.on_request_retransmit(now)),
            ServerOp::Provisional => drop(self.send_provisional(Bytes::from_static(b"100"))),
            ServerOp::Final(code) => drop(self.send_final(now, *code, Bytes::from_static(b"final"))),
            ServerOp::TransportError => self.transport_error(),
        }
    }
    fn finish(&mut self, now: Instant) {
        drop(self.send_final(now, 408, Bytes::from_static(b"408")));
    }
    fn tick(&mut self, now: Instant) {
        drop(self.on_timeout(now));
    }
    fn next(&self) -> Option<Instant> {
        self.next_timeout()
    }
    fn done(&self) -> bool {
        self.is_terminated()
    }
}

/// One input: how far the clock moves first, whether the driver woke at each deadline on the way
/// (or once, late), and the input itself.
type Step<Op> = (u32, bool, Op);

/// Fires timers up to `now`: at each deadline when `punctual`, else once at `now` (a late wake-up).
fn advance<M: Machine>(m: &mut M, now: Instant, punctual: bool) {
    if punctual {
        while let Some(at) = m.next().filter(|at| *at <= now) {
            m.tick(at);
            assert!(
                m.next().is_none_or(|next| next > at),
                "timer left due after on_timeout"
            );
        }
    }
    m.tick(now);
    assert!(
        m.next().is_none_or(|next| next > now),
        "timer left due after on_timeout"
    );
}

fn run<M: Machine>(mut m: M, t0: Instant, cfg: TimerConfig, steps: &[Step<M::Op>]) {
    let mut now = t0;
    for (advance_ms, punctual, op) in steps {
        now += Duration::from_millis(u64::from(*advance_ms));
        advance(&mut m, now, *punctual);
        m.apply(now, op);
        assert!(
            !m.done() || m.next().is_none(),
            "terminated machine keeps a timer"
        );
    }
    m.finish(now);
    let deadline = now + cfg.timer_b + cfg.t4 + Duration::from_secs(1);
    for _ in 0..1000 {
        let Some(at) = m.next() else { break };
        assert!(at <= deadline, "timer beyond 64*T1 + T4 after the last input");
        m.tick(at);
    }
    assert!(m.done(), "machine did not terminate once inputs stopped");
}

fn code() -> impl Strategy<Value = u16> {
    prop_oneof![Just(100u16), 101..200u16, 200..300u16, 300..700u16, any::<u16>()]
}

fn client_op() -> impl Strategy<Value = ClientOp> {
    prop_oneof![
        6 => code().prop_map(ClientOp::Response),
        2 => Just(ClientOp::SetAck),
        1 => Just(ClientOp::Cancel),
        1 => Just(ClientOp::TransportError),
    ]
}

fn server_op() -> impl Strategy<Value = ServerOp> {
    prop_oneof![
        3 => Just(ServerOp::Retransmit),
        2 => Just(ServerOp::Provisional),
        3 => code().prop_map(ServerOp::Final),
        2 => Just(ServerOp::Ack),
        1 => Just(ServerOp::TransportError),
    ]
}

fn steps<Op: std::fmt::Debug>(op: impl Strategy<Value = Op>) -> impl Strategy<Value = Vec<Step<Op>>> {
    proptest::collection::vec((0..40_000u32, any::<bool>(), op), 0..24)
}

fn config(reliable: bool) -> TimerConfig {
    TimerConfig::for_transport(reliable)
}

proptest! {
    #[test]
    fn client_invite_terminates(reliable: bool, s in steps(client_op())) {
        let (t0, cfg) = (Instant::now(), config(reliable));
        run(ClientInvite::new(t0, Bytes::from_static(b"INVITE"), cfg), t0, cfg, &s);
    }

    #[test]
    fn client_non_invite_terminates(reliable: bool, s in steps(client_op())) {
        let (t0, cfg) = (Instant::now(), config(reliable));
        run(ClientNonInvite::new(t0, Bytes::from_static(b"BYE"), cfg), t0, cfg, &s);
    }

    #[test]
    fn server_invite_terminates(reliable: bool, s in steps(server_op())) {
        let (t0, cfg) = (Instant::now(), config(reliable));
        run(ServerInvite::new(t0, cfg), t0, cfg, &s);
    }

    #[test]
    fn server_non_invite_terminates(reliable: bool, s in steps(server_op())) {
        let (t0, cfg) = (Instant::now(), config(reliable));
        run(ServerNonInvite::new(t0, cfg), t0, cfg, &s);
    }
}
