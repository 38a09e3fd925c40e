//! Routing acceptance, inbound (SPEC §4 rows 1-4 and "Towards the server"): calls from carrier
//! A to DIDs, each asserting the exact answer or what the server receives.

use std::time::{Duration, Instant};

use crate::support::routes::*;
use crate::support::*;

const ACME: &str = "trunks = 0";

/// Carrier A dials `number`; the server at `at` must get an INVITE for exactly `ruri` (host
/// filled in for the block), answers 486, and the caller gets the 486.
fn relayed_to(net: &Net, caller: &Ua, at: &Ua, number: &str, ruri: &str) -> trunkgate::sip::Message {
    let call = dial(net, caller, "+14155551234", number);
    let inv = at.expect_request("INVITE");
    let want = ruri.replace("127.0.N.", &format!("127.0.{}.", net.n));
    assert_eq!(ruri_of(&inv), want, "dialled {number}:\n{}", inv.text());
    decline(at, &inv, 486);
    refused(caller, &call, 486);
    inv
}

#[test]
fn relays_to_the_server_with_every_inbound_format() {
    let net = Net::next();
    let username = "[[connectivity.servers]]\nname = \"by-user\"\n[connectivity.servers.auth]\n\
        auth_method = \"password\"\nauth_user = \"pbx9\"\nauth_password = \"pw\"\n\
        [connectivity.servers.options]\ninbound_format = \"username\"\nip = \"127.0.N.12\"\n\
        [connectivity.servers.DIDs.\"+14155550140\"]\n";
    let body = [
        inbound_carrier(""),
        account("acme", ACME),
        ip_server("e164", 4, "inbound_format = \"e164\"", &[("+14155550100", "")]),
        ip_server(
            "npan",
            9,
            "inbound_format = \"npan\"",
            &[("+14155550110", ""), ("+442079460000", "")],
        ),
        ip_server(
            "1npan",
            10,
            "inbound_format = \"1npan\"",
            &[("+14155550120", ""), ("+442079460001", "")],
        ),
        ip_server(
            "strip",
            11,
            "inbound_format = \"strip_plus\"",
            &[("+14155550130", "")],
        ),
        username.to_string(),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let e164 = Ua::bind(&net, SERVER);
    let npan = Ua::bind(&net, 9);
    let one = Ua::bind(&net, 10);
    let strip = Ua::bind(&net, 11);
    let user = Ua::bind(&net, 12);

    // The relay itself: answered, then hung up, all through the proxy.
    let mut call = dial(&net, &caller, "+14155551234", "+14155550100");
    let inv = e164.expect_request("INVITE");
    assert_eq!(ruri_of(&inv), format!("sip:+14155550100@{}", e164.local()));
    answer(&caller, &e164, &mut call, &inv);
    hang_up(&caller, &e164, &mut call);

    relayed_to(
        &net,
        &caller,
        &npan,
        "+14155550110",
        "sip:4155550110@127.0.N.9:5060",
    );
    relayed_to(
        &net,
        &caller,
        &one,
        "14155550120",
        "sip:14155550120@127.0.N.10:5060",
    );
    relayed_to(
        &net,
        &caller,
        &strip,
        "4155550130",
        "sip:14155550130@127.0.N.11:5060",
    );
    relayed_to(&net, &caller, &user, "+14155550140", "sip:pbx9@127.0.N.12:5060");
    // npan / 1npan apply to NANP numbers only: others go as E.164.
    relayed_to(
        &net,
        &caller,
        &npan,
        "+442079460000",
        "sip:+442079460000@127.0.N.9:5060",
    );
    relayed_to(
        &net,
        &caller,
        &one,
        "011442079460001",
        "sip:+442079460001@127.0.N.10:5060",
    );
    for ua in [&e164, &npan, &one, &strip, &user] {
        quiet(ua, 10);
    }
}

#[test]
fn unknown_did_gets_404() {
    let net = Net::next();
    let body = [
        inbound_carrier(""),
        account("acme", ACME),
        ip_server("s", 4, "", &[("+14155550100", "")]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    dial_refused(&net, &caller, "+14155550199", 404);
    dial_refused(&net, &caller, "12345", 404);
    quiet(&server, 200);
}

#[test]
fn did_numbers_exact_national_and_range() {
    let net = Net::next();
    let filter = "did_numbers = \"+14155550100;4155550101;+14155550200-+14155550299\"";
    let dids = [
        ("+14155550100", ""),
        ("+14155550101", ""),
        ("+14155550102", ""),
        ("+14155550250", ""),
        ("+14155550300", ""),
    ];
    let body = [
        inbound_carrier(filter),
        account("acme", ACME),
        ip_server("s", 4, "inbound_format = \"e164\"", &dids),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    relayed_to(
        &net,
        &caller,
        &server,
        "+14155550100",
        "sip:+14155550100@127.0.N.4:5060",
    );
    relayed_to(
        &net,
        &caller,
        &server,
        "+14155550101",
        "sip:+14155550101@127.0.N.4:5060",
    );
    relayed_to(
        &net,
        &caller,
        &server,
        "4155550250",
        "sip:+14155550250@127.0.N.4:5060",
    );
    dial_refused(&net, &caller, "+14155550102", 404);
    dial_refused(&net, &caller, "+14155550300", 404);
    quiet(&server, 200);
}

#[test]
fn did_numbers_short_digits() {
    let net = Net::next();
    let body = [
        inbound_carrier("did_numbers = \"3000;+14155550100\""),
        account("acme", ACME),
        ip_server(
            "s",
            4,
            "inbound_format = \"e164\"",
            &[("3000", ""), ("3001", ""), ("+14155550100", "")],
        ),
    ]
    .concat();
    let _proxy = start_with(&net, "default_country_code = \"44\"", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    relayed_to(&net, &caller, &server, "3000", "sip:+443000@127.0.N.4:5060");
    dial_refused(&net, &caller, "3001", 404);
    quiet(&server, 200);
}

#[test]
fn disabled_server_gets_480() {
    let net = Net::next();
    let body = [
        inbound_carrier(""),
        account("acme", ACME),
        ip_server("s", 4, "enabled = false", &[("+14155550100", "")]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    dial_refused(&net, &caller, "+14155550100", 480);
    quiet(&server, 200);
}

#[test]
fn force_outbound_on_a_did_and_on_a_server() {
    let net = Net::next();
    let body = [
        inbound_carrier(""),
        carrier("termination", TERMINATION, "format = \"e164\""),
        account("acme", ACME),
        ip_server(
            "s",
            4,
            "inbound_format = \"npan\"",
            &[("+14155550100", "force_outbound = true"), ("+14155550101", "")],
        ),
        ip_server("forced", 9, "force_outbound = true", &[("+14155550150", "")]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let forced = Ua::bind(&net, 9);
    let term = Ua::bind(&net, TERMINATION);
    for (dialled, e164) in [("4155550100", "+14155550100"), ("14155550150", "+14155550150")] {
        let call = dial(&net, &caller, "+14155551234", dialled);
        let inv = term.expect_request("INVITE");
        assert_eq!(
            ruri_of(&inv),
            format!("sip:{e164}@{}", term.local()),
            "{}",
            inv.text()
        );
        let from = inv.h("From").unwrap_or_default();
        assert!(from.contains("sip:+14155551234@"), "caller ID untouched: {from}");
        decline(&term, &inv, 486);
        refused(&caller, &call, 486);
    }
    relayed_to(
        &net,
        &caller,
        &server,
        "+14155550101",
        "sip:4155550101@127.0.N.4:5060",
    );
    quiet(&forced, 100);
    quiet(&term, 10);
}

#[test]
fn sip_headers_are_added_towards_the_server() {
    let net = Net::next();
    let opts = "sip_headers = [ { \"X-Account\" = \"acme\" }, { \"X-Trunk\" = \"main line\" } ]";
    let body = [
        inbound_carrier(""),
        account("acme", ACME),
        ip_server("s", 4, opts, &[("+14155550100", "")]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let inv = relayed_to(
        &net,
        &caller,
        &server,
        "+14155550100",
        "sip:4155550100@127.0.N.4:5060",
    );
    assert_eq!(inv.h("X-Account").as_deref(), Some("acme"), "{}", inv.text());
    assert_eq!(inv.h("X-Trunk").as_deref(), Some("main line"), "{}", inv.text());
}

fn delayed(net: &Net) -> TestProxy {
    let body = [
        inbound_carrier(""),
        account("acme", ACME),
        ip_server("s", 4, "delay = 1", &[("+14155550100", "")]),
    ]
    .concat();
    start_with(net, "", &body)
}

#[test]
fn delay_holds_the_invite_for_a_second() {
    let net = Net::next();
    let _proxy = delayed(&net);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let sent = Instant::now();
    let call = dial(&net, &caller, "+14155551234", "+14155550100");
    caller.expect_response(100);
    let inv = server.expect_request("INVITE");
    let waited = sent.elapsed();
    assert!(waited >= Duration::from_secs(1), "sent after {waited:?}");
    assert!(waited < Duration::from_millis(2500), "sent after {waited:?}");
    decline(&server, &inv, 486);
    refused(&caller, &call, 486);
}

#[test]
fn cancel_during_the_delay_gets_487_and_the_server_nothing() {
    let net = Net::next();
    let _proxy = delayed(&net);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let call = dial(&net, &caller, "+14155551234", "+14155550100");
    caller.expect_response(100);
    std::thread::sleep(Duration::from_millis(300));
    caller.send(&call.cancel());
    let ok = caller.expect_response(200);
    assert!(
        ok.h("CSeq").is_some_and(|c| c.ends_with("CANCEL")),
        "{}",
        ok.text()
    );
    refused(&caller, &call, 487);
    quiet(&server, 1500);
}

#[test]
fn ignore_early_media_turns_183_into_180_without_body() {
    let net = Net::next();
    let body = [
        inbound_carrier(""),
        account("acme", ACME),
        ip_server("s", 4, "ignore_early_media = true", &[("+14155550100", "")]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let call = dial(&net, &caller, "+14155551234", "+14155550100");
    let inv = server.expect_request("INVITE");
    respond_sdp(&server, &inv, 183);
    let ringing = caller.expect_response(180);
    assert!(ringing.body().is_empty(), "no SDP:\n{}", ringing.text());
    assert!(ringing.h("Content-Type").is_none(), "{}", ringing.text());
    assert!(
        ringing.h("Content-Length").is_none_or(|l| l.trim() == "0"),
        "{}",
        ringing.text()
    );
    decline(&server, &inv, 486);
    refused(&caller, &call, 486);
}

#[test]
fn inbound_calls_count_against_the_carriers_concurrency() {
    let net = Net::next();
    let body = [
        inbound_carrier("concurrency = 1"),
        account("acme", ACME),
        ip_server("s", 4, "", &[("+14155550100", "")]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let mut held = dial(&net, &caller, "+14155551234", "+14155550100");
    let inv = server.expect_request("INVITE");
    answer(&caller, &server, &mut held, &inv);
    let full = dial_refused(&net, &caller, "+14155550100", 503);
    assert!(full.h("Retry-After").is_some(), "{}", full.text());
    quiet(&server, 100);
    hang_up(&caller, &server, &mut held);
    relayed_to(
        &net,
        &caller,
        &server,
        "+14155550100",
        "sip:4155550100@127.0.N.4:5060",
    );
}
