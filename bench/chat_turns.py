#!/usr/bin/env python3
"""chat_turns.py BASE_URL N — N chat turns in one session over one keep-alive
connection; prints p50/p99 of the wall time per request and of the server's
own time per turn (timings.total_ms - timings.provider_ms: everything the
worker does except waiting for the LLM).  Numbers only; never pass/fail."""
import http.client
import json
import sys
import time
import urllib.parse


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    base, n = sys.argv[1], int(sys.argv[2])
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("POST", "/api/v1/session/start", body=b"{}",
              headers={"Content-Type": "application/json"})
    sid = json.loads(c.getresponse().read())["session_id"]
    wall, server, provider, errors = [], [], [], 0
    for i in range(n):
        body = json.dumps({"session_id": sid,
                           "message": "I have been thinking about my garden again, turn %d." % i})
        t0 = time.perf_counter()
        c.request("POST", "/api/v1/chat", body=body.encode(),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        wall.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            errors += 1
            continue
        tm = json.loads(data)["timings"]
        server.append(tm["total_ms"] - tm["provider_ms"])
        provider.append(tm["provider_ms"])
    print("%d turns, %d errors" % (n, errors))
    print("server time per turn (excl. provider): p50 %.3f ms, p99 %.3f ms"
          % (pct(server, 50), pct(server, 99)))
    print("provider time per turn:                p50 %.3f ms, p99 %.3f ms"
          % (pct(provider, 50), pct(provider, 99)))
    print("wall time per request (client view):   p50 %.3f ms, p99 %.3f ms"
          % (pct(wall, 50), pct(wall, 99)))


if __name__ == "__main__":
    main()
