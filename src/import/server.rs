//! `servers[]` of a connectivity document: name, `auth`, `options` and `DIDs`, with the two
//! fields trunkgate refuses (`dynamic_flags` non-empty, `media_handling = "process"`).

use serde_json::{Map, Value};

use super::emit::{Header, Section};
use super::kazoo::{copy, copy_objects, sip_headers, Doc, Kind};
use super::walk::{is_unset, join, Walk};

const SERVER_KEYS: &[&str] = &["name", "server_name", "auth", "options", "DIDs"];
const AUTH_FIELDS: &[(&str, Kind)] = &[
    ("auth_user", Kind::Str),
    ("auth_password", Kind::Str),
    ("ip", Kind::Str),
    ("port", Kind::Port),
];
/// Scalar options, in the order the shipped config lists them.
const OPTION_FIELDS: &[(&str, Kind)] = &[
    ("enabled", Kind::Bool),
    ("inbound_format", Kind::Lower),
    ("ip", Kind::Str),
    ("port", Kind::Port),
    ("delay", Kind::Int),
    ("timeout", Kind::Int),
    ("progress_timeout", Kind::Int),
    ("force_outbound", Kind::Bool),
    ("ignore_early_media", Kind::Bool),
    ("hunt_non_reconcilable", Kind::Bool),
    ("hunt_account_id", Kind::Str),
    ("flags", Kind::Strings),
];
/// Every option key the seeds define (the ones above plus the specially handled ones).
const OPTION_KEYS: &[&str] = &[
    "enabled",
    "inbound_format",
    "ip",
    "port",
    "delay",
    "timeout",
    "progress_timeout",
    "force_outbound",
    "ignore_early_media",
    "hunt_non_reconcilable",
    "hunt_account_id",
    "flags",
    "media_handling",
    "dynamic_flags",
    "sip_headers",
    "failover",
    "caller_id",
    "emergency_caller_id",
];
const DID_KEYS: &[&str] = &["caller_id", "failover", "force_outbound", "options"];

/// Appends the sections of server `index` (at JSON `path`) to `out`.
pub(crate) fn read_server(w: &mut Walk, v: &Value, path: &str, index: usize, out: &mut Doc) {
    let Some(m) = w.object(v, path) else { return };
    w.check_keys(m, path, SERVER_KEYS, |_| false);
    let mut s = Section::new(Header::ArrayItem(vec!["servers".into()]));
    read_name(w, m, path, index, out, &mut s);
    out.sections.push(s);
    if let Some(a) = m.get("auth").filter(|a| !a.is_null()) {
        read_auth(w, a, &join(path, "auth"), out);
    }
    if let Some(o) = m.get("options").filter(|o| !o.is_null()) {
        read_options(w, o, &join(path, "options"), out);
    }
    if let Some(d) = m.get("DIDs").filter(|d| !d.is_null()) {
        read_dids(w, d, &join(path, "DIDs"), out);
    }
}

/// `name`, or the older `server_name` (taken as is).
fn read_name(w: &mut Walk, m: &Map<String, Value>, path: &str, index: usize, out: &mut Doc, s: &mut Section) {
    let p_name = join(path, "name");
    let p_old = join(path, "server_name");
    let name = m.get("name").and_then(|v| w.string(v, &p_name));
    let old = m.get("server_name").and_then(|v| w.string(v, &p_old));
    let chosen = match (name, old) {
        (Some(n), Some(o)) if n != o => {
            w.err(&p_old, format!("differs from name `{n}`: keep one of them"));
            Some(n)
        }
        (Some(n), _) => Some(n),
        (None, Some(o)) => {
            out.renames.push((format!("servers[{index}].name"), p_old));
            Some(o)
        }
        (None, None) => None,
    };
    if let Some(n) = chosen {
        s.push("name", toml::Value::String(n));
    }
}

fn read_auth(w: &mut Walk, v: &Value, path: &str, out: &mut Doc) {
    let Some(m) = w.object(v, path) else { return };
    let keys: Vec<&str> = std::iter::once("auth_method")
        .chain(AUTH_FIELDS.iter().map(|(k, _)| *k))
        .collect();
    w.check_keys(m, path, &keys, |_| false);
    let mut s = Section::new(Header::Table(vec!["servers".into(), "auth".into()]));
    let p = join(path, "auth_method");
    let method = match m.get("auth_method").and_then(|v| w.string(v, &p)) {
        None => Some("password"),
        Some(x) if x.eq_ignore_ascii_case("password") => Some("password"),
        Some(x) if x.eq_ignore_ascii_case("ip") => Some("ip"),
        Some(x) => {
            w.err(&p, format!("`{x}` is not an auth method (password, IP)"));
            None
        }
    };
    if let Some(method) = method {
        s.push("auth_method", toml::Value::String(method.into()));
    }
    copy(w, m, path, AUTH_FIELDS, &mut s);
    out.sections.push(s);
}

fn read_options(w: &mut Walk, v: &Value, path: &str, out: &mut Doc) {
    let Some(m) = w.object(v, path) else { return };
    w.check_keys(m, path, OPTION_KEYS, |_| false);
    let mut s = Section::new(Header::Table(vec!["servers".into(), "options".into()]));
    copy(w, m, path, OPTION_FIELDS, &mut s);
    refused(w, m, path, &mut s);
    if let Some(h) = m.get("sip_headers") {
        if let Some(h) = sip_headers(w, h, &join(path, "sip_headers")) {
            s.push("sip_headers", h);
        }
    }
    copy_objects(
        w,
        m,
        path,
        &["failover", "caller_id", "emergency_caller_id"],
        &mut s,
    );
    if !s.entries.is_empty() {
        out.sections.push(s);
    }
}

/// `media_handling` (only "bypass" carries over) and `dynamic_flags` (only empty).
fn refused(w: &mut Walk, m: &Map<String, Value>, path: &str, s: &mut Section) {
    let p = join(path, "media_handling");
    match m.get("media_handling").and_then(|v| w.string(v, &p)) {
        Some(x) if x.eq_ignore_ascii_case("bypass") => s.push("media_handling", "bypass".into()),
        Some(x) if x.eq_ignore_ascii_case("process") => w.err(
            &p,
            "\"process\" cannot be carried over: trunkgate keeps media end to end (no media relay); \
             set it to \"bypass\" in Kazoo first if the server can take media directly",
        ),
        Some(x) => w.err(&p, format!("`{x}` is not a media handling (bypass, process)")),
        None => {}
    }
    let p = join(path, "dynamic_flags");
    let dynamic = m
        .get("dynamic_flags")
        .map(|v| w.strings(v, &p))
        .unwrap_or_default();
    if !dynamic.is_empty() {
        w.err(
            &p,
            format!(
                "cannot be carried over: trunkgate has no call-record functions ({}) to compute \
                 flags; put the flags they yield in options.flags instead",
                dynamic.join(", ")
            ),
        );
    }
}

fn read_dids(w: &mut Walk, v: &Value, path: &str, out: &mut Doc) {
    let Some(m) = w.object(v, path) else { return };
    for (number, did) in m {
        let p = join(path, number);
        let mut s = Section::new(Header::Table(vec![
            "servers".into(),
            "DIDs".into(),
            number.clone(),
        ]));
        if !is_unset(did) {
            if let Some(d) = w.object(did, &p) {
                w.check_keys(d, &p, DID_KEYS, |_| false);
                copy_objects(w, d, &p, &["caller_id", "failover"], &mut s);
                copy(
                    w,
                    d,
                    &p,
                    &[("force_outbound", Kind::Bool), ("options", Kind::Strings)],
                    &mut s,
                );
            }
        }
        out.sections.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn server(v: Value) -> (Doc, Walk) {
        let mut w = Walk::default();
        let mut d = Doc::default();
        read_server(&mut w, &v, "servers[0]", 0, &mut d);
        (d, w)
    }

    fn keys(s: &Section) -> Vec<&str> {
        s.entries.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn old_server_name_and_method_case() {
        let (d, w) = server(json!({"server_name": "old", "auth": {"auth_method": "IP", "ip": "10.0.0.1"}}));
        assert!(w.errors.is_empty(), "{:?}", w.errors);
        assert_eq!(d.sections[0].entries[0].1.as_str(), Some("old"));
        assert_eq!(
            d.renames,
            vec![("servers[0].name".into(), "servers[0].server_name".into())]
        );
        assert_eq!(d.sections[1].entries[0].1.as_str(), Some("ip"));
    }

    #[test]
    fn refused_fields_name_their_path() {
        let (_, w) = server(json!({"auth": {}, "options": {
            "dynamic_flags": ["zone"], "media_handling": "Process", "bogus": 1
        }}));
        let paths: Vec<_> = w.errors.iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"servers[0].options.dynamic_flags"), "{paths:?}");
        assert!(paths.contains(&"servers[0].options.media_handling"), "{paths:?}");
        assert!(paths.contains(&"servers[0].options.bogus"), "{paths:?}");
    }

    #[test]
    fn options_and_dids() {
        let (d, w) = server(json!({"auth": {"auth_method": "password"}, "options": {
            "inbound_format": "1NPAN", "delay": "2", "port": 0, "dynamic_flags": [],
            "media_handling": "bypass", "failover": {"e164": "", "sip": "sip:b@10.0.0.6"}
        }, "DIDs": {"+14155550100": {}, "4155550101": {"options": [], "force_outbound": true}}}));
        assert!(w.errors.is_empty(), "{:?}", w.errors);
        let opts = &d.sections[2];
        assert_eq!(
            keys(opts),
            vec!["inbound_format", "delay", "media_handling", "failover"]
        );
        assert_eq!(opts.entries[0].1.as_str(), Some("1npan"));
        assert_eq!(d.sections.len(), 5);
        assert_eq!(keys(&d.sections[4]), vec!["force_outbound"]);
    }
}
