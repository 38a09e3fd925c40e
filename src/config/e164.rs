//! E.164 normalisation of dialled, called and configured numbers.
//!
//! One function, used both when the config is compiled (DID keys, `did_ranges`, failover
//! numbers) and on the hot path for live numbers, so a DID written as `(415) 555-0100` in the
//! file and dialled as `14155550100` meet in the same key.

/// Longest E.164 number, in digits (ITU-T E.164 §6.1).
pub const MAX_DIGITS: usize = 15;

/// Normalises `number` to E.164 (`+` and 1..=15 digits), or `None` when it cannot be.
///
/// Rules, applied in this order:
/// 1. Visual separators are removed: space, `-`, `.`, `(`, `)`. Anything else that is not a
///    digit (letters, `*`, `#`, a `+` in the middle) makes the number unusable.
/// 2. `+digits` is kept as is (the first digit must not be `0`: no country code starts with 0).
/// 3. An international prefix becomes `+`: `00` for every country, `011` (NANP) when
///    `default_country_code` is `"1"`.
/// 4. National numbers with country code `1` (NANP): 10 digits → `+1` + digits; 11 digits
///    starting with `1` → `+` + digits (the area code must start with 2-9); anything else is
///    not reconcilable (`None`).
/// 5. National numbers with another country code: one leading `0` trunk prefix is dropped
///    and the country code prepended (`020 7946 0000` with `44` → `+442079460000`).
///
/// Empty input, no digits, or more than 15 digits after normalisation give `None`.
pub fn normalise(number: &str, default_country_code: &str) -> Option<String> {
    let mut digits = String::with_capacity(number.len() + 2);
    let mut plus = false;
    for (i, c) in number.char_indices() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    if plus {
        return finish(digits);
    }
    if let Some(rest) = international(&digits, default_country_code) {
        return finish(rest.to_owned());
    }
    national(&digits, default_country_code)
}

/// The digits after an international dialling prefix, if `digits` starts with one.
fn international<'a>(digits: &'a str, cc: &str) -> Option<&'a str> {
    if cc == "1" {
        if let Some(rest) = digits.strip_prefix("011") {
            return Some(rest);
        }
    }
    digits.strip_prefix("00")
}

/// A national number with the default country code.
fn national(digits: &str, cc: &str) -> Option<String> {
    if cc.is_empty() || !cc.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if cc == "1" {
        // A NANP area code starts with 2-9 (so `1` + 9 digits is no national number).
        let npa = |d: &str| matches!(d.as_bytes().first(), Some(b'2'..=b'9'));
        return match digits.len() {
            10 if npa(digits) => finish(format!("1{digits}")),
            11 if digits.strip_prefix('1').is_some_and(npa) => finish(digits.to_owned()),
            _ => None,
        };
    }
    let national = digits.strip_prefix('0').unwrap_or(digits);
    if national.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(cc.len() + national.len());
    out.push_str(cc);
    out.push_str(national);
    finish(out)
}

/// Checks the digit string and puts the `+` in front.
fn finish(digits: String) -> Option<String> {
    if digits.is_empty() || digits.len() > MAX_DIGITS || digits.starts_with('0') {
        return None;
    }
    let mut out = String::with_capacity(digits.len() + 1);
    out.push('+');
    out.push_str(&digits);
    Some(out)
}

/// `true` when `e164` looks like a normalised number (`+`, 1..=15 digits, first not `0`).
pub fn is_e164(e164: &str) -> bool {
    match e164.strip_prefix('+') {
        Some(d) => {
            !d.is_empty()
                && d.len() <= MAX_DIGITS
                && !d.starts_with('0')
                && d.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str, cc: &str) -> Option<String> {
        normalise(s, cc)
    }

    #[test]
    fn plus_numbers_kept() {
        assert_eq!(n("+14155550100", "1").as_deref(), Some("+14155550100"));
        assert_eq!(n("+44 20 7946 0000", "1").as_deref(), Some("+442079460000"));
        assert_eq!(n("+1 (415) 555-0100", "44").as_deref(), Some("+14155550100"));
    }

    #[test]
    fn nanp_national_forms() {
        assert_eq!(n("4155550100", "1").as_deref(), Some("+14155550100"));
        assert_eq!(n("14155550100", "1").as_deref(), Some("+14155550100"));
        assert_eq!(n("(415) 555-0100", "1").as_deref(), Some("+14155550100"));
        assert_eq!(n("415.555.0100", "1").as_deref(), Some("+14155550100"));
        assert_eq!(n("1-415-555-0100", "1").as_deref(), Some("+14155550100"));
    }

    #[test]
    fn nanp_unreconcilable_lengths() {
        assert_eq!(n("5550100", "1"), None);
        assert_eq!(n("24155550100", "1"), None);
        assert_eq!(n("911", "1"), None);
        assert_eq!(n("3000", "1"), None);
    }

    #[test]
    fn international_prefixes() {
        assert_eq!(n("011442079460000", "1").as_deref(), Some("+442079460000"));
        assert_eq!(n("00442079460000", "1").as_deref(), Some("+442079460000"));
        assert_eq!(n("0049301234567", "44").as_deref(), Some("+49301234567"));
        // 011 is not an international prefix outside NANP: 0 trunk prefix + 11...
        assert_eq!(n("01141234567", "44").as_deref(), Some("+441141234567"));
    }

    #[test]
    fn other_countries_trunk_prefix() {
        assert_eq!(n("020 7946 0000", "44").as_deref(), Some("+442079460000"));
        assert_eq!(n("2079460000", "44").as_deref(), Some("+442079460000"));
        assert_eq!(n("030 1234567", "49").as_deref(), Some("+49301234567"));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(n("", "1"), None);
        assert_eq!(n("+", "1"), None);
        assert_eq!(n("   ", "1"), None);
        assert_eq!(n("abc", "1"), None);
        assert_eq!(n("415555010a", "1"), None);
        assert_eq!(n("1+4155550100", "1"), None);
        assert_eq!(n("*69", "1"), None);
        assert_eq!(n("+0123", "1"), None);
        assert_eq!(n("0", "44"), None);
        assert_eq!(n("123", ""), None);
        assert_eq!(n("123", "x"), None);
    }

    #[test]
    fn length_limit() {
        assert_eq!(n("+123456789012345", "1").as_deref(), Some("+123456789012345"));
        assert_eq!(n("+1234567890123456", "1"), None);
        assert_eq!(n("00 1234567890123456", "1"), None);
        assert_eq!(n("01234567890123456", "44"), None);
    }

    #[test]
    fn is_e164_shape() {
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("14155550100"));
        assert!(!is_e164("+"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+1a"));
    }
}
