/*
 * test_qdrant.c — the memory store's Qdrant backend (lib/memory/vectors.c
 * over lib/memory/qdrant.c) against tests/fakes/fake_qdrant.py, which this
 * program starts (cwd must be the repository root) and stops.  The same
 * behaviours as test_vectors.c through REST — ranking against brute force,
 * isolation of users, deletion, a change of embedder or dimension — plus
 * what the fake received (the user_id filter on EVERY search, list and
 * delete) and the transport's errors.
 */
#include <math.h>
#include <stdint.h>
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

#define FAKE "tests/fakes/fake_qdrant.py"
#define KEY "qdrant-test-key"
#define DIM 16
#define NA 200
#define NB 60
#define EMBEDDER "test:random:16"

static struct fake fake; /* sends the api-key with every fake_call */
static char user_a[37], user_b[37];

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

/* --- helpers ------------------------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static void
random_vector(float *v, int dim)
{
    int i;

    for (i = 0; i < dim; i++) {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        v[i] = (float)((double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0 * 2 - 1);
    }
}

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

static struct rose_vectors *
open_handle(const char *embedder, int dim, const char *key)
{
    struct rose_vectors_opts o = {
        .backend = ROSE_VECTORS_QDRANT, .embedder = embedder, .dim = dim, .qdrant = qopts()};
    struct rose_vectors *v = NULL;

    o.qdrant.api_key = key;
    return rose_vectors_open(&o, &v) == ROSE_OK ? v : NULL;
}

static enum rose_err
add(struct rose_vectors *v, const char *user, const char *session, const char *text, long long at,
    const float *vec, char id_out[37])
{
    struct rose_memory m = {.type = ROSE_MEMORY_EMOTION, .created_at = at};
    char *t = strdup(text);
    enum rose_err err;

    rose_uuid_new(m.id);
    snprintf(m.user_id, sizeof(m.user_id), "%s", user);
    snprintf(m.session_id, sizeof(m.session_id), "%s", session ? session : "");
    m.text = t;
    err = rose_vectors_add(v, &m, vec);
    free(t);
    if (id_out)
        memcpy(id_out, m.id, 37);
    return err;
}

struct ref {
    char id[37];
    float vec[DIM];
};

static struct ref refs_a[NA], refs_b[NB];

struct scored {
    double score;
    const char *id;
};

static int
by_score(const void *pa, const void *pb)
{
    const struct scored *a = pa, *b = pb;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->id, b->id);
}

static double
cosine(const float *a, const float *b)
{
    double ab = 0, aa = 0, bb = 0;
    int i;

    for (i = 0; i < DIM; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

static int
matches_reference(struct rose_vectors *v, const char *user, const struct ref *refs, size_t n,
                  const float *q, int k, float min_score)
{
    static struct scored all[NA];
    struct rose_memory *got = NULL;
    size_t ngot = 0, want = 0, i;
    int ok = 1;

    for (i = 0; i < n; i++) {
        all[i].score = cosine(q, refs[i].vec);
        all[i].id = refs[i].id;
    }
    qsort(all, n, sizeof(all[0]), by_score);
    while (want < n && want < (size_t)k && all[want].score >= min_score)
        want++;
    if (rose_vectors_search(v, user, q, k, min_score, &got, &ngot) != ROSE_OK) {
        printf("#   search failed: %s\n", rose_vectors_status(v)->message);
        return 0;
    }
    if (ngot != want) {
        printf("#   %zu results, want %zu\n", ngot, want);
        ok = 0;
    }
    for (i = 0; ok && i < ngot; i++) {
        if (strcmp(got[i].id, all[i].id) != 0 || fabs(got[i].score - all[i].score) > 1e-5 ||
            strcmp(got[i].user_id, user) != 0) {
            printf("#   rank %zu: got %s %.7f, want %s %.7f\n", i, got[i].id, got[i].score,
                   all[i].id, all[i].score);
            ok = 0;
        }
    }
    rose_memories_free(got, ngot);
    return ok;
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
test_store_and_rank(struct rose_vectors *v)
{
    struct rose_memory *got = NULL;
    struct json_object *pts, *p;
    char session[37], id[37];
    float q[DIM], best;
    size_t n = 0, i;
    int ok = 1, j;

    rose_uuid_new(session);
    random_vector(q, DIM);
    T_INT(add(v, user_a, session, "Her mother died last spring", 5, q, id), ROSE_OK, "add: ok");
    pts = fake_call(&fake, "GET", "/_fake/points", NULL);
    p = fake_dig(pts, "long_term_memory.0");
    T_STR(fake_dig_str(p, "id"), id, "add: point id = memory id");
    T_STR(fake_dig_str(p, "payload.text"), "Her mother died last spring", "add: payload text");
    T_STR(fake_dig_str(p, "payload.user_id"), user_a, "add: payload user_id");
    T_STR(fake_dig_str(p, "payload.session_id"), session, "add: payload session_id");
    T_STR(fake_dig_str(p, "payload.memory_type"), "emotion", "add: payload memory_type");
    T_INT(json_object_get_int64(fake_dig(p, "payload.created_at")), 5, "add: payload created_at");
    T_STR(fake_dig_str(p, "payload.embedder"), EMBEDDER, "add: payload embedder");
    json_object_put(pts);
    p = fake_last_request(&fake);
    T_STR(fake_dig_str(p, "query.wait"), "true", "add: wait=true");
    T_INT(json_object_array_length(fake_dig(p, "body.points.0.vector")), DIM,
          "add: the vector sent");
    json_object_put(p);

    T_INT(rose_vectors_search(v, user_a, q, 3, 0.5f, &got, &n), ROSE_OK, "search: ok");
    T_OK(n == 1 && strcmp(got[0].id, id) == 0 && fabs(got[0].score - 1) < 1e-5 &&
             strcmp(got[0].text, "Her mother died last spring") == 0 &&
             strcmp(got[0].session_id, session) == 0 && got[0].type == ROSE_MEMORY_EMOTION &&
             got[0].created_at == 5,
         "search: the memory, all fields, cosine 1");
    rose_memories_free(got, n);
    p = fake_last_request(&fake);
    T_OK(json_object_get_int(fake_dig(p, "body.limit")) == 3 &&
             fabs(json_object_get_double(fake_dig(p, "body.score_threshold")) - 0.5) < 1e-6 &&
             json_object_get_boolean(fake_dig(p, "body.with_payload")),
         "search: limit, score_threshold, with_payload sent");
    T_OK(has_match(fake_dig(p, "body.filter"), "user_id", user_a) &&
             has_match(fake_dig(p, "body.filter"), "embedder", EMBEDDER),
         "search: filter must user_id and embedder");
    json_object_put(p);
    T_INT(rose_vectors_max_score(v, user_a, q, &best), ROSE_OK, "max_score: ok");
    T_OK(fabs(best - 1) < 1e-5, "max_score: 1 for the same vector");
    p = fake_last_request(&fake);
    T_OK(fake_dig(p, "body.score_threshold") == NULL, "max_score: no threshold sent");
    json_object_put(p);
    T_INT(rose_vectors_delete(v, user_a, id), ROSE_OK, "delete: ok");
    T_INT(rose_vectors_max_score(v, user_a, q, &best), ROSE_OK, "max_score after delete: ok");
    T_OK(best == -1, "max_score with no memories: -1");

    for (i = 0; i < NA; i++) {
        random_vector(refs_a[i].vec, DIM);
        ok &= add(v, user_a, NULL, "a memory of A", (long long)(NA - i), refs_a[i].vec,
                  refs_a[i].id) == ROSE_OK;
    }
    for (i = 0; i < NB; i++) {
        random_vector(refs_b[i].vec, DIM);
        ok &= add(v, user_b, NULL, "a memory of B", (long long)i, refs_b[i].vec, refs_b[i].id) ==
              ROSE_OK;
    }
    T_OK(ok, "ranking: %d memories of A and %d of B added", NA, NB);
    p = fake_last_request(&fake);
    T_OK(json_object_is_type(fake_dig(p, "body.points.0.payload.session_id"), json_type_null) &&
             fake_dig(p, "body.points.0.payload") != NULL,
         "add without a session: session_id null");
    json_object_put(p);
    for (j = 0, ok = 1; j < 12; j++) {
        random_vector(q, DIM);
        ok &= matches_reference(v, user_a, refs_a, NA, q, j % 2 ? 5 : 20, j < 6 ? -1.0f : 0.3f);
        ok &= matches_reference(v, user_b, refs_b, NB, q, 5, -1.0f);
    }
    T_OK(ok, "ranking: 24 searches of A and B equal brute force over their own memories");

    T_INT(rose_vectors_list(v, user_a, &got, &n), ROSE_OK, "list A: ok (two scroll pages)");
    T_INT(n, NA, "list A: all of A's memories");
    for (i = 0, ok = 1; i < n; i++)
        ok &= strcmp(got[i].user_id, user_a) == 0 && got[i].created_at == (long long)i + 1;
    T_OK(ok, "list A: A's only, oldest first");
    rose_memories_free(got, n);
}

static void
test_isolation(struct rose_vectors *v)
{
    struct rose_memory *got = NULL;
    size_t n = 0, i, from = requests_seen(), j;
    float best;
    int ok = 1, nreq = 0;

    for (i = 0; i < 20; i++) {
        if (rose_vectors_search(v, user_b, refs_a[i].vec, 20, -1, &got, &n) != ROSE_OK) {
            ok = 0;
            continue;
        }
        for (j = 0; j < n; j++)
            ok &= strcmp(got[j].user_id, user_b) == 0 && strcmp(got[j].id, refs_a[i].id) != 0;
        rose_memories_free(got, n);
        ok &= rose_vectors_max_score(v, user_b, refs_a[i].vec, &best) == ROSE_OK && best < 0.999f;
    }
    T_OK(ok, "isolation: B's searches and near-duplicate checks never meet A's memories");
    T_INT(rose_vectors_list(v, user_b, &got, &n), ROSE_OK, "list B: ok");
    T_INT(n, NB, "list B: B's only");
    rose_memories_free(got, n);
    T_INT(rose_vectors_delete(v, user_b, refs_a[0].id), ROSE_ERR_NOT_FOUND,
          "isolation: B deleting A's memory → not found");
    T_INT(rose_vectors_delete(v, user_a, refs_a[0].id), ROSE_OK,
          "isolation: ... and it is still there for A to delete");
    T_INT(rose_vectors_delete_user(v, user_b), ROSE_OK, "delete_user B: ok");
    T_INT(rose_vectors_list(v, user_b, &got, &n), ROSE_OK, "list B after delete_user: ok");
    T_INT(n, 0, "list B after delete_user: empty");
    rose_memories_free(got, n);
    T_INT(rose_vectors_list(v, user_a, &got, &n), ROSE_OK, "list A after delete_user B: ok");
    T_INT(n, NA - 1, "list A after delete_user B: untouched");
    rose_memories_free(got, n);
    T_OK(all_filtered(from, &nreq) && nreq > 40,
         "every search, scroll, count and delete carried the user_id filter (%d requests)", nreq);
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
    random_vector(q, 32);
    T_INT(rose_qdrant_search(&o, user_a, EMBEDDER, q, 32, 3, -1, &got, &n, &r), ROSE_ERR_UPSTREAM,
          "a search with the wrong size: upstream error");
    T_INT(r.http_status, 400, "... HTTP 400");
    T_STR(r.error_type, "Wrong_input", "... Qdrant's kind, without the rest of the message");

    T_INT(rose_vectors_prepare(other), ROSE_ERR_CONFIG, "another embedder: prepare refuses");
    T_STR(rose_vectors_status(other)->error_type, "embedder_mismatch", "another embedder: kind");
    T_OK(strstr(rose_vectors_status(other)->message, "memories made by another embedder") != NULL,
         "another embedder: says why (%s)", rose_vectors_status(other)->message);
    T_INT(rose_vectors_search(other, user_a, refs_a[3].vec, 5, -1, &got, &n), ROSE_OK,
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
    struct rose_vectors_opts bad = {
        .backend = ROSE_VECTORS_QDRANT, .embedder = EMBEDDER, .dim = DIM, .qdrant = qopts()};
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

    random_vector(q, DIM);
    T_INT(rose_vectors_prepare(nokey), ROSE_ERR_UPSTREAM, "no api-key: upstream error");
    T_INT(rose_vectors_status(nokey)->http_status, 401, "no api-key: 401");
    T_INT(rose_vectors_search(wrong, user_a, q, 3, -1, &got, &n), ROSE_ERR_UPSTREAM,
          "wrong api-key: upstream error");
    T_INT(rose_vectors_status(wrong)->http_status, 401, "wrong api-key: 401");
    T_INT(add(ro, user_a, NULL, "x", 1, q, NULL), ROSE_ERR_UPSTREAM,
          "read-only key writing: upstream error");
    T_INT(rose_vectors_status(ro)->http_status, 403, "read-only key writing: 403");

    fake_script(&fake, "[{\"status\": 429, \"retry_after\": 2}]");
    T_INT(rose_vectors_search(v, user_a, q, 3, -1, &got, &n), ROSE_ERR_RATE_LIMITED,
          "429: rate limited");
    T_INT(s->http_status, 429, "429: status");
    T_OK(s->retry_after_s == 2, "429: Retry-After 2 s");
    T_STR(s->error_type, "Too_many_requests", "429: the kind of status.error");
    fake_script(&fake, "[{\"status\": 503}]");
    T_INT(add(v, user_a, NULL, "x", 1, q, NULL), ROSE_ERR_UNAVAILABLE, "503: unavailable");
    T_OK(s->retry_after_s == -1, "503 without Retry-After: -1");
    fake_script(&fake, "[{\"status\": 500}]");
    T_INT(rose_vectors_delete_user(v, user_b), ROSE_ERR_UNAVAILABLE, "500: unavailable");
    fake_script(&fake, "[{\"malformed\": true}]");
    T_INT(rose_vectors_search(v, user_a, q, 3, -1, &got, &n), ROSE_ERR_PARSE, "malformed: parse");
    fake_script(&fake, "[{\"foreign_point\": true}]");
    T_INT(rose_vectors_search(v, user_a, q, 3, -1, &got, &n), ROSE_ERR_UPSTREAM,
          "a point of another user in the answer: refused");
    fake_script(&fake, "[{\"stall\": 3}]");
    rose_vectors_set_timeout(v, 300);
    T_INT(rose_vectors_max_score(v, user_a, q, &best), ROSE_ERR_TIMEOUT,
          "stall with set_timeout(300): timeout");
    rose_vectors_set_timeout(v, 0);
    T_INT(rose_vectors_max_score(v, user_a, q, &best), ROSE_OK, "set_timeout(0): back to normal");

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
    T_INT(rose_vectors_search(v, user_a, q, 3, -1, &got, &n), ROSE_ERR_UPSTREAM,
          "collection gone: upstream error");
    T_INT(s->http_status, 404, "collection gone: 404");
    T_STR(s->error_type, "Not_found", "collection gone: Not_found");
    T_INT(rose_vectors_prepare(v), ROSE_OK, "prepare makes it again");
    T_INT(rose_vectors_list(v, user_a, &got, &n), ROSE_OK, "list of the new collection: ok");
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
    int up;

    rose_uuid_new(user_a);
    rose_uuid_new(user_b);
    fake.header = "api-key: " KEY;
    up = fake_begin(&fake, "fake Qdrant", FAKE, "--key", KEY, "--read-only-key", "read-only",
                    (char *)NULL);
    if (up) {
        v = open_handle(EMBEDDER, DIM, KEY);
        T_OK(v != NULL, "open: ok");
        if (v != NULL) {
            test_prepare(v);
            test_store_and_rank(v);
            test_isolation(v);
            test_mismatch();
            test_errors(v);
        }
        rose_vectors_close(v);
    }
    fake_end(&fake);
    return t_done();
}
