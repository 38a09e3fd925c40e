//! Building a local response from a request (RFC 3261 §8.2.6): Via (all values), From, To (with
//! our tag when the request had none), Call-ID and CSeq copied; Content-Length written.

use bytes::Bytes;

use super::message::Message;

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
        ResponseBuilder { req, code, reason, to_tag: None, extra: Vec::new(), body: None }
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

    /// The response bytes.
    pub fn build(self) -> Bytes {
        let _ = (self.req, self.code, self.reason, self.to_tag, self.extra, self.body);
        todo!("sip-message helper")
    }
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
