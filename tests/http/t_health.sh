#!/usr/bin/env bash
# GET /health: database check, each provider role, both path prefixes.
. "$(dirname "$0")/lib.sh"

start_server || { not_ok "server starts"; finish; }

for path in /api/v1/health /api/health; do
    req GET $path
    status_is 200 "GET $path"
    json_is .status healthy "$path: healthy with no keys (offline engines)"
    json_is .version 0.1.0 "$path: version"
    json_is .services.database.status ok "$path: database ok"
done
json_is .services.llm.status offline "llm offline without a key"
json_is .services.llm.provider companion "llm offline provider is the companion engine"
json_is .services.stt.status offline "stt offline"
json_is .services.stt.provider pocketsphinx "stt offline provider"
json_is .services.tts.status offline "tts offline"
json_is .services.tts.provider flite "tts offline provider"
json_is .services.embeddings.status offline "embeddings offline"
json_is .services.vector_store.status ok "vector store embedded"
json_is .services.vector_store.provider sqlite "vector store is SQLite"
json_is .services.image.status disabled "image disabled without a key"
json_is .services.vision.status disabled "vision disabled without a key"
is "$(json '[.services[] | .circuit] | unique | join(",")')" closed "every circuit closed"
is "$(json '.services | keys | join(",")')" \
    database,embeddings,image,llm,stt,tts,vector_store,vision "all eight services listed"
like "$(header X-Request-ID)" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
    "X-Request-ID is a UUID v4"

# HEAD answers like GET without a body.
req HEAD /api/v1/health
status_is 200 "HEAD /health"
is "$(stat -c %s "$BODY")" 0 "HEAD has no body"

# The breaker state every worker shares shows in health.
db "INSERT INTO breakers (service, state, failures, updated_at) VALUES ('llm', 'open', 5, 0)"
req GET /api/v1/health
json_is .services.llm.circuit open "llm circuit read from the shared breaker table"
db "DELETE FROM breakers"
stop_server

# With keys configured, roles are served by their hosted providers.
start_server GROQ_API_KEY=test-key ELEVENLABS_API_KEY=test-key TOGETHER_API_KEY=test-key \
    || { not_ok "server starts with keys"; finish; }
req GET /api/v1/health
json_is .services.llm.provider groq "llm provider groq with GROQ_API_KEY"
json_is .services.llm.status ok "llm ok"
json_is .services.stt.provider groq "stt provider groq"
json_is .services.tts.provider elevenlabs "tts provider elevenlabs"
json_is .services.image.provider together "image provider together"
json_is .services.vision.status ok "vision enabled by the Groq key"
json_is .services.embeddings.status offline "embeddings still offline (no embeddings key)"
if grep -q test-key "$BODY" "$T_DIR/error.log"; then not_ok "keys never in responses or logs"; else ok "keys never in responses or logs"; fi
# A breaker opened by any worker degrades the whole service.
db "INSERT INTO breakers (service, state, failures, updated_at) VALUES ('tts', 'open', 5, 0)"
req GET /api/v1/health
status_is 200 "health with an open breaker"
json_is .status degraded "overall degraded when a hosted service's circuit is open"
json_is .services.tts.status down "tts down while its circuit is open"
stop_server

# A database that cannot be used: 503 unhealthy, and the file is left alone.
mkdir -p "$T_DIR/data"
printf 'this is not an sqlite database, it is a test of what happens when the file is damaged %.0s' $(seq 1 50) > "$T_DIR/data/rose.db"
sum_before=$(sha256sum < "$T_DIR/data/rose.db")
start_server || { not_ok "server starts with a broken database"; finish; }
req GET /api/v1/health
status_is 503 "health with an unusable database"
json_is .status unhealthy "unhealthy when the database is unusable"
json_is .services.database.status down "database down"
req POST /api/v1/session/start -H 'Content-Type: application/json' -d '{}'
error_is 503 database_unavailable "session start with an unusable database"
is "$(sha256sum < "$T_DIR/data/rose.db")" "$sum_before" "the damaged file was not modified"
unlike "$(cat "$BODY")" 'sqlite|SQL|/tmp|rose\.db|not a database' "no SQL, paths or SQLite messages in the error"
finish
