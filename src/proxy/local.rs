//! Answers the proxy gives itself (errors, challenges, OPTIONS 200, CANCEL 200): built from the
//! request, sent back where it came from, and kept in a server transaction so retransmitted
//! requests get the same answer (and, for INVITE, the final is retransmitted until the ACK).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::timers::TimerKey;
use super::{ConnId, Core, Event, Input, TxnKey};
use crate::config::Transport;
use crate::sip::{reason_phrase, HeaderName, Message, Method, ResponseBuilder};
use crate::txn::{ServerInvite, ServerNonInvite, ServerTimerEvent, TimerConfig};

/// Where responses to a request go: back to its source (symmetric, RFC 3581), over its
/// connection for streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub dest: SocketAddr,
    pub transport: Transport,
    pub conn: Option<ConnId>,
}

impl Reply {
    pub fn to(input: &Input) -> Reply {
        Reply {
            dest: input.src,
            transport: input.transport,
            conn: input.conn,
        }
    }

    pub fn reliable(&self) -> bool {
        self.transport != Transport::Udp
    }
}

/// A server transaction the proxy answered itself.
pub enum Answered {
    Invite { txn: ServerInvite, reply: Reply },
    NonInvite { txn: ServerNonInvite, reply: Reply },
}

impl Answered {
    fn next_timeout(&self) -> Option<Instant> {
        match self {
            Answered::Invite { txn, .. } => txn.next_timeout(),
            Answered::NonInvite { txn, .. } => txn.next_timeout(),
        }
    }
}

/// A response being built: code, extra headers (name, value).
pub struct LocalResponse<'a> {
    pub code: u16,
    pub headers: Vec<(&'a str, String)>,
}

impl<'a> LocalResponse<'a> {
    pub fn new(code: u16) -> LocalResponse<'a> {
        LocalResponse {
            code,
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl Core {
    /// Builds the bytes of a local response to `req`.
    pub(super) fn build_response(&mut self, req: &Message, resp: &LocalResponse<'_>) -> Bytes {
        let tag = if resp.code > 100 {
            self.new_tag()
        } else {
            String::new()
        };
        let mut b = ResponseBuilder::new(req, resp.code, reason_phrase(resp.code));
        if resp.code > 100 {
            b = b.to_tag(tag.as_bytes());
        }
        for (name, value) in &resp.headers {
            b = b.header(name, value.as_bytes());
        }
        b = b.header("Server", b"trunkgate");
        b.build()
    }

    /// Answers `req` (a final response) from a new server transaction that absorbs
    /// retransmissions; `key` is the request's transaction key.
    pub(super) fn answer(
        &mut self,
        now: Instant,
        key: TxnKey,
        req: &Message,
        input: &Input,
        resp: LocalResponse<'_>,
    ) {
        let reply = Reply::to(input);
        let bytes = self.build_response(req, &resp);
        let cfg = TimerConfig::for_transport(reply.reliable());
        let answered = if req.method() == Some(Method::Invite) {
            let mut txn = ServerInvite::new(now, cfg);
            let out = txn.send_final(now, resp.code, bytes);
            self.emit_reply(reply, out, resp.code);
            Answered::Invite { txn, reply }
        } else {
            let mut txn = ServerNonInvite::new(now, cfg);
            let out = txn.send_final(now, resp.code, bytes);
            self.emit_reply(reply, out, resp.code);
            Answered::NonInvite { txn, reply }
        };
        self.keep_answered(key, answered);
    }

    /// Answers without keeping a transaction (ACK-less cases, requests we cannot key).
    pub(super) fn answer_stateless(&mut self, req: &Message, input: &Input, resp: LocalResponse<'_>) {
        let bytes = self.build_response(req, &resp);
        self.emit_reply(Reply::to(input), Some(bytes), resp.code);
    }

    pub(super) fn emit_reply(&mut self, reply: Reply, bytes: Option<Bytes>, code: u16) {
        if let Some(b) = bytes {
            self.send(reply.dest, reply.transport, reply.conn, b);
            self.events.push_back(Event::Response { code });
        }
    }

    fn keep_answered(&mut self, key: TxnKey, answered: Answered) {
        let due = answered.next_timeout();
        let terminated = match &answered {
            Answered::Invite { txn, .. } => txn.is_terminated(),
            Answered::NonInvite { txn, .. } => txn.is_terminated(),
        };
        if terminated {
            return;
        }
        self.arm(due, TimerKey::Answered(key));
        self.answered.insert(key, Box::new(answered));
    }

    /// A retransmitted request for a transaction we answered: send the answer again.
    pub(super) fn answered_retransmit(&mut self, now: Instant, key: &TxnKey) -> bool {
        let Some(a) = self.answered.get_mut(key) else {
            return false;
        };
        let (out, reply) = match &mut **a {
            Answered::Invite { txn, reply } => (txn.on_request_retransmit(now), *reply),
            Answered::NonInvite { txn, reply } => (txn.on_request_retransmit(now), *reply),
        };
        if let Some(b) = out {
            self.send(reply.dest, reply.transport, reply.conn, b);
        }
        true
    }

    /// An ACK for an INVITE we answered with a failure: absorbs it.
    pub(super) fn answered_ack(&mut self, now: Instant, key: &TxnKey) -> bool {
        let Some(Answered::Invite { txn, .. }) = self.answered.get_mut(key).map(|a| &mut **a) else {
            return false;
        };
        let _ = txn.on_ack(now);
        let due = txn.next_timeout();
        if txn.is_terminated() {
            self.answered.remove(key);
        } else {
            self.arm(due, TimerKey::Answered(*key));
        }
        true
    }

    /// Timer for an answered transaction.
    pub(super) fn answered_timeout(&mut self, now: Instant, key: TxnKey) {
        let Some(a) = self.answered.get_mut(&key) else {
            return;
        };
        let (event, reply, due, done) = match &mut **a {
            Answered::Invite { txn, reply } => (
                txn.on_timeout(now),
                *reply,
                txn.next_timeout(),
                txn.is_terminated(),
            ),
            Answered::NonInvite { txn, reply } => (
                txn.on_timeout(now),
                *reply,
                txn.next_timeout(),
                txn.is_terminated(),
            ),
        };
        if let Some(ServerTimerEvent::Retransmit(b)) = event {
            self.send(reply.dest, reply.transport, reply.conn, b);
        }
        if done {
            self.answered.remove(&key);
        } else {
            self.arm(due, TimerKey::Answered(key));
        }
    }
}

/// `Allow` for 405 answers.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, PRACK, NOTIFY, REFER";

/// The value of `Unsupported` for a 420: the Proxy-Require options, as written.
pub fn unsupported(req: &Message) -> Option<String> {
    let v: Vec<String> = req
        .header_values(HeaderName::ProxyRequire)
        .map(|o| String::from_utf8_lossy(o).into_owned())
        .collect();
    (!v.is_empty()).then(|| v.join(", "))
}
