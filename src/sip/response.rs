//! Building a local response from a request (RFC 3261 §8.2.6): Via (all values), From, To (with
//! our tag when the request had none), Call-ID and CSeq copied; Content-Length written.

use bytes::{Bytes, BytesMut};

use super::header;
use super::message::Message;
use super::name::HeaderName;

/// Builds a response to `req`.
pub struct ResponseBuilder<'r> {
    req: &'r Message,
    code: u16,
    reason: &'r str,
    to_tag: Option<&'r [u8]>,
    extra: Vec<(&'r str, &'r [u8])>,
    body: Option<(&'r str, &'r [u8])>,
}

impl<'r> ResponseBuilder<'r> {
    /// A response with this code and reason phrase.
    pub fn new(req: &'r Message, code: u16, reason: &'r str) -> ResponseBuilder<'r> {
        ResponseBuilder {
            req,
            code,
            reason,
            to_tag: None,
            extra: Vec::new(),
            body: None,
        }
    }

    /// The To tag added when the request's To has none (ignored when it has one).
    pub fn to_tag(mut self, tag: &'r [u8]) -> Self {
        self.to_tag = Some(tag);
        self
    }

    /// An extra header line.
    pub fn header(mut self, name: &'r str, value: &'r [u8]) -> Self {
        self.extra.push((name, value));
        self
    }

    /// A body with its Content-Type.
    pub fn body(mut self, content_type: &'r str, body: &'r [u8]) -> Self {
        self.body = Some((content_type, body));
        self
    }

    /// The response bytes: status line, every Via line of the request (in order), From, To
    /// (with `to_tag` when it had no tag), Call-ID, CSeq, the extra headers, Content-Type when
    /// a body is set, Content-Length, blank line, body. Headers the request lacks are omitted,
    /// so a 400 can be built for a broken request.
    pub fn build(self) -> Bytes {
        let req = self.req;
        let (ctype, body) = self.body.unwrap_or(("", b""));
        let mut out = BytesMut::with_capacity(self.estimate(body.len()));
        out.extend_from_slice(b"SIP/2.0 ");
        push_u64(&mut out, u64::from(self.code));
        out.extend_from_slice(b" ");
        out.extend_from_slice(self.reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        for h in req.headers_named(HeaderName::Via) {
            push_header(&mut out, "Via", req.slice(h.value));
        }
        self.copy_first(&mut out, HeaderName::From);
        if let Some(to) = req.header(HeaderName::To) {
            push_to(&mut out, to, self.to_tag);
        }
        self.copy_first(&mut out, HeaderName::CallId);
        self.copy_first(&mut out, HeaderName::CSeq);
        for (name, value) in &self.extra {
            push_header(&mut out, name, value);
        }
        if self.body.is_some() {
            push_header(&mut out, "Content-Type", ctype.as_bytes());
        }
        out.extend_from_slice(b"Content-Length: ");
        push_u64(&mut out, body.len() as u64);
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
        out.freeze()
    }

    /// Upper bound of the response size, so the buffer is allocated once.
    fn estimate(&self, body: usize) -> usize {
        let copied: usize = self
            .req
            .headers()
            .iter()
            .filter(|h| COPIED.contains(&h.name))
            .map(|h| h.value.len() + 16)
            .sum();
        let extra: usize = self.extra.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
        let tag = self.to_tag.map_or(0, |t| t.len() + 5);
        64 + self.reason.len() + copied + extra + tag + body
    }

    /// Copies the first header of this name under its canonical name, if present.
    fn copy_first(&self, out: &mut BytesMut, name: HeaderName) {
        if let Some(v) = self.req.header(name) {
            push_header(out, name.as_str(), v);
        }
    }
}

/// The request headers a response copies (RFC 3261 §8.2.6.2).
const COPIED: [HeaderName; 5] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
];

fn push_header(out: &mut BytesMut, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The To line, with `;tag=` appended when the request's To carries no tag.
fn push_to(out: &mut BytesMut, to: &[u8], tag: Option<&[u8]>) {
    out.extend_from_slice(b"To: ");
    out.extend_from_slice(to);
    if let Some(tag) = tag.filter(|_| !has_tag(to)) {
        out.extend_from_slice(b";tag=");
        out.extend_from_slice(tag);
    }
    out.extend_from_slice(b"\r\n");
}

/// True when a To/From value carries a `tag` header parameter (case-insensitive). The
/// parameters follow the `>` of a name-addr, or the URI itself for a bare addr-spec (whose
/// parameters are all header parameters, RFC 3261 §20.10).
pub(crate) fn has_tag(value: &[u8]) -> bool {
    let params = params_part(value);
    params.split(|&c| c == b';').skip(1).any(|p| {
        let name = p.split(|&c| c == b'=').next().unwrap_or_default();
        header::trim(name).eq_ignore_ascii_case(b"tag")
    })
}

/// The part of a name-addr / addr-spec value after its URI (skipping quoted display names).
fn params_part(value: &[u8]) -> &[u8] {
    let (mut quoted, mut escaped) = (false, false);
    let mut open = None;
    for (i, &c) in value.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted && open.is_none() => open = Some(i),
            b'>' if !quoted && open.is_some() => return value.get(i + 1..).unwrap_or_default(),
            _ => {}
        }
    }
    if open.is_some() {
        return b""; // unterminated `<`: no parameters we can trust
    }
    value
}

/// Decimal digits of `n`, without allocating.
fn push_u64(out: &mut BytesMut, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// The standard reason phrase for a status code ("" when unknown).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        603 => "Decline",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::testdata;

    fn req(raw: &'static [u8]) -> Message {
        Message::parse(Bytes::from_static(raw)).unwrap()
    }

    #[test]
    fn adds_to_tag_and_copies_headers() {
        let r = req(testdata::INVITE_SDP);
        let out = ResponseBuilder::new(&r, 404, reason_phrase(404))
            .to_tag(b"tg42")
            .build();
        let expected = concat!(
            "SIP/2.0 404 Not Found\r\n",
            "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-524287-1---7d6d5a0c2e9b4f1a;rport\r\n",
            "From: \"WIRELESS CALLER\" <sip:+12125550199@198.51.100.20;user=phone>;tag=as4f2a9b1c\r\n",
            "To: <sip:+14155550100@203.0.113.10;user=phone>;tag=tg42\r\n",
            "Call-ID: 3c26700a7f4e2d0b5f1e9a8d6c4b2a10@198.51.100.20\r\n",
            "CSeq: 102 INVITE\r\n",
            "Content-Length: 0\r\n\r\n",
        );
        assert_eq!(std::str::from_utf8(&out).unwrap(), expected);
        let parsed = Message::parse(out).unwrap();
        assert_eq!(parsed.status(), Some(404));
        assert!(parsed.check_core_headers().is_ok());
    }

    #[test]
    fn keeps_existing_tag_and_all_vias() {
        let r = req(testdata::RESPONSE_MULTI_VIA);
        let out = ResponseBuilder::new(&r, 200, "OK").to_tag(b"ignored").build();
        let m = Message::parse(out).unwrap();
        assert_eq!(m.header(HeaderName::To), Some(&b"<sip:b@example.com>;tag=2"[..]));
        assert_eq!(m.header_values(HeaderName::Via).count(), 3);
        assert_eq!(m.headers_named(HeaderName::Via).count(), 2);
        let r = req(testdata::FOLDED_COMPACT);
        let m = Message::parse(ResponseBuilder::new(&r, 200, "OK").build()).unwrap();
        assert_eq!(m.header_values(HeaderName::Via).count(), 2);
        assert_eq!(m.header(HeaderName::To), Some(&b"<sip:b@example.com>"[..]));
    }

    #[test]
    fn broken_request_extra_headers_and_body() {
        let r = req(b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 INVITE\r\n\r\n");
        let out = ResponseBuilder::new(&r, 400, "Bad Request")
            .header("Warning", b"399 edge \"missing From\"")
            .body("text/plain", b"oops")
            .build();
        let m = Message::parse(out).unwrap();
        assert_eq!(m.header(HeaderName::From), None);
        assert_eq!(
            m.header(HeaderName::Warning),
            Some(&b"399 edge \"missing From\""[..])
        );
        assert_eq!(m.header(HeaderName::ContentType), Some(&b"text/plain"[..]));
        assert_eq!(m.body(), b"oops");
    }

    #[test]
    fn tag_detection() {
        assert!(has_tag(b"<sip:a@b>;tag=1"));
        assert!(has_tag(b"<sip:a@b> ; TAG = 1"));
        assert!(has_tag(b"sip:a@b;tag=1"));
        assert!(!has_tag(b"<sip:a@b;tag=1>"));
        assert!(!has_tag(b"\"x>;tag=1\" <sip:a@b>"));
        assert!(!has_tag(b"<sip:a@b>;tagx=1"));
        assert!(!has_tag(b"<sip:a@b"));
        let mut out = BytesMut::new();
        push_u64(&mut out, 0);
        push_u64(&mut out, 18446744073709551615);
        assert_eq!(&out[..], b"018446744073709551615");
    }
}
