#!/usr/bin/env python3
"""A fake OpenAI-compatible embeddings server for Rose's tests.

POST /v1/embeddings (also /openai/v1/embeddings) answers like OpenAI:
{"object": "list", "data": [{"object": "embedding", "index": i,
"embedding": [...]}], "model", "usage": {"prompt_tokens", "total_tokens"}}.
The vectors are deterministic: a hashed bag of words (lower-cased words,
each adding +1 or -1 to a few buckets chosen by SHA-256), L2-normalised, so
texts sharing words are similar and equal texts are equal.  Errors carry
OpenAI's error bodies.  See tests/fakes/README.md.

Standard library only; listens on 127.0.0.1 only.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import re
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY_MAX = 16 * 1024 * 1024
INPUTS_MAX = 2048
COMPACT = (",", ":")
MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
          "text-embedding-ada-002": 1536}

ERRORS = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key",
          "Incorrect API key provided. You can find your API key at "
          "https://platform.openai.com/account/api-keys."),
    403: ("invalid_request_error", "unsupported_country_region_territory",
          "Country, region, or territory not supported"),
    404: ("invalid_request_error", "model_not_found",
          "The model `{model}` does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded",
          "Rate limit reached for {model} on requests per min (RPM): Limit 3000, Used 3000, "
          "Requested 1. Please try again in 20ms."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", "service_unavailable", "The engine is currently overloaded."),
}


def embed(text, dim):
    """A hashed bag of words: each word adds ±1 to three buckets."""
    vec = [0.0] * dim
    for word in re.findall(r"[a-z0-9']+", text.lower()):
        h = hashlib.sha256(word.encode()).digest()
        for i in range(3):
            bucket = int.from_bytes(h[4 * i:4 * i + 4], "little") % dim
            vec[bucket] += 1.0 if h[12 + i] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vec))
    if norm == 0:  # no words: a fixed direction, still a unit vector
        vec[0], norm = 1.0, 1.0
    return [x / norm for x in vec]


class State:
    def __init__(self, key, dim):
        self.key = key
        self.dim = dim
        self.lock = threading.Lock()
        self.script = []
        self.requests = []
        self.stop = threading.Event()

    def next_step(self):
        with self.lock:
            return self.script.pop(0) if self.script else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_embeddings: " + (fmt % args) + "\n")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > BODY_MAX:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body, separators=COMPACT).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_fake")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_error_body(self, status, model="", step=None, param=None):
        etype, code, msg = ERRORS.get(status, ("server_error", None, "Error"))
        step = step or {}
        err = {"message": step.get("message", msg.format(model=model)),
               "type": step.get("type", etype), "param": param,
               "code": step.get("code", code)}
        headers = {}
        retry = step.get("retry_after", 1 if status == 429 else None)
        if retry is not None:
            headers["retry-after"] = str(retry)
        self.send(status, {"error": err}, headers)

    def auth_state(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer ") or not h[7:].strip():
            return "missing"
        key = self.server.state.key
        return "ok" if key is None or h[7:] == key else "wrong"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_fake/requests":
            with self.server.state.lock:
                self.send(200, list(self.server.state.requests))
        elif path in ("/v1/models", "/openai/v1/models"):
            if self.auth_state() != "ok":
                self.send_error_body(401)
                return
            self.send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1705953180, "owned_by": "system"}
                for m in MODELS]})
        else:
            self.send(404, {"error": {"message": "Invalid URL (GET %s)" % path,
                                      "type": "invalid_request_error", "param": None,
                                      "code": None}})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        try:
            raw = self.read_body()
        except ValueError:
            self.send_error_body(400)
            return
        state = self.server.state
        if path == "/_fake/script":
            try:
                steps = json.loads(raw)
                if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
                    raise ValueError
            except ValueError:
                self.send(400, {"error": "body must be a JSON list of objects"})
                return
            with state.lock:
                state.script.extend(steps)
                queued = len(state.script)
            self.send(200, {"queued": queued})
        elif path == "/_fake/reset":
            with state.lock:
                state.script.clear()
                state.requests.clear()
            self.send(200, {"ok": True})
        elif path in ("/v1/embeddings", "/openai/v1/embeddings"):
            self.embeddings(path, raw)
        else:
            self.send(404, {"error": {"message": "Invalid URL (POST %s)" % path,
                                      "type": "invalid_request_error", "param": None,
                                      "code": None}})

    def embeddings(self, path, raw):
        state = self.server.state
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k: ("[redacted]" if k.lower() == "authorization" else v)
                   for k, v in self.headers.items()}
        with state.lock:
            state.requests.append({"method": "POST", "path": path, "headers": headers,
                                   "body": body, "auth": self.auth_state()})
        if self.auth_state() != "ok":
            self.send_error_body(401)
            return
        if not isinstance(body, dict):
            self.send_error_body(400, step={"message": "We could not parse the JSON body of "
                                                       "your request."})
            return
        model, inputs = body.get("model"), body.get("input")
        if not isinstance(model, str) or not model:
            self.send_error_body(400, step={"message": "you must provide a model parameter"},
                                 param="model")
            return
        if isinstance(inputs, str):
            inputs = [inputs]
        if (not isinstance(inputs, list) or not inputs or len(inputs) > INPUTS_MAX or
                not all(isinstance(t, str) and t for t in inputs)):
            self.send_error_body(400, step={"message": "'$.input' is invalid. Please check "
                                                       "the API reference."}, param="input")
            return
        fmt = body.get("encoding_format", "float")
        if fmt not in ("float", "base64"):
            self.send_error_body(400, step={"message": "Invalid encoding_format"},
                                 param="encoding_format")
            return
        if model not in MODELS and not model.startswith("fake-"):
            self.send_error_body(404, model=model)
            return
        dim = MODELS.get(model, state.dim)
        if body.get("dimensions") is not None:
            d = body["dimensions"]
            if model.startswith("text-embedding-3") and isinstance(d, int) and 1 <= d <= dim:
                dim = d
            else:
                self.send_error_body(400, step={"message": "This model does not support "
                                                           "specifying dimensions."},
                                     param="dimensions")
                return

        step = state.next_step() or {}
        if step.get("delay_ms"):
            state.stop.wait(step["delay_ms"] / 1000.0)
        if step.get("stall"):
            state.stop.wait(step["stall"])
        if step.get("status"):
            self.send_error_body(step["status"], model=model, step=step)
            return
        if step.get("malformed"):
            self.send(200, b'{"object":"list","data":[{"object":"embedding","index":0,')
            return
        dim = step.get("dim", dim)
        vectors = [embed(t, dim) for t in inputs]
        if fmt == "base64":  # float32 little-endian, as OpenAI sends it
            vectors = [base64.b64encode(struct.pack("<%df" % dim, *v)).decode()
                       for v in vectors]
        data = [{"object": "embedding", "index": i, "embedding": v}
                for i, v in enumerate(vectors)]
        if step.get("reverse"):
            data.reverse()  # indexes still say which text each vector is for
        if step.get("drop"):
            data = data[:-1]
        tokens = sum(len(re.findall(r"\w+|[^\w\s]", t)) for t in inputs)
        self.send(200, {"object": "list", "data": data, "model": model,
                        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--key", help="the one accepted bearer key (default: any)")
    ap.add_argument("--dim", type=int, default=64, help="vector size of fake-* models")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args()

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args.key, args.dim)
    srv.verbose = args.verbose
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
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
