//! The PBX's side of digest authentication (RFC 3261 §22, RFC 8760).

use trunkgate::policy::digest;
use trunkgate::sip::Message;

use super::msg::MsgExt;
use super::ua::Peer;
use super::uac::UacCall;

/// Sends the INVITE without credentials, checks the 407 (two challenges: MD5 first, then
/// SHA-256, realm edge.test), ACKs it, then sends the INVITE again answering the challenge
/// for `algorithm` as pbx1 / s3cret. Returns the 407.
pub fn invite_with_digest(pbx: &impl Peer, call: &mut UacCall, algorithm: &str) -> Message {
    pbx.send(&call.invite());
    let challenge = pbx.expect_response(407);
    let offers = challenge.lines("Proxy-Authenticate");
    assert_eq!(offers.len(), 2, "two challenges expected:\n{}", challenge.text());
    assert!(offers[0].contains("algorithm=MD5"), "MD5 first: {offers:?}");
    assert!(
        offers[1].contains("algorithm=SHA-256"),
        "SHA-256 second: {offers:?}"
    );
    for o in &offers {
        assert!(o.starts_with("Digest "), "{o}");
        assert!(o.contains("realm=\"edge.test\""), "{o}");
    }
    pbx.send(&call.ack_non2xx(&challenge));
    let offer = offers
        .iter()
        .find(|o| o.contains(&format!("algorithm={algorithm}")))
        .expect("offered algorithm");
    let answer = digest::answer(offer, "INVITE", &call.ruri, "pbx1", "s3cret", "0a4f113b", 1)
        .expect("answer the challenge");
    call.auth = Some(answer);
    pbx.send(&call.next_invite());
    challenge
}
