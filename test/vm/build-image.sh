#!/bin/sh
# Builds the VM tier's base image, once: a small Debian with systemd, cgroup v2,
# a user with lingering and a /etc/subuid range, and skiff's runtime
# dependencies (Node is the host's own binary, copied in). The project's build
# is not in it: each `npm run test:vm` brings that on a second disk.
#
# Usage (as root): test/vm/build-image.sh OUTDIR NODE
# Writes OUTDIR/base.img (ext4, the root filesystem), OUTDIR/vmlinuz,
# OUTDIR/initrd.img. Everything comes from the Debian mirror the host's apt uses.
set -eu
out=${1:?usage: build-image.sh OUTDIR NODE}
node=${2:?usage: build-image.sh OUTDIR NODE}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "build-image: debootstrap needs root: run it (or npm run test:vm) once as root" >&2
  exit 1
fi

# The host's own Debian mirror and release (deb822 or one-line sources).
mirror=${SKIFF_VM_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)}
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\/debian\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
suite=${SKIFF_VM_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}

# systemd with a user manager and a user bus; a kernel for virtio; what skiff
# runs (newuidmap, busybox for test root filesystems, pasta, slirp4netns,
# fuse-overlayfs, zstd, the registry the tests push to); libstdc++ for Node.
packages=systemd,systemd-sysv,udev,dbus,dbus-user-session,libpam-systemd,linux-image-cloud-amd64,kmod
packages=$packages,uidmap,busybox-static,iproute2,passt,slirp4netns,fuse-overlayfs,zstd,docker-registry,libstdc++6,procps

work=$(mktemp -d /var/tmp/skiff-vm-build.XXXXXX)
trap 'umount "$work/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
rootfs=$work/rootfs

echo "build-image: debootstrap $suite from $mirror" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  tail -n 20 "$rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  echo "build-image: debootstrap failed (log above)" >&2
  exit 1
}

echo skiff-vm >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 skiff-vm\n' >"$rootfs/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$rootfs/etc/fstab"

# The test user: uid 1000, a sub-ID range, and lingering, so its systemd --user
# manager starts at boot with no login.
chroot "$rootfs" useradd --create-home --uid 1000 --shell /bin/sh tester
echo 'tester:100000:65536' >"$rootfs/etc/subuid"
echo 'tester:100000:65536' >"$rootfs/etc/subgid"
mkdir -p "$rootfs/var/lib/systemd/linger"
touch "$rootfs/var/lib/systemd/linger/tester"
# systemd delegates only cpu, memory and pids to user managers by default;
# delegate cpuset and io as well, as docs/limits.md tells a user to.
mkdir -p "$rootfs/etc/systemd/system/user@.service.d"
printf '[Service]\nDelegate=cpu cpuset io memory pids\n' >"$rootfs/etc/systemd/system/user@.service.d/delegate.conf"

install -m 0755 "$node" "$rootfs/usr/local/bin/node"
install -m 0755 "$here/guest/skiff-vm-test" "$rootfs/usr/local/sbin/skiff-vm-test"
install -m 0644 "$here/guest/skiff-vm-test.service" "$rootfs/etc/systemd/system/skiff-vm-test.service"
ln -sf ../skiff-vm-test.service "$rootfs/etc/systemd/system/multi-user.target.wants/skiff-vm-test.service"

# Nothing on the console but the tests; nothing that wakes up on a timer.
for unit in getty.target serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer \
  docker-registry.service systemd-timesyncd.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done

cp "$(readlink -f "$rootfs/vmlinuz")" "$work/vmlinuz"
cp "$(readlink -f "$rootfs/initrd.img")" "$work/initrd.img"
rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"* "$rootfs/usr/share/doc" "$rootfs/usr/share/man" \
  "$rootfs/usr/share/locale" "$rootfs/boot/"*

# An ext4 image populated from the directory (no loop mount), with room to spare.
size_mb=$(( $(du -sm "$rootfs" | cut -f1) + 768 ))
mke2fs -q -t ext4 -L skiff-vm -d "$rootfs" "$work/base.img" "${size_mb}M"

mkdir -p "$out"
mv "$work/base.img" "$work/vmlinuz" "$work/initrd.img" "$out/"
echo "build-image: $out/base.img (${size_mb} MiB)" >&2
