//! Replays every input the fuzzers found (`tests/data/fuzz/<target>/`) and the seed corpora
//! (`fuzz/seeds/<target>/`) through the same harness code the cargo-fuzz targets run
//! (`fuzz/src/*.rs`), on stable and without libFuzzer. A crasher that comes back fails here,
//! naming its file.

#[path = "../fuzz/src/config.rs"]
mod config;
#[path = "../fuzz/src/core_seq.rs"]
mod core_seq;
#[path = "../fuzz/src/digest.rs"]
mod digest;
#[path = "../fuzz/src/framing.rs"]
mod framing;
#[path = "../fuzz/src/parse.rs"]
mod parse;
#[path = "../fuzz/src/sipgen.rs"]
mod sipgen;

use std::path::{Path, PathBuf};

/// Every file of `dir` (sorted; none when the directory does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

/// Runs `run` on every crasher and seed of `target`; panics name the file.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [
        root.join("tests/data/fuzz").join(target),
        root.join("fuzz/seeds").join(target),
    ] {
        for f in files(&dir) {
            let data = std::fs::read(&f).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails again", f.display());
            n += 1;
        }
    }
    n
}

#[test]
fn parse_crashers() {
    assert!(replay("parse", parse::run) >= 3);
}

#[test]
fn framing_crashers() {
    assert!(replay("framing", framing::run) >= 1);
}

#[test]
fn digest_crashers() {
    assert!(replay("digest", digest::run) >= 1);
}

#[test]
fn config_crashers() {
    assert!(replay("config", config::run) >= 1);
}

#[test]
fn core_crashers() {
    assert!(replay("core", core_seq::run) >= 2);
}
