/*
 * stt.c — OpenAI-compatible /audio/transcriptions over libcurl (see stt.h).
 *
 * One call is one easy handle with a MIME body.  The audio part reads
 * straight from the caller's buffer through a callback (no copy of up to
 * MAX_AUDIO_BYTES per request); the response body is collected with a cap
 * and parsed at the end.
 *
 * The helpers for headers, statuses and error bodies mirror those of llm.c,
 * with the same conventions, so the three provider clients classify alike.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/text.h"
#include "providers/stt.h"

/* State of one request, shared with the libcurl callbacks. */
struct call {
    const struct rose_stt_opts *o;
    struct rose_stt_result *res;
    struct rose_buf body; /* the response body, capped */
    enum rose_err err;    /* why a callback stopped the transfer */
};

/* The audio being uploaded, read by libcurl through read_audio(). */
struct upload {
    const char *data;
    size_t len, pos;
};

static size_t
read_audio(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nitems;

    if (n > u->len - u->pos)
        n = u->len - u->pos;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* libcurl rewinds the body when it must send it again (a redirect, an
 * authentication round): let it. */
static int
seek_audio(void *arg, curl_off_t offset, int origin)
{
    struct upload *u = arg;

    if (origin != SEEK_SET || offset < 0 || (curl_off_t)u->len < offset)
        return CURL_SEEKFUNC_FAIL;
    u->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t
write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct call *c = userdata;
    size_t n = size * nmemb;
    enum rose_err err;

    if ((err = rose_buf_append(&c->body, ptr, n)) != ROSE_OK) {
        c->err = err; /* ROSE_ERR_TOO_LARGE past the cap */
        return 0;     /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

static int
is_kind_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

/* Copy s[0..n) into out (size 64), made safe to log: [A-Za-z0-9_.-] only. */
static void
set_safe(char out[64], const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n && i < 63; i++)
        out[i] = is_kind_char(s[i]) ? s[i] : '_';
    out[i] = '\0';
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

/* If the header line buf[0..n) is "name: value", copy the trimmed value to
 * value (size 64) and return 1; longer values are nothing we use. */
static int
header_value(const char *buf, size_t n, const char *name, char value[64])
{
    size_t k = strlen(name);

    if (n <= k + 1 || buf[k] != ':' || !rose_strnieq(buf, name, k) || n - k - 1 >= 64)
        return 0;
    memcpy(value, buf + k + 1, n - k - 1);
    value[n - k - 1] = '\0';
    rose_trim(value);
    return 1;
}

static size_t
read_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct call *c = userdata;
    size_t n = size * nitems;
    char value[64];

    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new response (after a 100) starts: forget the last one's. */
        c->res->retry_after_s = -1;
        c->res->request_id[0] = '\0';
    } else if (header_value(buf, n, "retry-after", value)) {
        c->res->retry_after_s = parse_retry_after(value);
    } else if (header_value(buf, n, "x-request-id", value)) {
        set_safe(c->res->request_id, value, strlen(value));
    }
    return n;
}

/* Parse json[0..n) as one strict JSON object; nothing may follow it. */
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

/* A member that is a string, or NULL.  NULL-safe in obj. */
static const char *
string_member(struct json_object *obj, const char *key)
{
    struct json_object *v;

    if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Take error.code, else error.type, from an error body, if it is one. */
static void
read_error_body(struct call *c)
{
    struct json_object *root, *error;
    const char *kind;

    if (parse_object(c->body.data ? c->body.data : "", c->body.len, &root) != ROSE_OK)
        return;
    if (json_object_object_get_ex(root, "error", &error) &&
        ((kind = string_member(error, "code")) != NULL ||
         (kind = string_member(error, "type")) != NULL))
        set_safe(c->res->error_type, kind, strlen(kind));
    json_object_put(root);
}

/* A 2xx reply: {"text": "...", ...}. */
static enum rose_err
read_reply(struct call *c)
{
    struct json_object *root, *v;
    enum rose_err err;

    if ((err = parse_object(c->body.data ? c->body.data : "", c->body.len, &root)) != ROSE_OK)
        return err;
    if (!json_object_object_get_ex(root, "text", &v) || !json_object_is_type(v, json_type_string) ||
        memchr(json_object_get_string(v), '\0', (size_t)json_object_get_string_len(v)) != NULL)
        err = ROSE_ERR_PARSE; /* no text, or one that a C string would cut */
    else if ((c->res->text = strdup(json_object_get_string(v))) == NULL)
        err = ROSE_ERR_NOMEM;
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

/* 1 if s is 1..max bytes, each accepted by ok(). */
static int
all_of(const char *s, size_t max, int (*ok)(char))
{
    size_t n;

    if (s == NULL || (n = strnlen(s, max + 1)) == 0 || n > max)
        return 0;
    for (; *s; s++)
        if (!ok(*s))
            return 0;
    return 1;
}

static int
is_lang_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-';
}

static int
is_name_char(char ch)
{
    return is_kind_char(ch);
}

static int
is_type_char(char ch)
{
    return ch >= 0x20 && ch <= 0x7e && ch != '"';
}

static enum rose_err
check_args(const struct rose_stt_opts *o, const void *audio, size_t len, const char *filename,
           const char *content_type)
{
    if (o == NULL || o->base_url == NULL || o->base_url[0] == '\0' || o->model == NULL ||
        o->model[0] == '\0' || has_control_char(o->model) || o->connect_timeout_ms <= 0 ||
        o->timeout_ms <= 0 || o->max_response_bytes == 0)
        return ROSE_ERR_CONFIG;
    /* A CR or LF in the key would let it write its own headers. */
    if (o->api_key != NULL && has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    if (o->language != NULL && o->language[0] != '\0' && !all_of(o->language, 16, is_lang_char))
        return ROSE_ERR_CONFIG;
    if (audio == NULL || len == 0 || !all_of(filename, 64, is_name_char) ||
        !all_of(content_type, 100, is_type_char))
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

/* Add a text part name=value to the form. */
static enum rose_err
add_field(curl_mime *form, const char *name, const char *value)
{
    curl_mimepart *part;

    if ((part = curl_mime_addpart(form)) == NULL || curl_mime_name(part, name) != CURLE_OK ||
        curl_mime_data(part, value, CURL_ZERO_TERMINATED) != CURLE_OK)
        return ROSE_ERR_NOMEM;
    return ROSE_OK;
}

static enum rose_err
build_form(CURL *curl, const struct rose_stt_opts *o, struct upload *up, const char *filename,
           const char *content_type, curl_mime **out)
{
    curl_mime *form;
    curl_mimepart *part;
    enum rose_err err = ROSE_ERR_NOMEM;

    if ((form = curl_mime_init(curl)) == NULL)
        return ROSE_ERR_NOMEM;
    if ((part = curl_mime_addpart(form)) == NULL || curl_mime_name(part, "file") != CURLE_OK ||
        curl_mime_filename(part, filename) != CURLE_OK ||
        curl_mime_type(part, content_type) != CURLE_OK ||
        curl_mime_data_cb(part, (curl_off_t)up->len, read_audio, seek_audio, NULL, up) != CURLE_OK)
        goto out;
    if ((err = add_field(form, "model", o->model)) != ROSE_OK)
        goto out;
    if (o->language != NULL && o->language[0] != '\0' &&
        (err = add_field(form, "language", o->language)) != ROSE_OK)
        goto out;
    if ((err = add_field(form, "response_format", "json")) != ROSE_OK)
        goto out;
    *out = form;
    form = NULL;
out:
    curl_mime_free(form);
    return err;
}

enum rose_err
rose_stt_transcribe(const struct rose_stt_opts *o, const void *audio, size_t len,
                    const char *filename, const char *content_type, struct rose_stt_result *res)
{
    struct call c;
    struct upload up = {audio, len, 0};
    struct curl_slist *headers = NULL, *h;
    struct rose_buf url;
    CURL *curl = NULL;
    curl_mime *form = NULL;
    /* "Expect:" turns off the 100-continue round trip before the upload. */
    const char *hdrs[] = {"Accept: application/json", "Expect:"};
    size_t baselen, i;
    long status = 0;
    CURLcode rc;
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    memset(&c, 0, sizeof(c));
    rose_buf_init(&url, ROSE_CONF_LINE_MAX + 32);
    if ((err = check_args(o, audio, len, filename, content_type)) != ROSE_OK)
        return err;
    c.o = o;
    c.res = res;
    rose_buf_init(&c.body, o->max_response_bytes);

    baselen = strlen(o->base_url);
    while (baselen > 0 && o->base_url[baselen - 1] == '/')
        baselen--;
    if ((err = rose_buf_append(&url, o->base_url, baselen)) != ROSE_OK ||
        (err = rose_buf_puts(&url, "/audio/transcriptions")) != ROSE_OK)
        goto out;
    if ((curl = curl_easy_init()) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    if ((err = build_form(curl, o, &up, filename, content_type, &form)) != ROSE_OK)
        goto out;
    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        if ((h = curl_slist_append(headers, hdrs[i])) == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        headers = h;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.data);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded worker */
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_response_bytes);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "rose");
    if (o->api_key != NULL && o->api_key[0] != '\0') {
        /* libcurl writes "Authorization: Bearer <key>" itself. */
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, o->api_key);
    }
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, form);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &c);

    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    res->http_status = (int)status;
    if (status != 429 && status != 503)
        res->retry_after_s = -1;

    if (status != 0 && (status < 200 || status > 299)) {
        /* An error answer: its status decides, whatever became of its body. */
        if (rc == CURLE_OK && c.err == ROSE_OK)
            read_error_body(&c);
        err = status_error(status);
    } else if (c.err != ROSE_OK) {
        err = c.err; /* the body passed the cap */
    } else if (rc != CURLE_OK) {
        err = curl_error(rc);
    } else {
        err = read_reply(&c);
    }

out:
    curl_mime_free(form);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    rose_buf_free(&c.body);
    rose_buf_free(&url);
    return err;
}

void
rose_stt_result_free(struct rose_stt_result *res)
{
    if (res == NULL)
        return;
    free(res->text);
    res->text = NULL;
}
