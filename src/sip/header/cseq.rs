//! CSeq (RFC 3261 §20.16).

use nom::bytes::complete::take_while1;
use nom::character::complete::digit1;
use nom::combinator::eof;
use nom::Parser;

use super::lex::{is_lws, is_token, malformed, nom_at, parse_decimal, trim_bounds, NomErr};
use super::GrammarError;
use crate::sip::Method;

/// Largest CSeq number: it must be less than 2^31 (RFC 3261 §8.1.1.5).
const MAX_SEQ: u64 = (1 << 31) - 1;

/// A decoded CSeq: sequence number and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number (< 2^31).
    pub seq: u32,
    /// The method, `Method::Other` for extension methods (see `method_bytes`).
    pub method: Method,
    /// The method token as written.
    pub method_bytes: &'a [u8],
}

/// Parses `1 INVITE`; the number must fit 2^31 (RFC 3261 §8.1.1.5).
pub fn parse_cseq(input: &[u8]) -> Result<CSeq<'_>, GrammarError> {
    let (start, end) = trim_bounds(input);
    let s = input.get(start..end).unwrap_or_default();
    let mut grammar = (digit1, take_while1(is_lws), take_while1(is_token), eof);
    let parsed: Result<_, NomErr<'_>> = grammar.parse(s);
    let (_, (digits, _, method_bytes, _)) = parsed.map_err(|e| malformed("CSeq", start + nom_at(s, &e)))?;
    let seq = match parse_decimal(digits, MAX_SEQ) {
        Ok(n) => u32::try_from(n).map_err(|_| GrammarError::Range("CSeq"))?,
        Err(_) => return Err(GrammarError::Range("CSeq")),
    };
    Ok(CSeq {
        seq,
        method: Method::from_bytes(method_bytes),
        method_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        let c = parse_cseq(b"1 INVITE");
        assert_eq!(
            c,
            Ok(CSeq {
                seq: 1,
                method: Method::Invite,
                method_bytes: b"INVITE"
            })
        );
        assert_eq!(
            parse_cseq(b" 2147483647\tBYE ").map(|c| (c.seq, c.method)),
            Ok((2147483647, Method::Bye))
        );
    }

    #[test]
    fn rfc4475_wsinv_folded_and_leading_zeros() {
        let c = parse_cseq(b"0009\r\n  INVITE");
        assert_eq!(c.map(|c| (c.seq, c.method)), Ok((9, Method::Invite)));
    }

    #[test]
    fn rfc4475_unknown_and_escaped_methods() {
        // esc02: the method is a token containing `%`; intmeth-style extension methods.
        let c = parse_cseq(b"29344 RE%47IST%45R");
        assert_eq!(
            c.map(|c| (c.method, c.method_bytes)),
            Ok((Method::Other, &b"RE%47IST%45R"[..]))
        );
        let c = parse_cseq(b"3 !interesting-Method0123456789_*+`.%indeed'~");
        assert_eq!(c.map(|c| c.method), Ok(Method::Other));
        // Methods are case-sensitive.
        assert_eq!(parse_cseq(b"1 invite").map(|c| c.method), Ok(Method::Other));
    }

    #[test]
    fn rfc4475_scalar02_overlarge() {
        assert_eq!(
            parse_cseq(b"36893488147419103232 REGISTER"),
            Err(GrammarError::Range("CSeq"))
        );
        assert_eq!(parse_cseq(b"2147483648 INVITE"), Err(GrammarError::Range("CSeq")));
        assert_eq!(parse_cseq(b"4294967296 INVITE"), Err(GrammarError::Range("CSeq")));
    }

    #[test]
    fn malformed_values() {
        for bad in [
            &b""[..],
            b"INVITE",
            b"1",
            b"1INVITE",
            b"-1 INVITE",
            b"1 INVITE x",
            b"1 IN;VITE",
            b"0x1 ACK",
        ] {
            assert!(parse_cseq(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            parse_cseq(b" 1 INVITE junk"),
            Err(GrammarError::Malformed { what: "CSeq", at: 9 })
        );
        assert_eq!(
            parse_cseq(b"x"),
            Err(GrammarError::Malformed { what: "CSeq", at: 0 })
        );
    }
}
