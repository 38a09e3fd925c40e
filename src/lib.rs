//! trunkgate: a SIP edge proxy for trunking.
//!
//! # Layout
//! ```text
//!   runtime/   tokio shell: UDP/TCP sockets, timers, signals, admin HTTP   (the only I/O)
//!      │  bytes + now
//!   proxy/     RFC 3261 §16 core: requests in, Transmits + wake-ups out
//!   txn/       RFC 3261 §17 transaction state machines
//!   policy/    who is calling, digest, numbers, routes, limits            (pure functions)
//!   config/    TOML → validated → immutable Snapshot (ArcSwap)
//!   sip/       zero-copy message layer over bytes::Bytes
//! ```
//! Nothing under `sip/`, `txn/`, `proxy/`, `policy/` or `config/` reads the clock, touches a
//! socket or uses a global RNG: time, randomness and the snapshot come in as arguments.

pub mod cli;
pub mod config;
pub mod import;
pub mod policy;
pub mod proxy;
pub mod runtime;
pub mod sip;
pub mod telemetry;
pub mod txn;
