//! Operations and the less common paths end to end: the admin port while a call is up (SPEC
//! §6 `/status`, `/metrics`, `POST /reload`), a carrier that registers to trunkgate
//! (`ACCEPT_REGISTER`, SPEC §2/§3), and a whole call over IPv6.

use std::time::Duration;

use serde_json::Value;
use trunkgate::policy::digest;

use crate::support::admin::{admin_addr, admin_section, http_post, metrics, sample, status, wait_until};
use crate::support::register::{register_with_digest, Registration};
use crate::support::routes::{answer, dial, hang_up};
use crate::support::tweak;
use crate::support::*;

/// The number the PBX dials out.
const OUT: &str = "+14155559876";
/// Where the registering carrier lives (127.0.N.8), and the port it registers from.
const REG_CARRIER: u8 = 8;
const REG_PORT: u16 = 5062;

/// The entry named `name` (under key `key`) of the `/status` list `list`.
fn entry(st: &Value, list: &str, key: &str, name: &str) -> Value {
    st[list]
        .as_array()
        .and_then(|xs| xs.iter().find(|x| x[key] == name).cloned())
        .unwrap_or_else(|| panic!("{name} not in /status {list}: {st}"))
}

/// Every carrier's and account's `active_calls` in a `/status` document.
fn active_counts(st: &Value) -> Vec<u64> {
    ["carriers", "accounts"]
        .iter()
        .flat_map(|l| st[*l].as_array().cloned().unwrap_or_default())
        .map(|x| x["active_calls"].as_u64().unwrap_or(u64::MAX))
        .collect()
}

/// `(active_calls, limit)` of an entry.
fn load(e: &Value, limit: &str) -> (u64, u64) {
    (
        e["active_calls"].as_u64().unwrap_or(u64::MAX),
        e[limit].as_u64().unwrap_or(u64::MAX),
    )
}

/// Carrier A calls the DID and the server answers: the call is up.
fn answered_call(net: &Net, caller: &Ua, server: &Ua) -> UacCall {
    let mut call = dial(net, caller, "+14155551234", DID);
    let inv = server.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "4155550100");
    answer(caller, server, &mut call, &inv);
    call
}

#[test]
fn admin_status_metrics_and_a_bad_reload_while_a_call_is_up() {
    let net = Net::next();
    let cfg = net.config().replacen("trunks = 0", "trunks = 5", 1).replacen(
        "concurrency = 0",
        "concurrency = 3",
        1,
    ) + &admin_section(&net);
    let proxy = TestProxy::start(&cfg);
    let caller = Ua::bind(&net, CARRIER_A);
    let server = Ua::bind(&net, SERVER);
    let ok_before = sample(&metrics(&net), "trunkgate_responses_total{code=\"200\"}").unwrap_or(0.0);

    let mut held = answered_call(&net, &caller, &server);
    let st = status(&net);
    assert_eq!(
        load(&entry(&st, "accounts", "account_id", "acme"), "trunks"),
        (1, 5),
        "{st}"
    );
    assert_eq!(
        load(&entry(&st, "carriers", "name", "carrier-a"), "concurrency"),
        (1, 3),
        "{st}"
    );
    assert!(st["core"]["dialogs"].as_u64().unwrap_or(0) >= 1, "{st}");
    let generation = st["config"]["generation"].clone();

    let m = metrics(&net);
    let started = sample(&m, "trunkgate_calls_started_total");
    assert!(started.is_some_and(|n| n >= 1.0), "calls started:\n{m}");
    let ok_now = sample(&m, "trunkgate_responses_total{code=\"200\"}").unwrap_or(0.0);
    assert!(ok_now > ok_before, "200s counted ({ok_before} → {ok_now}):\n{m}");
    assert!(
        sample(&m, "trunkgate_active_calls_account{account=\"acme\"}") == Some(1.0),
        "{m}"
    );

    // A broken file: 422 with the errors, and nothing changes.
    proxy.write_config(&format!("{cfg}\n[proxy\nlisten = 3\n"));
    let (code, body) = http_post(admin_addr(&net), "/reload").expect("admin port answers");
    assert_eq!(code, 422, "{body}");
    let errors: Value = serde_json::from_str(&body).expect("422 body is JSON");
    assert!(
        errors["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert_eq!(status(&net)["config"]["generation"], generation);

    // The held call still hangs up, and a new call goes through under the old config.
    hang_up(&caller, &server, &mut held);
    let mut next = answered_call(&net, &caller, &server);
    hang_up(&caller, &server, &mut next);

    let idle = || active_counts(&status(&net)).iter().all(|n| *n == 0);
    assert!(wait_until(Duration::from_secs(3), idle), "{}", status(&net));
}

/// The shipped layout with the IP carriers out of outbound routing and an ACCEPT_REGISTER
/// carrier `carrierx` at .8 (weight 1, npan).
fn accept_register_config(net: &Net) -> String {
    let never = "rules = [\"^$\"]";
    let cfg = tweak::carrier(&net.config(), "termination", never);
    let cfg = tweak::carrier(&cfg, "failover", never);
    cfg + &tweak::extra_carrier(
        net,
        "carrierx",
        REG_CARRIER,
        "auth_mode = \"ACCEPT_REGISTER\"\nusername = \"carrierx\"\npassword = \"pw\"\n\
         weight = 1\nformat = \"npan\"\nkeep_alive = false",
    )
}

/// `ua` registers as carrierx (401 → credentials → 200).
fn register_carrier(ua: &Ua) {
    let mut reg = Registration::new("carrierx", "edge.test", "sip:edge.test");
    let contact = format!("<sip:carrierx@{}>", ua.local());
    let ok = register_with_digest(ua, &mut reg, "pw", &[&contact], Some(300));
    assert_eq!(ok.code(), 200, "{}", ok.text());
}

#[test]
fn accept_register_carrier_registers_takes_calls_and_calls_in() {
    let net = Net::next();
    let _proxy = TestProxy::start(&accept_register_config(&net));
    let carrier = Ua::bind_port(&net, REG_CARRIER, REG_PORT);
    let pbx = Ua::bind(&net, PBX);
    let server = Ua::bind(&net, SERVER);
    register_carrier(&carrier);

    // Outbound: to the registered carrier's binding, number in its format.
    let mut out = UacCall::new(&pbx, "pbx1", &ruri(&net, OUT));
    invite_with_digest(&pbx, &mut out, "MD5");
    let inv = carrier.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "4155559876", "{}", inv.text());
    answer(&pbx, &carrier, &mut out, &inv);
    hang_up(&pbx, &carrier, &mut out);

    // Inbound: the carrier is challenged, then routed to the DID's server.
    let mut call = UacCall::new(&carrier, "+14155551234", &ruri(&net, DID));
    carrier.send(&call.invite());
    let challenge = carrier.expect_response(407);
    carrier.send(&call.ack_non2xx(&challenge));
    let offer = challenge.h("Proxy-Authenticate").expect("a challenge");
    assert!(offer.contains("realm=\"edge.test\""), "{offer}");
    let creds = digest::answer(&offer, "INVITE", &call.ruri, "carrierx", "pw", "c0ffee", 1).expect("answer");
    call.auth = Some(creds);
    carrier.send(&call.next_invite());
    let inv = server.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "4155550100", "{}", inv.text());
    answer(&carrier, &server, &mut call, &inv);
    hang_up(&carrier, &server, &mut call);
}

/// A proxy on `[::1]` with one IPv6 carrier and one IPv6 server, ports by block.
fn v6_config(proxy_port: u16, carrier_port: u16, server_port: u16) -> String {
    format!(
        r#"[proxy]
listen = ["udp:[::1]:{proxy_port}"]
advertise = "::1"
realm = "edge.test"

[log]
level = "info"

[[carriers]]
name = "carrier-v6"
hostname = "::1"
port = {carrier_port}
additional_ips = ["::1/128"]
verify_port = true
keep_alive = false
rules = ["^$"]

[[connectivity]]
account_id = "acme"

[connectivity.account]
trunks = 0

[[connectivity.servers]]
name = "acme-v6"

[connectivity.servers.auth]
auth_method = "IP"
ip = "::1"
port = {server_port}

[connectivity.servers.options]
inbound_format = "npan"

[connectivity.servers.DIDs."{DID}"]
"#
    )
}

#[test]
fn a_call_over_ipv6() {
    let net = Net::next();
    let n = u16::from(net.n);
    let (proxy_port, carrier_port, server_port) = (5370 + n, 5170 + n, 5270 + n);
    let (Some(caller), Some(server)) = (
        Ua::bind_v6(carrier_port, proxy_port),
        Ua::bind_v6(server_port, proxy_port),
    ) else {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    };
    let _proxy = TestProxy::start(&v6_config(proxy_port, carrier_port, server_port));
    let target = format!("sip:{DID}@[::1]:{proxy_port}");
    let mut call = UacCall::new(&caller, "+14155551234", &target);
    caller.send(&call.invite());
    let inv = server.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "4155550100", "{}", inv.text());
    let via = inv.h("Via").unwrap_or_default();
    assert!(
        via.starts_with(&format!("SIP/2.0/UDP [::1]:{proxy_port};")),
        "top Via:\n{}",
        inv.text()
    );
    let rr = inv.h("Record-Route").unwrap_or_default();
    assert!(
        rr.starts_with(&format!("<sip:[::1]:{proxy_port};")),
        "Record-Route:\n{}",
        inv.text()
    );
    server.respond(&inv, 200);
    let ok = caller.expect_response(200);
    call.established(&ok);
    caller.send(&call.ack());
    server.expect_request("ACK");
    caller.send(&call.bye());
    let bye = server.expect_request("BYE");
    server.respond(&bye, 200);
    let done = caller.expect_response(200);
    assert!(
        done.h("CSeq").is_some_and(|c| c.ends_with("BYE")),
        "{}",
        done.text()
    );
}
