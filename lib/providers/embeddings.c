/*
 * embeddings.c — OpenAI-compatible /embeddings over libcurl (embeddings.h).
 *
 * The reply is {"object": "list", "data": [{"object": "embedding", "index":
 * i, "embedding": [floats]}...], "model", "usage"}.  Each vector goes to
 * the slot its index names, so an answer in another order still lines up
 * with the texts; every slot must be filled exactly once.
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
#include "providers/embeddings.h"
#include "providers/http_common.h"

/* Floats in one vector we accept: text-embedding-3-large has 3072. */
#define DIM_MAX 4096

/* Copy one "embedding" array into out[0..dim). */
static enum rose_err
read_vector(struct json_object *arr, int dim, float *out)
{
    struct json_object *x;
    double d;
    int i;

    for (i = 0; i < dim; i++) {
        x = json_object_array_get_idx(arr, (size_t)i);
        if (!json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int))
            return ROSE_ERR_PARSE;
        d = json_object_get_double(x);
        if (!isfinite(d) || fabs(d) > 3.4e38) /* must fit a float */
            return ROSE_ERR_PARSE;
        out[i] = (float)d;
    }
    return ROSE_OK;
}

/* A 2xx reply: n embeddings of one size, placed by index. */
static enum rose_err
read_reply(const struct rose_buf *body, const struct rose_embed_opts *o, size_t n,
           struct rose_embed_result *res)
{
    struct json_object *root = NULL, *data, *item, *emb, *idx, *tokens;
    unsigned char *seen = NULL;
    size_t i, len;
    int64_t at;
    enum rose_err err;

    if ((err = rose_pcall_parse_object(body->data, body->len, &root)) != ROSE_OK)
        return err;
    err = ROSE_ERR_PARSE;
    if ((data = rose_pcall_member(root, "data", json_type_array)) == NULL ||
        json_object_array_length(data) != n)
        goto out;
    for (i = 0; i < n; i++) {
        item = json_object_array_get_idx(data, i);
        if ((emb = rose_pcall_member(item, "embedding", json_type_array)) == NULL ||
            (idx = rose_pcall_member(item, "index", json_type_int)) == NULL)
            goto out;
        len = json_object_array_length(emb);
        if (len == 0 || len > DIM_MAX)
            goto out;
        if (res->dim == 0) {
            /* The first vector sets the size: check it, then make room. */
            res->dim = (int)len;
            if (o->dim != 0 && res->dim != o->dim) {
                err = ROSE_ERR_CONFIG;
                goto out;
            }
            if ((res->vectors = calloc(n * len, sizeof(float))) == NULL ||
                (seen = calloc(n, 1)) == NULL) {
                err = ROSE_ERR_NOMEM;
                goto out;
            }
        }
        at = json_object_get_int64(idx);
        if ((int)len != res->dim || at < 0 || (uint64_t)at >= n || seen[at])
            goto out;
        seen[at] = 1;
        if (read_vector(emb, res->dim, res->vectors + (size_t)at * (size_t)res->dim) != ROSE_OK)
            goto out;
    }
    res->n = n;
    if ((tokens = rose_pcall_member(rose_pcall_member(root, "usage", json_type_object),
                                    "prompt_tokens", json_type_int)) != NULL &&
        json_object_get_int64(tokens) >= 0 && json_object_get_int64(tokens) <= INT_MAX)
        res->prompt_tokens = (int)json_object_get_int64(tokens);
    err = ROSE_OK;
out:
    if (err != ROSE_OK) {
        free(res->vectors);
        res->vectors = NULL;
        res->n = 0;
        if (err != ROSE_ERR_CONFIG)
            res->dim = 0;
    }
    free(seen);
    json_object_put(root);
    return err;
}

static enum rose_err
check_args(const struct rose_embed_opts *o, const char *const *texts, size_t n)
{
    size_t i;

    if (o == NULL || o->base_url == NULL || o->base_url[0] == '\0' || o->model == NULL ||
        o->model[0] == '\0' || o->dim < 0 || o->dim > DIM_MAX || o->connect_timeout_ms <= 0 ||
        o->timeout_ms <= 0 || o->max_response_bytes == 0)
        return ROSE_ERR_CONFIG;
    /* A CR or LF in the key would let it write its own headers. */
    if (o->api_key != NULL && rose_pcall_has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    if (texts == NULL || n == 0 || n > ROSE_EMBED_BATCH_MAX)
        return ROSE_ERR_INTERNAL;
    for (i = 0; i < n; i++)
        if (texts[i] == NULL || texts[i][0] == '\0') /* OpenAI rejects "" */
            return ROSE_ERR_INTERNAL;
    return ROSE_OK;
}

static struct json_object *
build_request(const struct rose_embed_opts *o, const char *const *texts, size_t n)
{
    struct json_object *root = json_object_new_object(), *input = json_object_new_array(), *s;
    size_t i;

    if (root == NULL || rose_json_add(root, "model", json_object_new_string(o->model)) != 0) {
        json_object_put(input);
        json_object_put(root);
        return NULL;
    }
    if (rose_json_add(root, "input", input) != 0 ||
        rose_json_add(root, "encoding_format", json_object_new_string("float")) != 0) {
        json_object_put(root);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if ((s = json_object_new_string(texts[i])) == NULL || json_object_array_add(input, s)) {
            json_object_put(s);
            json_object_put(root);
            return NULL;
        }
    }
    return root;
}

enum rose_err
rose_embed_texts(const struct rose_embed_opts *o, const char *const *texts, size_t n,
                 struct rose_embed_result *res)
{
    static const char *const hdrs[] = {"Content-Type: application/json", "Accept: application/json",
                                       "Expect:", NULL};
    struct rose_pcall pc;
    struct json_object *req = NULL;
    struct rose_buf url;
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->prompt_tokens = -1;
    res->retry_after_s = -1;
    rose_buf_init(&url, ROSE_CONF_LINE_MAX + 32);
    if ((err = check_args(o, texts, n)) != ROSE_OK)
        return err;
    rose_pcall_init(&pc, o->max_response_bytes);
    pc.errors = ROSE_PCALL_ERRORS_OPENAI; /* 498 is no special status here */

    if ((err = rose_pcall_url(&url, o->base_url)) != ROSE_OK ||
        (err = rose_buf_puts(&url, "/embeddings")) != ROSE_OK)
        goto out;
    if ((req = build_request(o, texts, n)) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    if ((err = rose_pcall_add_headers(&pc, hdrs)) != ROSE_OK ||
        (err = rose_pcall_open(&pc, url.data, o->connect_timeout_ms, o->timeout_ms, o->api_key)) !=
            ROSE_OK)
        goto out;
    if ((err = rose_pcall_json_body(&pc, req)) != ROSE_OK)
        goto out;

    if ((err = rose_pcall_run(&pc)) == ROSE_OK)
        err = read_reply(&pc.body, o, n, res);
    res->http_status = (int)pc.status;
    res->retry_after_s = pc.retry_after_s;
    memcpy(res->error_type, pc.error_type, sizeof(res->error_type));
out:
    rose_pcall_free(&pc);
    json_object_put(req);
    rose_buf_free(&url);
    return err;
}

void
rose_embed_result_free(struct rose_embed_result *res)
{
    if (res == NULL)
        return;
    free(res->vectors);
    res->vectors = NULL;
}
