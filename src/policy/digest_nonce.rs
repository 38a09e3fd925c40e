//! Stateless, tamper-proof nonces (RFC 7616 §3.3 suggests "time-stamp H(time-stamp ":" ETag
//! ":" secret-data)"; we use an HMAC).
//!
//! Layout, hex-encoded (66 characters): `ts (8 bytes, big-endian unix seconds) ‖ serial (8 bytes)
//! ‖ algorithm (1 byte) ‖ HMAC-SHA256(secret, "trunkgate-nonce" ‖ ts ‖ serial ‖ algorithm ‖
//! realm)[..16]`. The serial makes every challenge's nonce unique (two challenges in the same
//! second must not share a nonce, or the second client's `nc=1` would look like a replay).
//! The nonce carries its own timestamp, so expiry needs no server-side storage; it is bound to
//! the realm (a nonce from realm A is no good in realm B) and to the algorithm of the challenge
//! it came in (a client cannot take the nonce of a SHA-256 challenge and answer with MD5: no
//! downgrade across the challenges we offer together, sipsorcery#525).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::hash::hex;
use super::Algorithm;

/// Length of the tag (truncated HMAC) inside a nonce; also the replay-cache key.
pub(super) const TAG_LEN: usize = 16;
const RAW_LEN: usize = 8 + 8 + 1 + TAG_LEN;
const DOMAIN_NONCE: &[u8] = b"trunkgate-nonce";
const DOMAIN_OPAQUE: &[u8] = b"trunkgate-opaque";

/// A nonce that passed the MAC check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Nonce {
    /// When it was minted (unix seconds).
    pub ts: u64,
    pub algorithm: Algorithm,
    pub tag: [u8; TAG_LEN],
}

/// The keyed HMAC that mints and checks nonces. Not `Debug`: it holds the server secret.
pub(super) struct NonceKey {
    mac: Hmac<Sha256>,
    serial: std::sync::atomic::AtomicU64,
}

impl NonceKey {
    /// Keys the HMAC with the 32-byte server secret (zero-padded to the SHA-256 block, which
    /// is exactly what HMAC does with a short key).
    pub fn new(secret: &[u8; 32]) -> Self {
        let mut key = [0u8; 64];
        for (k, s) in key.iter_mut().zip(secret) {
            *k = *s;
        }
        Self {
            mac: Hmac::<Sha256>::new(&key.into()),
            serial: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A fresh nonce for `realm` and `algorithm`, minted at `now_unix`.
    pub fn mint(&self, now_unix: u64, realm: &[u8], algorithm: Algorithm) -> String {
        let serial = self.serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tag = self.tag(now_unix, serial, algorithm, realm);
        let mut raw = [0u8; RAW_LEN];
        let parts: [&[u8]; 4] = [
            &now_unix.to_be_bytes(),
            &serial.to_be_bytes(),
            &[algorithm.code()],
            &tag,
        ];
        let mut at = 0;
        for part in parts {
            if let Some(dst) = raw.get_mut(at..at + part.len()) {
                dst.copy_from_slice(part);
            }
            at += part.len();
        }
        hex(&raw)
    }

    /// Decodes and authenticates a nonce; `None` when it is garbage or was tampered with.
    pub fn check(&self, nonce: &[u8], realm: &[u8]) -> Option<Nonce> {
        let raw: [u8; RAW_LEN] = unhex(nonce)?;
        let (ts, rest) = raw.split_first_chunk::<8>()?;
        let (serial, rest) = rest.split_first_chunk::<8>()?;
        let (code, tag) = rest.split_first()?;
        let ts = u64::from_be_bytes(*ts);
        let algorithm = Algorithm::from_code(*code)?;
        let expected = self.tag(ts, u64::from_be_bytes(*serial), algorithm, realm);
        if !bool::from(expected.as_slice().ct_eq(tag)) {
            return None;
        }
        Some(Nonce {
            ts,
            algorithm,
            tag: expected,
        })
    }

    /// The `opaque` we put in challenges: a per-realm constant, not checked on answers (some
    /// clients drop it; the nonce MAC already authenticates everything we need).
    pub fn opaque(&self, realm: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(DOMAIN_OPAQUE);
        mac.update(realm);
        let out = mac.finalize().into_bytes();
        hex(out.get(..8).unwrap_or_default())
    }

    fn tag(&self, ts: u64, serial: u64, algorithm: Algorithm, realm: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(DOMAIN_NONCE);
        mac.update(&ts.to_be_bytes());
        mac.update(&serial.to_be_bytes());
        mac.update(&[algorithm.code()]);
        mac.update(realm);
        let out = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        for (t, o) in tag.iter_mut().zip(out.iter()) {
            *t = *o;
        }
        tag
    }
}

/// Decodes exactly `2 * N` hex digits (either case) into `N` bytes.
fn unhex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *byte = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NonceKey {
        NonceKey::new(&[7u8; 32])
    }

    #[test]
    fn round_trip() {
        let n = key().mint(1_700_000_000, b"edge.test", Algorithm::Sha256);
        assert_eq!(n.len(), 2 * RAW_LEN);
        let got = key().check(n.as_bytes(), b"edge.test").unwrap();
        assert_eq!(got.ts, 1_700_000_000);
        assert_eq!(got.algorithm, Algorithm::Sha256);
    }

    #[test]
    fn every_flipped_digit_is_refused() {
        let n = key()
            .mint(1_700_000_000, b"edge.test", Algorithm::Md5)
            .into_bytes();
        for i in 0..n.len() {
            let mut bad = n.clone();
            bad[i] = if bad[i] == b'0' { b'1' } else { b'0' };
            assert!(key().check(&bad, b"edge.test").is_none(), "position {i}");
        }
    }

    #[test]
    fn other_realm_secret_or_garbage_refused() {
        let n = key().mint(1, b"a.test", Algorithm::Md5);
        assert!(key().check(n.as_bytes(), b"b.test").is_none());
        assert!(NonceKey::new(&[8u8; 32]).check(n.as_bytes(), b"a.test").is_none());
        assert!(key().check(b"", b"a.test").is_none());
        assert!(key().check(&[b'z'; 50], b"a.test").is_none());
        assert!(key().check("é".repeat(25).as_bytes(), b"a.test").is_none());
    }

    #[test]
    fn opaque_is_stable_per_realm() {
        assert_eq!(key().opaque(b"a"), key().opaque(b"a"));
        assert_ne!(key().opaque(b"a"), key().opaque(b"b"));
    }
}
