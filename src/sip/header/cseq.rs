//! CSeq (RFC 3261 §20.16).

use super::GrammarError;
use crate::sip::Method;

/// A decoded CSeq: sequence number and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    pub seq: u32,
    pub method: Method,
    pub method_bytes: &'a [u8],
}

/// Parses `1 INVITE`; the number must fit 2^31 (RFC 3261 §8.1.1.5).
pub fn parse_cseq(input: &[u8]) -> Result<CSeq<'_>, GrammarError> {
    let _ = input;
    todo!("sip-grammar helper")
}
