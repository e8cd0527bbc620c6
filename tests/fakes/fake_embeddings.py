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

import base64
import hashlib
import math
import re
import struct

import common

INPUTS_MAX = 2048
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


class Handler(common.Handler):
    server_version = "fake-openai/1"
    name = "fake_embeddings"
    fixed_headers = {"x-request-id": "req_fake"}

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
        self.send(status, {"error": err}, headers=headers)

    def auth_state(self):
        return self.key_state(self.bearer())

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if self.control(path):
            return
        if path in ("/v1/models", "/openai/v1/models"):
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
        raw = self.provider_body(path, lambda: self.send_error_body(400))
        if raw is None:
            return
        if path in ("/v1/embeddings", "/openai/v1/embeddings"):
            self.embeddings(path, raw)
        else:
            self.send(404, {"error": {"message": "Invalid URL (POST %s)" % path,
                                      "type": "invalid_request_error", "param": None,
                                      "code": None}})

    def embeddings(self, path, raw):
        state = self.server.state
        body = common.parse_json(raw)
        self.record(method="POST", path=path, headers=self.redacted_headers(), body=body,
                    auth=self.auth_state())
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
        self.pause(step)
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


def main():
    common.run(__doc__, Handler, lambda args: common.State(args.key, dim=args.dim),
               options=lambda ap: ap.add_argument("--dim", type=int, default=64,
                                                  help="vector size of fake-* models"))


if __name__ == "__main__":
    main()
