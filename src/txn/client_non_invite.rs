//! Non-INVITE client transaction: RFC 3261 §17.1.2.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::timer::{doubled, TimerConfig, TimerTable};
use super::{ClientTimerEvent, StatusClass, Timed};

/// Where a [`ClientNonInvite`] is in Figure 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNonInviteState {
    /// Request sent, nothing heard yet: retransmitting on Timer E (doubling to T2).
    Trying,
    /// A provisional arrived: still retransmitting, every T2.
    Proceeding,
    /// A final arrived: absorbing its retransmissions until Timer K.
    Completed,
    /// Done: the core drops the machine.
    Terminated,
}

/// What the core does with a response [`ClientNonInvite::on_response`] was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNonInviteAction {
    /// Hand the response to the core to forward upstream.
    Pass {
        /// Whether this is the transaction's first (and only) final response.
        first_final: bool,
    },
    /// Nothing to do: a retransmitted, late or malformed response.
    Absorb,
}

impl ClientNonInviteAction {
    /// Whether the response is this transaction's final response.
    pub fn is_first_final(&self) -> bool {
        matches!(self, Self::Pass { first_final: true })
    }
}

/// The timers of a client non-INVITE transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// Request retransmission (Trying, Proceeding; unreliable only).
    E,
    /// Transaction timeout (Trying, Proceeding).
    F,
    /// Wait for retransmitted finals (Completed).
    K,
}

/// A non-INVITE client transaction (RFC 3261 §17.1.2): one per non-INVITE request (BYE, CANCEL,
/// OPTIONS, REGISTER...) the proxy forwards or originates.
///
/// RFC 3261 Figure 6:
///
/// ```text
///                                    |Request from TU
///                                    |send request
///                Timer E             V
///                send request  +-----------+
///                    +---------|           |-------------------+
///                    |         |  Trying   |  Timer F          |
///                    +-------->|           |  or Transport Err.|
///                              +-----------+  inform TU        |
///                 200-699         |  |                         |
///                 resp. to TU     |  |1xx                      |
///                 +---------------+  |resp. to TU              |
///                 |                  |                         |
///                 |   Timer E        V       Timer F           |
///                 |   send req +-----------+ or Transport Err. |
///                 |  +---------|           | inform TU         |
///                 |  |         |Proceeding |------------------>|
///                 |  +-------->|           |-----+             |
///                 |            +-----------+     |1xx          |
///                 |              |      ^        |resp to TU   |
///                 | 200-699      |      +--------+             |
///                 | resp. to TU  |                             |
///                 |              |                             |
///                 |              V                             |
///                 |            +-----------+                   |
///                 |            |           |                   |
///                 |            | Completed |                   |
///                 |            |           |                   |
///                 |            +-----------+                   |
///                 |              ^   |                         |
///                 |              |   | Timer K                 |
///                 +--------------+   | -                       |
///                                    |                         |
///                                    V                         |
///              NOTE:           +-----------+                   |
///                              |           |                   |
///          transitions         | Terminated|<------------------+
///          labeled with        |           |
///          the event           +-----------+
///          over the action
///          to take
///
///                  Figure 6: non-INVITE client transaction
/// ```
///
/// Timer E starts at T1 and doubles up to T2 in Trying; when it fires in Proceeding it is reset to
/// T2. Timer K = 0 (reliable) terminates the machine as soon as the final arrives.
#[derive(Debug, Clone)]
pub struct ClientNonInvite {
    state: ClientNonInviteState,
    cfg: TimerConfig,
    timers: TimerTable<Timer>,
    request: Bytes,
    interval_e: Duration,
}

impl ClientNonInvite {
    /// Starts the transaction in Trying; the core sends `request` once itself. Arms Timer E (T1,
    /// unreliable transports only) and Timer F (64*T1).
    pub fn new(now: Instant, request: Bytes, cfg: TimerConfig) -> Self {
        let mut timers = TimerTable::new();
        if !cfg.reliable {
            timers.set(Timer::E, now + cfg.t1);
        }
        timers.set(Timer::F, now + cfg.timer_b);
        Self {
            state: ClientNonInviteState::Trying,
            cfg,
            timers,
            request,
            interval_e: cfg.t1,
        }
    }

    /// A response with status `code` matched this transaction; says what the core does with it.
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_response(&mut self, now: Instant, code: u16) -> ClientNonInviteAction {
        use ClientNonInviteState::{Proceeding, Trying};
        match (self.state, StatusClass::of(code)) {
            (Trying | Proceeding, StatusClass::Provisional) => {
                self.state = Proceeding;
                ClientNonInviteAction::Pass { first_final: false }
            }
            (Trying | Proceeding, StatusClass::Success | StatusClass::Failure) => {
                self.enter_completed(now);
                ClientNonInviteAction::Pass { first_final: true }
            }
            _ => ClientNonInviteAction::Absorb,
        }
    }

    /// The transport failed to send the request (§17.1.4): the transaction terminates and the core
    /// treats it as a 503.
    pub fn transport_error(&mut self) {
        self.terminate();
    }

    /// Fires every timer due at `now` and says what the core must do (at most one event).
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_timeout(&mut self, now: Instant) -> Option<ClientTimerEvent> {
        self.fire_due(now)
    }

    /// When the core must next call [`ClientNonInvite::on_timeout`].
    pub fn next_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Where the transaction is in Figure 6.
    pub fn state(&self) -> ClientNonInviteState {
        self.state
    }

    /// Whether the machine is finished and must be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientNonInviteState::Terminated
    }

    fn fire(&mut self, now: Instant, timer: Timer) -> Option<ClientTimerEvent> {
        match (timer, self.state) {
            (Timer::E, ClientNonInviteState::Trying) => {
                self.interval_e = doubled(self.interval_e, Some(self.cfg.t2));
                Some(self.retransmit(now))
            }
            (Timer::E, ClientNonInviteState::Proceeding) => {
                self.interval_e = self.cfg.t2;
                Some(self.retransmit(now))
            }
            (Timer::E, _) => None,
            (Timer::F, _) => {
                self.terminate();
                Some(ClientTimerEvent::Timeout)
            }
            (Timer::K, _) => {
                self.terminate();
                Some(ClientTimerEvent::Terminated)
            }
        }
    }

    fn retransmit(&mut self, now: Instant) -> ClientTimerEvent {
        self.timers.set(Timer::E, now + self.interval_e);
        ClientTimerEvent::Retransmit(self.request.clone())
    }

    fn enter_completed(&mut self, now: Instant) {
        // Never sent again: the request's bytes need not live on through Timer K.
        self.request = Bytes::new();
        self.timers.clear();
        let k = self.cfg.timer_k();
        if k.is_zero() {
            self.state = ClientNonInviteState::Terminated;
            return;
        }
        self.state = ClientNonInviteState::Completed;
        self.timers.set(Timer::K, now + k);
    }

    fn terminate(&mut self) {
        self.state = ClientNonInviteState::Terminated;
        self.timers.clear();
    }
}

impl super::Timed for ClientNonInvite {
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

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn start(cfg: TimerConfig) -> (Instant, ClientNonInvite) {
        let t0 = Instant::now();
        (t0, ClientNonInvite::new(t0, Bytes::from_static(b"BYE"), cfg))
    }

    fn retransmit() -> Option<ClientTimerEvent> {
        Some(ClientTimerEvent::Retransmit(Bytes::from_static(b"BYE")))
    }

    /// Fires each interval in turn, checking the deadline before each; returns the elapsed time.
    fn fire_intervals(
        t0: Instant,
        tx: &mut ClientNonInvite,
        mut at: Duration,
        intervals: &[f64],
    ) -> Duration {
        for interval in intervals {
            at += secs(*interval);
            assert_eq!(tx.next_timeout(), Some(t0 + at));
            assert_eq!(tx.on_timeout(t0 + at), retransmit());
        }
        at
    }

    #[test]
    fn timer_e_doubles_to_t2_then_f_times_out() {
        let (t0, mut tx) = start(TimerConfig::default());
        let at = fire_intervals(
            t0,
            &mut tx,
            Duration::ZERO,
            &[0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0],
        );
        assert_eq!(at, secs(27.5));
        assert_eq!(tx.on_timeout(t0 + secs(31.5)), retransmit());
        assert_eq!(tx.next_timeout(), Some(t0 + secs(32.0)));
        assert_eq!(tx.on_timeout(t0 + secs(32.0)), Some(ClientTimerEvent::Timeout));
        assert!(tx.is_terminated());
    }

    #[test]
    fn proceeding_retransmits_every_t2_then_f() {
        let (t0, mut tx) = start(TimerConfig::default());
        let at = fire_intervals(t0, &mut tx, Duration::ZERO, &[0.5]);
        assert_eq!(
            tx.on_response(t0 + secs(0.6), 100),
            ClientNonInviteAction::Pass { first_final: false }
        );
        assert_eq!(tx.state(), ClientNonInviteState::Proceeding);
        // E was already armed for 1.5 s; from then on it is T2.
        let at = fire_intervals(t0, &mut tx, at, &[1.0, 4.0, 4.0]);
        assert_eq!(at, secs(9.5));
        assert_eq!(tx.on_timeout(t0 + secs(32.0)), Some(ClientTimerEvent::Timeout));
    }

    #[test]
    fn final_completes_then_k() {
        let (t0, mut tx) = start(TimerConfig::default());
        let action = tx.on_response(t0 + secs(1.0), 200);
        assert!(action.is_first_final());
        assert_eq!(tx.state(), ClientNonInviteState::Completed);
        assert_eq!(tx.on_response(t0 + secs(2.0), 200), ClientNonInviteAction::Absorb);
        assert_eq!(tx.on_response(t0 + secs(2.0), 100), ClientNonInviteAction::Absorb);
        assert_eq!(tx.next_timeout(), Some(t0 + secs(6.0)));
        assert_eq!(tx.on_timeout(t0 + secs(6.0)), Some(ClientTimerEvent::Terminated));
        assert!(tx.is_terminated());
    }

    #[test]
    fn reliable_has_no_e_and_k_is_zero() {
        let (t0, mut tx) = start(TimerConfig::reliable());
        assert_eq!(tx.next_timeout(), Some(t0 + secs(32.0)));
        assert!(tx.on_response(t0 + secs(1.0), 404).is_first_final());
        assert!(tx.is_terminated());
        assert_eq!(tx.next_timeout(), None);
    }

    #[test]
    fn transport_error_and_invalid_codes() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_response(t0, 7), ClientNonInviteAction::Absorb);
        tx.transport_error();
        assert!(tx.is_terminated());
        assert_eq!(tx.on_timeout(t0 + secs(100.0)), None);
    }
}
