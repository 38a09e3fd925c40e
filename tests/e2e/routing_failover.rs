//! Failover triggers end to end (SPEC §4 "target: ..." and "486, 487, 404 ..." rows): which
//! answers move a call to the failover (the DID's, else the server's), which are passed back,
//! the progress and answer timers, and the final answer when nothing is left.

use std::time::{Duration, Instant};

use trunkgate::sip::Message;

use crate::support::routes::*;
use crate::support::*;

/// Carrier A, the termination carrier at .5, and the server at .4 with `options` and a
/// server failover at .6; DID 100 uses the server's failover, 101 its own at .7, 102 an e164
/// failover out over the termination carrier. Server `last` at .9 (DID 150) has none.
fn body(options: &str) -> String {
    let server_opts = format!("{options}\nfailover = {{ sip = \"sip:backup@127.0.N.6:5060\" }}");
    [
        inbound_carrier(""),
        carrier("term", TERMINATION, ""),
        account("acme", ""),
        ip_server(
            "s",
            4,
            &server_opts,
            &[
                ("+14155550100", ""),
                ("+14155550101", "failover = { sip = \"sip:did@127.0.N.7:5060\" }"),
                ("+14155550102", "failover = { e164 = \"4155559999\" }"),
            ],
        ),
        ip_server("last", 9, options, &[("+14155550150", "")]),
    ]
    .concat()
}

struct Rig {
    net: Net,
    _proxy: TestProxy,
    caller: Ua,
    server: Ua,
    term: Ua,
    backup: Ua,
    did_backup: Ua,
    last: Ua,
}

impl Rig {
    fn start(options: &str) -> Rig {
        let net = Net::next();
        let proxy = start_with(&net, "", &body(options));
        Rig {
            caller: Ua::bind(&net, CARRIER_A),
            server: Ua::bind(&net, SERVER),
            term: Ua::bind(&net, TERMINATION),
            backup: Ua::bind(&net, FAILOVER),
            did_backup: Ua::bind(&net, 7),
            last: Ua::bind(&net, 9),
            net,
            _proxy: proxy,
        }
    }

    /// Dials `did`; the server leg at `first` answers `code`; returns the call.
    fn first_leg_answers(&self, did: &str, first: &Ua, code: u16) -> UacCall {
        let call = dial(&self.net, &self.caller, "+14155551234", did);
        let inv = first.expect_request("INVITE");
        decline(first, &inv, code);
        call
    }

    /// `at` must get the failover INVITE for `ruri` (block filled in); it declines with 486,
    /// which reaches the caller.
    fn failover_at(&self, call: &UacCall, at: &Ua, ruri: &str) {
        let inv = at.expect_request("INVITE");
        let want = ruri.replace("127.0.N.", &format!("127.0.{}.", self.net.n));
        assert_eq!(ruri_of(&inv), want, "{}", inv.text());
        decline(at, &inv, 486);
        refused(&self.caller, call, 486);
    }

    fn all_quiet(&self) {
        for ua in [
            &self.server,
            &self.term,
            &self.backup,
            &self.did_backup,
            &self.last,
        ] {
            quiet(ua, 20);
        }
    }
}

#[test]
fn retryable_answers_go_to_the_failover() {
    let rig = Rig::start("");
    for code in [503, 500, 480, 408] {
        let call = rig.first_leg_answers("+14155550100", &rig.server, code);
        rig.failover_at(&call, &rig.backup, "sip:backup@127.0.N.6:5060");
    }
    let call = rig.first_leg_answers("+14155550101", &rig.server, 503);
    rig.failover_at(&call, &rig.did_backup, "sip:did@127.0.N.7:5060");
    let call = rig.first_leg_answers("+14155550102", &rig.server, 500);
    rig.failover_at(&call, &rig.term, "sip:+14155559999@127.0.N.5:5060");
    rig.all_quiet();
}

#[test]
fn final_answers_are_passed_back_without_failover() {
    let rig = Rig::start("");
    for code in [486, 404, 603] {
        let call = rig.first_leg_answers("+14155550100", &rig.server, code);
        refused(&rig.caller, &call, code);
    }
    rig.all_quiet();
}

#[test]
fn relayed_503_with_nothing_left_becomes_500() {
    let rig = Rig::start("");
    let call = rig.first_leg_answers("+14155550150", &rig.last, 503);
    let resp = refused(&rig.caller, &call, 500);
    let status = resp.text().lines().next().unwrap_or_default().to_string();
    assert!(status.starts_with("SIP/2.0 500"), "{status}");
    // A failover that answers 503 too: still 500 upstream.
    let call = rig.first_leg_answers("+14155550100", &rig.server, 503);
    let inv = rig.backup.expect_request("INVITE");
    decline(&rig.backup, &inv, 503);
    refused(&rig.caller, &call, 500);
    rig.all_quiet();
}

/// The server gave up on `inv` after a 1xx: it gets a CANCEL on the INVITE's branch, and
/// answers it (200, then 487 and the proxy's ACK).
fn cancelled(server: &Ua, inv: &Message) {
    let cancel = server.expect_request("CANCEL");
    assert_eq!(cancel.top_branch(), inv.top_branch());
    server.respond(&cancel, 200);
    decline(server, inv, 487);
}

#[test]
fn progress_timeout_moves_on_when_only_100_came() {
    let rig = Rig::start("progress_timeout = 1");
    let t0 = Instant::now();
    let call = dial(&rig.net, &rig.caller, "+14155551234", "+14155550100");
    let inv = rig.server.expect_request("INVITE");
    rig.server.respond(&inv, 100);
    let next = rig.backup.expect_request("INVITE");
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(950), "after {waited:?}");
    assert!(waited < Duration::from_millis(2500), "after {waited:?}");
    cancelled(&rig.server, &inv);
    rig.backup.respond(&next, 180);
    rig.caller.expect_response(180);
    decline(&rig.backup, &next, 486);
    refused(&rig.caller, &call, 486);
    rig.all_quiet();
}

#[test]
fn progress_timeout_on_a_silent_server_and_a_late_1xx_gets_a_cancel() {
    let rig = Rig::start("progress_timeout = 1");
    let call = dial(&rig.net, &rig.caller, "+14155551234", "+14155550100");
    let inv = rig.server.expect_request("INVITE");
    rig.failover_at(&call, &rig.backup, "sip:backup@127.0.N.6:5060");
    // Retransmissions of the INVITE stopped when the branch was dropped.
    while let Some(m) = rig.server.try_recv(Duration::from_millis(100)) {
        assert_eq!(m.method_bytes(), b"INVITE", "{}", m.text());
    }
    rig.server.expect_silence(Duration::from_millis(700));
    rig.server.respond(&inv, 180);
    cancelled(&rig.server, &inv);
    rig.caller.expect_silence(Duration::from_millis(100));
}

#[test]
fn answer_timeout_moves_on_when_the_server_rings_forever() {
    let rig = Rig::start("timeout = 2");
    let t0 = Instant::now();
    let call = dial(&rig.net, &rig.caller, "+14155551234", "+14155550101");
    let inv = rig.server.expect_request("INVITE");
    rig.server.respond(&inv, 180);
    rig.caller.expect_response(180);
    let next = rig.did_backup.expect_request("INVITE");
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(1950), "after {waited:?}");
    assert!(waited < Duration::from_millis(3500), "after {waited:?}");
    cancelled(&rig.server, &inv);
    let mut call = call;
    answer(&rig.caller, &rig.did_backup, &mut call, &next);
    hang_up(&rig.caller, &rig.did_backup, &mut call);
    rig.all_quiet();
}

#[test]
fn timeout_with_nothing_left_gets_408() {
    let rig = Rig::start("progress_timeout = 1");
    let call = dial(&rig.net, &rig.caller, "+14155551234", "+14155550150");
    let inv = rig.last.expect_request("INVITE");
    rig.last.respond(&inv, 100);
    refused(&rig.caller, &call, 408);
    cancelled(&rig.last, &inv);
    rig.all_quiet();
}

#[test]
fn transport_error_moves_on_to_the_failover() {
    // Nobody listens on TCP at .4:5060: the connection is refused.
    let rig = Rig::start("transport = \"tcp\"");
    let call = dial(&rig.net, &rig.caller, "+14155551234", "+14155550100");
    rig.failover_at(&call, &rig.backup, "sip:backup@127.0.N.6:5060");
    rig.all_quiet();
}
