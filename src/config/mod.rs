//! Configuration: load TOML → validate every key (all errors, with FILE:LINE:COL) → compile into
//! one immutable `Snapshot`. A reload builds a new snapshot and swaps it in whole, or keeps the
//! old one when the new file has errors.

pub mod snapshot;

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

pub use snapshot::*;

/// One configuration error, located.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// Dotted key path, e.g. `connectivity[0].servers[1].auth.ip`.
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.col, self.key, self.message
        )
    }
}

/// Every error found in a config (never only the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} configuration error(s)", .0.len())]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// The live configuration: one atomic pointer to the current snapshot. Readers `load()` once
/// per message and never lock.
pub type Live = ArcSwap<Snapshot>;

/// Loads, validates and compiles the config at `path` (plus its `connectivity_dir`).
/// `generation` is stored in the snapshot.
pub fn load(path: &Path, generation: u64) -> Result<Snapshot, ConfigErrors> {
    let _ = (path, generation);
    todo!("config helper")
}

/// Loads a config from a string (tests, fuzzing); `name` is used as FILE in errors.
pub fn load_str(name: &str, text: &str, generation: u64) -> Result<Snapshot, ConfigErrors> {
    let _ = (name, text, generation);
    todo!("config helper")
}

/// Wraps a snapshot for sharing.
pub fn live(snapshot: Snapshot) -> Arc<Live> {
    Arc::new(ArcSwap::from_pointee(snapshot))
}
