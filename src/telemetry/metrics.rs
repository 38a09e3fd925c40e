//! The event-fed Prometheus metrics. Every label set is bounded: methods are a fixed list
//! (anything else is `OTHER`), codes are numbers 100–699, auth reasons are `&'static str`s from
//! the core. Nothing on the per-event path allocates: method counters are resolved at start,
//! code counters once per code on first use.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::proxy::Event;

/// Methods with their own `method` label; every other token counts as `OTHER`.
pub const METHODS: [&str; 15] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "INFO",
    "UPDATE",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "REFER",
    "MESSAGE",
    "PUBLISH",
    "OTHER",
];

/// Auth failure reasons created at start, so they show as 0 before the first failure.
pub const AUTH_REASONS: [&str; 11] = [
    "bad_nonce",
    "stale",
    "replay",
    "uri_mismatch",
    "realm_mismatch",
    "wrong_response",
    "unsupported_algorithm",
    "malformed",
    "source_not_allowed",
    "banned",
    "bad_route_signature",
];

/// Relay latency buckets, seconds: 50 µs to 100 ms.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
];

const LOWEST_CODE: u16 = 100;
const HIGHEST_CODE: u16 = 699;

type MethodLabel = [(&'static str, &'static str); 1];
type CodeLabel = [(&'static str, u16); 1];
type ReasonLabel = [(&'static str, &'static str); 1];

/// Counters and the latency histogram, registered in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Vec<Counter>,
    responses: Family<CodeLabel, Counter>,
    codes: Box<[OnceLock<Counter>]>,
    auth_failures: Family<ReasonLabel, Counter>,
    parse_errors: Counter,
    calls_started: Counter,
    calls_ended: Counter,
    relay_latency: Histogram,
    flood_dropped: Counter,
    tcp_refused: Counter,
    scanners: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric under the `trunkgate_` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("trunkgate");
        let by_method = Family::<MethodLabel, Counter>::default();
        let requests = METHODS
            .iter()
            .map(|m| by_method.get_or_create_owned(&[("method", *m)]))
            .collect();
        registry.register("requests", "SIP requests received, by method", by_method);
        let responses = Family::<CodeLabel, Counter>::default();
        registry.register(
            "responses",
            "SIP responses sent or relayed, by code",
            responses.clone(),
        );
        let auth_failures = Family::<ReasonLabel, Counter>::default();
        for r in AUTH_REASONS {
            drop(auth_failures.get_or_create(&[("reason", r)]));
        }
        registry.register(
            "auth_failures",
            "Failed authentications, by reason",
            auth_failures.clone(),
        );
        let m = Metrics {
            requests,
            responses,
            codes: (LOWEST_CODE..=HIGHEST_CODE).map(|_| OnceLock::new()).collect(),
            auth_failures,
            parse_errors: Counter::default(),
            calls_started: Counter::default(),
            calls_ended: Counter::default(),
            relay_latency: Histogram::new(LATENCY_BUCKETS),
            flood_dropped: Counter::default(),
            tcp_refused: Counter::default(),
            scanners: Counter::default(),
            registry,
        };
        m.register_plain()
    }

    fn register_plain(mut self) -> Metrics {
        let r = &mut self.registry;
        r.register(
            "parse_errors",
            "Messages dropped as unparseable",
            self.parse_errors.clone(),
        );
        r.register(
            "calls_started",
            "Calls accepted and routed",
            self.calls_started.clone(),
        );
        r.register(
            "calls_ended",
            "Calls ended (answered or not)",
            self.calls_ended.clone(),
        );
        r.register_with_unit(
            "relay_latency",
            "Time from receiving a message to flushing what the core produced for it",
            Unit::Seconds,
            self.relay_latency.clone(),
        );
        r.register(
            "flood_dropped",
            "Messages dropped unparsed because their source IP was over [security].rate_limit",
            self.flood_dropped.clone(),
        );
        r.register(
            "tcp_refused",
            "TCP connections closed for a [security] limit (per-IP cap, keep-alive flood, half-open)",
            self.tcp_refused.clone(),
        );
        r.register(
            "scanner_requests",
            "Requests from unknown sources whose User-Agent is a known SIP scanner",
            self.scanners.clone(),
        );
        self
    }

    /// One message dropped by the flood guard.
    pub fn flood_dropped(&self) {
        self.flood_dropped.inc();
    }

    /// One TCP connection closed for a security limit.
    pub fn tcp_refused(&self) {
        self.tcp_refused.inc();
    }

    /// Counts one core event.
    pub fn record(&self, event: &Event) {
        match event {
            Event::Request { method } => self.request(method),
            Event::Response { code } => self.response(*code),
            Event::ParseError => {
                self.parse_errors.inc();
            }
            Event::AuthFailure { reason } => {
                self.auth_failures.get_or_create(&[("reason", *reason)]).inc();
            }
            Event::CallStarted => {
                self.calls_started.inc();
            }
            Event::CallEnded { .. } => {
                self.calls_ended.inc();
            }
            Event::Scanner => {
                self.scanners.inc();
            }
        }
    }

    /// One relay latency observation.
    pub fn observe_latency(&self, d: Duration) {
        self.relay_latency.observe(d.as_secs_f64());
    }

    /// The registry, for rendering.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn request(&self, method: &str) {
        let i = METHODS
            .iter()
            .position(|m| *m == method)
            .unwrap_or(METHODS.len() - 1);
        if let Some(c) = self.requests.get(i) {
            c.inc();
        }
    }

    /// Codes outside 100–699 are not counted (they cannot be sent).
    fn response(&self, code: u16) {
        let Some(slot) = code
            .checked_sub(LOWEST_CODE)
            .and_then(|i| self.codes.get(usize::from(i)))
        else {
            return;
        };
        slot.get_or_init(|| self.responses.get_or_create_owned(&[("code", code)]))
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::prometheus_text::encode;

    fn text(m: &Metrics) -> String {
        let mut s = String::new();
        encode(&mut s, m.registry()).unwrap();
        s
    }

    #[test]
    fn events_move_their_counters() {
        let m = Metrics::new();
        m.record(&Event::Request { method: "OPTIONS" });
        m.record(&Event::Request { method: "OPTIONS" });
        m.record(&Event::Request { method: "FOO" });
        m.record(&Event::Response { code: 200 });
        m.record(&Event::Response { code: 700 });
        m.record(&Event::Response { code: 99 });
        m.record(&Event::ParseError);
        m.record(&Event::AuthFailure { reason: "stale" });
        m.record(&Event::CallStarted);
        m.record(&Event::CallEnded { code: 200 });
        let t = text(&m);
        assert!(
            t.contains("trunkgate_requests_total{method=\"OPTIONS\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("trunkgate_requests_total{method=\"OTHER\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("trunkgate_requests_total{method=\"INVITE\"} 0\n"),
            "{t}"
        );
        assert!(t.contains("trunkgate_responses_total{code=\"200\"} 1\n"), "{t}");
        assert!(!t.contains("code=\"700\"") && !t.contains("code=\"99\""), "{t}");
        assert!(t.contains("trunkgate_parse_errors_total 1\n"), "{t}");
        assert!(
            t.contains("trunkgate_auth_failures_total{reason=\"stale\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("trunkgate_auth_failures_total{reason=\"banned\"} 0\n"),
            "{t}"
        );
        assert!(t.contains("trunkgate_calls_started_total 1\n"), "{t}");
        assert!(t.contains("trunkgate_calls_ended_total 1\n"), "{t}");
        m.record(&Event::Scanner);
        m.flood_dropped();
        let t = text(&m);
        assert!(t.contains("trunkgate_scanner_requests_total 1\n"), "{t}");
        assert!(t.contains("trunkgate_flood_dropped_total 1\n"), "{t}");
        assert!(t.contains("trunkgate_tcp_refused_total 0\n"), "{t}");
    }

    #[test]
    fn latency_histogram_has_the_buckets() {
        let m = Metrics::new();
        m.observe_latency(Duration::from_micros(70));
        let t = text(&m);
        assert!(
            t.contains("trunkgate_relay_latency_seconds_bucket{le=\"5e-05\"} 0\n"),
            "{t}"
        );
        assert!(
            t.contains("trunkgate_relay_latency_seconds_bucket{le=\"0.0001\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("trunkgate_relay_latency_seconds_bucket{le=\"0.1\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("trunkgate_relay_latency_seconds_count 1\n"), "{t}");
    }

    #[test]
    fn code_labels_are_bounded() {
        let m = Metrics::new();
        for code in 0..=u16::MAX {
            m.record(&Event::Response { code });
        }
        let t = text(&m);
        assert_eq!(t.matches("trunkgate_responses_total{code=").count(), 600);
    }
}
