//! CANCEL from upstream (RFC 3261 §9, §16.10): before and after a 1xx, crossing a 2xx, and the
//! CANCEL/200 race on a branch given up.

use super::*;

#[test]
fn cancel_before_any_1xx_waits_for_one() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.run_until(secs(0.2));
    net.deliver(CARRIER, uac.cancel());
    let up = net.take_sent_to(CARRIER);
    assert_eq!(labels(&up), ["200", "487"]);
    assert_eq!(method_of_cseq(&up[0]), "CANCEL");
    assert_eq!(method_of_cseq(&up[1]), "INVITE");
    assert_eq!(net.account_active("acme"), 0);
    net.deliver(CARRIER, uac.ack(&up[1]));
    net.run_until(secs(3.0));
    assert!(
        net.take_sent_to(SERVER).is_empty(),
        "no CANCEL before a 1xx, retransmissions stop"
    );
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    let down = net.take_sent_to(SERVER);
    assert_eq!(labels(&down), ["CANCEL"], "a late 1xx gets the CANCEL");
    assert!(
        net.take_sent_to(CARRIER).is_empty(),
        "the 180 is not relayed after the 487"
    );
    net.deliver(SERVER, respond(&down[0], 200, UAS_TAG, None));
    assert!(net.take_all().is_empty(), "the 200 to our CANCEL is absorbed");
    net.deliver(SERVER, respond(&invite, 487, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"]);
    assert!(net.take_sent_to(CARRIER).is_empty());
    drain_quiet(&mut net);
}

#[test]
fn cancel_after_180_goes_downstream_at_once() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["180"]);
    net.run_until(secs(2.0));
    net.deliver(CARRIER, uac.cancel());
    let up = net.take_sent_to(CARRIER);
    assert_eq!(labels(&up), ["200", "487"]);
    let down = net.take_sent_to(SERVER);
    assert_eq!(labels(&down), ["CANCEL"]);
    assert_eq!(
        down[0].request_uri(),
        invite.request_uri(),
        "CANCEL R-URI = INVITE's (§9.1)"
    );
    assert_eq!(
        down[0].header(crate::sip::HeaderName::Via),
        invite.header(crate::sip::HeaderName::Via)
    );
    net.deliver(CARRIER, uac.ack(&up[1]));
    net.deliver(SERVER, respond(&down[0], 200, UAS_TAG, None));
    net.deliver(SERVER, respond(&invite, 487, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"]);
    drain_quiet(&mut net);
}

/// CANCEL/200 race: the UAS answers 200 after we gave the branch up (487 already went
/// upstream, so the 2xx cannot): the proxy ACKs it and hangs up with a BYE (RFC 3261 §15).
#[test]
fn ok_on_a_cancelled_branch_gets_ack_and_bye() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(CARRIER, uac.cancel());
    let up = net.take_sent_to(CARRIER);
    net.deliver(CARRIER, uac.ack(&up[1]));
    net.run_until(secs(1.0));
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    let cancel = net.take_sent_to(SERVER);
    assert_eq!(labels(&cancel), ["CANCEL"]);
    net.deliver(SERVER, respond(&invite, 200, UAS_TAG, Some(SERVER)));
    let down = net.take_sent_to(SERVER);
    assert_eq!(labels(&down), ["ACK", "BYE"]);
    assert_eq!(
        down[0].request_uri(),
        Some(&b"sip:uas@127.0.0.4:5060"[..]),
        "to the Contact"
    );
    assert_eq!(down[1].cseq().map(|c| c.seq).ok(), Some(2));
    assert!(
        net.take_sent_to(CARRIER).is_empty(),
        "the 2xx is not relayed after the 487"
    );
    net.deliver(SERVER, respond(&cancel[0], 200, UAS_TAG, None));
    net.deliver(SERVER, respond(&down[1], 200, UAS_TAG, None));
    assert!(net.take_all().is_empty());
    drain_quiet(&mut net);
}

/// CANCEL after the 2xx went upstream: 200 to the CANCEL (a response context exists, §16.10)
/// and nothing else; the call goes on.
#[test]
fn cancel_crossing_a_200() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 200, UAS_TAG, Some(SERVER)));
    let ok = net.take_sent_to(CARRIER).remove(0);
    net.deliver(CARRIER, uac.cancel());
    let up = net.take_sent_to(CARRIER);
    assert_eq!(labels(&up), ["200"]);
    assert_eq!(method_of_cseq(&up[0]), "CANCEL");
    assert!(
        net.take_sent_to(SERVER).is_empty(),
        "no CANCEL for an answered branch"
    );
    assert_eq!(net.account_active("acme"), 1, "the call is up");
    net.deliver(CARRIER, uac.ack(&ok));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"]);
    net.deliver(CARRIER, uac.bye(&ok));
    let bye = net.take_sent_to(SERVER);
    net.deliver(SERVER, respond(&bye[0], 200, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["200"]);
    drain_quiet(&mut net);
}

/// A CANCEL for no transaction: 481.
#[test]
fn cancel_without_invite_gets_481() {
    let mut net = Net::loopback();
    let uac = Uac::new(CARRIER, 9, DID);
    net.deliver(CARRIER, uac.cancel());
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["481"]);
    drain_quiet(&mut net);
}

fn method_of_cseq(m: &Message) -> String {
    m.cseq()
        .map(|c| String::from_utf8_lossy(c.method_bytes).into_owned())
        .unwrap_or_default()
}

/// RFC 3261 §9.1 / §17.1.2: a CANCEL is a non-INVITE request with its own client transaction,
/// retransmitted on Timer E over UDP until its final response.
#[test]
fn cancel_is_retransmitted_on_timer_e() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    net.deliver(CARRIER, uac.cancel());
    let up = net.take_sent_to(CARRIER);
    net.deliver(CARRIER, uac.ack(&up[2]));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["CANCEL"]);
    net.run_until(secs(1.6));
    let again = net.take_timed(SERVER);
    assert_eq!(timeline(&again), tl(&[(500, "CANCEL"), (1500, "CANCEL")]));
    net.deliver(SERVER, respond(&again[0].msg, 200, UAS_TAG, None));
    net.deliver(SERVER, respond(&invite, 487, UAS_TAG, None));
    drain(&mut net);
}
