//! INVITE transactions: retransmissions absorbed, Timers A/B, 2xx end to end, non-2xx ACK hop
//! by hop with Timer G upstream.

use super::*;
use crate::sip::HeaderName;

#[test]
fn invite_retransmissions_are_absorbed() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 100, "", None));
    net.run_for(secs(0.3));
    net.deliver(CARRIER, uac.invite());
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["100"]);
    net.run_for(secs(1.0));
    net.deliver(CARRIER, uac.invite());
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["100"]);
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["180"]);
    net.deliver(CARRIER, uac.invite());
    assert_eq!(
        labels(&net.take_sent_to(CARRIER)),
        ["180"],
        "the last provisional"
    );
    net.run_for(secs(10.0));
    assert!(net.take_sent_to(SERVER).is_empty(), "the UAS saw the INVITE once");
    net.deliver(SERVER, respond(&invite, 200, UAS_TAG, Some(SERVER)));
    let ok = net.take_sent_to(CARRIER).remove(0);
    net.deliver(CARRIER, uac.invite());
    assert!(
        net.take_sent_to(CARRIER).is_empty(),
        "after a 2xx the INVITE is absorbed"
    );
    net.deliver(CARRIER, uac.ack(&ok));
    net.deliver(CARRIER, uac.bye(&ok));
    let bye = net.take_sent_to(SERVER);
    assert_eq!(labels(&bye), ["ACK", "BYE"]);
    net.deliver(SERVER, respond(&bye[1], 200, UAS_TAG, None));
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["200"]);
    drain_quiet(&mut net);
}

#[test]
fn no_answer_timer_a_then_b_gives_408() {
    let mut net = Net::loopback();
    let (mut uac, _) = start(&mut net, 1, SERVER);
    net.run_until(secs(32.0));
    let sent = net.take_timed(SERVER);
    let expect = [500, 1500, 3500, 7500, 15500, 31500].map(|t| (t, "INVITE"));
    assert_eq!(timeline(&sent), tl(&expect), "Timer A doubles from T1");
    let up = net.take_timed(CARRIER);
    assert_eq!(timeline(&up), tl(&[(32000, "408")]), "Timer B = 64*T1");
    assert_eq!(
        net.account_active("acme"),
        0,
        "permit released with the final answer"
    );
    net.deliver(CARRIER, uac.ack(&up[0].msg));
    drain_quiet(&mut net);
}

#[test]
fn no_answer_tries_the_failover_at_timer_b() {
    let mut net = with_failover(|_| {});
    let (mut uac, _) = start(&mut net, 1, SERVER);
    net.run_until(secs(32.0));
    assert_eq!(net.take_sent_to(SERVER).len(), 6);
    assert_eq!(timeline(&net.take_timed(FAILOVER)), tl(&[(32000, "INVITE")]));
    assert!(
        net.take_sent_to(CARRIER).is_empty(),
        "no answer upstream while a target is left"
    );
    net.run_until(secs(64.0));
    assert_eq!(net.take_sent_to(FAILOVER).len(), 6);
    let up = net.take_timed(CARRIER);
    assert_eq!(timeline(&up), tl(&[(64000, "408")]));
    net.deliver(CARRIER, uac.ack(&up[0].msg));
    drain_quiet(&mut net);
}

#[test]
fn ok_retransmissions_go_end_to_end_and_so_does_the_ack() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    let ok = respond(&invite, 200, UAS_TAG, Some(SERVER));
    for t in [1.0, 1.5, 2.5, 4.5] {
        net.run_until(secs(t));
        net.deliver(SERVER, ok.clone());
    }
    let up = net.take_timed(CARRIER);
    let expect = [
        (0, "180"),
        (1000, "200"),
        (1500, "200"),
        (2500, "200"),
        (4500, "200"),
    ];
    assert_eq!(timeline(&up), tl(&expect));
    assert!(
        net.take_sent_to(SERVER).is_empty(),
        "the proxy never ACKs a 2xx itself"
    );
    let ok = &up[1].msg;
    for again in &up[2..] {
        assert_eq!(
            again.msg.bytes(),
            ok.bytes(),
            "each retransmission relayed as the first"
        );
    }
    assert!(
        ok.header(HeaderName::RecordRoute).is_some(),
        "Record-Route echoed upstream"
    );
    net.deliver(CARRIER, uac.ack(ok));
    let ack = net.take_sent_to(SERVER);
    assert_eq!(labels(&ack), ["ACK"]);
    assert_eq!(
        ack[0].request_uri(),
        Some(&b"sip:uas@127.0.0.4:5060"[..]),
        "to the Contact"
    );
    assert!(ack[0].header(HeaderName::Route).is_none(), "our Route popped");
    net.deliver(CARRIER, uac.bye(ok));
    let bye = net.take_sent_to(SERVER);
    net.deliver(SERVER, respond(&bye[0], 200, UAS_TAG, None));
    drain(&mut net);
}

#[test]
fn non_2xx_is_acked_hop_by_hop_and_retransmitted_upstream_until_the_ack() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.run_until(secs(1.0));
    net.take_sent_to(SERVER);
    let busy = respond(&invite, 486, UAS_TAG, None);
    net.deliver(SERVER, busy.clone());
    let ack = net.take_sent_to(SERVER);
    assert_eq!(labels(&ack), ["ACK"], "the proxy ACKs the 486 itself");
    assert_eq!(
        ack[0]
            .top_via()
            .map(|v| v.branch().map(<[u8]>::to_vec))
            .ok()
            .flatten(),
        invite
            .top_via()
            .map(|v| v.branch().map(<[u8]>::to_vec))
            .ok()
            .flatten(),
        "same branch as the INVITE (§17.1.1.3)"
    );
    assert_eq!(ack[0].cseq().map(|c| c.seq).ok(), Some(1));
    assert!(header_has(&ack[0], HeaderName::To, UAS_TAG));
    net.run_until(secs(4.6));
    let up = net.take_timed(CARRIER);
    let expect = [(1000, "486"), (1500, "486"), (2500, "486"), (4500, "486")];
    assert_eq!(timeline(&up), tl(&expect), "Timer G from T1");
    assert_eq!(net.account_active("acme"), 0);
    net.deliver(SERVER, busy);
    assert_eq!(
        labels(&net.take_sent_to(SERVER)),
        ["ACK"],
        "a retransmitted 486 gets the ACK again"
    );
    assert!(net.take_sent_to(CARRIER).is_empty(), "and is not relayed");
    net.deliver(CARRIER, uac.ack(&up[0].msg));
    assert!(net.take_sent_to(SERVER).is_empty(), "the UAC's ACK is absorbed");
    net.deliver(CARRIER, uac.ack(&up[0].msg));
    assert!(net.take_sent_to(SERVER).is_empty());
    drain_quiet(&mut net);
}

#[test]
fn non_2xx_without_ack_stops_at_timer_h() {
    let mut net = Net::loopback();
    let (_, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 486, UAS_TAG, None));
    net.take_sent_to(SERVER);
    net.run_until(secs(40.0));
    let up = net.take_timed(CARRIER);
    let times: Vec<u128> = up.iter().map(|s| s.at.as_millis()).collect();
    let expect = [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500];
    assert_eq!(times, expect, "G doubles to T2, H = 64*T1");
    drain_quiet(&mut net);
}

fn header_has(m: &Message, name: HeaderName, needle: &str) -> bool {
    m.header(name)
        .is_some_and(|v| String::from_utf8_lossy(v).contains(needle))
}

/// Every `settle` pushes a heap entry (lazy deletion); a stale entry that fires re-arms the
/// call again, so the duplicates never drain while the call lives.
#[test]
fn timer_entries_stay_bounded_on_a_long_ringing_call() {
    let mut net = Net::loopback();
    let (_, invite) = start(&mut net, 1, SERVER);
    for _ in 0..50 {
        net.deliver(SERVER, respond(&invite, 183, UAS_TAG, Some(SERVER)));
    }
    net.run_for(secs(100.0));
    assert!(net.counts().timers <= 4, "{:?}", net.counts());
}

/// A second 2xx with another To tag (a fork downstream) after the call was answered is still
/// relayed (RFC 3261 §16.7 step 5), with the caller's own From and To: the answered call keeps
/// those two headers of its INVITE for this.
#[test]
fn a_forked_2xx_after_the_answer_is_relayed_with_its_own_tag() {
    let mut net = Net::loopback();
    let (mut uac, invite) = start(&mut net, 1, SERVER);
    net.deliver(SERVER, respond(&invite, 200, UAS_TAG, Some(SERVER)));
    net.deliver(SERVER, respond(&invite, 200, "fork2", Some(SERVER)));
    let up = net.take_sent_to(CARRIER);
    assert_eq!(labels(&up), ["200", "200"]);
    let to = |m: &Message| String::from_utf8_lossy(m.header(HeaderName::To).unwrap_or_default()).into_owned();
    let from = |m: &Message| m.header(HeaderName::From).map(<[u8]>::to_vec);
    assert_eq!(to(&up[1]), to(&up[0]).replace(UAS_TAG, "fork2"));
    assert!(to(&up[1]).ends_with(";tag=fork2"), "{}", to(&up[1]));
    assert_eq!(from(&up[1]), from(&up[0]));
    net.deliver(CARRIER, uac.ack(&up[0]));
    net.deliver(CARRIER, uac.bye(&up[0]));
    let bye = net.take_sent_to(SERVER);
    assert_eq!(labels(&bye), ["ACK", "BYE"]);
    net.deliver(SERVER, respond(&bye[1], 200, UAS_TAG, None));
    drain(&mut net);
}

/// A call record is allocated for every INVITE. glibc's per-thread cache (the system
/// allocator of the library, its tests and benches) serves requests up to 1032 bytes; at
/// 1048 bytes it went to the slow path (bin search and consolidation: 1.7 % of the CPU in
/// the outbound UDP profile for this one allocation, before the daemon moved to mimalloc,
/// where it is still one size class less).
#[test]
fn a_call_record_fits_the_allocators_per_thread_cache() {
    let size = std::mem::size_of::<crate::proxy::call::Call>();
    assert!(size <= 1024, "Call is {size} bytes");
}
