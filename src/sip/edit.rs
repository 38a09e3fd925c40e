//! Splice editing (Kamailio's "lumps"): edits are recorded as (span, replacement) pairs against
//! the original buffer and applied in one pass, so untouched bytes are copied once and never
//! re-serialised. Content-Length is kept right when the body changes.

use bytes::Bytes;

use super::message::{Header, Message, Span};
use super::name::HeaderName;

/// Collects edits against one message and produces the new bytes.
pub struct Editor<'m> {
    msg: &'m Message,
    /// (where in the original, what goes there); insertions have an empty span.
    splices: Vec<(Span, Bytes)>,
}

impl<'m> Editor<'m> {
    pub fn new(msg: &'m Message) -> Editor<'m> {
        Editor { msg, splices: Vec::new() }
    }

    /// Replaces a span of the original with `with`.
    pub fn replace(&mut self, span: Span, with: impl Into<Bytes>) -> &mut Self {
        let _ = (span, with.into(), self.msg);
        todo!("sip-message helper")
    }

    /// Inserts `what` at `offset` of the original.
    pub fn insert(&mut self, offset: usize, what: impl Into<Bytes>) -> &mut Self {
        let _ = (offset, what.into());
        todo!("sip-message helper")
    }

    /// Replaces the whole Request-URI.
    pub fn set_request_uri(&mut self, uri: impl Into<Bytes>) -> &mut Self {
        let _ = uri.into();
        todo!("sip-message helper")
    }

    /// Replaces only the user part of the Request-URI (inserting one if there is none).
    pub fn set_request_uri_user(&mut self, user: &[u8]) -> &mut Self {
        let _ = user;
        todo!("sip-message helper")
    }

    /// Adds `Via: value` above every other header (the new topmost Via).
    pub fn prepend_via(&mut self, value: &[u8]) -> &mut Self {
        let _ = value;
        todo!("sip-message helper")
    }

    /// Removes the topmost Via value (only that value if its line holds several).
    pub fn remove_top_via(&mut self) -> &mut Self {
        todo!("sip-message helper")
    }

    /// Adds a header line `name: value` before the first header (e.g. Record-Route).
    pub fn prepend_header(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let _ = (name, value);
        todo!("sip-message helper")
    }

    /// Adds a header line `name: value` after the last header.
    pub fn append_header(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let _ = (name, value);
        todo!("sip-message helper")
    }

    /// Removes one header line.
    pub fn remove_header(&mut self, header: &Header) -> &mut Self {
        let _ = header;
        todo!("sip-message helper")
    }

    /// Removes every header line with this name.
    pub fn remove_all(&mut self, name: HeaderName) -> &mut Self {
        let _ = name;
        todo!("sip-message helper")
    }

    /// Replaces the value of one header line.
    pub fn replace_header_value(&mut self, header: &Header, value: &[u8]) -> &mut Self {
        let _ = (header, value);
        todo!("sip-message helper")
    }

    /// Replaces the body (Content-Length follows).
    pub fn set_body(&mut self, body: impl Into<Bytes>) -> &mut Self {
        let _ = body.into();
        todo!("sip-message helper")
    }

    /// Applies every splice in one pass and returns the new message bytes (the original's
    /// trailing bytes past the body are dropped).
    pub fn finish(self) -> Bytes {
        let _ = self.splices;
        todo!("sip-message helper")
    }
}
