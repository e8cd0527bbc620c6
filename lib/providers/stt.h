/*
 * stt.h — an OpenAI-compatible speech-to-text client (Groq Whisper by
 * default; also OpenAI and any server with the same /audio/transcriptions
 * endpoint), over the libcurl easy interface and its MIME API.
 *
 * The shape follows providers/llm.h: options in a struct so it does not
 * depend on the configuration module; it never logs (transcripts, audio and
 * keys must not reach a log); one attempt per call, and retries, backoff and
 * the circuit breaker belong to the caller, which decides from the error and
 * the result:
 *
 *   ROSE_OK               a transcript (res->text; "" when nothing was heard)
 *   ROSE_ERR_UNAVAILABLE  no connection (refused, DNS, TLS, reset), HTTP 5xx,
 *                         or Groq's 498 (flex capacity exceeded)   retryable
 *   ROSE_ERR_RATE_LIMITED HTTP 429; res->retry_after_s if given    retryable
 *   ROSE_ERR_TIMEOUT      connect or total timeout passed          retryable
 *   ROSE_ERR_UPSTREAM     any other HTTP status: 401 bad key, 400 a file the
 *                         server cannot decode, 413 over its upload limit,
 *                         404 unknown model...
 *   ROSE_ERR_PARSE        a 2xx body that is not {"text": "..."} (valid
 *                         UTF-8 JSON, no NUL in the text)
 *   ROSE_ERR_TOO_LARGE    the response passed opts.max_response_bytes
 *   ROSE_ERR_CONFIG       the options are unusable (see rose_stt_opts)
 *   ROSE_ERR_INTERNAL     the caller broke the contract (no audio, a file name
 *                         or content type outside what is documented)
 *   ROSE_ERR_NOMEM
 *
 * On every return, res->http_status, ->retry_after_s, ->error_type and
 * ->request_id say what the server answered, so the caller can classify and
 * log it.  libcurl must be initialised once per process (curl_global_init)
 * before the first call if the program has threads.
 */
#ifndef ROSE_STT_H
#define ROSE_STT_H

#include <stddef.h>

#include "core/err.h"

struct rose_stt_opts {
    const char *base_url;      /* e.g. "https://api.groq.com/openai/v1"; we POST to
                                  {base_url}/audio/transcriptions; http or https only */
    const char *api_key;       /* sent as "Authorization: Bearer <key>"; NULL or ""
                                  sends none (local servers) */
    const char *model;         /* e.g. "whisper-large-v3-turbo" */
    const char *language;      /* ISO-639-1 code such as "en" (letters and '-', at
                                  most 16), or NULL or "" to let the server detect */
    long connect_timeout_ms;   /* > 0 */
    long timeout_ms;           /* > 0: the whole call, upload included */
    size_t max_response_bytes; /* > 0: cap on the bytes of the response body */
};

struct rose_stt_result {
    char *text;           /* the transcript on ROSE_OK (caller frees), else NULL */
    int http_status;      /* the server's status, 0 if no response */
    double retry_after_s; /* Retry-After on a 429 or 503 (seconds, or an HTTP
                             date turned into seconds from now), else -1 */
    char error_type[64];  /* the error body's error.code, else error.type, with
                             any byte outside [A-Za-z0-9_.-] made '_'; "" if
                             none.  For classification and logs, never clients. */
    char request_id[64];  /* the x-request-id header, made safe the same way;
                             "" if none.  For logs. */
};

/*
 * Transcribe audio[0..len) (len > 0).  It is uploaded as multipart/form-data
 * without being copied: a "file" part named filename with the given content
 * type, then "model", "language" (if set) and "response_format": "json".
 * filename is server-made, 1 to 64 of [A-Za-z0-9._-] (e.g. "audio.webm":
 * Whisper servers take the format from its extension); content_type is a
 * MIME type of printable ASCII without '"', at most 100 bytes
 * (e.g. "audio/webm").  res need not be initialised: it is set on every
 * return, and the caller frees it with rose_stt_result_free().  Returns an
 * error from the table at the top of this file.
 */
enum rose_err rose_stt_transcribe(const struct rose_stt_opts *o, const void *audio, size_t len,
                                  const char *filename, const char *content_type,
                                  struct rose_stt_result *res);

/* Free the text of res and set it to NULL.  NULL-safe. */
void rose_stt_result_free(struct rose_stt_result *res);

#endif
