#!/usr/bin/env bash
# Issue 7 benchmark: `docker build` of a multi-stage Dockerfile with a ~20 MB context
# (bench/builddata/), cold and fully cached, on dockwrightd and on dockerd side by side in one
# run, alternating rounds (lib.sh set-up: private roots, sockets and cgroups; cleanup on exit).
#
# Builders: dockwrightd and dockerd's legacy builder through the real docker CLI with
# DOCKER_BUILDKIT=0; dockwrightd through its own `dockwright build` (row dwc), which syncs the
# context (uploads only the files the daemon does not hold; the cold build of each round comes
# after `builder prune -af`, which drops what the daemon held, so it uploads everything);
# dockwrightd through its API with `tar | curl` (row dwt, the very client of the BuildKit rows);
# dockerd's BuildKit through its API (`POST /build?version=2`, the context as
# a tar upload, no session), because this docker CLI has no buildx plugin and without buildx the
# CLI cannot drive BuildKit. That path is probed first; if dockerd refuses it, the BuildKit rows
# are left out and the summary says why.
#
# Per round and builder: cold = `build --no-cache` (the base image stays; every step runs);
# cached = the same build again without --no-cache, which must reuse every step (checked: the
# image ID equals the cold build's); then the tags, dangling images and build cache are removed.
# Wall time of the whole client command, context upload included (the BuildKit rows time
# `tar | curl`, the same work the CLI does). Knobs: ROUNDS (5), OUT (bench/results),
# DW_FLAGS (e.g. --debug), BUILDKIT (auto | 0), NETWORK (none: the RUN steps' network on all
# builders; dockerd runs with --bridge=none, see lib.sh), CMD_TIMEOUT (300 s here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

ROUNDS=${ROUNDS:-5}
OUT=${OUT:-$here/results}
BUILDKIT=${BUILDKIT:-auto}
NETWORK=${NETWORK:-none}   # RUN steps' network on every builder (dockerd here has no bridge)
export CMD_TIMEOUT=${CMD_TIMEOUT:-300}
export DOCKER_BUILDKIT=0
DK_API=v1.41   # dockerd 20.10's newest API version
mkdir -p "$OUT/logs"
rm -f "$OUT"/logs/build-cli-*.log

bench_init
CTX=$ROOT/ctx
BK_NOTE=

make_context() {  # the context dir, its Dockerfile, and a tiny one for the BuildKit probe
    log "context: $(python3 "$here/builddata/make_context.py" "$CTX")"
    cp "$here/builddata/Dockerfile" "$CTX/Dockerfile"
    mkdir -p "$ROOT/probe"
    printf 'FROM busybox\nRUN echo probe >/probe\n' >"$ROOT/probe/Dockerfile"
}

load_busybox_into_dockerd() {  # the very image dockwrightd has, offline: save | load
    if dw save busybox:latest | dk load >/dev/null; then
        log "busybox: docker save (dockwrightd) | docker load (dockerd)"
    else
        log "docker save from dockwrightd failed; importing the same rootfs tar instead"
        dk_import
    fi
}

# A build through the API with `tar | curl` (the same client for both daemons): the context
# tar is the request body. For dockerd with `version=2` that is BuildKit without buildx
# (BuildKit serves the tar to the Dockerfile frontend as an HTTP source; the image ID is in the
# "moby.image.id" aux message); for dockwrightd the legacy API (the ID in {"aux": {"ID"}}).
# Prints the ID; fails on an error message.
api_build() {  # api_build ENGINE(bk|dwt) DIR TAG NOCACHE(0|1)
    local e=$1 dir=$2 tag=$3 nocache=$4 res=$ROOT/api.out sock=$D2/docker.sock api=$DK_API extra=version=2
    [ "$e" = dwt ] && { sock=$D/d.sock; api=v1.45; extra=q=0; }
    tar -C "$dir" --exclude=./scratch --exclude='*.tmp' -cf - . |
        timeout -s KILL "$CMD_TIMEOUT" curl -sS --unix-socket "$sock" -X POST -T - \
            -H 'Content-Type: application/x-tar' \
            "http://x/$api/build?$extra&rm=1&forcerm=1&networkmode=$NETWORK&t=$tag&nocache=$nocache" >"$res"
    if grep -q '"error"' "$res" || ! grep -q '"aux"' "$res"; then
        cat "$res" >>"$OUT/logs/build-cli-$e.log"
        return 1
    fi
    python3 -c 'import json, sys
found = ""
for line in open(sys.argv[1]):
    for part in line.replace("}{", "}\n{").splitlines():
        m = json.loads(part) if part.strip() else {}
        aux = m.get("aux") if isinstance(m.get("aux"), dict) else {}
        if m.get("id") == "moby.image.id" or ("ID" in aux and not m.get("id")):
            found = aux["ID"]
print(found)' "$res"
}

probe_buildkit() {  # sets BK=1 when dockerd's BuildKit builds through the plain API
    BK=0
    [ "$BUILDKIT" = 0 ] && { BK_NOTE="disabled with BUILDKIT=0"; return; }
    if api_build bk "$ROOT/probe" bench/probe:bk 0 >/dev/null; then
        BK=1
        dk rmi bench/probe:bk >/dev/null
        log "dockerd BuildKit: usable through POST /build?version=2"
    else
        BK_NOTE="dockerd refused POST /build?version=2: $(tail -c 300 "$OUT/logs/build-cli-bk.log" | tr '\n' ' ')"
        log "dockerd BuildKit: $BK_NOTE"
    fi
}

# build ENGINE(dw|dk|bk) TAG NOCACHE: one build of the bench context; prints the image ID.
build() {
    local e=$1 tag=$2 nocache=$3 flags=(--network "$NETWORK") iid=$ROOT/iid
    [ "$nocache" = 1 ] && flags+=(--no-cache)
    case $e in
        bk | dwt) api_build "$e" "$CTX" "$tag" "$nocache" ;;
        dwc) rm -f "$iid"
           timeout -s KILL "$CMD_TIMEOUT" env DOCKER_HOST="unix://$D/d.sock" "$VENV/bin/dockwright" \
               build "${flags[@]}" --iidfile "$iid" -t "$tag" "$CTX" >>"$OUT/logs/build-cli-dwc.log" 2>&1 &&
               cat "$iid" ;;
        *) rm -f "$iid"
           "$e" build "${flags[@]}" --iidfile "$iid" -t "$tag" "$CTX" >>"$OUT/logs/build-cli-$e.log" 2>&1 &&
               cat "$iid" ;;
    esac
}

timed() {  # timed ENGINE OP ROUND TAG NOCACHE: one build, wall seconds into RAW, ID into $ID
    local e=$1 op=$2 r=$3 t0 t1
    t0=$(date +%s.%N)
    ID=$(build "$e" "$4" "$5") || { tail -n 5 "$OUT/logs/build-cli-$e.log" >&2; die "$e: $op build failed"; }
    t1=$(date +%s.%N)
    printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$e" "$op" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" \
        "$ID" >>"$RAW"
}

client() {  # the docker CLI pointed at ENGINE's daemon (bk is dockerd)
    case $1 in dw | dwc | dwt) shift; dw "$@" ;; *) shift; dk "$@" ;; esac
}

reset_engine() {  # remove the round's images and all build cache, so rounds are independent
    local e=$1 r=$2
    client "$e" rmi "bench/build:cold-$r" "bench/build:cached-$r" >/dev/null 2>&1 || true
    client "$e" image prune -f >/dev/null
    client "$e" builder prune -af >/dev/null 2>&1 || true
}

round() {  # round ENGINE N
    local e=$1 r=$2 cold
    log "round $r: $e"
    timed "$e" cold "$r" "bench/build:cold-$r" 1
    cold=$ID
    timed "$e" cached "$r" "bench/build:cached-$r" 0
    [ "$ID" = "$cold" ] || die "$e: the rebuild made $ID, not the cold build's $cold (a step missed the cache)"
    [ "$r" = 1 ] && check_image "$e" "bench/build:cold-$r"
    reset_engine "$e" "$r"
}

check_image() {  # the result has what the Dockerfile makes, so every builder did the same work
    local listing
    listing=$(client "$1" run --rm --network none --user 0 "$2" \
        sh -c 'wc -l </app/MANIFEST; ls /app/sample | wc -l; wc -c </app/gen/all.gz; cat /app/assets/app')
    # 5 files summed in MANIFEST, 50 sample files (d00 less its ignored .tmp), 16 MiB gzipped
    if ! { [ "$(sed -n 1p <<<"$listing")" = 5 ] && [ "$(sed -n 2p <<<"$listing")" = 50 ] &&
        [ "$(sed -n 3p <<<"$listing")" -gt $((16 << 20)) ] && grep -q 'bench app' <<<"$listing"; }; then
        die "$1: image $2 is not what the Dockerfile makes: $(tr '\n' ' ' <<<"$listing")"
    fi
    log "$1 result: $(tr '\n' ' ' <<<"$listing")"
}

make_context
make_rootfs_tar
# shellcheck disable=SC2086  # DW_FLAGS: several flags
dw_start ${DW_FLAGS:-}
dw_import
dk_start
load_busybox_into_dockerd
probe_buildkit
ENGINES=(dw dwc dwt dk)
[ "$BK" = 1 ] && ENGINES+=(bk)

RAW=$OUT/build-raw.tsv
printf 'round\tengine\top\tseconds\timage\n' >"$RAW"
for r in $(seq "$ROUNDS"); do
    # rotate the order so no builder always runs first (page cache, load)
    n=${#ENGINES[@]}
    for i in $(seq 0 $((n - 1))); do round "${ENGINES[$(((i + r - 1) % n))]}" "$r"; done
done

python3 "$here/builddata/summary.py" "$RAW" "$BK_NOTE" | tee "$OUT/build-summary.md"
{
    date -u
    uptime
    echo "nproc $(nproc)"
    free -m | head -2
    uname -r
    "$DOCKER" --version
    "$DOCKERD" --version
    echo "context: $(du -sb --exclude=scratch "$CTX" | cut -f1) bytes, $(find "$CTX" -type f | wc -l) files"
} >"$OUT/build-machine.txt"
