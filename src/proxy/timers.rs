//! One hashed timer wheel per core. Entries are (deadline, owner); an owner re-arms whenever
//! its own next deadline changes, and stale entries are skipped when they fire (lazy
//! deletion), so no entry ever has to be found and removed.
//!
//! At 1000 calls/s a core holds about a hundred thousand entries (Timer B/F/H run 32 s), and a
//! binary heap pays log n cache misses for each of the ~8 entries a call arms and fires. The
//! wheel files an entry in the slot of its deadline (O(1)) and fires slot by slot; deadlines
//! stay exact (an entry fires when `now` reaches its own instant, not its slot's start). The
//! rare deadline beyond the wheel's horizon (the dialog sweep, long timers) waits in a heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

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

/// Width of one slot.
const GRAIN: Duration = Duration::from_millis(4);
/// Slots in the wheel (a power of two): 16384 × 4 ms = 65.5 s, past Timer B's 32 s.
const SLOTS: usize = 1 << 14;
const WORDS: usize = SLOTS / 64;

/// The wheel.
#[derive(Debug)]
pub struct Timers {
    /// The instant of tick 0: the core's start, before every deadline it will arm.
    origin: Instant,
    /// `SLOTS` slots once the first entry is armed.
    slots: Vec<Vec<(Instant, TimerKey)>>,
    /// One bit per slot: set when the slot holds entries.
    occupied: Box<[u64; WORDS]>,
    /// The tick of the earliest slot that may still hold entries; every entry in the wheel
    /// has a tick in `cursor..cursor + SLOTS`.
    cursor: u64,
    /// Entries beyond the horizon.
    far: BinaryHeap<Reverse<(Instant, TimerKey)>>,
    len: usize,
}

impl Timers {
    /// An empty wheel whose tick 0 is `origin` (no deadline may come before it).
    pub fn new(origin: Instant) -> Self {
        Timers {
            origin,
            slots: Vec::new(),
            occupied: Box::new([0; WORDS]),
            cursor: 0,
            far: BinaryHeap::new(),
            len: 0,
        }
    }

    /// Schedules a wake-up for `key` at `at` (duplicates are harmless).
    pub fn arm(&mut self, at: Instant, key: TimerKey) {
        self.len += 1;
        let tick = self.tick(at).max(self.cursor);
        if tick - self.cursor >= SLOTS as u64 {
            self.far.push(Reverse((at, key)));
            return;
        }
        let slot = slot_of(tick);
        if self.slots.is_empty() {
            // Allocated on first use: a core that never arms a timer (tests, fuzz cases
            // that end early) does not pay for 16k slot headers.
            self.slots.resize_with(SLOTS, Vec::new);
        }
        if let Some(s) = self.slots.get_mut(slot) {
            s.push((at, key));
        }
        self.set_bit(slot, true);
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        let wheel = self
            .first_occupied()
            .and_then(|(_, slot)| self.slots.get(slot)?.iter().map(|(at, _)| *at).min());
        let far = self.far.peek().map(|Reverse((at, _))| *at);
        match (wheel, far) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Removes and returns one entry due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<TimerKey> {
        if self.far.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            self.len -= 1;
            return self.far.pop().map(|Reverse((_, k))| k);
        }
        let now_tick = self.tick(now);
        let Some((tick, slot)) = self.first_occupied().filter(|(t, _)| *t <= now_tick) else {
            // Every slot up to `now` is empty.
            self.cursor = self.cursor.max(now_tick);
            return None;
        };
        self.cursor = tick;
        let entries = self.slots.get_mut(slot)?;
        // Only the slot of `now` itself can hold entries not yet due.
        let i = entries.iter().position(|(at, _)| *at <= now)?;
        let (_, key) = entries.swap_remove(i);
        if entries.is_empty() {
            self.set_bit(slot, false);
        }
        self.len -= 1;
        Some(key)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Ticks since the origin.
    fn tick(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin).as_nanos() / GRAIN.as_nanos();
        u64::try_from(since).unwrap_or(u64::MAX / 2)
    }

    /// The first occupied slot at or after the cursor: (its tick, its index).
    fn first_occupied(&self) -> Option<(u64, usize)> {
        let start = slot_of(self.cursor);
        let (word, bit) = (start / 64, start % 64);
        for step in 0..=WORDS {
            let w = (word + step) % WORDS;
            let mut bits = self.occupied.get(w).copied().unwrap_or(0);
            if step == 0 {
                bits &= u64::MAX << bit;
            } else if step == WORDS {
                bits &= !(u64::MAX << bit);
            }
            if bits != 0 {
                let slot = w * 64 + bits.trailing_zeros() as usize;
                let ahead = (slot + SLOTS - start) % SLOTS;
                return Some((self.cursor + ahead as u64, slot));
            }
        }
        None
    }

    fn set_bit(&mut self, slot: usize, on: bool) {
        if let Some(w) = self.occupied.get_mut(slot / 64) {
            let mask = 1u64 << (slot % 64);
            if on {
                *w |= mask;
            } else {
                *w &= !mask;
            }
        }
    }
}

fn slot_of(tick: u64) -> usize {
    (tick % SLOTS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> TimerKey {
        TimerKey::Oneshot(n, super::super::oneshot::Kind::Cancel)
    }

    fn drain(t: &mut Timers, now: Instant) -> Vec<TimerKey> {
        std::iter::from_fn(|| t.pop_due(now)).collect()
    }

    #[test]
    fn fires_at_exact_deadlines_in_order_of_time() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0);
        let ms = Duration::from_millis;
        t.arm(t0 + ms(500), key(1));
        t.arm(t0 + ms(501), key(2));
        t.arm(t0 + ms(32_000), key(3));
        t.arm(t0 + ms(100_000), key(4)); // beyond the horizon
        assert_eq!(t.len(), 4);
        assert_eq!(t.next(), Some(t0 + ms(500)));
        assert_eq!(drain(&mut t, t0 + ms(499)), []);
        assert_eq!(drain(&mut t, t0 + ms(500)), [key(1)]);
        assert_eq!(t.next(), Some(t0 + ms(501)));
        assert_eq!(drain(&mut t, t0 + ms(31_999)), [key(2)]);
        assert_eq!(t.next(), Some(t0 + ms(32_000)));
        assert_eq!(drain(&mut t, t0 + ms(99_000)), [key(3)]);
        assert_eq!(t.next(), Some(t0 + ms(100_000)));
        assert_eq!(drain(&mut t, t0 + ms(100_000)), [key(4)]);
        assert_eq!((t.next(), t.len()), (None, 0));
    }

    #[test]
    fn past_deadlines_and_wrap_around() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0);
        let s = Duration::from_secs;
        t.arm(t0 + s(10), key(1));
        assert_eq!(drain(&mut t, t0 + s(10)), [key(1)]);
        // Armed in the past: due at once.
        t.arm(t0 + s(5), key(2));
        assert_eq!(t.next(), Some(t0 + s(5)));
        assert_eq!(drain(&mut t, t0 + s(10)), [key(2)]);
        // Several laps of the wheel, an entry per lap.
        for lap in 1..=5u64 {
            t.arm(t0 + s(10 + 60 * lap), key(10 + lap));
            assert_eq!(
                drain(&mut t, t0 + s(10 + 60 * lap) - Duration::from_millis(1)),
                []
            );
            assert_eq!(drain(&mut t, t0 + s(10 + 60 * lap)), [key(10 + lap)]);
        }
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn a_far_first_deadline_does_not_shift_the_wheel() {
        // The first entry armed is 32 s ahead; later, nearer ones must still get their own
        // slots (a wheel whose tick 0 was that first deadline piled them all into one).
        let t0 = Instant::now();
        let mut t = Timers::new(t0);
        t.arm(t0 + Duration::from_secs(32), key(0));
        for i in 1..=100u64 {
            t.arm(t0 + Duration::from_millis(10 * i), key(i));
        }
        let occupied: u32 = t.occupied.iter().map(|w| w.count_ones()).sum();
        assert_eq!(occupied, 101);
        assert_eq!(drain(&mut t, t0 + Duration::from_millis(10)), [key(1)]);
    }

    #[test]
    fn many_entries_fire_once_each() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0);
        for i in 0..10_000u64 {
            t.arm(t0 + Duration::from_micros(i * 7919 % 70_000_000), key(i));
        }
        let mut fired = Vec::new();
        let mut now = t0;
        while let Some(next) = t.next() {
            assert!(next >= now, "deadlines come in order");
            now = next;
            fired.extend(drain(&mut t, now));
        }
        fired.sort();
        assert_eq!(fired, (0..10_000).map(key).collect::<Vec<_>>());
    }
}
