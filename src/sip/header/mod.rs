//! Typed views of header values, decoded only when asked (cold sub-grammars, written with nom).
//!
//! Every view borrows from the message buffer: fields are `&[u8]` sub-slices, so
//! `Message::span_of` maps them back to offsets for splice editing.

mod cseq;
pub mod digest;
mod host;
mod lex;
mod name_addr;
mod params;
mod uri;
mod via;

#[cfg(test)]
mod proptests;

pub use cseq::{parse_cseq, CSeq};
pub use digest::{parse_credentials, DigestCredentials};
pub(crate) use lex::{take_while, trim_bounds};
pub use name_addr::{parse_name_addr, tag_of, NameAddr};
pub use params::Params;
pub use uri::{parse_uri, percent_decode, Host, Scheme, Uri};
pub use via::{parse_via, Via};

/// Why a header value could not be decoded. Never echoes the packet's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrammarError {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("malformed {what} at offset {at}")]
    Malformed { what: &'static str, at: usize },
    #[error("number out of range in {0}")]
    Range(&'static str),
}

/// Splits a header value at top-level commas (not inside quotes or `<...>`), trimming
/// whitespace around each element; empty elements are skipped.
pub fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = value;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let end = top_level_comma(rest).unwrap_or(rest.len());
        let item = trim(&rest[..end]);
        rest = if end < rest.len() { &rest[end + 1..] } else { &[] };
        if !item.is_empty() {
            return Some(item);
        }
    })
}

/// Index of the first comma outside quotes and angle brackets. Before the first `"` or `<`
/// nothing is quoted or bracketed, so a SIMD search finds the common case (a Via or Route
/// value) without the byte-by-byte state machine.
fn top_level_comma(s: &[u8]) -> Option<usize> {
    let first = memchr::memchr3(b',', b'"', b'<', s)?;
    if s.get(first) == Some(&b',') {
        return Some(first);
    }
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    for (i, &c) in s.iter().enumerate().skip(first) {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            b'\\' if quoted => escaped = true,
            b'"' if !angle => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => return Some(i),
            _ => {}
        }
    }
    None
}

/// Trims SIP linear whitespace (SP, HTAB, CR, LF) from both ends.
pub fn trim(s: &[u8]) -> &[u8] {
    let (start, end) = trim_bounds(s);
    s.get(start..end).unwrap_or_default()
}

/// Parses a decimal u32 (Max-Forwards, Expires, Content-Length): digits only, no sign, no overflow.
pub fn parse_u32(s: &[u8]) -> Result<u32, GrammarError> {
    let s = trim(s);
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return Err(GrammarError::Malformed {
            what: "number",
            at: 0,
        });
    }
    let n = s.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    u32::try_from(n).map_err(|_| GrammarError::Range("number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lists() {
        let v: Vec<_> = split_list(b"<sip:a,b@x>;p=1 , \"x,y\" <sip:c>,,sip:d").collect();
        assert_eq!(v, vec![&b"<sip:a,b@x>;p=1"[..], b"\"x,y\" <sip:c>", b"sip:d"]);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u32(b" 70 "), Ok(70));
        assert!(parse_u32(b"-1").is_err());
        assert!(parse_u32(b"4294967296").is_err());
        assert!(parse_u32(b"").is_err());
    }
}
