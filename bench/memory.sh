#!/usr/bin/env bash
# Memory, side by side: idle daemon RSS/PSS and the RSS/PSS each running container adds, for
# dockwrightd (+ its conmon monitors) against dockerd + containerd + containerd-shim-runc-v2.
# The containers' own processes (busybox sleep) are left out on both sides.
#
#   sudo bench/memory.sh                # N=20 SETTLE=5 OUT=bench/results
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${N:-20}
SETTLE=${SETTLE:-5}
OUT=${OUT:-$REPO/bench/results}
HERE=$(cd "$(dirname "$0")" && pwd)

bench_init
mkdir -p "$OUT"
: >"$OUT/memory.jsonl"
make_rootfs_tar
dw_start
dk_start

measure() {  # measure PHASE: one JSON line per engine
    sleep "$SETTLE"
    log "measuring: $1"
    python3 "$HERE/rss.py" dockwright "$1" "$D/" "$DW_PID" >>"$OUT/memory.jsonl"
    python3 "$HERE/rss.py" docker "$1" "$D2/" "$DK_PID" ${CTRD_PID:+"$CTRD_PID"} >>"$OUT/memory.jsonl"
}

measure "fresh"
dw_import
dk_import
dw run --rm --network none busybox true
dk run --rm --network none busybox true
measure "idle"
log "starting $N sleep containers on each engine"
for i in $(seq "$N"); do
    dw run -d --network none --name "mem$i" busybox sleep 1000000 >/dev/null
    dk run -d --network none --name "mem$i" busybox sleep 1000000 >/dev/null
done
[ "$(dw ps -q | wc -l)" = "$N" ] || die "dockwright is not running $N containers"
[ "$(dk ps -q | wc -l)" = "$N" ] || die "dockerd is not running $N containers"
measure "running"
remove_all_containers "$D/d.sock"
remove_all_containers "$D2/docker.sock"
measure "removed"
python3 "$HERE/memsummary.py" "$OUT/memory.jsonl" "$N" | tee "$OUT/memory-summary.md"
