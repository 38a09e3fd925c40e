//! Batched UDP I/O: `recvmmsg(2)` and `sendmmsg(2)`, several datagrams per syscall.
//!
//! Under load the proxy's kernel time is mostly per-datagram syscalls; moving up to [`SLOTS`]
//! datagrams per call cuts them. Linux only (like the project): both calls are Linux syscalls
//! and the message header layout comes from `libc`'s Linux definitions.
//!
//! Why `libc` and not `nix`: nix's `MultiHeaders` (0.32) keeps raw pointers, so it is not
//! `Send` and cannot live in the driver (a spawned task); building one per call allocates on
//! every syscall, and its lifetimes tie the data buffers to the header borrow. Here the headers
//! are built on the stack for each call and point at buffers that live across the call, so
//! nothing is allocated per call and [`RecvBatch`] is plain owned data. The `unsafe` is
//! confined to the two syscalls and to reading the address union the kernel filled in.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;

/// Most datagrams moved by one syscall.
pub const SLOTS: usize = 32;

/// Bytes per receive slot: the largest UDP payload (65,507 over IPv4, 65,527 over IPv6) fits.
const SLOT_BYTES: usize = 64 * 1024;

/// A socket address as the kernel reads and writes it.
#[repr(C)]
#[derive(Clone, Copy)]
union RawAddr {
    v4: libc::sockaddr_in,
    v6: libc::sockaddr_in6,
}

impl RawAddr {
    /// An all-zero address (family `AF_UNSPEC`).
    fn zeroed() -> RawAddr {
        // SAFETY: both members are plain C structs of integers, valid when all bits are zero.
        unsafe { mem::zeroed() }
    }

    /// The kernel form of `addr` and its length.
    fn from_socket(addr: SocketAddr) -> (RawAddr, libc::socklen_t) {
        let mut raw = RawAddr::zeroed();
        let len = match addr {
            SocketAddr::V4(a) => {
                // Writing a union member is safe; the rest of the union stays zero.
                raw.v4.sin_family = libc::AF_INET as libc::sa_family_t;
                raw.v4.sin_port = a.port().to_be();
                raw.v4.sin_addr = libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                };
                mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(a) => {
                raw.v6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                raw.v6.sin6_port = a.port().to_be();
                // As std does: flow info and scope id are passed through unconverted.
                raw.v6.sin6_flowinfo = a.flowinfo();
                raw.v6.sin6_addr = libc::in6_addr {
                    s6_addr: a.ip().octets(),
                };
                raw.v6.sin6_scope_id = a.scope_id();
                mem::size_of::<libc::sockaddr_in6>()
            }
        };
        (raw, len as libc::socklen_t)
    }

    /// The address the kernel wrote (`len` bytes of it); `None` for another family.
    fn to_socket(self, len: libc::socklen_t) -> Option<SocketAddr> {
        let len = len as usize;
        // SAFETY: every bit pattern is a valid value of either member (plain integers), and
        // both start with the family field.
        unsafe {
            match i32::from(self.v4.sin_family) {
                libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
                    let a = self.v4;
                    let ip = Ipv4Addr::from(a.sin_addr.s_addr.to_ne_bytes());
                    Some(SocketAddrV4::new(ip, u16::from_be(a.sin_port)).into())
                }
                libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
                    let a = self.v6;
                    let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                    let port = u16::from_be(a.sin6_port);
                    Some(SocketAddrV6::new(ip, port, a.sin6_flowinfo, a.sin6_scope_id).into())
                }
                _ => None,
            }
        }
    }
}

/// Buffers for receiving up to [`SLOTS`] datagrams with one `recvmmsg`, reused call after call.
///
/// The slots take 2 MiB of address space, allocated zeroed: pages the kernel never writes
/// (the tail of each slot, for SIP-sized datagrams) are never backed by memory.
pub struct RecvBatch {
    /// `SLOTS` slots of `SLOT_BYTES`, one per datagram.
    buf: Box<[u8]>,
    /// The source addresses, as the kernel writes them.
    names: [RawAddr; SLOTS],
    /// Per datagram of the last call: its length and source.
    got: [(usize, Option<SocketAddr>); SLOTS],
    /// How many datagrams the last call received.
    count: usize,
}

impl RecvBatch {
    /// Empty buffers (the memory is reserved, not touched).
    pub fn new() -> RecvBatch {
        RecvBatch {
            buf: vec![0u8; SLOTS * SLOT_BYTES].into_boxed_slice(),
            names: [RawAddr::zeroed(); SLOTS],
            got: [(0, None); SLOTS],
            count: 0,
        }
    }

    /// Receives up to `max` (at most [`SLOTS`]) datagrams queued on `fd` in one non-blocking
    /// `recvmmsg`. Returns how many arrived (at least one); `WouldBlock` when none was queued.
    /// Fewer than asked means the socket's queue was empty when the call returned.
    pub fn recv(&mut self, fd: BorrowedFd<'_>, max: usize) -> io::Result<usize> {
        let max = max.min(SLOTS);
        self.count = 0;
        // SAFETY: plain C structs, valid all-zero; the used ones are filled in below.
        let mut iovs: [libc::iovec; SLOTS] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; SLOTS] = unsafe { mem::zeroed() };
        let slots = self.buf.chunks_exact_mut(SLOT_BYTES).zip(self.names.iter_mut());
        for ((hdr, iov), (slot, name)) in hdrs.iter_mut().zip(iovs.iter_mut()).zip(slots).take(max) {
            iov.iov_base = slot.as_mut_ptr().cast();
            iov.iov_len = slot.len();
            hdr.msg_hdr.msg_name = ptr::from_mut(name).cast();
            hdr.msg_hdr.msg_namelen = mem::size_of::<RawAddr>() as libc::socklen_t;
            hdr.msg_hdr.msg_iov = iov;
            hdr.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: the first `max` headers point at one slot and one address buffer each, owned
        // by `self` and by this frame, alive for the whole call; the kernel writes at most
        // `iov_len` and `msg_namelen` bytes into them. No timeout: MSG_DONTWAIT never blocks.
        let n = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                max as libc::c_uint,
                libc::MSG_DONTWAIT as _,
                ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        for ((got, hdr), name) in self.got.iter_mut().zip(&hdrs[..n]).zip(&self.names) {
            *got = (
                (hdr.msg_len as usize).min(SLOT_BYTES),
                name.to_socket(hdr.msg_hdr.msg_namelen),
            );
        }
        self.count = n;
        Ok(n)
    }

    /// The source of datagram `i` of the last receive (`None` for a family other than IPv4
    /// and IPv6, which these sockets never report).
    pub fn source(&self, i: usize) -> Option<SocketAddr> {
        self.got[..self.count].get(i).and_then(|g| g.1)
    }

    /// The payload of datagram `i` of the last receive (empty past the last one).
    pub fn datagram(&self, i: usize) -> &[u8] {
        match self.got[..self.count].get(i) {
            Some(&(len, _)) => &self.buf[i * SLOT_BYTES..][..len],
            None => &[],
        }
    }
}

/// Sends the first [`SLOTS`] of `msgs` (payload, destination) in order with one non-blocking
/// `sendmmsg`. Returns how many left (at least one when `msgs` is not empty). The kernel stops
/// at the first datagram it cannot send and reports that datagram's error only when it is
/// the first: calling again with the rest returns it (`WouldBlock` when the buffer is full).
pub fn send<'a>(
    fd: BorrowedFd<'_>,
    msgs: impl IntoIterator<Item = (&'a [u8], SocketAddr)>,
) -> io::Result<usize> {
    let mut names = [RawAddr::zeroed(); SLOTS];
    // SAFETY: plain C structs, valid all-zero; the used ones are filled in below.
    let mut iovs: [libc::iovec; SLOTS] = unsafe { mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; SLOTS] = unsafe { mem::zeroed() };
    let mut n = 0;
    let slots = hdrs.iter_mut().zip(iovs.iter_mut()).zip(names.iter_mut());
    for (((hdr, iov), name), (data, dest)) in slots.zip(msgs) {
        let (raw, len) = RawAddr::from_socket(dest);
        *name = raw;
        // The kernel only reads the payload; iovec has one pointer type for both directions.
        iov.iov_base = data.as_ptr().cast_mut().cast();
        iov.iov_len = data.len();
        hdr.msg_hdr.msg_name = ptr::from_mut(name).cast();
        hdr.msg_hdr.msg_namelen = len;
        hdr.msg_hdr.msg_iov = iov;
        hdr.msg_hdr.msg_iovlen = 1;
        n += 1;
    }
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: the first `n` headers point at addresses and iovecs in this frame and at
    // payloads borrowed for `'a`, all alive for the whole call; the kernel only reads them
    // (and writes each header's `msg_len`).
    let sent = unsafe {
        libc::sendmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT as _,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sent as usize)
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::os::fd::AsFd;
    use std::time::Duration;

    use super::*;

    /// A receiving socket that blocks (with a timeout) for `wait`, while `recv` never blocks.
    fn receiver(addr: &str) -> UdpSocket {
        let s = UdpSocket::bind(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// Waits until a datagram is queued on `s` (loopback delivers a whole `sendmmsg` before
    /// the call returns, so the rest of a batch is queued too).
    fn wait(s: &UdpSocket) {
        s.peek(&mut [0u8; 1]).unwrap();
    }

    fn payloads(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("datagram {i}").repeat(i + 1).into_bytes())
            .collect()
    }

    fn send_all(from: &UdpSocket, to: SocketAddr, msgs: &[Vec<u8>]) {
        let sent = send(from.as_fd(), msgs.iter().map(|m| (&m[..], to))).unwrap();
        assert_eq!(sent, msgs.len());
    }

    /// Sends 3 in one call, receives 3 in one call, each in its own slot, from `from`'s port.
    fn round_trip(local: &str) {
        let (a, b) = (receiver(local), receiver(local));
        let msgs = payloads(3);
        send_all(&a, b.local_addr().unwrap(), &msgs);
        wait(&b);
        let mut rx = RecvBatch::new();
        assert_eq!(rx.recv(b.as_fd(), SLOTS).unwrap(), 3);
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(rx.datagram(i), &m[..]);
            assert_eq!(rx.source(i), Some(a.local_addr().unwrap()));
        }
        assert_eq!(rx.datagram(3), b"");
        assert_eq!(rx.source(3), None);
    }

    #[test]
    fn three_in_one_call_ipv4() {
        round_trip("127.0.0.1:0");
    }

    #[test]
    fn three_in_one_call_ipv6() {
        round_trip("[::1]:0");
    }

    #[test]
    fn short_batch_then_would_block() {
        let (a, b) = (receiver("127.0.0.1:0"), receiver("127.0.0.1:0"));
        send_all(&a, b.local_addr().unwrap(), &payloads(2));
        wait(&b);
        let mut rx = RecvBatch::new();
        assert_eq!(rx.recv(b.as_fd(), SLOTS).unwrap(), 2);
        let e = rx.recv(b.as_fd(), SLOTS).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(rx.datagram(0), b"");
    }

    #[test]
    fn recv_takes_at_most_max() {
        let (a, b) = (receiver("127.0.0.1:0"), receiver("127.0.0.1:0"));
        let msgs = payloads(5);
        send_all(&a, b.local_addr().unwrap(), &msgs);
        wait(&b);
        let mut rx = RecvBatch::new();
        assert_eq!(rx.recv(b.as_fd(), 2).unwrap(), 2);
        assert_eq!(rx.datagram(1), &msgs[1][..]);
        assert_eq!(rx.recv(b.as_fd(), SLOTS).unwrap(), 3);
        assert_eq!(rx.datagram(0), &msgs[2][..]);
        assert_eq!(rx.datagram(2), &msgs[4][..]);
    }

    #[test]
    fn largest_datagram_fits_a_slot() {
        let (a, b) = (receiver("127.0.0.1:0"), receiver("127.0.0.1:0"));
        let big = vec![7u8; 65_507];
        send_all(&a, b.local_addr().unwrap(), &[big.clone(), b"x".to_vec()]);
        wait(&b);
        let mut rx = RecvBatch::new();
        assert_eq!(rx.recv(b.as_fd(), SLOTS).unwrap(), 2);
        assert_eq!(rx.datagram(0), &big[..]);
        assert_eq!(rx.datagram(1), b"x");
    }

    #[test]
    fn send_stops_at_a_failing_datagram_and_the_rest_reports_it() {
        let (a, b) = (receiver("127.0.0.1:0"), receiver("127.0.0.1:0"));
        let to = b.local_addr().unwrap();
        // An IPv6 destination on an IPv4 socket fails on its own.
        let bad: SocketAddr = "[::1]:9".parse().unwrap();
        let msgs: [(&[u8], SocketAddr); 3] = [(b"one", to), (b"bad", bad), (b"two", to)];
        assert_eq!(send(a.as_fd(), msgs).unwrap(), 1);
        assert!(send(a.as_fd(), msgs[1..].iter().copied()).is_err());
        assert_eq!(send(a.as_fd(), msgs[2..].iter().copied()).unwrap(), 1);
        wait(&b);
        let mut rx = RecvBatch::new();
        assert_eq!(rx.recv(b.as_fd(), SLOTS).unwrap(), 2);
        assert_eq!((rx.datagram(0), rx.datagram(1)), (&b"one"[..], &b"two"[..]));
    }

    #[test]
    fn send_takes_at_most_slots() {
        let (a, b) = (receiver("127.0.0.1:0"), receiver("127.0.0.1:0"));
        let to = b.local_addr().unwrap();
        let msgs = payloads(SLOTS + 3);
        assert_eq!(send(a.as_fd(), msgs.iter().map(|m| (&m[..], to))).unwrap(), SLOTS);
        assert_eq!(send(a.as_fd(), std::iter::empty()).unwrap(), 0);
    }

    #[test]
    fn addresses_convert_both_ways() {
        for s in [
            "192.0.2.7:5060",
            "[2001:db8::1]:5061",
            "[fe80::1%3]:5062",
            "0.0.0.0:0",
        ] {
            let addr: SocketAddr = s.parse().unwrap();
            let (raw, len) = RawAddr::from_socket(addr);
            assert_eq!(raw.to_socket(len), Some(addr), "{s}");
        }
        let v6 = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 5060, 0x12345, 9));
        let (raw, len) = RawAddr::from_socket(v6);
        assert_eq!(raw.to_socket(len), Some(v6));
        assert_eq!(raw.to_socket(4), None, "a truncated address is rejected");
        assert_eq!(RawAddr::zeroed().to_socket(28), None, "AF_UNSPEC");
    }
}
