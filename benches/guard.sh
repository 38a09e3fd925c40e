#!/usr/bin/env bash
# Regression guard: instructions per complete call through the sans-IO core, inbound and
# outbound (benches/core.rs workloads), counted by callgrind (repeatable on this noisy
# machine, unlike wall time). Runs the `core` bench binary twice per flow (200 and 1200
# calls), so start-up cost cancels out, and fails when a per-call figure grew by more than
# 10 % over benches/instructions.txt.
#
#   benches/guard.sh            # check
#   benches/guard.sh --update   # write the current figures as the new baseline
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
ir() { # flow calls
  TRUNKGATE_FLOW=$1 TRUNKGATE_CALLS=$2 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_call() { echo $(( ($(ir "$1" 1200) - $(ir "$1" 200)) / 1000 )); }
baseline() { awk -v f="$1" '$1 == f { print $2 }' benches/instructions.txt; }
status=0
report=""
for flow in inbound outbound; do
  now=$(per_call "$flow")
  report+="$flow $now"$'\n'
  base=$(baseline "$flow")
  if [ -z "$base" ]; then
    echo "instructions per $flow call: $now (no baseline)"
    continue
  fi
  limit=$(( base * 110 / 100 ))
  echo "instructions per $flow call: $now (baseline $base, limit $limit)"
  if [ "$now" -gt "$limit" ]; then
    echo "guard: FAILED: $flow $now > $limit (baseline + 10 %)" >&2
    status=1
  fi
done
if [ "${1:-}" = "--update" ]; then
  { echo "# instructions per complete call through the core (incl. the test harness), benches/guard.sh"
    printf '%s' "$report"; } > benches/instructions.txt
  cat benches/instructions.txt
  exit 0
fi
[ "$status" = 0 ] && echo "guard: ok"
exit "$status"
