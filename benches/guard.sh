#!/usr/bin/env bash
# Regression guard: instructions per complete inbound call through the sans-IO core, counted
# by callgrind (repeatable on this noisy machine, unlike wall time). Runs the `core` bench
# binary twice (TRUNKGATE_CALLS=200 and 1200), so start-up cost cancels out, and fails when the
# per-call figure grew by more than 10 % over benches/instructions.txt.
#
#   benches/guard.sh            # check
#   benches/guard.sh --update   # write the current figure as the new baseline
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "guard: valgrind missing (apt-get install -y valgrind)" >&2; exit 2; }
cargo build --release --bench core --quiet 2>/dev/null || cargo build --release --bench core
bin=$(cargo build --release --bench core --message-format=json 2>/dev/null \
  | python3 -c 'import sys,json
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("target",{}).get("name")=="core" and m.get("executable"):
        print(m["executable"])')
ir() {
  TRUNKGATE_CALLS=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
a=$(ir 200); b=$(ir 1200)
per_call=$(( (b - a) / 1000 ))
baseline=$(grep -v '^#' benches/instructions.txt | head -n1)
echo "instructions per inbound call: $per_call (baseline $baseline)"
if [ "${1:-}" = "--update" ]; then
  printf '# instructions per complete inbound call (core + test harness), benches/guard.sh\n%s\n' "$per_call" > benches/instructions.txt
  exit 0
fi
limit=$(( baseline * 110 / 100 ))
if [ "$per_call" -gt "$limit" ]; then
  echo "guard: FAILED: $per_call > $limit (baseline + 10 %)" >&2
  exit 1
fi
echo "guard: ok (limit $limit)"
