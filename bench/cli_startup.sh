#!/usr/bin/env bash
# Issue 3: wall time of the `dockwright` CLI against the Go `docker` CLI, both talking to the same
# dockwrightd: `version --format '{{.Client.Version}}'` (no request), `ps` and `images`.
# Goal: dockwright ≤ 1.5 × docker (median). Run as root after `make setup`:
#   bench/cli_startup.sh            # RUNS=30 WARMUP=5 OUT=bench/results
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-5}
OUT=${OUT:-$REPO/bench/results}
mkdir -p "$OUT"

bench_init
make_rootfs_tar
dw_start
dw_import
dw run -d --name idle busybox sleep 600 >/dev/null
"$VENV/bin/python" -m compileall -q "$REPO/src" >/dev/null   # what make setup does

DWCLI="$VENV/bin/dockwright -H unix://$D/d.sock"
GOCLI="$DOCKER -H unix://$D/d.sock"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
    --export-json "$OUT/cli.json" --export-markdown "$OUT/cli.md" \
    -n "docker version --format" "$GOCLI version --format {{.Client.Version}}" \
    -n "dockwright version --format" "$DWCLI version --format {{.Client.Version}}" \
    -n "docker ps" "$GOCLI ps" \
    -n "dockwright ps" "$DWCLI ps" \
    -n "docker images" "$GOCLI images" \
    -n "dockwright images" "$DWCLI images"

"$VENV/bin/python" - "$OUT/cli.json" <<'PY'
import json, statistics, sys
res = {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(sys.argv[1]))["results"]}
print("| command | docker (ms) | dockwright (ms) | ratio | goal ≤ 1.5 |")
print("|---|---:|---:|---:|---|")
for name in ("version --format", "ps", "images"):
    go, py = res[f"docker {name}"], res[f"dockwright {name}"]
    print(f"| {name} | {go:.1f} | {py:.1f} | {py / go:.2f} | {'met' if py / go <= 1.5 else 'missed'} |")
PY
