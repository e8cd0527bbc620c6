#!/usr/bin/env python3
"""A fake Groq / OpenAI chat completions server for Rose's tests.

It speaks the wire format of Groq's OpenAI-compatible API: plain replies
("chat.completion"), streams of "chat.completion.chunk" events ending with
Groq's x_groq usage chunk and `data: [DONE]`, Groq error bodies, 429 with
retry-after and the x-ratelimit-* headers.  Tests script its behaviour per
request and read back what it received.  See tests/fakes/README.md.

Standard library only; listens on 127.0.0.1 only.
"""

import json
import re
import socket
import time
import uuid

import common
from common import COMPACT

MODELS = ["llama-3.3-70b-versatile", "llama-3.1-8b-instant"]

# Groq's error bodies per status (common.GROQ_ERRORS), with chat's 422 and 429.
ERRORS = {
    **common.GROQ_ERRORS,
    422: ("invalid_request_error", None, "Unprocessable Entity"),
    429: ("requests", "rate_limit_exceeded",
          "Rate limit reached for model `{model}` in organization `org_fake` service tier "
          "`on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. "
          "Please try again in {retry}s."),
}


def groq_id():
    return common.random_id("req_", 26)


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


class Handler(common.Handler):
    server_version = "fake-groq/1"
    name = "fake_llm"
    reasons = common.GROQ_REASONS

    def setup(self):
        super().setup()
        # Small writes go out at once, so a "split" stream really arrives split.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_error_body(self, status, model="", retry=None, step=None):
        body = common.groq_error(ERRORS, status, step, model=model, retry=retry or 1)
        headers = {}
        if retry is not None:
            headers["retry-after"] = str(retry)
        if status == 429:
            headers.update(ratelimit_headers(exhausted=True))
        self.send(status, body, headers=headers)

    # --- routes -----------------------------------------------------------

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if self.control(path):
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
        raw = self.provider_body(path, lambda: self.send_error_body(400))
        if raw is None:
            return
        if path in ("/openai/v1/chat/completions", "/v1/chat/completions"):
            self.chat(path, raw)
        else:
            self.send_error_body(404, step={"message": "Unknown request URL: POST %s" % path,
                                            "code": "unknown_url"})

    def log_request_seen(self, path, body):
        self.record(method=self.command, path=path, headers=self.redacted_headers(), body=body,
                    auth=self.auth_state())

    def auth_state(self):
        return self.key_state(self.bearer())

    def authorized(self):
        if self.auth_state() == "ok":
            return True
        self.send_error_body(401)
        return False

    def chat(self, path, raw):
        body = common.parse_json(raw)
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
        self.pause(step)
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


def main():
    common.run(__doc__, Handler, lambda args: common.State(args.key))


if __name__ == "__main__":
    main()
