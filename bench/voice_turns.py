#!/usr/bin/env python3
"""voice_turns.py BASE_URL WAV N [stream] — N voice turns with one WAV in one
session; prints p50/p99 of the server's own time per turn (timings.total_ms -
timings.provider_ms), of STT and TTS time, and of the wall time.  With
"stream", the turns are streamed (Accept: text/event-stream) and it prints,
as the client sees them, the time to the transcript, to the first sentence's
audio and to done.  Numbers only; never pass/fail."""
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


def streamed(url, body, ctype):
    """POST and read the event stream: (done's data, {event: ms to its first arrival})."""
    r = urllib.request.Request(url, data=body, headers={"Content-Type": ctype,
                                                        "Accept": "text/event-stream"})
    t0 = time.perf_counter()
    first, event, done = {}, None, None
    with urllib.request.urlopen(r, timeout=120) as f:
        for raw in f:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
                first.setdefault(event, (time.perf_counter() - t0) * 1000)
            elif line.startswith("data: ") and event == "done":
                done = json.loads(line[6:])
    return done, first


def main():
    base, wav, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if len(sys.argv) > 4 and sys.argv[4] == "stream":
        return main_stream(base, wav, n)
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


def form(sid, audio):
    b = uuid.uuid4().hex
    body = (("--%s\r\nContent-Disposition: form-data; name=\"session_id\"\r\n\r\n%s\r\n"
             "--%s\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"recording.wav\"\r\n"
             "Content-Type: audio/wav\r\n\r\n") % (b, sid, b)).encode() + audio + \
           ("\r\n--%s--\r\n" % b).encode()
    return body, "multipart/form-data; boundary=" + b


def main_stream(base, wav, n):
    audio = open(wav, "rb").read()
    sid = post(base + "/api/v1/session/start", b"{}", "application/json")["session_id"]
    heard, first_audio, done, pieces, errors = [], [], [], [], 0
    for _ in range(n):
        body, ctype = form(sid, audio)
        d, first = streamed(base + "/api/v1/voice/process", body, ctype)
        if d is None or "audio" not in first:
            errors += 1
            continue
        heard.append(first["transcript"])
        first_audio.append(first["audio"])
        done.append(first["done"])
        pieces.append(len(d.get("audio_urls", [])))
    if not done:
        print("  %d streamed turns, all failed" % n)
        return
    print("  %d streamed turns (%d without audio): transcript p50 %.1f ms; first sentence's audio "
          "p50 %.1f ms, p99 %.1f ms; done p50 %.1f ms, p99 %.1f ms; %.1f pieces a reply"
          % (n, errors, pct(heard, 50), pct(first_audio, 50), pct(first_audio, 99),
             pct(done, 50), pct(done, 99), sum(pieces) / len(pieces)))


if __name__ == "__main__":
    main()
