//! A small grammar of SIP messages for the `core` target: requests as the SPEC §7 peers would
//! send them, responses and in-dialog requests derived from what the core sent, and byte-level
//! mutations on top.

use std::fmt::Write as _;
use std::net::SocketAddr;

use arbitrary::Arbitrary;
use bytes::Bytes;
use trunkgate::sip::header::parse_name_addr;
use trunkgate::sip::{HeaderName, Message, ResponseBuilder};

/// The request methods the grammar writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum MethodPick {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Update,
    Prack,
    Message,
    Refer,
    Subscribe,
    Other,
}

impl MethodPick {
    /// The method token.
    pub fn token(self) -> &'static str {
        match self {
            MethodPick::Invite => "INVITE",
            MethodPick::Ack => "ACK",
            MethodPick::Bye => "BYE",
            MethodPick::Cancel => "CANCEL",
            MethodPick::Options => "OPTIONS",
            MethodPick::Register => "REGISTER",
            MethodPick::Info => "INFO",
            MethodPick::Update => "UPDATE",
            MethodPick::Prack => "PRACK",
            MethodPick::Message => "MESSAGE",
            MethodPick::Refer => "REFER",
            MethodPick::Subscribe => "SUBSCRIBE",
            MethodPick::Other => "FUZZ",
        }
    }
}

/// Request-URIs that reach the interesting routes of the loopback fixture.
const RURIS: [&str; 10] = [
    "sip:+14155550100@127.0.0.1:5060",
    "sip:4155550100@127.0.0.1",
    "sip:12125550123@127.0.0.1;user=phone",
    "sip:911@127.0.0.1",
    "sip:127.0.0.1:5060",
    "sip:+19995550000@127.0.0.1",
    "tel:+14155550100",
    "sip:+14155550100@198.51.100.1",
    "sip:edge.test",
    "sips:2125550123@[::1]:5061;transport=tls",
];

/// Calling users.
const FROM_USERS: [&str; 5] = ["+12125550199", "4155550123", "pbx1", "anonymous", "911"];

/// A request of the grammar (rendered by `render`).
#[derive(Debug, Clone, Arbitrary)]
pub struct Req {
    pub method: MethodPick,
    pub ruri: u8,
    pub from_user: u8,
    pub call: u8,
    pub branch: u8,
    pub from_tag: u8,
    pub to_tag: Option<u8>,
    pub cseq: u8,
    pub tcp: bool,
    pub rport: bool,
    /// 0: 70, 1: 0, 2: absent, else the value.
    pub max_forwards: u8,
    pub contact: bool,
    pub expires: Option<u16>,
    pub route_to_us: bool,
    pub require: bool,
    pub body: bool,
}

/// Byte-level damage applied after rendering.
#[derive(Debug, Clone, Arbitrary)]
pub enum Mutation {
    Set { at: u16, byte: u8 },
    Insert { at: u16, bytes: Vec<u8> },
    Delete { at: u16, len: u8 },
    Truncate { at: u16 },
}

/// Applies mutations in order (offsets wrap around the current length).
pub fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let pos = |at: u16, len: usize| usize::from(at) % (len + 1);
        match m {
            Mutation::Set { at, byte } => {
                let len = bytes.len();
                if let Some(b) = bytes.get_mut(pos(*at, len.saturating_sub(1))) {
                    *b = *byte;
                }
            }
            Mutation::Insert { at, bytes: ins } => {
                let p = pos(*at, bytes.len());
                bytes.splice(p..p, ins.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let p = pos(*at, bytes.len());
                let end = (p + usize::from(*len)).min(bytes.len());
                bytes.drain(p..end);
            }
            Mutation::Truncate { at } => bytes.truncate(pos(*at, bytes.len())),
        }
    }
    bytes
}

/// Renders a request sent from `src`, with extra header lines (already `Name: value`).
pub fn render(req: &Req, method: MethodPick, src: SocketAddr, extra: &[String]) -> Vec<u8> {
    let m = method.token();
    let ruri = RURIS[usize::from(req.ruri) % RURIS.len()];
    let user = FROM_USERS[usize::from(req.from_user) % FROM_USERS.len()];
    let ip = src.ip();
    let transport = if req.tcp { "TCP" } else { "UDP" };
    let rport = if req.rport { ";rport" } else { "" };
    let mut s = format!("{m} {ruri} SIP/2.0\r\n");
    let _ = write!(
        s,
        "Via: SIP/2.0/{transport} {src};branch=z9hG4bK{}{rport}\r\n",
        req.branch
    );
    match req.max_forwards {
        0 => s.push_str("Max-Forwards: 70\r\n"),
        1 => s.push_str("Max-Forwards: 0\r\n"),
        2 => {}
        n => {
            let _ = write!(s, "Max-Forwards: {n}\r\n");
        }
    }
    if req.route_to_us {
        s.push_str("Route: <sip:127.0.0.1:5060;lr>\r\n");
    }
    let (from_uri, to_uri) = if method == MethodPick::Register {
        ("sip:pbx1@edge.test".to_owned(), "sip:pbx1@edge.test".to_owned())
    } else {
        (format!("sip:{user}@{ip}"), ruri.to_owned())
    };
    let _ = write!(s, "From: <{from_uri}>;tag=f{}\r\n", req.from_tag);
    let _ = write!(s, "To: <{to_uri}>");
    if let Some(t) = req.to_tag {
        let _ = write!(s, ";tag=t{t}");
    }
    let _ = write!(
        s,
        "\r\nCall-ID: c{}@fuzz\r\nCSeq: {} {m}\r\n",
        req.call % 4,
        req.cseq
    );
    if req.contact {
        let _ = write!(s, "Contact: <sip:{user}@{src}>\r\n");
    }
    if let Some(e) = req.expires {
        let _ = write!(s, "Expires: {}\r\n", e % 4000);
    }
    if req.require {
        s.push_str("Require: x-fuzz\r\n");
    }
    for line in extra {
        let _ = write!(s, "{line}\r\n");
    }
    let body = if req.body { "v=0\r\ns=-\r\n" } else { "" };
    if !body.is_empty() {
        s.push_str("Content-Type: application/sdp\r\n");
    }
    let _ = write!(s, "Content-Length: {}\r\n\r\n{body}", body.len());
    s.into_bytes()
}

/// Response codes a peer may answer with (`Other` is clamped into 100..=699).
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum CodePick {
    Trying,
    Ringing,
    Progress,
    Ok,
    Busy,
    Unavailable,
    NotFound,
    Unauthorized,
    ProxyAuth,
    Timeout,
    Terminated,
    Declined,
    Redirect,
    Other(u16),
}

impl CodePick {
    /// The status code.
    pub fn code(self) -> u16 {
        match self {
            CodePick::Trying => 100,
            CodePick::Ringing => 180,
            CodePick::Progress => 183,
            CodePick::Ok => 200,
            CodePick::Busy => 486,
            CodePick::Unavailable => 503,
            CodePick::NotFound => 404,
            CodePick::Unauthorized => 401,
            CodePick::ProxyAuth => 407,
            CodePick::Timeout => 408,
            CodePick::Terminated => 487,
            CodePick::Declined => 603,
            CodePick::Redirect => 302,
            CodePick::Other(n) => 100 + n % 600,
        }
    }
}

/// A peer's response to a request the core sent it (`peer` is where it was sent).
pub fn respond(req: &Message, code: u16, peer: SocketAddr, tag: u8) -> Bytes {
    let tag = format!("p{tag}");
    let contact = format!("<sip:peer@{peer}>");
    let rr: Vec<u8> = req.header(HeaderName::RecordRoute).unwrap_or_default().to_vec();
    let mut b = ResponseBuilder::new(req, code, "Fuzz").to_tag(tag.as_bytes());
    if code >= 200 {
        b = b.header("Contact", contact.as_bytes());
    }
    if !rr.is_empty() {
        b = b.header("Record-Route", &rr);
    }
    if code == 401 || code == 407 {
        let name = if code == 401 {
            "WWW-Authenticate"
        } else {
            "Proxy-Authenticate"
        };
        b = b.header(name, b"Digest realm=\"carrier\", nonce=\"abc\", qop=\"auth\"");
    }
    b.build()
}

/// An in-dialog request from `peer`, derived from a message the core sent it: as the callee
/// of a request, or as the caller that received a response.
pub fn in_dialog(sent: &Message, method: MethodPick, peer: SocketAddr, n: u8) -> Option<Vec<u8>> {
    let m = method.token();
    let call_id = sent.call_id().ok()?;
    let mut routes: Vec<Vec<u8>> = sent
        .header_values(HeaderName::RecordRoute)
        .map(<[u8]>::to_vec)
        .collect();
    let contact = sent.header_values(HeaderName::Contact).next();
    let (from, to, seq, via) = if sent.is_request() {
        let to = sent.header(HeaderName::To)?.to_vec();
        let to = if sent.to().ok()?.tag().is_some() {
            to
        } else {
            [to, b";tag=p0".to_vec()].concat()
        };
        (
            to,
            sent.header(HeaderName::From)?.to_vec(),
            u32::from(n) + 1,
            None,
        )
    } else {
        routes.reverse();
        let seq = sent.cseq().ok()?.seq;
        let via = (method == MethodPick::Ack && sent.status()? >= 300)
            .then(|| sent.header_values(HeaderName::Via).next().map(<[u8]>::to_vec))
            .flatten();
        let seq = if method == MethodPick::Ack {
            seq
        } else {
            seq.saturating_add(1 + u32::from(n))
        };
        (
            sent.header(HeaderName::From)?.to_vec(),
            sent.header(HeaderName::To)?.to_vec(),
            seq,
            via,
        )
    };
    let target = match contact.and_then(|c| parse_name_addr(c).ok()) {
        Some(c) => c.uri_raw.to_vec(),
        None => parse_name_addr(&to).ok()?.uri_raw.to_vec(),
    };
    let mut s = Vec::with_capacity(512);
    s.extend_from_slice(format!("{m} ").as_bytes());
    s.extend_from_slice(&target);
    s.extend_from_slice(b" SIP/2.0\r\nVia: ");
    match via {
        Some(v) => s.extend_from_slice(&v),
        None => s.extend_from_slice(format!("SIP/2.0/UDP {peer};branch=z9hG4bKd{n}").as_bytes()),
    }
    s.extend_from_slice(b"\r\nMax-Forwards: 70\r\n");
    for r in &routes {
        line(&mut s, b"Route", r);
    }
    line(&mut s, b"From", &from);
    line(&mut s, b"To", &to);
    line(&mut s, b"Call-ID", call_id);
    s.extend_from_slice(format!("CSeq: {seq} {m}\r\nContent-Length: 0\r\n\r\n").as_bytes());
    Some(s)
}

fn line(s: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    s.extend_from_slice(name);
    s.extend_from_slice(b": ");
    s.extend_from_slice(value);
    s.extend_from_slice(b"\r\n");
}

/// The digest challenge value of a 401/407, with the header name to answer it in.
pub fn challenge_of(resp: &Message) -> Option<(&'static str, String)> {
    let (ask, answer) = match resp.status()? {
        401 => (HeaderName::WwwAuthenticate, "Authorization"),
        407 => (HeaderName::ProxyAuthenticate, "Proxy-Authorization"),
        _ => return None,
    };
    let v = resp.header(ask)?;
    Some((answer, String::from_utf8_lossy(v).into_owned()))
}
