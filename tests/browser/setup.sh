#!/bin/sh
# setup.sh: makes the browser tests runnable. Idempotent and quick when nothing changed.
# Needs node, npm and Debian's chromium (a browser is never downloaded by npm); installs them
# with apt-get when run as root, otherwise prints the line to run. Then installs the locked
# node packages (only playwright-core) unless node_modules already matches package-lock.json.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

missing=""
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium fonts-dejavu-core"
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing:$missing" >&2
        apt-get update -qq
        # $missing is a list of package names: split on purpose
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "setup: missing:$missing" >&2
        echo "setup: run: sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi

# playwright-core needs node 20; importing www/js/*.js (no package.json there) as ES modules
# needs the module syntax detection of node 20.19 and later.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "setup: node $(node --version) is too old: the browser tests need node 20.19 or later" >&2
    exit 1
fi

want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat node_modules/.lockhash 2>/dev/null || true)
if [ "$want" != "$have" ] || [ ! -f node_modules/playwright-core/package.json ]; then
    echo "setup: npm ci (tests/browser)" >&2
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
    echo "$want" > node_modules/.lockhash
fi
