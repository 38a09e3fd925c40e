//! The sending side of a stream connection ([`Writer`]): the driver writes plain TCP itself
//! while nothing is queued (no task switch per message); a writer task per connection sends
//! what the socket did not take, what was sent before the connection was up, and all TLS.

use std::io::IoSlice;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Messages one direct write takes at most (the rest is queued).
const MAX_IOV: usize = 16;

/// The sending side of one connection. Plain TCP is written at once (`try_write`) while
/// nothing is queued ahead; what the socket does not take, everything sent before the
/// connection is up, and all TLS goes through the connection's writer task, in order.
#[derive(Clone)]
pub struct Writer {
    tx: UnboundedSender<Bytes>,
    direct: Arc<Direct>,
}

/// What a [`Writer`] shares with its connection's writer task.
#[derive(Default)]
struct Direct {
    /// The socket, once a plain TCP connection is up (never set for TLS).
    socket: OnceLock<OwnedWriteHalf>,
    /// Messages handed to the writer task and not yet wholly written.
    queued: AtomicUsize,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("direct", &self.direct.socket.get().is_some())
            .field("queued", &self.direct.queued.load(Ordering::Relaxed))
            .finish()
    }
}

impl Writer {
    /// A writer and the queue its connection's writer task drains.
    pub(super) fn new() -> (Writer, UnboundedReceiver<Bytes>) {
        let (tx, rx) = unbounded_channel();
        let direct = Arc::default();
        (Writer { tx, direct }, rx)
    }

    /// Sends `bytes` after everything sent before; `Err` when the connection is gone.
    pub fn send(&self, mut bytes: Bytes) -> Result<(), Bytes> {
        if let (0, Some(socket)) = (
            self.direct.queued.load(Ordering::Acquire),
            self.direct.socket.get(),
        ) {
            match socket.try_write(&bytes) {
                Ok(n) if n == bytes.len() => return Ok(()),
                Ok(n) => bytes.advance(n),
                // Would block (the writer task waits for room) or failed (it finds the error).
                Err(_) => {}
            }
        }
        self.direct.queued.fetch_add(1, Ordering::AcqRel);
        self.tx.send(bytes).map_err(|e| {
            self.direct.queued.fetch_sub(1, Ordering::AcqRel);
            e.0
        })
    }

    /// Sends `msgs` in order after everything sent before, as one vectored write when the
    /// socket takes them at once, and empties `msgs`. `Err` when the connection is gone:
    /// `msgs` then holds the messages not sent.
    pub fn send_all(&self, msgs: &mut Vec<Bytes>) -> Result<(), ()> {
        if msgs.len() <= 1 {
            let Some(one) = msgs.pop() else { return Ok(()) };
            return self.send(one).map_err(|b| msgs.push(b));
        }
        let taken = self.write_direct(msgs);
        for k in taken..msgs.len() {
            let b = std::mem::take(&mut msgs[k]);
            if let Err(b) = self.send(b) {
                msgs[k] = b;
                msgs.drain(..k);
                return Err(());
            }
        }
        msgs.clear();
        Ok(())
    }

    /// One `writev` of (up to [`MAX_IOV`] of) `msgs` when nothing is queued ahead: how many
    /// messages went whole; the first one not whole loses what the socket took of it.
    fn write_direct(&self, msgs: &mut [Bytes]) -> usize {
        let (0, Some(socket)) = (
            self.direct.queued.load(Ordering::Acquire),
            self.direct.socket.get(),
        ) else {
            return 0;
        };
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let n = msgs.len().min(MAX_IOV);
        for (slot, m) in iov.iter_mut().zip(msgs.iter()) {
            *slot = IoSlice::new(m);
        }
        let Ok(mut written) = socket.try_write_vectored(&iov[..n]) else {
            // Would block (the writer task waits for room) or failed (it finds the error).
            return 0;
        };
        let mut whole = 0;
        while whole < n && written >= msgs[whole].len() {
            written -= msgs[whole].len();
            whole += 1;
        }
        if written > 0 {
            msgs[whole].advance(written);
        }
        whole
    }
}

impl Writer {
    /// Plain TCP: hands the socket to this writer for direct writes and spawns the writer
    /// task that sends what gets queued. The task holds no sender, so it ends (and the socket
    /// closes) when the driver and the reader are done with the connection.
    pub(super) fn spawn_tcp_task(&self, socket: OwnedWriteHalf, mut rx: UnboundedReceiver<Bytes>) {
        let _ = self.direct.socket.set(socket);
        let queue = Arc::clone(&self.direct);
        tokio::spawn(async move {
            let Some(socket) = queue.socket.get() else { return };
            while let Some(mut b) = rx.recv().await {
                while !b.is_empty() {
                    if socket.writable().await.is_err() {
                        return;
                    }
                    match socket.try_write(&b) {
                        Ok(n) => b.advance(n),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
                queue.written();
            }
        });
    }

    /// Any other stream (TLS): spawns the writer task that sends everything, in order.
    pub(super) fn spawn_stream_task<W>(&self, mut wr: W, mut rx: UnboundedReceiver<Bytes>)
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let queue = Arc::clone(&self.direct);
        tokio::spawn(async move {
            while let Some(b) = rx.recv().await {
                if wr.write_all(&b).await.is_err() {
                    break;
                }
                queue.written();
                // TLS buffers records: push them out once the queue is empty.
                if rx.is_empty() && wr.flush().await.is_err() {
                    break;
                }
            }
        });
    }

    /// Messages waiting in the writer task's queue.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.direct.queued.load(Ordering::Relaxed)
    }
}

impl Direct {
    /// Marks one queued message as written (by the writer task).
    fn written(&self) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
    }
}
