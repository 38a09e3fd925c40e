//! Every shipped config loads; every bad config fails with the error its first line promises
//! (`# expect: SUBSTRING`); the `check` binary maps both to the right exit code and output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.toml` below `dir`, sorted.
fn tomls(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn shipped_and_good_configs_load() {
    let mut files = tomls(&root().join("config"));
    files.extend(tomls(&root().join("tests/data/config/good")));
    assert!(!files.is_empty());
    for f in files {
        if let Err(e) = trunkgate::config::load(&f, 1) {
            let lines: Vec<String> = e.0.iter().map(ToString::to_string).collect();
            panic!("{} failed:\n{}", f.display(), lines.join("\n"));
        }
    }
}

#[test]
fn bad_configs_fail_with_the_expected_error() {
    let files = tomls(&root().join("tests/data/config/bad"));
    assert!(files.len() >= 5);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let first = text.lines().next().unwrap_or("");
        let expect = first
            .strip_prefix("# expect:")
            .map(str::trim)
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: SUBSTRING`", f.display()));
        match trunkgate::config::load(&f, 1) {
            Ok(_) => panic!("{} loaded but should fail with `{expect}`", f.display()),
            Err(e) => {
                let lines: Vec<String> = e.0.iter().map(ToString::to_string).collect();
                assert!(
                    lines.iter().any(|l| l.contains(expect)),
                    "{}: no error contains `{expect}`:\n{}",
                    f.display(),
                    lines.join("\n")
                );
                let name = f.display().to_string();
                assert!(lines.iter().all(|l| l.starts_with(&name)), "{lines:?}");
            }
        }
    }
}

fn check(path: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trunkgate"))
        .args(["check", "--config"])
        .arg(path)
        .env_remove("TRUNKGATE_CONFIG")
        .output()
        .unwrap();
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), s(&out.stdout), s(&out.stderr))
}

#[test]
fn check_binary_ok_summary() {
    let (code, out, err) = check(&root().join("config/trunkgate.toml"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("accounts: 1 (acme)"), "{out}");
    assert!(out.contains("servers: 2 (acme-server, acme-pbx)"), "{out}");
    assert!(out.contains("DIDs: 3"), "{out}");
    assert!(
        out.contains("carriers: 3 (carrier-a, termination, failover)"),
        "{out}"
    );
    assert!(
        out.contains("listeners: 2 (udp:127.0.0.1:5060, tcp:127.0.0.1:5060)"),
        "{out}"
    );
}

#[test]
fn check_binary_reports_every_error() {
    let dir = std::env::temp_dir().join(format!("trunkgate-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    std::fs::write(
        &f,
        "[proxy]\nrelm = \"x\"\nnonce_ttl = \"a\"\n[[carriers]]\nname = \"c\"\n",
    )
    .unwrap();
    let (code, out, err) = check(&f);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    let name = f.display().to_string();
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with(&name)).collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert_eq!(
        lines[0],
        format!("{name}:2:1: proxy.relm: unknown key (did you mean `realm`?)")
    );
    assert!(
        lines[1].starts_with(&format!("{name}:3:13: proxy.nonce_ttl: ")),
        "{err}"
    );
    assert!(
        lines[2].starts_with(&format!("{name}:4:1: carriers[0].hostname: missing required key")),
        "{err}"
    );
}

#[test]
fn check_binary_missing_file() {
    let (code, _, err) = check(Path::new("/nonexistent/trunkgate.toml"));
    assert_eq!(code, 1);
    assert!(
        err.contains("/nonexistent/trunkgate.toml:1:1: file: cannot read"),
        "{err}"
    );
}

#[test]
fn check_binary_warns_on_dynamic_flags() {
    let dir = std::env::temp_dir().join(format!("trunkgate-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("warn.toml");
    let text = "[[connectivity]]\naccount_id = \"a\"\n[[connectivity.servers]]\n[connectivity.servers.auth]\n\
                auth_method = \"ip\"\nip = \"10.0.0.1\"\n[connectivity.servers.options]\ndynamic_flags = [\"zone\"]\n";
    std::fs::write(&f, text).unwrap();
    let (code, _, err) = check(&f);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: ") && err.contains("dynamic_flags"),
        "{err}"
    );
}
