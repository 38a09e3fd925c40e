//! `trunkgate import-kazoo` (SPEC §1): a Kazoo trunkstore connectivity document (seeds
//! 000–002, the body of `GET /v2/accounts/{ACCOUNT_ID}/connectivity/{CONNECTIVITY_ID}`, bare or
//! wrapped in `{"data": ...}`) → one connectivity document in trunkgate's TOML.
//!
//! Field names are the seeds' own, so the mapping is mostly a copy; what cannot be carried over
//! (`dynamic_flags`, `media_handling = "process"`, fields outside the schema) is an error naming
//! its JSON path, all of them reported. The result is then run through the config loader, so
//! what comes out is what `trunkgate check` accepts.

mod emit;
mod kazoo;
mod server;
mod verify;
mod walk;

pub use emit::Layout;

use serde_json::Value;

/// One thing in the document that could not be carried over, at its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// JSON path, e.g. `servers[0].options.dynamic_flags` (`data.` in front for a wrapped
    /// document); `(json)` for a syntax error.
    pub path: String,
    /// What is wrong and, where there is one, what to do about it.
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a document (never only the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} field(s) cannot be imported", .0.len())]
pub struct ImportErrors(pub Vec<ImportError>);

/// Converts the JSON text `json` (named `source` in the generated comment) into TOML.
/// `account_id` overrides the document's `pvt_account_id`.
pub fn kazoo_to_toml(
    json: &str,
    account_id: Option<&str>,
    layout: Layout,
    source: &str,
) -> Result<String, ImportErrors> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        ImportErrors(vec![ImportError {
            path: "(json)".into(),
            message: format!("line {}, column {}: {e}", e.line(), e.column()),
        }])
    })?;
    let (doc, base) = unwrap(&value);
    let mut w = walk::Walk::default();
    let conv = kazoo::convert(&mut w, doc, base, account_id);
    let mut errors = w.errors;
    let checked = emit::render(&[], &conv.sections, Layout::Config);
    for e in verify::verify(&checked, &conv.renames, base) {
        if !errors.iter().any(|x| x.path == e.path) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(ImportErrors(errors));
    }
    Ok(emit::render(
        &comments(&conv, layout, source),
        &conv.sections,
        layout,
    ))
}

/// The document inside a `{"data": {...}}` API envelope, and its JSON path.
fn unwrap(v: &Value) -> (&Value, &'static str) {
    match v.get("data") {
        Some(d) if d.is_object() && v.get("servers").is_none() => (d, "data"),
        _ => (v, ""),
    }
}

fn comments(conv: &kazoo::Doc, layout: Layout, source: &str) -> Vec<String> {
    let acc = conv.account_id.as_deref().unwrap_or("");
    let mut out = vec![
        format!("Imported by `trunkgate import-kazoo` from {source} (Kazoo trunkstore connectivity)."),
        format!(
            "account_id {acc}, connectivity id {}",
            conv.id
                .as_deref()
                .unwrap_or("(none: defaults to the file stem or account_id)")
        ),
    ];
    out.push(match layout {
        Layout::Config => "Append to the main config file, then run `trunkgate check`.".into(),
        Layout::DirFile => {
            "Save as a *.toml file below [proxy].connectivity_dir, then run `trunkgate check`.".into()
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"pvt_account_id": "acme", "name": "Acme", "servers": [
        {"name": "pbx", "auth": {"auth_method": "Password", "auth_user": "u", "auth_password": "p"},
         "DIDs": {"+14155550100": {}}}]}"#;

    #[test]
    fn bare_and_wrapped_give_the_same_tables() {
        let a = kazoo_to_toml(DOC, None, Layout::Config, "x.json").unwrap();
        let wrapped = format!("{{\"data\": {DOC}, \"status\": \"success\"}}");
        let b = kazoo_to_toml(&wrapped, None, Layout::Config, "x.json").unwrap();
        assert_eq!(a, b);
        assert!(a.contains("[connectivity.servers.DIDs.\"+14155550100\"]"), "{a}");
        assert!(a.contains("auth_method = \"password\""), "{a}");
    }

    #[test]
    fn dir_layout_loads_as_a_table() {
        let t = kazoo_to_toml(DOC, Some("other"), Layout::DirFile, "x.json").unwrap();
        let doc: toml::Table = t.parse().unwrap();
        assert_eq!(doc["account_id"].as_str(), Some("other"));
    }

    #[test]
    fn errors_carry_json_paths() {
        let bad = r#"{"data": {"servers": [{"auth": {"auth_method": "ip", "ip": "nope"},
            "options": {"dynamic_flags": ["zone"]}}]}}"#;
        let e = kazoo_to_toml(bad, None, Layout::Config, "x").unwrap_err();
        let paths: Vec<_> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"data.pvt_account_id"), "{paths:?}");
        assert!(
            paths.contains(&"data.servers[0].options.dynamic_flags"),
            "{paths:?}"
        );
        assert!(
            paths.iter().any(|p| p.starts_with("data.servers[0].auth.ip")),
            "{paths:?}"
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let e = kazoo_to_toml("{\n  \"name\": }", None, Layout::Config, "x").unwrap_err();
        assert_eq!(e.0[0].path, "(json)");
        assert!(e.0[0].message.starts_with("line 2"), "{}", e.0[0].message);
    }
}
