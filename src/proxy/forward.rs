//! Building what we send downstream: the forwarded request (RFC 3261 §16.6: Request-URI,
//! Max-Forwards, our Via, Record-Route, Route popping, added headers, caller ID), and the
//! CANCEL / ACK / BYE we generate for a branch. All edits are splices over the original bytes.

use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::config::Transport;
use crate::policy::compose::Compose;
use crate::policy::Identity;
use crate::sip::header::{self, split_list};
use crate::sip::{Editor, HeaderName, Message};

mod party;

pub use party::{restore_ids, without_tag, DialogIds};

/// Our branch cookie: RFC 3261 magic plus a marker so our own branches are recognisable.
pub const BRANCH_PREFIX: &str = "z9hG4bK-tg";

/// Appends the branch parameter value for a branch id.
pub fn push_branch(s: &mut String, id: u64) {
    s.push_str(BRANCH_PREFIX);
    push_hex(s, id);
}

/// Appends `n` as 16 lower-case hex digits (no `format!` on the hot path).
pub fn push_hex(s: &mut String, n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..16).rev() {
        s.push(char::from(HEX[((n >> (i * 4)) & 0xf) as usize]));
    }
}

/// Appends a number in decimal.
pub fn push_u64(s: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.extend(buf[i..].iter().map(|b| char::from(*b)));
}

/// The branch id of one of our branches, `None` for anybody else's.
pub fn branch_id(branch: &[u8]) -> Option<u64> {
    let hex = branch.strip_prefix(BRANCH_PREFIX.as_bytes())?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// How to rewrite one forwarded request.
pub struct Forward<'a> {
    /// New Request-URI (initial requests), `None`: keep.
    pub ruri: Option<&'a str>,
    /// Our Via value (`SIP/2.0/UDP host:port;branch=...`).
    pub via: &'a str,
    /// Record-Route values to add on top (initial requests).
    pub record_route: &'a [String],
    /// How many leading Route values are ours and must be removed.
    pub pop_routes: usize,
    /// Header lines to add.
    pub headers: &'a [(String, String)],
    /// Caller ID for From and P-Asserted-Identity.
    pub identity: Option<&'a Identity>,
    /// The target's header plan (`outbound_parameters`); when set, `identity` is not used
    /// (the plan already carries it).
    pub compose: Option<&'a Compose>,
    /// In-dialog requests of a dialog whose From/To were rewritten: the values this request
    /// must carry on its way on (tags kept).
    pub ids: Option<DialogIds<'a>>,
    /// Host for a P-Asserted-Identity we add.
    pub pai_host: &'a str,
    /// Realms whose `Proxy-Authorization` is ours to consume (removed before forwarding, as
    /// Kamailio's `consume_credentials`): the PBX's credentials never leak to a carrier.
    pub our_realms: &'a [&'a str],
}

/// Applies a `Forward` to a received request; `src` stamps received/rport (RFC 3581).
pub fn forward(msg: &Message, src: SocketAddr, f: &Forward<'_>) -> Bytes {
    let mut ed = Editor::new(msg);
    if let Some(ruri) = f.ruri {
        ed.set_request_uri(ruri.as_bytes());
    }
    max_forwards(msg, &mut ed);
    stamp_received(msg, src, &mut ed);
    pop_routes(msg, f.pop_routes, &mut ed);
    consume_credentials(msg, f.our_realms, &mut ed);
    ed.prepend_via(f.via.as_bytes());
    // Inserts at one offset keep their order, so the first value ends up on top.
    for rr in f.record_route {
        ed.prepend_header("Record-Route", rr.as_bytes());
    }
    if let Some(c) = f.compose {
        party::apply_compose(msg, c, &mut ed);
    } else if let Some(id) = f.identity {
        apply_identity(msg, id, f.pai_host, &mut ed);
    }
    if let Some(ids) = &f.ids {
        party::apply_ids(msg, ids, &mut ed);
    }
    for (name, value) in f.headers {
        ed.append_header(name, value.as_bytes());
    }
    ed.finish()
}

/// Decrements Max-Forwards, or adds `Max-Forwards: 70` (RFC 3261 §16.6 step 3).
fn max_forwards(msg: &Message, ed: &mut Editor<'_>) {
    let Some(h) = msg.headers_named(HeaderName::MaxForwards).next() else {
        ed.append_header("Max-Forwards", b"70");
        return;
    };
    let n = header::parse_u32(msg.slice(h.value))
        .unwrap_or(70)
        .saturating_sub(1);
    let mut v = String::with_capacity(3);
    push_u64(&mut v, u64::from(n));
    ed.replace_header_value(h, v.as_bytes());
}

/// RFC 3581 / RFC 3261 §18.2.1: add `received` when the top Via's host differs from the source
/// address, and fill a bare `rport` with the source port.
fn stamp_received(msg: &Message, src: SocketAddr, ed: &mut Editor<'_>) {
    let Some(raw) = msg.header_values(HeaderName::Via).next() else {
        return;
    };
    let Ok(via) = header::parse_via(raw) else { return };
    let Some(end) = msg.span_of(raw).map(|s| s.end as usize) else {
        return;
    };
    let mut add = String::new();
    let host_is_src = match via.host {
        header::Host::V4(a) => std::net::IpAddr::V4(a) == src.ip(),
        header::Host::V6(a) => std::net::IpAddr::V6(a) == src.ip(),
        header::Host::Name(_) => false,
    };
    let rport = via.rport();
    if matches!(rport, Some(None)) {
        if let Some(span) = rport_span(msg, &via.params) {
            let mut v = String::with_capacity(11);
            v.push_str("rport=");
            push_u64(&mut v, u64::from(src.port()));
            ed.replace_copy(span, v.as_bytes());
        }
    }
    if (!host_is_src || rport.is_some()) && via.received().is_none() {
        let _ = write!(add, ";received={}", src.ip());
    }
    if !add.is_empty() {
        ed.insert_copy(end, add.as_bytes());
    }
}

/// The span of a bare `rport` parameter among a Via's parameters.
fn rport_span(msg: &Message, params: &header::Params<'_>) -> Option<crate::sip::Span> {
    let (name, _) = params
        .iter()
        .find(|(n, v)| v.is_none() && n.eq_ignore_ascii_case(b"rport"))?;
    msg.span_of(name)
}

/// Removes `Proxy-Authorization` headers answering a challenge of one of our realms.
fn consume_credentials(msg: &Message, realms: &[&str], ed: &mut Editor<'_>) {
    for h in msg.headers_named(HeaderName::ProxyAuthorization) {
        let ours = header::parse_credentials(msg.slice(h.value))
            .is_ok_and(|c| realms.iter().any(|r| c.realm.eq_ignore_ascii_case(r.as_bytes())));
        if ours {
            ed.remove_header(h);
        }
    }
}

/// Removes the first `n` Route values (ours), keeping the others on their lines.
fn pop_routes(msg: &Message, mut n: usize, ed: &mut Editor<'_>) {
    for h in msg.headers_named(HeaderName::Route) {
        if n == 0 {
            return;
        }
        let count = split_list(msg.slice(h.value)).count();
        if count <= n {
            n -= count;
            ed.remove_header(h);
        } else {
            let values: Vec<&[u8]> = split_list(msg.slice(h.value)).collect();
            let rest = values[n..].join(&b", "[..]);
            ed.replace_header_value(h, &rest);
            n = 0;
        }
    }
}

/// Caller ID (SPEC §4): From display and user, and P-Asserted-Identity (added or replaced).
fn apply_identity(msg: &Message, id: &Identity, pai_host: &str, ed: &mut Editor<'_>) {
    if let Some(h) = msg.headers_named(HeaderName::From).next() {
        if let Ok(from) = header::parse_name_addr(msg.slice(h.value)) {
            let value = name_addr(id, from.uri.host_raw, from.uri.port, from.params.0);
            ed.replace_header_value(h, value.as_bytes());
        }
    }
    ed.remove_all(HeaderName::PAssertedIdentity);
    let pai = name_addr(id, pai_host.as_bytes(), None, b"");
    ed.append_header("P-Asserted-Identity", pai.as_bytes());
}

/// `"display" <sip:user@host[:port]>;params`.
fn name_addr(id: &Identity, host: &[u8], port: Option<u16>, params: &[u8]) -> String {
    let mut s = String::with_capacity(64);
    if let Some(d) = &id.display {
        let _ = write!(s, "\"{}\" ", d.replace(['"', '\\'], ""));
    }
    let _ = write!(s, "<sip:{}@{}", id.user, String::from_utf8_lossy(host));
    if let Some(p) = port {
        let _ = write!(s, ":{p}");
    }
    s.push('>');
    let params = header::trim(params);
    if !params.is_empty() {
        if !params.starts_with(b";") {
            s.push(';');
        }
        s.push_str(&String::from_utf8_lossy(params));
    }
    s
}

/// Our Via value for a branch.
pub fn via(transport: Transport, host: &str, port: u16, branch_id: u64) -> String {
    let mut s = String::with_capacity(48 + host.len());
    s.push_str("SIP/2.0/");
    s.push_str(transport.via_name());
    s.push(' ');
    s.push_str(host);
    s.push(':');
    push_u64(&mut s, u64::from(port));
    s.push_str(";branch=");
    push_branch(&mut s, branch_id);
    s
}

/// CANCEL for a forwarded INVITE (RFC 3261 §9.1): same Request-URI, top Via, Call-ID, From, To
/// and Route; CSeq number with method CANCEL.
pub fn cancel(invite: &Message) -> Bytes {
    hop_request(invite, "CANCEL", None)
}

/// ACK for a non-2xx final response to a forwarded INVITE (RFC 3261 §17.1.1.3): the To (with
/// tag) comes from the response.
pub fn ack(invite: &Message, response: &Message) -> Bytes {
    hop_request(invite, "ACK", response.header(HeaderName::To))
}

fn hop_request(invite: &Message, method: &str, to: Option<&[u8]>) -> Bytes {
    let mut b = BytesMut::with_capacity(512);
    let uri = invite.request_uri().unwrap_or(b"");
    put_line(&mut b, &[method.as_bytes(), b" ", uri, b" SIP/2.0"]);
    if let Some(v) = invite.header_values(HeaderName::Via).next() {
        put_line(&mut b, &[b"Via: ", v]);
    }
    for h in invite.headers_named(HeaderName::Route) {
        put_line(&mut b, &[b"Route: ", invite.slice(h.value)]);
    }
    for (name, value) in [
        ("From", invite.header(HeaderName::From)),
        ("To", to.or(invite.header(HeaderName::To))),
        ("Call-ID", invite.header(HeaderName::CallId)),
    ] {
        put_line(&mut b, &[name.as_bytes(), b": ", value.unwrap_or(b"")]);
    }
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
    put_line(
        &mut b,
        &[b"CSeq: ", seq.to_string().as_bytes(), b" ", method.as_bytes()],
    );
    b.put_slice(b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    b.freeze()
}

/// ACK or BYE for a 2xx that arrived on a branch we had already given up (CANCEL/200 race,
/// RFC 3261 §16.7 / §15): sent in the answering side's dialog, to its Contact, with CSeq
/// `invite + seq_offset`.
pub fn in_dialog(invite: &Message, ok: &Message, method: &str, via: &str, seq_offset: u32) -> Bytes {
    let mut b = BytesMut::with_capacity(512);
    let contact = ok
        .header_values(HeaderName::Contact)
        .next()
        .and_then(|c| header::parse_name_addr(c).ok().map(|n| n.uri_raw))
        .or(invite.request_uri())
        .unwrap_or(b"");
    put_line(&mut b, &[method.as_bytes(), b" ", contact, b" SIP/2.0"]);
    put_line(&mut b, &[b"Via: ", via.as_bytes()]);
    for (name, value) in [
        ("From", invite.header(HeaderName::From)),
        ("To", ok.header(HeaderName::To)),
        ("Call-ID", invite.header(HeaderName::CallId)),
    ] {
        put_line(&mut b, &[name.as_bytes(), b": ", value.unwrap_or(b"")]);
    }
    let seq = invite
        .cseq()
        .map(|c| c.seq)
        .unwrap_or(1)
        .saturating_add(seq_offset);
    put_line(
        &mut b,
        &[b"CSeq: ", seq.to_string().as_bytes(), b" ", method.as_bytes()],
    );
    b.put_slice(b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    b.freeze()
}

fn put_line(b: &mut BytesMut, parts: &[&[u8]]) {
    for p in parts {
        b.put_slice(p);
    }
    b.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_round_trip() {
        let mut b = String::new();
        push_branch(&mut b, 0xdead_beef);
        assert!(b.starts_with("z9hG4bK"));
        assert_eq!(branch_id(b.as_bytes()), Some(0xdead_beef));
        assert_eq!(branch_id(b"z9hG4bK776asdhds"), None);
    }
}
