//! TCP listeners and connections. Each connection has a reader task (stream framing, CRLF
//! keep-alive answered in place, idle close) and a writer task fed by an unbounded channel; the
//! driver owns the connection table and is the only one that decides what to send where, so the
//! messages of one transaction are written in the order the core produced them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tracing::{debug, warn};

use super::StartError;
use crate::config::{Listen, Transport};
use crate::proxy::{ConnId, Input};
use crate::sip::{frame, Frame};

/// A connection closes after this long without any byte received.
const IDLE: Duration = Duration::from_secs(600);
/// An outgoing connection attempt gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What connection tasks tell the driver.
#[derive(Debug)]
pub enum StreamEvent {
    /// An accepted connection (outgoing ones are registered by the driver itself).
    Opened {
        id: ConnId,
        peer: SocketAddr,
        tx: UnboundedSender<Bytes>,
    },
    /// A whole message arrived.
    Message(Input),
    /// The connection is gone (`failed`: an outgoing connect that never succeeded).
    Closed {
        id: ConnId,
        peer: SocketAddr,
        failed: bool,
    },
}

/// The driver's channel end for stream events.
pub type Events = UnboundedSender<StreamEvent>;

/// Binds every `tcp:` listener and spawns its accept loop (must run inside the runtime).
pub fn listen_all(listen: &[Listen], max: usize, events: Events) -> Result<Vec<SocketAddr>, StartError> {
    let mut bound = Vec::new();
    for l in listen.iter().filter(|l| l.transport == Transport::Tcp) {
        let err = |err| StartError::Bind {
            what: format!("tcp:{}", l.addr),
            err,
        };
        let std = std::net::TcpListener::bind(l.addr).map_err(err)?;
        std.set_nonblocking(true).map_err(err)?;
        let listener = TcpListener::from_std(std).map_err(err)?;
        let local = listener.local_addr().map_err(err)?;
        tokio::spawn(accept_loop(listener, local, max, events.clone()));
        bound.push(local);
    }
    Ok(bound)
}

async fn accept_loop(listener: TcpListener, local: SocketAddr, max: usize, events: Events) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = unbounded_channel();
                if events
                    .send(StreamEvent::Opened {
                        id,
                        peer,
                        tx: tx.clone(),
                    })
                    .is_err()
                {
                    return;
                }
                spawn_conn(stream, id, peer, local, max, tx, rx, events.clone());
            }
            Err(e) => {
                warn!("tcp accept on {local}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Opens an outgoing connection; returns its id and the sender to queue bytes on at once
/// (they flow when the connection is up).
pub fn connect(
    peer: SocketAddr,
    local: SocketAddr,
    max: usize,
    events: Events,
) -> (ConnId, UnboundedSender<Bytes>) {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = unbounded_channel();
    let tx2 = tx.clone();
    tokio::spawn(async move {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                spawn_conn(stream, id, peer, local, max, tx2, rx, events);
            }
            _ => {
                debug!("tcp connect to {peer} failed");
                let _ = events.send(StreamEvent::Closed {
                    id,
                    peer,
                    failed: true,
                });
            }
        }
    });
    (id, tx)
}

#[allow(clippy::too_many_arguments)]
fn spawn_conn(
    stream: TcpStream,
    id: ConnId,
    peer: SocketAddr,
    local: SocketAddr,
    max: usize,
    tx: UnboundedSender<Bytes>,
    mut rx: UnboundedReceiver<Bytes>,
    events: Events,
) {
    let (mut rd, mut wr) = stream.into_split();
    tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let reason = read_loop(&mut rd, id, peer, local, max, &tx, &events).await;
        debug!("tcp {peer} closed: {reason}");
        let _ = events.send(StreamEvent::Closed {
            id,
            peer,
            failed: false,
        });
    });
}

async fn read_loop(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
    id: ConnId,
    peer: SocketAddr,
    local: SocketAddr,
    max: usize,
    tx: &UnboundedSender<Bytes>,
    events: &Events,
) -> &'static str {
    let mut buf = BytesMut::with_capacity(8192);
    loop {
        match tokio::time::timeout(IDLE, rd.read_buf(&mut buf)).await {
            Err(_) => return "idle",
            Ok(Err(_)) => return "read error",
            Ok(Ok(0)) => return "eof",
            Ok(Ok(_)) => {}
        }
        loop {
            match frame(&buf, max) {
                Frame::Incomplete => break,
                Frame::KeepAlive(n) => {
                    if n >= 4 {
                        let _ = tx.send(Bytes::from_static(b"\r\n"));
                    }
                    buf.advance(n);
                }
                Frame::Message(n) => {
                    let bytes = Bytes::copy_from_slice(&buf[..n]);
                    buf.advance(n);
                    let input = Input {
                        src: peer,
                        local,
                        transport: Transport::Tcp,
                        conn: Some(id),
                        bytes,
                    };
                    if events.send(StreamEvent::Message(input)).is_err() {
                        return "shutdown";
                    }
                }
                Frame::TooLarge => return "message too large",
                Frame::Invalid => return "unframeable input",
            }
        }
    }
}
