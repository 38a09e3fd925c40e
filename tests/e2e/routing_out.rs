//! Routing acceptance, outbound (SPEC §4 rows 5-10): calls from an IP-authenticated server at
//! .3 to the carriers: normalisation and `format`, 484 / hunting, 403, trunk limit, 404, 503,
//! weight order, flags.

use std::time::Duration;

use crate::support::routes::*;
use crate::support::*;

/// The calling server at .3 (IP auth), with its options lines.
fn caller_server(options: &str) -> String {
    ip_server("pbx", PBX, options, &[])
}

/// `pbx` dials `number`; the carrier at `at` must get exactly `ruri` (`127.0.N.` filled in),
/// declines with 486, the caller gets the 486. Returns the INVITE.
fn reaches(net: &Net, pbx: &Ua, at: &Ua, number: &str, ruri: &str) -> trunkgate::sip::Message {
    let call = dial(net, pbx, "+14155551234", number);
    let inv = at.expect_request("INVITE");
    let want = ruri.replace("127.0.N.", &format!("127.0.{}.", net.n));
    assert_eq!(ruri_of(&inv), want, "dialled {number}:\n{}", inv.text());
    decline(at, &inv, 486);
    refused(pbx, &call, 486);
    inv
}

#[test]
fn dialled_forms_reach_each_carrier_in_its_format() {
    let net = Net::next();
    let body = [
        carrier("e164", 5, r#"format = "e164""#),
        carrier("plain", 6, "format = \"strip_plus\"\nrules = [\"^\\\\+1212\"]"),
        carrier(
            "npan",
            7,
            "format = \"npan\"\nrules = [\"^\\\\+1646\", \"^\\\\+44\"]",
        ),
        carrier("onenpan", 8, "format = \"1npan\"\nrules = [\"^\\\\+1718\"]"),
        account("acme", ""),
        caller_server(""),
    ];
    // The e164 carrier takes what the others do not (rules over the E.164 number).
    let body = body.concat().replacen(
        "format = \"e164\"",
        "format = \"e164\"\nrules = [\"^\\\\+1415\"]",
        1,
    );
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let [e164, plain, npan, one] = [5, 6, 7, 8].map(|h| Ua::bind(&net, h));
    let cases: [(&str, &Ua, &str); 8] = [
        ("4155550199", &e164, "sip:+14155550199@127.0.N.5:5060"),
        ("+14155550198", &e164, "sip:+14155550198@127.0.N.5:5060"),
        ("415-555-0197", &e164, "sip:+14155550197@127.0.N.5:5060"),
        ("12125550199", &plain, "sip:12125550199@127.0.N.6:5060"),
        ("01116465550199", &npan, "sip:6465550199@127.0.N.7:5060"),
        ("0017185550199", &one, "sip:17185550199@127.0.N.8:5060"),
        ("+442079460000", &npan, "sip:+442079460000@127.0.N.7:5060"),
        ("011442079460000", &npan, "sip:+442079460000@127.0.N.7:5060"),
    ];
    for (dialled, at, ruri) in cases {
        reaches(&net, &pbx, at, dialled, ruri);
    }
    for ua in [&e164, &plain, &npan, &one] {
        quiet(ua, 50);
    }
}

#[test]
fn not_reconcilable_gets_484_unless_the_server_hunts() {
    let net = Net::next();
    let body = [
        carrier("us", 5, r#"rules = ["^\\+1"]"#),
        carrier(
            "short",
            6,
            "weight = 20\nrules = [\"^\\\\d{5}$\"]\nformat = \"strip_plus\"",
        ),
        account("acme", ""),
        caller_server(""),
        ip_server("hunter", 9, "hunt_non_reconcilable = true", &[]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let hunter = Ua::bind(&net, 9);
    let us = Ua::bind(&net, 5);
    let short = Ua::bind(&net, 6);
    dial_refused(&net, &pbx, "12345", 484);
    dial_refused(&net, &pbx, "1415555", 484);
    reaches(&net, &hunter, &short, "12345", "sip:12345@127.0.N.6:5060");
    // Hunted as dialled, but no carrier's rules match it.
    dial_refused(&net, &hunter, "999", 404);
    quiet(&us, 100);
    quiet(&short, 10);
}

#[test]
fn disabled_calling_server_gets_403() {
    let net = Net::next();
    let body = [
        carrier("term", 5, ""),
        account("acme", ""),
        caller_server("enabled = false"),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    dial_refused(&net, &pbx, "+14155550199", 403);
    quiet(&term, 200);
}

#[test]
fn trunk_limit_counts_inbound_and_outbound_calls() {
    let net = Net::next();
    let body = [
        inbound_carrier(""),
        carrier("term", 5, ""),
        account("acme", "trunks = 1"),
        caller_server(""),
        ip_server("s", 4, "", &[("+14155550100", "")]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let carrier_a = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);

    let mut held = dial(&net, &carrier_a, "+14155551234", "+14155550100");
    let inv = server.expect_request("INVITE");
    answer(&carrier_a, &server, &mut held, &inv);

    let warning = format!("399 {} \"trunk limit reached\"", net.ip(PROXY));
    let out = dial_refused(&net, &pbx, "+14155550199", 486);
    assert_eq!(
        out.h("Warning").as_deref(),
        Some(warning.as_str()),
        "{}",
        out.text()
    );
    let call = dial(&net, &carrier_a, "+14155551235", "+14155550100");
    let inb = refused(&carrier_a, &call, 486);
    assert_eq!(
        inb.h("Warning").as_deref(),
        Some(warning.as_str()),
        "{}",
        inb.text()
    );
    quiet(&term, 100);
    quiet(&server, 10);

    hang_up(&carrier_a, &server, &mut held);
    let mut third = dial(&net, &pbx, "+14155551234", "+14155550199");
    let inv = term.expect_request("INVITE");
    answer(&pbx, &term, &mut third, &inv);
    hang_up(&pbx, &term, &mut third);
}

#[test]
fn no_carrier_rules_or_flags_match_gets_404() {
    let net = Net::next();
    let body = [
        carrier("uk", 5, r#"rules = ["^\\+44"]"#),
        carrier(
            "uk-t38",
            6,
            "weight = 20\nflags = [\"t38\"]\nrules = [\"^\\\\+44\"]",
        ),
        account("acme", ""),
        caller_server(""),
        ip_server("fax", 9, "flags = [\"fax\"]", &[]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let fax = Ua::bind(&net, 9);
    let uk = Ua::bind(&net, 5);
    let t38 = Ua::bind(&net, 6);
    // Rules: nobody takes +1.
    dial_refused(&net, &pbx, "+14155550199", 404);
    // Flags: nobody has "fax".
    dial_refused(&net, &fax, "+442079460000", 404);
    quiet(&uk, 100);
    quiet(&t38, 10);
    // The same number without the flag goes out.
    reaches(
        &net,
        &pbx,
        &uk,
        "+442079460000",
        "sip:+442079460000@127.0.N.5:5060",
    );
}

#[test]
fn every_matching_carrier_full_gets_503_with_retry_after() {
    let net = Net::next();
    let body = [
        carrier("term", 5, "concurrency = 1"),
        carrier("uk", 6, r#"rules = ["^\\+44"]"#),
        account("acme", ""),
        caller_server(""),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let uk = Ua::bind(&net, 6);
    let mut held = dial(&net, &pbx, "+14155551234", "+14155550199");
    let inv = term.expect_request("INVITE");
    answer(&pbx, &term, &mut held, &inv);

    let full = dial_refused(&net, &pbx, "+14155550198", 503);
    let retry = full.h("Retry-After").unwrap_or_default();
    assert!(
        retry.trim().parse::<u32>().is_ok_and(|s| s > 0),
        "{}",
        full.text()
    );
    quiet(&term, 100);
    quiet(&uk, 10);

    hang_up(&pbx, &term, &mut held);
    reaches(
        &net,
        &pbx,
        &term,
        "+14155550198",
        "sip:+14155550198@127.0.N.5:5060",
    );
}

#[test]
fn offline_carrier_is_skipped_and_503_when_none_is_left() {
    let net = Net::next();
    let ping = "keep_alive = true\nkeep_alive_interval = 1\nkeep_alive_failures = 1";
    let body = [carrier("term", 5, ""), account("acme", ""), caller_server("")]
        .concat()
        .replace("keep_alive = false", ping);
    let proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    // Nobody answers the pings at .5.
    if let Err(e) = proxy.wait_for_log("carrier OFFLINE", 0, Duration::from_secs(6)) {
        panic!("{e}");
    }
    let term = Ua::bind(&net, TERMINATION);
    let full = dial_refused(&net, &pbx, "+14155550198", 503);
    assert!(full.h("Retry-After").is_some(), "{}", full.text());
    while let Some(m) = term.try_recv(Duration::from_millis(200)) {
        assert!(!m.is_request() || m.method_bytes() == b"OPTIONS", "{}", m.text());
    }
}

#[test]
fn weight_orders_carriers_and_ties_keep_file_order() {
    let net = Net::next();
    let body = [
        carrier("heavy", 5, "weight = 20"),
        carrier("first-light", 6, "weight = 10"),
        carrier("second-light", 7, "weight = 10"),
        account("acme", ""),
        caller_server(""),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let [heavy, first, second] = [5, 6, 7].map(|h| Ua::bind(&net, h));
    let call = dial(&net, &pbx, "+14155551234", "+14155550199");
    pbx.expect_response(100);
    for (i, at) in [&first, &second, &heavy].into_iter().enumerate() {
        let inv = at.expect_request("INVITE");
        assert_eq!(inv.ruri_user(), "+14155550199");
        for other in [&first, &second, &heavy] {
            if !std::ptr::eq(other, at) {
                quiet(other, 30);
            }
        }
        decline(at, &inv, 503);
        if i < 2 {
            pbx.expect_silence(Duration::from_millis(30));
        }
    }
    // The last relayed 503 goes back as 500 (RFC 3261 §16.7).
    refused(&pbx, &call, 500);
}

#[test]
fn flags_pick_the_carrier_that_has_them() {
    let net = Net::next();
    let body = [
        carrier("plain", 5, "weight = 10"),
        carrier("fax", 6, "weight = 20\nflags = [\"fax\", \"t38\"]"),
        account("acme", ""),
        caller_server("flags = [\"fax\"]"),
        ip_server("voice", 9, "", &[]),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let voice = Ua::bind(&net, 9);
    let plain = Ua::bind(&net, 5);
    let fax = Ua::bind(&net, 6);
    reaches(
        &net,
        &pbx,
        &fax,
        "+14155550199",
        "sip:+14155550199@127.0.N.6:5060",
    );
    quiet(&plain, 50);
    reaches(
        &net,
        &voice,
        &plain,
        "+14155550199",
        "sip:+14155550199@127.0.N.5:5060",
    );
    quiet(&fax, 50);
}

#[test]
fn sip_headers_are_added_towards_the_carrier() {
    let net = Net::next();
    let body = [
        carrier("term", 5, ""),
        account("acme", ""),
        caller_server("sip_headers = [ { \"X-Account\" = \"acme\" } ]"),
    ]
    .concat();
    let _proxy = start_with(&net, "", &body);
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let inv = reaches(
        &net,
        &pbx,
        &term,
        "+14155550199",
        "sip:+14155550199@127.0.N.5:5060",
    );
    assert_eq!(inv.h("X-Account").as_deref(), Some("acme"), "{}", inv.text());
}
