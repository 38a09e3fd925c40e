//! Telephone numbers: E.164 normalisation of what callers dial, the number formats peers want
//! (SPEC §2 `format`, `inbound_format`), emergency numbers, and the clean-up of a raw
//! Request-URI user part.

use std::borrow::Cow;

use crate::config::{NumberFormat, Snapshot};

/// E.164 normalisation: the one implementation shared with the config compiler (DID keys
/// and live numbers must meet in the same key).
pub use crate::config::e164::normalise;

/// True for `+1` followed by exactly ten digits (the numbers `npan`/`1npan` apply to).
pub fn is_nanp(e164: &str) -> bool {
    e164.strip_prefix("+1")
        .is_some_and(|d| d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Writes an E.164 number the way a peer wants it (SPEC §4): `e164` +14155550100, `npan`
/// 4155550100, `1npan` 14155550100, `strip_plus` 14155550100, `username` the `auth_user`.
/// `npan`/`1npan` apply to NANP numbers only (others go as e164); a number that is not E.164
/// (hunted as dialled, an emergency code) goes as it is, except for `username`.
pub fn format_number(e164: &str, fmt: NumberFormat, auth_user: Option<&str>) -> String {
    match fmt {
        NumberFormat::Username => auth_user.unwrap_or(e164).to_owned(),
        NumberFormat::E164 => e164.to_owned(),
        NumberFormat::StripPlus => e164.strip_prefix('+').unwrap_or(e164).to_owned(),
        NumberFormat::Npan if is_nanp(e164) => e164.get(2..).unwrap_or(e164).to_owned(),
        NumberFormat::OneNpan if is_nanp(e164) => e164.get(1..).unwrap_or(e164).to_owned(),
        NumberFormat::Npan | NumberFormat::OneNpan => e164.to_owned(),
    }
}

/// True when the dialled number (separators removed) is one of `[proxy].emergency_numbers`;
/// such calls use `emergency_caller_id` and are routed even though they are no E.164 number.
pub fn is_emergency(dialled: &str, snap: &Snapshot) -> bool {
    let cleaned = strip_separators(dialled);
    snap.proxy
        .emergency_numbers
        .iter()
        .any(|e| strip_separators(e) == cleaned)
}

/// Why a raw user part could not be turned into a number string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserPartError {
    /// A `%` not followed by two hex digits.
    #[error("bad percent escape in user part")]
    BadEscape,
    /// The decoded bytes are not UTF-8.
    #[error("user part is not UTF-8")]
    NotUtf8,
}

/// Decodes a raw Request-URI / From user part (`%2B1415…` → `+1415…`) and removes the RFC 3966
/// visual separators (`-`, `.`, `(`, `)`, space), so numbers compare as digits.
pub fn user_part(raw: &[u8]) -> Result<String, UserPartError> {
    let decoded = percent_decode(raw)?;
    let text = String::from_utf8(decoded).map_err(|_| UserPartError::NotUtf8)?;
    Ok(strip_separators(&text).into_owned())
}

fn percent_decode(raw: &[u8]) -> Result<Vec<u8>, UserPartError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut it = raw.iter().copied();
    while let Some(b) = it.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let hi = it.next().and_then(hex_val).ok_or(UserPartError::BadEscape)?;
        let lo = it.next().and_then(hex_val).ok_or(UserPartError::BadEscape)?;
        out.push(hi << 4 | lo);
    }
    Ok(out)
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Removes visual separators; borrows when there are none (the common case).
pub(crate) fn strip_separators(s: &str) -> Cow<'_, str> {
    let is_sep = |c: char| matches!(c, '-' | '.' | '(' | ')' | ' ');
    if s.contains(is_sep) {
        Cow::Owned(s.chars().filter(|c| !is_sep(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::Fixture;

    #[test]
    fn normalises_nanp_forms() {
        for dialled in [
            "4155550100",
            "14155550100",
            "+14155550100",
            "01114155550100",
            "0014155550100",
        ] {
            assert_eq!(
                normalise(dialled, "1").as_deref(),
                Some("+14155550100"),
                "{dialled}"
            );
        }
        assert_eq!(normalise("(415) 555-0100", "1").as_deref(), Some("+14155550100"));
        assert_eq!(
            normalise("011442079460000", "1").as_deref(),
            Some("+442079460000")
        );
    }

    #[test]
    fn refuses_what_cannot_be_reconciled() {
        for dialled in [
            "",
            "+",
            "3000",
            "911",
            "555010",
            "1155550100",
            "abc",
            "+1415x",
            "+0123456",
        ] {
            assert_eq!(normalise(dialled, "1"), None, "{dialled}");
        }
        assert_eq!(normalise("+1234567890123456", "1"), None, "16 digits");
    }

    #[test]
    fn trunk_prefix_outside_nanp() {
        assert_eq!(normalise("02079460000", "44").as_deref(), Some("+442079460000"));
        assert_eq!(normalise("004930123456", "44").as_deref(), Some("+4930123456"));
        // Outside NANP a national number without its trunk prefix is taken as national too.
        assert_eq!(normalise("2079460000", "44").as_deref(), Some("+442079460000"));
    }

    #[test]
    fn formats() {
        let n = "+14155550100";
        assert_eq!(format_number(n, NumberFormat::E164, None), "+14155550100");
        assert_eq!(format_number(n, NumberFormat::Npan, None), "4155550100");
        assert_eq!(format_number(n, NumberFormat::OneNpan, None), "14155550100");
        assert_eq!(format_number(n, NumberFormat::StripPlus, None), "14155550100");
        assert_eq!(format_number(n, NumberFormat::Username, Some("pbx1")), "pbx1");
    }

    #[test]
    fn npan_only_for_nanp() {
        let uk = "+442079460000";
        assert_eq!(format_number(uk, NumberFormat::Npan, None), uk);
        assert_eq!(format_number(uk, NumberFormat::OneNpan, None), uk);
        assert_eq!(format_number(uk, NumberFormat::StripPlus, None), "442079460000");
        assert_eq!(format_number("911", NumberFormat::Npan, None), "911");
    }

    #[test]
    fn emergency() {
        let snap = Fixture::new().build();
        assert!(is_emergency("911", &snap));
        assert!(is_emergency("1-1-2", &snap));
        assert!(!is_emergency("9111", &snap));
        assert!(!is_emergency("+14155550100", &snap));
    }

    #[test]
    fn user_part_decodes_and_strips() {
        assert_eq!(user_part(b"%2B1-415-555.0100").as_deref(), Ok("+14155550100"));
        assert_eq!(user_part(b"(415) 555 0100").as_deref(), Ok("4155550100"));
        assert_eq!(user_part(b"%2"), Err(UserPartError::BadEscape));
        assert_eq!(user_part(b"%zz"), Err(UserPartError::BadEscape));
        assert_eq!(user_part(b"%ff"), Err(UserPartError::NotUtf8));
    }
}
