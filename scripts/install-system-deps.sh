#!/bin/sh
# Installs the system packages skiff needs (Debian/Ubuntu), as root or via sudo.
# With --vm, also what the opt-in VM tier needs (`npm run test:vm`: qemu,
# debootstrap, e2fsprogs); `npm test` never needs those. With --bench, Podman
# and runc, which the benchmarks measure side by side (`npm run bench`).
set -eu
# skopeo, umoci, podman and runc: the interoperability tests (and Podman side by side in bench/).
packages="gcc libc6-dev make uidmap busybox-static util-linux iproute2 passt slirp4netns fuse-overlayfs docker-registry openssl apache2-utils zstd skopeo umoci podman runc"
if [ "${1:-}" = "--vm" ]; then packages="$packages qemu-system-x86 debootstrap e2fsprogs"; fi
if [ "${1:-}" = "--bench" ]; then packages="$packages podman runc"; fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: no apt-get here: install the equivalent of: $packages" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $packages >/dev/null
# Rootless networking (pasta, slirp4netns) opens /dev/net/tun; some hosts ship it 0600.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != "666" ]; then
  $sudo chmod 666 /dev/net/tun
fi
