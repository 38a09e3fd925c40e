//! Typed reading of the spanned TOML tree. Every accessor checks the value's type (and range
//! or enum), records a located error when it is wrong and hands back a default, so one pass
//! over a file finds every problem in it.

use std::ops::{Range, RangeInclusive};

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use super::diagnose::{hint, Diag};

/// A TOML value with its span.
pub(crate) type Val<'i> = Spanned<DeValue<'i>>;

/// A table being read, with its dotted path for error keys.
#[derive(Clone)]
pub(crate) struct Tbl<'a, 'i> {
    pub map: &'a DeTable<'i>,
    pub span: Range<usize>,
    pub path: String,
}

/// One string item of an array (or a lone string), located.
#[derive(Debug, Clone)]
pub(crate) struct Item<'a> {
    pub text: &'a str,
    pub span: Range<usize>,
    pub path: String,
}

/// Child path: `a.b`, quoting keys that are not bare TOML keys.
pub(crate) fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("\"{key}\"")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

impl<'a, 'i> Tbl<'a, 'i> {
    /// The document root.
    pub fn root(doc: &'a Spanned<DeTable<'i>>, path: &str) -> Self {
        Tbl {
            map: doc.get_ref(),
            span: doc.span(),
            path: path.to_owned(),
        }
    }

    /// Path of a child key.
    pub fn key(&self, k: &str) -> String {
        join(&self.path, k)
    }

    /// The raw value of a key.
    pub fn get(&self, k: &str) -> Option<&'a Val<'i>> {
        self.map.get(k)
    }

    /// Span of a key's value, or of the table when absent (for "missing key" errors).
    pub fn span_of(&self, k: &str) -> Range<usize> {
        self.get(k).map_or(self.span.clone(), |v| v.span())
    }

    /// Records an error for every key not in `allowed`, with a "did you mean" hint.
    pub fn check_keys(&self, d: &mut Diag, allowed: &[&str]) {
        for (k, _) in self.map.iter() {
            let name: &str = k.get_ref();
            if !allowed.contains(&name) {
                let msg = format!("unknown key{}", hint(name, allowed));
                d.error(&k.span(), &self.key(name), msg);
            }
        }
    }

    /// Records a type error for key `k`.
    pub fn type_error(&self, d: &mut Diag, k: &str, v: &Val<'_>, want: &str) {
        let msg = format!("expected {want}, found {}", v.get_ref().type_str());
        d.error(&v.span(), &self.key(k), msg);
    }

    /// A string value, or `None` (absent or wrong type, which is recorded).
    pub fn str(&self, d: &mut Diag, k: &str) -> Option<&'a str> {
        let v = self.get(k)?;
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.type_error(d, k, v, "a string");
                None
            }
        }
    }

    /// A string, `default` when absent.
    pub fn string(&self, d: &mut Diag, k: &str, default: &str) -> String {
        self.str(d, k).unwrap_or(default).to_owned()
    }

    /// A string that means "unset" when empty.
    pub fn opt_string(&self, d: &mut Diag, k: &str) -> Option<String> {
        self.str(d, k).filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// A required, non-empty string.
    pub fn required_str(&self, d: &mut Diag, k: &str) -> Option<&'a str> {
        match self.get(k) {
            None => {
                d.error(&self.span, &self.key(k), "missing required key");
                None
            }
            Some(_) => {
                let s = self.str(d, k)?;
                if s.is_empty() {
                    d.error(&self.span_of(k), &self.key(k), "must not be empty");
                    return None;
                }
                Some(s)
            }
        }
    }

    /// A boolean, `default` when absent.
    pub fn bool(&self, d: &mut Diag, k: &str, default: bool) -> bool {
        let Some(v) = self.get(k) else { return default };
        match v.get_ref() {
            DeValue::Boolean(b) => *b,
            _ => {
                self.type_error(d, k, v, "a boolean (true/false)");
                default
            }
        }
    }

    /// An integer within `range`, `default` when absent or wrong.
    pub fn int(&self, d: &mut Diag, k: &str, range: RangeInclusive<i64>, default: i64) -> i64 {
        let Some(v) = self.get(k) else { return default };
        let n = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => {
                self.type_error(d, k, v, "an integer");
                return default;
            }
        };
        match n {
            Some(n) if range.contains(&n) => n,
            _ => {
                let msg = format!("must be between {} and {}", range.start(), range.end());
                d.error(&v.span(), &self.key(k), msg);
                default
            }
        }
    }

    /// An unsigned 32-bit integer within `range`.
    pub fn u32(&self, d: &mut Diag, k: &str, range: RangeInclusive<u32>, default: u32) -> u32 {
        let r = i64::from(*range.start())..=i64::from(*range.end());
        u32::try_from(self.int(d, k, r, i64::from(default))).unwrap_or(default)
    }

    /// A port: 1..=65535, or 0 meaning "unset" when `zero_ok`.
    pub fn port(&self, d: &mut Diag, k: &str, zero_ok: bool, default: u16) -> u16 {
        let Some(v) = self.get(k) else { return default };
        if zero_ok && matches!(v.get_ref(), DeValue::Integer(i) if i.as_str() == "0") {
            return 0;
        }
        let n = self.int(d, k, 1..=65535, i64::from(default));
        u16::try_from(n).unwrap_or(default)
    }

    /// One of `options` (matched exactly, or ASCII case-insensitively when `ci`).
    pub fn choice<T: Copy>(&self, d: &mut Diag, k: &str, options: &[(&str, T)], ci: bool, default: T) -> T {
        let Some(s) = self.str(d, k) else { return default };
        let hit = options.iter().find(|(name, _)| {
            if ci {
                name.eq_ignore_ascii_case(s)
            } else {
                *name == s
            }
        });
        match hit {
            Some((_, t)) => *t,
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                let msg = format!(
                    "invalid value `{s}`: expected one of {}{}",
                    names.join(", "),
                    hint(s, &names)
                );
                d.error(&self.span_of(k), &self.key(k), msg);
                default
            }
        }
    }

    /// A sub-table (inline or not).
    pub fn table(&self, d: &mut Diag, k: &str) -> Option<Tbl<'a, 'i>> {
        let v = self.get(k)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(Tbl {
                map: t,
                span: v.span(),
                path: self.key(k),
            }),
            _ => {
                self.type_error(d, k, v, "a table");
                None
            }
        }
    }

    /// An array.
    pub fn array(&self, d: &mut Diag, k: &str) -> Option<&'a DeArray<'i>> {
        let v = self.get(k)?;
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            _ => {
                self.type_error(d, k, v, "an array");
                None
            }
        }
    }

    /// An array of tables (`[[k]]` or `k = [{...}]`), each with path `k[i]`.
    pub fn tables(&self, d: &mut Diag, k: &str) -> Vec<Tbl<'a, 'i>> {
        let Some(a) = self.array(d, k) else {
            return Vec::new();
        };
        let base = self.key(k);
        let mut out = Vec::with_capacity(a.len());
        for (i, v) in a.iter().enumerate() {
            let path = format!("{base}[{i}]");
            match v.get_ref() {
                DeValue::Table(t) => out.push(Tbl {
                    map: t,
                    span: v.span(),
                    path,
                }),
                other => d.error(
                    &v.span(),
                    &path,
                    format!("expected a table, found {}", other.type_str()),
                ),
            }
        }
        out
    }

    /// An array of strings, each located as `k[i]`.
    pub fn strings(&self, d: &mut Diag, k: &str) -> Vec<Item<'a>> {
        let Some(a) = self.array(d, k) else {
            return Vec::new();
        };
        let base = self.key(k);
        array_strings(d, a, &base)
    }

    /// A string split on `;` (and `,`), or an array of strings: lists such as `additional_ips`.
    pub fn list(&self, d: &mut Diag, k: &str) -> Vec<Item<'a>> {
        let Some(v) = self.get(k) else { return Vec::new() };
        match v.get_ref() {
            DeValue::String(s) => split_list(s.as_ref(), v.span(), self.key(k)),
            DeValue::Array(a) => array_strings(d, a, &self.key(k)),
            _ => {
                self.type_error(d, k, v, "a string or an array of strings");
                Vec::new()
            }
        }
    }
}

fn array_strings<'a>(d: &mut Diag, a: &'a DeArray<'_>, base: &str) -> Vec<Item<'a>> {
    let mut out = Vec::with_capacity(a.len());
    for (i, v) in a.iter().enumerate() {
        let path = format!("{base}[{i}]");
        match v.get_ref() {
            DeValue::String(s) => out.push(Item {
                text: s.as_ref(),
                span: v.span(),
                path,
            }),
            other => d.error(
                &v.span(),
                &path,
                format!("expected a string, found {}", other.type_str()),
            ),
        }
    }
    out
}

fn split_list(s: &str, span: Range<usize>, path: String) -> Vec<Item<'_>> {
    s.split([';', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|text| Item {
            text,
            span: span.clone(),
            path: path.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<F: FnOnce(&mut Diag, Tbl<'_, '_>)>(text: &str, f: F) -> Diag {
        let (doc, errs) = DeTable::parse_recoverable(text);
        assert!(errs.is_empty(), "{errs:?}");
        let mut d = Diag::default();
        d.enter_file("t.toml", text);
        f(&mut d, Tbl::root(&doc, ""));
        d
    }

    #[test]
    fn unknown_key_hint_and_location() {
        let d = with("realm = 1\nnonce_tll = 3\n", |d, t| {
            t.check_keys(d, &["realm", "nonce_ttl"])
        });
        assert_eq!(d.errors.len(), 1);
        let e = &d.errors[0];
        assert_eq!((e.line, e.col, e.key.as_str()), (2, 1, "nonce_tll"));
        assert!(e.message.contains("did you mean `nonce_ttl`"), "{}", e.message);
    }

    #[test]
    fn types_and_ranges() {
        let d = with("a = \"x\"\nb = 70000\nc = 1.5\n", |d, t| {
            assert!(t.bool(d, "a", true));
            assert_eq!(t.port(d, "b", false, 5060), 5060);
            assert_eq!(t.int(d, "c", 0..=9, 3), 3);
        });
        let keys: Vec<_> = d.errors.iter().map(|e| (e.key.as_str(), e.line, e.col)).collect();
        assert_eq!(keys, vec![("a", 1, 5), ("b", 2, 5), ("c", 3, 5)]);
    }

    #[test]
    fn choice_case_and_hint() {
        let d = with("m = \"IP\"\nf = \"npn\"\n", |d, t| {
            assert_eq!(t.choice(d, "m", &[("ip", 1), ("password", 2)], true, 0), 1);
            assert_eq!(t.choice(d, "f", &[("npan", 1), ("e164", 2)], false, 0), 0);
        });
        assert_eq!(d.errors.len(), 1);
        assert!(d.errors[0].message.contains("did you mean `npan`"));
    }

    #[test]
    fn lists_from_string_or_array() {
        with("a = \"1.2.3.4; 10.0.0.0/8\"\nb = [\"x\", 3]\n", |d, t| {
            let a: Vec<_> = t.list(d, "a").into_iter().map(|i| i.text).collect();
            assert_eq!(a, vec!["1.2.3.4", "10.0.0.0/8"]);
            let b = t.list(d, "b");
            assert_eq!(b.len(), 1);
            assert_eq!(d.errors.len(), 1);
            assert_eq!(d.errors[0].key, "b[1]");
        });
    }

    #[test]
    fn quoted_paths() {
        assert_eq!(join("a", "+1415"), "a.\"+1415\"");
        assert_eq!(join("", "proxy"), "proxy");
    }
}
