/*
 * fuzz_json.c — libFuzzer harness for request bodies: rose_json_parse_object()
 * and, when that succeeds, rose_fields_check() with a chat-like table.
 *
 * Besides memory errors, the harness aborts when a result breaks what
 * fields.h promises: a parsed body is an object; checked values are in
 * range, a UUID comes back as 36 lower-case characters, text is UTF-8
 * without NUL, within its byte limit and not blank.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "http/fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so the limit is reached often. */
#define MESSAGE_MAX 4000

enum { F_SESSION, F_MESSAGE, F_VOICE, F_N, NFIELDS };

static const struct rose_field fields[NFIELDS] = {
    [F_SESSION] = {"session_id", ROSE_F_UUID, ROSE_F_REQUIRED, 0, 0, 0},
    [F_MESSAGE] = {"message", ROSE_F_TEXT, ROSE_F_NONEMPTY, MESSAGE_MAX, 0, 0},
    [F_VOICE] = {"voice", ROSE_F_BOOL, 0, 0, 0, 0},
    [F_N] = {"n", ROSE_F_INT, 0, 0, 1, 20},
};

static int
blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '\v' &&
            s[i] != '\f')
            return 0;
    return 1;
}

static void
check_values(const struct rose_fval *out)
{
    const struct rose_fval *v;
    size_t i;

    v = &out[F_SESSION];
    if (!v->present || v->str != v->uuid || v->len != 36 || strlen(v->uuid) != 36 ||
        !rose_uuid_valid(v->uuid))
        abort();
    for (i = 0; i < 36; i++)
        if (v->uuid[i] >= 'A' && v->uuid[i] <= 'F')
            abort();
    v = &out[F_MESSAGE];
    if (v->present && (v->str == NULL || v->len > MESSAGE_MAX || v->str[v->len] != '\0' ||
                       memchr(v->str, '\0', v->len) != NULL || !rose_utf8_valid(v->str, v->len) ||
                       blank(v->str, v->len)))
        abort();
    v = &out[F_VOICE];
    if (v->present && v->num != 0 && v->num != 1)
        abort();
    v = &out[F_N];
    if (v->present && (v->num < 1 || v->num > 20))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object *obj = NULL;
    struct rose_fval out[NFIELDS];
    char msg[256];
    enum rose_err err;

    msg[0] = '\0';
    err = rose_json_parse_object((const char *)data, size, &obj, msg, sizeof(msg));
    if (err != ROSE_OK) {
        /* Failure: a message for the person and no object. */
        if (obj != NULL || (err != ROSE_ERR_BAD_JSON && err != ROSE_ERR_NOMEM) || msg[0] == '\0')
            abort();
        return 0;
    }
    if (obj == NULL || !json_object_is_type(obj, json_type_object))
        abort();
    msg[0] = '\0';
    err = rose_fields_check(obj, fields, NFIELDS, out, msg, sizeof(msg));
    switch (err) {
    case ROSE_OK:
        check_values(out);
        break;
    case ROSE_ERR_MISSING_FIELD:
    case ROSE_ERR_INVALID_FIELD:
    case ROSE_ERR_EMPTY:
    case ROSE_ERR_TOO_LARGE:
        if (msg[0] == '\0')
            abort();
        break;
    default:
        abort();
    }
    /* The object serialises again (what a handler would echo back). */
    if (json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN) == NULL)
        abort();
    json_object_put(obj);
    return 0;
}
