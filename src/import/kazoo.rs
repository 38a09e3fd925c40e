//! The connectivity document (seeds 000–002) → sections of one `[[connectivity]]` table: the
//! document level (account id, connectivity id, name, `account`) and the value shapes shared
//! by servers and DIDs (`caller_id`, `failover`, `sip_headers`). Servers are in `server`.

use serde_json::{Map, Value};

use super::emit::{Header, Section};
use super::server::read_server;
use super::walk::{is_unset, join, Walk};

/// Fields of the document itself.
const DOC_KEYS: &[&str] = &["account", "name", "servers", "id", "_id"];
const ACCOUNT_KEYS: &[&str] = &["caller_id", "emergency_caller_id", "trunks"];

/// Couch/Kazoo bookkeeping, not configuration: ignored wherever it appears at document level.
fn is_metadata(k: &str) -> bool {
    k.starts_with("pvt_") || k == "_rev" || k == "ui_metadata"
}

/// The converted document.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub sections: Vec<Section>,
    /// (TOML path inside the connectivity table, JSON path it came from) where they differ.
    pub renames: Vec<(String, String)>,
    pub account_id: Option<String>,
    pub id: Option<String>,
}

/// How a scalar field is copied.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Non-empty string, as is.
    Str,
    /// Non-empty string, lower-cased (enums the seeds list in several cases).
    Lower,
    /// Non-negative integer.
    Int,
    /// Port: an integer, 0 meaning "not set".
    Port,
    Bool,
    /// Array of strings, omitted when empty.
    Strings,
}

/// Copies each `(key, kind)` present in `m` (at JSON `path`) into `out`, in the order given.
pub(crate) fn copy(
    w: &mut Walk,
    m: &Map<String, Value>,
    path: &str,
    fields: &[(&str, Kind)],
    out: &mut Section,
) {
    for (k, kind) in fields {
        let Some(v) = m.get(*k) else { continue };
        let p = join(path, k);
        let value = match kind {
            Kind::Str => w.string(v, &p).map(toml::Value::String),
            Kind::Lower => w
                .string(v, &p)
                .map(|s| toml::Value::String(s.to_ascii_lowercase())),
            Kind::Int => w.int(v, &p).map(toml::Value::Integer),
            Kind::Port => w.int(v, &p).filter(|n| *n != 0).map(toml::Value::Integer),
            Kind::Bool => w.boolean(v, &p).map(toml::Value::Boolean),
            Kind::Strings => {
                let items = w.strings(v, &p);
                (!items.is_empty())
                    .then(|| toml::Value::Array(items.into_iter().map(toml::Value::String).collect()))
            }
        };
        if let Some(value) = value {
            out.push(k, value);
        }
    }
}

/// An object of string fields (`caller_id`, `failover`) → inline table of the set ones.
fn string_fields(w: &mut Walk, v: &Value, path: &str, keys: &[&str]) -> Option<toml::Value> {
    let m = w.object(v, path)?;
    w.check_keys(m, path, keys, |_| false);
    let mut t = toml::Table::new();
    for k in keys {
        if let Some(s) = m.get(*k).and_then(|x| w.string(x, &join(path, k))) {
            t.insert((*k).to_owned(), toml::Value::String(s));
        }
    }
    (!t.is_empty()).then_some(toml::Value::Table(t))
}

/// Copies `caller_id` / `emergency_caller_id` / `failover` of `m` when set.
pub(crate) fn copy_objects(
    w: &mut Walk,
    m: &Map<String, Value>,
    path: &str,
    keys: &[&str],
    out: &mut Section,
) {
    for k in keys {
        let Some(v) = m.get(*k) else { continue };
        let fields: &[&str] = if *k == "failover" {
            &["e164", "sip"]
        } else {
            &["cid_name", "cid_number"]
        };
        if let Some(t) = string_fields(w, v, &join(path, k), fields) {
            out.push(k, t);
        }
    }
}

/// `sip_headers: [{"X-Name": "value"}, ...]` → array of inline tables. Numbers are written as
/// their text; anything else is an error.
pub(crate) fn sip_headers(w: &mut Walk, v: &Value, path: &str) -> Option<toml::Value> {
    let items = match v {
        _ if is_unset(v) => return None,
        Value::Array(a) => a,
        _ => {
            w.err(path, "expected an array of objects");
            return None;
        }
    };
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(m) = w.object(it, &p) else { continue };
        let mut t = toml::Table::new();
        for (name, value) in m {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    w.err(&join(&p, name), "a header value must be a string");
                    continue;
                }
            };
            t.insert(name.clone(), toml::Value::String(text));
        }
        if !t.is_empty() {
            out.push(toml::Value::Table(t));
        }
    }
    (!out.is_empty()).then_some(toml::Value::Array(out))
}

/// Converts the document `doc` found at JSON path `base` (`""`, or `"data"` when wrapped).
pub(crate) fn convert(w: &mut Walk, doc: &Value, base: &str, account_id: Option<&str>) -> Doc {
    let mut out = Doc::default();
    let Some(m) = w.object(doc, if base.is_empty() { "(document)" } else { base }) else {
        if doc.is_null() {
            w.err(base, "the document is null");
        }
        return out;
    };
    w.check_keys(m, base, DOC_KEYS, is_metadata);
    let mut root = Section::new(Header::Root);
    read_ids(w, m, base, account_id, &mut out, &mut root);
    copy(w, m, base, &[("name", Kind::Str)], &mut root);
    out.sections.push(root);
    if let Some(a) = m.get("account") {
        read_account(w, a, &join(base, "account"), &mut out);
    }
    if let Some(servers) = m.get("servers").filter(|v| !is_unset(v)) {
        let path = join(base, "servers");
        match servers {
            Value::Array(list) => {
                for (i, s) in list.iter().enumerate() {
                    read_server(w, s, &format!("{path}[{i}]"), i, &mut out);
                }
            }
            _ => w.err(&path, "expected an array of servers"),
        }
    }
    out
}

/// `account_id` (from `--account-id`, else `pvt_account_id`) and the connectivity `id`.
fn read_ids(
    w: &mut Walk,
    m: &Map<String, Value>,
    base: &str,
    account_id: Option<&str>,
    out: &mut Doc,
    root: &mut Section,
) {
    let pvt = join(base, "pvt_account_id");
    let from_doc = m.get("pvt_account_id").and_then(|v| w.string(v, &pvt));
    let (acc, origin) = match account_id.filter(|s| !s.is_empty()) {
        Some(a) => (Some(a.to_owned()), "--account-id".to_owned()),
        None => (from_doc, pvt.clone()),
    };
    match &acc {
        Some(a) => root.push("account_id", toml::Value::String(a.clone())),
        None => w.err(
            &pvt,
            "no account id: the document has no pvt_account_id; pass --account-id ID",
        ),
    }
    out.renames.push(("account_id".into(), origin));
    out.account_id = acc;
    for k in ["id", "_id"] {
        let p = join(base, k);
        if let Some(id) = m.get(k).and_then(|v| w.string(v, &p)) {
            if out.id.is_none() {
                root.push("id", toml::Value::String(id.clone()));
                out.renames.push(("id".into(), p));
                out.id = Some(id);
            }
        }
    }
}

fn read_account(w: &mut Walk, v: &Value, path: &str, out: &mut Doc) {
    let Some(m) = w.object(v, path) else { return };
    w.check_keys(m, path, ACCOUNT_KEYS, |_| false);
    let mut s = Section::new(Header::Table(vec!["account".into()]));
    copy(w, m, path, &[("trunks", Kind::Int)], &mut s);
    copy_objects(w, m, path, &["caller_id", "emergency_caller_id"], &mut s);
    if !s.entries.is_empty() {
        out.sections.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn account_fields() {
        let mut w = Walk::default();
        let doc = json!({
            "pvt_account_id": "a1", "id": "c1", "name": "Acme",
            "account": {"trunks": "4", "caller_id": {"cid_name": "Acme", "cid_number": ""}},
            "_rev": "3-abc", "pvt_type": "sys_info"
        });
        let d = convert(&mut w, &doc, "", None);
        assert!(w.errors.is_empty(), "{:?}", w.errors);
        assert_eq!(d.account_id.as_deref(), Some("a1"));
        let root: Vec<_> = d.sections[0].entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(root, vec!["account_id", "id", "name"]);
        let acc = &d.sections[1];
        assert_eq!(acc.entries[0], ("trunks".into(), toml::Value::Integer(4)));
        let cid = acc.entries[1].1.as_table().unwrap();
        assert_eq!(cid.len(), 1, "empty cid_number dropped");
    }

    #[test]
    fn account_id_flag_wins_and_missing_is_an_error() {
        let mut w = Walk::default();
        let d = convert(&mut w, &json!({"pvt_account_id": "a1"}), "", Some("b2"));
        assert_eq!(d.account_id.as_deref(), Some("b2"));
        let d = convert(&mut w, &json!({"name": "x"}), "data", None);
        assert_eq!(d.account_id, None);
        assert_eq!(w.errors.len(), 1);
        assert_eq!(w.errors[0].path, "data.pvt_account_id");
    }

    #[test]
    fn headers_become_inline_tables() {
        let mut w = Walk::default();
        let v = sip_headers(&mut w, &json!([{"X-A": "1"}, {"X-B": 2}, {"X-C": true}]), "h").unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(w.errors.len(), 1);
        assert_eq!(w.errors[0].path, "h[2].X-C");
    }
}
