//! One Via value (RFC 3261 §20.42, RFC 3581 rport).

use super::host::{parse_host, parse_port};
use super::lex::{is_host_char, is_token, malformed, shift, skip_lws, take_while, trim_bounds};
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

/// The raw pieces of `sent-protocol LWS sent-by`, as offsets into the value.
struct Head {
    /// `transport` of `SIP/2.0/transport`.
    transport: (usize, usize),
    /// The host as written (brackets included).
    host: (usize, usize),
    /// The port digits, when a `:` and at least one digit follow the host.
    port: Option<(usize, usize)>,
    /// Where the rest (params) starts: after the port, else after the host.
    rest: usize,
}

fn parse_trimmed(s: &[u8]) -> Result<Via<'_>, GrammarError> {
    let h = head(s).map_err(|at| malformed("Via", at))?;
    let part = |(start, end): (usize, usize)| s.get(start..end).unwrap_or_default();
    let host_raw = part(h.host);
    let host = parse_host(host_raw).map_err(|e| shift(e, h.host.0))?;
    let port = match h.port {
        Some(p) => Some(parse_port(part(p)).map_err(|e| shift(e, p.0))?),
        None => None,
    };
    let params_at = skip_lws(s, h.rest);
    let params = Params(s.get(params_at..).unwrap_or_default());
    if !params.0.is_empty() && params.0.first() != Some(&b';') {
        return Err(malformed("Via", params_at));
    }
    params.check().map_err(|e| shift(e, params_at))?;
    Ok(Via {
        transport: part(h.transport),
        host,
        host_raw,
        port,
        params,
    })
}

/// `SIP / 2.0 / UDP LWS host [: port]` with LWS allowed around `/` and `:`. `Err` holds the
/// offset where the grammar failed: the start of a missing token, host or LWS, or the first
/// byte after the LWS where a `/` was expected.
fn head(s: &[u8]) -> Result<Head, usize> {
    let token = |at: usize| {
        let end = take_while(s, at, is_token);
        if end > at {
            Ok(end)
        } else {
            Err(at)
        }
    };
    let slash = |at: usize| {
        let at = skip_lws(s, at);
        match s.get(at) {
            Some(b'/') => Ok(skip_lws(s, at + 1)),
            _ => Err(at),
        }
    };
    let version = slash(token(0)?)?;
    let transport_at = slash(token(version)?)?;
    let transport_end = token(transport_at)?;
    let host_at = skip_lws(s, transport_end);
    if host_at == transport_end {
        return Err(transport_end);
    }
    let host_end = host_end(s, host_at).ok_or(host_at)?;
    // An optional `: port`; without digits after the colon the head ends at the host.
    let colon = skip_lws(s, host_end);
    let digits_at = skip_lws(s, colon + 1);
    let digits_end = take_while(s, digits_at, |c| c.is_ascii_digit());
    let port = (s.get(colon) == Some(&b':') && digits_end > digits_at).then_some((digits_at, digits_end));
    Ok(Head {
        transport: (transport_at, transport_end),
        host: (host_at, host_end),
        port,
        rest: port.map_or(host_end, |(_, end)| end),
    })
}

/// End of the host starting at `at`: through the first `]` for a `[` reference, else the run
/// of host characters; `None` when that is empty.
fn host_end(s: &[u8], at: usize) -> Option<usize> {
    let rest = s.get(at..).unwrap_or_default();
    if rest.first() == Some(&b'[') {
        if let Some(close) = memchr::memchr(b']', rest) {
            return Some(at + close + 1);
        }
    }
    let end = take_while(s, at, is_host_char);
    (end > at).then_some(end)
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
