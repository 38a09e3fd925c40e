//! Digest credentials in Authorization / Proxy-Authorization (RFC 3261 §22, RFC 7616).

use std::borrow::Cow;

use super::GrammarError;

/// Decoded `Digest k=v, ...` credentials. Quoted values are unquoted (escapes removed).
/// Deliberately not `Debug`-printable with secrets: the `response` never reaches a log.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DigestCredentials<'a> {
    pub username: Cow<'a, [u8]>,
    pub realm: Cow<'a, [u8]>,
    pub nonce: Cow<'a, [u8]>,
    pub uri: Cow<'a, [u8]>,
    pub response: Cow<'a, [u8]>,
    pub algorithm: Option<Cow<'a, [u8]>>,
    pub cnonce: Option<Cow<'a, [u8]>>,
    pub opaque: Option<Cow<'a, [u8]>>,
    pub qop: Option<Cow<'a, [u8]>>,
    pub nc: Option<Cow<'a, [u8]>>,
}

impl std::fmt::Debug for DigestCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestCredentials")
            .field("username", &String::from_utf8_lossy(&self.username))
            .field("realm", &String::from_utf8_lossy(&self.realm))
            .finish_non_exhaustive()
    }
}

/// Parses a credentials value. Non-Digest schemes, duplicated parameters and missing
/// mandatory parameters are errors.
pub fn parse_credentials(input: &[u8]) -> Result<DigestCredentials<'_>, GrammarError> {
    let _ = input;
    todo!("digest helper")
}
