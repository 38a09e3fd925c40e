//! `host [":" port]` as found in SIP URIs and Via sent-by (RFC 3261 §25.1, RFC 5118 IPv6).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::lex::{is_host_char, malformed, parse_decimal, shift};
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
    if s.is_empty() || s.starts_with(b".") || s.starts_with(b"-") {
        return Err(malformed("host", 0));
    }
    // One pass: every byte must be a host character; remember where the top label starts
    // (after the last dot, ignoring one trailing dot).
    let mut top = 0;
    for (i, &c) in s.iter().enumerate() {
        if !is_host_char(c) {
            return Err(malformed("host", 0));
        }
        if c == b'.' && i + 1 < s.len() {
            top = i + 1;
        }
    }
    if !s.get(top).is_some_and(u8::is_ascii_digit) {
        return Ok(Host::Name(s));
    }
    // A toplabel must start with a letter, so an all-numeric tail has to be an IPv4 address.
    parse_ipv4(s).map(Host::V4).ok_or(malformed("IPv4 address", 0))
}

/// Parses a dotted-quad IPv4 address, accepting exactly what `std`'s `Ipv4Addr::from_str`
/// accepts: four decimal octets separated by `.`, each at most 255, without leading zeros
/// (`0` alone is fine, `01` is not). One pass, no UTF-8 conversion.
pub(super) fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut pos = 0;
    for (i, slot) in octets.iter_mut().enumerate() {
        if i > 0 {
            if s.get(pos) != Some(&b'.') {
                return None;
            }
            pos += 1;
        }
        let (value, len) = octet(s.get(pos..)?)?;
        *slot = value;
        pos += len;
    }
    (pos == s.len()).then(|| Ipv4Addr::from(octets))
}

/// The decimal octet at the start of `s` and its length: `0`, or 1 to 3 digits not starting
/// with `0`, at most 255. A longer run of digits is left for the caller to reject.
fn octet(s: &[u8]) -> Option<(u8, usize)> {
    let digit = |i: usize| {
        s.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u16::from(c - b'0'))
    };
    let mut value = digit(0)?;
    let mut len = 1;
    if value != 0 {
        while let Some(d) = digit(len).filter(|_| len < 3) {
            value = value * 10 + d;
            len += 1;
        }
    }
    Some((u8::try_from(value).ok()?, len))
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

    /// The reference: what `std` accepts.
    fn std_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
        std::str::from_utf8(s).ok()?.parse().ok()
    }

    #[test]
    fn ipv4_matches_std_on_edge_cases() {
        for s in [
            &b"0.0.0.0"[..],
            b"255.255.255.255",
            b"192.0.2.1",
            b"1.2.3.4",
            b"01.2.3.4",
            b"1.2.3.04",
            b"1.2.3.00",
            b"0.0.0.00",
            b"1.2.3.256",
            b"256.1.1.1",
            b"1.2.3.1000",
            b"1.2.3.0255",
            b"1.2.3",
            b"1.2.3.4.",
            b".1.2.3.4",
            b"1..2.3",
            b"1.2.3.4.5",
            b"1.2.3.",
            b"",
            b".",
            b"...",
            b"1.2.3.4a",
            b"1.2.3.-4",
            b"+1.2.3.4",
            b"1.2.3.+4",
            b"1.2.3. 4",
            b"999.999.999.999",
            b"65536.1.1.1",
            b"4294967295",
            b"1.2.3.4\0",
            b"\xd9\xa1.2.3.4",
        ] {
            assert_eq!(parse_ipv4(s), std_ipv4(s), "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn ipv4_matches_std_exhaustively_on_short_strings() {
        // Every string of up to 8 bytes over a small alphabet (about 1.7 million).
        const ALPHABET: &[u8] = b"0129.a";
        let mut buf = Vec::with_capacity(8);
        for len in 0..=8u32 {
            let count = ALPHABET.len().pow(len);
            for mut n in 0..count {
                buf.clear();
                for _ in 0..len {
                    buf.push(ALPHABET[n % ALPHABET.len()]);
                    n /= ALPHABET.len();
                }
                assert_eq!(
                    parse_ipv4(&buf),
                    std_ipv4(&buf),
                    "{:?}",
                    String::from_utf8_lossy(&buf)
                );
            }
        }
    }

    #[test]
    fn ipv4_matches_std_on_every_octet_spelling() {
        // Every 1- to 4-digit octet (leading zeros included) in each position.
        let mut spellings: Vec<String> = (0..10_000).map(|n: u32| n.to_string()).collect();
        for width in 2..=4 {
            spellings.extend((0..10_000u32).map(|n| format!("{n:0width$}")));
        }
        for pos in 0..4 {
            for o in &spellings {
                let mut parts = ["1", "20", "255", "0"];
                parts[pos] = o;
                let s = parts.join(".");
                assert_eq!(parse_ipv4(s.as_bytes()), std_ipv4(s.as_bytes()), "{s}");
            }
        }
    }

    #[test]
    fn top_label_decides_name_or_address() {
        assert_eq!(parse_host(b"a.1b"), Err(malformed("IPv4 address", 0)));
        assert_eq!(parse_host(b"1."), Err(malformed("IPv4 address", 0)));
        assert_eq!(parse_host(b"a.."), Ok(Host::Name(b"a..")));
        assert_eq!(parse_host(b"1.a."), Ok(Host::Name(b"1.a.")));
        assert_eq!(parse_host(b"1.2.3.4."), Err(malformed("IPv4 address", 0)));
        assert_eq!(parse_host(b"_sip.1x"), Err(malformed("IPv4 address", 0)));
        assert_eq!(parse_host(b"a_b"), Ok(Host::Name(b"a_b")));
        assert_eq!(parse_host(b"a/b"), Err(malformed("host", 0)));
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
