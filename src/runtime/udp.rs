//! UDP listeners.

use std::net::SocketAddr;
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use super::StartError;
use crate::config::{Listen, Transport};

/// One bound UDP listener.
pub struct UdpListener {
    pub socket: Arc<UdpSocket>,
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
    let socket = UdpSocket::from_std(socket.into()).map_err(err)?;
    let local = socket.local_addr().map_err(err)?;
    Ok(UdpListener {
        socket: Arc::new(socket),
        local,
    })
}
