#!/bin/sh
# One command for a fresh machine: system packages, npm dependencies, the build,
# then a first container from a busybox root filesystem.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-system-deps.sh
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
rootfs=${SKIFF_DEMO_ROOTFS:-$HOME/.local/share/skiff/demo-rootfs}
[ -x "$rootfs/bin/busybox" ] || sh scripts/make-busybox-rootfs.sh "$rootfs"
./bin/skiff run --rootfs "$rootfs" sh -c 'echo "hello from $(hostname): $(id)"'
./bin/skiff doctor || true
