//! The proxy core on simulated time, no sockets: one complete call per iteration, inbound
//! (carrier → DID → server: INVITE, 100, 180, 200, ACK, BYE, 200) and outbound (PBX with
//! digest → termination: INVITE, 407, ACK, INVITE with credentials, then the same).
//! `TRUNKGATE_CALLS=N [TRUNKGATE_FLOW=outbound]` runs N calls once instead of the criterion
//! loop (for `valgrind --tool=callgrind`, see `benches/guard.sh`).

use criterion::{criterion_group, Criterion};
use trunkgate::proxy::testing::workload::{self, Flow};
use trunkgate::proxy::testing::Net;

fn calls(c: &mut Criterion) {
    for (name, flow) in [
        ("core_inbound_call", Flow::Inbound),
        ("core_outbound_call", Flow::Outbound),
    ] {
        let mut net = Net::loopback();
        let mut n = 0u64;
        c.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                flow.call(&mut net, n)
            })
        });
    }
}

criterion_group!(core, calls);

fn main() {
    if let Some(n) = std::env::var("TRUNKGATE_CALLS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        let flow = match std::env::var("TRUNKGATE_FLOW").as_deref() {
            Ok("outbound") => Flow::Outbound,
            _ => Flow::Inbound,
        };
        let mut net = Net::loopback();
        let relayed = workload::calls(&mut net, flow, 0, n);
        println!("{n} {flow:?} calls, {relayed} messages");
        return;
    }
    core();
    Criterion::default().configure_from_args().final_summary();
}
