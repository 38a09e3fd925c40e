//! Typed reading of a `serde_json::Value` tree with every problem recorded under its JSON path
//! (`servers[0].options.dynamic_flags`), so one pass reports all of them.
//!
//! Kazoo stored many trunkstore numbers and booleans as strings (`"trunks": "5"`,
//! `"enabled": "true"`), and uses `null` or `""` for "not set": both are accepted here.

use serde_json::{Map, Value};

use super::ImportError;

/// The error list and the path prefix (`data.` for a wrapped document).
#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub errors: Vec<ImportError>,
}

/// Child path `a.b`; keys that are not bare (`+14155550100`) are quoted like TOML paths.
pub(crate) fn join(path: &str, key: &str) -> String {
    let k = super::emit::key(key);
    if path.is_empty() {
        k
    } else {
        format!("{path}.{k}")
    }
}

/// `null` and `""` mean "not set" in Kazoo documents.
pub(crate) fn is_unset(v: &Value) -> bool {
    matches!(v, Value::Null) || v.as_str() == Some("")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Fields of older trunkstore documents (outside seeds 000–002) and why they do not carry over.
const LEGACY: &[(&str, &str)] = &[
    ("server_type", "a UI label of old trunkstore documents; remove it"),
    ("monitor", "trunkgate pings carriers, not servers; remove it"),
    (
        "permissions",
        "per-user UI permissions have no equivalent; remove it",
    ),
    ("auth_realm", "set auth.realm on each password server instead"),
    ("credits", "trunkgate does no billing; remove it"),
    (
        "inbound_trunks",
        "trunkgate has one `trunks` limit for both directions; fold it into account.trunks",
    ),
    ("DIDs_Unassigned", "unassigned numbers route nowhere; remove it"),
];

/// " (did you mean `x`?)" for a close allowed key.
fn hint(k: &str, allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|a| (strsim::normalized_damerau_levenshtein(a, k), *a))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| format!(" (did you mean `{a}`?)"))
        .unwrap_or_default()
}

impl Walk {
    /// Records an error at `path`.
    pub fn err(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(ImportError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn type_err(&mut self, path: &str, want: &str, v: &Value) {
        self.err(path, format!("expected {want}, found {}", kind(v)));
    }

    /// An object, or `None` (recorded when it is something else than null).
    pub fn object<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            Value::Null => None,
            other => {
                self.type_err(path, "an object", other);
                None
            }
        }
    }

    /// Records every key of `m` not in `allowed` (and not ignored by `skip`).
    pub fn check_keys(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        allowed: &[&str],
        skip: fn(&str) -> bool,
    ) {
        for k in m.keys() {
            if allowed.contains(&k.as_str()) || skip(k) {
                continue;
            }
            let msg = match LEGACY.iter().find(|(name, _)| name == k) {
                Some((_, why)) => format!("not carried over: {why}"),
                None => format!(
                    "unknown field{}: trunkgate cannot carry it over",
                    hint(k, allowed)
                ),
            };
            self.err(&join(path, k), msg);
        }
    }

    /// A non-empty string; `None` when unset or of another type (recorded).
    pub fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v {
            _ if is_unset(v) => None,
            Value::String(s) => Some(s.clone()),
            other => {
                self.type_err(path, "a string", other);
                None
            }
        }
    }

    /// A non-negative integer, written as a number or a string of digits.
    pub fn int(&mut self, v: &Value, path: &str) -> Option<i64> {
        let n = match v {
            _ if is_unset(v) => return None,
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n.and_then(|n| i64::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                self.type_err(path, "a non-negative integer", v);
                None
            }
        }
    }

    /// A boolean, written as `true`/`false` or as the string `"true"`/`"false"`.
    pub fn boolean(&mut self, v: &Value, path: &str) -> Option<bool> {
        match v {
            _ if is_unset(v) => None,
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            other => {
                self.type_err(path, "a boolean", other);
                None
            }
        }
    }

    /// An array of strings (each item located as `path[i]`); empty when unset.
    pub fn strings(&mut self, v: &Value, path: &str) -> Vec<String> {
        let items = match v {
            _ if is_unset(v) => return Vec::new(),
            Value::Array(a) => a,
            other => {
                self.type_err(path, "an array of strings", other);
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            match it {
                Value::String(s) => out.push(s.clone()),
                other => self.type_err(&format!("{path}[{i}]"), "a string", other),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_scalars() {
        let mut w = Walk::default();
        assert_eq!(w.int(&json!("5"), "a"), Some(5));
        assert_eq!(w.int(&json!(7), "a"), Some(7));
        assert_eq!(w.int(&json!(""), "a"), None);
        assert_eq!(w.int(&json!(null), "a"), None);
        assert_eq!(w.boolean(&json!("TRUE"), "b"), Some(true));
        assert_eq!(w.boolean(&json!(false), "b"), Some(false));
        assert_eq!(w.string(&json!(""), "s"), None);
        assert!(w.errors.is_empty());
    }

    #[test]
    fn type_errors_are_located() {
        let mut w = Walk::default();
        assert_eq!(w.int(&json!(-1), "servers[0].auth.port"), None);
        assert_eq!(w.boolean(&json!("yes"), "x.enabled"), None);
        assert_eq!(w.strings(&json!(["a", 3]), "o.flags"), vec!["a"]);
        let paths: Vec<_> = w.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["servers[0].auth.port", "x.enabled", "o.flags[1]"]);
    }

    #[test]
    fn unknown_keys_with_hint() {
        let mut w = Walk::default();
        let m = json!({"inbound_fromat": "npan", "pvt_x": 1});
        let m = m.as_object().unwrap();
        w.check_keys(m, "servers[0].options", &["inbound_format"], |k| {
            k.starts_with("pvt_")
        });
        assert_eq!(w.errors.len(), 1);
        assert_eq!(w.errors[0].path, "servers[0].options.inbound_fromat");
        assert!(w.errors[0].message.contains("did you mean `inbound_format`"));
        assert_eq!(hint("server_type", &["server_name"]), "");
    }

    #[test]
    fn legacy_fields_explained() {
        let mut w = Walk::default();
        let m = json!({"server_type": "FreePBX"});
        w.check_keys(m.as_object().unwrap(), "servers[0]", &["name"], |_| false);
        assert!(
            w.errors[0].message.contains("UI label"),
            "{}",
            w.errors[0].message
        );
    }

    #[test]
    fn did_paths_are_quoted() {
        assert_eq!(
            join("servers[0].DIDs", "+14155550100"),
            "servers[0].DIDs.\"+14155550100\""
        );
        assert_eq!(join("", "name"), "name");
    }
}
