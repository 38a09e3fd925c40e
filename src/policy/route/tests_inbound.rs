//! SPEC §4 inbound rows: carrier → DID → server, failover chains, force_outbound.

use std::time::Duration;

use super::*;
use crate::config::{AccountId, CallerId, DidFilter};
use crate::policy::testing::{sock, Fixture};

const CARRIER_A: CarrierId = CarrierId(0);

fn facts(ruri: &str) -> CallFacts<'_> {
    CallFacts {
        ruri_user: ruri,
        to_user: ruri,
        from_user: "+12125550199",
        ..CallFacts::default()
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

fn carrier_ids(p: &Plan) -> Vec<TargetKind> {
    p.targets.iter().map(|t| t.kind).collect()
}

#[test]
fn relays_to_server_with_npan_ruri() {
    let snap = Fixture::loopback().build();
    for dialled in ["+14155550100", "4155550100", "14155550100", "+1 (415) 555-0100"] {
        let p = plan(inbound(&snap, CARRIER_A, &facts(dialled)));
        assert_eq!(
            (p.direction, p.account, p.number.as_str()),
            (Direction::Inbound, AccountId(0), "+14155550100")
        );
        let t = &p.targets[0];
        assert_eq!(t.kind, TargetKind::Server(ServerId(0)));
        assert_eq!(t.ruri, "sip:4155550100@127.0.0.4:5060");
        assert_eq!(t.ruri_user, "4155550100");
        assert_eq!(
            t.dest,
            Destination::Addr {
                addr: sock("127.0.0.4:5060"),
                transport: Transport::Udp
            }
        );
        assert_eq!(
            (t.delay, t.timeout, t.progress_timeout),
            (Duration::ZERO, Duration::from_secs(180), None)
        );
        assert_eq!(t.identity, None);
        assert_eq!(p.targets.len(), 1);
    }
}

#[test]
fn called_number_from_to_user() {
    let snap = Fixture::loopback()
        .edit_carrier("carrier-a", |c| {
            c.inbound_parameters.called_num = NumberSource::ToUser
        })
        .build();
    let f = CallFacts {
        ruri_user: "trunk",
        to_user: "4155550100",
        ..CallFacts::default()
    };
    assert_eq!(plan(inbound(&snap, CARRIER_A, &f)).number, "+14155550100");
}

#[test]
fn unknown_did_is_404() {
    let snap = Fixture::loopback().build();
    let r = reject(inbound(&snap, CARRIER_A, &facts("+14155559876")));
    assert_eq!((r.clone(), r.code()), (Rejection::UnknownDid, 404));
    assert_eq!(
        reject(inbound(&snap, CARRIER_A, &facts("hello"))),
        Rejection::UnknownDid
    );
}

#[test]
fn did_range_is_found() {
    let snap = Fixture::loopback()
        .did_range("+14155550300", "+14155550399")
        .build();
    assert_eq!(
        plan(inbound(&snap, CARRIER_A, &facts("4155550342"))).number,
        "+14155550342"
    );
    assert_eq!(
        reject(inbound(&snap, CARRIER_A, &facts("4155550400"))),
        Rejection::UnknownDid
    );
}

fn with_filter(exact: &[&str], ranges: &[(&str, &str)]) -> Snapshot {
    let filter = DidFilter {
        exact: exact.iter().map(|s| s.to_string()).collect(),
        ranges: ranges
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    };
    Fixture::loopback()
        .did("+14155550250")
        .edit_carrier("carrier-a", |c| c.did_numbers = Some(filter))
        .build()
}

#[test]
fn outside_did_numbers_is_404() {
    let snap = with_filter(&["3000", "+14155550100"], &[("+14155550200", "+14155550299")]);
    assert!(matches!(
        inbound(&snap, CARRIER_A, &facts("4155550100")),
        Decision::Relay(_)
    ));
    assert!(matches!(
        inbound(&snap, CARRIER_A, &facts("+14155550250")),
        Decision::Relay(_)
    ));
    let r = reject(inbound(&snap, CARRIER_A, &facts("+14155550300")));
    assert_eq!((r.clone(), r.code()), (Rejection::DidNotAllowed, 404));
    // a short number inside the filter passes it, and then is no DID
    assert_eq!(
        reject(inbound(&snap, CARRIER_A, &facts("3000"))),
        Rejection::UnknownDid
    );
    assert_eq!(
        reject(inbound(&snap, CARRIER_A, &facts("3001"))),
        Rejection::DidNotAllowed
    );
}

#[test]
fn short_number_ranges_compare_as_digits() {
    let snap = with_filter(&[], &[("3000", "3099")]);
    assert_eq!(
        reject(inbound(&snap, CARRIER_A, &facts("3050"))),
        Rejection::UnknownDid
    );
    assert_eq!(
        reject(inbound(&snap, CARRIER_A, &facts("30500"))),
        Rejection::DidNotAllowed
    );
    assert_eq!(
        reject(inbound(&snap, CARRIER_A, &facts("+14155550100"))),
        Rejection::DidNotAllowed
    );
}

#[test]
fn disabled_server_is_480() {
    let snap = Fixture::loopback()
        .server_with(|s| s.options.enabled = false)
        .build();
    let r = reject(inbound(&snap, CARRIER_A, &facts("+14155550100")));
    assert_eq!((r.clone(), r.code()), (Rejection::ServerDisabled, 480));
}

#[test]
fn force_outbound_on_did() {
    let snap = Fixture::loopback()
        .server_with(|s| {
            s.options.caller_id = Some(CallerId {
                cid_name: None,
                cid_number: Some("+1999".into()),
            })
        })
        .did_with("+14155550111", |d| d.force_outbound = true)
        .build();
    let p = plan(inbound(&snap, CARRIER_A, &facts("4155550111")));
    assert_eq!(
        (p.direction, p.number.as_str()),
        (Direction::Outbound, "+14155550111")
    );
    assert_eq!(
        carrier_ids(&p),
        [1, 2, 0].map(|n| TargetKind::Carrier(CarrierId(n)))
    );
    assert_eq!(p.targets[0].ruri, "sip:+14155550111@127.0.0.5:5060");
    assert!(
        p.targets.iter().all(|t| t.identity.is_none()),
        "caller ID untouched"
    );
    // the other DID of the server still goes to the server
    assert_eq!(
        plan(inbound(&snap, CARRIER_A, &facts("4155550100"))).direction,
        Direction::Inbound
    );
}

#[test]
fn force_outbound_on_server() {
    let snap = Fixture::loopback()
        .server_with(|s| s.options.force_outbound = true)
        .build();
    let p = plan(inbound(&snap, CARRIER_A, &facts("4155550100")));
    assert_eq!(p.direction, Direction::Outbound);
    assert!(p.targets.iter().all(|t| matches!(t.kind, TargetKind::Carrier(_))));
}

#[test]
fn force_outbound_without_carrier_is_404() {
    let snap = Fixture::new()
        .ip_server("pbx", "127.0.0.4")
        .did_with("+14155550100", |d| d.force_outbound = true);
    let snap = snap.carrier_with("a", "127.0.0.2", |c| c.enabled = false).build();
    assert_eq!(
        reject(inbound(&snap, CarrierId(0), &facts("4155550100"))),
        Rejection::NoRoute
    );
}

#[test]
fn every_inbound_format() {
    let cases = [
        (NumberFormat::E164, "+14155550100"),
        (NumberFormat::Npan, "4155550100"),
        (NumberFormat::OneNpan, "14155550100"),
        (NumberFormat::StripPlus, "14155550100"),
        (NumberFormat::Username, "pbx1"),
    ];
    for (fmt, user) in cases {
        let snap = Fixture::loopback()
            .server_with(|s| s.options.inbound_format = fmt)
            .build();
        let p = plan(inbound(&snap, CARRIER_A, &facts("+14155550100")));
        assert_eq!(p.targets[0].ruri, format!("sip:{user}@127.0.0.4:5060"), "{fmt:?}");
        assert_eq!(p.targets[0].ruri_user, user, "{fmt:?}");
    }
}

#[test]
fn npan_only_for_nanp_dids() {
    let snap = Fixture::loopback().did("+442079460000").build();
    let p = plan(inbound(&snap, CARRIER_A, &facts("+442079460000")));
    assert_eq!(p.targets[0].ruri_user, "+442079460000");
}

#[test]
fn registered_server_without_destination() {
    let snap = Fixture::loopback()
        .server_with(|s| s.options.destination = None)
        .build();
    let t = plan(inbound(&snap, CARRIER_A, &facts("+14155550100")))
        .targets
        .remove(0);
    assert_eq!(t.dest, Destination::Registered(ServerId(0)));
    assert_eq!(t.ruri, "sip:4155550100@registered");
}

#[test]
fn server_options_carried() {
    let snap = Fixture::loopback()
        .server_with(|s| {
            let o = &mut s.options;
            o.transport = Transport::Tcp;
            o.delay = Duration::from_secs(2);
            o.timeout = Duration::from_secs(30);
            o.progress_timeout = Some(Duration::from_secs(5));
            o.ignore_early_media = true;
            o.sip_headers = vec![("X-Account".into(), "acme".into())];
        })
        .build();
    let t = plan(inbound(&snap, CARRIER_A, &facts("+14155550100")))
        .targets
        .remove(0);
    assert_eq!(t.ruri, "sip:4155550100@127.0.0.4:5060;transport=tcp");
    assert_eq!(
        t.dest,
        Destination::Addr {
            addr: sock("127.0.0.4:5060"),
            transport: Transport::Tcp
        }
    );
    assert_eq!(
        (t.delay, t.timeout),
        (Duration::from_secs(2), Duration::from_secs(30))
    );
    assert_eq!(t.progress_timeout, Some(Duration::from_secs(5)));
    assert!(t.ignore_early_media);
    assert_eq!(t.headers, vec![("X-Account".to_string(), "acme".to_string())]);
}

#[test]
fn ip_server_destination_uses_auth_port() {
    let snap = Fixture::new()
        .carrier("a", "127.0.0.2")
        .ip_server("pbx", "127.0.0.4")
        .server_with(|s| s.auth.port = Some(5080))
        .did("+14155550100")
        .build();
    let t = plan(inbound(&snap, CARRIER_A, &facts("+14155550100")))
        .targets
        .remove(0);
    assert_eq!(t.ruri, "sip:+14155550100@127.0.0.4:5080");
}

fn sip(uri: &str) -> Option<Failover> {
    Some(Failover::Sip(uri.into()))
}

#[test]
fn did_failover_wins_over_server_failover() {
    let snap = Fixture::loopback()
        .server_with(|s| s.options.failover = sip("sip:server@127.0.0.6"))
        .did_with("+14155550101", |d| d.failover = sip("sip:did@127.0.0.6:5070"))
        .build();
    let p = plan(inbound(&snap, CARRIER_A, &facts("+14155550101")));
    assert_eq!(p.targets.len(), 2);
    let t = &p.targets[1];
    assert_eq!(
        (t.kind, t.ruri.as_str(), t.ruri_user.as_str()),
        (TargetKind::Uri, "sip:did@127.0.0.6:5070", "did")
    );
    assert_eq!(
        t.dest,
        Destination::Addr {
            addr: sock("127.0.0.6:5070"),
            transport: Transport::Udp
        }
    );
    // DID without its own failover: the server's, port 5060 by default
    let p = plan(inbound(&snap, CARRIER_A, &facts("+14155550100")));
    assert_eq!(
        p.targets[1].dest,
        Destination::Addr {
            addr: sock("127.0.0.6:5060"),
            transport: Transport::Udp
        }
    );
}

#[test]
fn sip_failover_forms() {
    let cases = [
        (
            "sip:b@[::1]:5070;transport=TCP",
            Destination::Addr {
                addr: sock("[::1]:5070"),
                transport: Transport::Tcp,
            },
        ),
        (
            "sip:b@backup.example",
            Destination::Host {
                host: "backup.example".into(),
                port: None,
                transport: Transport::Udp,
            },
        ),
        (
            "sips:b@127.0.0.6",
            Destination::Addr {
                addr: sock("127.0.0.6:5061"),
                transport: Transport::Tls,
            },
        ),
        (
            "sip:127.0.0.6:5090",
            Destination::Addr {
                addr: sock("127.0.0.6:5090"),
                transport: Transport::Udp,
            },
        ),
    ];
    for (uri, dest) in cases {
        let snap = Fixture::loopback()
            .server_with(|s| s.options.failover = sip(uri))
            .build();
        let p = plan(inbound(&snap, CARRIER_A, &facts("+14155550100")));
        assert_eq!(p.targets[1].dest, dest, "{uri}");
    }
}

#[test]
fn bad_sip_failover_is_skipped() {
    let snap = Fixture::loopback()
        .server_with(|s| s.options.failover = sip("mailto:x@y"))
        .build();
    assert_eq!(
        plan(inbound(&snap, CARRIER_A, &facts("+14155550100")))
            .targets
            .len(),
        1
    );
}

#[test]
fn e164_failover_goes_out_over_carriers() {
    let snap = Fixture::loopback()
        .server_with(|s| s.options.failover = Some(Failover::E164("+14155559999".into())))
        .edit_carrier("failover", |c| c.format = NumberFormat::Npan)
        .build();
    let p = plan(inbound(&snap, CARRIER_A, &facts("+14155550100")));
    assert_eq!(p.direction, Direction::Inbound);
    assert_eq!(
        carrier_ids(&p)[1..],
        [1, 2, 0].map(|n| TargetKind::Carrier(CarrierId(n)))
    );
    assert_eq!(p.targets[1].ruri, "sip:+14155559999@127.0.0.5:5060");
    assert_eq!(p.targets[2].ruri, "sip:4155559999@127.0.0.6:5060");
    assert!(p.targets[1..]
        .iter()
        .all(|t| t.identity.is_none() && t.delay.is_zero()));
}
