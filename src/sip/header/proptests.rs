//! Property tests for the header sub-grammars: printed URIs parse back to their parts, and
//! no parser panics on arbitrary bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::{
    parse_cseq, parse_name_addr, parse_uri, parse_via, percent_decode, split_list, Host, Params, Scheme,
};

/// The parts a generated URI is printed from.
#[derive(Debug, Clone)]
struct Parts {
    sips: bool,
    user: Option<(String, Option<String>)>,
    host: GenHost,
    port: Option<u16>,
    params: Vec<(String, Option<String>)>,
    headers: Option<String>,
}

#[derive(Debug, Clone)]
enum GenHost {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Parts {
    fn print(&self) -> String {
        let mut s = String::from(if self.sips { "sips:" } else { "sip:" });
        if let Some((user, password)) = &self.user {
            s.push_str(user);
            if let Some(p) = password {
                s.push(':');
                s.push_str(p);
            }
            s.push('@');
        }
        s.push_str(&self.host_text());
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        for (n, v) in &self.params {
            s.push(';');
            s.push_str(n);
            if let Some(v) = v {
                s.push('=');
                s.push_str(v);
            }
        }
        if let Some(h) = &self.headers {
            s.push('?');
            s.push_str(h);
        }
        s
    }

    fn host_text(&self) -> String {
        match &self.host {
            GenHost::Name(n) => n.clone(),
            GenHost::V4(a) => a.to_string(),
            GenHost::V6(a) => format!("[{a}]"),
        }
    }
}

fn escaped_or(class: &'static str) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => class,
        1 => "%[0-9A-Fa-f]{2}",
    ];
    proptest::collection::vec(piece, 1..4).prop_map(|v| v.concat())
}

fn host() -> impl Strategy<Value = GenHost> {
    prop_oneof![
        "([a-z0-9][a-z0-9-]{0,8}\\.){0,3}[a-z][a-z0-9-]{0,8}".prop_map(GenHost::Name),
        any::<[u8; 4]>().prop_map(|o| GenHost::V4(Ipv4Addr::from(o))),
        any::<[u16; 8]>().prop_map(|s| GenHost::V6(Ipv6Addr::from(s))),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    let user = escaped_or("[a-zA-Z0-9_.!~*'()&=+$,;/-]{1,6}");
    let password = escaped_or("[a-zA-Z0-9_.!~*'()&=+$,-]{1,6}");
    let param = (
        "[a-zA-Z0-9_.!~*'-]{1,6}",
        proptest::option::of(escaped_or("[a-zA-Z0-9_.!~*'()\\[\\]/:&+$-]{1,6}")),
    );
    (
        any::<bool>(),
        proptest::option::of((user, proptest::option::of(password))),
        host(),
        proptest::option::of(1u16..),
        proptest::collection::vec(param, 0..4),
        proptest::option::of("[a-zA-Z]{1,4}=[a-zA-Z0-9%]{0,6}(&[a-z]{1,3}=[a-z0-9]{1,3}){0,2}"),
    )
        .prop_map(|(sips, user, host, port, params, headers)| Parts {
            sips,
            user,
            host,
            port,
            params,
            headers,
        })
}

fn same_host(parsed: Host<'_>, expected: &GenHost) -> bool {
    match (parsed, expected) {
        (Host::Name(n), GenHost::Name(e)) => n == e.as_bytes(),
        (Host::V4(a), GenHost::V4(e)) => a == *e,
        (Host::V6(a), GenHost::V6(e)) => a == *e,
        _ => false,
    }
}

fn as_bytes(o: &Option<String>) -> Option<&[u8]> {
    o.as_deref().map(str::as_bytes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn printed_uris_parse_back(p in parts()) {
        let text = p.print();
        let u = parse_uri(text.as_bytes());
        prop_assert!(u.is_ok(), "{text}: {u:?}");
        let Ok(u) = u else { return Ok(()) };
        prop_assert_eq!(u.scheme, if p.sips { Scheme::Sips } else { Scheme::Sip });
        prop_assert_eq!(u.user, p.user.as_ref().map(|(n, _)| n.as_bytes()));
        prop_assert_eq!(u.password, p.user.as_ref().and_then(|(_, pw)| as_bytes(pw)));
        prop_assert!(same_host(u.host, &p.host), "{text}: {:?}", u.host);
        let host_text = p.host_text();
        prop_assert_eq!(u.host_raw, host_text.as_bytes());
        prop_assert_eq!(u.port, p.port);
        let params: Vec<_> = u.params.iter().collect();
        let expected: Vec<_> = p.params.iter().map(|(n, v)| (n.as_bytes(), as_bytes(v))).collect();
        prop_assert_eq!(params, expected);
        prop_assert_eq!(u.headers, as_bytes(&p.headers));
    }

    #[test]
    fn printed_uris_survive_name_addr(p in parts(), tag in "[a-z0-9]{1,8}") {
        let text = format!("\"Dis play\" <{}>;tag={tag}", p.print());
        let n = parse_name_addr(text.as_bytes());
        prop_assert!(n.is_ok(), "{text}: {n:?}");
        let Ok(n) = n else { return Ok(()) };
        let printed = p.print();
        prop_assert_eq!(n.uri_raw, printed.as_bytes());
        prop_assert_eq!(n.tag(), Some(tag.as_bytes()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        let _ = parse_uri(&bytes);
        let _ = parse_via(&bytes);
        let _ = parse_name_addr(&bytes);
        let _ = parse_cseq(&bytes);
        let _ = percent_decode(&bytes);
        let p = Params(&bytes);
        let _ = (p.check(), p.get("tag"), p.iter().count());
        for item in split_list(&bytes) {
            let _ = (parse_via(item), parse_name_addr(item));
        }
    }

    #[test]
    fn sip_flavoured_bytes_never_panic(s in "[sipSIP:@;=<>\"\\[\\]0-9a-f./ \t\r\n%?&,\\\\-]{0,64}") {
        let b = s.as_bytes();
        let _ = (parse_uri(b), parse_via(b), parse_name_addr(b), parse_cseq(b), percent_decode(b));
        let via = format!("SIP/2.0/UDP {s}");
        let _ = parse_via(via.as_bytes());
        let uri = format!("sip:{s}");
        let _ = parse_uri(uri.as_bytes());
    }

    #[test]
    fn percent_decode_inverts_encoding(raw in proptest::collection::vec(any::<u8>(), 0..32)) {
        let encoded: String = raw.iter().map(|b| format!("%{b:02X}")).collect();
        prop_assert_eq!(percent_decode(encoded.as_bytes()).into_owned(), raw);
    }
}
