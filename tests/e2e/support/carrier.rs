//! A carrier on the far side of the proxy that answers keep-alive OPTIONS by itself (while told
//! to) from a background thread and hands every other message to the test.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use trunkgate::sip::Message;

use super::msg::MsgExt;
use super::net::Net;
use super::ua::{reply, WAIT};

/// A UDP carrier at `127.0.N.host:5060` with an OPTIONS auto-responder.
pub struct CarrierSim {
    sock: UdpSocket,
    local: SocketAddr,
    proxy: SocketAddr,
    rx: Receiver<Message>,
    /// Whether OPTIONS get a 200 (false: ignored, as a dead carrier would).
    pub answering: Arc<AtomicBool>,
    /// OPTIONS received so far (answered or not).
    pub pings: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CarrierSim {
    /// Binds `127.0.N.host:5060` and starts answering OPTIONS.
    pub fn start(net: &Net, host: u8) -> CarrierSim {
        let sock = UdpSocket::bind((net.ip(host), 5060)).expect("bind carrier");
        let local = sock.local_addr().expect("local addr");
        let reader = sock.try_clone().expect("clone socket");
        reader
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let (tx, rx) = channel();
        let answering = Arc::new(AtomicBool::new(true));
        let pings = Arc::new(AtomicU32::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, p, st) = (answering.clone(), pings.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !st.load(Ordering::SeqCst) {
                let Ok((n, src)) = reader.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(m) = Message::parse(Bytes::copy_from_slice(&buf[..n])) else {
                    continue;
                };
                if m.is_request() && m.method_bytes() == b"OPTIONS" {
                    p.fetch_add(1, Ordering::SeqCst);
                    if a.load(Ordering::SeqCst) {
                        let _ = reader.send_to(&reply(&m, 200, local, &[]), src);
                    }
                    continue;
                }
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        CarrierSim {
            sock,
            local,
            proxy: net.proxy(),
            rx,
            answering,
            pings,
            stop,
            thread: Some(thread),
        }
    }

    /// Starts or stops answering OPTIONS.
    pub fn set_answering(&self, on: bool) {
        self.answering.store(on, Ordering::SeqCst);
    }

    /// The carrier's address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The next non-OPTIONS message, `None` after `timeout`.
    pub fn try_recv(&self, timeout: Duration) -> Option<Message> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next non-OPTIONS message, which must be a `method` request.
    pub fn expect_request(&self, method: &str) -> Message {
        let m = self
            .try_recv(WAIT)
            .unwrap_or_else(|| panic!("{}: no {method} within {WAIT:?}", self.local));
        assert!(
            m.is_request() && m.method_bytes() == method.as_bytes(),
            "{}: expected {method}, got:\n{}",
            self.local,
            m.text()
        );
        m
    }

    /// Answers a request back to the proxy.
    pub fn respond(&self, req: &Message, code: u16) {
        self.sock
            .send_to(&reply(req, code, self.local, &[]), self.proxy)
            .expect("udp send");
    }
}

impl Drop for CarrierSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
