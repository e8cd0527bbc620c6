#!/usr/bin/env bash
# serve.sh — `make run`: Rose on http://127.0.0.1:$PORT with lighttpd in the
# foreground, data in ./data/run.  Ctrl-C stops it.
#
# App config: conf/rose.conf if you made one, else conf/rose.conf.example;
# keys from the environment (e.g. GROQ_API_KEY) override it.  With no keys,
# every role uses its offline engine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/server.sh"
dir=$top/data/run
mkdir -p "$dir"
src=$top/conf/rose.conf
[ -f "$src" ] || src=$top/conf/rose.conf.example
grep -vE '^(DATA_DIR|EMBEDDINGS_MODEL_PATH)=' "$src" > "$dir/rose.conf"
echo "DATA_DIR=$dir/data" >> "$dir/rose.conf"
echo "EMBEDDINGS_MODEL_PATH=$top/build/embed/rose-embed.bin" >> "$dir/rose.conf"
# Validate before starting so a bad value is reported here, in plain words.
if ! ROSE_CONF=$dir/rose.conf "$top/cgi-bin/health.fcgi" --check-config >/dev/null 2>"$dir/check.log"; then
    echo "Configuration error: $(ROSE_CONF=$dir/rose.conf "$top/cgi-bin/health.fcgi" --check-config 2>/dev/null)"
    exit 1
fi
echo "Rose on http://127.0.0.1:${PORT:-8080}  (config $src, data $dir/data, log $dir/error.log; Ctrl-C stops)"
ROSE_FOREGROUND=1 ROSE_PROCS=${ROSE_PROCS:-2} rose_server_start lighttpd "$dir" "${PORT:-8080}"
