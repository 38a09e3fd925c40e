//! SIP/SIPS/tel URIs (RFC 3261 §19.1, RFC 3966): user, password, host (IPv6 references
//! included), port, params, headers, and %-escapes.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{GrammarError, Params};

/// URI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    /// Any other scheme (e.g. `http`, `im`): parsed no further than the scheme.
    Other,
}

/// A URI host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A DNS name (bytes as written).
    Name(&'a [u8]),
    V4(Ipv4Addr),
    /// Written as `[...]`; the bytes inside the brackets were parsed.
    V6(Ipv6Addr),
}

/// A decoded URI; every slice borrows from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri<'a> {
    pub scheme: Scheme,
    /// The user part still %-escaped (use `percent_decode` to compare). For tel: the number.
    pub user: Option<&'a [u8]>,
    pub password: Option<&'a [u8]>,
    /// For `Scheme::Other` and tel: `Host::Name(b"")`.
    pub host: Host<'a>,
    /// The host bytes as written (brackets included for IPv6).
    pub host_raw: &'a [u8],
    pub port: Option<u16>,
    /// `;name=value` parameters after host[:port] (for tel: after the number).
    pub params: Params<'a>,
    /// The `?h=v&...` part without the `?`.
    pub headers: Option<&'a [u8]>,
}

/// Parses a URI (no surrounding `<>` or whitespace).
pub fn parse_uri(input: &[u8]) -> Result<Uri<'_>, GrammarError> {
    let _ = input;
    todo!("sip-grammar helper")
}

/// Decodes %HH escapes; borrows when there are none. Invalid escapes are kept as written.
pub fn percent_decode(s: &[u8]) -> Cow<'_, [u8]> {
    let _ = s;
    todo!("sip-grammar helper")
}
