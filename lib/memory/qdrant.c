/*
 * qdrant.c — Qdrant's REST API for long-term memories (qdrant.h).
 *
 * Every request is JSON in, JSON out: {"result": ..., "status": "ok",
 * "time": ...} on success, {"status": {"error": "..."}, "time": ...} on
 * failure (authentication failures are plain text).  request() does the
 * HTTP part; the functions below build bodies and read results.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/json.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/text.h"
#include "memory/qdrant.h"
#include "memory/vectors.h"
#include "providers/http_common.h"

/* Points per scroll page: a page of memories is ~300 KB at most. */
#define SCROLL_PAGE 256

/* --- JSON building: each helper adopts val, or frees it and fails ------- */

/* {"key": key, "match": {"value": value}} */
static struct json_object *
match(const char *key, const char *value)
{
    struct json_object *c = json_object_new_object(), *m = json_object_new_object();

    if (c == NULL || m == NULL || rose_json_add(m, "value", json_object_new_string(value)) != 0 ||
        rose_json_add(c, "key", json_object_new_string(key)) != 0) {
        json_object_put(c);
        json_object_put(m);
        return NULL;
    }
    if (rose_json_add(c, "match", m) != 0) {
        json_object_put(c);
        return NULL;
    }
    return c;
}

/* {"has_id": [id]} */
static struct json_object *
has_id(const char *id)
{
    struct json_object *c = json_object_new_object(), *ids = json_object_new_array();

    if (c == NULL) {
        json_object_put(ids);
        return NULL;
    }
    if (rose_json_add(c, "has_id", ids) != 0 ||
        rose_json_push(ids, json_object_new_string(id)) != 0) {
        json_object_put(c);
        return NULL;
    }
    return c;
}

/*
 * The filter of a user's points: {"must": [user_id = user_id, (has_id id),
 * (embedder = embedder)]}; with user_id NULL, every point NOT made by
 * not_embedder: {"must_not": [embedder = not_embedder]}.
 */
static struct json_object *
filter(const char *user_id, const char *id, const char *embedder, const char *not_embedder)
{
    struct json_object *f = json_object_new_object(), *list = json_object_new_array();

    if (f == NULL) {
        json_object_put(list);
        return NULL;
    }
    if (rose_json_add(f, not_embedder ? "must_not" : "must", list) != 0 ||
        (user_id && rose_json_push(list, match("user_id", user_id)) != 0) ||
        (id && rose_json_push(list, has_id(id)) != 0) ||
        (embedder && rose_json_push(list, match("embedder", embedder)) != 0) ||
        (not_embedder && rose_json_push(list, match("embedder", not_embedder)) != 0)) {
        json_object_put(f);
        return NULL;
    }
    return f;
}

/* A float as JSON with the 9 significant digits that give it back exactly
 * ("%.9g" by hand: json-c would print the double's 17). */
static struct json_object *
new_float(float x)
{
    char s[32];

    snprintf(s, sizeof(s), "%.9g", (double)x);
    return json_object_new_double_s((double)x, s);
}

static struct json_object *
new_vector(const float *vec, int dim)
{
    struct json_object *arr = json_object_new_array_ext(dim);
    int i;

    for (i = 0; arr != NULL && i < dim; i++) {
        if (rose_json_push(arr, new_float(vec[i])) != 0) {
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}

/* --- HTTP --------------------------------------------------------------- */

static const char *
collection(const struct rose_qdrant_opts *o)
{
    return o->collection ? o->collection : ROSE_QDRANT_COLLECTION;
}

static enum rose_err
check_opts(const struct rose_qdrant_opts *o)
{
    const char *c;
    size_t i;

    if (o == NULL || o->url == NULL || o->url[0] == '\0' || rose_pcall_has_control_char(o->url) ||
        o->connect_timeout_ms <= 0 || o->timeout_ms <= 0 || o->max_response_bytes == 0)
        return ROSE_ERR_CONFIG;
    /* A CR or LF in the key would let it write its own headers. */
    if (o->api_key != NULL && rose_pcall_has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    /* The name goes into the URL path unescaped. */
    c = collection(o);
    for (i = 0; c[i]; i++)
        if (i >= 64 || !((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
                         (c[i] >= '0' && c[i] <= '9') || c[i] == '_' || c[i] == '-'))
            return ROSE_ERR_CONFIG;
    return i > 0 ? ROSE_OK : ROSE_ERR_CONFIG;
}

/*
 * method {url}/collections/{collection}{suffix} with body req (NULL: none).
 * On a 2xx answer *root is the parsed reply (caller puts) and *result its
 * "result" member (owned by *root).  res is reset first.
 */
static enum rose_err
request(const struct rose_qdrant_opts *o, const char *method, const char *suffix,
        struct json_object *req, struct json_object **root, struct json_object **result,
        struct rose_qdrant_result *res)
{
    /* "Expect:" turns off the 100-continue round trip before a body. */
    static const char *const hdrs[] = {"Content-Type: application/json", "Expect:", NULL};
    struct rose_pcall pc;
    struct rose_buf url, key;
    struct json_object *reply = NULL, *st;
    const char *lines[2] = {NULL, NULL};
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    rose_buf_init(&url, ROSE_CONF_LINE_MAX + 128);
    rose_buf_init(&key, ROSE_CONF_LINE_MAX + 16);
    if ((err = check_opts(o)) != ROSE_OK)
        return err;
    rose_pcall_init(&pc, o->max_response_bytes);
    pc.errors = ROSE_PCALL_ERRORS_QDRANT; /* 498 is no special status here */

    if ((err = rose_pcall_url(&url, o->url)) != ROSE_OK ||
        (err = rose_buf_printf(&url, "/collections/%s%s", collection(o), suffix)) != ROSE_OK)
        goto out;
    if ((err = rose_pcall_add_headers(&pc, hdrs)) != ROSE_OK)
        goto out;
    if (o->api_key != NULL && o->api_key[0] != '\0') {
        if ((err = rose_buf_printf(&key, "api-key: %s", o->api_key)) != ROSE_OK)
            goto out;
        lines[0] = key.data;
        if ((err = rose_pcall_add_headers(&pc, lines)) != ROSE_OK)
            goto out;
    }
    if ((err = rose_pcall_open(&pc, url.data, o->connect_timeout_ms, o->timeout_ms, NULL)) !=
        ROSE_OK)
        goto out;
    if (req != NULL) { /* a POST, or a PUT with the same body handling */
        if ((err = rose_pcall_json_body(&pc, req)) != ROSE_OK)
            goto out;
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(pc.curl, CURLOPT_CUSTOMREQUEST, method);
    }

    if ((err = rose_pcall_run(&pc)) == ROSE_OK &&
        (err = rose_pcall_parse_object(pc.body.data, pc.body.len, &reply)) == ROSE_OK) {
        st = rose_pcall_member(reply, "status", json_type_string);
        if (st == NULL || strcmp(json_object_get_string(st), "ok") != 0 ||
            !json_object_object_get_ex(reply, "result", result)) {
            json_object_put(reply);
            err = ROSE_ERR_PARSE;
        } else {
            *root = reply;
        }
    }
    res->http_status = (int)pc.status;
    res->retry_after_s = pc.retry_after_s;
    memcpy(res->error_type, pc.error_type, sizeof(res->error_type));
out:
    rose_pcall_free(&pc);
    if (key.data != NULL)
        explicit_bzero(key.data, key.len);
    rose_buf_free(&key);
    rose_buf_free(&url);
    return err;
}

/* A request whose result we do not read. */
static enum rose_err
request_ok(const struct rose_qdrant_opts *o, const char *method, const char *suffix,
           struct json_object *req, struct rose_qdrant_result *res)
{
    struct json_object *root = NULL, *result;
    enum rose_err err = request(o, method, suffix, req, &root, &result, res);

    json_object_put(root);
    return err;
}

/* --- reading points ----------------------------------------------------- */

/*
 * One point of user_id: {"id", "score"?, "payload": {...}}.  A point of
 * another user means the server ignored our filter: refuse the whole answer.
 */
static enum rose_err
read_point(struct json_object *p, const char *user_id, struct rose_memory *m)
{
    struct json_object *payload, *id, *v;
    const char *s;

    memset(m, 0, sizeof(*m));
    if (!json_object_is_type(p, json_type_object) ||
        (id = rose_pcall_member(p, "id", json_type_string)) == NULL ||
        !rose_uuid_valid(json_object_get_string(id)) ||
        (payload = rose_pcall_member(p, "payload", json_type_object)) == NULL)
        return ROSE_ERR_PARSE;
    snprintf(m->id, sizeof(m->id), "%s", json_object_get_string(id));
    rose_uuid_lower(m->id);
    if ((v = rose_pcall_member(payload, "user_id", json_type_string)) == NULL)
        return ROSE_ERR_PARSE;
    if (strcmp(json_object_get_string(v), user_id) != 0)
        return ROSE_ERR_UPSTREAM;
    memcpy(m->user_id, user_id, 37);
    if ((v = rose_pcall_member(payload, "session_id", json_type_string)) != NULL &&
        rose_uuid_valid(json_object_get_string(v)))
        snprintf(m->session_id, sizeof(m->session_id), "%s", json_object_get_string(v));
    if ((v = rose_pcall_member(payload, "memory_type", json_type_string)) == NULL ||
        rose_memory_type_parse(json_object_get_string(v), &m->type) != ROSE_OK)
        m->type = ROSE_MEMORY_OTHER;
    if ((v = rose_pcall_member(payload, "created_at", json_type_int)) != NULL)
        m->created_at = json_object_get_int64(v);
    if ((v = rose_pcall_member(p, "score", json_type_double)) != NULL ||
        (v = rose_pcall_member(p, "score", json_type_int)) != NULL)
        m->score = (float)json_object_get_double(v);
    if ((v = rose_pcall_member(payload, "text", json_type_string)) == NULL)
        return ROSE_ERR_PARSE;
    s = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(s)) /* a NUL would cut it */
        return ROSE_ERR_PARSE;
    if ((m->text = strdup(s)) == NULL)
        return ROSE_ERR_NOMEM;
    return ROSE_OK;
}

/* Append the points of arr to *m (n used, cap allocated), at most max in all. */
static enum rose_err
read_points(struct json_object *arr, const char *user_id, struct rose_memory **m, size_t *n,
            size_t *cap, size_t max)
{
    size_t i, len = json_object_array_length(arr);
    struct rose_memory *p;
    enum rose_err err;

    for (i = 0; i < len; i++) {
        if (*n == max)
            return ROSE_ERR_TOO_LARGE;
        if (*n == *cap) {
            if ((p = realloc(*m, (*cap ? 2 * *cap : 16) * sizeof(**m))) == NULL)
                return ROSE_ERR_NOMEM;
            *m = p;
            *cap = *cap ? 2 * *cap : 16;
        }
        if ((err = read_point(json_object_array_get_idx(arr, i), user_id, &(*m)[*n])) != ROSE_OK) {
            free((*m)[*n].text);
            return err;
        }
        (*n)++;
    }
    return ROSE_OK;
}

/* --- the API ------------------------------------------------------------ */

enum rose_err
rose_qdrant_collection_get(const struct rose_qdrant_opts *o, int *size, char distance[16],
                           struct rose_qdrant_result *res)
{
    struct json_object *root = NULL, *result, *vectors, *sz, *dist;
    enum rose_err err;

    err = request(o, "GET", "", NULL, &root, &result, res);
    if (err != ROSE_OK)
        return res->http_status == 404 ? ROSE_ERR_NOT_FOUND : err;
    vectors = rose_pcall_member(result, "config", json_type_object);
    vectors = rose_pcall_member(vectors, "params", json_type_object);
    vectors = rose_pcall_member(vectors, "vectors", json_type_object);
    sz = rose_pcall_member(vectors, "size", json_type_int);
    dist = rose_pcall_member(vectors, "distance", json_type_string);
    if (sz == NULL || dist == NULL || json_object_get_int64(sz) < 1 ||
        json_object_get_int64(sz) > INT_MAX) {
        err = ROSE_ERR_PARSE; /* named vectors, or not Qdrant */
    } else {
        *size = (int)json_object_get_int64(sz);
        snprintf(distance, 16, "%s", json_object_get_string(dist));
    }
    json_object_put(root);
    return err;
}

enum rose_err
rose_qdrant_collection_create(const struct rose_qdrant_opts *o, int dim,
                              struct rose_qdrant_result *res)
{
    struct json_object *req = json_object_new_object(), *vectors = json_object_new_object();
    enum rose_err err = ROSE_ERR_NOMEM;

    if (req == NULL || vectors == NULL ||
        rose_json_add(vectors, "size", json_object_new_int(dim)) != 0 ||
        rose_json_add(vectors, "distance", json_object_new_string("Cosine")) != 0) {
        json_object_put(vectors);
        goto out;
    }
    if (rose_json_add(req, "vectors", vectors) != 0)
        goto out;
    err = request_ok(o, "PUT", "", req, res);
    if (err != ROSE_OK && res->http_status == 409)
        err = ROSE_ERR_CONFLICT;
out:
    json_object_put(req);
    return err;
}

enum rose_err
rose_qdrant_index_create(const struct rose_qdrant_opts *o, const char *field,
                         struct rose_qdrant_result *res)
{
    struct json_object *req = json_object_new_object();
    enum rose_err err = ROSE_ERR_NOMEM;

    if (req != NULL && rose_json_add(req, "field_name", json_object_new_string(field)) == 0 &&
        rose_json_add(req, "field_schema", json_object_new_string("keyword")) == 0)
        err = request_ok(o, "PUT", "/index?wait=true", req, res);
    json_object_put(req);
    return err;
}

/* The payload of memory m; session_id is null when there is none. */
static struct json_object *
new_payload(const struct rose_memory *m, const char *embedder)
{
    struct json_object *pl = json_object_new_object();

    if (pl == NULL || rose_json_add(pl, "text", json_object_new_string(m->text)) != 0 ||
        rose_json_add(pl, "user_id", json_object_new_string(m->user_id)) != 0 ||
        (m->session_id[0] ? rose_json_add(pl, "session_id", json_object_new_string(m->session_id))
                          : (json_object_object_add(pl, "session_id", NULL) != 0)) ||
        rose_json_add(pl, "memory_type", json_object_new_string(rose_memory_type_name(m->type))) !=
            0 ||
        rose_json_add(pl, "created_at", json_object_new_int64(m->created_at)) != 0 ||
        rose_json_add(pl, "embedder", json_object_new_string(embedder)) != 0) {
        json_object_put(pl);
        return NULL;
    }
    return pl;
}

enum rose_err
rose_qdrant_upsert(const struct rose_qdrant_opts *o, const struct rose_memory *m, const float *vec,
                   int dim, const char *embedder, struct rose_qdrant_result *res)
{
    struct json_object *req = json_object_new_object(), *points = json_object_new_array(),
                       *pt = json_object_new_object();
    enum rose_err err = ROSE_ERR_NOMEM;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    if (req == NULL || points == NULL || pt == NULL) {
        json_object_put(points);
        json_object_put(pt);
        goto out;
    }
    if (rose_json_add(req, "points", points) != 0) { /* points freed, pt not adopted */
        json_object_put(pt);
        goto out;
    }
    if (rose_json_push(points, pt) != 0)
        goto out;
    if (rose_json_add(pt, "id", json_object_new_string(m->id)) != 0 ||
        rose_json_add(pt, "vector", new_vector(vec, dim)) != 0 ||
        rose_json_add(pt, "payload", new_payload(m, embedder)) != 0)
        goto out;
    err = request_ok(o, "PUT", "/points?wait=true", req, res);
out:
    json_object_put(req);
    return err;
}

enum rose_err
rose_qdrant_search(const struct rose_qdrant_opts *o, const char *user_id, const char *embedder,
                   const float *vec, int dim, int k, float min_score, struct rose_memory **out,
                   size_t *n, struct rose_qdrant_result *res)
{
    struct json_object *req = json_object_new_object(), *root = NULL, *result;
    struct rose_memory *m = NULL;
    size_t got = 0, cap = 0;
    enum rose_err err = ROSE_ERR_NOMEM;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    if (k < 1 || !rose_uuid_valid(user_id) || embedder == NULL) {
        err = ROSE_ERR_INVALID_FIELD;
        goto out;
    }
    if (req == NULL || rose_json_add(req, "vector", new_vector(vec, dim)) != 0 ||
        rose_json_add(req, "filter", filter(user_id, NULL, embedder, NULL)) != 0 ||
        rose_json_add(req, "limit", json_object_new_int(k)) != 0 ||
        rose_json_add(req, "with_payload", json_object_new_boolean(1)) != 0)
        goto out;
    /* Cosine scores are >= -1: a threshold at or below it is no threshold. */
    if (min_score > -1 && rose_json_add(req, "score_threshold", new_float(min_score)) != 0)
        goto out;
    if ((err = request(o, "POST", "/points/search", req, &root, &result, res)) != ROSE_OK)
        goto out;
    if (!json_object_is_type(result, json_type_array)) {
        err = ROSE_ERR_PARSE;
        goto out;
    }
    if ((err = read_points(result, user_id, &m, &got, &cap, (size_t)k)) != ROSE_OK)
        goto out;
    *out = m;
    *n = got;
    m = NULL;
out:
    rose_memories_free(m, got);
    json_object_put(root);
    json_object_put(req);
    return err;
}

enum rose_err
rose_qdrant_list(const struct rose_qdrant_opts *o, const char *user_id, struct rose_memory **out,
                 size_t *n, struct rose_qdrant_result *res)
{
    struct json_object *req = NULL, *root = NULL, *result, *points, *next = NULL;
    struct rose_memory *m = NULL;
    size_t got = 0, cap = 0;
    enum rose_err err = ROSE_OK;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    if (!rose_uuid_valid(user_id))
        return ROSE_ERR_INVALID_FIELD;
    do {
        if ((req = json_object_new_object()) == NULL ||
            rose_json_add(req, "filter", filter(user_id, NULL, NULL, NULL)) != 0 ||
            rose_json_add(req, "limit", json_object_new_int(SCROLL_PAGE)) != 0 ||
            rose_json_add(req, "with_payload", json_object_new_boolean(1)) != 0 ||
            rose_json_add(req, "with_vector", json_object_new_boolean(0)) != 0 ||
            (next != NULL && rose_json_add(req, "offset", json_object_get(next)) != 0)) {
            err = ROSE_ERR_NOMEM;
            break;
        }
        json_object_put(root); /* owns the previous `next`, now copied into req */
        root = NULL;
        if ((err = request(o, "POST", "/points/scroll", req, &root, &result, res)) != ROSE_OK)
            break;
        if ((points = rose_pcall_member(result, "points", json_type_array)) == NULL) {
            err = ROSE_ERR_PARSE;
            break;
        }
        if ((err = read_points(points, user_id, &m, &got, &cap, ROSE_MEMORY_LIST_MAX)) != ROSE_OK)
            break;
        if (!json_object_object_get_ex(result, "next_page_offset", &next) ||
            (next != NULL && !json_object_is_type(next, json_type_string) &&
             !json_object_is_type(next, json_type_int))) {
            err = ROSE_ERR_PARSE;
            break;
        }
        json_object_put(req);
        req = NULL;
    } while (next != NULL);
    if (err == ROSE_OK) {
        *out = m;
        *n = got;
        m = NULL;
    }
    rose_memories_free(m, got);
    json_object_put(root);
    json_object_put(req);
    return err;
}

/* Count the points matching f (adopted). */
static enum rose_err
count(const struct rose_qdrant_opts *o, struct json_object *f, long long *out,
      struct rose_qdrant_result *res)
{
    struct json_object *req = json_object_new_object(), *root = NULL, *result, *c;
    enum rose_err err = ROSE_ERR_NOMEM;

    if (req == NULL) {
        json_object_put(f);
        goto out;
    }
    if (rose_json_add(req, "filter", f) != 0 ||
        rose_json_add(req, "exact", json_object_new_boolean(1)) != 0)
        goto out;
    if ((err = request(o, "POST", "/points/count", req, &root, &result, res)) != ROSE_OK)
        goto out;
    if ((c = rose_pcall_member(result, "count", json_type_int)) == NULL ||
        json_object_get_int64(c) < 0) {
        err = ROSE_ERR_PARSE;
        goto out;
    }
    *out = json_object_get_int64(c);
out:
    json_object_put(root);
    json_object_put(req);
    return err;
}

enum rose_err
rose_qdrant_delete(const struct rose_qdrant_opts *o, const char *user_id, const char *id,
                   struct rose_qdrant_result *res)
{
    struct json_object *req = NULL;
    long long n = 0;
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    if (!rose_uuid_valid(user_id) || (id != NULL && !rose_uuid_valid(id)))
        return ROSE_ERR_INVALID_FIELD;
    if (id != NULL) {
        if ((err = count(o, filter(user_id, id, NULL, NULL), &n, res)) != ROSE_OK)
            return err;
        if (n == 0)
            return ROSE_ERR_NOT_FOUND;
    }
    if ((req = json_object_new_object()) == NULL ||
        rose_json_add(req, "filter", filter(user_id, id, NULL, NULL)) != 0) {
        json_object_put(req);
        return ROSE_ERR_NOMEM;
    }
    err = request_ok(o, "POST", "/points/delete?wait=true", req, res);
    json_object_put(req);
    return err;
}

enum rose_err
rose_qdrant_count_other_embedders(const struct rose_qdrant_opts *o, const char *embedder,
                                  long long *out, struct rose_qdrant_result *res)
{
    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    return count(o, filter(NULL, NULL, NULL, embedder), out, res);
}
