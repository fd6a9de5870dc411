#!/usr/bin/env bash
# Issue 4 benchmark: `docker pull` and `docker push` of a ~200 MB, 4-layer image with the real
# docker CLI, through dockwrightd and through dockerd side by side in one run, alternating rounds.
# The image is made offline: LAYERS gzip tar layers of LAYER_MIB MiB of random data each, plus a
# config and a schema 2 manifest, uploaded over HTTP to a local CNCF registry (Debian's
# docker-registry) on 127.0.0.1 (plain HTTP: loopback is insecure by default in both engines).
# Pushes go to a second CNCF registry that is wiped and restarted before each push, so every
# push uploads every layer (no "Layer already exists", no cross-repository mount).
# Per round and engine: cold pull, pull of a second tag of the same manifest while all layers
# are present (manifest only), push, then rmi of every tag so the next pull is cold again.
# Knobs: ROUNDS (3), LAYERS (4), LAYER_MIB (50), OUT (bench/results), CMD_TIMEOUT (120 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
# shellcheck source=bench/reglib.sh
. "$here/reglib.sh"

ROUNDS=${ROUNDS:-3}
LAYERS=${LAYERS:-4}
LAYER_MIB=${LAYER_MIB:-50}
OUT=${OUT:-$here/results}
MANIFEST_TYPE=application/vnd.docker.distribution.manifest.v2+json
mkdir -p "$OUT"

bench_init
reg_trap
[ -x "$CNCF_REGISTRY" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry >&2

make_image() {  # layer<i>.tar(.gz), config.json, manifest.json under $ROOT/img
    local i img=$ROOT/img diff_ids=()
    mkdir -p "$img"
    for i in $(seq "$LAYERS"); do
        mkdir -p "$img/l$i/data"
        head -c "$((LAYER_MIB << 20))" /dev/urandom >"$img/l$i/data/layer$i.bin"
        tar --numeric-owner -C "$img/l$i" -cf "$img/layer$i.tar" data
        diff_ids+=("\"sha256:$(sha256_of "$img/layer$i.tar")\"")
        gzip -1 -c "$img/layer$i.tar" >"$img/layer$i.tar.gz"
        rm -rf "$img/l$i" "$img/layer$i.tar"
    done
    printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
        "$(IFS=,; echo "${diff_ids[*]}")" >"$img/config.json"
    write_manifest "$img/manifest.json" "$img/config.json" $(for i in $(seq "$LAYERS"); do echo "$img/layer$i.tar.gz"; done)
}

seed() {  # upload the image to the seed registry as bench/big:latest and bench/big:again
    local f
    for f in "$ROOT"/img/*.tar.gz "$ROOT/img/config.json"; do push_blob "$SEED_BASE" bench/big "$f" >/dev/null; done
    push_manifest "$SEED_BASE" bench/big latest "$ROOT/img/manifest.json" "$MANIFEST_TYPE"
    push_manifest "$SEED_BASE" bench/big again "$ROOT/img/manifest.json" "$MANIFEST_TYPE"
}

reset_push_registry() {  # stop the push registry, wipe its storage, start it again on its port
    if [ -n "${PUSH_PID:-}" ]; then
        stop_pid "$PUSH_PID" push-registry
        mapfile -t REG_PIDS < <(printf '%s\n' "${REG_PIDS[@]}" | grep -vx "$PUSH_PID")
    fi
    rm -rf "$ROOT/push/data"
    cncf_start push "$PUSH_PORT"
    PUSH_PID=$LAST_PID
}

timed() {  # timed ENGINE OP ROUND CMD...: run, record wall seconds, fail loudly
    local e=$1 op=$2 r=$3 t0 t1; shift 3
    t0=$(date +%s.%N)
    "$@" >>"$ROOT/cli-$e.log" 2>&1 || die "$e: $op failed (see the CLI log $ROOT/cli-$e.log)"
    t1=$(date +%s.%N)
    printf '%s\t%s\t%s\t%s\n' "$r" "$e" "$op" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" >>"$RAW"
}

round() {  # round ENGINE(dw|dk) N
    local e=$1 r=$2 ref=$SEED_HOST/bench/big
    log "round $r: $e"
    timed "$e" pull "$r" "$e" pull "$ref:latest"
    [ "$r" = 1 ] && check_image "$e" "$ref:latest"
    timed "$e" pull_present "$r" "$e" pull "$ref:again"
    "$e" rmi "$ref:again" >/dev/null
    reset_push_registry
    "$e" tag "$ref:latest" "$PUSH_HOST/bench/big:latest"
    timed "$e" push "$r" "$e" push "$PUSH_HOST/bench/big:latest"
    [ "$r" = 1 ] && check_pushed "$e"
    "$e" rmi "$PUSH_HOST/bench/big:latest" "$ref:latest" >/dev/null
}

check_image() {  # the pulled image has all layers, so both engines really did the same work
    local n
    n=$("$1" image inspect --format '{{len .RootFS.Layers}}' "$2")
    [ "$n" = "$LAYERS" ] || die "$1: $2 has $n layers, expected $LAYERS"
}

check_pushed() {  # every layer the pushed manifest lists is in the push registry, full size
    python3 - "http://$PUSH_HOST" "$LAYERS" "$LAYER_MIB" <<'PY' || die "$1: push incomplete"
import json, sys, urllib.request
base, layers, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
req = urllib.request.Request(base + "/v2/bench/big/manifests/latest", headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"})
m = json.load(urllib.request.urlopen(req))
assert len(m["layers"]) == layers, m
for layer in m["layers"]:
    head = urllib.request.Request(base + "/v2/bench/big/blobs/" + layer["digest"], method="HEAD")
    size = int(urllib.request.urlopen(head).headers["Content-Length"])
    assert size == layer["size"] and size > mib << 20, (size, layer)
PY
}

log "making a $LAYERS x $LAYER_MIB MiB image"
make_image
SEED_PORT=$(free_port)
cncf_start seed "$SEED_PORT"
SEED_HOST=127.0.0.1:$SEED_PORT
SEED_BASE=http://$SEED_HOST
PUSH_PORT=$(free_port)
PUSH_HOST=127.0.0.1:$PUSH_PORT
seed
log "image: $(du -sm "$ROOT/img" | cut -f1) MB compressed, seed registry $SEED_HOST, push registry $PUSH_HOST"

dw_start ${DW_FLAGS:-}  # e.g. DW_FLAGS=--debug for request timings in results/logs
dk_start
RAW=$OUT/pull-push-raw.tsv
printf 'round\tengine\top\tseconds\n' >"$RAW"
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then round dw "$r"; round dk "$r"; else round dk "$r"; round dw "$r"; fi
done

SUMMARY=$OUT/pull-push-summary.md
python3 - "$RAW" "$ROUNDS" "$LAYERS" "$LAYER_MIB" >"$SUMMARY" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(e, op):
    return statistics.median(float(r["seconds"]) for r in rows if r["engine"] == e and r["op"] == op)
print(f"Medians of {sys.argv[2]} alternating rounds; image {sys.argv[3]} x {sys.argv[4]} MiB random layers (gzip).\n")
print("| operation | dockwrightd (s) | dockerd (s) | ratio | goal | met |")
print("|---|---:|---:|---:|---|---|")
for op, label in [("pull", "`docker pull` (cold)"), ("pull_present", "`docker pull`, all layers present"),
                  ("push", "`docker push` (empty registry)")]:
    d, k = med("dw", op), med("dk", op)
    # "near-instant": manifest only; the docker CLI alone takes ~20 ms of it.
    goal, met = ("< 0.1 s", d < 0.1) if op == "pull_present" else ("≤ 0.7×", d <= 0.7 * k)
    print(f"| {label} | {d:.3f} | {k:.3f} | {d / k:.2f} | {goal} | {'met' if met else 'missed'} |")
EOF
cat "$SUMMARY"
{
    date -u
    uptime
    echo "nproc $(nproc)"
    free -m | head -2
    uname -r
    "$CNCF_REGISTRY" --version
    "$DOCKER" --version
    "$DOCKERD" --version
} >"$OUT/pull-push-machine.txt"
