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
 * json-c 0.16 accepts 'single-quoted' strings even in strict mode; RFC 8259
 * does not.  A quote outside a double-quoted string is the only way one can
 * appear, so scan for it (escapes inside strings are skipped).
 */
static int
has_single_quote(const char *s, size_t n)
{
    size_t i;
    int in_str = 0;

    for (i = 0; i < n; i++) {
        if (in_str) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_str = 0;
        } else if (s[i] == '"') {
            in_str = 1;
        } else if (s[i] == '\'') {
            return 1;
        }
    }
    return 0;
}

enum rose_err
rose_json_parse_object(const char *data, size_t len, struct json_object **out, char *msg,
                       size_t msglen)
{
    struct json_tokener *tok = NULL;
    struct json_object *obj = NULL;
    enum rose_err err = ROSE_ERR_BAD_JSON;
    size_t end;

    if (len == 0) {
        snprintf(msg, msglen, "The request body is empty; a JSON object was expected.");
        return ROSE_ERR_BAD_JSON;
    }
    if (len > (size_t)INT32_MAX || !rose_utf8_valid(data, len)) {
        snprintf(msg, msglen, "The request body must be UTF-8 encoded JSON.");
        return ROSE_ERR_BAD_JSON;
    }
    if (has_single_quote(data, len)) {
        snprintf(msg, msglen, "The request body is not valid JSON.");
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
