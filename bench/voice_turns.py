#!/usr/bin/env python3
"""voice_turns.py BASE_URL WAV N — N voice turns with one WAV in one session;
prints p50/p99 of the server's own time per turn (timings.total_ms -
timings.provider_ms), of STT and TTS time, and of the wall time.  Numbers
only; never pass/fail."""
import json
import sys
import time
import urllib.request
import uuid


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def post(url, body, ctype):
    r = urllib.request.Request(url, data=body, headers={"Content-Type": ctype})
    with urllib.request.urlopen(r, timeout=120) as f:
        return json.loads(f.read())


def main():
    base, wav, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    audio = open(wav, "rb").read()
    sid = post(base + "/api/v1/session/start", b"{}", "application/json")["session_id"]
    server, stt, tts, wall = [], [], [], []
    for _ in range(n):
        b = uuid.uuid4().hex
        body = (("--%s\r\nContent-Disposition: form-data; name=\"session_id\"\r\n\r\n%s\r\n"
                 "--%s\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"recording.wav\"\r\n"
                 "Content-Type: audio/wav\r\n\r\n") % (b, sid, b)).encode() + audio + \
               ("\r\n--%s--\r\n" % b).encode()
        t0 = time.perf_counter()
        d = post(base + "/api/v1/voice/process", body, "multipart/form-data; boundary=" + b)
        wall.append((time.perf_counter() - t0) * 1000)
        tm = d["timings"]
        server.append(tm["total_ms"] - tm["provider_ms"])
        stt.append(tm["stt_ms"])
        tts.append(tm["tts_ms"])
    print("  %d turns: server time excl. providers p50 %.2f ms, p99 %.2f ms; stt p50 %.1f ms; "
          "tts p50 %.1f ms; wall p50 %.1f ms, p99 %.1f ms"
          % (n, pct(server, 50), pct(server, 99), pct(stt, 50), pct(tts, 50),
             pct(wall, 50), pct(wall, 99)))


if __name__ == "__main__":
    main()
