//! cargo-fuzz entry point; the checks live in `trunkgate_fuzz::framing` so that
//! `tests/fuzz_regressions.rs` replays crashers through the same code on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    trunkgate_fuzz::framing::run(data);
});
