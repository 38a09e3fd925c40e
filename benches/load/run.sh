#!/usr/bin/env bash
# Load benchmark: trunkgate and, when installed, Kamailio with the anchor config, one after the
# other in the same run, through the shared SIPp harness (../shared/bench/bench.sh), for the
# inbound (carrier -> DID -> server) and outbound (PBX with digest -> carrier) flows over UDP
# and TCP. Prints one table (benches/load/table.py) with the trunkgate/Kamailio ratios.
#
#   benches/load/run.sh                      # 1000 calls/s x 10000 calls, all four cases
#   RATE=500 CALLS=5000 benches/load/run.sh
#   FLOWS=inbound TRANSPORTS=udp benches/load/run.sh
#   FIND_MAX=1 benches/load/run.sh           # step the rate up (bench.sh --find-max) instead
#   ROUNDS=5 benches/load/run.sh             # alternate the two proxies 5 times per case [3]
#
# Each case runs ROUNDS times, trunkgate then Kamailio, alternating, and the table gives the
# median of the rounds and every round's CPU ratio: the same binary moves by +-15 % between
# runs minutes apart on a shared VM, so one pair of measurements says little at the margin.
# A measurement during which processes not started by the harness used more than 10 % of a
# core is re-run (NOISE_RETRIES, default 2; bench.sh --noise-retries).
#
# Needs: sipp (apt-get install -y sip-tester), python3, and kamailio for the comparison
# (apt-get install -y kamailio). Every address is on loopback; every run is bounded.
set -u -o pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HARNESS="${TRUNKGATE_BENCH_HARNESS:-$ROOT/../shared/bench}"
RATE="${RATE:-1000}"; CALLS="${CALLS:-$((RATE * 10))}"
FLOWS="${FLOWS:-inbound outbound}"; TRANSPORTS="${TRANSPORTS:-udp tcp}"
OUT="${OUT:-${TMPDIR:-/tmp}/trunkgate-load/$(date +%Y%m%d-%H%M%S)}"
QUIET="${QUIET_WAIT:-30}"
ROUNDS="${ROUNDS:-3}"; [ "${FIND_MAX:-0}" = 1 ] && ROUNDS="${ROUNDS_FIND_MAX:-1}"
NOISE="${NOISE_RETRIES:-2}"
[ -x "$HARNESS/bench.sh" ] || { echo "run.sh: no SIPp harness at $HARNESS (set TRUNKGATE_BENCH_HARNESS)" >&2; exit 2; }
command -v sipp >/dev/null || { echo "run.sh: sipp missing: apt-get install -y sip-tester" >&2; exit 2; }
mkdir -p "$OUT"
(cd "$ROOT" && cargo build --release --quiet) || exit 1
TG="$ROOT/target/release/trunkgate run --config $HERE/trunkgate.toml"
KAM=""; command -v kamailio >/dev/null && KAM="$HARNESS/kamailio/run.sh"
[ -z "$KAM" ] && echo "run.sh: kamailio not installed: trunkgate only (apt-get install -y kamailio)" >&2

one() { # proxy-label flow transport round proxy-cmd
  local mode=(--rate "$RATE" --calls "$CALLS")
  [ "${FIND_MAX:-0}" = 1 ] && mode=(--find-max --start-rate "${START_RATE:-500}" --step "${STEP:-250}")
  local name="$1-$2-$3-r$4"
  echo "== $1 $2 $3 round $4" >&2
  "$HARNESS/bench.sh" --proxy-cmd "$5" --flow "$2" --transport "$3" "${mode[@]}" \
    --out "$OUT/$name" --quiet-wait "$QUIET" --noise-retries "$NOISE" > "$OUT/$name.log" 2>&1
}
for flow in $FLOWS; do
  for tp in $TRANSPORTS; do
    for r in $(seq "$ROUNDS"); do
      one trunkgate "$flow" "$tp" "$r" "$TG"
      [ -n "$KAM" ] && one kamailio "$flow" "$tp" "$r" "$KAM"
    done
  done
done
python3 "$HERE/table.py" "$OUT"
