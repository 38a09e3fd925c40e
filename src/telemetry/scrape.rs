//! Gauges computed at scrape time from shared state: active calls per account and carrier (the
//! `Limits` counters), carrier status, the core's table sizes and the config generation. Labels
//! come from the live config (accounts and carriers it names), so they stay bounded.

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use super::Health;
use crate::config::{Carrier, Snapshot};
use crate::policy::limits::Limits;
use crate::proxy::keepalive::CarrierStatus;

type NameLabel = [(&'static str, String); 1];
type StatusLabel = [(&'static str, String); 2];

/// How `/status` and `trunkgate_carrier_status` describe a carrier: `DISABLED` when
/// `enabled = false`; else what keep-alive found (`ONLINE` / `OFFLINE`); a carrier without
/// `keep_alive` is `ONLINE` (always in service, as configured), and one whose first ping has
/// not been answered or missed yet is `UNKNOWN` (routing uses it meanwhile).
pub fn carrier_status(c: &Carrier, links: &CarrierStatus) -> &'static str {
    match (c.enabled, c.keep_alive, links.get(&c.name)) {
        (false, _, _) => "DISABLED",
        (true, true, Some(l)) if !l.online => "OFFLINE",
        (true, true, Some(_)) | (true, false, _) => "ONLINE",
        (true, true, None) => "UNKNOWN",
    }
}

/// Builds a throw-away registry with the scrape-time gauges.
pub fn registry(limits: &Limits, links: &CarrierStatus, snap: &Snapshot, health: &Health) -> Registry {
    let mut r = Registry::with_prefix("trunkgate");
    register_calls(&mut r, limits, snap);
    register_carriers(&mut r, links, snap);
    register_core(&mut r, health);
    r
}

fn register_calls(r: &mut Registry, limits: &Limits, snap: &Snapshot) {
    let accounts = Family::<NameLabel, Gauge>::default();
    for a in &snap.accounts {
        let n = i64::from(limits.active_account(&a.account_id));
        accounts
            .get_or_create(&[("account", a.account_id.clone())])
            .set(n);
    }
    r.register(
        "active_calls_account",
        "Calls holding a permit of the account",
        accounts,
    );
    let carriers = Family::<NameLabel, Gauge>::default();
    for c in &snap.carriers {
        let n = i64::from(limits.active_carrier(&c.name));
        carriers.get_or_create(&[("carrier", c.name.clone())]).set(n);
    }
    r.register(
        "active_calls_carrier",
        "Calls holding a permit of the carrier",
        carriers,
    );
}

fn register_carriers(r: &mut Registry, links: &CarrierStatus, snap: &Snapshot) {
    let status = Family::<StatusLabel, Gauge>::default();
    for c in &snap.carriers {
        let labels = [
            ("carrier", c.name.clone()),
            ("status", carrier_status(c, links).to_owned()),
        ];
        status.get_or_create(&labels).set(1);
    }
    r.register(
        "carrier_status",
        "1 for each carrier's current status (ONLINE, OFFLINE, UNKNOWN: not probed yet, DISABLED)",
        status,
    );
}

fn register_core(r: &mut Registry, health: &Health) {
    let c = health.counts();
    let gauge = |n: usize| gauge_of(i64::try_from(n).unwrap_or(i64::MAX));
    r.register(
        "core_calls",
        "INVITE transactions (calls) held by the core",
        gauge(c.calls),
    );
    r.register(
        "core_transactions",
        "Non-INVITE transactions in progress (relayed or answered locally)",
        gauge(c.relays),
    );
    r.register("core_dialogs", "Established dialogs", gauge(c.dialogs));
    r.register("core_timers", "Armed timers", gauge(c.timers));
    let generation = i64::try_from(health.generation()).unwrap_or(i64::MAX);
    r.register(
        "config_generation",
        "Generation of the live config (1 at start)",
        gauge_of(generation),
    );
    let loaded = i64::try_from(health.loaded_at()).unwrap_or(i64::MAX);
    r.register_with_unit(
        "config_loaded_timestamp",
        "Unix time the live config was loaded",
        Unit::Seconds,
        gauge_of(loaded),
    );
}

fn gauge_of(v: i64) -> Gauge {
    let g = Gauge::default();
    g.set(v);
    g
}
