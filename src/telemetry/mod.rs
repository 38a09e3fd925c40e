//! Telemetry: logs (tracing; level reloadable), Prometheus metrics fed by the core's events,
//! and the liveness state that `/healthz`, `/status` and the systemd watchdog read.
//!
//! The driver owns the writes: after each loop iteration it calls `Telemetry::after_iteration`
//! (drains the core's events, publishes its table sizes, observes relay latencies) and on each
//! 1 s tick `Telemetry::tick`. Readers on other tasks only load atomics or render the registry.

mod health;
mod log;
mod metrics;
mod scrape;

use std::time::Instant;

use prometheus_client::encoding::prometheus_text;

pub use health::{Health, STALE};
pub use log::{init, LogControl, LogError};
pub use metrics::{Metrics, LATENCY_BUCKETS, METHODS};
pub use scrape::carrier_status;

use crate::config::Snapshot;
use crate::policy::limits::Limits;
use crate::proxy::keepalive::CarrierStatus;
use crate::proxy::Core;

/// `Content-Type` of `/metrics` (Prometheus text format 0.0.4).
pub const METRICS_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The process's telemetry, shared as `Arc<Telemetry>` by the driver and the admin port.
#[derive(Debug)]
pub struct Telemetry {
    /// Event counters and the latency histogram.
    pub metrics: Metrics,
    /// Readiness, heartbeat, core counts, config generation.
    pub health: Health,
    log: LogControl,
}

impl Telemetry {
    /// Fresh metrics; `base` anchors heartbeats; config `generation` loaded at unix `loaded_at`.
    pub fn new(log: LogControl, base: Instant, generation: u64, loaded_at: u64) -> Telemetry {
        Telemetry {
            metrics: Metrics::new(),
            health: Health::new(base, generation, loaded_at),
            log,
        }
    }

    /// After a driver loop iteration: counts the core's events, publishes its table sizes and
    /// records one latency per message handled (`received` holds their arrival instants; it is
    /// cleared, keeping its capacity).
    pub fn after_iteration(&self, core: &mut Core, received: &mut Vec<Instant>, now: Instant) {
        while let Some(e) = core.poll_event() {
            self.metrics.record(&e);
        }
        self.health.publish(core.counts());
        for t in received.drain(..) {
            self.metrics.observe_latency(now.saturating_duration_since(t));
        }
    }

    /// The driver's periodic tick: heartbeat, and a systemd watchdog ping when enabled.
    pub fn tick(&self, now: Instant, watchdog: bool) {
        self.health.beat(now);
        if watchdog {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
        }
    }

    /// A new config went live: record it and apply its `[log].level`.
    pub fn config_loaded(&self, snap: &Snapshot, loaded_at: u64) {
        self.health.config_loaded(snap.generation, loaded_at);
        match self.log.set_level(&snap.log.level) {
            Ok(true) => tracing::debug!(level = %snap.log.level, "log level applied"),
            Ok(false) => {}
            Err(e) => tracing::warn!("reload: {e}; the previous log level stays"),
        }
    }

    /// The whole `/metrics` body: event metrics, then the scrape-time gauges.
    pub fn render(&self, limits: &Limits, links: &CarrierStatus, snap: &Snapshot) -> String {
        let mut out = String::with_capacity(8192);
        let gauges = scrape::registry(limits, links, snap, &self.health);
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, self.metrics.registry());
        let _ = prometheus_text::encode(&mut out, &gauges);
        out
    }
}

#[cfg(test)]
mod tests;
