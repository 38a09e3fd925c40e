//! A UDP user agent on the IPv6 loopback `[::1]`: there is only one IPv6 loopback address,
//! so tests tell the parties apart by port instead of by address block.

use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use bytes::Bytes;
use trunkgate::sip::Message;

use super::msg::MsgExt;
use super::ua::Peer;

/// A UDP user agent bound to `[::1]:port`, talking to a proxy at `[::1]:proxy_port`.
pub struct Ua6 {
    sock: UdpSocket,
    local: SocketAddr,
    proxy: SocketAddr,
}

impl Ua6 {
    /// Binds `[::1]:port`; `None` when the host has no IPv6 loopback.
    pub fn bind(port: u16, proxy_port: u16) -> Option<Ua6> {
        let sock = UdpSocket::bind((Ipv6Addr::LOCALHOST, port)).ok()?;
        let local = sock.local_addr().ok()?;
        Some(Ua6 {
            sock,
            local,
            proxy: SocketAddr::from((Ipv6Addr::LOCALHOST, proxy_port)),
        })
    }
}

impl Peer for Ua6 {
    fn local(&self) -> SocketAddr {
        self.local
    }

    fn transport(&self) -> &'static str {
        "UDP"
    }

    fn send_raw(&self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.proxy).expect("udp6 send");
    }

    fn try_recv(&self, timeout: Duration) -> Option<Message> {
        let mut buf = vec![0u8; 65536];
        self.sock
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .ok()?;
        let (n, src) = self.sock.recv_from(&mut buf).ok()?;
        buf.truncate(n);
        let m = Message::parse(Bytes::from(buf)).unwrap_or_else(|e| panic!("unparseable from {src}: {e}"));
        assert_eq!(
            src,
            self.proxy,
            "{}: message from {src}, not the proxy:\n{}",
            self.local,
            m.text()
        );
        Some(m)
    }
}
