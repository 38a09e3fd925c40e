//! Shared fixtures: address blocks and config, the proxy process, scripted user agents.
#![allow(dead_code)]

pub mod admin;
pub mod auth;
pub mod carrier;
pub mod dialog;
pub mod dns;
pub mod msg;
pub mod net;
pub mod proxy;
pub mod register;
pub mod routes;
pub mod tls;
pub mod tweak;
pub mod ua;
pub mod uac;

pub use auth::invite_with_digest;
pub use msg::{tg_of, MsgExt};
pub use net::{Layout, Net, CARRIER_A, DID, FAILOVER, PBX, PROXY, SERVER, TERMINATION};
pub use proxy::TestProxy;
pub use ua::{Peer, TcpUa, Ua, WAIT};
pub use uac::UacCall;

/// A proxy on the shipped layout of a fresh block.
pub fn start() -> (Net, TestProxy) {
    let net = Net::next();
    let proxy = TestProxy::start(&net.config());
    (net, proxy)
}

/// The Request-URI a caller dials for `user` through the proxy of `net`.
pub fn ruri(net: &Net, user: &str) -> String {
    format!("sip:{user}@{}", net.proxy())
}
