//! Where a branch goes: the next hop of each kind of target (fixed address, a carrier's DNS
//! name as currently resolved, a live registration binding), and which carriers may be used.

use std::net::SocketAddr;

use crate::config::{Snapshot, Transport};
use crate::policy::limits::Permit;
use crate::policy::{Caller, Target, TargetKind};
use crate::proxy::Services;

/// Where one branch goes.
pub(super) struct Hop {
    pub dest: SocketAddr,
    pub transport: Transport,
    pub conn: Option<super::ConnId>,
    pub ruri: String,
}

/// A carrier whose host is a DNS name: its current resolution (kept fresh by the runtime in the
/// snapshot's `resolved` cell, read lock-free). Unresolved (or a failover URI naming a host):
/// `None`, and the target fails with 480 like any unusable destination.
pub(super) fn resolved_hop(
    snap: &Snapshot,
    kind: TargetKind,
    transport: Transport,
    ruri: &str,
) -> Option<Hop> {
    let TargetKind::Carrier(c) = kind else {
        return None;
    };
    let dest = snap.resolved.load().next_hop(c)?;
    Some(Hop {
        dest,
        transport,
        conn: None,
        ruri: ruri.to_owned(),
    })
}

/// A registered target (SPEC §4 "Destination"): the binding's Contact with the user set per
/// `inbound_format`, sent to the address the REGISTER came from, over its connection.
pub(super) fn registered_hop(
    snap: &Snapshot,
    svc: &Services,
    who: Caller,
    target: &Target,
    unix: u64,
) -> Option<Hop> {
    let aor = super::register::aor_of(snap, who)?;
    let b = svc.registrations.best(&aor, unix)?;
    let ruri = super::register::with_user(&b.contact, &target.ruri_user);
    Some(Hop {
        dest: b.source,
        transport: b.transport,
        conn: b.conn,
        ruri,
    })
}

/// SPEC §4: timeouts, transport errors, 408, 480 and 5xx move on to the next target.
pub fn failover_allowed(code: u16) -> bool {
    code == 408 || code == 480 || (500..600).contains(&code)
}

/// A carrier's permit when it is usable (enabled, ONLINE, under its concurrency).
pub(super) fn carrier_permit(snap: &Snapshot, svc: &Services, c: crate::config::CarrierId) -> Option<Permit> {
    let carrier = snap.carriers.get(c.0 as usize)?;
    if !carrier.enabled || !svc.carriers.is_online(&carrier.name) {
        return None;
    }
    svc.limits.try_carrier(&carrier.name, carrier.concurrency)
}
