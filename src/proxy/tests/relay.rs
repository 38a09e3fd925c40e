//! In-dialog non-INVITE relay (BYE): Timers E and F, both directions, the dialog's permits.

use super::*;

#[test]
fn bye_to_a_silent_uas_retransmits_on_e_then_408_on_f() {
    let mut net = Net::loopback();
    let (mut uac, _, ok) = answered(&mut net, 1);
    assert_eq!(net.account_active("acme"), 1);
    net.run_until(secs(10.0));
    let bye = uac.bye(&ok);
    net.deliver(CARRIER, bye.clone());
    assert_eq!(net.account_active("acme"), 0, "the BYE ends the dialog");
    net.run_until(secs(42.0));
    let down = net.take_timed(SERVER);
    let expect =
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500].map(|t| (10_000 + t, "BYE"));
    assert_eq!(timeline(&down), tl(&expect), "E doubles to T2");
    assert_eq!(
        timeline(&net.take_timed(CARRIER)),
        tl(&[(42_000, "408")]),
        "F = 64*T1"
    );
    net.deliver(CARRIER, bye);
    assert_eq!(
        labels(&net.take_sent_to(CARRIER)),
        ["408"],
        "a retransmitted BYE gets the 408"
    );
    drain_quiet(&mut net);
}

#[test]
fn bye_from_the_callee_is_relayed_to_the_caller() {
    let mut net = Net::loopback();
    let (_, invite, _) = answered(&mut net, 1);
    net.run_until(secs(5.0));
    net.deliver(SERVER, callee_bye(&invite, UAS_TAG, SERVER, 1));
    let bye = net.take_sent_to(CARRIER);
    assert_eq!(labels(&bye), ["BYE"]);
    assert_eq!(
        bye[0].request_uri(),
        Some(&b"sip:+12125550199@127.0.0.2:5060"[..])
    );
    assert_eq!(net.account_active("acme"), 0);
    net.run_until(secs(5.5));
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["BYE"], "Timer E");
    net.deliver(CARRIER, respond(&bye[0], 200, "x", None));
    let up = net.take_sent_to(SERVER);
    assert_eq!(labels(&up), ["200"]);
    assert_eq!(
        up[0].header_values(crate::sip::HeaderName::Via).count(),
        1,
        "our Via removed"
    );
    drain_quiet(&mut net);
}

#[test]
fn bye_retransmission_is_absorbed_and_answered_again() {
    let mut net = Net::loopback();
    let (mut uac, _, ok) = answered(&mut net, 1);
    let bye = uac.bye(&ok);
    net.deliver(CARRIER, bye.clone());
    let down = net.take_sent_to(SERVER);
    net.deliver(SERVER, respond(&down[0], 200, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["200"]);
    net.run_for(secs(1.0));
    net.deliver(CARRIER, bye);
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["200"]);
    assert!(net.take_sent_to(SERVER).is_empty());
    drain_quiet(&mut net);
}

#[test]
fn dialog_without_bye_ends_at_max_call_duration() {
    let fx = Fixture::loopback().proxy(|p| p.max_call_duration = secs(60.0));
    let mut net = Net::new(fx.build());
    answered(&mut net, 1);
    net.run_until(secs(59.0));
    assert_eq!(net.account_active("acme"), 1);
    net.run_until(secs(62.0));
    assert_eq!(net.account_active("acme"), 0);
    drain(&mut net);
}
