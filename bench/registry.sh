#!/usr/bin/env bash
# Issue 5 benchmark: `dockwright registry serve` against Debian's CNCF registry (docker-registry
# 2.8), both on loopback with filesystem storage under one temp dir, in one run, alternating
# rounds. Measures: blob GET throughput (8 concurrent curl clients on one BLOB_MIB blob),
# manifest GET and blob HEAD req/s (ab, 32 keep-alive connections), monolithic push of the blob
# (POST + PUT ?digest=), and RSS of both servers idle and under the 8 parallel downloads.
# Knobs: ROUNDS (3), BLOB_MIB (256), REQS (5000 per ab run), OUT (bench/results).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
# shellcheck source=bench/reglib.sh
. "$here/reglib.sh"

ROUNDS=${ROUNDS:-3}
BLOB_MIB=${BLOB_MIB:-256}
REQS=${REQS:-5000}
OUT=${OUT:-$here/results}
MANIFEST_TYPE=application/vnd.docker.distribution.manifest.v2+json
mkdir -p "$OUT"

bench_init
reg_trap
command -v ab >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends apache2-utils >&2
[ -x "$CNCF_REGISTRY" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry >&2

log "making a $BLOB_MIB MiB blob"
head -c "$((BLOB_MIB << 20))" /dev/urandom >"$ROOT/blob"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' \
    "$(sha256_of "$ROOT/blob")" >"$ROOT/config.json"
LAYER_TYPE=application/vnd.docker.image.rootfs.diff.tar write_manifest "$ROOT/manifest.json" "$ROOT/config.json" "$ROOT/blob"
BLOB=sha256:$(sha256_of "$ROOT/blob")

declare -A BASE PID
cncf_start cncf "$(free_port)"; PID[cncf]=$LAST_PID
BASE[cncf]=http://127.0.0.1:$(awk '/addr:/ {split($2, a, ":"); print a[2]}' "$ROOT/cncf/config.yml")
port=$(free_port)
dwreg_start dw "$port"; PID[dw]=$LAST_PID
BASE[dw]=http://127.0.0.1:$port
sleep 1
for s in cncf dw; do
    push_blob "${BASE[$s]}" bench/img "$ROOT/config.json" >/dev/null
    push_blob "${BASE[$s]}" bench/img "$ROOT/blob" >/dev/null
    push_manifest "${BASE[$s]}" bench/img latest "$ROOT/manifest.json" "$MANIFEST_TYPE"
    curl -sf -o /dev/null -H "Accept: $MANIFEST_TYPE" "${BASE[$s]}/v2/bench/img/manifests/latest" ||
        die "$s does not serve the manifest"
    log "$s: pid ${PID[$s]}, ${BASE[$s]}, idle RSS $(rss_mib "${PID[$s]}") MiB"
done

RAW=$OUT/registry-raw.tsv
printf 'round\tserver\tmetric\tvalue\n' >"$RAW"
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }

blob_get() {  # blob_get SERVER ROUND: 8 parallel full downloads; aggregate MB/s, peak RSS
    local s=$1 r=$2 t0 t1 i pids=()
    sample_rss "${PID[$s]}" "$ROOT/rss-$s"
    t0=$(date +%s.%N)
    for i in $(seq 8); do
        curl -sf -o /dev/null "${BASE[$s]}/v2/bench/img/blobs/$BLOB" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || die "$s: blob GET failed"; done
    t1=$(date +%s.%N)
    kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true
    rec "$r" "$s" blob_get_MBps "$(awk -v a="$t0" -v b="$t1" -v m="$BLOB_MIB" 'BEGIN {printf "%.0f", 8 * m * 1.048576 / (b - a)}')"
    rec "$r" "$s" rss_load_MiB "$(max_of "$ROOT/rss-$s")"
}

ab_rps() {  # ab_rps SERVER ROUND METRIC [ab flags...]: 32 keep-alive connections
    local s=$1 r=$2 m=$3 out rps; shift 3
    out=$(ab -q -k -c 32 -n "$REQS" -H "Accept: $MANIFEST_TYPE" "$@" 2>&1) || die "$s: ab $m failed: $out"
    rps=$(awk '/^Requests per second/ {print $4}' <<<"$out")
    [ -n "$rps" ] || die "$s: ab $m gave no rate: $out"
    grep -q '^Non-2xx' <<<"$out" && die "$s: ab $m saw non-2xx answers"
    grep -q '^Failed requests: *0' <<<"$out" || die "$s: ab $m had failed requests"
    rec "$r" "$s" "$m" "$rps"
}

push() {  # push SERVER ROUND: monolithic POST + PUT of the blob into a fresh repository
    local secs
    secs=$(push_blob "${BASE[$1]}" "bench/push$2" "$ROOT/blob")
    rec "$2" "$1" push_MBps "$(awk -v t="$secs" -v m="$BLOB_MIB" 'BEGIN {printf "%.0f", m * 1.048576 / t}')"
}

for r in $(seq "$ROUNDS"); do
    for s in cncf dw; do
        log "round $r: $s"
        rec "$r" "$s" rss_idle_MiB "$(rss_mib "${PID[$s]}")"
        blob_get "$s" "$r"
        ab_rps "$s" "$r" manifest_get_rps "${BASE[$s]}/v2/bench/img/manifests/latest"
        ab_rps "$s" "$r" blob_head_rps -i "${BASE[$s]}/v2/bench/img/blobs/$BLOB"
        push "$s" "$r"
    done
done

SUMMARY=$OUT/registry-summary.md
python3 - "$RAW" "$BLOB_MIB" "$ROUNDS" >"$SUMMARY" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
for m in sorted({r["metric"] for r in rows}, key=lambda x: x):
    for s in ("cncf", "dw"):
        med[s, m] = statistics.median(float(r["value"]) for r in rows if r["metric"] == m and r["server"] == s)
print(f"Medians of {sys.argv[3]} alternating rounds; blob {sys.argv[2]} MiB.\n")
print("| metric | CNCF registry 2.8 | dockwright | ratio (dw/cncf) | goal ≥ 1.0 |")
print("|---|---:|---:|---:|---|")
for m, label in [("blob_get_MBps", "blob GET, 8 clients (MB/s aggregate)"),
                 ("manifest_get_rps", "manifest GET, 32 conns (req/s)"),
                 ("blob_head_rps", "blob HEAD, 32 conns (req/s)"),
                 ("push_MBps", "monolithic push POST+PUT (MB/s)")]:
    c, d = med["cncf", m], med["dw", m]
    print(f"| {label} | {c:,.0f} | {d:,.0f} | {d / c:.2f} | {'met' if d >= c else 'missed'} |")
for m, label in [("rss_idle_MiB", "RSS idle (MiB)"), ("rss_load_MiB", "RSS peak, 8 downloads (MiB)")]:
    print(f"| {label} | {med['cncf', m]:.1f} | {med['dw', m]:.1f} | {med['dw', m] / med['cncf', m]:.2f} | — |")
EOF
cat "$SUMMARY"
{
    date -u
    uptime
    echo "nproc $(nproc)"
    free -m | head -2
    uname -r
    "$CNCF_REGISTRY" --version
    ab -V | head -1
    curl --version | head -1
} >"$OUT/registry-machine.txt"
