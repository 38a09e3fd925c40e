//! The SIP message layer, sans-IO: zero-copy parsing over one `Bytes`, typed header views decoded
//! on demand, splice editing, local responses and TCP stream framing.

pub mod edit;
pub mod framing;
pub mod header;
pub mod message;
pub mod name;
pub mod parse;
pub mod response;
mod ruri;
mod startline;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testdata;

pub use edit::Editor;
pub use framing::{frame, Frame};
pub use message::{Header, Message, Method, Span, StartLine};
pub use name::HeaderName;
pub use parse::{parse_for_reply, Limits, ParseError};
pub use response::{reason_phrase, ResponseBuilder};
