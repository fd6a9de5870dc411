# shellcheck shell=bash
# Registry helpers for registry.sh and pull_push.sh: start Debian's CNCF registry and
# `dockwright registry serve` on loopback under $ROOT (lib.sh's temp dir), upload blobs and
# manifests over plain HTTP with curl, stop them by PID. Source after lib.sh and bench_init.

CNCF_REGISTRY=${CNCF_REGISTRY:-/usr/bin/docker-registry}
REG_PIDS=()

free_port() {  # a free TCP port on loopback
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cncf_start NAME PORT: filesystem storage under $ROOT/NAME, no auth, no log noise; its pid in LAST_PID (no subshell).
cncf_start() {
    local name=$1 port=$2 dir=$ROOT/$1
    mkdir -p "$dir/data"
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
    "$CNCF_REGISTRY" serve "$dir/config.yml" >>"$dir/log" 2>&1 &
    REG_PIDS+=($!)
    LAST_PID=$!
    wait_for 30 curl -sf "http://127.0.0.1:$port/v2/" || die "CNCF registry $name did not start (see $dir/log)"
}

# dwreg_start NAME PORT: `dockwright registry serve` on $ROOT/NAME; its pid in LAST_PID (no subshell).
dwreg_start() {
    local name=$1 port=$2 dir=$ROOT/$1
    mkdir -p "$dir/data"
    "$VENV/bin/dockwright" registry serve --addr "127.0.0.1:$port" --root "$dir/data" \
        --log-level warning >>"$dir/log" 2>&1 &
    REG_PIDS+=($!)
    LAST_PID=$!
    wait_for 30 curl -sf "http://127.0.0.1:$port/v2/" || die "dockwright registry $name did not start (see $dir/log)"
}

reg_stop() {  # stop every registry this run started, by PID
    local pid
    for pid in "${REG_PIDS[@]}"; do stop_pid "$pid" registry; done
    REG_PIDS=()
}

# Replace lib.sh's EXIT trap: registries first, then the usual cleanup (keeping the exit code).
reg_trap() {
    trap 'rc=$?; set +e; reg_stop; (exit $rc); bench_cleanup' EXIT
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# push_blob BASE REPO FILE: monolithic upload (POST then PUT ?digest=); echo seconds taken.
push_blob() {
    local base=$1 repo=$2 file=$3 digest loc t0 t1
    digest=sha256:$(sha256_of "$file")
    t0=$(date +%s.%N)
    loc=$(curl -sf -X POST -D - -o /dev/null "$base/v2/$repo/blobs/uploads/" |
        tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
    [ -n "$loc" ] || die "no upload location from $base"
    case $loc in http*) ;; *) loc=$base$loc ;; esac
    case $loc in *\?*) loc="$loc&digest=$digest" ;; *) loc="$loc?digest=$digest" ;; esac
    curl -sf -X PUT -H 'Content-Type: application/octet-stream' -T "$file" -o /dev/null "$loc" ||
        die "blob upload to $base failed"
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}'
}

# push_manifest BASE REPO TAG FILE MEDIATYPE
push_manifest() {
    curl -sf -X PUT -H "Content-Type: $5" --data-binary @"$4" -o /dev/null "$1/v2/$2/manifests/$3" ||
        die "manifest upload to $1 failed"
}

# write_manifest OUT CONFIG LAYER...: a Docker v2 schema 2 manifest (gzip layer media type
# unless LAYER_TYPE says otherwise) over files already uploaded.
write_manifest() {
    local out=$1 config=$2; shift 2
    python3 - "$out" "$config" "${LAYER_TYPE:-application/vnd.docker.image.rootfs.diff.tar.gzip}" "$@" <<'EOF'
import hashlib, json, os, sys
out, config, ltype, layers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def desc(path, mtype):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"mediaType": mtype, "size": os.path.getsize(path), "digest": "sha256:" + h.hexdigest()}
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": desc(config, "application/vnd.docker.container.image.v1+json"),
    "layers": [desc(p, ltype) for p in layers],
}
json.dump(manifest, open(out, "w"), indent=3)
EOF
}

rss_mib() {  # rss_mib PID: resident set in MiB (whole process, threads included)
    awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null
}

# sample_rss PID OUTFILE: background sampler of VmRSS every 0.1 s; its pid in SAMPLER.
sample_rss() {
    (while kill -0 "$1" 2>/dev/null; do rss_mib "$1"; echo; sleep 0.1; done) >"$2" &
    SAMPLER=$!
}

max_of() { sort -n "$1" | tail -1; }

median() {  # median of the numbers on stdin
    sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
