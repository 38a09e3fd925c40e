//! Exact concurrency counters (SPEC §4 "Concurrency"): account `trunks` and carrier
//! `concurrency`. A call holds RAII `Permit`s from acceptance to its end; dropping the call drops
//! them, so counts never leak and never go negative. Counters are keyed by name (account_id,
//! carrier name), not by snapshot index, so they survive config reloads.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use dashmap::DashMap;

/// The live concurrency counters of the whole process; share it as `Arc<Limits>`.
#[derive(Debug, Default)]
pub struct Limits {
    accounts: DashMap<String, Arc<AtomicU32>>,
    carriers: DashMap<String, Arc<AtomicU32>>,
}

/// Which kind of counter a `Count` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An account's `trunks`.
    Account,
    /// A carrier's `concurrency`.
    Carrier,
}

/// One counter's current value, for `/status` and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// Account or carrier counter.
    pub scope: Scope,
    /// account_id or carrier name.
    pub name: String,
    /// Calls holding a permit now.
    pub active: u32,
}

/// One unit of a counter, held by a call; gives the unit back on `Drop`.
#[derive(Debug)]
#[must_use = "dropping a Permit releases it at once"]
pub struct Permit {
    counter: Arc<AtomicU32>,
}

impl Limits {
    /// Empty counters (each is created on first use).
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one unit of the account's `trunks` (`limit`; 0 = unlimited but still counted), or
    /// `None` when the account is full (486).
    pub fn try_account(&self, account_id: &str, limit: u32) -> Option<Permit> {
        acquire(counter(&self.accounts, account_id), limit)
    }

    /// Takes one unit of the carrier's `concurrency` (0 = unlimited but still counted), or `None`
    /// when the carrier is full (the core then tries the next carrier).
    pub fn try_carrier(&self, name: &str, limit: u32) -> Option<Permit> {
        acquire(counter(&self.carriers, name), limit)
    }

    /// Calls currently counted against the account.
    pub fn active_account(&self, account_id: &str) -> u32 {
        current(&self.accounts, account_id)
    }

    /// Calls currently counted against the carrier.
    pub fn active_carrier(&self, name: &str) -> u32 {
        current(&self.carriers, name)
    }

    /// Every counter's value (accounts first, then carriers, each sorted by name), copied out
    /// so no map lock is held while the caller renders it.
    pub fn snapshot(&self) -> Vec<Count> {
        let mut out = collect(&self.accounts, Scope::Account);
        out.extend(collect(&self.carriers, Scope::Carrier));
        out
    }

    /// Iterates over `snapshot()`.
    pub fn iter(&self) -> impl Iterator<Item = Count> {
        self.snapshot().into_iter()
    }
}

impl Permit {
    /// The counter's value now (including this permit).
    pub fn active(&self) -> u32 {
        self.counter.load(Ordering::Acquire)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Saturating: a counter is never driven below zero, whatever happens.
        let _ = self
            .counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

fn counter(map: &DashMap<String, Arc<AtomicU32>>, key: &str) -> Arc<AtomicU32> {
    if let Some(c) = map.get(key) {
        return Arc::clone(c.value());
    }
    Arc::clone(map.entry(key.to_owned()).or_default().value())
}

/// Compare-exchange loop: increments only while below the limit, so a full counter is never
/// exceeded, even by racing acquirers.
fn acquire(counter: Arc<AtomicU32>, limit: u32) -> Option<Permit> {
    let cap = if limit == 0 { u32::MAX } else { limit };
    let mut cur = counter.load(Ordering::Acquire);
    loop {
        if cur >= cap {
            return None;
        }
        match counter.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(Permit { counter }),
            Err(actual) => cur = actual,
        }
    }
}

fn current(map: &DashMap<String, Arc<AtomicU32>>, key: &str) -> u32 {
    map.get(key).map_or(0, |c| c.load(Ordering::Acquire))
}

fn collect(map: &DashMap<String, Arc<AtomicU32>>, scope: Scope) -> Vec<Count> {
    let mut out: Vec<Count> = map
        .iter()
        .map(|e| Count {
            scope,
            name: e.key().clone(),
            active: e.value().load(Ordering::Acquire),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn acquire_up_to_limit_and_drop_restores() {
        let limits = Limits::new();
        let a = limits.try_account("acme", 2);
        let b = limits.try_account("acme", 2);
        assert!(a.is_some() && b.is_some());
        assert!(limits.try_account("acme", 2).is_none());
        assert_eq!(limits.active_account("acme"), 2);
        drop(a);
        assert_eq!(limits.active_account("acme"), 1);
        let c = limits.try_account("acme", 2);
        assert!(c.is_some());
        drop((b, c));
        assert_eq!(limits.active_account("acme"), 0);
    }

    #[test]
    fn zero_is_unlimited_but_counted() {
        let limits = Limits::new();
        let permits: Vec<_> = (0..100).filter_map(|_| limits.try_carrier("a", 0)).collect();
        assert_eq!(permits.len(), 100);
        assert_eq!(limits.active_carrier("a"), 100);
        drop(permits);
        assert_eq!(limits.active_carrier("a"), 0);
    }

    #[test]
    fn accounts_and_carriers_are_separate() {
        let limits = Limits::new();
        let _a = limits.try_account("x", 1);
        assert!(limits.try_carrier("x", 1).is_some());
        assert_eq!(limits.active_carrier("x"), 0);
        assert_eq!(limits.active_account("x"), 1);
        assert_eq!(limits.active_account("unknown"), 0);
    }

    #[test]
    fn never_negative() {
        let limits = Limits::new();
        let p = limits.try_carrier("a", 1);
        assert!(p.is_some());
        // Forcibly reset under the permit (as a bug elsewhere might), then drop it.
        if let Some(c) = limits.carriers.get("a") {
            c.store(0, Ordering::Release);
        }
        drop(p);
        assert_eq!(limits.active_carrier("a"), 0);
    }

    #[test]
    fn concurrent_acquire_never_exceeds_limit() {
        const LIMIT: u32 = 5;
        let limits = Arc::new(Limits::new());
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (limits, barrier) = (Arc::clone(&limits), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut max_seen = 0;
                    for _ in 0..2000 {
                        if let Some(p) = limits.try_account("acme", LIMIT) {
                            max_seen = max_seen.max(p.active());
                        }
                    }
                    max_seen
                })
            })
            .collect();
        for h in handles {
            let max_seen = h.join().unwrap();
            assert!(max_seen <= LIMIT, "saw {max_seen}");
        }
        assert_eq!(limits.active_account("acme"), 0);
    }

    #[test]
    fn held_permits_across_threads_cap_exactly() {
        let limits = Arc::new(Limits::new());
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let limits = Arc::clone(&limits);
                std::thread::spawn(move || {
                    (0..10)
                        .filter_map(|_| limits.try_carrier("c", 13))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let held: Vec<Permit> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        assert_eq!(held.len(), 13);
        assert_eq!(limits.active_carrier("c"), 13);
        drop(held);
        assert_eq!(limits.active_carrier("c"), 0);
    }

    #[test]
    fn snapshot_lists_every_counter() {
        let limits = Limits::new();
        let _p = limits.try_carrier("b", 0);
        let _q = limits.try_account("acme", 0);
        let counts: Vec<_> = limits.iter().map(|c| (c.scope, c.name, c.active)).collect();
        assert_eq!(
            counts,
            vec![
                (Scope::Account, "acme".into(), 1),
                (Scope::Carrier, "b".into(), 1)
            ]
        );
    }

    #[test]
    fn permit_is_send() {
        fn assert_send<T: Send + Sync>() {}
        assert_send::<Permit>();
        assert_send::<Limits>();
    }
}
