//! Carrier `outbound_parameters` and `inbound_parameters` (SPEC §2, seed 003): the INVITE a
//! carrier receives is composed as configured, and each side of the dialog keeps seeing the
//! From/To it knows (responses and in-dialog requests both ways).

use crate::support::dialog::{callee_request, header_in, reply_tag};
use crate::support::routes::*;
use crate::support::*;

/// Every composable part set, on the termination carrier (npan, auth_id `acct9`).
const COMPOSED: &str = r#"format = "npan"
auth_id = "acct9"
[carriers.outbound_parameters]
request_line_uri_user_part = { value = "CALLED_NUMBER" }
request_line_uri_host_part = { value = "CUSTOM", custom_value = "sip.carrier.test" }
from_user_part = { value = "AUTH_ID" }
from_host_part = { value = "TRUNK_HOST_PORT" }
from_display_name = { value = "CALLER_DISPLAY_NAME" }
to_user_part = { value = "CALLED_NUMBER" }
to_host_part = { value = "TRUNK_HOST_PORT" }
p_asserted_identity_user_part = { value = "CALLER_NUMBER" }
p_asserted_identity_host_part = { value = "PROXY_HOST" }
remote_party_id_calling_party_user_part = { value = "CALLER_NUMBER" }
remote_party_id_calling_party_display_name = { value = "CUSTOM", custom_value = "Acme Corp" }
remote_party_id_calling_party_host_part = { value = "CUSTOM", custom_value = "acme.example:5070" }
"#;

/// Account acme with the IP-authenticated PBX at .3 (caller ID "Acme" +14155550000) and the
/// composing carrier at .5.
fn body() -> String {
    let pbx = "caller_id = { cid_name = \"Acme\", cid_number = \"+14155550000\" }";
    [
        carrier("term", TERMINATION, COMPOSED),
        account("acme", ""),
        ip_server("pbx", PBX, pbx, &[]),
    ]
    .concat()
}

/// The PBX dials +12125550199 as `201`; returns the call, the INVITE text it sent and the
/// INVITE the carrier got.
fn call_out(net: &Net, pbx: &Ua, term: &Ua) -> (UacCall, String, trunkgate::sip::Message) {
    let call = UacCall::new(pbx, "201", &to_proxy(net, "+12125550199"));
    let sent = call.invite().replace("From: <sip:", "From: \"Alice\" <sip:");
    pbx.send(&sent);
    let inv = term.expect_request("INVITE");
    (call, sent, inv)
}

#[test]
fn the_carrier_gets_the_composed_invite() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let (call, sent, inv) = call_out(&net, &pbx, &term);
    let n = net.n;
    assert_eq!(ruri_of(&inv), "sip:2125550199@sip.carrier.test");
    let tag = header_in(&sent, "From").split(";tag=").nth(1).map(str::to_owned);
    let tag = tag.expect("From tag");
    assert_eq!(
        inv.h("From").as_deref(),
        Some(format!("\"Acme\" <sip:acct9@127.0.{n}.5>;tag={tag}").as_str())
    );
    assert_eq!(
        inv.h("To").as_deref(),
        Some(format!("<sip:2125550199@127.0.{n}.5>").as_str())
    );
    assert_eq!(
        inv.lines("P-Asserted-Identity"),
        [format!("\"Acme\" <sip:4155550000@127.0.{n}.1>")]
    );
    assert_eq!(
        inv.lines("Remote-Party-ID"),
        ["\"Acme Corp\" <sip:4155550000@acme.example:5070>;party=calling;screen=yes;privacy=off"]
    );
    decline(&term, &inv, 486);
    let resp = refused(&pbx, &call, 486);
    assert_eq!(
        resp.h("From"),
        Some(header_in(&sent, "From")),
        "486 carries the PBX's From"
    );
}

#[test]
fn answered_then_the_carrier_hangs_up() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let (mut call, sent, inv) = call_out(&net, &pbx, &term);
    let (pbx_from, pbx_to) = (header_in(&sent, "From"), header_in(&sent, "To"));
    let callee_tag = reply_tag(term.local());
    term.respond(&inv, 200);
    let ok = pbx.expect_response(200);
    assert_eq!(ok.h("From"), Some(pbx_from.clone()), "200 carries the PBX's From");
    assert_eq!(
        ok.h("To"),
        Some(format!("{pbx_to};tag={callee_tag}")),
        "and its To"
    );
    call.established(&ok);
    pbx.send(&call.ack());
    let ack = term.expect_request("ACK");
    assert_eq!(
        ack.h("From"),
        inv.h("From"),
        "ACK as the carrier knows the dialog"
    );
    // The carrier hangs up: the PBX sees its own From/To, swapped.
    let bye = callee_request(&inv, term.local(), &callee_tag, "BYE", 1);
    term.send(&bye);
    let got = pbx.expect_request("BYE");
    assert_eq!(got.h("From"), Some(format!("{pbx_to};tag={callee_tag}")));
    assert_eq!(got.h("To"), Some(pbx_from));
    pbx.respond(&got, 200);
    let done = term.expect_response(200);
    assert_eq!(
        done.h("From"),
        Some(header_in(&bye, "From")),
        "200 as the carrier sent BYE"
    );
    assert_eq!(done.h("To"), Some(header_in(&bye, "To")));
}

#[test]
fn answered_then_the_pbx_hangs_up() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let (mut call, _sent, inv) = call_out(&net, &pbx, &term);
    let callee_tag = reply_tag(term.local());
    answer(&pbx, &term, &mut call, &inv);
    let bye = call.bye();
    pbx.send(&bye);
    let got = term.expect_request("BYE");
    assert_eq!(got.h("From"), inv.h("From"), "BYE with the rewritten From");
    let to = inv.h("To").map(|t| format!("{t};tag={callee_tag}"));
    assert_eq!(got.h("To"), to, "and the rewritten To");
    term.respond(&got, 200);
    let done = pbx.expect_response(200);
    assert_eq!(
        done.h("From"),
        Some(header_in(&bye, "From")),
        "200 as the PBX sent BYE"
    );
    assert_eq!(done.h("To"), Some(header_in(&bye, "To")));
}

/// Carrier A reads the called number from To and the caller's from P-Asserted-Identity; the
/// DID +14155550100 is served at .4, +14155550101 is dialled out (force_outbound) over the
/// carrier at .5 that puts the caller's number in From.
fn inbound_body() -> String {
    let params = "[carriers.inbound_parameters]\ncalled_num = \"TO_USER_PART\"\ncaller_num = \"P_ASSERTED_IDENTITY_USER_PART\"";
    let term = "[carriers.outbound_parameters]\nfrom_user_part = { value = \"CALLER_NUMBER\" }";
    [
        inbound_carrier(params),
        carrier("term", TERMINATION, term),
        account("acme", ""),
        ip_server(
            "srv",
            SERVER,
            "",
            &[("+14155550100", ""), ("+14155550101", "force_outbound = true")],
        ),
    ]
    .concat()
}

/// An INVITE from carrier A whose Request-URI user is not the number (`trunk-in`), To names
/// `did`, From is anonymous and P-Asserted-Identity has the caller.
fn from_carrier(net: &Net, carrier_a: &Ua, did: &str) -> UacCall {
    let mut call = UacCall::new(carrier_a, "anonymous", &to_proxy(net, did));
    call.extra = format!("P-Asserted-Identity: <sip:+14155550123@{}>\n", net.ip(CARRIER_A));
    let text = call
        .invite()
        .replacen(&format!("INVITE sip:{did}@"), "INVITE sip:trunk-in@", 1);
    carrier_a.send(&text);
    call
}

#[test]
fn inbound_parameters_pick_called_and_caller_numbers() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &inbound_body());
    let carrier_a = Ua::bind(&net, CARRIER_A);
    let srv = Ua::bind(&net, SERVER);
    let term = Ua::bind(&net, TERMINATION);
    // TO_USER_PART: the DID comes from To, the Request-URI user is ignored.
    let call = from_carrier(&net, &carrier_a, "+14155550100");
    let inv = srv.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "4155550100");
    decline(&srv, &inv, 486);
    refused(&carrier_a, &call, 486);
    // P_ASSERTED_IDENTITY_USER_PART: the caller's number is the PAI user.
    let call = from_carrier(&net, &carrier_a, "+14155550101");
    let inv = term.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "+14155550101");
    let from = inv.h("From").unwrap_or_default();
    assert!(from.starts_with("<sip:+14155550123@"), "From {from}");
    decline(&term, &inv, 486);
    refused(&carrier_a, &call, 486);
}
