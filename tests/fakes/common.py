"""What every fake provider in tests/fakes/ shares: the HTTP server, the
command line, the scripted steps and the request log behind the control
API (/_fake/script, /_fake/requests, /_fake/reset), reading bodies and
sending replies.  Each fake keeps only the protocol it imitates.  See
tests/fakes/README.md.

The fakes run as `python3 tests/fakes/fake_X.py ...`, so this sibling
module is on sys.path.  Standard library only; listens on 127.0.0.1 only.
"""

import argparse
import json
import os
import random
import string
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMPACT = (",", ":")  # the providers send JSON without spaces
BEARER_KEY_HELP = "the one accepted bearer key (default: any)"

# Groq's error bodies {"error": {"message", "type", "code"?}}: (type, code,
# message) per status; each fake adds the 429 of the limit it imitates.
GROQ_ERRORS = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Invalid API Key"),
    403: ("permission_error", "permission_denied", "Forbidden."),
    404: ("invalid_request_error", "model_not_found",
          "The model does not exist or you do not have access to it."),
    413: ("invalid_request_error", "request_too_large", "Request Entity Too Large"),
    498: ("capacity_exceeded", "capacity_exceeded", "Flex tier capacity exceeded."),
    500: ("internal_server_error", None, "Internal Server Error"),
    502: ("internal_server_error", None, "Bad Gateway"),
    503: ("internal_server_error", "service_unavailable", "Service Unavailable"),
}
GROQ_REASONS = {498: "Flex Tier Capacity Exceeded"}


def random_id(prefix, n):
    """prefix and n random lower-case letters and digits (Groq's "req_…" ids)."""
    return prefix + "".join(random.choices(string.ascii_lowercase + string.digits, k=n))


def parse_json(raw):
    """The parsed JSON of a body, or its text (as logged) if it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def groq_error(table, status, step=None, message=None, param=None, **fmt):
    """Groq's (OpenAI-compatible) error body {"error": {"message", "type",
    "code"?, "param"?}} for status, from table {status: (type, code,
    message template)}; fmt fills the template, message replaces it, and a
    scripted step's "message", "type" and "code" override the fields."""
    etype, code, msg = table.get(status, ("internal_server_error", None, "Error"))
    step = step or {}
    err = {"message": step.get("message", message or msg.format(**fmt)),
           "type": step.get("type", etype)}
    if step.get("code", code) is not None:
        err["code"] = step.get("code", code)
    if param is not None:
        err["param"] = param
    return {"error": err}


class State:
    """The script of steps still to play and the log of requests seen.

    options (from the command line) become attributes, e.g. State(key,
    dim=64).state.dim.
    """

    def __init__(self, key, **options):
        self.key = key
        self.__dict__.update(options)
        self.lock = threading.Lock()
        self.script = []
        self.requests = []
        self.stop = threading.Event()  # wakes stalled handlers at shutdown

    def next_step(self, route=None):
        """The next queued step, or None.  With a route, the first step whose
        "route" is that one or that has none."""
        with self.lock:
            if route is None:
                return self.script.pop(0) if self.script else None
            for i, step in enumerate(self.script):
                if step.get("route") in (None, route):
                    return self.script.pop(i)
        return None

    def queue(self, steps):
        """Append steps to the script; the number now queued."""
        with self.lock:
            self.script.extend(steps)
            return len(self.script)

    def log(self, entry):
        with self.lock:
            self.requests.append(entry)

    def logged(self):
        with self.lock:
            return list(self.requests)

    def reset(self):
        """Empty the script and the log (and what on_reset empties)."""
        with self.lock:
            self.script.clear()
            self.requests.clear()
            self.on_reset()

    def on_reset(self):
        """More to forget at /_fake/reset (called with the lock held)."""


class Handler(BaseHTTPRequestHandler):
    """The plumbing of a fake; a subclass sets name, server_version and the
    class attributes below, and answers its provider's routes."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    name = "fake"                      # prefix of --verbose log lines
    body_max = 16 * 1024 * 1024        # read_body's default limit
    reasons = {}                       # reason phrases the standard table lacks
    fixed_headers = {}                 # sent with every answer, before the others
    secret_headers = ("authorization",)  # logged as "[redacted]"

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write(self.name + ": " + (fmt % args) + "\n")

    # --- requests -----------------------------------------------------------

    def content_length(self):
        """The Content-Length (0 if none), or -1 if it is not a number."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return -1

    def read_body(self, limit=None):
        """The body; ValueError if Content-Length is bad or over limit."""
        n = self.content_length()
        if n < 0 or n > (self.body_max if limit is None else limit):
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def provider_body(self, path, bad_length):
        """The body of a request that is not for the control API, or None if
        it was answered here: by bad_length() for a bad or too large
        Content-Length, or as a control request."""
        try:
            raw = self.read_body()
        except ValueError:
            bad_length()
            return None
        if self.control(path, raw):
            return None
        return raw

    def bearer(self):
        """The key of an "Authorization: Bearer KEY" header, or None."""
        h = self.headers.get("Authorization", "")
        return h[7:] if h.startswith("Bearer ") else None

    def key_state(self, given):
        """"missing", "ok" or "wrong" for the key a request gave (None: none);
        without --key any non-empty key is right."""
        if not given or not given.strip():
            return "missing"
        key = self.server.state.key
        return "ok" if key is None or given == key else "wrong"

    def redacted_headers(self):
        return {k: ("[redacted]" if k.lower() in self.secret_headers else v)
                for k, v in self.headers.items()}

    def record(self, **entry):
        """Log a provider request for /_fake/requests (fields in this order)."""
        self.server.state.log(entry)

    def pause(self, step):
        """Stall, then delay, as a scripted step asks."""
        stop = self.server.state.stop
        if step.get("stall"):
            stop.wait(float(step["stall"]))
        if step.get("delay_ms"):
            stop.wait(float(step["delay_ms"]) / 1000.0)

    # --- answers ------------------------------------------------------------

    def send(self, status, body, ctype="application/json", headers=None):
        """A whole answer: body is bytes, text, or a value sent as compact JSON."""
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body, separators=COMPACT).encode()
        self.send_response(status, self.reasons.get(status))
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in list(self.fixed_headers.items()) + list((headers or {}).items()):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    # --- control API --------------------------------------------------------

    def control(self, path, raw=b""):
        """Answer GET /_fake/requests, POST /_fake/script (raw: a JSON list
        of steps) or POST /_fake/reset; False if the request is none of them."""
        state = self.server.state
        if self.command == "GET" and path == "/_fake/requests":
            self.send(200, state.logged())
        elif self.command == "POST" and path == "/_fake/script":
            try:
                steps = json.loads(raw)
                if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
                    raise ValueError
            except ValueError:
                self.send(400, {"error": "body must be a JSON list of objects"})
                return True
            self.send(200, {"queued": state.queue(steps)})
        elif self.command == "POST" and path == "/_fake/reset":
            state.reset()
            self.send(200, {"ok": True})
        else:
            return False
        return True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that hangs up (a timeout or a cap in the test) is expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def run(doc, handler, make_state, key_help=BEARER_KEY_HELP, options=None):
    """A fake's main: parse --port, --port-file, --key, what options(parser)
    adds, and --verbose; serve handler on 127.0.0.1 with make_state(args) as
    server.state until SIGTERM or SIGINT.  doc's first line is --help's."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--key", help=key_help)
    if options:
        options(ap)
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args()

    srv = Server(("127.0.0.1", args.port), handler)
    srv.state = make_state(args)
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
