#!/usr/bin/env python3
"""A fake Groq / OpenAI chat completions server for Rose's tests.

It speaks the wire format of Groq's OpenAI-compatible API: plain replies
("chat.completion"), streams of "chat.completion.chunk" events ending with
Groq's x_groq usage chunk and `data: [DONE]`, Groq error bodies, 429 with
retry-after and the x-ratelimit-* headers.  Tests script its behaviour per
request and read back what it received.  See tests/fakes/README.md.

Standard library only; listens on 127.0.0.1 only.
"""

import argparse
import json
import os
import random
import re
import socket
import string
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ["llama-3.3-70b-versatile", "llama-3.1-8b-instant"]
BODY_MAX = 16 * 1024 * 1024
COMPACT = (",", ":")  # Groq sends JSON without spaces

# Groq's error bodies: {"error": {"message", "type", "code"?}} per status.
ERRORS = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Invalid API Key"),
    403: ("permission_error", "permission_denied", "Forbidden."),
    404: ("invalid_request_error", "model_not_found",
          "The model does not exist or you do not have access to it."),
    413: ("invalid_request_error", "request_too_large", "Request Entity Too Large"),
    422: ("invalid_request_error", None, "Unprocessable Entity"),
    429: ("requests", "rate_limit_exceeded",
          "Rate limit reached for model `{model}` in organization `org_fake` service tier "
          "`on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. "
          "Please try again in {retry}s."),
    498: ("capacity_exceeded", "capacity_exceeded", "Flex tier capacity exceeded."),
    500: ("internal_server_error", None, "Internal Server Error"),
    502: ("internal_server_error", None, "Bad Gateway"),
    503: ("internal_server_error", "service_unavailable", "Service Unavailable"),
}

REASONS = {498: "Flex Tier Capacity Exceeded"}


class State:
    """The script of steps still to play and the log of requests seen."""

    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.script = []
        self.requests = []
        self.stop = threading.Event()  # wakes stalled handlers at shutdown

    def next_step(self):
        with self.lock:
            return self.script.pop(0) if self.script else None


def groq_id():
    return "req_" + "".join(random.choices(string.ascii_lowercase + string.digits, k=26))


def count_tokens(text):
    """A stand-in for a tokenizer: about one token per word or punctuation mark."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def split_tokens(text):
    """Cut a reply the way a model streams it: "Hello", " there", ","."""
    return re.findall(r"\s*\w+|\s*[^\w\s]|\s+$", text)


def default_reply(messages):
    """A deterministic reply derived from the request (no script queued).

    A request whose system prompt, or last message, asks to summarize
    ("summarize"/"summarise", any case) gets a line starting "Summary:";
    anything else gets "I hear you. You said: <first 40 chars of the last
    user message>".
    """
    texts = [m.get("content") for m in messages if isinstance(m, dict)]
    texts = [t if isinstance(t, str) else "" for t in texts]
    system = " ".join(t for m, t in zip(messages, texts) if m.get("role") == "system")
    asks = re.compile(r"summari[sz]e", re.I)
    users = [t for m, t in zip(messages, texts) if m.get("role") == "user"]
    if asks.search(system) or (texts and asks.search(texts[-1])):
        talk = [t for m, t in zip(messages, texts) if m.get("role") in ("user", "assistant")]
        first = users[0][:40] if users else ""
        return 'Summary: %d messages so far; it began with "%s".' % (len(talk), first)
    if not users:
        return "I hear you."
    return "I hear you. You said: " + users[-1][:40]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-groq/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write("fake_llm: " + (fmt % args) + "\n")

    # --- plumbing ---------------------------------------------------------

    def setup(self):
        super().setup()
        # Small writes go out at once, so a "split" stream really arrives split.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > BODY_MAX:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body, separators=COMPACT).encode()
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_error_body(self, status, model="", retry=None, step=None):
        etype, code, msg = ERRORS.get(status, ("internal_server_error", None, "Error"))
        step = step or {}
        err = {"message": step.get("message", msg.format(model=model, retry=retry or 1)),
               "type": step.get("type", etype)}
        if step.get("code", code) is not None:
            err["code"] = step.get("code", code)
        headers = {}
        if retry is not None:
            headers["retry-after"] = str(retry)
        if status == 429:
            headers.update(ratelimit_headers(exhausted=True))
        self.send(status, {"error": err}, headers=headers)

    def stall(self, seconds):
        self.server.state.stop.wait(seconds)

    # --- routes -----------------------------------------------------------

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_fake/requests":
            with self.server.state.lock:
                self.send(200, list(self.server.state.requests))
            return
        if path in ("/openai/v1/models", "/v1/models"):
            self.log_request_seen(path, None)
            if not self.authorized():
                return
            now = int(time.time())
            self.send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": now, "owned_by": "Meta",
                 "active": True, "context_window": 131072, "public_apps": None}
                for m in MODELS]}, headers=ratelimit_headers())
            return
        self.send_error_body(404, step={"message": "Unknown request URL: GET %s" % path,
                                        "code": "unknown_url"})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        try:
            raw = self.read_body()
        except ValueError:
            self.send_error_body(400)
            return
        if path == "/_fake/script":
            self.control_script(raw)
        elif path == "/_fake/reset":
            with self.server.state.lock:
                self.server.state.script.clear()
                self.server.state.requests.clear()
            self.send(200, {"ok": True})
        elif path in ("/openai/v1/chat/completions", "/v1/chat/completions"):
            self.chat(path, raw)
        else:
            self.send_error_body(404, step={"message": "Unknown request URL: POST %s" % path,
                                            "code": "unknown_url"})

    def control_script(self, raw):
        try:
            steps = json.loads(raw)
            if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
                raise ValueError
        except ValueError:
            self.send(400, {"error": "body must be a JSON list of objects"})
            return
        with self.server.state.lock:
            self.server.state.script.extend(steps)
            queued = len(self.server.state.script)
        self.send(200, {"queued": queued})

    def log_request_seen(self, path, body):
        headers = {k: ("[redacted]" if k.lower() == "authorization" else v)
                   for k, v in self.headers.items()}
        entry = {"method": self.command, "path": path, "headers": headers, "body": body,
                 "auth": self.auth_state()}
        with self.server.state.lock:
            self.server.state.requests.append(entry)

    def auth_state(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer ") or not h[7:].strip():
            return "missing"
        key = self.server.state.key
        return "ok" if key is None or h[7:] == key else "wrong"

    def authorized(self):
        if self.auth_state() == "ok":
            return True
        self.send_error_body(401)
        return False

    def chat(self, path, raw):
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.log_request_seen(path, body)
        if not self.authorized():
            return
        if not isinstance(body, dict):
            self.send_error_body(400, step={"message": "request body must be a JSON object"})
            return
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            self.send_error_body(400, step={
                "message": "'model' : property 'model' is missing"})
            return
        if not isinstance(messages, list) or not messages:
            self.send_error_body(400, step={
                "message": "'messages' : property 'messages' is missing"})
            return
        stream = body.get("stream") is True
        step = self.server.state.next_step() or {}

        if step.get("stall"):
            self.stall(float(step["stall"]))
        if step.get("delay_ms"):
            time.sleep(float(step["delay_ms"]) / 1000.0)
        status = int(step.get("status", 200))
        if status != 200:
            retry = step.get("retry_after")
            if retry is None and status == 429:
                retry = 1
            self.send_error_body(status, model=model, retry=retry, step=step)
            return

        text = step["reply"] if "reply" in step else default_reply(messages)
        prompt = sum(count_tokens(m.get("content") or "") for m in messages
                     if isinstance(m, dict) and isinstance(m.get("content"), str))
        usage = usage_object(prompt, count_tokens(text))
        usage.update(step.get("usage", {}))
        finish = step.get("finish_reason", "stop")
        if stream:
            self.stream_reply(model, text, usage, finish, step)
        else:
            self.plain_reply(model, text, usage, finish, step)

    # --- replies ----------------------------------------------------------

    def plain_reply(self, model, text, usage, finish, step):
        if step.get("malformed"):
            body = ('{"id":"chatcmpl-%s","object":"chat.completion","choices":[{"index":0,'
                    '"message":{"role":"assistant","content":"%s' % (uuid.uuid4(), text[:10]))
            self.send(200, body.encode(), headers=ratelimit_headers())
            return
        obj = {
            "id": "chatcmpl-%s" % uuid.uuid4(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "logprobs": None, "finish_reason": finish}],
            "usage": usage,
            "system_fingerprint": "fp_fake0000",
            "x_groq": {"id": groq_id()},
        }
        self.send(200, obj, headers=ratelimit_headers())

    def stream_reply(self, model, text, usage, finish, step):
        cid, xid, created = "chatcmpl-%s" % uuid.uuid4(), groq_id(), int(time.time())

        def chunk(delta, finish_reason=None, extra=None):
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created,
                   "model": model, "system_fingerprint": "fp_fake0000",
                   "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                "finish_reason": finish_reason}]}
            obj.update(extra or {})
            return obj

        tokens = split_tokens(text)
        events = [chunk({"role": "assistant", "content": ""}, extra={"x_groq": {"id": xid}})]
        events += [chunk({"content": t}) for t in tokens]
        events.append(chunk({}, finish, {"x_groq": {"id": xid, "usage": usage}}))
        crlf = bool(step.get("split"))
        nl = "\r\n" if crlf else "\n"
        wire = ["data: " + json.dumps(e, separators=COMPACT) + nl + nl for e in events]
        wire.append("data: [DONE]" + nl + nl)
        if crlf:
            wire.insert(1, ": keep-alive" + nl + nl)
        if step.get("cut"):
            wire = wire[:1 + max(1, len(tokens) // 2)]
        if step.get("malformed"):
            wire.insert(1, 'data: {"id":"%s","choices":[{"delta":{"content":"Hel%s%s' % (
                cid, nl, nl))

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in ratelimit_headers().items():
            self.send_header(k, v)
        self.end_headers()
        data = "".join(wire).encode()
        try:
            for piece in (split_pieces(data) if crlf else [w.encode() for w in wire]):
                self.write_chunk(piece)
                if crlf:
                    time.sleep(0.001)  # let each piece reach the client as its own read
            if step.get("cut"):
                # Close without the terminating chunk: the client sees a broken transfer.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def split_pieces(data):
    """Cut a byte stream into small pieces, with cuts inside every "data:"
    and between the CR and LF of every CRLF, plus every few bytes."""
    cuts = set(range(0, len(data), 7))
    for m in re.finditer(rb"data:", data):
        cuts.add(m.start() + 2)
    for m in re.finditer(rb"\r\n", data):
        cuts.add(m.start() + 1)
    cuts = sorted(c for c in cuts if 0 < c < len(data))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


def usage_object(prompt, completion):
    return {"queue_time": 0.012, "prompt_tokens": prompt, "prompt_time": 0.003,
            "completion_tokens": completion, "completion_time": 0.021,
            "total_tokens": prompt + completion, "total_time": 0.024}


def ratelimit_headers(exhausted=False):
    return {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-limit-tokens": "18000",
        "x-ratelimit-remaining-requests": "0" if exhausted else "14399",
        "x-ratelimit-remaining-tokens": "0" if exhausted else "17950",
        "x-ratelimit-reset-requests": "6s" if exhausted else "2m52.8s",
        "x-ratelimit-reset-tokens": "1.2s" if exhausted else "166ms",
        "x-request-id": groq_id(),
    }


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that hangs up (a timeout or a cap in the test) is expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--key", help="the one accepted bearer key (default: any)")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args()

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args.key)
    srv.verbose = args.verbose
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)  # readers never see a half-written file
    else:
        print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.state.stop.set()
        srv.server_close()


if __name__ == "__main__":
    main()
