#!/usr/bin/env bash
# Security headers, request ids, caching and CORS on every kind of response.
. "$(dirname "$0")/lib.sh"

CSP="default-src 'self'; media-src 'self' blob:; connect-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

security_headers() {   # security_headers WHAT
    is "$(header Content-Security-Policy)" "$CSP" "$1: Content-Security-Policy"
    like "$(header Strict-Transport-Security)" '^max-age=[0-9]{8}; includeSubDomains$' "$1: HSTS"
    is "$(header X-Frame-Options)" DENY "$1: X-Frame-Options"
    is "$(header X-Content-Type-Options)" nosniff "$1: X-Content-Type-Options"
    is "$(header Referrer-Policy)" strict-origin-when-cross-origin "$1: Referrer-Policy"
    is "$(header Permissions-Policy)" "microphone=(self), camera=(), geolocation=()" "$1: Permissions-Policy"
    is "$(header_count Content-Security-Policy)" 1 "$1: CSP sent once"
}

start_server || { not_ok "server starts"; finish; }

req GET /api/v1/health
security_headers "API 200"
is "$(header Cache-Control)" no-store "API 200: Cache-Control no-store"
first=$(header X-Request-ID)
grep -q "\"request_id\":\"$first\"" "$T_DIR/error.log"; check $? "request id appears in the log line"
req GET /api/v1/health
second=$(header X-Request-ID)
[ -n "$first" ] && [ "$first" != "$second" ]; check $? "a fresh X-Request-ID per request"
req GET /api/v1/health -H 'X-Request-ID: chosen-by-client'
[ "$(header X-Request-ID)" != chosen-by-client ]; check $? "a client's X-Request-ID is not echoed"

req GET /api/v1/no/such/route
security_headers "API 404"
is "$(header Cache-Control)" no-store "API 404: Cache-Control no-store"
is "$(header_count Access-Control-Allow-Origin)" 0 "no CORS header without ALLOWED_ORIGINS"

# A body over the web server's cap is refused before any worker sees it; the
# answer is still the API's: JSON, not cached, with the security headers.
head -c $((11 * 1024 * 1024 + 1)) /dev/zero > "$T_DIR/huge"
req POST /api/v1/session/start -H 'Content-Type: application/json' --data-binary @"$T_DIR/huge"
status_is 413 "a body over the server's cap"
like "$(header Content-Type)" '^application/json' "over the cap: JSON content type"
is "$(json .error)" payload_too_large "over the cap: JSON error code"
is "$(header Cache-Control)" no-store "over the cap: Cache-Control no-store"
security_headers "over the cap"
rm -f "$T_DIR/huge"

req POST /api/v1/session/start -H 'Origin: https://evil.example' -H 'Content-Type: application/json' -d '{}'
status_is 200 "a cross-origin POST still works server-side"
is "$(header_count Access-Control-Allow-Origin)" 0 "no Access-Control-Allow-Origin for an unlisted origin"

req GET /
status_is 200 "GET / (static page)"
security_headers "static page"
req GET /does-not-exist.html
status_is 404 "missing static page"
like "$(header Content-Type)" '^text/html' "missing page answers a page for people"
security_headers "static 404"
stop_server

start_server "ALLOWED_ORIGINS=https://rose.example, http://localhost:5173" || { not_ok "server starts with origins"; finish; }
req GET /api/v1/health -H 'Origin: https://rose.example'
is "$(header Access-Control-Allow-Origin)" https://rose.example "allowed origin echoed"
like "$(header Vary)" Origin "Vary: Origin"
like "$(header Access-Control-Expose-Headers)" X-Request-ID "X-Request-ID exposed to the page"
req GET /api/v1/health -H 'Origin: http://localhost:5173'
is "$(header Access-Control-Allow-Origin)" http://localhost:5173 "second allowed origin"
req GET /api/v1/health -H 'Origin: https://evil.example'
is "$(header_count Access-Control-Allow-Origin)" 0 "unlisted origin gets no CORS header"
req OPTIONS /api/v1/session/start -H 'Origin: https://rose.example' \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type'
status_is 204 "preflight from an allowed origin"
is "$(header Access-Control-Allow-Origin)" https://rose.example "preflight allow origin"
is "$(header Access-Control-Allow-Methods)" "GET, POST, DELETE" "preflight methods"
like "$(header Access-Control-Allow-Headers)" 'Authorization.*Content-Type' "preflight headers"
req OPTIONS /api/v1/session/start -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
error_is 403 forbidden "preflight from an unlisted origin"
req OPTIONS /api/v1/session/start
status_is 204 "plain OPTIONS"
is "$(header Allow)" "POST, OPTIONS" "OPTIONS lists the allowed methods"
finish
