//! Requests in: sanity checks, retransmissions, ACK and CANCEL matching, the REQINIT checks
//! (Max-Forwards, Proxy-Require, loops), then dispatch to in-dialog routing or to the initial
//! request handlers.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use tracing::debug;

use super::local::{unsupported, LocalResponse, ALLOW};
use super::timers::TimerKey;
use super::{Core, Event, Input, TxnKey};
use crate::config::{Snapshot, Transport, UnknownSource};
use crate::policy::identify;
use crate::proxy::Services;
use crate::sip::header::{self, Host, Uri};
use crate::sip::{HeaderName, Limits, Message, Method, ParseError};

/// Which transaction class a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Class {
    /// INVITE and its ACK.
    Invite,
    Cancel,
    /// Any other method.
    Other,
}

impl Core {
    /// Handles one received message.
    pub fn handle(&mut self, now: Instant, snap: &Arc<Snapshot>, svc: &Services, input: Input) {
        let limits = Limits {
            max_message_bytes: snap.proxy.max_message_bytes,
            ..Limits::default()
        };
        let msg = match Message::parse_with(input.bytes.clone(), &limits) {
            Ok(m) => m,
            Err(e) => return self.unparseable(&input, &e, &limits),
        };
        // One span per call (SPEC §6): every message of a Call-ID logs under it. Disabled at
        // the default `info` level, where the field is never even formatted.
        let span = tracing::debug_span!(
            "call",
            call_id = %String::from_utf8_lossy(msg.call_id().unwrap_or(b"")),
            account = tracing::field::Empty,
            direction = tracing::field::Empty,
        );
        let _entered = span.enter();
        tracing::trace!(src = %input.src, transport = ?input.transport, start = %String::from_utf8_lossy(first_line(&msg)), "received");
        if msg.is_request() {
            self.on_request(now, snap, svc, &input, msg);
        } else {
            self.on_response(now, snap, svc, &input, msg);
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant, snap: &Arc<Snapshot>, svc: &Services) {
        while let Some(key) = self.timers.pop_due(now) {
            match key {
                TimerKey::Call(k) => self.call_timeout(now, snap, svc, k),
                TimerKey::Relay(k) => self.relay_timeout(now, k),
                TimerKey::Answered(k) => self.answered_timeout(now, k),
                TimerKey::Oneshot(id, kind) => self.oneshot_timeout(now, (id, kind)),
                TimerKey::Sweep => self.sweep_dialogs(now),
            }
        }
    }

    /// SPEC §4 "unparseable request": 400 (505 for another SIP version) when Via, From, To,
    /// Call-ID and CSeq can be read, else dropped; counted either way.
    fn unparseable(&mut self, input: &Input, err: &ParseError, limits: &Limits) {
        self.events.push_back(Event::ParseError);
        let code = match err {
            ParseError::Version => 505,
            ParseError::TooLarge { .. } => 513,
            _ => 400,
        };
        let readable = crate::sip::parse_for_reply(input.bytes.clone(), limits).filter(|req| {
            req.method() != Some(Method::Ack)
                && req.top_via().is_ok()
                && req.from().is_ok()
                && req.to().is_ok()
                && req.call_id().is_ok()
                && req.cseq().is_ok()
        });
        match readable {
            Some(req) if code != 513 || input.transport != Transport::Udp => {
                debug!(src = %input.src, code, "answering an unparseable request: {err}");
                self.answer_stateless(&req, input, LocalResponse::new(code));
            }
            _ => debug!(src = %input.src, "dropping unparseable message: {err}"),
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        input: &Input,
        msg: Message,
    ) {
        let method = msg.method().unwrap_or(Method::Other);
        self.events.push_back(Event::Request {
            method: method_label(method),
        });
        let Some((key, to_tag)) = self.sanity(&msg, input) else {
            return;
        };
        match method {
            Method::Ack => return self.on_ack(now, snap, svc, input, msg, key),
            Method::Cancel => return self.on_cancel(now, input, &msg, key),
            _ => {}
        }
        if self.retransmission(now, key) {
            return;
        }
        if let Some(resp) = self.reqinit(&msg) {
            return self.answer(now, key, &msg, input, resp);
        }
        if to_tag {
            self.in_dialog(now, snap, svc, input, msg, key);
        } else {
            self.initial(now, snap, svc, input, msg, key);
        }
    }

    /// RFC 3261 §16.3 request validation: the headers every transaction needs must decode and
    /// the CSeq method must match. Answers 400 when it can; returns the transaction key and
    /// whether the request is in-dialog (To tag). Each header is decoded once here.
    fn sanity(&mut self, msg: &Message, input: &Input) -> Option<(TxnKey, bool)> {
        let to = msg.to();
        let ok = msg.check_core_headers().is_ok()
            && msg.call_id().is_ok()
            && msg.from().is_ok()
            && to.is_ok()
            && msg
                .request_uri()
                .is_some_and(|u| header::parse_uri(u).is_ok_and(|u| u.headers.is_none()));
        let key = msg
            .top_via()
            .ok()
            .map(|via| self.key_of(msg, &via, Class::of(msg.method())));
        match (ok, key) {
            (true, Some(k)) => Some((k, to.is_ok_and(|t| t.tag().is_some()))),
            (false, Some(_)) if msg.method() != Some(Method::Ack) => {
                self.answer_stateless(msg, input, LocalResponse::new(400));
                None
            }
            _ => None,
        }
    }

    /// The transaction key of a request for a class (RFC 3261 §17.2.3; RFC 2543 fallback
    /// without the magic cookie: Call-ID, CSeq number and From tag stand in for the branch).
    pub(super) fn key(&self, msg: &Message, class: Class) -> TxnKey {
        match msg.top_via() {
            Ok(via) => self.key_of(msg, &via, class),
            Err(_) => TxnKey(self.hasher.hash_one(class)),
        }
    }

    fn key_of(&self, msg: &Message, via: &header::Via<'_>, class: Class) -> TxnKey {
        let mut h = self.hasher.build_hasher();
        class.hash(&mut h);
        via.host_raw.hash(&mut h);
        via.port.hash(&mut h);
        match via.branch() {
            Some(b) if b.len() > 7 && b.starts_with(b"z9hG4bK") => b.hash(&mut h),
            _ => {
                msg.call_id().unwrap_or(b"").hash(&mut h);
                msg.cseq().map(|c| c.seq).unwrap_or(0).hash(&mut h);
                msg.from().ok().and_then(|f| f.tag()).hash(&mut h);
            }
        }
        TxnKey(h.finish())
    }

    fn retransmission(&mut self, now: Instant, key: TxnKey) -> bool {
        if self.calls.contains_key(&key) {
            self.call_retransmit(now, key);
            return true;
        }
        if self.relays.contains_key(&key) {
            self.relay_retransmit(now, key);
            return true;
        }
        self.answered_retransmit(now, &key)
    }

    /// Kamailio's REQINIT: Max-Forwards (483), Proxy-Require (420), loops (482).
    fn reqinit(&self, msg: &Message) -> Option<LocalResponse<'static>> {
        match msg.max_forwards() {
            Ok(Some(0)) => return Some(LocalResponse::new(483)),
            Err(_) => return Some(LocalResponse::new(400)),
            _ => {}
        }
        if let Some(options) = unsupported(msg) {
            return Some(LocalResponse::new(420).header("Unsupported", options));
        }
        // Only Via values that mention our host are decoded (a cheap substring test first).
        let ours = memchr::memmem::Finder::new(self.cfg.advertise.as_bytes());
        let looped = msg
            .header_values(HeaderName::Via)
            .filter(|v| ours.find(v).is_some())
            .filter_map(|v| header::parse_via(v).ok())
            .any(|v| {
                v.host_raw == self.cfg.advertise.as_bytes()
                    && v.branch()
                        .is_some_and(|b| b.starts_with(super::forward::BRANCH_PREFIX.as_bytes()))
                    && self.cfg.ports.iter().any(|(_, p)| v.port.unwrap_or(5060) == *p)
            });
        looped.then(|| LocalResponse::new(482))
    }

    fn on_ack(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        input: &Input,
        msg: Message,
        key: TxnKey,
    ) {
        if self.answered_ack(now, &key) {
            return;
        }
        if let Some(forward) = self.call_ack(now, key) {
            if !forward {
                return;
            }
        }
        self.in_dialog(now, snap, svc, input, msg, key);
    }

    fn on_cancel(&mut self, now: Instant, input: &Input, msg: &Message, key: TxnKey) {
        if self.answered_retransmit(now, &key) {
            return;
        }
        let invite = self.key(msg, Class::Invite);
        if !self.calls.contains_key(&invite) {
            return self.answer(now, key, msg, input, LocalResponse::new(481));
        }
        self.answer(now, key, msg, input, LocalResponse::new(200));
        self.cancel_call(now, invite);
    }

    fn initial(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        input: &Input,
        msg: Message,
        key: TxnKey,
    ) {
        if self.scanner(now, snap, input, &msg, key) {
            return;
        }
        match msg.method().unwrap_or(Method::Other) {
            Method::Invite => self.on_invite(now, snap, svc, input, msg, key),
            Method::Register => self.on_register(now, snap, svc, input, &msg, key),
            Method::Options => self.on_options(now, snap, svc, input, &msg, key),
            Method::Bye | Method::Prack | Method::Update | Method::Info | Method::Notify => {
                self.answer(now, key, &msg, input, LocalResponse::new(481))
            }
            _ => self.answer(
                now,
                key,
                &msg,
                input,
                LocalResponse::new(405).header("Allow", ALLOW),
            ),
        }
    }

    /// Out-of-dialog OPTIONS: a keep-alive ping to the proxy itself (SPEC §4).
    fn on_options(
        &mut self,
        now: Instant,
        snap: &Snapshot,
        svc: &Services,
        input: &Input,
        msg: &Message,
        key: TxnKey,
    ) {
        let known = identify::identify(snap, input.src).is_some()
            || svc.registrations.is_source(input.src, self.unix(now));
        if known {
            let resp = LocalResponse::new(200)
                .header("Allow", ALLOW)
                .header("Accept", "application/sdp");
            return self.answer(now, key, msg, input, resp);
        }
        match snap.proxy.unknown_source {
            UnknownSource::Reject => self.answer(now, key, msg, input, LocalResponse::new(403)),
            UnknownSource::Drop => {}
        }
    }

    /// Whether a URI points at this proxy (advertise host and one of our ports).
    pub(super) fn is_us(&self, uri: &Uri<'_>) -> bool {
        let host_ok = match uri.host {
            Host::Name(n) => n.eq_ignore_ascii_case(self.cfg.advertise.as_bytes()),
            Host::V4(a) => self.advertise_ip == Some(std::net::IpAddr::V4(a)),
            Host::V6(a) => self.advertise_ip == Some(std::net::IpAddr::V6(a)),
        };
        let port = uri.port.unwrap_or(5060);
        host_ok && self.cfg.ports.iter().any(|(_, p)| *p == port)
    }

    /// SIGTERM: new calls get 503 from now on.
    pub fn set_draining(&mut self) {
        self.draining = true;
    }
}

impl Class {
    pub(super) fn of(m: Option<Method>) -> Class {
        match m {
            Some(Method::Invite) | Some(Method::Ack) => Class::Invite,
            Some(Method::Cancel) => Class::Cancel,
            _ => Class::Other,
        }
    }
}

/// The start line of a message (for trace logs: never a header, so never a credential).
fn first_line(msg: &Message) -> &[u8] {
    let b = msg.bytes();
    let end = memchr::memchr(b'\r', b).unwrap_or(b.len()).min(200);
    &b[..end]
}

/// A static label for metrics.
pub(super) fn method_label(m: Method) -> &'static str {
    match m {
        Method::Other => "OTHER",
        m => m.as_str(),
    }
}

/// The transport a URI asks for (`;transport=`), UDP by default (TLS for sips).
pub(super) fn uri_transport(uri: &Uri<'_>) -> Transport {
    match uri.params.get("transport").flatten() {
        Some(t) if t.eq_ignore_ascii_case(b"tcp") => Transport::Tcp,
        Some(t) if t.eq_ignore_ascii_case(b"tls") => Transport::Tls,
        _ if uri.scheme == header::Scheme::Sips => Transport::Tls,
        _ => Transport::Udp,
    }
}
