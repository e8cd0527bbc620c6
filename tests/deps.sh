#!/bin/sh
# deps.sh PKG... — install the Debian packages that are missing.
# As root: apt-get installs them.  Otherwise: print the one line to run, fail.
set -eu
missing=""
for p in "$@"; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # Debian starts apache2 and lighttpd on install; Rose runs its own instances.
    for s in apache2 lighttpd; do
        if command -v service >/dev/null 2>&1; then service "$s" stop >/dev/null 2>&1 || true; fi
    done
else
    echo "deps: missing Debian packages. Run:"
    echo "  sudo apt-get install -y$missing"
    exit 1
fi
