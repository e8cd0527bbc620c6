/*
 * llm.c — OpenAI-compatible chat completions over libcurl (see llm.h).
 *
 * One call is one easy handle.  The body is read by write_body(): a 2xx
 * answer to a stream request goes through the SSE parser, whose events are
 * decoded as chunks and handed to the caller as they come; anything else
 * (a plain reply, an error body) is collected, capped, and parsed at the end.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/text.h"
#include "providers/llm.h"
#include "providers/sse.h"

/* State of one request, shared with the libcurl callbacks. */
struct call {
    const struct rose_llm_opts *o;
    struct rose_llm_result *res;
    CURL *curl;
    int stream;           /* we asked for "stream": true */
    int started;          /* the first body byte arrived; `sse` is decided */
    int sse;              /* the body is an event stream (2xx to a stream request) */
    int done;             /* saw `data: [DONE]` */
    size_t received;      /* body bytes so far, against o->max_response_bytes */
    struct rose_buf body; /* the body, unless it is an event stream */
    struct rose_sse *parser;
    struct rose_buf text; /* reply text so far, for a stream */
    rose_llm_token_fn on_token;
    void *arg;
    enum rose_err err; /* why a callback stopped the transfer */
};

/* Parse json[0..n) as one JSON object; nothing may follow it. */
static enum rose_err
parse_object(const char *json, size_t n, struct json_object **out)
{
    struct json_tokener *tok;
    struct json_object *o;
    enum rose_err err = ROSE_OK;

    if (n > INT_MAX)
        return ROSE_ERR_TOO_LARGE;
    if ((tok = json_tokener_new_ex(ROSE_JSON_DEPTH_MAX)) == NULL)
        return ROSE_ERR_NOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, json, (int)n);
    if (o == NULL || json_tokener_get_parse_end(tok) != n ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        err = ROSE_ERR_PARSE;
    } else {
        *out = o;
    }
    json_tokener_free(tok);
    return err;
}

/* An optional member: 1 if key is there and not null. */
static int
member(struct json_object *obj, const char *key, struct json_object **v)
{
    return json_object_object_get_ex(obj, key, v) && *v != NULL;
}

/* An optional member that must be an object, or NULL.  NULL-safe in obj. */
static struct json_object *
object_member(struct json_object *obj, const char *key)
{
    struct json_object *v;

    return member(obj, key, &v) && json_object_is_type(v, json_type_object) ? v : NULL;
}

/* A token count: a non-negative JSON integer, else -1. */
static int
token_count(struct json_object *usage, const char *key)
{
    struct json_object *v;
    int64_t i;

    if (!member(usage, key, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    i = json_object_get_int64(v);
    return i < 0 ? -1 : i > INT_MAX ? INT_MAX : (int)i;
}

/* What kind of error an {"error": ...} value is: code, else type, else "". */
static const char *
error_kind(struct json_object *error)
{
    struct json_object *v;

    if (json_object_is_type(error, json_type_object)) {
        if (member(error, "code", &v) && json_object_is_type(v, json_type_string))
            return json_object_get_string(v);
        if (member(error, "type", &v) && json_object_is_type(v, json_type_string))
            return json_object_get_string(v);
    }
    return "";
}

/*
 * Read a completion object: choices[0].<part> ("delta" in a chunk,
 * "message" in a plain reply), its finish_reason, and the token usage
 * (standard "usage", else Groq's "x_groq.usage").
 */
static enum rose_err
read_completion(struct json_object *root, const char *part, struct rose_llm_chunk *c)
{
    struct json_object *choices, *choice, *msg, *v, *usage;

    if (member(root, "error", &v)) {
        c->error = error_kind(v);
        return ROSE_OK;
    }
    if (member(root, "choices", &choices)) {
        if (!json_object_is_type(choices, json_type_array))
            return ROSE_ERR_PARSE;
        if (json_object_array_length(choices) > 0) {
            choice = json_object_array_get_idx(choices, 0);
            if (!json_object_is_type(choice, json_type_object))
                return ROSE_ERR_PARSE;
            if (member(choice, part, &msg)) {
                if (!json_object_is_type(msg, json_type_object))
                    return ROSE_ERR_PARSE;
                if (member(msg, "content", &v)) {
                    if (!json_object_is_type(v, json_type_string))
                        return ROSE_ERR_PARSE;
                    c->content = json_object_get_string(v);
                    c->content_len = (size_t)json_object_get_string_len(v);
                    /* The reply becomes a C string; a NUL would cut it. */
                    if (memchr(c->content, '\0', c->content_len) != NULL)
                        return ROSE_ERR_PARSE;
                }
            }
            if (member(choice, "finish_reason", &v)) {
                if (!json_object_is_type(v, json_type_string))
                    return ROSE_ERR_PARSE;
                c->finish_reason = json_object_get_string(v);
            }
        }
    }
    if ((usage = object_member(root, "usage")) == NULL)
        usage = object_member(object_member(root, "x_groq"), "usage");
    if (usage != NULL) {
        c->prompt_tokens = token_count(usage, "prompt_tokens");
        c->completion_tokens = token_count(usage, "completion_tokens");
    }
    return ROSE_OK;
}

static enum rose_err
decode(const char *json, size_t n, const char *part, struct rose_llm_chunk *out)
{
    struct rose_llm_chunk c = {.prompt_tokens = -1, .completion_tokens = -1};
    enum rose_err err;

    if ((err = parse_object(json, n, &c.root)) != ROSE_OK)
        return err;
    if ((err = read_completion(c.root, part, &c)) != ROSE_OK) {
        json_object_put(c.root);
        return err;
    }
    *out = c;
    return ROSE_OK;
}

enum rose_err
rose_llm_decode_chunk(const char *json, size_t n, struct rose_llm_chunk *out)
{
    return decode(json, n, "delta", out);
}

void
rose_llm_chunk_free(struct rose_llm_chunk *c)
{
    if (c == NULL)
        return;
    json_object_put(c->root);
    memset(c, 0, sizeof(*c));
}

void
rose_llm_result_free(struct rose_llm_result *res)
{
    if (res == NULL)
        return;
    free(res->text);
    free(res->finish_reason);
    res->text = NULL;
    res->finish_reason = NULL;
}

static int
is_kind_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

/* Keep an upstream error kind, made safe to log: [A-Za-z0-9_.-] only. */
static void
set_error_type(struct rose_llm_result *res, const char *kind)
{
    size_t i;

    for (i = 0; kind[i] && i < sizeof(res->error_type) - 1; i++)
        res->error_type[i] = is_kind_char(kind[i]) ? kind[i] : '_';
    res->error_type[i] = '\0';
}

static enum rose_err
set_finish_reason(struct rose_llm_result *res, const char *reason)
{
    char *s;

    if ((s = strdup(reason)) == NULL)
        return ROSE_ERR_NOMEM;
    free(res->finish_reason);
    res->finish_reason = s;
    return ROSE_OK;
}

static void
set_usage(struct rose_llm_result *res, const struct rose_llm_chunk *c)
{
    if (c->prompt_tokens >= 0)
        res->prompt_tokens = c->prompt_tokens;
    if (c->completion_tokens >= 0)
        res->completion_tokens = c->completion_tokens;
}

/* One SSE event of a streamed reply. */
static enum rose_err
on_event(void *arg, const char *event, const char *data, size_t datalen)
{
    struct call *call = arg;
    struct rose_llm_chunk c;
    enum rose_err err = ROSE_OK;

    (void)event; /* OpenAI-style streams send unnamed events only */
    if (call->done)
        return ROSE_OK; /* nothing counts after [DONE] */
    if (datalen == 6 && memcmp(data, "[DONE]", 6) == 0) {
        call->done = 1;
        return ROSE_OK;
    }
    if ((err = rose_llm_decode_chunk(data, datalen, &c)) != ROSE_OK)
        return err;
    if (c.error != NULL) {
        set_error_type(call->res, c.error);
        err = ROSE_ERR_UPSTREAM;
        goto out;
    }
    if (c.content_len > 0) {
        if ((err = rose_buf_append(&call->text, c.content, c.content_len)) != ROSE_OK)
            goto out;
        if (call->on_token != NULL &&
            (err = call->on_token(call->arg, c.content, c.content_len)) != ROSE_OK)
            goto out;
    }
    if (c.finish_reason != NULL && (err = set_finish_reason(call->res, c.finish_reason)) != ROSE_OK)
        goto out;
    set_usage(call->res, &c);
out:
    rose_llm_chunk_free(&c);
    return err;
}

static size_t
write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct call *c = userdata;
    size_t n = size * nmemb;
    long status = 0;
    enum rose_err err;

    if (!c->started) {
        c->started = 1;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        c->sse = c->stream && status >= 200 && status < 300;
    }
    if (n > c->o->max_response_bytes - c->received) {
        c->err = ROSE_ERR_TOO_LARGE;
        return 0;
    }
    c->received += n;
    err = c->sse ? rose_sse_feed(c->parser, ptr, n) : rose_buf_append(&c->body, ptr, n);
    if (err != ROSE_OK) {
        c->err = err;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3); -1 if
 * neither.  Digits by hand, since strtod() would follow the locale. */
static double
parse_retry_after(const char *v)
{
    double d = 0;
    time_t t;

    if (*v >= '0' && *v <= '9') {
        for (; *v >= '0' && *v <= '9'; v++)
            d = d * 10 + (*v - '0');
        return *v == '\0' ? d : -1;
    }
    if ((t = curl_getdate(v, NULL)) == -1)
        return -1;
    d = difftime(t, time(NULL));
    return d > 0 ? d : 0;
}

static size_t
read_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    static const char name[] = "retry-after:";
    struct call *c = userdata;
    size_t n = size * nitems, vlen;
    char value[64];

    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        c->res->retry_after_s = -1; /* a new response (after a 100) starts */
    } else if (n > sizeof(name) - 1 && rose_strnieq(buf, name, sizeof(name) - 1)) {
        vlen = n - (sizeof(name) - 1);
        if (vlen < sizeof(value)) { /* longer is no number or date we know */
            memcpy(value, buf + sizeof(name) - 1, vlen);
            value[vlen] = '\0';
            c->res->retry_after_s = parse_retry_after(rose_trim(value));
        }
    }
    return n;
}

/* Add val under key; json-c adopts val only on success, so drop it otherwise. */
static enum rose_err
add(struct json_object *obj, const char *key, struct json_object *val)
{
    if (val == NULL)
        return ROSE_ERR_NOMEM;
    if (json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return ROSE_ERR_NOMEM;
    }
    return ROSE_OK;
}

static enum rose_err
build_request(const struct rose_llm_opts *o, const struct rose_llm_msg *msgs, size_t n, int stream,
              struct json_object **out)
{
    struct json_object *root = NULL, *arr, *m;
    long hundredths;
    char temp[32];
    size_t i;
    enum rose_err err;

    if ((root = json_object_new_object()) == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = add(root, "model", json_object_new_string(o->model))) != ROSE_OK)
        goto out;
    if ((err = add(root, "messages", arr = json_object_new_array())) != ROSE_OK)
        goto out;
    for (i = 0; i < n; i++) {
        if ((m = json_object_new_object()) == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        if (json_object_array_add(arr, m) != 0) {
            json_object_put(m);
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        if ((err = add(m, "role", json_object_new_string(msgs[i].role))) != ROSE_OK ||
            (err = add(m, "content", json_object_new_string(msgs[i].content))) != ROSE_OK)
            goto out;
    }
    /* Hundredths by hand: json-c would write 0.7 as 0.69999999999999996,
     * and "%g" follows the locale ("0,7"). */
    hundredths = lround(o->temperature * 100);
    snprintf(temp, sizeof(temp), "%ld.%02ld", hundredths / 100, hundredths % 100);
    if ((err = add(root, "temperature", json_object_new_double_s(o->temperature, temp))) != ROSE_OK)
        goto out;
    if (o->max_tokens > 0 &&
        (err = add(root, "max_tokens", json_object_new_int(o->max_tokens))) != ROSE_OK)
        goto out;
    if ((err = add(root, "stream", json_object_new_boolean(stream))) != ROSE_OK)
        goto out;
    *out = root;
    root = NULL;
out:
    json_object_put(root);
    return err;
}

static int
has_control_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static enum rose_err
check_args(const struct rose_llm_opts *o, const struct rose_llm_msg *msgs, size_t n)
{
    size_t i;

    if (o == NULL || o->base_url == NULL || o->base_url[0] == '\0' || o->model == NULL ||
        o->model[0] == '\0' || !(o->temperature >= 0 && o->temperature <= 2) || o->max_tokens < 0 ||
        o->connect_timeout_ms <= 0 || o->timeout_ms <= 0 || o->max_response_bytes == 0)
        return ROSE_ERR_CONFIG;
    /* A CR or LF in the key would let it write its own headers. */
    if (o->api_key != NULL && has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    if (msgs == NULL || n == 0)
        return ROSE_ERR_INTERNAL;
    for (i = 0; i < n; i++)
        if (msgs[i].role == NULL || msgs[i].content == NULL)
            return ROSE_ERR_INTERNAL;
    return ROSE_OK;
}

static enum rose_err
curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return ROSE_ERR_TIMEOUT;
    case CURLE_OUT_OF_MEMORY:
        return ROSE_ERR_NOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return ROSE_ERR_CONFIG;
    case CURLE_FILESIZE_EXCEEDED:
        return ROSE_ERR_TOO_LARGE;
    default:
        /* refused, DNS, TLS, reset, closed early: the provider is not there */
        return ROSE_ERR_UNAVAILABLE;
    }
}

static enum rose_err
status_error(long status)
{
    if (status == 429)
        return ROSE_ERR_RATE_LIMITED;
    if (status == 498 || (status >= 500 && status <= 599))
        return ROSE_ERR_UNAVAILABLE;
    return ROSE_ERR_UPSTREAM;
}

/* Take error.code / error.type from an error body, if it is one. */
static void
read_error_body(struct call *c)
{
    struct rose_llm_chunk ch;

    if (decode(c->body.data ? c->body.data : "", c->body.len, "message", &ch) != ROSE_OK)
        return;
    if (ch.error != NULL)
        set_error_type(c->res, ch.error);
    rose_llm_chunk_free(&ch);
}

/* A plain (non-stream) 2xx reply. */
static enum rose_err
read_reply(struct call *c)
{
    struct rose_llm_chunk ch;
    enum rose_err err;

    if ((err = decode(c->body.data ? c->body.data : "", c->body.len, "message", &ch)) != ROSE_OK)
        return err;
    if (ch.error != NULL) {
        set_error_type(c->res, ch.error);
        err = ROSE_ERR_UPSTREAM;
    } else if (ch.content == NULL) {
        err = ROSE_ERR_PARSE; /* no text: not a reply we can use */
    } else if ((c->res->text = strndup(ch.content, ch.content_len)) == NULL) {
        err = ROSE_ERR_NOMEM;
    } else if (ch.finish_reason != NULL) {
        err = set_finish_reason(c->res, ch.finish_reason);
    }
    set_usage(c->res, &ch);
    rose_llm_chunk_free(&ch);
    return err;
}

/* The transfer broke after a 2xx stream began (not a timeout). */
static int
connection_broke(CURLcode rc)
{
    return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_HTTP2 ||
           rc == CURLE_HTTP2_STREAM;
}

static enum rose_err
send_request(const struct rose_llm_opts *o, const struct rose_llm_msg *msgs, size_t n, int stream,
             rose_llm_token_fn on_token, void *arg, struct rose_llm_result *res)
{
    struct call c;
    struct json_object *req = NULL;
    struct curl_slist *headers = NULL, *h;
    struct rose_buf url;
    /* "Expect:" turns off the 100-continue round trip before the body. */
    const char *hdrs[] = {"Content-Type: application/json",
                          stream ? "Accept: text/event-stream" : "Accept: application/json",
                          "Expect:"};
    const char *body;
    size_t bodylen, baselen, i;
    long status = 0;
    CURLcode rc;
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->prompt_tokens = res->completion_tokens = -1;
    res->retry_after_s = -1;
    memset(&c, 0, sizeof(c));
    rose_buf_init(&url, ROSE_CONF_LINE_MAX + 32);
    if ((err = check_args(o, msgs, n)) != ROSE_OK)
        return err;
    c.o = o;
    c.res = res;
    c.stream = stream;
    c.on_token = on_token;
    c.arg = arg;
    rose_buf_init(&c.body, o->max_response_bytes);
    rose_buf_init(&c.text, o->max_response_bytes);

    baselen = strlen(o->base_url);
    while (baselen > 0 && o->base_url[baselen - 1] == '/')
        baselen--;
    if ((err = rose_buf_append(&url, o->base_url, baselen)) != ROSE_OK ||
        (err = rose_buf_puts(&url, "/chat/completions")) != ROSE_OK)
        goto out;
    if ((err = build_request(o, msgs, n, stream, &req)) != ROSE_OK)
        goto out;
    body = json_object_to_json_string_length(
        req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &bodylen);
    if (body == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    if (stream && (err = rose_sse_new(on_event, &c, o->max_response_bytes, &c.parser)) != ROSE_OK)
        goto out;

    if ((c.curl = curl_easy_init()) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        if ((h = curl_slist_append(headers, hdrs[i])) == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        headers = h;
    }
    curl_easy_setopt(c.curl, CURLOPT_URL, url.data);
    curl_easy_setopt(c.curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c.curl, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded worker */
    curl_easy_setopt(c.curl, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(c.curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c.curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_response_bytes);
    curl_easy_setopt(c.curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c.curl, CURLOPT_USERAGENT, "rose");
    if (o->api_key != NULL && o->api_key[0] != '\0') {
        /* libcurl writes "Authorization: Bearer <key>" itself. */
        curl_easy_setopt(c.curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(c.curl, CURLOPT_XOAUTH2_BEARER, o->api_key);
    }
    curl_easy_setopt(c.curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
    curl_easy_setopt(c.curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c.curl, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(c.curl, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(c.curl, CURLOPT_HEADERDATA, &c);

    rc = curl_easy_perform(c.curl);
    curl_easy_getinfo(c.curl, CURLINFO_RESPONSE_CODE, &status);
    res->http_status = (int)status;
    if (status != 429 && status != 503)
        res->retry_after_s = -1;
    if (!c.started) /* no body at all: decide as write_body() would have */
        c.sse = stream && status >= 200 && status < 300;

    if (status != 0 && (status < 200 || status > 299)) {
        /* An error answer: its status decides, whatever became of its body. */
        if (rc == CURLE_OK && c.err == ROSE_OK)
            read_error_body(&c);
        err = status_error(status);
    } else if (c.err != ROSE_OK) {
        err = c.err; /* a callback stopped the transfer: too large, bad chunk... */
    } else if (c.sse) {
        /* A stream is finished once it says so, whatever happens to the
         * connection after that; if it ends first, it was cut off. */
        if (c.done || res->finish_reason != NULL)
            err = ROSE_OK;
        else if (rc == CURLE_OK || connection_broke(rc))
            err = ROSE_ERR_PARSE;
        else
            err = curl_error(rc); /* a timeout, mostly */
    } else if (rc != CURLE_OK) {
        err = curl_error(rc);
    } else {
        err = read_reply(&c);
    }
    if (c.sse && res->text == NULL && (res->text = rose_buf_steal(&c.text)) == NULL)
        err = ROSE_ERR_NOMEM;

out:
    curl_easy_cleanup(c.curl);
    curl_slist_free_all(headers);
    json_object_put(req);
    rose_sse_free(c.parser);
    rose_buf_free(&c.body);
    rose_buf_free(&c.text);
    rose_buf_free(&url);
    return err;
}

enum rose_err
rose_llm_complete(const struct rose_llm_opts *o, const struct rose_llm_msg *msgs, size_t n,
                  struct rose_llm_result *res)
{
    return send_request(o, msgs, n, 0, NULL, NULL, res);
}

enum rose_err
rose_llm_stream(const struct rose_llm_opts *o, const struct rose_llm_msg *msgs, size_t n,
                rose_llm_token_fn on_token, void *arg, struct rose_llm_result *res)
{
    return send_request(o, msgs, n, 1, on_token, arg, res);
}
