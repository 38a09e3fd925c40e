//! name-addr / addr-spec values: From, To, Contact, Route, Record-Route, P-Asserted-Identity.

use super::lex::{is_lws, is_token, malformed, quoted_end, shift, skip_lws, trim_bounds};
use super::uri::{bare_uri_len, parse_uri};
use super::{GrammarError, Params, Uri};

/// A decoded `[display-name] <uri>;params` or bare `uri;params` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name as written (quotes included when quoted), `None` when absent.
    pub display: Option<&'a [u8]>,
    /// The URI bytes (inside `<>` when present).
    pub uri_raw: &'a [u8],
    /// `uri_raw`, decoded.
    pub uri: Uri<'a>,
    /// Header parameters after the URI (`;tag=...`).
    pub params: Params<'a>,
}

impl<'a> NameAddr<'a> {
    /// The dialog tag (RFC 3261 §19.3), `None` when absent or valueless.
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.params.get("tag").flatten()
    }
}

/// Parses a name-addr or addr-spec (for addr-spec, `;` params belong to the header, RFC 3261 §20.10).
pub fn parse_name_addr(input: &[u8]) -> Result<NameAddr<'_>, GrammarError> {
    let (start, end) = trim_bounds(input);
    let s = input.get(start..end).unwrap_or_default();
    parse_trimmed(s).map_err(|e| shift(e, start))
}

/// Picks the form: quoted display name, token display name or bare `<`, or addr-spec.
fn parse_trimmed(s: &[u8]) -> Result<NameAddr<'_>, GrammarError> {
    if s.first() == Some(&b'"') {
        let end = quoted_end(s, 0).ok_or(malformed("display name", 0))?;
        return angle_form(s, s.get(..end), skip_lws(s, end));
    }
    match s.iter().position(|c| matches!(c, b'<' | b';' | b'"')) {
        Some(lt) if s.get(lt) == Some(&b'<') => {
            let (ds, de) = trim_bounds(s.get(..lt).unwrap_or_default());
            let display = s.get(ds..de).filter(|d| !d.is_empty());
            if let Some(bad) = display.and_then(|d| d.iter().position(|&c| !is_token(c) && !is_lws(c))) {
                return Err(malformed("display name", ds + bad));
            }
            angle_form(s, display, lt)
        }
        _ => bare_form(s),
    }
}

/// The `tag` header parameter of a From/To value, found without decoding the URI: the
/// parameters after `>` (name-addr) or after the addr-spec (bare form). For the hot path
/// (dialog matching, route signatures), where the value was already validated once.
pub fn tag_of(value: &[u8]) -> Option<&[u8]> {
    let s = super::trim(value);
    let params = match angle_start(s) {
        Some(lt) => {
            let close = lt + s.get(lt..)?.iter().position(|&c| c == b'>')?;
            s.get(close + 1..)?
        }
        None => s.get(bare_uri_len(s)..)?,
    };
    Params(params).get("tag").flatten()
}

/// Index of the `<` of a name-addr (outside a quoted display name), if any.
fn angle_start(s: &[u8]) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, &c) in s.iter().enumerate() {
        match c {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `<uri>` at `lt`, then header params.
fn angle_form<'a>(s: &'a [u8], display: Option<&'a [u8]>, lt: usize) -> Result<NameAddr<'a>, GrammarError> {
    if s.get(lt) != Some(&b'<') {
        return Err(malformed("name-addr", lt));
    }
    let inner = s.get(lt + 1..).unwrap_or_default();
    let close = inner
        .iter()
        .position(|&c| c == b'>')
        .ok_or(malformed("name-addr", lt))?;
    let uri_raw = inner.get(..close).unwrap_or_default();
    let uri = parse_uri(uri_raw).map_err(|e| shift(e, lt + 1))?;
    let params = header_params(s, lt + close + 2)?;
    Ok(NameAddr {
        display,
        uri_raw,
        uri,
        params,
    })
}

/// A bare addr-spec: the URI ends before the first `;`/LWS after its user part.
fn bare_form(s: &[u8]) -> Result<NameAddr<'_>, GrammarError> {
    let len = bare_uri_len(s);
    let uri_raw = s.get(..len).unwrap_or_default();
    let uri = parse_uri(uri_raw)?;
    if let Some(h) = uri.headers {
        // A URI with headers must be enclosed in <> (RFC 3261 §20, RFC 4475 regbadct).
        return Err(malformed("addr-spec", len.saturating_sub(h.len() + 1)));
    }
    let params = header_params(s, len)?;
    Ok(NameAddr {
        display: None,
        uri_raw,
        uri,
        params,
    })
}

/// Header params from `pos`: nothing but LWS, or LWS then a checked `;` list.
fn header_params(s: &[u8], pos: usize) -> Result<Params<'_>, GrammarError> {
    let at = skip_lws(s, pos).min(s.len());
    let params = Params(s.get(at..).unwrap_or_default());
    if !params.0.is_empty() && params.0.first() != Some(&b';') {
        return Err(malformed("name-addr", at));
    }
    params.check().map_err(|e| shift(e, at))?;
    Ok(params)
}

#[cfg(test)]
mod tag_tests {
    use super::tag_of;

    #[test]
    fn finds_the_tag_without_decoding() {
        assert_eq!(tag_of(b"\"A <b>\" <sip:a@h;tag=no>;tag=yes"), Some(&b"yes"[..]));
        assert_eq!(tag_of(b"sip:a@h;tag=x1"), Some(&b"x1"[..]));
        assert_eq!(tag_of(b"<sip:a@h>"), None);
        assert_eq!(tag_of(b"<sip:a@h"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Host, Scheme};
    use super::*;

    fn na(s: &[u8]) -> NameAddr<'_> {
        match parse_name_addr(s) {
            Ok(v) => v,
            Err(e) => panic!("{:?} failed: {e}", String::from_utf8_lossy(s)),
        }
    }

    #[test]
    fn quoted_display() {
        let n = na(br#""Alice \"A\" Smith" <sip:alice@example.com;transport=tcp>;tag=1928301774"#);
        assert_eq!(n.display, Some(&br#""Alice \"A\" Smith""#[..]));
        assert_eq!(n.uri_raw, b"sip:alice@example.com;transport=tcp");
        assert_eq!(n.uri.params.get("transport"), Some(Some(&b"tcp"[..])));
        assert_eq!(n.tag(), Some(&b"1928301774"[..]));
    }

    #[test]
    fn token_display_and_bare_angle() {
        let n = na(b"Bob Smith <sip:bob@example.org>;tag=a6c85cf;expires=60");
        assert_eq!(n.display, Some(&b"Bob Smith"[..]));
        assert_eq!(n.params.get("expires"), Some(Some(&b"60"[..])));
        let n = na(b"<sip:bob@[2001:db8::2]:5070>");
        assert_eq!((n.display, n.uri.port, n.tag()), (None, Some(5070), None));
        assert!(matches!(n.uri.host, Host::V6(_)));
    }

    #[test]
    fn rfc4475_lwsdisp() {
        let n = na(b"caller<sip:caller@example.com>;tag=323");
        assert_eq!((n.display, n.tag()), (Some(&b"caller"[..]), Some(&b"323"[..])));
    }

    #[test]
    fn rfc4475_wsinv_folded() {
        let n = na(b"\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
        assert_eq!(
            (n.uri_raw, n.tag()),
            (
                &b"sip:vivekg@chair-dnrc.example.com"[..],
                Some(&b"1918181833n"[..])
            )
        );
        let n = na(b"\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8");
        assert_eq!(n.display, Some(&b"\"J Rosenberg \\\\\\\"\""[..]));
        assert_eq!(n.tag(), Some(&b"98asjd8"[..]));
        let n = na(b"\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33");
        assert_eq!(n.params.iter().count(), 3);
        assert_eq!(n.params.get("q"), Some(Some(&b"0.33"[..])));
    }

    #[test]
    fn bare_addr_spec_params_belong_to_header() {
        let n = na(b"sip:caller@example.org;tag=33242");
        assert_eq!(n.uri_raw, b"sip:caller@example.org");
        assert!(n.uri.params.is_empty());
        assert_eq!(n.tag(), Some(&b"33242"[..]));
        // cparam01: an unknown param on a bare Contact is a header param.
        let n = na(b"sip:+19725552222@gw1.example.net;unknownparam");
        assert_eq!(n.params.get("unknownparam"), Some(None));
        // cparam02: inside <> it is a URI param.
        let n = na(b"<sip:+19725552222@gw1.example.net;unknownparam>");
        assert_eq!(
            (n.uri.params.get("unknownparam"), n.params.is_empty()),
            (Some(None), true)
        );
    }

    #[test]
    fn rfc4475_semiuri_bare_user_with_semicolon() {
        let n = na(b"sip:user;par=u%40example.net@example.com;tag=9");
        assert_eq!(n.uri.user, Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(n.tag(), Some(&b"9"[..]));
    }

    #[test]
    fn rfc4475_odd_schemes_and_escapes() {
        // unksm2
        assert_eq!(na(b"isbn:2983792873").uri.scheme, Scheme::Other);
        let n = na(b"<http://www.example.com>;tag=3234233");
        assert_eq!((n.uri.scheme, n.tag()), (Scheme::Other, Some(&b"3234233"[..])));
        assert_eq!(na(b"<name:John_Smith>").uri.scheme, Scheme::Other);
        // esc02, esc01, escnull, regescrt
        assert_eq!(
            na(b"\"%Z%45\" <sip:resource@example.com>").display,
            Some(&b"\"%Z%45\""[..])
        );
        assert_eq!(
            na(b"<sip:I%20have%20spaces@example.net>;tag=938").uri.user,
            Some(&b"I%20have%20spaces"[..])
        );
        assert_eq!(
            na(b"sip:null-%00-null@example.com;tag=839923423").tag(),
            Some(&b"839923423"[..])
        );
        let n = na(b"<sip:user@example.com?Route=%3Csip:sip.example.com%3E>");
        assert_eq!(n.uri.headers, Some(&b"Route=%3Csip:sip.example.com%3E"[..]));
        let n = na(b"tel:+1-555-0100;tag=x");
        assert_eq!(
            (n.uri.scheme, n.uri.user, n.tag()),
            (Scheme::Tel, Some(&b"+1-555-0100"[..]), Some(&b"x"[..]))
        );
    }

    #[test]
    fn rfc4475_intmeth_odd_but_valid() {
        let to = b"\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>";
        let n = na(to);
        assert_eq!(
            n.uri.user,
            Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..])
        );
        let from = "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u{440}\u{430}\u{431}\u{43e}\u{442}\u{430}\u{44e}\u{449}\u{438}\u{439}\";tag=_token~1'+`*%!-.";
        let n = na(from.as_bytes());
        assert_eq!(n.display, Some(&b"token1~` token2'+_ token3*%!.-"[..]));
        assert_eq!(n.tag(), Some(&b"_token~1'+`*%!-."[..]));
        assert_eq!(n.params.iter().count(), 2);
    }

    #[test]
    fn quoted_param_values_with_semicolons() {
        let n = na(br#"<sip:a@b>;+sip.instance="<urn:uuid:1;2>";tag=t"#);
        assert_eq!(
            n.params.get("+sip.instance"),
            Some(Some(&br#""<urn:uuid:1;2>""#[..]))
        );
        assert_eq!(n.tag(), Some(&b"t"[..]));
    }

    #[test]
    fn rfc4475_invalid_forms() {
        for bad in [
            &b"\"Mr. J. User <sip:j.user@example.com>"[..],       // quotbal
            b"\"Watson, Thomas\" < sip:t.watson@example.org >",   // badaspec
            b"Bell, Alexander <sip:a.g.bell@example.com>;tag=43", // baddn
            b"Watson, Thomas <sip:t.watson@example.org>",
            b"",
            b"<>",
            b"<sip:a@b",
            b"sip:a b@c",
            b"<sip:a@b> junk",
            b"<sip:a@b>;tag=",
            b"\"x\" sip:a@b",
            b"J\xc3\xa9 <sip:a@b>",
            b"Bell",
            b"<sip:a@b>;tag=\"open",
            b"sip:user@example.com?Route=%3Csip:sip.example.com%3E", // regbadct
        ] {
            assert!(
                parse_name_addr(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn error_offsets() {
        let e = parse_name_addr(b" \"Bob\" < sip:b@h>");
        assert_eq!(e, Err(GrammarError::Malformed { what: "URI", at: 8 }));
        let e = parse_name_addr(b"Bell, A <sip:a@b>");
        assert_eq!(
            e,
            Err(GrammarError::Malformed {
                what: "display name",
                at: 4
            })
        );
        assert_eq!(
            parse_name_addr(b"\"open <sip:a@b>"),
            Err(GrammarError::Malformed {
                what: "display name",
                at: 0
            })
        );
    }
}
