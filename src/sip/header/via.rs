//! One Via value (RFC 3261 §20.42, RFC 3581 rport).

use super::{GrammarError, Host, Params};

/// A decoded Via value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via<'a> {
    /// `SIP/2.0/UDP` → `UDP` (as written; compare case-insensitively).
    pub transport: &'a [u8],
    pub host: Host<'a>,
    pub host_raw: &'a [u8],
    pub port: Option<u16>,
    pub params: Params<'a>,
}

impl<'a> Via<'a> {
    pub fn branch(&self) -> Option<&'a [u8]> {
        self.params.get("branch").flatten()
    }
    pub fn received(&self) -> Option<&'a [u8]> {
        self.params.get("received").flatten()
    }
    /// `None`: no rport; `Some(None)`: bare `;rport`; `Some(Some(p))`: filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params.get("rport").map(|v| v.and_then(|p| std::str::from_utf8(p).ok()?.parse().ok()))
    }
    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.params.get("maddr").flatten()
    }
}

/// Parses one Via value (one element of the comma list).
pub fn parse_via(input: &[u8]) -> Result<Via<'_>, GrammarError> {
    let _ = input;
    todo!("sip-grammar helper")
}
