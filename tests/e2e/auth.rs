//! Trunk authentication (SPEC §3, §4): digest challenges and their checks, unknown sources,
//! the password server's `ip` restriction, bans, REGISTER refusals, and no credentials in logs.

use std::time::Duration;

use trunkgate::policy::digest;
use trunkgate::sip::Message;

use crate::support::register::Registration;
use crate::support::tweak;
use crate::support::*;

/// A host in the block that nothing in the config knows.
const STRANGER: u8 = 7;
/// The number the PBX dials out.
const OUT: &str = "+14155559876";

/// One INVITE from `peer` dialling `OUT` with `auth` (or none): returns the final answer
/// (ACKed when it is a failure) and, on success, lets the termination carrier refuse it (486).
fn attempt(net: &Net, peer: &Ua, term: &Ua, auth: Option<&str>) -> Message {
    let mut call = UacCall::new(peer, "pbx1", &ruri(net, OUT));
    call.auth = auth.map(str::to_string);
    peer.send(&call.invite());
    let resp = loop {
        let m = peer.recv(WAIT);
        if m.code() != 100 {
            break m;
        }
        let inv = term.expect_request("INVITE");
        term.respond(&inv, 486);
        term.expect_request("ACK");
    };
    peer.send(&call.ack_non2xx(&resp));
    resp
}

/// The challenge (MD5 offer) a first INVITE from `peer` gets.
fn md5_offer(net: &Net, peer: &Ua, term: &Ua) -> String {
    let c = attempt(net, peer, term, None);
    assert_eq!(c.code(), 407, "{}", c.text());
    c.lines("Proxy-Authenticate")
        .into_iter()
        .find(|o| o.contains("algorithm=MD5"))
        .expect("an MD5 challenge")
}

fn answer(net: &Net, offer: &str, password: &str, nc: u32) -> String {
    digest::answer(offer, "INVITE", &ruri(net, OUT), "pbx1", password, "0a4f113b", nc).expect("answer")
}

#[test]
fn invite_from_unknown_source_gets_md5_and_sha256_challenges() {
    let (net, _proxy) = start();
    let stranger = Ua::bind(&net, STRANGER);
    let term = Ua::bind(&net, TERMINATION);
    let c = attempt(&net, &stranger, &term, None);
    assert_eq!(c.code(), 407, "{}", c.text());
    let offers = c.lines("Proxy-Authenticate");
    assert_eq!(offers.len(), 2, "{}", c.text());
    assert!(offers[0].contains("algorithm=MD5"), "{offers:?}");
    assert!(offers[1].contains("algorithm=SHA-256"), "{offers:?}");
    for o in &offers {
        assert!(o.starts_with("Digest "), "{o}");
        assert!(o.contains("realm=\"edge.test\""), "{o}");
        assert!(o.contains("qop=\"auth\""), "{o}");
        assert!(o.contains("nonce=\""), "{o}");
        assert!(!o.contains("stale=true"), "{o}");
    }
    assert!(c.lines("WWW-Authenticate").is_empty(), "{}", c.text());
    term.expect_silence(Duration::from_millis(200));
}

#[test]
fn options_from_unknown_source_gets_403_in_reject_mode() {
    let (net, _proxy) = start();
    let stranger = Ua::bind(&net, STRANGER);
    let mut req = UacCall::new(&stranger, "ping", &ruri(&net, DID));
    let target = format!("sip:{}:5060", net.ip(PROXY));
    stranger.send(&req.other("OPTIONS", &target, "", ""));
    let r = stranger.expect_response(403);
    assert!(r.lines("Proxy-Authenticate").is_empty(), "{}", r.text());
}

#[test]
fn drop_mode_ignores_options_but_still_challenges_invite() {
    let net = Net::next();
    let cfg = net
        .config()
        .replacen("unknown_source = \"reject\"", "unknown_source = \"drop\"", 1);
    let _proxy = TestProxy::start(&cfg);
    let stranger = Ua::bind(&net, STRANGER);
    let term = Ua::bind(&net, TERMINATION);
    let mut req = UacCall::new(&stranger, "ping", &ruri(&net, DID));
    let target = format!("sip:{}:5060", net.ip(PROXY));
    stranger.send(&req.other("OPTIONS", &target, "", ""));
    stranger.expect_silence(Duration::from_millis(500));
    let c = attempt(&net, &stranger, &term, None);
    assert_eq!(c.code(), 407, "{}", c.text());
    assert_eq!(c.lines("Proxy-Authenticate").len(), 2, "{}", c.text());
    // A known source is still answered.
    let carrier = Ua::bind(&net, CARRIER_A);
    let mut ping = UacCall::new(&carrier, "ping", &target);
    carrier.send(&ping.other("OPTIONS", &target, "", ""));
    carrier.expect_response(200);
}

#[test]
fn correct_credentials_from_outside_the_servers_ip_get_403() {
    let (net, _proxy) = start();
    let stranger = Ua::bind(&net, STRANGER);
    let term = Ua::bind(&net, TERMINATION);
    let offer = md5_offer(&net, &stranger, &term);
    let r = attempt(&net, &stranger, &term, Some(&answer(&net, &offer, "s3cret", 1)));
    assert_eq!(
        r.code(),
        403,
        "pbx1 is restricted to {}:\n{}",
        net.ip(PBX),
        r.text()
    );
    term.expect_silence(Duration::from_millis(200));
    // The same credentials from the allowed address pass.
    let pbx = Ua::bind(&net, PBX);
    let offer = md5_offer(&net, &pbx, &term);
    let ok = attempt(&net, &pbx, &term, Some(&answer(&net, &offer, "s3cret", 1)));
    assert_eq!(ok.code(), 486, "{}", ok.text());
}

#[test]
fn replayed_nonce_count_is_refused() {
    let (net, _proxy) = start();
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let offer = md5_offer(&net, &pbx, &term);
    let creds = answer(&net, &offer, "s3cret", 1);
    let first = attempt(&net, &pbx, &term, Some(&creds));
    assert_eq!(first.code(), 486, "accepted once:\n{}", first.text());
    let again = attempt(&net, &pbx, &term, Some(&creds));
    assert!(
        again.code() == 403 || again.code() == 407,
        "replay must be refused:\n{}",
        again.text()
    );
    term.expect_silence(Duration::from_millis(200));
    // The next nonce count on the same nonce is fine.
    let next = attempt(&net, &pbx, &term, Some(&answer(&net, &offer, "s3cret", 2)));
    assert_eq!(next.code(), 486, "{}", next.text());
}

#[test]
fn expired_nonce_gets_a_stale_challenge() {
    let net = Net::next();
    let layout = Layout {
        proxy_extra: "nonce_ttl = 1".into(),
        ..Layout::default()
    };
    let _proxy = TestProxy::start(&net.config_with(&layout));
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let offer = md5_offer(&net, &pbx, &term);
    std::thread::sleep(Duration::from_secs(2));
    let r = attempt(&net, &pbx, &term, Some(&answer(&net, &offer, "s3cret", 1)));
    assert_eq!(r.code(), 407, "{}", r.text());
    let offers = r.lines("Proxy-Authenticate");
    assert_eq!(offers.len(), 2, "{}", r.text());
    for o in &offers {
        assert!(o.to_ascii_lowercase().contains("stale=true"), "{o}");
    }
    term.expect_silence(Duration::from_millis(100));
    // The fresh nonce works at once.
    let fresh = offers.iter().find(|o| o.contains("algorithm=MD5")).expect("MD5");
    let ok = attempt(&net, &pbx, &term, Some(&answer(&net, fresh, "s3cret", 1)));
    assert_eq!(ok.code(), 486, "{}", ok.text());
}

#[test]
fn digest_uri_other_than_the_request_uri_gets_403() {
    let (net, _proxy) = start();
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let offer = md5_offer(&net, &pbx, &term);
    let other = ruri(&net, "+14155550000");
    let creds = digest::answer(&offer, "INVITE", &other, "pbx1", "s3cret", "0a4f113b", 1).expect("answer");
    let r = attempt(&net, &pbx, &term, Some(&creds));
    assert_eq!(r.code(), 403, "{}", r.text());
    term.expect_silence(Duration::from_millis(200));
}

#[test]
fn malformed_credentials_are_never_relayed() {
    let (net, _proxy) = start();
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    for garbage in [
        "garbage!!!",
        "Digest",
        "Digest username=\"pbx1\"",
        "Digest username=\"pbx1\", realm=\"edge.test\", nonce=\"x\", uri=\"sip:a@b\", response=\"00\"",
        "Basic cGJ4MTpzM2NyZXQ=",
    ] {
        let r = attempt(&net, &pbx, &term, Some(garbage));
        assert!(
            r.code() == 407 || r.code() == 400,
            "{garbage:?} must get a fresh challenge or 400:\n{}",
            r.text()
        );
        if r.code() == 407 {
            assert_eq!(r.lines("Proxy-Authenticate").len(), 2, "{}", r.text());
        }
    }
    term.expect_silence(Duration::from_millis(200));
}

#[test]
fn three_failures_ban_the_source_for_ban_time() {
    let net = Net::next();
    let _proxy = TestProxy::start(&tweak::security(&net.config(), 3, 60, 2));
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    let offer = md5_offer(&net, &pbx, &term);
    for nc in 1..=3 {
        let r = attempt(&net, &pbx, &term, Some(&answer(&net, &offer, "wrong", nc)));
        assert_eq!(r.code(), 403, "wrong password #{nc}:\n{}", r.text());
    }
    let banned = attempt(&net, &pbx, &term, None);
    assert_eq!(banned.code(), 403, "banned: no challenge:\n{}", banned.text());
    assert!(banned.lines("Proxy-Authenticate").is_empty(), "{}", banned.text());
    let right = attempt(&net, &pbx, &term, Some(&answer(&net, &offer, "s3cret", 4)));
    assert_eq!(
        right.code(),
        403,
        "banned even with the password:\n{}",
        right.text()
    );
    term.expect_silence(Duration::from_millis(100));
    // Another source is not affected.
    let stranger = Ua::bind(&net, STRANGER);
    assert_eq!(attempt(&net, &stranger, &term, None).code(), 407);

    std::thread::sleep(Duration::from_millis(2200));
    let offer = md5_offer(&net, &pbx, &term);
    let ok = attempt(&net, &pbx, &term, Some(&answer(&net, &offer, "s3cret", 1)));
    assert_eq!(ok.code(), 486, "ban over:\n{}", ok.text());
}

#[test]
fn trace_log_of_an_authenticated_call_has_no_credentials() {
    let net = Net::next();
    let proxy = TestProxy::start_with_env(&net.config(), &[("RUST_LOG", "trace")]);
    let pbx = Ua::bind(&net, PBX);
    let term = Ua::bind(&net, TERMINATION);
    // A failed attempt first: its debug line proves the level, and must not leak either.
    let offer = md5_offer(&net, &pbx, &term);
    let wrong = answer(&net, &offer, "wr0ngpass", 1);
    assert_eq!(attempt(&net, &pbx, &term, Some(&wrong)).code(), 403);
    let mut call = UacCall::new(&pbx, "pbx1", &ruri(&net, OUT));
    invite_with_digest(&pbx, &mut call, "MD5");
    let inv = term.expect_request("INVITE");
    term.respond(&inv, 200);
    let ok = pbx.expect_response(200);
    call.established(&ok);
    pbx.send(&call.ack());
    term.expect_request("ACK");
    pbx.send(&call.bye());
    let bye = term.expect_request("BYE");
    term.respond(&bye, 200);
    pbx.expect_response(200);
    std::thread::sleep(Duration::from_millis(300));

    let log = proxy.stderr_so_far();
    assert!(
        log.contains("DEBUG") && log.contains("authentication failed"),
        "debug logging on:\n{log}"
    );
    for pw in ["s3cret", "wr0ngpass"] {
        assert!(!log.contains(pw), "password {pw} in the log:\n{log}");
    }
    for creds in [call.auth.clone().expect("credentials sent"), wrong] {
        let response = creds
            .split("response=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("response value")
            .to_string();
        assert!(
            !log.contains(&response),
            "digest response {response} in the log:\n{log}"
        );
    }
}

#[test]
fn register_from_a_carrier_or_an_ip_server_gets_403() {
    let (net, _proxy) = start();
    for host in [CARRIER_A, SERVER] {
        let ua = Ua::bind(&net, host);
        let mut reg = Registration::new("pbx1", "edge.test", "sip:edge.test");
        let contact = format!("<sip:pbx1@{}>", ua.local());
        ua.send(&reg.request(&ua, &[&contact], Some(600)));
        let r = ua.expect_response(403);
        assert!(r.lines("WWW-Authenticate").is_empty(), "{}", r.text());
    }
}

#[test]
fn register_for_another_user_than_the_credentials_gets_403() {
    let (net, _proxy) = start();
    let pbx = Ua::bind(&net, PBX);
    let mut reg = Registration::new("pbx1", "edge.test", "sip:edge.test");
    let contact = format!("<sip:pbx1@{}>", pbx.local());
    pbx.send(&reg.request_to_user(&pbx, "pbx9", &[&contact], Some(600)));
    let challenge = pbx.expect_response(401);
    reg.answer(&challenge, "pbx1", "s3cret");
    pbx.send(&reg.request_to_user(&pbx, "pbx9", &[&contact], Some(600)));
    let r = pbx.expect_response(403);
    assert!(r.hs("Contact").is_empty(), "{}", r.text());
    // The same credentials for their own user register fine.
    let ok = crate::support::register::register_with_digest(&pbx, &mut reg, "s3cret", &[&contact], Some(600));
    assert_eq!(ok.code(), 200, "{}", ok.text());
}
