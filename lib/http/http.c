/*
 * http.c — the FastCGI accept loop, the front line, responses (http.h).
 *
 * One process serves one request at a time, so per-process state (config,
 * store, CORS list) lives in `app`, and per-request state in struct
 * rose_req, which is reset for every request.  Everything the FastCGI
 * environment hands us is valid only until the next accept.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/text.h"
#include "http/fields.h"
#include "http/http.h"
#include "resilience/ratelimit.h"
#include "store/metrics.h"
#include "store/users.h"

#define MAX_PARAMS 4

struct rose_req {
    FCGX_Request *fx;
    char id[37];
    const char *method; /* from the environment */
    int head;           /* HEAD: send headers only */
    char path[ROSE_PATH_MAX + 1];
    char segs[ROSE_PATH_MAX + 1]; /* path split at '/' for captures */
    const char *params[MAX_PARAMS];
    int nparams;
    const struct rose_route *route;
    char label[96]; /* "POST /session/start": the log route, never with ids */
    long long clen; /* Content-Length, -1 when absent */
    struct rose_buf body;
    int body_read;
    struct json_object *json;
    const char *cors_origin; /* the request's Origin when it is allowed */
    /* response */
    int sent;
    int status;
    char *hname[ROSE_RESP_HEADERS_MAX];
    char *hval[ROSE_RESP_HEADERS_MAX];
    int nh;
    enum rose_err fail_err;
    char fail_msg[256];
    char session[37];
    struct json_object *log_extra; /* fields for the request's log line */
    rose_defer_fn defer_fn;        /* work after the response */
    void *defer_arg;
    double t0;
};

static struct {
    const char *name;
    struct rose_config *cfg;
    struct rose_store *store;
    const char *origins[ROSE_LIST_MAX];
    char *origins_buf;
    int norigins;
} app;

static const char *const security_headers[][2] = {
    {"Content-Security-Policy",
     "default-src 'self'; media-src 'self' blob:; connect-src 'self'; img-src 'self' data: blob:; "
     "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"},
    {"Strict-Transport-Security", "max-age=63072000; includeSubDomains"},
    {"X-Frame-Options", "DENY"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "strict-origin-when-cross-origin"},
    {"Permissions-Policy", "microphone=(self), camera=(), geolocation=()"},
    {"Cache-Control", "no-store"},
};

const char *
rose_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* ---------------------------------------------------------------- request */

const char *
rose_req_env(const struct rose_req *req, const char *name)
{
    return FCGX_GetParam(name, req->fx->envp);
}

const char *
rose_req_param(const struct rose_req *req, int i)
{
    return i >= 0 && i < req->nparams ? req->params[i] : NULL;
}

struct json_object *
rose_req_json(const struct rose_req *req)
{
    return req->json;
}

const struct rose_config *
rose_req_config(const struct rose_req *req)
{
    (void)req;
    return app.cfg;
}

const char *
rose_req_id(const struct rose_req *req)
{
    return req->id;
}

const char *
rose_req_client(const struct rose_req *req, char *buf, size_t len)
{
    return rose_ratelimit_client(rose_req_env(req, "REMOTE_ADDR"),
                                 rose_req_env(req, "HTTP_X_FORWARDED_FOR"),
                                 app.cfg->trusted_proxies, buf, len);
}

int
rose_req_is_loopback(const struct rose_req *req)
{
    char ip[ROSE_RATELIMIT_CLIENT_LEN];

    rose_req_client(req, ip, sizeof(ip));
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
           strncmp(ip, "::ffff:127.", 11) == 0;
}

void
rose_req_defer(struct rose_req *req, rose_defer_fn fn, void *arg)
{
    if (req->defer_fn != NULL) {
        fn(arg); /* one job per request: run the extra one now */
        return;
    }
    req->defer_fn = fn;
    req->defer_arg = arg;
}

void
rose_req_log_field(struct rose_req *req, const char *key, struct json_object *value)
{
    if (req->log_extra == NULL && (req->log_extra = json_object_new_object()) == NULL) {
        json_object_put(value);
        return;
    }
    if (json_object_object_add(req->log_extra, key, value) != 0)
        json_object_put(value);
}

void
rose_req_log_session(struct rose_req *req, const char *session_id)
{
    snprintf(req->session, sizeof(req->session), "%s", session_id ? session_id : "");
    rose_log_set_session(req->session);
}

enum rose_err
rose_req_store(struct rose_req *req, struct rose_store **out)
{
    (void)req;
    if (app.store == NULL && rose_store_open(app.cfg->database_path, &app.store) != ROSE_OK)
        return ROSE_ERR_DB_UNAVAILABLE;
    *out = app.store;
    return ROSE_OK;
}

enum rose_err
rose_req_bearer(const struct rose_req *req, const char **token)
{
    const char *h = rose_req_env(req, "HTTP_AUTHORIZATION");
    const char *t;
    size_t n;

    if (h == NULL)
        h = rose_req_env(req, "Authorization"); /* mod_fcgid FcgidPassHeader */
    *token = NULL;
    if (h == NULL)
        return ROSE_OK;
    if (!rose_strnieq(h, "Bearer ", 7))
        return ROSE_ERR_UNAUTHORIZED;
    for (t = h + 7; *t == ' '; t++)
        ;
    n = strlen(t);
    if (n == 0 || n > ROSE_TOKEN_MAX ||
        strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") != n)
        return ROSE_ERR_UNAUTHORIZED;
    *token = t;
    return ROSE_OK;
}

enum rose_err
rose_req_user(struct rose_req *req, struct rose_store *st, int required, char user_id[37])
{
    const char *token;
    enum rose_err err;

    user_id[0] = '\0';
    if ((err = rose_req_bearer(req, &token)) != ROSE_OK)
        return rose_fail(req, err, "The Authorization header must be 'Bearer <user_token>'.");
    if (token == NULL)
        return required ? rose_fail(req, ROSE_ERR_UNAUTHORIZED,
                                    "This needs your user_token from /session/start as a "
                                    "Bearer token.")
                        : ROSE_OK;
    return rose_user_by_token(st, token, user_id);
}

int
rose_req_accepts(const struct rose_req *req, const char *type)
{
    const char *a = rose_req_env(req, "HTTP_ACCEPT");
    size_t n = strlen(type);

    for (; a != NULL && *a; a++)
        if (rose_strnieq(a, type, n))
            return 1;
    return 0;
}

enum rose_err
rose_req_body(struct rose_req *req, const char **data, size_t *len)
{
    size_t max = req->route && req->route->max_body ? req->route->max_body : ROSE_JSON_BODY_MAX;
    char chunk[16384];

    if (!req->body_read) {
        size_t want = req->clen > 0 ? (size_t)req->clen : 0;
        rose_buf_init(&req->body, max);
        req->body_read = 1;
        while (req->body.len < want) {
            size_t n = want - req->body.len;
            int got;
            enum rose_err err;
            if (n > sizeof(chunk))
                n = sizeof(chunk);
            got = FCGX_GetStr(chunk, (int)n, req->fx->in);
            if (got <= 0)
                return rose_fail(req, ROSE_ERR_BAD_REQUEST, "The request body ended early.");
            if ((err = rose_buf_append(&req->body, chunk, (size_t)got)) != ROSE_OK)
                return err;
        }
    }
    *data = req->body.data ? req->body.data : "";
    *len = req->body.len;
    return ROSE_OK;
}

/* --------------------------------------------------------------- response */

void
rose_reply_header(struct rose_req *req, const char *name, const char *value)
{
    char *n, *v;

    if (req->nh >= ROSE_RESP_HEADERS_MAX)
        return;
    n = strdup(name);
    v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return;
    }
    req->hname[req->nh] = n;
    req->hval[req->nh] = v;
    req->nh++;
}

/* Write the status line and every header; len < 0 means no Content-Length. */
static enum rose_err
send_head(struct rose_req *req, int status, const char *ctype, long long len)
{
    struct rose_buf h;
    size_t i;
    int j;
    enum rose_err err = ROSE_OK;

    if (req->sent)
        return ROSE_ERR_INTERNAL;
    req->sent = 1;
    req->status = status;
    rose_buf_init(&h, 16384);
    err = rose_buf_printf(&h, "Status: %d %s\r\nX-Request-ID: %s\r\n", status,
                          rose_http_reason(status), req->id);
    if (ctype != NULL && err == ROSE_OK)
        err = rose_buf_printf(&h, "Content-Type: %s\r\n", ctype);
    if (len >= 0 && err == ROSE_OK)
        err = rose_buf_printf(&h, "Content-Length: %lld\r\n", len);
    for (i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]) && err == ROSE_OK; i++)
        err = rose_buf_printf(&h, "%s: %s\r\n", security_headers[i][0], security_headers[i][1]);
    if (app.norigins > 0 && err == ROSE_OK)
        err = rose_buf_puts(&h, "Vary: Origin\r\n");
    if (req->cors_origin != NULL && err == ROSE_OK)
        err = rose_buf_printf(&h,
                              "Access-Control-Allow-Origin: %s\r\n"
                              "Access-Control-Expose-Headers: X-Request-ID, Retry-After, "
                              "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset\r\n",
                              req->cors_origin);
    for (j = 0; j < req->nh && err == ROSE_OK; j++)
        err = rose_buf_printf(&h, "%s: %s\r\n", req->hname[j], req->hval[j]);
    if (err == ROSE_OK)
        err = rose_buf_puts(&h, "\r\n");
    if (err == ROSE_OK && FCGX_PutStr(h.data, (int)h.len, req->fx->out) < 0)
        err = ROSE_ERR_IO;
    rose_buf_free(&h);
    return err;
}

enum rose_err
rose_reply_bytes(struct rose_req *req, int status, const char *content_type, const void *data,
                 size_t len)
{
    enum rose_err err = send_head(req, status, content_type, (long long)len);

    if (err == ROSE_OK && !req->head && len > 0 &&
        FCGX_PutStr(data, (int)len, req->fx->out) < 0)
        err = ROSE_ERR_IO;
    return err;
}

enum rose_err
rose_reply_empty(struct rose_req *req, int status)
{
    return send_head(req, status, NULL, status == 204 ? -1 : 0);
}

enum rose_err
rose_reply_json(struct rose_req *req, int status, struct json_object *body)
{
    const char *s;
    enum rose_err err;

    if (body == NULL)
        return ROSE_ERR_NOMEM;
    s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
    err = s ? rose_reply_bytes(req, status, "application/json", s, strlen(s)) : ROSE_ERR_NOMEM;
    json_object_put(body);
    return err;
}

enum rose_err
rose_reply_stream_begin(struct rose_req *req, int status, const char *content_type)
{
    enum rose_err err;

    rose_reply_header(req, "X-Accel-Buffering", "no");
    err = send_head(req, status, content_type, -1);
    if (err == ROSE_OK && FCGX_FFlush(req->fx->out) < 0)
        err = ROSE_ERR_IO;
    return err;
}

enum rose_err
rose_reply_stream_write(struct rose_req *req, const void *data, size_t len)
{
    if (len > 0 && FCGX_PutStr(data, (int)len, req->fx->out) < 0)
        return ROSE_ERR_IO;
    return FCGX_FFlush(req->fx->out) < 0 ? ROSE_ERR_IO : ROSE_OK;
}

enum rose_err
rose_sse_event(struct rose_req *req, const char *event, struct json_object *data)
{
    const char *js = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
    struct rose_buf b;
    enum rose_err err;

    rose_buf_init(&b, 0);
    err = rose_buf_printf(&b, "event: %s\ndata: %s\n\n", event, js ? js : "{}");
    if (err == ROSE_OK)
        err = rose_reply_stream_write(req, b.data, b.len);
    rose_buf_free(&b);
    return err;
}

enum rose_err
rose_sse_token(void *req, const char *text, size_t len)
{
    struct json_object *o = json_object_new_object();
    enum rose_err err;

    if (o == NULL)
        return ROSE_ERR_NOMEM;
    json_object_object_add(o, "text", json_object_new_string_len(text, (int)len));
    err = rose_sse_event(req, "token", o);
    json_object_put(o);
    return err;
}

enum rose_err
rose_sse_audio(void *req, const char *url, size_t index, const char *text)
{
    struct json_object *o = json_object_new_object();
    enum rose_err err;

    if (o == NULL)
        return ROSE_ERR_NOMEM;
    json_object_object_add(o, "url", json_object_new_string(url));
    json_object_object_add(o, "index", json_object_new_int64((int64_t)index));
    if (text[0])
        json_object_object_add(o, "text", json_object_new_string(text));
    err = rose_sse_event(req, "audio", o);
    json_object_put(o);
    return err;
}

void
rose_sse_error(struct rose_req *req, enum rose_err err, const char *message)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL)
        return;
    json_object_object_add(o, "error", json_object_new_string(rose_err_code(err)));
    json_object_object_add(o, "message",
                           json_object_new_string(message ? message : rose_err_message(err)));
    json_object_object_add(o, "request_id", json_object_new_string(rose_req_id(req)));
    rose_sse_event(req, "error", o);
    json_object_put(o);
}

enum rose_err
rose_fail(struct rose_req *req, enum rose_err err, const char *message)
{
    req->fail_err = err;
    snprintf(req->fail_msg, sizeof(req->fail_msg), "%s", message ? message : "");
    return err;
}

/* The error body for err, with the recorded message when there is one. */
static void
reply_error(struct rose_req *req, enum rose_err err)
{
    struct json_object *o = json_object_new_object();
    const char *msg = (req->fail_err == err && req->fail_msg[0]) ? req->fail_msg
                                                                  : rose_err_message(err);

    if (o == NULL)
        return;
    json_object_object_add(o, "error", json_object_new_string(rose_err_code(err)));
    json_object_object_add(o, "message", json_object_new_string(msg));
    json_object_object_add(o, "request_id", json_object_new_string(req->id));
    rose_reply_json(req, rose_err_http_status(err), o);
}

/* ------------------------------------------------------------ front line */

/* The route path after /api/v1 or /api: "/session/start".  0 if outside. */
static int
normalize_path(struct rose_req *req)
{
    const char *uri = rose_req_env(req, "REQUEST_URI");
    const char *rest;
    size_t n;

    if (uri == NULL)
        return 0;
    n = strcspn(uri, "?#");
    if (n >= 8 && strncmp(uri, "/api/v1/", 8) == 0)
        rest = uri + 7;
    else if (n >= 5 && strncmp(uri, "/api/", 5) == 0)
        rest = uri + 4;
    else
        return 0;
    n -= (size_t)(rest - uri);
    if (n > 1 && rest[n - 1] == '/')
        n--; /* one trailing slash is forgiven */
    if (n == 0 || n > ROSE_PATH_MAX)
        return 0;
    memcpy(req->path, rest, n);
    req->path[n] = '\0';
    return 1;
}

/*
 * Does the request path match pattern, segment by segment?  "{}" matches any
 * one non-empty segment; on a match the captures are NUL-terminated copies
 * in req->segs, pointed to by req->params.
 */
static int
match(struct rose_req *req, const char *pattern)
{
    const char *p = pattern, *q = req->path;
    size_t off[MAX_PARAMS], lens[MAX_PARAMS];
    int i, np = 0;

    while (*p && *q) {
        size_t pl, ql;
        if (*p != '/' || *q != '/')
            return 0;
        p++;
        q++;
        pl = strcspn(p, "/");
        ql = strcspn(q, "/");
        if (ql == 0)
            return 0;
        if (pl == 2 && p[0] == '{' && p[1] == '}') {
            if (np >= MAX_PARAMS)
                return 0;
            off[np] = (size_t)(q - req->path);
            lens[np++] = ql;
        } else if (pl != ql || memcmp(p, q, pl) != 0) {
            return 0;
        }
        p += pl;
        q += ql;
    }
    if (*p || *q)
        return 0;
    memcpy(req->segs, req->path, sizeof(req->segs));
    for (i = 0; i < np; i++) {
        req->segs[off[i] + lens[i]] = '\0';
        req->params[i] = req->segs + off[i];
    }
    req->nparams = np;
    return 1;
}

static int
origin_allowed(const char *origin)
{
    int i;

    for (i = 0; origin != NULL && i < app.norigins; i++)
        if (rose_strieq(origin, app.origins[i]))
            return 1;
    return 0;
}

static enum rose_err
check_content_type(struct rose_req *req)
{
    const char *ct = rose_req_env(req, "CONTENT_TYPE");
    const char *p;

    if (ct == NULL || !rose_strnieq(ct, "application/json", 16))
        goto bad;
    p = ct + 16;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return ROSE_OK;
    if (*p != ';')
        goto bad;
    /* Only a UTF-8 charset parameter is acceptable. */
    for (p++; *p == ' '; p++)
        ;
    if (*p == '\0' || rose_strieq(p, "charset=utf-8") || rose_strieq(p, "charset=\"utf-8\""))
        return ROSE_OK;
bad:
    return rose_fail(req, ROSE_ERR_MEDIA_TYPE, "The request body must be application/json.");
}

static enum rose_err
parse_length(struct rose_req *req)
{
    const char *cl = rose_req_env(req, "CONTENT_LENGTH");
    char *end;
    long long v;

    req->clen = -1;
    if (cl == NULL || *cl == '\0')
        return ROSE_OK;
    errno = 0;
    v = strtoll(cl, &end, 10);
    if (*end != '\0' || errno != 0 || v < 0 || cl[0] < '0' || cl[0] > '9')
        return rose_fail(req, ROSE_ERR_BAD_REQUEST, "The Content-Length is not valid.");
    req->clen = v;
    return ROSE_OK;
}

/* The body policy of the matched route: type, length, read, parse. */
static enum rose_err
front_body(struct rose_req *req)
{
    const struct rose_route *r = req->route;
    size_t max = r->max_body ? r->max_body : ROSE_JSON_BODY_MAX;
    const char *data;
    size_t len;
    char msg[160];
    enum rose_err err;

    if (r->body == ROSE_BODY_NONE)
        return ROSE_OK;
    if (r->body == ROSE_BODY_JSON_OPTIONAL && req->clen <= 0) {
        req->json = json_object_new_object();
        return req->json ? ROSE_OK : ROSE_ERR_NOMEM;
    }
    if (r->body != ROSE_BODY_RAW && (err = check_content_type(req)) != ROSE_OK)
        return err;
    if (req->clen < 0)
        return rose_fail(req, ROSE_ERR_LENGTH_REQUIRED,
                         "This request needs a body with a Content-Length.");
    if ((unsigned long long)req->clen > max) {
        snprintf(msg, sizeof(msg), "The request body is larger than %zu bytes.", max);
        return rose_fail(req, ROSE_ERR_TOO_LARGE, msg);
    }
    if (r->body == ROSE_BODY_RAW)
        return ROSE_OK; /* the handler reads it */
    if ((err = rose_req_body(req, &data, &len)) != ROSE_OK)
        return err;
    if ((err = rose_json_parse_object(data, len, &req->json, msg, sizeof(msg))) != ROSE_OK)
        return rose_fail(req, err, msg);
    return ROSE_OK;
}

/*
 * The routes that answer this path: those whose pattern matches with the
 * fewest captures, so a literal segment ("/session/start") wins over a
 * capture ("/session/{}").  Returns that capture count, -1 if none match.
 */
static int
best_captures(struct rose_req *req, const struct rose_route *routes, size_t n)
{
    size_t i;
    int best = -1;

    for (i = 0; i < n; i++)
        if (match(req, routes[i].pattern) && (best < 0 || req->nparams < best))
            best = req->nparams;
    return best;
}

/* Build "GET, HEAD, POST, OPTIONS" for the routes that answer this path. */
static void
allow_list(struct rose_req *req, const struct rose_route *routes, size_t n, int captures,
           char *buf, size_t len)
{
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        if (!match(req, routes[i].pattern) || req->nparams != captures ||
            strstr(buf, routes[i].method) != NULL)
            continue;
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s%s", buf[0] ? ", " : "",
                 routes[i].method, strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
    }
    snprintf(buf + strlen(buf), len - strlen(buf), ", OPTIONS");
}

static enum rose_err
preflight(struct rose_req *req, const char *allow)
{
    const char *origin = rose_req_env(req, "HTTP_ORIGIN");

    if (origin != NULL && !origin_allowed(origin))
        return rose_fail(req, ROSE_ERR_FORBIDDEN, "This origin is not allowed.");
    rose_reply_header(req, "Allow", allow);
    if (origin != NULL) {
        rose_reply_header(req, "Access-Control-Allow-Methods", "GET, POST, DELETE");
        rose_reply_header(req, "Access-Control-Allow-Headers",
                          "Authorization, Content-Type, Accept, Idempotency-Key");
        rose_reply_header(req, "Access-Control-Max-Age", "600");
    }
    return rose_reply_empty(req, 204);
}

/*
 * Rate limit per client IP and route family (the endpoint binary's name),
 * shared by every worker through SQLite; health and metrics have their own,
 * larger limit.  Every limited response carries RateLimit-*; a refusal is
 * 429 with Retry-After.  When the database cannot count, requests pass (the
 * route itself will report the database).
 */
static enum rose_err
rate_limit(struct rose_req *req)
{
    const struct rose_config *cfg = app.cfg;
    int health = strcmp(app.name, "health") == 0 || strcmp(app.name, "metrics") == 0;
    long limit = health ? cfg->rate_limit_health_per_minute : cfg->rate_limit_per_minute;
    long remaining = 0, reset = 0;
    char client[ROSE_RATELIMIT_CLIENT_LEN], key[ROSE_RATELIMIT_CLIENT_LEN], num[32];
    struct rose_store *st;
    enum rose_err err;

    if (rose_req_store(req, &st) != ROSE_OK)
        return ROSE_OK;
    rose_req_client(req, client, sizeof(client));
    rose_ratelimit_key(client, key, sizeof(key));
    err = rose_ratelimit_hit(st, key, app.name, limit, rose_now_ms(), &remaining, &reset);
    if (err != ROSE_OK && err != ROSE_ERR_RATE_LIMITED)
        return ROSE_OK; /* logged by the store; do not refuse for our own fault */
    snprintf(num, sizeof(num), "%ld", limit);
    rose_reply_header(req, "RateLimit-Limit", num);
    snprintf(num, sizeof(num), "%ld", remaining);
    rose_reply_header(req, "RateLimit-Remaining", num);
    snprintf(num, sizeof(num), "%ld", reset);
    rose_reply_header(req, "RateLimit-Reset", num);
    if (err == ROSE_ERR_RATE_LIMITED) {
        char msg[96];
        rose_reply_header(req, "Retry-After", num);
        snprintf(msg, sizeof(msg), "Too many requests. Please wait %ld seconds.", reset);
        return rose_fail(req, err, msg);
    }
    return ROSE_OK;
}

/*
 * The web server's own errors (lighttpd server.error-handler, Apache
 * ErrorDocument) arrive as an internal redirect with REDIRECT_STATUS set:
 * answer them with the JSON error of that status.  0 when not a redirect.
 */
static enum rose_err
server_error(const struct rose_req *req)
{
    static const struct {
        int status;
        enum rose_err err;
    } map[] = {
        {400, ROSE_ERR_BAD_REQUEST}, {401, ROSE_ERR_UNAUTHORIZED}, {403, ROSE_ERR_FORBIDDEN},
        {404, ROSE_ERR_NOT_FOUND},   {405, ROSE_ERR_METHOD},       {411, ROSE_ERR_LENGTH_REQUIRED},
        {413, ROSE_ERR_TOO_LARGE},   {415, ROSE_ERR_MEDIA_TYPE},   {416, ROSE_ERR_RANGE},
        {503, ROSE_ERR_UNAVAILABLE},
        {504, ROSE_ERR_TIMEOUT},
    };
    const char *rs = rose_req_env(req, "REDIRECT_STATUS");
    int status;
    size_t i;

    if (rs == NULL || (status = atoi(rs)) < 400)
        return ROSE_OK;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].status == status)
            return map[i].err;
    return status >= 500 ? ROSE_ERR_INTERNAL : ROSE_ERR_BAD_REQUEST;
}

/* The web server's error for a page outside /api: a short page for people. */
static enum rose_err
error_page(struct rose_req *req, enum rose_err err)
{
    char page[1024];
    int status = rose_err_http_status(err);
    int n = snprintf(page, sizeof(page),
                     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>%d %s — Rose</title><link rel=\"stylesheet\" href=\"/css/rose.css\">"
                     "</head><body><main class=\"error-page\"><h1>%s</h1><p>%s</p>"
                     "<p><a href=\"/\">Back to Rose</a></p></main></body></html>\n",
                     status, rose_http_reason(status), rose_http_reason(status),
                     status == 404 ? "There is nothing here." : rose_err_message(err));

    return rose_reply_bytes(req, status, "text/html; charset=utf-8", page, (size_t)n);
}

static enum rose_err
dispatch(struct rose_req *req, const struct rose_route *routes, size_t n)
{
    const char *m = req->method;
    char allow[128];
    size_t i;
    int captures;
    enum rose_err err;

    if ((err = server_error(req)) != ROSE_OK) {
        const char *uri = rose_req_env(req, "REQUEST_URI");
        snprintf(req->label, sizeof(req->label), "server error");
        rose_log_set_context(req->id, req->label);
        if (uri != NULL && strncmp(uri, "/api/", 5) != 0)
            return error_page(req, err); /* a person's browser, not an API client */
        return err;
    }
    if (!normalize_path(req) || (captures = best_captures(req, routes, n)) < 0)
        return ROSE_ERR_NOT_FOUND;
    for (i = 0; i < n; i++) {
        const char *rm = routes[i].method;
        if (!match(req, routes[i].pattern) || req->nparams != captures)
            continue;
        if (strcmp(m, rm) == 0 || (req->head && strcmp(rm, "GET") == 0)) {
            req->route = &routes[i];
            break;
        }
    }
    if (req->route == NULL) {
        allow_list(req, routes, n, captures, allow, sizeof(allow));
        if (strcmp(m, "OPTIONS") == 0)
            return preflight(req, allow);
        rose_reply_header(req, "Allow", allow);
        return ROSE_ERR_METHOD;
    }
    match(req, req->route->pattern); /* captures of the chosen route */
    snprintf(req->label, sizeof(req->label), "%s %s", req->route->method, req->route->pattern);
    rose_log_set_context(req->id, req->label);
    if ((err = rate_limit(req)) != ROSE_OK)
        return err;
    if ((err = parse_length(req)) != ROSE_OK)
        return err;
    if ((err = front_body(req)) != ROSE_OK)
        return err;
    return req->route->fn(req);
}

/* ------------------------------------------------------------------- loop */

static void
fcgx_sink(void *arg, const char *line)
{
    FCGX_Stream *err = arg;

    FCGX_PutS(line, err);
    FCGX_FFlush(err);
}

static void
req_reset(struct rose_req *req)
{
    int i;

    for (i = 0; i < req->nh; i++) {
        free(req->hname[i]);
        free(req->hval[i]);
    }
    json_object_put(req->json);
    json_object_put(req->log_extra);
    rose_buf_free(&req->body);
    memset(req, 0, sizeof(*req));
}

struct deferred {
    rose_defer_fn fn;
    void *arg;
};

static void
handle(FCGX_Request *fx, const struct rose_route *routes, size_t n, struct deferred *later)
{
    struct rose_req req;
    struct json_object *f;
    enum rose_err err;

    memset(&req, 0, sizeof(req));
    req.fx = fx;
    req.t0 = rose_mono_ms();
    rose_uuid_new(req.id);
    req.method = rose_req_env(&req, "REQUEST_METHOD");
    if (req.method == NULL)
        req.method = "GET";
    req.head = strcmp(req.method, "HEAD") == 0;
    /* Labels name routes from the table only; an unmatched path is just
     * "unmatched" (method and path are the client's words). */
    snprintf(req.label, sizeof(req.label), "unmatched");
    rose_log_set_sink(fcgx_sink, fx->err);
    rose_log_set_context(req.id, req.label);
    {
        const char *origin = rose_req_env(&req, "HTTP_ORIGIN");
        if (origin_allowed(origin))
            req.cors_origin = origin;
    }

    err = dispatch(&req, routes, n);
    if (err != ROSE_OK && !req.sent)
        reply_error(&req, err);
    else if (!req.sent)
        reply_error(&req, ROSE_ERR_INTERNAL); /* a handler that answered nothing */
    if (err == ROSE_ERR_DB_UNAVAILABLE) {
        /* Reopen next time: the file may have been restored or repaired. */
        rose_store_close(app.store);
        app.store = NULL;
    }

    f = json_object_new_object();
    if (f != NULL) {
        json_object_object_add(f, "method", json_object_new_string(req.method));
        json_object_object_add(f, "pid", json_object_new_int((int)getpid()));
        json_object_object_add(f, "status", json_object_new_int(req.status));
        double ms = rose_mono_ms() - req.t0;
        char num[32];
        snprintf(num, sizeof(num), "%.3f", ms);
        json_object_object_add(f, "duration_ms", json_object_new_double_s(ms, num));
        if (req.clen > 0)
            json_object_object_add(f, "bytes_in", json_object_new_int64(req.clen));
        if (err != ROSE_OK)
            json_object_object_add(f, "error", json_object_new_string(rose_err_code(err)));
        if (req.log_extra != NULL) {
            json_object_object_foreach(req.log_extra, k, v)
                json_object_object_add(f, k, json_object_get(v));
        }
    }
    rose_log(req.status >= 500 ? ROSE_LOG_ERROR : ROSE_LOG_INFO, "request", f);
    rose_metrics_request(app.store, req.label, req.status, (rose_mono_ms() - req.t0) / 1000.0);
    later->fn = req.defer_fn;
    later->arg = req.defer_arg;
    rose_log_set_context(NULL, NULL);
    rose_log_set_sink(NULL, NULL);
    req_reset(&req);
}

/* Split ALLOWED_ORIGINS once at start. */
static enum rose_err
load_origins(const char *list)
{
    char *save = NULL, *tok;

    if ((app.origins_buf = strdup(list)) == NULL)
        return ROSE_ERR_NOMEM;
    for (tok = strtok_r(app.origins_buf, ",", &save); tok && app.norigins < ROSE_LIST_MAX;
         tok = strtok_r(NULL, ",", &save))
        app.origins[app.norigins++] = rose_trim(tok);
    return ROSE_OK;
}

/* mkdir -p for the data folder, private to the service user. */
static void
make_dirs(const char *dir)
{
    char buf[4096], *p;

    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
        return;
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0700);
        *p = '/';
    }
    mkdir(buf, 0700);
}

int
rose_http_main(const char *name, const struct rose_route *routes, size_t nroutes, int argc,
               char **argv)
{
    char eb[512];
    FCGX_Request fx;
    enum rose_err err;

    app.name = name;
    signal(SIGPIPE, SIG_IGN);
    if ((err = rose_config_load(NULL, &app.cfg, eb, sizeof(eb))) != ROSE_OK) {
        rose_logf(ROSE_LOG_ERROR, "config_invalid", "%s: %s", name, eb);
        if (argc > 1 && strcmp(argv[1], "--check-config") == 0)
            fprintf(stdout, "%s\n", eb);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--check-config") == 0) {
        fprintf(stdout, "configuration ok\n");
        rose_config_free(app.cfg);
        return 0;
    }
    rose_log_set_level(app.cfg->log_level);
    if (load_origins(app.cfg->allowed_origins) != ROSE_OK)
        return 1;
    make_dirs(app.cfg->data_dir);
    /* Open (and migrate) now so the first request is fast; a failure here
     * is not fatal: health reports it and requests retry. */
    if (rose_store_open(app.cfg->database_path, &app.store) != ROSE_OK)
        app.store = NULL;
    rose_logf(ROSE_LOG_INFO, "worker_start", "%s pid %ld", name, (long)getpid());

    /* libcurl initialises itself on first use (workers are single-threaded),
     * so workers that never call a provider never load TLS. */
    if (FCGX_Init() != 0 || FCGX_InitRequest(&fx, 0, 0) != 0) {
        rose_logf(ROSE_LOG_ERROR, "fcgi_init", "%s: cannot initialise FastCGI", name);
        return 1;
    }
    while (FCGX_Accept_r(&fx) >= 0) {
        struct deferred later = {NULL, NULL};
        handle(&fx, routes, nroutes, &later);
        FCGX_Finish_r(&fx); /* the client has its whole answer now */
        if (later.fn != NULL)
            later.fn(later.arg);
    }
    FCGX_Free(&fx, 1);
    rose_store_close(app.store);
    rose_config_free(app.cfg);
    free(app.origins_buf);
    return 0;
}
