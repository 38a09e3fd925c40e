//! Parsers for the string-shaped values of the config: listen addresses, IP/CIDR lists, SIP
//! header names, DID ranges and `did_numbers`. Pure functions returning a message on error, so
//! the readers can locate it.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use super::e164;
use super::snapshot::{DidFilter, Listen, Transport};

/// `udp:127.0.0.1:5060`, `tcp:[::1]:5060`, `tls:ADDR:PORT`.
pub(crate) fn parse_listen(s: &str) -> Result<Listen, String> {
    let (proto, rest) = s
        .split_once(':')
        .ok_or("expected TRANSPORT:ADDR:PORT, e.g. udp:127.0.0.1:5060")?;
    let transport =
        parse_transport(proto).ok_or_else(|| format!("unknown transport `{proto}` (udp, tcp, tls)"))?;
    let addr = parse_socket(rest)?;
    Ok(Listen { transport, addr })
}

/// `udp` / `tcp` / `tls`, any case.
pub(crate) fn parse_transport(s: &str) -> Option<Transport> {
    match s.to_ascii_lowercase().as_str() {
        "udp" => Some(Transport::Udp),
        "tcp" => Some(Transport::Tcp),
        "tls" => Some(Transport::Tls),
        _ => None,
    }
}

/// `ADDR:PORT` with an IP literal (`[v6]:port` for IPv6) and a port in 1..=65535.
pub(crate) fn parse_socket(s: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = s
        .parse()
        .map_err(|_| format!("`{s}` is not IP:PORT (IPv6 as [::1]:5060)"))?;
    if addr.port() == 0 {
        return Err("port must be between 1 and 65535".into());
    }
    Ok(addr)
}

/// A plain address (`/32`, `/128`) or a CIDR prefix.
pub(crate) fn parse_net(s: &str) -> Result<IpNet, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("`{s}` is not an IP address or CIDR prefix"))
}

/// RFC 3261 `token` (header names).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// No CR, LF or NUL: safe to put in a header value.
pub(crate) fn is_header_safe(s: &str) -> bool {
    !s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

/// A DID block `+14155550300-+14155550399`: (digit count, start, end), both ends E.164 of the
/// same length, start ≤ end.
pub(crate) fn parse_did_range(s: &str, cc: &str) -> Result<(usize, u64, u64), String> {
    let (a, b) = split_range(s).ok_or_else(|| format!("`{s}` is not START-END"))?;
    let a = e164::normalise(a, cc).ok_or_else(|| format!("range start `{a}` is not a valid number"))?;
    let b = e164::normalise(b, cc).ok_or_else(|| format!("range end `{b}` is not a valid number"))?;
    if a.len() != b.len() {
        return Err(format!("range ends `{a}` and `{b}` differ in length"));
    }
    let (x, y) = (digits_value(&a), digits_value(&b));
    match (x, y) {
        (Some(x), Some(y)) if x <= y => Ok((a.len() - 1, x, y)),
        (Some(_), Some(_)) => Err(format!("range start `{a}` is after its end `{b}`")),
        _ => Err(format!("`{s}` is not a valid range")),
    }
}

/// Splits `A-B` at the first `-` that is not the leading character.
fn split_range(s: &str) -> Option<(&str, &str)> {
    let s = s.trim();
    let i = s.get(1..)?.find('-')? + 1;
    let (a, b) = (s.get(..i)?.trim(), s.get(i + 1..)?.trim());
    (!a.is_empty() && !b.is_empty()).then_some((a, b))
}

/// The numeric value of the digits of `+digits` (or bare digits).
pub(crate) fn digits_value(s: &str) -> Option<u64> {
    let d = s.strip_prefix('+').unwrap_or(s);
    if d.is_empty() || d.len() > 19 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    d.parse().ok()
}

/// Shortest digit string treated as a full number in `did_numbers` (shorter ones, such as
/// extensions `3000`, are compared as digits).
const SHORT_MAX: usize = 6;

/// One `did_numbers` item, normalised: E.164, or bare digits for short numbers.
fn did_number(s: &str, cc: &str) -> Option<String> {
    let s = s.trim();
    if !s.starts_with('+') && s.len() <= SHORT_MAX && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Some(s.to_owned());
    }
    e164::normalise(s, cc)
}

/// `did_numbers`: `;`-separated numbers and `START-END` ranges of same-length ends.
pub(crate) fn parse_did_numbers(s: &str, cc: &str) -> Result<DidFilter, Vec<String>> {
    let mut f = DidFilter::default();
    let mut errors = Vec::new();
    for item in s.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        match split_range(item) {
            Some((a, b)) => match (did_number(a, cc), did_number(b, cc)) {
                (Some(x), Some(y)) if x.len() == y.len() && digits_value(&x) <= digits_value(&y) => {
                    f.ranges.push((x, y))
                }
                (Some(_), Some(_)) => {
                    errors.push(format!("range `{item}`: ends differ in length or are reversed"))
                }
                _ => errors.push(format!("range `{item}` is not two numbers")),
            },
            None => match did_number(item, cc) {
                Some(n) => f.exact.push(n),
                None => errors.push(format!("`{item}` is not a number")),
            },
        }
    }
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(errors)
    }
}

/// Host and port (default 5060) of a `sip:`/`sips:` URI, or an error message.
pub(crate) fn sip_uri_host_port(uri: &str) -> Result<(String, u16), String> {
    let lower = uri.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("sip:")
        .or_else(|| lower.strip_prefix("sips:"))
        .ok_or_else(|| format!("`{uri}` is not a sip: URI"))?;
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = hostport.split([';', '?', '>']).next().unwrap_or("");
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, p) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{uri}`: bad IPv6 host"))?;
        (h.to_owned(), p.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (hostport.to_owned(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("`{uri}` has no host"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("`{uri}`: bad port"))?,
        None => 5060,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        let l = parse_listen("udp:127.0.0.1:5060").unwrap();
        assert_eq!(
            (l.transport, l.addr.to_string().as_str()),
            (Transport::Udp, "127.0.0.1:5060")
        );
        let l = parse_listen("TCP:[::1]:5061").unwrap();
        assert_eq!((l.transport, l.addr.port()), (Transport::Tcp, 5061));
        assert!(parse_listen("tls:127.0.0.1:5061").is_ok());
        assert!(parse_listen("sctp:127.0.0.1:5060").is_err());
        assert!(parse_listen("udp:127.0.0.1:0").is_err());
        assert!(parse_listen("udp:127.0.0.1:70000").is_err());
        assert!(parse_listen("udp:localhost:5060").is_err());
        assert!(parse_listen("127.0.0.1").is_err());
    }

    #[test]
    fn nets() {
        assert_eq!(parse_net("127.0.0.2").unwrap().to_string(), "127.0.0.2/32");
        assert_eq!(parse_net("192.0.2.7/24").unwrap().to_string(), "192.0.2.0/24");
        assert_eq!(parse_net("::1").unwrap().to_string(), "::1/128");
        assert!(parse_net("300.1.1.1").is_err());
    }

    #[test]
    fn tokens() {
        assert!(is_token("X-Account"));
        assert!(!is_token("X Account"));
        assert!(!is_token("X:"));
        assert!(!is_token(""));
        assert!(is_header_safe("acme"));
        assert!(!is_header_safe("a\r\nVia: x"));
    }

    #[test]
    fn did_ranges() {
        assert_eq!(
            parse_did_range("+14155550300-+14155550399", "1"),
            Ok((11, 14155550300, 14155550399))
        );
        assert!(parse_did_range("+14155550399-+14155550300", "1").is_err());
        assert!(parse_did_range("+1415555030-+14155550399", "1").is_err());
        assert!(parse_did_range("+14155550300", "1").is_err());
    }

    #[test]
    fn did_numbers_items() {
        let f = parse_did_numbers(
            "3000; +14155550100;4155550101 ;12000-18000;+14155550200-+14155550299",
            "1",
        )
        .unwrap();
        assert_eq!(f.exact, vec!["3000", "+14155550100", "+14155550101"]);
        assert_eq!(f.ranges[0], ("12000".to_owned(), "18000".to_owned()));
        assert_eq!(
            f.ranges[1],
            ("+14155550200".to_owned(), "+14155550299".to_owned())
        );
        assert!(parse_did_numbers("100-2000", "1").is_err());
        assert!(parse_did_numbers("abc", "1").is_err());
    }

    #[test]
    fn sip_uris() {
        assert_eq!(
            sip_uri_host_port("sip:backup@127.0.0.6:5060"),
            Ok(("127.0.0.6".into(), 5060))
        );
        assert_eq!(
            sip_uri_host_port("sip:EDGE.test;transport=tcp"),
            Ok(("edge.test".into(), 5060))
        );
        assert_eq!(sip_uri_host_port("sips:a@[::1]:5061"), Ok(("::1".into(), 5061)));
        assert!(sip_uri_host_port("tel:+1415").is_err());
        assert!(sip_uri_host_port("sip:a@").is_err());
    }
}
