//! Requests the proxy originates on its own behalf and must retransmit until answered (RFC 3261
//! §9.1, §17.1.2): the CANCEL of a branch and the BYE of the CANCEL/200 race. Each gets a
//! non-INVITE client transaction; its final response (or Timer F) ends it.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::timers::TimerKey;
use super::{ConnId, Core};
use crate::config::Transport;
use crate::txn::{ClientNonInvite, ClientTimerEvent, TimerConfig};

/// What a oneshot request is (a CANCEL shares its INVITE's branch, so the kind is part of the
/// key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Cancel,
    Bye,
}

/// One request in flight.
pub struct Oneshot {
    txn: ClientNonInvite,
    dest: SocketAddr,
    transport: Transport,
    conn: Option<ConnId>,
}

impl Core {
    /// Sends `bytes` and keeps retransmitting them (UDP) until a final response or Timer F.
    pub(super) fn send_oneshot(
        &mut self,
        now: Instant,
        key: (u64, Kind),
        bytes: Bytes,
        dest: SocketAddr,
        transport: Transport,
        conn: Option<ConnId>,
    ) {
        let txn = ClientNonInvite::new(
            now,
            bytes.clone(),
            TimerConfig::for_transport(transport != Transport::Udp),
        );
        let due = txn.next_timeout();
        self.send(dest, transport, conn, bytes);
        self.oneshots.insert(
            key,
            Oneshot {
                txn,
                dest,
                transport,
                conn,
            },
        );
        self.arm(due, TimerKey::Oneshot(key.0, key.1));
    }

    /// A response to a oneshot request; false when `key` is none of ours.
    pub(super) fn oneshot_response(&mut self, now: Instant, key: (u64, Kind), code: u16) -> bool {
        let Some(o) = self.oneshots.get_mut(&key) else {
            return false;
        };
        let _ = o.txn.on_response(now, code);
        self.settle_oneshot(key);
        true
    }

    /// Timer E / F / K of a oneshot request.
    pub(super) fn oneshot_timeout(&mut self, now: Instant, key: (u64, Kind)) {
        let Some(o) = self.oneshots.get_mut(&key) else {
            return;
        };
        if let Some(ClientTimerEvent::Retransmit(b)) = o.txn.on_timeout(now) {
            let (d, t, c) = (o.dest, o.transport, o.conn);
            self.send(d, t, c, b);
        }
        self.settle_oneshot(key);
    }

    fn settle_oneshot(&mut self, key: (u64, Kind)) {
        let Some(o) = self.oneshots.get(&key) else { return };
        if o.txn.is_terminated() {
            self.oneshots.remove(&key);
            return;
        }
        let due = o.txn.next_timeout();
        self.arm(due, TimerKey::Oneshot(key.0, key.1));
    }
}
