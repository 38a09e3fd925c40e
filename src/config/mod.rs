//! Configuration: load TOML → validate every key (all errors, with FILE:LINE:COL) → compile into
//! one immutable `Snapshot`. A reload builds a new snapshot and swaps it in whole, or keeps the
//! old one when the new file has errors.

pub mod e164;
pub mod resolved;
pub mod snapshot;

mod compile;
mod diagnose;
mod load;
mod read_carrier;
mod read_conn;
mod read_outbound;
mod read_proxy;
mod read_server;
mod schema;
mod values;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compile;

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

pub use load::Loaded;
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

/// Every error found in a config (never only the first). `Display` gives the count; print the
/// items one per line for the details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} configuration error(s)", .0.len())]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// The live configuration: one atomic pointer to the current snapshot. Readers `load()` once
/// per message and never lock.
pub type Live = ArcSwap<Snapshot>;

/// Loads, validates and compiles the config at `path` (plus its `connectivity_dir`).
/// `generation` is stored in the snapshot.
/// Warnings (e.g. `dynamic_flags` set) are dropped; use `load_with_warnings` to show them.
pub fn load(path: &Path, generation: u64) -> Result<Snapshot, ConfigErrors> {
    load_with_warnings(path, generation).map(|(s, _)| s)
}

/// As `load`, also returning the warnings (`check` prints them on stderr).
pub fn load_with_warnings(path: &Path, generation: u64) -> Result<Loaded, ConfigErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let message = format!("cannot read the config: {e}");
        ConfigErrors(vec![ConfigError {
            file: name.clone(),
            line: 1,
            col: 1,
            key: "file".into(),
            message,
        }])
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    load::build(&name, &text, base, path.to_path_buf(), generation)
}

/// Loads a config from a string (tests, fuzzing); `name` is used as FILE in errors. A relative
/// `connectivity_dir` is resolved against the current directory.
pub fn load_str(name: &str, text: &str, generation: u64) -> Result<Snapshot, ConfigErrors> {
    load_str_with_warnings(name, text, generation).map(|(s, _)| s)
}

/// As `load_str`, also returning the warnings.
pub fn load_str_with_warnings(name: &str, text: &str, generation: u64) -> Result<Loaded, ConfigErrors> {
    load::build(name, text, Path::new("."), name.into(), generation)
}

/// Wraps a snapshot for sharing.
pub fn live(snapshot: Snapshot) -> Arc<Live> {
    Arc::new(ArcSwap::from_pointee(snapshot))
}
