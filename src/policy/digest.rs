//! Digest authentication, server side (RFC 3261 §22, RFC 7616, RFC 8760), sans-IO.
//!
//! * `challenge` gives one `Proxy-Authenticate` / `WWW-Authenticate` value per configured
//!   algorithm, in config order, each with `qop="auth"` and its own stateless nonce.
//! * `verify` checks an answer. Order: algorithm → realm → nonce MAC (`BadNonce`) → nonce bound
//!   to the answered algorithm → `uri` → qop fields → response (`WrongResponse`) → expiry
//!   (`Stale`) → replay (`Replay`). Expiry is judged after the response, as Kamailio does:
//!   `stale=true` tells the client "your password was right, just retry with the new nonce"
//!   (RFC 2617 §3.2.1), so a wrong password on an old nonce is `WrongResponse`.
//! * Time (`now_unix`) and the server secret come in as arguments; nothing here reads a clock.
//!
//! Choices (see also the README):
//! * `-sess` algorithms are never offered; an answer using one is `UnsupportedAlgorithm`.
//! * `uri` must equal the Request-URI byte for byte after trimming LWS (no URI normalisation:
//!   every client we know copies the Request-URI verbatim).
//! * `qop=auth-int` is never offered; an answer with it (or another qop) is `Malformed`.
//! * Answers without qop (RFC 2069) may reuse a nonce until it expires, as such clients do on
//!   every request; there is no nc to protect them. `qop=auth` answers need a strictly
//!   increasing `nc` per nonce.
//! * `opaque` is sent but not checked (the nonce MAC already authenticates what matters).

#[path = "digest_hash.rs"]
mod hash;
#[path = "digest_nonce.rs"]
mod nonce;
#[path = "digest_replay.rs"]
mod replay;

use subtle::ConstantTimeEq;

use crate::config::DigestAlgorithm;
use crate::sip::header::{trim, DigestCredentials};
use hash::quote;
pub use hash::{answer, compute_response, QopAuth, ResponseInput};
use nonce::NonceKey;
use replay::{Refusal, ReplayCache};

/// Clock skew tolerated for a nonce minted "in the future" (e.g. after an NTP step back).
const FUTURE_SKEW_SECS: u64 = 30;

/// A digest hash algorithm we offer and accept (RFC 8760 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (RFC 2617); what most SIP devices speak.
    Md5,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
}

impl Algorithm {
    /// Parses an `algorithm=` value: `MD5` or `SHA-256`, case-insensitive. `-sess` variants
    /// and others (SHA-512-256) are `None`.
    pub fn parse(name: &[u8]) -> Option<Self> {
        if name.eq_ignore_ascii_case(b"MD5") {
            Some(Algorithm::Md5)
        } else if name.eq_ignore_ascii_case(b"SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }

    /// The RFC 8760 name used in challenges.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// One-byte code carried in nonces.
    fn code(self) -> u8 {
        match self {
            Algorithm::Md5 => 1,
            Algorithm::Sha256 => 2,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Algorithm::Md5),
            2 => Some(Algorithm::Sha256),
            _ => None,
        }
    }
}

impl From<DigestAlgorithm> for Algorithm {
    fn from(a: DigestAlgorithm) -> Self {
        match a {
            DigestAlgorithm::Md5 => Algorithm::Md5,
            DigestAlgorithm::Sha256 => Algorithm::Sha256,
        }
    }
}

/// Why an answer was not accepted. Never carries the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The nonce is garbage or was tampered with (or minted for another realm): 407/401 anew.
    #[error("nonce is not ours")]
    BadNonce,
    /// A genuine nonce that expired (or the replay table is full): re-challenge with `stale=true`.
    #[error("nonce is stale")]
    Stale,
    /// This (nonce, nc) was already accepted.
    #[error("replayed nonce count")]
    Replay,
    /// The digest `uri` is not the Request-URI.
    #[error("digest uri does not match the request")]
    UriMismatch,
    /// The answer's realm is not the realm we challenged in.
    #[error("realm mismatch")]
    RealmMismatch,
    /// Wrong password (or user): 403.
    #[error("wrong response")]
    WrongResponse,
    /// An algorithm we did not offer, or not the one of the answered challenge.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// Missing or invalid qop / nc / cnonce, or an unparsable challenge.
    #[error("malformed credentials")]
    Malformed,
}

impl AuthError {
    /// A short stable label for metrics (`reason="..."`).
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::BadNonce => "bad_nonce",
            AuthError::Stale => "stale",
            AuthError::Replay => "replay",
            AuthError::UriMismatch => "uri_mismatch",
            AuthError::RealmMismatch => "realm_mismatch",
            AuthError::WrongResponse => "wrong_response",
            AuthError::UnsupportedAlgorithm => "unsupported_algorithm",
            AuthError::Malformed => "malformed",
        }
    }

    /// Whether this outcome counts as a failed attempt for `[security]` bans. `Stale` does
    /// not: the client proved its password and only needs a fresh nonce.
    pub fn is_failure(&self) -> bool {
        !matches!(self, AuthError::Stale)
    }
}

/// Mints challenges and verifies answers. One per process, shared (`&self` everywhere).
/// Not `Debug`: it holds the server secret.
pub struct Authenticator {
    key: NonceKey,
    replay: ReplayCache,
}

impl Authenticator {
    /// `secret` keys the nonce HMAC; the runtime fills it from getrandom at start (nonces from
    /// before a restart then become `BadNonce`, and clients re-challenge).
    pub fn new(secret: [u8; 32]) -> Self {
        Self::with_replay_capacity(secret, replay::DEFAULT_CAP)
    }

    /// As `new`, with a chosen cap on the nonces tracked for replay protection.
    pub fn with_replay_capacity(secret: [u8; 32], cap: usize) -> Self {
        Self {
            key: NonceKey::new(&secret),
            replay: ReplayCache::new(cap),
        }
    }

    /// One challenge header value per algorithm, in the order given:
    /// `Digest realm="..", nonce="..", opaque="..", algorithm=.., qop="auth"[, stale=true]`.
    pub fn challenge(
        &self,
        now_unix: u64,
        realm: &str,
        algorithms: &[Algorithm],
        stale: bool,
    ) -> Vec<String> {
        let opaque = self.key.opaque(realm.as_bytes());
        let realm_q = quote(realm.as_bytes());
        let stale = if stale { ", stale=true" } else { "" };
        let one = |alg: &Algorithm| {
            let nonce = self.key.mint(now_unix, realm.as_bytes(), *alg);
            let name = alg.name();
            format!("Digest realm={realm_q}, nonce=\"{nonce}\", opaque=\"{opaque}\", algorithm={name}, qop=\"auth\"{stale}")
        };
        algorithms.iter().map(one).collect()
    }

    /// Verifies an answer against the Request-URI, method and the user's plaintext password,
    /// in the realm the request was challenged in. See the module doc for the order of checks.
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &self,
        now_unix: u64,
        nonce_ttl: u64,
        creds: &DigestCredentials<'_>,
        method: &[u8],
        request_uri: &[u8],
        password: &[u8],
        realm: &str,
    ) -> Result<(), AuthError> {
        let algorithm = answered_algorithm(creds)?;
        if creds.realm.as_ref() != realm.as_bytes() {
            return Err(AuthError::RealmMismatch);
        }
        let nonce = self
            .key
            .check(&creds.nonce, realm.as_bytes())
            .ok_or(AuthError::BadNonce)?;
        if nonce.algorithm != algorithm {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        if trim(&creds.uri) != trim(request_uri) {
            return Err(AuthError::UriMismatch);
        }
        let qop = qop_of(creds)?;
        let input = ResponseInput {
            username: &creds.username,
            realm: &creds.realm,
            password,
            method,
            uri: &creds.uri,
            nonce: &creds.nonce,
            qop: qop.map(|q| q.auth),
        };
        check_response(algorithm, &input, &creds.response)?;
        let expires = nonce.ts.saturating_add(nonce_ttl);
        if now_unix > expires || nonce.ts > now_unix.saturating_add(FUTURE_SKEW_SECS) {
            return Err(AuthError::Stale);
        }
        let Some(q) = qop else { return Ok(()) };
        self.replay
            .accept(nonce.tag, q.nc, expires, now_unix)
            .map_err(|r| match r {
                Refusal::Replay => AuthError::Replay,
                Refusal::Full => AuthError::Stale,
            })
    }

    /// Drops replay entries of expired nonces; the runtime may call it periodically (it also
    /// happens on demand when the table is full).
    pub fn prune(&self, now_unix: u64) {
        self.replay.prune(now_unix);
    }

    /// Nonces currently tracked for replay protection (for metrics).
    pub fn tracked_nonces(&self) -> usize {
        self.replay.len()
    }
}

/// The `qop=auth` fields of an answer, validated.
#[derive(Clone, Copy)]
struct Qop<'a> {
    auth: QopAuth<'a>,
    nc: u32,
}

/// The algorithm of an answer (absent means MD5, RFC 7616 §3.4).
fn answered_algorithm(creds: &DigestCredentials<'_>) -> Result<Algorithm, AuthError> {
    match creds.algorithm.as_deref() {
        None => Ok(Algorithm::Md5),
        Some(name) => Algorithm::parse(name).ok_or(AuthError::UnsupportedAlgorithm),
    }
}

/// `None` for an RFC 2069 answer (no qop; nc/cnonce ignored), the nc/cnonce for `qop=auth`.
fn qop_of<'c>(creds: &'c DigestCredentials<'_>) -> Result<Option<Qop<'c>>, AuthError> {
    let Some(qop) = creds.qop.as_deref() else {
        return Ok(None);
    };
    if !qop.eq_ignore_ascii_case(b"auth") {
        return Err(AuthError::Malformed);
    }
    let nc_text = creds.nc.as_deref().ok_or(AuthError::Malformed)?;
    let cnonce = creds
        .cnonce
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(AuthError::Malformed)?;
    let nc = parse_nc(nc_text).ok_or(AuthError::Malformed)?;
    Ok(Some(Qop {
        auth: QopAuth { nc: nc_text, cnonce },
        nc,
    }))
}

/// `nc`: 1 to 8 hex digits (RFC 7616 says exactly 8; shorter is tolerated).
fn parse_nc(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 8 {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(text).ok()?, 16).ok()
}

/// Constant-time comparison of the expected and the given hex response (case-insensitive).
fn check_response(algorithm: Algorithm, input: &ResponseInput<'_>, given: &[u8]) -> Result<(), AuthError> {
    let expected = hash::response_hex(algorithm, input);
    // Hex digits compare case-insensitively; a longer answer than any digest is wrong anyway.
    let mut lower = [0u8; 64];
    let Some(given) = lower.get_mut(..given.len()).map(|l| {
        l.copy_from_slice(given);
        l.make_ascii_lowercase();
        &*l
    }) else {
        return Err(AuthError::WrongResponse);
    };
    if bool::from(expected.as_bytes().ct_eq(given)) {
        Ok(())
    } else {
        Err(AuthError::WrongResponse)
    }
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
