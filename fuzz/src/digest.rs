//! `digest` target: the credential and challenge grammars on arbitrary bytes, and
//! `Authenticator::verify` on arbitrary credentials (never Ok unless the response is the right
//! one), plus the client round trip `answer` → `parse_credentials` → `verify` → replay refused.

use std::borrow::Cow;

use arbitrary::{Arbitrary, Unstructured};
use trunkgate::policy::digest::{answer, compute_response, Algorithm, Authenticator, QopAuth, ResponseInput};
use trunkgate::sip::header::digest::parse_challenge;
use trunkgate::sip::header::{parse_credentials, DigestCredentials};

const REALM: &str = "edge.test";
const PASSWORD: &str = "s3cret";
const NOW: u64 = 1_750_000_000;
const TTL: u64 = 300;

/// One fuzz case.
#[derive(Debug, Arbitrary)]
struct Case {
    /// Fed to both grammars as is.
    raw: Vec<u8>,
    sha256: bool,
    /// Use the nonce of a real challenge (else `nonce`).
    genuine_nonce: bool,
    /// Seconds between the challenge and the answer.
    age: u16,
    /// 0: no algorithm, 1: MD5, 2: SHA-256, else `algorithm_raw`.
    algorithm: u8,
    algorithm_raw: Vec<u8>,
    nonce: Vec<u8>,
    realm: Vec<u8>,
    use_our_realm: bool,
    username: Vec<u8>,
    uri: Vec<u8>,
    method: Vec<u8>,
    /// 0: no qop, 1: `auth`, else `qop_raw`.
    qop: u8,
    qop_raw: Vec<u8>,
    nc: Vec<u8>,
    cnonce: Vec<u8>,
    response: Vec<u8>,
    /// Send the response `compute_response` gives for these fields instead of `response`.
    correct_response: bool,
    /// Printable-ASCII client fields for the `answer` round trip.
    client_user: String,
    client_uri: String,
    client_cnonce: String,
    client_nc: u32,
}

/// Runs one input through every check of the target.
pub fn run(data: &[u8]) {
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let _ = parse_credentials(&case.raw).map(|c| c.username.len());
    let _ = parse_challenge(&case.raw).map(|c| c.realm.len());
    let auth = Authenticator::new([7; 32]);
    arbitrary_answer(&auth, &case);
    client_round_trip(&auth, &case);
}

fn algorithm(case: &Case) -> Algorithm {
    if case.sha256 {
        Algorithm::Sha256
    } else {
        Algorithm::Md5
    }
}

/// A real challenge's nonce, minted `age` seconds before `NOW`.
fn real_nonce(auth: &Authenticator, case: &Case) -> Vec<u8> {
    let minted = NOW - u64::from(case.age);
    let ch = auth.challenge(minted, REALM, &[algorithm(case)], false);
    let value = ch.first().map(String::as_str).unwrap_or_default();
    parse_challenge(value.as_bytes()).map_or_else(|_| Vec::new(), |c| c.nonce.into_owned())
}

/// Credentials built field by field; Ok only when the response is the one the fields imply.
fn arbitrary_answer(auth: &Authenticator, case: &Case) {
    let nonce = if case.genuine_nonce {
        real_nonce(auth, case)
    } else {
        case.nonce.clone()
    };
    let realm = if case.use_our_realm {
        REALM.as_bytes().to_vec()
    } else {
        case.realm.clone()
    };
    let algorithm_field: Option<&[u8]> = match case.algorithm {
        0 => None,
        1 => Some(b"MD5"),
        2 => Some(b"SHA-256"),
        _ => Some(&case.algorithm_raw),
    };
    let qop_field: Option<&[u8]> = match case.qop {
        0 => None,
        1 => Some(b"auth"),
        _ => Some(&case.qop_raw),
    };
    let expected = expected_response(case, algorithm_field, qop_field, &realm, &nonce);
    let response = match (&expected, case.correct_response) {
        (Some(e), true) => e.as_bytes().to_vec(),
        _ => case.response.clone(),
    };
    let creds = DigestCredentials {
        username: Cow::Borrowed(&case.username),
        realm: Cow::Borrowed(&realm),
        nonce: Cow::Borrowed(&nonce),
        uri: Cow::Borrowed(&case.uri),
        response: Cow::Borrowed(&response),
        algorithm: algorithm_field.map(Cow::Borrowed),
        cnonce: Some(Cow::Borrowed(&case.cnonce)),
        opaque: None,
        qop: qop_field.map(Cow::Borrowed),
        nc: Some(Cow::Borrowed(&case.nc)),
    };
    let verify = || {
        auth.verify(
            NOW,
            TTL,
            &creds,
            &case.method,
            &case.uri,
            PASSWORD.as_bytes(),
            REALM,
        )
    };
    if verify().is_ok() {
        let right = expected.is_some_and(|e| e.as_bytes() == response.to_ascii_lowercase().as_slice());
        assert!(
            right,
            "verify accepted a response that is not the digest of the fields"
        );
        assert!(realm == REALM.as_bytes(), "verify accepted another realm");
        assert!(u64::from(case.age) <= TTL, "verify accepted an expired nonce");
        if qop_field.is_some() {
            assert!(verify().is_err(), "a qop=auth answer was accepted twice");
        }
    }
}

/// What `response` must be for these fields (when the algorithm is one we know).
fn expected_response(
    case: &Case,
    algorithm_field: Option<&[u8]>,
    qop_field: Option<&[u8]>,
    realm: &[u8],
    nonce: &[u8],
) -> Option<String> {
    let alg = match algorithm_field {
        None => Algorithm::Md5,
        Some(name) => Algorithm::parse(name)?,
    };
    let qop = qop_field.map(|_| QopAuth {
        nc: &case.nc,
        cnonce: &case.cnonce,
    });
    let input = ResponseInput {
        username: &case.username,
        realm,
        password: PASSWORD.as_bytes(),
        method: &case.method,
        uri: &case.uri,
        nonce,
        qop,
    };
    Some(compute_response(alg, &input))
}

/// The test UAC's answer to a real challenge parses, verifies once and is refused as a replay.
fn client_round_trip(auth: &Authenticator, case: &Case) {
    let printable =
        |s: &str| !s.is_empty() && s.len() <= 512 && s.bytes().all(|c| (b' '..=b'~').contains(&c));
    if !(printable(&case.client_user) && printable(&case.client_uri) && printable(&case.client_cnonce)) {
        return;
    }
    let challenges = auth.challenge(NOW, REALM, &[algorithm(case)], false);
    let Some(challenge) = challenges.first() else {
        panic!("no challenge for one algorithm");
    };
    let (user, uri, cnonce) = (&case.client_user, &case.client_uri, &case.client_cnonce);
    let text = match answer(challenge, "INVITE", uri, user, PASSWORD, cnonce, case.client_nc) {
        Ok(t) => t,
        Err(e) => panic!("answer() refused our own challenge: {e:?}"),
    };
    let creds = match parse_credentials(text.as_bytes()) {
        Ok(c) => c,
        Err(e) => panic!("answer() output does not parse: {e:?}"),
    };
    assert_eq!(
        creds.username.as_ref(),
        user.as_bytes(),
        "username did not round-trip"
    );
    assert_eq!(creds.uri.as_ref(), uri.as_bytes(), "uri did not round-trip");
    let first = auth.verify(
        NOW,
        TTL,
        &creds,
        b"INVITE",
        uri.as_bytes(),
        PASSWORD.as_bytes(),
        REALM,
    );
    assert_eq!(first, Ok(()), "a correct answer was refused");
    let second = auth.verify(
        NOW,
        TTL,
        &creds,
        b"INVITE",
        uri.as_bytes(),
        PASSWORD.as_bytes(),
        REALM,
    );
    assert!(second.is_err(), "the same answer was accepted twice");
}
