//! The proxy under test: `trunkgate run` as a child process with its stderr captured.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long the proxy may take to say it is ready.
const READY: Duration = Duration::from_secs(10);

static DIRS: AtomicU32 = AtomicU32::new(0);

/// The captured stderr, shared with the reader thread.
#[derive(Default)]
struct Log {
    text: Mutex<(String, bool)>,
    changed: Condvar,
}

/// A running `trunkgate run --config PATH`; killed on drop.
pub struct TestProxy {
    child: Child,
    dir: PathBuf,
    path: PathBuf,
    log: Arc<Log>,
}

impl TestProxy {
    /// Writes the config to a fresh temp dir, starts the proxy and waits for `trunkgate ready`.
    pub fn start(config_toml: &str) -> TestProxy {
        Self::start_with_env(config_toml, &[])
    }

    /// As `start`, with extra environment variables for the child (e.g. `RUST_LOG`; the
    /// test's own `RUST_LOG` is never inherited).
    pub fn start_with_env(config_toml: &str, env: &[(&str, &str)]) -> TestProxy {
        let dir = std::env::temp_dir().join(format!(
            "trunkgate-e2e-{}-{}",
            std::process::id(),
            DIRS.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("trunkgate.toml");
        std::fs::write(&path, config_toml).expect("write config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_trunkgate"))
            .arg("run")
            .arg("--config")
            .arg(&path)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn trunkgate");
        let log = Arc::new(Log::default());
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        std::thread::spawn(move || read_lines(stderr, &sink));
        let proxy = TestProxy {
            child,
            dir,
            path,
            log,
        };
        if let Err(e) = proxy.wait_for_log("trunkgate ready", 0, READY) {
            panic!("proxy did not start: {e}");
        }
        proxy
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The config file the proxy reads (rewrite it, then `reload`).
    pub fn config_path(&self) -> &PathBuf {
        &self.path
    }

    /// Everything the proxy logged so far.
    pub fn stderr_so_far(&self) -> String {
        self.lock().0.clone()
    }

    /// Byte offset of the log's end: pass it to `wait_for_log` to look only at later lines.
    pub fn log_mark(&self) -> usize {
        self.lock().0.len()
    }

    /// Waits until the log after `from` contains `needle`; `Err` with the log on timeout or exit.
    pub fn wait_for_log(&self, needle: &str, from: usize, timeout: Duration) -> Result<String, String> {
        let until = Instant::now() + timeout;
        let mut guard = self.lock();
        loop {
            let tail = guard.0.get(from..).unwrap_or("");
            if let Some(i) = tail.find(needle) {
                let line_end = tail[i..].find('\n').map_or(tail.len(), |e| i + e);
                let line_start = tail[..i].rfind('\n').map_or(0, |s| s + 1);
                return Ok(tail[line_start..line_end].to_string());
            }
            let now = Instant::now();
            if guard.1 || now >= until {
                let why = if guard.1 { "the proxy exited" } else { "timed out" };
                return Err(format!("{why} waiting for {needle:?}; stderr:\n{}", guard.0));
            }
            guard = self
                .log
                .changed
                .wait_timeout(guard, until - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Rewrites the config file.
    pub fn write_config(&self, toml: &str) {
        std::fs::write(&self.path, toml).expect("rewrite config");
    }

    /// Sends SIGHUP.
    pub fn reload(&self) {
        self.signal("-HUP");
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.signal("-TERM");
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {} failed", self.pid());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (String, bool)> {
        self.log.text.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn read_lines(stderr: std::process::ChildStderr, log: &Log) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let mut g = log.text.lock().unwrap_or_else(|e| e.into_inner());
        g.0.push_str(&line);
        g.0.push('\n');
        log.changed.notify_all();
    }
    let mut g = log.text.lock().unwrap_or_else(|e| e.into_inner());
    g.1 = true;
    log.changed.notify_all();
}
