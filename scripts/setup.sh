#!/usr/bin/env bash
# Install everything dockwright needs on a fresh Debian machine; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(crun runc conmon busybox-static tini procps iproute2 nftables tmux openssl skopeo docker-registry apache2-utils debootstrap podman openssh-client git)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.dockwright-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing the project into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi
# bytecode up front: this environment may forbid writing it lazily, and the CLI starts 3x faster
.venv/bin/python -m compileall -q src >/dev/null
echo "setup: done (.venv/bin/dockwrightd, .venv/bin/dockwright)"
