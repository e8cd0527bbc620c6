/*
 * fields.c — strict JSON parsing and table-driven field checks (fields.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "core/text.h"
#include "http/fields.h"

/*
 * RFC 8259 syntax, checked before json-c builds anything: json-c 0.16 even
 * in strict mode takes 'single quotes', NaN, Infinity, "1." and raw control
 * characters in strings.  A recursive descent whose depth is capped at
 * ROSE_JSON_DEPTH_MAX, so the stack stays small whatever the input.
 */
struct jscan {
    const unsigned char *s;
    size_t n, i;
    int depth;
};

static int scan_value(struct jscan *j);

static void
scan_ws(struct jscan *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
                           j->s[j->i] == '\r'))
        j->i++;
}

static int
scan_digits(struct jscan *j)
{
    size_t start = j->i;

    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
        j->i++;
    return j->i > start;
}

static int
scan_number(struct jscan *j)
{
    if (j->i < j->n && j->s[j->i] == '-')
        j->i++;
    if (j->i < j->n && j->s[j->i] == '0')
        j->i++;
    else if (!scan_digits(j))
        return 0;
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (!scan_digits(j))
            return 0;
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
            j->i++;
        if (!scan_digits(j))
            return 0;
    }
    return 1;
}

static int
scan_string(struct jscan *j)
{
    int k;

    j->i++; /* the opening quote */
    while (j->i < j->n) {
        unsigned char c = j->s[j->i++];
        if (c == '"')
            return 1;
        if (c < 0x20)
            return 0;
        if (c != '\\')
            continue;
        if (j->i >= j->n)
            return 0;
        c = j->s[j->i++];
        if (c == 'u') {
            for (k = 0; k < 4; k++, j->i++)
                if (j->i >= j->n || !isxdigit(j->s[j->i]))
                    return 0;
        } else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
            return 0;
        }
    }
    return 0;
}

static int
scan_word(struct jscan *j, const char *w)
{
    size_t n = strlen(w);

    if (j->n - j->i < n || memcmp(j->s + j->i, w, n) != 0)
        return 0;
    j->i += n;
    return 1;
}

/* An object or array: open, members separated by ',', close. */
static int
scan_container(struct jscan *j, unsigned char close)
{
    int first = 1;

    if (++j->depth > ROSE_JSON_DEPTH_MAX)
        return 0;
    j->i++;
    scan_ws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        j->depth--;
        return 1;
    }
    for (;;) {
        if (!first) {
            if (j->i >= j->n || j->s[j->i] != ',')
                return 0;
            j->i++;
            scan_ws(j);
        }
        first = 0;
        if (close == '}') {
            if (j->i >= j->n || j->s[j->i] != '"' || !scan_string(j))
                return 0;
            scan_ws(j);
            if (j->i >= j->n || j->s[j->i] != ':')
                return 0;
            j->i++;
        }
        if (!scan_value(j))
            return 0;
        if (j->i < j->n && j->s[j->i] == close) {
            j->i++;
            j->depth--;
            return 1;
        }
    }
}

static int
scan_value(struct jscan *j)
{
    int ok;

    scan_ws(j);
    if (j->i >= j->n)
        return 0;
    switch (j->s[j->i]) {
    case '{': ok = scan_container(j, '}'); break;
    case '[': ok = scan_container(j, ']'); break;
    case '"': ok = scan_string(j); break;
    case 't': ok = scan_word(j, "true"); break;
    case 'f': ok = scan_word(j, "false"); break;
    case 'n': ok = scan_word(j, "null"); break;
    default: ok = scan_number(j); break;
    }
    scan_ws(j);
    return ok;
}

/* Is data one RFC 8259 value within the depth limit?  NULL when it is,
 * else the reason, for the person. */
static const char *
json_syntax_error(const char *data, size_t len)
{
    struct jscan j = {(const unsigned char *)data, len, 0, 0};

    if (scan_value(&j) && j.i == len)
        return NULL;
    if (j.depth > ROSE_JSON_DEPTH_MAX)
        return "The JSON body is nested too deeply.";
    if (j.depth == 0 && j.i > 0 && j.i < len) {
        struct jscan k = {(const unsigned char *)data, j.i, 0, 0};
        if (scan_value(&k) && k.i == j.i)
            return "The request body has data after the JSON value.";
    }
    return "The request body is not valid JSON.";
}

enum rose_err
rose_json_parse_object(const char *data, size_t len, struct json_object **out, char *msg,
                       size_t msglen)
{
    struct json_tokener *tok = NULL;
    struct json_object *obj = NULL;
    enum rose_err err = ROSE_ERR_BAD_JSON;
    size_t end;
    const char *why;

    if (len == 0) {
        snprintf(msg, msglen, "The request body is empty; a JSON object was expected.");
        return ROSE_ERR_BAD_JSON;
    }
    if (len > (size_t)INT32_MAX || !rose_utf8_valid(data, len)) {
        snprintf(msg, msglen, "The request body must be UTF-8 encoded JSON.");
        return ROSE_ERR_BAD_JSON;
    }
    if ((why = json_syntax_error(data, len)) != NULL) {
        snprintf(msg, msglen, "%s", why);
        return ROSE_ERR_BAD_JSON;
    }
    if ((tok = json_tokener_new_ex(ROSE_JSON_DEPTH_MAX)) == NULL)
        return ROSE_ERR_NOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, data, (int)len);
    if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
        enum json_tokener_error je = json_tokener_get_error(tok);
        if (je == json_tokener_error_depth)
            snprintf(msg, msglen, "The JSON body is nested too deeply.");
        else
            snprintf(msg, msglen, "The request body is not valid JSON.");
        goto out;
    }
    /* Only whitespace may follow the value. */
    for (end = json_tokener_get_parse_end(tok); end < len; end++) {
        if (!isspace((unsigned char)data[end])) {
            snprintf(msg, msglen, "The request body has data after the JSON value.");
            goto out;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(msg, msglen, "The request body must be a JSON object.");
        goto out;
    }
    *out = obj;
    obj = NULL;
    err = ROSE_OK;
out:
    json_object_put(obj);
    json_tokener_free(tok);
    return err;
}

static int
blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

static enum rose_err
check_one(struct json_object *v, const struct rose_field *f, struct rose_fval *o, char *msg,
          size_t msglen)
{
    const char *s;
    size_t len;

    switch (f->type) {
    case ROSE_F_UUID:
        if (!json_object_is_type(v, json_type_string)) {
            snprintf(msg, msglen, "%s must be a string.", f->name);
            return ROSE_ERR_INVALID_FIELD;
        }
        s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) != 36 || !rose_uuid_valid(s)) {
            snprintf(msg, msglen, "%s must be a UUID.", f->name);
            return ROSE_ERR_INVALID_FIELD;
        }
        memcpy(o->uuid, s, 37);
        rose_uuid_lower(o->uuid);
        o->str = o->uuid;
        o->len = 36;
        return ROSE_OK;
    case ROSE_F_TEXT:
        if (!json_object_is_type(v, json_type_string)) {
            snprintf(msg, msglen, "%s must be a string.", f->name);
            return ROSE_ERR_INVALID_FIELD;
        }
        s = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
        if (memchr(s, '\0', len) != NULL || !rose_utf8_valid(s, len)) {
            snprintf(msg, msglen, "%s must be UTF-8 text without NUL characters.", f->name);
            return ROSE_ERR_INVALID_FIELD;
        }
        if (f->max && len > f->max) {
            snprintf(msg, msglen, "%s is longer than %zu bytes.", f->name, f->max);
            return ROSE_ERR_TOO_LARGE;
        }
        if ((f->flags & ROSE_F_NONEMPTY) && blank(s, len)) {
            snprintf(msg, msglen, "%s must not be empty.", f->name);
            return ROSE_ERR_EMPTY;
        }
        o->str = s;
        o->len = len;
        return ROSE_OK;
    case ROSE_F_BOOL:
        if (!json_object_is_type(v, json_type_boolean)) {
            snprintf(msg, msglen, "%s must be true or false.", f->name);
            return ROSE_ERR_INVALID_FIELD;
        }
        o->num = json_object_get_boolean(v) ? 1 : 0;
        return ROSE_OK;
    case ROSE_F_INT: {
        long long x;
        if (!json_object_is_type(v, json_type_int)) {
            snprintf(msg, msglen, "%s must be an integer.", f->name);
            return ROSE_ERR_INVALID_FIELD;
        }
        x = (long long)json_object_get_int64(v);
        if (x < f->lo || x > f->hi) {
            snprintf(msg, msglen, "%s must be %lld..%lld.", f->name, f->lo, f->hi);
            return ROSE_ERR_INVALID_FIELD;
        }
        o->num = x;
        return ROSE_OK;
    }
    case ROSE_F__MAX:
        break;
    }
    snprintf(msg, msglen, "%s has an unsupported type.", f->name);
    return ROSE_ERR_INTERNAL;
}

enum rose_err
rose_fields_check(struct json_object *obj, const struct rose_field *f, size_t n,
                  struct rose_fval *out, char *msg, size_t msglen)
{
    size_t i;
    enum rose_err err;

    memset(out, 0, n * sizeof(*out));
    for (i = 0; i < n; i++) {
        struct json_object *v = NULL;
        int has = json_object_object_get_ex(obj, f[i].name, &v) && v != NULL;

        if (!has) {
            if (f[i].flags & ROSE_F_REQUIRED) {
                snprintf(msg, msglen, "%s is required.", f[i].name);
                return ROSE_ERR_MISSING_FIELD;
            }
            continue;
        }
        if ((err = check_one(v, &f[i], &out[i], msg, msglen)) != ROSE_OK)
            return err;
        out[i].present = 1;
    }
    return ROSE_OK;
}
