//! Registrations persisted under `state_dir` (atomically: write a temp file, fsync, rename), so
//! bindings survive a restart.

use std::path::{Path, PathBuf};

use tracing::{info, warn};

use crate::proxy::Services;

const FILE: &str = "registrations.json";

/// Loads persisted bindings at start (expired ones are dropped).
pub fn load(dir: Option<&Path>, svc: &Services, unix: u64) {
    let Some(path) = dir.map(|d| d.join(FILE)) else {
        return;
    };
    let Ok(json) = std::fs::read_to_string(&path) else {
        return;
    };
    match svc.registrations.load_json(&json, unix) {
        Ok(n) => info!("restored {n} registration(s) from {}", path.display()),
        Err(e) => warn!("ignoring {}: {e}", path.display()),
    }
    let _ = svc.registrations.take_dirty();
}

/// Writes the bindings when they changed since the last call.
pub fn save_if_dirty(dir: Option<&Path>, svc: &Services) {
    let Some(dir) = dir else { return };
    if !svc.registrations.take_dirty() {
        return;
    }
    if let Err(e) = write_atomic(&dir.join(FILE), svc.registrations.to_json().as_bytes()) {
        warn!("cannot persist registrations: {e}");
    }
}

fn write_atomic(path: &PathBuf, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
