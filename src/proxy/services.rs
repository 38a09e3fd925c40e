//! State shared by every core shard and the runtime: concurrency permits, brute-force bans,
//! the digest authenticator. Each piece is internally sharded or atomic, so sharing is cheap.

use crate::policy::ban::BanList;
use crate::policy::digest::Authenticator;
use crate::policy::limits::Limits;
use crate::proxy::keepalive::CarrierStatus;
use crate::proxy::registrar::Registrations;

/// Shared services, one per process, handed to every `Core::handle` call.
pub struct Services {
    /// Exact concurrency counters (account `trunks`, carrier `concurrency`).
    pub limits: Limits,
    /// Failed-auth counters and bans per source IP.
    pub bans: BanList,
    /// Digest challenges and verification (stateless nonces).
    pub auth: Authenticator,
    /// Registration bindings (REGISTER from password servers and ACCEPT_REGISTER carriers).
    pub registrations: Registrations,
    /// Carrier reachability from keep-alive pings (ONLINE / OFFLINE).
    pub carriers: CarrierStatus,
}

impl Services {
    /// Builds the services with the process secret (for nonces).
    pub fn new(secret: [u8; 32]) -> Services {
        Services {
            limits: Limits::default(),
            bans: BanList::default(),
            auth: Authenticator::new(secret),
            registrations: Registrations::default(),
            carriers: CarrierStatus::default(),
        }
    }
}
