//! The tokio shell around the sans-IO core: binds the listeners, runs the driver loop, handles
//! SIGHUP (reload) and SIGTERM (drain). This module and `main.rs` are the only code that reads
//! the clock or touches sockets.

mod driver;
mod secret;
mod state;
mod tcp;
mod udp;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::{error, info};

use crate::config::{self, Live, Snapshot};
use crate::proxy::{CoreConfig, Services};

/// Runs the proxy until SIGTERM; returns the process exit code.
pub fn run(config_path: &Path) -> i32 {
    let snap = match config::load(config_path, 1) {
        Ok(s) => s,
        Err(errs) => {
            for e in &errs.0 {
                eprintln!("{e}");
            }
            return 1;
        }
    };
    crate::telemetry::init(&snap.log);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(serve(config_path.to_path_buf(), snap)) {
        Ok(()) => 0,
        Err(e) => {
            error!("{e}");
            1
        }
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind {what}: {err}")]
    Bind { what: String, err: std::io::Error },
    #[error("state directory: {0}")]
    State(std::io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

async fn serve(path: PathBuf, snap: Snapshot) -> Result<(), StartError> {
    let secret = secret::load_or_create(snap.proxy.state_dir.as_deref()).map_err(StartError::State)?;
    let udp = udp::bind_all(&snap.proxy.listen)?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let tcp = tcp::listen_all(&snap.proxy.listen, snap.proxy.max_message_bytes, tx.clone())?;
    let core_cfg = CoreConfig {
        advertise: snap.proxy.advertise.clone(),
        ports: snap
            .proxy
            .listen
            .iter()
            .map(|l| (l.transport, l.addr.port()))
            .collect(),
        secret,
        seed: secret::seed(),
    };
    let services = Arc::new(Services::new(secret));
    state::load(snap.proxy.state_dir.as_deref(), &services, driver::unix_now());
    let live: Arc<Live> = config::live(snap);
    for l in &live.load().proxy.listen {
        info!("listening on {:?}:{}", l.transport, l.addr);
    }
    let signals = driver::Signals::install().map_err(StartError::Signals)?;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    info!("trunkgate ready");
    driver::Driver::new(core_cfg, live, services, path, udp, tcp, tx, rx)
        .run(signals)
        .await;
    Ok(())
}
