//! Scanners (SPEC "Hardening"): known scanner User-Agents from unknown sources get no
//! challenge (403, or silence with `unknown_source = "drop"`) and are counted; no answer tells
//! a wrong user from a wrong password.

use std::time::Duration;

use trunkgate::policy::digest;
use trunkgate::sip::Message;

use crate::flood::metric;
use crate::support::admin::admin_section;
use crate::support::*;

/// An unknown source in every block.
const SCANNER: u8 = 9;

fn proxy(net: &Net, unknown_source: &str) -> TestProxy {
    let layout = Layout {
        extra: admin_section(net),
        ..Layout::default()
    };
    let toml = net.config_with(&layout).replace(
        "unknown_source = \"reject\"",
        &format!("unknown_source = \"{unknown_source}\""),
    );
    TestProxy::start(&toml)
}

fn with_agent(call: &mut UacCall, agent: &str) {
    call.extra = format!("User-Agent: {agent}\n");
}

#[test]
fn scanners_get_403_without_a_challenge() {
    let net = Net::next();
    let _proxy = proxy(&net, "reject");
    let ua = Ua::bind(&net, SCANNER);
    for agent in [
        "friendly-scanner",
        "sipvicious 0.3.4",
        "VaxSIPUserAgent/3.1",
        "iWar",
    ] {
        let mut call = UacCall::new(&ua, "100", &ruri(&net, "100"));
        with_agent(&mut call, agent);
        ua.send(&call.invite());
        let r = ua.expect_response(403);
        assert!(r.h("Proxy-Authenticate").is_none(), "no challenge:\n{}", r.text());
        ua.send(&call.ack_non2xx(&r));
    }
    let mut opt = UacCall::new(&ua, "100", &ruri(&net, "100"));
    let options = opt.other("OPTIONS", &ruri(&net, "100"), "User-Agent: sipcli/v1.8\n", "");
    ua.send(&options);
    ua.expect_response(403);
    // A normal User-Agent from the same source is still challenged (it may be a PBX).
    let mut call = UacCall::new(&ua, "100", &ruri(&net, "100"));
    with_agent(&mut call, "Asterisk PBX 18");
    ua.send(&call.invite());
    ua.expect_response(407);
    assert_eq!(metric(&net, "trunkgate_scanner_requests_total"), 5);
}

#[test]
fn scanners_are_dropped_silently_in_drop_mode() {
    let net = Net::next();
    let _proxy = proxy(&net, "drop");
    let ua = Ua::bind(&net, SCANNER);
    let mut call = UacCall::new(&ua, "100", &ruri(&net, "100"));
    with_agent(&mut call, "friendly-scanner");
    ua.send(&call.invite());
    let mut reg = UacCall::new(&ua, "100", &ruri(&net, "100"));
    let register = reg.other(
        "REGISTER",
        &format!("sip:{}", net.proxy()),
        "User-Agent: sundayddr\n",
        "",
    );
    ua.send(&register);
    ua.expect_silence(Duration::from_millis(500));
    assert_eq!(metric(&net, "trunkgate_scanner_requests_total"), 2);
}

#[test]
fn scanner_agent_from_a_carrier_is_not_a_scanner() {
    let net = Net::next();
    let _proxy = proxy(&net, "reject");
    let carrier = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let mut call = UacCall::new(&carrier, "+14155551234", &ruri(&net, DID));
    with_agent(&mut call, "friendly-scanner");
    carrier.send(&call.invite());
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 486);
    carrier.expect_response(486);
}

/// The 403 for an INVITE answering the challenge as `user` / `password`, with the values that
/// differ per call (Call-ID, tags, branch) replaced by placeholders.
fn refusal(net: &Net, pbx: &Ua, user: &str, password: &str) -> String {
    let mut call = UacCall::new(pbx, "pbx1", &format!("sip:14155559876@{}", net.proxy()));
    pbx.send(&call.invite());
    let challenge = pbx.expect_response(407);
    pbx.send(&call.ack_non2xx(&challenge));
    let offer = challenge
        .lines("Proxy-Authenticate")
        .into_iter()
        .next()
        .expect("a challenge");
    let answer = digest::answer(&offer, "INVITE", &call.ruri, user, password, "0a4f113b", 1).expect("answer");
    call.auth = Some(answer);
    pbx.send(&call.next_invite());
    let r: Message = pbx.expect_response(403);
    pbx.send(&call.ack_non2xx(&r));
    let from_tag = call
        .call_id
        .split('-')
        .nth(1)
        .map(|n| format!("uac{n}"))
        .unwrap_or_default();
    let to_tag = r.to_tag().unwrap_or_default();
    r.text()
        .replace(&call.call_id, "CALLID")
        .replace(&call.invite_branch, "BRANCH")
        .replace(&to_tag, "TOTAG")
        .replace(&from_tag, "FROMTAG")
}

#[test]
fn wrong_user_and_wrong_password_look_the_same() {
    let net = Net::next();
    let _proxy = proxy(&net, "reject");
    let pbx = Ua::bind(&net, PBX);
    let wrong_password = refusal(&net, &pbx, "pbx1", "not-the-password");
    let wrong_user = refusal(&net, &pbx, "nobody", "s3cret");
    assert_eq!(wrong_user, wrong_password);
}
