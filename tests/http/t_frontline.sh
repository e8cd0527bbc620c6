#!/usr/bin/env bash
# The front line: routes, methods, media types, lengths, JSON — each bad
# request gets its JSON error and changes nothing stored.
. "$(dirname "$0")/lib.sh"

start_server || { not_ok "server starts"; finish; }
new_session
before=$(db_fingerprint)
J='Content-Type: application/json'

req GET /api/v1/nothing/here
error_is 404 not_found "unknown API route"
req GET /api/nothing
error_is 404 not_found "unknown seed-prefix route"
req GET "/api/v1/$(head -c 600 /dev/zero | tr '\0' x)"
error_is 404 not_found "overlong path"

req GET /api/v1/session/start
error_is 405 method_not_allowed "GET on a POST route"
is "$(header Allow)" "POST, OPTIONS" "405 carries Allow"
req DELETE /api/v1/health
error_is 405 method_not_allowed "DELETE /health"
is "$(header Allow)" "GET, HEAD, OPTIONS" "Allow for /health"
req PUT "/api/v1/session/$SID" -H "$J" -d '{}'
error_is 405 method_not_allowed "PUT on a session"
is "$(header Allow)" "GET, HEAD, DELETE, OPTIONS" "Allow for /session/{id}"

req POST /api/v1/session/start -H 'Content-Type: text/plain' -d 'hello'
error_is 415 unsupported_media_type "text/plain body"
req POST /api/v1/session/start -H 'Content-Type: application/json; charset=latin1' -d '{}'
error_is 415 unsupported_media_type "JSON in another charset"
req POST /api/v1/session/start -H 'Content-Type: application/json; charset=utf-8' -d '{}'
status_is 200 "JSON with charset=utf-8"
before=$(db_fingerprint)

for body in '{' '[1,2]' '"text"' '{"a":1} trailing' "{'a':1}" '{"a":1,}' "$(printf '{"a":"\xff"}')" \
    "$(printf '{"a":"\xc0\xaf"}')" "$(printf '%.0s[' $(seq 1 100))" '   '; do
    req POST /api/v1/session/start -H "$J" --data-binary "$body"
    error_is 400 invalid_json "malformed JSON body $(printf %q "${body:0:20}")"
done
req POST /api/v1/session/start -H "$J" --data-binary '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{}}}}}}}}}'
error_is 400 invalid_json "JSON nested deeper than the limit"

# Length limits: the JSON body cap is 65536 bytes.
pad() { python3 -c "import sys; n=int(sys.argv[1]); s='{\"pad\":\"'; e='\"}'; print(s + 'x'*(n-len(s)-len(e)) + e, end='')" "$1"; }
pad 65536 > "$T_DIR/at.json"
pad 65537 > "$T_DIR/over.json"
req POST /api/v1/session/start -H "$J" --data-binary @"$T_DIR/at.json"
status_is 200 "a JSON body of exactly 65536 bytes"
before=$(db_fingerprint)
req POST /api/v1/session/start -H "$J" --data-binary @"$T_DIR/over.json"
error_is 413 payload_too_large "a JSON body of 65537 bytes"
head -c $((11 * 1024 * 1024 + 1)) /dev/zero > "$T_DIR/huge"
req POST /api/v1/session/start -H "$J" --data-binary @"$T_DIR/huge"
status_is 413 "a body over the web server's cap"
is "$(json .error)" payload_too_large "over the server cap: JSON error code"

# No Content-Length.  lighttpd refuses it (411); Apache's mod_fcgid always
# hands the worker a length (0 for none), so it is an empty body there.
req POST /api/v1/session/start
if [ "$SERVER" = lighttpd ]; then
    error_is 411 length_required "POST without Content-Length"
    req POST /api/v1/session/start -H "$J" -H 'Transfer-Encoding: chunked' --data-binary '{}'
    status_is 200 "a chunked JSON body"
else
    status_is 200 "POST without Content-Length is an empty body behind Apache"
fi
before=$(db_fingerprint)
req POST /api/v1/session/start -H "$J" -H 'Content-Length: abc' --data-binary '{}'
like "$STATUS" '^400$' "a non-numeric Content-Length"

# Nothing the bad requests sent was stored; the server still works.
is "$(db_fingerprint)" "$before" "stored data unchanged by the bad requests"
req GET /api/v1/health
status_is 200 "still healthy afterwards"
grep -qE '"level":"error".*"status":5' "$T_DIR/error.log"; [ $? -ne 0 ]; check $? "no 5xx answered to any bad request"
finish
