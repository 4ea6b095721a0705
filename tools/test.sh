#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite. This is what CI runs.
#   bash tools/test.sh            the whole suite: the light and CAD tests on every core
#                                 (pytest-xdist) while the VM image builds; then the VM scenario
#                                 beside the namespace and daemon tests (both mostly wait); then
#                                 the browser tests, alone
#   bash tools/test.sh ARGS...    one pytest run with these arguments (e.g. -m "not vm" tests/lab)
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --test || exit 1

run() {
    local nice=()
    [ "${1:-}" = --nice ] && { nice=(nice -n 10); shift; }
    "${nice[@]}" python3 -m pytest -q "$@"
    local rc=$?
    # pytest's 5 means "no tests collected": that is a failure of the suite's setup, say so.
    [ "$rc" = 5 ] && echo "pytest collected no tests ($*)" >&2
    return "$rc"
}

if [ "$#" -gt 0 ]; then
    run "$@"
    exit $?
fi
HEAVY="root or vm or browser"
# The VM lab's image (mmdebstrap: mostly download and unpack, then pirack's layer) is built beside
# the light lane, so the VM test finds it in the cache; if it is not done, the test waits on the
# cache's build lock. A failure here is only reported: the VM test builds it again and says why.
img_pid="" img_log=""
if [ "$(id -u)" = 0 ] && command -v mmdebstrap >/dev/null && command -v qemu-system-x86_64 >/dev/null; then
    img_log=$(mktemp /tmp/pirack-vm-image.XXXXXX.log)
    # its own process group (setsid), so an interrupted run ends mmdebstrap with it
    setsid python3 -m bringup.lab.vm.image >"$img_log" 2>&1 &
    img_pid=$!
    trap '[ -n "$img_pid" ] && kill -- "-$img_pid" 2>/dev/null' EXIT
fi
t0=$SECONDS
run -n auto --dist worksteal -m "not ($HEAVY)"
light=$?
t1=$SECONDS
if [ -n "$img_pid" ]; then
    wait "$img_pid" && tail -1 "$img_log" >&2 || { echo "VM image: the early build failed (the VM test tries again):" >&2; tail -5 "$img_log" >&2; }
    img_pid=""
    rm -f "$img_log"
fi
# The VM scenario (most of its minutes are emulated CPUs booting and waiting on each other; the
# machine has room beside it) runs beside the namespace and daemon tests, which mostly wait on
# their daemons and Ansible; then the browser, alone (heavy tests that load the CPU go one at a
# time). The VM lane's output is printed when it ends.
vm_log=$(mktemp /tmp/pirack-vm-lane.XXXXXX.log)
t2=$SECONDS
# A job started with & ignores Ctrl-C (SIGINT) in a script; --default-signal gives it back, so
# an interrupted run's pytest tears its VM lab down (VMs, namespaces, work folder).
setsid env --default-signal=INT python3 -m pytest -q -m vm >"$vm_log" 2>&1 &
vm_pid=$!
trap '[ -n "$img_pid" ] && kill -- "-$img_pid" 2>/dev/null; [ -n "$vm_pid" ] && { kill -INT "$vm_pid" 2>/dev/null; wait "$vm_pid"; cat "$vm_log"; rm -f "$vm_log"; }' EXIT
# Niced: when the VMs boot, they get most of the CPU (the namespace tests wait on daemons and
# Ansible, not on a deadline); between boots the namespace tests take what the VMs leave.
run --nice -m "root and not vm and not browser"
ns=$?
echo "tests: the namespace lane ended (exit $ns) in $((SECONDS - t2)) s; waiting for the VM lane" >&2
next=$((SECONDS + 60))
while kill -0 "$vm_pid" 2>/dev/null; do
    sleep 2
    [ "$SECONDS" -ge "$next" ] && { echo "tests: the VM lane has run $((SECONDS - t2)) s" >&2; next=$((next + 120)); }
done
wait "$vm_pid"
vm=$?
vm_pid=""
cat "$vm_log"
rm -f "$vm_log"
[ "$vm" = 5 ] && echo "pytest collected no tests (-m vm)" >&2
t3=$SECONDS
run -m "browser and not vm"
browser=$?
heavy=0
for rc in "$ns" "$vm" "$browser"; do [ "$rc" = 0 ] || heavy=$rc; done
echo "tests: VM lane exit $vm and namespace lane exit $ns, side by side in $((t3 - t2)) s; browser lane exit $browser in $((SECONDS - t3)) s" >&2
echo "tests: light and CAD lane exit $light in $((t1 - t0)) s, heavy lane exit $heavy in $((SECONDS - t1)) s" >&2
[ "$light" = 0 ] || exit "$light"
exit "$heavy"
