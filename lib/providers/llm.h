/*
 * llm.h — an OpenAI-compatible chat completions client (Groq by default;
 * also OpenAI, Ollama, llama.cpp server, vLLM), plain and streaming, over the
 * libcurl easy interface.
 *
 * It takes everything from struct rose_llm_opts, so it does not depend on
 * the configuration module, and it never logs: message text and keys must
 * not reach a log, and the caller knows the request id to log with.  It
 * makes one attempt per call; retries, backoff and the circuit breaker
 * belong to the caller, which decides from the error and the result:
 *
 *   ROSE_OK               a finished reply (res->text, res->finish_reason)
 *   ROSE_ERR_UNAVAILABLE  no connection (refused, DNS, TLS, reset), HTTP 5xx,
 *                         or Groq's 498 (flex capacity exceeded)   retryable
 *   ROSE_ERR_RATE_LIMITED HTTP 429; res->retry_after_s if given    retryable
 *   ROSE_ERR_TIMEOUT      connect or total timeout passed          retryable
 *   ROSE_ERR_UPSTREAM     any other HTTP status (401 bad key, 400, 404 model,
 *                         413...), or an error object in the stream
 *   ROSE_ERR_PARSE        a 2xx body that is not the JSON we expect, or a
 *                         stream cut off: it ended (or the connection broke)
 *                         before `data: [DONE]` and before any finish_reason
 *   ROSE_ERR_TOO_LARGE    the response passed opts.max_response_bytes
 *   ROSE_ERR_CONFIG       the options are unusable (see rose_llm_opts)
 *   ROSE_ERR_NOMEM, or the error the caller's on_token returned.
 *
 * On every return, res->http_status, ->retry_after_s and ->error_type say
 * what the server answered, so the caller can classify and log it.  After a
 * stream that failed part-way (ROSE_ERR_PARSE, ROSE_ERR_TIMEOUT, the
 * token callback's error...), res->text holds the text received so far:
 * useful to show, never to store as a finished reply.
 *
 * libcurl must be initialised once per process (curl_global_init) before the
 * first call if the program has threads; each call uses its own handle, so
 * calls in different threads do not interfere.
 */
#ifndef ROSE_LLM_H
#define ROSE_LLM_H

#include <stddef.h>

#include "core/err.h"

struct json_object;

struct rose_llm_opts {
    const char *base_url;      /* e.g. "https://api.groq.com/openai/v1"; we POST to
                                  {base_url}/chat/completions; http or https only */
    const char *api_key;       /* sent as "Authorization: Bearer <key>"; NULL or ""
                                  sends none (local servers) */
    const char *model;         /* e.g. "llama-3.3-70b-versatile" */
    double temperature;        /* 0 to 2 */
    int max_tokens;            /* > 0, or 0 to leave it to the server */
    long connect_timeout_ms;   /* > 0 */
    long timeout_ms;           /* > 0: the whole call, streaming included */
    size_t max_response_bytes; /* > 0: cap on the bytes the server sends in the
                                  body, SSE framing included for a stream */
};

struct rose_llm_msg {
    const char *role;    /* "system", "user" or "assistant" */
    const char *content; /* UTF-8 text (the caller validated it) */
};

struct rose_llm_result {
    char *text;            /* the reply (or the partial stream, see above); caller frees */
    char *finish_reason;   /* "stop", "length", ... or NULL */
    int prompt_tokens;     /* from usage or x_groq.usage; -1 if absent */
    int completion_tokens; /* likewise */
    int http_status;       /* the server's status, 0 if no response */
    double retry_after_s;  /* Retry-After on a 429 or 503 (seconds, or an HTTP
                              date turned into seconds from now), else -1 */
    char error_type[64];   /* the error body's error.code, else error.type, with
                              any byte outside [A-Za-z0-9_.-] made '_'; "" if
                              none.  For classification and logs, never for
                              clients. */
};

/*
 * Ask for one reply to msgs[0..n) (n > 0) without streaming.  res need not
 * be initialised: it is set on every return (see the top of this file), and
 * the caller frees it with rose_llm_result_free().  Returns an error from the
 * table at the top of this file.
 */
enum rose_err rose_llm_complete(const struct rose_llm_opts *o, const struct rose_llm_msg *msgs,
                                size_t n, struct rose_llm_result *res);

/*
 * Called with each piece of reply text as it streams, in order; tok is
 * NUL-terminated, len bytes long (never 0), valid only during the call.
 * Returning anything but ROSE_OK stops the stream: rose_llm_stream() returns
 * that error.
 */
typedef enum rose_err (*rose_llm_token_fn)(void *arg, const char *tok, size_t len);

/*
 * Like rose_llm_complete() but with "stream": true: on_token (may be NULL)
 * receives the reply as it is written, and res->text is all of it at the
 * end, equal to the pieces joined.  A stream is finished when it sent
 * `data: [DONE]` or a finish_reason; if the connection ends first the call
 * fails with ROSE_ERR_PARSE and res->text holds the partial text.
 */
enum rose_err rose_llm_stream(const struct rose_llm_opts *o, const struct rose_llm_msg *msgs,
                              size_t n, rose_llm_token_fn on_token, void *arg,
                              struct rose_llm_result *res);

/* Free the strings of res and set them to NULL.  NULL-safe. */
void rose_llm_result_free(struct rose_llm_result *res);

/*
 * One decoded `data:` payload of a streamed reply ("chat.completion.chunk").
 * The strings point into the parsed JSON, which the struct owns.
 */
struct rose_llm_chunk {
    const char *content;       /* choices[0].delta.content, or NULL if absent/null */
    size_t content_len;        /* its length (it never holds a NUL byte) */
    const char *finish_reason; /* choices[0].finish_reason, or NULL */
    const char *error;         /* an {"error": ...} chunk: its code, else its type,
                                  else ""; NULL for an ordinary chunk */
    int prompt_tokens;         /* usage, else x_groq.usage (Groq); -1 if absent */
    int completion_tokens;
    struct json_object *root; /* private: owns the strings above */
};

/*
 * Decode one chunk: json[0..n) must be one JSON object (not "[DONE]", which
 * the caller recognises), valid UTF-8, nested at most ROSE_JSON_DEPTH_MAX.
 * A chunk with no choices (Groq's or OpenAI's usage-only chunk) is valid.
 * On success *out is filled and must be released with rose_llm_chunk_free().
 * ROSE_ERR_PARSE if the JSON is invalid or a known field has the wrong type
 * (or the content holds a NUL byte), ROSE_ERR_NOMEM.
 */
enum rose_err rose_llm_decode_chunk(const char *json, size_t n, struct rose_llm_chunk *out);

/* Release what a decoded chunk holds.  NULL-safe. */
void rose_llm_chunk_free(struct rose_llm_chunk *c);

#endif
