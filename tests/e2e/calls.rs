//! Whole calls through the proxy: inbound over UDP and TCP, CANCEL, a busy callee, failover.

use std::time::Duration;

use crate::support::{self, *};

/// What the server must see on the INVITE the proxy relays from carrier A.
fn check_relayed_invite(net: &Net, caller: &impl Peer, call: &UacCall, inv: &trunkgate::sip::Message) {
    assert_eq!(
        inv.ruri_user(),
        "4155550100",
        "npan Request-URI user:\n{}",
        inv.text()
    );
    let vias = inv.hs("Via");
    assert_eq!(vias.len(), 2, "our Via on top of the caller's:\n{}", inv.text());
    let ours = format!("SIP/2.0/UDP {}:5060;branch=z9hG4bK", net.ip(PROXY));
    assert!(vias[0].starts_with(&ours), "our Via: {}", vias[0]);
    let theirs = &vias[1];
    assert!(
        theirs.contains(&call.invite_branch),
        "caller's Via kept: {theirs}"
    );
    let local = caller.local();
    assert!(
        theirs.contains(&format!("rport={}", local.port())),
        "rport filled: {theirs}"
    );
    assert!(
        theirs.contains(&format!("received={}", local.ip())),
        "received stamped: {theirs}"
    );
    assert_eq!(inv.h("Max-Forwards").as_deref(), Some("69"));
    let rrs = inv.hs("Record-Route");
    let top = rrs.first().expect("a Record-Route");
    assert!(
        top.starts_with(&format!("<sip:{}:5060;lr;tg=", net.ip(PROXY))),
        "signed Record-Route towards the server: {top}"
    );
    assert!(tg_of(top).is_some_and(|t| t.len() == 16), "{top}");
}

/// INVITE → 100 / 180 / 200 → ACK → BYE → 200 from carrier A to the server.
fn inbound_call(net: &Net, caller: &impl Peer) {
    let server = Ua::bind(net, SERVER);
    let mut call = UacCall::new(caller, "+14155551234", &ruri(net, DID));
    caller.send(&call.invite());
    let trying = caller.expect_response(100);
    assert_eq!(trying.hs("Via").len(), 1, "100 carries only the caller's Via");

    let inv = server.expect_request("INVITE");
    check_relayed_invite(net, caller, &call, &inv);
    server.respond(&inv, 180);
    let ringing = caller.expect_response(180);
    let vias = ringing.hs("Via");
    assert_eq!(vias.len(), 1, "our Via removed:\n{}", ringing.text());
    assert!(vias[0].contains(&call.invite_branch));
    server.respond(&inv, 200);
    let ok = caller.expect_response(200);
    assert_eq!(ok.hs("Via").len(), 1, "our Via removed:\n{}", ok.text());
    assert_eq!(
        ok.hs("Record-Route"),
        inv.hs("Record-Route"),
        "Record-Route echoed"
    );
    assert_eq!(
        ok.contact_uri().as_deref(),
        Some(format!("sip:uas@{}", server.local()).as_str())
    );
    call.established(&ok);

    caller.send(&call.ack());
    let ack = server.expect_request("ACK");
    assert_eq!(
        ack.request_uri(),
        Some(format!("sip:uas@{}", server.local()).as_bytes())
    );
    assert!(ack.hs("Route").is_empty(), "our Route popped:\n{}", ack.text());
    assert!(ack.top_branch().starts_with("z9hG4bK"), "{}", ack.text());

    caller.send(&call.bye());
    let bye = server.expect_request("BYE");
    assert!(bye.hs("Route").is_empty(), "our Route popped:\n{}", bye.text());
    assert_eq!(bye.hs("Via").len(), 2);
    server.respond(&bye, 200);
    let done = caller.expect_response(200);
    assert!(
        done.h("CSeq").is_some_and(|c| c.ends_with("BYE")),
        "{}",
        done.text()
    );
    server.expect_silence(Duration::from_millis(200));
}

#[test]
fn inbound_call_over_udp() {
    let (net, _proxy) = start();
    let caller = Ua::bind(&net, CARRIER_A);
    inbound_call(&net, &caller);
}

#[test]
fn inbound_call_over_tcp_with_udp_server_leg() {
    let (net, _proxy) = start();
    let caller = TcpUa::connect(&net, CARRIER_A);
    inbound_call(&net, &caller);
}

#[test]
fn tcp_caller_gets_a_double_record_route() {
    let (net, _proxy) = start();
    let caller = TcpUa::connect(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&call.invite());
    let inv = server.expect_request("INVITE");
    let rrs = inv.hs("Record-Route");
    assert_eq!(rrs.len(), 2, "RFC 5658 double Record-Route:\n{}", inv.text());
    assert!(
        !rrs[0].contains("transport=tcp"),
        "UDP-facing one on top: {rrs:?}"
    );
    assert!(rrs[1].contains("transport=tcp"), "TCP-facing one below: {rrs:?}");
    server.respond(&inv, 486);
}

#[test]
fn cancel_after_ringing() {
    let (net, _proxy) = start();
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&call.invite());
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 180);
    caller.expect_response(180);

    caller.send(&call.cancel());
    let ok = caller.expect_response(200);
    assert!(
        ok.h("CSeq").is_some_and(|c| c.ends_with("CANCEL")),
        "{}",
        ok.text()
    );
    let cancel = server.expect_request("CANCEL");
    assert_eq!(
        cancel.top_branch(),
        inv.top_branch(),
        "CANCEL on the INVITE's branch"
    );
    assert_eq!(cancel.request_uri(), inv.request_uri());
    server.respond(&cancel, 200);
    server.respond(&inv, 487);
    let ack = server.expect_request("ACK");
    assert_eq!(
        ack.top_branch(),
        inv.top_branch(),
        "the proxy ACKs the 487 hop by hop:\n{}\n{}",
        inv.text(),
        ack.text()
    );

    let terminated = caller.expect_response(487);
    assert!(terminated.h("CSeq").is_some_and(|c| c.ends_with("INVITE")));
    caller.send(&call.ack_non2xx(&terminated));
    server.expect_silence(Duration::from_millis(300));
    caller.expect_silence(Duration::from_millis(100));
}

#[test]
fn busy_is_passed_back_without_failover() {
    let net = Net::next();
    let layout = Layout {
        server_options: format!("failover = {{ sip = \"sip:backup@{}:5060\" }}", net.ip(FAILOVER)),
        ..Layout::default()
    };
    let _proxy = TestProxy::start(&net.config_with(&layout));
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let failover = Ua::bind(&net, FAILOVER);
    let call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&call.invite());
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 486);
    let ack = server.expect_request("ACK");
    assert_eq!(
        ack.top_branch(),
        inv.top_branch(),
        "ACK for the 486 on the INVITE's branch"
    );
    assert_eq!(
        ack.to_tag(),
        Some(format!("uas{}", server.local().ip().to_string().replace('.', "")))
    );

    let busy = caller.expect_response(486);
    assert_eq!(busy.hs("Via").len(), 1, "our Via removed:\n{}", busy.text());
    caller.send(&call.ack_non2xx(&busy));
    server.expect_silence(Duration::from_millis(300));
    failover.expect_silence(Duration::from_millis(10));
}

#[test]
fn server_503_fails_over_to_the_failover_target() {
    let net = Net::next();
    let layout = Layout {
        server_options: format!("failover = {{ sip = \"sip:backup@{}:5060\" }}", net.ip(FAILOVER)),
        ..Layout::default()
    };
    let _proxy = TestProxy::start(&net.config_with(&layout));
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let failover = Ua::bind(&net, FAILOVER);
    let mut call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&call.invite());
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 503);
    server.expect_request("ACK");
    let inv2 = failover.expect_request("INVITE");
    assert_eq!(
        inv2.request_uri(),
        Some(format!("sip:backup@{}:5060", net.ip(FAILOVER)).as_bytes())
    );
    assert_ne!(inv2.top_branch(), inv.top_branch(), "a new branch");
    failover.respond(&inv2, 200);
    let ok = caller.expect_response(200);
    call.established(&ok);
    caller.send(&call.ack());
    failover.expect_request("ACK");
}

#[test]
fn outbound_503_fails_over_then_500() {
    let net = Net::next();
    let _proxy = TestProxy::start(&net.config());
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let fail = Ua::bind(&net, FAILOVER);
    let mut call = UacCall::new(&pbx, "pbx1", &ruri(&net, "+14155559876"));
    invite_with_digest(&pbx, &mut call, "MD5");
    pbx.expect_response(100);

    let inv = term.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "+14155559876");
    term.respond(&inv, 503);
    let ack = term.expect_request("ACK");
    assert_eq!(ack.top_branch(), inv.top_branch());

    let inv2 = fail.expect_request("INVITE");
    assert!(inv2.ruri_user().ends_with("4155559876"), "{}", inv2.text());
    assert_eq!(inv2.hs("Via").len(), 2, "{}", inv2.text());
    fail.respond(&inv2, 503);
    let ack2 = fail.expect_request("ACK");
    assert_eq!(ack2.top_branch(), inv2.top_branch());

    let err = pbx.expect_response(500);
    assert_eq!(err.hs("Via").len(), 1, "{}", err.text());
    pbx.send(&call.ack_non2xx(&err));
    term.expect_silence(Duration::from_millis(200));
    fail.expect_silence(Duration::from_millis(10));
}

#[test]
fn callee_hangs_up_through_the_route_set() {
    let (net, _proxy) = start();
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let mut call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&call.invite());
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 200);
    let ok = caller.expect_response(200);
    call.established(&ok);
    caller.send(&call.ack());
    server.expect_request("ACK");

    // The callee's BYE: its route set is the Record-Route in order, target the caller's Contact.
    let routes: String = inv
        .hs("Record-Route")
        .iter()
        .map(|r| format!("Route: {r}\n"))
        .collect();
    let contact = inv.contact_uri().expect("caller Contact");
    let bye = format!(
        "BYE {contact} SIP/2.0\nVia: SIP/2.0/UDP {};branch=z9hG4bK-uasbye1;rport\n{routes}Max-Forwards: 70\nFrom: {}\nTo: {}\nCall-ID: {}\nCSeq: 1 BYE\n\n",
        server.local(),
        ok.h("To").expect("To"),
        inv.h("From").expect("From"),
        call.call_id,
    );
    server.send_to(net.proxy(), &support::msg::wire(&bye));
    let got = caller.expect_request("BYE");
    assert_eq!(got.request_uri(), Some(contact.as_bytes()));
    assert!(got.hs("Route").is_empty(), "our Route popped:\n{}", got.text());
    assert_eq!(got.hs("Via").len(), 2, "{}", got.text());
    caller.respond(&got, 200);
    let (done, src) = server.recv_from(WAIT).expect("200 for the BYE");
    assert_eq!(src, net.proxy());
    assert_eq!(done.code(), 200, "{}", done.text());
    assert_eq!(done.top_branch(), "z9hG4bK-uasbye1");
}

#[test]
fn invite_retransmission_is_absorbed() {
    let (net, _proxy) = start();
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let call = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&call.invite());
    caller.expect_response(100);
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 180);
    caller.expect_response(180);
    caller.send(&call.invite());
    let again = caller.expect_response(180);
    assert!(again.h("Via").is_some_and(|v| v.contains(&call.invite_branch)));
    server.expect_silence(Duration::from_millis(300));
    server.respond(&inv, 486);
    server.expect_request("ACK");
    let busy = caller.expect_response(486);
    caller.send(&call.ack_non2xx(&busy));
}
