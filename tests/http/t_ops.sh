#!/usr/bin/env bash
# Operations: /metrics (auth, Prometheus format checked by promtool) and
# /health/{service} with live provider probes against the fake LLM.
. "$(dirname "$0")/lib.sh"

FAKE_DIR=$T_DIR/fake
mkdir -p "$FAKE_DIR"
python3 "$ROSE_TOP/tests/fakes/fake_llm.py" --port 0 --port-file "$FAKE_DIR/port" --key good-key \
    > "$FAKE_DIR/log" 2>&1 &
FAKE_PID=$!
track_pid "$FAKE_PID"
for i in $(seq 1 50); do [ -s "$FAKE_DIR/port" ] && break; sleep 0.1; done
FPORT=$(cat "$FAKE_DIR/port")

start_server LONG_TERM_MEMORY=off "ADMIN_TOKEN=admin-secret-123" "TRUSTED_PROXIES=127.0.0.1" \
    "LLM_BASE_URL=http://127.0.0.1:$FPORT/openai/v1" "LLM_API_KEY=good-key" \
    "STT_BASE_URL=http://127.0.0.1:$FPORT/openai/v1" "STT_API_KEY=wrong-key" \
    "EMBEDDINGS_BASE_URL=http://127.0.0.1:9/v1" "EMBEDDINGS_API_KEY=k" \
    || { not_ok "server starts"; finish; }

# A mixed workload first.
new_session
req POST /api/v1/chat -H 'Content-Type: application/json' -d "{\"session_id\":\"$SID\",\"message\":\"hello\"}"
status_is 200 "a chat turn"
req POST /api/v1/chat -H 'Content-Type: application/json' -d '{"session_id":"x"}'
req GET /api/v1/nothing

# Metrics from loopback need no token.
req GET /api/v1/metrics
status_is 200 "GET /metrics from loopback"
like "$(header Content-Type)" '^text/plain; version=0.0.4' "Prometheus text content type"
cp "$BODY" "$T_DIR/metrics.txt"
promtool check metrics < "$T_DIR/metrics.txt" > "$T_DIR/promtool.out" 2>&1
check $? "promtool check metrics passes" "$(head -5 "$T_DIR/promtool.out")"
like "$(cat "$BODY")" 'rose_http_requests_total\{route="POST /chat",status="200"\} 1' "chat counted by route and status"
like "$(cat "$BODY")" 'rose_http_requests_total\{route="POST /chat",status="400"\} 1' "the bad chat counted"
like "$(cat "$BODY")" 'rose_http_requests_total\{route="unmatched",status="404"\} 1' "unmatched paths share one label"
like "$(cat "$BODY")" 'rose_http_request_duration_seconds_bucket\{route="POST /chat",le="\+Inf"\} 2' "latency histogram by route"
like "$(cat "$BODY")" 'rose_provider_calls_total\{role="llm",provider="openai-compatible",outcome="ok"\} 1' "provider call counted"
like "$(cat "$BODY")" 'rose_provider_request_duration_seconds_count\{role="llm"\} 1' "provider latency histogram"
like "$(cat "$BODY")" 'rose_circuit_breaker_state\{service="llm"\} 0' "breaker state gauge"
like "$(cat "$BODY")" 'rose_sessions_active [1-9]' "active sessions gauge"
like "$(cat "$BODY")" 'rose_messages 2' "messages gauge"
unlike "$(cat "$BODY")" 'hello|good-key|admin-secret' "no message text or keys in metrics"

# From anywhere else (a client behind the trusted proxy): the admin token.
req GET /api/v1/metrics -H 'X-Forwarded-For: 203.0.113.9'
error_is 401 unauthorized "metrics from a remote client without a token"
req GET /api/v1/metrics -H 'X-Forwarded-For: 203.0.113.9' -H 'Authorization: Bearer admin-secret-12X'
error_is 403 forbidden "metrics with a wrong token"
req GET /api/v1/metrics -H 'X-Forwarded-For: 203.0.113.9' -H 'Authorization: Bearer admin-secret-123'
status_is 200 "metrics with the admin token"
req GET /api/v1/metrics -H 'X-Forwarded-For: 127.0.0.1, 203.0.113.9'
error_is 401 unauthorized "a forged loopback entry before the real client is not believed"

# Per-service health with live probes.
req GET /api/v1/health/llm
status_is 200 "health/llm with a reachable provider and a good key"
json_is .probe.ok true "llm probe ok"
json_is .probe.http_status 200 "llm probe status"
json_is .status ok "llm ok"
req GET /api/health/groq
json_is .service llm "seed alias groq is the llm"
req GET /api/v1/health/stt
status_is 503 "health/stt with a key the provider refuses"
json_is .probe.http_status 401 "stt probe saw 401"
json_is .status down "stt down"
req GET /api/v1/health/embeddings
status_is 503 "health/embeddings with a refused connection"
json_is .probe.error connect "connection refused is reported as such"
req GET /api/v1/health/tts
status_is 200 "health/tts offline"
json_is .status offline "tts offline engine"
req GET /api/v1/health/elevenlabs
json_is .service tts "seed alias elevenlabs is tts"
req GET /api/v1/health/qdrant
json_is .service vector_store "seed alias qdrant is the vector store"
json_is .status ok "embedded SQLite vector store ok"
req GET /api/v1/health/database
json_is .schema_version "$(db 'PRAGMA user_version')" "database reports its schema version"
[ "$(json .schema_version)" -ge 4 ]; check $? "the schema is migrated (version $(json .schema_version))"
req GET /api/v1/health/teapot
error_is 404 not_found "unknown service"
grep -q good-key "$T_DIR/error.log"; [ $? -ne 0 ]; check $? "keys never in the log"
finish
