//! The admin port (`[admin]`): a minimal HTTP/1.1 GET client and `/status` lookups.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::net::{Net, PROXY};

/// The admin port every test block uses: `127.0.N.1:9060`.
pub fn admin_addr(net: &Net) -> SocketAddr {
    SocketAddr::from((net.ip(PROXY), 9060))
}

/// An `[admin]` section listening on `admin_addr` (append it to the config).
pub fn admin_section(net: &Net) -> String {
    format!("\n[admin]\nlisten = \"{}\"\n", admin_addr(net))
}

/// `GET path` → (status, body); `None` when the port does not answer.
pub fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    http_exchange(addr, &req)
}

/// `POST path` with an empty body → (status, body); `None` when the port does not answer.
pub fn http_post(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let req =
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    http_exchange(addr, &req)
}

/// One request on a fresh connection, read to the server's close.
fn http_exchange(addr: SocketAddr, req: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

/// The `/status` document.
pub fn status(net: &Net) -> Value {
    let (code, body) = http_get(admin_addr(net), "/status").expect("admin port answers");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).expect("/status is JSON")
}

/// The `/metrics` text.
pub fn metrics(net: &Net) -> String {
    let (code, body) = http_get(admin_addr(net), "/metrics").expect("admin port answers");
    assert_eq!(code, 200, "{body}");
    body
}

/// The value of the sample `series` (name with its labels, exactly as rendered) in a
/// Prometheus text; `None` when absent.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// One carrier's entry in `/status`.
pub fn carrier_entry(net: &Net, name: &str) -> Value {
    let st = status(net);
    st["carriers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name).cloned())
        .unwrap_or_else(|| panic!("carrier {name} not in /status: {st}"))
}

/// A carrier's `status` string in `/status` (ONLINE, OFFLINE, UNKNOWN, DISABLED).
pub fn carrier_state(net: &Net, name: &str) -> String {
    carrier_entry(net, name)["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Polls `check` every 100 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
