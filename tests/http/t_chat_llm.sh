#!/usr/bin/env bash
# POST /chat through the fake Groq server (tests/fakes/fake_llm.py): the
# prompt Rose sends, streaming, every provider fault, idempotent retries and
# summarization.  Each fault must give its defined outcome and lose nothing.
. "$(dirname "$0")/lib.sh"

JSON_CT='Content-Type: application/json'
# Phrases of lib/pipeline/persona.c: the character card and the summary prompt.
CARD_PHRASE='You are Rose, a healer shaman'
SUMMARY_PHRASE='You keep the running summary of a conversation'

# chat SID MESSAGE [curl args...]
chat() {
    local sid=$1 msg=$2
    shift 2
    req POST /api/v1/chat -H "$JSON_CT" \
        --data-binary "$(jq -cn --arg s "$sid" --arg m "$msg" '{session_id: $s, message: $m}')" "$@"
}

# answer JQ: a field of the answer, from the JSON body or the SSE done event.
answer() {
    if grep -q '^event: ' "$BODY"; then sse_data done | jq -r "$1"; else json "$1"; fi
}

# The session's stored messages, one a line: id|role|hex(text)|created_at.
rows() {
    db "SELECT id || '|' || role || '|' || hex(text) || '|' || created_at FROM messages
        WHERE session_id = '$1' ORDER BY id"
}

hex() {
    printf %s "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F
}

# rows_after DESC SID BEFORE MESSAGE ANSWER: the rows in BEFORE are still
# there, row by row; the turn's own two rows follow only when ANSWER is set.
rows_after() {
    local desc=$1 sid=$2 before=$3 msg=$4 ans=$5 now n
    now=$(rows "$sid")
    n=$(printf '%s' "$before" | grep -c '^')
    is "$(printf '%s\n' "$now" | head -n "$n")" "$before" "$desc: the $n earlier messages intact"
    if [ -n "$ans" ]; then
        is "$(printf '%s\n' "$now" | tail -n +$((n + 1)) | cut -d'|' -f2,3)" \
            "$(printf 'user|%s\nassistant|%s' "$(hex "$msg")" "$(hex "$ans")")" \
            "$desc: the turn's two messages stored"
    else
        is "$(printf '%s\n' "$now" | tail -n +$((n + 1)))" "" "$desc: nothing of the turn stored"
    fi
    is "$(db "SELECT message_count FROM sessions WHERE id = '$sid'")" \
        "$(db "SELECT count(*) FROM messages WHERE session_id = '$sid'")" "$desc: message_count agrees"
}

# The n-th (0-based; -1 the last) chat completion request the fake received.
fake_req() {
    fake_requests | jq -c "[.[] | select(.path | endswith(\"/chat/completions\"))][$1].body"
}

# How many requests for a reply (not a summary: those use the small model)
# the fake received.
reply_calls() {
    fake_requests | jq '[.[] | select(.body.model == "llama-3.3-70b-versatile")] | length'
}

# fallback_case DESC STEP CALLS [curl args]: the LLM fails before a word was
# sent, on every attempt (STEP is scripted $ATTEMPTS times), so the offline
# companion answers (200, fallback) and the turn is kept.  CALLS: how many
# attempts the fault allows ($ATTEMPTS when it is retryable, 1 when not;
# "" when the fake is not the one answering).  STEP "": whatever serves the
# fake's port now fails by itself.
fallback_case() {
    local desc=$1 step=$2 calls=$3 before msg t0 secs
    shift 3
    if [ -n "$step" ]; then
        fake_reset
        fake_script "$(jq -cn --argjson s "$step" --argjson n "$ATTEMPTS" '[range($n)] | map($s)')" ||
            not_ok "$desc: script the fake"
    fi
    before=$(rows "$SID")
    msg="Fault case: $desc"
    t0=$(date +%s)
    chat "$SID" "$msg" "$@"
    secs=$(($(date +%s) - t0))
    status_is 200 "$desc"
    is "$(answer .engine)/$(answer .fallback)" offline/true "$desc: the offline companion answers, fallback true"
    like "$(answer .text)" '[[:alpha:]]{2}' "$desc: a reply"
    if [ -n "$calls" ]; then
        is "$(reply_calls)" "$calls" "$desc: the LLM was asked $calls time(s)"
    fi
    [ "$secs" -lt 15 ]; check $? "$desc: answered in time (${secs}s)"
    rows_after "$desc" "$SID" "$before" "$msg" "$(answer .text)"
}

# retry_case DESC STEP [curl args]: the LLM fails once, the retry answers.
retry_case() {
    local desc=$1 step=$2 before msg
    shift 2
    fake_reset
    fake_script "[$step]" || not_ok "$desc: script the fake"
    before=$(rows "$SID")
    msg="Retry case: $desc"
    chat "$SID" "$msg" "$@"
    status_is 200 "$desc"
    is "$(answer .engine)/$(answer .fallback)" llm/null "$desc: the LLM answers after all"
    is "$(answer .text)" "I hear you. You said: ${msg:0:40}" "$desc: with the fake's reply"
    is "$(reply_calls)" 2 "$desc: the LLM was asked twice"
    rows_after "$desc" "$SID" "$before" "$msg" "$(answer .text)"
}

# A short provider timeout, for the stall; two attempts per call, without
# back-off; a circuit breaker that never opens (it would stop the fake from
# being asked at all: lib/resilience has its own tests).
ATTEMPTS=2
start_fake_llm || { not_ok "the fake LLM starts"; finish; }
start_server LONG_TERM_MEMORY=off "LLM_BASE_URL=$FAKE_URL" LLM_API_KEY=test-key PROVIDER_TIMEOUT_SECONDS=2 \
    RETRY_MAX_ATTEMPTS=$ATTEMPTS RETRY_BASE_DELAY_MS=0 CIRCUIT_BREAKER_FAILURE_THRESHOLD=1000 ||
    { not_ok "server starts"; finish; }
new_session
status_is 200 "a session"
MAIN_SID=$SID

# ---- a plain reply and the prompt behind it --------------------------------
said=("Hello Rose" "My name is Sarah" "The garden is full of weeds")
replies=()
for i in 0 1 2; do
    fake_reset
    chat "$SID" "${said[$i]}"
    status_is 200 "turn $((i + 1))"
    replies[$i]=$(json .text)
    is "${replies[$i]}" "I hear you. You said: ${said[$i]}" "turn $((i + 1)): the reply is the fake's text"
    req_body=$(fake_req -1)
    is "$(jq -r '.messages[-1].content' <<< "$req_body")" "${said[$i]}" "turn $((i + 1)): the fake got the message last"
done
json_is .engine llm "engine llm"
json_is .fallback null "not a fallback"
is "$(fake_completions)" 1 "one completion per turn"
is "$(fake_requests | jq -r '.[0].auth')" ok "the API key is sent as a Bearer"
is "$(jq -r .model <<< "$req_body")" llama-3.3-70b-versatile "model llama-3.3-70b-versatile"
is "$(jq -r '.stream // false' <<< "$req_body")" false "not streamed"
is "$(jq -r '.messages[0].role' <<< "$req_body")" system "the first message is the system prompt"
like "$(jq -r '.messages[0].content' <<< "$req_body")" "$CARD_PHRASE" "the system prompt is Rose's character card"
is "$(jq -r '[.messages[1:][] | .role + ":" + .content] | join("\n")' <<< "$req_body")" \
    "$(printf 'user:%s\nassistant:%s\nuser:%s\nassistant:%s\nuser:%s' "${said[0]}" "${replies[0]}" \
        "${said[1]}" "${replies[1]}" "${said[2]}")" \
    "the earlier turns in order, the user message last"
is "$(jq -r '[.messages[] | select(.role == "system")] | length' <<< "$req_body")" 1 "one system message"
like "$(jq -r '.messages[0].content' <<< "$req_body")" "name is Sarah" "the name, once known, is in the system prompt"
chat "$SID" "What do you plant in spring?"
like "$(fake_req -1 | jq -r '.messages[0].content')" "name is Sarah" "... and stays there"
fake_reset
new_session
chat "$SID" "Hello there"
unlike "$(fake_req -1 | jq -r '.messages[0].content')" "name is" "a stranger's system prompt names no one"
SID=$MAIN_SID

# Markup is stripped from what Rose says.
fake_reset
fake_script '[{"reply": "## Rest\n**Breathe** slowly, friend. *smiles*\n- Let it go."}]'
chat "$SID" "I feel tense"
status_is 200 "a reply with markdown"
unlike "$(json .text)" '[*#]|^- | - ' "no asterisks, heading marks or bullets in the reply"
unlike "$(json .text)" 'smiles' "no stage directions"
like "$(json .text)" 'Breathe slowly, friend\. Let it go\.$' "the words remain"
is "$(db "SELECT text FROM messages WHERE session_id = '$SID' ORDER BY id DESC LIMIT 1")" "$(json .text)" \
    "the stored reply is the stripped one"

# ---- streaming --------------------------------------------------------------
reply="Hello, Sarah. The river is high today, and the willows lean over it."
fake_reset
fake_script "$(jq -cn --arg r "$reply" '[{split: true, reply: $r}]')"
before=$(rows "$SID")
chat "$SID" "Tell me about your day" -H 'Accept: text/event-stream'
status_is 200 "a streamed turn"
like "$(header Content-Type)" '^text/event-stream' "SSE content type"
is "$(sse_data token | jq -c .text)" \
    "$(python3 -c 'import json, re, sys
for t in re.findall(r"\s*\w+|\s*[^\w\s]|\s+$", sys.argv[1]): print(json.dumps(t))' "$reply")" \
    "tokens arrive in order, as the fake sent them"
is "$(sse_data token | jq -j .text)" "$reply" "the tokens make the reply"
is "$(sse_data done | jq -r .text)" "$reply" "done text = the tokens concatenated"
is "$(sse_data done | jq -r .engine)" llm "done: engine llm"
is "$(sse_data error | wc -l)" 0 "no error event"
is "$(fake_req -1 | jq -r .stream)" true "the fake was asked for a stream"
rows_after "streamed turn" "$SID" "$before" "Tell me about your day" "$reply"

# ---- a passing fault: the retry answers ---------------------------------------
retry_case "500 once" '{"status": 500}'
t0=$(date +%s%N)
retry_case "429 once, retry-after 1" '{"status": 429, "retry_after": 1}'
[ $(($(date +%s%N) - t0)) -ge 1000000000 ]; check $? "429 once: Rose waited the second it asked for"
retry_case "503 once, streaming" '{"status": 503}' -H 'Accept: text/event-stream'

# ---- faults before any word, on every attempt: the offline companion answers ---
fallback_case "429 with retry-after" '{"status": 429, "retry_after": 1}' "$ATTEMPTS"
fallback_case "500" '{"status": 500}' "$ATTEMPTS"
fallback_case "503" '{"status": 503}' "$ATTEMPTS"
fallback_case "401 (a wrong key; not retried)" '{"status": 401}' 1
fallback_case "malformed JSON (not retried)" '{"malformed": true}' 1
fallback_case "stall past PROVIDER_TIMEOUT_SECONDS" '{"stall": 30}' "$ATTEMPTS"
fallback_case "503, streaming" '{"status": 503}' "$ATTEMPTS" -H 'Accept: text/event-stream'
is "$(sse_data token | jq -j .text)" "$(sse_data done | jq -r .text)" "503, streaming: the offline words are streamed"
fallback_case "malformed chunk, streaming" '{"malformed": true}' "" -H 'Accept: text/event-stream'
fallback_case "stream cut before any word" '{"cut": true, "reply": ""}' "" -H 'Accept: text/event-stream'
fallback_case "stall, streaming" '{"stall": 30}' "$ATTEMPTS" -H 'Accept: text/event-stream'

# ---- a stream cut after words: an error event, nothing stored ----------------
fake_reset
fake_script '[{"cut": true, "reply": "The willow bends but it does not break, and neither will you."}]'
before=$(rows "$SID")
ckpt_before=$(db "SELECT count(*) FROM checkpoints WHERE thread_id = '$SID' AND node = 'memory_inject'")
chat "$SID" "Will this pain pass?" -H 'Accept: text/event-stream'
status_is 200 "a stream cut midway: the stream had begun"
[ "$(sse_data token | wc -l)" -ge 1 ]; check $? "some tokens arrived before the cut"
is "$(sse_data done | wc -l)" 0 "no done event"
is "$(sse_data error | jq -r .error)" upstream_error "an error event: upstream_error"
like "$(sse_data error | jq -r .message)" '[[:alpha:]]' "the error event has a message"
is "$(sse_data error | jq -r .request_id)" "$(header X-Request-ID)" "the error event has the request id"
is "$(reply_calls)" 1 "words already sent: no retry"
is "$(tr -d '\r' < "$BODY" | grep '^event: ' | tail -n 1)" "event: error" "the error event is the last"
rows_after "stream cut after words" "$SID" "$before" "" ""
is "$(db "SELECT count(*) FROM checkpoints WHERE thread_id = '$SID' AND node = 'memory_inject'")" "$ckpt_before" \
    "stream cut after words: no completed-turn checkpoint"
# The next turn starts from the last good state: the cut message is not in its prompt.
fake_reset
chat "$SID" "Sorry, where were we?"
status_is 200 "the next turn after a cut"
is "$(fake_req -1 | jq '[.messages[] | select(.content == "Will this pain pass?")] | length')" 0 \
    "the cut turn is not in the next prompt"

# ---- Idempotency-Key: the provider is called once ----------------------------
# A fresh session, so that no summary request joins the fake's log.
new_session
fake_reset
key="idem-$(date +%s%N)"
chat "$SID" "I planted lavender" -H "Idempotency-Key: $key"
status_is 200 "a turn with an Idempotency-Key"
first=$(json .text)
n_rows=$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")
chat "$SID" "I planted lavender" -H "Idempotency-Key: $key"
status_is 200 "the same key again"
is "$(header Idempotent-Replayed)" true "Idempotent-Replayed: true"
is "$(json .text)" "$first" "the same answer"
is "$(fake_completions)" 1 "the fake was called once"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")" "$n_rows" "no new messages"

# A key still being answered: 409, then the first answer once it is done.
fake_reset
fake_script '[{"delay_ms": 1500}]'
key="busy-$(date +%s%N)"
curl -s -o "$T_DIR/bg.body" -w '%{http_code}' -X POST -H "$JSON_CT" -H "Idempotency-Key: $key" \
    --data-binary "$(jq -cn --arg s "$SID" '{session_id: $s, message: "A slow one"}')" \
    "$BASE/api/v1/chat" > "$T_DIR/bg.status" &
bg=$!
for i in $(seq 1 50); do [ "$(fake_completions)" -ge 1 ] && break; sleep 0.1; done
chat "$SID" "A slow one" -H "Idempotency-Key: $key"
error_is 409 conflict "the same key while the first is still running"
wait "$bg"
is "$(cat "$T_DIR/bg.status")" 200 "the first request is answered"
chat "$SID" "A slow one" -H "Idempotency-Key: $key"
is "$STATUS/$(header Idempotent-Replayed)" 200/true "then the key replays"
is "$(json .text)" "$(jq -r .text "$T_DIR/bg.body")" "... the first answer"
is "$(fake_completions)" 1 "the fake was called once for the three requests"

# A turn that failed gives its key back: a retry runs it.
fake_reset
fake_script '[{"cut": true, "reply": "Some words and then nothing more at all."}]'
key="failed-$(date +%s%N)"
chat "$SID" "Are you there?" -H "Idempotency-Key: $key" -H 'Accept: text/event-stream'
is "$(sse_data error | jq -r .error)" upstream_error "a failed turn with a key"
is "$(db "SELECT count(*) FROM idempotency WHERE session_id = '$SID' AND key = '$key'")" 0 "its key is released"
chat "$SID" "Are you there?" -H "Idempotency-Key: $key"
status_is 200 "the retry with the same key"
is "$(header Idempotent-Replayed)" "" "runs again (not a replay)"
is "$(json .engine)" llm "... through the LLM"
is "$(fake_completions)" 2 "the fake saw both attempts"

# ---- summarization ------------------------------------------------------------
# SUMMARY_TRIGGER=20, SUMMARY_KEEP=5 (defaults): 25 messages, then a 26th.
new_session
S_SID=$SID S_TOKEN=$TOKEN
fake_reset
sent=() got=()
for i in $(seq 1 26); do
    sent[$i]="Garden note $i: today I watered row $i of the beans"
    chat "$S_SID" "${sent[$i]}"
    [ "$STATUS" = 200 ] || { not_ok "summarization: turn $i → $STATUS"; break; }
    got[$i]=$(json .text)
    [ "$i" = 25 ] && log25=$(fake_requests | jq length)
done
is "$STATUS" 200 "26 turns answered"
summaries=$(fake_requests | jq -c '[.[] | select(.body.messages[0].content | contains("'"$SUMMARY_PHRASE"'"))]')
n_sum=$(jq length <<< "$summaries")
[ "$n_sum" -ge 1 ]; check $? "the fake was asked for summaries ($n_sum)"
s1=$(jq -c '.[0].body' <<< "$summaries")
is "$(jq -r .model <<< "$s1")" llama-3.1-8b-instant "summaries use the small model"
is "$(jq -r '.messages | map(.role) | join(",")' <<< "$s1")" system,user "summary request: system and user"
like "$(jq -r '.messages[1].content' <<< "$s1")" '[Ss]ummari[sz]e' "summary request: the user content asks to summarize"
like "$(jq -r '.messages[1].content' <<< "$s1")" "${sent[1]}" "summary request: it holds the first message"
last=$(fake_requests | jq -c '.[-1].body')
is "$(fake_requests | jq length)" "$((log25 + 1))" "the 26th turn made one request"
is "$(jq -r '.messages[-1].content' <<< "$last")" "${sent[26]}" "26th request: the 26th message last"
like "$(jq -r '.messages[0].content' <<< "$last")" "$CARD_PHRASE" "26th request: the character card"
summary=$(db "SELECT summary FROM sessions WHERE id = '$S_SID'")
like "$summary" '^Summary: ' "the session's summary is the fake's"
like "$(jq -r '.messages[0].content' <<< "$last")" "Summary: [0-9]+ messages so far" "26th request: the summary in the system prompt"
is "$(jq -r '.messages[0].content | contains($s)' --arg s "$summary" <<< "$last")" true \
    "26th request: the latest summary, word for word"
is "$(jq --arg f "${sent[1]}" '[.messages[1:][] | select(.content == $f)] | length' <<< "$last")" 0 \
    "26th request: the first message is not in it"
n_msgs=$(jq '.messages | length' <<< "$last")
[ "$n_msgs" -le 22 ]; check $? "26th request: only recent messages ($n_msgs, not 52)"
is "$(jq -r '[.messages[1:][] | .role + ":" + .content] | join("\n")' <<< "$last")" \
    "$(for i in $(seq 1 25); do printf 'user:%s\nassistant:%s\n' "${sent[$i]}" "${got[$i]}"; done |
        tail -n $((n_msgs - 2)); printf 'user:%s' "${sent[26]}")" \
    "26th request: the recent messages are the latest of the transcript, in order"
req GET "/api/v1/session/$S_SID" -H "Authorization: Bearer $S_TOKEN"
like "$(json .summary)" '^Summary: ' "GET /session/{id}: summary"
json_is .message_count 52 "GET /session/{id}: message_count 52"
req GET "/api/v1/session/$S_SID/messages" -H "Authorization: Bearer $S_TOKEN"
is "$(json '.messages[] | .role + ":" + .text')" \
    "$(for i in $(seq 1 26); do printf 'user:%s\nassistant:%s\n' "${sent[$i]}" "${got[$i]}"; done)" \
    "the transcript holds all 26 messages and 26 replies, in order"
[ "$(db "SELECT count(*) FROM checkpoints WHERE thread_id = '$S_SID' AND node = 'summarize'")" -ge 1 ]
check $? "summarize checkpoints"

# ---- the provider gone: connection refused -------------------------------------
SID=$MAIN_SID
stop_fake_llm
fallback_case "connection refused" "" ""

# ---- a plain reply cut midway ----------------------------------------------------
# fake_llm.py cuts only streams, so a stand-in on the same port promises a
# Content-Length and closes early.  FAKE_PID: stop_fake_llm (or on_exit) stops it.
python3 - "$FPORT" "$T_DIR/cut.log" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Cut(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(sys.argv[2], "a") as log:
            log.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "400")
        self.end_headers()
        self.wfile.write(b'{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,'
                         b'"message":{"role":"assistant","content":"Hello')
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Cut).serve_forever()
PY
FAKE_PID=$!
track_pid "$FAKE_PID"
for i in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$FPORT/" && break; sleep 0.1; done
fallback_case "a plain reply cut midway" "" ""
is "$(head -n 1 "$T_DIR/cut.log" 2>/dev/null)" /openai/v1/chat/completions "the stand-in was asked"
stop_fake_llm

is "$(db "PRAGMA integrity_check")" ok "database integrity"
finish
