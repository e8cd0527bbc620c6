#!/bin/sh
# run.sh BASE_URL [test files...]: runs the browser tests (every test_*.mjs here, or the
# ones named) against a running Rose at BASE_URL, printing their TAP output.
# Exits non-zero if setup fails, any test line is "not ok", or any test program fails.
set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
    echo "usage: $0 BASE_URL [test files...]" >&2
    exit 2
fi
BASE_URL=$1
shift
export BASE_URL

"$here/setup.sh" || { echo "not ok 1 - browser: setup.sh failed"; exit 1; }

if [ $# -eq 0 ]; then
    set -- "$here"/test_*.mjs
fi

status=0
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
for t in "$@"; do
    name=$(basename "$t" .mjs)
    echo "# $name"
    # A hard stop in case something hangs where the test's own deadline cannot reach.
    timeout -k 10 300 node "$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    p=$(grep -c '^ok ' "$out" || true)
    f=$(grep -c '^not ok ' "$out" || true)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $name: exited with status $rc"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || status=1
done
echo "# browser tests: $passed passed, $failed failed"
exit $status
