#!/usr/bin/env bash
# POST /chat with no LLM key (the offline companion answers): validation,
# a conversation, its transcript and checkpoints, SSE, idempotent retries.
. "$(dirname "$0")/lib.sh"

RFC3339_RE='^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
JSON_CT='Content-Type: application/json'

# chat BODY [curl args...]: POST /api/v1/chat with a JSON body.
chat() {
    local body=$1
    shift
    req POST /api/v1/chat -H "$JSON_CT" --data-binary "$body" "$@"
}

# The body {session_id, message} with message given as raw JSON.
chat_body() {
    printf '{"session_id":"%s","message":%s}' "$1" "$2"
}

# transcript SID TOKEN: GET /session/{id}/messages.
transcript() {
    req GET "/api/v1/session/$1/messages" -H "Authorization: Bearer $2"
}

start_server || { not_ok "server starts"; finish; }

new_session
OTHER_TOKEN=$TOKEN
new_session
status_is 200 "a session to talk in"

# ---- bad requests: each is refused and nothing is stored ----------------
before=$(db_user_fingerprint)
chat '{"message":"hello"}'
error_is 400 missing_field "no session_id"
chat "{\"session_id\":\"$SID\"}"
error_is 400 missing_field "no message"
chat "{\"session_id\":\"$SID\",\"message\":null}"
error_is 400 missing_field "message null"
chat "$(chat_body "$SID" '""')"
error_is 400 empty "message \"\""
chat "$(chat_body "$SID" '"   "')"
error_is 400 empty "message of spaces"
chat "$(chat_body "$SID" '" \t\n\r "')"
error_is 400 empty "message of white space"
chat "$(chat_body "$SID" "\"$(head -c 4001 /dev/zero | tr '\0' a)\"")"
error_is 413 payload_too_large "message of 4001 bytes"
chat "$(chat_body "$SID" "\"$(head -c 3997 /dev/zero | tr '\0' a)🌹\"")"
error_is 413 payload_too_large "message of 4001 bytes ending in a 4-byte character"
chat "$(chat_body "$SID" "\"$(head -c 3997 /dev/zero | tr '\0' a)\\ud83c\\udf39\"")"
error_is 413 payload_too_large "4001 bytes once \\u escapes are decoded"
chat "$(chat_body "$SID" '"a\u0000b"')"
error_is 400 invalid_field "message with a NUL"
chat "$(chat_body not-a-uuid '"hello"')"
error_is 400 invalid_field "session_id not a UUID"
chat "$(chat_body "$SID-x" '"hello"')"
error_is 400 invalid_field "session_id with a tail"
chat "$(chat_body 00000000-0000-4000-8000-000000000000 '"hello"')"
error_is 404 not_found "an unknown session"
chat '{"session_id":123,"message":"hello"}'
error_is 400 invalid_field "session_id a number"
chat "$(chat_body "$SID" 42)"
error_is 400 invalid_field "message a number"
chat "$(chat_body "$SID" '["hello"]')"
error_is 400 invalid_field "message an array"
chat "$(chat_body "$SID" '{"text":"hello"}')"
error_is 400 invalid_field "message an object"
chat "{\"session_id\":\"$SID\",\"message\":\"hello\",\"voice\":\"yes\"}"
error_is 400 invalid_field "voice not a boolean"
chat '["hello"]'
error_is 400 invalid_json "a JSON array body"
chat "{\"session_id\":\"$SID\",\"message\":'hello'}"
error_is 400 invalid_json "single quotes"
req POST /api/v1/chat -H 'Content-Type: text/plain' --data-binary "$(chat_body "$SID" '"hello"')"
error_is 415 unsupported_media_type "text/plain"
req GET /api/v1/chat
error_is 405 method_not_allowed "GET /chat"
is "$(header Allow)" "POST, OPTIONS" "GET /chat: Allow"
chat "$(chat_body "$SID" '"hello"')" -H "Authorization: Bearer $OTHER_TOKEN"
error_is 404 not_found "a Bearer of another user"
chat "$(chat_body "$SID" '"hello"')" -H 'Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
error_is 401 unauthorized "an unknown Bearer"
chat "$(chat_body "$SID" '"hello"')" -H 'Authorization: Bearer bad token'
error_is 401 unauthorized "a malformed Bearer"
chat "$(chat_body "$SID" '"hello"')" -H 'Idempotency-Key: two words'
error_is 400 invalid_field "an Idempotency-Key with a space"
chat "$(chat_body "$SID" '"hello"')" -H "Idempotency-Key: $(head -c 129 /dev/zero | tr '\0' k)"
error_is 400 invalid_field "an Idempotency-Key of 129 characters"
chat "$(chat_body "$SID" '"hello"')" -H 'Idempotency-Key: clé'
error_is 400 invalid_field "an Idempotency-Key with a non-ASCII character"
# Asking for a stream does not change how a bad request is refused.
chat "$(chat_body "$SID" '""')" -H 'Accept: text/event-stream'
error_is 400 empty "an empty message, asking for SSE"
is "$(db_user_fingerprint)" "$before" "none of the bad requests changed stored data"

# ---- the length limit: exactly 4,000 bytes is accepted -------------------
new_session
EDGE_SID=$SID EDGE_TOKEN=$TOKEN
edge="$(head -c 3996 /dev/zero | tr '\0' a)🌹"
chat "$(chat_body "$EDGE_SID" "\"$edge\"")"
status_is 200 "a message of exactly 4,000 bytes ending in a 4-byte character"
is "$(db "SELECT length(CAST(text AS BLOB)) FROM messages WHERE session_id = '$EDGE_SID' AND role = 'user'")" \
    4000 "stored whole, 4,000 bytes"
transcript "$EDGE_SID" "$EDGE_TOKEN"
is "$(json '.messages[0].text')" "$edge" "the transcript gives it back byte for byte"
chat "$(chat_body "$(printf %s "$EDGE_SID" | tr a-f A-F)" "\"$(head -c 3996 /dev/zero | tr '\0' b)\\ud83c\\udf39\"")"
status_is 200 "4,000 bytes sent as \\u escapes; an upper-case session id"
is "$(json .session_id)" "$EDGE_SID" "the answer names the session in lower case"

# ---- a conversation -------------------------------------------------------
new_session
said=("My name is Sarah" "My mother passed away last spring" "I keep thinking about mom")
replies=()
for i in 0 1 2; do
    chat "$(chat_body "$SID" "$(jq -n --arg m "${said[$i]}" '$m')")"
    status_is 200 "turn $((i + 1)): '${said[$i]}'"
    replies[$i]=$(json .text)
    like "${replies[$i]}" '[[:alpha:]]{2}' "turn $((i + 1)): a reply"
    json_is .engine offline "turn $((i + 1)): engine offline"
    json_is .workflow conversation "turn $((i + 1)): workflow conversation"
    json_is .session_id "$SID" "turn $((i + 1)): session_id"
    json_is .fallback null "turn $((i + 1)): not a fallback"
    json_is '.timings | [.router_ms, .context_ms, .llm_ms, .memory_ms, .total_ms] | map(type == "number") | all' \
        true "turn $((i + 1)): timings per node"
done
is "$(db "SELECT name FROM users WHERE id = '$UID_'")" Sarah "Rose remembers the name"
if printf '%s\n' "${replies[1]}" "${replies[2]}" | grep -q Sarah; then
    ok "later replies use the name"
else
    not_ok "later replies use the name"; printf '#   %s\n' "${replies[1]}" "${replies[2]}"
fi
[ "${replies[0]}" != "${replies[1]}" ] && [ "${replies[1]}" != "${replies[2]}" ]
check $? "no reply repeats the one before"
like "${replies[1]}" '[Mm]other|[Ll]oss|sorry' "the reply to a loss acknowledges it"

# The transcript: all six, in order, with roles and times.
want=$(printf 'user\t%s\nassistant\t%s\n' "${said[0]}" "${replies[0]}" "${said[1]}" "${replies[1]}" \
    "${said[2]}" "${replies[2]}")
transcript "$SID" "$TOKEN"
status_is 200 "GET /session/{id}/messages"
is "$(json '.messages[] | [.role, .text] | @tsv')" "$want" "the transcript holds the six messages in order"
json_is .session_id "$SID" "transcript: session_id"
bad=$(json '.messages[].created_at' | grep -cvE "$RFC3339_RE")
is "$bad/$(json '.messages | length')" 0/6 "transcript: RFC 3339 times"
json_is '[.messages[].created_at] | . == sort' true "transcript: times in order"
req GET "/api/v1/session/$SID/messages"
error_is 401 unauthorized "transcript without a token"
req GET "/api/v1/session/$SID/messages" -H "Authorization: Bearer $OTHER_TOKEN"
error_is 404 not_found "transcript of another user's session"
req GET "/api/v1/session/$SID" -H "Authorization: Bearer $TOKEN"
json_is .message_count 6 "message_count 6"

# Checkpoints: one per node per turn, each the child of the one before.
is "$(db "SELECT group_concat(node, ' ') FROM (SELECT node FROM checkpoints WHERE thread_id = '$SID' ORDER BY rowid)")" \
    "$(printf 'router context_inject respond memory_inject %.0s' 1 2 3 | sed 's/ $//')" \
    "a checkpoint after each node of each turn"
is "$(db "SELECT count(*) FROM checkpoints WHERE thread_id = '$SID' AND parent_checkpoint_id IS NULL")" 1 \
    "one checkpoint without a parent (the first)"
is "$(db "SELECT count(*) FROM checkpoints c WHERE c.thread_id = '$SID' AND c.parent_checkpoint_id =
          (SELECT p.checkpoint_id FROM checkpoints p WHERE p.thread_id = c.thread_id AND p.rowid < c.rowid
           ORDER BY p.rowid DESC LIMIT 1)")" 11 "every other checkpoint's parent is the one before it"
is "$(db "SELECT json_array_length(state, '\$.messages') FROM checkpoints WHERE thread_id = '$SID'
          ORDER BY rowid DESC LIMIT 1")" 6 "the last checkpoint's state holds the six messages"

# ---- SSE ------------------------------------------------------------------
chat "$(chat_body "$SID" '"Some days I cannot get out of bed"')" -H 'Accept: text/event-stream'
status_is 200 "chat with Accept: text/event-stream"
like "$(header Content-Type)" '^text/event-stream' "SSE content type"
ntok=$(sse_data token | wc -l)
[ "$ntok" -gt 1 ]; check $? "several token events ($ntok)"
is "$(sse_data done | wc -l)" 1 "one done event"
is "$(grep -c '^event: ' "$BODY")" "$((ntok + 1))" "no other events"
done_text=$(sse_data done | jq -r .text)
like "$done_text" '[[:alpha:]]{2}' "done carries the reply"
is "$(sse_data token | jq -j .text)" "$done_text" "the tokens concatenate to the done text"
is "$(sse_data done | jq -r .engine)" offline "done: engine offline"
is "$(db "SELECT text FROM messages WHERE session_id = '$SID' ORDER BY id DESC LIMIT 1")" "$done_text" \
    "the streamed reply is stored"

# ---- Idempotency-Key --------------------------------------------------------
n_before=$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")
key="retry-$(date +%s%N)"
chat "$(chat_body "$SID" '"Thank you for listening"')" -H "Idempotency-Key: $key"
status_is 200 "a turn with an Idempotency-Key"
first=$(jq -S . "$BODY")
is "$(header Idempotent-Replayed)" "" "the first answer is not a replay"
chat "$(chat_body "$SID" '"Thank you for listening"')" -H "Idempotency-Key: $key"
status_is 200 "the same key again"
is "$(header Idempotent-Replayed)" true "Idempotent-Replayed: true"
is "$(jq -S 'del(.timings)' "$BODY")" "$(jq -S 'del(.timings)' <<< "$first")" "the replay is the first answer"
# Not only the words: a replay has the same fields, timings included.
is "$(jq -c '.timings | keys' "$BODY")" "$(jq -c '.timings | keys' <<< "$first")" "the replay has the first answer's timings"
chat "$(chat_body "$SID" '"Thank you for listening"')" -H "Idempotency-Key: $key" -H 'Accept: text/event-stream'
status_is 200 "the same key again, asking for SSE"
is "$(header Idempotent-Replayed)" true "SSE replay: Idempotent-Replayed: true"
is "$(sse_data done | jq -r .text)" "$(jq -r .text <<< "$first")" "SSE replay: done is the first answer"
is "$(sse_data token | jq -j .text)" "$(jq -r .text <<< "$first")" "SSE replay: tokens are the first answer"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")" "$((n_before + 2))" \
    "the transcript grew by one turn only"
is "$(db "SELECT status FROM idempotency WHERE session_id = '$SID' AND key = '$key'")" 200 \
    "the key's answer is stored"
chat "$(chat_body "$EDGE_SID" '"Thank you for listening"')" -H "Idempotency-Key: $key"
status_is 200 "the same key in another session"
is "$(header Idempotent-Replayed)" "" "keys belong to their session: not a replay"
is "$(json .session_id)" "$EDGE_SID" "an answer of its own"
k128=$(head -c 128 /dev/zero | tr '\0' K)
chat "$(chat_body "$SID" '"One more thing"')" -H "Idempotency-Key: $k128"
status_is 200 "an Idempotency-Key of 128 characters"

# ---- the seed's path --------------------------------------------------------
req POST /api/chat -H "$JSON_CT" --data-binary "$(chat_body "$SID" '"Are you still there?"')" \
    -H "Authorization: Bearer $TOKEN"
status_is 200 "POST /api/chat (seed path), with the owner's token"
like "$(json .text)" '[[:alpha:]]{2}' "seed path: a reply"
req GET "/api/v1/session/$SID" -H "Authorization: Bearer $TOKEN"
json_is .message_count 14 "message_count counts every turn (7 turns)"

# Deleting a session takes its transcript, checkpoints and idempotency records along.
req DELETE "/api/v1/session/$EDGE_SID" -H "Authorization: Bearer $EDGE_TOKEN"
status_is 204 "delete a session that has talked"
is "$(db "SELECT (SELECT count(*) FROM messages WHERE session_id = '$EDGE_SID') ||
                 (SELECT count(*) FROM checkpoints WHERE thread_id = '$EDGE_SID') ||
                 (SELECT count(*) FROM idempotency WHERE session_id = '$EDGE_SID')")" 000 \
    "its messages, checkpoints and idempotency records are gone"
chat "$(chat_body "$EDGE_SID" '"Hello?"')"
error_is 404 not_found "chat in a deleted session"
is "$(db "SELECT count(*) FROM messages WHERE session_id = '$SID'")" 14 "the other session is untouched"
is "$(db "PRAGMA integrity_check")" ok "database integrity"
finish
