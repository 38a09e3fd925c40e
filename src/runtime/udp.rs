//! UDP listeners, and their batched receive (`recvmmsg`) and send (`sendmmsg`) as the driver
//! uses them.

use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::Poll;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::mmsg::{self, RecvBatch};
use super::StartError;
use crate::config::{Listen, Transport};
use crate::proxy::Transmit;

/// One bound UDP listener.
///
/// Registered with the reactor for reading only. tokio's own `UdpSocket` registers for both
/// directions, edge-triggered, and a UDP socket becomes "writable" again every time the kernel
/// frees a datagram it sent (on loopback, inside the `sendmmsg` itself): one epoll event per
/// send that nobody waits for, and one more `epoll_wait` round trip per driver iteration
/// (1.7 per call in the outbound load test). Sends go straight to `sendmmsg`; only a full
/// socket buffer registers a second descriptor for writability, for as long as it is full.
pub struct UdpListener {
    pub socket: Arc<AsyncFd<UdpSocket>>,
    pub local: SocketAddr,
}

/// Binds every `udp:` listener (large buffers; IPv6 sockets are v6-only).
pub fn bind_all(listen: &[Listen]) -> Result<Vec<UdpListener>, StartError> {
    listen
        .iter()
        .filter(|l| l.transport == Transport::Udp)
        .map(|l| bind(l.addr))
        .collect()
}

fn bind(addr: SocketAddr) -> Result<UdpListener, StartError> {
    let err = |err| StartError::Bind {
        what: format!("udp:{addr}"),
        err,
    };
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(err)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(err)?;
    }
    socket.set_reuse_address(true).map_err(err)?;
    let _ = socket.set_recv_buffer_size(4 << 20);
    let _ = socket.set_send_buffer_size(4 << 20);
    socket.set_nonblocking(true).map_err(err)?;
    socket.bind(&addr.into()).map_err(err)?;
    let socket = UdpSocket::from(socket);
    let local = socket.local_addr().map_err(err)?;
    let socket = register(socket, Interest::READABLE).map_err(err)?;
    Ok(UdpListener {
        socket: Arc::new(socket),
        local,
    })
}

/// Registers `socket` with the reactor for `interest` only.
fn register(socket: UdpSocket, interest: Interest) -> io::Result<AsyncFd<UdpSocket>> {
    // SAFETY: a `UdpSocket` owns its descriptor: it stays open, and the same one, until the
    // `AsyncFd` (its owner from here on) drops it.
    unsafe { AsyncFd::register_with_interest(socket, interest) }.map_err(|e| e.into_parts().1)
}

/// One `recvmmsg` of up to `max` datagrams from `socket` into `rx`. Returns how many arrived
/// and whether more may be queued (a full batch).
///
/// A short batch means the socket's queue was empty when the syscall returned, so tokio's
/// readiness is cleared right away instead of by one more `recvmmsg` failing with EAGAIN: the
/// closure reports `WouldBlock` after the batch is stored, and `Registration::try_io` (tokio
/// 1.54, `runtime/io/registration.rs`, behind `AsyncFd::try_io`) then calls `clear_readiness` with the `ReadyEvent` it
/// read *before* the syscall. That clear is a no-op when the reactor has set readiness since
/// (`ScheduledIo::set_readiness` ignores a `Tick::Clear` whose tick is not the current one).
/// No datagram can be missed: mio registers the socket edge-triggered (EPOLLET), and a
/// datagram queued after the syscall raises a new epoll event, which the reactor turns into
/// readiness again. On this current_thread runtime the reactor only runs while the task is
/// parked, never between the syscall and the clear, and the tick guard covers the other
/// runtimes. The one case the reasoning skips: the kernel also ends a batch early on a receive
/// error other than EAGAIN (saved for the next call); our unconnected sockets without
/// IP_RECVERR get none in practice.
pub(super) fn recv_batch(
    socket: &AsyncFd<UdpSocket>,
    rx: &mut RecvBatch,
    max: usize,
) -> io::Result<(usize, bool)> {
    let want = max.min(mmsg::SLOTS);
    let mut got = 0;
    let r = socket.try_io(Interest::READABLE, |socket| {
        got = rx.recv(socket.as_fd(), want)?;
        if got < want {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(())
    });
    match r {
        Ok(()) => Ok((got, true)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok((got, false)),
        Err(e) => Err(e),
    }
}

/// One `sendmmsg` of the head of `batch` through `socket`; when the socket's buffer is full,
/// waits for it to drain (as a plain `send_to().await` would). Returns how many datagrams left
/// (at least one); an error is that of `batch[0]`.
pub(super) async fn send_batch(socket: &AsyncFd<UdpSocket>, batch: &[Transmit]) -> io::Result<usize> {
    let send = || mmsg::send(socket.as_fd(), batch.iter().map(|t| (&t.bytes[..], t.dest)));
    loop {
        match send() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => writable(socket.get_ref()).await?,
            r => return r,
        }
    }
}

/// Waits until `socket` has room to send, through a duplicate descriptor registered for
/// writability only while the buffer is full (the listener itself is registered for reading
/// only; one open file can be in an epoll set once per descriptor).
async fn writable(socket: &UdpSocket) -> io::Result<()> {
    let dup = register(socket.try_clone()?, Interest::WRITABLE)?;
    dup.writable().await?.retain_ready();
    Ok(())
}

/// Resolves with the index of the first UDP socket that is readable.
pub(super) async fn udp_ready(udp: &[UdpListener]) -> usize {
    poll_fn(|cx| {
        for (i, l) in udp.iter().enumerate() {
            if l.socket.poll_read_ready(cx).is_ready() {
                return Poll::Ready(i);
            }
        }
        Poll::Pending
    })
    .await
}
