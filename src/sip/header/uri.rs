//! SIP/SIPS/tel URIs (RFC 3261 §19.1, RFC 3966): user, password, host (IPv6 references
//! included), port, params, headers, and %-escapes.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::host::parse_hostport;
use super::lex::{find_unquoted, is_lws, is_scheme_char, is_uri_forbidden_or_delim, malformed, shift};
use super::{GrammarError, Params};

/// URI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// `sip:` (RFC 3261 §19.1).
    Sip,
    /// `sips:`: TLS required on every hop.
    Sips,
    /// `tel:` (RFC 3966): a phone number, no host.
    Tel,
    /// Any other scheme (e.g. `http`, `im`): parsed no further than the scheme.
    Other,
}

/// A URI host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A DNS name (bytes as written).
    Name(&'a [u8]),
    /// A dotted IPv4 address.
    V4(Ipv4Addr),
    /// Written as `[...]`; the bytes inside the brackets were parsed.
    V6(Ipv6Addr),
}

/// A decoded URI; every slice borrows from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri<'a> {
    /// Which grammar the rest was parsed with.
    pub scheme: Scheme,
    /// The user part still %-escaped (use `percent_decode` to compare). For tel: the number.
    pub user: Option<&'a [u8]>,
    /// The password after `user:` (deprecated by RFC 3261, still parsed).
    pub password: Option<&'a [u8]>,
    /// For `Scheme::Other` and tel: `Host::Name(b"")`.
    pub host: Host<'a>,
    /// The host bytes as written (brackets included for IPv6).
    pub host_raw: &'a [u8],
    /// The explicit port (1..=65535), `None` when absent.
    pub port: Option<u16>,
    /// `;name=value` parameters after host[:port] (for tel: after the number).
    pub params: Params<'a>,
    /// The `?h=v&...` part without the `?`.
    pub headers: Option<&'a [u8]>,
}

/// Parses a URI (no surrounding `<>` or whitespace).
pub fn parse_uri(input: &[u8]) -> Result<Uri<'_>, GrammarError> {
    let marks = Marks::scan(input)?;
    let (scheme, base) = parse_scheme(input)?;
    let body = input.get(base..).unwrap_or_default();
    let uri = match scheme {
        Scheme::Sip | Scheme::Sips => parse_sip_body(scheme, body, &marks.relative_to(base)),
        Scheme::Tel => parse_tel_body(body),
        Scheme::Other => parse_other_body(body),
    };
    uri.map_err(|e| shift(e, base))
}

/// Where a SIP URI splits, found in the same pass that rejects forbidden bytes. The scheme
/// holds none of `?`, `@`, `;`, so every mark lies in the body.
#[derive(Debug, Default)]
struct Marks {
    /// The first `?`.
    question: Option<usize>,
    /// The last `@` before the first `?`.
    at_before_question: Option<usize>,
    /// The last `@` anywhere.
    last_at: Option<usize>,
    /// The first `;` after `at_before_question` (after the start when there is none) and
    /// before the first `?`.
    semi: Option<usize>,
}

impl Marks {
    /// Scans `input` once; the first forbidden byte is an error.
    fn scan(input: &[u8]) -> Result<Marks, GrammarError> {
        let mut m = Marks::default();
        for (i, &c) in input.iter().enumerate() {
            if !is_uri_forbidden_or_delim(c) {
                continue;
            }
            let before_question = m.question.is_none();
            match c {
                b'?' if before_question => m.question = Some(i),
                b'@' => {
                    m.last_at = Some(i);
                    if before_question {
                        m.at_before_question = Some(i);
                        m.semi = None;
                    }
                }
                b';' if before_question && m.semi.is_none() => m.semi = Some(i),
                b'?' | b';' => {}
                _ => return Err(malformed("URI", i)),
            }
        }
        Ok(m)
    }

    /// The marks as offsets into `input[base..]`.
    fn relative_to(&self, base: usize) -> Marks {
        let at = |p: Option<usize>| p.map(|p| p.saturating_sub(base));
        Marks {
            question: at(self.question),
            at_before_question: at(self.at_before_question),
            last_at: at(self.last_at),
            semi: at(self.semi),
        }
    }
}

/// Decodes %HH escapes; borrows when there are none. Invalid escapes are kept as written.
pub fn percent_decode(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.contains(&b'%') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        let hex = s
            .get(i + 1)
            .and_then(|&h| hex_val(h))
            .zip(s.get(i + 2).and_then(|&l| hex_val(l)));
        match (c, hex) {
            (b'%', Some((h, l))) => {
                out.push((h << 4) | l);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Length of the URI at the start of a bare addr-spec header value (RFC 3261 §20.10): the
/// user part runs to the last `@` before any quote or whitespace, the URI then ends at the
/// first `;` or whitespace (what follows belongs to the header).
pub(super) fn bare_uri_len(s: &[u8]) -> usize {
    let limit = find_unquoted(s, b"\" \t\r\n").unwrap_or(s.len());
    let head = s.get(..limit).unwrap_or_default();
    let start = head.iter().rposition(|&c| c == b'@').unwrap_or(0);
    let rest = s.get(start..).unwrap_or_default();
    start
        + rest
            .iter()
            .position(|&c| c == b';' || is_lws(c))
            .unwrap_or(rest.len())
}

/// `scheme ":"` (scheme = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")), case-insensitive.
/// Returns the scheme and the offset of the body (just past the `:`).
fn parse_scheme(input: &[u8]) -> Result<(Scheme, usize), GrammarError> {
    let len = input
        .iter()
        .position(|&c| !is_scheme_char(c))
        .unwrap_or(input.len());
    let name = input.get(..len).unwrap_or_default();
    if !name.first().is_some_and(u8::is_ascii_alphabetic) || input.get(len) != Some(&b':') {
        return Err(malformed("URI scheme", 0));
    }
    let is = |s: &[u8]| name.eq_ignore_ascii_case(s);
    let scheme = if is(b"sip") {
        Scheme::Sip
    } else if is(b"sips") {
        Scheme::Sips
    } else if is(b"tel") {
        Scheme::Tel
    } else {
        Scheme::Other
    };
    Ok((scheme, len + 1))
}

/// `[user[:password]@]host[:port][;params][?headers]`; offsets relative to `body`, as are
/// the `marks`.
fn parse_sip_body<'a>(scheme: Scheme, body: &'a [u8], marks: &Marks) -> Result<Uri<'a>, GrammarError> {
    // The userinfo ends at the last `@` before the first `?`: `@` never appears unescaped
    // after the user part, but the user may contain `?` (RFC 4475 intmeth). Some peers
    // leave `@` unescaped in URI headers, so with no `@` before the `?`, take the last one.
    let at = marks.at_before_question.or(marks.last_at);
    let (userinfo, hp_start) = match at {
        Some(at) => (body.get(..at), at + 1),
        None => (None, 0),
    };
    let (user, password) = split_userinfo(userinfo)?;
    let after_user = body.get(hp_start..).unwrap_or_default();
    // Past an `@` that follows the first `?` (rare), the marks no longer apply: search again.
    let beyond_question = marks.at_before_question.is_none() && at.is_some();
    let question = if beyond_question {
        memchr::memchr(b'?', after_user)
    } else {
        marks.question.map(|q| q - hp_start)
    };
    let (tail, headers) = match question {
        Some(q) => (after_user.get(..q).unwrap_or_default(), after_user.get(q + 1..)),
        None => (after_user, None),
    };
    if headers.is_some_and(<[u8]>::is_empty) {
        return Err(malformed("URI headers", hp_start + tail.len()));
    }
    let semi = if beyond_question {
        memchr::memchr(b';', tail)
    } else {
        marks.semi.map(|s| s - hp_start)
    };
    let hp_len = semi.unwrap_or(tail.len());
    let (hostport, params) = tail.split_at_checked(hp_len).ok_or(malformed("URI", hp_start))?;
    let hp = parse_hostport(hostport).map_err(|e| shift(e, hp_start))?;
    let params = Params(params);
    params.check().map_err(|e| shift(e, hp_start + hp_len))?;
    Ok(Uri {
        scheme,
        user,
        password,
        host: hp.host,
        host_raw: hp.host_raw,
        port: hp.port,
        params,
        headers,
    })
}

type UserInfo<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// Splits `user[:password]`; the user must be non-empty.
fn split_userinfo(userinfo: Option<&[u8]>) -> Result<UserInfo<'_>, GrammarError> {
    let Some(ui) = userinfo else {
        return Ok((None, None));
    };
    let (user, password) = match ui.iter().position(|&c| c == b':') {
        Some(colon) => (ui.get(..colon).unwrap_or_default(), ui.get(colon + 1..)),
        None => (ui, None),
    };
    if user.is_empty() {
        return Err(malformed("URI user", 0));
    }
    Ok((Some(user), password))
}

/// `number[;params]` (RFC 3966); offsets relative to `body`.
fn parse_tel_body(body: &[u8]) -> Result<Uri<'_>, GrammarError> {
    let is_tel_char =
        |c: u8| c.is_ascii_hexdigit() || matches!(c, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#');
    let len = body.iter().position(|&c| c == b';').unwrap_or(body.len());
    let (number, params) = body.split_at_checked(len).ok_or(malformed("tel number", 0))?;
    if number.is_empty() || !number.iter().all(|&c| is_tel_char(c)) {
        return Err(malformed("tel number", 0));
    }
    let params = Params(params);
    params.check().map_err(|e| shift(e, len))?;
    let empty = number.get(len..).unwrap_or_default();
    Ok(Uri {
        user: Some(number),
        params,
        ..opaque(Scheme::Tel, empty)
    })
}

/// Any other scheme: kept opaque, only checked to be non-empty.
fn parse_other_body(body: &[u8]) -> Result<Uri<'_>, GrammarError> {
    if body.is_empty() {
        return Err(malformed("URI", 0));
    }
    Ok(opaque(Scheme::Other, body.get(..0).unwrap_or_default()))
}

/// A URI with no user, host or params (`empty` is a zero-length slice at a useful offset).
fn opaque(scheme: Scheme, empty: &[u8]) -> Uri<'_> {
    Uri {
        scheme,
        user: None,
        password: None,
        host: Host::Name(empty),
        host_raw: empty,
        port: None,
        params: Params(empty),
        headers: None,
    }
}

fn hex_val(c: u8) -> Option<u8> {
    char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &[u8]) -> Uri<'_> {
        match parse_uri(s) {
            Ok(u) => u,
            Err(e) => panic!("{:?} failed: {e}", String::from_utf8_lossy(s)),
        }
    }

    #[test]
    fn full_sip_uri() {
        let u = uri(b"sips:alice:secret@example.com:5061;transport=tcp;lr?Subject=hi&X=y");
        assert_eq!(u.scheme, Scheme::Sips);
        assert_eq!(u.user, Some(&b"alice"[..]));
        assert_eq!(u.password, Some(&b"secret"[..]));
        assert_eq!(u.host, Host::Name(b"example.com"));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.params.get("TRANSPORT"), Some(Some(&b"tcp"[..])));
        assert_eq!(u.params.get("lr"), Some(None));
        assert_eq!(u.headers, Some(&b"Subject=hi&X=y"[..]));
    }

    #[test]
    fn minimal_and_scheme_case() {
        let u = uri(b"SIP:example.com");
        assert_eq!(
            (u.scheme, u.user, u.host_raw, u.port),
            (Scheme::Sip, None, &b"example.com"[..], None)
        );
        assert!(u.params.is_empty());
        assert_eq!(uri(b"sip:192.0.2.1").host, Host::V4(Ipv4Addr::new(192, 0, 2, 1)));
    }

    #[test]
    fn ipv6_hosts() {
        let u = uri(b"sip:a@[2001:db8::1]:5060;transport=udp");
        assert_eq!(
            u.host,
            Host::V6("2001:db8::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED))
        );
        assert_eq!((u.host_raw, u.port), (&b"[2001:db8::1]"[..], Some(5060)));
        let u = uri(b"sip:[::1]");
        assert_eq!((u.host, u.port), (Host::V6(Ipv6Addr::LOCALHOST), None));
        assert!(parse_uri(b"sip:a@2001:db8::1").is_err());
        assert!(parse_uri(b"sip:a@[2001:db8::1").is_err());
        assert!(parse_uri(b"sip:a@[2001:db8::1]5060").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(uri(b"sip:a@h:65535").port, Some(65535));
        assert_eq!(parse_uri(b"sip:a@h:0"), Err(GrammarError::Range("port")));
        assert_eq!(parse_uri(b"sip:a@h:65536"), Err(GrammarError::Range("port")));
        assert_eq!(
            parse_uri(b"sip:a@h:123456789012345678901234567890"),
            Err(GrammarError::Range("port"))
        );
        assert_eq!(
            parse_uri(b"sip:a@h:"),
            Err(GrammarError::Malformed { what: "port", at: 8 })
        );
        assert!(parse_uri(b"sip:a@h:50a").is_err());
    }

    #[test]
    fn rfc4475_semiuri_user_with_semicolon() {
        let u = uri(b"sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user, Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(u.host, Host::Name(b"example.com"));
        assert!(u.params.is_empty());
        let u = uri(b"sip:user;par=u%40example.net@example.com;lr?h=v");
        assert_eq!(u.params.get("lr"), Some(None));
        assert_eq!(u.headers, Some(&b"h=v"[..]));
    }

    #[test]
    fn rfc4475_escapes() {
        // esc01: escaped user parts and params.
        let u = uri(b"sip:sips%3Auser%40example.com@example.net");
        assert_eq!(
            u.user.map(percent_decode).as_deref(),
            Some(&b"sips:user@example.com"[..])
        );
        assert_eq!(u.host, Host::Name(b"example.net"));
        let u = uri(b"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
        assert_eq!(u.user.map(percent_decode).as_deref(), Some(&b"caller"[..]));
        assert_eq!(u.params.iter().count(), 2);
        // escnull: %00 in the user.
        let u = uri(b"sip:null-%00-null@example.com");
        assert_eq!(u.user.map(percent_decode).as_deref(), Some(&b"null-\0-null"[..]));
        // escruri / regescrt: escaped headers.
        let u = uri(b"sip:user@example.com?Route=%3Csip:example.com%3E");
        assert_eq!(u.headers, Some(&b"Route=%3Csip:example.com%3E"[..]));
    }

    #[test]
    fn rfc4475_intmeth_user_with_question_mark() {
        let u = uri(b"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
        assert_eq!(
            u.user,
            Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..])
        );
        assert_eq!(
            u.password,
            Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..])
        );
        assert_eq!((u.host, u.headers), (Host::Name(b"example.com"), None));
        // An unescaped `@` in a URI header does not steal the user part.
        let u = uri(b"sip:bob@b.example?Replaces=123@192.0.2.1");
        assert_eq!((u.user, u.host_raw), (Some(&b"bob"[..]), &b"b.example"[..]));
        assert_eq!(u.headers, Some(&b"Replaces=123@192.0.2.1"[..]));
    }

    #[test]
    fn percent_decoding() {
        assert!(matches!(percent_decode(b"plain"), Cow::Borrowed(b"plain")));
        assert_eq!(&*percent_decode(b"%75se%72"), b"user");
        // esc02: invalid escapes are kept as written.
        assert_eq!(&*percent_decode(b"RE%47IST%45R"), b"REGISTER");
        assert_eq!(&*percent_decode(b"%Z%45"), b"%ZE");
        assert_eq!(&*percent_decode(b"100%"), b"100%");
        assert_eq!(&*percent_decode(b"%4"), b"%4");
        assert_eq!(&*percent_decode(b"%fF"), b"\xff");
    }

    #[test]
    fn tel_uris() {
        let u = uri(b"tel:+1-555-555-0100;phone-context=example.com;ext=12");
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user, Some(&b"+1-555-555-0100"[..]));
        assert_eq!(u.host, Host::Name(b""));
        assert_eq!(u.params.get("phone-context"), Some(Some(&b"example.com"[..])));
        assert_eq!(uri(b"TEL:911").user, Some(&b"911"[..]));
        assert!(parse_uri(b"tel:").is_err());
        assert!(parse_uri(b"tel:;x=1").is_err());
        assert!(parse_uri(b"tel:12@host").is_err());
    }

    #[test]
    fn other_schemes_stay_opaque() {
        // RFC 4475 unkscm, novelsc, unksm2.
        for s in [
            &b"nobodyKnowsThisScheme:totallyopaquecontent"[..],
            b"soap.beep://192.0.2.103:3002",
            b"isbn:2983792873",
            b"http://www.example.com",
            b"name:John_Smith",
            b"mailto:a@b.example",
            b"im:user@example.com",
        ] {
            let u = uri(s);
            assert_eq!(
                (u.scheme, u.host, u.user, u.port),
                (Scheme::Other, Host::Name(b""), None, None)
            );
        }
        assert!(parse_uri(b"foo:").is_err());
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            &b""[..],
            b"sip:user@example.com; lr", // RFC 4475 lwsruri
            b"sip:user@example.com ",
            b" sip:a@b",
            b"<sip:user@example.com>", // ltgtruri
            b"sip:",
            b"sip:@example.com",
            b"sip:user@",
            b"sip:a@b;",
            b"sip:a@b;=1",
            b"sip:a@b?",
            b"sip:a@b c",
            b"1sip:a@b",
            b"sip",
            b":a@b",
            b"sip:a@h\"x",
            b"sip:a@ex ample.com",
            b"sip:a@h\xc3\xa9",
            b"sip:a@999.0.0.1",
        ] {
            assert!(parse_uri(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn error_offsets_point_into_input() {
        assert_eq!(
            parse_uri(b"sip:a@b; lr"),
            Err(GrammarError::Malformed { what: "URI", at: 8 })
        );
        assert_eq!(
            parse_uri(b"sip:a@b;x;;"),
            Err(GrammarError::Malformed {
                what: "parameter",
                at: 10
            })
        );
        assert_eq!(
            parse_uri(b"sip:@b"),
            Err(GrammarError::Malformed {
                what: "URI user",
                at: 4
            })
        );
    }

    #[test]
    fn bare_addr_spec_lengths() {
        assert_eq!(bare_uri_len(b"sip:caller@example.org;tag=1"), 22);
        assert_eq!(
            bare_uri_len(b"sip:user;par=u%40example.net@example.com;tag=1"),
            40
        );
        assert_eq!(bare_uri_len(b"sip:h;x=\"a@b\""), 5);
        assert_eq!(bare_uri_len(b"sip:a@b ;tag=1"), 7);
        assert_eq!(bare_uri_len(b"isbn:2983792873"), 15);
        assert_eq!(bare_uri_len(b""), 0);
    }
}
