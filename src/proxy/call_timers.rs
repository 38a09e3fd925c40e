//! The timers of a call (delay, progress, answer, and its transactions' own timers) and what
//! a transport failure does to it: split out of `call.rs`, which keeps the call's life cycle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tracing::debug;

use super::call::{Failure, Phase};
use super::{Core, TxnKey};
use crate::config::{Snapshot, Transport};
use crate::proxy::Services;
use crate::txn::{ClientTimerEvent, ServerTimerEvent};

impl Core {
    /// Every timer of a call.
    pub(super) fn call_timeout(&mut self, now: Instant, _snap: &Arc<Snapshot>, svc: &Services, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.armed.is_some_and(|armed| armed > now) {
            return; // a stale entry: the call re-armed later
        }
        call.armed = None;
        if call.delay_deadline().is_some_and(|d| d <= now) {
            call.phase = Phase::Trying;
            self.attempt_next(now, svc, key);
        }
        self.server_timers(now, key);
        self.branch_timers(now, svc, key);
        self.dead_timers(now, key);
        self.settle(key);
    }

    fn server_timers(&mut self, now: Instant, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let reply = call.reply;
        if let Some(ServerTimerEvent::Retransmit(b)) = call.server.on_timeout(now) {
            self.send(reply.dest, reply.transport, reply.conn, b);
        }
    }

    fn branch_timers(&mut self, now: Instant, svc: &Services, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(b) = call.branch.as_mut() else { return };
        let expired = |d: Option<Instant>| d.is_some_and(|d| d <= now);
        if expired(b.progress_deadline) || expired(b.answer_deadline) {
            let b = call.branch.take();
            call.last_failure = Some(Failure::Local(408));
            if let Some(b) = b {
                self.abandon(now, key, b);
            }
            return self.after_failure(now, svc, key, 408);
        }
        match b.txn.on_timeout(now) {
            Some(ClientTimerEvent::Retransmit(bytes)) => {
                let (dest, tp, conn) = (b.dest, b.transport, b.conn);
                self.send(dest, tp, conn, bytes);
            }
            Some(ClientTimerEvent::Timeout) => {
                let b = call.branch.take();
                call.last_failure = Some(Failure::Local(408));
                if let Some(b) = b {
                    self.branches.remove(&b.id);
                }
                self.after_failure(now, svc, key, 408);
            }
            // Timer M after a 2xx (RFC 6026): the answered branch is done; drop it so the call
            // can end.
            Some(ClientTimerEvent::Terminated) => {
                if let Some(b) = call.branch.take() {
                    self.branches.remove(&b.id);
                }
            }
            None => {}
        }
    }

    fn dead_timers(&mut self, now: Instant, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let mut gone = Vec::new();
        for b in &mut call.dead {
            match b.txn.on_timeout(now) {
                Some(ClientTimerEvent::Retransmit(bytes)) if !b.cancel_pending => {
                    self.out.push_back(super::Transmit {
                        dest: b.dest,
                        transport: b.transport,
                        conn: None,
                        bytes,
                    });
                }
                _ => {}
            }
            if b.txn.is_terminated() {
                gone.push(b.id);
            }
        }
        call.dead.retain(|b| !b.txn.is_terminated());
        for id in gone {
            self.branches.remove(&id);
        }
    }

    /// A TCP connection to `peer` could not be opened: every branch waiting on it fails (503).
    pub fn transport_error(&mut self, now: Instant, _snap: &Arc<Snapshot>, svc: &Services, peer: SocketAddr) {
        let keys: Vec<TxnKey> = self
            .calls
            .iter()
            .filter(|(_, c)| c.branch.as_ref().is_some_and(|b| b.dest == peer && !b.got_1xx))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            if let Some(call) = self.calls.get_mut(&key) {
                if let Some(b) = call.branch.take() {
                    self.branches.remove(&b.id);
                }
                call.last_failure = Some(Failure::Local(503));
            }
            self.after_failure(now, svc, key, 503);
            self.settle(key);
        }
        self.caller_unreachable(now, peer);
    }

    /// A response could not be sent back to a caller over a stream (its connection is gone and
    /// cannot be reopened, RFC 3261 §18.2.2): its unanswered calls are cancelled downstream, as
    /// a CANCEL from it would, so the callee stops ringing and the permits are freed now rather
    /// than at the answer timeout.
    fn caller_unreachable(&mut self, now: Instant, peer: SocketAddr) {
        let keys: Vec<TxnKey> = self
            .calls
            .iter()
            .filter(|(_, c)| c.src == peer && c.in_transport != Transport::Udp)
            .filter(|(_, c)| !matches!(c.phase, Phase::Answered | Phase::Done))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            debug!(%peer, "caller unreachable: cancelling its call");
            self.cancel_call(now, key);
        }
    }
}
