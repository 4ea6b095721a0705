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
t0=$SECONDS
run -n auto -m "not ($HEAVY)"
light=$?
t1=$SECONDS
run -m "$HEAVY"
heavy=$?
echo "tests: light and CAD lane exit $light in $((t1 - t0)) s, heavy lane exit $heavy in $((SECONDS - t1)) s" >&2
[ "$light" = 0 ] || exit "$light"
exit "$heavy"
