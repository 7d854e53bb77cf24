#!/usr/bin/env bash
# Live-migrates a Ferry guest between two QEMU/KVM processes on 127.0.0.1 and
# prints QEMU's figures for it.
#
#   benchmarks/qemu/migrate.sh NAME|PATH.mb.elf [k=v ...]
#
# Starts the destination (-incoming tcp:127.0.0.1:PORT) and the source with the same
# command line as run-guest.sh, each with QMP on a unix socket; after AFTER seconds
# sets the migration parameters and migrates, polls query-migrate until it ends,
# prints its result (destination = the destination's run state right after), and
# quits the source. The destination then runs on until the
# guest exits, or for RUN_AFTER seconds if it does not. Console lines are prefixed
# [src] and [dst]. Exits 0 when the migration completed and the destination ran the
# guest on, else 1.
#
# Environment (besides QEMU, MEM, BIOS, TSC_KHZ, as for run-guest.sh):
#   PORT         migration port on 127.0.0.1 (default: a free one)
#   AFTER        seconds the source runs before the migration (2)
#   DOWNTIME_MS  migrate-set-parameters downtime-limit, ms (QEMU's default: 300)
#   BANDWIDTH    migrate-set-parameters max-bandwidth, bytes/s (QEMU 7.2's default: 128 MiB/s)
#   RUN_AFTER    seconds the destination runs after the migration at most (3)
#   KEEP         a directory to keep the QMP replies and consoles in
set -u

here=$(dirname "$0")
# shellcheck source=qemu-cmd.sh
. "$here/qemu-cmd.sh"
qmp=$here/qmp.py

if [ $# -lt 1 ]; then
    sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
fi
image=$(ferry_image "$1") || exit 2
shift
ferry_qemu_cmd "$image" "$*"

port=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
tmp=${KEEP:-$(mktemp -d)}
mkdir -p "$tmp"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start ROLE EXTRA...: runs QEMU in the background with its console prefixed, one
# whole line per write so that the two consoles do not cut into each other's lines.
start() {
    local role=$1
    shift
    rm -f "$tmp/$role.sock"
    "${FERRY_QEMU_CMD[@]}" -qmp "unix:$tmp/$role.sock,server=on,wait=off" "$@" \
        > >(awk -v p="[$role] " -v f="$tmp/$role.console" \
                '{ print p $0; fflush(); print p $0 > f; fflush(f) }') 2>&1 &
    pids+=($!)
    eval "${role}_pid=$!"
    for _ in $(seq 100); do
        [ -S "$tmp/$role.sock" ] && return 0
        sleep 0.05
    done
    echo "migrate.sh: the $role QEMU did not open its QMP socket" >&2
    exit 1
}

start dst -incoming "tcp:127.0.0.1:$port"
start src
sleep "${AFTER:-2}"

params={}
[ -n "${DOWNTIME_MS:-}" ] && params=$(jq -nc --argjson p "$params" --argjson v "$DOWNTIME_MS" '$p + {"downtime-limit": $v}')
[ -n "${BANDWIDTH:-}" ] && params=$(jq -nc --argjson p "$params" --argjson v "$BANDWIDTH" '$p + {"max-bandwidth": $v}')
echo "migrate.sh: migrating to tcp:127.0.0.1:$port" >&2
# One QMP session (each start of python costs a few hundred ms here).
"$qmp" "$tmp/src.sock" migrate-set-parameters "$params" query-migrate-parameters \
    migrate "{\"uri\": \"tcp:127.0.0.1:$port\"}" --wait-migration > "$tmp/qmp.out" || exit 1
sed -n 2p "$tmp/qmp.out" > "$tmp/parameters.json"
sed -n 4p "$tmp/qmp.out" > "$tmp/migrate.json"
status=$(jq -r .status "$tmp/migrate.json")
dst_status=$("$qmp" "$tmp/dst.sock" query-status 2>/dev/null | jq -r .status)
"$qmp" "$tmp/src.sock" quit >/dev/null
wait "$src_pid"

jq -r --arg dst "${dst_status:-gone}" --slurpfile p "$tmp/parameters.json" '
    "migrate.sh: downtime_limit_ms=\($p[0]."downtime-limit") max_bandwidth=\($p[0]."max-bandwidth")",
    "migrate.sh: status=\(.status) total_time_ms=\(."total-time") downtime_ms=\(.downtime)" +
    " setup_time_ms=\(."setup-time") destination=\($dst)",
    (.ram // {} | "migrate.sh: ram transferred=\(.transferred) total=\(.total) duplicate_pages=\(.duplicate)" +
    " normal_pages=\(.normal) normal_bytes=\(."normal-bytes") dirty_sync_count=\(."dirty-sync-count")" +
    " mbps=\(.mbps) pages_per_second=\(."pages-per-second")")' "$tmp/migrate.json" >&2

# The destination runs on until the guest exits, or RUN_AFTER seconds.
for _ in $(seq $((${RUN_AFTER:-3} * 10))); do
    kill -0 "$dst_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$dst_pid" 2>/dev/null; then
    "$qmp" "$tmp/dst.sock" quit >/dev/null
    wait "$dst_pid"
    echo "migrate.sh: the destination ran the guest for ${RUN_AFTER:-3} s after the migration; quit it" >&2
else
    wait "$dst_pid"
    s=$?
    echo "migrate.sh: the guest exited on the destination (QEMU status $s: code $(((s - 1) / 2)))" >&2
fi
# The guest went on on the destination if it ran there, or printed there (a guest
# that exits soon may be gone by the time of query-status).
[ "$status" = completed ] && { [ "$dst_status" = running ] || [ -s "$tmp/dst.console" ]; }
