//! Carriers that challenge our INVITE (seed 003 `auth_id`/`username`/`password`): a 401/407 on
//! a carrier branch is answered once with credentials on a new branch (same Call-ID, From tag
//! and CSeq); a second challenge (or one we have no password for) means the carrier refuses us:
//! the call fails over as from an unavailable carrier (503 upstream when none is left), and the
//! carrier's challenge never reaches our caller.
//!
//! The CSeq is kept rather than incremented (RFC 3261 §22.2 says SHOULD increment for a UAC):
//! as a proxy we would otherwise have to rewrite the CSeq of every response and end-to-end ACK
//! of the call; carriers match the retry by its new branch and nonce.

use std::time::Instant;

use super::call::Branch;
use super::forward;
use super::{Core, TxnKey};
use crate::policy::digest::answer;
use crate::policy::TargetKind;
use crate::sip::{Editor, HeaderName, Message};
use crate::txn::{ClientInvite, TimerConfig};

impl Core {
    /// Resends the active branch with credentials when `resp` is a challenge we can answer.
    pub(super) fn carrier_challenge(&mut self, now: Instant, key: TxnKey, resp: &Message, code: u16) -> bool {
        if code != 401 && code != 407 {
            return false;
        }
        let Some(creds) = self.credentials_for(key, resp, code) else {
            return false;
        };
        let id = self.new_branch_id();
        let Some(transport) = self
            .calls
            .get(&key)
            .and_then(|c| c.branch.as_ref())
            .map(|b| b.transport)
        else {
            return false;
        };
        let via = forward::via(transport, &self.cfg.advertise, self.port(transport), id);
        let Some(call) = self.calls.get_mut(&key) else {
            return false;
        };
        let Some(mut old) = call.branch.take() else {
            return false;
        };
        let name = if code == 407 {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        let mut ed = Editor::new(&old.request);
        ed.remove_top_via();
        ed.prepend_via(via.as_bytes());
        ed.append_header(name, creds.as_bytes());
        let bytes = ed.finish();
        let Ok(request) = Message::parse(bytes.clone()) else {
            call.branch = Some(old);
            return false;
        };
        let reliable = old.transport != crate::config::Transport::Udp;
        let branch = Branch {
            id,
            txn: ClientInvite::new(now, bytes.clone(), TimerConfig::for_transport(reliable)),
            request,
            dest: old.dest,
            transport: old.transport,
            conn: old.conn,
            carrier_permit: old.carrier_permit.take(),
            got_1xx: false,
            cancel_pending: false,
            progress_deadline: old.progress_deadline,
            answer_deadline: old.answer_deadline,
            ignore_early_media: old.ignore_early_media,
            target: old.target,
            authed: true,
        };
        let (dest, transport, conn) = (branch.dest, branch.transport, branch.conn);
        call.dead.push(old);
        call.branch = Some(branch);
        self.branches.insert(id, key);
        self.send(dest, transport, conn, bytes);
        true
    }

    /// A 401/407 on a carrier branch that `carrier_challenge` did not answer (already answered
    /// once, or no password configured): the carrier refuses us.
    pub(super) fn carrier_refused(&self, key: TxnKey, code: u16) -> bool {
        if code != 401 && code != 407 {
            return false;
        }
        let Some(call) = self.calls.get(&key) else {
            return false;
        };
        call.branch
            .as_ref()
            .and_then(|b| call.plan.targets.get(b.target))
            .is_some_and(|t| matches!(t.kind, TargetKind::Carrier(_)))
    }

    /// The credentials value answering one of `resp`'s challenges, when the branch goes to a
    /// carrier with a password and was not already answered.
    fn credentials_for(&mut self, key: TxnKey, resp: &Message, code: u16) -> Option<String> {
        let cnonce = format!("{:016x}", self.rng.u64(..));
        let call = self.calls.get(&key)?;
        let b = call.branch.as_ref().filter(|b| !b.authed)?;
        let TargetKind::Carrier(c) = call.plan.targets.get(b.target)?.kind else {
            return None;
        };
        let carrier = call.snap.carriers.get(c.0 as usize)?;
        if carrier.password.is_empty() {
            return None;
        }
        let user = if carrier.auth_id.is_empty() {
            &carrier.username
        } else {
            &carrier.auth_id
        };
        let uri = String::from_utf8_lossy(b.request.request_uri()?).into_owned();
        let header = if code == 407 {
            HeaderName::ProxyAuthenticate
        } else {
            HeaderName::WwwAuthenticate
        };
        resp.headers_named(header).find_map(|h| {
            let challenge = String::from_utf8_lossy(resp.slice(h.value));
            answer(&challenge, "INVITE", &uri, user, &carrier.password, &cnonce, 1).ok()
        })
    }
}
