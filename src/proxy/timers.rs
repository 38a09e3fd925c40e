//! One timer heap per core. Entries are (deadline, owner); an owner re-arms whenever its own
//! next deadline changes, and stale entries are skipped when they fire (lazy deletion), so no
//! entry ever has to be found and removed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::TxnKey;

/// Who a timer entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKey {
    Call(TxnKey),
    Relay(TxnKey),
    Answered(TxnKey),
    /// A CANCEL or BYE the proxy sent on its own behalf.
    Oneshot(u64, super::oneshot::Kind),
    /// Periodic sweep of the dialog table (`max_call_duration`).
    Sweep,
}

/// The heap.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, TimerKey)>>,
}

impl Timers {
    /// Schedules a wake-up for `key` at `at` (duplicates are harmless).
    pub fn arm(&mut self, at: Instant, key: TimerKey) {
        self.heap.push(Reverse((at, key)));
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Removes and returns one entry due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<TimerKey> {
        if self.next()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse((_, k))| k)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
}
