//! Reload (SIGHUP) and drain (SIGTERM) of the running process.

use std::time::{Duration, Instant};

use crate::support::*;

/// Places a call from carrier A to `did`; returns the final code the caller got, and whether
/// the server saw the INVITE (with the Request-URI user it saw).
fn call_once(net: &Net, did: &str) -> (u16, Option<String>) {
    let caller = Ua::bind_port(net, CARRIER_A, 0);
    let server = Ua::bind(net, SERVER);
    let call = UacCall::new(&caller, "+14155551234", &ruri(net, did));
    caller.send(&call.invite());
    let seen = server.try_recv(Duration::from_millis(500)).map(|inv| {
        server.respond(&inv, 486);
        inv.ruri_user()
    });
    let resp = loop {
        let m = caller.recv(WAIT);
        if m.code() != 100 {
            break m;
        }
    };
    caller.send(&call.ack_non2xx(&resp));
    (resp.code(), seen)
}

/// `FILE:LINE:COL` for the config path somewhere in `log`.
fn has_file_line_col(log: &str, file: &str) -> bool {
    log.match_indices(file).any(|(i, _)| {
        let rest = &log[i + file.len()..];
        let mut parts = rest.splitn(4, ':');
        let _ = parts.next();
        let line = parts.next().unwrap_or("");
        let col = parts.next().unwrap_or("");
        !line.is_empty()
            && line.chars().all(|c| c.is_ascii_digit())
            && !col.is_empty()
            && col.chars().all(|c| c.is_ascii_digit())
    })
}

#[test]
fn sighup_reload_adds_a_did() {
    let net = Net::next();
    let proxy = TestProxy::start(&net.config());
    let new_did = "+14155550177";
    assert_eq!(
        call_once(&net, new_did),
        (404, None),
        "not a DID before the reload"
    );

    let layout = Layout {
        extra_dids: vec![new_did.to_string()],
        ..Layout::default()
    };
    proxy.write_config(&net.config_with(&layout));
    let mark = proxy.log_mark();
    proxy.reload();
    let line = proxy
        .wait_for_log("reloaded", mark, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!line.contains("rejected"), "{line}");
    assert_eq!(call_once(&net, new_did), (486, Some("4155550177".to_string())));
    assert_eq!(call_once(&net, DID), (486, Some("4155550100".to_string())));
}

#[test]
fn calls_go_on_while_a_big_reload_loads() {
    let net = Net::next();
    let proxy = TestProxy::start(&net.config());
    // Enough DIDs that loading them takes seconds in a debug build, while a call takes
    // milliseconds: the load runs off the driver's thread, so the call is not held up.
    let layout = Layout {
        extra_dids: (0..100_000)
            .map(|i| format!("+1415{:07}", 2_000_000 + i))
            .collect(),
        ..Layout::default()
    };
    proxy.write_config(&net.config_with(&layout));
    let mark = proxy.log_mark();
    proxy.reload();
    proxy
        .wait_for_log("reloading", mark, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call_once(&net, DID), (486, Some("4155550100".to_string())));
    let log = proxy.stderr_so_far();
    assert!(
        !log[mark..].contains("configuration reloaded"),
        "the reload finished before the call did: nothing shows it ran alongside:\n{}",
        &log[mark..]
    );
    proxy
        .wait_for_log("configuration reloaded", mark, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        call_once(&net, "+14152000007"),
        (486, Some("4152000007".to_string()))
    );
}

#[test]
fn bad_reload_keeps_the_old_config() {
    let net = Net::next();
    let proxy = TestProxy::start(&net.config());
    proxy.write_config(&format!("{}\n[proxy\nlisten = 3\n", net.config()));
    let mark = proxy.log_mark();
    proxy.reload();
    let line = proxy
        .wait_for_log("reload rejected", mark, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}"));
    let log = proxy.stderr_so_far();
    let file = proxy.config_path().to_string_lossy().into_owned();
    assert!(
        has_file_line_col(&log[mark..], &file),
        "FILE:LINE:COL expected in the log after {line:?}:\n{log}"
    );
    assert!(!log[mark..].contains("configuration reloaded"), "{log}");
    assert_eq!(call_once(&net, DID), (486, Some("4155550100".to_string())));
}

#[test]
fn sigterm_exits_zero() {
    let (_net, mut proxy) = start();
    let t0 = Instant::now();
    let status = proxy.terminate(Duration::from_secs(8));
    let status =
        status.unwrap_or_else(|| panic!("still running 8 s after SIGTERM:\n{}", proxy.stderr_so_far()));
    assert!(
        status.success(),
        "exit status {status:?}:\n{}",
        proxy.stderr_so_far()
    );
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "idle drain took {:?}",
        t0.elapsed()
    );
}

#[test]
fn sigterm_refuses_new_calls_and_finishes_the_ringing_one() {
    let (net, mut proxy) = start();
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let first = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&first.invite());
    caller.expect_response(100);
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 180);
    caller.expect_response(180);

    let mark = proxy.log_mark();
    let pid = proxy.pid().to_string();
    let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()));
    proxy
        .wait_for_log("draining", mark, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("{e}"));
    let second = UacCall::new(&caller, "+14155551234", &ruri(&net, DID));
    caller.send(&second.invite());
    let refused = caller.expect_response(503);
    assert_eq!(refused.h("Call-ID").as_deref(), Some(second.call_id.as_str()));
    caller.send(&second.ack_non2xx(&refused));
    server.expect_silence(Duration::from_millis(200));

    server.respond(&inv, 486);
    server.expect_request("ACK");
    let busy = caller.expect_response(486);
    caller.send(&first.ack_non2xx(&busy));
    let t0 = Instant::now();
    let status = proxy.terminate(Duration::from_secs(8));
    let status = status.unwrap_or_else(|| panic!("no exit after SIGTERM:\n{}", proxy.stderr_so_far()));
    assert!(status.success(), "{status:?}:\n{}", proxy.stderr_so_far());
    eprintln!("drain finished {:?} after the last answer", t0.elapsed());
}
