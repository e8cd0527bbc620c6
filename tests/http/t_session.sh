#!/usr/bin/env bash
# Sessions and the anonymous user model: tokens, ownership, deletion.
. "$(dirname "$0")/lib.sh"

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
start_server || { not_ok "server starts"; finish; }

# A new anonymous user: token shown once, stored only as a hash.
new_session
status_is 200 "POST /session/start"
like "$SID" "$UUID_RE" "session_id is a UUID"
like "$UID_" "$UUID_RE" "user_id is a UUID"
like "$TOKEN" '^[A-Za-z0-9_-]{43}$' "user_token is 32 random bytes, base64url"
like "$(json .message)" . "a message"
is "$(db "SELECT count(*) FROM users WHERE token_hash = '$TOKEN'")" 0 "the token itself is not stored"
is "$(db "SELECT token_hash FROM users WHERE id = '$UID_'")" "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" \
    "the token is stored as its SHA-256"
if grep -q -- "$TOKEN" "$T_DIR/error.log"; then not_ok "the token is never logged"; else ok "the token is never logged"; fi
grep -q "\"session_id\":\"$SID\"" "$T_DIR/error.log"; check $? "the log line names the session"

# The seed's path and an empty body (Content-Length: 0) work too.
req POST /api/session/start -H 'Content-Length: 0'
status_is 200 "POST /api/session/start with an empty body"
like "$(json .user_token)" '^[A-Za-z0-9_-]{43}$' "seed path makes a new user"

# A returning user.
req POST /api/v1/session/start -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}'
status_is 200 "session start with the user's token"
is "$(json .user_id)" "$UID_" "same user"
is "$(json .user_token)" null "no new token for a returning user"
SID2=$(json .session_id)
[ "$SID2" != "$SID" ]; check $? "a new session id"
is "$(db "SELECT count(*) FROM sessions WHERE user_id = '$UID_'")" 2 "both sessions belong to the user"

# Reading a session.
req GET "/api/v1/session/$SID" -H "Authorization: Bearer $TOKEN"
status_is 200 "GET own session"
json_is .session_id "$SID" "session id"
json_is .message_count 0 "no messages yet"
json_is .summary "" "no summary yet"
like "$(json .created_at)" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "created_at is RFC 3339 UTC"
like "$(json .last_active)" '^20[0-9]{2}-' "last_active"
SID_UPPER=$(printf %s "$SID" | tr a-f A-F)
req GET "/api/session/$SID_UPPER" -H "Authorization: Bearer $TOKEN"
status_is 200 "ids are case-insensitive; seed prefix"

# Another user.
new_session
OTHER_TOKEN=$TOKEN OTHER_SID=$SID
TOKEN=$(db "SELECT 1") # placeholder, reset below
req POST /api/v1/session/start -H 'Content-Type: application/json' -d '{}'
MINE_SID=$(json .session_id) MINE_TOKEN=$(json .user_token)

before=$(db_fingerprint)
req GET "/api/v1/session/$OTHER_SID" -H "Authorization: Bearer $MINE_TOKEN"
error_is 404 not_found "another user's session"
req DELETE "/api/v1/session/$OTHER_SID" -H "Authorization: Bearer $MINE_TOKEN"
error_is 404 not_found "deleting another user's session"
req GET "/api/v1/session/$MINE_SID"
error_is 401 unauthorized "reading a session without a token"
req GET "/api/v1/session/$MINE_SID" -H 'Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
error_is 401 unauthorized "an unknown token"
req GET "/api/v1/session/$MINE_SID" -H "Authorization: Basic $(printf 'a:b' | base64)"
error_is 401 unauthorized "a non-Bearer Authorization header"
req GET "/api/v1/session/$MINE_SID" -H 'Authorization: Bearer bad token with spaces'
error_is 401 unauthorized "a malformed bearer token"
req GET "/api/v1/session/$MINE_SID" -H "Authorization: Bearer $(head -c 300 /dev/zero | tr '\0' a)"
error_is 401 unauthorized "an overlong bearer token"
req POST /api/v1/session/start -H 'Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' \
    -H 'Content-Type: application/json' -d '{}'
error_is 401 unauthorized "session start with an unknown token"
req GET /api/v1/session/00000000-0000-4000-8000-000000000000 -H "Authorization: Bearer $MINE_TOKEN"
error_is 404 not_found "an unknown session id"
for bad in not-a-uuid 123 "$MINE_SID-x" "${MINE_SID:0:35}" "..%2F..%2Fetc%2Fpasswd" "%2e%2e"; do
    req GET "/api/v1/session/$bad" -H "Authorization: Bearer $MINE_TOKEN"
    error_is 404 not_found "invalid session id '$bad'"
done
# A NUL in the path is refused by the web server itself (400), still as JSON.
req GET "/api/v1/session/%00" -H "Authorization: Bearer $MINE_TOKEN"
like "$STATUS" '^(400|404)$' "NUL in the path is refused"
like "$(json .error)" '^(bad_request|not_found)$' "NUL in the path: JSON error"
is "$(db_fingerprint)" "$before" "none of the bad requests changed stored data"

# The owner deletes a session.
req DELETE "/api/v1/session/$OTHER_SID" -H "Authorization: Bearer $OTHER_TOKEN"
status_is 204 "owner deletes the session"
is "$(db "SELECT count(*) FROM sessions WHERE id = '$OTHER_SID'")" 0 "the row is gone"
req GET "/api/v1/session/$OTHER_SID" -H "Authorization: Bearer $OTHER_TOKEN"
error_is 404 not_found "a deleted session"
req DELETE "/api/v1/session/$OTHER_SID" -H "Authorization: Bearer $OTHER_TOKEN"
error_is 404 not_found "deleting twice"
req GET "/api/v1/session/$MINE_SID" -H "Authorization: Bearer $MINE_TOKEN"
status_is 200 "the other user's session is untouched"
finish
