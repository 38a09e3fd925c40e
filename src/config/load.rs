//! Reading files: the main TOML document, then every `*.toml` below `connectivity_dir`, each
//! parsed into a spanned tree and walked by the readers, all feeding one `Builder`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use super::compile::{Builder, Parts};
use super::diagnose::Diag;
use super::read_carrier::read_carrier;
use super::read_conn::read_connectivity;
use super::read_proxy::{read_admin, read_log, read_proxy, read_security};
use super::schema::Tbl;
use super::{ConfigError, ConfigErrors, Snapshot};

const TOP_KEYS: &[&str] = &["proxy", "security", "admin", "log", "carriers", "connectivity"];

/// A compiled snapshot and the warnings found on the way.
pub type Loaded = (Snapshot, Vec<ConfigError>);

/// Validates and compiles `text` (named `name` in errors); `base` resolves a relative
/// `connectivity_dir`.
pub(crate) fn build(
    name: &str,
    text: &str,
    base: &Path,
    source: PathBuf,
    generation: u64,
) -> Result<Loaded, ConfigErrors> {
    let mut d = Diag::default();
    d.enter_file(name, text);
    let (doc, syntax) = DeTable::parse_recoverable(text);
    d.syntax(&syntax);
    let root = Tbl::root(&doc, "");
    root.check_keys(&mut d, TOP_KEYS);
    let proxy_t = root.table(&mut d, "proxy");
    let proxy = read_proxy(&mut d, proxy_t.as_ref());
    let dir_span = proxy_t.as_ref().map_or(0..0, |p| p.span_of("connectivity_dir"));
    let (sec_t, admin_t, log_t) = (
        root.table(&mut d, "security"),
        root.table(&mut d, "admin"),
        root.table(&mut d, "log"),
    );
    let parts = Parts {
        generation,
        source,
        security: read_security(&mut d, sec_t.as_ref()),
        admin: read_admin(&mut d, admin_t.as_ref()),
        log: read_log(&mut d, log_t.as_ref()),
    };
    let mut b = Builder::new(proxy);
    for c in root.tables(&mut d, "carriers") {
        read_carrier(&mut d, &mut b, &c);
    }
    for c in root.tables(&mut d, "connectivity") {
        read_connectivity(&mut d, &mut b, &c, None);
    }
    if let Some(dir) = b.proxy.connectivity_dir.clone() {
        load_dir(&mut d, &mut b, &base.join(dir), &dir_span);
    }
    let snap = b.finish(&mut d, parts);
    let (errors, warnings) = d.finish();
    if errors.is_empty() {
        Ok((snap, warnings))
    } else {
        Err(ConfigErrors(errors))
    }
}

/// Reads every `*.toml` below `dir` (sorted, recursively) as one connectivity document.
fn load_dir(d: &mut Diag, b: &mut Builder, dir: &Path, at: &Range<usize>) {
    let mut files = Vec::new();
    if let Err(e) = collect(dir, &mut files) {
        d.set_file(0);
        d.error(
            at,
            "proxy.connectivity_dir",
            format!("cannot read `{}`: {e}", dir.display()),
        );
        return;
    }
    files.sort();
    for f in files {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                d.set_file(0);
                d.error(
                    at,
                    "proxy.connectivity_dir",
                    format!("cannot read `{}`: {e}", f.display()),
                );
                continue;
            }
        };
        b.file = d.enter_file(&f.display().to_string(), &text);
        let (doc, syntax) = DeTable::parse_recoverable(&text);
        d.syntax(&syntax);
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        read_connectivity(d, b, &Tbl::root(&doc, ""), Some(stem));
    }
    b.file = 0;
    d.set_file(0);
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}
