//! The admin HTTP port (`[admin].listen`): `GET /healthz`, `GET /metrics`, `GET /status`,
//! `POST /reload`, optionally behind a bearer token.
//!
//! A small HTTP/1.1 responder on tokio rather than hyper: four routes, one request per
//! connection, no keep-alive, no chunked bodies and bodies of at most 4 KiB need ~150 lines over
//! `httparse` (hyper's own head parser), and keep hyper, hyper-util, http and http-body out of a
//! build shared by two cores. Parsing and routing are sans-IO (`http`, `routes`) and tested
//! without sockets; this file only moves bytes. Each connection has a 5 s budget and at most
//! 16 are served at once, so a slow client cannot pin the port.

mod http;
mod routes;
mod status;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tracing::debug;

use super::StartError;
use crate::config::{ConfigErrors, Live};
use crate::proxy::Services;
use crate::telemetry::Telemetry;
use http::Response;
use routes::Action;

/// Time allowed for one whole request/response exchange.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 16;

/// A reload asked for on the admin port; the driver answers on `reply` with the new generation
/// or every error of the rejected config.
#[derive(Debug)]
pub struct ReloadRequest {
    /// Where the driver sends the outcome.
    pub reply: oneshot::Sender<Result<u64, ConfigErrors>>,
}

/// What the admin handlers read.
pub struct Ctx {
    /// The live config (token, carriers, accounts).
    pub live: Arc<Live>,
    /// Concurrency counters for active calls.
    pub services: Arc<Services>,
    /// Metrics and health.
    pub telemetry: Arc<Telemetry>,
    /// The SIP listeners bound at start (`udp:127.0.0.1:5060`...).
    pub listeners: Vec<String>,
    /// Reload requests to the driver.
    pub reloads: mpsc::Sender<ReloadRequest>,
}

/// Binds the admin port (a failure is a start error). Must run inside the runtime.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    let err = |err| StartError::Bind {
        what: format!("admin {addr}"),
        err,
    };
    let std = std::net::TcpListener::bind(addr).map_err(err)?;
    std.set_nonblocking(true).map_err(err)?;
    TcpListener::from_std(std).map_err(err)
}

/// Serves the admin port until the process ends.
pub fn spawn(listener: TcpListener, ctx: Ctx) {
    tokio::spawn(accept_loop(listener, Arc::new(ctx)));
}

async fn accept_loop(listener: TcpListener, ctx: Arc<Ctx>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                let ctx = Arc::clone(&ctx);
                tokio::spawn(async move {
                    serve(stream, &ctx).await;
                    drop(permit);
                });
            }
            Err(e) => {
                debug!("admin accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve(mut stream: TcpStream, ctx: &Ctx) {
    let response = match tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(&mut stream, ctx)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return debug!("admin connection: {e}"),
        Err(_) => Response::text(408, "request timeout\n"),
    };
    let _ = stream.write_all(&response.to_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads one request (head and body) and produces its response.
async fn exchange(stream: &mut TcpStream, ctx: &Ctx) -> std::io::Result<Response> {
    let mut buf = Vec::with_capacity(1024);
    let req = loop {
        match http::parse(&buf) {
            Ok(Some(req)) => break req,
            Ok(None) => read_some(stream, &mut buf).await?,
            Err(e) => return Ok(e.response()),
        }
    };
    // The body is read (bounded by MAX_BODY) and ignored: no route takes one.
    while buf.len() < req.head_len + req.content_length {
        read_some(stream, &mut buf).await?;
    }
    match routes::route(&req, ctx, Instant::now()) {
        Action::Respond(r) => Ok(r),
        Action::Reload => Ok(reload(ctx).await),
    }
}

async fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 2048];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    Ok(())
}

async fn reload(ctx: &Ctx) -> Response {
    let (reply, answer) = oneshot::channel();
    if ctx.reloads.send(ReloadRequest { reply }).await.is_err() {
        return routes::reload_unavailable();
    }
    match answer.await {
        Ok(result) => routes::reload_response(result),
        Err(_) => routes::reload_unavailable(),
    }
}
