//! Property tests: messages generated from parts parse back to those parts; arbitrary bytes
//! never panic the parser, the framer or the editor.

use bytes::Bytes;
use proptest::prelude::*;

use super::framing::{frame, Frame};
use super::message::Message;
use super::name::HeaderName;
use super::parse::parse_for_reply;
use super::Editor;

/// (long name, compact name) pairs the generator picks from, plus plain extension headers.
const NAMES: [(&str, &str); 8] = [
    ("Via", "v"),
    ("From", "f"),
    ("To", "t"),
    ("Call-ID", "i"),
    ("Contact", "m"),
    ("Subject", "s"),
    ("Supported", "k"),
    ("X-Custom-Header", "X-Custom-Header"),
];

#[derive(Debug, Clone)]
struct GenHeader {
    name: usize,
    compact: bool,
    before_colon: &'static str,
    after_colon: &'static str,
    value: String,
    /// Split the value at this word and fold the rest onto a continuation line.
    fold: Option<usize>,
}

fn gen_header() -> impl Strategy<Value = GenHeader> {
    (
        0..NAMES.len(),
        any::<bool>(),
        prop::sample::select(vec!["", " ", "\t", "  "]),
        prop::sample::select(vec!["", " ", "\t", "   "]),
        "[a-zA-Z0-9;=@.<>:,_+-]{1,12}( [a-zA-Z0-9;=@.:_-]{1,12}){0,3}",
        prop::option::of(1usize..4),
    )
        .prop_map(
            |(name, compact, before_colon, after_colon, value, fold)| GenHeader {
                name,
                compact,
                before_colon,
                after_colon,
                value,
                fold,
            },
        )
}

impl GenHeader {
    fn write(&self, out: &mut String) {
        let (long, short) = NAMES[self.name];
        out.push_str(if self.compact { short } else { long });
        out.push_str(self.before_colon);
        out.push(':');
        out.push_str(self.after_colon);
        out.push_str(&self.wire_value());
        out.push_str("\r\n");
    }

    /// The value as it appears on the wire (folded lines keep their CRLF + SP).
    fn wire_value(&self) -> String {
        let words: Vec<&str> = self.value.split(' ').collect();
        match self.fold {
            Some(at) if at < words.len() => {
                format!("{}\r\n  {}", words[..at].join(" "), words[at..].join(" "))
            }
            _ => self.value.clone(),
        }
    }
}

fn build(method: &str, user: &str, headers: &[GenHeader], body: &str) -> String {
    let mut s = format!("{method} sip:{user}@example.com SIP/2.0\r\n");
    headers.iter().for_each(|h| h.write(&mut s));
    s.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s
}

proptest! {
    #[test]
    fn generated_messages_round_trip(
        method in "[A-Za-z!%*_+`'~.-]{1,12}",
        user in "[a-z0-9+]{0,10}",
        headers in prop::collection::vec(gen_header(), 0..12),
        body in "[ -~\r\n]{0,64}",
    ) {
        let raw = build(&method, &user, &headers, &body);
        let m = Message::parse(Bytes::from(raw.clone())).unwrap();
        prop_assert_eq!(m.method_bytes(), method.as_bytes());
        prop_assert_eq!(m.headers().len(), headers.len() + 1);
        for (h, g) in m.headers().iter().zip(&headers) {
            let (long, _) = NAMES[g.name];
            prop_assert_eq!(h.name, HeaderName::from_bytes(long.as_bytes()));
            let want = g.wire_value();
            prop_assert_eq!(m.slice(h.value), want.as_bytes());
        }
        prop_assert_eq!(m.body(), body.as_bytes());
        prop_assert_eq!(frame(raw.as_bytes(), 65535), Frame::Message(raw.len()));
        let mut e = Editor::new(&m);
        e.prepend_via(b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKp").set_request_uri_user(b"100");
        let out = Message::parse(e.finish()).unwrap();
        prop_assert_eq!(out.headers().len(), m.headers().len() + 1);
        prop_assert_eq!(out.body(), body.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = frame(&raw, 200);
        let _ = parse_for_reply(Bytes::from(raw.clone()), &Default::default());
        if let Ok(m) = Message::parse(Bytes::from(raw)) {
            let _ = m.check_core_headers();
            let mut e = Editor::new(&m);
            e.remove_top_via().set_request_uri_user(b"1").set_body(&b"x"[..]);
            let _ = e.finish();
        }
    }

    #[test]
    fn sip_like_bytes_never_panic(
        lines in prop::collection::vec("[ -~\t]{0,30}", 0..12),
        ends in prop::collection::vec(prop::sample::select(vec!["\r\n", "\n", "\r", ""]), 12),
    ) {
        let mut raw = String::from("INVITE sip:a@b SIP/2.0\r\n");
        for (l, e) in lines.iter().zip(&ends) {
            raw.push_str(l);
            raw.push_str(e);
        }
        let _ = frame(raw.as_bytes(), 65535);
        if let Ok(m) = Message::parse(Bytes::from(raw)) {
            let mut e = Editor::new(&m);
            e.remove_top_via().append_header("X", b"y").set_body(&b"x"[..]);
            let _ = e.finish();
            let _ = super::ResponseBuilder::new(&m, 400, "Bad Request").to_tag(b"t").build();
        }
    }
}
