//! Fuzz harnesses for trunkgate. Each module has `run(data: &[u8])`, called by the cargo-fuzz
//! target of the same name and, on stable, by `tests/fuzz_regressions.rs` for every saved crasher.

pub mod config;
pub mod core_seq;
pub mod digest;
pub mod framing;
pub mod parse;
pub mod sipgen;
