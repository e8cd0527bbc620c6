#!/usr/bin/env bash
# Long-term memory per user (issue 4): extraction, recall in a later session,
# isolation between users, and the person's control (list, delete, export,
# erase).  Offline first (rules + local embedder + SQLite), then with the
# fake LLM deciding what to keep.
. "$(dirname "$0")/lib.sh"
J='Content-Type: application/json'

chat() {   # chat SID TOKEN MESSAGE
    req POST /api/v1/chat -H "$J" -H "Authorization: Bearer $2" \
        -d "$(jq -cn --arg s "$1" --arg m "$3" '{session_id: $s, message: $m}')"
}
# Memory extraction runs after each answer: wait until the user has N memories.
wait_memories() {   # wait_memories USER_ID N
    local i=0
    while [ "$(db "SELECT count(*) FROM memories WHERE user_id = '$1'")" -lt "$2" ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
}
# Each turn's extraction logs one memory_extract line with its outcome once it
# is done: settle N waits for the Nth such line.
extracts() { grep -c '"event":"memory_extract"' "$T_DIR/error.log"; }
settle() {
    local i=0
    while [ "$(extracts)" -lt "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(extracts)" -ge "$1" ]
}
recalled() {   # the memories context_inject put in the state of the last turn of SID
    db "SELECT state FROM checkpoints WHERE thread_id = '$1' AND node = 'context_inject' ORDER BY rowid DESC LIMIT 1" |
        jq -r '(.memories // []) | join(" | ")'
}

start_server || { not_ok "server starts"; finish; }

# User X tells Rose two things that matter, in one session.
new_session; X_SID=$SID X_TOKEN=$TOKEN X_ID=$UID_
chat "$X_SID" "$X_TOKEN" "My name is Sarah"
status_is 200 "X: my name is Sarah"
chat "$X_SID" "$X_TOKEN" "My mother passed away last spring"
status_is 200 "X: my mother passed away"
wait_memories "$X_ID" 2
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$X_ID'")" 2 "two memories kept for X"
is "$(db "SELECT memory_type FROM memories WHERE user_id = '$X_ID' ORDER BY created_at" | tr '\n' ,)" "name,loss," \
    "typed as a name and a loss"
n=$(extracts)
chat "$X_SID" "$X_TOKEN" "Hi, how are you?"
settle $((n + 1)); check $? "the greeting's extraction finishes"
like "$(grep '"event":"memory_extract"' "$T_DIR/error.log" | tail -n 1)" '"outcome":"not_important"' \
    "... and finds it not important"
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$X_ID'")" 2 "a greeting is not kept"
n=$(extracts)
chat "$X_SID" "$X_TOKEN" "My mother passed away last spring."
settle $((n + 1)); check $? "the repeat's extraction finishes"
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$X_ID'")" 2 "a near-duplicate is not kept again"
grep -q '"outcome":"duplicate"' "$T_DIR/error.log"; check $? "the duplicate is logged as such"

# A new session with the same token: "mom" recalls the mother memory.
req POST /api/v1/session/start -H "Authorization: Bearer $X_TOKEN" -H "$J" -d '{}'
X_SID2=$(json .session_id)
chat "$X_SID2" "$X_TOKEN" "I keep thinking about mom"
status_is 200 "X, new session: I keep thinking about mom"
like "$(recalled "$X_SID2")" 'mother passed away' "Rose's context holds the mother memory"
like "$(json .text)" 'Sarah' "the offline reply uses the name"
like "$(json .text)" '[Mm]other|[Mm]om|spring|loss|passed' "and the loss"

# User Y asks the same and gets neither.
new_session; Y_SID=$SID Y_TOKEN=$TOKEN Y_ID=$UID_
chat "$Y_SID" "$Y_TOKEN" "I keep thinking about mom"
status_is 200 "Y: I keep thinking about mom"
is "$(recalled "$Y_SID")" "" "Y's context holds none of X's memories"
unlike "$(json .text)" 'Sarah|spring' "Y's reply has neither X's name nor X's loss"

# The person's control: list, one user never sees or deletes another's.
req GET /api/v1/memories -H "Authorization: Bearer $X_TOKEN"
status_is 200 "X lists memories"
is "$(json '.memories | length')" 2 "two memories"
like "$(json '.memories[].text' | tr '\n' ' ')" 'Sarah.*mother|mother.*Sarah' "the texts"
MEM=$(json '.memories[] | select(.type == "loss") | .id')
req GET /api/v1/memories -H "Authorization: Bearer $Y_TOKEN"
is "$(json '.memories | length')" 0 "Y sees none of X's memories"
req DELETE "/api/v1/memories/$MEM" -H "Authorization: Bearer $Y_TOKEN"
error_is 404 not_found "Y cannot delete X's memory"
is "$(db "SELECT count(*) FROM memories WHERE id = '$MEM'")" 1 "X's memory is still there"
req GET /api/v1/memories
error_is 401 unauthorized "memories need a token"
req GET /api/v1/me/export -H "Authorization: Bearer $Y_TOKEN"
status_is 200 "Y exports"
unlike "$(cat "$BODY")" 'Sarah|mother|spring' "Y's export holds nothing of X"
req GET /api/v1/me/export -H "Authorization: Bearer $X_TOKEN"
status_is 200 "X exports"
is "$(json '.user.user_id')" "$X_ID" "the export names the user"
is "$(json '.sessions | length')" 2 "both sessions"
is "$(json '[.sessions[].messages[]] | length')" 10 "every message"
is "$(json '.memories | length')" 2 "every memory"
like "$(header Content-Disposition)" 'attachment' "offered as a download"
req DELETE "/api/v1/memories/$MEM" -H "Authorization: Bearer $X_TOKEN"
status_is 204 "X forgets the loss memory"
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$X_ID'")" 1 "one memory left"
req DELETE "/api/v1/memories/not-a-uuid" -H "Authorization: Bearer $X_TOKEN"
error_is 404 not_found "a malformed memory id"

# Near but different: a second loss that differs in one word is kept; the
# same one again is not.
new_session; Z_SID=$SID Z_TOKEN=$TOKEN Z_ID=$UID_
chat "$Z_SID" "$Z_TOKEN" "My mother passed away last spring"
wait_memories "$Z_ID" 1
chat "$Z_SID" "$Z_TOKEN" "My father passed away last spring"
wait_memories "$Z_ID" 2
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$Z_ID'")" 2 "the father's death is kept beside the mother's"
n=$(extracts)
chat "$Z_SID" "$Z_TOKEN" "My father passed away last spring."
settle $((n + 1)); check $? "the repeat's extraction finishes"
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$Z_ID'")" 2 "the same loss said again is not"

# Erase X: no row and no file of X remains; Y is untouched.
curl -s -F "audio=@$(flite -voice slt -t 'I miss her garden' -o "$T_DIR/x.wav"; echo "$T_DIR/x.wav")" \
    -F "session_id=$X_SID" -H "Authorization: Bearer $X_TOKEN" "$BASE/api/v1/voice/process" > "$T_DIR/v.json"
is "$(jq -r .audio_url "$T_DIR/v.json" | cut -c1-20)" "/api/v1/voice/audio/" "X has reply audio"
x_audio=$(db "SELECT id FROM audio WHERE user_id = '$X_ID'" | head -1)
[ -n "$x_audio" ] && ls "$T_DIR/data/audio/$x_audio".* >/dev/null 2>&1; check $? "X's audio file exists"
req DELETE /api/v1/me -H "Authorization: Bearer $X_TOKEN"
status_is 204 "DELETE /me"
for t in users sessions messages checkpoints memories idempotency; do
    col=user_id
    case $t in users) col=id ;; messages|checkpoints|idempotency) col=session_id ;; esac
    [ "$t" = checkpoints ] && col=thread_id
    if [ "$col" = session_id ] || [ "$col" = thread_id ]; then
        n=$(db "SELECT count(*) FROM $t WHERE $col IN ('$X_SID', '$X_SID2')")
    else
        n=$(db "SELECT count(*) FROM $t WHERE $col = '$X_ID'")
    fi
    is "$n" 0 "no $t row of X remains"
done
is "$(db "SELECT count(*) FROM audio WHERE user_id = '$X_ID' OR session_id IN ('$X_SID', '$X_SID2')")" 0 "no audio row of X"
ls "$T_DIR/data/audio/$x_audio".* >/dev/null 2>&1; [ $? -ne 0 ]; check $? "X's audio file is gone"
[ ! -e "$T_DIR/data/tts-cache/$X_ID" ]; check $? "X's speech cache is gone"
if grep -rl "Sarah" "$T_DIR/data" 2>/dev/null | grep -v 'rose.db' | head -1 | grep -q .; then
    not_ok "no file under the data folder mentions X"
else
    ok "no file under the data folder mentions X"
fi
req GET /api/v1/memories -H "Authorization: Bearer $X_TOKEN"
error_is 401 unauthorized "X's token no longer works"
req GET /api/v1/me/export -H "Authorization: Bearer $Y_TOKEN"
status_is 200 "Y is untouched"
is "$(json '[.sessions[].messages[]] | length')" 2 "Y's messages are all there"
stop_server

# The same flow with the fake LLM deciding what to keep.
start_fake_llm || { not_ok "fake LLM starts"; finish; }
rm -rf "$T_DIR/data"
start_server "LLM_BASE_URL=$FAKE_URL" "LLM_API_KEY=test-key" || { not_ok "server starts"; finish; }
new_session; X_SID=$SID X_TOKEN=$TOKEN X_ID=$UID_
# Each turn: the reply, then (after it) the memory decision on the small model.
fake_script '[{"reply": "Hello Sarah."}, {"reply": "{\"is_important\": true, \"formatted_memory\": \"Her name is Sarah\"}"}]'
chat "$X_SID" "$X_TOKEN" "My name is Sarah"
wait_memories "$X_ID" 1
fake_script '[{"reply": "I am so sorry."}, {"reply": "{\"is_important\": true, \"formatted_memory\": \"Her mother passed away last spring\"}"}]'
chat "$X_SID" "$X_TOKEN" "My mother passed away last spring"
wait_memories "$X_ID" 2
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$X_ID'")" 2 "LLM: two memories kept"
fake_script '[{"reply": "Tell me about her."}, {"reply": "not json at all"}]'
req POST /api/v1/session/start -H "Authorization: Bearer $X_TOKEN" -H "$J" -d '{}'
X_SID2=$(json .session_id)
n=$(extracts)
chat "$X_SID2" "$X_TOKEN" "I keep thinking about mom"
status_is 200 "LLM: I keep thinking about mom"
settle $((n + 1)); check $? "LLM: the extraction finishes"
prompt=$(fake_requests | jq -r '[.[] | select(.path | endswith("/chat/completions")) | select(.body.model == "llama-3.3-70b-versatile")] | last | .body.messages[0].content')
like "$prompt" 'mother passed away last spring' "the reply prompt carries the mother memory"
like "$prompt" 'Sarah' "and the name"
grep -q '"outcome":"malformed_model_answer"' "$T_DIR/error.log"; check $? "a malformed model answer is logged, nothing stored"
is "$(db "SELECT count(*) FROM memories WHERE user_id = '$X_ID'")" 2 "still two memories"
stop_server

# Once more with the hosted kinds: the OpenAI-compatible /embeddings fake and
# the Qdrant backend against its fake.  The fake embedder is a hashed bag of
# words (it speaks the protocol, not the meaning), so the later message
# shares words with the memory; meaning is the local embedder's test above.
start_aux_fake() {   # start_aux_fake NAME SCRIPT ARGS...: sets ${NAME}_PORT
    local name=$1 script=$2 i=0
    shift 2
    python3 "$ROSE_TOP/tests/fakes/$script" --port 0 --port-file "$T_DIR/$name.port" "$@" \
        2> "$T_DIR/$name.log" &
    track_pid $!
    while [ ! -s "$T_DIR/$name.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    eval "${name}_PORT=$(cat "$T_DIR/$name.port")"
}
start_aux_fake EMB fake_embeddings.py --key emb-key --dim 64
start_aux_fake QD fake_qdrant.py --key qd-key
rm -rf "$T_DIR/data"
start_server "LLM_BASE_URL=$FAKE_URL" "LLM_API_KEY=test-key" \
    "EMBEDDINGS_BASE_URL=http://127.0.0.1:$EMB_PORT/v1" "EMBEDDINGS_API_KEY=emb-key" \
    "EMBEDDINGS_MODEL=fake-embed" "EMBEDDINGS_DIM=64" \
    "VECTOR_STORE=qdrant" "QDRANT_URL=http://127.0.0.1:$QD_PORT" "QDRANT_API_KEY=qd-key" \
    || { not_ok "server starts with hosted memory"; finish; }
req GET /api/v1/health
json_is .services.embeddings.status ok "health: hosted embeddings"
json_is .services.vector_store.provider qdrant "health: Qdrant vector store"
fake_reset
new_session; X_SID=$SID X_TOKEN=$TOKEN X_ID=$UID_
fake_script '[{"reply": "Hello Sarah."}, {"reply": "{\"is_important\": true, \"formatted_memory\": \"Her name is Sarah\"}"}]'
chat "$X_SID" "$X_TOKEN" "My name is Sarah"
fake_script '[{"reply": "I am so sorry."}, {"reply": "{\"is_important\": true, \"formatted_memory\": \"Her mother passed away last spring\"}"}]'
chat "$X_SID" "$X_TOKEN" "My mother passed away last spring"
qd_points() { curl -s -H 'api-key: qd-key' -X POST -H 'Content-Type: application/json' \
    -d "{\"limit\": 100, \"with_payload\": true, \"filter\": {\"must\": [{\"key\": \"user_id\", \"match\": {\"value\": \"$1\"}}]}}" \
    "http://127.0.0.1:$QD_PORT/collections/long_term_memory/points/scroll" | jq '.result.points | length'; }
i=0; while [ "$(qd_points "$X_ID")" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$(qd_points "$X_ID")" 2 "Qdrant: two memories kept as points of X"
is "$(db "SELECT count(*) FROM memories")" 0 "nothing kept in SQLite with the Qdrant backend"
fake_script '[{"reply": "Tell me about her."}, {"reply": "{\"is_important\": false, \"formatted_memory\": null}"}]'
req POST /api/v1/session/start -H "Authorization: Bearer $X_TOKEN" -H "$J" -d '{}'
X_SID2=$(json .session_id)
chat "$X_SID2" "$X_TOKEN" "I keep thinking about how my mother passed away last spring"
status_is 200 "hosted memory: a later session"
like "$(recalled "$X_SID2")" 'mother passed away' "recalled from Qdrant"
prompt=$(fake_requests | jq -r '[.[] | select(.path | endswith("/chat/completions")) | select(.body.model == "llama-3.3-70b-versatile")] | last | .body.messages[0].content')
like "$prompt" 'mother passed away last spring' "the reply prompt carries it"
new_session; Y_SID=$SID Y_TOKEN=$TOKEN
fake_script '[{"reply": "I hear you."}, {"reply": "{\"is_important\": false, \"formatted_memory\": null}"}]'
chat "$Y_SID" "$Y_TOKEN" "I keep thinking about how my mother passed away last spring"
is "$(recalled "$Y_SID")" "" "Y recalls nothing of X from Qdrant"
searches=$(grep -c 'points/search\|points/query' "$T_DIR/QD.log" 2>/dev/null || true)
req DELETE /api/v1/me -H "Authorization: Bearer $X_TOKEN"
status_is 204 "DELETE /me with Qdrant"
is "$(qd_points "$X_ID")" 0 "X's points are gone from Qdrant"
req GET /api/v1/memories -H "Authorization: Bearer $Y_TOKEN"
status_is 200 "Y lists (none)"
finish
