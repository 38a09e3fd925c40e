//! Interop with SIPp (a peer nobody here wrote): load runs through the proxy, 0 failed calls.
//!
//! Needs `/usr/bin/sipp` (`apt-get install sip-tester`); `TRUNKGATE_SKIP_SIPP=1` skips.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// True when SIPp can run; panics with the install hint unless skipping was asked for.
fn sipp_available(test: &str) -> bool {
    let found = Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if found {
        return true;
    }
    if std::env::var("TRUNKGATE_SKIP_SIPP").as_deref() == Ok("1") {
        eprintln!("{test}: skipped, sipp is not installed (TRUNKGATE_SKIP_SIPP=1)");
        return false;
    }
    panic!("sipp is not installed: run `apt-get install sip-tester` (or set TRUNKGATE_SKIP_SIPP=1 to skip the SIPp tests)");
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// `timeout SECS sipp -sf SCENARIO -i IP -p 5060 -nostdin ARGS...`
fn sipp(secs: u64, name: &str, ip: std::net::Ipv4Addr, args: &[String]) -> Command {
    let mut c = Command::new("timeout");
    c.arg("-k")
        .arg("2")
        .arg(secs.to_string())
        .arg("sipp")
        .arg("-sf")
        .arg(scenario(name))
        .arg("-i")
        .arg(ip.to_string())
        .arg("-p")
        .arg("5060")
        .arg("-nostdin")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// The cumulative count on SIPp's final statistics line starting with `label`.
fn stat(stdout: &str, label: &str) -> Option<u64> {
    stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with(label))
        .and_then(|l| l.split('|').next_back())
        .and_then(|v| v.trim().parse().ok())
}

fn describe(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = stdout.lines().rev().take(60).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!(
        "{what}: exit {:?}\n--- stdout (tail) ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        tail.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits for a child's output, killing it after `limit`.
fn finish(mut child: Child, limit: Duration) -> Output {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("sipp output")
}

/// Runs `calls` calls from the UAC scenario through the proxy to a SIPp UAS and checks that
/// every one succeeded on both sides.
fn load(net: &Net, proxy: &TestProxy, uas_host: u8, uac: (&str, u8, &[&str]), calls: u64) {
    let n = calls.to_string();
    let uas = sipp(60, "uas_answer.xml", net.ip(uas_host), &["-m".into(), n.clone()])
        .spawn()
        .expect("spawn sipp uas");
    std::thread::sleep(Duration::from_millis(300));
    let (name, host, extra) = uac;
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(
        [
            "-m",
            &n,
            "-r",
            "50",
            "-d",
            "0",
            "-timeout",
            "50s",
            "-timeout_error",
        ]
        .map(String::from),
    );
    args.push(net.proxy().to_string());
    let uac = sipp(60, name, net.ip(host), &args)
        .output()
        .expect("run sipp uac");
    let uas = finish(uas, Duration::from_secs(10));
    let ctx = || {
        format!(
            "{}\n{}\nproxy log:\n{}",
            describe("uac", &uac),
            describe("uas", &uas),
            proxy.stderr_so_far()
        )
    };
    let out = String::from_utf8_lossy(&uac.stdout);
    assert_eq!(uac.status.code(), Some(0), "SIPp UAC failed\n{}", ctx());
    assert_eq!(stat(&out, "Successful call"), Some(calls), "{}", ctx());
    assert_eq!(stat(&out, "Failed call"), Some(0), "{}", ctx());
    assert_eq!(uas.status.code(), Some(0), "SIPp UAS failed\n{}", ctx());
}

#[test]
fn sipp_inbound_udp_500_calls() {
    if !sipp_available("sipp_inbound_udp_500_calls") {
        return;
    }
    let (net, proxy) = start();
    load(
        &net,
        &proxy,
        SERVER,
        ("uac_inbound.xml", CARRIER_A, &["-s", DID]),
        500,
    );
}

#[test]
fn sipp_inbound_tcp_500_calls() {
    if !sipp_available("sipp_inbound_tcp_500_calls") {
        return;
    }
    let (net, proxy) = start();
    load(
        &net,
        &proxy,
        SERVER,
        ("uac_inbound.xml", CARRIER_A, &["-s", DID, "-t", "t1"]),
        500,
    );
}

#[test]
fn sipp_outbound_digest_200_calls() {
    if !sipp_available("sipp_outbound_digest_200_calls") {
        return;
    }
    let (net, proxy) = start();
    let uac = (
        "uac_outbound.xml",
        PBX,
        &["-s", "14155559876", "-au", "pbx1", "-ap", "s3cret"][..],
    );
    load(&net, &proxy, TERMINATION, uac, 200);
}
