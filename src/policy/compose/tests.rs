//! `outbound_parameters` resolved into the header plan of each carrier target.

use super::*;
use crate::config::{OutboundParameter as P, OutboundValue as V, ServerId, Snapshot};
use crate::policy::route::outbound;
use crate::policy::testing::Fixture;
use crate::policy::{Decision, Target};

fn p(key: &str, value: V) -> P {
    P {
        key: key.to_owned(),
        value,
    }
}

/// PBX at 127.0.0.3 (IP auth), one carrier `term` at 127.0.0.5:5070 (npan, auth_id `acct9`,
/// username `trunkuser`) with `params`.
fn snap(params: Vec<P>, caller_id: bool) -> Snapshot {
    Fixture::new()
        .proxy(|p| p.advertise = "edge.example".into())
        .carrier_with("term", "127.0.0.5", |c| {
            c.port = 5070;
            c.format = crate::config::NumberFormat::Npan;
            c.auth_id = "acct9".into();
            c.username = "trunkuser".into();
            c.outbound_parameters = params;
        })
        .account("acme")
        .ip_server("pbx", "127.0.0.3")
        .server_with(|s| {
            if caller_id {
                s.options.caller_id = Some(crate::config::CallerId {
                    cid_name: Some("Acme PBX".into()),
                    cid_number: Some("+14155550002".into()),
                });
            }
        })
        .build()
}

fn target(snap: &Snapshot) -> Target {
    let facts = CallFacts {
        ruri_user: "+12125550199",
        to_user: "+12125550199",
        from_user: "201",
        from_display: Some("Alice \"A\""),
        ..CallFacts::default()
    };
    match outbound(snap, ServerId(0), &facts) {
        Decision::Relay(mut plan) => plan.targets.remove(0),
        Decision::Reject(r) => panic!("rejected {r:?}"),
    }
}

#[test]
fn all_default_changes_nothing() {
    let t = target(&snap(vec![p("from_user_part", V::Default)], true));
    assert_eq!(t.compose, None);
    assert_eq!(t.ruri, "sip:2125550199@127.0.0.5:5070");
    assert!(t.identity.is_some());
}

#[test]
fn request_uri_parts() {
    let params = vec![
        p("request_line_uri_user_part", V::AuthId),
        p(
            "request_line_uri_host_part",
            V::Custom("sip.carrier.example".into()),
        ),
    ];
    let t = target(&snap(params, false));
    assert_eq!(t.ruri, "sip:acct9@sip.carrier.example");
    assert_eq!(t.ruri_user, "acct9");
    assert_eq!(t.compose, None, "request-line keys need no header plan");
}

#[test]
fn from_and_to_parts() {
    let params = vec![
        p("from_user_part", V::Username),
        p("from_host_part", V::TrunkHostPort),
        p("from_display_name", V::CallerNumber),
        p("to_user_part", V::CalledNumber),
        p("to_host_part", V::ProxyHost),
    ];
    let c = target(&snap(params, true)).compose.expect("a plan");
    assert_eq!(
        c.from,
        PartyEdit {
            display: Some("4155550002".into()),
            user: Some("trunkuser".into()),
            host: Some("127.0.0.5:5070".into()),
        }
    );
    assert_eq!(
        c.to,
        PartyEdit {
            display: None,
            user: Some("2125550199".into()),
            host: Some("edge.example".into()),
        }
    );
    // The caller ID still goes on P-Asserted-Identity by default.
    assert_eq!(
        c.pai,
        PartyHeader::Set(Party {
            display: Some("Acme PBX".into()),
            user: "4155550002".into(),
            host: "edge.example".into(),
        })
    );
    assert_eq!(c.rpid, PartyHeader::Keep);
}

#[test]
fn defaults_follow_the_caller_id() {
    let c = target(&snap(vec![p("to_host_part", V::TrunkHostPort)], true))
        .compose
        .expect("a plan");
    assert_eq!(c.from.display.as_deref(), Some("Acme PBX"));
    assert_eq!(c.from.user.as_deref(), Some("4155550002"));
    assert_eq!(c.from.host, None);
}

#[test]
fn without_caller_id_from_is_kept() {
    let c = target(&snap(vec![p("to_host_part", V::TrunkHostPort)], false))
        .compose
        .expect("a plan");
    assert!(c.from.is_empty(), "{:?}", c.from);
    assert_eq!(c.pai, PartyHeader::Keep);
}

#[test]
fn none_drops_a_display_name_or_a_header() {
    let params = vec![
        p("from_display_name", V::None),
        p("p_asserted_identity_user_part", V::None),
    ];
    let c = target(&snap(params, true)).compose.expect("a plan");
    assert_eq!(c.from.display.as_deref(), Some(""));
    assert_eq!(c.pai, PartyHeader::Remove);
}

#[test]
fn remote_party_id_added_from_the_callers_own_number() {
    let params = vec![
        p("remote_party_id_calling_party_user_part", V::CallerNumber),
        p("remote_party_id_calling_party_display_name", V::CallerDisplayName),
    ];
    let c = target(&snap(params, false)).compose.expect("a plan");
    // The caller's From user `201` cannot be normalised: it goes as it came.
    assert_eq!(
        c.rpid,
        PartyHeader::Set(Party {
            display: Some("Alice \"A\"".into()),
            user: "201".into(),
            host: "edge.example".into(),
        })
    );
}

#[test]
fn custom_values_are_escaped_in_user_parts() {
    let params = vec![p("from_user_part", V::Custom("a b@c:d".into()))];
    let c = target(&snap(params, false)).compose.expect("a plan");
    assert_eq!(c.from.user.as_deref(), Some("a%20b%40c%3Ad"));
}

#[test]
fn empty_values_fall_back_to_default() {
    let mut s = snap(vec![p("from_user_part", V::AuthId)], true);
    s.carriers[0].auth_id.clear();
    let c = target(&s).compose.expect("a plan");
    assert_eq!(c.from.user.as_deref(), Some("4155550002"));
}

#[test]
fn trunk_host_port_shapes() {
    let mut s = snap(vec![], false);
    let c = &mut s.carriers[0];
    assert_eq!(trunk_host_port(c), "127.0.0.5:5070");
    c.port = 5060;
    c.hostname = "sip.example".into();
    assert_eq!(trunk_host_port(c), "sip.example");
    c.hostname = "2001:db8::1".into();
    c.port = 5080;
    assert_eq!(trunk_host_port(c), "[2001:db8::1]:5080");
}

#[test]
fn origin_of_a_carrier_follows_its_inbound_parameters() {
    let mut s = snap(vec![], false);
    let c = &mut s.carriers[0];
    c.inbound_parameters.caller_num = crate::config::NumberSource::PAssertedIdentityUser;
    c.inbound_parameters.caller_display_name = DisplaySource::PAssertedIdentityDisplayName;
    let facts = CallFacts {
        from_user: "anonymous",
        pai_user: Some("4155550123"),
        pai_display: Some("Real Name"),
        ..CallFacts::default()
    };
    let o = Origin::of_carrier(&facts, c, "1");
    assert_eq!(o.number, "+14155550123");
    assert_eq!(o.display.as_deref(), Some("Real Name"));
}
