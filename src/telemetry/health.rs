//! Liveness and state the driver publishes for readers on other tasks (admin HTTP, scrapes):
//! plain atomics, written once per driver loop iteration or tick, read at scrape time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::proxy::CoreCounts;

/// A heartbeat older than this makes `/healthz` answer 503 (the driver ticks every second).
pub const STALE: Duration = Duration::from_secs(5);

/// Readiness, the driver's heartbeat, the core's table sizes and the config generation.
#[derive(Debug)]
pub struct Health {
    /// The instant heartbeats are measured from (atomics hold milliseconds since it).
    base: Instant,
    /// Every listener is bound.
    ready: AtomicBool,
    /// Milliseconds since `base` of the last tick, plus one (0: never ticked).
    heartbeat: AtomicU64,
    calls: AtomicU64,
    relays: AtomicU64,
    dialogs: AtomicU64,
    timers: AtomicU64,
    generation: AtomicU64,
    /// Unix seconds when the live config was loaded.
    loaded_at: AtomicU64,
}

impl Health {
    /// Not ready, never ticked, config `generation` loaded at `loaded_at` (unix seconds).
    pub fn new(base: Instant, generation: u64, loaded_at: u64) -> Health {
        Health {
            base,
            ready: AtomicBool::new(false),
            heartbeat: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            relays: AtomicU64::new(0),
            dialogs: AtomicU64::new(0),
            timers: AtomicU64::new(0),
            generation: AtomicU64::new(generation),
            loaded_at: AtomicU64::new(loaded_at),
        }
    }

    /// Every listener is bound: from now on `/healthz` depends on the heartbeat only.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// The driver loop is alive at `now`.
    pub fn beat(&self, now: Instant) {
        self.heartbeat.store(self.millis(now) + 1, Ordering::Release);
    }

    /// Ready, and the driver ticked within `STALE` before `now`.
    pub fn is_healthy(&self, now: Instant) -> bool {
        let beat = self.heartbeat.load(Ordering::Acquire);
        if !self.ready.load(Ordering::Acquire) || beat == 0 {
            return false;
        }
        self.millis(now).saturating_sub(beat - 1) <= STALE.as_millis() as u64
    }

    /// Stores the core's table sizes (after each driver loop iteration).
    pub fn publish(&self, c: CoreCounts) {
        self.calls.store(c.calls as u64, Ordering::Relaxed);
        self.relays.store(c.relays as u64, Ordering::Relaxed);
        self.dialogs.store(c.dialogs as u64, Ordering::Relaxed);
        self.timers.store(c.timers as u64, Ordering::Relaxed);
    }

    /// The last published table sizes.
    pub fn counts(&self) -> CoreCounts {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed) as usize;
        CoreCounts {
            calls: get(&self.calls),
            relays: get(&self.relays),
            dialogs: get(&self.dialogs),
            timers: get(&self.timers),
        }
    }

    /// A new config is live.
    pub fn config_loaded(&self, generation: u64, loaded_at: u64) {
        self.generation.store(generation, Ordering::Relaxed);
        self.loaded_at.store(loaded_at, Ordering::Relaxed);
    }

    /// The live config's generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Unix seconds when the live config was loaded.
    pub fn loaded_at(&self) -> u64 {
        self.loaded_at.load(Ordering::Relaxed)
    }

    fn millis(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.base).as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_only_when_ready_and_recently_ticked() {
        let t0 = Instant::now();
        let h = Health::new(t0, 1, 0);
        h.beat(t0);
        assert!(!h.is_healthy(t0), "not ready yet");
        h.set_ready();
        assert!(h.is_healthy(t0 + Duration::from_secs(1)));
        assert!(h.is_healthy(t0 + STALE));
        assert!(!h.is_healthy(t0 + STALE + Duration::from_millis(1)));
        h.beat(t0 + Duration::from_secs(10));
        assert!(h.is_healthy(t0 + Duration::from_secs(11)));
    }

    #[test]
    fn never_ticked_is_unhealthy() {
        let t0 = Instant::now();
        let h = Health::new(t0, 1, 0);
        h.set_ready();
        assert!(!h.is_healthy(t0));
    }

    #[test]
    fn counts_round_trip() {
        let h = Health::new(Instant::now(), 1, 0);
        let c = CoreCounts {
            calls: 1,
            relays: 2,
            dialogs: 3,
            timers: 4,
        };
        h.publish(c);
        assert_eq!(h.counts(), c);
        h.config_loaded(7, 99);
        assert_eq!((h.generation(), h.loaded_at()), (7, 99));
    }
}
