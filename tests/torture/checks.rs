//! Per-message assertions of `tests/torture.rs`: the values RFC 4475 describes for each message.

use trunkgate::sip::header::{self, percent_decode, Host, Scheme};
use trunkgate::sip::{HeaderName, Message, Method, StartLine};

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn dec(b: Option<&[u8]>) -> Vec<u8> {
    percent_decode(b.unwrap_or_default()).into_owned()
}

fn ruri(m: &Message) -> header::Uri<'_> {
    header::parse_uri(m.request_uri().expect("a request")).expect("Request-URI decodes")
}

fn vias(m: &Message) -> Vec<header::Via<'_>> {
    m.header_values(HeaderName::Via)
        .map(|v| header::parse_via(v).expect("every Via decodes"))
        .collect()
}

fn contacts(m: &Message) -> Vec<header::NameAddr<'_>> {
    m.header_values(HeaderName::Contact)
        .map(|v| header::parse_name_addr(v).expect("Contact"))
        .collect()
}

fn name(h: &[u8]) -> Host<'_> {
    Host::Name(h)
}

pub fn wsinv(m: &Message) {
    assert_eq!(m.method(), Some(Method::Invite));
    let u = ruri(m);
    assert_eq!(
        (u.user, u.host),
        (Some(&b"vivekg"[..]), name(b"chair-dnrc.example.com"))
    );
    assert_eq!(
        u.params.get("unknownparam"),
        Some(None),
        "uri param with no value"
    );
    assert_eq!(m.call_id().unwrap(), b"wsinv.ndaksdj@192.0.2.1");
    let cseq = m.cseq().unwrap();
    assert_eq!(
        (cseq.seq, cseq.method),
        (9, Method::Invite),
        "cseq: 0009 INVITE folded"
    );
    assert_eq!(m.max_forwards().unwrap(), Some(68), "0068");
    let to = m.to().unwrap();
    assert_eq!(
        (to.display, to.tag()),
        (None, Some(&b"1918181833n"[..])),
        "To: tag    = 1918181833n"
    );
    let from = m.from().unwrap();
    assert_eq!(
        from.display,
        Some(&br#""J Rosenberg \\\"""#[..]),
        "escaped quotes in display name"
    );
    assert_eq!(from.tag(), Some(&b"98asjd8"[..]), "tag after folded ';'");
    assert_eq!(from.uri.user, Some(&b"jdrosen"[..]));
    let v = vias(m);
    assert_eq!(v.len(), 3, "Via + v: with two values");
    assert_eq!(
        (s(v[0].transport), v[0].branch()),
        ("UDP".into(), Some(&b"390skdjuw"[..]))
    );
    assert_eq!(v[0].host, Host::V4([192, 0, 2, 2].into()));
    assert_eq!(
        (s(v[1].transport), v[1].host, v[1].branch()),
        (
            "TCP".into(),
            name(b"spindle.example.com"),
            Some(&b"z9hG4bK9ikj8"[..])
        )
    );
    assert_eq!(
        (s(v[2].transport), v[2].branch()),
        ("UDP".into(), Some(&b"z9hG4bK30239"[..]))
    );
    assert_eq!(v[2].host, Host::V4([192, 168, 255, 111].into()));
    assert_eq!(m.header(HeaderName::Subject), Some(&b""[..]), "empty subject");
    let unusual = m
        .headers_other(b"UnknownHeaderWithUnusualValue")
        .next()
        .expect("unknown header kept");
    assert_eq!(m.slice(unusual.value), b";;,,;;,;");
    let c = contacts(m);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].display, Some(&br#""Quoted string \"\"""#[..]));
    assert_eq!(c[0].params.get("q"), Some(Some(&b"0.33"[..])));
    assert_eq!(c[0].params.get("secondparam"), Some(None));
    assert_eq!(m.body().len(), 150);
}

pub fn intmeth(m: &Message) {
    let method = b"!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!((m.method(), m.method_bytes()), (Some(Method::Other), &method[..]));
    let u = ruri(m);
    assert_eq!(
        u.user,
        Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..])
    );
    assert_eq!(
        u.password,
        Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..])
    );
    assert_eq!(u.host, name(b"example.com"));
    assert_eq!(m.top_via().unwrap().branch(), Some(&b"z9hG4bK-.!%66*_+`'~"[..]));
    assert_eq!(
        m.to().unwrap().display,
        Some(&b"\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F\""[..])
    );
    let from = m.from().unwrap();
    assert_eq!(from.display, Some(&b"token1~` token2'+_ token3*%!.-"[..]));
    assert_eq!(from.tag(), Some(&b"_token~1'+`*%!-."[..]));
    assert_eq!(
        m.call_id().unwrap(),
        b"intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    );
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method_bytes), (139122385, &method[..]));
    assert_eq!(m.max_forwards().unwrap(), Some(255));
    assert!(m.body().is_empty());
}

pub fn esc01(m: &Message) {
    let u = ruri(m);
    assert_eq!(
        u.user,
        Some(&b"sips%3Auser%40example.com"[..]),
        "user kept escaped"
    );
    assert_eq!(dec(u.user), b"sips:user@example.com", "user %-decoded");
    assert_eq!(u.host, name(b"example.net"));
    assert_eq!(dec(m.to().unwrap().uri.user), b"user");
    assert_eq!(dec(m.from().unwrap().uri.user), b"I have spaces");
    assert_eq!(m.call_id().unwrap(), b"esc01.239409asdfakjkn23onasd0-3234");
    assert_eq!(m.cseq().unwrap().seq, 234234);
    assert_eq!(dec(contacts(m)[0].uri.user), b"caller");
}

pub fn escnull(m: &Message) {
    assert_eq!(dec(m.to().unwrap().uri.user), b"null-\0-null");
    let users: Vec<Vec<u8>> = contacts(m).iter().map(|c| dec(c.uri.user)).collect();
    assert_eq!(users, vec![b"\0".to_vec(), b"\0\0".to_vec()]);
}

pub fn esc02(m: &Message) {
    assert_eq!(
        (m.method(), m.method_bytes()),
        (Some(Method::Other), &b"RE%47IST%45R"[..]),
        "not REGISTER"
    );
    let cseq = m.cseq().unwrap();
    assert_eq!(
        (cseq.method, cseq.method_bytes),
        (Method::Other, &b"RE%47IST%45R"[..])
    );
    assert_eq!(m.to().unwrap().display, Some(&b"\"%Z%45\""[..]));
    assert_eq!(m.top_via().unwrap().branch(), Some(&b"z9hG4bK209%fzsnel234"[..]));
    assert_eq!(contacts(m).len(), 2, "C%6Fntact is not Contact");
    assert_eq!(m.headers_other(b"C%6Fntact").count(), 1);
}

pub fn lwsdisp(m: &Message) {
    let from = m.from().unwrap();
    assert_eq!(
        (from.display, from.uri.user, from.tag()),
        (Some(&b"caller"[..]), Some(&b"caller"[..]), Some(&b"323"[..]))
    );
}

pub fn longreq(m: &Message) {
    let call_id = format!("longreq.one{}longcallid", "really".repeat(20));
    assert_eq!(s(m.call_id().unwrap()), call_id);
    let to = m.to().unwrap();
    let display = format!("\"I have a user name of {} proportion\"", "extreme".repeat(10));
    assert_eq!(to.display.map(s), Some(display));
    assert_eq!(to.uri.port, Some(6000));
    let p1 = format!("very{}value", "long".repeat(20));
    assert_eq!(to.uri.params.get("unknownparam1"), Some(Some(p1.as_bytes())));
    let bare = format!("very{}ParameterNameWithNoValue", "long".repeat(25));
    assert_eq!(to.uri.params.get(&bare), Some(None));
    let tag = format!("1{}2424", "298".repeat(50));
    assert_eq!(m.from().unwrap().tag(), Some(tag.as_bytes()));
    let v = vias(m);
    assert_eq!(v.len(), 34, "34 Via values, names in every case and compact form");
    assert_eq!(
        (s(v[0].transport), v[0].host),
        ("TCP".into(), name(b"sip33.example.com"))
    );
    let branch = format!("very{}branchvalue", "long".repeat(50));
    assert_eq!(v[33].branch(), Some(branch.as_bytes()));
    assert_eq!(v[33].received(), Some(&b"192.0.2.5"[..]));
    assert_eq!(m.body().len(), 150);
}

pub fn dblreq(m: &Message) {
    assert_eq!(m.method(), Some(Method::Register), "only the REGISTER counts");
    assert_eq!(m.call_id().unwrap(), b"dblreq.0ha0isndaksdj99sdfafnl3lk233412");
    assert_eq!(m.cseq().unwrap().method, Method::Register);
    assert!(m.body().is_empty(), "Content-Length: 0");
    assert!(
        !m.wire().windows(6).any(|w| w == b"INVITE"),
        "the trailing INVITE is not part of the message"
    );
}

pub fn semiuri(m: &Message) {
    let u = ruri(m);
    assert_eq!(
        u.user,
        Some(&b"user;par=u%40example.net"[..]),
        "';' in the user part"
    );
    assert_eq!(dec(u.user), b"user;par=u@example.net");
    assert_eq!((u.host, u.params.is_empty()), (name(b"example.com"), true));
    assert_eq!(
        m.header_values(HeaderName::Accept).count(),
        6,
        "folded Accept list"
    );
}

pub fn transports(m: &Message) {
    let v = vias(m);
    let got: Vec<(String, Host)> = v.iter().map(|v| (s(v.transport), v.host)).collect();
    let want = [
        ("UDP", "t1"),
        ("SCTP", "t2"),
        ("TLS", "t3"),
        ("UNKNOWN", "t4"),
        ("TCP", "t5"),
    ];
    assert_eq!(got.len(), want.len());
    for ((t, h), (wt, wh)) in got.iter().zip(want) {
        assert_eq!(
            (t.as_str(), *h),
            (wt, name(format!("{wh}.example.com").as_bytes()))
        );
    }
    assert_eq!(v[3].branch(), Some(&b"z9hG4bKasd0f3en"[..]));
}

pub fn mpart01(m: &Message) {
    assert_eq!(m.method(), Some(Method::Message));
    assert_eq!(m.header(HeaderName::ContentLength), Some(&b"553"[..]));
    assert_eq!(
        m.body().len(),
        553,
        "body length = Content-Length, binary part included"
    );
    assert!(
        m.body().starts_with(b"--7a9cbec02ceef655\r\n") && m.body().ends_with(b"--7a9cbec02ceef655--\r\n")
    );
    let via = m.top_via().unwrap();
    assert_eq!(
        (via.host, via.port, via.rport()),
        (Host::V4([127, 0, 0, 1].into()), Some(5070), Some(None))
    );
}

pub fn unreason(m: &Message) {
    assert_eq!(m.status(), Some(200));
    let StartLine::Response { reason, .. } = m.start_line() else {
        panic!("a response")
    };
    assert_eq!(
        s(m.slice(*reason)),
        "= 2**3 * 5**2 но сто девяносто девять - простое"
    );
    assert_eq!(m.call_id().unwrap(), b"unreason.1234ksdfak3j2erwedfsASdf");
    assert_eq!(m.to().unwrap().tag(), Some(&b"2229"[..]));
    assert_eq!(m.body().len(), 154);
}

pub fn noreason(m: &Message) {
    assert_eq!(m.status(), Some(100));
    let StartLine::Response { reason, .. } = m.start_line() else {
        panic!("a response")
    };
    assert!(reason.is_empty(), "empty reason phrase");
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (35, Method::Invite));
    assert_eq!(m.to().unwrap().tag(), Some(&b"902jndnke3"[..]));
}

pub fn inv2543(m: &Message) {
    let via = m.top_via().unwrap();
    assert_eq!(
        (via.branch(), via.host),
        (None, name(b"iftgw.example.com")),
        "RFC 2543: no branch"
    );
    let to = m.to().unwrap();
    assert_eq!(to.uri.user, Some(&b"+16505552222"[..]));
    assert!(
        to.uri.params.is_empty(),
        "addr-spec: ;user=phone belongs to the header"
    );
    assert_eq!(to.params.get("user"), Some(Some(&b"phone"[..])));
    assert_eq!(
        m.from().unwrap().uri.params.get("user"),
        Some(Some(&b"phone"[..]))
    );
    assert_eq!(m.from().unwrap().tag(), None);
    assert!(
        m.body().starts_with(b"v=0\r\n") && m.body().ends_with(b"m=audio 49217 RTP/AVP 0\r\n"),
        "no Content-Length: body is the rest of the datagram"
    );
}

pub fn badbranch(m: &Message) {
    assert_eq!(m.top_via().unwrap().branch(), Some(&b"z9hG4bK"[..]));
}

pub fn unkscm(m: &Message) {
    assert_eq!(ruri(m).scheme, Scheme::Other);
}

pub fn novelsc(m: &Message) {
    assert_eq!(ruri(m).scheme, Scheme::Other);
}

pub fn unksm2(m: &Message) {
    assert_eq!(
        (m.to().unwrap().uri.scheme, m.from().unwrap().uri.scheme),
        (Scheme::Other, Scheme::Other)
    );
    assert_eq!(m.from().unwrap().tag(), Some(&b"3234233"[..]));
}

pub fn bext01(m: &Message) {
    assert_eq!(m.header_values(HeaderName::ProxyRequire).count(), 2);
    assert_eq!(m.header_values(HeaderName::Require).count(), 2);
}

pub fn bcast(m: &Message) {
    assert_eq!(vias(m)[1].host, Host::V4([255, 255, 255, 255].into()));
}

pub fn zeromf(m: &Message) {
    assert_eq!(m.max_forwards().unwrap(), Some(0));
}

pub fn cparam01(m: &Message) {
    let c = &contacts(m)[0];
    assert!(
        c.uri.params.is_empty(),
        "addr-spec: ;unknownparam is a Contact parameter"
    );
    assert_eq!(c.params.get("unknownparam"), Some(None));
}

pub fn cparam02(m: &Message) {
    let c = &contacts(m)[0];
    assert_eq!(
        c.uri.params.get("unknownparam"),
        Some(None),
        "inside <>: a URI parameter"
    );
    assert!(c.params.is_empty());
}

pub fn regescrt(m: &Message) {
    assert_eq!(
        contacts(m)[0].uri.headers,
        Some(&b"Route=%3Csip:sip.example.com%3E"[..])
    );
}
