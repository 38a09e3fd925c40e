//! The tokio shell around the sans-IO core: binds the listeners, runs the driver loop, handles
//! SIGHUP (reload) and SIGTERM (drain). This module and `main.rs` are the only code that reads
//! the clock or touches sockets.

mod admin;
mod dns;
mod driver;
mod flood;
mod mmsg;
mod secret;
mod state;
mod streams;
mod tcp;
mod tls;
mod udp;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tracing::{error, info};

use crate::config::{self, Live, Snapshot};
use crate::proxy::{CoreConfig, Services};
use crate::telemetry::{LogControl, Telemetry};

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
    let log = crate::telemetry::init(&snap.log);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(serve(config_path.to_path_buf(), snap, log)) {
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
    #[error("tls listener: {0}")]
    Tls(String),
}

async fn serve(path: PathBuf, snap: Snapshot, log: LogControl) -> Result<(), StartError> {
    let secret = secret::load_or_create(snap.proxy.state_dir.as_deref()).map_err(StartError::State)?;
    let udp = udp::bind_all(&snap.proxy.listen)?;
    let telemetry = Arc::new(Telemetry::new(
        log,
        Instant::now(),
        snap.generation,
        driver::unix_now(),
    ));
    let (max, listen) = (snap.proxy.max_message_bytes, snap.proxy.listen.clone());
    let live: Arc<Live> = config::live(snap);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let guard = tcp::Guard::new(Arc::clone(&live), Arc::clone(&telemetry));
    let tcp = tcp::listen_all(&listen, max, tx.clone(), &guard)?;
    let snap = live.load_full();
    let tls = tls::listen_all(&snap.proxy.listen, tls_server(&snap.proxy)?, max, tx.clone())?;
    let admin_port = snap.admin.as_ref().map(|a| admin::bind(a.listen)).transpose()?;
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
    let dns = dns::Dns::spawn(Arc::clone(&live));
    for l in &live.load().proxy.listen {
        info!("listening on {:?}:{}", l.transport, l.addr);
    }
    let signals = driver::Signals::install().map_err(StartError::Signals)?;
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(4);
    if let Some(port) = admin_port {
        if let Ok(addr) = port.local_addr() {
            info!("admin HTTP on {addr}");
        }
        let ctx = admin::Ctx {
            live: Arc::clone(&live),
            services: Arc::clone(&services),
            telemetry: Arc::clone(&telemetry),
            listeners: live.load().proxy.listen.iter().map(listen_name).collect(),
            reloads: reload_tx,
        };
        admin::spawn(port, ctx);
    }
    telemetry.health.set_ready();
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    info!("trunkgate ready");
    let driver = driver::Driver::new(core_cfg, live, services, path, udp, tcp, tx, rx)
        .with_ops(telemetry, reload_rx)
        .with_links(tls, dns);
    // A spawned task, not the `block_on` future itself: waking the `block_on` future always
    // writes the runtime's eventfd (a syscall and an extra epoll wake-up per wake), waking a
    // task on this thread only queues it.
    if let Err(e) = tokio::spawn(driver.run(signals)).await {
        error!("driver task ended abnormally: {e}");
    }
    Ok(())
}

/// The `tls:` listeners' certificate, when any is configured.
fn tls_server(p: &config::ProxySettings) -> Result<Option<Arc<rustls::ServerConfig>>, StartError> {
    let has_tls = p.listen.iter().any(|l| l.transport == config::Transport::Tls);
    match (&p.tls_certificate, &p.tls_private_key) {
        (Some(cert), Some(key)) if has_tls => tls::server_config(cert, key)
            .map(Some)
            .map_err(|e| StartError::Tls(e.to_string())),
        _ => Ok(None),
    }
}

/// `udp:127.0.0.1:5060`, as written in `[proxy].listen`.
fn listen_name(l: &config::Listen) -> String {
    format!("{}:{}", l.transport.via_name().to_ascii_lowercase(), l.addr)
}
