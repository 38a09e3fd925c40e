//! Carrier names resolved in the background (RFC 3263 §4.2, with hickory-resolver).
//!
//! A name with a configured port is looked up with A/AAAA; without one, SRV first
//! (`_sip._udp`, `_sip._tcp`, `_sips._tcp` per transport) and then A/AAAA of each target, else
//! A/AAAA of the name itself with the transport's default port. Answers are kept per question
//! until their TTL runs out, then asked again. A name that stops resolving keeps its last good
//! addresses (logged). After every change the task builds one `ResolvedHosts` for the live
//! snapshot and stores it in the snapshot's `resolved` cell: next hops and source index change
//! together, and the core reads them lock-free.
//!
//! Names are taken as fully qualified (no search domains).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use crate::config::resolved::{dns_queries, DnsQuery, ResolvedHosts};
use crate::config::{Live, Snapshot};

/// An answer is asked again no sooner than this (a zero TTL would spin).
const MIN_REFRESH: Duration = Duration::from_secs(5);
/// ... and no later than this.
const MAX_REFRESH: Duration = Duration::from_secs(3600);
/// A failed lookup is retried after this long.
const RETRY: Duration = Duration::from_secs(10);

/// Last good addresses per question, shared by the DNS task and the driver (which fills a
/// reloaded snapshot from it before the snapshot goes live). Never touched per message.
type Cache = Arc<Mutex<HashMap<DnsQuery, Vec<SocketAddr>>>>;

/// The driver's handle on the DNS task.
#[derive(Clone)]
pub struct Dns {
    cache: Cache,
    wake: Arc<Notify>,
}

/// Why a name gave no address.
#[derive(Debug, thiserror::Error)]
enum LookupError {
    #[error("{0}")]
    Resolver(#[from] hickory_resolver::net::NetError),
    #[error("no address records")]
    Empty,
}

impl Dns {
    /// Starts the background task for `live` (must run inside the runtime).
    pub fn spawn(live: Arc<Live>) -> Dns {
        let dns = Dns {
            cache: Cache::default(),
            wake: Arc::new(Notify::new()),
        };
        tokio::spawn(run(live, dns.clone()));
        dns
    }

    /// Fills `snap`'s resolution from the answers known so far (call before storing a reloaded
    /// snapshot), then wakes the task so new names are looked up at once.
    pub fn prime(&self, snap: &Snapshot) {
        install(snap, &self.cache);
        self.wake.notify_one();
    }
}

/// Builds and stores `snap`'s resolution from the cache.
fn install(snap: &Snapshot, cache: &Cache) {
    let Ok(cache) = cache.lock() else { return };
    let resolved = ResolvedHosts::build(snap, |q| cache.get(q).map_or(&[][..], Vec::as_slice));
    snap.resolved.store(Arc::new(resolved));
}

/// The task: resolve what is due, install on change, sleep until the next expiry or a reload.
async fn run(live: Arc<Live>, dns: Dns) {
    let mut servers: Option<Vec<SocketAddr>> = None;
    let mut resolver = None;
    let mut due: HashMap<DnsQuery, Instant> = HashMap::new();
    let mut installed_gen = 0;
    loop {
        let snap = live.load_full();
        let queries = dns_queries(&snap);
        // Built only once a name needs it (no warning about a missing resolv.conf otherwise).
        if !queries.is_empty() && servers.as_ref() != Some(&snap.proxy.dns_servers) {
            servers = Some(snap.proxy.dns_servers.clone());
            resolver = build_resolver(&snap.proxy.dns_servers);
            due.clear();
        }
        due.retain(|q, _| queries.contains(q));
        let mut changed = false;
        if let Some(r) = &resolver {
            for q in &queries {
                if due.get(q).is_some_and(|t| *t > Instant::now()) {
                    continue;
                }
                let (fresh, next) = refresh(r, q, &dns.cache).await;
                changed |= fresh;
                due.insert(q.clone(), next);
            }
        }
        if changed || installed_gen != snap.generation {
            install(&snap, &dns.cache);
            installed_gen = snap.generation;
        }
        let next = due.values().min().copied();
        let sleep = async {
            match next {
                Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => {}
            _ = dns.wake.notified() => {}
        }
    }
}

/// Looks `q` up once; updates the cache. Returns whether its addresses changed and when to
/// ask again.
async fn refresh(r: &TokioResolver, q: &DnsQuery, cache: &Cache) -> (bool, Instant) {
    let now = Instant::now();
    match resolve(r, q).await {
        Ok((addrs, until)) => {
            let next = until.clamp(now + MIN_REFRESH, now + MAX_REFRESH);
            let Ok(mut cache) = cache.lock() else {
                return (false, next);
            };
            let old = cache.insert(q.clone(), addrs.clone());
            let changed = old.as_ref() != Some(&addrs);
            if changed {
                info!(name = %q.name, ?addrs, "dns: carrier name resolved");
            }
            (changed, next)
        }
        Err(e) => {
            let kept = cache
                .lock()
                .ok()
                .and_then(|c| c.get(q).cloned())
                .unwrap_or_default();
            if kept.is_empty() {
                warn!(name = %q.name, "dns: carrier name does not resolve: {e}");
            } else {
                warn!(name = %q.name, ?kept, "dns: carrier name stopped resolving ({e}); keeping the last good addresses");
            }
            (false, now + RETRY)
        }
    }
}

/// RFC 3263 §4.2: SRV when no port is configured, then A/AAAA.
async fn resolve(r: &TokioResolver, q: &DnsQuery) -> Result<(Vec<SocketAddr>, Instant), LookupError> {
    if q.port.is_none() {
        match srv(r, q).await {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => {}
            Err(e) => debug!(name = %q.name, "dns: no SRV ({e}); trying A/AAAA"),
        }
    }
    addresses(r, &q.name, q.default_port()).await
}

/// SRV targets ordered by priority (ascending) then weight (descending), each resolved to its
/// addresses. `Ok(None)`: the name has no SRV records.
async fn srv(r: &TokioResolver, q: &DnsQuery) -> Result<Option<(Vec<SocketAddr>, Instant)>, LookupError> {
    let lookup = r.srv_lookup(q.srv_name()).await?;
    let mut until = lookup.valid_until();
    let mut records: Vec<_> = lookup
        .answers()
        .iter()
        .filter_map(|rec| match &rec.data {
            RData::SRV(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    if records.is_empty() {
        return Ok(None);
    }
    records.sort_by_key(|s| (s.priority, std::cmp::Reverse(s.weight)));
    let mut out = Vec::new();
    for s in records {
        let target = s.target.to_utf8();
        match addresses(r, &target, s.port).await {
            Ok((addrs, t)) => {
                until = until.min(t);
                for a in addrs {
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
            }
            Err(e) => debug!(target = %target, "dns: SRV target does not resolve: {e}"),
        }
    }
    if out.is_empty() {
        return Err(LookupError::Empty);
    }
    Ok(Some((out, until)))
}

/// A/AAAA of `name` (taken as fully qualified), each with `port`.
async fn addresses(
    r: &TokioResolver,
    name: &str,
    port: u16,
) -> Result<(Vec<SocketAddr>, Instant), LookupError> {
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    let lookup = r.lookup_ip(fqdn).await?;
    let addrs: Vec<SocketAddr> = lookup.iter().map(|ip| SocketAddr::new(ip, port)).collect();
    if addrs.is_empty() {
        return Err(LookupError::Empty);
    }
    Ok((addrs, lookup.valid_until()))
}

/// The resolver for `[proxy] dns_servers` (empty: the system configuration).
fn build_resolver(servers: &[SocketAddr]) -> Option<TokioResolver> {
    let builder = if servers.is_empty() {
        match TokioResolver::builder_tokio() {
            Ok(b) => b,
            Err(e) => {
                warn!("dns: cannot read the system resolver configuration: {e}");
                return None;
            }
        }
    } else {
        let config = ResolverConfig::from_name_servers(servers.iter().map(|a| name_server(*a)).collect());
        TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
    };
    let mut builder = builder;
    let opts = builder.options_mut();
    // SIP peers are mostly IPv4 and our UDP sockets are per family: prefer A.
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    opts.timeout = Duration::from_secs(2);
    opts.attempts = 2;
    match builder.build() {
        Ok(r) => Some(r),
        Err(e) => {
            warn!("dns: cannot build the resolver: {e}");
            None
        }
    }
}

fn name_server(addr: SocketAddr) -> NameServerConfig {
    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
    for c in &mut ns.connections {
        c.port = addr.port();
    }
    ns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_server_keeps_the_configured_port() {
        let ns = name_server("127.0.0.9:5353".parse().unwrap());
        assert_eq!(ns.ip.to_string(), "127.0.0.9");
        assert!(!ns.connections.is_empty());
        assert!(ns.connections.iter().all(|c| c.port == 5353));
    }

    #[tokio::test]
    async fn resolver_for_explicit_servers_builds() {
        assert!(build_resolver(&["127.0.0.9:53".parse().unwrap()]).is_some());
    }
}
