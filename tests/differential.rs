//! Differential test: trunkgate's parser against ezk-sip-types on the valid RFC 4475 messages.
//!
//! For each valid message (RFC 4475 §3.1.1 and §3.4.1) that ezk parses, both parsers must agree
//! on what a proxy reads: method or status, Request-URI (scheme, %-decoded user, host, port),
//! Call-ID, CSeq number and method, how many Via values and the top branch, From and To tags.
//! ezk is driven the way its own transport does it (ezk-sip-core `transport/parse.rs`:
//! `PullParser` lines, `MessageLine` then `Line` per header into `Headers`).
//!
//! Where ezk is known to read a field differently, the field is skipped for that file only and
//! the reason is written next to it (`EZK_DIFFERS`); everything else must match exactly.

use bytes::Bytes;
use ezk_sip_types::header::typed::{CSeq, CallID, FromTo, Via};
use ezk_sip_types::host::Host as EzkHost;
use ezk_sip_types::msg::{Line, MessageLine, PullParser};
use ezk_sip_types::parse::Parse;
use ezk_sip_types::uri::SipUriUserPart;
use ezk_sip_types::{Headers, Name};
use trunkgate::sip::header::{self, percent_decode, Host, Scheme};
use trunkgate::sip::{HeaderName, Message};

/// The valid messages of RFC 4475 (§3.1.1 and §3.4.1).
const VALID: &[&str] = &[
    "wsinv",
    "intmeth",
    "esc01",
    "escnull",
    "esc02",
    "lwsdisp",
    "longreq",
    "dblreq",
    "semiuri",
    "transports",
    "mpart01",
    "unreason",
    "noreason",
    "inv2543",
];

/// (file, field) pairs where ezk is known to differ, and why trunkgate's reading is the RFC's.
const EZK_DIFFERS: &[(&str, &str, &str)] = &[
    // ezk %-decodes Via params: it reads branch `z9hG4bK-.!%66*_+`'~` as `...!f*...`. A branch is
    // a token (RFC 3261 §20.42), where '%' is an ordinary character; RFC 4475 §3.1.1.2 says so.
    ("intmeth", "top_branch", "ezk %-decodes a token"),
];

/// CONFORMANCE: (file, field) pairs where ezk is right and trunkgate is not yet (open parser
/// bugs, also listed in `tests/torture.rs`). A pair that starts agreeing fails the test, so
/// fixing the parser means deleting the line here.
const TRUNKGATE_BUGS: &[(&str, &str)] = &[];

/// What a proxy reads from a message; `None` for a field the parser could not decode.
#[derive(Debug, Default, PartialEq, Eq)]
struct View {
    start: Option<String>,
    ruri: Option<String>,
    call_id: Option<String>,
    cseq: Option<String>,
    via_count: Option<usize>,
    top_branch: Option<Option<String>>,
    from_tag: Option<Option<String>>,
    to_tag: Option<Option<String>>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn load(file: &str) -> Bytes {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/rfc4475/{file}.dat"));
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// `sips?|user|host|port` for a SIP URI, so both parsers' URIs compare as one string.
fn uri_key(sips: bool, user: Option<Vec<u8>>, host: String, port: Option<u16>) -> String {
    format!(
        "{}|{}|{}|{:?}",
        if sips { "sips" } else { "sip" },
        text(&user.unwrap_or_default()),
        host,
        port
    )
}

fn ours(msg: &Message) -> View {
    let start = match (msg.status(), msg.request_uri()) {
        (Some(code), _) => code.to_string(),
        (None, _) => text(msg.method_bytes()),
    };
    let ruri = msg
        .request_uri()
        .and_then(|r| header::parse_uri(r).ok())
        .and_then(|u| {
            let sips = match u.scheme {
                Scheme::Sip => false,
                Scheme::Sips => true,
                _ => return None,
            };
            let host = match u.host {
                Host::Name(n) => text(n),
                Host::V4(a) => a.to_string(),
                Host::V6(a) => format!("[{a}]"),
            };
            Some(uri_key(
                sips,
                u.user.map(|x| percent_decode(x).into_owned()),
                host,
                u.port,
            ))
        });
    let tag = |r: Result<header::NameAddr<'_>, _>| r.ok().map(|n| n.tag().map(text));
    View {
        start: Some(start),
        ruri,
        call_id: msg.call_id().ok().map(text),
        cseq: msg
            .cseq()
            .ok()
            .map(|c| format!("{} {}", c.seq, text(c.method_bytes))),
        via_count: Some(msg.header_values(HeaderName::Via).count()),
        top_branch: msg.top_via().ok().map(|v| v.branch().map(text)),
        from_tag: tag(msg.from()),
        to_tag: tag(msg.to()),
    }
}

/// Parses like ezk-sip-core's transport does; `None` when ezk rejects the message.
fn ezk_parse(buf: &Bytes) -> Option<(MessageLine, Headers)> {
    let mut line0 = None;
    let mut headers = Headers::new();
    for item in PullParser::new(buf, 0) {
        let line = std::str::from_utf8(item.ok()?).ok()?;
        if line0.is_none() {
            line0 = Some(MessageLine::parse(buf)(line).ok()?.1);
        } else {
            let (_, l) = Line::parse(buf, line).ok()?;
            headers.insert(l.name, l.value);
        }
    }
    Some((line0?, headers))
}

fn ezk_view(line: &MessageLine, h: &Headers) -> View {
    let (start, ruri) = match line {
        MessageLine::Request(r) => {
            let user = match &r.uri.user_part {
                SipUriUserPart::Empty => None,
                SipUriUserPart::User(u) => Some(u.as_bytes().to_vec()),
                SipUriUserPart::UserPw(up) => Some(up.user.as_bytes().to_vec()),
            };
            let host = match &r.uri.host_port.host {
                EzkHost::Name(n) => n.to_string(),
                other => other.to_string(),
            };
            (
                r.method.to_string(),
                Some(uri_key(r.uri.sips, user, host, r.uri.host_port.port)),
            )
        }
        MessageLine::Response(s) => (s.code.into_u16().to_string(), None),
    };
    let tag = |name: Name| h.get::<FromTo>(name).ok().map(|f| f.tag.map(|t| t.to_string()));
    let vias = h.get::<Vec<Via>>(Name::VIA).ok();
    View {
        start: Some(start),
        ruri,
        call_id: h.get_named::<CallID>().ok().map(|c| c.0.to_string()),
        cseq: h
            .get_named::<CSeq>()
            .ok()
            .map(|c| format!("{} {}", c.cseq, c.method)),
        via_count: vias.as_ref().map(Vec::len),
        top_branch: vias
            .as_ref()
            .and_then(|v| v.first())
            .map(|v| v.params.get_val("branch").map(|b| b.to_string())),
        from_tag: tag(Name::FROM),
        to_tag: tag(Name::TO),
    }
}

/// Field-by-field differences where ezk decoded the field; skips `EZK_DIFFERS` entries.
fn differences(file: &str, ours: &View, ezk: &View) -> Vec<String> {
    let fields: [(&str, String, String, bool); 8] = [
        (
            "start",
            format!("{:?}", ours.start),
            format!("{:?}", ezk.start),
            ezk.start.is_some(),
        ),
        (
            "ruri",
            format!("{:?}", ours.ruri),
            format!("{:?}", ezk.ruri),
            ezk.ruri.is_some(),
        ),
        (
            "call_id",
            format!("{:?}", ours.call_id),
            format!("{:?}", ezk.call_id),
            ezk.call_id.is_some(),
        ),
        (
            "cseq",
            format!("{:?}", ours.cseq),
            format!("{:?}", ezk.cseq),
            ezk.cseq.is_some(),
        ),
        (
            "via_count",
            format!("{:?}", ours.via_count),
            format!("{:?}", ezk.via_count),
            ezk.via_count.is_some(),
        ),
        (
            "top_branch",
            format!("{:?}", ours.top_branch),
            format!("{:?}", ezk.top_branch),
            ezk.top_branch.is_some(),
        ),
        (
            "from_tag",
            format!("{:?}", ours.from_tag),
            format!("{:?}", ezk.from_tag),
            ezk.from_tag.is_some(),
        ),
        (
            "to_tag",
            format!("{:?}", ours.to_tag),
            format!("{:?}", ezk.to_tag),
            ezk.to_tag.is_some(),
        ),
    ];
    fields
        .into_iter()
        .filter(|(name, _, _, decoded)| {
            *decoded && !EZK_DIFFERS.iter().any(|(f, n, _)| *f == file && n == name)
        })
        .filter(|(_, a, b, _)| a != b)
        .map(|(name, a, b, _)| (name, format!("{file}.{name}: trunkgate {a}, ezk {b}")))
        .filter(|(name, _)| !TRUNKGATE_BUGS.contains(&(file, name)))
        .map(|(_, d)| d)
        .chain(
            TRUNKGATE_BUGS
                .iter()
                .filter(|(f, n)| *f == file && fixed(n, ours, ezk))
                .map(|(f, n)| format!("{f}.{n}: now agrees with ezk, remove it from TRUNKGATE_BUGS")),
        )
        .collect()
}

/// True when a listed trunkgate bug no longer shows (both parsers agree on the field).
fn fixed(field: &str, ours: &View, ezk: &View) -> bool {
    match field {
        "ruri" => ours.ruri == ezk.ruri,
        "to_tag" => ours.to_tag == ezk.to_tag,
        "from_tag" => ours.from_tag == ezk.from_tag,
        _ => false,
    }
}

#[test]
fn trunkgate_agrees_with_ezk_on_valid_torture_messages() {
    let mut compared = 0;
    let mut diffs = Vec::new();
    for file in VALID {
        let buf = load(file);
        let Some((line, headers)) = ezk_parse(&buf) else {
            continue;
        };
        let Ok(msg) = Message::parse(buf.clone()) else {
            diffs.push(format!("{file}: ezk parses it, trunkgate does not"));
            continue;
        };
        compared += 1;
        diffs.extend(differences(file, &ours(&msg), &ezk_view(&line, &headers)));
    }
    assert!(
        diffs.is_empty(),
        "trunkgate and ezk disagree:\n  {}",
        diffs.join("\n  ")
    );
    println!("compared {compared} of {} valid messages with ezk", VALID.len());
    assert!(
        compared >= 12,
        "ezk parsed only {compared} of the 14 valid messages"
    );
}
