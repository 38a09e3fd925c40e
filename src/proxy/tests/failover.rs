//! Per-target timers (progress_timeout, timeout, delay) and which failures fail over (SPEC §4).

use super::*;

#[test]
fn progress_timeout_without_any_1xx_stops_retransmitting_and_fails_over() {
    let mut net = with_failover(|s| s.options.progress_timeout = Some(secs(2.0)));
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.run_until(secs(2.0));
    let expect = [(500, "INVITE"), (1500, "INVITE")];
    assert_eq!(timeline(&net.take_timed(SERVER)), tl(&expect));
    let fo = net.take_timed(FAILOVER);
    assert_eq!(timeline(&fo), tl(&[(2000, "INVITE")]));
    net.run_until(secs(3.0));
    assert!(
        net.take_sent_to(SERVER).is_empty(),
        "no CANCEL without a 1xx, no retransmission"
    );
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    assert_eq!(
        labels(&net.take_sent_to(SERVER)),
        ["CANCEL"],
        "a late 1xx gets the CANCEL"
    );
    assert!(
        net.take_sent_to(CARRIER).is_empty(),
        "nor is the late 180 relayed"
    );
    net.deliver(SERVER, respond(&invite, 487, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"]);
    answer_on(&mut net, &mut uac, &fo[0].msg);
    drain(&mut net);
}

#[test]
fn progress_timeout_ignores_100_and_cancels() {
    let mut net = with_failover(|s| s.options.progress_timeout = Some(secs(2.0)));
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 100, "", None));
    net.run_until(secs(1.9));
    assert!(
        net.take_all().is_empty(),
        "a 100 stops Timer A and is not relayed"
    );
    net.run_until(secs(2.0));
    assert_eq!(timeline(&net.take_timed(SERVER)), tl(&[(2000, "CANCEL")]));
    let fo = net.take_timed(FAILOVER);
    assert_eq!(timeline(&fo), tl(&[(2000, "INVITE")]));
    net.deliver(SERVER, respond(&invite, 487, UAS_TAG, None));
    answer_on(&mut net, &mut uac, &fo[0].msg);
    drain(&mut net);
}

#[test]
fn progress_timeout_is_met_by_a_180() {
    let mut net = with_failover(|s| s.options.progress_timeout = Some(secs(2.0)));
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    net.run_until(secs(10.0));
    assert!(net.take_sent_to(FAILOVER).is_empty());
    assert!(net.take_sent_to(SERVER).is_empty());
    answer_on(&mut net, &mut uac, &invite);
    drain(&mut net);
}

#[test]
fn answer_timeout_cancels_the_ringing_branch_and_fails_over() {
    let mut net = with_failover(|s| s.options.timeout = secs(5.0));
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["180"]);
    net.run_until(secs(5.0));
    assert_eq!(timeline(&net.take_timed(SERVER)), tl(&[(5000, "CANCEL")]));
    let fo = net.take_timed(FAILOVER);
    assert_eq!(timeline(&fo), tl(&[(5000, "INVITE")]));
    net.deliver(SERVER, respond(&invite, 487, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"]);
    answer_on(&mut net, &mut uac, &fo[0].msg);
    drain(&mut net);
}

#[test]
fn answer_timeout_with_no_target_left_gives_408() {
    let mut net = with_server(|s| s.options.timeout = secs(5.0));
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 183, UAS_TAG, Some(SERVER)));
    net.take_sent_to(CARRIER);
    net.run_until(secs(5.0));
    let cancel = net.take_timed(SERVER);
    assert_eq!(timeline(&cancel), tl(&[(5000, "CANCEL")]));
    let up = net.take_timed(CARRIER);
    assert_eq!(timeline(&up), tl(&[(5000, "408")]));
    net.deliver(CARRIER, uac.ack(&up[0].msg));
    net.deliver(SERVER, respond(&cancel[0].msg, 200, UAS_TAG, None));
    net.deliver(SERVER, respond(&invite, 487, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"]);
    drain_quiet(&mut net);
}

#[test]
fn delay_holds_the_invite() {
    let mut net = with_server(|s| s.options.delay = secs(2.0));
    let mut uac = Uac::new(CARRIER, 1, DID);
    net.deliver(CARRIER, uac.invite());
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["100"]);
    net.run_until(secs(1.999));
    assert!(net.take_sent_to(SERVER).is_empty());
    net.run_until(secs(2.0));
    let inv = net.take_timed(SERVER);
    assert_eq!(timeline(&inv), tl(&[(2000, "INVITE")]));
    answer_on(&mut net, &mut uac, &inv[0].msg);
    drain(&mut net);
}

#[test]
fn cancel_during_delay_never_reaches_the_server() {
    let mut net = with_server(|s| s.options.delay = secs(2.0));
    let mut uac = Uac::new(CARRIER, 1, DID);
    net.deliver(CARRIER, uac.invite());
    net.run_until(secs(1.0));
    net.deliver(CARRIER, uac.cancel());
    let up = net.take_sent_to(CARRIER);
    assert_eq!(labels(&up), ["100", "200", "487"]);
    net.deliver(CARRIER, uac.ack(&up[2]));
    assert_eq!(net.account_active("acme"), 0);
    drain_quiet(&mut net);
}

#[test]
fn which_failures_fail_over() {
    let cases = [
        (500, true),
        (502, true),
        (503, true),
        (504, true),
        (408, true),
        (480, true),
        (486, false),
        (404, false),
        (403, false),
        (487, false),
        (302, false),
        (600, false),
        (603, false),
    ];
    for (code, fails_over) in cases {
        let mut net = with_failover(|_| {});
        let (mut uac, invite) = start(&mut net, 1, SERVER);
        net.deliver(SERVER, respond(&invite, code, UAS_TAG, None));
        assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"], "{code}");
        let fo = net.take_sent_to(FAILOVER);
        let up = net.take_sent_to(CARRIER);
        if fails_over {
            assert_eq!(labels(&fo), ["INVITE"], "{code} fails over");
            assert!(up.is_empty(), "{code}: nothing upstream yet");
            net.deliver(FAILOVER, respond(&fo[0], 486, "fo", None));
            let up = net.take_sent_to(CARRIER);
            assert_eq!(labels(&up), ["486"], "{code}: the failover's answer goes up");
            net.deliver(CARRIER, uac.ack(&up[0]));
        } else {
            assert!(fo.is_empty(), "{code} does not fail over");
            assert_eq!(labels(&up), [code.to_string()], "{code} relayed");
            net.deliver(CARRIER, uac.ack(&up[0]));
        }
        drain(&mut net);
    }
}

#[test]
fn last_target_503_goes_up_as_500() {
    let mut net = with_failover(|_| {});
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 503, UAS_TAG, None));
    let fo = net.take_sent_to(FAILOVER);
    net.deliver(FAILOVER, respond(&fo[0], 503, "fo", None));
    let up = net.take_sent_to(CARRIER);
    assert_eq!(
        labels(&up),
        ["500"],
        "RFC 3261 §16.7: a 503 is not relayed as such"
    );
    net.deliver(CARRIER, uac.ack(&up[0]));
    drain(&mut net);
}

/// Answers the INVITE `inv` (as its target got it) with 200 and completes ACK and BYE.
fn answer_on(net: &mut Net, uac: &mut Uac, inv: &Message) {
    let to = inv
        .request_uri()
        .and_then(|u| crate::sip::header::parse_uri(u).ok())
        .and_then(|u| super::super::response::uri_addr(&u))
        .unwrap_or(SERVER);
    let to = if to.ip() == FAILOVER.ip() {
        FAILOVER
    } else {
        SERVER
    };
    net.deliver(to, respond(inv, 200, "ans", Some(to)));
    let up = net.take_sent_to(CARRIER);
    let ok = up.iter().find(|m| code(m) == 200).cloned();
    let Some(ok) = ok else {
        panic!("no 200 upstream: {:?}", labels(&up))
    };
    net.deliver(CARRIER, uac.ack(&ok));
    net.deliver(CARRIER, uac.bye(&ok));
    let down = net.take_sent_to(to);
    let bye = down.iter().find(|m| method(m) == "BYE").cloned();
    let Some(bye) = bye else {
        panic!("no BYE at {to}: {:?}", labels(&down))
    };
    net.deliver(to, respond(&bye, 200, "ans", None));
}

/// SPEC §2: a carrier's `concurrency` is "max concurrent calls through this carrier, both
/// directions", and §4: "a call counts against its account and its carrier".
#[test]
fn inbound_call_counts_against_its_carrier() {
    let fx = Fixture::loopback().edit_carrier("carrier-a", |c| c.concurrency = 1);
    let mut net = Net::new(fx.build());
    let (mut uac, invite, ok) = answered(&mut net, 1);
    assert_eq!(net.carrier_active("carrier-a"), 1);
    let second = Uac::new(CARRIER, 2, DID);
    net.deliver(CARRIER, second.invite());
    let up = net.take_sent_to(CARRIER);
    assert!(
        up.iter().any(|m| code(m) >= 400),
        "over the carrier's concurrency"
    );
    net.deliver(CARRIER, uac.bye(&ok));
    let _ = invite;
    drain(&mut net);
}
