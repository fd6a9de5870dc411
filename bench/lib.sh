# shellcheck shell=bash
# Shared set-up and tear-down for the benchmarks: one dockwrightd and one dockerd (with its own
# containerd), each on its own unix socket, data root, exec root and cgroup parent under one temp
# dir, so nothing on the host is disturbed. Source it; call bench_init first. bench_cleanup runs
# on exit and leaves the machine as it was found: daemons stopped by the PIDs we started, mounts
# under our temp dir unmounted, our cgroups removed, host files dockerd creates removed.

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VENV=${VENV:-$REPO/.venv}
DOCKER=${DOCKER:-/usr/local/bin/docker}   # the real docker CLI (client only)
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}     # Debian's docker.io
CRUN=${CRUN:-/usr/bin/crun}
RUNC=${RUNC:-/usr/sbin/runc}

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Debian packages the scripts use; docker.io brings dockerd, containerd and the runc shim.
bench_install() {
    local missing=()
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    [ -x "$DOCKERD" ] || missing+=(docker.io)
    [ -x /usr/bin/time ] || missing+=(time)
    command -v curl >/dev/null || missing+=(curl)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        # policy-rc.d (or no init) keeps the packaged docker service from starting.
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
    fi
    [ -x "$DOCKER" ] || die "docker CLI not found at $DOCKER"
    [ -x "$VENV/bin/dockwrightd" ] || die "run 'make setup' first ($VENV/bin/dockwrightd missing)"
    # byte-compiled once, so no timed command compiles (PYTHONDONTWRITEBYTECODE would make
    # every CLI call compile its modules again)
    "$VENV/bin/python" -m compileall -q "$REPO/src" >/dev/null
}

# Remember what the host looked like, so cleanup removes only what this run created.
bench_init() {
    [ "$(id -u)" = 0 ] || die "must run as root"
    bench_install
    TAG=$$
    ROOT=$(mktemp -d /tmp/dwbench.XXXXXX)
    D=$ROOT/dw
    D2=$ROOT/dk
    mkdir -p "$D/data" "$D/run" "$D2/data" "$D2/exec" "$ROOT/cli"
    export DOCKER_CONFIG=$ROOT/cli        # keep the CLI away from ~/.docker
    DW_CGROUP=dwbench-dw-$TAG
    DK_CGROUP=dwbench-dk-$TAG
    CR_CGROUP=dwbench-cr-$TAG
    DW_PID=
    DK_PID=
    CTRD_PID=
    HOST_BEFORE=()
    for p in /run/containerd /run/docker /etc/docker/key.json; do
        [ -e "$p" ] && HOST_BEFORE+=("$p")
    done
    IP_FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    log "work dir $ROOT"
}

# The busybox rootfs both engines import (byte-identical for a given busybox binary).
make_rootfs_tar() {
    "$VENV/bin/python" -c 'import sys
from dockwright.cli.bootstrap import write_busybox_rootfs
write_busybox_rootfs(sys.stdout.buffer)' >"$ROOT/busybox.tar"
}

wait_for() {  # wait_for SECONDS CMD...: poll until CMD succeeds
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

# Bounded: a daemon bug must fail the script, not hang it (SIGKILL: docker run proxies SIGTERM).
dw() { timeout -s KILL "${CMD_TIMEOUT:-120}" "$DOCKER" -H "unix://$D/d.sock" "$@"; }
dk() { timeout -s KILL "${CMD_TIMEOUT:-120}" "$DOCKER" -H "unix://$D2/docker.sock" "$@"; }

# dockwrightd first: it binds hugetlb to a v1 hierarchy, which the crun floor also needs.
dw_start() {
    local extra=("$@")
    # DWD: the daemon's command (default dockwrightd); a wrapper can be swapped in for profiling.
    ${DWD:-$VENV/bin/dockwrightd} --host "unix://$D/d.sock" --data-root "$D/data" --exec-root "$D/run" \
        --cgroup-parent "$DW_CGROUP" "${extra[@]}" >>"$D/daemon.log" 2>&1 &
    DW_PID=$!
    wait_for 30 curl -sf --unix-socket "$D/d.sock" http://x/_ping || die "dockwrightd did not start (see $D/daemon.log)"
    log "dockwrightd pid $DW_PID"
}

dw_import() {
    curl -sf --unix-socket "$D/d.sock" -X POST --data-binary @"$ROOT/busybox.tar" \
        "http://x/images/create?fromSrc=-&repo=busybox&tag=latest" >/dev/null || die "dockwright import failed"
}

dk_start() {
    # deprecated-key-path keeps the trust key out of /etc/docker (daemon.json only, no flag).
    printf '{"deprecated-key-path": "%s"}\n' "$D2/key.json" >"$D2/daemon.json"
    "$DOCKERD" --config-file "$D2/daemon.json" --data-root "$D2/data" --exec-root "$D2/exec" \
        --pidfile "$D2/dockerd.pid" -H "unix://$D2/docker.sock" --bridge=none --iptables=false \
        --ip6tables=false --ip-forward=false --ip-masq=false --userland-proxy=false \
        --containerd-namespace "dwbench-$TAG" --containerd-plugins-namespace "dwbench-plugins-$TAG" \
        --cgroup-parent "/$DK_CGROUP" >>"$D2/dockerd.log" 2>&1 &
    DK_PID=$!
    wait_for 60 dk version || die "dockerd did not start (see $D2/dockerd.log)"
    CTRD_PID=$(cat "$D2/exec/containerd/containerd.pid" 2>/dev/null || true)
    log "dockerd pid $DK_PID, containerd pid ${CTRD_PID:-?}"
}

dk_import() {
    dk import "$ROOT/busybox.tar" busybox:latest >/dev/null || die "docker import failed"
}

# An OCI bundle over the same rootfs running `true`, for the raw runtime floor.
make_bundle() {
    local b=$ROOT/bundle
    mkdir -p "$b/rootfs"
    tar -xf "$ROOT/busybox.tar" -C "$b/rootfs"
    (cd "$b" && "$CRUN" spec)
    python3 - "$b/config.json" "/$CR_CGROUP/floor" <<'EOF'
import json, sys
path, cgroup = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["true"]
spec["linux"]["cgroupsPath"] = cgroup
json.dump(spec, open(path, "w"), indent=1)
EOF
}

stop_pid() {  # stop_pid PID NAME: SIGTERM, wait up to 30 s, then SIGKILL
    local pid=$1 name=$2
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name ($pid) ignored SIGTERM; killing"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

remove_all_containers() {  # remove_all_containers SOCKET: bounded, so a stuck daemon cannot hang us
    local ids
    ids=$(timeout 20 "$DOCKER" -H "unix://$1" ps -aq 2>/dev/null) || return 0
    [ -z "$ids" ] && return 0
    # shellcheck disable=SC2086
    timeout 60 "$DOCKER" -H "unix://$1" rm -f $ids >/dev/null 2>&1 || log "rm -f on $1 failed or timed out"
}

# PIDs of processes started (directly or through a daemon) inside our temp dir, e.g. conmon or
# containerd-shim-runc-v2 with our paths in their command line: ours alone, found by our path.
pids_under_root() {
    local p
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$$" ] && continue
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$ROOT/" && echo "${p#/proc/}"
    done
    return 0
}

unmount_under_root() {
    local m
    awk -v r="$ROOT/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
    done
}

# Container processes left in our cgroups (their command lines do not name our paths).
kill_cgroup_members() {
    local procs pid
    for procs in $(find /sys/fs/cgroup/pids/"$DW_CGROUP" /sys/fs/cgroup/pids/"$DK_CGROUP" \
        /sys/fs/cgroup/pids/"$CR_CGROUP" -name cgroup.procs 2>/dev/null); do
        while read -r pid; do
            log "leftover container process $pid"
            kill -KILL "$pid" 2>/dev/null || true
        done <"$procs"
    done
}

remove_cgroups() {
    local c
    for c in /sys/fs/cgroup/*/"$DW_CGROUP" /sys/fs/cgroup/*/"$DK_CGROUP" /sys/fs/cgroup/*/"$CR_CGROUP"; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    return 0
}

# Host paths dockerd/containerd create outside their roots (shim sockets, plugin dir, trust key).
# dockwrightd's own host network names derive from its data root (bridge dw-<instance>, nft
# table dockwright-<instance>); the daemon removes them itself, this only catches a failure.
remove_dw_network() {
    local inst
    inst=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:8])' \
        "$(realpath -m "$D/data")")
    if ip link show "dw-$inst" >/dev/null 2>&1; then
        log "leftover bridge dw-$inst"
        ip link delete "dw-$inst" || true
    fi
    local family
    for family in ip ip6 bridge; do  # the daemon's three tables share one name
        if command -v nft >/dev/null && nft list table "$family" "dockwright-$inst" >/dev/null 2>&1; then
            log "leftover nft table $family dockwright-$inst"
            nft delete table "$family" "dockwright-$inst" || true
        fi
    done
}

remove_host_leftovers() {
    local p keep
    for p in /etc/docker/key.json /run/docker/plugins /run/docker /run/containerd/s /run/containerd; do
        keep=0
        for b in "${HOST_BEFORE[@]}"; do [[ "$p" == "$b" || "$p" == "$b/"* ]] && keep=1; done
        [ $keep = 1 ] && continue
        if [ -f "$p" ]; then rm -f "$p"; elif [ -d "$p" ]; then rmdir "$p" 2>/dev/null || log "not empty, left: $p"; fi
    done
    if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$IP_FORWARD_BEFORE" ]; then
        echo "$IP_FORWARD_BEFORE" >/proc/sys/net/ipv4/ip_forward
    fi
}

bench_cleanup() {
    local rc=$? pid
    trap - EXIT
    [ -n "${ROOT:-}" ] || exit $rc
    log "cleaning up"
    if [ -n "${OUT:-}" ]; then  # keep the daemons' logs for profiling
        mkdir -p "$OUT/logs"
        cp "$D/daemon.log" "$OUT/logs/dockwrightd.log" 2>/dev/null || true
        cp "$D2/dockerd.log" "$OUT/logs/dockerd.log" 2>/dev/null || true
    fi
    [ -n "$DW_PID" ] && remove_all_containers "$D/d.sock"
    [ -n "$DK_PID" ] && remove_all_containers "$D2/docker.sock"
    stop_pid "$DW_PID" dockwrightd
    stop_pid "$DK_PID" dockerd
    stop_pid "$CTRD_PID" containerd
    for pid in $(pids_under_root); do
        log "leftover process $pid: $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-120)"
        kill -KILL "$pid" 2>/dev/null || true
    done
    kill_cgroup_members
    [ -d "$ROOT/crun-state" ] && "$CRUN" --root "$ROOT/crun-state" delete -f dwbench-floor >/dev/null 2>&1
    [ -d "$ROOT/runc-state" ] && "$RUNC" --root "$ROOT/runc-state" delete -f dwbench-floor >/dev/null 2>&1
    sleep 0.2
    unmount_under_root
    remove_cgroups
    remove_dw_network
    # A script's own host state (e.g. network.sh's dockerd bridge), after the daemons stopped.
    if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup || true; fi
    remove_host_leftovers
    if grep -qF "$ROOT/" /proc/mounts; then
        log "mounts remain under $ROOT; leaving it in place"
    else
        rm -rf "$ROOT"
    fi
    log "clean"
    exit $rc
}
