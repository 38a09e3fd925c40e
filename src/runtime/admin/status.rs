//! `GET /status`: the live config's generation and load time, the listeners, each carrier and
//! account with its active calls against its limit, and the core's table sizes.

use std::time::Instant;

use serde_json::{json, Value};

use super::Ctx;
use crate::config::Snapshot;
use crate::telemetry::carrier_status;

/// The `/status` document.
pub fn status(ctx: &Ctx, snap: &Snapshot, now: Instant) -> Value {
    let health = &ctx.telemetry.health;
    let c = health.counts();
    json!({
        "healthy": health.is_healthy(now),
        "config": {
            "generation": snap.generation,
            "loaded_at": health.loaded_at(),
            "path": snap.source.display().to_string(),
        },
        "listeners": ctx.listeners,
        "carriers": carriers(ctx, snap),
        "accounts": accounts(ctx, snap),
        "core": {
            "calls": c.calls,
            "transactions": c.relays,
            "dialogs": c.dialogs,
            "timers": c.timers,
        },
    })
}

fn carriers(ctx: &Ctx, snap: &Snapshot) -> Vec<Value> {
    snap.carriers
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "enabled": c.enabled,
                "status": carrier_status(c, &ctx.services.carriers),
                "registration": ctx.services.carriers.registration(&c.name),
                "keep_alive": c.keep_alive,
                "active_calls": ctx.services.limits.active_carrier(&c.name),
                "concurrency": c.concurrency,
            })
        })
        .collect()
}

fn accounts(ctx: &Ctx, snap: &Snapshot) -> Vec<Value> {
    snap.accounts
        .iter()
        .map(|a| {
            json!({
                "account_id": a.account_id,
                "name": a.name,
                "active_calls": ctx.services.limits.active_account(&a.account_id),
                "trunks": a.trunks,
            })
        })
        .collect()
}
