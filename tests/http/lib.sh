# lib.sh — helpers for the HTTP tests (sourced by tests/http/t_*.sh).
#
# Each test script gets its own server (SERVER=lighttpd|apache) on a free
# loopback port with a fresh data folder, and prints TAP lines.
#
#   start_server [KEY=VALUE ...]   app config lines; starts the server
#   req METHOD PATH [curl args]    sets STATUS, and files $BODY and $HDRS
#   is / like / json_is / header_is / header_like / ok / not_ok  assertions
#   db SQL                         query the test database (sqlite3)
#   finish                         stops the server, checks its log, exits

set -uo pipefail
ROSE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROSE_TOP/tests/server.sh"

SERVER=${SERVER:-lighttpd}
T_N=0
T_FAILED=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rose-http.XXXXXX")
chmod 0755 "$T_DIR"
BODY=$T_DIR/body
HDRS=$T_DIR/headers
STATUS=0
PORT=
BASE=

ok() {
    T_N=$((T_N + 1))
    echo "ok $T_N - $*"
}

not_ok() {
    T_N=$((T_N + 1))
    T_FAILED=$((T_FAILED + 1))
    echo "not ok $T_N - $*"
}

# check COND-EXIT-STATUS DESCRIPTION [DIAGNOSTIC]
check() {
    local rc=$1 desc=$2
    if [ "$rc" -eq 0 ]; then ok "$desc"; else not_ok "$desc"; [ $# -gt 2 ] && echo "#   $3"; fi
}

start_server() {
    local line
    # Tests send far more than 10 requests a minute from 127.0.0.1; the
    # rate-limit test sets its own limits (a later line wins).
    printf 'RATE_LIMIT_PER_MINUTE=100000\nRATE_LIMIT_HEALTH_PER_MINUTE=100000\n' > "$T_DIR/rose.conf"
    for line in "$@"; do echo "$line" >> "$T_DIR/rose.conf"; done
    PORT=$(rose_free_port)
    BASE=http://127.0.0.1:$PORT
    rose_server_start "$SERVER" "$T_DIR" "$PORT"
}

stop_server() {
    rose_server_stop "$T_DIR"
}

# req METHOD PATH [curl args...]
req() {
    local method=$1 path=$2
    shift 2
    local how=(-X "$method") out=$BODY
    if [ "$method" = HEAD ]; then
        how=(-I)       # -X HEAD would wait for a body that never comes
        out=/dev/null  # -I writes the headers there; they are in $HDRS too
    fi
    rm -f "$BODY" "$HDRS"; touch "$BODY"
    STATUS=$(curl -s -o "$out" -D "$HDRS" -w '%{http_code}' "${how[@]}" "$@" "$BASE$path")
}

# The value of a response header (last one if repeated), without CR.
header() {
    grep -i "^$1:" "$HDRS" | tail -n 1 | sed -e 's/^[^:]*: *//' -e 's/\r$//'
}

header_count() {
    grep -ci "^$1:" "$HDRS"
}

# json EXPR: jq -r over the last body.
json() {
    jq -r "$1" "$BODY" 2>/dev/null
}

is() {     # is GOT WANT DESC
    if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; echo "#   got '$1', want '$2'"; fi
}

like() {   # like GOT REGEX DESC
    if printf '%s' "$1" | grep -qE -- "$2"; then ok "$3"; else not_ok "$3"; echo "#   '$1' !~ /$2/"; fi
}

unlike() { # unlike GOT REGEX DESC
    if printf '%s' "$1" | grep -qE -- "$2"; then not_ok "$3"; echo "#   '$1' =~ /$2/"; else ok "$3"; fi
}

status_is() { is "$STATUS" "$1" "$2 → $1"; }
json_is() { is "$(json "$1")" "$2" "$3"; }

# An error response: status, JSON error code, message, request_id = header.
error_is() {   # error_is STATUS CODE DESC
    local rid
    is "$STATUS" "$1" "$3: status $1"
    is "$(json .error)" "$2" "$3: error code $2"
    rid=$(header X-Request-ID)
    if [ -n "$(json .message)" ] && [ "$(json .request_id)" = "$rid" ] && [ -n "$rid" ]; then
        ok "$3: message and request_id"
    else
        not_ok "$3: message and request_id"; echo "#   body: $(head -c 300 "$BODY")"
    fi
    like "$(header Content-Type)" '^application/json' "$3: JSON content type"
}

db() {
    sqlite3 -batch -noheader "$T_DIR/data/rose.db" "$@"
}

# A fingerprint of every stored row, to prove a bad request changed nothing.
# Rate-limit windows and metrics change with every request by design, so
# they are left out.
db_fingerprint() {
    sqlite3 -batch "$T_DIR/data/rose.db" .dump 2>/dev/null | grep -v '^PRAGMA' |
        grep -vE '^INSERT INTO (rate_limits|metric_counters|metric_histograms) ' |
        sha256sum | cut -d' ' -f1
}

# Start a session; sets SID, UID_, TOKEN.
new_session() {
    req POST /api/v1/session/start -H 'Content-Type: application/json' -d '{}'
    SID=$(json .session_id)
    UID_=$(json .user_id)
    TOKEN=$(json .user_token)
}

finish() {
    local log=$T_DIR/error.log
    stop_server
    # Sanitizer reports or crashes of any worker fail the script.
    if [ -f "$log" ] && grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|LeakSanitizer' "$log"; then
        not_ok "no sanitizer report in the server log"
        grep -E -A5 'AddressSanitizer|runtime error:' "$log" | head -30 | sed 's/^/#   /'
    fi
    if [ "$T_FAILED" -gt 0 ]; then
        echo "# server log: $log"
        tail -n 20 "$log" 2>/dev/null | sed 's/^/#   /'
        exit 1
    fi
    rm -rf "$T_DIR"
    exit 0
}

# ---- the fake LLM (tests/fakes/fake_llm.py) ---------------------------------
#
#   start_fake_llm      starts it on a free port; sets FPORT and FAKE_URL (the
#                       LLM_BASE_URL to give Rose); stopped on exit
#   stop_fake_llm       stops it (idempotent; to test a refused connection too)
#   fake_script JSON    queues scripted steps (a JSON list)
#   fake_requests       prints the provider requests it received (JSON list)
#   fake_reset          empties its queue and its log
#   fake_completions    how many chat completion requests it received

FAKE_PID=
FPORT=
FAKE_URL=

# Every helper process a script starts (fakes, stand-ins) is tracked, so
# whatever way the script ends, on_exit stops them and the server: a fake left
# running would hold the runner's output pipe open and outlive the test.
T_BG=()
track_pid() { T_BG+=("$@"); }
on_exit() {
    local p
    for p in "${T_BG[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${T_BG[@]}"; do wait "$p" 2>/dev/null; done
    rose_server_stop "$T_DIR" 2>/dev/null
}
trap on_exit EXIT

start_fake_llm() {
    local i=0
    rm -f "$T_DIR/fake.port"
    python3 "$ROSE_TOP/tests/fakes/fake_llm.py" --port 0 --port-file "$T_DIR/fake.port" \
        2> "$T_DIR/fake.log" &
    FAKE_PID=$!
    track_pid "$FAKE_PID"
    while [ ! -s "$T_DIR/fake.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ -s "$T_DIR/fake.port" ] || return 1
    FPORT=$(cat "$T_DIR/fake.port")
    FAKE_URL=http://127.0.0.1:$FPORT/openai/v1
}

stop_fake_llm() {
    [ -n "$FAKE_PID" ] || return 0
    kill "$FAKE_PID" 2>/dev/null
    wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=
}

fake_script() {
    curl -s -o /dev/null -w '%{http_code}' --data-binary "$1" "http://127.0.0.1:$FPORT/_fake/script" |
        grep -qx 200
}

fake_requests() {
    curl -s "http://127.0.0.1:$FPORT/_fake/requests"
}

fake_reset() {
    curl -s -o /dev/null -X POST "http://127.0.0.1:$FPORT/_fake/reset"
}

fake_completions() {
    fake_requests | jq '[.[] | select(.path | endswith("/chat/completions"))] | length'
}

# sse_data EVENT: the data of every EVENT event of the last (SSE) body, one a line.
sse_data() {
    tr -d '\r' < "$BODY" |
        awk -v ev="$1" '/^event: /{e=substr($0,8)} /^data: /{if(e==ev)print substr($0,7)} /^$/{e=""}'
}

# worker_pids NAME: the pids of this server's NAME.fcgi workers (those whose
# environment has ROSE_CONF=$T_DIR/rose.conf; under Apache they run as www-data).
worker_pids() {
    local p
    for p in /proc/[0-9]*; do
        case "$(tr '\0' ' ' 2>/dev/null < "$p/cmdline")" in
        *"/$1.fcgi"*) ;;
        *) continue ;;
        esac
        if tr '\0' '\n' 2>/dev/null < "$p/environ" | grep -qxF "ROSE_CONF=$T_DIR/rose.conf"; then
            echo "${p#/proc/}"
        fi
    done
}

# db_fingerprint without the tables every request writes (rate_limits,
# metric_*): proves a refused request changed none of the stored data.
db_user_fingerprint() {
    local t
    for t in $(db "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'rate_limits'
                   AND name NOT LIKE 'metric\_%' ESCAPE '\' ORDER BY name"); do
        sqlite3 -batch "$T_DIR/data/rose.db" ".dump $t" 2>/dev/null
    done | grep -v '^PRAGMA' | sha256sum | cut -d' ' -f1
}

# ---- voice (t_voice*.sh) ---------------------------------------------------
#
#   voice SID FILE [curl args]   POST /api/v1/voice/process with FILE as the
#                                audio part, named recording.webm as the
#                                original web app names it (any format)
#   audio_files                  files under DATA_DIR/audio and tts-cache
#   start_fake_speech [ARGS]     starts tests/fakes/fake_speech.py with ARGS;
#                                sets SPORT; stopped on exit
#   speech_script JSON / speech_requests / speech_reset   as fake_script ...
#   speech_calls ROUTE           requests the fake received on ROUTE:
#                                transcriptions | elevenlabs | speech

voice() {
    local sid=$1 file=$2
    shift 2
    req POST /api/v1/voice/process -F "audio=@$file;filename=recording.webm" \
        -F "session_id=$sid" "$@"
}

audio_files() {
    find "$T_DIR/data/audio" "$T_DIR/data/tts-cache" -type f 2>/dev/null | wc -l
}

SPEECH_PID=
SPORT=

start_fake_speech() {
    local i=0
    rm -f "$T_DIR/speech.port"
    python3 "$ROSE_TOP/tests/fakes/fake_speech.py" --port 0 --port-file "$T_DIR/speech.port" \
        "$@" 2> "$T_DIR/speech.log" &
    SPEECH_PID=$!
    track_pid "$SPEECH_PID"
    while [ ! -s "$T_DIR/speech.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ -s "$T_DIR/speech.port" ] || return 1
    SPORT=$(cat "$T_DIR/speech.port")
}

stop_fake_speech() {
    [ -n "$SPEECH_PID" ] || return 0
    kill "$SPEECH_PID" 2>/dev/null
    wait "$SPEECH_PID" 2>/dev/null
    SPEECH_PID=
}

speech_script() {
    curl -s -o /dev/null -w '%{http_code}' --data-binary "$1" \
        "http://127.0.0.1:$SPORT/_fake/script" | grep -qx 200
}

speech_requests() {
    curl -s "http://127.0.0.1:$SPORT/_fake/requests"
}

speech_reset() {
    curl -s -o /dev/null -X POST "http://127.0.0.1:$SPORT/_fake/reset"
}

speech_calls() {
    local re
    case $1 in
    transcriptions) re='/audio/transcriptions$' ;;
    elevenlabs) re='^/v1/text-to-speech/' ;;
    speech) re='/audio/speech$' ;;
    esac
    speech_requests | jq --arg re "$re" '[.[] | select(.path | test($re))] | length'
}
