/*
 * embeddings.h — an OpenAI-compatible embeddings client (OpenAI by default;
 * also Ollama, llama.cpp server, vLLM, any server with /embeddings), over
 * the libcurl easy interface.
 *
 * The shape follows providers/llm.h: options in a struct, one attempt per
 * call, never logs (the texts are what people said); retries and the
 * breaker belong to the caller, which decides from the error and the result:
 *
 *   ROSE_OK               res->vectors holds n vectors of res->dim floats
 *   ROSE_ERR_UNAVAILABLE  no connection (refused, DNS, TLS, reset), HTTP 5xx
 *                                                                  retryable
 *   ROSE_ERR_RATE_LIMITED HTTP 429; res->retry_after_s if given    retryable
 *   ROSE_ERR_TIMEOUT      connect or total timeout passed          retryable
 *   ROSE_ERR_UPSTREAM     any other HTTP status (401 bad key, 400, 404 model)
 *   ROSE_ERR_PARSE        a 2xx body that is not n embeddings of one size,
 *                         each index 0..n-1 once, every number finite
 *   ROSE_ERR_CONFIG       the options are unusable, or the provider's vectors
 *                         are not opts.dim long (res->dim says what they are:
 *                         EMBEDDINGS_DIM does not match EMBEDDINGS_MODEL)
 *   ROSE_ERR_TOO_LARGE    the response passed opts.max_response_bytes
 *   ROSE_ERR_INTERNAL     the caller broke the contract (n out of range,
 *                         a NULL or empty text)
 *   ROSE_ERR_NOMEM
 *
 * On every return res->http_status, ->retry_after_s and ->error_type say
 * what the server answered.  libcurl must be initialised once per process
 * (curl_global_init) before the first call if the program has threads.
 */
#ifndef ROSE_EMBEDDINGS_H
#define ROSE_EMBEDDINGS_H

#include <stddef.h>

#include "core/err.h"
#include "core/limits.h"

struct rose_embed_opts {
    const char *base_url;      /* e.g. "https://api.openai.com/v1"; we POST to
                                  {base_url}/embeddings; http or https only */
    const char *api_key;       /* "Authorization: Bearer <key>"; NULL or "" sends none */
    const char *model;         /* e.g. "text-embedding-3-small" */
    int dim;                   /* EMBEDDINGS_DIM: the size every vector must have,
                                  or 0 to accept the provider's (the same for all) */
    long connect_timeout_ms;   /* > 0 */
    long timeout_ms;           /* > 0: the whole call */
    size_t max_response_bytes; /* > 0: cap on the response body (a 1536-float
                                  vector is ~32 KB of JSON) */
};

struct rose_embed_result {
    float *vectors;       /* n * dim floats, text i at vectors + i * dim, as the
                             provider sent them; caller frees (rose_embed_result_free) */
    size_t n;             /* vectors held (the n asked for, on success) */
    int dim;              /* their size; on ROSE_ERR_CONFIG the provider's size */
    int prompt_tokens;    /* usage.prompt_tokens, -1 if absent */
    int http_status;      /* the server's status, 0 if no response */
    double retry_after_s; /* Retry-After on a 429 or 503, else -1 */
    char error_type[64];  /* the error body's error.code, else error.type, with any
                             byte outside [A-Za-z0-9_.-] made '_'; "" if none */
};

/*
 * Embed texts[0..n) (1 <= n <= ROSE_EMBED_BATCH_MAX; each non-empty UTF-8,
 * validated by the caller) in one request {"model", "input": [texts...],
 * "encoding_format": "float"}.  res need not be initialised: it is set on
 * every return; free it with rose_embed_result_free().  Returns an error from
 * the table at the top of this file.
 */
enum rose_err rose_embed_texts(const struct rose_embed_opts *o, const char *const *texts, size_t n,
                               struct rose_embed_result *res);

/* Free res->vectors and set it to NULL.  NULL-safe. */
void rose_embed_result_free(struct rose_embed_result *res);

#endif
