#!/bin/sh
# Builds a small root filesystem from Debian's busybox-static: the binary, its
# applet links, and an /etc with root, a non-root user and groups.
# Usage: scripts/make-busybox-rootfs.sh DIR
set -eu
dir=${1:?usage: make-busybox-rootfs.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}
if ! [ -x "$busybox" ] || ! "$busybox" --list-full >/dev/null 2>&1; then
  echo "make-busybox-rootfs: $busybox is missing or not a full busybox: apt-get install busybox-static" >&2
  exit 1
fi
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc root tmp home/app proc sys dev var/tmp
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
"$busybox" --list-full | while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
app:x:1000:1000:app user:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
daemon:x:1:
tty:x:5:
audio:x:29:app
staff:x:50:app
app:x:1000:
nogroup:x:65534:
GROUP
echo "skiff-busybox" > etc/hostname
