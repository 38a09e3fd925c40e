//! Digest response computation (RFC 7616 §3.4.1–§3.4.3, RFC 2617 §3.2.2.1, RFC 2069) and a
//! client-side helper that answers one of our challenges (used by tests and the test UAC).

use md5::Md5;
use sha2::{Digest, Sha256};

use super::{Algorithm, AuthError};
use crate::sip::header::digest::parse_challenge;

/// The inputs of a digest response. Not `Debug`: it holds the password.
#[derive(Clone, Copy)]
pub struct ResponseInput<'a> {
    /// User name.
    pub username: &'a [u8],
    /// Realm of the challenge.
    pub realm: &'a [u8],
    /// Plaintext password (HA1 is derived from it per algorithm).
    pub password: &'a [u8],
    /// Request method (`INVITE`, `REGISTER`, ...).
    pub method: &'a [u8],
    /// The digest `uri` parameter (what the client put there, normally the Request-URI).
    pub uri: &'a [u8],
    /// The server nonce.
    pub nonce: &'a [u8],
    /// `Some` for `qop=auth` (RFC 2617/7616), `None` for an RFC 2069 answer without qop.
    pub qop: Option<QopAuth<'a>>,
}

/// The `qop=auth` extras that enter the response: `nc` (as sent, 8 hex digits) and `cnonce`.
#[derive(Clone, Copy)]
pub struct QopAuth<'a> {
    /// Nonce count exactly as sent (8 hex digits).
    pub nc: &'a [u8],
    /// Client nonce.
    pub cnonce: &'a [u8],
}

/// Computes the lower-case hex `response`: HA1 = H(user:realm:password), HA2 = H(method:uri);
/// with qop=auth H(HA1:nonce:nc:cnonce:auth:HA2), without qop H(HA1:nonce:HA2).
/// Exists so the server check and every client (tests, test UAC) share one formula.
pub fn compute_response(algorithm: Algorithm, input: &ResponseInput<'_>) -> String {
    response_hex(algorithm, input).as_str().to_owned()
}

/// [`compute_response`] without an allocation: the server checks one answer per INVITE.
pub(crate) fn response_hex(algorithm: Algorithm, input: &ResponseInput<'_>) -> HexDigest {
    let i = input;
    let ha1 = hash_hex(algorithm, &[i.username, b":", i.realm, b":", i.password]);
    let ha2 = hash_hex(algorithm, &[i.method, b":", i.uri]);
    let (ha1, ha2) = (ha1.as_bytes(), ha2.as_bytes());
    match i.qop {
        Some(q) => hash_hex(
            algorithm,
            &[ha1, b":", i.nonce, b":", q.nc, b":", q.cnonce, b":auth:", ha2],
        ),
        None => hash_hex(algorithm, &[ha1, b":", i.nonce, b":", ha2]),
    }
}

/// Answers a challenge header value (`Digest realm=..., nonce=..., ...`) with a full credentials
/// value for Authorization / Proxy-Authorization. Uses `qop=auth` (with `cnonce` and `nc`
/// formatted as 8 hex digits) when the challenge offers it, else an RFC 2069 answer; echoes
/// `opaque` and `algorithm`. This is the client half the test UAC uses (SIPp cannot do SHA-256).
pub fn answer(
    challenge_header_value: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Result<String, AuthError> {
    let ch = parse_challenge(challenge_header_value.as_bytes()).map_err(|_| AuthError::Malformed)?;
    let algorithm = match ch.algorithm.as_deref() {
        None => Algorithm::Md5,
        Some(name) => Algorithm::parse(name).ok_or(AuthError::UnsupportedAlgorithm)?,
    };
    let nc_text = format!("{nc:08x}");
    let with_qop = ch.qop.as_deref().is_some_and(offers_auth);
    let qop = with_qop.then_some(QopAuth {
        nc: nc_text.as_bytes(),
        cnonce: cnonce.as_bytes(),
    });
    let input = ResponseInput {
        username: user.as_bytes(),
        realm: &ch.realm,
        password: password.as_bytes(),
        method: method.as_bytes(),
        uri: uri.as_bytes(),
        nonce: &ch.nonce,
        qop,
    };
    let response = compute_response(algorithm, &input);
    let mut out = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\", algorithm={}",
        quote(user.as_bytes()),
        quote(&ch.realm),
        quote(&ch.nonce),
        quote(uri.as_bytes()),
        algorithm.name(),
    );
    if let Some(opaque) = ch.opaque.as_deref() {
        out.push_str(&format!(", opaque={}", quote(opaque)));
    }
    if with_qop {
        out.push_str(&format!(
            ", qop=auth, nc={nc_text}, cnonce={}",
            quote(cnonce.as_bytes())
        ));
    }
    Ok(out)
}

/// Quotes a value as a quoted-string, escaping `"` and `\` (lossy for non-UTF-8 bytes).
pub(crate) fn quote(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in String::from_utf8_lossy(value).chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(hex_digit(b >> 4)));
        out.push(char::from(hex_digit(b & 0x0f)));
    }
    out
}

/// The lower-case hex digit of the low nibble of `n`.
fn hex_digit(n: u8) -> u8 {
    let n = n & 0x0f;
    if n < 10 {
        b'0' + n
    } else {
        b'a' + (n - 10)
    }
}

/// True when a qop-options list (`auth,auth-int`, quotes removed) contains `auth`.
fn offers_auth(list: &[u8]) -> bool {
    list.split(|&c| c == b',')
        .any(|item| crate::sip::header::trim(item).eq_ignore_ascii_case(b"auth"))
}

/// Hashes the concatenation of `parts` and returns lower-case hex.
fn hash_hex(algorithm: Algorithm, parts: &[&[u8]]) -> HexDigest {
    match algorithm {
        Algorithm::Md5 => HexDigest::of(&feed(Md5::new(), parts).finalize()),
        Algorithm::Sha256 => HexDigest::of(&feed(Sha256::new(), parts).finalize()),
    }
}

/// The lower-case hex of a digest (SHA-256's 32 bytes at most), kept on the stack.
pub(crate) struct HexDigest {
    buf: [u8; 64],
    len: usize,
}

impl HexDigest {
    /// Hex of `bytes`; only the first 32 are taken.
    fn of(bytes: &[u8]) -> HexDigest {
        let mut buf = [0u8; 64];
        let mut len = 0;
        for (pair, b) in buf.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&[hex_digit(b >> 4), hex_digit(b & 0x0f)]);
            len += 2;
        }
        HexDigest { buf, len }
    }

    /// The hex digits.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The hex digits as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

fn feed<D: Digest>(mut hasher: D, parts: &[&[u8]]) -> D {
    for part in parts {
        hasher.update(part);
    }
    hasher
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc7616_input(qop: bool) -> ResponseInput<'static> {
        ResponseInput {
            username: b"Mufasa",
            realm: b"http-auth@example.org",
            password: b"Circle of Life",
            method: b"GET",
            uri: b"/dir/index.html",
            nonce: b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            qop: qop.then_some(QopAuth {
                nc: b"00000001",
                cnonce: b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            }),
        }
    }

    #[test]
    fn rfc2617_section_3_5_vector() {
        let input = ResponseInput {
            username: b"Mufasa",
            realm: b"testrealm@host.com",
            password: b"Circle Of Life",
            method: b"GET",
            uri: b"/dir/index.html",
            nonce: b"dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop: Some(QopAuth {
                nc: b"00000001",
                cnonce: b"0a4f113b",
            }),
        };
        assert_eq!(
            compute_response(Algorithm::Md5, &input),
            "6629fae49393a05397450978507c4ef1"
        );
    }

    #[test]
    fn rfc7616_section_3_9_1_md5_vector() {
        let got = compute_response(Algorithm::Md5, &rfc7616_input(true));
        assert_eq!(got, "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn rfc7616_section_3_9_1_sha256_vector() {
        let got = compute_response(Algorithm::Sha256, &rfc7616_input(true));
        assert_eq!(
            got,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn rfc2069_form_differs_from_qop_form() {
        let a = compute_response(Algorithm::Md5, &rfc7616_input(false));
        let b = compute_response(Algorithm::Md5, &rfc7616_input(true));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn answer_reproduces_rfc7616_sha256() {
        let ch = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, \
                  nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                  opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let value = answer(
            ch,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle of Life",
            cnonce,
            1,
        )
        .unwrap();
        assert!(
            value.contains("response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\"")
        );
        assert!(value.contains("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""));
        assert!(value.contains("nc=00000001"));
        let creds = crate::sip::header::parse_credentials(value.as_bytes()).unwrap();
        assert_eq!(creds.algorithm.as_deref(), Some(&b"SHA-256"[..]));
    }

    #[test]
    fn answer_without_qop_is_rfc2069() {
        let value = answer(
            "Digest realm=\"r\", nonce=\"n\"",
            "INVITE",
            "sip:x",
            "u",
            "p",
            "c",
            1,
        )
        .unwrap();
        assert!(!value.contains("qop"));
        assert!(!value.contains("cnonce"));
        assert!(value.contains("algorithm=MD5"));
    }

    #[test]
    fn answer_refuses_unknown_algorithm_and_garbage() {
        let ch = "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256";
        assert_eq!(
            answer(ch, "INVITE", "sip:x", "u", "p", "c", 1),
            Err(AuthError::UnsupportedAlgorithm)
        );
        assert_eq!(
            answer("Basic realm=x", "INVITE", "sip:x", "u", "p", "c", 1),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(quote(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
