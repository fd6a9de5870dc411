#!/usr/bin/env bash
# Issue 6's performance goals, side by side in one run:
#  1. `docker run --rm busybox true` on each daemon's DEFAULT bridge network (hyperfine,
#     alternating rounds): dockwrightd's own bridge + nft table vs dockerd on a bridge of ours.
#  2. TCP throughput through a published port, host → container, on 127.0.0.1 and on the
#     host's own address (local traffic only): upload into a busybox `nc -l` sink, and download
#     of a file from busybox `httpd` (sendfile) with curl.
# dockerd runs with --iptables=false (we do not touch the host's iptables), so it publishes
# ports with its userland proxy (docker-proxy), which is what dockerd without iptables does.
#
#   sudo bench/network.sh     # ROUNDS=3 RUNS=10 WARMUP=2 TPUT_ROUNDS=5 MIB=1024 OUT=bench/results
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
TPUT_ROUNDS=${TPUT_ROUNDS:-5}
MIB=${MIB:-1024}
CMD_TIMEOUT=${CMD_TIMEOUT:-120}
OUT=${OUT:-$REPO/bench/results}
HERE=$(cd "$(dirname "$0")" && pwd)

# The host's own non-loopback IPv4 address (traffic to it stays on the machine), if any.
host_addr() {
    ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

# A /24 in 10.0.0.0/8 that no host route or address touches.
free_subnet() {
    local n
    for n in $(seq 200 250); do
        ip -4 route show table all | grep -q "10\.$n\." && continue
        ip -4 addr | grep -q "10\.$n\." && continue
        echo "10.$n.77"; return 0
    done
    return 1
}

free_port() {  # a TCP port nobody listens on
    local p
    while :; do
        p=$((20000 + RANDOM % 10000))
        ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
    done
}

DK_BRIDGE=
bench_extra_cleanup() {
    if [ -n "$DK_BRIDGE" ] && ip link show "$DK_BRIDGE" >/dev/null 2>&1; then
        ip link delete "$DK_BRIDGE" && log "removed bridge $DK_BRIDGE"
    fi
}

# dockerd on our bridge (it attaches to an existing one with -b), userland proxy on, no
# iptables, no ip_forward/masquerade changes: host → container needs no forwarding.
dk_start_bridge() {
    printf '{"deprecated-key-path": "%s"}\n' "$D2/key.json" >"$D2/daemon.json"
    "$DOCKERD" --config-file "$D2/daemon.json" --data-root "$D2/data" --exec-root "$D2/exec" \
        --pidfile "$D2/dockerd.pid" -H "unix://$D2/docker.sock" --bridge="$DK_BRIDGE" \
        --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
        --userland-proxy=true --userland-proxy-path=/usr/sbin/docker-proxy \
        --containerd-namespace "dwbench-$TAG" --containerd-plugins-namespace "dwbench-plugins-$TAG" \
        --cgroup-parent "/$DK_CGROUP" >>"$D2/dockerd.log" 2>&1 &
    DK_PID=$!
    wait_for 60 dk version || die "dockerd did not start (see $D2/dockerd.log)"
    CTRD_PID=$(cat "$D2/exec/containerd/containerd.pid" 2>/dev/null || true)
    log "dockerd pid $DK_PID (bridge $DK_BRIDGE $DK_NET.1/24), containerd pid ${CTRD_PID:-?}"
}

bench_init
mkdir -p "$OUT"
make_rootfs_tar
DK_BRIDGE=dkb-$TAG
DK_NET=$(free_subnet) || die "no free 10.x.77.0/24"
ip link add "$DK_BRIDGE" type bridge
ip addr add "$DK_NET.1/24" dev "$DK_BRIDGE"
ip link set "$DK_BRIDGE" up
dw_start
dw_import
dk_start_bridge
dk_import

# Sanity: the default network works on both (an address on eth0 besides lo).
for side in dw dk; do
    "$side" run --rm busybox ip -4 -o addr show eth0 | grep -q inet || die "$side: no eth0 address"
done

TO="timeout -s KILL $CMD_TIMEOUT"
DWH="$TO $DOCKER -H unix://$D/d.sock"
DKH="$TO $DOCKER -H unix://$D2/docker.sock"
rm -f "$OUT"/net-run-*.json "$OUT"/net-run-*.md
for round in $(seq "$ROUNDS"); do
    log "hyperfine: net-run-$round"
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$OUT/net-run-$round.json" --export-markdown "$OUT/net-run-$round.md" \
        -n "dockwrightd: run --rm (default bridge)" "$DWH run --rm busybox true" \
        -n "dockerd: run --rm (default bridge, no iptables)" "$DKH run --rm busybox true"
done

# Throughput: one long-lived server container per engine, two published ports per address.
HADDR=$(host_addr || true)
ADDRS=(127.0.0.1)
[ -n "$HADDR" ] && ADDRS+=("$HADDR")
SERVER="dd if=/dev/zero of=/tmp/big bs=1M count=$MIB 2>/dev/null && httpd -p 8081 -h /tmp && \
while true; do nc -l -p 8080 </dev/null >/dev/null; done"
declare -A UP DOWN
for side in dw dk; do
    args=()
    for a in "${ADDRS[@]}"; do
        UP[$side,$a]=$(free_port); DOWN[$side,$a]=$(free_port)
        args+=(-p "$a:${UP[$side,$a]}:8080" -p "$a:${DOWN[$side,$a]}:8081")
    done
    "$side" run -d --name dwbench-net "${args[@]}" busybox sh -c "$SERVER" >/dev/null
done
for side in dw dk; do
    for a in "${ADDRS[@]}"; do
        wait_for 60 curl -sfI "http://$a:${DOWN[$side,$a]}/big" || die "$side: httpd not reachable on $a"
    done
done
"$side" port dwbench-net >&2

RAW=$OUT/network-raw.tsv
printf 'round\tengine\taddress\tdirection\tMB_per_s\n' >"$RAW"
for round in $(seq "$TPUT_ROUNDS"); do
    for side in dw dk; do
        for a in "${ADDRS[@]}"; do
            up=$(python3 "$HERE/nettx.py" "$a" "${UP[$side,$a]}" "$MIB") || die "$side upload to $a failed"
            sleep 0.3  # let the sink's loop listen again
            down=$(curl -sf -o /dev/null -w '%{speed_download}' "http://$a:${DOWN[$side,$a]}/big") \
                || die "$side download from $a failed"
            down=$(awk -v b="$down" 'BEGIN {printf "%.1f", b / 1e6}')
            printf '%s\t%s\t%s\tupload\t%s\n%s\t%s\t%s\tdownload\t%s\n' \
                "$round" "$side" "$a" "$up" "$round" "$side" "$a" "$down" >>"$RAW"
            log "round $round $side $a: upload $up MB/s, download $down MB/s"
        done
    done
done

{
    echo "date: $(date -u +%FT%TZ)"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "nproc: $(nproc); memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "kernel: $(uname -r)"
    echo "docker CLI: $("$DOCKER" --version)"
    echo "dockerd: $(dk version --format '{{.Server.Version}}')"
    echo "hyperfine: $(hyperfine --version); curl: $(curl --version | head -1 | cut -d' ' -f1-2)"
    echo "addresses: ${ADDRS[*]}; dockerd bridge $DK_NET.0/24"
} >"$OUT/network-machine.txt"
python3 "$HERE/netsummary.py" "$RAW" "$OUT"/net-run-*.json | tee "$OUT/network-summary.md"
