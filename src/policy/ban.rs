//! Brute-force protection (SPEC §2 `[security]`): `auth_failures` failed digest attempts from
//! one source IP within `auth_window` ban that IP for `ban_time`. Sans-IO: `now` comes in.
//!
//! * Settings are passed to every call, so a reload applies at once (to windows and to bans
//!   started after it; a running ban keeps the end it was given).
//! * `auth_failures = 0` disables banning.
//! * The window is fixed: it opens at the first failure and the count restarts once it is over.
//! * Memory is bounded: at most `cap` IPs are tracked. When full, idle entries (window over and
//!   no live ban) are pruned; if it is still full, the oldest *counters* (never a live ban) are
//!   dropped, an eighth of the table at a time. If every entry is a live ban, a new IP is not
//!   tracked (its failures are not counted) rather than lifting anyone's ban. A spoofed flood
//!   therefore costs at most `cap` entries and cannot free a banned attacker.

use std::net::IpAddr;
use std::time::Instant;

use dashmap::DashMap;

use crate::config::Security;

/// Default cap on tracked source addresses.
pub const DEFAULT_CAP: usize = 65_536;

/// Failure counters and bans per source IP, sharded for concurrent use from every receive task.
#[derive(Debug)]
pub struct BanList {
    map: DashMap<IpAddr, Record>,
    cap: usize,
}

/// What we know about one source.
#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    window_start: Instant,
    banned_until: Option<Instant>,
}

impl Record {
    fn banned_at(&self, now: Instant) -> bool {
        self.banned_until.is_some_and(|until| now < until)
    }

    /// Neither a live ban nor a live window: safe to forget.
    fn idle(&self, now: Instant, security: &Security) -> bool {
        !self.banned_at(now) && now.saturating_duration_since(self.window_start) >= security.auth_window
    }
}

impl Default for BanList {
    fn default() -> Self {
        Self::new(DEFAULT_CAP)
    }
}

impl BanList {
    /// An empty list tracking at most `cap` source addresses.
    pub fn new(cap: usize) -> Self {
        Self {
            map: DashMap::new(),
            cap: cap.max(1),
        }
    }

    /// Counts one failed attempt from `ip`; true when this failure starts a ban.
    pub fn record_failure(&self, ip: IpAddr, now: Instant, security: &Security) -> bool {
        if security.auth_failures == 0 {
            return false;
        }
        if !self.map.contains_key(&ip) && self.map.len() >= self.cap && !self.make_room(now, security) {
            return false;
        }
        let mut rec = self.map.entry(ip).or_insert(Record {
            failures: 0,
            window_start: now,
            banned_until: None,
        });
        count(&mut rec, now, security)
    }

    /// True while `ip` is banned.
    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.map.get(&ip).is_some_and(|rec| rec.banned_at(now))
    }

    /// Forgets the failures of `ip` after a successful authentication (a live ban stays).
    pub fn clear(&self, ip: IpAddr, now: Instant) {
        self.map.remove_if(&ip, |_, rec| !rec.banned_at(now));
    }

    /// Drops idle entries; the runtime may call it periodically (it also runs when full).
    pub fn prune(&self, now: Instant, security: &Security) {
        self.map.retain(|_, rec| !rec.idle(now, security));
    }

    /// Addresses currently banned (for metrics / status).
    pub fn banned_count(&self, now: Instant) -> usize {
        self.map.iter().filter(|e| e.value().banned_at(now)).count()
    }

    /// Addresses tracked (counters and bans).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Prunes idle entries, then the oldest counters; true when there is room afterwards.
    fn make_room(&self, now: Instant, security: &Security) -> bool {
        self.prune(now, security);
        if self.map.len() < self.cap {
            return true;
        }
        let mut counters: Vec<(Instant, IpAddr)> = self
            .map
            .iter()
            .filter(|e| !e.value().banned_at(now))
            .map(|e| (e.value().window_start, *e.key()))
            .collect();
        counters.sort_unstable_by_key(|(start, _)| *start);
        for (_, ip) in counters.iter().take((self.cap / 8).max(1)) {
            self.map.remove_if(ip, |_, rec| !rec.banned_at(now));
        }
        self.map.len() < self.cap
    }
}

/// Applies one failure to a record; true when it starts a ban.
fn count(rec: &mut Record, now: Instant, security: &Security) -> bool {
    if rec.banned_at(now) {
        return false;
    }
    if rec.banned_until.is_some() || now.saturating_duration_since(rec.window_start) >= security.auth_window {
        *rec = Record {
            failures: 0,
            window_start: now,
            banned_until: None,
        };
    }
    rec.failures = rec.failures.saturating_add(1);
    if rec.failures < security.auth_failures {
        return false;
    }
    rec.failures = 0;
    rec.banned_until = Some(now.checked_add(security.ban_time).unwrap_or(now));
    true
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sec(failures: u32, window: u64, ban: u64) -> Security {
        Security {
            auth_failures: failures,
            auth_window: Duration::from_secs(window),
            ban_time: Duration::from_secs(ban),
            ..Security::default()
        }
    }

    /// Simulated time starts at an arbitrary instant; tests only ever add to it.
    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn bans_after_n_failures_within_window() {
        let (list, t0, s) = (BanList::default(), t0(), sec(3, 60, 300));
        assert!(!list.record_failure(ip(1), t0, &s));
        assert!(!list.record_failure(ip(1), t0 + Duration::from_secs(10), &s));
        assert!(!list.is_banned(ip(1), t0 + Duration::from_secs(10)));
        assert!(list.record_failure(ip(1), t0 + Duration::from_secs(20), &s));
        assert!(list.is_banned(ip(1), t0 + Duration::from_secs(21)));
        assert!(!list.is_banned(ip(2), t0 + Duration::from_secs(21)));
        // Failures during the ban do not extend it.
        assert!(!list.record_failure(ip(1), t0 + Duration::from_secs(100), &s));
        assert!(list.is_banned(ip(1), t0 + Duration::from_secs(319)));
        assert!(!list.is_banned(ip(1), t0 + Duration::from_secs(320)));
        assert_eq!(list.banned_count(t0 + Duration::from_secs(30)), 1);
    }

    #[test]
    fn window_expiry_restarts_the_count() {
        let (list, t0, s) = (BanList::default(), t0(), sec(3, 60, 300));
        list.record_failure(ip(1), t0, &s);
        list.record_failure(ip(1), t0 + Duration::from_secs(30), &s);
        assert!(!list.record_failure(ip(1), t0 + Duration::from_secs(61), &s));
        assert!(!list.record_failure(ip(1), t0 + Duration::from_secs(62), &s));
        assert!(list.record_failure(ip(1), t0 + Duration::from_secs(63), &s));
    }

    #[test]
    fn after_a_ban_the_count_starts_over() {
        let (list, t0, s) = (BanList::default(), t0(), sec(2, 600, 10));
        list.record_failure(ip(1), t0, &s);
        assert!(list.record_failure(ip(1), t0, &s));
        let later = t0 + Duration::from_secs(11);
        assert!(!list.record_failure(ip(1), later, &s));
        assert!(list.record_failure(ip(1), later, &s));
    }

    #[test]
    fn clear_resets_counters_but_not_bans() {
        let (list, t0, s) = (BanList::default(), t0(), sec(2, 60, 300));
        list.record_failure(ip(1), t0, &s);
        list.clear(ip(1), t0);
        assert!(!list.record_failure(ip(1), t0, &s));
        assert!(list.record_failure(ip(1), t0, &s));
        list.clear(ip(1), t0);
        assert!(list.is_banned(ip(1), t0));
    }

    #[test]
    fn settings_changes_apply_and_zero_disables() {
        let (list, t0) = (BanList::default(), t0());
        assert!(!list.record_failure(ip(1), t0, &sec(0, 60, 300)));
        assert!(list.is_empty());
        list.record_failure(ip(1), t0, &sec(5, 60, 300));
        assert!(list.record_failure(ip(1), t0, &sec(2, 60, 300)));
    }

    #[test]
    fn spoofed_flood_is_bounded_and_keeps_bans() {
        let (list, t0, s) = (BanList::new(64), t0(), sec(2, 60, 300));
        list.record_failure(ip(0), t0, &s);
        assert!(list.record_failure(ip(0), t0, &s));
        for n in 1..10_000 {
            list.record_failure(ip(n), t0 + Duration::from_millis(u64::from(n)), &s);
            assert!(list.len() <= 64);
        }
        assert!(list.is_banned(ip(0), t0 + Duration::from_secs(20)));
        // The newest attacker is still tracked and can be banned.
        assert!(list.record_failure(ip(9_999), t0 + Duration::from_secs(20), &s));
    }

    #[test]
    fn table_full_of_bans_refuses_new_ips() {
        let (list, t0, s) = (BanList::new(2), t0(), sec(1, 60, 300));
        assert!(list.record_failure(ip(1), t0, &s));
        assert!(list.record_failure(ip(2), t0, &s));
        assert!(!list.record_failure(ip(3), t0, &s));
        assert!(list.is_banned(ip(1), t0) && list.is_banned(ip(2), t0));
        // Once the bans expire, the slots are reused.
        assert!(list.record_failure(ip(3), t0 + Duration::from_secs(301), &s));
    }

    #[test]
    fn idle_entries_are_pruned() {
        let (list, t0, s) = (BanList::default(), t0(), sec(3, 60, 300));
        list.record_failure(ip(1), t0, &s);
        list.record_failure(ip(2), t0 + Duration::from_secs(50), &s);
        list.prune(t0 + Duration::from_secs(61), &s);
        assert_eq!(list.len(), 1);
    }
}
