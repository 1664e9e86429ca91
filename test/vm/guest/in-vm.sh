#!/bin/sh
# On the payload disk (made by test/vm/run.mjs), run as root inside the VM by
# the image's skiff-vm-test: gives the payload to the test user and runs the
# tests as that user, as a transient service of the user's own systemd --user
# manager (so in the cgroup subtree systemd delegates to the user).
set -u
user=tester
uid=$(id -u "$user")
chown -R "$user:$user" /skiff
mkdir -p /skiff/.vm-results
chown "$user:$user" /skiff/.vm-results
echo "skiff-vm: $(uname -r), cgroup $(stat -fc %T /sys/fs/cgroup), user@$uid.service $(systemctl is-active "user@$uid.service")"
# shellcheck disable=SC2046
runuser -u "$user" -- env XDG_RUNTIME_DIR="/run/user/$uid" DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" \
  systemd-run --user --wait --pipe --quiet --collect --unit=skiff-vm-tests --working-directory=/skiff \
  --setenv=HOME="/home/$user" --setenv=PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin --setenv=LANG=C.UTF-8 \
  --setenv=CI=true --setenv=NO_COLOR=1 \
  node node_modules/vitest/vitest.mjs run --config test/vm/vitest.config.ts \
  --reporter=default --reporter=json --outputFile.json=/skiff/.vm-results/report.json $(cat /skiff/.vm-args)
