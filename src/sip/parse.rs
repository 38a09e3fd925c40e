//! Zero-copy message scanner: start line, header index (compact forms, folding, comma lists),
//! Content-Length and body. memchr splits lines; nothing is copied.
//!
//! Cost per message: one `Vec<Header>` (pre-sized) and nothing else; no UTF-8 validation, no
//! lowercased copies (`HeaderName::from_bytes` matches the canonical spelling as is and folds others
//! on a stack buffer).

use bytes::Bytes;
use memchr::memchr;

use super::header;
use super::message::{Header, Message, Span};
use super::name::HeaderName;
use super::startline;

/// Limits that bound what one message may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest message accepted (bytes).
    pub max_message_bytes: usize,
    /// Most header lines accepted.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 65535,
            max_headers: 128,
        }
    }
}

/// Why a message could not be parsed. Each variant says what and where (byte offset);
/// none echoes the packet's bytes (log-flood safe).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Over `Limits::max_message_bytes` (the proxy answers 513 on TCP, drops on UDP).
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Bytes received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Over `Limits::max_headers`.
    #[error("more than {max} header lines")]
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// The request or status line is malformed (RFC 4475 lwsstart, trws, ltgtruri...).
    #[error("malformed start line at offset {at}")]
    StartLine {
        /// Byte offset of the problem.
        at: usize,
    },
    /// A well-formed version other than SIP/2.0 (the proxy answers 505).
    #[error("unsupported SIP version")]
    Version,
    /// A header line without colon, with a non-token name, or a fold before any header.
    #[error("malformed header line at offset {at}")]
    HeaderLine {
        /// Byte offset of the line.
        at: usize,
    },
    /// Kept for callers; the datagram parser treats the end of the buffer as the end of the
    /// headers (RFC 4475 baddn), and the stream framer answers `Incomplete` instead.
    #[error("no end of headers")]
    Truncated,
    /// Content-Length not a number, or two Content-Length headers that disagree.
    #[error("bad Content-Length")]
    ContentLength,
    /// Fewer body bytes than Content-Length announces (RFC 4475 clerr).
    #[error("body shorter than Content-Length")]
    BodyTooShort,
    /// A mandatory header (RFC 3261 §8.1.1) is absent; from `Message::check_core_headers`.
    #[error("missing {0} header")]
    Missing(&'static str),
    /// A single-valued header appears more than once (RFC 4475 §3.3.8 multi01).
    #[error("duplicate {0} header")]
    Duplicate(&'static str),
    /// The CSeq method differs from the request method (RFC 4475 §3.1.2.17/18).
    #[error("CSeq method does not match the request method")]
    CSeqMethod,
}

/// Parses one message out of `buf`.
///
/// Strict: the start line must be exact (RFC 4475 §3.1.2.7–10), Content-Length must be a valid
/// number and the body at least that long. Header presence/cardinality is not checked here: the
/// proxy calls `Message::check_core_headers` (so it can still answer 400 from the parsed index).
pub fn parse(buf: Bytes, limits: &Limits) -> Result<Message, ParseError> {
    check_size(&buf, limits)?;
    let (start, start_end) = startline::parse_start_line(&buf)?;
    let scan = scan_headers(&buf, start_end, limits)?;
    let body = match content_length(&buf, &scan.headers)? {
        Some(n) => fixed_body(&buf, scan.body_start, n)?,
        None => Span::new(scan.body_start, buf.len()),
    };
    Ok(Message {
        start,
        start_line: Span::new(0, start_end),
        headers: scan.headers,
        headers_end: scan.headers_end as u32,
        body,
        buf,
    })
}

/// Best-effort parse of a request that `parse` rejected, so the proxy can still answer it
/// (400 for a bad Content-Length or start line, 505 for a bad version: RFC 3261 §8.2.6 needs
/// the request's Via/From/To/Call-ID/CSeq). The start line is split on whitespace, any version
/// is accepted and the body is left empty. `None` for responses and unreadable header sections.
pub fn parse_for_reply(buf: Bytes, limits: &Limits) -> Option<Message> {
    check_size(&buf, limits).ok()?;
    let (start, start_end) = startline::parse_request_lenient(&buf)?;
    let scan = scan_headers(&buf, start_end, limits).ok()?;
    Some(Message {
        start,
        start_line: Span::new(0, start_end),
        headers: scan.headers,
        headers_end: scan.headers_end as u32,
        body: Span::new(scan.body_start, scan.body_start),
        buf,
    })
}

fn check_size(buf: &[u8], limits: &Limits) -> Result<(), ParseError> {
    let max = limits.max_message_bytes.min(u32::MAX as usize);
    if buf.len() > max {
        return Err(ParseError::TooLarge { len: buf.len(), max });
    }
    Ok(())
}

/// The line starting at `pos`: (end of its content, start of the next line). The content
/// excludes the CRLF (or bare LF); a last line without LF runs to the end of the buffer.
pub(crate) fn line_at(b: &[u8], pos: usize) -> (usize, usize) {
    let rest = b.get(pos..).unwrap_or_default();
    match memchr(b'\n', rest) {
        Some(i) => {
            let nl = pos + i;
            let end = if i > 0 && b.get(nl - 1) == Some(&b'\r') {
                nl - 1
            } else {
                nl
            };
            (end, nl + 1)
        }
        None => (b.len(), b.len()),
    }
}

/// The header section, indexed.
struct Scan {
    headers: Vec<Header>,
    /// Offset of the blank line (or of the end of the buffer when there is none).
    headers_end: usize,
    /// Offset just past the blank line.
    body_start: usize,
}

fn scan_headers(b: &[u8], mut pos: usize, limits: &Limits) -> Result<Scan, ParseError> {
    let mut headers: Vec<Header> = Vec::with_capacity(20);
    while pos < b.len() {
        let (end, next) = line_at(b, pos);
        if end == pos {
            return Ok(Scan {
                headers,
                headers_end: pos,
                body_start: next,
            });
        }
        if matches!(b.get(pos), Some(b' ' | b'\t')) {
            let last = headers.last_mut().ok_or(ParseError::HeaderLine { at: pos })?;
            fold_into(b, last, pos, end, next);
        } else {
            if headers.len() >= limits.max_headers {
                return Err(ParseError::TooManyHeaders {
                    max: limits.max_headers,
                });
            }
            headers.push(header_line(b, pos, end, next)?);
        }
        pos = next;
    }
    // RFC 4475 baddn.dat: the datagram ends without the blank line; its end ends the headers.
    Ok(Scan {
        headers,
        headers_end: b.len(),
        body_start: b.len(),
    })
}

/// `name *WS ":" value` on the line `pos..end` (terminator up to `next`). The name is scanned
/// byte by byte against the token table (no separate colon search: names are short).
fn header_line(b: &[u8], pos: usize, end: usize, next: usize) -> Result<Header, ParseError> {
    let line = b.get(pos..end).unwrap_or_default();
    let name_len = header::take_while(line, 0, startline::is_token_byte);
    let colon = header::take_while(line, name_len, |c| matches!(c, b' ' | b'\t'));
    if name_len == 0 || line.get(colon) != Some(&b':') {
        return Err(ParseError::HeaderLine { at: pos });
    }
    Ok(Header {
        name: HeaderName::from_bytes(line.get(..name_len).unwrap_or_default()),
        name_span: Span::new(pos, pos + name_len),
        value: trimmed(b, pos + colon + 1, end),
        line: Span::new(pos, next),
    })
}

/// A continuation line (starts with SP/HTAB) extends the previous header's value and line.
fn fold_into(b: &[u8], last: &mut Header, pos: usize, end: usize, next: usize) {
    let more = trimmed(b, pos, end);
    if !more.is_empty() {
        if last.value.is_empty() {
            last.value = more;
        } else {
            last.value.end = more.end;
        }
    }
    last.line.end = next as u32;
}

/// The span of `b[start..end]` without surrounding linear whitespace (SP, HTAB, CR, LF).
fn trimmed(b: &[u8], start: usize, end: usize) -> Span {
    let Some(s) = b.get(start..end) else {
        return Span::new(end, end);
    };
    let (from, to) = header::trim_bounds(s);
    Span::new(start + from, start + to)
}

/// The Content-Length, if any header gives one: every such header must hold a valid number,
/// and all of them the same one (RFC 4475 ncl, mcl01).
fn content_length(b: &[u8], headers: &[Header]) -> Result<Option<usize>, ParseError> {
    let mut found = None;
    for h in headers.iter().filter(|h| h.name == HeaderName::ContentLength) {
        let v = b.get(h.value.range()).unwrap_or_default();
        let n = header::parse_u32(v).map_err(|_| ParseError::ContentLength)?;
        if found.is_some_and(|f| f != n) {
            return Err(ParseError::ContentLength);
        }
        found = Some(n);
    }
    Ok(found.map(|n| n as usize))
}

/// The body of exactly `n` bytes at `start`; bytes past it are ignored (RFC 3261 §18.3).
fn fixed_body(b: &[u8], start: usize, n: usize) -> Result<Span, ParseError> {
    let end = start.checked_add(n).ok_or(ParseError::BodyTooShort)?;
    if end > b.len() {
        return Err(ParseError::BodyTooShort);
    }
    Ok(Span::new(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::testdata;

    fn parse_str(s: &str) -> Result<Message, ParseError> {
        Message::parse(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn text(m: &Message, s: Span) -> &str {
        std::str::from_utf8(m.slice(s)).unwrap()
    }

    #[test]
    fn carrier_invite_every_span() {
        let m = Message::parse(Bytes::from_static(testdata::INVITE_SDP)).unwrap();
        assert_eq!(m.method(), Some(crate::sip::Method::Invite));
        assert_eq!(
            m.request_uri(),
            Some(&b"sip:+14155550100@203.0.113.10:5060;user=phone"[..])
        );
        assert_eq!(text(&m, m.start_line), testdata::INVITE_SDP_START);
        let got: Vec<(&str, &str)> = m
            .headers()
            .iter()
            .map(|h| (text(&m, h.name_span), text(&m, h.value)))
            .collect();
        assert_eq!(got, testdata::INVITE_SDP_HEADERS);
        for h in m.headers() {
            let line = text(&m, h.line);
            assert!(line.starts_with(text(&m, h.name_span)) && line.ends_with("\r\n"));
        }
        assert_eq!(m.body(), testdata::INVITE_SDP_BODY.as_bytes());
        assert_eq!(&m.bytes()[m.headers_end()..m.headers_end() + 2], b"\r\n");
        assert_eq!(m.headers_end() + 2, m.body_span().start as usize);
        assert_eq!(m.wire().len(), testdata::INVITE_SDP.len());
        assert!(testdata::INVITE_SDP.len() > 850, "{}", testdata::INVITE_SDP.len());
    }

    /// What an answered call keeps of its INVITE: start line, From and To, nothing else.
    #[test]
    fn parties_only_keeps_start_line_from_and_to() {
        let m = Message::parse(Bytes::from_static(testdata::INVITE_SDP)).unwrap();
        let kept = m.parties_only();
        assert_eq!(kept.request_uri(), m.request_uri());
        assert_eq!(kept.header(HeaderName::From), m.header(HeaderName::From));
        assert_eq!(kept.header(HeaderName::To), m.header(HeaderName::To));
        assert_eq!(kept.headers().len(), 2);
        assert!(kept.body().is_empty());
        assert!(kept.bytes().len() < testdata::INVITE_SDP.len() / 3);
        let compact = parse_str("INVITE sip:a@b SIP/2.0\r\nf: <sip:x@y>;tag=1\r\nt: <sip:a@b>\r\n\r\n")
            .unwrap()
            .parties_only();
        assert_eq!(compact.header(HeaderName::From), Some(&b"<sip:x@y>;tag=1"[..]));
        assert_eq!(compact.header(HeaderName::To), Some(&b"<sip:a@b>"[..]));
    }

    #[test]
    fn every_sample_parses() {
        for (name, raw) in testdata::ALL {
            let m = Message::parse(Bytes::from_static(raw)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(m.check_core_headers().is_ok(), "{name}");
        }
    }

    #[test]
    fn compact_forms_and_folding() {
        let m = Message::parse(Bytes::from_static(testdata::FOLDED_COMPACT)).unwrap();
        assert_eq!(m.call_id().unwrap(), b"fold-1@example.com");
        assert_eq!(
            m.header(HeaderName::From),
            Some(&b"<sip:alice@example.com>;tag=1"[..])
        );
        assert_eq!(
            m.header(HeaderName::Subject),
            Some(&b"folded\r\n  over two lines"[..])
        );
        let vias: Vec<&[u8]> = m.header_values(HeaderName::Via).collect();
        assert_eq!(vias.len(), 2);
        assert_eq!(vias[1], b"SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKb");
        assert_eq!(m.header(HeaderName::ContentLength), Some(&b"0"[..]));
        let subj = m.headers_named(HeaderName::Subject).next().unwrap();
        assert!(text(&m, subj.line).ends_with("lines\r\n"));
    }

    #[test]
    fn comma_lists_and_ipv6() {
        let m = Message::parse(Bytes::from_static(testdata::RESPONSE_MULTI_VIA)).unwrap();
        let vias: Vec<&[u8]> = m.header_values(HeaderName::Via).collect();
        assert_eq!(vias.len(), 3);
        assert_eq!(m.status(), Some(200));
        let m = Message::parse(Bytes::from_static(testdata::IPV6_OPTIONS)).unwrap();
        assert_eq!(
            m.header(HeaderName::Via),
            Some(&b"SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK6"[..])
        );
    }

    #[test]
    fn whitespace_before_colon_and_empty_values() {
        let m = parse_str("OPTIONS sip:a@b SIP/2.0\r\nVia  :  x\r\nSubject:\r\nX-E:   \r\n\r\n").unwrap();
        assert_eq!(m.header(HeaderName::Via), Some(&b"x"[..]));
        assert_eq!(m.header(HeaderName::Subject), Some(&b""[..]));
        assert_eq!(m.headers_other(b"x-e").count(), 1);
    }

    #[test]
    fn bare_lf_and_no_blank_line() {
        let m = parse_str("OPTIONS sip:a@b SIP/2.0\nVia: x\nl: 0\n\n").unwrap();
        assert_eq!(m.headers().len(), 2);
        assert_eq!(m.body(), b"");
        let m = parse_str("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nl: 0\r\n").unwrap();
        assert_eq!(m.headers_end(), m.bytes().len());
        assert_eq!(m.body(), b"");
    }

    #[test]
    fn bad_header_lines() {
        let bad = [
            "OPTIONS sip:a@b SIP/2.0\r\n folded-first\r\n\r\n",
            "OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n",
        ];
        for s in bad {
            assert_eq!(parse_str(s).unwrap_err(), ParseError::HeaderLine { at: 25 });
        }
        let e = parse_str("OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n").unwrap_err();
        assert_eq!(e, ParseError::HeaderLine { at: 25 });
        assert!(parse_str("OPTIONS sip:a@b SIP/2.0\r\n: x\r\n\r\n").is_err());
    }

    #[test]
    fn content_length_cases() {
        let base = "MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\n";
        let m = parse_str(&format!("{base}\r\nhello")).unwrap();
        assert_eq!(m.body(), b"hello");
        let m = parse_str(&format!("{base}Content-Length: 3\r\n\r\nhello")).unwrap();
        assert_eq!(m.body(), b"hel");
        assert!(m.wire().ends_with(b"\r\n\r\nhel"));
        let e = |s: String| parse_str(&s).unwrap_err();
        assert_eq!(e(format!("{base}l: 9\r\n\r\nhello")), ParseError::BodyTooShort);
        assert_eq!(e(format!("{base}l: -1\r\n\r\nhello")), ParseError::ContentLength);
        assert_eq!(e(format!("{base}l: 1x\r\n\r\nhello")), ParseError::ContentLength);
        assert_eq!(e(format!("{base}l:\r\n\r\n")), ParseError::ContentLength);
        assert_eq!(
            e(format!("{base}l: 5\r\nContent-Length: 3\r\n\r\nhello")),
            ParseError::ContentLength
        );
        let m = parse_str(&format!("{base}l: 5\r\nContent-Length: 5\r\n\r\nhello")).unwrap();
        assert_eq!(m.check_core_headers(), Err(ParseError::Missing("From")));
    }

    #[test]
    fn limits() {
        let raw = Bytes::from_static(testdata::INVITE_SDP);
        let small = Limits {
            max_message_bytes: 100,
            max_headers: 128,
        };
        assert!(matches!(
            parse(raw.clone(), &small),
            Err(ParseError::TooLarge { max: 100, .. })
        ));
        let few = Limits {
            max_message_bytes: 65535,
            max_headers: 5,
        };
        assert_eq!(
            parse(raw.clone(), &few).unwrap_err(),
            ParseError::TooManyHeaders { max: 5 }
        );
        let n = Message::parse(raw.clone()).unwrap().headers().len();
        let exact = Limits {
            max_message_bytes: raw.len(),
            max_headers: n,
        };
        assert!(parse(raw, &exact).is_ok());
    }

    #[test]
    fn duplicates_and_missing() {
        let dup = "INVITE sip:a@b SIP/2.0\r\nv: x\r\nf: <sip:a@b>;tag=1\r\nt: <sip:b@c>\r\ni: 1\r\n\
                   CSeq: 1 INVITE\r\nTo: <sip:o@c>\r\n\r\n";
        assert_eq!(
            parse_str(dup).unwrap().check_core_headers(),
            Err(ParseError::Duplicate("To"))
        );
        let missing = "INVITE sip:a@b SIP/2.0\r\nv: x\r\nCSeq: 1 INVITE\r\n\r\n";
        assert_eq!(
            parse_str(missing).unwrap().check_core_headers(),
            Err(ParseError::Missing("From"))
        );
    }

    #[test]
    fn reply_parse_of_rejected_requests() {
        let raw = "OPTIONS sip:a@b SIP/7.0\r\nVia: x\r\nl: -3\r\n\r\nbody";
        assert_eq!(parse_str(raw).unwrap_err(), ParseError::Version);
        let m = parse_for_reply(Bytes::from_static(raw.as_bytes()), &Limits::default()).unwrap();
        assert_eq!(m.header(HeaderName::Via), Some(&b"x"[..]));
        assert_eq!(m.body(), b"");
        let lws = "INVITE  sip:a@b  SIP/2.0 \r\nVia: y\r\n\r\n";
        let m = parse_for_reply(Bytes::from_static(lws.as_bytes()), &Limits::default()).unwrap();
        assert_eq!(m.request_uri(), Some(&b"sip:a@b"[..]));
        assert!(parse_for_reply(Bytes::from_static(b"SIP/2.0 200 OK\r\n\r\n"), &Limits::default()).is_none());
    }

    /// The RFC 4475 corpus when present on this machine: no panics, and the classes hold.
    #[test]
    fn torture_corpus_if_present() {
        let dir = std::path::Path::new("/work/shared/torture/rfc4475");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let raw = std::fs::read(e.path()).unwrap();
            let name = e.file_name().into_string().unwrap();
            let r = Message::parse(Bytes::from(raw.clone())).and_then(|m| m.check_core_headers().map(|_| m));
            let must_fail = [
                "clerr", "ncl", "lwsstart", "trws", "lwsruri", "ltgtruri", "badvers",
            ]
            .into_iter()
            .chain(["multi01", "mcl01", "insuf", "bigcode"]); // scalar02/scalarlg: CSeq view
            let must_pass = [
                "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq",
            ]
            .into_iter()
            .chain([
                "dblreq",
                "semiuri",
                "transports",
                "mpart01",
                "unreason",
                "noreason",
                "inv2543",
            ]);
            let stem = name.trim_end_matches(".dat");
            if must_fail.clone().any(|n| n == stem) {
                assert!(r.is_err(), "{name} parsed");
            }
            if must_pass.clone().any(|n| n == stem) {
                assert!(r.is_ok(), "{name}: {:?}", r.err());
            }
            let _ = super::super::framing::frame(&raw, 65535);
        }
    }
}
