//! `parse` target: `Message::parse` on arbitrary bytes, then every typed view, the core-header
//! check, an `Editor` round trip whose output must re-parse, and the `wire()` round trip.

use bytes::Bytes;
use trunkgate::sip::header::{self, parse_name_addr, parse_uri};
use trunkgate::sip::{parse_for_reply, Editor, HeaderName, Limits, Message};

/// The Via the editor prepends (and must come out on top).
const OUR_VIA: &[u8] = b"SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKfuzz";
/// The Request-URI user the editor writes.
const NEW_USER: &[u8] = b"15551234567";

/// Runs one input through every check of the target.
pub fn run(data: &[u8]) {
    let buf = Bytes::copy_from_slice(data);
    let _ = parse_for_reply(buf.clone(), &Limits::default());
    let Ok(msg) = Message::parse(buf) else { return };
    views(&msg);
    wire_round_trip(&msg);
    editor_round_trip(&msg);
}

/// Decodes every typed view; none may panic, whatever they return.
fn views(msg: &Message) {
    let _ = msg
        .top_via()
        .map(|v| (v.branch(), v.received(), v.rport(), v.maddr()));
    for v in msg.header_values(HeaderName::Via) {
        let _ = header::parse_via(v).map(|v| v.params.check());
    }
    let _ = msg.from().map(|n| n.tag());
    let _ = msg.to().map(|n| n.tag());
    let _ = msg.cseq();
    let _ = msg.call_id();
    let _ = msg.max_forwards();
    let _ = msg.check_core_headers();
    let _ = msg.request_uri_user();
    if let Some(uri) = msg.request_uri() {
        if let Ok(u) = parse_uri(uri) {
            let _ = u.params.check();
            let _ = u.user.map(header::percent_decode);
        }
    }
    for c in msg.header_values(HeaderName::Contact).filter(|c| *c != b"*") {
        let _ = parse_name_addr(c).map(|n| (n.tag(), n.params.iter().count()));
    }
    for h in msg.headers() {
        let _ = msg.span_of(msg.slice(h.value));
    }
}

/// `wire()` is the message itself: parsing it again gives the same index.
fn wire_round_trip(msg: &Message) {
    let again = match Message::parse(msg.wire()) {
        Ok(m) => m,
        Err(e) => panic!("wire() of a parsed message does not parse: {e:?}"),
    };
    assert_eq!(again.start_line(), msg.start_line(), "start line changed");
    assert_eq!(again.headers(), msg.headers(), "headers changed");
    assert_eq!(again.body(), msg.body(), "body changed");
}

/// Prepend a Via, remove the (old) top Via, rewrite the RURI user, append a header: the result
/// must parse, with our Via on top, the same number of Via values and the same body.
fn editor_round_trip(msg: &Message) {
    let vias_before = msg.header_values(HeaderName::Via).count();
    let mut e = Editor::new(msg);
    e.remove_top_via()
        .prepend_via(OUR_VIA)
        .set_request_uri_user(NEW_USER)
        .append_header("X-Fuzz", b"1");
    let out = e.finish();
    let roomy = Limits {
        max_message_bytes: 1 << 20,
        max_headers: 1024,
    };
    let edited = match Message::parse_with(out, &roomy) {
        Ok(m) => m,
        Err(err) => panic!("edited message does not parse: {err:?}"),
    };
    let top = edited.header_values(HeaderName::Via).next();
    assert_eq!(top, Some(OUR_VIA), "prepended Via is not on top");
    let vias_after = edited.header_values(HeaderName::Via).count();
    assert_eq!(
        vias_after,
        vias_before.max(1),
        "Via count after prepend + remove top"
    );
    assert_eq!(edited.body(), msg.body(), "body changed by header edits");
    let last = edited.headers().last().map(|h| edited.slice(h.name_span));
    assert_eq!(last, Some(&b"X-Fuzz"[..]), "appended header is not last");
    if msg.request_uri().is_some_and(|u| u.contains(&b':')) {
        assert_eq!(
            edited.request_uri_user(),
            Some(NEW_USER),
            "RURI user not rewritten"
        );
    }
}
