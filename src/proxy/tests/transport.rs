//! Transport choice for branches: RFC 3261 §18.1.1's switch of large requests to TCP.

use super::*;
use crate::config::Transport;
use crate::sip::HeaderName;

/// The INVITE of `uac` padded past the 1300-byte switch size with a custom header.
fn big_invite(uac: &Uac) -> bytes::Bytes {
    let text = String::from_utf8_lossy(&uac.invite()).into_owned();
    let pad = format!("X-Pad: {}\r\nContent-Type:", "p".repeat(1400));
    bytes::Bytes::from(text.replacen("Content-Type:", &pad, 1))
}

#[test]
fn large_request_switches_to_tcp_when_enabled() {
    let snap = Fixture::loopback().proxy(|p| p.udp_mtu_switch = true).build();
    let mut net = Net::new(snap);
    let uac = Uac::new(CARRIER, 1, DID);
    net.deliver(CARRIER, big_invite(&uac));
    let sent = net.take_timed(SERVER);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].transport, Transport::Tcp);
    let via = String::from_utf8_lossy(sent[0].msg.header(HeaderName::Via).unwrap_or(b"")).into_owned();
    assert!(via.starts_with("SIP/2.0/TCP "), "{via}");
}

#[test]
fn large_request_stays_on_udp_by_default() {
    let mut net = Net::loopback();
    let uac = Uac::new(CARRIER, 1, DID);
    net.deliver(CARRIER, big_invite(&uac));
    let sent = net.take_timed(SERVER);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].transport, Transport::Udp);
}
