//! RFC 3261 timer values (§17.1.1.1 and the table in Appendix A) and [`TimerTable`], the tiny set of
//! armed deadlines every transaction machine owns (shaped after quinn-proto's `connection/timer.rs`).

use std::time::{Duration, Instant};

/// The RFC 3261 timer values for one transport; every machine copies one at creation.
///
/// The named timers are derived from T1, T2 and T4 (RFC 3261 Appendix A):
///
/// | timer | value | used by |
/// |---|---|---|
/// | A, E, G | starts at T1, doubles (A uncapped; E and G capped at T2) | unreliable only |
/// | B, F, H | `timer_b` = 64*T1 | all transports |
/// | L, M (RFC 6026) | `timer_b` = 64*T1 | all transports |
/// | D | `timer_d`: 32 s unreliable, 0 reliable | [`super::ClientInvite`] |
/// | I, K | [`TimerConfig::timer_i`] / [`TimerConfig::timer_k`]: T4 unreliable, 0 reliable | |
/// | J | [`TimerConfig::timer_j`]: 64*T1 unreliable, 0 reliable | [`super::ServerNonInvite`] |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip estimate (500 ms): first interval of the retransmit timers A, E and G.
    pub t1: Duration,
    /// T2 (4 s): the cap of the E and G retransmit intervals, and E's interval in Proceeding.
    pub t2: Duration,
    /// T4 (5 s): how long a message may linger in the network; drives timers I and K.
    pub t4: Duration,
    /// 64*T1 (32 s): transaction timeouts B, F and H, and the RFC 6026 linger timers L and M.
    pub timer_b: Duration,
    /// Timer D: how long a client INVITE transaction absorbs retransmitted non-2xx finals
    /// (at least 32 s on unreliable transports, 0 on reliable ones).
    pub timer_d: Duration,
    /// Whether the transport is reliable (TCP, TLS): no retransmit timers, D/I/J/K are 0.
    pub reliable: bool,
}

impl Default for TimerConfig {
    /// The RFC defaults for an unreliable transport (UDP).
    fn default() -> Self {
        Self::new(Self::DEFAULT_T1, Self::DEFAULT_T2, Self::DEFAULT_T4, false)
    }
}

impl TimerConfig {
    /// RFC 3261 default for T1.
    pub const DEFAULT_T1: Duration = Duration::from_millis(500);
    /// RFC 3261 default for T2.
    pub const DEFAULT_T2: Duration = Duration::from_secs(4);
    /// RFC 3261 default for T4.
    pub const DEFAULT_T4: Duration = Duration::from_secs(5);
    /// RFC 3261's minimum for Timer D on unreliable transports.
    pub const MIN_TIMER_D: Duration = Duration::from_secs(32);

    /// Derives every timer from T1, T2 and T4 for a reliable or unreliable transport.
    pub fn new(t1: Duration, t2: Duration, t4: Duration, reliable: bool) -> Self {
        let timer_d = if reliable {
            Duration::ZERO
        } else {
            Self::MIN_TIMER_D
        };
        Self {
            t1,
            t2,
            t4,
            timer_b: t1.saturating_mul(64),
            timer_d,
            reliable,
        }
    }

    /// The RFC defaults for a reliable transport (TCP, TLS).
    pub fn reliable() -> Self {
        Self::for_transport(true)
    }

    /// The RFC defaults for the transport a transaction runs over.
    pub fn for_transport(reliable: bool) -> Self {
        Self::new(Self::DEFAULT_T1, Self::DEFAULT_T2, Self::DEFAULT_T4, reliable)
    }

    /// Timer I (§17.2.1): how long a Confirmed server INVITE transaction absorbs ACKs.
    pub fn timer_i(&self) -> Duration {
        self.unless_reliable(self.t4)
    }

    /// Timer J (§17.2.2): how long a Completed server non-INVITE transaction answers retransmits.
    pub fn timer_j(&self) -> Duration {
        self.unless_reliable(self.timer_b)
    }

    /// Timer K (§17.1.2.2): how long a Completed client non-INVITE transaction absorbs responses.
    pub fn timer_k(&self) -> Duration {
        self.unless_reliable(self.t4)
    }

    fn unless_reliable(&self, value: Duration) -> Duration {
        if self.reliable {
            Duration::ZERO
        } else {
            value
        }
    }
}

/// The next retransmit interval: `current` doubled, capped at `cap` when there is one
/// (A doubles without a cap; E and G cap at T2).
pub(crate) fn doubled(current: Duration, cap: Option<Duration>) -> Duration {
    let next = current.saturating_mul(2);
    match cap {
        Some(cap) => next.min(cap),
        None => next,
    }
}

/// The armed timers of one transaction, each with its deadline.
///
/// A machine arms and stops timers as it changes state; the core asks [`TimerTable::next`] for
/// the earliest wake-up and, once the clock passes it, drains the due timers in deadline order.
#[derive(Debug, Clone)]
pub struct TimerTable<T> {
    armed: Vec<(T, Instant)>,
}

impl<T: Copy + Eq> Default for TimerTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Eq> TimerTable<T> {
    /// An empty table: nothing armed.
    pub fn new() -> Self {
        Self { armed: Vec::new() }
    }

    /// Arms `timer` to fire at `deadline`, replacing its previous deadline if it was armed.
    pub fn set(&mut self, timer: T, deadline: Instant) {
        match self.armed.iter_mut().find(|(t, _)| *t == timer) {
            Some(slot) => slot.1 = deadline,
            None => self.armed.push((timer, deadline)),
        }
    }

    /// Disarms `timer`; a no-op if it was not armed.
    pub fn stop(&mut self, timer: T) {
        self.armed.retain(|(t, _)| *t != timer);
    }

    /// Disarms every timer (the transaction terminated).
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// When `timer` fires, if it is armed.
    pub fn deadline(&self, timer: T) -> Option<Instant> {
        self.armed.iter().find(|(t, _)| *t == timer).map(|(_, d)| *d)
    }

    /// Whether `timer` is armed.
    pub fn is_armed(&self, timer: T) -> bool {
        self.deadline(timer).is_some()
    }

    /// How many timers are armed.
    pub fn len(&self) -> usize {
        self.armed.len()
    }

    /// Whether no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    /// The earliest deadline: when the core must next call the machine's `on_timeout`.
    pub fn next(&self) -> Option<Instant> {
        self.armed.iter().map(|(_, d)| *d).min()
    }

    /// Disarms and returns the earliest timer whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<T> {
        let index = self
            .armed
            .iter()
            .enumerate()
            .filter(|(_, (_, d))| *d <= now)
            .min_by_key(|(_, (_, d))| *d)
            .map(|(i, _)| i)?;
        Some(self.armed.swap_remove(index).0)
    }

    /// Drains every timer due at `now`, earliest first.
    pub fn expired(&mut self, now: Instant) -> Expired<'_, T> {
        Expired { table: self, now }
    }
}

/// Iterator returned by [`TimerTable::expired`]: disarms each due timer as it yields it.
#[derive(Debug)]
pub struct Expired<'a, T> {
    table: &'a mut TimerTable<T>,
    now: Instant,
}

impl<T: Copy + Eq> Iterator for Expired<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.table.pop_expired(self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn defaults_follow_rfc3261() {
        let udp = TimerConfig::default();
        assert_eq!(udp.t1, 500 * MS);
        assert_eq!(udp.t2, Duration::from_secs(4));
        assert_eq!(udp.t4, Duration::from_secs(5));
        assert_eq!(udp.timer_b, Duration::from_secs(32));
        assert_eq!(udp.timer_d, Duration::from_secs(32));
        assert_eq!(
            (udp.timer_i(), udp.timer_j(), udp.timer_k()),
            (udp.t4, udp.timer_b, udp.t4)
        );
        assert!(!udp.reliable);
    }

    #[test]
    fn reliable_zeroes_d_i_j_k() {
        let tcp = TimerConfig::reliable();
        assert!(tcp.reliable);
        assert_eq!(tcp.timer_b, Duration::from_secs(32));
        for d in [tcp.timer_d, tcp.timer_i(), tcp.timer_j(), tcp.timer_k()] {
            assert_eq!(d, Duration::ZERO);
        }
    }

    #[test]
    fn doubling_respects_cap() {
        assert_eq!(doubled(500 * MS, None), 1000 * MS);
        assert_eq!(doubled(Duration::from_secs(16), None), Duration::from_secs(32));
        assert_eq!(
            doubled(Duration::from_secs(2), Some(Duration::from_secs(4))),
            Duration::from_secs(4)
        );
        assert_eq!(
            doubled(Duration::from_secs(4), Some(Duration::from_secs(4))),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn table_orders_and_drains() {
        let t0 = Instant::now();
        let mut table = TimerTable::new();
        assert_eq!(table.next(), None);
        table.set('b', t0 + 30 * MS);
        table.set('a', t0 + 10 * MS);
        table.set('c', t0 + 20 * MS);
        table.set('b', t0 + 5 * MS);
        assert_eq!(table.len(), 3);
        assert_eq!(table.next(), Some(t0 + 5 * MS));
        assert_eq!(table.expired(t0 + 4 * MS).count(), 0);
        let due: Vec<char> = table.expired(t0 + 20 * MS).collect();
        assert_eq!(due, vec!['b', 'a', 'c']);
        assert!(table.is_empty());
    }

    #[test]
    fn table_stop_and_clear() {
        let t0 = Instant::now();
        let mut table = TimerTable::new();
        table.set(1u8, t0);
        table.set(2u8, t0 + MS);
        table.stop(1);
        table.stop(9);
        assert!(!table.is_armed(1));
        assert_eq!(table.deadline(2), Some(t0 + MS));
        table.clear();
        assert_eq!(table.pop_expired(t0 + MS), None);
    }
}
