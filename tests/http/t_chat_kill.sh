#!/usr/bin/env bash
# SIGKILL the chat workers in the middle of a turn (the fake LLM stalls), then
# talk on: no earlier message is lost, the killed turn left nothing, the
# database is sound and the web server brings the workers back.
. "$(dirname "$0")/lib.sh"

JSON_CT='Content-Type: application/json'

chat() {   # chat MESSAGE [curl args...]
    local msg=$1
    shift
    req POST /api/v1/chat -H "$JSON_CT" \
        --data-binary "$(jq -cn --arg s "$SID" --arg m "$msg" '{session_id: $s, message: $m}')" "$@"
}

# The session's stored messages, one a line: id|role|hex(text)|created_at.
rows() {
    db "SELECT id || '|' || role || '|' || hex(text) || '|' || created_at FROM messages
        WHERE session_id = '$SID' ORDER BY id"
}

# Is any of the pids still running?  A zombie (killed, not yet reaped by the
# web server) counts as gone.
running() {
    local p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && return 0
    done
    return 1
}

# kill_mid_turn MESSAGE [curl args...]: send MESSAGE in the background while
# the fake stalls, SIGKILL every chat worker once the fake has the request,
# and wait for the client.  Sets KILLED (the pids); the client's answer is in
# $T_DIR/killed.{code,body}.
kill_mid_turn() {
    local msg=$1 bg i
    shift
    fake_reset
    fake_script '[{"stall": 30}]'
    curl -s --max-time 25 -o "$T_DIR/killed.body" -w '%{http_code}' -X POST -H "$JSON_CT" "$@" \
        --data-binary "$(jq -cn --arg s "$SID" --arg m "$msg" '{session_id: $s, message: $m}')" \
        "$BASE/api/v1/chat" > "$T_DIR/killed.code" &
    bg=$!
    for i in $(seq 1 100); do [ "$(fake_completions)" -ge 1 ] && break; sleep 0.05; done
    KILLED=$(worker_pids chat | tr '\n' ' ')
    [ -n "$KILLED" ] && kill -9 $KILLED
    wait "$bg"
    for i in $(seq 1 50); do running $KILLED || break; sleep 0.05; done
    fake_reset
    # With every worker of a route dead, lighttpd answers 503 until its
    # once-a-second maintenance has spawned new ones (seen: up to 3 s);
    # Apache spawns on demand.  A GET is refused 405 by a live worker.
    RESPAWNED=
    for i in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/chat")" = 405 ] && { RESPAWNED=1; break; }
        sleep 0.05
    done
}

start_fake_llm || { not_ok "the fake LLM starts"; finish; }
# WORKFLOW_TIMEOUT_SECONDS also says when an idempotency claim of a dead worker
# may be taken over; keep it short so the test can see both sides of it.
start_server LONG_TERM_MEMORY=off "LLM_BASE_URL=$FAKE_URL" LLM_API_KEY=test-key WORKFLOW_TIMEOUT_SECONDS=12 ||
    { not_ok "server starts"; finish; }
new_session
for m in "My name is Sarah" "My mother passed away last spring" "I keep thinking about mom"; do
    chat "$m"
    status_is 200 "before the kill: '$m'"
done
before=$(rows)
is "$(printf '%s\n' "$before" | wc -l)" 6 "six messages stored before the kill"
last_done=$(db "SELECT checkpoint_id FROM checkpoints WHERE thread_id = '$SID' AND node = 'memory_inject'
                ORDER BY rowid DESC LIMIT 1")

# ---- kill during a JSON turn ------------------------------------------------
kill_mid_turn "This turn dies"
[ -n "$KILLED" ]; check $? "found the chat workers ($KILLED)"
code=$(cat "$T_DIR/killed.code")
unlike "$code" '^2' "the client of the killed turn gets no success (HTTP $code)"
! running $KILLED; check $? "the killed workers are gone"
[ -n "$RESPAWNED" ]; check $? "the web server brings chat workers back"

chat "After the storm"
status_is 200 "the next message is answered"
json_is .engine llm "... by the LLM, not a fallback"
json_is .text "I hear you. You said: After the storm" "... with the fake's reply"
after=$(rows)
is "$(printf '%s\n' "$after" | head -n 6)" "$before" "every earlier message is intact, row by row"
is "$(printf '%s\n' "$after" | wc -l)" 8 "the killed turn left no messages; the next turn's two are there"
is "$(db "SELECT count(*) FROM messages WHERE text = 'This turn dies'")" 0 "the killed message is not stored"
is "$(db "SELECT message_count FROM sessions WHERE id = '$SID'")" 8 "message_count 8"
is "$(db "SELECT parent_checkpoint_id FROM checkpoints WHERE thread_id = '$SID' AND node = 'router'
          ORDER BY rowid DESC LIMIT 1")" "$last_done" "the next turn continues from the last completed one"
prompt=$(fake_requests | jq -c '.[-1].body.messages')
is "$(jq '[.[] | select(.content == "This turn dies")] | length' <<< "$prompt")" 0 \
    "the killed message is not in the next prompt"
is "$(jq '[.[] | select(.content == "I keep thinking about mom")] | length' <<< "$prompt")" 1 \
    "the earlier messages are"
req GET "/api/v1/session/$SID/messages" -H "Authorization: Bearer $TOKEN"
is "$(json '.messages[] | .role + "|" + .text')" \
    "$(db "SELECT role || '|' || text FROM messages WHERE session_id = '$SID' ORDER BY id")" \
    "the transcript route shows the stored rows"
is "$(db "PRAGMA integrity_check")" ok "integrity_check ok"
new_pids=$(worker_pids chat | tr '\n' ' ')
[ -n "$new_pids" ]; check $? "the web server started new chat workers ($new_pids)"

# ---- kill during a streamed turn with an Idempotency-Key ------------------------
before=$(rows)
key="kill-$(date +%s%N)"
t0=$(date +%s.%N)
kill_mid_turn "This stream dies" -H 'Accept: text/event-stream' -H "Idempotency-Key: $key"
[ -n "$KILLED" ]; check $? "found the chat workers again ($KILLED)"
[ -n "$RESPAWNED" ]; check $? "the web server brings chat workers back again"
if grep -q '^event: done' "$T_DIR/killed.body"; then
    not_ok "the killed stream has no done event"
else
    ok "the killed stream has no done event (HTTP $(cat "$T_DIR/killed.code"))"
fi
# The dead worker's claim on the key holds until it is WORKFLOW_TIMEOUT_SECONDS old.
chat "This stream dies" -H "Idempotency-Key: $key"
error_is 409 conflict "the key of the killed turn, at once"
is "$(fake_requests | jq length)" 0 "... calls no provider"
sleep "$(awk -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN { d = 13 - (now - t0); print (d > 0 ? d : 0) }')"
chat "This stream dies" -H "Idempotency-Key: $key"
status_is 200 "the key again once the dead claim is stale"
is "$(header Idempotent-Replayed)" "" "... runs the turn (not a replay)"
json_is .text "I hear you. You said: This stream dies" "... through the LLM"
chat "This stream dies" -H "Idempotency-Key: $key"
is "$STATUS/$(header Idempotent-Replayed)" 200/true "and then replays"
is "$(fake_completions)" 1 "the provider was asked once after the kill"
after=$(rows)
is "$(printf '%s\n' "$after" | head -n 8)" "$before" "every earlier message is intact, row by row"
is "$(printf '%s\n' "$after" | wc -l)" 10 "the message is stored once"
is "$(db "PRAGMA integrity_check")" ok "integrity_check ok"

# The server keeps serving.
req GET /api/v1/health
status_is 200 "health"
chat "Thank you"
status_is 200 "another turn"
req GET "/api/v1/session/$SID" -H "Authorization: Bearer $TOKEN"
json_is .message_count 12 "message_count 12"
finish
