/*
 * tts.c — hosted text-to-speech over libcurl: ElevenLabs and OpenAI-compatible
 * /audio/speech (see tts.h).
 *
 * One call is one easy handle: a JSON body out, the audio collected with a
 * cap and checked to be MP3 at the end.  The helpers for headers, statuses
 * and error bodies mirror those of llm.c and stt.c, with the same
 * conventions, so the provider clients classify alike.
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
#include "providers/tts.h"

static const char *const api_names[ROSE_TTS__MAX] = {
    [ROSE_TTS_ELEVENLABS] = "elevenlabs",
    [ROSE_TTS_OPENAI] = "openai",
};

/* State of one request, shared with the libcurl callbacks. */
struct call {
    struct rose_tts_result *res;
    struct rose_buf body; /* the response body, capped */
    enum rose_err err;    /* why a callback stopped the transfer */
};

const char *
rose_tts_api_name(enum rose_tts_api api)
{
    return (int)api >= 0 && api < ROSE_TTS__MAX ? api_names[api] : "";
}

enum rose_err
rose_tts_api_parse(const char *name, enum rose_tts_api *out)
{
    int i;

    for (i = 0; name != NULL && i < ROSE_TTS__MAX; i++) {
        if (rose_strieq(name, api_names[i])) {
            *out = (enum rose_tts_api)i;
            return ROSE_OK;
        }
    }
    return ROSE_ERR_CONFIG;
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

/* Copy s into out (size 64), made safe to log: [A-Za-z0-9_.-] only. */
static void
set_safe(char out[64], const char *s)
{
    size_t i;

    for (i = 0; s[i] && i < 63; i++)
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

/* A non-negative decimal count, at most 9 digits; -1 if v is anything else. */
static long
parse_count(const char *v)
{
    long n = 0;
    int digits = 0;

    for (; *v >= '0' && *v <= '9' && digits < 10; v++, digits++)
        n = n * 10 + (*v - '0');
    return *v == '\0' && digits > 0 && digits <= 9 ? n : -1;
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
        c->res->character_cost = -1;
        c->res->request_id[0] = '\0';
    } else if (header_value(buf, n, "retry-after", value)) {
        c->res->retry_after_s = parse_retry_after(value);
    } else if (header_value(buf, n, "character-cost", value)) {
        c->res->character_cost = parse_count(value);
    } else if (header_value(buf, n, "request-id", value) ||
               header_value(buf, n, "x-request-id", value)) {
        set_safe(c->res->request_id, value);
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

/*
 * What kind of error a body is.  ElevenLabs: {"detail": {"status": ...,
 * "message": ...}}, or for a request that failed validation (422) FastAPI's
 * {"detail": [{"loc": [...], "msg": ..., "type": ...}]}.  OpenAI:
 * {"error": {"message", "type", "code"}}.  NULL if none of these.
 */
static const char *
error_kind(struct json_object *root)
{
    struct json_object *detail, *error;
    const char *kind;

    if (json_object_object_get_ex(root, "detail", &detail)) {
        if ((kind = string_member(detail, "status")) != NULL ||
            (kind = string_member(detail, "code")) != NULL)
            return kind;
        if (json_object_is_type(detail, json_type_array) && json_object_array_length(detail) > 0)
            return string_member(json_object_array_get_idx(detail, 0), "type");
    }
    if (json_object_object_get_ex(root, "error", &error) &&
        ((kind = string_member(error, "code")) != NULL ||
         (kind = string_member(error, "type")) != NULL))
        return kind;
    return NULL;
}

static void
read_error_body(struct call *c)
{
    struct json_object *root;
    const char *kind;

    if (parse_object(c->body.data ? c->body.data : "", c->body.len, &root) != ROSE_OK)
        return;
    if ((kind = error_kind(root)) != NULL)
        set_safe(c->res->error_type, kind);
    json_object_put(root);
}

/* 1 if b[0..n) starts like an MP3: an ID3v2 tag or an MPEG audio frame sync. */
static int
looks_like_mp3(const unsigned char *b, size_t n)
{
    if (n >= 3 && memcmp(b, "ID3", 3) == 0)
        return 1;
    return n >= 2 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0;
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

/* A number in [0, 1] with two decimals written by hand: json-c would write
 * 0.7 as 0.69999999999999996, and "%g" follows the locale ("0,7"). */
static struct json_object *
new_fraction(double v)
{
    long hundredths = lround(v * 100);
    char s[32];

    snprintf(s, sizeof(s), "%ld.%02ld", hundredths / 100, hundredths % 100);
    return json_object_new_double_s((double)hundredths / 100, s);
}

static enum rose_err
build_request(const struct rose_tts_opts *o, const char *text, struct json_object **out)
{
    struct json_object *root, *settings;
    enum rose_err err;

    if ((root = json_object_new_object()) == NULL)
        return ROSE_ERR_NOMEM;
    if (o->api == ROSE_TTS_ELEVENLABS) {
        if ((err = add(root, "text", json_object_new_string(text))) != ROSE_OK ||
            (err = add(root, "model_id", json_object_new_string(o->model))) != ROSE_OK ||
            (err = add(root, "voice_settings", settings = json_object_new_object())) != ROSE_OK ||
            (err = add(settings, "stability", new_fraction(o->stability))) != ROSE_OK ||
            (err = add(settings, "similarity_boost", new_fraction(o->similarity_boost))) != ROSE_OK)
            goto out;
    } else {
        if ((err = add(root, "model", json_object_new_string(o->model))) != ROSE_OK ||
            (err = add(root, "input", json_object_new_string(text))) != ROSE_OK ||
            (err = add(root, "voice", json_object_new_string(o->voice))) != ROSE_OK ||
            (err = add(root, "response_format", json_object_new_string("mp3"))) != ROSE_OK)
            goto out;
    }
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

/* An ElevenLabs voice_id: 1..64 letters and digits, safe in a URL path. */
static int
valid_voice_id(const char *s)
{
    size_t n = 0;

    for (; (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'); s++)
        n++;
    return *s == '\0' && n > 0 && n <= 64;
}

static enum rose_err
check_args(const struct rose_tts_opts *o, const char *text)
{
    if (o == NULL || (int)o->api < 0 || o->api >= ROSE_TTS__MAX || o->base_url == NULL ||
        o->base_url[0] == '\0' || o->model == NULL || o->model[0] == '\0' || o->voice == NULL ||
        o->voice[0] == '\0' || o->connect_timeout_ms <= 0 || o->timeout_ms <= 0 ||
        o->max_response_bytes == 0)
        return ROSE_ERR_CONFIG;
    /* A CR or LF in the key would let it write its own headers. */
    if (o->api_key != NULL && has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    if (o->api == ROSE_TTS_ELEVENLABS &&
        (o->api_key == NULL || o->api_key[0] == '\0' || !valid_voice_id(o->voice) ||
         !(o->stability >= 0 && o->stability <= 1) ||
         !(o->similarity_boost >= 0 && o->similarity_boost <= 1)))
        return ROSE_ERR_CONFIG;
    if (text == NULL || text[0] == '\0')
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

/* The request URL and the headers that depend on the api. */
static enum rose_err
prepare(const struct rose_tts_opts *o, struct rose_buf *url, struct curl_slist **headers)
{
    const char *hdrs[] = {"Content-Type: application/json", "Accept: audio/mpeg", "Expect:"};
    struct curl_slist *h;
    size_t baselen, i;
    enum rose_err err;

    baselen = strlen(o->base_url);
    while (baselen > 0 && o->base_url[baselen - 1] == '/')
        baselen--;
    if ((err = rose_buf_append(url, o->base_url, baselen)) != ROSE_OK)
        return err;
    if (o->api == ROSE_TTS_ELEVENLABS)
        err = rose_buf_printf(url, "/v1/text-to-speech/%s?output_format=mp3_44100_128", o->voice);
    else
        err = rose_buf_puts(url, "/audio/speech");
    if (err != ROSE_OK)
        return err;
    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        if ((h = curl_slist_append(*headers, hdrs[i])) == NULL)
            return ROSE_ERR_NOMEM;
        *headers = h;
    }
    return ROSE_OK;
}

enum rose_err
rose_tts_speak(const struct rose_tts_opts *o, const char *text, struct rose_tts_result *res)
{
    struct call c;
    struct json_object *req = NULL;
    struct curl_slist *headers = NULL, *h;
    struct rose_buf url, key;
    CURL *curl = NULL;
    const char *body;
    size_t bodylen;
    long status = 0;
    CURLcode rc;
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    res->character_cost = -1;
    memset(&c, 0, sizeof(c));
    rose_buf_init(&url, ROSE_CONF_LINE_MAX + 128);
    rose_buf_init(&key, ROSE_CONF_LINE_MAX + 32);
    if ((err = check_args(o, text)) != ROSE_OK)
        return err;
    c.res = res;
    rose_buf_init(&c.body, o->max_response_bytes);

    if ((err = prepare(o, &url, &headers)) != ROSE_OK)
        goto out;
    if (o->api == ROSE_TTS_ELEVENLABS) {
        if ((err = rose_buf_printf(&key, "xi-api-key: %s", o->api_key)) != ROSE_OK)
            goto out;
        if ((h = curl_slist_append(headers, key.data)) == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        headers = h;
    }
    if ((err = build_request(o, text, &req)) != ROSE_OK)
        goto out;
    body = json_object_to_json_string_length(
        req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &bodylen);
    if (body == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    if ((curl = curl_easy_init()) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.data);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded worker */
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_response_bytes);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "rose");
    if (o->api == ROSE_TTS_OPENAI && o->api_key != NULL && o->api_key[0] != '\0') {
        /* libcurl writes "Authorization: Bearer <key>" itself. */
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, o->api_key);
    }
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
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
    } else if (!looks_like_mp3((const unsigned char *)c.body.data, c.body.len)) {
        err = ROSE_ERR_PARSE;
    } else {
        res->len = c.body.len;
        if ((res->audio = rose_buf_steal(&c.body)) == NULL) {
            res->len = 0;
            err = ROSE_ERR_NOMEM;
        }
    }

out:
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    json_object_put(req);
    rose_buf_free(&c.body);
    rose_buf_free(&key);
    rose_buf_free(&url);
    return err;
}

void
rose_tts_result_free(struct rose_tts_result *res)
{
    if (res == NULL)
        return;
    free(res->audio);
    res->audio = NULL;
    res->len = 0;
}
