#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite. This is what CI runs.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh --test || exit 1
python3 -m pytest -q "$@"
rc=$?
# pytest's 5 means "no tests collected": that is a failure of the suite's setup, say so.
[ "$rc" = 5 ] && echo "pytest collected no tests" >&2
exit "$rc"
