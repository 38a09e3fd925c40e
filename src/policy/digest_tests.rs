//! Tests of `policy::digest` (a sibling file to keep `digest.rs` short).

use super::*;
use crate::sip::header::parse_credentials;

const NOW: u64 = 1_700_000_000;
const TTL: u64 = 300;
const REALM: &str = "edge.test";
const RURI: &str = "sip:+14155550100@edge.test";

fn auth() -> Authenticator {
    Authenticator::new([42u8; 32])
}

/// Challenge at `NOW`, answer it with `password`, verify at `at`.
fn round_trip(a: &Authenticator, alg: Algorithm, password: &str, nc: u32, at: u64) -> Result<(), AuthError> {
    let ch = a.challenge(NOW, REALM, &[alg], false);
    let value = answer(&ch[0], "INVITE", RURI, "pbx1", password, "0a4f113b", nc).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    a.verify(at, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM)
}

fn nonce_of(challenge: &str) -> String {
    let ch = crate::sip::header::digest::parse_challenge(challenge.as_bytes()).unwrap();
    String::from_utf8(ch.nonce.into_owned()).unwrap()
}

/// pbx1's answer to `nonce` for an INVITE to `RURI` without qop (RFC 2069), as a client that
/// writes its own credentials header would compute it.
fn rfc2069_input(nonce: &str) -> ResponseInput<'_> {
    ResponseInput {
        username: b"pbx1",
        realm: REALM.as_bytes(),
        password: b"s3cret",
        method: b"INVITE",
        uri: RURI.as_bytes(),
        nonce: nonce.as_bytes(),
        qop: None,
    }
}

#[test]
fn challenge_one_per_algorithm_in_order() {
    let ch = auth().challenge(NOW, REALM, &[Algorithm::Sha256, Algorithm::Md5], false);
    assert_eq!(ch.len(), 2);
    assert!(ch[0].starts_with("Digest realm=\"edge.test\", nonce=\""));
    assert!(ch[0].contains("algorithm=SHA-256, qop=\"auth\""));
    assert!(ch[1].contains("algorithm=MD5, qop=\"auth\""));
    assert!(ch[0].contains("opaque=\""));
    assert!(!ch[0].contains("stale"));
    let stale = auth().challenge(NOW, REALM, &[Algorithm::Md5], true);
    assert!(stale[0].ends_with(", stale=true"));
}

#[test]
fn md5_and_sha256_round_trips() {
    let a = auth();
    assert_eq!(round_trip(&a, Algorithm::Md5, "s3cret", 1, NOW + 1), Ok(()));
    assert_eq!(round_trip(&a, Algorithm::Sha256, "s3cret", 1, NOW + 1), Ok(()));
}

#[test]
fn wrong_password() {
    assert_eq!(
        round_trip(&auth(), Algorithm::Sha256, "guess", 1, NOW),
        Err(AuthError::WrongResponse)
    );
}

#[test]
fn expired_nonce_is_stale_only_with_right_password() {
    let a = auth();
    assert_eq!(round_trip(&a, Algorithm::Md5, "s3cret", 1, NOW + TTL), Ok(()));
    assert_eq!(
        round_trip(&a, Algorithm::Md5, "s3cret", 2, NOW + TTL + 1),
        Err(AuthError::Stale)
    );
    assert_eq!(
        round_trip(&a, Algorithm::Md5, "guess", 3, NOW + TTL + 1),
        Err(AuthError::WrongResponse)
    );
    // Minted far in the future (clock stepped back): stale too.
    assert_eq!(
        round_trip(&a, Algorithm::Md5, "s3cret", 4, NOW - 3600),
        Err(AuthError::Stale)
    );
}

#[test]
fn replay_refused_increasing_nc_accepted() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Sha256], false);
    let verify = |nc: u32| {
        let value = answer(&ch[0], "INVITE", RURI, "pbx1", "s3cret", "abc", nc).unwrap();
        let creds = parse_credentials(value.as_bytes()).unwrap();
        a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM)
    };
    assert_eq!(verify(1), Ok(()));
    assert_eq!(verify(1), Err(AuthError::Replay));
    assert_eq!(verify(2), Ok(()));
    assert_eq!(verify(7), Ok(()));
    assert_eq!(verify(5), Err(AuthError::Replay));
    assert_eq!(a.tracked_nonces(), 1);
}

#[test]
fn tampered_nonce_is_bad_nonce() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Md5], false).remove(0);
    let nonce = nonce_of(&ch);
    let mut flipped = nonce.clone().into_bytes();
    flipped[3] = if flipped[3] == b'0' { b'1' } else { b'0' };
    let forged = ch.replace(&nonce, std::str::from_utf8(&flipped).unwrap());
    // The client computes a perfectly valid response over the forged nonce.
    let value = answer(&forged, "INVITE", RURI, "pbx1", "s3cret", "c", 1).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    assert_eq!(
        a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM),
        Err(AuthError::BadNonce)
    );
    // A nonce minted with another secret (e.g. before a restart).
    let other = Authenticator::new([1u8; 32]);
    let value = answer(&ch, "INVITE", RURI, "pbx1", "s3cret", "c", 1).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    assert_eq!(
        other.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM),
        Err(AuthError::BadNonce)
    );
}

#[test]
fn uri_and_realm_mismatch() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Md5], false);
    let value = answer(&ch[0], "INVITE", "sip:other@edge.test", "pbx1", "s3cret", "c", 1).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    assert_eq!(
        a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM),
        Err(AuthError::UriMismatch)
    );
    let value = answer(&ch[0], "INVITE", RURI, "pbx1", "s3cret", "c", 1).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    let res = a.verify(
        NOW,
        TTL,
        &creds,
        b"INVITE",
        RURI.as_bytes(),
        b"s3cret",
        "other.test",
    );
    assert_eq!(res, Err(AuthError::RealmMismatch));
}

#[test]
fn wrong_method_is_wrong_response() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Md5], false);
    let value = answer(&ch[0], "REGISTER", RURI, "pbx1", "s3cret", "c", 1).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    assert_eq!(
        a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM),
        Err(AuthError::WrongResponse)
    );
}

#[test]
fn rfc2069_answers_accepted_and_reusable() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Md5], false);
    let nonce = nonce_of(&ch[0]);
    let input = rfc2069_input(&nonce);
    let response = compute_response(Algorithm::Md5, &input).to_uppercase();
    let value = format!(
        "Digest username=\"pbx1\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{RURI}\", response=\"{response}\""
    );
    let creds = parse_credentials(value.as_bytes()).unwrap();
    for _ in 0..3 {
        assert_eq!(
            a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM),
            Ok(())
        );
    }
    assert_eq!(a.tracked_nonces(), 0);
}

#[test]
fn algorithm_downgrade_and_unknown_refused() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Sha256], false).remove(0);
    // Answer the SHA-256 nonce with MD5.
    let md5 = ch.replace("algorithm=SHA-256", "algorithm=MD5");
    let value = answer(&md5, "INVITE", RURI, "pbx1", "s3cret", "c", 1).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    let res = a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM);
    assert_eq!(res, Err(AuthError::UnsupportedAlgorithm));
    let value = answer(&ch, "INVITE", RURI, "pbx1", "s3cret", "c", 1)
        .unwrap()
        .replace("SHA-256", "SHA-256-sess");
    let creds = parse_credentials(value.as_bytes()).unwrap();
    let res = a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM);
    assert_eq!(res, Err(AuthError::UnsupportedAlgorithm));
}

#[test]
fn malformed_qop_fields() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Md5], false);
    let good = answer(&ch[0], "INVITE", RURI, "pbx1", "s3cret", "c", 1).unwrap();
    for bad in [
        good.replace("nc=00000001", "nc=xyz"),
        good.replace("nc=00000001", "nc=000000001"),
        good.replace(", nc=00000001", ""),
        good.replace(", cnonce=\"c\"", ""),
        good.replace("qop=auth", "qop=auth-int"),
    ] {
        let creds = parse_credentials(bad.as_bytes()).unwrap();
        let res = a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM);
        assert_eq!(res, Err(AuthError::Malformed), "{bad}");
    }
}

#[test]
fn full_replay_table_answers_stale() {
    let a = Authenticator::with_replay_capacity([3u8; 32], 1);
    assert_eq!(round_trip(&a, Algorithm::Md5, "s3cret", 1, NOW), Ok(()));
    // A second nonce (other algorithm → other nonce) while the first is live: refused, not evicted.
    assert_eq!(
        round_trip(&a, Algorithm::Sha256, "s3cret", 1, NOW),
        Err(AuthError::Stale)
    );
    // Every challenge mints a new nonce (serial), so a fresh MD5 round trip is another new
    // nonce: still refused while the table is full.
    assert_eq!(
        round_trip(&a, Algorithm::Md5, "s3cret", 1, NOW),
        Err(AuthError::Stale)
    );
}

#[test]
fn challenges_in_the_same_second_get_distinct_nonces() {
    let a = Authenticator::new([4u8; 32]);
    let one = a.challenge(NOW, REALM, &[Algorithm::Md5], false);
    let two = a.challenge(NOW, REALM, &[Algorithm::Md5], false);
    assert_ne!(one, two);
    // Two clients answering their own challenge with nc=1 are both accepted.
    for c in [&one[0], &two[0]] {
        let creds = answer(c, "INVITE", RURI, "pbx1", "s3cret", "c", 1).unwrap();
        let parsed = parse_credentials(creds.as_bytes()).unwrap();
        assert_eq!(
            a.verify(NOW, TTL, &parsed, b"INVITE", RURI.as_bytes(), b"s3cret", REALM),
            Ok(())
        );
    }
}

#[test]
fn debug_never_shows_secrets() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Md5], false);
    let value = answer(&ch[0], "INVITE", RURI, "pbx1", "s3cret", "c", 1).unwrap();
    let creds = parse_credentials(value.as_bytes()).unwrap();
    let shown = format!("{creds:?}");
    assert!(!shown.contains(&*String::from_utf8_lossy(&creds.response)));
    assert!(!shown.contains("s3cret"));
    assert!(shown.contains("pbx1"));
}

#[test]
fn reasons_are_labels() {
    assert_eq!(AuthError::Stale.reason(), "stale");
    assert!(!AuthError::Stale.is_failure());
    assert!(AuthError::WrongResponse.is_failure());
    assert_eq!(Algorithm::from(DigestAlgorithm::Sha256), Algorithm::Sha256);
    assert_eq!(Algorithm::parse(b"sha-256"), Some(Algorithm::Sha256));
    assert_eq!(Algorithm::parse(b"MD5-sess"), None);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn any_credentials_round_trip(
        user in "[ -~]{1,20}",
        password in "[ -~]{0,20}",
        uri in "sip:[a-z0-9+@.;=\"]{1,30}",
        cnonce in "[a-zA-Z0-9/+]{1,20}",
        nc in 1u32..,
        sha in proptest::bool::ANY,
    ) {
        let a = auth();
        let alg = if sha { Algorithm::Sha256 } else { Algorithm::Md5 };
        let ch = a.challenge(NOW, REALM, &[alg], false);
        let value = answer(&ch[0], "INVITE", &uri, &user, &password, &cnonce, nc).unwrap();
        let creds = parse_credentials(value.as_bytes()).unwrap();
        proptest::prop_assert_eq!(&*creds.username, user.as_bytes());
        let res = a.verify(NOW, TTL, &creds, b"INVITE", uri.as_bytes(), password.as_bytes(), REALM);
        proptest::prop_assert_eq!(res, Ok(()));
    }
}

/// The answer is compared whole: a prefix of the right response, or the right one with digits
/// after it (longer than any digest), is wrong.
#[test]
fn truncated_or_overlong_responses_are_wrong() {
    let a = auth();
    let ch = a.challenge(NOW, REALM, &[Algorithm::Sha256], false);
    let nonce = nonce_of(&ch[0]);
    let input = rfc2069_input(&nonce);
    let right = compute_response(Algorithm::Sha256, &input);
    let verdict = |response: &str| {
        let value = format!(
            "Digest username=\"pbx1\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{RURI}\", response=\"{response}\", algorithm=SHA-256"
        );
        let creds = parse_credentials(value.as_bytes()).unwrap();
        a.verify(NOW, TTL, &creds, b"INVITE", RURI.as_bytes(), b"s3cret", REALM)
    };
    assert_eq!(verdict(&right[..63]), Err(AuthError::WrongResponse));
    assert_eq!(verdict(&format!("{right}0")), Err(AuthError::WrongResponse));
    assert_eq!(verdict(&format!("{right}{right}")), Err(AuthError::WrongResponse));
    assert_eq!(verdict(&right), Ok(()));
}
