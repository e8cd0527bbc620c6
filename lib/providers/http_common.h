/*
 * http_common.h — the HTTP plumbing the provider clients share: llm.c,
 * stt.c, tts.c, embeddings.c and memory/qdrant.c.
 *
 * One provider call is one libcurl easy handle held in a struct rose_pcall
 * ("provider call"; the prefix rose_http_ belongs to lib/http, the
 * FastCGI side).  The module sets up the handle the same way for every
 * provider, collects the response body with a cap, captures the headers we
 * use (Retry-After, a request id, ElevenLabs' character-cost), and turns
 * the answer into an enum rose_err.  What differs between providers on
 * purpose is a field the caller sets: how to read an error body, and
 * whether 498 means "unavailable".  Building the request body and reading
 * a 2xx reply stay in each client.
 *
 * A call looks like:
 *
 *     rose_pcall_init(&pc, o->max_response_bytes);
 *     pc.errors = ROSE_PCALL_ERRORS_OPENAI;
 *     rose_pcall_url(&url, o->base_url) + the path
 *     rose_pcall_add_headers(&pc, lines)
 *     rose_pcall_open(&pc, url.data, ...)
 *     rose_pcall_json_body(&pc, req)   (or the multipart body)
 *     err = rose_pcall_run(&pc);   → ROSE_OK: a whole 2xx body in pc.body
 *     copy pc.status, .retry_after_s, .error_type... into the result
 *     rose_pcall_free(&pc);
 */
#ifndef ROSE_PCALL_H
#define ROSE_PCALL_H

#include <stddef.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/limits.h"

/* How to find the kind of error in an error body (kept as the provider
 * sends it, made safe to log, in struct rose_pcall.error_type). */
enum rose_pcall_errors {
    /* {"error": {"code"|"type": "..."}}: code, else type (OpenAI, Groq). */
    ROSE_PCALL_ERRORS_OPENAI,
    /* ElevenLabs first: detail.status, else detail.code, else for a
     * FastAPI 422 detail[0].type; without "detail", as OPENAI. */
    ROSE_PCALL_ERRORS_ELEVENLABS,
    /* Qdrant {"status": {"error": "..."}}: only the words before the first
     * ':', since the rest may quote the request, and with it a memory. */
    ROSE_PCALL_ERRORS_QDRANT,
    ROSE_PCALL_ERRORS__MAX
};

struct rose_pcall {
    /* Set by the caller before the transfer (rose_pcall_init() zeroes them). */
    enum rose_pcall_errors errors; /* how to read an error body */
    int unavailable_498;           /* 1: HTTP 498 (Groq: capacity exceeded) is
                                    * ROSE_ERR_UNAVAILABLE, not ROSE_ERR_UPSTREAM */
    const char *const *id_headers; /* names of the headers that carry a request
                                    * id, NULL-terminated; NULL: none */

    /* Owned; rose_pcall_free() releases them. */
    CURL *curl;
    struct curl_slist *headers;
    struct rose_buf body; /* the response body, capped */
    enum rose_err err;    /* why a write callback stopped the transfer */

    /* What the server answered. */
    long status;                           /* HTTP status, 0 when no response came */
    CURLcode rc;                           /* the transfer's own outcome */
    double retry_after_s;                  /* Retry-After of a 429 or 503 (seconds), else -1 */
    long character_cost;                   /* character-cost header, else -1 */
    char error_type[ROSE_PCALL_VALUE_MAX]; /* from an error body, made safe; "" */
    char request_id[ROSE_PCALL_VALUE_MAX]; /* from id_headers, made safe; "" */
};

/*
 * Set up an empty call whose response body may hold max_response_bytes:
 * no handle yet, retry_after_s and character_cost -1, strings "".
 * Cannot fail; rose_pcall_free() is safe afterwards.
 */
void rose_pcall_init(struct rose_pcall *pc, size_t max_response_bytes);

/* Release the handle, the header list and the body.  NULL-safe; the call
 * can be freed more than once. */
void rose_pcall_free(struct rose_pcall *pc);

/*
 * Append base without its trailing '/'s to url, so that the caller can add
 * a path starting with '/'.  ROSE_ERR_TOO_LARGE past url's max, NOMEM.
 */
enum rose_err rose_pcall_url(struct rose_buf *url, const char *base);

/*
 * Append the request header lines (NULL-terminated array; libcurl copies
 * them) to pc->headers.  ROSE_ERR_NOMEM; lines added before a failure stay
 * and are freed with the call.
 */
enum rose_err rose_pcall_add_headers(struct rose_pcall *pc, const char *const *lines);

/*
 * Make pc->curl with what every provider call uses: url, http and https
 * only, no signals (SIGALRM would hit a threaded worker), the timeouts in
 * ms, the body cap also as libcurl's file-size limit, pc->headers, user
 * agent "rose", bearer (NULL or "": none; libcurl writes the Authorization
 * header), and the body and header callbacks below with pc as their data.
 * The caller then sets the request body, and may set its own write
 * callback.  url and bearer must live until the transfer ends.
 * ROSE_ERR_NOMEM if libcurl has no handle for us.
 */
enum rose_err rose_pcall_open(struct rose_pcall *pc, const char *url, long connect_timeout_ms,
                              long timeout_ms, const char *bearer);

/*
 * Make req, as plain JSON, the request body of the opened pc->curl (POST
 * unless the caller sets another method).  The text belongs to req, which
 * must live until the transfer ends.  ROSE_ERR_NOMEM.
 */
enum rose_err rose_pcall_json_body(struct rose_pcall *pc, struct json_object *req);

/*
 * libcurl CURLOPT_WRITEFUNCTION: append to pc->body (userdata is pc).  Past
 * the cap it sets pc->err to ROSE_ERR_TOO_LARGE (or NOMEM) and returns 0,
 * which makes libcurl stop with CURLE_WRITE_ERROR.
 */
size_t rose_pcall_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/*
 * libcurl CURLOPT_HEADERFUNCTION (userdata is pc).  A status line starts a
 * new response (after a 100): it forgets what the previous one said.  Keeps
 * Retry-After (rose_retry_after_parse(): seconds or an HTTP date, -1 if
 * neither), character-cost (1 to 9 digits, else -1) and the request id of
 * pc->id_headers (made safe as rose_pcall_safe_copy() does).  Values of
 * ROSE_PCALL_VALUE_MAX bytes or more are nothing we use and are skipped.
 */
size_t rose_pcall_header(char *buf, size_t size, size_t nitems, void *userdata);

/*
 * Perform the transfer and decide what the answer means, as every provider
 * client did: sets pc->rc and pc->status, and keeps retry_after_s only for
 * a 429 or 503 (-1 otherwise).  Then:
 *   an HTTP status outside 2xx (not 0): its status decides, whatever became
 *     of its body — 429 ROSE_ERR_RATE_LIMITED, 5xx (and 498 if
 *     pc->unavailable_498) ROSE_ERR_UNAVAILABLE, else ROSE_ERR_UPSTREAM;
 *     a body that arrived whole is read into pc->error_type per pc->errors;
 *   a write callback stopped the transfer: pc->err;
 *   else ROSE_OK: the caller looks at pc->rc (rose_pcall_curl_error()).
 */
enum rose_err rose_pcall_perform(struct rose_pcall *pc);

/*
 * rose_pcall_perform(), then a failed transfer as rose_pcall_curl_error()
 * says.  ROSE_OK means a whole 2xx body is in pc->body.
 */
enum rose_err rose_pcall_run(struct rose_pcall *pc);

/*
 * A libcurl failure as an error: ROSE_OK for CURLE_OK; timeout
 * ROSE_ERR_TIMEOUT; out of memory NOMEM; a bad URL or scheme CONFIG; the
 * file-size limit TOO_LARGE; anything else (refused, DNS, TLS, reset,
 * closed early: the provider is not there) ROSE_ERR_UNAVAILABLE.
 */
enum rose_err rose_pcall_curl_error(CURLcode rc);

/*
 * Parse json[0..n) as one strict, UTF-8-checked JSON object of at most
 * ROSE_JSON_DEPTH_MAX levels; nothing may follow it.  json may be NULL when
 * n is 0.  On success *out is the object (caller puts).  ROSE_ERR_PARSE,
 * ROSE_ERR_TOO_LARGE (n > INT_MAX), ROSE_ERR_NOMEM.
 */
enum rose_err rose_pcall_parse_object(const char *json, size_t n, struct json_object **out);

/* The member key of obj if it has the given type, else NULL (also when obj
 * is NULL or not an object).  Owned by obj. */
struct json_object *rose_pcall_member(struct json_object *obj, const char *key,
                                      enum json_type type);

/*
 * Copy s[0..n) (stopping early at a NUL) into out, at most
 * ROSE_PCALL_VALUE_MAX - 1 bytes and NUL-terminated, made safe to log:
 * any byte outside [A-Za-z0-9_.-] becomes '_'.
 */
void rose_pcall_safe_copy(char out[ROSE_PCALL_VALUE_MAX], const char *s, size_t n);

/* 1 if s has a control byte (< 0x20 or 0x7f), as a CR or LF that would let
 * a key or a name write its own request headers; else 0. */
int rose_pcall_has_control_char(const char *s);

#endif
