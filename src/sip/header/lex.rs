//! Byte classes and tiny scanners shared by the header sub-grammars (RFC 3261 §25.1).
//!
//! Everything here works on positions inside one slice, so callers can report the offset of
//! a failure without echoing the bytes.

use super::GrammarError;

/// Byte class bits, one table lookup per byte (see `CLASS`).
mod class {
    /// SP, HTAB, CR, LF.
    pub const LWS: u8 = 1;
    /// RFC 3261 `token` characters.
    pub const TOKEN: u8 = 1 << 1;
    /// Never allowed unescaped in a URI.
    pub const URI_FORBIDDEN: u8 = 1 << 2;
    /// Ends a parameter name or an unquoted value: LWS, `;`, `=`, `"`.
    pub const PARAM_STOP: u8 = 1 << 3;
    /// Allowed in a host name or dotted IPv4 address: ALPHA, DIGIT, `-`, `.`, `_`.
    pub const HOST: u8 = 1 << 4;
    /// Allowed in a URI scheme after its first letter: ALPHA, DIGIT, `+`, `-`, `.`.
    pub const SCHEME: u8 = 1 << 5;
    /// The delimiters a SIP URI is split at: `?`, `@`, `;`.
    pub const URI_DELIM: u8 = 1 << 6;
}

/// The class bits of every byte value.
static CLASS: [u8; 256] = class_table();

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let lws = matches!(c, b' ' | b'\t' | b'\r' | b'\n');
        let alnum = c.is_ascii_alphanumeric();
        let mut bits = 0;
        if lws {
            bits |= class::LWS;
        }
        if alnum
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            )
        {
            bits |= class::TOKEN;
        }
        if c <= 0x20 || c >= 0x7f || matches!(c, b'<' | b'>' | b'"') {
            bits |= class::URI_FORBIDDEN;
        }
        if lws || matches!(c, b';' | b'=' | b'"') {
            bits |= class::PARAM_STOP;
        }
        if alnum || matches!(c, b'-' | b'.' | b'_') {
            bits |= class::HOST;
        }
        if alnum || matches!(c, b'+' | b'-' | b'.') {
            bits |= class::SCHEME;
        }
        if matches!(c, b'?' | b'@' | b';') {
            bits |= class::URI_DELIM;
        }
        t[i] = bits;
        i += 1;
    }
    t
}

/// True when byte `c` has any of the `class` bits.
#[inline]
fn has(c: u8, class: u8) -> bool {
    CLASS[usize::from(c)] & class != 0
}

/// Linear whitespace as it can appear in a header value (folded lines keep their CRLF).
#[inline]
pub(super) fn is_lws(c: u8) -> bool {
    has(c, class::LWS)
}

/// RFC 3261 `token` characters.
#[inline]
pub(super) fn is_token(c: u8) -> bool {
    has(c, class::TOKEN)
}

/// Bytes a URI scan must stop at: the delimiters `?`, `@`, `;`, and those never allowed
/// unescaped in a URI (controls, space, DEL, non-ASCII, `<`, `>`, `"`).
#[inline]
pub(super) fn is_uri_forbidden_or_delim(c: u8) -> bool {
    has(c, class::URI_FORBIDDEN | class::URI_DELIM)
}

/// Bytes that end a parameter name or an unquoted parameter value: LWS, `;`, `=`, `"`.
#[inline]
pub(super) fn is_param_stop(c: u8) -> bool {
    has(c, class::PARAM_STOP)
}

/// Host name characters (RFC 3261 `hostname`, plus `_` as deployed): ALPHA, DIGIT, `-`,
/// `.`, `_`.
#[inline]
pub(super) fn is_host_char(c: u8) -> bool {
    has(c, class::HOST)
}

/// URI scheme characters after the first: ALPHA, DIGIT, `+`, `-`, `.`.
#[inline]
pub(super) fn is_scheme_char(c: u8) -> bool {
    has(c, class::SCHEME)
}

/// Position of the first non-LWS byte at or after `pos` (or `s.len()`, or `pos` when it
/// is past the end). A plain loop: the run is usually empty.
pub(super) fn skip_lws(s: &[u8], pos: usize) -> usize {
    take_while(s, pos, is_lws)
}

/// Position just after the run of bytes matching `f` starting at `pos` (`pos` itself when
/// it is past the end).
#[inline]
pub(crate) fn take_while(s: &[u8], mut pos: usize, f: impl Fn(u8) -> bool) -> usize {
    while s.get(pos).is_some_and(|&c| f(c)) {
        pos += 1;
    }
    pos
}

/// Given `s[pos] == b'"'`, returns the position just after the closing quote, honouring
/// `\` quoted-pairs; `None` when the string is unterminated.
pub(super) fn quoted_end(s: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    while let Some(&c) = s.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Index of the first byte in `s` equal to one of `set`, outside quoted strings.
pub(super) fn find_unquoted(s: &[u8], set: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if set.contains(&c) {
            return Some(i);
        }
        i = if c == b'"' { quoted_end(s, i)? } else { i + 1 };
    }
    None
}

/// Builds a `Malformed` error.
pub(super) fn malformed(what: &'static str, at: usize) -> GrammarError {
    GrammarError::Malformed { what, at }
}

/// Moves a `Malformed` offset by `base` (for errors found in a sub-slice).
pub(super) fn shift(e: GrammarError, base: usize) -> GrammarError {
    match e {
        GrammarError::Malformed { what, at } => GrammarError::Malformed { what, at: at + base },
        other => other,
    }
}

/// The nom error type used by the sub-grammars (complete input, byte slices).
pub(super) type NomErr<'a> = nom::Err<nom::error::Error<&'a [u8]>>;

/// Offset into `whole` where a nom parser over `whole` gave up.
pub(super) fn nom_at(whole: &[u8], e: &NomErr<'_>) -> usize {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => whole.len().saturating_sub(e.input.len()),
        nom::Err::Incomplete(_) => whole.len(),
    }
}

/// `(start, end)` of `s` with LWS trimmed from both ends (plain loops: the runs are short).
/// The one trim of the parser: header values, folded lines, numbers.
pub(crate) fn trim_bounds(s: &[u8]) -> (usize, usize) {
    let start = skip_lws(s, 0);
    let mut end = s.len();
    while end > start && s.get(end - 1).is_some_and(|&c| is_lws(c)) {
        end -= 1;
    }
    (start, end)
}

/// Parses 1*DIGIT as a number no larger than `max`; `Err(true)` on overflow, `Err(false)`
/// when not all digits or empty.
pub(super) fn parse_decimal(s: &[u8], max: u64) -> Result<u64, bool> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return Err(false);
    }
    let mut n: u64 = 0;
    for d in s {
        n = n * 10 + u64::from(d - b'0');
        if n > max {
            return Err(true);
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings() {
        assert_eq!(quoted_end(br#""a\"b" x"#, 0), Some(6));
        assert_eq!(quoted_end(br#""a\""#, 0), None);
        assert_eq!(quoted_end(br#""abc\"#, 0), None);
        assert_eq!(find_unquoted(br#""a;b";c"#, b";"), Some(5));
        assert_eq!(find_unquoted(br#""a;b"#, b";"), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal(b"0009", 100), Ok(9));
        assert_eq!(parse_decimal(b"101", 100), Err(true));
        assert_eq!(
            parse_decimal(b"99999999999999999999999999", u64::from(u32::MAX)),
            Err(true)
        );
        assert_eq!(parse_decimal(b"1a", 100), Err(false));
        assert_eq!(parse_decimal(b"", 100), Err(false));
    }

    #[test]
    fn class_table_matches_the_definitions() {
        for c in 0..=255u8 {
            let lws = matches!(c, b' ' | b'\t' | b'\r' | b'\n');
            assert_eq!(is_lws(c), lws, "{c}");
            let token = c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c);
            assert_eq!(is_token(c), token, "{c}");
            let forbidden = c <= 0x20 || c >= 0x7f || b"<>\"".contains(&c);
            assert_eq!(is_param_stop(c), lws || b";=\"".contains(&c), "{c}");
            let host = c.is_ascii_alphanumeric() || b"-._".contains(&c);
            assert_eq!(is_host_char(c), host, "{c}");
            let scheme = c.is_ascii_alphanumeric() || b"+-.".contains(&c);
            assert_eq!(is_scheme_char(c), scheme, "{c}");
            let delim = b"?@;".contains(&c);
            assert_eq!(is_uri_forbidden_or_delim(c), forbidden || delim, "{c}");
        }
    }

    #[test]
    fn trimming() {
        assert_eq!(trim_bounds(b" \r\n ab \t"), (4, 6));
        assert_eq!(trim_bounds(b"   "), (3, 3));
        assert_eq!(skip_lws(b"ab", 5), 5);
    }
}
