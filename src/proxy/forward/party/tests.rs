//! Splicing of header plans and dialog From/To translation.

use super::*;
use crate::policy::compose::{Compose, Party, PartyEdit, PartyHeader};

fn msg(text: &str) -> Message {
    let text = text.replace('\n', "\r\n");
    Message::parse(Bytes::from(text)).expect("test message parses")
}

fn edited(m: &Message, f: impl FnOnce(&mut Editor<'_>)) -> Message {
    let mut ed = Editor::new(m);
    f(&mut ed);
    Message::parse(ed.finish()).expect("edited message parses")
}

fn h(m: &Message, name: HeaderName) -> Vec<String> {
    m.header_values(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

const INVITE: &str = "INVITE sip:+12125550199@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK1
From: \"Alice\" <sip:201:pw@pbx.acme.local:5070;user=phone>;tag=abc
To: <sip:+12125550199@127.0.0.1>
Call-ID: c1
CSeq: 1 INVITE
P-Asserted-Identity: <sip:201@pbx.acme.local>
Remote-Party-ID: <sip:201@pbx.acme.local>;party=calling
Max-Forwards: 70
Content-Length: 0

";

fn party(display: Option<&str>, user: &str, host: &str) -> Party {
    Party {
        display: display.map(str::to_owned),
        user: user.into(),
        host: host.into(),
    }
}

#[test]
fn compose_rewrites_every_part() {
    let m = msg(INVITE);
    let c = Compose {
        from: PartyEdit {
            display: Some("Acme \"HQ\"".into()),
            user: Some("4155550002".into()),
            host: Some("127.0.0.5:5070".into()),
        },
        to: PartyEdit {
            display: None,
            user: Some("2125550199".into()),
            host: Some("carrier.example".into()),
        },
        pai: PartyHeader::Set(party(Some("Acme"), "4155550002", "edge.example")),
        rpid: PartyHeader::Set(party(None, "4155550002", "edge.example")),
    };
    let out = edited(&m, |ed| apply_compose(&m, &c, ed));
    assert_eq!(
        h(&out, HeaderName::From),
        ["\"Acme \\\"HQ\\\"\" <sip:4155550002@127.0.0.5:5070;user=phone>;tag=abc"]
    );
    assert_eq!(h(&out, HeaderName::To), ["<sip:2125550199@carrier.example>"]);
    assert_eq!(
        h(&out, HeaderName::PAssertedIdentity),
        ["\"Acme\" <sip:4155550002@edge.example>"]
    );
    assert_eq!(
        h(&out, HeaderName::RemotePartyId),
        ["<sip:4155550002@edge.example>;party=calling;screen=yes;privacy=off"]
    );
    assert_eq!(h(&out, HeaderName::CallId), ["c1"]);
}

#[test]
fn compose_keeps_untouched_parts_and_removes_headers() {
    let m = msg(INVITE);
    let c = Compose {
        from: PartyEdit {
            display: Some(String::new()),
            ..PartyEdit::default()
        },
        to: PartyEdit::default(),
        pai: PartyHeader::Remove,
        rpid: PartyHeader::Keep,
    };
    let out = edited(&m, |ed| apply_compose(&m, &c, ed));
    assert_eq!(
        h(&out, HeaderName::From),
        ["<sip:201:pw@pbx.acme.local:5070;user=phone>;tag=abc"]
    );
    assert_eq!(h(&out, HeaderName::To), ["<sip:+12125550199@127.0.0.1>"]);
    assert!(h(&out, HeaderName::PAssertedIdentity).is_empty());
    assert_eq!(
        h(&out, HeaderName::RemotePartyId),
        ["<sip:201@pbx.acme.local>;party=calling"]
    );
}

#[test]
fn tags_stripped_and_put_back() {
    assert_eq!(
        without_tag(b"\"A\" <sip:a@b>;x=1;tag=t1;y").as_ref(),
        b"\"A\" <sip:a@b>;x=1;y"
    );
    assert_eq!(without_tag(b"sip:a@b;tag=t1").as_ref(), b"sip:a@b");
    let bye = msg("BYE sip:uac@127.0.0.3 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.5;branch=z9hG4bK2
From: <sip:2125550199@carrier.example>;tag=uas5
To: \"Acme\" <sip:4155550002@127.0.0.5>;tag=abc
Call-ID: c1
CSeq: 7 BYE
Content-Length: 0

");
    let ids = DialogIds {
        from: b"<sip:+12125550199@127.0.0.1>",
        to: b"\"Alice\" <sip:201@pbx.acme.local>",
    };
    let out = edited(&bye, |ed| apply_ids(&bye, &ids, ed));
    assert_eq!(
        h(&out, HeaderName::From),
        ["<sip:+12125550199@127.0.0.1>;tag=uas5"]
    );
    assert_eq!(
        h(&out, HeaderName::To),
        ["\"Alice\" <sip:201@pbx.acme.local>;tag=abc"]
    );
}

#[test]
fn responses_get_their_requests_from_and_to() {
    let req = msg(INVITE);
    let ok = msg("SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK1
From: <sip:4155550002@127.0.0.5:5070>;tag=abc
To: <sip:2125550199@carrier.example>;tag=uas5
Call-ID: c1
CSeq: 1 INVITE
Content-Length: 0

");
    let out = edited(&ok, |ed| restore_ids(&ok, &req, ed));
    assert_eq!(
        h(&out, HeaderName::From),
        ["\"Alice\" <sip:201:pw@pbx.acme.local:5070;user=phone>;tag=abc"]
    );
    assert_eq!(h(&out, HeaderName::To), ["<sip:+12125550199@127.0.0.1>;tag=uas5"]);
}

#[test]
fn matching_responses_are_left_alone() {
    let req = msg(INVITE);
    let text = INVITE
        .replace("INVITE sip:+12125550199@127.0.0.1 SIP/2.0", "SIP/2.0 180 Ringing")
        .replace(
            "To: <sip:+12125550199@127.0.0.1>",
            "To: <sip:+12125550199@127.0.0.1>;tag=x",
        );
    let ringing = msg(&text);
    let mut ed = Editor::new(&ringing);
    restore_ids(&ringing, &req, &mut ed);
    assert_eq!(ed.finish(), ringing.bytes().clone());
}
