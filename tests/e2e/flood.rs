//! Floods (SPEC "Hardening"): one loopback source sprays junk and OPTIONS while a carrier places
//! normal calls; the calls go through, the flood counter moves, the proxy's memory stays flat.
//! TCP: the per-IP connection cap and the keep-alive flood close.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::support::admin::{admin_addr, admin_section, http_get, wait_until};
use crate::support::*;

/// The flooding source's last octet (unknown to the config).
const FLOODER: u8 = 9;

/// One inbound call carrier → server (INVITE, 180, 200, ACK, BYE, 200) without panicking;
/// true when both the INVITE and the BYE got their 200.
pub fn try_call(net: &Net, caller: &Ua, server: &Ua) -> bool {
    let wait = Duration::from_secs(2);
    let mut call = UacCall::new(caller, "+14155551234", &ruri(net, DID));
    caller.send(&call.invite());
    let Some(inv) = server.try_recv(wait).filter(|m| m.is_request()) else {
        return false;
    };
    server.respond(&inv, 180);
    server.respond(&inv, 200);
    let Some(ok) = final_response(caller, wait) else {
        return false;
    };
    if ok.code() != 200 {
        return false;
    }
    call.established(&ok);
    caller.send(&call.ack());
    caller.send(&call.bye());
    let bye = loop {
        match server.try_recv(wait) {
            Some(m) if m.is_request() && m.method_bytes() == b"BYE" => break m,
            Some(_) => continue,
            None => return false,
        }
    };
    server.respond(&bye, 200);
    final_response(caller, wait).is_some_and(|m| m.code() == 200)
}

/// The next final response (1xx skipped).
pub fn final_response(peer: &impl Peer, wait: Duration) -> Option<trunkgate::sip::Message> {
    let until = Instant::now() + wait;
    loop {
        let m = peer.try_recv(until.saturating_duration_since(Instant::now()))?;
        if !m.is_request() && m.code() >= 200 {
            return Some(m);
        }
    }
}

/// VmRSS of a process, KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A counter's value on `/metrics` (0 when absent).
pub fn metric(net: &Net, name: &str) -> u64 {
    let (_, body) = http_get(admin_addr(net), "/metrics").expect("metrics");
    body.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

fn flood(net: Net, packets: u32, over: Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let sock = UdpSocket::bind((net.ip(FLOODER), 0)).expect("bind flooder");
        let dest: SocketAddr = net.proxy();
        let local = sock.local_addr().expect("local");
        let start = Instant::now();
        for i in 0..packets {
            let pkt = if i % 2 == 0 {
                format!("junk {i} \x01\x02\x03").into_bytes()
            } else {
                format!(
                    "OPTIONS sip:{dest} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKfl{i}\r\nFrom: <sip:x@{local}>;tag={i}\r\nTo: <sip:{dest}>\r\nCall-ID: fl{i}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                )
                .into_bytes()
            };
            let _ = sock.send_to(&pkt, dest);
            // Pace: packet i is due at i/packets of the duration.
            let due = over.mul_f64(f64::from(i) / f64::from(packets));
            if let Some(ahead) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(ahead);
            }
        }
    })
}

#[test]
fn udp_flood_does_not_stop_carrier_calls() {
    let net = Net::next();
    let layout = Layout {
        extra: admin_section(&net),
        ..Layout::default()
    };
    let proxy = TestProxy::start(&net.config_with(&layout));
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    assert!(try_call(&net, &caller, &server), "a call before the flood");
    let rss_before = rss_kib(proxy.pid());
    let flooder = flood(net, 50_000, Duration::from_secs(5));
    let (mut ok, mut total) = (0u32, 0u32);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        total += 1;
        ok += u32::from(try_call(&net, &caller, &server));
        // Paced: each call's transactions stay 32 s (Timers L and J), so thousands of calls
        // would grow the RSS this test holds the flood to.
        std::thread::sleep(Duration::from_millis(10));
    }
    flooder.join().expect("flooder");
    let rss_after = rss_kib(proxy.pid());
    assert!(total >= 20, "only {total} calls placed in 5 s");
    assert!(
        f64::from(ok) >= 0.99 * f64::from(total),
        "{ok}/{total} calls succeeded during the flood"
    );
    let dropped = metric(&net, "trunkgate_flood_dropped_total");
    assert!(dropped > 40_000, "flood counter: {dropped}");
    assert!(
        rss_after < rss_before + 50 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    let log = proxy.stderr_so_far();
    let warnings = log.matches("flood: over rate_limit").count();
    assert!(
        (1..=4).contains(&warnings),
        "logged once per window, got {warnings}:\n{log}"
    );
    eprintln!("flood: {ok}/{total} calls, {dropped} dropped, RSS {rss_before} → {rss_after} KiB");
}

fn tcp_from(net: &Net, host: u8) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.bind(&SocketAddr::from((net.ip(host), 0)).into())
        .expect("bind");
    sock.connect(&net.proxy().into()).expect("connect");
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(3))).expect("timeout");
    s
}

/// True when the proxy closed the connection (EOF or reset) within the read timeout.
fn closed_by_proxy(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

#[test]
fn tcp_connections_per_ip_and_keepalive_flood() {
    let net = Net::next();
    let layout = Layout {
        extra: admin_section(&net).to_string(),
        ..Layout::default()
    };
    let toml = net.config_with(&layout).replace(
        "ban_time = 300\n",
        "ban_time = 300\ntcp_connections_per_ip = 4\ntcp_keepalives_per_second = 5\n",
    );
    let _proxy = TestProxy::start(&toml);
    let mut held: Vec<TcpStream> = (0..4).map(|_| tcp_from(&net, FLOODER)).collect();
    let mut fifth = tcp_from(&net, FLOODER);
    assert!(
        closed_by_proxy(&mut fifth),
        "the 5th connection from one IP is closed"
    );
    assert!(wait_until(Duration::from_secs(2), || metric(
        &net,
        "trunkgate_tcp_refused_total"
    ) >= 1));
    // Another IP is not affected; one held connection closing frees a slot.
    let other = TcpUa::connect(&net, PBX);
    other.send_raw(b"\r\n\r\n");
    assert!(other.try_recv(Duration::from_millis(300)).is_none());
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(200));
    let mut again = tcp_from(&net, FLOODER);
    again
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    assert!(!closed_by_proxy(&mut again), "a freed slot can be used");
    // Keep-alive flood: more than 5 per second closes the connection.
    let mut ka = held.pop().expect("a held connection");
    for _ in 0..20 {
        if ka.write_all(b"\r\n\r\n").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(closed_by_proxy(&mut ka), "keep-alive flood closes the connection");
}
