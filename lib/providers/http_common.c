/*
 * http_common.c — the HTTP plumbing of the provider clients (http_common.h).
 */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "core/text.h"
#include "providers/http_common.h"
#include "resilience/retry.h"

void
rose_pcall_init(struct rose_pcall *pc, size_t max_response_bytes)
{
    memset(pc, 0, sizeof(*pc));
    rose_buf_init(&pc->body, max_response_bytes);
    pc->retry_after_s = -1;
    pc->character_cost = -1;
}

void
rose_pcall_free(struct rose_pcall *pc)
{
    if (pc == NULL)
        return;
    curl_easy_cleanup(pc->curl);
    curl_slist_free_all(pc->headers);
    rose_buf_free(&pc->body);
    pc->curl = NULL;
    pc->headers = NULL;
}

enum rose_err
rose_pcall_url(struct rose_buf *url, const char *base)
{
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    return rose_buf_append(url, base, n);
}

enum rose_err
rose_pcall_add_headers(struct rose_pcall *pc, const char *const *lines)
{
    struct curl_slist *h;

    for (; *lines != NULL; lines++) {
        if ((h = curl_slist_append(pc->headers, *lines)) == NULL)
            return ROSE_ERR_NOMEM;
        pc->headers = h;
    }
    return ROSE_OK;
}

enum rose_err
rose_pcall_open(struct rose_pcall *pc, const char *url, long connect_timeout_ms, long timeout_ms,
                const char *bearer)
{
    CURL *curl;

    if ((curl = pc->curl = curl_easy_init()) == NULL)
        return ROSE_ERR_NOMEM;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded worker */
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)pc->body.max);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, pc->headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "rose");
    if (bearer != NULL && bearer[0] != '\0') {
        /* libcurl writes "Authorization: Bearer <key>" itself. */
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, bearer);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, rose_pcall_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, pc);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, rose_pcall_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, pc);
    return ROSE_OK;
}

size_t
rose_pcall_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct rose_pcall *pc = userdata;
    size_t n = size * nmemb;
    enum rose_err err;

    if ((err = rose_buf_append(&pc->body, ptr, n)) != ROSE_OK) {
        pc->err = err; /* ROSE_ERR_TOO_LARGE past the cap */
        return 0;      /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

static int
is_kind_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

void
rose_pcall_safe_copy(char out[ROSE_PCALL_VALUE_MAX], const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n && s[i] && i < ROSE_PCALL_VALUE_MAX - 1; i++)
        out[i] = is_kind_char(s[i]) ? s[i] : '_';
    out[i] = '\0';
}

int
rose_pcall_has_control_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
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
 * value and return 1; longer values are nothing we use. */
static int
header_value(const char *buf, size_t n, const char *name, char value[ROSE_PCALL_VALUE_MAX])
{
    size_t k = strlen(name);

    if (n <= k + 1 || buf[k] != ':' || !rose_strnieq(buf, name, k) ||
        n - k - 1 >= ROSE_PCALL_VALUE_MAX)
        return 0;
    memcpy(value, buf + k + 1, n - k - 1);
    value[n - k - 1] = '\0';
    rose_trim(value);
    return 1;
}

size_t
rose_pcall_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct rose_pcall *pc = userdata;
    size_t n = size * nitems;
    char value[ROSE_PCALL_VALUE_MAX];
    const char *const *id;

    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new response (after a 100) starts: forget the last one's. */
        pc->retry_after_s = -1;
        pc->character_cost = -1;
        pc->request_id[0] = '\0';
    } else if (header_value(buf, n, "retry-after", value)) {
        pc->retry_after_s = rose_retry_after_parse(value, time(NULL));
    } else if (header_value(buf, n, "character-cost", value)) {
        pc->character_cost = parse_count(value);
    } else {
        for (id = pc->id_headers; id != NULL && *id != NULL; id++) {
            if (header_value(buf, n, *id, value)) {
                rose_pcall_safe_copy(pc->request_id, value, strlen(value));
                break;
            }
        }
    }
    return n;
}

enum rose_err
rose_pcall_parse_object(const char *json, size_t n, struct json_object **out)
{
    struct json_tokener *tok;
    struct json_object *o;
    enum rose_err err = ROSE_OK;

    if (n > INT_MAX)
        return ROSE_ERR_TOO_LARGE;
    if ((tok = json_tokener_new_ex(ROSE_JSON_DEPTH_MAX)) == NULL)
        return ROSE_ERR_NOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, json ? json : "", (int)n);
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

struct json_object *
rose_pcall_member(struct json_object *obj, const char *key, enum json_type type)
{
    struct json_object *v;

    if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* A member of obj that is a string, or NULL.  NULL-safe in obj. */
static const char *
string_member(struct json_object *obj, const char *key)
{
    struct json_object *v = rose_pcall_member(obj, key, json_type_string);

    return v != NULL ? json_object_get_string(v) : NULL;
}

/* error.code, else error.type; NULL if neither. */
static const char *
openai_kind(struct json_object *root)
{
    struct json_object *error = rose_pcall_member(root, "error", json_type_object);
    const char *kind;

    if ((kind = string_member(error, "code")) == NULL)
        kind = string_member(error, "type");
    return kind;
}

/* detail.status, else detail.code, else detail[0].type (a FastAPI 422);
 * without "detail" or with neither, as openai_kind(). */
static const char *
elevenlabs_kind(struct json_object *root)
{
    struct json_object *detail;
    const char *kind;

    if (json_object_object_get_ex(root, "detail", &detail)) {
        if ((kind = string_member(detail, "status")) != NULL ||
            (kind = string_member(detail, "code")) != NULL)
            return kind;
        if (json_object_is_type(detail, json_type_array) && json_object_array_length(detail) > 0)
            return string_member(json_object_array_get_idx(detail, 0), "type");
    }
    return openai_kind(root);
}

/* Read the kind of error in pc->body into pc->error_type, if there is one. */
static void
read_error_body(struct rose_pcall *pc)
{
    struct json_object *root;
    const char *kind = NULL, *colon;
    size_t n;

    if (rose_pcall_parse_object(pc->body.data, pc->body.len, &root) != ROSE_OK)
        return;
    if (pc->errors == ROSE_PCALL_ERRORS_ELEVENLABS)
        kind = elevenlabs_kind(root);
    else if (pc->errors == ROSE_PCALL_ERRORS_QDRANT)
        kind = string_member(rose_pcall_member(root, "status", json_type_object), "error");
    else
        kind = openai_kind(root);
    if (kind != NULL) {
        n = strlen(kind);
        if (pc->errors == ROSE_PCALL_ERRORS_QDRANT && (colon = strchr(kind, ':')) != NULL)
            n = (size_t)(colon - kind);
        rose_pcall_safe_copy(pc->error_type, kind, n);
    }
    json_object_put(root);
}

static enum rose_err
status_error(const struct rose_pcall *pc)
{
    if (pc->status == 429)
        return ROSE_ERR_RATE_LIMITED;
    if ((pc->unavailable_498 && pc->status == 498) || (pc->status >= 500 && pc->status <= 599))
        return ROSE_ERR_UNAVAILABLE;
    return ROSE_ERR_UPSTREAM;
}

enum rose_err
rose_pcall_json_body(struct rose_pcall *pc, struct json_object *req)
{
    size_t len;
    const char *body = json_object_to_json_string_length(
        req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

    if (body == NULL)
        return ROSE_ERR_NOMEM;
    curl_easy_setopt(pc->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(pc->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    return ROSE_OK;
}

enum rose_err
rose_pcall_perform(struct rose_pcall *pc)
{
    pc->status = 0;
    pc->rc = curl_easy_perform(pc->curl);
    curl_easy_getinfo(pc->curl, CURLINFO_RESPONSE_CODE, &pc->status);
    if (pc->status != 429 && pc->status != 503)
        pc->retry_after_s = -1;
    if (pc->status != 0 && (pc->status < 200 || pc->status > 299)) {
        /* An error answer: its status decides, whatever became of its body. */
        if (pc->rc == CURLE_OK && pc->err == ROSE_OK)
            read_error_body(pc);
        return status_error(pc);
    }
    return pc->err; /* ROSE_OK, or a callback stopped the transfer */
}

enum rose_err
rose_pcall_run(struct rose_pcall *pc)
{
    enum rose_err err;

    if ((err = rose_pcall_perform(pc)) != ROSE_OK)
        return err;
    return rose_pcall_curl_error(pc->rc);
}

enum rose_err
rose_pcall_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return ROSE_OK;
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
