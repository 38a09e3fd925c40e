//! Non-INVITE server transaction: RFC 3261 §17.2.2.

use std::time::Instant;

use bytes::Bytes;

use super::timer::{TimerConfig, TimerTable};
use super::{ServerTimerEvent, StatusClass};

/// Where a [`ServerNonInvite`] is in Figure 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerNonInviteState {
    /// The request is with the core and nothing went out: retransmitted requests are dropped.
    Trying,
    /// A provisional went out: retransmitted requests get it again.
    Proceeding,
    /// The final went out: retransmitted requests get it again until Timer J.
    Completed,
    /// Done: the core drops the machine.
    Terminated,
}

/// The timers of a server non-INVITE transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Answer request retransmissions (Completed).
    J,
}

/// A non-INVITE server transaction (RFC 3261 §17.2.2): one per non-INVITE, non-ACK request the
/// proxy receives.
///
/// RFC 3261 Figure 8:
///
/// ```text
///                                   |Request received
///                                   |pass to TU
///                                   V
///                             +-----------+
///                             |           |
///                             | Trying    |-------------+
///                             |           |             |
///                             +-----------+             |200-699 from TU
///                                   |                   |send response
///                                   |1xx from TU        |
///                                   |send response      |
///                                   |                   |
///                Request            V      1xx from TU  |
///                send response+-----------+send response|
///                    +--------|           |--------+    |
///                    |        | Proceeding|        |    |
///                    +------->|           |<-------+    |
///             +<--------------|           |             |
///             |Trnsprt Err    +-----------+             |
///             |Inform TU            |                   |
///             |                     |                   |
///             |                     |200-699 from TU    |
///             |                     |send response      |
///             |  Request            V                   |
///             |  send response+-----------+             |
///             |      +--------|           |             |
///             |      |        | Completed |<------------+
///             |      +------->|           |
///             +<--------------|           |
///             |Trnsprt Err    +-----------+
///             |Inform TU            |
///             |                     |Timer J fires
///             |                     |-
///             |                     |
///             |                     V
///             |               +-----------+
///             |               |           |
///             +-------------->| Terminated|
///                             |           |
///                             +-----------+
///
///                 Figure 8: non-INVITE server transaction
/// ```
///
/// Timer J = 0 (reliable) terminates the machine as soon as the final goes out.
#[derive(Debug, Clone)]
pub struct ServerNonInvite {
    state: ServerNonInviteState,
    cfg: TimerConfig,
    timers: TimerTable<Timer>,
    last_response: Option<Bytes>,
}

impl ServerNonInvite {
    /// Starts the transaction in Trying for a newly received request.
    pub fn new(_now: Instant, cfg: TimerConfig) -> Self {
        Self {
            state: ServerNonInviteState::Trying,
            cfg,
            timers: TimerTable::new(),
            last_response: None,
        }
    }

    /// A retransmission of the request arrived: returns the last response to send again, if any
    /// (none in Trying: the retransmission is dropped).
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_request_retransmit(&mut self, _now: Instant) -> Option<Bytes> {
        match self.state {
            ServerNonInviteState::Proceeding | ServerNonInviteState::Completed => self.last_response.clone(),
            _ => None,
        }
    }

    /// The core wants to send a provisional upstream: returns the bytes to send (`None`: a final
    /// already went out, drop it). Remembered for request retransmissions.
    #[must_use = "the returned value says what the core must send or do"]
    pub fn send_provisional(&mut self, response: Bytes) -> Option<Bytes> {
        match self.state {
            ServerNonInviteState::Trying | ServerNonInviteState::Proceeding => {
                self.state = ServerNonInviteState::Proceeding;
                self.last_response = Some(response.clone());
                Some(response)
            }
            _ => None,
        }
    }

    /// The core wants to send a response with status `code` upstream: returns the bytes to send
    /// (`None`: a final already went out, drop it). A 200-699 moves to Completed and arms Timer J;
    /// a 1xx goes through [`ServerNonInvite::send_provisional`].
    #[must_use = "the returned value says what the core must send or do"]
    pub fn send_final(&mut self, now: Instant, code: u16, response: Bytes) -> Option<Bytes> {
        use ServerNonInviteState::{Proceeding, Trying};
        match (self.state, StatusClass::of(code)) {
            (_, StatusClass::Provisional) => self.send_provisional(response),
            (Trying | Proceeding, StatusClass::Success | StatusClass::Failure) => {
                self.enter_completed(now, response.clone());
                Some(response)
            }
            _ => None,
        }
    }

    /// The transport failed to send a response (§17.2.4): the transaction terminates.
    pub fn transport_error(&mut self) {
        self.terminate();
    }

    /// Fires every timer due at `now`: only Timer J, which ends the transaction.
    #[must_use = "the returned value says what the core must send or do"]
    pub fn on_timeout(&mut self, now: Instant) -> Option<ServerTimerEvent> {
        let timer = self.timers.pop_expired(now)?;
        match timer {
            Timer::J => {
                self.terminate();
                Some(ServerTimerEvent::Terminated)
            }
        }
    }

    /// When the core must next call [`ServerNonInvite::on_timeout`].
    pub fn next_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Where the transaction is in Figure 8.
    pub fn state(&self) -> ServerNonInviteState {
        self.state
    }

    /// Whether the machine is finished and must be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerNonInviteState::Terminated
    }

    fn enter_completed(&mut self, now: Instant, response: Bytes) {
        let j = self.cfg.timer_j();
        if j.is_zero() {
            self.terminate();
            return;
        }
        self.state = ServerNonInviteState::Completed;
        self.last_response = Some(response);
        self.timers.set(Timer::J, now + j);
    }

    fn terminate(&mut self) {
        self.state = ServerNonInviteState::Terminated;
        self.timers.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    fn start(cfg: TimerConfig) -> (Instant, ServerNonInvite) {
        let t0 = Instant::now();
        (t0, ServerNonInvite::new(t0, cfg))
    }

    #[test]
    fn trying_drops_retransmissions_proceeding_answers() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.on_request_retransmit(t0), None);
        assert_eq!(tx.send_final(t0, 100, b("100")), Some(b("100")));
        assert_eq!(tx.state(), ServerNonInviteState::Proceeding);
        assert_eq!(tx.on_request_retransmit(t0), Some(b("100")));
        assert_eq!(tx.next_timeout(), None);
    }

    #[test]
    fn final_answers_retransmits_until_j() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.send_final(t0, 200, b("200")), Some(b("200")));
        assert_eq!(tx.state(), ServerNonInviteState::Completed);
        assert_eq!(tx.send_final(t0, 500, b("500")), None);
        assert_eq!(tx.send_provisional(b("180")), None);
        assert_eq!(tx.on_request_retransmit(t0), Some(b("200")));
        let j = t0 + Duration::from_secs(32);
        assert_eq!(tx.next_timeout(), Some(j));
        assert_eq!(tx.on_timeout(j - Duration::from_millis(1)), None);
        assert_eq!(tx.on_timeout(j), Some(ServerTimerEvent::Terminated));
        assert!(tx.is_terminated());
        assert_eq!(tx.on_request_retransmit(j), None);
    }

    #[test]
    fn reliable_j_is_zero() {
        let (t0, mut tx) = start(TimerConfig::reliable());
        assert_eq!(tx.send_final(t0, 403, b("403")), Some(b("403")));
        assert!(tx.is_terminated());
        assert_eq!(tx.next_timeout(), None);
    }

    #[test]
    fn invalid_code_and_transport_error() {
        let (t0, mut tx) = start(TimerConfig::default());
        assert_eq!(tx.send_final(t0, 1000, b("bad")), None);
        assert_eq!(tx.state(), ServerNonInviteState::Trying);
        tx.transport_error();
        assert!(tx.is_terminated());
    }
}
