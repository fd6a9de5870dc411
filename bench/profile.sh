#!/usr/bin/env bash
# Where dockwrightd spends a `docker run --rm` and a `docker exec`: runs the daemon under
# steps.py (a stopwatch on the start / exit / remove / exec steps) with --debug (per-request
# timings in its log), does N of each, and prints the median of every step and request.
#
#   sudo bench/profile.sh              # N=30 OUT=bench/results
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${N:-30}
OUT=${OUT:-$REPO/bench/results}
HERE=$(cd "$(dirname "$0")" && pwd)

bench_init
mkdir -p "$OUT"
make_rootfs_tar
export DW_STEPS_LOG=$ROOT/steps.log
DWD="$VENV/bin/python $HERE/steps.py" dw_start --debug
dw_import
for _ in 1 2 3; do dw run --rm --network none busybox true; done   # warm the code paths
: >"$DW_STEPS_LOG"
log "$N x docker run --rm --network none busybox true"
for _ in $(seq "$N"); do dw run --rm --network none busybox true; done
cp "$DW_STEPS_LOG" "$ROOT/run-steps.log"
dw run -d --name prof-exec --network none busybox sleep 1000000 >/dev/null
for _ in 1 2 3; do dw exec prof-exec true; done
: >"$DW_STEPS_LOG"
log "$N x docker exec prof-exec true"
for _ in $(seq "$N"); do dw exec prof-exec true; done

requests() {  # median time per API request kind in the debug log (ids folded away)
    python3 - "$D/daemon.log" "$1" <<'EOF'
import re, statistics, sys
from collections import defaultdict
path, since = sys.argv[1], sys.argv[2]
by = defaultdict(list)
on = False
for line in open(path):
    if since in line:
        on = True
    m = re.search(r"dockwright\.api: (\w+) (\S+) (\d+) (?:hijack|stream)?([\d.]+)ms", line)
    if on and m:
        route = re.sub(r"[0-9a-f]{64}", "{id}", m.group(2).split("?")[0])
        route = re.sub(r"^/v1\.\d+", "", route)
        by[f"{m.group(1)} {route}"].append(float(m.group(4)))
print("| request | count | median ms |")
print("|---|---:|---:|")
for k, v in sorted(by.items(), key=lambda kv: -statistics.median(kv[1])):
    print(f"| {k} | {len(v)} | {statistics.median(v):.1f} |")
EOF
}

{
    echo "## docker run --rm --network none busybox true ($N runs): daemon steps"
    echo
    python3 "$HERE/steps.py" --summary "$ROOT/run-steps.log"
    echo
    echo "## docker exec <c> true ($N runs): daemon steps"
    echo
    python3 "$HERE/steps.py" --summary "$DW_STEPS_LOG"
    echo
    echo "## API requests (debug log, all of the above)"
    echo
    requests "API listening"
} | tee "$OUT/profile.md"
