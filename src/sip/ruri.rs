//! The user part of a Request-URI, found by a small local scan (the editor must not depend on
//! the full URI grammar to rewrite the number of every relayed INVITE).
//!
//! For `sip:`/`sips:` (and other `scheme:userinfo@host` URIs) the userinfo ends at the first
//! `@`: RFC 3261 §25.1 allows `@` unescaped nowhere else in a URI (not in host, parameters or
//! headers), while the user part itself may hold `;`, `?`, `/`... (RFC 4475 semiuri, intmeth).
//! The user ends at the first `:` of the userinfo (the password separator). For `tel:` the
//! number runs from the colon to the first `;`.

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use memchr::memchr;

/// Where in `uri` to splice, and what, so that its user part becomes `user`.
/// `None` when `uri` has no scheme colon.
pub(crate) fn user_splice(uri: &[u8], user: &[u8]) -> Option<(Range<usize>, Bytes)> {
    let colon = memchr(b':', uri)?;
    let after = colon + 1;
    let rest = uri.get(after..)?;
    if uri.get(..colon)?.eq_ignore_ascii_case(b"tel") {
        let end = memchr(b';', rest).unwrap_or(rest.len());
        return Some((after..after + end, Bytes::copy_from_slice(user)));
    }
    match memchr(b'@', rest) {
        Some(_) if user.is_empty() => {
            let at = memchr(b'@', rest)?;
            Some((after..after + at + 1, Bytes::new()))
        }
        Some(at) => {
            let user_end = memchr(b':', rest.get(..at)?).unwrap_or(at);
            Some((after..after + user_end, Bytes::copy_from_slice(user)))
        }
        None if user.is_empty() => None,
        None => {
            let mut b = BytesMut::with_capacity(user.len() + 1);
            b.extend_from_slice(user);
            b.extend_from_slice(b"@");
            Some((after..after, b.freeze()))
        }
    }
}

/// The user part of a URI as the editor sees it (`None` when there is none).
pub(crate) fn user_of(uri: &[u8]) -> Option<&[u8]> {
    let (range, _) = user_splice(uri, b"x")?;
    if range.is_empty() {
        return None;
    }
    uri.get(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(uri: &str, user: &str) -> String {
        let (r, with) = user_splice(uri.as_bytes(), user.as_bytes()).unwrap();
        let mut out = uri.as_bytes().to_vec();
        out.splice(r, with.iter().copied());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn splices() {
        assert_eq!(edit("sip:a@b", "c"), "sip:c@b");
        assert_eq!(edit("sip:b", "c"), "sip:c@b");
        assert_eq!(edit("sips:a:pw@b;x=y?h=v", "c"), "sips:c:pw@b;x=y?h=v");
        assert_eq!(edit("tel:+1555;ext=1", "+1666"), "tel:+1666;ext=1");
        assert_eq!(edit("TEL:+1555", "+1666"), "TEL:+1666");
        assert_eq!(
            edit("sip:user;par=u%40example.net@example.com", "v"),
            "sip:v@example.com"
        );
        assert_eq!(edit("sip:a@b", ""), "sip:b");
        assert!(user_splice(b"nocolon", b"x").is_none());
        assert!(user_splice(b"sip:b", b"").is_none());
    }

    #[test]
    fn users() {
        let odd = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!@example.com";
        assert_eq!(
            user_of(odd.as_bytes()),
            Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..])
        );
        assert_eq!(user_of(b"sip:example.com"), None);
        assert_eq!(user_of(b"tel:+1555"), Some(&b"+1555"[..]));
    }
}
