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

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/json.h"
#include "core/buf.h"
#include "core/limits.h"
#include "providers/http_common.h"
#include "providers/llm.h"
#include "providers/sse.h"

/* State of one request, shared with the libcurl callbacks. */
struct call {
    const struct rose_llm_opts *o;
    struct rose_llm_result *res;
    struct rose_pcall pc; /* the handle, the body (unless an event stream), what
                           * the server said; pc.err: why a callback stopped */
    int stream;           /* we asked for "stream": true */
    int started;          /* the first body byte arrived; `sse` is decided */
    int sse;              /* the body is an event stream (2xx to a stream request) */
    int done;             /* saw `data: [DONE]` */
    size_t received;      /* body bytes so far, against o->max_response_bytes */
    struct rose_sse *parser;
    struct rose_buf text; /* reply text so far, for a stream */
    rose_llm_token_fn on_token;
    void *arg;
};

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

    if ((err = rose_pcall_parse_object(json, n, &c.root)) != ROSE_OK)
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

/* Keep an upstream error kind, made safe to log. */
static void
set_error_type(struct call *c, const char *kind)
{
    rose_pcall_safe_copy(c->pc.error_type, kind, strlen(kind));
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
        set_error_type(call, c.error);
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
        curl_easy_getinfo(c->pc.curl, CURLINFO_RESPONSE_CODE, &status);
        c->sse = c->stream && status >= 200 && status < 300;
    }
    if (n > c->o->max_response_bytes - c->received) {
        c->pc.err = ROSE_ERR_TOO_LARGE;
        return 0;
    }
    c->received += n;
    err = c->sse ? rose_sse_feed(c->parser, ptr, n) : rose_buf_append(&c->pc.body, ptr, n);
    if (err != ROSE_OK) {
        c->pc.err = err;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return n;
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
    if ((err = rose_json_add(root, "model", json_object_new_string(o->model))) != ROSE_OK)
        goto out;
    if ((err = rose_json_add(root, "messages", arr = json_object_new_array())) != ROSE_OK)
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
        if ((err = rose_json_add(m, "role", json_object_new_string(msgs[i].role))) != ROSE_OK ||
            (err = rose_json_add(m, "content", json_object_new_string(msgs[i].content))) != ROSE_OK)
            goto out;
    }
    /* Hundredths by hand: json-c would write 0.7 as 0.69999999999999996,
     * and "%g" follows the locale ("0,7"). */
    hundredths = lround(o->temperature * 100);
    snprintf(temp, sizeof(temp), "%ld.%02ld", hundredths / 100, hundredths % 100);
    if ((err = rose_json_add(root, "temperature",
                             json_object_new_double_s(o->temperature, temp))) != ROSE_OK)
        goto out;
    if (o->max_tokens > 0 &&
        (err = rose_json_add(root, "max_tokens", json_object_new_int(o->max_tokens))) != ROSE_OK)
        goto out;
    if ((err = rose_json_add(root, "stream", json_object_new_boolean(stream))) != ROSE_OK)
        goto out;
    *out = root;
    root = NULL;
out:
    json_object_put(root);
    return err;
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
    if (o->api_key != NULL && rose_pcall_has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    if (msgs == NULL || n == 0)
        return ROSE_ERR_INTERNAL;
    for (i = 0; i < n; i++)
        if (msgs[i].role == NULL || msgs[i].content == NULL)
            return ROSE_ERR_INTERNAL;
    return ROSE_OK;
}

/* A plain (non-stream) 2xx reply. */
static enum rose_err
read_reply(struct call *c)
{
    struct rose_llm_chunk ch;
    enum rose_err err;

    if ((err = decode(c->pc.body.data ? c->pc.body.data : "", c->pc.body.len, "message", &ch)) !=
        ROSE_OK)
        return err;
    if (ch.error != NULL) {
        set_error_type(c, ch.error);
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
    struct rose_buf url;
    /* "Expect:" turns off the 100-continue round trip before the body. */
    const char *hdrs[] = {"Content-Type: application/json",
                          stream ? "Accept: text/event-stream" : "Accept: application/json",
                          "Expect:", NULL};
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
    rose_pcall_init(&c.pc, o->max_response_bytes);
    c.pc.errors = ROSE_PCALL_ERRORS_OPENAI;
    c.pc.unavailable_498 = 1; /* Groq: capacity exceeded */
    rose_buf_init(&c.text, o->max_response_bytes);

    if ((err = rose_pcall_url(&url, o->base_url)) != ROSE_OK ||
        (err = rose_buf_puts(&url, "/chat/completions")) != ROSE_OK)
        goto out;
    if ((err = build_request(o, msgs, n, stream, &req)) != ROSE_OK)
        goto out;
    if (stream && (err = rose_sse_new(on_event, &c, o->max_response_bytes, &c.parser)) != ROSE_OK)
        goto out;
    if ((err = rose_pcall_add_headers(&c.pc, hdrs)) != ROSE_OK ||
        (err = rose_pcall_open(&c.pc, url.data, o->connect_timeout_ms, o->timeout_ms,
                               o->api_key)) != ROSE_OK)
        goto out;
    if ((err = rose_pcall_json_body(&c.pc, req)) != ROSE_OK)
        goto out;
    /* Our own body callback: a stream goes through the SSE parser. */
    curl_easy_setopt(c.pc.curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c.pc.curl, CURLOPT_WRITEDATA, &c);

    err = rose_pcall_perform(&c.pc);
    if (!c.started) /* no body at all: decide as write_body() would have */
        c.sse = stream && c.pc.status >= 200 && c.pc.status < 300;
    if (err != ROSE_OK) {
        /* an error status, or a callback stopped the transfer: too large, bad chunk... */
    } else if (c.sse) {
        /* A stream is finished once it says so, whatever happens to the
         * connection after that; if it ends first, it was cut off. */
        if (c.done || res->finish_reason != NULL)
            err = ROSE_OK;
        else if (c.pc.rc == CURLE_OK || connection_broke(c.pc.rc))
            err = ROSE_ERR_PARSE;
        else
            err = rose_pcall_curl_error(c.pc.rc); /* a timeout, mostly */
    } else if ((err = rose_pcall_curl_error(c.pc.rc)) == ROSE_OK) {
        err = read_reply(&c);
    }
    if (c.sse && res->text == NULL && (res->text = rose_buf_steal(&c.text)) == NULL)
        err = ROSE_ERR_NOMEM;
    res->http_status = (int)c.pc.status;
    res->retry_after_s = c.pc.retry_after_s;
    memcpy(res->error_type, c.pc.error_type, sizeof(res->error_type));

out:
    rose_pcall_free(&c.pc);
    json_object_put(req);
    rose_sse_free(c.parser);
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
