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
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
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
