#!/usr/bin/env bash
# The main job: start dockwrightd on its embedded defaults, make busybox offline, run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
SOCK=/run/dockwright.sock
LOG=/var/log/dockwrightd.log

if ! dockwright version >/dev/null 2>&1; then
  echo "demo: starting dockwrightd (data root /var/lib/dockwright, socket unix://$SOCK, log $LOG)"
  setsid dockwrightd >>"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 100); do
    dockwright version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
dockwright version --format 'demo: daemon {{.Server.Version}} is up'
dockwright image bootstrap busybox
dockwright run --rm busybox echo "Hello from a dockwright container!"
dockwright run --name "demo-$(date +%s)" busybox sh -c 'echo "kernel $(uname -r), hostname $(hostname)"'
dockwright ps -a
echo "demo: the real docker CLI works too: DOCKER_HOST=unix://$SOCK docker run --rm busybox echo hi"
