#!/usr/bin/env bash
# Soak test: trunkgate under steady SIPp load with ~5% abnormal calls (CANCEL while ringing,
# answer timeouts, 503 refusals), sampling the proxy's RSS, open fds and /status counters every
# SAMPLE seconds into a CSV; plots it at the end (plot.py).
#
#   benches/soak/soak.sh [MINUTES] [CALLS_PER_SECOND] [OUT_DIR]     (default 30 200 soak-out)
#
# Environment: TRUNKGATE_BIN (default target/release/trunkgate, else target/debug/trunkgate),
# SOAK_NET (address block, default 127.0.200: proxy .1, carrier .2, servers .4 .7 .8),
# SAMPLE (seconds, default 10), HOLD_MS (answered call length, default 1000).
# Needs sipp (apt-get install sip-tester) and python3. Bounded: everything stops after MINUTES.
set -euo pipefail

MINUTES=${1:-30}
CPS=${2:-200}
OUT=${3:-soak-out}
NET=${SOAK_NET:-127.0.200}
SAMPLE=${SAMPLE:-10}
HOLD_MS=${HOLD_MS:-1000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${TRUNKGATE_BIN:-}
if [[ -z "$BIN" ]]; then
  BIN="$ROOT/target/release/trunkgate"
  [[ -x "$BIN" ]] || BIN="$ROOT/target/debug/trunkgate"
fi
[[ -x "$BIN" ]] || { echo "no trunkgate binary (cargo build first)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "sipp is not installed (apt-get install sip-tester)" >&2; exit 1; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SECS=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
# ~5% abnormal: 2% refused (503 -> 500), 1.5% cancelled while ringing, 1.5% answer timeout.
# Answered calls per second; the others per 10 seconds (SIPp rates are integers).
read -r R_OK R_FAIL R_CANCEL R_TIMEOUT < <(awk -v c="$CPS" \
  'BEGIN { printf "%d %d %d %d\n", c*0.95, c*0.2, c*0.15, c*0.15 }')

cat > "$OUT/trunkgate.toml" <<TOML
[proxy]
listen = ["udp:$NET.1:5060"]
advertise = "$NET.1"
realm = "edge.test"
unknown_source = "reject"

[admin]
listen = "$NET.1:9060"

[log]
level = "warn,trunkgate::runtime=info"

[[carriers]]
name = "carrier-a"
hostname = "$NET.2"
port = 5060
keep_alive = false
rules = ["^\$"]

[[connectivity]]
account_id = "soak"

[[connectivity.servers]]
name = "answers"
[connectivity.servers.auth]
auth_method = "IP"
ip = "$NET.4"
port = 5060
[connectivity.servers.options]
inbound_format = "npan"
[connectivity.servers.DIDs."+14155550100"]

[[connectivity.servers]]
name = "refuses"
[connectivity.servers.auth]
auth_method = "IP"
ip = "$NET.7"
port = 5060
[connectivity.servers.options]
inbound_format = "npan"
[connectivity.servers.DIDs."+14155550101"]

[[connectivity.servers]]
name = "rings"
[connectivity.servers.auth]
auth_method = "IP"
ip = "$NET.8"
port = 5060
[connectivity.servers.options]
inbound_format = "npan"
timeout = 3
[connectivity.servers.DIDs."+14155550102"]
[connectivity.servers.DIDs."+14155550103"]
TOML

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$BIN" run --config "$OUT/trunkgate.toml" 2> "$OUT/trunkgate.log" &
PROXY=$!
PIDS+=("$PROXY")
for _ in $(seq 50); do grep -q "trunkgate ready" "$OUT/trunkgate.log" && break; sleep 0.2; done
grep -q "trunkgate ready" "$OUT/trunkgate.log" || { echo "proxy did not start" >&2; cat "$OUT/trunkgate.log" >&2; exit 1; }

# sipp SCENARIO IP PORT LOGNAME ARGS...: bounded by the soak length plus a grace period.
sipp_run() {
  local sf=$1 ip=$2 port=$3 name=$4; shift 4
  timeout -k 5 $((SECS + 60)) sipp -sf "$HERE/$sf" -i "$ip" -p "$port" -nostdin "$@" \
    > "$OUT/$name.out" 2>&1 &
  PIDS+=("$!")
}
sipp_run uas_answer.xml "$NET.4" 5060 uas_answer
sipp_run uas_503.xml "$NET.7" 5060 uas_503
sipp_run uas_ring.xml "$NET.8" 5060 uas_ring
sleep 1
# The callers stop by themselves after the soak time (-timeout); distinct ports on one IP.
UAC=(-timeout "${SECS}s" "$NET.1:5060")
sipp_run uac_call.xml "$NET.2" 5060 uac_call -s +14155550100 -r "$R_OK" -d "$HOLD_MS" "${UAC[@]}"
sipp_run uac_fail.xml "$NET.2" 5061 uac_fail -s +14155550101 -r "$R_FAIL" -rp 10000 "${UAC[@]}"
sipp_run uac_cancel.xml "$NET.2" 5062 uac_cancel -s +14155550102 -r "$R_CANCEL" -rp 10000 "${UAC[@]}"
sipp_run uac_timeout.xml "$NET.2" 5063 uac_timeout -s +14155550103 -r "$R_TIMEOUT" -rp 10000 "${UAC[@]}"

CSV="$OUT/soak.csv"
echo "elapsed_s,rss_kib,fds,calls,transactions,dialogs,timers,account_active,carrier_active" > "$CSV"
sample() {
  local t=$1 rss fds st
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$PROXY/status" 2>/dev/null || echo 0)
  fds=$(ls "/proc/$PROXY/fd" 2>/dev/null | wc -l)
  st=$(python3 - "$NET.1:9060" <<'PY'
import json, sys, urllib.request
try:
    s = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}/status", timeout=3))
    c = s["core"]
    print(",".join(str(x) for x in (c["calls"], c["transactions"], c["dialogs"], c["timers"],
        sum(a["active_calls"] for a in s["accounts"]), sum(x["active_calls"] for x in s["carriers"]))))
except Exception:
    print(",,,,,")
PY
)
  echo "$t,$rss,$fds,$st" >> "$CSV"
}
START=$(date +%s)
sample 0
while :; do
  sleep "$SAMPLE"
  NOW=$(( $(date +%s) - START ))
  sample "$NOW"
  kill -0 "$PROXY" 2>/dev/null || { echo "proxy died" >&2; exit 1; }
  (( NOW >= SECS )) && break
done
# The callers stop by themselves; watch everything drain (transactions linger up to 32 s).
for n in 4 5 6 7; do wait "${PIDS[$n]}" 2>/dev/null || true; done
for _ in 1 2 3 4 5; do sleep "$SAMPLE"; NOW=$(( $(date +%s) - START )); sample "$NOW"; done

for f in "$OUT"/uac_*.out; do
  n=$(basename "$f" .out)
  ok=$(grep -E "Successful call" "$f" | tail -1 | awk -F'|' '{gsub(/ /,"",$NF); print $NF}')
  ko=$(grep -E "Failed call" "$f" | tail -1 | awk -F'|' '{gsub(/ /,"",$NF); print $NF}')
  echo "$n: successful ${ok:-?} failed ${ko:-?}"
done | tee "$OUT/summary.txt"
python3 "$HERE/plot.py" "$CSV" "$OUT/soak.png" | tee -a "$OUT/summary.txt"
