//! cargo-fuzz entry point; the checks live in `trunkgate_fuzz::parse` so that
//! `tests/fuzz_regressions.rs` replays crashers through the same code on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    trunkgate_fuzz::parse::run(data);
});
