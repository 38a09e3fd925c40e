//! Hot-path benchmarks of the SIP message layer: parse a ~950-byte carrier INVITE, and parse +
//! the edits a relayed INVITE gets (Via, Record-Route, RURI user, Route removed) + finish.
//! A counting allocator prints the heap allocations of one parse / one parse+edit first.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use trunkgate::sip::{Editor, HeaderName, Message};

#[allow(dead_code)]
#[path = "../src/sip/testdata.rs"]
mod testdata;

/// Counts allocations so the "no allocation per header" claim is checked, not assumed.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn parse_invite(raw: &Bytes) -> Message {
    Message::parse(raw.clone()).unwrap_or_else(|e| panic!("sample INVITE must parse: {e}"))
}

fn relay_edit(raw: &Bytes) -> Bytes {
    let m = parse_invite(raw);
    let mut e = Editor::new(&m);
    e.prepend_via(b"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-tg-1a2b3c4d5e6f")
        .prepend_header("Record-Route", b"<sip:192.0.2.1;lr;ftag=as4f2a9b1c>")
        .set_request_uri_user(b"4155550100")
        .remove_all(HeaderName::Route);
    e.finish()
}

fn allocations_of(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    f();
    ALLOCS.load(Ordering::Relaxed) - before
}

fn bench(c: &mut Criterion) {
    let raw = Bytes::from_static(testdata::INVITE_SDP);
    let parse_allocs = allocations_of(|| drop(black_box(parse_invite(&raw))));
    let edit_allocs = allocations_of(|| drop(black_box(relay_edit(&raw))));
    println!(
        "INVITE {} bytes: parse {parse_allocs} allocation(s), parse+edit {edit_allocs}",
        raw.len()
    );
    c.bench_function("parse_invite", |b| b.iter(|| parse_invite(black_box(&raw))));
    c.bench_function("parse_edit_invite", |b| b.iter(|| relay_edit(black_box(&raw))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
