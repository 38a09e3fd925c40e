#!/usr/bin/env bash
# Reload under load: trunkgate with 1M DIDs and 10k carriers + 10k servers on top of the load
# bench's SPEC §7 layout takes inbound calls from SIPp (carrier A -> DID -> server) while it is
# sent SIGHUP several times. Prints every reload's duration (the proxy logs `took_ms`) and the
# calls ok/failed: the target is each reload <= 2 s and not one failed call.
#
#   benches/reload/run.sh                       # 500 calls/s x 30 s, 5 reloads
#   RATE=200 SECONDS_=20 RELOADS=3 benches/reload/run.sh
#
# Needs: sipp (apt-get install -y sip-tester), python3, the SIPp harness (../shared/bench).
set -u -o pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HARNESS="${TRUNKGATE_BENCH_HARNESS:-$ROOT/../shared/bench}"
RATE="${RATE:-500}"; SECS="${SECONDS_:-30}"; RELOADS="${RELOADS:-5}"
OUT="${OUT:-${TMPDIR:-/tmp}/trunkgate-reload/$(date +%Y%m%d-%H%M%S)}"
[ -x "$HARNESS/bench.sh" ] || { echo "run.sh: no SIPp harness at $HARNESS" >&2; exit 2; }
command -v sipp >/dev/null || { echo "run.sh: sipp missing: apt-get install -y sip-tester" >&2; exit 2; }
mkdir -p "$OUT"
(cd "$ROOT" && cargo build --release --quiet) || exit 1
CFG="$OUT/trunkgate.toml"
python3 "$HERE/gen.py" "$ROOT/benches/load/trunkgate.toml" > "$CFG" || exit 1
echo "config: $CFG ($(du -h "$CFG" | cut -f1))" >&2
"$ROOT/target/release/trunkgate" check --config "$CFG" >/dev/null || exit 1

# SIGHUP every 5 s once the calls flow (the first after 8 s: start-up loads the file too).
(
  sleep 8
  for _ in $(seq "$RELOADS"); do
    pkill -HUP -x trunkgate
    sleep 5
  done
) &
hup=$!
"$HARNESS/bench.sh" --proxy-cmd "$ROOT/target/release/trunkgate run --config $CFG" \
  --flow inbound --transport udp --rate "$RATE" --calls $((RATE * SECS)) \
  --out "$OUT/bench" --quiet-wait "${QUIET_WAIT:-30}" --noise-retries 0 > "$OUT/bench.log" 2>&1
wait "$hup"
grep -E "calls:|proxy cpu|proxy mem" "$OUT/bench.log"
echo "reloads (ms):"
grep -ho "took_ms=[0-9]*" "$OUT"/bench/*.log 2>/dev/null | cut -d= -f2 | tr '\n' ' '
echo
echo "output: $OUT"
