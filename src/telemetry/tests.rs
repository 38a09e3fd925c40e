use std::time::{Duration, Instant};

use super::*;
use crate::policy::testing::Fixture;
use crate::proxy::keepalive::CarrierStatus;
use crate::proxy::Event;

fn telemetry(t0: Instant) -> Telemetry {
    Telemetry::new(LogControl::default(), t0, 1, 1_700_000_000)
}

#[test]
fn render_has_every_metric_name() {
    let t = telemetry(Instant::now());
    let snap = Fixture::loopback().build();
    let limits = Limits::default();
    let _permit = limits.try_account("acme", 0);
    t.metrics.record(&Event::Response { code: 404 });
    let text = t.render(&limits, &CarrierStatus::default(), &snap);
    for name in [
        "trunkgate_requests_total",
        "trunkgate_responses_total",
        "trunkgate_auth_failures_total",
        "trunkgate_parse_errors_total",
        "trunkgate_calls_started_total",
        "trunkgate_calls_ended_total",
        "trunkgate_relay_latency_seconds_bucket",
        "trunkgate_active_calls_account{account=\"acme\"} 1",
        "trunkgate_active_calls_carrier{carrier=\"termination\"} 0",
        "trunkgate_carrier_status{carrier=\"carrier-a\",status=\"UNKNOWN\"} 1",
        "trunkgate_core_calls 0",
        "trunkgate_core_transactions 0",
        "trunkgate_core_dialogs 0",
        "trunkgate_core_timers 0",
        "trunkgate_config_generation 1",
        "trunkgate_config_loaded_timestamp_seconds 1700000000",
    ] {
        assert!(text.contains(name), "{name} missing in\n{text}");
    }
}

#[test]
fn carrier_status_is_honest() {
    let snap = Fixture::loopback()
        .edit_carrier("termination", |c| c.keep_alive = false)
        .edit_carrier("failover", |c| c.enabled = false)
        .build();
    let by_name = |n: &str| {
        snap.carriers
            .iter()
            .find(|c| c.name == n)
            .map(|c| carrier_status(c, &CarrierStatus::default()))
    };
    assert_eq!(by_name("carrier-a"), Some("UNKNOWN"));
    assert_eq!(by_name("termination"), Some("ONLINE"));
    assert_eq!(by_name("failover"), Some("DISABLED"));
}

#[test]
fn tick_makes_healthy_and_stale_makes_unhealthy() {
    let t0 = Instant::now();
    let t = telemetry(t0);
    t.health.set_ready();
    t.tick(t0, false);
    assert!(t.health.is_healthy(t0 + Duration::from_secs(2)));
    assert!(!t.health.is_healthy(t0 + STALE + Duration::from_secs(1)));
}

#[test]
fn config_loaded_moves_generation() {
    let t = telemetry(Instant::now());
    let mut snap = Fixture::loopback().build();
    snap.generation = 4;
    t.config_loaded(&snap, 1_800_000_000);
    let text = t.render(&Limits::default(), &CarrierStatus::default(), &snap);
    assert!(text.contains("trunkgate_config_generation 4\n"), "{text}");
}

#[test]
fn metrics_record_method_events() {
    let t = telemetry(Instant::now());
    t.metrics.record(&Event::Request { method: "INVITE" });
    let text = t.render(
        &Limits::default(),
        &CarrierStatus::default(),
        &Fixture::new().build(),
    );
    assert!(
        text.contains("trunkgate_requests_total{method=\"INVITE\"} 1\n"),
        "{text}"
    );
}
