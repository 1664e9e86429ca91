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
# skiff's Quadlet generator, installed as an administrator does it (systemd
# runs user generators only from system directories: docs/systemd.md), with
# the payload standing for an installed skiff.
mkdir -p /etc/systemd/user-generators
printf '#!/bin/sh\nexec %s %s quadlet -user "$@"\n' "$(command -v node)" /skiff/bin/skiff >/etc/systemd/user-generators/skiff-quadlet
chmod 0755 /etc/systemd/user-generators/skiff-quadlet
echo "skiff-vm: $(uname -r), cgroup $(stat -fc %T /sys/fs/cgroup), user@$uid.service $(systemctl is-active "user@$uid.service")"
# As the test user, a service of its own manager: the tests, or (.vm-bench:
# `npm run test:vm -- --bench NAME…`) the benchmarks named on its first line.
as_user_service() {
  runuser -u "$user" -- env XDG_RUNTIME_DIR="/run/user/$uid" DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" \
    systemd-run --user --wait --pipe --quiet --collect --unit=skiff-vm-tests --working-directory=/skiff \
    --setenv=HOME="/home/$user" --setenv=PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin --setenv=LANG=C.UTF-8 \
    --setenv=CI=true --setenv=NO_COLOR=1 "$@"
}
if [ -s /skiff/.vm-bench ]; then
  # shellcheck disable=SC2046
  as_user_service --setenv=BENCH_RUNS="$(sed -n 2p /skiff/.vm-bench)" node bench/run.mjs $(sed -n 1p /skiff/.vm-bench)
else
  # shellcheck disable=SC2046
  as_user_service node node_modules/vitest/vitest.mjs run --config test/vm/vitest.config.ts \
    --reporter=default --reporter=json --outputFile.json=/skiff/.vm-results/report.json $(cat /skiff/.vm-args)
fi
code=$?
echo "$code" >/skiff/.vm-results/status
if [ "$code" -ne 0 ]; then
  echo "skiff-vm: the tests failed; the test user's journal:"
  journalctl -b -q --no-pager -o short-monotonic _UID="$uid" | tail -n 200
fi
exit "$code"
