//! Config benches: DID lookup among 1M DIDs, source classification among 10k peers, and the
//! whole load (parse + validate + compile) of a config with 1M DIDs.

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, Criterion};

const DIDS: u64 = 1_000_000;
const PEERS: u32 = 10_000;

/// One account, one IP server owning `DIDS` exact DIDs.
fn did_config() -> String {
    let mut s = String::with_capacity(DIDS as usize * 24);
    s.push_str("[[connectivity]]\naccount_id = \"bench\"\n[[connectivity.servers]]\nname = \"s\"\n");
    s.push_str("[connectivity.servers.auth]\nauth_method = \"ip\"\nip = \"10.0.0.1\"\n");
    s.push_str("[connectivity.servers.DIDs]\n");
    for i in 0..DIDS {
        let _ = writeln!(s, "\"+1415{:07}\" = {{}}", i);
    }
    s
}

/// `PEERS` IP-auth carriers (half /32, half /24 prefixes) and as many IP servers.
fn peer_config() -> String {
    let mut s = String::new();
    for i in 0..PEERS {
        let (a, b) = (i / 256, i % 256);
        let _ = write!(s, "[[carriers]]\nname = \"c{i}\"\nhostname = \"10.{a}.{b}.1\"\n");
        let _ = writeln!(s, "additional_ips = \"172.{}.{b}.0/24\"", 16 + a);
    }
    s.push_str("[[connectivity]]\naccount_id = \"bench\"\n");
    for i in 0..PEERS {
        let (a, b) = (i / 256, i % 256);
        let _ = write!(s, "[[connectivity.servers]]\n[connectivity.servers.auth]\nauth_method = \"ip\"\nip = \"11.{a}.{b}.1\"\n");
    }
    s
}

fn benches(c: &mut Criterion) {
    let text = did_config();
    let mut g = c.benchmark_group("config");
    g.sample_size(10);
    g.bench_function("load_1M_dids", |b| {
        b.iter(|| trunkgate::config::load_str("bench.toml", black_box(&text), 1).map(|s| s.dids.len()))
    });
    g.finish();

    let snap = match trunkgate::config::load_str("bench.toml", &text, 1) {
        Ok(s) => s,
        Err(e) => panic!("{:?}", e.0.first()),
    };
    let numbers: Vec<String> = (0..1024u64)
        .map(|i| format!("+1415{:07}", (i * 977) % (DIDS * 2)))
        .collect();
    let mut i = 0usize;
    c.bench_function("did_lookup_1M", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(snap.dids.get(&numbers[i]).is_some())
        })
    });

    let peers = match trunkgate::config::load_str("peers.toml", &peer_config(), 1) {
        Ok(s) => s,
        Err(e) => panic!("{:?}", e.0.first()),
    };
    let ips: Vec<IpAddr> = (0..1024u32)
        .map(|i| {
            let (a, b) = (((i * 7) % PEERS / 256) as u8, ((i * 7) % 256) as u8);
            let first = [10u8, 11, 172, 192][(i % 4) as usize];
            IpAddr::V4(Ipv4Addr::new(first, if first == 172 { 16 + a } else { a }, b, 1))
        })
        .collect();
    let mut j = 0usize;
    c.bench_function("source_lookup_10k_peers", |b| {
        b.iter(|| {
            j = (j + 1) & 1023;
            black_box(peers.sources.lookup(ips[j]).len())
        })
    });
}

criterion_group!(config, benches);
criterion_main!(config);
