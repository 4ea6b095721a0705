#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite. This is what CI runs.
#   bash tools/test.sh            the whole suite: the light and CAD tests on every core
#                                 (pytest-xdist), then the heavy ones (namespaces, daemons, VMs,
#                                 the browser) one at a time, as they share the machine's network
#                                 namespaces and CPU
#   bash tools/test.sh ARGS...    one pytest run with these arguments (e.g. -m "not vm" tests/lab)
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --test || exit 1

run() {
    python3 -m pytest -q "$@"
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
run -m "$HEAVY"
heavy=$?
echo "tests: light and CAD lane exit $light in $((t1 - t0)) s, heavy lane exit $heavy in $((SECONDS - t1)) s" >&2
[ "$light" = 0 ] || exit "$light"
exit "$heavy"
