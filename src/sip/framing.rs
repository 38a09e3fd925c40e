//! TCP stream framing (RFC 3261 §18.3): find where the next message ends using Content-Length,
//! before any full parse (the mini-redis `check` step).

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
pub fn frame(buf: &[u8], max_message_bytes: usize) -> Frame {
    let _ = (buf, max_message_bytes);
    todo!("sip-message helper")
}
