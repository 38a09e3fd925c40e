//! Fixtures of the routing acceptance suite (SPEC §4): configs written per test from small
//! pieces (carriers, accounts, IP-authenticated servers), and the few call steps every test
//! repeats (dial, refuse, answer, hang up).
//!
//! Config text uses `127.0.N.` for the test's own block; `config` fills in N.

use std::time::{Duration, Instant};

use trunkgate::sip::{Message, ResponseBuilder};

use super::msg::{sdp, MsgExt};
use super::net::Net;
use super::proxy::TestProxy;
use super::ua::{Peer, Ua};
use super::uac::UacCall;

/// `[proxy]` for the block (udp + tcp on .1), then `body`; `127.0.N.` becomes the block.
pub fn config(net: &Net, proxy_extra: &str, body: &str) -> String {
    let text = format!(
        r#"[proxy]
listen = ["udp:127.0.N.1:5060", "tcp:127.0.N.1:5060"]
advertise = "127.0.N.1"
realm = "edge.test"
{proxy_extra}

[log]
level = "info"

{body}
"#
    );
    text.replace("127.0.N.", &format!("127.0.{}.", net.n))
}

/// Starts a proxy on `config(net, proxy_extra, body)`.
pub fn start_with(net: &Net, proxy_extra: &str, body: &str) -> TestProxy {
    TestProxy::start(&config(net, proxy_extra, body))
}

/// Carrier A at .2: sends inbound calls, never chosen outbound (`rules = ["^$"]`).
pub fn inbound_carrier(lines: &str) -> String {
    format!(
        "[[carriers]]\nname = \"carrier-a\"\nhostname = \"127.0.N.2\"\nkeep_alive = false\nrules = [\"^$\"]\n{lines}\n"
    )
}

/// An outbound carrier at `127.0.N.host:5060` (no keep-alive pings).
pub fn carrier(name: &str, host: u8, lines: &str) -> String {
    format!("[[carriers]]\nname = \"{name}\"\nhostname = \"127.0.N.{host}\"\nkeep_alive = false\n{lines}\n")
}

/// A connectivity document: account `id` with `[connectivity.account]` lines.
pub fn account(id: &str, lines: &str) -> String {
    format!("[[connectivity]]\naccount_id = \"{id}\"\n\n[connectivity.account]\n{lines}\n")
}

/// An IP-authenticated server at `127.0.N.host` (calls to it go to :5060) with its options
/// lines and DIDs: `(number, lines of that DID's table)`.
pub fn ip_server(name: &str, host: u8, options: &str, dids: &[(&str, &str)]) -> String {
    let mut s = format!(
        "[[connectivity.servers]]\nname = \"{name}\"\n[connectivity.servers.auth]\nauth_method = \"IP\"\nip = \"127.0.N.{host}\"\n[connectivity.servers.options]\n{options}\n"
    );
    for (did, lines) in dids {
        s.push_str(&format!("[connectivity.servers.DIDs.\"{did}\"]\n{lines}\n"));
    }
    s
}

/// The Request-URI for `user` at the proxy.
pub fn to_proxy(net: &Net, user: &str) -> String {
    format!("sip:{user}@{}", net.proxy())
}

/// Sends an INVITE from `caller` (From user `from_user`) to `number` at the proxy.
pub fn dial(net: &Net, caller: &impl Peer, from_user: &str, number: &str) -> UacCall {
    let call = UacCall::new(caller, from_user, &to_proxy(net, number));
    caller.send(&call.invite());
    call
}

/// Dials and expects the final `code` (checked to be the only final), ACKs it; returns it.
pub fn dial_refused(net: &Net, caller: &impl Peer, number: &str, code: u16) -> Message {
    let call = dial(net, caller, "+14155551234", number);
    refused(caller, &call, code)
}

/// Expects the final `code` for `call` and ACKs it.
pub fn refused(caller: &impl Peer, call: &UacCall, code: u16) -> Message {
    let resp = caller.expect_response(code);
    assert!(
        resp.h("Via").is_some_and(|v| v.contains(&call.invite_branch)),
        "{}",
        resp.text()
    );
    caller.send(&call.ack_non2xx(&resp));
    resp
}

/// The callee answers `code` (non-2xx) and gets the proxy's ACK on the INVITE's branch.
pub fn decline(callee: &Ua, inv: &Message, code: u16) {
    callee.respond(inv, code);
    let ack = callee.expect_request("ACK");
    assert_eq!(
        ack.top_branch(),
        inv.top_branch(),
        "hop-by-hop ACK:\n{}",
        ack.text()
    );
}

/// The callee answers 200, the caller ACKs end to end; the call is up.
pub fn answer(caller: &impl Peer, callee: &Ua, call: &mut UacCall, inv: &Message) {
    callee.respond(inv, 200);
    let ok = caller.expect_response(200);
    call.established(&ok);
    caller.send(&call.ack());
    callee.expect_request("ACK");
}

/// The caller hangs up an answered call through the proxy.
pub fn hang_up(caller: &impl Peer, callee: &Ua, call: &mut UacCall) {
    caller.send(&call.bye());
    let bye = callee.expect_request("BYE");
    callee.respond(&bye, 200);
    let done = caller.expect_response(200);
    assert!(
        done.h("CSeq").is_some_and(|c| c.ends_with("BYE")),
        "{}",
        done.text()
    );
}

/// A provisional or final with an SDP body (e.g. 183 Session Progress with early media).
pub fn respond_sdp(callee: &Ua, req: &Message, code: u16) {
    let local = callee.local();
    let tag = format!("uas{}", local.ip().to_string().replace('.', ""));
    let body = sdp(&local.ip().to_string()).replace('\n', "\r\n");
    let contact = format!("<sip:uas@{local}>");
    let mut b = ResponseBuilder::new(req, code, trunkgate::sip::reason_phrase(code)).to_tag(tag.as_bytes());
    let rrs = req.lines("Record-Route");
    for rr in &rrs {
        b = b.header("Record-Route", rr.as_bytes());
    }
    let bytes = b
        .header("Contact", contact.as_bytes())
        .body("application/sdp", body.as_bytes())
        .build();
    callee.send_raw(&bytes);
}

/// The next INVITE at `ua`, with the time it arrived.
pub fn invite_at(ua: &Ua) -> (Message, Instant) {
    let m = ua.expect_request("INVITE");
    (m, Instant::now())
}

/// Asserts `ua` receives nothing for `ms` milliseconds.
pub fn quiet(ua: &Ua, ms: u64) {
    ua.expect_silence(Duration::from_millis(ms));
}

/// The Request-URI of a request as text.
pub fn ruri_of(m: &Message) -> String {
    String::from_utf8_lossy(m.request_uri().unwrap_or(b"")).into_owned()
}
