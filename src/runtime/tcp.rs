//! TCP listeners and connections. Each connection has a reader task (stream framing, CRLF
//! keep-alive answered in place, idle close) and a writer task fed by an unbounded channel (TLS
//! connections reuse both, see `tls.rs`); the driver owns the connection table and is the only
//! one that decides what to send where, so the messages of one transaction are written in the
//! order the core produced them. A plain TCP connection is written by the driver itself while
//! nothing waits in its queue ([`Writer`], `writer.rs`): no task switch per message. Accepted connections are capped per source IP and closed when
//! half-open or flooding keep-alives (`[security]`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tracing::{debug, warn};

pub use super::writer::Writer;
use super::StartError;
use crate::config::{Listen, Live, Transport};
use crate::proxy::{ConnId, Input};
use crate::sip::{frame, Frame};
use crate::telemetry::Telemetry;

/// A connection closes after this long without any byte received.
const IDLE: Duration = Duration::from_secs(600);
/// An accepted connection that has not delivered a whole message within this long (since it
/// opened or since its last whole message) is closed: half-open and slow-loris connections.
pub const HALF_OPEN: Duration = Duration::from_secs(30);
/// How far the idle deadline may run ahead of the armed timer before the timer is moved.
const TIMER_SLACK: Duration = Duration::from_secs(1);
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
        /// `Tcp`, or `Tls` for a connection accepted on a `tls:` listener.
        transport: Transport,
        writer: Writer,
    },
    /// A whole message arrived.
    Message(Input),
    /// The connection is gone (`failed`: an outgoing connect, or its TLS handshake, never
    /// succeeded).
    Closed {
        id: ConnId,
        peer: SocketAddr,
        failed: bool,
    },
}

/// The driver's channel end for stream events.
pub type Events = UnboundedSender<StreamEvent>;

/// What a connection's tasks know about it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    pub id: ConnId,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub transport: Transport,
    /// `max_message_bytes`.
    pub max: usize,
}

/// A fresh connection id (shared by TCP and TLS connections).
pub(super) fn next_id() -> ConnId {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// What accepted connections are checked against (`[security]`, read live on each accept).
#[derive(Clone)]
pub struct Guard {
    live: Arc<Live>,
    telemetry: Arc<Telemetry>,
    /// Open accepted connections per source IP (only touched on accept and close).
    per_ip: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Guard {
    /// A guard reading `[security]` from `live` and counting refusals in `telemetry`.
    pub fn new(live: Arc<Live>, telemetry: Arc<Telemetry>) -> Guard {
        Guard {
            live,
            telemetry,
            per_ip: Arc::default(),
        }
    }

    /// Takes a connection slot for `ip`; `None` when it already holds `tcp_connections_per_ip`.
    fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let cap = self.live.load().security.tcp_connections_per_ip;
        let mut map = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        if cap != 0 && *n >= cap {
            drop(map);
            self.telemetry.metrics.tcp_refused();
            return None;
        }
        *n += 1;
        Some(Slot {
            ip,
            per_ip: Arc::clone(&self.per_ip),
        })
    }

    fn keepalives_per_second(&self) -> u32 {
        self.live.load().security.tcp_keepalives_per_second
    }
}

/// One accepted connection's place in the per-IP count; released on drop.
struct Slot {
    ip: IpAddr,
    per_ip: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Limits of one connection's reader.
pub(super) struct ReadPolicy {
    /// Accepted connections: the half-open timeout applies and keep-alives are rate limited.
    accepted: Option<(Slot, Guard)>,
}

impl ReadPolicy {
    /// Outgoing connections (and accepted TLS ones): only the idle timeout applies.
    pub(super) fn outgoing() -> ReadPolicy {
        ReadPolicy { accepted: None }
    }
}

/// Binds every `tcp:` listener and spawns its accept loop (must run inside the runtime).
pub fn listen_all(
    listen: &[Listen],
    max: usize,
    events: Events,
    guard: &Guard,
) -> Result<Vec<SocketAddr>, StartError> {
    let mut bound = Vec::new();
    for l in listen.iter().filter(|l| l.transport == Transport::Tcp) {
        let (listener, local) = bind(l)?;
        tokio::spawn(accept_loop(listener, local, max, events.clone(), guard.clone()));
        bound.push(local);
    }
    Ok(bound)
}

/// Binds one stream listener (`tcp:` or `tls:`).
pub(super) fn bind(l: &Listen) -> Result<(TcpListener, SocketAddr), StartError> {
    let err = |err| StartError::Bind {
        what: format!("{}:{}", l.transport.via_name().to_ascii_lowercase(), l.addr),
        err,
    };
    let std = std::net::TcpListener::bind(l.addr).map_err(err)?;
    std.set_nonblocking(true).map_err(err)?;
    let listener = TcpListener::from_std(std).map_err(err)?;
    let local = listener.local_addr().map_err(err)?;
    Ok((listener, local))
}

async fn accept_loop(listener: TcpListener, local: SocketAddr, max: usize, events: Events, guard: Guard) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let Some(slot) = guard.admit(peer.ip()) else {
                    debug!("tcp {peer}: over tcp_connections_per_ip, closed");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let link = Link {
                    id: next_id(),
                    peer,
                    local,
                    transport: Transport::Tcp,
                    max,
                };
                let Some((writer, rx)) = opened(&link, &events) else {
                    return;
                };
                let policy = ReadPolicy {
                    accepted: Some((slot, guard.clone())),
                };
                spawn_tcp(stream, link, policy, writer, rx, events.clone());
            }
            Err(e) => {
                warn!("tcp accept on {local}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Tells the driver about an accepted connection; `None` when the driver is gone.
pub(super) fn opened(link: &Link, events: &Events) -> Option<(Writer, UnboundedReceiver<Bytes>)> {
    let (writer, rx) = Writer::new();
    let ev = StreamEvent::Opened {
        id: link.id,
        peer: link.peer,
        transport: link.transport,
        writer: writer.clone(),
    };
    events.send(ev).ok().map(|()| (writer, rx))
}

/// Opens an outgoing connection; returns its id and the writer to send on at once (what is
/// sent flows when the connection is up).
pub fn connect(peer: SocketAddr, local: SocketAddr, max: usize, events: Events) -> (ConnId, Writer) {
    let id = next_id();
    let (writer, rx) = Writer::new();
    let writer2 = writer.clone();
    let link = Link {
        id,
        peer,
        local,
        transport: Transport::Tcp,
        max,
    };
    tokio::spawn(async move {
        match open(peer).await {
            Some(stream) => spawn_tcp(stream, link, ReadPolicy::outgoing(), writer2, rx, events),
            None => connect_failed(&link, &events),
        }
    });
    (id, writer)
}

/// A TCP connection to `peer` (bounded by the connect timeout), or `None` (logged).
pub(super) async fn open(peer: SocketAddr) -> Option<TcpStream> {
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Some(stream)
        }
        Ok(Err(e)) => {
            debug!("tcp connect to {peer} failed: {e}");
            None
        }
        Err(_) => {
            debug!("tcp connect to {peer} timed out");
            None
        }
    }
}

/// Reports an outgoing connection that never came up (the core fails over its branches).
pub(super) fn connect_failed(link: &Link, events: &Events) {
    let _ = events.send(StreamEvent::Closed {
        id: link.id,
        peer: link.peer,
        failed: true,
    });
}

/// Runs a plain TCP connection: its socket goes to `writer` for direct writes, a writer task
/// sends what gets queued, a reader task frames messages.
fn spawn_tcp(
    stream: TcpStream,
    link: Link,
    policy: ReadPolicy,
    writer: Writer,
    rx: UnboundedReceiver<Bytes>,
    events: Events,
) {
    let (rd, wr) = stream.into_split();
    writer.spawn_tcp_task(wr, rx);
    spawn_reader(rd, link, policy, writer, events);
}

/// Runs a connection over any stream (TLS): a writer task draining `rx` and a reader task
/// framing messages.
pub(super) fn spawn_halves<R, W>(
    rd: R,
    wr: W,
    link: Link,
    policy: ReadPolicy,
    writer: Writer,
    rx: UnboundedReceiver<Bytes>,
    events: Events,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    writer.spawn_stream_task(wr, rx);
    spawn_reader(rd, link, policy, writer, events);
}

/// The reader task: frames messages until the connection closes, then tells the driver.
fn spawn_reader<R>(mut rd: R, link: Link, policy: ReadPolicy, writer: Writer, events: Events)
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let reason = read_loop(&mut rd, &link, &policy, &writer, &events).await;
        debug!("{:?} {} closed: {reason}", link.transport, link.peer);
        if let (Some((_, guard)), true) = (&policy.accepted, reason.is_refusal()) {
            guard.telemetry.metrics.tcp_refused();
        }
        drop(policy);
        let _ = events.send(StreamEvent::Closed {
            id: link.id,
            peer: link.peer,
            failed: false,
        });
    });
}

/// Why a reader stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    Idle,
    HalfOpen,
    KeepAliveFlood,
    ReadError,
    Eof,
    Shutdown,
    TooLarge,
    Unframeable,
}

impl Close {
    fn is_refusal(self) -> bool {
        matches!(self, Close::HalfOpen | Close::KeepAliveFlood)
    }
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Close::Idle => "idle",
            Close::HalfOpen => "no whole message within the half-open timeout",
            Close::KeepAliveFlood => "keep-alive flood",
            Close::ReadError => "read error",
            Close::Eof => "eof",
            Close::Shutdown => "shutdown",
            Close::TooLarge => "message too large",
            Close::Unframeable => "unframeable input",
        })
    }
}

/// Keep-alives seen in the current one-second window.
struct KeepAlives {
    start: tokio::time::Instant,
    count: u32,
}

impl KeepAlives {
    /// Counts one keep-alive; true when the connection is over `limit` per second.
    fn over(&mut self, limit: u32) -> bool {
        let now = tokio::time::Instant::now();
        if now.duration_since(self.start) >= Duration::from_secs(1) {
            self.start = now;
            self.count = 0;
        }
        self.count += 1;
        limit != 0 && self.count > limit
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    rd: &mut R,
    link: &Link,
    policy: &ReadPolicy,
    writer: &Writer,
    events: &Events,
) -> Close {
    let mut buf = BytesMut::with_capacity(8192);
    let mut progress = tokio::time::Instant::now();
    let mut seen_message = false;
    let mut pings = KeepAlives {
        start: progress,
        count: 0,
    };
    let guard = policy.accepted.as_ref().map(|(_, g)| g);
    let mut last_read = progress;
    let timer = tokio::time::sleep(IDLE);
    tokio::pin!(timer);
    loop {
        let half_open = guard.is_some() && (!seen_message || !buf.is_empty());
        let deadline = if half_open {
            progress + HALF_OPEN
        } else {
            last_read + IDLE
        };
        // The idle deadline moves with every read; re-arming the timer that often costs more
        // than the read, so it moves at most once a second (and is checked when it fires).
        let armed = timer.deadline();
        if deadline < armed || deadline >= armed + TIMER_SLACK {
            timer.as_mut().reset(deadline);
        }
        let read = tokio::select! {
            biased;
            read = rd.read_buf(&mut buf) => read,
            () = &mut timer => {
                if tokio::time::Instant::now() < deadline {
                    timer.as_mut().reset(deadline);
                    continue;
                }
                return if half_open { Close::HalfOpen } else { Close::Idle };
            }
        };
        match read {
            Err(_) => return Close::ReadError,
            Ok(0) => return Close::Eof,
            Ok(_) => last_read = tokio::time::Instant::now(),
        }
        loop {
            match frame(&buf, link.max) {
                Frame::Incomplete => break,
                Frame::KeepAlive(n) => {
                    if guard.is_some_and(|g| pings.over(g.keepalives_per_second())) {
                        return Close::KeepAliveFlood;
                    }
                    if n >= 4 {
                        let _ = writer.send(Bytes::from_static(b"\r\n"));
                    }
                    buf.advance(n);
                }
                Frame::Message(n) => {
                    seen_message = true;
                    progress = tokio::time::Instant::now();
                    let bytes = Bytes::copy_from_slice(&buf[..n]);
                    buf.advance(n);
                    let input = Input {
                        src: link.peer,
                        local: link.local,
                        transport: link.transport,
                        conn: Some(link.id),
                        bytes,
                    };
                    if events.send(StreamEvent::Message(input)).is_err() {
                        return Close::Shutdown;
                    }
                }
                Frame::TooLarge => return Close::TooLarge,
                Frame::Invalid => return Close::Unframeable,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::sync::mpsc::unbounded_channel;

    fn link() -> Link {
        let addr: SocketAddr = "127.0.0.1:5060".parse().expect("addr");
        Link {
            id: next_id(),
            peer: addr,
            local: addr,
            transport: Transport::Tcp,
            max: 65_535,
        }
    }

    /// An outgoing connection's writer (its tasks running), the peer's end of the socket, and
    /// the driver's event queue (kept so that the reader stays up).
    async fn connected() -> (Writer, TcpStream, UnboundedReceiver<StreamEvent>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (events, events_rx) = unbounded_channel();
        let (writer, rx) = Writer::new();
        let stream = TcpStream::connect(addr).await.expect("connect");
        spawn_tcp(stream, link(), ReadPolicy::outgoing(), writer.clone(), rx, events);
        let (peer, _) = listener.accept().await.expect("accept");
        (writer, peer, events_rx)
    }

    /// A message sent while earlier ones wait in the writer task's queue goes behind them:
    /// the peer reads every message whole and in order although the socket filled up.
    #[tokio::test]
    async fn direct_writes_keep_order_behind_the_queue() {
        let (writer, mut peer, _events) = connected().await;
        let chunk = vec![b'x'; 60_000];
        let count: u32 = 200;
        for i in 0..count {
            let mut m = i.to_be_bytes().to_vec();
            m.extend_from_slice(&chunk);
            writer.send(Bytes::from(m)).expect("send");
        }
        assert!(
            writer.queued() > 0,
            "12 MB cannot all fit in the socket: some went through the queue"
        );
        let mut buf = vec![0u8; 4 + chunk.len()];
        for i in 0..count {
            peer.read_exact(&mut buf).await.expect("read");
            assert_eq!(buf[..4], i.to_be_bytes(), "message {i} in order");
        }
        assert_eq!(writer.queued(), 0);
    }

    /// Batches written with one vectored write each, some cut short by a full socket, still
    /// reach the peer whole and in order, interleaved with single sends.
    #[tokio::test]
    async fn batched_writes_keep_order_when_cut_short() {
        let (writer, mut peer, _events) = connected().await;
        let message = |i: u32| {
            let mut m = i.to_be_bytes().to_vec();
            m.resize(4 + 1000 + (i as usize * 7919) % 9000, b'x');
            Bytes::from(m)
        };
        let (batches, per_batch) = (150u32, 5u32);
        let mut staged = Vec::new();
        for b in 0..batches {
            staged.extend((0..per_batch).map(|k| message(b * (per_batch + 1) + k)));
            writer.send_all(&mut staged).expect("send_all");
            assert!(staged.is_empty(), "a sent batch leaves nothing staged");
            writer
                .send(message(b * (per_batch + 1) + per_batch))
                .expect("send");
        }
        assert!(writer.queued() > 0, "some batches were cut short and queued");
        for i in 0..batches * (per_batch + 1) {
            let want = message(i);
            let mut got = vec![0u8; want.len()];
            peer.read_exact(&mut got).await.expect("read");
            assert_eq!(got, want, "message {i} whole and in order");
        }
    }

    /// A batch for a connection whose writer task is gone comes back whole (the driver sends
    /// it on a new connection).
    #[tokio::test]
    async fn batch_for_a_gone_connection_comes_back() {
        let (writer, rx) = Writer::new();
        drop(rx);
        let mut staged = vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        assert!(writer.send_all(&mut staged).is_err());
        assert_eq!(staged, [Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
    }

    /// Without traffic an outgoing connection closes after `IDLE`, counted from the last read
    /// (the timer re-armed lazily must neither fire early nor never).
    #[tokio::test(start_paused = true)]
    async fn idle_close_counts_from_the_last_read() {
        let (mut near, far) = tokio::io::duplex(1024);
        let (events, _events_rx) = unbounded_channel();
        let (writer, _rx) = Writer::new();
        let started = tokio::time::Instant::now();
        let task = tokio::spawn(async move {
            let mut far = far;
            let policy = ReadPolicy::outgoing();
            read_loop(&mut far, &link(), &policy, &writer, &events).await
        });
        tokio::time::sleep(IDLE / 2).await;
        near.write_all(b"\r\n").await.expect("write");
        tokio::time::sleep(IDLE * 3 / 4).await;
        assert!(
            !task.is_finished(),
            "a read half-way through moved the idle deadline"
        );
        let reason = task.await.expect("reader");
        assert_eq!(reason, Close::Idle);
        let took = started.elapsed();
        assert!(
            took >= IDLE / 2 + IDLE && took <= IDLE / 2 + IDLE + TIMER_SLACK,
            "{took:?}"
        );
    }
}
