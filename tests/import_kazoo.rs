//! `trunkgate import-kazoo` end to end: the good documents in `tests/data/kazoo/` import,
//! the output (after the proxy + carriers of `header.toml`) passes `trunkgate check`, and every
//! DID routes exactly as in the hand-written equivalent `full.toml`; the bad documents exit 1
//! naming each JSON path that cannot be carried over.

use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/kazoo")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap()
}

/// A fresh directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("import_kazoo")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary: (exit code, stdout, stderr).
fn trunkgate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trunkgate"))
        .args(args)
        .env_remove("TRUNKGATE_CONFIG")
        .output()
        .unwrap();
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), s(&out.stdout), s(&out.stderr))
}

fn import(file: &str, extra: &[&str]) -> (i32, String, String) {
    let path = data(file);
    let mut args = vec!["import-kazoo", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    trunkgate(&args)
}

/// `header.toml` + `body` written to `dir/name`; `check` must accept it.
fn config(dir: &Path, name: &str, header: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{header}\n{body}")).unwrap();
    let (code, out, err) = trunkgate(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "check failed for {}:\n{err}\n{body}", path.display());
    assert!(out.contains(": OK"), "{out}");
    path
}

fn route(config: &Path, from: &str, to: &str) -> String {
    let (code, out, err) = trunkgate(&[
        "route",
        "--config",
        config.to_str().unwrap(),
        "--from",
        from,
        "--to",
        to,
    ]);
    assert_eq!(code, 0, "{err}");
    out
}

/// Every DID of full.json: the first target (`server NAME` / `carrier NAME`, or the rejection)
/// and the Request-URI user its inbound_format gives.
const FULL_DIDS: &[(&str, &str, &str)] = &[
    (
        "+14155550100",
        "target 1: server acme-sip",
        "sip:4155550100@127.0.0.4:5060",
    ),
    (
        "+14155550101",
        "target 1: server acme-sip",
        "sip:4155550101@127.0.0.4:5060",
    ),
    (
        "+442071234567",
        "target 1: server acme-sip",
        "sip:+442071234567@127.0.0.4:5060",
    ),
    (
        "+14155550200",
        "target 1: server acme-pbx",
        "sip:14155550200@127.0.0.3:5062",
    ),
    (
        "+14155550201",
        "target 1: server acme-pbx",
        "sip:14155550201@127.0.0.3:5062",
    ),
    (
        "+14155550202",
        "target 1: carrier termination",
        "sip:+14155550202@127.0.0.5:5060",
    ),
    ("+14155550300", "decision: reject 480", ""),
    (
        "+14155550400",
        "target 1: server acme-strip",
        "sip:14155550400@127.0.0.8:5060",
    ),
    (
        "+14155550500",
        "target 1: server acme-user",
        "sip:pbx2@127.0.0.9:5060",
    ),
    (
        "+14155550600",
        "target 1: carrier termination",
        "sip:+14155550600@127.0.0.5:5060",
    ),
];

/// Routes every DID through `imported` and the hand-written `full.toml`: same output, and the
/// expected first target and Request-URI.
fn assert_routes_like_hand_written(imported: &Path, hand: &Path) {
    for (did, target, ruri) in FULL_DIDS {
        let got = route(imported, "127.0.0.2", did);
        assert_eq!(got, route(hand, "127.0.0.2", did), "{did} routes differently");
        assert!(got.contains("caller: carrier carrier-a"), "{did}:\n{got}");
        assert!(got.contains(target), "{did}: expected `{target}`:\n{got}");
        let first_ruri = got.lines().find(|l| l.trim_start().starts_with("request-uri:"));
        if !ruri.is_empty() {
            assert_eq!(
                first_ruri.map(str::trim),
                Some(format!("request-uri: {ruri}").as_str()),
                "{did}:\n{got}"
            );
        }
    }
}

fn without_comments(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn full_document_checks_and_routes_like_the_hand_written_toml() {
    let dir = scratch("full");
    let header = read("header.toml");
    let (code, toml, err) = import("full.json", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(
        toml.contains("[connectivity.servers.DIDs.\"+14155550100\"]"),
        "{toml}"
    );
    assert!(
        toml.contains("[connectivity.servers.DIDs.\"14155550201\"]"),
        "{toml}"
    );
    let imported = config(&dir, "imported.toml", &header, &toml);
    let hand = config(&dir, "hand.toml", &header, &read("full.toml"));
    assert_routes_like_hand_written(&imported, &hand);
    // Outbound from the IP server: its flags, sip_headers and caller_id came over.
    let out = route(&imported, "127.0.0.4", "4155551234");
    assert_eq!(out, route(&hand, "127.0.0.4", "4155551234"));
    assert!(
        out.contains("headers added: X-Account: acme, X-Trunk: sip"),
        "{out}"
    );
    assert!(out.contains("caller id: \"Acme SIP\" <+14155550110>"), "{out}");
    assert!(out.contains("limits: account acme trunks 20"), "{out}");
}

#[test]
fn dir_file_layout_loads_from_connectivity_dir() {
    let dir = scratch("dir_file");
    let (code, toml, err) = import("full.json", &["--as-dir-file"]);
    assert_eq!(code, 0, "{err}");
    assert!(!toml.contains("[[connectivity]]"), "{toml}");
    assert!(toml.contains("\n[[servers]]\n"), "{toml}");
    std::fs::create_dir_all(dir.join("conn.d")).unwrap();
    std::fs::write(dir.join("conn.d/acme.toml"), &toml).unwrap();
    let header = read("header.toml").replace(
        "realm = \"edge.test\"\n",
        "realm = \"edge.test\"\nconnectivity_dir = \"conn.d\"\n",
    );
    let imported = config(&dir, "main.toml", &header, "");
    let hand = config(&dir, "hand.toml", &read("header.toml"), &read("full.toml"));
    assert_routes_like_hand_written(&imported, &hand);
}

#[test]
fn wrapped_document_needs_an_account_id_and_imports_the_same() {
    let (code, out, err) = import("wrapped.json", &[]);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("data.pvt_account_id"), "{err}");
    assert!(err.contains("--account-id"), "{err}");
    let (code, wrapped, err) = import("wrapped.json", &["--account-id", "acme"]);
    assert_eq!(code, 0, "{err}");
    let (_, bare, _) = import("full.json", &[]);
    assert_eq!(without_comments(&wrapped), without_comments(&bare));
}

#[test]
fn account_id_flag_overrides_the_document() {
    let (code, out, err) = import("full.json", &["--account-id", "acme-2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("account_id = \"acme-2\"\n"), "{out}");
}

#[test]
fn old_document_with_server_name_and_string_values() {
    let dir = scratch("old");
    let (code, toml, err) = import("old_server_name.json", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(toml.contains("name = \"globex-asterisk\"\n"), "{toml}");
    assert!(toml.contains("trunks = 4\n"), "{toml}");
    assert!(toml.contains("port = 5060\n"), "{toml}");
    assert!(toml.contains("enabled = true\n"), "{toml}");
    assert!(
        !toml.contains("cid_name = \"\""),
        "empty caller_id dropped:\n{toml}"
    );
    let cfg = config(&dir, "old.toml", &read("header.toml"), &toml);
    let out = route(&cfg, "127.0.0.2", "+13125550100");
    assert!(out.contains("target 1: server globex-asterisk"), "{out}");
    assert!(
        out.contains("request-uri: sip:3125550100@127.0.0.4:5060"),
        "{out}"
    );
    let out = route(&cfg, "127.0.0.2", "3125550101");
    assert!(
        out.contains("request-uri: sip:+13125550199@127.0.0.5:5060"),
        "failover e164:\n{out}"
    );
}

#[test]
fn dynamic_flags_are_refused_with_every_path() {
    let (code, out, err) = import("dynamic_flags.json", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "{out}");
    for path in [
        "servers[0].options.dynamic_flags",
        "servers[1].options.dynamic_flags",
    ] {
        assert!(
            err.contains(&format!("dynamic_flags.json: {path}: ")),
            "{path}:\n{err}"
        );
    }
}

#[test]
fn media_process_is_refused_with_every_path() {
    let (code, out, err) = import("process.json", &["--account-id", "acme"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("data.servers[1].options.media_handling: "), "{err}");
    assert!(err.contains("data.servers[1].server_type: "), "{err}");
    assert!(!err.contains("servers[0]"), "the bypass server is fine:\n{err}");
}

#[test]
fn unreadable_and_malformed_inputs_exit_1() {
    let (code, _, err) = trunkgate(&["import-kazoo", "/nonexistent/doc.json"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read"), "{err}");
    let dir = scratch("malformed");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"servers\": [}").unwrap();
    let (code, _, err) = trunkgate(&["import-kazoo", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("(json): line 1"), "{err}");
}

/// The first ```json and ```toml blocks of docs/migrating-from-trunkstore.md.
fn guide_blocks() -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migrating-from-trunkstore.md");
    let text = std::fs::read_to_string(path).unwrap();
    let block = |fence: &str| {
        let start = text.find(fence).unwrap() + fence.len();
        let len = text[start..].find("```").unwrap();
        text[start..start + len].to_owned()
    };
    (block("```json\n"), block("```toml\n"))
}

#[test]
fn migration_guide_example_is_what_the_command_prints() {
    let dir = scratch("guide");
    let (json, expected) = guide_blocks();
    std::fs::write(dir.join("acme.json"), json).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trunkgate"))
        .args(["import-kazoo", "acme.json", "--account-id", "acme"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}
