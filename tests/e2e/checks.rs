//! Requests the proxy answers itself (SPEC §4): REQINIT checks, OPTIONS, unsupported methods,
//! in-dialog requests it must refuse, routing failures.

use std::time::Duration;

use crate::support::*;

/// Sends one INVITE from carrier A with `edit` applied to its text; returns the response
/// (skipping 100) and checks that the server saw nothing.
fn refused_invite(
    net: &Net,
    layout: &Layout,
    to: &str,
    edit: impl Fn(String) -> String,
    code: u16,
) -> trunkgate::sip::Message {
    let _proxy = TestProxy::start(&net.config_with(layout));
    let caller = Ua::bind(net, CARRIER_A);
    let server = Ua::bind(net, SERVER);
    let call = UacCall::new(&caller, "+14155551234", &ruri(net, to));
    caller.send(&edit(call.invite()));
    let resp = caller.expect_response(code);
    assert_eq!(resp.hs("Via").len(), 1, "{}", resp.text());
    assert!(resp.h("Via").is_some_and(|v| v.contains(&call.invite_branch)));
    assert!(
        resp.to_tag().is_some(),
        "a final answer carries a To tag:\n{}",
        resp.text()
    );
    caller.send(&call.ack_non2xx(&resp));
    server.expect_silence(Duration::from_millis(200));
    caller.expect_silence(Duration::from_millis(10));
    resp
}

#[test]
fn max_forwards_zero_gets_483() {
    let net = Net::next();
    refused_invite(
        &net,
        &Layout::default(),
        DID,
        |s| s.replace("Max-Forwards: 70", "Max-Forwards: 0"),
        483,
    );
}

#[test]
fn proxy_require_gets_420_with_unsupported() {
    let net = Net::next();
    let resp = refused_invite(
        &net,
        &Layout::default(),
        DID,
        |s| s.replace("Max-Forwards: 70\n", "Max-Forwards: 70\nProxy-Require: foo\n"),
        420,
    );
    assert_eq!(resp.h("Unsupported").as_deref(), Some("foo"), "{}", resp.text());
}

#[test]
fn unknown_did_gets_404() {
    let net = Net::next();
    refused_invite(&net, &Layout::default(), "+14155550199", |s| s, 404);
}

#[test]
fn disabled_server_gets_480() {
    let net = Net::next();
    let layout = Layout {
        server_options: "enabled = false".into(),
        ..Layout::default()
    };
    refused_invite(&net, &layout, DID, |s| s, 480);
}

#[test]
fn options_from_carrier_is_answered_locally() {
    let (net, _proxy) = start();
    let carrier = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let mut req = UacCall::new(&carrier, "ping", &ruri(&net, DID));
    let target = format!("sip:{}:5060", net.ip(PROXY));
    carrier.send(&req.other("OPTIONS", &target, "", ""));
    let ok = carrier.expect_response(200);
    assert!(
        ok.h("CSeq").is_some_and(|c| c.ends_with("OPTIONS")),
        "{}",
        ok.text()
    );
    assert!(
        ok.h("Allow").is_some_and(|a| a.contains("INVITE")),
        "{}",
        ok.text()
    );
    // Any Request-URI: even one naming a DID is not forwarded.
    carrier.send(&req.other("OPTIONS", &req.ruri.clone(), "", ""));
    carrier.expect_response(200);
    server.expect_silence(Duration::from_millis(200));
}

#[test]
fn message_gets_405_with_allow() {
    let (net, _proxy) = start();
    let carrier = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let mut req = UacCall::new(&carrier, "+14155551234", &ruri(&net, DID));
    let ruri = req.ruri.clone();
    carrier.send(&req.other("MESSAGE", &ruri, "Content-Type: text/plain\n", "hello"));
    let resp = carrier.expect_response(405);
    let allow = resp.h("Allow").expect("Allow header");
    assert!(allow.contains("INVITE") && !allow.contains("MESSAGE"), "{allow}");
    server.expect_silence(Duration::from_millis(200));
}

#[test]
fn in_dialog_bye_with_forged_route_gets_403() {
    let (net, _proxy) = start();
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let mut call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    call.to = format!("<{}>;tag=forged", call.ruri);
    call.route = vec![format!("<sip:{}:5060;lr;tg=0123456789abcdef>", net.ip(PROXY))];
    let target = format!("sip:uas@{}", server.local());
    caller.send(&call.other("BYE", &target, "", ""));
    caller.expect_response(403);
    // A Route without any signature is refused the same way.
    call.route = vec![format!("<sip:{}:5060;lr>", net.ip(PROXY))];
    caller.send(&call.other("BYE", &target, "", ""));
    caller.expect_response(403);
    server.expect_silence(Duration::from_millis(200));
}

#[test]
fn in_dialog_bye_for_unknown_dialog_gets_481() {
    let (net, _proxy) = start();
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let mut call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    call.to = format!("<{}>;tag=nosuchdialog", call.ruri);
    let ruri = call.ruri.clone();
    caller.send(&call.other("BYE", &ruri, "", ""));
    caller.expect_response(481);
    server.expect_silence(Duration::from_millis(200));
}
