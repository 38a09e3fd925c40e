//! The registrar (SPEC §4 "REGISTER from a password server", "Destination"): bindings of a
//! password server without a static address, NAT, removal, clamping, persistence, TCP.

use std::time::Duration;

use trunkgate::sip::Message;

use crate::support::register::{granted, register_with_digest, Registration};
use crate::support::tweak::{self, REG_DID, REG_PASSWORD, REG_USER};
use crate::support::*;

/// The registering PBX's port (not 5060, so a wrong destination shows).
const REG_PORT: u16 = 5062;

fn layout(proxy_extra: &str) -> Layout {
    Layout {
        proxy_extra: proxy_extra.to_string(),
        extra: tweak::registering_server(),
        ..Layout::default()
    }
}

fn proxy(net: &Net, proxy_extra: &str) -> TestProxy {
    TestProxy::start(&net.config_with(&layout(proxy_extra)))
}

fn new_reg() -> Registration {
    Registration::new(REG_USER, "edge.test", "sip:edge.test")
}

/// Registers `contact` (a URI) with `expires`; asserts the 200 lists it and returns the 200.
fn register(ua: &impl Peer, contact: &str, expires: u32) -> Message {
    let mut reg = new_reg();
    let ok = register_with_digest(
        ua,
        &mut reg,
        REG_PASSWORD,
        &[&format!("<{contact}>")],
        Some(expires),
    );
    assert_eq!(ok.code(), 200, "{}", ok.text());
    let listed = granted(&ok);
    assert!(
        listed.iter().any(|(u, _)| u == contact),
        "200 lists {contact}:\n{}",
        ok.text()
    );
    ok
}

/// Carrier A calls `REG_DID` from a fresh port: returns the caller and its call.
fn did_call(net: &Net) -> (Ua, UacCall) {
    let caller = Ua::bind_port(net, CARRIER_A, 0);
    let call = UacCall::new(&caller, "+14155551234", &ruri(net, REG_DID));
    caller.send(&call.invite());
    (caller, call)
}

/// The DID call must end with `code` from the proxy, without reaching anyone.
fn did_call_fails(net: &Net, code: u16, callee: &impl Peer) {
    let (caller, call) = did_call(net);
    let r = caller.expect_response(code);
    caller.send(&call.ack_non2xx(&r));
    callee.expect_silence(Duration::from_millis(200));
}

/// Refuses the relayed INVITE with 486 and checks the caller gets it.
fn finish_busy(caller: &Ua, call: &UacCall, callee: &impl Peer, inv: &Message) {
    callee.respond(inv, 486);
    callee.expect_request("ACK");
    let busy = caller.expect_response(486);
    caller.send(&call.ack_non2xx(&busy));
}

#[test]
fn register_is_challenged_then_200_lists_the_contact() {
    let net = Net::next();
    let _p = proxy(&net, "");
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    let contact = format!("sip:{REG_USER}@{}", ua.local());
    // The Request-URI may name the proxy's address instead of the realm.
    let mut reg = Registration::new(REG_USER, "edge.test", &format!("sip:{}:5060", net.ip(PROXY)));
    ua.send(&reg.request(&ua, &[&format!("<{contact}>")], Some(600)));
    let challenge = ua.expect_response(401);
    for o in challenge.lines("WWW-Authenticate") {
        assert!(
            o.contains("realm=\"edge.test\"") && o.contains("qop=\"auth\""),
            "{o}"
        );
    }
    reg.answer(&challenge, REG_USER, REG_PASSWORD);
    ua.send(&reg.request(&ua, &[&format!("<{contact}>")], Some(600)));
    let ok = ua.expect_response(200);
    assert_eq!(granted(&ok), vec![(contact, 600)], "{}", ok.text());
    assert!(ok.to_tag().is_some(), "{}", ok.text());
    assert_eq!(ok.h("Call-ID").as_deref(), Some(reg.call_id.as_str()));
}

#[test]
fn did_call_reaches_the_registered_contact() {
    let net = Net::next();
    let _p = proxy(&net, "");
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    register(&ua, &format!("sip:{REG_USER}@{}", ua.local()), 600);
    let (caller, call) = did_call(&net);
    let inv = ua.expect_request("INVITE");
    assert_eq!(
        String::from_utf8_lossy(inv.request_uri().expect("ruri")),
        format!("sip:4155550150@{}", ua.local()),
        "binding's Contact with the npan user:\n{}",
        inv.text()
    );
    finish_busy(&caller, &call, &ua, &inv);
}

#[test]
fn natted_binding_is_reached_at_the_register_source() {
    let net = Net::next();
    let _p = proxy(&net, "");
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    register(&ua, "sip:pbx@10.9.9.9:5090", 600);
    let (caller, call) = did_call(&net);
    // `ua` is the REGISTER's source: the INVITE must arrive here, not at 10.9.9.9.
    let inv = ua.expect_request("INVITE");
    assert_eq!(
        inv.request_uri(),
        Some(&b"sip:4155550150@10.9.9.9:5090"[..]),
        "{}",
        inv.text()
    );
    finish_busy(&caller, &call, &ua, &inv);
}

#[test]
fn expires_zero_removes_the_binding() {
    let net = Net::next();
    let _p = proxy(&net, "");
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    let contact = format!("sip:{REG_USER}@{}", ua.local());
    register(&ua, &contact, 600);
    let mut reg = new_reg();
    let ok = register_with_digest(
        &ua,
        &mut reg,
        REG_PASSWORD,
        &[&format!("<{contact}>;expires=0")],
        None,
    );
    assert_eq!(ok.code(), 200, "{}", ok.text());
    assert!(ok.hs("Contact").is_empty(), "no binding left:\n{}", ok.text());
    did_call_fails(&net, 480, &ua);
}

#[test]
fn contact_star_removes_every_binding() {
    let net = Net::next();
    let _p = proxy(&net, "");
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    register(&ua, &format!("sip:{REG_USER}@{}", ua.local()), 600);
    let ok = register(&ua, "sip:second@10.9.9.9:5090", 600);
    assert_eq!(granted(&ok).len(), 2, "{}", ok.text());
    let mut reg = new_reg();
    let bad = register_with_digest(&ua, &mut reg, REG_PASSWORD, &["*"], Some(600));
    assert_eq!(bad.code(), 400, "`*` needs Expires: 0:\n{}", bad.text());
    let ok = register_with_digest(&ua, &mut reg, REG_PASSWORD, &["*"], Some(0));
    assert_eq!(ok.code(), 200, "{}", ok.text());
    assert!(ok.hs("Contact").is_empty(), "{}", ok.text());
    did_call_fails(&net, 480, &ua);
}

#[test]
fn expires_is_clamped_to_the_configured_range() {
    let net = Net::next();
    let _p = proxy(&net, "register_min_expires = 10\nregister_max_expires = 120");
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    let contact = format!("sip:{REG_USER}@{}", ua.local());
    let ok = register(&ua, &contact, 3);
    assert_eq!(granted(&ok), vec![(contact.clone(), 10)], "{}", ok.text());
    let ok = register(&ua, &contact, 100_000);
    assert_eq!(granted(&ok), vec![(contact.clone(), 120)], "{}", ok.text());
    let ok = register(&ua, &contact, 60);
    assert_eq!(granted(&ok), vec![(contact, 60)], "{}", ok.text());
}

#[test]
fn options_from_the_registered_source_gets_200() {
    let net = Net::next();
    let _p = proxy(&net, "");
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    let target = format!("sip:{}:5060", net.ip(PROXY));
    let mut ping = UacCall::new(&ua, REG_USER, &target);
    ua.send(&ping.other("OPTIONS", &target, "", ""));
    ua.expect_response(403);
    register(&ua, &format!("sip:{REG_USER}@{}", ua.local()), 600);
    ua.send(&ping.other("OPTIONS", &target, "", ""));
    let ok = ua.expect_response(200);
    assert!(
        ok.h("CSeq").is_some_and(|c| c.ends_with("OPTIONS")),
        "{}",
        ok.text()
    );
    // An INVITE from the registered source is still challenged (SPEC §3).
    let call = UacCall::new(&ua, REG_USER, &ruri(&net, "+14155559876"));
    ua.send(&call.invite());
    let challenge = ua.expect_response(407);
    ua.send(&call.ack_non2xx(&challenge));
    // Same address, another port: not the registered source.
    let other = Ua::bind_port(&net, PBX, REG_PORT + 1);
    let mut ping2 = UacCall::new(&other, REG_USER, &target);
    other.send(&ping2.other("OPTIONS", &target, "", ""));
    other.expect_response(403);
}

#[test]
fn binding_survives_a_restart() {
    let net = Net::next();
    let state = std::env::temp_dir().join(format!("trunkgate-e2e-state-{}-{}", std::process::id(), net.n));
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state).expect("state dir");
    let config = net.config_with(&layout(&format!("state_dir = \"{}\"", state.display())));
    let mut first = TestProxy::start(&config);
    let ua = Ua::bind_port(&net, PBX, REG_PORT);
    register(&ua, "sip:pbx@10.9.9.9:5090", 600);
    std::thread::sleep(Duration::from_millis(1600));
    let status = first.terminate(Duration::from_secs(8));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}",
        first.stderr_so_far()
    );
    assert!(
        state.join("registrations.json").exists(),
        "persisted under state_dir"
    );
    drop(first);

    let second = TestProxy::start(&config);
    let (caller, call) = did_call(&net);
    let inv = match ua.try_recv(WAIT) {
        Some(m) => m,
        None => panic!("no INVITE after the restart:\n{}", second.stderr_so_far()),
    };
    assert_eq!(
        inv.request_uri(),
        Some(&b"sip:4155550150@10.9.9.9:5090"[..]),
        "{}",
        inv.text()
    );
    finish_busy(&caller, &call, &ua, &inv);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn tcp_registration_gets_the_call_on_its_connection() {
    let net = Net::next();
    let _p = proxy(&net, "");
    let ua = TcpUa::connect(&net, PBX);
    let contact = format!("sip:{REG_USER}@{};transport=tcp", ua.local());
    register(&ua, &contact, 600);
    let (caller, call) = did_call(&net);
    let inv = ua.expect_request("INVITE");
    assert_eq!(
        String::from_utf8_lossy(inv.request_uri().expect("ruri")),
        format!("sip:4155550150@{};transport=tcp", ua.local()),
        "{}",
        inv.text()
    );
    assert!(
        inv.h("Via").is_some_and(|v| v.starts_with("SIP/2.0/TCP")),
        "sent over TCP:\n{}",
        inv.text()
    );
    finish_busy(&caller, &call, &ua, &inv);
}
