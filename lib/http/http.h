/*
 * http.h — the FastCGI request loop every endpoint binary runs.
 *
 * An endpoint declares a table of routes and calls rose_http_main().  For
 * each request the library does the front line in this order, before a
 * byte of the body is read:
 *
 *   path under /api/v1 or /api  → else 404
 *   OPTIONS                      → CORS preflight (204 / 403)
 *   route and method             → 404, or 405 with Allow
 *   media type (JSON routes)     → 415
 *   Content-Length               → 411 when absent, 413 when over the route's cap
 *   read the body with that cap, parse JSON (depth-limited, strict UTF-8,
 *   must be an object)           → 400
 *
 * then calls the handler.  Every response carries X-Request-ID, the security
 * headers, Cache-Control: no-store and, for allowed origins, CORS headers;
 * every error is {"error","message","request_id"}; one JSON log line is
 * written per request.
 */
#ifndef ROSE_HTTP_H
#define ROSE_HTTP_H

#include <stddef.h>
#include <json-c/json.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

struct rose_req;

enum rose_body_kind {
    ROSE_BODY_NONE,          /* any body is ignored and never read */
    ROSE_BODY_JSON,          /* application/json object, required */
    ROSE_BODY_JSON_OPTIONAL, /* application/json object, or no body at all */
    ROSE_BODY_RAW            /* the handler reads it (rose_req_body) */
};

typedef enum rose_err (*rose_handler_fn)(struct rose_req *req);

struct rose_route {
    const char *method;  /* "GET", "POST", "DELETE" (GET also answers HEAD) */
    const char *pattern; /* "/session/start", "/session/{}": {} captures one segment */
    enum rose_body_kind body;
    size_t max_body; /* bytes; 0 means ROSE_JSON_BODY_MAX */
    rose_handler_fn fn;
};

/*
 * Run the worker: load the configuration (a bad value logs one line and
 * exits 1), open the store, then serve requests until the web server stops
 * the process.  `name` labels the log lines.  With argv[1] ==
 * "--check-config" it only validates the configuration and exits 0 or 1.
 */
int rose_http_main(const char *name, const struct rose_route *routes, size_t nroutes, int argc,
                   char **argv);

/* --- what a handler may ask of the request (valid until it returns) --- */

/* The i-th captured path segment, or NULL. */
const char *rose_req_param(const struct rose_req *req, int i);

/* A CGI variable, e.g. "HTTP_ACCEPT", "REMOTE_ADDR"; NULL if absent. */
const char *rose_req_env(const struct rose_req *req, const char *name);

/* The parsed JSON body (ROSE_BODY_JSON*); an empty object when none. */
struct json_object *rose_req_json(const struct rose_req *req);

/* The raw body (ROSE_BODY_RAW): read it all, capped by the route's max_body. */
enum rose_err rose_req_body(struct rose_req *req, const char **data, size_t *len);

const struct rose_config *rose_req_config(const struct rose_req *req);
const char *rose_req_id(const struct rose_req *req);

/* The process's store, opened on first use (and reopened after a failure).
 * ROSE_ERR_DB_UNAVAILABLE when the database cannot be used. */
enum rose_err rose_req_store(struct rose_req *req, struct rose_store **out);

/*
 * The bearer token of the Authorization header.  *token is NULL when the
 * header is absent; ROSE_ERR_UNAUTHORIZED when present but not a well-formed
 * "Bearer <token>".
 */
enum rose_err rose_req_bearer(const struct rose_req *req, const char **token);

/*
 * The user the request's Bearer token names, in user_id; "" when there is no
 * Authorization header and required is 0.  A missing header when required, a
 * malformed one, or a token no user holds: ROSE_ERR_UNAUTHORIZED, with a
 * message saying what is needed.
 */
enum rose_err rose_req_user(struct rose_req *req, struct rose_store *st, int required,
                            char user_id[37]);

/*
 * The client's IP address: REMOTE_ADDR, or, when REMOTE_ADDR is one of
 * TRUSTED_PROXIES, the right-most X-Forwarded-For entry that is not a
 * trusted proxy.  Written into buf (>= 46 bytes); returns buf.
 */
const char *rose_req_client(const struct rose_req *req, char *buf, size_t len);

/* Is the client (rose_req_client) on the loopback network? */
int rose_req_is_loopback(const struct rose_req *req);

/* Add key (copied) = value (adopted) to this request's log line, e.g. the
 * time per stage of a turn.  Never message text. */
void rose_req_log_field(struct rose_req *req, const char *key, struct json_object *value);

/*
 * Run fn(arg) after the response has been sent and the request finished
 * (work that must not delay the answer, e.g. memory extraction).  arg is
 * owned by the job: fn must free it.  One job per request (a second one
 * runs at once).  The request is gone by then: copy what the job needs.
 */
typedef void (*rose_defer_fn)(void *arg);
void rose_req_defer(struct rose_req *req, rose_defer_fn fn, void *arg);

/* Name the session in this request's log line. */
void rose_req_log_session(struct rose_req *req, const char *session_id);

/* Does the client accept this media type (e.g. "text/event-stream")? */
int rose_req_accepts(const struct rose_req *req, const char *type);

/* --- responses: exactly one per request --- */

/* Add a header to the response (copied).  Ignored past ROSE_RESP_HEADERS_MAX. */
void rose_reply_header(struct rose_req *req, const char *name, const char *value);

/* Send status with a JSON body; body is adopted (freed here). */
enum rose_err rose_reply_json(struct rose_req *req, int status, struct json_object *body);

/* Send bytes with a content type (status 200 or 206 etc.). */
enum rose_err rose_reply_bytes(struct rose_req *req, int status, const char *content_type,
                               const void *data, size_t len);

/* Send an empty response (e.g. 204). */
enum rose_err rose_reply_empty(struct rose_req *req, int status);

/*
 * Record an error with a specific message for the person (NULL: the
 * default for err) and return err, so a handler can `return rose_fail(...)`.
 * The error body is sent after the handler returns.
 */
enum rose_err rose_fail(struct rose_req *req, enum rose_err err, const char *message);

/* Streaming: send the headers now; then write and flush pieces. */
enum rose_err rose_reply_stream_begin(struct rose_req *req, int status, const char *content_type);
enum rose_err rose_reply_stream_write(struct rose_req *req, const void *data, size_t len);

/* One server-sent event on a stream begun with rose_reply_stream_begin():
 * "event: EVENT\ndata: <data as one line of JSON>\n\n", flushed. */
enum rose_err rose_sse_event(struct rose_req *req, const char *event, struct json_object *data);

/* A turn's `token` event {"text"} and `audio` event {"url", "index",
 * "text"?} (text "" leaves it out).  req is the struct rose_req *: the
 * signatures let them serve as a turn's on_token and a speaker's callbacks. */
enum rose_err rose_sse_token(void *req, const char *text, size_t len);
enum rose_err rose_sse_audio(void *req, const char *url, size_t index, const char *text);

/* An `error` event {error, message, request_id} once a stream has begun and
 * a status can no longer be sent; message NULL: err's own words. */
void rose_sse_error(struct rose_req *req, enum rose_err err, const char *message);

/* The reason phrase for a status ("Not Found"). */
const char *rose_http_reason(int status);

#endif
