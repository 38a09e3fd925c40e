//! A fixed workload for benchmarks and the instruction-count regression guard: complete inbound
//! calls (carrier → DID → server) through the core on simulated time, the same shape as the
//! SIPp bench (INVITE, 100, 180, 200, ACK, BYE, 200).

use std::time::Duration;

use super::{respond, Net, Uac, CARRIER, DID, SERVER};

const UAS_TAG: &str = "uas-bench";

/// Places call number `n` from INVITE to the BYE's 200; returns the number of messages the
/// proxy relayed or answered.
pub fn inbound_call(net: &mut Net, n: u64) -> usize {
    let mut uac = Uac::new(CARRIER, n, DID);
    net.deliver(CARRIER, uac.invite());
    let invite = net.take_sent_to(SERVER).pop();
    let Some(invite) = invite else { return 0 };
    net.deliver(SERVER, respond(&invite, 180, UAS_TAG, Some(SERVER)));
    net.deliver(SERVER, respond(&invite, 200, UAS_TAG, Some(SERVER)));
    let up = net.take_sent_to(CARRIER);
    let Some(ok) = up.last().cloned() else { return 0 };
    net.deliver(CARRIER, uac.ack(&ok));
    net.deliver(CARRIER, uac.bye(&ok));
    let bye = net.take_sent_to(SERVER).pop();
    let Some(bye) = bye else { return 0 };
    net.deliver(SERVER, respond(&bye, 200, UAS_TAG, None));
    up.len() + net.take_all().len() + 3
}

/// `n` calls, then enough simulated time for every transaction to end.
pub fn inbound_calls(net: &mut Net, first: u64, n: u64) -> usize {
    let relayed = (first..first + n).map(|i| inbound_call(net, i)).sum();
    net.run_for(Duration::from_secs(40));
    net.take_all();
    relayed
}
