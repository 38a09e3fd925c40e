//! A fixed workload for benchmarks and the instruction-count regression guard: complete calls
//! through the core on simulated time, the same shapes as the SIPp bench: inbound (carrier →
//! DID → server: INVITE, 100, 180, 200, ACK, BYE, 200) and outbound (PBX with digest →
//! termination carrier: INVITE, 407, ACK, INVITE with credentials, then the same).

use std::net::SocketAddr;
use std::time::Duration;

use super::{respond, Net, Uac, CARRIER, DID, PBX, SERVER, TERMINATION};
use crate::policy::digest::answer;
use crate::sip::HeaderName;

const UAS_TAG: &str = "uas-bench";

/// Places call number `n` from INVITE to the BYE's 200; returns the number of messages the
/// proxy relayed or answered.
pub fn inbound_call(net: &mut Net, n: u64) -> usize {
    let mut uac = Uac::new(CARRIER, n, DID);
    net.deliver(CARRIER, uac.invite());
    answer_and_hang_up(net, &mut uac, SERVER)
}

/// Places outbound call number `n` from the PBX (digest pbx1/s3cret) from the first INVITE to
/// the BYE's 200; returns the number of messages the proxy relayed or answered.
pub fn outbound_call(net: &mut Net, n: u64) -> usize {
    let mut uac = Uac::new(PBX, n, "+12125550123");
    net.deliver(PBX, uac.invite());
    let challenged = net.take_sent_to(PBX);
    let Some(challenge) = challenged.last() else {
        return 0;
    };
    net.deliver(PBX, uac.ack(challenge));
    let asked = challenge
        .header(HeaderName::ProxyAuthenticate)
        .unwrap_or_default();
    let Ok(creds) = answer(
        &String::from_utf8_lossy(asked),
        "INVITE",
        &uac.ruri,
        "pbx1",
        "s3cret",
        "bench",
        1,
    ) else {
        return 0;
    };
    net.deliver(PBX, uac.reinvite_with(&format!("Proxy-Authorization: {creds}")));
    challenged.len() + answer_and_hang_up(net, &mut uac, TERMINATION)
}

/// The rest of a call whose INVITE the proxy just relayed to `callee`: 180, 200, ACK, the
/// caller's BYE and its 200; the number of messages the proxy relayed or answered.
fn answer_and_hang_up(net: &mut Net, uac: &mut Uac, callee: SocketAddr) -> usize {
    let caller = uac.addr;
    let invite = net.take_sent_to(callee).pop();
    let Some(invite) = invite else { return 0 };
    net.deliver(callee, respond(&invite, 180, UAS_TAG, Some(callee)));
    net.deliver(callee, respond(&invite, 200, UAS_TAG, Some(callee)));
    let up = net.take_sent_to(caller);
    let Some(ok) = up.last().cloned() else { return 0 };
    net.deliver(caller, uac.ack(&ok));
    net.deliver(caller, uac.bye(&ok));
    let bye = net.take_sent_to(callee).pop();
    let Some(bye) = bye else { return 0 };
    net.deliver(callee, respond(&bye, 200, UAS_TAG, None));
    up.len() + net.take_all().len() + 3
}

/// Which call shape a workload places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Inbound,
    Outbound,
}

impl Flow {
    /// Places call number `n` of this shape (see `inbound_call`, `outbound_call`).
    pub fn call(self, net: &mut Net, n: u64) -> usize {
        match self {
            Flow::Inbound => inbound_call(net, n),
            Flow::Outbound => outbound_call(net, n),
        }
    }
}

/// `n` calls, then enough simulated time for every transaction to end.
pub fn inbound_calls(net: &mut Net, first: u64, n: u64) -> usize {
    calls(net, Flow::Inbound, first, n)
}

/// `n` calls of `flow`, then enough simulated time for every transaction to end.
pub fn calls(net: &mut Net, flow: Flow, first: u64, n: u64) -> usize {
    let relayed = (first..first + n).map(|i| flow.call(net, i)).sum();
    net.run_for(Duration::from_secs(40));
    net.take_all();
    relayed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_flows_complete_and_leave_nothing_behind() {
        let mut net = Net::loopback();
        // 100, 180, 200 to the carrier; INVITE, ACK, BYE to the server; 200 of the BYE.
        assert_eq!(inbound_call(&mut net, 1), 7);
        // 407 to the PBX; then 100, 180, 200 up; INVITE, ACK, BYE down; 200 of the BYE.
        assert_eq!(outbound_call(&mut net, 2), 8);
        net.run_for(Duration::from_secs(40));
        net.assert_no_leaks();
    }
}
