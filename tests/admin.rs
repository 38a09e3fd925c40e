//! End to end: the real binary with an admin port on 127.0.29.1:9060 (proxy 127.0.29.1:5060
//! udp, carrier 127.0.29.2). Plain `std::net` HTTP, no client crate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const ADMIN: &str = "127.0.29.1:9060";
const TOKEN: &str = "t0ken-for-tests";

fn config(extra_admin: &str, trunks: u32) -> String {
    format!(
        r#"
[proxy]
listen = ["udp:127.0.29.1:5060"]
advertise = "127.0.29.1"
realm = "edge.test"

[admin]
listen = "{ADMIN}"
{extra_admin}

[log]
level = "info"

[[carriers]]
name = "carrier-a"
hostname = "127.0.29.2"
port = 5060
keep_alive = false
rules = ["^$"]

[[connectivity]]
account_id = "acme"
name = "Acme Corp"

[connectivity.account]
trunks = {trunks}

[[connectivity.servers]]
name = "acme-server"

[connectivity.servers.auth]
auth_method = "IP"
ip = "127.0.29.4"
port = 5060

[connectivity.servers.DIDs."+14155550100"]
"#
    )
}

/// The running proxy; killed on drop.
struct Proxy {
    child: Child,
    dir: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Proxy {
    fn start() -> Proxy {
        let dir = std::env::temp_dir().join(format!("trunkgate-admin-e2e-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let proxy_dir = dir.clone();
        write_config(&dir, &config("", 2));
        let mut child = Command::new(env!("CARGO_BIN_EXE_trunkgate"))
            .arg("run")
            .arg("--config")
            .arg(dir.join("trunkgate.toml"))
            .env_remove("RUST_LOG")
            .env_remove("NOTIFY_SOCKET")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let proxy = Proxy {
            child,
            dir: proxy_dir,
        };
        wait_ready(stderr);
        proxy
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("trunkgate.toml")
    }
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("trunkgate.toml"), text).unwrap();
}

/// Waits for `trunkgate ready` on stderr, then keeps draining it so the pipe never fills.
fn wait_ready(stderr: std::process::ChildStderr) {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            eprintln!("proxy: {line}");
            if line.contains("trunkgate ready") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("trunkgate ready within 20 s");
}

/// One HTTP/1.1 exchange: (status, body).
fn http(method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(ADMIN).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: {ADMIN}\r\n{auth}Content-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a full response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

fn wait_healthy() {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = http("GET", "/healthz", None);
        if status == 200 {
            assert_eq!(body, "ok\n");
            return;
        }
        assert!(Instant::now() < until, "/healthz stayed {status}");
        thread::sleep(Duration::from_millis(100));
    }
}

fn options_from_carrier() {
    let sock = UdpSocket::bind("127.0.29.2:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = sock.local_addr().unwrap().port();
    let msg = format!(
        "OPTIONS sip:127.0.29.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.29.2:{port};branch=z9hG4bK-admin-e2e-1;rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:ping@127.0.29.2>;tag=e2e1\r\n\
         To: <sip:127.0.29.1>\r\n\
         Call-ID: admin-e2e-options@127.0.29.2\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    sock.send_to(msg.as_bytes(), "127.0.29.1:5060").unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).expect("an answer to OPTIONS");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("SIP/2.0 200"), "{answer}");
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
}

#[test]
fn admin_port_end_to_end() {
    let proxy = Proxy::start();
    wait_healthy();

    let (status, text) = http("GET", "/metrics", None);
    assert_eq!(status, 200);
    for name in [
        "trunkgate_requests_total",
        "trunkgate_auth_failures_total",
        "trunkgate_parse_errors_total",
        "trunkgate_calls_started_total",
        "trunkgate_relay_latency_seconds_bucket",
        "trunkgate_active_calls_account",
        "trunkgate_active_calls_carrier",
        "trunkgate_carrier_status",
        "trunkgate_core_dialogs",
        "trunkgate_config_generation",
    ] {
        assert!(text.contains(name), "{name} missing in\n{text}");
    }
    let options = "trunkgate_requests_total{method=\"OPTIONS\"}";
    assert_eq!(metric(&text, options), Some(0.0));

    options_from_carrier();
    let (_, text) = http("GET", "/metrics", None);
    assert_eq!(metric(&text, options), Some(1.0), "{text}");
    assert_eq!(
        metric(&text, "trunkgate_responses_total{code=\"200\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "trunkgate_relay_latency_seconds_count"),
        Some(1.0),
        "{text}"
    );

    let (status, body) = http("GET", "/status", None);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["config"]["generation"], 1);
    assert_eq!(v["listeners"][0], "udp:127.0.29.1:5060");
    assert_eq!(v["carriers"][0]["name"], "carrier-a");
    assert_eq!(v["carriers"][0]["status"], "ONLINE");
    assert_eq!(v["accounts"][0]["account_id"], "acme");
    assert_eq!(v["accounts"][0]["trunks"], 2);

    // A broken file: 422 with every error, and the old config keeps serving.
    write_config(&proxy.dir, "[proxy]\nlisten = 5\nbogus_key = true\n");
    let (status, body) = http("POST", "/reload", None);
    assert_eq!(status, 422, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let errors = v["errors"].as_array().unwrap();
    assert!(errors.len() >= 2, "{body}");
    for e in errors {
        for field in ["file", "line", "col", "key", "message"] {
            assert!(!e[field].is_null(), "{field} missing in {e}");
        }
    }
    let (_, body) = http("GET", "/status", None);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["config"]["generation"], 1);

    // A good file: 200 with the new generation.
    write_config(&proxy.dir, &config("", 5));
    let (status, body) = http("POST", "/reload", None);
    assert_eq!((status, body.as_str()), (200, "{\"generation\":2}\n"));
    let (_, body) = http("GET", "/status", None);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["accounts"][0]["trunks"], 5);

    // A token-protected config: 401 without the token, 200 with it.
    write_config(&proxy.dir, &config(&format!("token = \"{TOKEN}\""), 5));
    assert_eq!(http("POST", "/reload", None).0, 200);
    assert_eq!(http("GET", "/status", None).0, 401);
    assert_eq!(http("GET", "/metrics", Some("wrong")).0, 401);
    assert_eq!(http("GET", "/status", Some(TOKEN)).0, 200);
    assert_eq!(http("GET", "/nope", Some(TOKEN)).0, 404);
    assert!(proxy.config_path().exists());
}
