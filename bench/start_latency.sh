#!/usr/bin/env bash
# Start latency, side by side in one run: `docker run --rm busybox true` and `docker exec <c> true`
# with the real docker CLI against dockwrightd and against dockerd (Debian's docker.io, its own
# containerd), plus the raw `crun run` / `runc run` floor of the same rootfs and the CLI's own
# start-up cost. Both daemons run at once, each fully isolated (see lib.sh).
#
#   sudo bench/start_latency.sh                 # RUNS=30 WARMUP=5 OUT=bench/results
#   RUNS=50 DW_FLAGS=--debug sudo -E bench/start_latency.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-5}
OUT=${OUT:-$REPO/bench/results}
read -r -a DW_FLAGS <<<"${DW_FLAGS:-}"

bench_init
mkdir -p "$OUT"
make_rootfs_tar
dw_start "${DW_FLAGS[@]}"
dw_import
dk_start
dk_import
make_bundle
mkdir -p "$ROOT/crun-state" "$ROOT/runc-state"

# Sanity: every command works (and gives the same answer) before it is timed.
[ "$(dw run --rm --network none busybox echo ok)" = ok ] || die "dockwright run failed"
[ "$(dk run --rm --network none busybox echo ok)" = ok ] || die "dockerd run failed"
"$CRUN" --root "$ROOT/crun-state" run --bundle "$ROOT/bundle" dwbench-floor || die "crun floor failed"
"$RUNC" --root "$ROOT/runc-state" run --bundle "$ROOT/bundle" dwbench-floor || die "runc floor failed"
dw run -d --name dwbench-exec --network none busybox sleep 1000000 >/dev/null
dk run -d --name dwbench-exec --network none busybox sleep 1000000 >/dev/null
dw exec dwbench-exec true && dk exec dwbench-exec true

DWH="$DOCKER -H unix://$D/d.sock"
DKH="$DOCKER -H unix://$D2/docker.sock"
run_hyperfine() {  # run_hyperfine NAME  then  label command  pairs
    local name=$1 args=()
    shift
    while [ $# -gt 0 ]; do args+=(-n "$1" "$2"); shift 2; done
    log "hyperfine: $name"
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$OUT/$name.json" --export-markdown "$OUT/$name.md" "${args[@]}"
}

run_hyperfine run \
    "crun run (floor)" "$CRUN --root $ROOT/crun-state run --bundle $ROOT/bundle dwbench-floor" \
    "runc run (floor)" "$RUNC --root $ROOT/runc-state run --bundle $ROOT/bundle dwbench-floor" \
    "docker --version (CLI start-up)" "$DOCKER --version" \
    "dockwrightd: run --rm --network none" "$DWH run --rm --network none busybox true" \
    "dockerd: run --rm --network none" "$DKH run --rm --network none busybox true" \
    "dockwrightd: run --rm (default net)" "$DWH run --rm busybox true" \
    "dockerd --bridge=none: run --rm (default net)" "$DKH run --rm busybox true"

run_hyperfine exec \
    "dockwrightd: exec true" "$DWH exec dwbench-exec true" \
    "dockerd: exec true" "$DKH exec dwbench-exec true"

# Versions for RESULTS.md.
{
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc)"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "kernel: $(uname -r)"
    echo "crun: $("$CRUN" --version | head -1)"
    echo "runc: $("$RUNC" --version | head -1)"
    echo "conmon: $(conmon --version | head -1)"
    echo "docker CLI: $("$DOCKER" --version)"
    echo "dockerd: $(dk version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
    echo "containerd: $(containerd --version)"
    echo "hyperfine: $(hyperfine --version)"
    echo "python: $("$VENV/bin/python" --version)"
} >"$OUT/machine.txt"
python3 "$(dirname "$0")/summary.py" "$OUT/run.json" "$OUT/exec.json" | tee "$OUT/latency-summary.md"
