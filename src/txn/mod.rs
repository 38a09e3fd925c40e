//! RFC 3261 §17 transaction state machines, sans-IO: inputs are abstract events (a status code, "a
//! retransmission arrived", "an ACK arrived") plus `now`; outputs are returned values (bytes to
//! (re)send, what to do with a message) and the next wake-up. No machine reads the clock, parses
//! SIP or touches a socket.
//!
//! | machine | RFC | states |
//! |---|---|---|
//! | [`ClientInvite`] | §17.1.1, Figure 5, + RFC 6026 | Calling, Proceeding, Completed, Accepted, Terminated |
//! | [`ClientNonInvite`] | §17.1.2, Figure 6 | Trying, Proceeding, Completed, Terminated |
//! | [`ServerInvite`] | §17.2.1, Figure 7, + RFC 6026 | Proceeding, Completed, Confirmed, Accepted, Terminated |
//! | [`ServerNonInvite`] | §17.2.2, Figure 8 | Trying, Proceeding, Completed, Terminated |
//!
//! # How the proxy core drives them
//! The core owns the transaction table (keyed by top-Via branch + sent-by + method, §17.1.3 and
//! §17.2.3), builds every message and does every send. For each machine it:
//! 1. **Creates** it when a new request arrives ([`ServerInvite::new`], [`ServerNonInvite::new`]) or
//!    when it forwards a request downstream ([`ClientInvite::new`], [`ClientNonInvite::new`]; the core
//!    transmits the request once itself, the machine keeps the bytes for retransmissions).
//! 2. **Feeds inputs** and obeys the returned value: a response from downstream goes to the client's
//!    `on_response` (pass upstream, absorb, or send/resend the non-2xx ACK); a retransmitted request
//!    goes to the server's `on_request_retransmit` (resend the returned bytes, if any); an ACK goes to
//!    [`ServerInvite::on_ack`]; a response the core wants to send upstream goes through the server's
//!    `send_provisional`/`send_final`, which return the bytes to transmit (`None`: drop it).
//! 3. **Schedules wake-ups**: after every input it reads `next_timeout()` and, once the clock reaches
//!    it, calls `on_timeout(now)`, which fires every timer due by `now` and returns at most one event
//!    (a retransmission, a timeout, or the termination; the terminal one wins when several are due).
//! 4. **Drops** the machine as soon as `is_terminated()` (RFC 3261: destroyed immediately). A zero
//!    timer (D, I, J, K on reliable transports) terminates the machine inside the input call itself.
//!
//! Timer C (§16.6 step 11) is the proxy's, not the transaction's: the core runs it per branch and,
//! on expiry, sends a CANCEL and reports it with [`ClientInvite::cancel_sent`].

mod client_invite;
mod client_non_invite;
mod server_invite;
mod server_non_invite;
mod timer;

#[cfg(test)]
mod proptests;

use bytes::Bytes;

pub use client_invite::{ClientInvite, ClientInviteAction, ClientInviteState};
pub use client_non_invite::{ClientNonInvite, ClientNonInviteAction, ClientNonInviteState};
pub use server_invite::{AckDisposition, ServerInvite, ServerInviteState};
pub use server_non_invite::{ServerNonInvite, ServerNonInviteState};
pub use timer::{Expired, TimerConfig, TimerTable};

/// A machine driven by a `TimerTable`: the one loop behind every `on_timeout`.
trait Timed {
    type Timer: Copy + Eq;
    type Event;
    fn table(&mut self) -> &mut TimerTable<Self::Timer>;
    fn fire_one(&mut self, now: std::time::Instant, timer: Self::Timer) -> Option<Self::Event>;
    fn finished(&self) -> bool;

    /// Fires every timer due at `now`, stopping once the machine terminates; at most one event
    /// comes out, and a later (terminal) one wins over an earlier retransmission.
    fn fire_due(&mut self, now: std::time::Instant) -> Option<Self::Event> {
        let mut event = None;
        for _ in 0..self.table().len() {
            let Some(timer) = self.table().pop_expired(now) else {
                break;
            };
            event = self.fire_one(now, timer).or(event);
            if self.finished() {
                break;
            }
        }
        event
    }
}

/// What a client transaction's `on_timeout` tells the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientTimerEvent {
    /// Timer A or E fired: send these request bytes again to the same destination.
    Retransmit(Bytes),
    /// Timer B or F fired (or 64*T1 passed after a CANCEL with no final response): the transaction
    /// is terminated; the core treats the branch as a 408 Request Timeout (§16.7 step 2).
    Timeout,
    /// Timer D, K or M fired: the transaction ended normally; drop it.
    Terminated,
}

/// What a server transaction's `on_timeout` tells the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerTimerEvent {
    /// Timer G fired: send these response bytes again upstream.
    Retransmit(Bytes),
    /// Timer H fired: no ACK ever came for the non-2xx final; the transaction is terminated, and the
    /// core logs it and frees the call.
    AckTimeout,
    /// Timer I, J or L fired: the transaction ended normally; drop it.
    Terminated,
}

/// The class of a status code, which is all a transaction needs to know about a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusClass {
    /// 100-199.
    Provisional,
    /// 200-299.
    Success,
    /// 300-699.
    Failure,
    /// Anything else: never produced by a valid parse; machines ignore it.
    Invalid,
}

impl StatusClass {
    fn of(code: u16) -> Self {
        match code {
            100..=199 => Self::Provisional,
            200..=299 => Self::Success,
            300..=699 => Self::Failure,
            _ => Self::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        assert_eq!(StatusClass::of(100), StatusClass::Provisional);
        assert_eq!(StatusClass::of(183), StatusClass::Provisional);
        assert_eq!(StatusClass::of(200), StatusClass::Success);
        assert_eq!(StatusClass::of(299), StatusClass::Success);
        assert_eq!(StatusClass::of(300), StatusClass::Failure);
        assert_eq!(StatusClass::of(699), StatusClass::Failure);
        for bad in [0, 99, 700, u16::MAX] {
            assert_eq!(StatusClass::of(bad), StatusClass::Invalid);
        }
    }
}
