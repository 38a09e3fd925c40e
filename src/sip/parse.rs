//! Zero-copy message scanner: start line, header index (compact forms, folding, comma lists),
//! Content-Length and body. memchr splits lines; nothing is copied.

use bytes::Bytes;

use super::message::Message;

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
        Limits { max_message_bytes: 65535, max_headers: 128 }
    }
}

/// Why a message could not be parsed. Each variant says what and where (byte offset);
/// none echoes the packet's bytes (log-flood safe).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("more than {max} header lines")]
    TooManyHeaders { max: usize },
    #[error("malformed start line at offset {at}")]
    StartLine { at: usize },
    #[error("unsupported SIP version")]
    Version,
    #[error("malformed header line at offset {at}")]
    HeaderLine { at: usize },
    #[error("no end of headers")]
    Truncated,
    #[error("bad Content-Length")]
    ContentLength,
    #[error("body shorter than Content-Length")]
    BodyTooShort,
}

/// Parses one message out of `buf`.
pub fn parse(buf: Bytes, limits: &Limits) -> Result<Message, ParseError> {
    let _ = (buf, limits);
    todo!("sip-message helper")
}
