//! Responses in (matched to our branches by the Via branch we minted) and out, and the stateful
//! relay of in-dialog and other non-INVITE requests (loose routing over our signed
//! Record-Route, RFC 3261 §16.4 and §16.12).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tracing::debug;

use super::call::{relayed_final, Branch, Failure, Phase};
use super::forward::{self, Forward};
use super::incoming::uri_transport;
use super::local::{LocalResponse, Reply};
use super::oneshot::Kind;
use super::timers::TimerKey;
use super::{Core, Event, Input, Transmit, TxnKey};
use crate::config::{Snapshot, Transport};
use crate::proxy::Services;
use crate::sip::header::{self, Host, Uri};
use crate::sip::{Editor, HeaderName, Message, Method};
use crate::txn::{
    ClientInviteAction, ClientNonInvite, ClientNonInviteAction, ClientTimerEvent, ServerNonInvite,
    ServerTimerEvent, TimerConfig,
};

/// A relayed non-INVITE request (BYE, INFO, UPDATE, in-dialog OPTIONS...).
pub struct Relay {
    pub server: ServerNonInvite,
    pub reply: Reply,
    /// The request as received (for a local 408 when downstream never answers).
    pub request: Message,
    pub client: ClientNonInvite,
    pub branch_id: u64,
    pub dest: SocketAddr,
    pub transport: Transport,
}

impl Core {
    /// A response from downstream.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        input: &Input,
        msg: Message,
    ) {
        let Some(code) = msg.status() else { return };
        self.events.push_back(Event::Response { code });
        let id = match msg.top_via() {
            Ok(via) => via.branch().and_then(forward::branch_id),
            Err(_) => None,
        };
        let Some(id) = id else {
            debug!(src = %input.src, code, "dropping a response that is not for us");
            return;
        };
        if self.ping_response(svc, id, &msg) || self.register_response(now, snap, svc, id, &msg) {
            return;
        }
        let kind = match msg.cseq().map(|c| c.method) {
            Ok(Method::Cancel) => Some(Kind::Cancel),
            Ok(Method::Bye) => Some(Kind::Bye),
            _ => None,
        };
        if kind.is_some_and(|k| self.oneshot_response(now, (id, k), code)) {
            return;
        }
        // Our CANCEL shares its INVITE's branch: its response must not count as the INVITE's.
        if kind == Some(Kind::Cancel) {
            debug!(src = %input.src, code, "response to our CANCEL absorbed");
            return;
        }
        if let Some(key) = self.branches.get(&id).copied() {
            self.call_response(now, snap, svc, key, id, msg, code);
        } else if let Some(key) = self.relay_branches.get(&id).copied() {
            self.relay_response(now, key, msg, code);
        } else {
            debug!(src = %input.src, code, "stray response dropped");
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn call_response(
        &mut self,
        now: Instant,
        _snap: &Arc<Snapshot>,
        svc: &Services,
        key: TxnKey,
        id: u64,
        msg: Message,
        code: u16,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.branch.as_ref().is_some_and(|b| b.id == id) {
            self.active_response(now, svc, key, msg, code);
        } else if let Some(i) = call.dead.iter().position(|b| b.id == id) {
            let mut b = call.dead.swap_remove(i);
            self.dead_response(now, &mut b, &msg, code);
            if let Some(call) = self.calls.get_mut(&key) {
                call.dead.push(b);
            }
        }
        self.settle(key);
    }

    fn active_response(&mut self, now: Instant, svc: &Services, key: TxnKey, msg: Message, code: u16) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(b) = call.branch.as_mut() else { return };
        match b.txn.on_response(now, code) {
            ClientInviteAction::Absorb => {}
            ClientInviteAction::ResendAck(ack) => {
                let (d, t, c) = (b.dest, b.transport, b.conn);
                self.send(d, t, c, ack);
            }
            ClientInviteAction::Pass { .. } if code < 200 => self.provisional(now, key, &msg, code),
            ClientInviteAction::Pass { .. } => {
                let (code, bytes) = relayed_final(&msg, &call.request);
                self.final_upstream(now, key, code, bytes);
                self.answered(now, key);
            }
            ClientInviteAction::SendAck => {
                let ack = forward::ack(&b.request, &msg);
                b.txn.set_ack(ack.clone());
                self.out.push_back(Transmit {
                    dest: b.dest,
                    transport: b.transport,
                    conn: b.conn,
                    bytes: ack,
                });
                if self.carrier_challenge(now, key, &msg, code) {
                    return;
                }
                if self.carrier_refused(key, code) {
                    // Our credentials do not open this carrier: fail over as from an
                    // unavailable carrier, and never hand its challenge to our caller.
                    return self.branch_ended(now, svc, key, Failure::Local(503), 503);
                }
                self.branch_failed(now, svc, key, msg, code);
            }
        }
    }

    /// The active branch ended with a failure: it is kept only to absorb retransmissions, and
    /// the call moves on (SPEC §4 failover) or answers upstream.
    fn branch_failed(&mut self, now: Instant, svc: &Services, key: TxnKey, msg: Message, code: u16) {
        self.branch_ended(now, svc, key, Failure::Relayed(Box::new(msg)), code);
    }

    /// As `branch_failed`, with the failure to remember and the code that decides failover.
    fn branch_ended(&mut self, now: Instant, svc: &Services, key: TxnKey, failure: Failure, code: u16) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let mut b = call.branch.take();
        if let Some(b) = b.as_mut() {
            b.carrier_permit = None;
            b.progress_deadline = None;
            b.answer_deadline = None;
        }
        call.dead.extend(b);
        call.last_failure = Some(failure);
        self.after_failure(now, svc, key, code);
    }

    /// A 1xx on the active branch: relayed upstream (except 100), progress timer stopped.
    fn provisional(&mut self, now: Instant, key: TxnKey, msg: &Message, code: u16) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(b) = call.branch.as_mut() else { return };
        b.got_1xx = true;
        if code == 100 {
            return;
        }
        b.progress_deadline = None;
        let early = b.ignore_early_media && code == 183;
        if call.phase != Phase::Trying {
            return;
        }
        let bytes = upstream_provisional(msg, &call.request, early);
        let out = call.server.send_provisional(bytes);
        let reply = call.reply;
        self.emit_reply(reply, out, if early { 180 } else { code });
        let _ = now;
    }

    /// A response on a branch we gave up: CANCEL it on a 1xx, ACK a failure, ACK + BYE a 2xx.
    fn dead_response(&mut self, now: Instant, b: &mut Branch, msg: &Message, code: u16) {
        match b.txn.on_response(now, code) {
            ClientInviteAction::Pass { .. } if code < 200 => {
                b.got_1xx = true;
                if b.cancel_pending {
                    self.send_cancel(now, b);
                }
            }
            ClientInviteAction::Pass { first_final: true } => {
                let (ack_id, bye_id) = (self.new_branch_id(), self.new_branch_id());
                let via = forward::via(b.transport, &self.cfg.advertise, self.port(b.transport), ack_id);
                let ack = forward::in_dialog(&b.request, msg, "ACK", &via, 0);
                self.send(b.dest, b.transport, b.conn, ack);
                let via = forward::via(b.transport, &self.cfg.advertise, self.port(b.transport), bye_id);
                let bye = forward::in_dialog(&b.request, msg, "BYE", &via, 1);
                self.send_oneshot(now, (bye_id, Kind::Bye), bye, b.dest, b.transport, b.conn);
            }
            ClientInviteAction::SendAck => {
                let ack = forward::ack(&b.request, msg);
                b.txn.set_ack(ack.clone());
                self.send(b.dest, b.transport, b.conn, ack);
            }
            ClientInviteAction::ResendAck(ack) => self.send(b.dest, b.transport, b.conn, ack),
            _ => {}
        }
    }

    /// An in-dialog request (To tag) or an end-to-end ACK: relayed along our signed Route.
    pub(super) fn in_dialog(
        &mut self,
        now: Instant,
        _snap: &Arc<Snapshot>,
        _svc: &Services,
        input: &Input,
        msg: Message,
        key: TxnKey,
    ) {
        let is_ack = msg.method() == Some(Method::Ack);
        let RouteSet { ours, signed, next } = self.route_set(&msg);
        let call_id = msg.call_id().unwrap_or(b"").to_vec();
        if ours == 0 {
            // Every dialog we set up carries our signed Record-Route, so a request without it is
            // not ours to relay: 481 for an unknown dialog, 403 for a known Call-ID (knowing a
            // Call-ID must not be enough to bounce requests through us to any address). An ACK
            // (e.g. for a stateless 407) is dropped.
            if !is_ack {
                let code = if self.dialogs.contains(&call_id) { 403 } else { 481 };
                self.answer(now, key, &msg, input, LocalResponse::new(code));
            }
            return;
        }
        if !signed {
            self.events.push_back(Event::AuthFailure {
                reason: "bad_route_signature",
            });
            if !is_ack {
                self.answer(now, key, &msg, input, LocalResponse::new(403));
            }
            return;
        }
        let hop = next.filter(|(d, _)| !self.is_own_addr(*d, input));
        let Some((dest, transport)) = hop else {
            if !is_ack {
                self.answer(now, key, &msg, input, LocalResponse::new(404));
            }
            return;
        };
        let rewrite = self.dialogs.rewrite(&call_id).cloned();
        if msg.method() == Some(Method::Bye) && self.dialogs.remove(&call_id) {
            self.events.push_back(Event::CallEnded { code: 200 });
        }
        let id = self.new_branch_id();
        let via = forward::via(transport, &self.cfg.advertise, self.port(transport), id);
        let f = Forward {
            ruri: None,
            via: &via,
            record_route: &[],
            pop_routes: ours,
            headers: &[],
            identity: None,
            compose: None,
            ids: rewrite.as_ref().map(|r| r.for_request(&msg)),
            pai_host: "",
            our_realms: &[],
        };
        let bytes = forward::forward(&msg, input.src, &f);
        if is_ack {
            return self.send(dest, transport, None, bytes);
        }
        self.start_relay(now, key, input, msg, id, dest, transport, bytes);
    }

    /// Whether `a` is where we listen: relaying there would send the request back to us.
    fn is_own_addr(&self, a: SocketAddr, input: &Input) -> bool {
        let ours = self.advertise_ip == Some(a.ip()) && self.cfg.ports.iter().any(|(_, p)| *p == a.port());
        a == input.local || ours
    }

    /// One pass over the Route set (each value decoded once): how many leading values are
    /// ours, whether the top one carries a valid signature for this dialog, and where the
    /// request goes next (the first Route that is not ours, else the Request-URI).
    fn route_set(&self, msg: &Message) -> RouteSet {
        let mut set = RouteSet {
            ours: 0,
            signed: false,
            next: None,
        };
        let mut next_uri = None;
        for value in msg.header_values(HeaderName::Route) {
            let Ok(na) = header::parse_name_addr(value) else {
                break;
            };
            if !self.is_us(&na.uri) {
                next_uri = Some(na.uri);
                break;
            }
            if set.ours == 0 {
                set.signed = na
                    .uri
                    .params
                    .get("tg")
                    .flatten()
                    .is_some_and(|sig| self.signature_ok(msg, sig));
            }
            set.ours += 1;
        }
        let next_uri = next_uri.or_else(|| msg.request_uri().and_then(|u| header::parse_uri(u).ok()));
        set.next = next_uri.and_then(|u| Some((uri_addr(&u)?, uri_transport(&u))));
        set
    }

    fn signature_ok(&self, msg: &Message, sig: &[u8]) -> bool {
        let call_id = msg.call_id().unwrap_or(b"");
        let from_tag = msg
            .header(HeaderName::From)
            .and_then(header::tag_of)
            .unwrap_or(b"");
        let to_tag = msg.header(HeaderName::To).and_then(header::tag_of);
        self.signer.verify(sig, call_id, from_tag, to_tag)
    }

    #[allow(clippy::too_many_arguments)]
    fn start_relay(
        &mut self,
        now: Instant,
        key: TxnKey,
        input: &Input,
        mut request: Message,
        id: u64,
        dest: SocketAddr,
        transport: Transport,
        bytes: Bytes,
    ) {
        request.shrink_to_fit();
        let reply = Reply::to(input);
        let server = ServerNonInvite::new(now, TimerConfig::for_transport(reply.reliable()));
        let client = ClientNonInvite::new(
            now,
            bytes.clone(),
            TimerConfig::for_transport(transport != Transport::Udp),
        );
        self.send(dest, transport, None, bytes);
        self.relay_branches.insert(id, key);
        self.relays.insert(
            key,
            Box::new(Relay {
                server,
                reply,
                request,
                client,
                branch_id: id,
                dest,
                transport,
            }),
        );
        self.settle_relay(key);
    }

    fn relay_response(&mut self, now: Instant, key: TxnKey, msg: Message, code: u16) {
        let Some(r) = self.relays.get_mut(&key) else {
            return;
        };
        if let ClientNonInviteAction::Pass { .. } = r.client.on_response(now, code) {
            let mut ed = Editor::new(&msg);
            ed.remove_top_via();
            forward::restore_ids(&msg, &r.request, &mut ed);
            let bytes = ed.finish();
            let out = if code < 200 {
                r.server.send_provisional(bytes)
            } else {
                // Answered: the request is not needed through Timers J and K (the server
                // transaction keeps the answer for retransmitted requests).
                r.request = Message::default();
                r.server.send_final(now, code, bytes)
            };
            let reply = r.reply;
            self.emit_reply(reply, out, code);
        }
        self.settle_relay(key);
    }

    pub(super) fn relay_retransmit(&mut self, now: Instant, key: TxnKey) {
        let Some(r) = self.relays.get_mut(&key) else {
            return;
        };
        let reply = r.reply;
        if let Some(b) = r.server.on_request_retransmit(now) {
            self.send(reply.dest, reply.transport, reply.conn, b);
        }
    }

    pub(super) fn relay_timeout(&mut self, now: Instant, key: TxnKey) {
        let Some(r) = self.relays.get_mut(&key) else {
            return;
        };
        let reply = r.reply;
        match r.client.on_timeout(now) {
            Some(ClientTimerEvent::Retransmit(b)) => {
                let (d, t) = (r.dest, r.transport);
                self.send(d, t, None, b);
            }
            Some(ClientTimerEvent::Timeout) => {
                let req = r.request.clone();
                let bytes = self.build_response(&req, &LocalResponse::new(408));
                if let Some(r) = self.relays.get_mut(&key) {
                    let out = r.server.send_final(now, 408, bytes);
                    self.emit_reply(reply, out, 408);
                }
            }
            _ => {}
        }
        if let Some(r) = self.relays.get_mut(&key) {
            if let Some(ServerTimerEvent::Retransmit(b)) = r.server.on_timeout(now) {
                self.send(reply.dest, reply.transport, reply.conn, b);
            }
        }
        self.settle_relay(key);
    }

    fn settle_relay(&mut self, key: TxnKey) {
        let Some(r) = self.relays.get(&key) else { return };
        if r.server.is_terminated() && r.client.is_terminated() {
            let id = r.branch_id;
            self.relays.remove(&key);
            self.relay_branches.remove(&id);
            return;
        }
        let due = [r.server.next_timeout(), r.client.next_timeout()]
            .into_iter()
            .flatten()
            .min();
        self.arm(due, TimerKey::Relay(key));
    }

    /// Ends dialogs past `max_call_duration`, releasing their permits.
    pub(super) fn sweep_dialogs(&mut self, now: Instant) {
        for _ in self.dialogs.expire(now) {
            self.events.push_back(Event::CallEnded { code: 0 });
        }
        if !self.dialogs.is_empty() {
            self.timers.arm(now + super::SWEEP, TimerKey::Sweep);
        }
    }
}

/// A provisional made ready for upstream: our Via removed, From/To as `request` had them; with
/// `early` (ignore_early_media) a 183 becomes a 180 without SDP.
fn upstream_provisional(msg: &Message, request: &Message, early: bool) -> Bytes {
    let mut ed = Editor::new(msg);
    ed.remove_top_via();
    forward::restore_ids(msg, request, &mut ed);
    if early {
        ed.set_status(b"180 Ringing");
        ed.remove_all(HeaderName::ContentType);
        ed.set_body(Bytes::new());
    }
    ed.finish()
}

/// What `route_set` found.
struct RouteSet {
    ours: usize,
    signed: bool,
    next: Option<(SocketAddr, Transport)>,
}

/// The socket address of a URI with an IP host (maddr ignored), default port 5060 (5061 sips).
pub(super) fn uri_addr(uri: &Uri<'_>) -> Option<SocketAddr> {
    let ip = match uri.host {
        Host::V4(a) => IpAddr::V4(a),
        Host::V6(a) => IpAddr::V6(a),
        Host::Name(n) => std::str::from_utf8(n).ok()?.parse().ok()?,
    };
    let default = if uri.scheme == header::Scheme::Sips {
        5061
    } else {
        5060
    };
    Some(SocketAddr::new(ip, uri.port.unwrap_or(default)))
}
