//! One Via value (RFC 3261 §20.42, RFC 3581 rport).

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while, take_while1};
use nom::character::complete::digit1;
use nom::combinator::{opt, recognize};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use super::host::{parse_host, parse_port};
use super::lex::{is_host_char, is_lws, is_token, malformed, nom_at, shift, skip_lws, trim_bounds, NomErr};
use super::{GrammarError, Host, Params};

/// A decoded Via value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via<'a> {
    /// `SIP/2.0/UDP` → `UDP` (as written; compare case-insensitively).
    pub transport: &'a [u8],
    /// The sent-by host, decoded.
    pub host: Host<'a>,
    /// The sent-by host as written (brackets included for IPv6).
    pub host_raw: &'a [u8],
    /// The sent-by port, `None` when absent (the transport default applies).
    pub port: Option<u16>,
    /// `;branch=...;received=...` starting at the first `;` (empty when none).
    pub params: Params<'a>,
}

impl<'a> Via<'a> {
    /// The transaction id (RFC 3261 §17.2.3), `None` when absent or valueless.
    pub fn branch(&self) -> Option<&'a [u8]> {
        self.params.get("branch").flatten()
    }
    /// The source address a previous hop recorded (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<&'a [u8]> {
        self.params.get("received").flatten()
    }
    /// `None`: no rport; `Some(None)`: bare `;rport`; `Some(Some(p))`: filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| std::str::from_utf8(p).ok()?.parse().ok()))
    }
    /// Where responses must be multicast/sent instead of sent-by (RFC 3261 §18.2.2).
    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.params.get("maddr").flatten()
    }
}

/// Parses one Via value (one element of the comma list).
pub fn parse_via(input: &[u8]) -> Result<Via<'_>, GrammarError> {
    let (start, end) = trim_bounds(input);
    let s = input.get(start..end).unwrap_or_default();
    parse_trimmed(s).map_err(|e| shift(e, start))
}

/// The raw pieces of `sent-protocol LWS sent-by`.
struct Head<'a> {
    transport: &'a [u8],
    host_raw: &'a [u8],
    port: Option<&'a [u8]>,
}

fn parse_trimmed(s: &[u8]) -> Result<Via<'_>, GrammarError> {
    let parsed: IResult<&[u8], Head<'_>> = head(s);
    let (rest, h) = parsed.map_err(|e: NomErr<'_>| malformed("Via", nom_at(s, &e)))?;
    let host_at = offset(s, h.host_raw);
    let host = parse_host(h.host_raw).map_err(|e| shift(e, host_at))?;
    let port = match h.port {
        Some(p) => Some(parse_port(p).map_err(|e| shift(e, offset(s, p)))?),
        None => None,
    };
    let params_at = skip_lws(s, s.len() - rest.len());
    let params = Params(s.get(params_at..).unwrap_or_default());
    if !params.0.is_empty() && params.0.first() != Some(&b';') {
        return Err(malformed("Via", params_at));
    }
    params.check().map_err(|e| shift(e, params_at))?;
    Ok(Via {
        transport: h.transport,
        host,
        host_raw: h.host_raw,
        port,
        params,
    })
}

/// `SIP / 2.0 / UDP LWS host [: port]` with LWS allowed around `/` and `:`.
fn head(s: &[u8]) -> IResult<&[u8], Head<'_>> {
    let lws0 = || take_while(is_lws);
    let slash = || delimited(lws0(), tag(&b"/"[..]), lws0());
    let bracketed = recognize((tag(&b"["[..]), take_till(|c| c == b']'), tag(&b"]"[..])));
    let host = alt((bracketed, take_while1(is_host_char)));
    let port = opt(preceded((lws0(), tag(&b":"[..]), lws0()), digit1));
    let token = || take_while1(is_token);
    let mut grammar = (
        token(),
        slash(),
        token(),
        slash(),
        token(),
        take_while1(is_lws),
        host,
        port,
    );
    let (rest, (_, _, _, _, transport, _, host_raw, port)) = grammar.parse(s)?;
    Ok((
        rest,
        Head {
            transport,
            host_raw,
            port,
        },
    ))
}

/// Offset of `part` inside `whole` (`part` is a sub-slice of `whole`).
fn offset(whole: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn via(s: &[u8]) -> Via<'_> {
        match parse_via(s) {
            Ok(v) => v,
            Err(e) => panic!("{:?} failed: {e}", String::from_utf8_lossy(s)),
        }
    }

    #[test]
    fn plain_udp() {
        let v = via(b"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw;rport");
        assert_eq!(v.transport, b"UDP");
        assert_eq!(v.host, Host::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!((v.host_raw, v.port), (&b"192.0.2.1"[..], Some(5060)));
        assert_eq!(v.branch(), Some(&b"z9hG4bKkdjuw"[..]));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), None);
        assert_eq!(v.params.0, b";branch=z9hG4bKkdjuw;rport");
    }

    #[test]
    fn rport_received_maddr_ttl() {
        let v = via(b"SIP/2.0/UDP h.example.com;received=192.0.2.9;rport=5070;maddr=239.1.1.1;ttl=16");
        assert_eq!(v.received(), Some(&b"192.0.2.9"[..]));
        assert_eq!(v.rport(), Some(Some(5070)));
        assert_eq!(v.maddr(), Some(&b"239.1.1.1"[..]));
        assert_eq!(v.params.get("TTL"), Some(Some(&b"16"[..])));
        assert_eq!(v.branch(), None);
        assert_eq!(v.port, None);
    }

    #[test]
    fn ipv6_sent_by() {
        let v = via(b"SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bK1;received=2001:db8::1");
        assert_eq!(
            v.host,
            Host::V6("2001:db8::9".parse().unwrap_or(Ipv6Addr::UNSPECIFIED))
        );
        assert_eq!((v.host_raw, v.port), (&b"[2001:db8::9]"[..], Some(5060)));
        assert_eq!(v.received(), Some(&b"2001:db8::1"[..]));
        let v = via(b"SIP/2.0/UDP [::1];branch=z9hG4bK2");
        assert_eq!((v.host, v.port), (Host::V6(Ipv6Addr::LOCALHOST), None));
        assert!(parse_via(b"SIP/2.0/UDP 2001:db8::9;branch=x").is_err());
        assert!(parse_via(b"SIP/2.0/UDP [2001:db8::9;branch=x").is_err());
    }

    #[test]
    fn rfc4475_wsinv_whitespace() {
        let v = via(b"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw");
        assert_eq!(
            (v.transport, v.host_raw, v.branch()),
            (&b"UDP"[..], &b"192.0.2.2"[..], Some(&b"390skdjuw"[..]))
        );
        let v = via(b"SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ");
        assert_eq!(
            (v.transport, v.branch()),
            (&b"TCP"[..], Some(&b"z9hG4bK9ikj8"[..]))
        );
        let v = via(b" SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239");
        assert_eq!(v.branch(), Some(&b"z9hG4bK30239"[..]));
        let v = via(b"SIP/2.0/UDP host : 5060 ;lr");
        assert_eq!(v.port, Some(5060));
    }

    #[test]
    fn rfc4475_transports() {
        for t in [&b"UDP"[..], b"SCTP", b"TLS", b"UNKNOWN", b"TCP", b"WSS", b"tcp"] {
            let value = [&b"SIP/2.0/"[..], t, b" t1.example.com;branch=z9hG4bKkdjuw"].concat();
            let parsed = parse_via(&value).map(|v| v.transport.to_vec());
            assert_eq!(parsed, Ok(t.to_vec()));
        }
    }

    #[test]
    fn esc02_branch_with_percent() {
        let v = via(b"SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234");
        assert_eq!(v.branch(), Some(&b"z9hG4bK209%fzsnel234"[..]));
    }

    #[test]
    fn malformed_vias() {
        for bad in [
            &b""[..],
            b"SIP/2.0/UDP",
            b"SIP/2.0/UDP ",
            b"SIP/2.0 UDP h",
            b"SIP/2.0/UDPh",
            b"SIP/2.0/UDP h:0",
            b"SIP/2.0/UDP h:65536",
            b"SIP/2.0/UDP h:",
            b"SIP/2.0/UDP h junk",
            b"SIP/2.0/UDP h;branch=",
            b"SIP/2.0/UDP h;branch=\"open",
            b"SIP/2.0/UDP h;;",
            b"SIP/2.0/UDP 999.2.3.4",
            b"SIP/2.0/UDP h\xff",
            b"/2.0/UDP h",
        ] {
            assert!(parse_via(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn error_offsets() {
        assert_eq!(
            parse_via(b" SIP/2.0/UDP h junk"),
            Err(GrammarError::Malformed { what: "Via", at: 15 })
        );
        assert_eq!(
            parse_via(b"SIP/2.0 UDP h"),
            Err(GrammarError::Malformed { what: "Via", at: 8 })
        );
        let e = parse_via(b"SIP/2.0/UDP h;a=1;;");
        assert_eq!(
            e,
            Err(GrammarError::Malformed {
                what: "parameter",
                at: 18
            })
        );
    }
}
