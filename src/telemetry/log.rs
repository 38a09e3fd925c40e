//! Logging setup (tracing): text or JSON per `[log]`, level from `[log].level` or `RUST_LOG`.
//! The level filter sits behind a `reload::Layer`, so a config reload can change it without a
//! restart. Nothing here (or anywhere) logs SIP headers or admin requests' `Authorization`.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, reload, EnvFilter, Layer, Registry};

use crate::config::LogSettings;

/// Why a new log level was not applied.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The `[log].level` string is not a valid tracing filter.
    #[error("invalid log filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// The subscriber is gone (or was never ours).
    #[error("cannot change the log level: {0}")]
    Reload(#[from] reload::Error),
}

/// Keeps the reload handle of the level filter, so `[log].level` can change on reload.
#[derive(Debug, Default)]
pub struct LogControl {
    handle: Option<reload::Handle<EnvFilter, Registry>>,
    /// `RUST_LOG` was set at start: it wins over the config, on reload too.
    env_override: bool,
}

/// Installs the global subscriber (stderr) once per process and returns its level control.
/// A second call (tests) installs nothing and returns a control that changes nothing.
pub fn init(log: &LogSettings) -> LogControl {
    let env = EnvFilter::try_from_default_env().ok();
    let env_override = env.is_some();
    let filter = env.unwrap_or_else(|| EnvFilter::new(&log.level));
    let (filter, handle) = reload::Layer::new(filter);
    let output = if log.json {
        fmt::layer().json().with_writer(std::io::stderr).boxed()
    } else {
        // No colour codes when stderr is a pipe or the journal.
        let ansi = std::io::stderr().is_terminal();
        fmt::layer().with_ansi(ansi).with_writer(std::io::stderr).boxed()
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .try_init();
    LogControl {
        handle: installed.is_ok().then_some(handle),
        env_override,
    }
}

impl LogControl {
    /// Applies a new `[log].level`; returns whether it changed anything (false when `RUST_LOG`
    /// overrides the config or no subscriber is ours).
    pub fn set_level(&self, level: &str) -> Result<bool, LogError> {
        let Some(handle) = self.handle.as_ref().filter(|_| !self.env_override) else {
            return Ok(false);
        };
        let filter = EnvFilter::try_new(level)?;
        handle.reload(filter)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_control_changes_nothing() {
        let c = LogControl::default();
        assert!(!c.set_level("debug").unwrap());
    }
}
