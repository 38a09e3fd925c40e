//! INVITE client transaction: RFC 3261 §17.1.1, with the Accepted state of RFC 6026 §7.2.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timer::{doubled, TimerConfig, TimerTable};
use super::{ClientTimerEvent, StatusClass, Timed};

/// Where a [`ClientInvite`] is in Figure 5 (plus RFC 6026's Accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInviteState {
    /// INVITE sent, nothing heard yet: retransmitting on Timer A (UDP), timing out on Timer B.
    Calling,
    /// A provisional arrived: no more retransmissions; the proxy's Timer C now governs.
    Proceeding,
    /// A non-2xx final arrived and was ACKed: absorbing its retransmissions until Timer D.
    Completed,
    /// RFC 6026: a 2xx arrived; further 2xx (retransmissions, other forks) are passed upstream
    /// until Timer M (64*T1), so the core never mistakes them for strays.
    Accepted,
    /// Done: the core drops the machine.
    Terminated,
}

/// What the core does with a response [`ClientInvite::on_response`] was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientInviteAction {
    /// Hand the response to the core to forward upstream (1xx, or a 2xx: 2xx always go end to end).
    /// `first_final` is true for the first final response of this transaction.
    Pass {
        /// Whether this is the transaction's first final response.
        first_final: bool,
    },
    /// The first final response, a non-2xx: hand it to the core (it is the first final), and build
    /// and send the ACK (§17.1.1.3) to the same destination; then store it with
    /// [`ClientInvite::set_ack`] so retransmitted finals can be answered.
    SendAck,
    /// A retransmission of the non-2xx final: send these stored ACK bytes again, forward nothing.
    ResendAck(Bytes),
    /// Nothing to do: a late, retransmitted or malformed response already dealt with.
    Absorb,
}

impl ClientInviteAction {
    /// Whether the response is this transaction's first final response (the core's response
    /// context picks the best final among its branches from these).
    pub fn is_first_final(&self) -> bool {
        matches!(self, Self::SendAck | Self::Pass { first_final: true })
    }
}

/// The timers of a client INVITE transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// Request retransmission (Calling, unreliable only).
    A,
    /// Transaction timeout (Calling).
    B,
    /// Wait for retransmitted non-2xx finals (Completed).
    D,
    /// RFC 6026: wait for retransmitted 2xx (Accepted).
    M,
    /// RFC 3261 §9.1: give up 64*T1 after a CANCEL if no final response came.
    Cancel,
}

/// An INVITE client transaction (RFC 3261 §17.1.1): one per branch the proxy forwards an INVITE to.
///
/// RFC 3261 Figure 5 (the 2xx edges to Terminated become edges to Accepted under RFC 6026, see
/// below):
///
/// ```text
///                                |INVITE from TU
///              Timer A fires     |INVITE sent
///              Reset A,          V                      Timer B fires
///              INVITE sent +-----------+                or Transport Err.
///                +---------|           |---------------+inform TU
///                |         |  Calling  |               |
///                +-------->|           |-------------->|
///                          +-----------+ 2xx           |
///                             |  |       2xx to TU     |
///                             |  |1xx                  |
///     300-699 +---------------+  |1xx to TU            |
///    ACK sent |                  |                     |
/// resp. to TU |  1xx             V                     |
///             |  1xx to TU  -----------+               |
///             |  +---------|           |               |
///             |  |         |Proceeding |-------------->|
///             |  +-------->|           | 2xx           |
///             |            +-----------+ 2xx to TU     |
///             |       300-699    |                     |
///             |       ACK sent,  |                     |
///             |       resp. to TU|                     |
///             |                  |                     |      NOTE:
///             |  300-699         V                     |
///             |  ACK sent  +-----------+Transport Err. |  transitions
///             |  +---------|           |Inform TU      |  labeled with
///             |  |         | Completed |-------------->|  the event
///             |  +-------->|           |               |  over the action
///             |            +-----------+               |  to take
///             |              ^   |                     |
///             |              |   | Timer D fires       |
///             +--------------+   | -                   |
///                                |                     |
///                                V                     |
///                          +-----------+               |
///                          |           |               |
///                          | Terminated|<--------------+
///                          |           |
///                          +-----------+
///
///                  Figure 5: INVITE client transaction
/// ```
///
/// RFC 6026 §7.2 replaces "2xx: to Terminated" with:
///
/// ```text
///   Calling/Proceeding --2xx, 2xx to TU--> Accepted (start Timer M = 64*T1)
///   Accepted --2xx, 2xx to TU--> Accepted
///   Accepted --Timer M fires--> Terminated
/// ```
///
/// Differences from the figure, all documented on the methods: Timer B only fires in Calling
/// (the proxy's Timer C governs Proceeding); after [`ClientInvite::cancel_sent`] the transaction
/// gives up 64*T1 later if no final response came (§9.1); Timer D = 0 (reliable) terminates at once.
#[derive(Debug, Clone)]
pub struct ClientInvite {
    state: ClientInviteState,
    cfg: TimerConfig,
    timers: TimerTable<Timer>,
    request: Bytes,
    ack: Option<Bytes>,
    interval_a: Duration,
    cancelled: bool,
}

impl ClientInvite {
    /// Starts the transaction in Calling; the core sends `request` once itself. Arms Timer A
    /// (T1, unreliable transports only) and Timer B (64*T1).
    pub fn new(now: Instant, request: Bytes, cfg: TimerConfig) -> Self {
        let mut timers = TimerTable::new();
        if !cfg.reliable {
            timers.set(Timer::A, now + cfg.t1);
        }
        timers.set(Timer::B, now + cfg.timer_b);
        Self {
            state: ClientInviteState::Calling,
            cfg,
            timers,
            request,
            ack: None,
            interval_a: cfg.t1,
            cancelled: false,
        }
    }

    /// A response with status `code` matched this transaction; says what the core does with it.
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_response(&mut self, now: Instant, code: u16) -> ClientInviteAction {
        use ClientInviteState::{Accepted, Calling, Completed, Proceeding};
        match (self.state, StatusClass::of(code)) {
            (Calling | Proceeding, StatusClass::Provisional) => {
                self.enter_proceeding();
                ClientInviteAction::Pass { first_final: false }
            }
            (Calling | Proceeding, StatusClass::Success) => {
                self.enter_accepted(now);
                ClientInviteAction::Pass { first_final: true }
            }
            (Calling | Proceeding, StatusClass::Failure) => {
                self.enter_completed(now);
                ClientInviteAction::SendAck
            }
            (Accepted, StatusClass::Success) => ClientInviteAction::Pass { first_final: false },
            (Completed, StatusClass::Failure) => self
                .ack
                .clone()
                .map_or(ClientInviteAction::Absorb, ClientInviteAction::ResendAck),
            _ => ClientInviteAction::Absorb,
        }
    }

    /// Stores the ACK the core built after [`ClientInviteAction::SendAck`], so that retransmitted
    /// finals are answered with [`ClientInviteAction::ResendAck`]. Ignored outside Completed.
    pub fn set_ack(&mut self, ack: Bytes) {
        if self.state == ClientInviteState::Completed {
            self.ack = Some(ack);
        }
    }

    /// The core sent a CANCEL for this branch (Timer C, a CANCEL from upstream, or a 2xx on another
    /// branch). If no final response arrives within 64*T1, [`ClientInvite::on_timeout`] returns
    /// [`ClientTimerEvent::Timeout`] (RFC 3261 §9.1). Only the first call counts.
    pub fn cancel_sent(&mut self, now: Instant) {
        let pending = matches!(
            self.state,
            ClientInviteState::Calling | ClientInviteState::Proceeding
        );
        if pending && !self.cancelled {
            self.cancelled = true;
            self.timers.set(Timer::Cancel, now + self.cfg.timer_b);
        }
    }

    /// The transport failed to send the request or the ACK (§17.1.4): the transaction terminates
    /// and the core treats the branch as a 503 (§16.7 step 2 for proxies).
    pub fn transport_error(&mut self) {
        self.terminate();
    }

    /// Fires every timer due at `now` and says what the core must do (at most one event).
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_timeout(&mut self, now: Instant) -> Option<ClientTimerEvent> {
        self.fire_due(now)
    }

    /// When the core must next call [`ClientInvite::on_timeout`].
    pub fn next_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Where the transaction is in Figure 5.
    pub fn state(&self) -> ClientInviteState {
        self.state
    }

    /// Whether the core already reported a CANCEL for this branch (never send two).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Whether the machine is finished and must be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientInviteState::Terminated
    }

    fn fire(&mut self, now: Instant, timer: Timer) -> Option<ClientTimerEvent> {
        match timer {
            Timer::A if self.state == ClientInviteState::Calling => {
                self.interval_a = doubled(self.interval_a, None);
                self.timers.set(Timer::A, now + self.interval_a);
                Some(ClientTimerEvent::Retransmit(self.request.clone()))
            }
            Timer::A => None,
            Timer::B | Timer::Cancel => {
                self.terminate();
                Some(ClientTimerEvent::Timeout)
            }
            Timer::D | Timer::M => {
                self.terminate();
                Some(ClientTimerEvent::Terminated)
            }
        }
    }

    fn enter_proceeding(&mut self) {
        self.state = ClientInviteState::Proceeding;
        self.timers.stop(Timer::A);
        self.timers.stop(Timer::B);
    }

    fn enter_completed(&mut self, now: Instant) {
        self.release_request();
        self.timers.clear();
        if self.cfg.timer_d.is_zero() {
            self.state = ClientInviteState::Terminated;
            return;
        }
        self.state = ClientInviteState::Completed;
        self.timers.set(Timer::D, now + self.cfg.timer_d);
    }

    fn enter_accepted(&mut self, now: Instant) {
        self.release_request();
        self.state = ClientInviteState::Accepted;
        self.timers.clear();
        self.timers.set(Timer::M, now + self.cfg.timer_b);
    }

    fn terminate(&mut self) {
        self.release_request();
        self.state = ClientInviteState::Terminated;
        self.timers.clear();
    }

    /// A final answer came (or the transaction ended): the INVITE is never sent again, so its
    /// bytes need not live on through Timer D or M.
    fn release_request(&mut self) {
        self.request = Bytes::new();
    }
}

impl super::Timed for ClientInvite {
    type Timer = Timer;
    type Event = ClientTimerEvent;
    fn table(&mut self) -> &mut TimerTable<Timer> {
        &mut self.timers
    }
    fn fire_one(&mut self, now: Instant, timer: Timer) -> Option<ClientTimerEvent> {
        self.fire(now, timer)
    }
    fn finished(&self) -> bool {
        self.is_terminated()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const PASS: ClientInviteAction = ClientInviteAction::Pass { first_final: false };

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn start(cfg: TimerConfig) -> (Instant, ClientInvite) {
        let t0 = Instant::now();
        (t0, ClientInvite::new(t0, Bytes::from_static(b"INVITE"), cfg))
    }

    #[test]
    fn timer_a_doubles_until_timer_b() {
        let (t0, mut tx) = start(TimerConfig::default());
        let mut at = Duration::ZERO;
        for interval in [0.5, 1.0, 2.0, 4.0, 8.0, 16.0] {
            at += secs(interval);
            assert_eq!(tx.next_timeout(), Some(t0 + at));
            assert_eq!(tx.on_timeout(t0 + at - MS), None);
            let event = tx.on_timeout(t0 + at);
            assert_eq!(
                event,
                Some(ClientTimerEvent::Retransmit(Bytes::from_static(b"INVITE")))
            );
        }
        assert_eq!(tx.next_timeout(), Some(t0 + secs(32.0)));
        assert_eq!(tx.on_timeout(t0 + secs(32.0)), Some(ClientTimerEvent::Timeout));
        assert!(tx.is_terminated());
        assert_eq!(tx.next_timeout(), None);
    }

    #[test]
    fn late_wakeup_prefers_timeout_over_retransmit() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_timeout(t0 + secs(40.0)), Some(ClientTimerEvent::Timeout));
        assert!(tx.is_terminated());
    }

    #[test]
    fn provisional_stops_a_and_b() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(
            tx.on_response(t0 + 100 * MS, 100),
            ClientInviteAction::Pass { first_final: false }
        );
        assert_eq!(tx.state(), ClientInviteState::Proceeding);
        assert_eq!(tx.next_timeout(), None);
        assert_eq!(
            tx.on_response(t0 + secs(1.0), 180),
            ClientInviteAction::Pass { first_final: false }
        );
        assert_eq!(tx.on_timeout(t0 + secs(60.0)), None);
        assert_eq!(tx.state(), ClientInviteState::Proceeding);
    }

    #[test]
    fn non_2xx_final_acks_then_resends_then_d() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0, 180), PASS);
        let action = tx.on_response(t0 + secs(1.0), 486);
        assert_eq!(action, ClientInviteAction::SendAck);
        assert!(action.is_first_final());
        tx.set_ack(Bytes::from_static(b"ACK"));
        assert_eq!(tx.state(), ClientInviteState::Completed);
        let again = tx.on_response(t0 + secs(1.5), 486);
        assert_eq!(again, ClientInviteAction::ResendAck(Bytes::from_static(b"ACK")));
        assert!(!again.is_first_final());
        assert_eq!(tx.on_response(t0 + secs(2.0), 200), ClientInviteAction::Absorb);
        assert_eq!(tx.on_response(t0 + secs(2.0), 183), ClientInviteAction::Absorb);
        assert_eq!(tx.next_timeout(), Some(t0 + secs(33.0)));
        assert_eq!(tx.on_timeout(t0 + secs(33.0)), Some(ClientTimerEvent::Terminated));
        assert!(tx.is_terminated());
    }

    #[test]
    fn retransmitted_final_without_stored_ack_is_absorbed() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0, 503), ClientInviteAction::SendAck);
        assert_eq!(tx.on_response(t0, 503), ClientInviteAction::Absorb);
    }

    #[test]
    fn final_in_calling_stops_retransmissions() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0 + 200 * MS, 404), ClientInviteAction::SendAck);
        assert_eq!(tx.on_timeout(t0 + secs(31.0)), None);
    }

    #[test]
    fn success_enters_accepted_and_passes_retransmissions() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0, 180), PASS);
        let first = tx.on_response(t0 + secs(2.0), 200);
        assert_eq!(first, ClientInviteAction::Pass { first_final: true });
        assert!(first.is_first_final());
        assert_eq!(tx.state(), ClientInviteState::Accepted);
        let again = tx.on_response(t0 + secs(2.5), 200);
        assert_eq!(again, ClientInviteAction::Pass { first_final: false });
        assert_eq!(tx.on_response(t0 + secs(3.0), 180), ClientInviteAction::Absorb);
        assert_eq!(tx.on_response(t0 + secs(3.0), 486), ClientInviteAction::Absorb);
        assert_eq!(tx.next_timeout(), Some(t0 + secs(34.0)));
        assert_eq!(tx.on_timeout(t0 + secs(34.0)), Some(ClientTimerEvent::Terminated));
        assert!(tx.is_terminated());
        assert_eq!(tx.on_response(t0 + secs(35.0), 200), ClientInviteAction::Absorb);
    }

    #[test]
    fn reliable_arms_only_b_and_zero_d_terminates() {
        let (t0, mut tx) = start(TimerConfig::reliable());
        assert_eq!(tx.next_timeout(), Some(t0 + secs(32.0)));
        assert_eq!(tx.on_timeout(t0 + secs(1.0)), None);
        assert_eq!(tx.on_response(t0 + secs(1.0), 480), ClientInviteAction::SendAck);
        assert!(tx.is_terminated());
        assert_eq!(tx.next_timeout(), None);
    }

    #[test]
    fn cancel_gives_up_after_64_t1() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0, 180), PASS);
        tx.cancel_sent(t0 + secs(10.0));
        tx.cancel_sent(t0 + secs(20.0));
        assert!(tx.is_cancelled());
        assert_eq!(tx.next_timeout(), Some(t0 + secs(42.0)));
        assert_eq!(tx.on_timeout(t0 + secs(42.0)), Some(ClientTimerEvent::Timeout));
        assert!(tx.is_terminated());
    }

    #[test]
    fn final_after_cancel_clears_cancel_timer() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0, 180), PASS);
        tx.cancel_sent(t0);
        assert_eq!(tx.on_response(t0 + secs(1.0), 487), ClientInviteAction::SendAck);
        assert_eq!(tx.next_timeout(), Some(t0 + secs(33.0)));
        assert_eq!(tx.on_timeout(t0 + secs(33.0)), Some(ClientTimerEvent::Terminated));
    }

    #[test]
    fn transport_error_and_invalid_codes() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0, 42), ClientInviteAction::Absorb);
        assert_eq!(tx.state(), ClientInviteState::Calling);
        tx.transport_error();
        assert!(tx.is_terminated());
        assert_eq!(tx.next_timeout(), None);
    }
}
