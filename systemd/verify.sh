#!/bin/sh
# Checks the systemd files: `systemd-analyze verify` on the unit, `systemd-sysusers --dry-run` on
# the sysusers file. The unit names /usr/local/bin/trunkgate, which verify requires to exist, so a
# copy is checked with ExecStart pointing at $TRUNKGATE_BIN (default: a stand-in script).
# Needs systemd-analyze (Debian: `apt-get install -y systemd`). Exit 0 = clean.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify.sh: systemd-analyze not found (apt-get install -y systemd)" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bin=${TRUNKGATE_BIN:-}
if [ -z "$bin" ]; then
    bin="$work/trunkgate"
    printf '#!/bin/sh\nexit 0\n' >"$bin"
    chmod +x "$bin"
fi

sed "s#/usr/local/bin/trunkgate#$bin#g" "$here/trunkgate.service" >"$work/trunkgate.service"
# verify prints findings on stderr and may exit 0 on warnings: treat any output as a failure.
out=$(systemd-analyze verify "$work/trunkgate.service" 2>&1) || {
    echo "$out" >&2
    exit 1
}
if [ -n "$out" ]; then
    echo "$out" >&2
    exit 1
fi
echo "trunkgate.service: OK"

if command -v systemd-sysusers >/dev/null 2>&1; then
    mkdir -p "$work/root/etc"
    systemd-sysusers --root="$work/root" "$here/trunkgate.sysusers" >/dev/null 2>&1
    grep -q '^trunkgate:' "$work/root/etc/passwd"
    echo "trunkgate.sysusers: OK"
fi
