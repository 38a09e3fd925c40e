//! Caller ID on outbound calls (SPEC §4 "Towards carriers"): From display/user and
//! P-Asserted-Identity as the carrier receives them, `cid_number` in the carrier's `format`.

use crate::support::routes::*;
use crate::support::*;

/// Account acme (caller ID and emergency caller ID) with the calling server `pbx` at .3
/// (its own caller IDs, two DIDs) and `bare` at .9 (none); account globex with a DID and a
/// server at .10 that has no caller ID at all. The carrier at .5 wants `npan`.
fn body() -> String {
    let acme = "caller_id = { cid_name = \"Acme\", cid_number = \"+14155550000\" }\n\
        emergency_caller_id = { cid_name = \"Acme HQ\", cid_number = \"+14155550001\" }";
    let pbx = "caller_id = { cid_name = \"Acme PBX\", cid_number = \"+14155550002\" }\n\
        emergency_caller_id = { cid_name = \"PBX 911\", cid_number = \"+14155550003\" }";
    let sales = "caller_id = { cid_name = \"Acme Sales\", cid_number = \"+14155550102\" }";
    [
        carrier("term", TERMINATION, "format = \"npan\""),
        account("acme", acme),
        ip_server("pbx", PBX, pbx, &[("+14155550100", ""), ("+14155550102", sales)]),
        ip_server("bare", 9, "", &[]),
        account("globex", ""),
        ip_server("globex", 10, "", &[("+14155550200", "")]),
    ]
    .concat()
}

/// `caller` dials `number` with From `display` / `user`; returns (From, P-Asserted-Identity)
/// as the carrier got them, after declining the call.
fn cid(
    net: &Net,
    caller: &Ua,
    term: &Ua,
    display: Option<&str>,
    user: &str,
    number: &str,
) -> (String, Option<String>) {
    let call = UacCall::new(caller, user, &to_proxy(net, number));
    let mut invite = call.invite();
    if let Some(d) = display {
        invite = invite.replace("From: <sip:", &format!("From: \"{d}\" <sip:"));
    }
    caller.send(&invite);
    let inv = term.expect_request("INVITE");
    decline(term, &inv, 486);
    refused(caller, &call, 486);
    (inv.h("From").unwrap_or_default(), inv.h("P-Asserted-Identity"))
}

/// Asserts From is `"name" <sip:user@(caller's host)>;tag=...` and PAI `"name" <sip:user@proxy>`.
fn assert_cid(net: &Net, got: &(String, Option<String>), name: Option<&str>, user: &str) {
    let display = name.map(|n| format!("\"{n}\" ")).unwrap_or_default();
    let from = format!("{display}<sip:{user}@127.0.{}.", net.n);
    assert!(got.0.starts_with(&from), "From {:?}, want {from}...", got.0);
    assert!(got.0.contains(";tag=uac"), "From tag kept: {}", got.0);
    let pai = format!("{display}<sip:{user}@{}>", net.ip(PROXY));
    assert_eq!(got.1.as_deref(), Some(pai.as_str()), "P-Asserted-Identity");
}

#[test]
fn callers_own_did_is_kept_with_its_caller_id() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let got = cid(&net, &pbx, &term, Some("Alice"), "+14155550100", "+12125550199");
    assert_cid(&net, &got, Some("Alice"), "4155550100");
    // Dialled in national form, still a DID of the account.
    let got = cid(&net, &pbx, &term, None, "4155550100", "+12125550199");
    assert_cid(&net, &got, None, "4155550100");
    // A DID with its own caller ID.
    let got = cid(&net, &pbx, &term, Some("Bob"), "+14155550102", "+12125550199");
    assert_cid(&net, &got, Some("Acme Sales"), "4155550102");
}

#[test]
fn otherwise_the_servers_caller_id_else_the_accounts() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let pbx = Ua::bind(&net, PBX);
    let bare = Ua::bind(&net, 9);
    let term = Ua::bind(&net, TERMINATION);
    // Not a DID at all.
    let got = cid(&net, &pbx, &term, Some("Alice"), "+19175550123", "+12125550199");
    assert_cid(&net, &got, Some("Acme PBX"), "4155550002");
    // Another account's DID is not kept.
    let got = cid(&net, &pbx, &term, None, "+14155550200", "+12125550199");
    assert_cid(&net, &got, Some("Acme PBX"), "4155550002");
    // No server caller ID: the account's.
    let got = cid(&net, &bare, &term, None, "+19175550123", "+12125550199");
    assert_cid(&net, &got, Some("Acme"), "4155550000");
}

#[test]
fn no_caller_id_configured_leaves_from_as_it_came() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let globex = Ua::bind(&net, 10);
    let term = Ua::bind(&net, TERMINATION);
    let (from, pai) = cid(
        &net,
        &globex,
        &term,
        Some("Carol"),
        "+19175550123",
        "+12125550199",
    );
    let want = format!("\"Carol\" <sip:+19175550123@{}>;tag=uac", net.ip(10));
    assert!(from.starts_with(&want), "From {from:?}, want {want}...");
    assert_eq!(pai, None);
}

#[test]
fn emergency_calls_use_the_emergency_caller_id() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let pbx = Ua::bind(&net, PBX);
    let bare = Ua::bind(&net, 9);
    let term = Ua::bind(&net, TERMINATION);
    let got = cid(&net, &pbx, &term, Some("Alice"), "+19175550123", "911");
    assert_cid(&net, &got, Some("PBX 911"), "4155550003");
    let got = cid(&net, &bare, &term, None, "+19175550123", "911");
    assert_cid(&net, &got, Some("Acme HQ"), "4155550001");
}

#[test]
fn emergency_number_goes_out_as_dialled() {
    let net = Net::next();
    let _proxy = start_with(&net, "", &body());
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let call = dial(&net, &pbx, "+19175550123", "911");
    let inv = term.expect_request("INVITE");
    assert_eq!(ruri_of(&inv), format!("sip:911@{}", term.local()));
    decline(&term, &inv, 486);
    refused(&pbx, &call, 486);
}
