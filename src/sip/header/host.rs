//! `host [":" port]` as found in SIP URIs and Via sent-by (RFC 3261 §25.1, RFC 5118 IPv6).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::lex::{malformed, parse_decimal, shift};
use super::{GrammarError, Host};

/// A split `host[:port]`: the host as written (brackets kept) and the decoded parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HostPort<'a> {
    pub host: Host<'a>,
    pub host_raw: &'a [u8],
    pub port: Option<u16>,
}

/// Parses a complete `host[:port]` slice (no whitespace). Error offsets are relative to `s`.
pub(super) fn parse_hostport(s: &[u8]) -> Result<HostPort<'_>, GrammarError> {
    let host_end = host_len(s)?;
    let (host_raw, rest) = s.split_at_checked(host_end).ok_or(malformed("host", 0))?;
    let host = parse_host(host_raw)?;
    let port = match rest.split_first() {
        None => None,
        Some((b':', digits)) => Some(parse_port(digits).map_err(|e| shift(e, host_end + 1))?),
        Some(_) => return Err(malformed("host", host_end)),
    };
    Ok(HostPort { host, host_raw, port })
}

/// Decodes a host: `[IPv6]`, dotted IPv4, or a DNS name. A bare IPv6 address is an error.
pub(super) fn parse_host(s: &[u8]) -> Result<Host<'_>, GrammarError> {
    if let Some(inner) = s.strip_prefix(b"[") {
        let inner = inner.strip_suffix(b"]").ok_or(malformed("IPv6 reference", 0))?;
        let text = std::str::from_utf8(inner).map_err(|_| malformed("IPv6 reference", 1))?;
        return text
            .parse::<Ipv6Addr>()
            .map(Host::V6)
            .map_err(|_| malformed("IPv6 reference", 1));
    }
    let valid_name = !s.is_empty()
        && s.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
        && !s.starts_with(b".")
        && !s.starts_with(b"-");
    if !valid_name {
        return Err(malformed("host", 0));
    }
    if !top_label_is_numeric(s) {
        return Ok(Host::Name(s));
    }
    // A toplabel must start with a letter, so an all-numeric tail has to be an IPv4 address.
    let text = std::str::from_utf8(s).map_err(|_| malformed("IPv4 address", 0))?;
    text.parse::<Ipv4Addr>()
        .map(Host::V4)
        .map_err(|_| malformed("IPv4 address", 0))
}

/// Parses a port: 1..=65535, digits only.
pub(super) fn parse_port(s: &[u8]) -> Result<u16, GrammarError> {
    match parse_decimal(s, u64::from(u16::MAX)) {
        Ok(0) | Err(true) => Err(GrammarError::Range("port")),
        Ok(n) => u16::try_from(n).map_err(|_| GrammarError::Range("port")),
        Err(false) => Err(malformed("port", 0)),
    }
}

/// Length of the host part of `host[:port]`: through `]` for IPv6, else up to the first `:`.
fn host_len(s: &[u8]) -> Result<usize, GrammarError> {
    if s.first() == Some(&b'[') {
        let close = s
            .iter()
            .position(|&c| c == b']')
            .ok_or(malformed("IPv6 reference", 0))?;
        return Ok(close + 1);
    }
    Ok(s.iter().position(|&c| c == b':').unwrap_or(s.len()))
}

/// True when the last dot-separated label (ignoring one trailing dot) starts with a digit.
fn top_label_is_numeric(s: &[u8]) -> bool {
    let s = s.strip_suffix(b".").unwrap_or(s);
    let top = s.rsplit(|&c| c == b'.').next().unwrap_or_default();
    top.first().is_some_and(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses() {
        assert_eq!(parse_host(b"example.com"), Ok(Host::Name(b"example.com")));
        assert_eq!(parse_host(b"example.com."), Ok(Host::Name(b"example.com.")));
        assert_eq!(
            parse_host(b"192.0.2.1"),
            Ok(Host::V4(Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert_eq!(parse_host(b"[::1]"), Ok(Host::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(
            parse_host(b"[2001:db8::10.0.0.1]").map(|h| matches!(h, Host::V6(_))),
            Ok(true)
        );
        assert_eq!(parse_host(b"host-1.a1"), Ok(Host::Name(b"host-1.a1")));
    }

    #[test]
    fn bad_hosts() {
        for bad in [
            &b""[..],
            b"999.1.1.1",
            b"1.2.3",
            b"[::1",
            b"[zz::]",
            b"a b",
            b"a@b",
            b".a",
            b"-a",
            b"[]",
        ] {
            assert!(parse_host(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn host_and_port() {
        let hp = parse_hostport(b"[2001:db8::1]:5061").ok();
        assert_eq!(
            hp.map(|h| (h.host_raw, h.port)),
            Some((&b"[2001:db8::1]"[..], Some(5061)))
        );
        let hp = parse_hostport(b"[2001:db8::1]").ok();
        assert_eq!(hp.map(|h| h.port), Some(None));
        assert_eq!(parse_hostport(b"h:5060").map(|h| h.port), Ok(Some(5060)));
        assert_eq!(parse_hostport(b"h:0").err(), Some(GrammarError::Range("port")));
        assert_eq!(
            parse_hostport(b"h:65536").err(),
            Some(GrammarError::Range("port"))
        );
        assert_eq!(
            parse_hostport(b"h:99999999999999999999999").err(),
            Some(GrammarError::Range("port"))
        );
        assert!(parse_hostport(b"h:").is_err());
        assert!(parse_hostport(b"h:+5").is_err());
        assert!(parse_hostport(b"2001:db8::1").is_err());
        assert!(parse_hostport(b"[2001:db8::1]x").is_err());
        assert_eq!(
            parse_hostport(b"h:x"),
            Err(GrammarError::Malformed { what: "port", at: 2 })
        );
    }
}
