//! REGISTER handling (SPEC §4): after digest authentication, the To user must be the
//! authenticated user; bindings are stored with their source address (NAT), expires clamped to
//! `[proxy].register_min_expires..register_max_expires`; `expires=0` or `Contact: *` removes.

use std::sync::Arc;
use std::time::Instant;

use super::local::LocalResponse;
use super::registrar::{Aor, Binding};
use super::{Core, Input, TxnKey};
use crate::config::Snapshot;
use crate::policy::Caller;
use crate::proxy::Services;
use crate::sip::header::{self, parse_name_addr};
use crate::sip::{HeaderName, Message};

/// Expires when the REGISTER names none (RFC 3261 §10.2.1.1 suggests 3600).
const DEFAULT_EXPIRES: u32 = 3600;

impl Core {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn register(
        &mut self,
        now: Instant,
        snap: &Arc<Snapshot>,
        svc: &Services,
        input: &Input,
        msg: &Message,
        key: TxnKey,
        caller: Caller,
    ) {
        let Some(aor) = aor_of(snap, caller) else {
            return self.answer(now, key, msg, input, LocalResponse::new(403));
        };
        let to_user = msg
            .to()
            .ok()
            .and_then(|t| t.uri.user)
            .map(|u| header::percent_decode(u).into_owned());
        if to_user.as_deref() != Some(aor.1.as_bytes()) {
            return self.answer(now, key, msg, input, LocalResponse::new(403));
        }
        let unix = self.unix(now);
        if let Err(code) = self.apply_contacts(snap, svc, input, msg, &aor, unix) {
            return self.answer(now, key, msg, input, LocalResponse::new(code));
        }
        let mut resp = LocalResponse::new(200);
        for b in svc.registrations.lookup(&aor, unix) {
            let left = b.expires_at.saturating_sub(unix);
            resp = resp.header("Contact", format!("<{}>;expires={left}", b.contact));
        }
        self.answer(now, key, msg, input, resp);
    }

    /// Stores, refreshes or removes the REGISTER's contacts; `Err(code)` for a bad request.
    fn apply_contacts(
        &self,
        snap: &Snapshot,
        svc: &Services,
        input: &Input,
        msg: &Message,
        aor: &Aor,
        unix: u64,
    ) -> Result<(), u16> {
        let header_expires = match msg.header(HeaderName::Expires) {
            Some(v) => Some(header::parse_u32(v).map_err(|_| 400u16)?),
            None => None,
        };
        let contacts: Vec<&[u8]> = msg.header_values(HeaderName::Contact).collect();
        if contacts.iter().any(|c| *c == b"*") {
            if contacts.len() != 1 || header_expires != Some(0) {
                return Err(400);
            }
            svc.registrations.remove_all(aor);
            return Ok(());
        }
        let (min, max) = (snap.proxy.register_min_expires, snap.proxy.register_max_expires);
        let call_id = String::from_utf8_lossy(msg.call_id().unwrap_or(b"")).into_owned();
        let cseq = msg.cseq().map(|c| c.seq).unwrap_or(0);
        for c in contacts {
            let na = parse_name_addr(c).map_err(|_| 400u16)?;
            let asked = match na.params.get("expires").flatten() {
                Some(v) => header::parse_u32(v).map_err(|_| 400u16)?,
                None => header_expires.unwrap_or(DEFAULT_EXPIRES),
            };
            let expires = if asked == 0 {
                0
            } else {
                asked.clamp(min.max(1), max.max(min).max(1))
            };
            let binding = Binding {
                contact: String::from_utf8_lossy(na.uri_raw).into_owned(),
                expires_at: unix + u64::from(expires),
                source: input.src,
                transport: input.transport,
                conn: input.conn,
                call_id: call_id.clone(),
                cseq,
            };
            svc.registrations.upsert(aor.clone(), binding, expires, unix);
        }
        Ok(())
    }
}

/// The registration key of an authenticated caller: its realm and digest user.
pub(super) fn aor_of(snap: &Snapshot, caller: Caller) -> Option<Aor> {
    match caller {
        Caller::Server(s) => {
            let server = snap.servers.get(s.0 as usize)?;
            Some((server.auth.realm.to_ascii_lowercase(), server.auth.user.clone()?))
        }
        Caller::Carrier(c) => {
            let carrier = snap.carriers.get(c.0 as usize)?;
            let user = if carrier.username.is_empty() {
                &carrier.auth_id
            } else {
                &carrier.username
            };
            Some((snap.proxy.realm.to_ascii_lowercase(), user.clone()))
        }
        Caller::Unknown => None,
    }
}

/// `uri` with its user part set to `user` (inserted when it has none).
pub(super) fn with_user(uri: &str, user: &str) -> String {
    let Ok(parsed) = header::parse_uri(uri.as_bytes()) else {
        return uri.to_owned();
    };
    let base = uri.as_ptr() as usize;
    match parsed.user {
        Some(u) => {
            let start = u.as_ptr() as usize - base;
            let end = match parsed.password {
                Some(p) => p.as_ptr() as usize - base + p.len(),
                None => start + u.len(),
            };
            format!("{}{}{}", &uri[..start], user, &uri[end..])
        }
        None => match uri.find(':') {
            Some(i) => format!("{}{}@{}", &uri[..=i], user, &uri[i + 1..]),
            None => uri.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::with_user;

    #[test]
    fn sets_the_user_part() {
        assert_eq!(
            with_user("sip:pbx1@10.0.0.1:5062;transport=tcp", "4155550100"),
            "sip:4155550100@10.0.0.1:5062;transport=tcp"
        );
        assert_eq!(with_user("sip:10.0.0.1", "+1415"), "sip:+1415@10.0.0.1");
        assert_eq!(with_user("sip:a:pw@h", "b"), "sip:b@h");
    }
}
