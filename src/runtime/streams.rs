//! The driver's stream connections (TCP and TLS): which connection a transmit leaves by, a
//! new outgoing connection when none is up, and one write per connection per driver
//! iteration. Everything the core produced for one connection while the driver handled a
//! batch of input (a `recvmmsg` of datagrams, the messages of one TCP read) is staged and then
//! written together: one `sendto` and one segment instead of one per message.

use std::collections::HashMap;
use std::net::SocketAddr;

use bytes::Bytes;
use tracing::warn;

use super::tcp::{self, Events};
use super::tls::{self, ClientConfigs};
use super::writer::Writer;
use crate::config::{Snapshot, Transport};
use crate::proxy::{ConnId, Transmit};

/// One connection the driver can write to.
struct Conn {
    writer: Writer,
    peer: SocketAddr,
    transport: Transport,
    /// Messages staged for it in this iteration, in the order the core produced them.
    staged: Vec<Bytes>,
}

/// The driver's connection table and its staged writes.
pub(super) struct Streams {
    conns: HashMap<ConnId, Conn>,
    by_peer: HashMap<SocketAddr, ConnId>,
    /// Bound `tcp:` listeners (the local address of outgoing TCP connections).
    tcp_local: Vec<SocketAddr>,
    /// Bound `tls:` listeners (the local address of outgoing TLS connections).
    tls_local: Vec<SocketAddr>,
    /// Roots for outgoing TLS, per `ca_file`.
    tls_clients: ClientConfigs,
    /// Where new connections report their events.
    events: Events,
    /// Connections with staged messages, in the order they were first staged to.
    staged: Vec<ConnId>,
}

impl Streams {
    /// An empty table; outgoing connections bind to the first of `tcp_local`.
    pub(super) fn new(tcp_local: Vec<SocketAddr>, events: Events) -> Streams {
        Streams {
            conns: HashMap::new(),
            by_peer: HashMap::new(),
            tcp_local,
            tls_local: Vec::new(),
            tls_clients: ClientConfigs::default(),
            events,
            staged: Vec::new(),
        }
    }

    /// The bound `tls:` listeners, for outgoing TLS connections.
    pub(super) fn set_tls_local(&mut self, tls_local: Vec<SocketAddr>) {
        self.tls_local = tls_local;
    }

    /// A reload may have changed carriers' `ca_file`s: build client configurations afresh.
    pub(super) fn clear_tls_clients(&mut self) {
        self.tls_clients.clear();
    }

    /// An accepted connection is up.
    pub(super) fn opened(&mut self, id: ConnId, peer: SocketAddr, transport: Transport, writer: Writer) {
        self.insert(id, peer, transport, writer);
    }

    /// Connection `id` is gone. A newer connection to the same peer keeps the peer's entry.
    pub(super) fn closed(&mut self, id: ConnId, peer: SocketAddr) {
        self.conns.remove(&id);
        if self.by_peer.get(&peer) == Some(&id) {
            self.by_peer.remove(&peer);
        }
    }

    /// Stages `t` on its connection (the one it names, else the one up to its destination),
    /// or opens a connection to the destination and sends `t` through it.
    pub(super) fn stage(&mut self, t: Transmit, snap: &Snapshot) {
        let id = t
            .conn
            .filter(|c| self.conns.contains_key(c))
            .or_else(|| self.by_peer.get(&t.dest).copied());
        if let Some((id, conn)) = id.and_then(|id| self.conns.get_mut(&id).map(|c| (id, c))) {
            if t.conn.is_some() || conn.transport == t.transport {
                if conn.staged.is_empty() {
                    self.staged.push(id);
                }
                conn.staged.push(t.bytes);
                return;
            }
        }
        self.reopen(t.dest, t.transport, snap, &mut vec![t.bytes]);
    }

    /// Writes what was staged, one write per connection. A connection found gone gets its
    /// messages on a new connection to the same peer.
    pub(super) fn send_staged(&mut self, snap: &Snapshot) {
        for k in 0..self.staged.len() {
            let id = self.staged[k];
            let Some(conn) = self.conns.get_mut(&id) else {
                continue;
            };
            if conn.writer.send_all(&mut conn.staged).is_ok() {
                continue;
            }
            let (peer, transport) = (conn.peer, conn.transport);
            let mut rest = std::mem::take(&mut conn.staged);
            self.reopen(peer, transport, snap, &mut rest);
        }
        self.staged.clear();
    }

    /// A new connection to `dest` that sends `msgs` once it is up (they wait in its queue).
    fn reopen(&mut self, dest: SocketAddr, transport: Transport, snap: &Snapshot, msgs: &mut Vec<Bytes>) {
        let Some((id, writer)) = self.connect(dest, transport, snap) else {
            return;
        };
        let _ = writer.send_all(msgs);
        self.insert(id, dest, transport, writer);
    }

    fn insert(&mut self, id: ConnId, peer: SocketAddr, transport: Transport, writer: Writer) {
        let conn = Conn {
            writer,
            peer,
            transport,
            staged: Vec::new(),
        };
        self.conns.insert(id, conn);
        self.by_peer.insert(peer, id);
    }

    /// A new outgoing TCP or TLS connection to `dest` (from the first listener of that
    /// transport, else the first TCP one).
    fn connect(
        &mut self,
        dest: SocketAddr,
        transport: Transport,
        snap: &Snapshot,
    ) -> Option<(ConnId, Writer)> {
        let local = match transport {
            Transport::Tls => self.tls_local.first().or(self.tcp_local.first()),
            _ => self.tcp_local.first(),
        };
        let Some(local) = local.copied() else {
            warn!("no tcp listener: cannot send to {dest}");
            return None;
        };
        let max = snap.proxy.max_message_bytes;
        if transport != Transport::Tls {
            return Some(tcp::connect(dest, local, max, self.events.clone()));
        }
        let peer = self.tls_clients.peer_for(snap, dest)?;
        Some(tls::connect(dest, local, max, self.events.clone(), peer))
    }
}
