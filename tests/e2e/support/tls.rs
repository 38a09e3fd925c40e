//! SIP over TLS in tests: certificates made with rcgen, a TLS user agent (client side, e.g.
//! a PBX calling in over a `tls:` listener) and a TLS carrier (server side, accepting the
//! proxy's outgoing connection). Both are blocking rustls streams over std `TcpStream`, behind
//! the same `Peer` trait as the UDP and TCP agents.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection, StreamOwned};
use trunkgate::sip::{frame, Frame, Message};

use super::net::Net;
use super::ua::Peer;

static DIRS: AtomicU32 = AtomicU32::new(0);

/// A self-signed certificate for one name (DNS name or IP), written as PEM files.
pub struct Cert {
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    der: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Cert {
    /// Generates a certificate for `name` into a fresh temp dir.
    pub fn new(name: &str) -> Cert {
        let ck = rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("rcgen");
        let dir = std::env::temp_dir().join(format!(
            "trunkgate-e2e-tls-{}-{}",
            std::process::id(),
            DIRS.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("cert dir");
        let cert_pem = dir.join("cert.pem");
        let key_pem = dir.join("key.pem");
        std::fs::write(&cert_pem, ck.cert.pem()).expect("write cert");
        std::fs::write(&key_pem, ck.signing_key.serialize_pem()).expect("write key");
        Cert {
            cert_pem,
            key_pem,
            der: ck.cert.der().clone(),
            key: ck.signing_key.serialize_der(),
        }
    }

    /// A server configuration presenting this certificate.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.der.clone()], key)
            .expect("server config");
        Arc::new(config)
    }

    /// A client configuration trusting only this certificate.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).expect("root");
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    /// The PEM path (for `ca_file`, `tls_certificate`).
    pub fn path(&self) -> &Path {
        &self.cert_pem
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One side of a TLS connection speaking SIP.
pub struct TlsUa {
    stream: Mutex<Box<dyn Stream>>,
    tcp: TcpStream,
    local: SocketAddr,
    buf: Mutex<Vec<u8>>,
}

impl TlsUa {
    /// Connects from `127.0.N.host` to `to`, trusting `trust` and expecting `name`.
    pub fn connect(net: &Net, host: u8, to: SocketAddr, trust: &Cert, name: &str) -> TlsUa {
        use socket2::{Domain, Socket, Type};
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("tcp socket");
        sock.bind(&SocketAddr::from((net.ip(host), 0)).into())
            .expect("bind tls UA");
        sock.connect(&to.into()).expect("connect to the proxy");
        let tcp: TcpStream = sock.into();
        let name = ServerName::try_from(name.to_owned()).expect("server name");
        let conn = ClientConnection::new(trust.client_config(), name).expect("client connection");
        Self::wrap(tcp, move |t| Box::new(StreamOwned::new(conn, t)))
    }

    /// Accepts one connection on `listener` within `timeout` and serves `cert` on it.
    pub fn accept(listener: &TcpListener, cert: &Cert, timeout: Duration) -> Option<TlsUa> {
        let tcp = accept_within(listener, timeout)?;
        let conn = ServerConnection::new(cert.server_config()).expect("server connection");
        Some(Self::wrap(tcp, move |t| Box::new(StreamOwned::new(conn, t))))
    }

    fn wrap(tcp: TcpStream, make: impl FnOnce(TcpStream) -> Box<dyn Stream>) -> TlsUa {
        tcp.set_nodelay(true).ok();
        let local = tcp.local_addr().expect("local addr");
        let handle = tcp.try_clone().expect("clone");
        TlsUa {
            stream: Mutex::new(make(tcp)),
            tcp: handle,
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

/// Polls a non-blocking accept until `timeout`.
fn accept_within(listener: &TcpListener, timeout: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).ok()?;
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).ok()?;
                return Some(s);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return None,
        }
    }
    None
}

/// A TLS server at `127.0.N.host:port` that accepts one connection, presents `cert` and hangs
/// up once the handshake is over (or failed): a carrier the proxy must not trust.
pub fn untrusted_server(net: &Net, host: u8, port: u16, cert: Cert) -> std::thread::JoinHandle<bool> {
    let listener = TcpListener::bind((net.ip(host), port)).expect("bind untrusted server");
    std::thread::spawn(move || {
        let Some(mut tcp) = accept_within(&listener, Duration::from_secs(10)) else {
            return false;
        };
        let Ok(mut conn) = ServerConnection::new(cert.server_config()) else {
            return false;
        };
        tcp.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let _ = conn.complete_io(&mut tcp);
        true
    })
}

impl Peer for TlsUa {
    fn local(&self) -> SocketAddr {
        self.local
    }

    fn transport(&self) -> &'static str {
        "TLS"
    }

    fn send_raw(&self, bytes: &[u8]) {
        let mut s = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        s.write_all(bytes).expect("tls send");
        s.flush().expect("tls flush");
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
            self.tcp.set_read_timeout(Some(left)).ok()?;
            let mut s = self.stream.lock().unwrap_or_else(|e| e.into_inner());
            match s.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return None,
                Err(e) => panic!("tls read: {e}"),
            }
        }
    }
}
