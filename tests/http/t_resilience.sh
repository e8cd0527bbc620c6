#!/usr/bin/env bash
# Provider faults against the fake LLM: retries honouring Retry-After, the
# circuit breaker shared by every worker, the turn deadline, and the offline
# companion when the LLM is down.
. "$(dirname "$0")/lib.sh"

start_fake_llm || { not_ok "fake LLM starts"; finish; }
ROSE_PROCS=4 start_server LONG_TERM_MEMORY=off "LLM_BASE_URL=$FAKE_URL" "LLM_API_KEY=test-key" \
    "RETRY_BASE_DELAY_MS=50" "RETRY_MAX_DELAY_MS=200" "RETRY_MAX_ATTEMPTS=3" \
    "CIRCUIT_BREAKER_FAILURE_THRESHOLD=5" "CIRCUIT_BREAKER_RECOVERY_TIMEOUT=2" \
    "WORKFLOW_TIMEOUT_SECONDS=3" "PROVIDER_TIMEOUT_SECONDS=20" \
    || { not_ok "server starts"; finish; }
new_session
J='Content-Type: application/json'
chat() { req POST /api/v1/chat -H "$J" -d "{\"session_id\":\"$SID\",\"message\":\"$1\"}"; }

# 1. 429 with retry-after: 1, then success: one retry after at least 1 s.
fake_reset
fake_script '[{"status": 429, "retry_after": 1}, {"reply": "After the wait."}]'
t0=$(date +%s.%N)
chat "first"
t1=$(date +%s.%N)
status_is 200 "429 then success"
json_is .text "After the wait." "the retry's answer is used"
json_is .engine llm "answered by the LLM"
is "$(fake_completions)" 2 "exactly one retry"
awk -v a="$t0" -v b="$t1" 'BEGIN {exit !(b - a >= 1.0)}'; check $? "waited at least the Retry-After second"

# 2. Malformed JSON from the provider is not retried; Rose answers offline.
fake_reset
fake_script '[{"malformed": true}]'
chat "second"
status_is 200 "malformed provider JSON"
json_is .engine offline "offline answer after a malformed reply"
json_is .fallback true "marked as a fallback"
is "$(fake_completions)" 1 "a malformed answer is not retried"

# 3. A refused connection: retried, then the offline companion answers.
before=$(db "SELECT count(*) FROM messages")
stop_fake_llm
chat "third"
status_is 200 "provider connection refused"
json_is .engine offline "LLM down: the offline companion answers"
like "$(json .text)" '.{10}' "with a real reply"
is "$(db "SELECT count(*) FROM messages")" $((before + 2)) "the turn is stored"
start_fake_llm || not_ok "fake LLM restarts"
# The fake came back on a new port; point a fresh server at it.
stop_server
db "DELETE FROM breakers"
ROSE_PROCS=4 start_server LONG_TERM_MEMORY=off "LLM_BASE_URL=$FAKE_URL" "LLM_API_KEY=test-key" \
    "RETRY_MAX_ATTEMPTS=1" "CIRCUIT_BREAKER_FAILURE_THRESHOLD=5" \
    "CIRCUIT_BREAKER_RECOVERY_TIMEOUT=2" "WORKFLOW_TIMEOUT_SECONDS=3" \
    || { not_ok "server restarts"; finish; }

# 4. Five 500s across different worker processes open the breaker; the sixth
#    request calls no provider; after the recovery time one probe closes it.
fake_reset
fake_script "$(python3 -c 'import json; print(json.dumps([{"status": 500, "delay_ms": 300}] * 5))')"
pids=""
for i in 1 2 3 4 5; do
    curl -s -o "$T_DIR/b$i" -H "$J" -d "{\"session_id\":\"$SID\",\"message\":\"burst $i\"}" \
        "$BASE/api/v1/chat" &
    pids="$pids $!"
done
wait $pids
is "$(fake_completions)" 5 "five calls reached the provider"
is "$(cat "$T_DIR"/b? | jq -r .engine | sort -u)" offline "each failed turn still answered offline"
workers=$(grep -h '"event":"request"' "$T_DIR/error.log" | grep '"route":"POST /chat"' |
    grep -o '"pid":[0-9]*' | sort -u | wc -l)
[ "$workers" -ge 2 ]; check $? "the failures came from several workers ($workers)"
is "$(db "SELECT state FROM breakers WHERE service = 'llm'")" open "the shared breaker is open"
req GET /api/v1/health
json_is .services.llm.circuit open "health shows the open circuit"
json_is .status degraded "health degraded"
chat "sixth"
status_is 200 "a request while the circuit is open"
json_is .engine offline "answered offline at once"
is "$(fake_completions)" 5 "the sixth request called no provider"
sleep 2.2
fake_script '[{"reply": "I am back."}]'
chat "after recovery"
json_is .text "I am back." "the half-open probe reached the provider"
is "$(db "SELECT state FROM breakers WHERE service = 'llm'")" closed "a successful probe closes the breaker"
is "$(fake_completions)" 6 "exactly one probe call"
like "$(grep -c '"event":"breaker"' "$T_DIR/error.log")" '^[2-9]' "state changes are logged"

# 5. A stalled provider hits the whole-turn deadline: 504, nothing stored.
fake_reset
fake_script '[{"stall": 10}]'
before=$(db "SELECT count(*) FROM messages")
chat "stall"
error_is 504 timeout "a stalled provider past WORKFLOW_TIMEOUT_SECONDS"
is "$(db "SELECT count(*) FROM messages")" "$before" "nothing of the timed-out turn is stored"
req GET /api/v1/metrics
like "$(cat "$BODY")" 'rose_provider_calls_total\{role="llm",provider="openai-compatible",outcome="timeout"\}' "the timeout is counted"
like "$(cat "$BODY")" 'rose_circuit_breaker_transitions_total\{service="llm"\} [2-9]' "breaker transitions counted"
finish
