//! The party headers of a forwarded request, as splices: a target's header plan
//! (`policy::compose::Compose`: From, To, P-Asserted-Identity, Remote-Party-ID), and the From/To
//! translation that keeps a dialog consistent for both sides once they were rewritten (Kamailio
//! uac "restore" mode): requests get the values their receiver knows, responses the values their
//! request came with.

use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};

use crate::policy::compose::{Compose, Party, PartyEdit, PartyHeader};
use crate::sip::header::{self, NameAddr, Scheme};
use crate::sip::{Editor, HeaderName, Message};

/// Parameters of a Remote-Party-ID we add (draft-ietf-sip-privacy-04, as FreeSWITCH and
/// Kamailio write it).
const RPID_PARAMS: &str = ";party=calling;screen=yes;privacy=off";

/// From and To values (tags excluded) to put on a forwarded in-dialog request; each keeps the
/// tag the request carries.
#[derive(Debug, Clone, Copy)]
pub struct DialogIds<'a> {
    /// The From value, without tag.
    pub from: &'a [u8],
    /// The To value, without tag.
    pub to: &'a [u8],
}

/// Applies a target's header plan.
pub(super) fn apply_compose(msg: &Message, c: &Compose, ed: &mut Editor<'_>) {
    edit_party(msg, HeaderName::From, &c.from, ed);
    edit_party(msg, HeaderName::To, &c.to, ed);
    party_header(HeaderName::PAssertedIdentity, &c.pai, "", ed);
    party_header(HeaderName::RemotePartyId, &c.rpid, RPID_PARAMS, ed);
}

/// Puts `ids` on a request's From and To, keeping the request's own tags.
pub(super) fn apply_ids(msg: &Message, ids: &DialogIds<'_>, ed: &mut Editor<'_>) {
    for (name, value) in [(HeaderName::From, ids.from), (HeaderName::To, ids.to)] {
        let Some(h) = msg.headers_named(name).next() else {
            continue;
        };
        let tag = header::tag_of(msg.slice(h.value));
        ed.replace_header_value(h, &with_tag(value, tag));
    }
}

/// A response relayed upstream carries the From and To its request came with (the To with the
/// response's tag when the request had none), undoing any rewrite made on the way down. No edit
/// when they already match, which is every call whose From/To were not rewritten.
pub fn restore_ids(resp: &Message, req: &Message, ed: &mut Editor<'_>) {
    if let (Some(h), Some(want)) = (
        resp.headers_named(HeaderName::From).next(),
        req.header(HeaderName::From),
    ) {
        if resp.slice(h.value) != want {
            ed.replace_header_value(h, want);
        }
    }
    let (Some(h), Some(req_to)) = (
        resp.headers_named(HeaderName::To).next(),
        req.header(HeaderName::To),
    ) else {
        return;
    };
    let got = resp.slice(h.value);
    if got == req_to {
        return;
    }
    // The usual answer: the request's To with the callee's tag appended; no allocation then.
    let tag = match header::tag_of(req_to) {
        None => header::tag_of(got),
        Some(_) => None,
    };
    let tagged = got.strip_prefix(req_to).and_then(|r| r.strip_prefix(b";tag="));
    if tag.is_some() && tagged == tag {
        return;
    }
    ed.replace_header_value(h, &with_tag(req_to, tag));
}

/// A From/To value without its `tag` parameter (other parameters kept).
pub fn without_tag(value: &[u8]) -> Bytes {
    let value = header::trim(value);
    let Ok(na) = header::parse_name_addr(value) else {
        return Bytes::copy_from_slice(value);
    };
    let params = na.params.0;
    let head = value
        .get(..value.len().saturating_sub(params.len()))
        .unwrap_or(value);
    let mut out = BytesMut::with_capacity(value.len());
    out.put_slice(head);
    for (name, v) in na.params.iter() {
        if name.eq_ignore_ascii_case(b"tag") {
            continue;
        }
        out.put_u8(b';');
        out.put_slice(name);
        if let Some(v) = v {
            out.put_u8(b'=');
            out.put_slice(v);
        }
    }
    out.freeze()
}

fn with_tag(value: &[u8], tag: Option<&[u8]>) -> Bytes {
    let mut out = BytesMut::with_capacity(value.len() + 24);
    out.put_slice(value);
    if let Some(t) = tag {
        out.put_slice(b";tag=");
        out.put_slice(t);
    }
    out.freeze()
}

/// Rewrites the display name, user and host of the first `name` header as `e` says.
fn edit_party(msg: &Message, name: HeaderName, e: &PartyEdit, ed: &mut Editor<'_>) {
    if e.is_empty() {
        return;
    }
    let Some(h) = msg.headers_named(name).next() else {
        return;
    };
    let Ok(na) = header::parse_name_addr(msg.slice(h.value)) else {
        return;
    };
    ed.replace_header_value(h, rebuild(&na, e).as_bytes());
}

/// `display <uri>;params` with the edited parts; URI parameters and headers kept. A non-SIP
/// URI (tel:) keeps its URI: only the display name changes.
fn rebuild(na: &NameAddr<'_>, e: &PartyEdit) -> String {
    let mut s = String::with_capacity(96);
    match e.display.as_deref() {
        Some("") => {}
        Some(d) => {
            push_quoted(&mut s, d);
            s.push(' ');
        }
        None => {
            if let Some(d) = na.display.filter(|d| !d.is_empty()) {
                s.push_str(&String::from_utf8_lossy(d));
                s.push(' ');
            }
        }
    }
    s.push('<');
    push_uri(&mut s, na, e);
    s.push('>');
    s.push_str(&String::from_utf8_lossy(na.params.0));
    s
}

fn push_uri(s: &mut String, na: &NameAddr<'_>, e: &PartyEdit) {
    let u = &na.uri;
    let scheme = match u.scheme {
        Scheme::Sip => "sip:",
        Scheme::Sips => "sips:",
        _ => return s.push_str(&String::from_utf8_lossy(na.uri_raw)),
    };
    s.push_str(scheme);
    let user = e.user.as_deref().map(str::as_bytes).or(u.user);
    if let Some(user) = user.filter(|u| !u.is_empty()) {
        s.push_str(&String::from_utf8_lossy(user));
        if let (None, Some(pw)) = (&e.user, u.password) {
            s.push(':');
            s.push_str(&String::from_utf8_lossy(pw));
        }
        s.push('@');
    }
    match &e.host {
        Some(h) => s.push_str(h),
        None => {
            s.push_str(&String::from_utf8_lossy(u.host_raw));
            if let Some(p) = u.port {
                let _ = write!(s, ":{p}");
            }
        }
    }
    s.push_str(&String::from_utf8_lossy(u.params.0));
    if let Some(hd) = u.headers {
        s.push('?');
        s.push_str(&String::from_utf8_lossy(hd));
    }
}

/// P-Asserted-Identity / Remote-Party-ID: kept, removed, or replaced by one value.
fn party_header(name: HeaderName, what: &PartyHeader, params: &str, ed: &mut Editor<'_>) {
    match what {
        PartyHeader::Keep => {}
        PartyHeader::Remove => {
            ed.remove_all(name);
        }
        PartyHeader::Set(p) => {
            ed.remove_all(name);
            let mut v = party_value(p);
            v.push_str(params);
            ed.append_header(name.as_str(), v.as_bytes());
        }
    }
}

/// `"display" <sip:user@host>`.
pub fn party_value(p: &Party) -> String {
    let mut s = String::with_capacity(64);
    if let Some(d) = p.display.as_deref().filter(|d| !d.is_empty()) {
        push_quoted(&mut s, d);
        s.push(' ');
    }
    let _ = write!(s, "<sip:{}@{}>", p.user, p.host);
    s
}

/// A quoted-string (RFC 3261 §25.1): `"` and `\` escaped as quoted-pairs.
fn push_quoted(s: &mut String, d: &str) {
    s.push('"');
    for c in d.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
}

#[cfg(test)]
mod tests;
