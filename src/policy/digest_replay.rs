//! Bounded replay protection for `qop=auth` answers: per nonce, the highest `nc` accepted.
//!
//! Only answers whose response was already verified reach this table, so an attacker without
//! a password cannot fill it. Entries live until their nonce expires. When the table holds
//! `cap` live nonces, expired entries are pruned (at most once per second); if it is still full,
//! a *new* nonce is refused with `Full` (the caller answers `stale=true`, the client
//! re-challenges). Live entries are never evicted: evicting one would let its (nonce, nc)
//! pairs be replayed.

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use super::nonce::TAG_LEN;

/// Default cap on tracked nonces (~100k × ~50 bytes ≈ 5 MB worst case).
pub(super) const DEFAULT_CAP: usize = 100_000;

/// Why an answer was refused by the replay table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// This nonce already saw an `nc` at least this high.
    Replay,
    /// The table is full of live nonces.
    Full,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    highest_nc: u32,
    /// Unix seconds after which the nonce is stale anyway, so the entry can go.
    expires: u64,
}

/// `(nonce tag → highest nc)`, sharded, bounded.
#[derive(Debug)]
pub(super) struct ReplayCache {
    map: DashMap<[u8; TAG_LEN], Seen>,
    cap: usize,
    last_prune: AtomicU64,
}

impl ReplayCache {
    /// An empty table holding at most `cap` nonces.
    pub fn new(cap: usize) -> Self {
        Self {
            map: DashMap::new(),
            cap,
            last_prune: AtomicU64::new(0),
        }
    }

    /// Records `nc` for the nonce `tag`; refuses it unless it is strictly above every `nc`
    /// accepted before for that nonce.
    pub fn accept(&self, tag: [u8; TAG_LEN], nc: u32, expires: u64, now: u64) -> Result<(), Refusal> {
        if let Some(mut seen) = self.map.get_mut(&tag) {
            return bump(&mut seen, nc);
        }
        // Checked before `entry()`: `len()` locks every shard and must not run under a shard lock.
        if self.map.len() >= self.cap && !self.make_room(now) {
            return Err(Refusal::Full);
        }
        match self.map.entry(tag) {
            Entry::Occupied(mut e) => bump(e.get_mut(), nc),
            Entry::Vacant(e) => {
                e.insert(Seen {
                    highest_nc: nc,
                    expires,
                });
                Ok(())
            }
        }
    }

    /// Number of nonces tracked (for metrics).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Drops expired entries (at most once per second); true when there is room afterwards.
    fn make_room(&self, now: u64) -> bool {
        if self.last_prune.swap(now, Ordering::Relaxed) != now {
            self.prune(now);
        }
        self.map.len() < self.cap
    }

    /// Drops every entry whose nonce has expired.
    pub fn prune(&self, now: u64) {
        self.map.retain(|_, seen| seen.expires >= now);
    }
}

fn bump(seen: &mut Seen, nc: u32) -> Result<(), Refusal> {
    if nc <= seen.highest_nc {
        return Err(Refusal::Replay);
    }
    seen.highest_nc = nc;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nc_must_increase() {
        let c = ReplayCache::new(10);
        assert_eq!(c.accept([1; 16], 1, 100, 0), Ok(()));
        assert_eq!(c.accept([1; 16], 1, 100, 0), Err(Refusal::Replay));
        assert_eq!(c.accept([1; 16], 3, 100, 0), Ok(()));
        assert_eq!(c.accept([1; 16], 2, 100, 0), Err(Refusal::Replay));
        assert_eq!(c.accept([2; 16], 1, 100, 0), Ok(()));
    }

    #[test]
    fn full_table_prunes_expired_but_never_evicts_live() {
        let c = ReplayCache::new(2);
        c.accept([1; 16], 1, 10, 0).unwrap();
        c.accept([2; 16], 1, 100, 0).unwrap();
        assert_eq!(c.accept([3; 16], 1, 100, 5), Err(Refusal::Full));
        // Both still tracked: a replay of either is still caught.
        assert_eq!(c.accept([1; 16], 1, 10, 5), Err(Refusal::Replay));
        // After nonce 1 expired, its slot is reused.
        assert_eq!(c.accept([3; 16], 1, 100, 11), Ok(()));
        assert_eq!(c.accept([2; 16], 1, 100, 11), Err(Refusal::Replay));
        assert_eq!(c.len(), 2);
    }
}
