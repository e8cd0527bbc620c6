/*
 * stt.c — OpenAI-compatible /audio/transcriptions over libcurl (see stt.h).
 *
 * One call is one easy handle with a MIME body.  The audio part reads
 * straight from the caller's buffer through a callback (no copy of up to
 * MAX_AUDIO_BYTES per request); the response body is collected with a cap
 * and parsed at the end.
 *
 * Headers, statuses and error bodies are read by http_common.c, as for the
 * other provider clients, so they classify alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/limits.h"
#include "providers/http_common.h"
#include "providers/stt.h"

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

/* A 2xx reply: {"text": "...", ...}. */
static enum rose_err
read_reply(const struct rose_buf *body, struct rose_stt_result *res)
{
    struct json_object *root, *v;
    enum rose_err err;

    if ((err = rose_pcall_parse_object(body->data, body->len, &root)) != ROSE_OK)
        return err;
    if (!json_object_object_get_ex(root, "text", &v) || !json_object_is_type(v, json_type_string) ||
        memchr(json_object_get_string(v), '\0', (size_t)json_object_get_string_len(v)) != NULL)
        err = ROSE_ERR_PARSE; /* no text, or one that a C string would cut */
    else if ((res->text = strdup(json_object_get_string(v))) == NULL)
        err = ROSE_ERR_NOMEM;
    json_object_put(root);
    return err;
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
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
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
        o->model[0] == '\0' || rose_pcall_has_control_char(o->model) ||
        o->connect_timeout_ms <= 0 || o->timeout_ms <= 0 || o->max_response_bytes == 0)
        return ROSE_ERR_CONFIG;
    /* A CR or LF in the key would let it write its own headers. */
    if (o->api_key != NULL && rose_pcall_has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    if (o->language != NULL && o->language[0] != '\0' && !all_of(o->language, 16, is_lang_char))
        return ROSE_ERR_CONFIG;
    if (audio == NULL || len == 0 || !all_of(filename, 64, is_name_char) ||
        !all_of(content_type, 100, is_type_char))
        return ROSE_ERR_INTERNAL;
    return ROSE_OK;
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
    /* "Expect:" turns off the 100-continue round trip before the upload. */
    static const char *const hdrs[] = {"Accept: application/json", "Expect:", NULL};
    static const char *const id_headers[] = {"x-request-id", NULL};
    struct rose_pcall pc;
    struct upload up = {audio, len, 0};
    struct rose_buf url;
    curl_mime *form = NULL;
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    rose_buf_init(&url, ROSE_CONF_LINE_MAX + 32);
    if ((err = check_args(o, audio, len, filename, content_type)) != ROSE_OK)
        return err;
    rose_pcall_init(&pc, o->max_response_bytes);
    pc.errors = ROSE_PCALL_ERRORS_OPENAI;
    pc.unavailable_498 = 1; /* Groq: capacity exceeded */
    pc.id_headers = id_headers;

    if ((err = rose_pcall_url(&url, o->base_url)) != ROSE_OK ||
        (err = rose_buf_puts(&url, "/audio/transcriptions")) != ROSE_OK)
        goto out;
    if ((err = rose_pcall_add_headers(&pc, hdrs)) != ROSE_OK ||
        (err = rose_pcall_open(&pc, url.data, o->connect_timeout_ms, o->timeout_ms, o->api_key)) !=
            ROSE_OK)
        goto out;
    if ((err = build_form(pc.curl, o, &up, filename, content_type, &form)) != ROSE_OK)
        goto out;
    curl_easy_setopt(pc.curl, CURLOPT_MIMEPOST, form);

    if ((err = rose_pcall_run(&pc)) == ROSE_OK)
        err = read_reply(&pc.body, res);
    res->http_status = (int)pc.status;
    res->retry_after_s = pc.retry_after_s;
    memcpy(res->error_type, pc.error_type, sizeof(res->error_type));
    memcpy(res->request_id, pc.request_id, sizeof(res->request_id));
out:
    rose_pcall_free(&pc);
    curl_mime_free(form);
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
