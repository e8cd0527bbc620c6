#!/usr/bin/env bash
# Configuration validation as an operator meets it: `--check-config`, a
# worker that refuses to start on a bad value (one log line naming the key),
# secrets from files.
. "$(dirname "$0")/lib.sh"
BIN=$ROSE_TOP/cgi-bin/health.fcgi

check_conf() {   # check_conf WANT_RC WANT_REGEX DESC (config in $T_DIR/c.conf)
    local out rc
    out=$(env -i PATH="$PATH" ROSE_CONF="$T_DIR/c.conf" "$BIN" --check-config 2>/dev/null)
    rc=$?
    is "$rc" "$1" "$3: exit status"
    like "$out" "$2" "$3: message"
}

cp "$ROSE_TOP/conf/rose.conf.example" "$T_DIR/c.conf"
check_conf 0 '^configuration ok$' "the example configuration"
echo "MEMORY_TOP_K=99" >> "$T_DIR/c.conf"
check_conf 1 '^MEMORY_TOP_K=99: must be 1\.\.20 \(config line [0-9]+\)$' "MEMORY_TOP_K out of range"
printf 'SUMMARY_TRIGGER=5\nSUMMARY_KEEP=5\n' > "$T_DIR/c.conf"
check_conf 1 '^SUMMARY_KEEP=5: must be less than SUMMARY_TRIGGER' "cross-key rule"
printf 'LOG_LEVL=info\n' > "$T_DIR/c.conf"
check_conf 1 "unknown key 'LOG_LEVL'" "a misspelt key"
printf 'LLM_BASE_URL=ftp://example.org\n' > "$T_DIR/c.conf"
check_conf 1 '^LLM_BASE_URL=ftp://example.org: must be an http:// or https:// URL' "a bad URL"
out=$(env -i PATH="$PATH" MEMORY_TOP_K=0 "$BIN" --check-config 2>/dev/null)
like "$out" '^MEMORY_TOP_K=0: must be 1\.\.20 \(environment\)$' "the environment is validated too"

# Secrets from files: only private files are accepted, and never echoed.
printf 'sk-secret-value-123\n' > "$T_DIR/key"
chmod 0644 "$T_DIR/key"
printf 'GROQ_API_KEY_FILE=%s\n' "$T_DIR/key" > "$T_DIR/c.conf"
check_conf 1 'GROQ_API_KEY_FILE=.*must not be readable by group or others \(chmod 600\)' "a world-readable key file"
chmod 0600 "$T_DIR/key"
check_conf 0 '^configuration ok$' "a private key file"

# A bad value stops every worker at start with one JSON log line naming the
# key.  lighttpd then either refuses to start or (when a worker exits after
# its start-up check) runs and answers every request with an error: either
# way nothing is served by a half-configured worker.
PORT=$(rose_free_port)
BASE=http://127.0.0.1:$PORT
printf 'MEMORY_TOP_K=99\n' > "$T_DIR/rose.conf"
if rose_server_start lighttpd "$T_DIR" "$PORT" > /dev/null 2>&1; then
    req GET /api/v1/health
    like "$STATUS" '^5[0-9][0-9]$' "no request is served with a bad configuration"
else
    ok "no request is served with a bad configuration (lighttpd refused to start)"
fi
line=$(grep -o '{"ts".*config_invalid.*}' "$T_DIR/error.log" | head -n 1)
# Whichever worker starts first writes the first line (health, session...).
like "$line" '"detail":"[a-z]+: MEMORY_TOP_K=99: must be 1\.\.20 \(config line 1\)"' \
    "the log line names the key and the range"
is "$(printf '%s' "$line" | jq -r .level)" error "the log line is JSON at level error"
rose_server_stop "$T_DIR"

# With the key file in place, the hosted provider shows in health and the
# key itself appears nowhere.
printf 'GROQ_API_KEY_FILE=%s\n' "$T_DIR/key" > "$T_DIR/rose.conf"
start_server "GROQ_API_KEY_FILE=$T_DIR/key" || { not_ok "server starts with a key file"; finish; }
req GET /api/v1/health
json_is .services.llm.provider groq "key from file configures the LLM"
if grep -rq sk-secret-value-123 "$BODY" "$T_DIR/error.log"; then not_ok "key never in answers or logs"; else ok "key never in answers or logs"; fi
finish
