//! INVITE server transaction: RFC 3261 §17.2.1, with the Accepted state of RFC 6026 §7.1.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timer::{doubled, TimerConfig, TimerTable};
use super::{ServerTimerEvent, StatusClass, Timed};

/// Where a [`ServerInvite`] is in Figure 7 (plus RFC 6026's Accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// The INVITE is with the core; provisionals go out, retransmitted INVITEs get the last one.
    Proceeding,
    /// A non-2xx final went out: retransmitting it on Timer G (UDP) until the ACK or Timer H.
    Completed,
    /// The ACK for the non-2xx final arrived: absorbing ACK retransmissions until Timer I.
    Confirmed,
    /// RFC 6026: a 2xx went out; further 2xx are forwarded and the ACK passes end to end, until
    /// Timer L (64*T1).
    Accepted,
    /// Done: the core drops the machine.
    Terminated,
}

/// What the core does with an ACK [`ServerInvite::on_ack`] was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckDisposition {
    /// The ACK belongs to this hop (it acknowledges our non-2xx final, or it is a stray): drop it.
    Absorb,
    /// The ACK acknowledges a 2xx: it is end to end, so the core routes it onward like any
    /// in-dialog request (RFC 6026 §7.1).
    ForwardEndToEnd,
}

/// The timers of a server INVITE transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// Final response retransmission (Completed, unreliable only).
    G,
    /// Wait for the ACK (Completed).
    H,
    /// Absorb ACK retransmissions (Confirmed).
    I,
    /// RFC 6026: absorb INVITE retransmissions after a 2xx (Accepted).
    L,
}

/// An INVITE server transaction (RFC 3261 §17.2.1): one per INVITE the proxy receives.
///
/// RFC 3261 Figure 7 (the 2xx edge to Terminated becomes an edge to Accepted under RFC 6026, see
/// below):
///
/// ```text
///                                |INVITE
///                                |pass INV to TU
///             INVITE             V send 100 if TU won't in 200ms
///             send response+-----------+
///                 +--------|           |--------+101-199 from TU
///                 |        | Proceeding|        |send response
///                 +------->|           |<-------+
///                          |           |          Transport Err.
///                          |           |          Inform TU
///                          |           |--------------->+
///                          +-----------+                |
///             300-699 from TU |     |2xx from TU        |
///             send response   |     |send response      |
///                             |     +------------------>+
///                             |                         |
///             INVITE          V          Timer G fires  |
///             send response+-----------+ send response  |
///                 +--------|           |--------+       |
///                 |        | Completed |        |       |
///                 +------->|           |<-------+       |
///                          +-----------+                |
///                             |     |                   |
///                         ACK |     |                   |
///                         -   |     +------------------>+
///                             |        Timer H fires    |
///                             V        or Transport Err.|
///                          +-----------+  Inform TU     |
///                          |           |                |
///                          | Confirmed |                |
///                          |           |                |
///                          +-----------+                |
///                                |                      |
///                                |Timer I fires         |
///                                |-                     |
///                                |                      |
///                                V                      |
///                          +-----------+                |
///                          |           |                |
///                          | Terminated|<---------------+
///                          |           |
///                          +-----------+
///
///               Figure 7: INVITE server transaction
/// ```
///
/// RFC 6026 §7.1 replaces "2xx from TU: to Terminated" with:
///
/// ```text
///   Proceeding --2xx from TU, send response--> Accepted (start Timer L = 64*T1)
///   Accepted --2xx from TU, send response--> Accepted
///   Accepted --INVITE, (absorbed)--> Accepted
///   Accepted --ACK, pass to TU--> Accepted
///   Accepted --Timer L fires--> Terminated
/// ```
///
/// Timer G starts at T1 and doubles, capped at T2; I = 0 (reliable) terminates on the ACK itself.
#[derive(Debug, Clone)]
pub struct ServerInvite {
    state: ServerInviteState,
    cfg: TimerConfig,
    timers: TimerTable<Timer>,
    last_response: Option<Bytes>,
    interval_g: Duration,
}

impl ServerInvite {
    /// Starts the transaction in Proceeding for a newly received INVITE. The core then sends a 100
    /// Trying through [`ServerInvite::send_provisional`], so INVITE retransmissions are answered.
    pub fn new(_now: Instant, cfg: TimerConfig) -> Self {
        Self {
            state: ServerInviteState::Proceeding,
            cfg,
            timers: TimerTable::new(),
            last_response: None,
            interval_g: cfg.t1,
        }
    }

    /// A retransmission of the INVITE arrived: returns the response to send again, if any (the last
    /// provisional in Proceeding, the final in Completed; nothing once confirmed or accepted).
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_request_retransmit(&mut self, _now: Instant) -> Option<Bytes> {
        match self.state {
            ServerInviteState::Proceeding | ServerInviteState::Completed => self.last_response.clone(),
            _ => None,
        }
    }

    /// The core wants to send a provisional response upstream: returns the bytes to send (`None`:
    /// too late, a final already went out, drop it). Remembered for INVITE retransmissions.
    #[must_use = "the returned value says what the core must send or do"]
    pub fn send_provisional(&mut self, response: Bytes) -> Option<Bytes> {
        if self.state != ServerInviteState::Proceeding {
            return None;
        }
        self.last_response = Some(response.clone());
        Some(response)
    }

    /// The core wants to send a response with status `code` upstream: returns the bytes to send
    /// (`None`: drop it). A 2xx moves to Accepted (Timer L); later 2xx, such as retransmissions or
    /// other forks' answers, are still sent. A 300-699 moves to Completed (Timers G and H); any
    /// other final after the first is dropped. A 1xx goes through [`ServerInvite::send_provisional`].
    #[must_use = "the returned value says what the core must send or do"]
    pub fn send_final(&mut self, now: Instant, code: u16, response: Bytes) -> Option<Bytes> {
        use ServerInviteState::{Accepted, Proceeding};
        match (self.state, StatusClass::of(code)) {
            (_, StatusClass::Provisional) => self.send_provisional(response),
            (Proceeding, StatusClass::Success) => {
                self.enter_accepted(now);
                Some(response)
            }
            (Accepted, StatusClass::Success) => Some(response),
            (Proceeding, StatusClass::Failure) => {
                self.enter_completed(now, response.clone());
                Some(response)
            }
            _ => None,
        }
    }

    /// An ACK matched this transaction. In Completed it confirms the non-2xx final (stop G and H, arm
    /// Timer I); in Accepted it acknowledges a 2xx and must be forwarded end to end.
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_ack(&mut self, now: Instant) -> AckDisposition {
        match self.state {
            ServerInviteState::Completed => {
                self.enter_confirmed(now);
                AckDisposition::Absorb
            }
            ServerInviteState::Accepted => AckDisposition::ForwardEndToEnd,
            _ => AckDisposition::Absorb,
        }
    }

    /// The transport failed to send a response (§17.2.4): the transaction terminates.
    pub fn transport_error(&mut self) {
        self.terminate();
    }

    /// Fires every timer due at `now` and says what the core must do (at most one event).
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_timeout(&mut self, now: Instant) -> Option<ServerTimerEvent> {
        self.fire_due(now)
    }

    /// When the core must next call [`ServerInvite::on_timeout`].
    pub fn next_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Where the transaction is in Figure 7.
    pub fn state(&self) -> ServerInviteState {
        self.state
    }

    /// Whether the machine is finished and must be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerInviteState::Terminated
    }

    fn fire(&mut self, now: Instant, timer: Timer) -> Option<ServerTimerEvent> {
        match timer {
            Timer::G if self.state == ServerInviteState::Completed => {
                self.interval_g = doubled(self.interval_g, Some(self.cfg.t2));
                self.timers.set(Timer::G, now + self.interval_g);
                self.last_response.clone().map(ServerTimerEvent::Retransmit)
            }
            Timer::G => None,
            Timer::H => {
                self.terminate();
                Some(ServerTimerEvent::AckTimeout)
            }
            Timer::I | Timer::L => {
                self.terminate();
                Some(ServerTimerEvent::Terminated)
            }
        }
    }

    fn enter_completed(&mut self, now: Instant, response: Bytes) {
        self.state = ServerInviteState::Completed;
        self.last_response = Some(response);
        if !self.cfg.reliable {
            self.timers.set(Timer::G, now + self.cfg.t1);
        }
        self.timers.set(Timer::H, now + self.cfg.timer_b);
    }

    fn enter_confirmed(&mut self, now: Instant) {
        // The ACK came: the final is never sent again.
        self.last_response = None;
        self.timers.clear();
        let i = self.cfg.timer_i();
        if i.is_zero() {
            self.state = ServerInviteState::Terminated;
            return;
        }
        self.state = ServerInviteState::Confirmed;
        self.timers.set(Timer::I, now + i);
    }

    fn enter_accepted(&mut self, now: Instant) {
        // Nothing is resent from here on (2xx retransmissions come from downstream).
        self.last_response = None;
        self.state = ServerInviteState::Accepted;
        self.timers.clear();
        self.timers.set(Timer::L, now + self.cfg.timer_b);
    }

    fn terminate(&mut self) {
        self.state = ServerInviteState::Terminated;
        self.timers.clear();
    }
}

impl super::Timed for ServerInvite {
    type Timer = Timer;
    type Event = ServerTimerEvent;
    fn table(&mut self) -> &mut TimerTable<Timer> {
        &mut self.timers
    }
    fn fire_one(&mut self, now: Instant, timer: Timer) -> Option<ServerTimerEvent> {
        self.fire(now, timer)
    }
    fn finished(&self) -> bool {
        self.is_terminated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    fn start(cfg: TimerConfig) -> (Instant, ServerInvite) {
        let t0 = Instant::now();
        (t0, ServerInvite::new(t0, cfg))
    }

    #[test]
    fn retransmitted_invite_before_and_after_provisional() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_request_retransmit(t0), None);
        assert_eq!(tx.send_provisional(b("100")), Some(b("100")));
        assert_eq!(tx.on_request_retransmit(t0), Some(b("100")));
        assert_eq!(tx.send_final(t0, 180, b("180")), Some(b("180")));
        assert_eq!(tx.on_request_retransmit(t0), Some(b("180")));
        assert_eq!(tx.state(), ServerInviteState::Proceeding);
        assert_eq!(tx.next_timeout(), None);
    }

    #[test]
    fn timer_g_doubles_capped_at_t2_then_h() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.send_final(t0, 486, b("486")), Some(b("486")));
        assert_eq!(tx.state(), ServerInviteState::Completed);
        assert_eq!(tx.on_request_retransmit(t0), Some(b("486")));
        let mut at = Duration::ZERO;
        for interval in [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0] {
            at += secs(interval);
            assert_eq!(tx.next_timeout(), Some(t0 + at));
            assert_eq!(
                tx.on_timeout(t0 + at),
                Some(ServerTimerEvent::Retransmit(b("486")))
            );
        }
        assert_eq!(at, secs(31.5));
        assert_eq!(tx.next_timeout(), Some(t0 + secs(32.0)));
        assert_eq!(tx.on_timeout(t0 + secs(32.0)), Some(ServerTimerEvent::AckTimeout));
        assert!(tx.is_terminated());
    }

    #[test]
    fn ack_confirms_then_i_terminates() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.send_final(t0, 404, b("404")), Some(b("404")));
        assert_eq!(tx.send_final(t0, 500, b("500")), None);
        assert_eq!(tx.send_provisional(b("180")), None);
        assert_eq!(tx.on_ack(t0 + secs(1.0)), AckDisposition::Absorb);
        assert_eq!(tx.state(), ServerInviteState::Confirmed);
        assert_eq!(tx.on_request_retransmit(t0 + secs(1.0)), None);
        assert_eq!(tx.on_ack(t0 + secs(2.0)), AckDisposition::Absorb);
        assert_eq!(tx.next_timeout(), Some(t0 + secs(6.0)));
        assert_eq!(tx.on_timeout(t0 + secs(6.0)), Some(ServerTimerEvent::Terminated));
        assert!(tx.is_terminated());
    }

    #[test]
    fn success_enters_accepted_and_ack_goes_end_to_end() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.send_provisional(b("100")), Some(b("100")));
        assert_eq!(tx.send_final(t0 + secs(1.0), 200, b("200")), Some(b("200")));
        assert_eq!(tx.state(), ServerInviteState::Accepted);
        assert_eq!(tx.on_request_retransmit(t0 + secs(1.5)), None);
        assert_eq!(
            tx.send_final(t0 + secs(1.5), 200, b("200 again")),
            Some(b("200 again"))
        );
        assert_eq!(tx.send_final(t0 + secs(1.5), 603, b("603")), None);
        assert_eq!(tx.on_ack(t0 + secs(2.0)), AckDisposition::ForwardEndToEnd);
        assert_eq!(tx.next_timeout(), Some(t0 + secs(33.0)));
        assert_eq!(tx.on_timeout(t0 + secs(33.0)), Some(ServerTimerEvent::Terminated));
        assert!(tx.is_terminated());
    }

    #[test]
    fn reliable_has_no_g_and_i_is_zero() {
        let (t0, mut tx) = start(TimerConfig::reliable());
        assert_eq!(tx.send_final(t0, 503, b("503")), Some(b("503")));
        assert_eq!(tx.next_timeout(), Some(t0 + secs(32.0)));
        assert_eq!(tx.on_ack(t0 + secs(1.0)), AckDisposition::Absorb);
        assert!(tx.is_terminated());
        assert_eq!(tx.next_timeout(), None);
    }

    #[test]
    fn stray_ack_and_transport_error() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_ack(t0), AckDisposition::Absorb);
        assert_eq!(tx.state(), ServerInviteState::Proceeding);
        assert_eq!(tx.send_final(t0, 900, b("bad")), None);
        tx.transport_error();
        assert!(tx.is_terminated());
    }
}
