//! Who is calling (SPEC §3): carriers and IP servers by source address, digest users by realm.
//! One lookup in the snapshot's prefix trie; no locks.

use std::net::SocketAddr;

use crate::config::{CarrierAuthMode, DigestOwner, Snapshot, SourceEntry, SourceOwner};

/// Recognises a source address (SPEC §3 steps 1-2): the longest prefix of the source index that
/// contains the IP wins; among its entries carriers come before IP servers, and an entry with a
/// port (carrier `verify_port`, server `auth.port`) only matches that source port.
///
/// Only the longest prefix is consulted: when none of its entries accepts the port, the source
/// is unknown even if a shorter prefix would have matched (a more specific entry is the
/// operator's stronger statement about that address).
///
/// Carriers whose host is a DNS name are found through the snapshot's `resolved` cell: the
/// runtime keeps there a copy of the index with their resolved addresses added.
pub fn identify(snap: &Snapshot, src: SocketAddr) -> Option<SourceOwner> {
    let resolved = snap.resolved.load();
    let entries = resolved.sources(&snap.sources).lookup(src.ip());
    let port_ok = |e: &&SourceEntry| e.port.is_none_or(|p| p == src.port()) && by_address(snap, e.owner);
    let carrier = entries
        .iter()
        .filter(port_ok)
        .find(|e| matches!(e.owner, SourceOwner::Carrier(_)));
    carrier.or_else(|| entries.iter().find(port_ok)).map(|e| e.owner)
}

/// ACCEPT_REGISTER carriers are recognised by digest only (SPEC §3 step 1), even when their
/// address made it into the index.
fn by_address(snap: &Snapshot, owner: SourceOwner) -> bool {
    match owner {
        SourceOwner::Carrier(id) => snap
            .carriers
            .get(id.0 as usize)
            .is_some_and(|c| c.auth_mode != CarrierAuthMode::AcceptRegister),
        SourceOwner::Server(_) => true,
    }
}

/// The digest realm for a request whose Request-URI host (To host for REGISTER) is `host`
/// (SPEC §3 "Realm"): a server's own realm when the host equals it (case-insensitively), else
/// `[proxy].realm`.
pub fn realm_for<'a>(snap: &'a Snapshot, host: &str) -> &'a str {
    snap.server_realms
        .iter()
        .find(|r| r.eq_ignore_ascii_case(host))
        .map_or(snap.proxy.realm.as_str(), String::as_str)
}

/// Who owns the digest user `user` in `realm` (a password server, or an ACCEPT_REGISTER
/// carrier), so the credentials can be checked against the right password.
pub fn digest_owner(snap: &Snapshot, realm: &str, user: &str) -> Option<DigestOwner> {
    snap.digest_users
        .get(&(realm.to_ascii_lowercase(), user.to_owned()))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CarrierId, ServerId, SourceEntry as Entry};
    use crate::policy::testing::{sock, Fixture};

    fn carrier(n: u32) -> Option<SourceOwner> {
        Some(SourceOwner::Carrier(CarrierId(n)))
    }

    fn server(n: u32) -> Option<SourceOwner> {
        Some(SourceOwner::Server(ServerId(n)))
    }

    #[test]
    fn carrier_by_hostname_outbound_server_and_additional_ips() {
        let snap = Fixture::new()
            .carrier_with("a", "127.0.0.2", |c| {
                c.outbound_server = Some("127.0.0.7".into());
                c.additional_ips = vec!["192.0.2.0/24".parse().unwrap()];
            })
            .build();
        for src in ["127.0.0.2:5060", "127.0.0.7:1234", "192.0.2.99:5080"] {
            assert_eq!(identify(&snap, sock(src)), carrier(0), "{src}");
        }
        assert_eq!(identify(&snap, sock("127.0.0.3:5060")), None);
    }

    #[test]
    fn longest_prefix_wins() {
        let snap = Fixture::new()
            .carrier_with("wide", "198.51.100.1", |c| {
                c.additional_ips = vec!["10.0.0.0/8".parse().unwrap()]
            })
            .ip_server("pbx", "10.1.2.3")
            .build();
        assert_eq!(identify(&snap, sock("10.1.2.3:5060")), server(0));
        assert_eq!(identify(&snap, sock("10.1.2.4:5060")), carrier(0));
    }

    #[test]
    fn verify_port() {
        let snap = Fixture::new()
            .carrier_with("a", "127.0.0.2", |c| {
                c.verify_port = true;
                c.port = 5070;
            })
            .build();
        assert_eq!(identify(&snap, sock("127.0.0.2:5070")), carrier(0));
        assert_eq!(identify(&snap, sock("127.0.0.2:5060")), None);
    }

    #[test]
    fn server_auth_port() {
        let snap = Fixture::new()
            .ip_server("pbx", "127.0.0.4")
            .server_with(|s| s.auth.port = Some(5080))
            .build();
        assert_eq!(identify(&snap, sock("127.0.0.4:5080")), server(0));
        assert_eq!(identify(&snap, sock("127.0.0.4:5060")), None);
    }

    #[test]
    fn carrier_before_server_on_same_address() {
        let snap = Fixture::new()
            .ip_server("pbx", "127.0.0.2")
            .carrier("a", "127.0.0.2")
            .build();
        assert_eq!(identify(&snap, sock("127.0.0.2:5060")), carrier(0));
    }

    #[test]
    fn server_when_carrier_port_fails_on_same_prefix() {
        let snap = Fixture::new()
            .carrier_with("a", "127.0.0.2", |c| c.verify_port = true)
            .ip_server("pbx", "127.0.0.2")
            .build();
        assert_eq!(identify(&snap, sock("127.0.0.2:5060")), carrier(0));
        assert_eq!(identify(&snap, sock("127.0.0.2:6000")), server(0));
    }

    #[test]
    fn ipv6_source() {
        let snap = Fixture::new().carrier_with("v6", "2001:db8::1", |_| {}).build();
        assert_eq!(identify(&snap, sock("[2001:db8::1]:5060")), carrier(0));
        assert_eq!(identify(&snap, sock("[2001:db8::2]:5060")), None);
    }

    #[test]
    fn accept_register_carrier_not_by_address() {
        let mut snap = Fixture::new()
            .carrier_with("reg", "127.0.0.9", |c| {
                c.auth_mode = CarrierAuthMode::AcceptRegister
            })
            .build();
        assert_eq!(identify(&snap, sock("127.0.0.9:5060")), None);
        let entry = Entry {
            owner: SourceOwner::Carrier(CarrierId(0)),
            port: None,
        };
        snap.sources.insert("127.0.0.9/32".parse().unwrap(), entry);
        assert_eq!(identify(&snap, sock("127.0.0.9:5060")), None);
    }

    #[test]
    fn named_carrier_by_resolved_address() {
        use crate::config::resolved::ResolvedHosts;
        let snap = Fixture::new()
            .carrier_with("named", "carrier.test", |_| {})
            .ip_server("pbx", "127.0.0.4")
            .build();
        assert_eq!(identify(&snap, sock("127.0.0.5:5060")), None);
        let addr = sock("127.0.0.5:5060");
        let resolved = ResolvedHosts::build(&snap, |_| std::slice::from_ref(&addr));
        snap.resolved.store(std::sync::Arc::new(resolved));
        assert_eq!(identify(&snap, sock("127.0.0.5:1234")), carrier(0));
        assert_eq!(identify(&snap, sock("127.0.0.4:5060")), server(0));
    }

    #[test]
    fn realm_for_server_realm_or_proxy_realm() {
        let snap = Fixture::new()
            .password_server("b", "pbx1", "x")
            .server_with(|s| s.auth.realm = "b.example".into())
            .build();
        assert_eq!(realm_for(&snap, "B.Example"), "b.example");
        assert_eq!(realm_for(&snap, "127.0.0.1"), "edge.test");
    }

    #[test]
    fn digest_owner_per_realm() {
        let snap = Fixture::new()
            .carrier_with("reg", "127.0.0.9", |c| {
                c.auth_mode = CarrierAuthMode::AcceptRegister;
                c.username = "carrier1".into();
            })
            .password_server("a", "pbx1", "x")
            .password_server("b", "pbx1", "y")
            .server_with(|s| s.auth.realm = "b.example".into())
            .build();
        assert_eq!(
            digest_owner(&snap, "edge.test", "pbx1"),
            Some(DigestOwner::Server(ServerId(0)))
        );
        assert_eq!(
            digest_owner(&snap, "B.EXAMPLE", "pbx1"),
            Some(DigestOwner::Server(ServerId(1)))
        );
        assert_eq!(
            digest_owner(&snap, "edge.test", "carrier1"),
            Some(DigestOwner::Carrier(CarrierId(0)))
        );
        assert_eq!(digest_owner(&snap, "edge.test", "nobody"), None);
    }
}
