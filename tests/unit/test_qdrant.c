/*
 * test_qdrant.c — the memory store's Qdrant backend (lib/memory/vectors.c
 * over lib/memory/qdrant.c) against tests/fakes/fake_qdrant.py, which this
 * program starts (cwd must be the repository root) and stops.  The scenarios
 * both backends share (vector_scenarios.h: one memory and validation, ranking
 * against brute force, isolation of users, deletion) with what the fake
 * received along the way (the payload, the user_id filter on EVERY search,
 * list and delete), then what only Qdrant does: creating the collection, a
 * change of embedder or dimension, and the transport's errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/text.h"
#include "memory/qdrant.h"
#include "memory/vectors.h"
#include "fake.h"
#include "t.h"
#include "vector_scenarios.h"

#define FAKE "tests/fakes/fake_qdrant.py"
#define KEY "qdrant-test-key"
#define DIM 16
#define NA 200
#define NB 60
#define EMBEDDER "test:random:16"

static struct fake fake; /* sends the api-key with every fake_call */

/* --- the fake ----------------------------------------------------------- */

/* 1 if the filter's must list holds {"key": key, "match": {"value": value}}. */
static int
has_match(struct json_object *filter, const char *key, const char *value)
{
    struct json_object *must = fake_dig(filter, "must"), *c;
    size_t i;

    for (i = 0; json_object_is_type(must, json_type_array) && i < json_object_array_length(must);
         i++) {
        c = json_object_array_get_idx(must, i);
        if (fake_dig_str(c, "key") && strcmp(fake_dig_str(c, "key"), key) == 0 &&
            fake_dig_str(c, "match.value") && strcmp(fake_dig_str(c, "match.value"), value) == 0)
            return 1;
    }
    return 0;
}

/* The number of requests logged so far. */
static size_t
requests_seen(void)
{
    struct json_object *all = fake_requests(&fake);
    size_t n = json_object_is_type(all, json_type_array) ? json_object_array_length(all) : 0;

    json_object_put(all);
    return n;
}

/*
 * Check every request from index `from` on: each search, scroll, delete and
 * count (except the must_not count of prepare) filters on user_id, the
 * searches on the embedder too.  Counts them in *n.
 */
static int
all_filtered(size_t from, int *n)
{
    struct json_object *all = fake_requests(&fake), *r, *f;
    const char *path;
    size_t i;
    int ok = all != NULL;

    *n = 0;
    for (i = from; ok && i < json_object_array_length(all); i++) {
        r = json_object_array_get_idx(all, i);
        path = fake_dig_str(r, "path");
        if (path == NULL || strstr(path, "/points/") == NULL)
            continue;
        f = fake_dig(r, "body.filter");
        if (fake_dig(f, "must_not") != NULL && strstr(path, "/points/count"))
            continue; /* prepare's count of other embedders: a number, no content */
        (*n)++;
        if (fake_dig(f, "must.0.key") == NULL ||
            strcmp(fake_dig_str(f, "must.0.key"), "user_id") != 0 ||
            fake_dig_str(f, "must.0.match.value") == NULL ||
            !rose_uuid_valid(fake_dig_str(f, "must.0.match.value"))) {
            printf("#   request %zu (%s) without a user_id filter\n", i, path);
            ok = 0;
        }
        if (strstr(path, "/points/search") && !has_match(f, "embedder", EMBEDDER) &&
            !has_match(f, "embedder", "other:16")) {
            printf("#   search %zu without an embedder filter\n", i);
            ok = 0;
        }
    }
    json_object_put(all);
    return ok;
}

/* --- the backend, for vector_scenarios.h ---------------------------------- */

static struct rose_qdrant_opts
qopts(void)
{
    struct rose_qdrant_opts o = {.url = fake.url,
                                 .api_key = KEY,
                                 .connect_timeout_ms = FAKE_CONNECT_TIMEOUT_MS,
                                 .timeout_ms = FAKE_TIMEOUT_MS,
                                 .max_response_bytes = 4 << 20};
    return o;
}

static struct rose_vectors_opts
qdrant_opts(const char *embedder, int dim)
{
    struct rose_vectors_opts o = {
        .backend = ROSE_VECTORS_QDRANT, .embedder = embedder, .dim = dim, .qdrant = qopts()};
    return o;
}

/* 1 if s is not NULL and equals want. */
static int
is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

/* The points of user (with id, unless NULL) the fake holds; -1 if it does
 * not answer. */
static long long
stored(const char *user, const char *id)
{
    struct json_object *pts = fake_call(&fake, "GET", "/_fake/points", NULL), *all, *p;
    long long n = -1;
    size_t i;

    if (pts != NULL) {
        all = fake_dig(pts, "long_term_memory");
        n = 0;
        for (i = 0; json_object_is_type(all, json_type_array) && i < json_object_array_length(all);
             i++) {
            p = json_object_array_get_idx(all, i);
            n += is(fake_dig_str(p, "payload.user_id"), user) &&
                 (id == NULL || is(fake_dig_str(p, "id"), id));
        }
    }
    json_object_put(pts);
    return n;
}

/* What the fake received from the scenarios' calls. */
static void
sent(enum vs_call call, const struct rose_memory *m, int k, float min_score)
{
    struct json_object *pts, *p;

    switch (call) {
    case VS_ADD:
        pts = fake_call(&fake, "GET", "/_fake/points", NULL);
        p = fake_dig(pts, "long_term_memory.0"); /* the only one */
        T_STR(fake_dig_str(p, "id"), m->id, "add: point id = memory id");
        T_STR(fake_dig_str(p, "payload.text"), VS_TEXT, "add: payload text");
        T_STR(fake_dig_str(p, "payload.user_id"), m->user_id, "add: payload user_id");
        T_STR(fake_dig_str(p, "payload.session_id"), m->session_id, "add: payload session_id");
        T_STR(fake_dig_str(p, "payload.memory_type"), VS_TYPE_NAME, "add: payload memory_type");
        T_INT(json_object_get_int64(fake_dig(p, "payload.created_at")), VS_AT,
              "add: payload created_at");
        T_STR(fake_dig_str(p, "payload.embedder"), EMBEDDER, "add: payload embedder");
        json_object_put(pts);
        p = fake_last_request(&fake);
        T_STR(fake_dig_str(p, "query.wait"), "true", "add: wait=true");
        T_INT(json_object_array_length(fake_dig(p, "body.points.0.vector")), DIM,
              "add: the vector sent");
        json_object_put(p);
        break;
    case VS_SEARCH:
        p = fake_last_request(&fake);
        T_OK(json_object_get_int(fake_dig(p, "body.limit")) == k &&
                 fabs(json_object_get_double(fake_dig(p, "body.score_threshold")) - min_score) <
                     1e-6 &&
                 json_object_get_boolean(fake_dig(p, "body.with_payload")),
             "search: limit, score_threshold, with_payload sent");
        T_OK(has_match(fake_dig(p, "body.filter"), "user_id", m->user_id) &&
                 has_match(fake_dig(p, "body.filter"), "embedder", EMBEDDER),
             "search: filter must user_id and embedder");
        json_object_put(p);
        break;
    case VS_MAX_SCORE:
        p = fake_last_request(&fake);
        T_OK(fake_dig(p, "body.score_threshold") == NULL, "max_score: no threshold sent");
        json_object_put(p);
        break;
    case VS_ADD_NO_SESSION:
        p = fake_last_request(&fake);
        T_OK(json_object_is_type(fake_dig(p, "body.points.0.payload.session_id"), json_type_null) &&
                 fake_dig(p, "body.points.0.payload") != NULL,
             "add without a session: session_id null");
        json_object_put(p);
        break;
    }
}

static struct vs vs = {.opts = qdrant_opts,
                       .stored = stored,
                       .sent = sent,
                       .embedder = EMBEDDER,
                       .dim = DIM,
                       .na = NA,
                       .nb = NB,
                       .rounds = 12,
                       .probes = 20};

static struct rose_vectors *
open_handle(const char *embedder, int dim, const char *key)
{
    struct rose_vectors_opts o = qdrant_opts(embedder, dim);
    struct rose_vectors *v = NULL;

    o.qdrant.api_key = key;
    return rose_vectors_open(&o, &v) == ROSE_OK ? v : NULL;
}

/* --- the tests ---------------------------------------------------------- */

static void
test_prepare(struct rose_vectors *v)
{
    struct json_object *all, *r;
    size_t from = requests_seen(), i;
    int puts = 0, indexes = 0;

    T_INT(rose_vectors_prepare(v), ROSE_OK, "prepare: creates the collection (%s)",
          rose_vectors_status(v)->message);
    all = fake_requests(&fake);
    for (i = from; all && i < json_object_array_length(all); i++) {
        r = json_object_array_get_idx(all, i);
        if (strcmp(fake_dig_str(r, "method"), "PUT") == 0 &&
            strcmp(fake_dig_str(r, "path"), "/collections/long_term_memory") == 0) {
            puts++;
            T_OK(json_object_get_int(fake_dig(r, "body.vectors.size")) == DIM &&
                     fake_dig_str(r, "body.vectors.distance") &&
                     strcmp(fake_dig_str(r, "body.vectors.distance"), "Cosine") == 0,
                 "prepare: PUT vectors {size %d, distance Cosine}", DIM);
            T_STR(fake_dig_str(r, "headers.api-key"), "[redacted]",
                  "prepare: the api-key header sent");
        }
        if (strcmp(fake_dig_str(r, "path"), "/collections/long_term_memory/index") == 0)
            indexes++;
    }
    json_object_put(all);
    T_INT(puts, 1, "prepare: one PUT of the collection");
    T_INT(indexes, 2, "prepare: payload indexes on user_id and embedder");
    from = requests_seen();
    T_INT(rose_vectors_prepare(v), ROSE_OK, "prepare again: ok");
    all = fake_requests(&fake);
    for (i = from, puts = 0; all && i < json_object_array_length(all); i++)
        puts += strcmp(fake_dig_str(json_object_array_get_idx(all, i), "path"),
                       "/collections/long_term_memory") == 0 &&
                strcmp(fake_dig_str(json_object_array_get_idx(all, i), "method"), "PUT") == 0;
    json_object_put(all);
    T_INT(puts, 0, "prepare again: the collection is not created twice");
}

static void
test_mismatch(void)
{
    struct rose_vectors *wide = open_handle("test:random:32", 32, KEY);
    struct rose_vectors *other = open_handle("other:16", DIM, KEY);
    struct rose_qdrant_opts o = qopts();
    struct rose_qdrant_result r;
    struct rose_memory *got = NULL;
    float q[32];
    size_t n = 0;

    T_INT(rose_vectors_prepare(wide), ROSE_ERR_CONFIG, "another dim: prepare refuses");
    T_STR(rose_vectors_status(wide)->error_type, "dimension_mismatch", "another dim: the kind");
    T_OK(strstr(rose_vectors_status(wide)->message, "size 16") &&
             strstr(rose_vectors_status(wide)->message, "makes 32"),
         "another dim: the message names both sizes (%s)", rose_vectors_status(wide)->message);
    vs_random_vector(q, 32);
    T_INT(rose_qdrant_search(&o, vs.user_a, EMBEDDER, q, 32, 3, -1, &got, &n, &r),
          ROSE_ERR_UPSTREAM, "a search with the wrong size: upstream error");
    T_INT(r.http_status, 400, "... HTTP 400");
    T_STR(r.error_type, "Wrong_input", "... Qdrant's kind, without the rest of the message");

    T_INT(rose_vectors_prepare(other), ROSE_ERR_CONFIG, "another embedder: prepare refuses");
    T_STR(rose_vectors_status(other)->error_type, "embedder_mismatch", "another embedder: kind");
    T_OK(strstr(rose_vectors_status(other)->message, "memories made by another embedder") != NULL,
         "another embedder: says why (%s)", rose_vectors_status(other)->message);
    T_INT(rose_vectors_search(other, vs.user_a, vs.refs_a[3].vec, 5, -1, &got, &n), ROSE_OK,
          "another embedder: a search anyway");
    T_INT(n, 0, "another embedder: never sees the first embedder's vectors");
    rose_memories_free(got, n);
    rose_vectors_close(wide);
    rose_vectors_close(other);
}

static void
test_errors(struct rose_vectors *v)
{
    struct rose_vectors *nokey = open_handle(EMBEDDER, DIM, NULL);
    struct rose_vectors *wrong = open_handle(EMBEDDER, DIM, "wrong-key");
    struct rose_vectors *ro = open_handle(EMBEDDER, DIM, "read-only");
    struct rose_vectors_opts bad = qdrant_opts(EMBEDDER, DIM);
    struct rose_qdrant_opts o = qopts();
    struct rose_qdrant_result r;
    struct rose_memory *got = NULL;
    struct rose_vectors *x = NULL;
    const struct rose_vectors_status *s = rose_vectors_status(v);
    char url[64];
    float q[DIM], best;
    size_t n = 0;
    int size;
    char dist[16];

    vs_random_vector(q, DIM);
    T_INT(rose_vectors_prepare(nokey), ROSE_ERR_UPSTREAM, "no api-key: upstream error");
    T_INT(rose_vectors_status(nokey)->http_status, 401, "no api-key: 401");
    T_INT(rose_vectors_search(wrong, vs.user_a, q, 3, -1, &got, &n), ROSE_ERR_UPSTREAM,
          "wrong api-key: upstream error");
    T_INT(rose_vectors_status(wrong)->http_status, 401, "wrong api-key: 401");
    T_INT(vs_add(ro, vs.user_a, NULL, "x", 1, q, NULL), ROSE_ERR_UPSTREAM,
          "read-only key writing: upstream error");
    T_INT(rose_vectors_status(ro)->http_status, 403, "read-only key writing: 403");

    fake_script(&fake, "[{\"status\": 429, \"retry_after\": 2}]");
    T_INT(rose_vectors_search(v, vs.user_a, q, 3, -1, &got, &n), ROSE_ERR_RATE_LIMITED,
          "429: rate limited");
    T_INT(s->http_status, 429, "429: status");
    T_OK(s->retry_after_s == 2, "429: Retry-After 2 s");
    T_STR(s->error_type, "Too_many_requests", "429: the kind of status.error");
    fake_script(&fake, "[{\"status\": 503}]");
    T_INT(vs_add(v, vs.user_a, NULL, "x", 1, q, NULL), ROSE_ERR_UNAVAILABLE, "503: unavailable");
    T_OK(s->retry_after_s == -1, "503 without Retry-After: -1");
    fake_script(&fake, "[{\"status\": 500}]");
    T_INT(rose_vectors_delete_user(v, vs.user_b), ROSE_ERR_UNAVAILABLE, "500: unavailable");
    fake_script(&fake, "[{\"malformed\": true}]");
    T_INT(rose_vectors_search(v, vs.user_a, q, 3, -1, &got, &n), ROSE_ERR_PARSE,
          "malformed: parse");
    fake_script(&fake, "[{\"foreign_point\": true}]");
    T_INT(rose_vectors_search(v, vs.user_a, q, 3, -1, &got, &n), ROSE_ERR_UPSTREAM,
          "a point of another user in the answer: refused");
    fake_script(&fake, "[{\"stall\": 3}]");
    rose_vectors_set_timeout(v, 300);
    T_INT(rose_vectors_max_score(v, vs.user_a, q, &best), ROSE_ERR_TIMEOUT,
          "stall with set_timeout(300): timeout");
    rose_vectors_set_timeout(v, 0);
    T_INT(rose_vectors_max_score(v, vs.user_a, q, &best), ROSE_OK,
          "set_timeout(0): back to normal");

    o.max_response_bytes = 200;
    T_INT(rose_qdrant_collection_get(&o, &size, dist, &r), ROSE_ERR_TOO_LARGE,
          "over max_response_bytes: too large");
    o = qopts();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", fake_closed_port());
    o.url = url;
    T_INT(rose_qdrant_collection_get(&o, &size, dist, &r), ROSE_ERR_UNAVAILABLE,
          "refused: unavailable");
    T_INT(r.http_status, 0, "refused: no status");
    o = qopts();
    o.api_key = "k\r\nX-Evil: 1";
    T_INT(rose_qdrant_collection_get(&o, &size, dist, &r), ROSE_ERR_CONFIG, "CRLF in key: config");
    o = qopts();
    o.collection = "../../etc";
    T_INT(rose_qdrant_collection_get(&o, &size, dist, &r), ROSE_ERR_CONFIG,
          "collection name with '/': config");
    o = qopts();
    o.url = "file:///etc/passwd";
    T_INT(rose_qdrant_collection_get(&o, &size, dist, &r), ROSE_ERR_CONFIG, "file:// URL: config");
    bad.qdrant.url = NULL;
    T_INT(rose_vectors_open(&bad, &x), ROSE_ERR_CONFIG, "open without QDRANT_URL: config");
    T_INT(rose_vectors_search(v, "nope", q, 3, -1, &got, &n), ROSE_ERR_INVALID_FIELD,
          "user id not a UUID: refused before any request");

    json_object_put(fake_call(&fake, "DELETE", "/collections/long_term_memory", NULL));
    T_INT(rose_vectors_search(v, vs.user_a, q, 3, -1, &got, &n), ROSE_ERR_UPSTREAM,
          "collection gone: upstream error");
    T_INT(s->http_status, 404, "collection gone: 404");
    T_STR(s->error_type, "Not_found", "collection gone: Not_found");
    T_INT(rose_vectors_prepare(v), ROSE_OK, "prepare makes it again");
    T_INT(rose_vectors_list(v, vs.user_a, &got, &n), ROSE_OK, "list of the new collection: ok");
    T_INT(n, 0, "list of the new collection: empty");
    rose_memories_free(got, n);

    rose_vectors_close(nokey);
    rose_vectors_close(wrong);
    rose_vectors_close(ro);
}

int
main(void)
{
    struct rose_vectors *v;
    size_t from;
    int up, nreq = 0;

    rose_uuid_new(vs.user_a);
    rose_uuid_new(vs.user_b);
    rose_uuid_new(vs.user_c);
    rose_uuid_new(vs.session_a);
    fake.header = "api-key: " KEY;
    up = fake_begin(&fake, "fake Qdrant", FAKE, "--key", KEY, "--read-only-key", "read-only",
                    (char *)NULL);
    if (up) {
        vs_open_checks(&vs);
        v = vs_open(&vs, EMBEDDER, DIM);
        T_OK(v != NULL, "open: ok");
        if (v != NULL) {
            test_prepare(v);
            vs_one_memory(&vs, v);
            vs_ranking(&vs, v);
            from = requests_seen();
            vs_isolation(&vs, v);
            T_OK(all_filtered(from, &nreq) && nreq > 40,
                 "isolation: every search, scroll, count and delete carried the user_id filter "
                 "(%d requests)",
                 nreq);
            test_mismatch();
            test_errors(v);
        }
        rose_vectors_close(v);
    }
    fake_end(&fake);
    return t_done();
}
