//! Initial INVITEs and REGISTERs: who is calling (SPEC §3), digest authentication, bans, the
//! routing decision and the account's trunk permit.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use tracing::debug;

use super::local::LocalResponse;
use super::{Core, Event, Input, TxnKey};
use crate::config::{DigestAlgorithm, DigestOwner, Snapshot, SourceOwner, UnknownSource};
use crate::policy::digest::Algorithm;
use crate::policy::{identify, route, CallFacts, Caller, Decision, Rejection};
use crate::proxy::Services;
use crate::sip::header::{self, parse_credentials};
use crate::sip::{HeaderName, Message, Method};

/// What authentication concluded.
enum Auth {
    Caller(Caller),
    /// Already answered (challenge, 403) or dropped.
    Answered,
}

impl Core {
    pub(super) fn on_invite(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        input: &Input,
        msg: Message,
        key: TxnKey,
    ) {
        if self.draining {
            return self.answer(
                now,
                key,
                &msg,
                input,
                LocalResponse::new(503).header("Retry-After", "5"),
            );
        }
        let caller = match identify::identify(snap, input.src) {
            Some(SourceOwner::Carrier(c)) => Caller::Carrier(c),
            Some(SourceOwner::Server(s)) => Caller::Server(s),
            None => match self.authenticate(now, snap, svc, input, &msg, key) {
                Auth::Caller(c) => c,
                Auth::Answered => return,
            },
        };
        let decision = {
            let owned = Facts::of(&msg);
            let facts = owned.facts();
            match caller {
                Caller::Carrier(c) => route::inbound(snap, c, &facts),
                Caller::Server(s) => route::outbound(snap, s, &facts),
                Caller::Unknown => Decision::Reject(Rejection::Forbidden),
            }
        };
        let plan = match decision {
            Decision::Relay(plan) => plan,
            Decision::Reject(r) => return self.reject(now, snap, key, &msg, input, &r),
        };
        let Some(account) = snap.accounts.get(plan.account.0 as usize) else {
            return self.reject(now, snap, key, &msg, input, &Rejection::NoRoute);
        };
        let Some(permit) = svc.limits.try_account(&account.account_id, account.trunks) else {
            return self.reject(now, snap, key, &msg, input, &Rejection::TrunkLimit);
        };
        let mut permits = vec![permit];
        // SPEC §2: a carrier's `concurrency` counts its calls in both directions.
        if let Caller::Carrier(c) = caller {
            let Some(inbound) = snap
                .carriers
                .get(c.0 as usize)
                .and_then(|c| svc.limits.try_carrier(&c.name, c.concurrency))
            else {
                return self.reject(now, snap, key, &msg, input, &Rejection::CarriersUnavailable);
            };
            permits.push(inbound);
        }
        self.start_call(now, snap, svc, key, input, msg, plan, permits);
    }

    /// Answers a policy rejection (one map from `Rejection` to the SIP answer).
    pub(super) fn reject(
        &mut self,
        now: Instant,
        snap: &Snapshot,
        key: TxnKey,
        msg: &Message,
        input: &Input,
        r: &Rejection,
    ) {
        let mut resp = LocalResponse::new(r.code());
        if let Some(w) = r.warning() {
            resp = resp.header("Warning", format!("399 {} \"{w}\"", snap.proxy.advertise));
        }
        if let Some(s) = r.retry_after() {
            resp = resp.header("Retry-After", s.to_string());
        }
        self.answer(now, key, msg, input, resp);
    }

    /// Digest authentication of a request from an unknown source (SPEC §3): challenge, verify,
    /// count failures, honour bans. `Auth::Caller` only for valid credentials.
    fn authenticate(
        &mut self,
        now: Instant,
        snap: &Snapshot,
        svc: &Services,
        input: &Input,
        msg: &Message,
        key: TxnKey,
    ) -> Auth {
        let register = msg.method() == Some(Method::Register);
        let ip = input.src.ip();
        if svc.bans.is_banned(ip, now) {
            return self.refuse(now, snap, key, msg, input);
        }
        let realm = request_realm(snap, msg, register);
        let hdr = if register {
            HeaderName::Authorization
        } else {
            HeaderName::ProxyAuthorization
        };
        let creds = msg.headers_named(hdr).map(|h| msg.slice(h.value)).find_map(|v| {
            parse_credentials(v)
                .ok()
                .filter(|c| c.realm.eq_ignore_ascii_case(realm.as_bytes()))
        });
        let Some(creds) = creds else {
            self.challenge(now, snap, svc, msg, input, realm, false);
            return Auth::Answered;
        };
        let user = String::from_utf8_lossy(&creds.username);
        let owner = identify::digest_owner(snap, realm, &user);
        let password = match owner {
            Some(DigestOwner::Server(s)) => snap
                .servers
                .get(s.0 as usize)
                .and_then(|s| s.auth.password.as_deref()),
            Some(DigestOwner::Carrier(c)) => snap.carriers.get(c.0 as usize).map(|c| c.password.as_str()),
            None => None,
        };
        // An unknown user is verified against a dummy password so both paths cost the same.
        let pw = password.unwrap_or("\u{0}no-such-user");
        let uri = self.digest_uri(msg, &creds.uri);
        let verdict = svc.auth.verify(
            self.unix(now),
            snap.proxy.nonce_ttl.as_secs(),
            &creds,
            msg.method_bytes(),
            uri,
            pw.as_bytes(),
            realm,
        );
        match (verdict, owner) {
            (Ok(()), Some(owner)) if self.source_allowed(snap, owner, input) => Auth::Caller(match owner {
                DigestOwner::Server(s) => Caller::Server(s),
                DigestOwner::Carrier(c) => Caller::Carrier(c),
            }),
            (Err(crate::policy::digest::AuthError::Stale), Some(_)) => {
                self.challenge(now, snap, svc, msg, input, realm, true);
                Auth::Answered
            }
            (Err(crate::policy::digest::AuthError::BadNonce), _) => {
                self.challenge(now, snap, svc, msg, input, realm, false);
                Auth::Answered
            }
            (verdict, _) => {
                let reason = verdict.err().map_or("source_not_allowed", |e| e.reason());
                self.events.push_back(Event::AuthFailure { reason });
                debug!(src = %input.src, reason, "authentication failed");
                svc.bans.record_failure(ip, now, &snap.security);
                self.answer(now, key, msg, input, LocalResponse::new(403));
                Auth::Answered
            }
        }
    }

    /// The URI the digest `uri` must equal: the Request-URI, or (as SIPp and PBXs that use us
    /// as outbound proxy send) a URI naming this proxy itself with no user part. Either way the
    /// answer is bound to our nonce and to us.
    fn digest_uri<'m>(&self, msg: &'m Message, digest_uri: &'m [u8]) -> &'m [u8] {
        let names_us =
            header::parse_uri(header::trim(digest_uri)).is_ok_and(|u| u.user.is_none() && self.is_us(&u));
        if names_us {
            digest_uri
        } else {
            msg.request_uri().unwrap_or(b"")
        }
    }

    /// Seed 004 "basic + ip": a password server with `ip` set must also come from there.
    fn source_allowed(&self, snap: &Snapshot, owner: DigestOwner, input: &Input) -> bool {
        let DigestOwner::Server(s) = owner else {
            return true;
        };
        let Some(server) = snap.servers.get(s.0 as usize) else {
            return false;
        };
        server.auth.ips.is_empty() || server.auth.ips.iter().any(|n| n.contains(&input.src.ip()))
    }

    /// A banned source: 403 or silence per `unknown_source`.
    fn refuse(&mut self, now: Instant, snap: &Snapshot, key: TxnKey, msg: &Message, input: &Input) -> Auth {
        self.events.push_back(Event::AuthFailure { reason: "banned" });
        if snap.proxy.unknown_source == UnknownSource::Reject {
            self.answer(now, key, msg, input, LocalResponse::new(403));
        }
        Auth::Answered
    }

    /// Answers 407 (401 for REGISTER) with one challenge per configured algorithm.
    #[allow(clippy::too_many_arguments)]
    fn challenge(
        &mut self,
        now: Instant,
        snap: &Snapshot,
        svc: &Services,
        msg: &Message,
        input: &Input,
        realm: &str,
        stale: bool,
    ) {
        let register = msg.method() == Some(Method::Register);
        let algs: Vec<Algorithm> = snap
            .proxy
            .digest_algorithms
            .iter()
            .map(|a| algorithm(*a))
            .collect();
        let (code, name) = if register {
            (401, "WWW-Authenticate")
        } else {
            (407, "Proxy-Authenticate")
        };
        let mut resp = LocalResponse::new(code);
        for value in svc.auth.challenge(self.unix(now), realm, &algs, stale) {
            resp = resp.header(name, value);
        }
        // Stateless, as Kamailio's `auth_challenge` over `sl`: every caller that dials out
        // is challenged first, so this is half of the outbound traffic, and keeping a
        // transaction (Timer I) per challenge costs more than challenging a retransmission
        // again (its 407 carries a fresh nonce; the caller's ACK finds no transaction and is
        // dropped).
        self.answer_stateless(msg, input, resp);
    }

    /// REGISTER (SPEC §4): carriers and IP servers get 403; password servers are challenged.
    pub(super) fn on_register(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        input: &Input,
        msg: &Message,
        key: TxnKey,
    ) {
        if identify::identify(snap, input.src).is_some() {
            return self.answer(now, key, msg, input, LocalResponse::new(403));
        }
        match self.authenticate(now, snap, svc, input, msg, key) {
            Auth::Answered => {}
            Auth::Caller(caller) => self.register(now, snap, svc, input, msg, key, caller),
        }
    }
}

fn algorithm(a: DigestAlgorithm) -> Algorithm {
    match a {
        DigestAlgorithm::Md5 => Algorithm::Md5,
        DigestAlgorithm::Sha256 => Algorithm::Sha256,
    }
}

/// SPEC §3 "Realm": the Request-URI host (To host for REGISTER) picks a server realm.
fn request_realm<'s>(snap: &'s Snapshot, msg: &Message, register: bool) -> &'s str {
    let host = if register {
        msg.to().ok().map(|t| t.uri.host_raw)
    } else {
        msg.request_uri()
            .and_then(|u| header::parse_uri(u).ok())
            .map(|u| u.host_raw)
    };
    let host = host.map(String::from_utf8_lossy).unwrap_or_default();
    identify::realm_for(snap, &host)
}

/// The strings policy looks at, borrowed from the message when they are UTF-8 without
/// %-escapes (the usual case), decoded copies otherwise.
struct Facts<'m> {
    ruri_user: Cow<'m, str>,
    to_user: Cow<'m, str>,
    from_user: Cow<'m, str>,
    from_display: Option<Cow<'m, str>>,
    pai_user: Option<Cow<'m, str>>,
    pai_display: Option<Cow<'m, str>>,
    rpid_user: Option<Cow<'m, str>>,
    rpid_display: Option<Cow<'m, str>>,
}

/// A URI user part as text: %-escapes decoded, invalid UTF-8 replaced.
fn text(b: &[u8]) -> Cow<'_, str> {
    match header::percent_decode(b) {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
    }
}

/// A display name as text, without its quotes.
fn display(d: Option<&[u8]>) -> Option<Cow<'_, str>> {
    d.map(|d| match String::from_utf8_lossy(d) {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_matches('"')),
        Cow::Owned(s) => Cow::Owned(s.trim_matches('"').to_owned()),
    })
}

impl<'m> Facts<'m> {
    fn of(msg: &'m Message) -> Facts<'m> {
        let ruri = msg.request_uri().and_then(|u| header::parse_uri(u).ok());
        let to = msg.to().ok();
        let from = msg.from().ok();
        let named = |n: HeaderName| msg.header(n).and_then(|v| header::parse_name_addr(v).ok());
        let pai = named(HeaderName::PAssertedIdentity);
        let rpid = named(HeaderName::RemotePartyId);
        Facts {
            ruri_user: ruri.and_then(|u| u.user).map(text).unwrap_or_default(),
            to_user: to.as_ref().and_then(|t| t.uri.user).map(text).unwrap_or_default(),
            from_user: from
                .as_ref()
                .and_then(|f| f.uri.user)
                .map(text)
                .unwrap_or_default(),
            from_display: display(from.as_ref().and_then(|f| f.display)),
            pai_user: pai.as_ref().and_then(|p| p.uri.user).map(text),
            pai_display: display(pai.as_ref().and_then(|p| p.display)),
            rpid_user: rpid.as_ref().and_then(|p| p.uri.user).map(text),
            rpid_display: display(rpid.as_ref().and_then(|p| p.display)),
        }
    }

    fn facts(&self) -> CallFacts<'_> {
        CallFacts {
            ruri_user: &self.ruri_user,
            to_user: &self.to_user,
            from_user: &self.from_user,
            from_display: self.from_display.as_deref(),
            pai_user: self.pai_user.as_deref(),
            pai_display: self.pai_display.as_deref(),
            rpid_user: self.rpid_user.as_deref(),
            rpid_display: self.rpid_display.as_deref(),
        }
    }
}
