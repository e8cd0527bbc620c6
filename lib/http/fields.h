/*
 * fields.h — JSON bodies and their fields, validated from tables.
 *
 * Handlers never look into a json_object themselves: they declare the fields
 * they take (name, type, required, limits) and get back checked values.
 * Unknown fields are ignored, so newer clients keep working.
 */
#ifndef ROSE_FIELDS_H
#define ROSE_FIELDS_H

#include <stddef.h>
#include <json-c/json.h>

#include "core/err.h"

/*
 * Parse a request body as a JSON object: strict JSON, valid UTF-8, at most
 * ROSE_JSON_DEPTH_MAX deep, nothing but whitespace after the value.
 * *out is a new object the caller releases with json_object_put().
 * ROSE_ERR_BAD_JSON otherwise, with a short reason in msg.
 */
enum rose_err rose_json_parse_object(const char *data, size_t len, struct json_object **out,
                                     char *msg, size_t msglen);

enum rose_ftype {
    ROSE_F_UUID, /* a UUID string; lowercased copy returned */
    ROSE_F_TEXT, /* a UTF-8 string without NUL; max is a byte limit (413 past it) */
    ROSE_F_BOOL, /* true / false */
    ROSE_F_INT,  /* an integer in [lo, hi] */
    ROSE_F__MAX
};

#define ROSE_F_REQUIRED 0x1u /* absent or null → missing_field */
#define ROSE_F_NONEMPTY 0x2u /* text: empty or only whitespace → empty (400) */

struct rose_field {
    const char *name;
    enum rose_ftype type;
    unsigned flags;
    size_t max;        /* ROSE_F_TEXT: most bytes */
    long long lo, hi;  /* ROSE_F_INT: range */
};

struct rose_fval {
    int present;
    const char *str; /* TEXT (points into the json object), UUID (into uuid) */
    size_t len;
    long long num;   /* INT; BOOL as 0/1 */
    char uuid[37];
};

/*
 * Check obj against the table f[0..n); out[i] gets field i.  On failure the
 * error (missing_field, invalid_field, empty, payload_too_large) is returned
 * and msg holds a sentence naming the field, for the person.
 */
enum rose_err rose_fields_check(struct json_object *obj, const struct rose_field *f, size_t n,
                                struct rose_fval *out, char *msg, size_t msglen);

#endif
