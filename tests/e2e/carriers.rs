//! Carrier links (SPEC §2 carriers, §4 "Towards carriers"): keep-alive OFFLINE / ONLINE,
//! trunkgate's own registration at a carrier, and carriers that challenge our INVITE.

use std::time::Duration;

use trunkgate::policy::digest;
use trunkgate::sip::header::parse_credentials;
use trunkgate::sip::Message;

use crate::support::admin::{admin_section, carrier_entry, carrier_state, wait_until};
use crate::support::carrier::CarrierSim;
use crate::support::tweak;
use crate::support::*;

/// The number the PBX dials out.
const OUT: &str = "+14155559876";
/// Where the registering carrier lives.
const REG_CARRIER: u8 = 8;

/// Starts an authenticated outbound call from the PBX; returns it once the proxy sent 100.
fn outbound(net: &Net, pbx: &Ua) -> UacCall {
    let mut call = UacCall::new(pbx, "pbx1", &ruri(net, OUT));
    invite_with_digest(pbx, &mut call, "MD5");
    pbx.expect_response(100);
    call
}

/// The value of `name="..."` / `name=...` in a credentials header.
fn param(creds: &str, name: &str) -> String {
    let parsed = parse_credentials(creds.as_bytes()).expect("credentials parse");
    let v = match name {
        "username" => parsed.username,
        "realm" => parsed.realm,
        "nonce" => parsed.nonce,
        "uri" => parsed.uri,
        "response" => parsed.response,
        "cnonce" => parsed.cnonce.unwrap_or_default(),
        "nc" => parsed.nc.unwrap_or_default(),
        _ => panic!("param {name}"),
    };
    String::from_utf8_lossy(&v).into_owned()
}

/// Checks credentials answering `challenge` for `method` as `user` / `password`, by
/// recomputing the response from their own uri, cnonce and nc.
fn assert_answers(creds: &str, challenge: &str, method: &str, user: &str, password: &str) {
    assert_eq!(param(creds, "username"), user, "{creds}");
    let nc = u32::from_str_radix(&param(creds, "nc"), 16).expect("nc is hex");
    let expected = digest::answer(
        challenge,
        method,
        &param(creds, "uri"),
        user,
        password,
        &param(creds, "cnonce"),
        nc,
    )
    .expect("recompute");
    assert_eq!(
        param(creds, "response"),
        param(&expected, "response"),
        "digest response for {user}: {creds}"
    );
}

#[test]
fn keep_alive_takes_a_silent_carrier_offline_and_back() {
    let net = Net::next();
    let cfg = tweak::carrier(
        &net.config(),
        "termination",
        "keep_alive = true\nkeep_alive_interval = 1\nkeep_alive_failures = 2",
    ) + &admin_section(&net);
    let _proxy = TestProxy::start(&cfg);
    let term = CarrierSim::start(&net, TERMINATION);
    let fail = Ua::bind(&net, FAILOVER);
    let pbx = Ua::bind(&net, PBX);

    let online = || carrier_state(&net, "termination") == "ONLINE";
    assert!(
        wait_until(Duration::from_secs(6), online),
        "{}",
        carrier_entry(&net, "termination")
    );
    // The simulator counts a ping after answering it, so the count may trail the status.
    let pinged = || term.pings.load(std::sync::atomic::Ordering::SeqCst) >= 1;
    assert!(wait_until(Duration::from_secs(2), pinged), "pinged");

    // Answering: the carrier takes calls.
    let call = outbound(&net, &pbx);
    let inv = term.expect_request("INVITE");
    term.respond(&inv, 486);
    term.expect_request("ACK");
    let r = pbx.expect_response(486);
    pbx.send(&call.ack_non2xx(&r));

    term.set_answering(false);
    let offline = || carrier_state(&net, "termination") == "OFFLINE";
    assert!(
        wait_until(Duration::from_secs(8), offline),
        "OFFLINE after unanswered pings: {}",
        carrier_entry(&net, "termination")
    );
    // Routing skips it: the call goes to the failover carrier.
    let call = outbound(&net, &pbx);
    let inv = fail.expect_request("INVITE");
    fail.respond(&inv, 486);
    fail.expect_request("ACK");
    let r = pbx.expect_response(486);
    pbx.send(&call.ack_non2xx(&r));
    assert!(
        term.try_recv(Duration::from_millis(100)).is_none(),
        "OFFLINE carrier got the call"
    );

    term.set_answering(true);
    assert!(
        wait_until(Duration::from_secs(5), online),
        "ONLINE after an answer: {}",
        carrier_entry(&net, "termination")
    );
    let call = outbound(&net, &pbx);
    let inv = term.expect_request("INVITE");
    term.respond(&inv, 486);
    term.expect_request("ACK");
    let r = pbx.expect_response(486);
    pbx.send(&call.ack_non2xx(&r));
    fail.expect_silence(Duration::from_millis(100));
}

#[test]
fn registration_at_a_carrier_answers_401_and_refreshes() {
    let net = Net::next();
    let carrier = tweak::extra_carrier(
        &net,
        "reg-carrier",
        REG_CARRIER,
        "keep_alive = false\nregistration = true\nregister_interval = 60\nusername = \"trunk1\"\n\
         password = \"tpass\"\nweight = 30\nrules = [\"^$\"]",
    );
    let _proxy = TestProxy::start(&(net.config() + &carrier + &admin_section(&net)));
    let registrar = Ua::bind(&net, REG_CARRIER);
    let host = net.ip(REG_CARRIER);
    let challenge = format!(
        "Digest realm=\"carrier.test\", nonce=\"n0nce-{}\", qop=\"auth\", algorithm=MD5",
        net.n
    );
    let registered = || carrier_entry(&net, "reg-carrier")["registration"]["registered"] == true;

    let first = registrar.expect_request("REGISTER");
    assert_eq!(
        first.request_uri(),
        Some(format!("sip:{host}:5060").as_bytes()),
        "{}",
        first.text()
    );
    assert!(first
        .h("To")
        .is_some_and(|t| t.contains(&format!("sip:trunk1@{host}"))));
    assert!(first.h("Authorization").is_none(), "{}", first.text());
    assert!(!registered(), "not registered before the 200");
    let authed = answer_register(&registrar, &first, &challenge, "2");
    let t0 = std::time::Instant::now();
    assert!(
        wait_until(Duration::from_secs(2), registered),
        "{}",
        carrier_entry(&net, "reg-carrier")
    );

    // The refresh comes at 80 % of the 2 s granted (the driver ticks once a second).
    let refresh = registrar.expect_request("REGISTER");
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(1000), "refresh after {waited:?}");
    assert_eq!(
        refresh.h("Call-ID"),
        authed.h("Call-ID"),
        "one Call-ID for refreshes"
    );
    assert!(cseq(&refresh) > cseq(&authed), "CSeq grows");
    answer_register(&registrar, &refresh, &challenge, "60");
    let entry = carrier_entry(&net, "reg-carrier");
    assert_eq!(entry["registration"]["registered"], true, "{entry}");
    assert_eq!(entry["registration"]["last_code"], 200, "{entry}");
}

fn cseq(m: &Message) -> u32 {
    m.h("CSeq")
        .and_then(|c| c.split_whitespace().next().and_then(|n| n.parse().ok()))
        .expect("CSeq")
}

/// Challenges `first` (401), checks the REGISTER with credentials that follows on a new
/// transaction of the same registration, and grants it `expires` seconds; returns it.
fn answer_register(registrar: &Ua, first: &Message, challenge: &str, expires: &str) -> Message {
    registrar.respond_with(first, 401, &[("WWW-Authenticate", challenge)]);
    let authed = registrar.expect_request("REGISTER");
    assert_ne!(authed.top_branch(), first.top_branch(), "a new transaction");
    assert_eq!(authed.h("Call-ID"), first.h("Call-ID"));
    assert!(cseq(&authed) > cseq(first), "CSeq grows");
    let creds = authed.h("Authorization").expect("Authorization");
    assert_answers(&creds, challenge, "REGISTER", "trunk1", "tpass");
    assert_eq!(
        param(&creds, "uri").as_bytes(),
        authed.request_uri().expect("ruri"),
        "digest uri = Request-URI"
    );
    let contact = format!("{};expires={expires}", authed.h("Contact").expect("Contact"));
    registrar.respond_with(&authed, 200, &[("Contact", &contact), ("Expires", expires)]);
    authed
}

/// The termination carrier with credentials for its challenges.
fn challenged_config(net: &Net) -> String {
    tweak::carrier(
        &net.config(),
        "termination",
        "auth_id = \"tg-auth\"\nusername = \"tg-user\"\npassword = \"tg-pass\"",
    )
}

fn proxy_challenge(net: &Net) -> String {
    format!(
        "Digest realm=\"carrier.test\", nonce=\"cn-{}\", qop=\"auth\", algorithm=MD5",
        net.n
    )
}

/// The termination carrier challenges the first INVITE; returns (first, retried INVITE).
fn challenge_once(net: &Net, term: &Ua) -> (Message, Message) {
    let inv = term.expect_request("INVITE");
    assert!(inv.h("Proxy-Authorization").is_none(), "{}", inv.text());
    term.respond_with(&inv, 407, &[("Proxy-Authenticate", &proxy_challenge(net))]);
    let ack = term.expect_request("ACK");
    assert_eq!(
        ack.top_branch(),
        inv.top_branch(),
        "ACK for the 407 on its branch"
    );
    let retry = term.expect_request("INVITE");
    assert_ne!(
        retry.top_branch(),
        inv.top_branch(),
        "a new branch:\n{}",
        retry.text()
    );
    assert_eq!(retry.h("Call-ID"), inv.h("Call-ID"));
    assert_eq!(retry.h("From"), inv.h("From"), "same From (tag)");
    assert_eq!(retry.request_uri(), inv.request_uri());
    let creds = retry.h("Proxy-Authorization").expect("Proxy-Authorization");
    assert_answers(&creds, &proxy_challenge(net), "INVITE", "tg-auth", "tg-pass");
    assert_eq!(
        param(&creds, "uri").as_bytes(),
        retry.request_uri().expect("ruri"),
        "digest uri = Request-URI"
    );
    assert_eq!(retry.lines("Proxy-Authorization").len(), 1, "{}", retry.text());
    (inv, retry)
}

#[test]
fn carrier_challenge_is_answered_on_a_new_branch() {
    let net = Net::next();
    let _proxy = TestProxy::start(&challenged_config(&net));
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let fail = Ua::bind(&net, FAILOVER);
    let mut call = outbound(&net, &pbx);
    let (_, retry) = challenge_once(&net, &term);
    term.respond(&retry, 200);
    let ok = pbx.expect_response(200);
    call.established(&ok);
    pbx.send(&call.ack());
    term.expect_request("ACK");
    pbx.send(&call.bye());
    let bye = term.expect_request("BYE");
    term.respond(&bye, 200);
    pbx.expect_response(200);
    fail.expect_silence(Duration::from_millis(100));
    pbx.expect_silence(Duration::from_millis(10));
}

#[test]
fn second_carrier_challenge_fails_over() {
    let net = Net::next();
    let _proxy = TestProxy::start(&challenged_config(&net));
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let fail = Ua::bind(&net, FAILOVER);
    let mut call = outbound(&net, &pbx);
    let (_, retry) = challenge_once(&net, &term);
    term.respond_with(&retry, 407, &[("Proxy-Authenticate", &proxy_challenge(&net))]);
    let ack = term.expect_request("ACK");
    assert_eq!(ack.top_branch(), retry.top_branch());
    let inv = fail.expect_request("INVITE");
    fail.respond(&inv, 200);
    let ok = pbx.expect_response(200);
    call.established(&ok);
    pbx.send(&call.ack());
    fail.expect_request("ACK");
    term.expect_silence(Duration::from_millis(200));
}

#[test]
fn carriers_that_all_refuse_us_end_in_503_without_their_challenge() {
    let net = Net::next();
    let _proxy = TestProxy::start(&challenged_config(&net));
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let fail = Ua::bind(&net, FAILOVER);
    let call = outbound(&net, &pbx);
    let (_, retry) = challenge_once(&net, &term);
    term.respond_with(&retry, 407, &[("Proxy-Authenticate", &proxy_challenge(&net))]);
    term.expect_request("ACK");
    // The failover carrier has no credentials configured: its challenge cannot be answered.
    let inv = fail.expect_request("INVITE");
    fail.respond_with(&inv, 401, &[("WWW-Authenticate", &proxy_challenge(&net))]);
    let ack = fail.expect_request("ACK");
    assert_eq!(ack.top_branch(), inv.top_branch());
    let r = pbx.expect_response(503);
    assert!(
        r.lines("Proxy-Authenticate").is_empty() && r.lines("WWW-Authenticate").is_empty(),
        "a carrier's challenge leaked to the caller:\n{}",
        r.text()
    );
    pbx.send(&call.ack_non2xx(&r));
    term.expect_silence(Duration::from_millis(200));
    fail.expect_silence(Duration::from_millis(10));
}
