//! Routing of admin requests, without sockets: bearer-token check, then one handler per route.
//! `POST /reload` needs the driver, so routing only says so (`Action::Reload`) and the
//! connection task does the round trip, then renders the result with `reload_response`.

use std::time::Instant;

use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::http::{Request, Response};
use super::{status, Ctx};
use crate::config::ConfigErrors;
use crate::telemetry::METRICS_CONTENT_TYPE;

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Answer this.
    Respond(Response),
    /// Ask the driver to reload, then answer with `reload_response`.
    Reload,
}

/// Routes one parsed request at `now`.
pub fn route(req: &Request, ctx: &Ctx, now: Instant) -> Action {
    let snap = ctx.live.load();
    let token = snap.admin.as_ref().and_then(|a| a.token.as_deref());
    if !authorized(token, req.authorization.as_deref()) {
        let r = Response::text(401, "unauthorized\n").header("WWW-Authenticate", "Bearer");
        return Action::Respond(r);
    }
    let r = match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/healthz") => healthz(ctx, now),
        ("GET", "/metrics") => {
            let body = ctx
                .telemetry
                .render(&ctx.services.limits, &ctx.services.carriers, &snap);
            Response::with(200, METRICS_CONTENT_TYPE, body.into_bytes())
        }
        ("GET", "/status") => Response::json(200, &status::status(ctx, &snap, now)),
        ("POST", "/reload") => return Action::Reload,
        (_, "/healthz" | "/metrics" | "/status") => {
            Response::text(405, "method not allowed\n").header("Allow", "GET")
        }
        (_, "/reload") => Response::text(405, "method not allowed\n").header("Allow", "POST"),
        _ => Response::text(404, "not found\n"),
    };
    Action::Respond(r)
}

/// 200 `{"generation": N}` when the new config is live; 422 with every error otherwise.
pub fn reload_response(result: Result<u64, ConfigErrors>) -> Response {
    match result {
        Ok(generation) => Response::json(200, &json!({ "generation": generation })),
        Err(errors) => Response::json(422, &json!({ "errors": errors.0 })),
    }
}

/// The driver did not answer (it is stopping).
pub fn reload_unavailable() -> Response {
    Response::text(503, "the proxy is stopping\n")
}

fn healthz(ctx: &Ctx, now: Instant) -> Response {
    if ctx.telemetry.health.is_healthy(now) {
        Response::text(200, "ok\n")
    } else {
        Response::text(503, "unhealthy\n")
    }
}

/// No token configured: open. Otherwise `Bearer TOKEN` is required; the tokens are compared as
/// SHA-256 digests in constant time, so neither their bytes nor their length leak by timing.
fn authorized(expected: Option<&str>, header: Option<&str>) -> bool {
    let Some(expected) = expected.filter(|t| !t.is_empty()) else {
        return true;
    };
    let Some((scheme, given)) = header.and_then(|h| h.split_once(' ')) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(given.trim().as_bytes());
    a.as_slice().ct_eq(b.as_slice()).into()
}

#[cfg(test)]
mod tests;
