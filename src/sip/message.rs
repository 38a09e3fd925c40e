//! `Message`: one SIP request or response as an index over a single `Bytes` buffer.
//!
//! Nothing is copied at parse time: the start line, every header line and the body are kept as
//! byte spans into the buffer, and typed views (`sip::header`) are decoded only when asked.

use std::ops::Range;

use bytes::Bytes;

use super::header::{self, CSeq, GrammarError, NameAddr, Via};
use super::name::HeaderName;
use super::parse::{self, Limits, ParseError};

/// A byte range inside a message buffer (u32 keeps the header index small).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// Builds a span from a `Range<usize>`; callers guarantee it fits in u32 (messages are capped).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// SIP methods the proxy treats specially; anything else is `Other` (bytes in the start line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Other,
}

impl Method {
    /// Decodes a method token; methods are case-sensitive (RFC 3261 §7.1).
    pub fn from_bytes(m: &[u8]) -> Method {
        match m {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"INFO" => Method::Info,
            b"UPDATE" => Method::Update,
            b"PRACK" => Method::Prack,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"REFER" => Method::Refer,
            b"MESSAGE" => Method::Message,
            b"PUBLISH" => Method::Publish,
            _ => Method::Other,
        }
    }

    /// The method's token ("" for `Other`: read it from the message).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other => "",
        }
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD SP Request-URI SP SIP-Version`
    Request {
        method: Method,
        method_span: Span,
        uri: Span,
        version: Span,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`
    Response { code: u16, reason: Span, version: Span },
}

/// One header line (or one of several headers of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub name: HeaderName,
    /// The name as written (needed for `Other`, and to keep compact forms when forwarding).
    pub name_span: Span,
    /// The value, trimmed of leading/trailing whitespace; may contain folded line breaks.
    pub value: Span,
    /// The whole header line including its terminating CRLF (what removing it must cut).
    pub line: Span,
}

/// A parsed SIP message: an index over one buffer.
#[derive(Debug, Clone)]
pub struct Message {
    pub(crate) buf: Bytes,
    pub(crate) start: StartLine,
    /// Span of the start line including its CRLF.
    pub(crate) start_line: Span,
    pub(crate) headers: Vec<Header>,
    /// Offset of the empty line that ends the headers (where new headers are appended).
    pub(crate) headers_end: u32,
    pub(crate) body: Span,
}

/// An empty message: a status line with code 0 and no bytes, no headers, no body.
/// What a kept message is replaced with once its transaction no longer needs it (an answered
/// call's INVITE), so that its bytes are freed rather than kept through Timer L.
impl Default for Message {
    fn default() -> Message {
        Message {
            buf: Bytes::new(),
            start: StartLine::Response {
                code: 0,
                reason: Span::default(),
                version: Span::default(),
            },
            start_line: Span::default(),
            headers: Vec::new(),
            headers_end: 0,
            body: Span::default(),
        }
    }
}

impl Message {
    /// A copy reduced to the start line and the first From and To: what a proxy keeps of an
    /// answered INVITE for the 2xx retransmissions and forks still to relay (their From and To
    /// are restored from it) instead of the whole INVITE.
    pub fn parties_only(&self) -> Message {
        let lines = [HeaderName::From, HeaderName::To]
            .map(|name| self.headers_named(name).next().map(|h| self.slice(h.line)));
        let start = self.slice(self.start_line);
        let len = start.len() + lines.iter().flatten().map(|l| l.len()).sum::<usize>() + 2;
        let mut buf = Vec::with_capacity(len);
        buf.extend_from_slice(start);
        for line in lines.into_iter().flatten() {
            buf.extend_from_slice(line);
        }
        buf.extend_from_slice(b"\r\n");
        let mut kept = Message::parse(Bytes::from(buf)).unwrap_or_default();
        kept.shrink_to_fit();
        kept
    }

    /// Releases the header index's spare capacity: for a message kept as long as its
    /// transaction (up to 32 s), not for one handled and dropped.
    pub fn shrink_to_fit(&mut self) {
        self.headers.shrink_to_fit();
    }

    /// Parses one message with the default limits. Trailing bytes past Content-Length (UDP) are
    /// ignored, as RFC 3261 §18.3 asks.
    pub fn parse(buf: Bytes) -> Result<Message, ParseError> {
        parse::parse(buf, &Limits::default())
    }

    /// Parses one message with explicit limits.
    pub fn parse_with(buf: Bytes, limits: &Limits) -> Result<Message, ParseError> {
        parse::parse(buf, limits)
    }

    /// The whole buffer this message indexes (may hold trailing bytes past the body).
    pub fn bytes(&self) -> &Bytes {
        &self.buf
    }

    /// The bytes of the message itself: start line through body.
    pub fn wire(&self) -> Bytes {
        self.buf.slice(0..self.body.end as usize)
    }

    /// The bytes of a span of this message.
    pub fn slice(&self, span: Span) -> &[u8] {
        &self.buf[span.range()]
    }

    /// The span of a sub-slice of this message's buffer (e.g. a field returned by a typed view).
    /// Returns `None` when `sub` does not point into the buffer.
    pub fn span_of(&self, sub: &[u8]) -> Option<Span> {
        let base = self.buf.as_ptr() as usize;
        let p = sub.as_ptr() as usize;
        if p < base || p + sub.len() > base + self.buf.len() {
            return None;
        }
        Some(Span::new(p - base, p - base + sub.len()))
    }

    pub fn start_line(&self) -> &StartLine {
        &self.start
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method, `None` for a response.
    pub fn method(&self) -> Option<Method> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The method token as written (for `Method::Other`).
    pub fn method_bytes(&self) -> &[u8] {
        match self.start {
            StartLine::Request { method_span, .. } => self.slice(method_span),
            StartLine::Response { .. } => b"",
        }
    }

    /// The status code, `None` for a request.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The raw Request-URI, `None` for a response.
    pub fn request_uri(&self) -> Option<&[u8]> {
        match self.start {
            StartLine::Request { uri, .. } => Some(self.slice(uri)),
            StartLine::Response { .. } => None,
        }
    }

    /// The user part of the Request-URI (the dialled number, usually) by a cheap local scan;
    /// the number itself for `tel:`. `None` for a response or a URI without user.
    pub fn request_uri_user(&self) -> Option<&[u8]> {
        super::ruri::user_of(self.request_uri()?)
    }

    /// Span of the Request-URI (for splicing).
    pub fn request_uri_span(&self) -> Option<Span> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// Every header line, in order.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Header lines with this name (case and compact form folded), in order.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &Header> + '_ {
        self.headers.iter().filter(move |h| h.name == name)
    }

    /// Header lines whose `Other` name equals `name` case-insensitively.
    pub fn headers_other<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a Header> + 'a {
        self.headers.iter().filter(move |h| {
            h.name == HeaderName::Other && self.slice(h.name_span).eq_ignore_ascii_case(name)
        })
    }

    /// The value of the first header with this name.
    pub fn header(&self, name: HeaderName) -> Option<&[u8]> {
        self.headers_named(name).next().map(|h| self.slice(h.value))
    }

    /// Every comma-separated value of every header line with this name, in order
    /// (commas inside quotes and `<...>` do not split).
    pub fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &[u8]> + '_ {
        self.headers_named(name)
            .flat_map(move |h| header::split_list(self.slice(h.value)))
    }

    /// The body (exactly Content-Length bytes, or the rest of the datagram without one).
    pub fn body(&self) -> &[u8] {
        self.slice(self.body)
    }

    pub fn body_span(&self) -> Span {
        self.body
    }

    /// Offset of the blank line ending the header section.
    pub fn headers_end(&self) -> usize {
        self.headers_end as usize
    }

    /// The Call-ID value.
    pub fn call_id(&self) -> Result<&[u8], GrammarError> {
        self.header(HeaderName::CallId)
            .ok_or(GrammarError::Missing("Call-ID"))
    }

    /// The decoded CSeq.
    pub fn cseq(&self) -> Result<CSeq<'_>, GrammarError> {
        header::parse_cseq(
            self.header(HeaderName::CSeq)
                .ok_or(GrammarError::Missing("CSeq"))?,
        )
    }

    /// The topmost Via value, decoded.
    pub fn top_via(&self) -> Result<Via<'_>, GrammarError> {
        let v = self
            .header_values(HeaderName::Via)
            .next()
            .ok_or(GrammarError::Missing("Via"))?;
        header::parse_via(v)
    }

    /// The From header, decoded.
    pub fn from(&self) -> Result<NameAddr<'_>, GrammarError> {
        header::parse_name_addr(
            self.header(HeaderName::From)
                .ok_or(GrammarError::Missing("From"))?,
        )
    }

    /// The To header, decoded.
    pub fn to(&self) -> Result<NameAddr<'_>, GrammarError> {
        header::parse_name_addr(self.header(HeaderName::To).ok_or(GrammarError::Missing("To"))?)
    }

    /// Max-Forwards, `None` when absent.
    pub fn max_forwards(&self) -> Result<Option<u32>, GrammarError> {
        match self.header(HeaderName::MaxForwards) {
            None => Ok(None),
            Some(v) => header::parse_u32(v).map(Some),
        }
    }

    /// Checks the headers RFC 3261 §8.1.1 requires: at least one Via, and exactly one From,
    /// To, Call-ID and CSeq; Max-Forwards and Content-Length at most once (RFC 4475 multi01,
    /// mcl01). The parser does not do this so that a 400 can still be built from the index.
    pub fn check_core_headers(&self) -> Result<(), ParseError> {
        const SINGLE: [HeaderName; 6] = [
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
            HeaderName::MaxForwards,
            HeaderName::ContentLength,
        ];
        let mut counts = [0u8; SINGLE.len()];
        let mut vias = 0usize;
        for h in &self.headers {
            vias += usize::from(h.name == HeaderName::Via);
            if let Some(i) = SINGLE.iter().position(|n| *n == h.name) {
                counts[i] = counts[i].saturating_add(1);
            }
        }
        if vias == 0 {
            return Err(ParseError::Missing("Via"));
        }
        for (name, n) in SINGLE.iter().zip(counts) {
            let required = SINGLE[..4].contains(name);
            match n {
                0 if required => return Err(ParseError::Missing(name.as_str())),
                2.. => return Err(ParseError::Duplicate(name.as_str())),
                _ => {}
            }
        }
        if self.is_request() {
            let cseq = self.cseq().map_err(|_| ParseError::HeaderLine { at: 0 })?;
            if cseq.method_bytes != self.method_bytes() {
                return Err(ParseError::CSeqMethod);
            }
        }
        Ok(())
    }

    /// True when the header section ended at the end of the datagram, without the blank line
    /// (RFC 4475 baddn); the editor then writes the missing blank line.
    pub fn lacks_blank_line(&self) -> bool {
        self.body.start == self.headers_end
    }
}
