//! Digest credentials in Authorization / Proxy-Authorization (RFC 3261 §22, RFC 7616), and the
//! challenge parameters of WWW-Authenticate / Proxy-Authenticate (for our own test UAC).
//!
//! Grammar (RFC 3261 §25.1, RFC 7616 §3.4): `Digest` LWS then `#auth-param`, each
//! `token LWS "=" LWS (token / quoted-string)`, comma-separated with LWS (folded lines included)
//! around `=` and `,`. Empty list elements (`a=1,,b=2`) are tolerated as the `#` rule allows.

use std::borrow::Cow;

use super::GrammarError;

/// Largest credentials value we decode; anything bigger is hostile.
pub const MAX_CREDENTIALS_BYTES: usize = 8 * 1024;
/// Largest single parameter value (after unquoting).
pub const MAX_PARAM_BYTES: usize = 1024;

/// Decoded `Digest k=v, ...` credentials. Quoted values are unquoted (escapes removed).
/// Deliberately not `Debug`-printable with secrets: the `response` never reaches a log.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DigestCredentials<'a> {
    /// The user name (looked up in the realm).
    pub username: Cow<'a, [u8]>,
    /// The realm the client answered (must be the one we challenged in).
    pub realm: Cow<'a, [u8]>,
    /// Our nonce, echoed back.
    pub nonce: Cow<'a, [u8]>,
    /// The digest-uri; must equal the Request-URI.
    pub uri: Cow<'a, [u8]>,
    /// Hex digest response. Secret-equivalent: never logged.
    pub response: Cow<'a, [u8]>,
    /// `MD5` (default when absent) or `SHA-256`.
    pub algorithm: Option<Cow<'a, [u8]>>,
    /// Client nonce (with qop).
    pub cnonce: Option<Cow<'a, [u8]>>,
    /// Our opaque, echoed back.
    pub opaque: Option<Cow<'a, [u8]>>,
    /// `auth` (absent: RFC 2069 answer).
    pub qop: Option<Cow<'a, [u8]>>,
    /// Nonce count, 8 hex digits (with qop).
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

/// Decoded `Digest k=v, ...` challenge (the parameters a UAC needs to answer it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DigestChallenge<'a> {
    /// Realm to answer in.
    pub realm: Cow<'a, [u8]>,
    /// Nonce to echo.
    pub nonce: Cow<'a, [u8]>,
    /// Opaque to echo.
    pub opaque: Option<Cow<'a, [u8]>>,
    /// Algorithm (absent: MD5).
    pub algorithm: Option<Cow<'a, [u8]>>,
    /// The raw qop-options list, e.g. `auth,auth-int`.
    pub qop: Option<Cow<'a, [u8]>>,
    /// `true` when our previous nonce had expired.
    pub stale: Option<Cow<'a, [u8]>>,
}

/// Parses a credentials value. Non-Digest schemes, duplicated parameters, missing mandatory
/// parameters (username, realm, nonce, uri, response) and oversized values are errors.
/// Unknown parameters are ignored.
pub fn parse_credentials(input: &[u8]) -> Result<DigestCredentials<'_>, GrammarError> {
    let mut v = collect(input, &CREDENTIAL_PARAMS)?;
    let mut take = |i: usize| v.get_mut(i).and_then(Option::take);
    let mut required = |i: usize, what: &'static str| take(i).ok_or(GrammarError::Malformed { what, at: 0 });
    Ok(DigestCredentials {
        username: required(0, "digest: missing username")?,
        realm: required(1, "digest: missing realm")?,
        nonce: required(2, "digest: missing nonce")?,
        uri: required(3, "digest: missing uri")?,
        response: required(4, "digest: missing response")?,
        algorithm: take(5),
        cnonce: take(6),
        opaque: take(7),
        qop: take(8),
        nc: take(9),
    })
}

/// Parses a challenge value (`Digest realm=..., nonce=..., ...`). realm and nonce are mandatory.
pub fn parse_challenge(input: &[u8]) -> Result<DigestChallenge<'_>, GrammarError> {
    let mut v = collect(input, &CHALLENGE_PARAMS)?;
    let mut take = |i: usize| v.get_mut(i).and_then(Option::take);
    let mut required = |i: usize, what: &'static str| take(i).ok_or(GrammarError::Malformed { what, at: 0 });
    Ok(DigestChallenge {
        realm: required(0, "digest challenge: missing realm")?,
        nonce: required(1, "digest challenge: missing nonce")?,
        opaque: take(2),
        algorithm: take(3),
        qop: take(4),
        stale: take(5),
    })
}

/// Parameter names decoded from credentials, in slot order.
const CREDENTIAL_PARAMS: [&str; 10] = [
    "username",
    "realm",
    "nonce",
    "uri",
    "response",
    "algorithm",
    "cnonce",
    "opaque",
    "qop",
    "nc",
];
/// Parameter names decoded from challenges, in slot order.
const CHALLENGE_PARAMS: [&str; 6] = ["realm", "nonce", "opaque", "algorithm", "qop", "stale"];

/// Values of the known parameters, by slot; unknown names ignored, a repeated name is an error.
type Slots<'a, const N: usize> = [Option<Cow<'a, [u8]>>; N];

fn collect<'a, const N: usize>(input: &'a [u8], names: &[&str; N]) -> Result<Slots<'a, N>, GrammarError> {
    let mut slots: Slots<'a, N> = std::array::from_fn(|_| None);
    for_each_param(input, |name, value| {
        let Some(i) = names.iter().position(|n| name.eq_ignore_ascii_case(n.as_bytes())) else {
            return Ok(());
        };
        match slots.get_mut(i) {
            Some(slot @ None) => *slot = Some(value),
            _ => {
                return Err(GrammarError::Malformed {
                    what: "digest: duplicated parameter",
                    at: 0,
                })
            }
        }
        Ok(())
    })?;
    Ok(slots)
}

/// Walks `Digest name=value, ...`, calling `f` for every parameter (value unquoted).
fn for_each_param<'a>(
    input: &'a [u8],
    mut f: impl FnMut(&'a [u8], Cow<'a, [u8]>) -> Result<(), GrammarError>,
) -> Result<(), GrammarError> {
    if input.len() > MAX_CREDENTIALS_BYTES {
        return Err(GrammarError::Range("digest value"));
    }
    let mut cur = Cursor { s: input, at: 0 };
    cur.skip_lws();
    let scheme = cur.token();
    if !scheme.eq_ignore_ascii_case(b"Digest") || !cur.skip_lws() {
        return Err(GrammarError::Malformed {
            what: "digest: scheme",
            at: 0,
        });
    }
    loop {
        cur.skip_separators();
        if cur.at_end() {
            return Ok(());
        }
        let (name, value) = cur.param()?;
        f(name, value)?;
        cur.skip_lws();
        if !cur.at_end() && !cur.eat(b',') {
            return Err(GrammarError::Malformed {
                what: "digest: expected comma",
                at: cur.at,
            });
        }
    }
}

/// Byte cursor over the credentials value; every access is bounds-checked.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn at_end(&self) -> bool {
        self.at >= self.s.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    /// Skips SP / HTAB / CR / LF (folded lines); true when something was skipped.
    fn skip_lws(&mut self) -> bool {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
        self.at > start
    }

    /// Skips LWS and empty list elements.
    fn skip_separators(&mut self) {
        while self.skip_lws() || self.eat(b',') {}
    }

    fn token(&mut self) -> &'a [u8] {
        let start = self.at;
        while self.peek().is_some_and(is_token_char) {
            self.at += 1;
        }
        self.s.get(start..self.at).unwrap_or_default()
    }

    fn param(&mut self) -> Result<(&'a [u8], Cow<'a, [u8]>), GrammarError> {
        let name = self.token();
        if name.is_empty() {
            return Err(GrammarError::Malformed {
                what: "digest: parameter name",
                at: self.at,
            });
        }
        self.skip_lws();
        if !self.eat(b'=') {
            return Err(GrammarError::Malformed {
                what: "digest: expected '='",
                at: self.at,
            });
        }
        self.skip_lws();
        let value = if self.eat(b'"') {
            self.quoted()?
        } else {
            self.token_value()?
        };
        if value.len() > MAX_PARAM_BYTES {
            return Err(GrammarError::Range("digest parameter"));
        }
        Ok((name, value))
    }

    /// An unquoted value: a non-empty token.
    fn token_value(&mut self) -> Result<Cow<'a, [u8]>, GrammarError> {
        let value = self.token();
        if value.is_empty() {
            return Err(GrammarError::Malformed {
                what: "digest: empty value",
                at: self.at,
            });
        }
        Ok(Cow::Borrowed(value))
    }

    /// After the opening quote: reads up to the closing quote, unescaping quoted-pairs.
    fn quoted(&mut self) -> Result<Cow<'a, [u8]>, GrammarError> {
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => {
                    return Err(GrammarError::Malformed {
                        what: "digest: unterminated quote",
                        at: start,
                    })
                }
                Some(b'\\') => {
                    escaped = true;
                    self.at += 2;
                }
                Some(b'"') => break,
                Some(_) => self.at += 1,
            }
        }
        let raw = self.s.get(start..self.at).unwrap_or_default();
        self.at += 1;
        Ok(if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        })
    }
}

/// Removes quoted-pair backslashes (`\"` → `"`, `\\` → `\`).
fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut it = raw.iter();
    while let Some(&c) = it.next() {
        if c == b'\\' {
            if let Some(&next) = it.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 3261 §25.1 `token` characters.
fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC2617: &[u8] = b"Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n \
        nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n qop=auth,\r\n \
        nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n response=\"6629fae49393a05397450978507c4ef1\",\r\n \
        opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

    #[test]
    fn parses_rfc2617_example_with_folding() {
        let c = parse_credentials(RFC2617).unwrap();
        assert_eq!(&*c.username, b"Mufasa");
        assert_eq!(&*c.realm, b"testrealm@host.com");
        assert_eq!(&*c.uri, b"/dir/index.html");
        assert_eq!(c.qop.as_deref(), Some(&b"auth"[..]));
        assert_eq!(c.nc.as_deref(), Some(&b"00000001"[..]));
        assert_eq!(c.cnonce.as_deref(), Some(&b"0a4f113b"[..]));
        assert_eq!(&*c.response, b"6629fae49393a05397450978507c4ef1");
        assert!(matches!(c.username, Cow::Borrowed(_)));
    }

    #[test]
    fn scheme_is_case_insensitive_and_lws_anywhere() {
        let c = parse_credentials(
            b"dIgEsT  username = \"a\" ,realm=\"r\"\t,\tnonce=n , uri=\"sip:x\",response=ff ,",
        )
        .unwrap();
        assert_eq!(&*c.username, b"a");
        assert_eq!(&*c.nonce, b"n");
        assert_eq!(&*c.response, b"ff");
    }

    #[test]
    fn quoted_commas_and_escapes() {
        let c = parse_credentials(
            b"Digest username=\"a,b\\\"c\\\\d\", realm=\"r, x\", nonce=\"n\", uri=\"sip:a@b;x=\\\"y\\\"\", response=\"00\"",
        )
        .unwrap();
        assert_eq!(&*c.username, b"a,b\"c\\d");
        assert!(matches!(c.username, Cow::Owned(_)));
        assert_eq!(&*c.realm, b"r, x");
        assert!(matches!(c.realm, Cow::Borrowed(_)));
        assert_eq!(&*c.uri, b"sip:a@b;x=\"y\"");
    }

    #[test]
    fn unknown_params_ignored_duplicates_refused() {
        let ok = b"Digest foo=\"bar\", username=u, realm=r, nonce=n, uri=u, response=r, x-y=1";
        assert!(parse_credentials(ok).is_ok());
        let dup = b"Digest username=u, realm=r, nonce=n, uri=u, response=r, Response=s";
        assert!(parse_credentials(dup).is_err());
        let dup2 = b"Digest username=u, realm=r, nonce=n, uri=u, response=r, nc=1, nc=2";
        assert!(parse_credentials(dup2).is_err());
    }

    #[test]
    fn missing_fields_refused() {
        for field in ["username", "realm", "nonce", "uri", "response"] {
            let all = ["username=u", "realm=r", "nonce=n", "uri=u", "response=r"];
            let kept: Vec<_> = all.iter().filter(|p| !p.starts_with(field)).copied().collect();
            let v = format!("Digest {}", kept.join(", "));
            assert!(parse_credentials(v.as_bytes()).is_err(), "{field}");
        }
    }

    #[test]
    fn other_schemes_and_garbage_refused() {
        for bad in [
            &b"Basic dXNlcjpwYXNz"[..],
            b"Digestusername=u",
            b"Digest",
            b"",
            b"Digest username=\"u, realm=r",
            b"Digest username u",
            b"Digest =u",
            b"Digest username=u realm=r",
            b"Digest username=\"u\\",
            b"Digest username=, realm=r, nonce=n, uri=u, response=r",
        ] {
            assert!(
                parse_credentials(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn huge_values_refused() {
        let big = "a".repeat(MAX_PARAM_BYTES + 1);
        let v = format!("Digest username=\"{big}\", realm=r, nonce=n, uri=u, response=r");
        assert_eq!(
            parse_credentials(v.as_bytes()),
            Err(GrammarError::Range("digest parameter"))
        );
        let many = format!(
            "Digest username=u, realm=r, nonce=n, uri=u, response=r{}",
            ", x=y".repeat(2000)
        );
        assert_eq!(
            parse_credentials(many.as_bytes()),
            Err(GrammarError::Range("digest value"))
        );
    }

    #[test]
    fn errors_do_not_echo_input() {
        let err = parse_credentials(b"Digest username=\"SECRETUSER").unwrap_err();
        assert!(!err.to_string().contains("SECRETUSER"));
    }

    #[test]
    fn debug_hides_response() {
        let c = parse_credentials(RFC2617).unwrap();
        let shown = format!("{c:?}");
        assert!(shown.contains("Mufasa"));
        assert!(!shown.contains("6629fae4"));
        assert!(!shown.contains("0a4f113b"));
    }

    #[test]
    fn parses_challenges() {
        let ch = parse_challenge(
            b"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, \
              nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe\", stale=TRUE",
        )
        .unwrap();
        assert_eq!(&*ch.realm, b"http-auth@example.org");
        assert_eq!(ch.qop.as_deref(), Some(&b"auth, auth-int"[..]));
        assert_eq!(ch.algorithm.as_deref(), Some(&b"SHA-256"[..]));
        assert_eq!(ch.stale.as_deref(), Some(&b"TRUE"[..]));
        assert!(parse_challenge(b"Digest realm=r").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse_credentials(&bytes);
            let _ = parse_challenge(&bytes);
        }

        #[test]
        fn never_panics_on_digest_like(s in "Digest [a-z=\", \\\\\r\n]{0,200}") {
            let _ = parse_credentials(s.as_bytes());
        }
    }
}
