#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) from its seeds, one at a time.
# Exits 0 with a message when `cargo +nightly` or cargo-fuzz is missing (CI without them);
# exits non-zero when a target finds a crash (the input is left in fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-60}"
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz/ci.sh: no nightly toolchain (rustup toolchain install nightly); skipping fuzzing"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz/ci.sh: cargo-fuzz is not installed (cargo install cargo-fuzz); skipping fuzzing"
    exit 0
fi
# No unsafe code in trunkgate: no sanitizer (2-3x faster); -a keeps debug assertions and
# overflow checks on.
flags=(-s none -a)
cargo +nightly fuzz build "${flags[@]}"
for t in parse framing digest config core; do
    mkdir -p "corpus/$t"
    echo "== $t (${secs}s)"
    log="artifacts/ci-$t.log"
    mkdir -p artifacts
    if ! cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        grep -E -A8 'panicked|SUMMARY|Test unit written' "$log" || tail -n 40 "$log"
        echo "fuzz/ci.sh: $t found a crash; see fuzz/artifacts/$t/ and $log"
        exit 1
    fi
    grep -E '^Done|stat::number_of_executed_units' "$log" || true
done
echo "fuzz/ci.sh: all targets ran ${secs}s without a crash"
