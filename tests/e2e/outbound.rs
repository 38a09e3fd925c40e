//! Outbound calls: the PBX authenticates with digest, the call goes to the termination carrier.

use std::time::Duration;

use crate::support::*;

fn outbound_call(algorithm: &str) {
    let (net, _proxy) = start();
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let fail = Ua::bind(&net, FAILOVER);
    let mut call = UacCall::new(&pbx, "pbx1", &ruri(&net, "+14155559876"));
    invite_with_digest(&pbx, &mut call, algorithm);
    pbx.expect_response(100);

    let inv = term.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "+14155559876", "e164 format:\n{}", inv.text());
    let host = format!("@{}", net.ip(TERMINATION));
    assert!(inv
        .request_uri()
        .is_some_and(|u| String::from_utf8_lossy(u).contains(&host)));
    let from = inv.h("From").expect("From");
    assert!(
        from.contains("+14155550100"),
        "account caller ID as From user: {from}"
    );
    assert!(inv.hs("Via")[0].starts_with(&format!("SIP/2.0/UDP {}:5060;branch=z9hG4bK", net.ip(PROXY))));
    assert_eq!(inv.h("Max-Forwards").as_deref(), Some("69"));
    assert_eq!(inv.hs("Record-Route").len(), 1, "{}", inv.text());

    term.respond(&inv, 183);
    pbx.expect_response(183);
    term.respond(&inv, 200);
    let ok = pbx.expect_response(200);
    assert_eq!(ok.hs("Via").len(), 1);
    call.established(&ok);
    pbx.send(&call.ack());
    term.expect_request("ACK");
    pbx.send(&call.bye());
    let bye = term.expect_request("BYE");
    term.respond(&bye, 200);
    pbx.expect_response(200);
    fail.expect_silence(Duration::from_millis(100));
}

#[test]
fn outbound_call_with_md5_digest() {
    outbound_call("MD5");
}

#[test]
fn outbound_call_with_sha256_digest() {
    outbound_call("SHA-256");
}

#[test]
fn wrong_password_gets_403() {
    let (net, _proxy) = start();
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let mut call = UacCall::new(&pbx, "pbx1", &ruri(&net, "+14155559876"));
    pbx.send(&call.invite());
    let challenge = pbx.expect_response(407);
    pbx.send(&call.ack_non2xx(&challenge));
    let offer = challenge.h("Proxy-Authenticate").expect("challenge");
    let bad = trunkgate::policy::digest::answer(&offer, "INVITE", &call.ruri, "pbx1", "wrong", "c0ffee", 1)
        .expect("answer");
    call.auth = Some(bad);
    pbx.send(&call.next_invite());
    let again = pbx.expect_response(403);
    pbx.send(&call.ack_non2xx(&again));
    term.expect_silence(Duration::from_millis(200));
}

#[test]
fn credentials_for_our_realm_are_not_forwarded() {
    let (net, _proxy) = start();
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let mut call = UacCall::new(&pbx, "pbx1", &ruri(&net, "+14155559876"));
    invite_with_digest(&pbx, &mut call, "MD5");
    let inv = term.expect_request("INVITE");
    term.respond(&inv, 486);
    assert!(
        inv.h("Proxy-Authorization").is_none(),
        "credentials forwarded:\n{}",
        inv.text()
    );
}
