//! Scenario tests of the proxy core on simulated time, through `proxy::testing::Net`: every test
//! asserts what is sent, to whom and when, then runs five simulated minutes and checks that
//! nothing leaked (core tables, account and carrier counters).

mod cancel;
mod failover;
mod invite;
mod random;
mod relay;
mod transport;

use std::time::Duration;

use super::testing::*;
use crate::config::Failover;
use crate::policy::testing::Fixture;
use crate::sip::Message;

/// Five simulated minutes: every transaction timer (64*T1, Timer D 32 s) has long fired.
const DRAIN: Duration = Duration::from_secs(300);

/// The UAS's To tag in every test.
const UAS_TAG: &str = "uas1";

/// Loopback layout whose server fails over to the SIP URI at [`FAILOVER`].
fn with_failover(edit: impl FnOnce(&mut crate::config::Server)) -> Net {
    let fx = Fixture::loopback().server_with(|s| {
        s.options.failover = Some(Failover::Sip("sip:4155550100@127.0.0.6".into()));
        edit(s);
    });
    Net::new(fx.build())
}

/// Loopback layout with the server options changed.
fn with_server(edit: impl FnOnce(&mut crate::config::Server)) -> Net {
    Net::new(Fixture::loopback().server_with(edit).build())
}

/// Sends call `n`'s INVITE from [`CARRIER`]; checks the 100 upstream and the single INVITE at
/// `to`, which it returns.
fn start(net: &mut Net, n: u64, to: std::net::SocketAddr) -> (Uac, Message) {
    let uac = Uac::new(CARRIER, n, DID);
    net.deliver(CARRIER, uac.invite());
    assert_eq!(labels(&net.take_sent_to(CARRIER)), ["100"]);
    let mut sent = net.take_sent_to(to);
    assert_eq!(labels(&sent), ["INVITE"], "at {to}");
    (uac, sent.remove(0))
}

/// An answered call: INVITE, 180, 200 relayed, ACK end to end. Returns the UAC, the INVITE
/// as the server got it and the 200 as the UAC got it.
fn answered(net: &mut Net, n: u64) -> (Uac, Message, Message) {
    let (mut uac, invite) = start(net, n, SERVER);
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    net.deliver(SERVER, respond(&invite, 200, UAS_TAG, Some(SERVER)));
    let up = net.take_sent_to(CARRIER);
    assert_eq!(labels(&up), ["180", "200"]);
    let ok = up[1].clone();
    net.deliver(CARRIER, uac.ack(&ok));
    assert_eq!(labels(&net.take_sent_to(SERVER)), ["ACK"]);
    (uac, invite, ok)
}

/// Runs [`DRAIN`], checks nothing else was sent, and that nothing leaked.
fn drain_quiet(net: &mut Net) {
    net.run_for(DRAIN);
    let rest = net.take_all();
    let rest: Vec<_> = rest
        .iter()
        .map(|(a, s)| (a.to_string(), s.at.as_millis(), label(&s.msg)))
        .collect();
    assert!(rest.is_empty(), "unexpected messages: {rest:?}");
    net.assert_no_leaks();
}

/// Runs [`DRAIN`] ignoring what is sent, then checks for leaks.
fn drain(net: &mut Net) {
    net.run_for(DRAIN);
    net.take_all();
    net.assert_no_leaks();
}

/// `(ms, label)` pairs, for timelines.
fn tl(items: &[(u128, &str)]) -> Vec<(u128, String)> {
    items.iter().map(|(t, l)| (*t, (*l).to_owned())).collect()
}
