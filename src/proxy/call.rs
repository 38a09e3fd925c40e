//! One INVITE being proxied: its server transaction upstream, the ordered targets from policy,
//! the active branch (serial forking) and the branches given up but still owed an ACK, CANCEL or
//! BYE. Delay, progress and answer timers live here (Timer C is the answer timer).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tracing::debug;

use super::dialog::{Dialog, Rewrite};
use super::forward::{self, Forward};
use super::hop::{carrier_permit, failover_allowed, registered_hop, resolved_hop, Hop};
use super::local::{LocalResponse, Reply};
use super::oneshot::Kind;
use super::timers::TimerKey;
use super::{Core, Event, Input, TxnKey};
use crate::config::{Snapshot, Transport};
use crate::policy::limits::Permit;
use crate::policy::{Caller, Destination, Plan, Target, TargetKind};
use crate::proxy::Services;
use crate::sip::{Editor, HeaderName, Message};
use crate::txn::{ClientInvite, ServerInvite, TimerConfig};

/// Where the call is, seen from upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the target's `delay` before sending.
    Delaying(Instant),
    /// A branch is out (or about to be).
    Trying,
    /// A 2xx went upstream.
    Answered,
    /// A final failure went upstream (or the call was cancelled).
    Done,
}

/// How a branch failed, for the final answer when no target is left.
pub enum Failure {
    /// A response from downstream (relayed as is, 503 → 500). Boxed: most calls never fail,
    /// and it keeps `Call` under 1 KB (see the size test).
    Relayed(Box<Message>),
    /// A locally generated answer (408 timeout, 503 unavailable, 480 not registered).
    Local(u16),
}

/// One attempt towards one target.
pub struct Branch {
    pub id: u64,
    pub txn: ClientInvite,
    /// The INVITE as we sent it (CANCEL and ACK are built from it).
    pub request: Message,
    pub dest: SocketAddr,
    pub transport: Transport,
    /// The connection to use (a registered peer's own TCP connection).
    pub conn: Option<super::ConnId>,
    pub carrier_permit: Option<Permit>,
    /// Any 1xx seen (a CANCEL may be sent).
    pub got_1xx: bool,
    /// Send a CANCEL as soon as a 1xx arrives (given up before any 1xx).
    pub cancel_pending: bool,
    pub progress_deadline: Option<Instant>,
    pub answer_deadline: Option<Instant>,
    pub ignore_early_media: bool,
    /// Index of the target in the plan.
    pub target: usize,
    /// Already resent with credentials after a carrier's 401/407 (only once).
    pub authed: bool,
}

/// A proxied INVITE.
pub struct Call {
    pub server: ServerInvite,
    pub reply: Reply,
    /// The INVITE as received.
    pub request: Message,
    pub src: SocketAddr,
    pub in_transport: Transport,
    pub snap: Arc<Snapshot>,
    pub plan: Plan,
    pub next_target: usize,
    pub delayed: bool,
    pub phase: Phase,
    pub branch: Option<Branch>,
    /// Branches given up, kept until their transactions end.
    pub dead: Vec<Branch>,
    /// The account's permit, and the inbound carrier's: held until the call ends.
    pub permits: Vec<Permit>,
    pub last_failure: Option<Failure>,
    /// A carrier was skipped for being full or OFFLINE.
    pub unavailable: bool,
    /// Our Route values at the top of the INVITE (popped when forwarding).
    pub pop_routes: usize,
    /// Whether this INVITE creates a dialog (Record-Route, permits) or is a re-INVITE.
    pub initial: bool,
    /// The deadline of this call's live entry in the timer heap.
    pub armed: Option<Instant>,
}

impl Call {
    fn next_timeout(&self) -> Option<Instant> {
        let mut t = [self.server.next_timeout(), self.delay_deadline()]
            .into_iter()
            .flatten()
            .min();
        let mut fold = |x: Option<Instant>| t = [t, x].into_iter().flatten().min();
        if let Some(b) = &self.branch {
            fold(b.txn.next_timeout());
            fold(b.progress_deadline);
            fold(b.answer_deadline);
        }
        for b in &self.dead {
            fold(b.txn.next_timeout());
        }
        t
    }

    pub(super) fn delay_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Delaying(at) => Some(at),
            _ => None,
        }
    }

    /// Nothing left to do: the server transaction ended and no branch is pending.
    fn finished(&self) -> bool {
        self.server.is_terminated() && self.branch.is_none() && self.dead.is_empty()
    }
}

impl Core {
    /// Accepts a routed INVITE: 100 Trying, then the first target (after its delay).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_call(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        key: TxnKey,
        input: &Input,
        mut msg: Message,
        plan: Plan,
        permits: Vec<Permit>,
    ) {
        let reply = Reply::to(input);
        let mut server = ServerInvite::new(now, TimerConfig::for_transport(reply.reliable()));
        let trying = self.build_response(&msg, &LocalResponse::new(100));
        let out = server.send_provisional(trying);
        self.emit_reply(reply, out, 100);
        self.events.push_back(Event::CallStarted);
        let span = tracing::Span::current();
        let account = snap
            .accounts
            .get(plan.account.0 as usize)
            .map_or("", |a| a.account_id.as_str());
        span.record("account", account);
        span.record("direction", tracing::field::debug(plan.direction));
        tracing::debug!(targets = plan.targets.len(), number = %plan.number, "call accepted");
        let pop_routes = self.our_routes(&msg);
        msg.shrink_to_fit();
        let call = Call {
            server,
            reply,
            request: msg,
            src: input.src,
            in_transport: input.transport,
            snap: snap.clone(),
            plan,
            next_target: 0,
            delayed: false,
            phase: Phase::Trying,
            branch: None,
            dead: Vec::new(),
            permits,
            last_failure: None,
            unavailable: false,
            pop_routes,
            initial: true,
            armed: None,
        };
        self.calls.insert(key, Box::new(call));
        self.attempt_next(now, svc, key);
        self.settle(key);
    }

    /// Re-arms the call's timer, or drops the call when it is finished.
    pub(super) fn settle(&mut self, key: TxnKey) {
        let Some(call) = self.calls.get(&key) else { return };
        if call.finished() {
            if let Some(call) = self.calls.remove(&key) {
                for b in call.branch.iter().chain(&call.dead) {
                    self.branches.remove(&b.id);
                }
            }
            return;
        }
        let due = call.next_timeout();
        // One live heap entry per call: re-arm only when the new deadline is earlier than the
        // one already armed (the armed one fires, and settles the call again).
        let Some(due) = due else { return };
        if call.armed.is_some_and(|armed| armed <= due) {
            return;
        }
        if let Some(call) = self.calls.get_mut(&key) {
            call.armed = Some(due);
        }
        self.timers.arm(due, TimerKey::Call(key));
    }

    /// Sends the call to its next usable target, or gives the final answer when none is left.
    pub(super) fn attempt_next(&mut self, now: Instant, svc: &Services, key: TxnKey) {
        let unix = self.unix(now);
        loop {
            let Some(call) = self.calls.get_mut(&key) else {
                return;
            };
            let Some(target) = call.plan.targets.get(call.next_target).cloned() else {
                return self.fail_upstream(now, key);
            };
            if !target.delay.is_zero() && !call.delayed {
                call.delayed = true;
                call.phase = Phase::Delaying(now + target.delay);
                return;
            }
            call.phase = Phase::Trying;
            call.next_target += 1;
            let permit = match target.kind {
                TargetKind::Carrier(c) => match carrier_permit(&call.snap, svc, c) {
                    Some(p) => Some(p),
                    None => {
                        call.unavailable = true;
                        continue;
                    }
                },
                _ => None,
            };
            let hop = match &target.dest {
                Destination::Addr { addr, transport } => Some(Hop {
                    dest: *addr,
                    transport: *transport,
                    conn: None,
                    ruri: target.ruri.clone(),
                }),
                Destination::Registered(s) => {
                    registered_hop(&call.snap, svc, Caller::Server(*s), &target, unix)
                }
                Destination::RegisteredCarrier(c) => {
                    registered_hop(&call.snap, svc, Caller::Carrier(*c), &target, unix)
                }
                Destination::Host { transport, .. } => {
                    resolved_hop(&call.snap, target.kind, *transport, &target.ruri)
                }
            };
            let Some(hop) = hop else {
                call.last_failure = Some(Failure::Local(480));
                continue;
            };
            return self.send_branch(now, key, &target, hop, permit);
        }
    }

    fn send_branch(&mut self, now: Instant, key: TxnKey, target: &Target, hop: Hop, permit: Option<Permit>) {
        let Some((bytes, id, transport)) = self.build_branch(key, target, &hop, hop.transport) else {
            return;
        };
        // RFC 3261 §18.1.1: a request within 200 bytes of the path MTU goes over TCP instead
        // of UDP (`udp_mtu_switch`; off by default, many trunk peers are UDP-only).
        let switch = transport == Transport::Udp
            && bytes.len() > MTU_SWITCH_BYTES
            && self.calls.get(&key).is_some_and(|c| c.snap.proxy.udp_mtu_switch);
        let (bytes, id, transport) = match switch {
            true => self
                .build_branch(key, target, &hop, Transport::Tcp)
                .unwrap_or((bytes, id, transport)),
            false => (bytes, id, transport),
        };
        let Hop { dest, conn, .. } = hop;
        let Ok(request) = Message::parse(bytes.clone()) else {
            debug!("internal: forwarded INVITE does not parse");
            return;
        };
        self.launch_branch(
            now,
            key,
            target,
            (id, bytes, request),
            (dest, transport, conn),
            permit,
        );
    }

    /// The forwarded INVITE for `hop` over `transport`: (bytes, branch id, transport).
    fn build_branch(
        &mut self,
        key: TxnKey,
        target: &Target,
        hop: &Hop,
        transport: Transport,
    ) -> Option<(Bytes, u64, Transport)> {
        let ruri = &hop.ruri;
        let id = self.new_branch_id();
        let via = forward::via(transport, &self.cfg.advertise, self.port(transport), id);
        let call = self.calls.get(&key)?;
        let realms: Vec<&str> = std::iter::once(call.snap.proxy.realm.as_str())
            .chain(call.snap.server_realms.iter().map(String::as_str))
            .collect();
        let rr = if call.initial {
            self.record_routes(&call.request, call.in_transport, transport)
        } else {
            Vec::new()
        };
        let bytes = forward::forward(
            &call.request,
            call.src,
            &Forward {
                ruri: Some(ruri),
                via: &via,
                record_route: &rr,
                pop_routes: call.pop_routes,
                headers: &target.headers,
                identity: target.identity.as_ref(),
                compose: target.compose.as_deref(),
                ids: None,
                pai_host: &self.cfg.advertise,
                our_realms: &realms,
            },
        );
        Some((bytes, id, transport))
    }

    /// Sends a built branch and makes it the call's active one.
    fn launch_branch(
        &mut self,
        now: Instant,
        key: TxnKey,
        target: &Target,
        (id, bytes, mut request): (u64, Bytes, Message),
        (dest, transport, conn): (SocketAddr, Transport, Option<super::ConnId>),
        permit: Option<Permit>,
    ) {
        request.shrink_to_fit();
        let call_target = self
            .calls
            .get(&key)
            .map_or(0, |c| c.next_target.saturating_sub(1));
        let txn = ClientInvite::new(
            now,
            bytes.clone(),
            TimerConfig::for_transport(transport != Transport::Udp),
        );
        self.send(dest, transport, conn, bytes);
        self.branches.insert(id, key);
        let branch = Branch {
            id,
            txn,
            request,
            dest,
            transport,
            conn,
            carrier_permit: permit,
            got_1xx: false,
            cancel_pending: false,
            progress_deadline: target.progress_timeout.map(|d| now + d),
            answer_deadline: Some(now + target.timeout),
            ignore_early_media: target.ignore_early_media,
            target: call_target,
            authed: false,
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.branch = Some(branch);
        }
    }

    /// `Record-Route` values for an initial request: one signed URI, two when the transport
    /// changes between the legs (RFC 5658), the outbound-facing one on top.
    fn record_routes(&self, req: &Message, inbound: Transport, outbound: Transport) -> Vec<String> {
        let call_id = req.call_id().unwrap_or(b"");
        let tag = req
            .header(HeaderName::From)
            .and_then(crate::sip::header::tag_of)
            .unwrap_or(b"");
        let sig = self.signer.sign(call_id, tag);
        let one = |t: Transport| {
            let tp = match t {
                Transport::Udp => "",
                Transport::Tcp => ";transport=tcp",
                Transport::Tls => ";transport=tls",
            };
            let mut s = String::with_capacity(64);
            s.push_str("<sip:");
            s.push_str(&self.cfg.advertise);
            s.push(':');
            forward::push_u64(&mut s, u64::from(self.port(t)));
            s.push_str(tp);
            s.push_str(";lr;tg=");
            s.push_str(&sig);
            s.push('>');
            s
        };
        if inbound == outbound {
            vec![one(outbound)]
        } else {
            vec![one(outbound), one(inbound)]
        }
    }

    /// How many leading Route values point at us.
    pub(super) fn our_routes(&self, msg: &Message) -> usize {
        msg.header_values(HeaderName::Route)
            .map_while(|r| crate::sip::header::parse_name_addr(r).ok())
            .take_while(|na| self.is_us(&na.uri))
            .count()
    }

    /// The final failure upstream when no target is left.
    fn fail_upstream(&mut self, now: Instant, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.permits.clear();
        if matches!(call.phase, Phase::Done | Phase::Answered) {
            return;
        }
        call.phase = Phase::Done;
        let failure = call
            .last_failure
            .take()
            .unwrap_or(Failure::Local(if call.unavailable { 503 } else { 480 }));
        let (code, bytes) = match failure {
            Failure::Relayed(resp) => relayed_final(&resp, &call.request),
            Failure::Local(code) => {
                let mut r = LocalResponse::new(code);
                if code == 503 {
                    r = r.header("Retry-After", "30");
                }
                let req = call.request.clone();
                (code, self.build_response(&req, &r))
            }
        };
        self.final_upstream(now, key, code, bytes);
    }

    /// Sends a final response upstream through the server transaction.
    pub(super) fn final_upstream(&mut self, now: Instant, key: TxnKey, code: u16, bytes: Bytes) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let out = call.server.send_final(now, code, bytes);
        let reply = call.reply;
        self.emit_reply(reply, out, code);
        if code >= 300 {
            self.events.push_back(Event::CallEnded { code });
        }
    }

    /// A retransmitted INVITE: resend the last response.
    pub(super) fn call_retransmit(&mut self, now: Instant, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let reply = call.reply;
        if let Some(b) = call.server.on_request_retransmit(now) {
            self.send(reply.dest, reply.transport, reply.conn, b);
        }
    }

    /// An ACK matching a call's server transaction: `Some(false)` absorbed (non-2xx),
    /// `Some(true)` end to end (2xx), `None` no such call.
    pub(super) fn call_ack(&mut self, now: Instant, key: TxnKey) -> Option<bool> {
        let call = self.calls.get_mut(&key)?;
        let fwd = call.server.on_ack(now) == crate::txn::AckDisposition::ForwardEndToEnd;
        self.settle(key);
        Some(fwd)
    }

    /// CANCEL from upstream (RFC 3261 §16.10): 487 upstream, CANCEL the branch.
    pub(super) fn cancel_call(&mut self, now: Instant, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if matches!(call.phase, Phase::Answered | Phase::Done) {
            return;
        }
        call.phase = Phase::Done;
        call.permits.clear();
        let req = call.request.clone();
        if let Some(b) = call.branch.take() {
            self.abandon(now, key, b);
        }
        let bytes = self.build_response(&req, &LocalResponse::new(487));
        self.final_upstream(now, key, 487, bytes);
        self.settle(key);
    }

    /// Gives a branch up: CANCEL it when it has answered with a 1xx, else as soon as it does.
    pub(super) fn abandon(&mut self, now: Instant, key: TxnKey, mut b: Branch) {
        b.carrier_permit = None;
        b.progress_deadline = None;
        b.answer_deadline = None;
        if b.got_1xx {
            self.send_cancel(now, &mut b);
        } else {
            b.cancel_pending = true;
        }
        if let Some(call) = self.calls.get_mut(&key) {
            call.dead.push(b);
        }
    }

    pub(super) fn send_cancel(&mut self, now: Instant, b: &mut Branch) {
        if b.txn.is_cancelled() || b.txn.is_terminated() {
            return;
        }
        b.txn.cancel_sent(now);
        b.cancel_pending = false;
        let cancel = forward::cancel(&b.request);
        self.send_oneshot(now, (b.id, Kind::Cancel), cancel, b.dest, b.transport, b.conn);
    }

    /// A branch failed with `code`: try the next target when the failure allows it (SPEC §4),
    /// else answer upstream.
    pub(super) fn after_failure(&mut self, now: Instant, svc: &Services, key: TxnKey, code: u16) {
        let Some(call) = self.calls.get(&key) else { return };
        if call.phase == Phase::Done || call.phase == Phase::Answered {
            return;
        }
        if failover_allowed(code) {
            self.attempt_next(now, svc, key);
        } else {
            self.fail_upstream(now, key);
        }
    }

    /// A 2xx went upstream: the dialog takes over the permits.
    pub(super) fn answered(&mut self, now: Instant, key: TxnKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.phase == Phase::Answered {
            return;
        }
        call.phase = Phase::Answered;
        // No failover after an answer: the plan's targets go now, not when the INVITE
        // transaction ends (Timer L, 32 s later).
        call.plan.targets = Vec::new();
        let mut permits: Vec<Permit> = std::mem::take(&mut call.permits);
        let mut rewrite = None;
        if let Some(b) = call.branch.as_mut() {
            permits.extend(b.carrier_permit.take());
            b.progress_deadline = None;
            b.answer_deadline = None;
            rewrite = Rewrite::between(&call.request, &b.request).map(Box::new);
            // Only CANCEL and non-2xx ACKs are built from it: not needed once answered.
            b.request = Message::default();
        }
        // What is left for Timers L and M (32 s on UDP) is absorbing INVITE retransmissions
        // and relaying 2xx retransmissions and forks, whose From and To are restored from the
        // INVITE's: only those two headers are kept.
        let kept = call.request.parties_only();
        let request = std::mem::replace(&mut call.request, kept);
        if !call.initial {
            return;
        }
        let expires = now + call.snap.proxy.max_call_duration;
        let call_id = request.call_id().unwrap_or(b"").to_vec();
        let first = self.dialogs.is_empty();
        self.dialogs.insert(
            &call_id,
            Dialog {
                permits,
                expires,
                rewrite,
            },
        );
        if first {
            self.timers.arm(now + super::SWEEP, TimerKey::Sweep);
        }
    }
}

/// Requests larger than this go over TCP when `udp_mtu_switch` is on (RFC 3261 §18.1.1: path
/// MTU 1500 minus 200 bytes of headroom).
const MTU_SWITCH_BYTES: usize = 1300;

/// A downstream final response made ready for upstream: our Via removed, From/To as `request`
/// (the INVITE as received) had them, and a 503 turned into 500 (RFC 3261 §16.7: a 503 must
/// not leak upstream as "this proxy is unavailable").
pub fn relayed_final(resp: &Message, request: &Message) -> (u16, Bytes) {
    let code = resp.status().unwrap_or(500);
    let mut ed = Editor::new(resp);
    ed.remove_top_via();
    forward::restore_ids(resp, request, &mut ed);
    if code == 503 {
        ed.set_status(b"500 Server Internal Error");
        return (500, ed.finish());
    }
    (code, ed.finish())
}
