//! The start line (RFC 3261 §7.1, §7.2): `METHOD SP Request-URI SP SIP/2.0` or
//! `SIP/2.0 SP 3DIGIT SP Reason-Phrase`. Strict on separators (RFC 4475 §3.1.2.8–10).

use memchr::memchr;

use super::message::{Method, Span, StartLine};
use super::parse::{line_at, ParseError};

/// RFC 3261 §25.1 `token` characters.
static TOKEN: [bool; 256] = token_table();

const fn token_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
}

/// True for a non-empty RFC 3261 token (methods, header names).
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&c| is_token_byte(c))
}

/// True for an RFC 3261 token character.
#[inline]
pub(crate) fn is_token_byte(c: u8) -> bool {
    TOKEN[c as usize]
}

/// Parses the first line: the decoded start line and the offset just past its line end.
pub(crate) fn parse_start_line(b: &[u8]) -> Result<(StartLine, usize), ParseError> {
    let (end, next) = line_at(b, 0);
    if next == end {
        return Err(ParseError::StartLine { at: end }); // no line end: nothing could follow it
    }
    let line = b.get(..end).unwrap_or_default();
    let start = if starts_with_ci(line, b"SIP/") {
        response(line)?
    } else {
        request(line)?
    };
    Ok((start, next))
}

/// Lenient request line for answering a rejected request: whitespace-separated, any version.
pub(crate) fn parse_request_lenient(b: &[u8]) -> Option<(StartLine, usize)> {
    let (end, next) = line_at(b, 0);
    let line = b.get(..end).unwrap_or_default();
    let m_end = line
        .iter()
        .position(|c| matches!(c, b' ' | b'\t'))
        .unwrap_or(line.len());
    let method = line.get(..m_end)?;
    if !is_token(method) {
        return None;
    }
    let (u_start, u_end) = word_after(line, m_end);
    let (v_start, v_end) = word_after(line, u_end);
    let start = StartLine::Request {
        method: Method::from_bytes(method),
        method_span: Span::new(0, m_end),
        uri: Span::new(u_start, u_end),
        version: Span::new(v_start, v_end),
    };
    Some((start, next))
}

/// The next run of non-whitespace at or after `from`: (start, end).
fn word_after(line: &[u8], from: usize) -> (usize, usize) {
    let ws = |c: &u8| matches!(c, b' ' | b'\t');
    let rest = line.get(from..).unwrap_or_default();
    let start = from + rest.iter().position(|c| !ws(c)).unwrap_or(rest.len());
    let rest = line.get(start..).unwrap_or_default();
    (start, start + rest.iter().position(ws).unwrap_or(rest.len()))
}

fn request(line: &[u8]) -> Result<StartLine, ParseError> {
    let bad = ParseError::StartLine { at: 0 };
    let sp1 = memchr(b' ', line).ok_or(bad.clone())?;
    let method = line.get(..sp1).unwrap_or_default();
    if !is_token(method) {
        return Err(bad);
    }
    let rest = line.get(sp1 + 1..).unwrap_or_default();
    let sp2 = memchr(b' ', rest).ok_or(ParseError::StartLine { at: sp1 + 1 })?;
    let uri = rest.get(..sp2).unwrap_or_default();
    if !is_request_uri(uri) {
        return Err(ParseError::StartLine { at: sp1 + 1 });
    }
    let v_start = sp1 + 1 + sp2 + 1;
    check_version(line.get(v_start..).unwrap_or_default(), v_start)?;
    Ok(StartLine::Request {
        method: Method::from_bytes(method),
        method_span: Span::new(0, sp1),
        uri: Span::new(sp1 + 1, sp1 + 1 + sp2),
        version: Span::new(v_start, line.len()),
    })
}

/// Visible ASCII only, not enclosed in `<>` (RFC 4475 ltgtruri); whitespace never reaches here
/// because the line is split on SP and a second SP makes the version invalid.
fn is_request_uri(uri: &[u8]) -> bool {
    !uri.is_empty()
        && uri
            .iter()
            .all(|&c| (0x21..0x7f).contains(&c) && c != b'<' && c != b'>')
}

fn response(line: &[u8]) -> Result<StartLine, ParseError> {
    let sp1 = memchr(b' ', line).ok_or(ParseError::StartLine { at: 0 })?;
    check_version(line.get(..sp1).unwrap_or_default(), 0)?;
    let bad = ParseError::StartLine { at: sp1 + 1 };
    let digits = line.get(sp1 + 1..sp1 + 4).ok_or(bad.clone())?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !(100..=699).contains(&code) {
        return Err(bad);
    }
    let reason_start = match line.get(sp1 + 4) {
        None => line.len(),
        Some(b' ') => sp1 + 5,
        Some(_) => return Err(bad),
    };
    Ok(StartLine::Response {
        code,
        reason: Span::new(reason_start, line.len()),
        version: Span::new(0, sp1),
    })
}

/// `SIP/2.0` (case-insensitive) is fine; another well-formed `SIP/x.y` is `Version` (505);
/// anything else (e.g. a trailing SP, RFC 4475 trws) is a malformed start line.
fn check_version(v: &[u8], at: usize) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case(b"SIP/2.0") {
        return Ok(());
    }
    let nums = if starts_with_ci(v, b"SIP/") {
        v.get(4..).unwrap_or_default()
    } else {
        b""
    };
    let mut parts = nums.splitn(2, |&c| c == b'.');
    let is_num = |p: Option<&[u8]>| p.is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
    if is_num(parts.next()) && is_num(parts.next()) {
        return Err(ParseError::Version);
    }
    Err(ParseError::StartLine { at })
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(s: &str) -> Result<StartLine, ParseError> {
        parse_start_line(s.as_bytes()).map(|(l, _)| l)
    }

    #[test]
    fn requests() {
        let (l, next) = parse_start_line(b"INVITE sip:a@b SIP/2.0\r\nVia: x").unwrap();
        assert_eq!(next, 24);
        assert_eq!(
            l,
            StartLine::Request {
                method: Method::Invite,
                method_span: Span::new(0, 6),
                uri: Span::new(7, 14),
                version: Span::new(15, 22)
            }
        );
        let odd = "!interesting-Method0123456789_*+`.%indeed'~ sip:1_x?,/;;*:&y@example.com SIP/2.0\r\n";
        assert!(matches!(
            start(odd),
            Ok(StartLine::Request {
                method: Method::Other,
                ..
            })
        ));
        assert!(start("RE%47IST%45R sip:a@b sip/2.0\r\n").is_ok());
        assert!(start("OPTIONS tel:+1555 SIP/2.0\n").is_ok());
        assert!(start("OPTIONS tel:+1555 SIP/2.0").is_err());
    }

    #[test]
    fn request_rejections() {
        let bad = [
            "INVITE  sip:a@b SIP/2.0\r\n",                 // lwsstart
            "INVITE sip:a@b  SIP/2.0\r\n",                 // lwsstart
            "OPTIONS sip:a@b SIP/2.0 \r\n",                // trws
            "INVITE sip:user@example.com; lr SIP/2.0\r\n", // lwsruri
            "INVITE <sip:a@b> SIP/2.0\r\n",                // ltgtruri
            "INVITE sip:a@b\r\n",
            "INVITE\r\n",
            "\r\n",
            "",
            "INV(TE sip:a@b SIP/2.0\r\n",
            "INVITE sip:a@b SIP/2.0.1\r\n",
            "INVITE sip:a@b HTTP/1.1\r\n",
            "INVITE\tsip:a@b SIP/2.0\r\n",
            "INVITE sip:a\x01b SIP/2.0\r\n",
        ];
        for s in bad {
            assert!(matches!(start(s), Err(ParseError::StartLine { .. })), "{s:?}");
        }
        assert_eq!(start("OPTIONS sip:a@b SIP/7.0\r\n"), Err(ParseError::Version));
        assert_eq!(start("OPTIONS sip:a@b SIP/2.1\r\n"), Err(ParseError::Version));
    }

    #[test]
    fn responses() {
        let l = start("SIP/2.0 180 Ringing\r\n").unwrap();
        assert_eq!(
            l,
            StartLine::Response {
                code: 180,
                reason: Span::new(12, 19),
                version: Span::new(0, 7)
            }
        );
        assert!(
            matches!(start("SIP/2.0 100 \r\n"), Ok(StartLine::Response { code: 100, reason, .. }) if reason.is_empty())
        );
        assert!(matches!(
            start("SIP/2.0 100\r\n"),
            Ok(StartLine::Response { code: 100, .. })
        ));
        assert!(start("SIP/2.0 200 \u{e6}\u{b0}\u{f8} ok\r\n").is_ok());
    }

    #[test]
    fn response_rejections() {
        for s in [
            "SIP/2.0 4294967301 big\r\n",
            "SIP/2.0 099 x\r\n",
            "SIP/2.0 700 x\r\n",
            "SIP/2.0 2x0 x\r\n",
        ] {
            assert!(matches!(start(s), Err(ParseError::StartLine { .. })), "{s:?}");
        }
        assert!(start("SIP/2.0  200 OK\r\n").is_err());
        assert!(start("SIP/2.0 20\r\n").is_err());
        assert_eq!(start("SIP/3.0 200 OK\r\n"), Err(ParseError::Version));
    }

    #[test]
    fn lenient() {
        let (l, _) = parse_request_lenient(b"INVITE  <sip:a@b>   SIP/9 \r\n").unwrap();
        let StartLine::Request { uri, version, .. } = l else {
            panic!()
        };
        assert_eq!((uri, version), (Span::new(8, 17), Span::new(20, 25)));
        assert!(parse_request_lenient(b"\r\n").is_none());
    }
}
