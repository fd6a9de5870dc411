#!/usr/bin/env bash
# Where dockwrightd's time goes in bench/build.sh's builds (issue 7). Three views:
#  1. per-step wall time from the client's side: the `docker build` output of a cold and a
#     cached build, every line time-stamped (builddata/steptimes.py), dockwrightd next to
#     dockerd's legacy builder (same Dockerfile, same step numbers);
#  2. the daemon's phases: dockwrightd runs under builddata/buildsteps.py, a stopwatch on the
#     build's internals (context receive/unpack, each RUN/COPY, commit, container create/remove,
#     rmtree); plus utime+stime of the daemon and of its reaped children around each build;
#  3. py-spy (samples of all the daemon's threads, --idle --nonblocking) during a cold and a
#     cached build, summarized by builddata/spytop.py (inclusive and self time, idle waits
#     left out).
# The daemon runs with --debug, so results/logs/dockwrightd.log has every request's duration.
# py-spy is installed from PyPI into a venv of its own ($SPY, default /tmp/dwbench-pyspy; it
# stays, like the Debian packages lib.sh installs).
#
#   sudo bench/build_profile.sh            # OUT=bench/results, ~2 min
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

OUT=${OUT:-$here/results}
SPY=${SPY:-/tmp/dwbench-pyspy}
RATE=${RATE:-200}
NETWORK=${NETWORK:-none}
export CMD_TIMEOUT=${CMD_TIMEOUT:-300}
export DOCKER_BUILDKIT=0
mkdir -p "$OUT/logs"

[ -x "$SPY/bin/py-spy" ] || { python3 -m venv "$SPY" && "$SPY/bin/pip" install -q py-spy; }
bench_init
CTX=$ROOT/ctx
P=$OUT/logs/build-prof   # stamped outputs, CPU readings, py-spy stacks
rm -rf "$P"
mkdir -p "$P"
log "context: $(python3 "$here/builddata/make_context.py" "$CTX")"
cp "$here/builddata/Dockerfile" "$CTX/Dockerfile"
make_rootfs_tar
export DW_STEPS_LOG=$P/steps.log
# shellcheck disable=SC2086  # DW_FLAGS: several flags
DWD="$VENV/bin/python $here/builddata/buildsteps.py" dw_start --debug ${DW_FLAGS:-}
dw_import
dk_start
dw save busybox:latest | dk load >/dev/null

cpu() {  # cpu PID: "self children" CPU seconds (utime+stime, cutime+cstime) of a live process
    awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f %.2f", ($12 + $13) / hz, ($14 + $15) / hz}' "/proc/$1/stat"
}

stamped() {  # stamped ENGINE NAME NOCACHE: one build, its output time-stamped into $P/NAME.log
    local e=$1 name=$2 flags=(--network "$NETWORK") before after
    [ "$3" = 1 ] && flags+=(--no-cache)
    before=$(cpu "$DW_PID")
    "$e" build "${flags[@]}" -t "bench/prof:$name" "$CTX" 2>&1 | python3 "$here/builddata/steptimes.py" stamp >"$P/$name.log"
    grep -q 'Successfully tagged' "$P/$name.log" || { tail -n 5 "$P/$name.log" >&2; die "$e: $name build failed"; }
    [ "$e" = dw ] || return 0
    # the daemon cleans up after the last message; its build phase is logged when that is done
    wait_for 60 grep -q BuildService.build "$DW_STEPS_LOG" || log "no BuildService.build in the phase log"
    after=$(cpu "$DW_PID")
    echo "$name $before $after" >>"$P/cpu.txt"
    cp "$DW_STEPS_LOG" "$P/steps-$name.log"
    : >"$DW_STEPS_LOG"
}

spied() {  # spied NAME NOCACHE: a dockwrightd build under py-spy, collapsed stacks in $P/NAME.spy
    local spy
    "$SPY/bin/py-spy" record --idle --nonblocking --rate "$RATE" --format raw -o "$P/$1.spy" -p "$DW_PID" \
        >"$P/$1.spy.log" 2>&1 &
    spy=$!
    sleep 1   # py-spy attaches
    stamped dw "$1" "$2"
    kill -INT "$spy"
    wait "$spy" || true
}

reset() {  # reset ENGINE: no image or build cache of ours left
    local ids
    ids=$("$1" image ls -q bench/prof | sort -u)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || "$1" rmi -f $ids >/dev/null
    "$1" image prune -f >/dev/null
    "$1" builder prune -af >/dev/null 2>&1 || true
}

: >"$DW_STEPS_LOG"
log "warm-up build (dockwrightd imports its build code)"
stamped dw warmup 1
reset dw
for e in dw dk; do
    log "$e: cold, then cached"
    stamped "$e" "$e-cold" 1
    stamped "$e" "$e-cached" 0
    reset "$e"
done
log "dockwrightd under py-spy: cold, then cached"
spied spy-cold 1
spied spy-cached 0
reset dw

{
    echo "## Per-step wall time (client side), cold (--no-cache) and cached"
    echo
    python3 "$here/builddata/steptimes.py" table dockwrightd-cold="$P/dw-cold.log" \
        dockerd-legacy-cold="$P/dk-cold.log" dockwrightd-cached="$P/dw-cached.log" \
        dockerd-legacy-cached="$P/dk-cached.log"
    echo
    for b in cold cached; do
        echo "## dockwrightd phases, $b build (buildsteps.py; phases nest and overlap)"
        echo
        python3 "$here/builddata/buildsteps.py" --summary "$P/steps-dw-$b.log"
        echo
    done
    echo "## dockwrightd timeline, cold build (phases of 50 ms or more)"
    echo
    python3 "$here/builddata/buildsteps.py" --timeline "$P/steps-dw-cold.log"
    echo
    echo "## dockwrightd CPU seconds per build (self / reaped children)"
    echo
    echo "| build | daemon CPU s | children CPU s |"
    echo "|---|---:|---:|"
    awk '{printf "| %s | %.2f | %.2f |\n", $1, $4 - $2, $5 - $3}' "$P/cpu.txt"
    for b in cold cached; do
        echo
        echo "## py-spy, $b build (wall $(tail -n 1 "$P/spy-$b.log" | cut -f1) s)"
        echo
        python3 "$here/builddata/spytop.py" "$P/spy-$b.spy" "$RATE" 25
    done
} | tee "$OUT/build-profile.md"
