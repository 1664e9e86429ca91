#!/bin/sh
# Creates the unprivileged user the rootless tests run as, with a sub-ID range.
# Usage (as root): scripts/create-test-user.sh [NAME]
set -eu
name=${1:-skifftest}
if ! id "$name" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh "$name"
fi
touch /etc/subuid /etc/subgid
# A range of 65536 that no other entry uses: past the highest end in either file.
start=$(awk -F: '{ end = $2 + $3; if (end > max) max = end } END { print (max > 100000 ? max : 100000) }' /etc/subuid /etc/subgid)
grep -q "^$name:" /etc/subuid || usermod --add-subuids "$start-$((start + 65535))" "$name"
grep -q "^$name:" /etc/subgid || usermod --add-subgids "$start-$((start + 65535))" "$name"
