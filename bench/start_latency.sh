#!/usr/bin/env bash
# Start latency, side by side in one run: `docker run --rm busybox true` and `docker exec <c> true`
# with the real docker CLI against dockwrightd and against dockerd (Debian's docker.io, its own
# containerd), plus the raw `crun run` / `runc run` floor of the same rootfs and the CLI's own
# start-up cost. Both daemons run at once, each fully isolated (see lib.sh).
#
# The machine may be shared, so the hyperfine suites run ROUNDS times, alternating, and the
# medians are taken over all rounds' samples: load that comes and goes hits both engines alike.
#
#   sudo bench/start_latency.sh          # ROUNDS=5 RUNS=20 WARMUP=3 OUT=bench/results
#   ROUNDS=1 RUNS=50 DW_FLAGS=--debug sudo -E bench/start_latency.sh
#   DEFAULT_NET=1 ...   also time `run --rm` on each daemon's default network
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
CMD_TIMEOUT=${CMD_TIMEOUT:-120}
# The default network: loopback-only on both sides until dockwright's bridge networking lands;
# with it, dockwrightd creates a bridge and veths on the host, so it is opt-in.
DEFAULT_NET=${DEFAULT_NET:-0}
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

# Every command runs under `timeout -s KILL` (docker run proxies SIGTERM to the container), so
# a run that never returns fails the suite instead of hanging it; the wrapper costs both sides
# the same ~1 ms.
TO="timeout -s KILL $CMD_TIMEOUT"
DWH="$TO $DOCKER -H unix://$D/d.sock"
DKH="$TO $DOCKER -H unix://$D2/docker.sock"
run_hyperfine() {  # run_hyperfine NAME  then  label command  pairs
    local name=$1 args=()
    shift
    while [ $# -gt 0 ]; do args+=(-n "$1" "$2"); shift 2; done
    log "hyperfine: $name"
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$OUT/$name.json" --export-markdown "$OUT/$name.md" "${args[@]}"
}

RUN_CMDS=(
    "crun run (floor)" "$TO $CRUN --root $ROOT/crun-state run --bundle $ROOT/bundle dwbench-floor"
    "runc run (floor)" "$TO $RUNC --root $ROOT/runc-state run --bundle $ROOT/bundle dwbench-floor"
    "docker --version (CLI start-up)" "$TO $DOCKER --version"
    "dockwrightd: inspect (CLI + 2 requests)" "$DWH inspect -f . dwbench-exec"
    "dockerd: inspect (CLI + 2 requests)" "$DKH inspect -f . dwbench-exec"
    "dockwrightd: run --rm --network none" "$DWH run --rm --network none busybox true"
    "dockerd: run --rm --network none" "$DKH run --rm --network none busybox true"
)
if [ "$DEFAULT_NET" = 1 ]; then
    RUN_CMDS+=(
        "dockwrightd: run --rm (default net)" "$DWH run --rm busybox true"
        "dockerd --bridge=none: run --rm (default net)" "$DKH run --rm busybox true"
    )
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$OUT"/run-*.json "$OUT"/exec-*.json "$OUT"/run-*.md "$OUT"/exec-*.md
for round in $(seq "$ROUNDS"); do
    run_hyperfine "run-$round" "${RUN_CMDS[@]}"
    run_hyperfine "exec-$round" \
        "dockwrightd: exec true" "$DWH exec dwbench-exec true" \
        "dockerd: exec true" "$DKH exec dwbench-exec true"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Versions for RESULTS.md.
{
    echo "date: $(date -u +%FT%TZ)"
    echo "rounds x runs: $ROUNDS x $RUNS (warmup $WARMUP per command per round)"
    echo "load average before/after: $load_before / $load_after"
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
python3 "$(dirname "$0")/summary.py" "$OUT"/run-*.json "$OUT"/exec-*.json | tee "$OUT/latency-summary.md"
