//! TCP stream framing (RFC 3261 §18.3): find where the next message ends using Content-Length,
//! before any full parse (the mini-redis `check` step).

use super::header;
use super::parse::line_at;

/// What the front of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet for a whole message.
    Incomplete,
    /// `n` bytes of CRLF keep-alive (RFC 5626 §3.5.1: "\r\n\r\n" ping, or a lone "\r\n" pong).
    KeepAlive(usize),
    /// A whole message of `n` bytes (headers + Content-Length body).
    Message(usize),
    /// The message would exceed the limit: answer 513 if possible, then close.
    TooLarge,
    /// Cannot be framed (no / bad Content-Length on a stream): close the connection.
    Invalid,
}

/// Looks at the front of a stream buffer.
///
/// Leading CR/LF bytes are keep-alives (RFC 3261 §7.5: ignored before a start line) and are
/// reported first, so the caller consumes them and calls again. Otherwise the header section
/// is scanned line by line for its end and for Content-Length (full or compact `l`), which a
/// stream requires.
pub fn frame(buf: &[u8], max_message_bytes: usize) -> Frame {
    let crlf = buf.iter().take_while(|c| matches!(c, b'\r' | b'\n')).count();
    if crlf > 0 {
        return Frame::KeepAlive(crlf);
    }
    let window = buf.get(..max_message_bytes).unwrap_or(buf);
    let Some(head) = scan_head(window) else {
        return if buf.len() >= max_message_bytes {
            Frame::TooLarge
        } else {
            Frame::Incomplete
        };
    };
    let Ok(Some(body_len)) = head.content_length else {
        return Frame::Invalid;
    };
    let total = head.body_start.saturating_add(body_len);
    if total > max_message_bytes {
        Frame::TooLarge
    } else if buf.len() < total {
        Frame::Incomplete
    } else {
        Frame::Message(total)
    }
}

/// The header section of the message at the front of a buffer.
struct Head {
    /// Offset just past the blank line.
    body_start: usize,
    /// `Err` for a bad or contradictory value, `Ok(None)` when absent.
    content_length: Result<Option<usize>, ()>,
}

/// Scans lines up to the blank one; `None` when the buffer holds no complete header section.
fn scan_head(b: &[u8]) -> Option<Head> {
    let (_, mut pos) = line_at(b, 0);
    let mut content_length = Ok(None);
    while pos < b.len() {
        let (end, next) = line_at(b, pos);
        if next == b.len() && b.last() != Some(&b'\n') {
            return None; // a line still arriving
        }
        let line = b.get(pos..end).unwrap_or_default();
        if line.is_empty() {
            return Some(Head {
                body_start: next,
                content_length,
            });
        }
        if let Some(v) = content_length_value(line) {
            content_length = merge(content_length, v);
        }
        pos = next;
    }
    None
}

/// The value of a `Content-Length` / `l` header line (case-insensitive), else `None`.
fn content_length_value(line: &[u8]) -> Option<&[u8]> {
    let first = line.first()?.to_ascii_lowercase();
    if first != b'l' && first != b'c' {
        return None; // fast path: most lines
    }
    let colon = memchr::memchr(b':', line)?;
    let name = header::trim(line.get(..colon)?);
    let is_cl = name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l");
    is_cl.then(|| line.get(colon + 1..).unwrap_or_default())
}

fn merge(seen: Result<Option<usize>, ()>, value: &[u8]) -> Result<Option<usize>, ()> {
    let n = header::parse_u32(value).map_err(|_| ())? as usize;
    match seen? {
        Some(prev) if prev != n => Err(()),
        _ => Ok(Some(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::testdata;

    const MSG: &[u8] = b"MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\nl: 5\r\n\r\nhello";

    #[test]
    fn keepalives() {
        assert_eq!(frame(b"\r\n\r\n", 100), Frame::KeepAlive(4));
        assert_eq!(frame(b"\r\n", 100), Frame::KeepAlive(2));
        assert_eq!(frame(b"\r\nMESSAGE", 100), Frame::KeepAlive(2));
        assert_eq!(frame(b"", 100), Frame::Incomplete);
    }

    #[test]
    fn whole_and_partial() {
        assert_eq!(frame(MSG, 1000), Frame::Message(MSG.len()));
        for cut in 1..MSG.len() {
            assert_eq!(frame(&MSG[..cut], 1000), Frame::Incomplete, "cut at {cut}");
        }
        let inv = testdata::INVITE_SDP;
        assert_eq!(frame(inv, 65535), Frame::Message(inv.len()));
    }

    #[test]
    fn back_to_back() {
        let mut two = MSG.to_vec();
        two.extend_from_slice(testdata::BYE);
        assert_eq!(frame(&two, 1000), Frame::Message(MSG.len()));
        assert_eq!(
            frame(&two[MSG.len()..], 1000),
            Frame::Message(testdata::BYE.len())
        );
    }

    #[test]
    fn too_large() {
        assert_eq!(frame(MSG, 20), Frame::TooLarge);
        assert_eq!(frame(MSG, MSG.len() - 1), Frame::TooLarge);
        assert_eq!(frame(MSG, MSG.len()), Frame::Message(MSG.len()));
        let huge = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 99999\r\n\r\n";
        assert_eq!(frame(huge, 65535), Frame::TooLarge);
        assert_eq!(frame(&[b'A'; 300], 200), Frame::TooLarge);
        assert_eq!(frame(&[b'A'; 100], 200), Frame::Incomplete);
    }

    #[test]
    fn invalid() {
        let no_cl = b"MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nhello";
        assert_eq!(frame(no_cl, 1000), Frame::Invalid);
        let bad = b"MESSAGE sip:a@b SIP/2.0\r\nCONTENT-LENGTH : -1\r\n\r\n";
        assert_eq!(frame(bad, 1000), Frame::Invalid);
        let two = b"MESSAGE sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab";
        assert_eq!(frame(two, 1000), Frame::Invalid);
        let same = b"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\ncontent-length: 2\r\n\r\nab";
        assert_eq!(frame(same, 1000), Frame::Message(same.len()));
    }

    #[test]
    fn bare_lf() {
        let m = b"OPTIONS sip:a@b SIP/2.0\nl: 0\n\n";
        assert_eq!(frame(m, 1000), Frame::Message(m.len()));
    }
}
