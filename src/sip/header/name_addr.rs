//! name-addr / addr-spec values: From, To, Contact, Route, Record-Route, P-Asserted-Identity.

use super::{GrammarError, Params, Uri};

/// A decoded `[display-name] <uri>;params` or bare `uri;params` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name as written (quotes included when quoted), `None` when absent.
    pub display: Option<&'a [u8]>,
    /// The URI bytes (inside `<>` when present).
    pub uri_raw: &'a [u8],
    pub uri: Uri<'a>,
    /// Header parameters after the URI (`;tag=...`).
    pub params: Params<'a>,
}

impl<'a> NameAddr<'a> {
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.params.get("tag").flatten()
    }
}

/// Parses a name-addr or addr-spec (for addr-spec, `;` params belong to the header, RFC 3261 §20.10).
pub fn parse_name_addr(input: &[u8]) -> Result<NameAddr<'_>, GrammarError> {
    let _ = input;
    todo!("sip-grammar helper")
}
