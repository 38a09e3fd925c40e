//! Faults through real sockets (SPEC "Hardening"): peers that vanish, reset, answer twice,
//! answer late, never ACK, BYE at the same time, and a proxy restart mid-call. Each test ends
//! with every counter on `/status` back to 0.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;
use trunkgate::sip::Message;

use crate::flood::final_response;
use crate::support::admin::{admin_addr, admin_section, http_get, status, wait_until};
use crate::support::*;

/// How long a test waits for `/status` to come back to 0 (UDP transactions linger for Timer
/// J/H, 32 s, after their final response).
const SETTLE: Duration = Duration::from_secs(50);

static STATE_DIRS: AtomicU32 = AtomicU32::new(0);

fn zero(v: &Value) -> bool {
    v.as_u64() == Some(0)
}

/// Every call, transaction, dialog and active-call counter on `/status` is 0.
fn idle(st: &Value) -> bool {
    let core = &st["core"];
    let calls = ["calls", "transactions", "dialogs"]
        .iter()
        .all(|k| zero(&core[*k]));
    let per = |list: &Value| {
        list.as_array()
            .is_some_and(|xs| xs.iter().all(|x| zero(&x["active_calls"])))
    };
    calls && per(&st["accounts"]) && per(&st["carriers"])
}

/// `/status`, `Null` when the admin port does not answer (retried by the callers).
fn try_status(net: &Net) -> Value {
    let Some((200, body)) = http_get(admin_addr(net), "/status") else {
        return Value::Null;
    };
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

fn assert_settles(net: &Net) {
    let ok = wait_until(SETTLE, || idle(&try_status(net)));
    assert!(ok, "/status not back to 0 within {SETTLE:?}: {}", try_status(net));
}

fn account_active(net: &Net) -> u64 {
    let mut st = try_status(net);
    for _ in 0..10 {
        if !st.is_null() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        st = try_status(net);
    }
    st["accounts"][0]["active_calls"].as_u64().unwrap_or(99)
}

fn start_with(net: &Net, server_options: &str, proxy_extra: &str) -> TestProxy {
    let layout = Layout {
        server_options: server_options.to_string(),
        proxy_extra: proxy_extra.to_string(),
        extra: admin_section(net),
        ..Layout::default()
    };
    TestProxy::start(&net.config_with(&layout))
}

/// Carrier A's INVITE, relayed to the server and answered 180 there.
fn ringing(net: &Net, caller: &impl Peer, server: &Ua) -> (UacCall, Message) {
    let call = UacCall::new(caller, "+14155551234", &ruri(net, DID));
    caller.send(&call.invite());
    let inv = server.expect_request("INVITE");
    server.respond(&inv, 180);
    caller.expect_response(180);
    (call, inv)
}

/// The next request with this method at `ua`, skipping others (e.g. retransmissions).
fn next_request(ua: &Ua, method: &str) -> Message {
    loop {
        let m = ua.recv(Duration::from_secs(5));
        if m.is_request() && m.method_bytes() == method.as_bytes() {
            return m;
        }
    }
}

/// A BYE from the server (UAS side of the dialog of `inv`), routed by its Record-Route.
fn uas_bye(inv: &Message, server: &Ua) -> String {
    let tag = format!("uas{}", server.local().ip().to_string().replace('.', ""));
    let mut s = format!(
        "BYE {} SIP/2.0\nVia: SIP/2.0/UDP {};branch=z9hG4bK-uasbye{}\nMax-Forwards: 70\n",
        inv.contact_uri().expect("caller Contact"),
        server.local(),
        STATE_DIRS.fetch_add(1, Ordering::SeqCst)
    );
    for rr in inv.hs("Record-Route") {
        s.push_str(&format!("Route: {rr}\n"));
    }
    s.push_str(&format!(
        "From: {};tag={tag}\nTo: {}\nCall-ID: {}\nCSeq: 1 BYE\n\n",
        inv.h("To").expect("To"),
        inv.h("From").expect("From"),
        inv.h("Call-ID").expect("Call-ID")
    ));
    s
}

#[test]
fn server_vanishes_after_180() {
    let net = Net::next();
    let _proxy = start_with(&net, "timeout = 2", "");
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let (call, _inv) = ringing(&net, &caller, &server);
    assert_eq!(account_active(&net), 1);
    let timeout = final_response(&caller, Duration::from_secs(5)).expect("a final answer");
    assert_eq!(timeout.code(), 408, "{}", timeout.text());
    caller.send(&call.ack_non2xx(&timeout));
    let cancel = next_request(&server, "CANCEL");
    assert!(cancel.h("CSeq").is_some_and(|c| c.ends_with("CANCEL")));
    assert_eq!(account_active(&net), 0, "the permit is freed with the 408");
    assert_settles(&net);
}

#[test]
fn tcp_caller_resets_mid_call() {
    let net = Net::next();
    let _proxy = start_with(&net, "", "");
    let server = Ua::bind(&net, SERVER);
    let caller = TcpUa::connect(&net, CARRIER_A);
    let (_call, inv) = ringing(&net, &caller, &server);
    drop(caller);
    std::thread::sleep(Duration::from_millis(200));
    // The next response upstream cannot be delivered: the call is cancelled downstream.
    server.respond(&inv, 183);
    let cancel = next_request(&server, "CANCEL");
    server.respond(&cancel, 200);
    server.respond(&inv, 487);
    next_request(&server, "ACK");
    assert_settles(&net);
}

#[test]
fn tcp_caller_resets_and_the_answer_timer_frees_the_call() {
    let net = Net::next();
    let _proxy = start_with(&net, "timeout = 2", "");
    let server = Ua::bind(&net, SERVER);
    let caller = TcpUa::connect(&net, CARRIER_A);
    let (_call, inv) = ringing(&net, &caller, &server);
    drop(caller);
    let cancel = next_request(&server, "CANCEL");
    server.respond(&cancel, 200);
    server.respond(&inv, 487);
    assert_settles(&net);
}

#[test]
fn carrier_answers_200_twice() {
    let net = Net::next();
    let _proxy = start_with(&net, "", "");
    let pbx = Ua::bind(&net, PBX);
    let carrier = Ua::bind(&net, TERMINATION);
    let mut call = UacCall::new(&pbx, "pbx1", &format!("sip:14155559876@{}", net.proxy()));
    invite_with_digest(&pbx, &mut call, "MD5");
    let inv = carrier.expect_request("INVITE");
    carrier.respond(&inv, 180);
    carrier.respond(&inv, 200);
    carrier.respond(&inv, 200);
    let ok = final_response(&pbx, WAIT).expect("200");
    assert_eq!(ok.code(), 200);
    // The second 200 is relayed or absorbed; either way one call is counted.
    let _ = pbx.try_recv(Duration::from_millis(300));
    let st = status(&net);
    assert_eq!(st["accounts"][0]["active_calls"], 1, "{st}");
    call.established(&ok);
    pbx.send(&call.ack());
    next_request(&carrier, "ACK");
    pbx.send(&call.bye());
    let bye = next_request(&carrier, "BYE");
    carrier.respond(&bye, 200);
    let done = final_response(&pbx, WAIT).expect("200 for BYE");
    assert_eq!(done.code(), 200);
    assert_settles(&net);
}

#[test]
fn late_200_after_cancel_gets_ack_and_bye() {
    let net = Net::next();
    let _proxy = start_with(&net, "", "");
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let (call, inv) = ringing(&net, &caller, &server);
    caller.send(&call.cancel());
    let cancel = next_request(&server, "CANCEL");
    // The callee answered before it saw the CANCEL.
    server.respond(&inv, 200);
    server.respond(&cancel, 200);
    let ack = next_request(&server, "ACK");
    assert_ne!(
        ack.top_branch(),
        inv.top_branch(),
        "an ACK for the 2xx is its own transaction"
    );
    let bye = next_request(&server, "BYE");
    server.respond(&bye, 200);
    let mut codes = Vec::new();
    while let Some(m) = caller.try_recv(Duration::from_millis(500)) {
        if !m.is_request() {
            codes.push(m.code());
            if m.code() == 487 {
                caller.send(&call.ack_non2xx(&m));
            }
        }
    }
    assert!(codes.contains(&487), "the caller's INVITE ends in 487: {codes:?}");
    assert_settles(&net);
}

#[test]
fn caller_never_acks_the_2xx() {
    let net = Net::next();
    let _proxy = start_with(&net, "", "max_call_duration = 2");
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let (_call, inv) = ringing(&net, &caller, &server);
    server.respond(&inv, 200);
    let ok = final_response(&caller, WAIT).expect("200");
    assert_eq!(ok.code(), 200);
    assert_eq!(account_active(&net), 1);
    // No ACK, no BYE: max_call_duration releases the permit and the dialog.
    assert!(
        wait_until(Duration::from_secs(10), || account_active(&net) == 0),
        "{}",
        status(&net)
    );
    assert_settles(&net);
}

#[test]
fn bye_from_both_sides_at_once() {
    let net = Net::next();
    let _proxy = start_with(&net, "", "");
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let (mut call, inv) = ringing(&net, &caller, &server);
    server.respond(&inv, 200);
    let ok = final_response(&caller, WAIT).expect("200");
    call.established(&ok);
    caller.send(&call.ack());
    next_request(&server, "ACK");
    // Both hang up at once: each BYE crosses the other.
    caller.send(&call.bye());
    server.send(&uas_bye(&inv, &server));
    let bye_at_server = next_request(&server, "BYE");
    let bye_at_caller = loop {
        let m = caller.recv(WAIT);
        if m.is_request() && m.method_bytes() == b"BYE" {
            break m;
        }
    };
    server.respond(&bye_at_server, 200);
    caller.respond(&bye_at_caller, 200);
    let a = final_response(&caller, WAIT).expect("caller's BYE answered");
    assert_eq!(a.code(), 200);
    let b = final_response(&server, WAIT).expect("server's BYE answered");
    assert_eq!(b.code(), 200);
    assert_eq!(account_active(&net), 0, "one release, never negative");
    assert_settles(&net);
}

#[test]
fn restart_mid_call_still_relays_the_bye() {
    let net = Net::next();
    let dir = std::env::temp_dir().join(format!(
        "trunkgate-e2e-state-{}-{}",
        std::process::id(),
        STATE_DIRS.fetch_add(1, Ordering::SeqCst)
    ));
    let state = format!("state_dir = \"{}\"", dir.display());
    let proxy = start_with(&net, "", &state);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let (mut call, inv) = ringing(&net, &caller, &server);
    server.respond(&inv, 200);
    let ok = final_response(&caller, WAIT).expect("200");
    call.established(&ok);
    caller.send(&call.ack());
    next_request(&server, "ACK");
    drop(proxy);
    let _proxy = start_with(&net, "", &state);
    caller.send(&call.bye());
    let bye = next_request(&server, "BYE");
    let target: SocketAddr = server.local();
    assert!(
        bye.request_uri()
            .is_some_and(|u| String::from_utf8_lossy(u).contains(&target.to_string())),
        "{}",
        bye.text()
    );
    server.respond(&bye, 200);
    let done = final_response(&caller, WAIT).expect("200 for BYE");
    assert_eq!(done.code(), 200);
    assert_settles(&net);
    let _ = std::fs::remove_dir_all(&dir);
}
