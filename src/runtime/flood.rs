//! Flood guard (like Kamailio's pike): a per-source-IP fixed-window message counter, checked by
//! the driver before anything is parsed. The table is owned by the driver task (no locks) and
//! bounded: when it is full, entries whose window has passed are swept (at most once per
//! window); if it is still full — a spoofed flood from more addresses than the table holds —
//! new sources are let through untracked rather than growing the table.
//!
//! Trusted trunk peers (sources the snapshot recognises by address, and password servers with
//! `auth.ip`) are exempt; the exemption is only looked up for a source that is over its limit,
//! so ordinary traffic costs one hash lookup.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::{AuthMethod, Security, ServerId, Snapshot, SourceEntry, SourceIndex, SourceOwner};

/// Default bound on the number of sources tracked at once.
pub const MAX_SOURCES: usize = 65_536;

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the core.
    Pass,
    /// Drop it; `first` is true for the first drop of this source in this window (log it).
    Drop { first: bool },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    start: Instant,
    count: u32,
    dropped: bool,
    /// The config generation under which this source was found to be a trusted peer: not
    /// looked up again (per message, once over the limit) until the window or the config
    /// changes.
    exempt: Option<u64>,
}

/// The driver's flood table.
pub struct FloodGuard {
    table: HashMap<IpAddr, Entry>,
    cap: usize,
    last_sweep: Option<Instant>,
    /// Password servers' `auth.ip` prefixes, rebuilt when the config generation changes.
    trusted: (u64, SourceIndex),
}

impl FloodGuard {
    /// An empty table holding at most `cap` sources.
    pub fn new(cap: usize) -> FloodGuard {
        FloodGuard {
            table: HashMap::new(),
            cap,
            last_sweep: None,
            trusted: (0, SourceIndex::default()),
        }
    }

    /// Counts one message from `ip` and says whether it may pass.
    pub fn check(&mut self, snap: &Snapshot, ip: IpAddr, now: Instant) -> Verdict {
        let sec = &snap.security;
        if sec.rate_limit == 0 {
            return Verdict::Pass;
        }
        let Some(e) = self.entry(ip, now, sec) else {
            return Verdict::Pass;
        };
        if e.count < sec.rate_limit {
            e.count += 1;
            return Verdict::Pass;
        }
        if e.exempt == Some(snap.generation) {
            return Verdict::Pass;
        }
        let exempt = self.exempt(snap, ip);
        let Some(e) = self.table.get_mut(&ip) else {
            return Verdict::Pass;
        };
        if exempt {
            e.exempt = Some(snap.generation);
            return Verdict::Pass;
        }
        let first = !e.dropped;
        e.dropped = true;
        Verdict::Drop { first }
    }

    /// Number of sources tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// The entry of `ip`, reset when its window has passed; `None` when the table is full.
    fn entry(&mut self, ip: IpAddr, now: Instant, sec: &Security) -> Option<&mut Entry> {
        let window = sec.rate_window;
        // The length first: an ordinary message costs one hash lookup (the `entry` below).
        if self.table.len() >= self.cap && !self.table.contains_key(&ip) {
            self.sweep(now, window);
            if self.table.len() >= self.cap {
                return None;
            }
        }
        let fresh = Entry {
            start: now,
            count: 0,
            dropped: false,
            exempt: None,
        };
        let e = self.table.entry(ip).or_insert(fresh);
        if now.saturating_duration_since(e.start) >= window {
            *e = fresh;
        }
        Some(e)
    }

    /// Forgets sources whose window has passed (at most once per window).
    fn sweep(&mut self, now: Instant, window: Duration) {
        if self
            .last_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < window)
        {
            return;
        }
        self.last_sweep = Some(now);
        self.table
            .retain(|_, e| now.saturating_duration_since(e.start) < window);
    }

    /// Trusted trunk peers: anything in the source index, or a password server's `auth.ip`.
    fn exempt(&mut self, snap: &Snapshot, ip: IpAddr) -> bool {
        if !snap.sources.lookup(ip).is_empty() {
            return true;
        }
        if self.trusted.0 != snap.generation {
            self.trusted = (snap.generation, password_sources(snap));
        }
        !self.trusted.1.lookup(ip).is_empty()
    }
}

/// The `auth.ip` prefixes of password servers (seed 004 "basic + ip").
fn password_sources(snap: &Snapshot) -> SourceIndex {
    let mut idx = SourceIndex::default();
    for s in snap
        .servers
        .iter()
        .filter(|s| s.auth.method == AuthMethod::Password)
    {
        for net in &s.auth.ips {
            idx.insert(*net, server_entry(s.id));
        }
    }
    idx
}

fn server_entry(id: ServerId) -> SourceEntry {
    SourceEntry {
        owner: SourceOwner::Server(id),
        port: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::Fixture;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn snap(limit: u32) -> Snapshot {
        let mut s = Fixture::new().carrier("a", "127.0.0.2").build();
        s.security.rate_limit = limit;
        s.security.rate_window = Duration::from_secs(2);
        s
    }

    #[test]
    fn over_the_limit_drops_until_the_window_passes() {
        let s = snap(3);
        let mut g = FloodGuard::new(16);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(g.check(&s, ip("10.0.0.1"), t0), Verdict::Pass);
        }
        assert_eq!(g.check(&s, ip("10.0.0.1"), t0), Verdict::Drop { first: true });
        assert_eq!(g.check(&s, ip("10.0.0.1"), t0), Verdict::Drop { first: false });
        assert_eq!(g.check(&s, ip("10.0.0.9"), t0), Verdict::Pass);
        let later = t0 + Duration::from_secs(2);
        assert_eq!(g.check(&s, ip("10.0.0.1"), later), Verdict::Pass);
    }

    #[test]
    fn carriers_are_exempt_and_zero_disables() {
        let s = snap(1);
        let mut g = FloodGuard::new(16);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert_eq!(g.check(&s, ip("127.0.0.2"), t0), Verdict::Pass);
        }
        let off = snap(0);
        for _ in 0..10 {
            assert_eq!(g.check(&off, ip("10.0.0.1"), t0), Verdict::Pass);
        }
        assert_eq!(g.len(), 1);
    }

    /// A trusted peer over the limit is looked up once; a reload that no longer knows it
    /// makes it count as anyone else.
    #[test]
    fn an_exemption_holds_until_the_config_changes() {
        let s = snap(1);
        let mut g = FloodGuard::new(16);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(g.check(&s, ip("127.0.0.2"), t0), Verdict::Pass);
        }
        let mut gone = Fixture::new().build();
        gone.security = s.security.clone();
        gone.generation = s.generation + 1;
        assert_eq!(g.check(&gone, ip("127.0.0.2"), t0), Verdict::Drop { first: true });
        assert_eq!(
            g.check(&gone, ip("127.0.0.2"), t0),
            Verdict::Drop { first: false }
        );
        assert_eq!(g.check(&s, ip("127.0.0.2"), t0), Verdict::Pass);
    }

    #[test]
    fn the_table_stays_bounded_under_spoofed_sources() {
        let s = snap(1);
        let mut g = FloodGuard::new(100);
        let t0 = Instant::now();
        for i in 0..10_000u32 {
            let a = IpAddr::from(i.to_be_bytes());
            assert_eq!(g.check(&s, a, t0), Verdict::Pass);
        }
        assert_eq!(g.len(), 100);
        // A tracked source is still limited while the table is full.
        assert!(matches!(
            g.check(&s, IpAddr::from(5u32.to_be_bytes()), t0),
            Verdict::Drop { .. }
        ));
        // Once their windows passed, idle sources are swept to make room.
        let later = t0 + Duration::from_secs(3);
        assert_eq!(g.check(&s, ip("10.1.1.1"), later), Verdict::Pass);
        assert_eq!(g.len(), 1);
    }
}
