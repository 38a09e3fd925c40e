//! Carrier hosts that are DNS names, as last resolved by the runtime (RFC 3263).
//!
//! The config itself never touches the network: it only says which names need resolving
//! (`dns_queries`). The runtime resolves them, builds one `ResolvedHosts` for a snapshot
//! (`ResolvedHosts::build`) and stores it in that snapshot's `resolved` cell. One store updates
//! both things that depend on a resolution at once, lock-free for readers:
//! - the next hop of a carrier whose `hostname`/`outbound_server` is a name (`Destination::Host`
//!   in the core), and
//! - the source-address index, so calls from the carrier's resolved addresses are recognised.
//!
//! The cell lives inside the snapshot (rather than beside `Live`) so carrier ids always refer to
//! the snapshot the resolution was built for: a reload gets a new snapshot whose cell the
//! runtime fills from its DNS cache before the snapshot goes live.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

use super::read_carrier::ip_literal;
use super::snapshot::{Carrier, CarrierAuthMode, CarrierId, Snapshot, SourceEntry, SourceIndex, SourceOwner};
use super::Transport;

/// One DNS question the runtime answers: a name, the port if one was configured (none: SRV
/// first, RFC 3263 §4.2) and the transport (which SRV service to ask for).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DnsQuery {
    /// Lower-cased, without a trailing dot.
    pub name: String,
    pub port: Option<u16>,
    pub transport: Transport,
}

impl DnsQuery {
    /// `_sip._udp.NAME`, `_sip._tcp.NAME` or `_sips._tcp.NAME` (RFC 3263 §4.2).
    pub fn srv_name(&self) -> String {
        let service = match self.transport {
            Transport::Udp => "_sip._udp",
            Transport::Tcp => "_sip._tcp",
            Transport::Tls => "_sips._tcp",
        };
        format!("{service}.{}.", self.name)
    }

    /// The port used with A/AAAA records when none is configured and SRV gave nothing.
    pub fn default_port(&self) -> u16 {
        match (self.port, self.transport) {
            (Some(p), _) => p,
            (None, Transport::Tls) => 5061,
            (None, _) => 5060,
        }
    }
}

/// The questions a carrier needs answered: its `hostname` (sources, and next hop when there is
/// no `outbound_server`) and its `outbound_server` (next hop and sources), each when a name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarrierQueries {
    pub host: Option<DnsQuery>,
    pub outbound: Option<DnsQuery>,
}

impl CarrierQueries {
    /// The questions of carrier `c` (none for ACCEPT_REGISTER carriers: their binding says
    /// where they are).
    pub fn of(c: &Carrier) -> CarrierQueries {
        if c.auth_mode == CarrierAuthMode::AcceptRegister {
            return CarrierQueries::default();
        }
        let q = |host: &str, port: u16, explicit: bool| {
            ip_literal(host).is_none().then(|| DnsQuery {
                name: host.trim_end_matches('.').to_ascii_lowercase(),
                port: explicit.then_some(port),
                transport: c.transport,
            })
        };
        CarrierQueries {
            host: q(&c.hostname, c.port, c.port_explicit),
            outbound: c
                .outbound_server
                .as_deref()
                .and_then(|h| q(h, c.outbound_server_port, c.outbound_server_port_explicit)),
        }
    }

    /// Whether the next hop comes from DNS (else it is `Carrier::next_hop`).
    pub fn hop_query<'a>(&'a self, c: &Carrier) -> Option<&'a DnsQuery> {
        match c.outbound_server {
            Some(_) => self.outbound.as_ref(),
            None => self.host.as_ref(),
        }
    }
}

/// Every distinct question of a snapshot.
pub fn dns_queries(snap: &Snapshot) -> Vec<DnsQuery> {
    let mut out: Vec<DnsQuery> = Vec::new();
    for c in &snap.carriers {
        let q = CarrierQueries::of(c);
        for q in [q.host, q.outbound].into_iter().flatten() {
            if !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out
}

/// What the runtime's resolutions mean for one snapshot. Immutable; replaced whole.
#[derive(Debug, Default)]
pub struct ResolvedHosts {
    /// Next-hop addresses per carrier, in the order to use them (SRV priority/weight, then the
    /// A/AAAA order). Only carriers whose next hop is a name appear.
    hops: HashMap<CarrierId, Arc<[SocketAddr]>>,
    /// `Snapshot::sources` plus every resolved carrier address; `None` when nothing is
    /// resolved (then the snapshot's own index is used).
    sources: Option<SourceIndex>,
}

impl ResolvedHosts {
    /// Builds the resolution of `snap` from answers to its questions (`answer(q)`: the last
    /// good addresses of `q`, empty when never resolved).
    pub fn build<'a>(snap: &Snapshot, answer: impl Fn(&DnsQuery) -> &'a [SocketAddr]) -> ResolvedHosts {
        let mut hops = HashMap::new();
        let mut extra: Vec<(CarrierId, SocketAddr)> = Vec::new();
        for c in &snap.carriers {
            let q = CarrierQueries::of(c);
            if let Some(hq) = q.hop_query(c) {
                let addrs = answer(hq);
                if !addrs.is_empty() {
                    hops.insert(c.id, Arc::from(addrs));
                }
            }
            for q in [&q.host, &q.outbound].into_iter().flatten() {
                extra.extend(answer(q).iter().map(|a| (c.id, *a)));
            }
        }
        ResolvedHosts {
            hops,
            sources: merged_sources(snap, &extra),
        }
    }

    /// The first resolved next hop of carrier `c` (`None`: not a name, or never resolved).
    pub fn next_hop(&self, c: CarrierId) -> Option<SocketAddr> {
        self.hops.get(&c).and_then(|a| a.first().copied())
    }

    /// Every resolved next-hop address of carrier `c`, in order.
    pub fn hops(&self, c: CarrierId) -> &[SocketAddr] {
        self.hops.get(&c).map_or(&[], |a| a)
    }

    /// The source index to identify callers with: the merged one when any carrier address was
    /// resolved, else `base` (the snapshot's own).
    pub fn sources<'a>(&'a self, base: &'a SourceIndex) -> &'a SourceIndex {
        self.sources.as_ref().unwrap_or(base)
    }
}

/// The snapshot's index plus one host prefix per resolved carrier address (the port is
/// required when the carrier has `verify_port`: the resolved port, i.e. `port` or the SRV one).
fn merged_sources(snap: &Snapshot, extra: &[(CarrierId, SocketAddr)]) -> Option<SourceIndex> {
    if extra.is_empty() {
        return None;
    }
    let mut index = snap.sources.clone();
    let mut seen = Vec::with_capacity(extra.len());
    for &(id, addr) in extra {
        let Some(c) = snap.carriers.get(id.0 as usize) else {
            continue;
        };
        let port = c.verify_port.then_some(addr.port());
        if seen.contains(&(id, addr.ip(), port)) {
            continue;
        }
        seen.push((id, addr.ip(), port));
        let entry = SourceEntry {
            owner: SourceOwner::Carrier(id),
            port,
        };
        index.insert(host_net(addr.ip()), entry);
    }
    Some(index)
}

fn host_net(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(extra: &str) -> Snapshot {
        let text = format!(
            "[[carriers]]\nname = \"a\"\nhostname = \"Carrier.Test.\"\n{extra}\n\
             [[carriers]]\nname = \"b\"\nhostname = \"127.0.0.5\"\n"
        );
        super::super::load_str("t.toml", &text, 1).unwrap()
    }

    #[test]
    fn queries_name_only_and_srv_without_port() {
        let s = snap("");
        let q = dns_queries(&s);
        assert_eq!(
            q,
            vec![DnsQuery {
                name: "carrier.test".into(),
                port: None,
                transport: Transport::Udp
            }]
        );
        assert_eq!(q[0].srv_name(), "_sip._udp.carrier.test.");
        let s = snap("port = 5070\ntransport = \"tls\"\noutbound_server = \"ob.test\"");
        let q = CarrierQueries::of(&s.carriers[0]);
        assert_eq!(q.host.as_ref().map(|q| q.port), Some(Some(5070)));
        let ob = q.hop_query(&s.carriers[0]).unwrap();
        assert_eq!((ob.name.as_str(), ob.port), ("ob.test", None));
        assert_eq!(ob.srv_name(), "_sips._tcp.ob.test.");
        assert_eq!(ob.default_port(), 5061);
    }

    #[test]
    fn build_gives_hop_and_sources() {
        let s = snap("verify_port = true");
        let addr: SocketAddr = "127.0.0.9:5080".parse().unwrap();
        let r = ResolvedHosts::build(&s, |_| std::slice::from_ref(&addr));
        assert_eq!(r.next_hop(CarrierId(0)), Some(addr));
        assert_eq!(r.next_hop(CarrierId(1)), None);
        let e = r.sources(&s.sources).lookup(addr.ip());
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].owner, SourceOwner::Carrier(CarrierId(0)));
        assert_eq!(e[0].port, Some(5080));
        // The static entries are still there.
        assert_eq!(
            r.sources(&s.sources).lookup("127.0.0.5".parse().unwrap()).len(),
            1
        );
    }

    #[test]
    fn nothing_resolved_uses_the_snapshot_index() {
        let s = snap("");
        let r = ResolvedHosts::build(&s, |_| &[]);
        assert!(std::ptr::eq(r.sources(&s.sources), &s.sources));
        assert!(r.hops(CarrierId(0)).is_empty());
    }
}
