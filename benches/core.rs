//! The proxy core on simulated time, no sockets: one complete inbound call (INVITE, 100, 180,
//! 200, ACK, BYE, 200) per iteration. `TRUNKGATE_CALLS=N` runs N calls once instead of the
//! criterion loop (for `valgrind --tool=callgrind`, see `benches/guard.sh`).

use criterion::{criterion_group, Criterion};
use trunkgate::proxy::testing::{workload, Net};

fn calls(c: &mut Criterion) {
    let mut net = Net::loopback();
    let mut n = 0u64;
    c.bench_function("core_inbound_call", |b| {
        b.iter(|| {
            n += 1;
            workload::inbound_call(&mut net, n)
        })
    });
}

criterion_group!(core, calls);

fn main() {
    if let Some(n) = std::env::var("TRUNKGATE_CALLS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        let mut net = Net::loopback();
        let relayed = workload::inbound_calls(&mut net, 0, n);
        println!("{n} calls, {relayed} messages");
        return;
    }
    core();
    Criterion::default().configure_from_args().final_summary();
}
