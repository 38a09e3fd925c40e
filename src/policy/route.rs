//! Routing decisions: DID → server (inbound), server → carriers (outbound), failover chains.
//! TODO(policy helper)

use std::net::SocketAddr;

use crate::config::Snapshot;

/// `trunkgate route`: a human-readable plan for a call from `from` to `to` (digest `user` when
/// the caller authenticated), computed by the same functions live calls use.
pub fn dry_run(snap: &Snapshot, from: SocketAddr, to: &str, user: Option<&str>) -> String {
    let _ = (snap, from, to, user);
    todo!("policy helper")
}
