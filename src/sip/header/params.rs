//! `;name[=value]` parameter lists (URI params, Via params, header params).

use super::lex::{is_param_stop, quoted_end, skip_lws, take_while};
use super::GrammarError;

/// A parameter list as written, starting at (or just after) the first `;`.
/// Lookups are case-insensitive on the name; values are returned raw (quotes kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a>(pub &'a [u8]);

/// One scanned parameter: name, optional value, and where scanning resumes.
type Scanned<'a> = (&'a [u8], Option<&'a [u8]>, usize);

impl<'a> Params<'a> {
    /// `Some(Some(v))` for `name=v`, `Some(None)` for a bare `name`, `None` when absent.
    pub fn get(&self, name: &str) -> Option<Option<&'a [u8]>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Every (name, value) pair in order; stops quietly at the first malformed parameter
    /// (parsers that hand out a `Params` have already checked it with `check`).
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)> + 'a {
        let s = self.0;
        let mut pos = Some(0);
        std::iter::from_fn(move || {
            let (name, value, next) = next_param(s, pos?).ok().flatten()?;
            pos = Some(next);
            Some((name, value))
        })
    }

    /// True when the list holds no parameter at all.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Validates the whole list: every element is `name[=value]` with a non-empty name, a
    /// non-empty value when `=` is present, and quoted values closed. The error offset is
    /// relative to the slice.
    pub fn check(&self) -> Result<(), GrammarError> {
        let mut pos = 0;
        loop {
            match next_param(self.0, pos) {
                Ok(Some((_, _, next))) => pos = next,
                Ok(None) => return Ok(()),
                Err(at) => {
                    return Err(GrammarError::Malformed {
                        what: "parameter",
                        at,
                    })
                }
            }
        }
    }
}

/// Scans the parameter starting at `pos` (the leading `;` is optional only at offset 0).
/// `Ok(None)` at the end of the list, `Err(offset)` on malformed input.
fn next_param(s: &[u8], pos: usize) -> Result<Option<Scanned<'_>>, usize> {
    let mut i = skip_lws(s, pos);
    match s.get(i) {
        None => return Ok(None),
        Some(b';') => i = skip_lws(s, i + 1),
        Some(_) if pos == 0 => {}
        Some(_) => return Err(i),
    }
    let name_end = take_while(s, i, |c| !is_param_stop(c));
    let name = s.get(i..name_end).filter(|n| !n.is_empty()).ok_or(i)?;
    let after = skip_lws(s, name_end);
    if s.get(after) != Some(&b'=') {
        return Ok(Some((name, None, name_end)));
    }
    let vstart = skip_lws(s, after + 1);
    let vend = match s.get(vstart) {
        Some(b'"') => quoted_end(s, vstart).ok_or(vstart)?,
        _ => take_while(s, vstart, |c| !is_param_stop(c)),
    };
    let value = s.get(vstart..vend).filter(|v| !v.is_empty()).ok_or(vstart)?;
    Ok(Some((name, Some(value), vend)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &[u8]) -> Vec<(&[u8], Option<&[u8]>)> {
        Params(s).iter().collect()
    }

    #[test]
    fn lookups_are_case_insensitive() {
        let p = Params(b";branch=z9hG4bK1;RPort;received=192.0.2.1");
        assert_eq!(p.get("branch"), Some(Some(&b"z9hG4bK1"[..])));
        assert_eq!(p.get("rport"), Some(None));
        assert_eq!(p.get("RECEIVED"), Some(Some(&b"192.0.2.1"[..])));
        assert_eq!(p.get("maddr"), None);
        assert!(p.check().is_ok());
    }

    #[test]
    fn leading_semicolon_optional() {
        assert_eq!(pairs(b"tag=1;lr"), pairs(b";tag=1;lr"));
        assert_eq!(pairs(b"tag=1;lr").len(), 2);
        assert!(Params(b"").is_empty());
        assert!(Params(b"  ").check().is_ok());
    }

    #[test]
    fn whitespace_around_separators() {
        // RFC 4475 wsinv: `;   tag    = 1918181833n` and a value after a folded line.
        let p = Params(b" ;   tag    = 1918181833n ;\r\n  branch=\r\n z9hG4bK30239 ; q = 0.33");
        assert!(p.check().is_ok());
        assert_eq!(p.get("tag"), Some(Some(&b"1918181833n"[..])));
        assert_eq!(p.get("branch"), Some(Some(&b"z9hG4bK30239"[..])));
        assert_eq!(p.get("q"), Some(Some(&b"0.33"[..])));
    }

    #[test]
    fn quoted_values_keep_quotes_and_semicolons() {
        let p = Params(br#";+sip.instance="<urn:uuid:1;x>";name="a \"b\";c";lr"#);
        assert!(p.check().is_ok());
        assert_eq!(p.get("+sip.instance"), Some(Some(&br#""<urn:uuid:1;x>""#[..])));
        assert_eq!(p.get("name"), Some(Some(&br#""a \"b\";c""#[..])));
        assert_eq!(p.get("lr"), Some(None));
    }

    #[test]
    fn ipv6_values() {
        let p = Params(b";received=2001:db8::9;maddr=[2001:db8::1]");
        assert_eq!(p.get("received"), Some(Some(&b"2001:db8::9"[..])));
        assert_eq!(p.get("maddr"), Some(Some(&b"[2001:db8::1]"[..])));
    }

    #[test]
    fn malformed_lists() {
        for bad in [
            &b";a=\"open"[..],
            b";=x",
            b";a=",
            b";a=b c",
            b";a;",
            b";;a",
            b";a=\"x\"y",
        ] {
            assert!(Params(bad).check().is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // The iterator stops before the damage and never panics.
        assert_eq!(pairs(b";a=1;b=\"open"), vec![(&b"a"[..], Some(&b"1"[..]))]);
    }

    #[test]
    fn error_offsets() {
        assert_eq!(
            Params(b";a=1;=x").check(),
            Err(GrammarError::Malformed {
                what: "parameter",
                at: 5
            })
        );
    }
}
