//! `config` target: `config::load_str` on arbitrary UTF-8. It must never panic, and every
//! error it reports must point at a real place (line ≥ 1, col ≥ 1) and name its file.

use trunkgate::config;

/// Runs one input through every check of the target.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Err(errors) = config::load_str("fuzz.toml", text, 1) else {
        return;
    };
    assert!(!errors.0.is_empty(), "load_str failed with no error");
    for e in &errors.0 {
        assert!(
            e.line >= 1 && e.col >= 1,
            "error at line {} col {}: {}",
            e.line,
            e.col,
            e.message
        );
        assert!(!e.file.is_empty(), "error without a file name");
        if e.file == "fuzz.toml" {
            let lines = text.split('\n').count();
            assert!(
                e.line <= lines.max(1),
                "error at line {} of a {lines}-line file",
                e.line
            );
        }
    }
}
