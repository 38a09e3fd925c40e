//! A small TOML writer for the imported document: sections in the order the operator reads a
//! trunkstore document (account, then each server's auth, options and DIDs), keys in schema
//! order. Every value and every non-bare key is rendered by the `toml` crate itself, so quoting
//! (DID keys such as `"+14155550100"`, quotes and backslashes in names) is always valid TOML.

use std::fmt::Write as _;

/// Where a section sits in the connectivity document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Header {
    /// The connectivity table itself (`[[connectivity]]`, or the top of a `connectivity_dir` file).
    Root,
    /// A sub-table, e.g. `["account"]` or `["servers", "DIDs", "+14155550100"]`.
    Table(Vec<String>),
    /// One element of an array of tables, e.g. `["servers"]`.
    ArrayItem(Vec<String>),
}

/// One section: its header and its `key = value` lines, in order.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub header: Header,
    pub entries: Vec<(String, toml::Value)>,
}

impl Section {
    /// An empty section.
    pub fn new(header: Header) -> Self {
        Section {
            header,
            entries: Vec::new(),
        }
    }

    /// Appends `key = value`.
    pub fn push(&mut self, key: &str, value: toml::Value) {
        self.entries.push((key.to_owned(), value));
    }
}

/// How the document is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[[connectivity]]` tables: append to the main config file.
    Config,
    /// The keys of one connectivity table at the top level: a file in `connectivity_dir`.
    DirFile,
}

/// A key as TOML writes it: bare when it is `[A-Za-z0-9_-]+` and does not start with a digit
/// (numbers such as DIDs are always quoted), else a quoted basic string.
pub(crate) fn key(k: &str) -> String {
    let bare = !k.starts_with(|c: char| c.is_ascii_digit())
        && !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        k.to_owned()
    } else {
        toml::Value::String(k.to_owned()).to_string()
    }
}

fn dotted(prefix: Option<&str>, parts: &[String]) -> String {
    let mut all: Vec<String> = prefix.map(key).into_iter().collect();
    all.extend(parts.iter().map(|p| key(p)));
    all.join(".")
}

/// The header line of a section, or `None` for a root without one (dir layout).
fn header_line(h: &Header, layout: Layout) -> Option<String> {
    let prefix = match layout {
        Layout::Config => Some("connectivity"),
        Layout::DirFile => None,
    };
    match h {
        Header::Root => prefix.map(|p| format!("[[{p}]]")),
        Header::Table(parts) => Some(format!("[{}]", dotted(prefix, parts))),
        Header::ArrayItem(parts) => Some(format!("[[{}]]", dotted(prefix, parts))),
    }
}

/// Renders `sections` after the comment lines `comments` (each written as `# ...`).
pub(crate) fn render(comments: &[String], sections: &[Section], layout: Layout) -> String {
    let mut out = String::new();
    for c in comments {
        let _ = writeln!(out, "# {c}");
    }
    for s in sections {
        if !out.is_empty() {
            out.push('\n');
        }
        if let Some(h) = header_line(&s.header, layout) {
            let _ = writeln!(out, "{h}");
        }
        for (k, v) in &s.entries {
            let _ = writeln!(out, "{} = {v}", key(k));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Section> {
        let mut root = Section::new(Header::Root);
        root.push("account_id", toml::Value::String("acme".into()));
        root.push("name", toml::Value::String("Say \"hi\"\\".into()));
        let srv = Section::new(Header::ArrayItem(vec!["servers".into()]));
        let mut did = Section::new(Header::Table(vec![
            "servers".into(),
            "DIDs".into(),
            "+14155550100".into(),
        ]));
        let mut cid = toml::Table::new();
        cid.insert("cid_name".into(), toml::Value::String("Sales".into()));
        did.push("caller_id", toml::Value::Table(cid));
        vec![root, srv, did]
    }

    #[test]
    fn keys_are_quoted_when_not_bare() {
        assert_eq!(key("auth_user"), "auth_user");
        assert_eq!(key("X-Account"), "X-Account");
        assert_eq!(key("+14155550100"), "\"+14155550100\"");
        assert_eq!(key("14155550100"), "\"14155550100\"");
        assert_eq!(key("a b"), "\"a b\"");
    }

    #[test]
    fn config_layout_round_trips() {
        let text = render(&["hello".into()], &sample(), Layout::Config);
        assert!(text.starts_with("# hello\n"), "{text}");
        assert!(
            text.contains("[connectivity.servers.DIDs.\"+14155550100\"]"),
            "{text}"
        );
        let doc: toml::Table = text.parse().unwrap();
        let conn = doc["connectivity"].as_array().unwrap();
        assert_eq!(conn[0]["name"].as_str(), Some("Say \"hi\"\\"));
        let did = &conn[0]["servers"][0]["DIDs"]["+14155550100"];
        assert_eq!(did["caller_id"]["cid_name"].as_str(), Some("Sales"));
    }

    #[test]
    fn dir_layout_has_root_keys() {
        let text = render(&[], &sample(), Layout::DirFile);
        assert!(text.starts_with("account_id = \"acme\"\n"), "{text}");
        let doc: toml::Table = text.parse().unwrap();
        assert_eq!(doc["account_id"].as_str(), Some("acme"));
        assert!(doc["servers"][0]["DIDs"].get("+14155550100").is_some());
    }
}
