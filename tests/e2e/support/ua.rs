//! Scripted user agents: a UDP one bound in the test's block and a TCP one connected to the
//! proxy. Both speak text in and `trunkgate::sip::Message` out.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use trunkgate::sip::{frame, Frame, Message, ResponseBuilder};

use super::msg::{sdp, wire, MsgExt};
use super::net::Net;

/// Default wait for a message that must arrive.
pub const WAIT: Duration = Duration::from_secs(3);

/// What both transports offer; the helpers below are written once on top of it.
pub trait Peer {
    /// Our address (Via sent-by, Contact).
    fn local(&self) -> SocketAddr;
    /// `"UDP"` or `"TCP"`.
    fn transport(&self) -> &'static str;
    /// Sends raw bytes to the proxy.
    fn send_raw(&self, bytes: &[u8]);
    /// The next message, `None` after `timeout`.
    fn try_recv(&self, timeout: Duration) -> Option<Message>;

    /// Sends a message written as text (see `msg::wire`).
    fn send(&self, text: &str) {
        self.send_raw(&wire(text));
    }

    /// The next message; panics after `timeout`.
    fn recv(&self, timeout: Duration) -> Message {
        match self.try_recv(timeout) {
            Some(m) => m,
            None => panic!("{}: nothing received within {timeout:?}", self.local()),
        }
    }

    /// The next request, which must have this method (responses and other methods panic).
    fn expect_request(&self, method: &str) -> Message {
        let m = self.recv(WAIT);
        assert!(
            m.is_request() && m.method_bytes() == method.as_bytes(),
            "{}: expected a {method} request, got:\n{}",
            self.local(),
            m.text()
        );
        m
    }

    /// The next response, which must have this code; 100 Trying is skipped unless `code` is 100.
    fn expect_response(&self, code: u16) -> Message {
        let until = Instant::now() + WAIT;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let m = self.recv(left);
            assert!(
                !m.is_request(),
                "{}: expected {code}, got a request:\n{}",
                self.local(),
                m.text()
            );
            if m.code() == 100 && code != 100 {
                continue;
            }
            assert_eq!(
                m.code(),
                code,
                "{}: unexpected response:\n{}",
                self.local(),
                m.text()
            );
            return m;
        }
    }

    /// Asserts that nothing arrives for `dur`.
    fn expect_silence(&self, dur: Duration) {
        if let Some(m) = self.try_recv(dur) {
            panic!("{}: expected silence, got:\n{}", self.local(), m.text());
        }
    }

    /// Answers a received request (see `reply`).
    fn respond(&self, req: &Message, code: u16) {
        self.send_raw(&reply(req, code, self.local(), &[]));
    }

    /// Answers with extra header lines.
    fn respond_with(&self, req: &Message, code: u16, extra: &[(&str, &str)]) {
        self.send_raw(&reply(req, code, self.local(), extra));
    }
}

/// A response to `req` from a UA at `local`: Via/From/To/Call-ID/CSeq copied, a To tag added,
/// and for 101-299 answers to INVITE the Record-Route echoed, a Contact and (2xx) an SDP body.
pub fn reply(req: &Message, code: u16, local: SocketAddr, extra: &[(&str, &str)]) -> Vec<u8> {
    let tag = format!("uas{}", local.ip().to_string().replace(['.', ':'], ""));
    let reason = trunkgate::sip::reason_phrase(code);
    let mut b = ResponseBuilder::new(req, code, reason).to_tag(tag.as_bytes());
    let invite = req.method_bytes() == b"INVITE";
    let rrs = req.lines("Record-Route");
    let contact = format!("<sip:uas@{local}>");
    let body = sdp(&local.ip().to_string()).replace('\n', "\r\n");
    if invite && (101..300).contains(&code) {
        for rr in &rrs {
            b = b.header("Record-Route", rr.as_bytes());
        }
        b = b.header("Contact", contact.as_bytes());
    }
    for (n, v) in extra {
        b = b.header(n, v.as_bytes());
    }
    if invite && (200..300).contains(&code) {
        b = b.body("application/sdp", body.as_bytes());
    }
    b.build().to_vec()
}

/// A UDP user agent bound to `127.0.N.host:5060` (or port 0), talking to the proxy.
pub struct Ua {
    sock: UdpSocket,
    local: SocketAddr,
    proxy: SocketAddr,
}

impl Ua {
    /// Binds `127.0.N.host:5060`.
    pub fn bind(net: &Net, host: u8) -> Ua {
        Self::bind_port(net, host, 5060)
    }

    /// Binds `127.0.N.host:port` (0: any).
    pub fn bind_port(net: &Net, host: u8, port: u16) -> Ua {
        let sock = UdpSocket::bind((net.ip(host), port)).expect("bind test UA");
        let local = sock.local_addr().expect("local addr");
        Ua {
            sock,
            local,
            proxy: net.proxy(),
        }
    }

    /// Binds `[::1]:port`, talking to a proxy at `[::1]:proxy_port` (there is one IPv6
    /// loopback address, so IPv6 tests tell parties apart by port); `None` when the host has
    /// no IPv6 loopback.
    pub fn bind_v6(port: u16, proxy_port: u16) -> Option<Ua> {
        let sock = UdpSocket::bind((Ipv6Addr::LOCALHOST, port)).ok()?;
        let local = sock.local_addr().ok()?;
        Some(Ua {
            sock,
            local,
            proxy: SocketAddr::from((Ipv6Addr::LOCALHOST, proxy_port)),
        })
    }

    /// Sends raw bytes somewhere else than the proxy.
    pub fn send_to(&self, dest: SocketAddr, bytes: &[u8]) {
        self.sock.send_to(bytes, dest).expect("udp send");
    }

    /// The next datagram with its source.
    pub fn recv_from(&self, timeout: Duration) -> Option<(Message, SocketAddr)> {
        let mut buf = vec![0u8; 65536];
        self.sock
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .ok()?;
        let (n, src) = self.sock.recv_from(&mut buf).ok()?;
        buf.truncate(n);
        let m = Message::parse(Bytes::from(buf)).unwrap_or_else(|e| panic!("unparseable from {src}: {e}"));
        Some((m, src))
    }
}

impl Peer for Ua {
    fn local(&self) -> SocketAddr {
        self.local
    }

    fn transport(&self) -> &'static str {
        "UDP"
    }

    fn send_raw(&self, bytes: &[u8]) {
        self.send_to(self.proxy, bytes);
    }

    fn try_recv(&self, timeout: Duration) -> Option<Message> {
        let (m, src) = self.recv_from(timeout)?;
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

/// A TCP user agent: one connection from `127.0.N.host:ephemeral` to the proxy.
pub struct TcpUa {
    stream: TcpStream,
    local: SocketAddr,
    buf: Mutex<Vec<u8>>,
}

impl TcpUa {
    /// Connects from `127.0.N.host` to the proxy's TCP listener.
    pub fn connect(net: &Net, host: u8) -> TcpUa {
        use socket2::{Domain, Socket, Type};
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("tcp socket");
        let from = SocketAddr::from((net.ip(host), 0));
        sock.bind(&from.into()).expect("bind tcp UA");
        sock.connect(&net.proxy().into()).expect("connect to the proxy");
        let stream: TcpStream = sock.into();
        stream.set_nodelay(true).ok();
        let local = stream.local_addr().expect("local addr");
        TcpUa {
            stream,
            local,
            buf: Mutex::new(Vec::new()),
        }
    }

    fn take_frame(buf: &mut Vec<u8>) -> Option<Message> {
        loop {
            match frame(buf, 65535) {
                Frame::KeepAlive(n) => {
                    buf.drain(..n);
                }
                Frame::Message(n) => {
                    let bytes: Vec<u8> = buf.drain(..n).collect();
                    return Some(Message::parse(Bytes::from(bytes)).expect("parse framed message"));
                }
                Frame::Incomplete => return None,
                Frame::TooLarge | Frame::Invalid => panic!("unframeable stream data"),
            }
        }
    }
}

impl Peer for TcpUa {
    fn local(&self) -> SocketAddr {
        self.local
    }

    fn transport(&self) -> &'static str {
        "TCP"
    }

    fn send_raw(&self, bytes: &[u8]) {
        (&self.stream).write_all(bytes).expect("tcp send");
    }

    fn try_recv(&self, timeout: Duration) -> Option<Message> {
        let until = Instant::now() + timeout;
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let mut chunk = [0u8; 16384];
        loop {
            if let Some(m) = Self::take_frame(&mut buf) {
                return Some(m);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.stream.set_read_timeout(Some(left)).ok()?;
            match (&self.stream).read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return None,
                Err(e) => panic!("tcp read: {e}"),
            }
        }
    }
}
