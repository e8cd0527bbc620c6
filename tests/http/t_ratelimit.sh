#!/usr/bin/env bash
# Rate limits per client IP and route family, shared by every worker
# process: 15 requests spread over several workers → exactly 10 succeed.
. "$(dirname "$0")/lib.sh"

start_fake_llm || { not_ok "fake LLM starts"; finish; }
ROSE_PROCS=4 start_server LONG_TERM_MEMORY=off "RATE_LIMIT_PER_MINUTE=10" "RATE_LIMIT_HEALTH_PER_MINUTE=60" \
    "TRUSTED_PROXIES=127.0.0.1" "LLM_BASE_URL=$FAKE_URL" "LLM_API_KEY=test-key" \
    || { not_ok "server starts"; finish; }
new_session
# Each turn that gets through waits 400 ms on the LLM, so 5 at once keep
# several chat workers busy at the same time (both lighttpd and Apache then
# hand requests to more than one process).
fake_script "$(python3 -c 'import json; print(json.dumps([{"reply": "Yes.", "delay_ms": 400}] * 15))')" ||
    not_ok "fake LLM accepts the script"
# Windows are whole minutes: start the burst early in one so it cannot span two.
sec=$((10#$(date +%S)))
[ "$sec" -gt 40 ] && sleep $((61 - sec))

: > "$T_DIR/codes"
for batch in 1 2 3; do
    pids=""
    for i in 1 2 3 4 5; do
        curl -s -o /dev/null -D "$T_DIR/h.$batch.$i" -w '%{http_code}\n' \
            -H 'X-Forwarded-For: 198.51.100.7' -H 'Content-Type: application/json' \
            -d "{\"session_id\":\"$SID\",\"message\":\"hello $batch $i\"}" \
            "$BASE/api/v1/chat" >> "$T_DIR/codes" &
        pids="$pids $!"
    done
    wait $pids   # not a bare wait: the fake LLM runs in the background too
done
is "$(grep -c '^200$' "$T_DIR/codes")" 10 "exactly 10 of 15 succeed"
is "$(grep -c '^429$' "$T_DIR/codes")" 5 "the other 5 are 429"
is "$(db "SELECT count(*) FROM messages WHERE role = 'user'")" 10 "exactly 10 turns were stored"
is "$(fake_completions)" 10 "the LLM was asked 10 times: refused requests call no provider"
served=$(grep -h '"route":"POST /chat"' "$T_DIR/error.log" | grep -c '"event":"request"')
is "$served" 15 "all 15 reached a worker"
workers=$(grep -h '"route":"POST /chat"' "$T_DIR/error.log" | grep '"event":"request"' |
    grep -o '"pid":[0-9]*' | sort -u | wc -l)
[ "$workers" -ge 2 ]; check $? "served by several worker processes ($workers)"
refused=$(grep -l '^HTTP/1.1 429' "$T_DIR"/h.* | head -n 1)
grep -qi '^Retry-After: [1-9][0-9]*' "$refused"; check $? "429 carries Retry-After"
grep -qi '^RateLimit-Remaining: 0' "$refused"; check $? "429 carries RateLimit-Remaining: 0"
req POST /api/v1/chat -H 'X-Forwarded-For: 198.51.100.7' -H 'Content-Type: application/json' -d '{}'
error_is 429 rate_limited "the 16th request"
like "$(header Retry-After)" '^[1-9][0-9]?$' "Retry-After in seconds (<= 60)"

# Another client has its own window; the limit headers count down.
req POST /api/v1/chat -H 'X-Forwarded-For: 198.51.100.8' -H 'Content-Type: application/json' \
    -d "{\"session_id\":\"$SID\",\"message\":\"hi\"}"
status_is 200 "another client is not limited"
is "$(header RateLimit-Limit)" 10 "RateLimit-Limit"
is "$(header RateLimit-Remaining)" 9 "RateLimit-Remaining counts down"
like "$(header RateLimit-Reset)" '^[0-9]+$' "RateLimit-Reset"
# Other families have their own counters: sessions are still open to the limited client.
req POST /api/v1/session/start -H 'X-Forwarded-For: 198.51.100.7' -d ''
status_is 200 "session start is a separate family"
# Health has the larger limit.
req GET /api/v1/health -H 'X-Forwarded-For: 198.51.100.7'
is "$(header RateLimit-Limit)" 60 "health family limit 60"
# IPv6 clients count per /64 (one line's whole network): a second address of
# the same /64 shares the first one's window, the next /64 has its own.  Both
# requests of a pair fall in one minute's window (else the pair is asked again).
for try in 1 2 3; do
    m0=$(date +%M)
    req POST /api/v1/session/start -H 'X-Forwarded-For: 2001:db8:1:2::1' -d ''
    r1=$(header RateLimit-Remaining)
    req POST /api/v1/session/start -H 'X-Forwarded-For: 2001:db8:1:2:ffff:ffff:ffff:fffe' -d ''
    r2=$(header RateLimit-Remaining)
    req POST /api/v1/session/start -H 'X-Forwarded-For: 2001:db8:1:3::1' -d ''
    r3=$(header RateLimit-Remaining)
    [ "$(date +%M)" = "$m0" ] && break
done
is "$r1/$r2" 9/8 "IPv6: two addresses of one /64 share a window"
is "$r3" 9 "IPv6: the next /64 has its own"
# An X-Forwarded-For from an untrusted peer is ignored: without the trusted
# proxy, everyone here is 127.0.0.1.
stop_server
start_server LONG_TERM_MEMORY=off "RATE_LIMIT_PER_MINUTE=2" || { not_ok "server restarts"; finish; }
for i in 1 2 3; do req POST /api/v1/session/start -d '' -H "X-Forwarded-For: 203.0.113.$i"; done
error_is 429 rate_limited "spoofed X-Forwarded-For from an untrusted peer does not evade the limit"
finish
