//! SPEC §4 outbound rows: server → carriers, normalisation, selection, caller ID.

use std::time::Duration;

use regex::Regex;

use super::*;
use crate::config::{AccountId, CallerId};
use crate::policy::testing::{sock, Fixture};

const PBX: ServerId = ServerId(0);

fn dial(to: &str) -> CallFacts<'_> {
    CallFacts {
        ruri_user: to,
        to_user: to,
        from_user: "pbx-ext-201",
        ..CallFacts::default()
    }
}

fn dial_from<'a>(to: &'a str, from: &'a str) -> CallFacts<'a> {
    CallFacts {
        from_user: from,
        from_display: Some("Bob"),
        ..dial(to)
    }
}

fn plan(d: Decision) -> Plan {
    match d {
        Decision::Relay(p) => p,
        Decision::Reject(r) => panic!("rejected: {r:?}"),
    }
}

fn reject(d: Decision) -> Rejection {
    match d {
        Decision::Reject(r) => r,
        Decision::Relay(p) => panic!("relayed: {p:?}"),
    }
}

fn names(snap: &Snapshot, p: &Plan) -> Vec<String> {
    let name = |t: &Target| match t.kind {
        TargetKind::Carrier(id) => snap.carriers[id.0 as usize].name.clone(),
        other => format!("{other:?}"),
    };
    p.targets.iter().map(name).collect()
}

fn rules(res: &[&str]) -> Vec<Regex> {
    res.iter().map(|r| Regex::new(r).unwrap()).collect()
}

/// One PBX of account acme (no carriers of its own) and one termination carrier.
fn simple() -> Fixture {
    Fixture::new()
        .carrier("term", "127.0.0.5")
        .account("acme")
        .ip_server("pbx", "127.0.0.3")
}

fn cid(name: &str, number: &str) -> Option<CallerId> {
    Some(CallerId {
        cid_name: Some(name.into()),
        cid_number: Some(number.into()),
    })
}

#[test]
fn normalises_every_dialling_form() {
    let snap = simple().build();
    for dialled in [
        "4155551234",
        "14155551234",
        "+14155551234",
        "01114155551234",
        "0014155551234",
        "415-555-1234",
    ] {
        let p = plan(outbound(&snap, PBX, &dial(dialled)));
        assert_eq!((p.direction, p.account), (Direction::Outbound, AccountId(0)));
        assert_eq!(p.number, "+14155551234", "{dialled}");
        let t = &p.targets[0];
        assert_eq!(t.ruri, "sip:+14155551234@127.0.0.5:5060");
        assert_eq!(
            t.dest,
            Destination::Addr {
                addr: sock("127.0.0.5:5060"),
                transport: Transport::Udp
            }
        );
    }
}

#[test]
fn not_reconcilable_is_484() {
    let snap = simple().build();
    let r = reject(outbound(&snap, PBX, &dial("3000")));
    assert_eq!((r.clone(), r.code()), (Rejection::NotReconcilable, 484));
}

#[test]
fn hunt_non_reconcilable_sends_as_dialled_to_matching_rules() {
    let snap = Fixture::new()
        .carrier_with("nanp", "127.0.0.5", |c| c.rules = rules(&[r"^\+1\d{10}$"]))
        .carrier_with("short", "127.0.0.6", |c| c.rules = rules(&[r"^\d{4}$"]))
        .carrier("any", "127.0.0.7")
        .ip_server("pbx", "127.0.0.3")
        .server_with(|s| s.options.hunt_non_reconcilable = true)
        .build();
    let p = plan(outbound(&snap, PBX, &dial("3000")));
    assert_eq!(p.number, "3000");
    assert_eq!(names(&snap, &p), ["short", "any"]);
    assert_eq!(p.targets[0].ruri, "sip:3000@127.0.0.6:5060");
}

#[test]
fn disabled_caller_is_403() {
    let snap = simple().server_with(|s| s.options.enabled = false).build();
    let r = reject(outbound(&snap, PBX, &dial("4155551234")));
    assert_eq!((r.clone(), r.code()), (Rejection::CallerDisabled, 403));
}

#[test]
fn no_matching_carrier_is_404() {
    let snap = Fixture::new()
        .carrier_with("uk", "127.0.0.5", |c| c.rules = rules(&[r"^\+44"]))
        .carrier_with("off", "127.0.0.6", |c| c.enabled = false)
        .ip_server("pbx", "127.0.0.3")
        .build();
    let r = reject(outbound(&snap, PBX, &dial("4155551234")));
    assert_eq!((r.clone(), r.code()), (Rejection::NoRoute, 404));
    assert_eq!(
        plan(outbound(&snap, PBX, &dial("+442079460000"))).targets.len(),
        1
    );
}

#[test]
fn weight_orders_and_ties_keep_file_order() {
    let snap = Fixture::new()
        .carrier_with("c30", "127.0.0.5", |c| c.weight = 30)
        .carrier_with("b10", "127.0.0.6", |c| c.weight = 10)
        .carrier_with("off", "127.0.0.9", |c| {
            c.weight = 1;
            c.enabled = false;
        })
        .carrier_with("a10", "127.0.0.7", |c| c.weight = 10)
        .carrier_with("d5", "127.0.0.8", |c| c.weight = 5)
        .ip_server("pbx", "127.0.0.3")
        .build();
    let p = plan(outbound(&snap, PBX, &dial("4155551234")));
    assert_eq!(names(&snap, &p), ["d5", "b10", "a10", "c30"]);
}

#[test]
fn rules_any_regex_matches_e164() {
    let snap = Fixture::new()
        .carrier_with("ca", "127.0.0.5", |c| {
            c.rules = rules(&[r"^\+1(416|647)", r"^\+1604"])
        })
        .carrier_with("us", "127.0.0.6", |c| c.rules = rules(&[r"^\+1415"]))
        .ip_server("pbx", "127.0.0.3")
        .build();
    assert_eq!(
        names(&snap, &plan(outbound(&snap, PBX, &dial("6045551234")))),
        ["ca"]
    );
    assert_eq!(
        names(&snap, &plan(outbound(&snap, PBX, &dial("4155551234")))),
        ["us"]
    );
}

#[test]
fn carrier_needs_every_server_flag() {
    let flags = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let snap = Fixture::new()
        .carrier_with("plain", "127.0.0.5", |_| {})
        .carrier_with("intl", "127.0.0.6", |c| c.flags = flags(&["intl"]))
        .carrier_with("both", "127.0.0.7", |c| c.flags = flags(&["intl", "t38"]))
        .ip_server("pbx", "127.0.0.3")
        .server_with(|s| s.options.flags = flags(&["intl", "t38"]))
        .ip_server("basic", "127.0.0.4")
        .build();
    assert_eq!(
        names(&snap, &plan(outbound(&snap, PBX, &dial("4155551234")))),
        ["both"]
    );
    let all = plan(outbound(&snap, ServerId(1), &dial("4155551234")));
    assert_eq!(names(&snap, &all), ["plain", "intl", "both"]);
}

#[test]
fn carrier_number_formats() {
    let snap = Fixture::new()
        .carrier_with("npan", "127.0.0.5", |c| c.format = NumberFormat::Npan)
        .carrier_with("1npan", "127.0.0.6", |c| c.format = NumberFormat::OneNpan)
        .carrier_with("strip", "127.0.0.7", |c| c.format = NumberFormat::StripPlus)
        .ip_server("pbx", "127.0.0.3")
        .build();
    let users: Vec<_> = plan(outbound(&snap, PBX, &dial("+14155551234")))
        .targets
        .into_iter()
        .map(|t| t.ruri_user)
        .collect();
    assert_eq!(users, ["4155551234", "14155551234", "14155551234"]);
    let users: Vec<_> = plan(outbound(&snap, PBX, &dial("+442079460000")))
        .targets
        .into_iter()
        .map(|t| t.ruri_user)
        .collect();
    assert_eq!(users, ["+442079460000", "+442079460000", "442079460000"]);
}

#[test]
fn carrier_destinations() {
    let snap = Fixture::new()
        .carrier_with("proxied", "127.0.0.5", |c| {
            c.outbound_server = Some("127.0.0.6".into());
            c.outbound_server_port = 5070;
            c.transport = Transport::Tcp;
        })
        .carrier_with("dns", "sip.carrier.example", |c| c.port = 5080)
        .carrier_with("reg", "127.0.0.9", |c| {
            c.auth_mode = CarrierAuthMode::AcceptRegister
        })
        .ip_server("pbx", "127.0.0.3")
        .build();
    let p = plan(outbound(&snap, PBX, &dial("4155551234")));
    assert_eq!(p.targets[0].ruri, "sip:+14155551234@127.0.0.5:5060;transport=tcp");
    assert_eq!(
        p.targets[0].dest,
        Destination::Addr {
            addr: sock("127.0.0.6:5070"),
            transport: Transport::Tcp
        }
    );
    assert_eq!(p.targets[1].ruri, "sip:+14155551234@sip.carrier.example:5080");
    let host = Destination::Host {
        host: "sip.carrier.example".into(),
        port: Some(5080),
        transport: Transport::Udp,
    };
    assert_eq!(p.targets[1].dest, host);
    assert_eq!(p.targets[2].dest, Destination::RegisteredCarrier(CarrierId(2)));
}

/// The host part of a carrier's Request-URI: an IP literal always with its port (IPv6
/// bracketed and in canonical form), a name without the default port.
#[test]
fn carrier_request_uri_host_parts() {
    let snap = Fixture::new()
        .carrier_with("v6", "2001:DB8::1", |c| c.port = 5080)
        .carrier_with("name", "sip.carrier.example", |_| {})
        .carrier_with("v4", "127.0.0.5", |c| c.transport = Transport::Tls)
        .ip_server("pbx", "127.0.0.3")
        .build();
    let p = plan(outbound(&snap, PBX, &dial("4155551234")));
    let ruris: Vec<&str> = p.targets.iter().map(|t| t.ruri.as_str()).collect();
    assert_eq!(
        ruris,
        [
            "sip:+14155551234@[2001:db8::1]:5080",
            "sip:+14155551234@sip.carrier.example",
            "sip:+14155551234@127.0.0.5:5060;transport=tls",
        ]
    );
}

#[test]
fn server_settings_on_carrier_legs() {
    let snap = simple()
        .server_with(|s| {
            s.options.delay = Duration::from_secs(3);
            s.options.timeout = Duration::from_secs(40);
            s.options.progress_timeout = Some(Duration::from_secs(6));
            s.options.sip_headers = vec![("X-Account".into(), "acme".into())];
        })
        .build();
    let t = plan(outbound(&snap, PBX, &dial("4155551234"))).targets.remove(0);
    assert_eq!(t.delay, Duration::ZERO, "delay is inbound-only");
    assert_eq!(
        (t.timeout, t.progress_timeout),
        (Duration::from_secs(40), Some(Duration::from_secs(6)))
    );
    assert_eq!(t.headers, vec![("X-Account".to_string(), "acme".to_string())]);
    let default = plan(outbound(&simple().build(), PBX, &dial("4155551234")))
        .targets
        .remove(0);
    assert_eq!(
        (default.timeout, default.progress_timeout),
        (Duration::from_secs(180), None)
    );
}

fn identity(snap: &Snapshot, facts: &CallFacts) -> Option<Identity> {
    plan(outbound(snap, PBX, facts)).targets.remove(0).identity
}

fn id(display: Option<&str>, user: &str) -> Option<Identity> {
    Some(Identity {
        display: display.map(str::to_owned),
        user: user.to_owned(),
    })
}

/// acme: pbx (DID +14155550100 with its own caller_id, DID +14155550101 without); other: DID
/// +14155550200.
fn cid_fixture(server_cid: bool, account_cid: bool) -> Fixture {
    Fixture::new()
        .carrier_with("term", "127.0.0.5", |c| c.format = NumberFormat::Npan)
        .account_with("acme", |a| {
            a.caller_id = if account_cid {
                cid("Acme", "+14155550000")
            } else {
                None
            };
            a.emergency_caller_id = cid("Acme HQ", "+14155550001");
        })
        .ip_server("pbx", "127.0.0.3")
        .server_with(|s| {
            s.options.caller_id = if server_cid {
                cid("Acme PBX", "4155550002")
            } else {
                None
            }
        })
        .did_with("+14155550100", |d| {
            d.caller_id = cid("Acme Sales", "+14155550100")
        })
        .did("+14155550101")
        .account("other")
        .ip_server("other-pbx", "127.0.0.4")
        .did("+14155550200")
}

#[test]
fn caller_id_keeps_own_did() {
    let snap = cid_fixture(true, true).build();
    assert_eq!(
        identity(&snap, &dial_from("2125551234", "4155550101")),
        id(Some("Bob"), "4155550101")
    );
    assert_eq!(
        identity(&snap, &dial_from("2125551234", "+14155550100")),
        id(Some("Acme Sales"), "4155550100")
    );
}

#[test]
fn caller_id_server_then_account_then_unchanged() {
    let from_other_account = dial_from("2125551234", "+14155550200");
    let snap = cid_fixture(true, true).build();
    assert_eq!(
        identity(&snap, &from_other_account),
        id(Some("Acme PBX"), "4155550002")
    );
    let snap = cid_fixture(false, true).build();
    assert_eq!(
        identity(&snap, &from_other_account),
        id(Some("Acme"), "4155550000")
    );
    let snap = cid_fixture(false, false).build();
    assert_eq!(identity(&snap, &from_other_account), None);
}

#[test]
fn emergency_uses_emergency_caller_id() {
    let snap = cid_fixture(true, true)
        .edit_carrier("term", |c| c.rules = rules(&[r"^\+", "^911$"]))
        .build();
    let p = plan(outbound(&snap, PBX, &dial_from("911", "pbx-ext-201")));
    assert_eq!(
        (p.number.as_str(), p.targets[0].ruri.as_str()),
        ("911", "sip:911@127.0.0.5:5060")
    );
    // account's emergency caller ID when the server has none
    assert_eq!(p.targets[0].identity, id(Some("Acme HQ"), "4155550001"));
    // the server's own emergency caller ID first
    let snap_server = Fixture::new()
        .carrier("term", "127.0.0.5")
        .ip_server("pbx", "127.0.0.3")
        .server_with(|s| s.options.emergency_caller_id = cid("Floor 2", "+14155550002"))
        .build();
    assert_eq!(
        identity(&snap_server, &dial("112")),
        id(Some("Floor 2"), "+14155550002")
    );
    // an own DID is kept for emergency calls too
    assert_eq!(
        identity(&snap, &dial_from("911", "4155550101")),
        id(Some("Bob"), "4155550101")
    );
}

#[test]
fn emergency_falls_back_to_regular_caller_id() {
    let snap = simple()
        .server_with(|s| s.options.caller_id = cid("PBX", "+14155550002"))
        .build();
    assert_eq!(identity(&snap, &dial("911")), id(Some("PBX"), "+14155550002"));
    assert_eq!(identity(&simple().build(), &dial("933")), None);
}
