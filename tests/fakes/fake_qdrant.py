#!/usr/bin/env python3
"""A fake Qdrant server (REST API) for Rose's tests.

In memory, exact cosine: collections with one unnamed vector (size,
distance), points with UUID or integer ids, payload filters (must, should,
must_not with match.value and has_id), search, query, scroll, count,
upsert and delete (by ids or by filter), payload indexes.  Answers and
errors have Qdrant's shapes: {"result": ..., "status": "ok", "time": t} and
{"status": {"error": "..."}, "time": t}.  Tests script failures per request
and read back what it received.  See tests/fakes/README.md.

Standard library only; listens on 127.0.0.1 only.
"""

import json
import math
import re
import time
import uuid

import common

VERSION = "1.12.4"
DISTANCES = ("Cosine", "Dot", "Euclid", "Manhattan")


class PlainText(str):
    """An answer Qdrant sends as text/plain, not wrapped in "result"."""


class QdrantError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(name):
    return QdrantError(404, "Not found: Collection `%s` doesn't exist!" % name)


def format_error(what):
    return QdrantError(400, "Format error in JSON body: %s" % what)


class Collection:
    def __init__(self, size, distance):
        self.size = size
        self.distance = distance
        self.points = {}  # canonical id -> {"id", "vector", "payload", "version"}
        self.indexes = {}  # field -> schema
        self.operation = 0

    def info(self):
        n = len(self.points)
        return {
            "status": "green",
            "optimizer_status": "ok",
            "indexed_vectors_count": 0,
            "points_count": n,
            "segments_count": 2,
            "config": {
                "params": {
                    "vectors": {"size": self.size, "distance": self.distance},
                    "shard_number": 1,
                    "replication_factor": 1,
                    "write_consistency_factor": 1,
                    "on_disk_payload": True,
                },
                "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000,
                                "max_indexing_threads": 0, "on_disk": False},
                "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                     "default_segment_number": 0, "max_segment_size": None,
                                     "memmap_threshold": None, "indexing_threshold": 20000,
                                     "flush_interval_sec": 5, "max_optimization_threads": None},
                "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
                "quantization_config": None,
            },
            "payload_schema": {k: {"data_type": v, "points": n} for k, v in self.indexes.items()},
        }


class State(common.State):
    def __init__(self, key, read_only_key):
        super().__init__(key, read_only_key=read_only_key)
        self.collections = {}

    def on_reset(self):
        self.collections.clear()


def point_id(value):
    """Qdrant ids: an unsigned integer or a UUID (any spelling; kept canonical)."""
    if isinstance(value, bool):
        raise format_error("value %s is not a valid point ID" % json.dumps(value))
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise format_error("value %s is not a valid point ID, valid values are either an "
                       "unsigned integer or a UUID" % json.dumps(value))


def normalise(vec):
    norm = math.sqrt(sum(x * x for x in vec))
    return [x / norm for x in vec] if norm > 0 else list(vec)


def score(distance, a, b):
    if distance in ("Cosine", "Dot"):
        return sum(x * y for x, y in zip(a, b))
    if distance == "Euclid":
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    return sum(abs(x - y) for x, y in zip(a, b))


def check_vector(coll, vec):
    if not isinstance(vec, list) or not all(isinstance(x, (int, float)) and
                                            not isinstance(x, bool) for x in vec):
        raise format_error("data did not match any variant of untagged enum VectorStruct")
    if len(vec) != coll.size:
        raise QdrantError(400, "Wrong input: Vector dimension error: expected dim: %d, got %d"
                          % (coll.size, len(vec)))
    return [float(x) for x in vec]


def condition_matches(cond, pid, payload):
    if not isinstance(cond, dict):
        raise format_error("data did not match any variant of untagged enum Condition")
    if "has_id" in cond:
        return pid in {point_id(i) for i in cond["has_id"]}
    if "must" in cond or "should" in cond or "must_not" in cond:
        return filter_matches(cond, pid, payload)
    key, match = cond.get("key"), cond.get("match")
    if not isinstance(key, str) or not isinstance(match, dict):
        raise format_error("data did not match any variant of untagged enum Condition")
    value = payload
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if "value" in match:
        return value == match["value"] and type(value) is type(match["value"])
    if "any" in match:
        return value in match["any"]
    if "except" in match:
        return value not in match["except"]
    raise format_error("data did not match any variant of untagged enum Match")


def filter_matches(flt, pid, payload):
    if flt is None:
        return True
    if not isinstance(flt, dict):
        raise format_error("invalid type: expected struct Filter")
    must = flt.get("must") or []
    should = flt.get("should") or []
    must_not = flt.get("must_not") or []
    for clause in (must, should, must_not):
        if not isinstance(clause, list):
            raise format_error("invalid type: expected a sequence")
    if not all(condition_matches(c, pid, payload) for c in must):
        return False
    if should and not any(condition_matches(c, pid, payload) for c in should):
        return False
    return not any(condition_matches(c, pid, payload) for c in must_not)


def with_payload(point, selector):
    if selector is True:
        return dict(point["payload"])
    if isinstance(selector, list):
        return {k: v for k, v in point["payload"].items() if k in selector}
    return None


def point_view(point, payload_sel, vector_sel, extra=None):
    out = {"id": point["id"], "version": point["version"]}
    if extra:
        out.update(extra)
    p = with_payload(point, payload_sel)
    if p is not None:
        out["payload"] = p
    if vector_sel is True:
        out["vector"] = list(point["vector"])
    return out


class Handler(common.Handler):
    server_version = "fake-qdrant/1"
    name = "fake_qdrant"
    body_max = 32 * 1024 * 1024
    secret_headers = ("api-key", "authorization")

    # --- plumbing ---------------------------------------------------------

    def ok(self, result, started):
        self.send(200, {"result": result, "status": "ok", "time": time.time() - started})

    def error(self, status, message, started, headers=None):
        self.send(status, {"status": {"error": message}, "time": time.time() - started},
                  headers=headers)

    def auth_state(self):
        state = self.server.state
        key = self.headers.get("api-key")
        if key is None:
            key = self.bearer()
        if state.key is None:
            return "ok"
        if not key:
            return "missing"
        if key == state.key:
            return "ok"
        if state.read_only_key is not None and key == state.read_only_key:
            return "read_only"
        return "wrong"

    def log_request_seen(self, path, query, body):
        self.record(method=self.command, path=path, query=query,
                    headers=self.redacted_headers(), body=body, auth=self.auth_state())

    # --- routes -----------------------------------------------------------

    def do_GET(self):
        self.route("GET")

    def do_PUT(self):
        self.route("PUT")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        started = time.time()
        path, _, qs = self.path.partition("?")
        query = dict(p.split("=", 1) if "=" in p else (p, "") for p in qs.split("&") if p)
        raw = self.provider_body(path, lambda: self.error(
            400, "Format error in JSON body: bad Content-Length", started))
        if raw is None:
            return
        if path.startswith("/_fake/"):
            self.control_points(method, path)
            return
        body = common.parse_json(raw) if raw else None
        self.log_request_seen(path, query, body)

        # Qdrant checks the key before anything else; its auth errors are text.
        auth = self.auth_state()
        if auth in ("missing", "wrong"):
            self.send(401, "Must provide an API key or an Authorization bearer token"
                      if auth == "missing" else "Invalid API key or JWT", ctype="text/plain")
            return
        if auth == "read_only" and method != "GET" and not re.search(
                r"/points/(search|query|scroll|count)$", path):
            self.send(403, "Forbidden: Write access to collection is required",
                      ctype="text/plain")
            return

        step = self.server.state.next_step() or {}
        self.pause(step)
        if step.get("status"):
            headers = {}
            if step.get("retry_after") is not None:
                headers["retry-after"] = str(step["retry_after"])
            self.error(step["status"], step.get("message", default_message(step["status"])),
                       started, headers)
            return
        if step.get("malformed"):
            self.send(200, b'{"result": [{"id": ', ctype="application/json")
            return
        if isinstance(body, str):
            self.error(400, "Format error in JSON body: expected value at line 1 column 1",
                       started)
            return
        try:
            result = self.api(method, path, query, body)
        except QdrantError as e:
            self.error(e.status, e.message, started)
            return
        if result is NotImplemented:
            self.send(404, b"", ctype="text/plain")  # actix's answer to an unknown route
            return
        if step.get("foreign_point") and isinstance(result, list):
            # A broken server that ignored the filter: another user's point.
            result.insert(0, {"id": str(uuid.uuid4()), "version": 1, "score": 0.99,
                              "payload": {"text": "someone else", "user_id": str(uuid.uuid4()),
                                          "memory_type": "fact", "created_at": 1}})
            del result[body.get("limit", 10):]
        if isinstance(result, PlainText):
            self.send(200, str(result), ctype="text/plain")
            return
        if path == "/" and method == "GET":
            self.send(200, result)
            return
        self.ok(result, started)

    def api(self, method, path, query, body):
        state = self.server.state
        if path == "/" and method == "GET":
            return {"title": "qdrant - vector search engine", "version": VERSION}
        if path in ("/healthz", "/livez", "/readyz") and method == "GET":
            return PlainText("healthz check passed")
        if path == "/collections" and method == "GET":
            with state.lock:
                return {"collections": [{"name": n} for n in sorted(state.collections)]}
        m = re.fullmatch(r"/collections/([A-Za-z0-9_.-]+)(/.*)?", path)
        if not m:
            return NotImplemented
        name, rest = m.group(1), m.group(2) or ""
        if body is not None and not isinstance(body, dict):
            raise format_error("invalid type: expected a map")
        body = body or {}
        with state.lock:
            coll = state.collections.get(name)
            if rest == "":
                if method == "GET":
                    if coll is None:
                        raise not_found(name)
                    return coll.info()
                if method == "PUT":
                    return self.create(state, name, body)
                if method == "DELETE":
                    return state.collections.pop(name, None) is not None
                return NotImplemented
            if rest == "/exists" and method == "GET":
                return {"exists": coll is not None}
            if coll is None:
                raise not_found(name)
            if rest == "/index" and method == "PUT":
                field, schema = body.get("field_name"), body.get("field_schema")
                if not isinstance(field, str):
                    raise format_error("missing field `field_name`")
                if isinstance(schema, dict):
                    schema = schema.get("type")
                if schema not in ("keyword", "integer", "float", "bool", "geo", "text",
                                  "datetime", "uuid"):
                    raise format_error("unknown variant of PayloadSchemaType")
                coll.indexes[field] = schema
                return self.update_result(coll, query)
            if rest == "/points" and method == "PUT":
                return self.upsert(coll, query, body)
            if rest == "/points/delete" and method == "POST":
                return self.delete(coll, query, body)
            if rest == "/points/search" and method == "POST":
                return self.search(coll, body, body.get("vector"))
            if rest == "/points/query" and method == "POST":
                hits = self.search(coll, body, body.get("query"))
                return {"points": hits}
            if rest == "/points/scroll" and method == "POST":
                return self.scroll(coll, body)
            if rest == "/points/count" and method == "POST":
                return {"count": sum(1 for p in coll.points.values()
                                     if filter_matches(body.get("filter"), p["id"],
                                                       p["payload"]))}
        return NotImplemented

    def create(self, state, name, body):
        vectors = body.get("vectors")
        if not isinstance(vectors, dict) or "size" not in vectors or "distance" not in vectors:
            raise format_error("missing field `vectors`" if vectors is None else
                               "data did not match any variant of untagged enum VectorsConfig")
        size, distance = vectors["size"], vectors["distance"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 1 or size > 65536:
            raise QdrantError(422, "Validation error in JSON body: [vectors.size: value %s "
                              "invalid, must be from 1 to 65536]" % json.dumps(size))
        if distance not in DISTANCES:
            raise format_error("unknown variant `%s`, expected one of `Cosine`, `Euclid`, "
                               "`Dot`, `Manhattan`" % distance)
        if name in state.collections:
            raise QdrantError(409, "Wrong input: Collection `%s` already exists!" % name)
        state.collections[name] = Collection(size, distance)
        return True

    def update_result(self, coll, query):
        coll.operation += 1
        done = query.get("wait") in ("true", "")
        return {"operation_id": coll.operation, "status": "completed" if done else "acknowledged"}

    def upsert(self, coll, query, body):
        points = body.get("points")
        if not isinstance(points, list):
            raise format_error("missing field `points`")
        staged = []
        for p in points:
            if not isinstance(p, dict) or "id" not in p or "vector" not in p:
                raise format_error("missing field `id`" if isinstance(p, dict) else
                                   "invalid type: expected struct PointStruct")
            vec = check_vector(coll, p["vector"])
            payload = p.get("payload") or {}
            if not isinstance(payload, dict):
                raise format_error("invalid type: expected a map")
            staged.append((point_id(p["id"]), vec, payload))
        for pid, vec, payload in staged:
            if coll.distance == "Cosine":
                vec = normalise(vec)
            old = coll.points.get(pid)
            coll.points[pid] = {"id": pid, "vector": vec, "payload": dict(payload),
                                "version": (old["version"] + 1) if old else coll.operation + 1}
        return self.update_result(coll, query)

    def delete(self, coll, query, body):
        if "points" in body:
            ids = {point_id(i) for i in body["points"]}
            for pid in ids:
                coll.points.pop(pid, None)
        elif "filter" in body:
            for pid in [pid for pid, p in coll.points.items()
                        if filter_matches(body["filter"], pid, p["payload"])]:
                del coll.points[pid]
        else:
            raise format_error("data did not match any variant of untagged enum PointsSelector")
        return self.update_result(coll, query)

    def search(self, coll, body, vec):
        if isinstance(vec, dict):  # named-vector form {"name": ..., "vector": [...]}
            vec = vec.get("vector")
        vec = check_vector(coll, vec)
        if coll.distance == "Cosine":
            vec = normalise(vec)
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QdrantError(422, "Validation error in JSON body: [limit: value %s invalid, "
                              "must be 1 or more]" % json.dumps(limit))
        threshold = body.get("score_threshold")
        hits = []
        for pid, p in coll.points.items():
            if not filter_matches(body.get("filter"), pid, p["payload"]):
                continue
            s = score(coll.distance, vec, p["vector"])
            if threshold is not None:
                # Similarities keep scores >= the threshold, distances <= it.
                if coll.distance in ("Cosine", "Dot") and s < threshold:
                    continue
                if coll.distance in ("Euclid", "Manhattan") and s > threshold:
                    continue
            hits.append((s, p))
        hits.sort(key=lambda h: h[0], reverse=coll.distance in ("Cosine", "Dot"))
        offset = body.get("offset") or 0
        return [point_view(p, body.get("with_payload", False), body.get("with_vector", False),
                           {"score": s})
                for s, p in hits[offset:offset + limit]]

    def scroll(self, coll, body):
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QdrantError(422, "Validation error in JSON body: [limit: value %s invalid, "
                              "must be 1 or more]" % json.dumps(limit))
        # Qdrant orders by id: integers first, then UUIDs.
        ids = sorted(coll.points, key=lambda i: (isinstance(i, str), i))
        if body.get("offset") is not None:
            start = point_id(body["offset"])
            ids = [i for i in ids if (isinstance(i, str), i) >= (isinstance(start, str), start)]
        matching = [i for i in ids
                    if filter_matches(body.get("filter"), i, coll.points[i]["payload"])]
        page = matching[:limit]
        nxt = matching[limit] if len(matching) > limit else None
        return {"points": [point_view(coll.points[i], body.get("with_payload", True),
                                      body.get("with_vector", False)) for i in page],
                "next_page_offset": nxt}

    # --- control API ------------------------------------------------------

    def control_points(self, method, path):
        """GET /_fake/points; other control paths than the common ones get a 404."""
        state = self.server.state
        if path == "/_fake/points" and method == "GET":
            with state.lock:
                out = {name: [dict(p, vector=None) for p in c.points.values()]
                       for name, c in state.collections.items()}
            self.send(200, out)
        else:
            self.send(404, {"error": "unknown control path"})


def default_message(status):
    return {
        400: "Bad request: scripted failure",
        404: "Not found: scripted failure",
        429: "Too many requests: scripted failure",
        500: "Service internal error: scripted failure",
        502: "Service internal error: bad gateway",
        503: "Service unavailable: scripted failure",
    }.get(status, "Service internal error: scripted failure")


def main():
    common.run(__doc__, Handler, lambda args: State(args.key, args.read_only_key),
               "the api-key required (default: none required)",
               lambda ap: ap.add_argument("--read-only-key",
                                          help="a key that may only read (403 on writes)"))


if __name__ == "__main__":
    main()
