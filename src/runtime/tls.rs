//! SIP over TLS (RFC 3261 §26.2, RFC 5630): `tls:` listeners for PBXs and TLS connections to
//! carriers with `transport = "tls"`. rustls with the ring provider only. After the handshake a
//! TLS connection runs the same reader/writer tasks as a TCP one (`tcp::spawn_halves`), so
//! framing, keep-alives and reuse are identical; only the `transport` of its messages differs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{debug, warn};

use super::tcp::{self, Events, Link};
use super::StartError;
use crate::config::resolved::ResolvedHosts;
use crate::config::{Listen, Snapshot, Transport};
use crate::proxy::ConnId;

/// A handshake (either side) gives up after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a TLS configuration could not be built. Names the file, never its content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Pem { path: PathBuf, reason: String },
    #[error("{path}: no certificate found")]
    NoCertificate { path: PathBuf },
    #[error("tls: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("no trusted root certificate (system store empty and no ca_file)")]
    NoRoots,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server side of `tls:` listeners, from `[proxy] tls_certificate` / `tls_private_key`.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, e))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

/// The client side towards a carrier: verified against `ca_file` when set, else the system
/// roots.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            roots.add_parsable_certificates(read_certs(path)?);
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            if !native.errors.is_empty() {
                debug!("system roots: {} error(s) while loading", native.errors.len());
            }
            roots.add_parsable_certificates(native.certs);
        }
    }
    if roots.is_empty() {
        return Err(TlsError::NoRoots);
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.into() });
    }
    Ok(certs)
}

fn pem_error(path: &Path, e: rustls_pki_types::pem::Error) -> TlsError {
    TlsError::Pem {
        path: path.into(),
        reason: e.to_string(),
    }
}

/// Binds every `tls:` listener (needs the certificate: checked by the config loader) and spawns
/// its accept loop. Returns the bound addresses.
pub fn listen_all(
    listen: &[Listen],
    server: Option<Arc<ServerConfig>>,
    max: usize,
    events: Events,
) -> Result<Vec<SocketAddr>, StartError> {
    let mut bound = Vec::new();
    for l in listen.iter().filter(|l| l.transport == Transport::Tls) {
        let Some(server) = server.clone() else {
            return Err(StartError::Tls(format!("tls:{} has no certificate", l.addr)));
        };
        let (listener, local) = tcp::bind(l)?;
        tokio::spawn(accept_loop(
            listener,
            local,
            TlsAcceptor::from(server),
            max,
            events.clone(),
        ));
        bound.push(local);
    }
    Ok(bound)
}

async fn accept_loop(
    listener: TcpListener,
    local: SocketAddr,
    acceptor: TlsAcceptor,
    max: usize,
    events: Events,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let link = Link {
                    id: tcp::next_id(),
                    peer,
                    local,
                    transport: Transport::Tls,
                    max,
                };
                tokio::spawn(accept_one(stream, link, acceptor.clone(), events.clone()));
            }
            Err(e) => {
                warn!("tls accept on {local}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Handshakes an accepted connection (on its own task, so a slow peer holds up no one), then
/// hands it to the driver.
async fn accept_one(stream: TcpStream, link: Link, acceptor: TlsAcceptor, events: Events) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return warn!("tls handshake from {} failed: {e}", link.peer),
        Err(_) => return warn!("tls handshake from {} timed out", link.peer),
    };
    let Some((writer, rx)) = tcp::opened(&link, &events) else {
        return;
    };
    let (rd, wr) = tokio::io::split(tls);
    tcp::spawn_halves(rd, wr, link, tcp::ReadPolicy::outgoing(), writer, rx, events);
}

/// Who a TLS destination is: the name to send as SNI and verify the certificate against, and
/// the client configuration (roots) to verify with.
#[derive(Clone)]
pub struct TlsPeer {
    pub name: ServerName<'static>,
    pub config: Arc<ClientConfig>,
}

/// Opens an outgoing TLS connection; returns its id and the sender to queue bytes on at once
/// (they flow after the handshake). A failed connect or handshake is logged with its reason
/// and reported as a failed connection, so the core fails the branch over.
pub fn connect(
    peer: SocketAddr,
    local: SocketAddr,
    max: usize,
    events: Events,
    tls: TlsPeer,
) -> (ConnId, tcp::Writer) {
    let link = Link {
        id: tcp::next_id(),
        peer,
        local,
        transport: Transport::Tls,
        max,
    };
    let (writer, rx) = tcp::Writer::new();
    let writer2 = writer.clone();
    tokio::spawn(async move {
        let Some(stream) = tcp::open(peer).await else {
            return tcp::connect_failed(&link, &events);
        };
        let connector = TlsConnector::from(tls.config);
        let name = tls.name;
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(name.clone(), stream)).await {
            Ok(Ok(stream)) => {
                let (rd, wr) = tokio::io::split(stream);
                tcp::spawn_halves(rd, wr, link, tcp::ReadPolicy::outgoing(), writer2, rx, events);
            }
            Ok(Err(e)) => {
                warn!("tls handshake with {peer} ({}) failed: {e}", name.to_str());
                tcp::connect_failed(&link, &events);
            }
            Err(_) => {
                warn!("tls handshake with {peer} ({}) timed out", name.to_str());
                tcp::connect_failed(&link, &events);
            }
        }
    });
    (link.id, writer)
}

/// Client configurations by `ca_file` (`None`: system roots), built on first use. Owned by the
/// driver; cleared on reload so a changed CA file is read again.
#[derive(Default)]
pub struct ClientConfigs {
    by_ca: HashMap<Option<PathBuf>, Arc<ClientConfig>>,
}

impl ClientConfigs {
    /// The SNI name and roots for a TLS connection to `dest`: the carrier whose next hop it
    /// is (SNI = its `hostname`, roots = its `ca_file`), else the address itself with the
    /// system roots. `None` (logged) when the roots cannot be loaded.
    pub fn peer_for(&mut self, snap: &Snapshot, dest: SocketAddr) -> Option<TlsPeer> {
        let resolved = snap.resolved.load();
        let carrier = snap.carriers.iter().find(|c| {
            c.transport == Transport::Tls && (c.next_hop == Some(dest) || is_hop(&resolved, c.id, dest))
        });
        let (host, ca) = match carrier {
            Some(c) => (c.hostname.as_str(), c.ca_file.clone()),
            None => ("", None),
        };
        let name = server_name(host, dest);
        let config = self.config(ca)?;
        Some(TlsPeer { name, config })
    }

    fn config(&mut self, ca: Option<PathBuf>) -> Option<Arc<ClientConfig>> {
        if let Some(c) = self.by_ca.get(&ca) {
            return Some(Arc::clone(c));
        }
        match client_config(ca.as_deref()) {
            Ok(c) => {
                self.by_ca.insert(ca, Arc::clone(&c));
                Some(c)
            }
            Err(e) => {
                warn!("tls client: {e}");
                None
            }
        }
    }

    /// Forgets the loaded roots (a reload may have changed a `ca_file`).
    pub fn clear(&mut self) {
        self.by_ca.clear();
    }
}

fn is_hop(resolved: &ResolvedHosts, c: crate::config::CarrierId, dest: SocketAddr) -> bool {
    resolved.hops(c).contains(&dest)
}

/// The name to verify: the carrier's host name (or IP literal); the address when unknown.
fn server_name(host: &str, dest: SocketAddr) -> ServerName<'static> {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    ServerName::try_from(host.to_owned()).unwrap_or_else(|_| ServerName::IpAddress(dest.ip().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_name_from_host_or_address() {
        let dest: SocketAddr = "127.0.0.5:5061".parse().unwrap();
        assert_eq!(server_name("carrier.test.", dest).to_str(), "carrier.test");
        assert_eq!(server_name("", dest).to_str(), "127.0.0.5");
        assert_eq!(server_name("[::1]", dest).to_str(), "::1");
    }

    #[test]
    fn missing_files_are_named() {
        let e = server_config(Path::new("/nonexistent/c.pem"), Path::new("/nonexistent/k.pem"));
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/nonexistent/c.pem"), "{msg}");
        let e = client_config(Some(Path::new("/nonexistent/ca.pem")));
        assert!(matches!(e, Err(TlsError::Pem { .. })));
    }
}
