use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::*;
use crate::config::{self, Admin, ConfigError};
use crate::policy::testing::Fixture;
use crate::proxy::Services;
use crate::runtime::admin::http::{self, HttpError};
use crate::runtime::admin::Ctx;
use crate::telemetry::{LogControl, Telemetry};

fn ctx(token: Option<&str>, t0: Instant) -> (Ctx, mpsc::Receiver<crate::runtime::admin::ReloadRequest>) {
    let mut snap = Fixture::loopback().build();
    snap.admin = Some(Admin {
        listen: "127.0.0.1:9060".parse::<SocketAddr>().unwrap(),
        token: token.map(str::to_owned),
    });
    let telemetry = Arc::new(Telemetry::new(LogControl::default(), t0, 1, 0));
    let (reloads, rx) = mpsc::channel(1);
    let ctx = Ctx {
        live: config::live(snap),
        services: Arc::new(Services::new([7; 32])),
        telemetry,
        listeners: vec!["udp:127.0.0.1:5060".into()],
        reloads,
    };
    (ctx, rx)
}

fn req(raw: &str) -> http::Request {
    http::parse(raw.as_bytes()).unwrap().unwrap()
}

fn status_of(a: Action) -> u16 {
    match a {
        Action::Respond(r) => r.status,
        Action::Reload => 0,
    }
}

#[test]
fn token_is_required_when_set() {
    let t0 = Instant::now();
    let (ctx, _rx) = ctx(Some("s3cr3t"), t0);
    let get = |auth: &str| {
        status_of(route(
            &req(&format!("GET /status HTTP/1.1\r\n{auth}\r\n")),
            &ctx,
            t0,
        ))
    };
    assert_eq!(get(""), 401);
    assert_eq!(get("Authorization: Bearer wrong\r\n"), 401);
    assert_eq!(get("Authorization: Basic s3cr3t\r\n"), 401);
    assert_eq!(get("Authorization: Bearer s3cr3t-longer\r\n"), 401);
    assert_eq!(get("Authorization: Bearer s3cr3t\r\n"), 200);
    assert_eq!(get("Authorization: bearer s3cr3t\r\n"), 200);
}

#[test]
fn unauthorized_answer_names_the_scheme() {
    let t0 = Instant::now();
    let (ctx, _rx) = ctx(Some("x"), t0);
    let Action::Respond(r) = route(&req("GET /nope HTTP/1.1\r\n\r\n"), &ctx, t0) else {
        panic!("expected a response");
    };
    assert_eq!(r.status, 401, "auth comes before routing: no route is revealed");
    assert!(r.headers.contains(&("WWW-Authenticate", "Bearer")));
}

#[test]
fn open_without_token() {
    let t0 = Instant::now();
    let (ctx, _rx) = ctx(None, t0);
    assert_eq!(
        status_of(route(&req("GET /status HTTP/1.1\r\n\r\n"), &ctx, t0)),
        200
    );
}

#[test]
fn unknown_paths_and_methods() {
    let t0 = Instant::now();
    let (ctx, _rx) = ctx(None, t0);
    assert_eq!(
        status_of(route(&req("GET /nope HTTP/1.1\r\n\r\n"), &ctx, t0)),
        404
    );
    assert_eq!(
        status_of(route(&req("POST /metrics HTTP/1.1\r\n\r\n"), &ctx, t0)),
        405
    );
    assert_eq!(
        status_of(route(&req("GET /reload HTTP/1.1\r\n\r\n"), &ctx, t0)),
        405
    );
    assert_eq!(
        route(&req("POST /reload HTTP/1.1\r\n\r\n"), &ctx, t0),
        Action::Reload
    );
}

#[test]
fn oversized_body_never_reaches_routing() {
    let raw = "POST /reload HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
    assert_eq!(http::parse(raw.as_bytes()), Err(HttpError::BodyTooLarge));
}

#[test]
fn healthz_follows_the_heartbeat() {
    let t0 = Instant::now();
    let (ctx, _rx) = ctx(None, t0);
    let health = |now| status_of(route(&req("GET /healthz HTTP/1.1\r\n\r\n"), &ctx, now));
    assert_eq!(health(t0), 503, "not ready");
    ctx.telemetry.health.set_ready();
    ctx.telemetry.tick(t0, false);
    assert_eq!(health(t0 + Duration::from_secs(1)), 200);
    assert_eq!(health(t0 + Duration::from_secs(30)), 503, "driver stalled");
}

#[test]
fn metrics_and_status_bodies() {
    let t0 = Instant::now();
    let (ctx, _rx) = ctx(None, t0);
    let Action::Respond(m) = route(&req("GET /metrics HTTP/1.1\r\n\r\n"), &ctx, t0) else {
        panic!("expected a response");
    };
    assert!(m.content_type.starts_with("text/plain; version=0.0.4"));
    assert!(String::from_utf8_lossy(&m.body).contains("trunkgate_requests_total"));
    let Action::Respond(s) = route(&req("GET /status HTTP/1.1\r\n\r\n"), &ctx, t0) else {
        panic!("expected a response");
    };
    let v: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
    assert_eq!(v["config"]["generation"], 1);
    assert_eq!(v["listeners"][0], "udp:127.0.0.1:5060");
    assert_eq!(v["carriers"][0]["name"], "carrier-a");
    assert_eq!(v["carriers"][0]["status"], "UNKNOWN");
    assert_eq!(v["accounts"][0]["account_id"], "acme");
    assert_eq!(v["accounts"][0]["active_calls"], 0);
    assert_eq!(v["core"]["dialogs"], 0);
}

#[test]
fn reload_answers() {
    assert_eq!(reload_response(Ok(3)).body, b"{\"generation\":3}\n");
    let err = ConfigError {
        file: "t.toml".into(),
        line: 2,
        col: 5,
        key: "proxy.listen".into(),
        message: "bad".into(),
    };
    let r = reload_response(Err(ConfigErrors(vec![err])));
    assert_eq!(r.status, 422);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["errors"][0]["key"], "proxy.listen");
}
