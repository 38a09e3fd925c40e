//! Routing and admission policy, sans-IO: pure functions of (`&Snapshot`, request facts) that
//! return a `Decision`. The live proxy and `trunkgate route` call exactly these functions.

pub mod ban;
mod callerid;
pub mod compose;
pub mod digest;
mod dryrun;
pub mod identify;
pub mod limits;
pub mod number;
pub mod route;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::{AccountId, CarrierId, ServerId, Transport};

/// Who sent a request, after identification (and digest authentication when needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Recognised by source address (or, for ACCEPT_REGISTER, by digest).
    Carrier(CarrierId),
    /// An IP-auth server, or a password server that passed digest.
    Server(ServerId),
    /// Nobody we know (yet): challenge or reject.
    Unknown,
}

/// Direction of a call relative to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Carrier → DID → server.
    Inbound,
    /// Server → carriers.
    Outbound,
}

/// The facts of an initial INVITE that policy looks at (already extracted from the message).
#[derive(Debug, Clone, Default)]
pub struct CallFacts<'a> {
    /// Request-URI user part (%-decoded).
    pub ruri_user: &'a str,
    pub to_user: &'a str,
    pub from_user: &'a str,
    pub from_display: Option<&'a str>,
    pub pai_user: Option<&'a str>,
    pub pai_display: Option<&'a str>,
    pub rpid_user: Option<&'a str>,
    pub rpid_display: Option<&'a str>,
}

/// Where a target's request is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A fixed address.
    Addr { addr: SocketAddr, transport: Transport },
    /// The live registration binding of this server (480 when none).
    Registered(ServerId),
    /// The live registration binding of an ACCEPT_REGISTER carrier.
    RegisteredCarrier(CarrierId),
    /// A DNS name to resolve at call time (RFC 3263).
    Host {
        host: String,
        port: Option<u16>,
        transport: Transport,
    },
}

/// What a target is, for limits, status and failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Server(ServerId),
    Carrier(CarrierId),
    /// A failover SIP URI.
    Uri,
}

/// The identity (caller ID) to present on an outbound call: From display/user and PAI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub display: Option<String>,
    /// The number, already in the carrier's `format`.
    pub user: String,
}

/// One attempt of a call: where to send it and how to rewrite the INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    /// Full Request-URI to put on the INVITE (for `Destination::Registered*`, the user part only
    /// matters: the core takes the binding's Contact and sets this user).
    pub ruri: String,
    /// The Request-URI user part (already formatted).
    pub ruri_user: String,
    pub dest: Destination,
    /// Header lines to add (`sip_headers`).
    pub headers: Vec<(String, String)>,
    /// Caller ID to apply to From and P-Asserted-Identity (outbound), `None`: leave as is.
    pub identity: Option<Identity>,
    /// The carrier's `outbound_parameters` resolved for this call (From, To, PAI, RPID);
    /// when set it already includes `identity` and the core applies it instead.
    /// Boxed: most carriers have no `outbound_parameters`, and a `Target` lives in every
    /// call's plan.
    pub compose: Option<Box<compose::Compose>>,
    /// Wait before sending (server `delay`).
    pub delay: Duration,
    /// Give up on this target when no 18x came within this time after sending.
    pub progress_timeout: Option<Duration>,
    /// Give up on this target when no final answer came within this time after sending.
    pub timeout: Duration,
    /// 183 → 180 without SDP.
    pub ignore_early_media: bool,
}

/// The routing result for an accepted call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub direction: Direction,
    /// The account the call counts against (`trunks`).
    pub account: AccountId,
    /// The normalised number (E.164, or as dialled when not reconcilable and hunted).
    pub number: String,
    /// Tried in order (serial forking); failover targets come after the primary.
    pub targets: Vec<Target>,
}

/// Why a call is refused; `code()` gives the SIP answer (one map, the linkerd "rescue").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// Called number is no DID (404).
    UnknownDid,
    /// Outside the carrier's `did_numbers` (404).
    DidNotAllowed,
    /// The DID's server has `enabled = false` (480).
    ServerDisabled,
    /// The calling server has `enabled = false` (403).
    CallerDisabled,
    /// Dialled number cannot be normalised (484).
    NotReconcilable,
    /// No carrier's rules/flags match (404).
    NoRoute,
    /// Every matching carrier is full or OFFLINE (503 + Retry-After).
    CarriersUnavailable,
    /// Account `trunks` reached (486 + Warning).
    TrunkLimit,
    /// Server with no static destination and no live registration (480).
    NotRegistered,
    /// Authentication failed (403).
    Forbidden,
}

impl Rejection {
    /// The SIP status code for this rejection.
    pub fn code(&self) -> u16 {
        match self {
            Rejection::UnknownDid | Rejection::DidNotAllowed | Rejection::NoRoute => 404,
            Rejection::ServerDisabled | Rejection::NotRegistered => 480,
            Rejection::CallerDisabled | Rejection::Forbidden => 403,
            Rejection::NotReconcilable => 484,
            Rejection::CarriersUnavailable => 503,
            Rejection::TrunkLimit => 486,
        }
    }

    /// The Warning text (SPEC §4: `Warning: 399 ADVERTISE "text"`), when the answer carries one.
    pub fn warning(&self) -> Option<&'static str> {
        match self {
            Rejection::TrunkLimit => Some("trunk limit reached"),
            _ => None,
        }
    }

    /// Seconds for `Retry-After`, when the answer carries one.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Rejection::CarriersUnavailable => Some(30),
            _ => None,
        }
    }
}

/// A routing decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Relay(Plan),
    Reject(Rejection),
}
