/*
 * test_embeddings_provider.c — the OpenAI-compatible embeddings client
 * (lib/providers/embeddings.c) against tests/fakes/fake_embeddings.py, which
 * this program starts (cwd must be the repository root) and stops.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "providers/embeddings.h"
#include "fake.h"
#include "t.h"

#define FAKE "tests/fakes/fake_embeddings.py"
#define KEY "embed-test-key"

static struct fake fake;
static char base_url[64]; /* http://127.0.0.1:PORT/v1 */

static struct rose_embed_opts
opts(void)
{
    struct rose_embed_opts o = {
        .base_url = base_url,
        .api_key = KEY,
        .model = "fake-embed",
        .dim = 64,
        .connect_timeout_ms = FAKE_CONNECT_TIMEOUT_MS,
        .timeout_ms = FAKE_TIMEOUT_MS,
        .max_response_bytes = 1 << 20,
    };
    return o;
}

static void
test_embed(void)
{
    const char *texts[] = {"My mother passed away last spring", "I keep thinking about my mother",
                           "The weather is nice for cycling", "My mother passed away last spring"};
    struct rose_embed_opts o = opts();
    struct rose_embed_result r, r2;
    struct json_object *req;
    enum rose_err err;
    int same = 1, i;

    err = rose_embed_texts(&o, texts, 4, &r);
    T_INT(err, ROSE_OK, "embed 4 texts: ok");
    T_INT(r.n, 4, "embed: 4 vectors");
    T_INT(r.dim, 64, "embed: of the fake's 64 floats");
    T_INT(r.http_status, 200, "embed: status 200");
    T_OK(r.prompt_tokens > 0, "embed: usage.prompt_tokens read (%d)", r.prompt_tokens);
    if (err == ROSE_OK) {
        T_OK(fabs(t_cosine(r.vectors, r.vectors + 3 * 64, 64) - 1) < 1e-6,
             "embed: equal texts, equal vectors");
        T_OK(t_cosine(r.vectors, r.vectors + 64, 64) > t_cosine(r.vectors, r.vectors + 128, 64),
             "embed: texts sharing words are closer (%.3f > %.3f)",
             t_cosine(r.vectors, r.vectors + 64, 64), t_cosine(r.vectors, r.vectors + 128, 64));
    }
    req = fake_last_request(&fake);
    T_STR(fake_dig_str(req, "body.model"), "fake-embed", "request: model");
    T_STR(fake_dig_str(req, "body.encoding_format"), "float", "request: encoding_format float");
    T_STR(fake_dig_str(req, "body.input.1"), texts[1], "request: input is the list of texts");
    T_INT(json_object_array_length(fake_dig(req, "body.input")), 4, "request: all 4 texts");
    T_STR(fake_dig_str(req, "auth"), "ok", "request: the bearer key");
    T_OK(fake_dig(req, "body.dimensions") == NULL, "request: no dimensions parameter");
    json_object_put(req);

    /* Out of order: each vector still lands at its index. */
    fake_script(&fake, "[{\"reverse\": true}]");
    T_INT(rose_embed_texts(&o, texts, 4, &r2), ROSE_OK, "reversed data: ok");
    for (i = 0; r2.vectors && r.vectors && i < 4 * 64; i++)
        same &= r.vectors[i] == r2.vectors[i];
    T_OK(same && r2.vectors != NULL, "reversed data: vectors placed by index");
    rose_embed_result_free(&r2);
    rose_embed_result_free(&r);
    rose_embed_result_free(&r); /* twice is harmless */

    o.dim = 0;
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_OK, "dim 0: the provider's size accepted");
    T_INT(r.dim, 64, "dim 0: 64");
    rose_embed_result_free(&r);
    o.dim = 100;
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_CONFIG, "dim 100 vs 64: config error");
    T_INT(r.dim, 64, "dim mismatch: res->dim says what the provider gives");
    T_OK(r.vectors == NULL, "dim mismatch: no vectors");
    o = opts();
    fake_script(&fake, "[{\"dim\": 48}]");
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_CONFIG,
          "the provider changes its size: config error");
    o.model = "text-embedding-3-small";
    o.dim = 1536;
    T_INT(rose_embed_texts(&o, texts, 2, &r), ROSE_OK, "text-embedding-3-small: 1536 floats");
    T_INT(r.dim, 1536, "text-embedding-3-small: dim");
    rose_embed_result_free(&r);
}

static void
test_errors(void)
{
    const char *texts[] = {"hello"};
    const char *empty[] = {""};
    struct rose_embed_opts o = opts();
    struct rose_embed_result r;

    o.api_key = "wrong";
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_UPSTREAM, "401: upstream");
    T_INT(r.http_status, 401, "401: status");
    T_STR(r.error_type, "invalid_api_key", "401: error.code");
    o = opts();
    o.model = "no-such-model";
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_UPSTREAM, "404 model: upstream");
    T_STR(r.error_type, "model_not_found", "404: error.code");
    o = opts();
    fake_script(&fake, "[{\"status\": 429, \"retry_after\": 3}]");
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_RATE_LIMITED, "429: rate limited");
    T_OK(r.retry_after_s == 3, "429: Retry-After 3");
    T_STR(r.error_type, "rate_limit_exceeded", "429: error.code");
    fake_script(&fake, "[{\"status\": 500}]");
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_UNAVAILABLE, "500: unavailable");
    T_STR(r.error_type, "server_error", "500: error.type (no code)");
    T_OK(r.retry_after_s == -1, "500: no Retry-After");
    fake_script(&fake, "[{\"status\": 503}]");
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_UNAVAILABLE, "503: unavailable");
    fake_script(&fake, "[{\"malformed\": true}]");
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_PARSE, "malformed: parse");
    fake_script(&fake, "[{\"drop\": true}]");
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_PARSE, "a vector missing: parse");
    T_OK(r.vectors == NULL && r.n == 0, "a vector missing: nothing returned");
    o.timeout_ms = 300;
    fake_script(&fake, "[{\"stall\": 3}]");
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_TIMEOUT, "stall: timeout");
    o = opts();
    o.max_response_bytes = 100;
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_TOO_LARGE, "over the cap: too large");
    rose_embed_result_free(&r);
    o = opts();
    T_INT(rose_embed_texts(&o, empty, 1, &r), ROSE_ERR_INTERNAL, "an empty text: refused");
    T_INT(rose_embed_texts(&o, texts, 0, &r), ROSE_ERR_INTERNAL, "no texts: refused");
    T_INT(rose_embed_texts(&o, texts, ROSE_EMBED_BATCH_MAX + 1, &r), ROSE_ERR_INTERNAL,
          "too many texts: refused");
    o.api_key = "k\r\nX-Evil: 1";
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_CONFIG, "CRLF in key: config");
    o = opts();
    o.base_url = "file:///etc/passwd";
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_CONFIG, "file:// URL: config");
    T_OK(r.vectors == NULL && r.http_status == 0, "result set anyway");
    o = opts();
    o.base_url = "http://127.0.0.1:1/v1";
    T_INT(rose_embed_texts(&o, texts, 1, &r), ROSE_ERR_UNAVAILABLE, "refused: unavailable");
}

int
main(void)
{
    int up = fake_begin(&fake, "fake embeddings server", FAKE, "--key", KEY, "--dim", "64",
                        (char *)NULL);

    snprintf(base_url, sizeof(base_url), "%s/v1", fake.url);
    if (up) {
        test_embed();
        test_errors();
    }
    fake_end(&fake);
    return t_done();
}
