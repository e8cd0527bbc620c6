/*
 * test_fields.c — strict JSON bodies and table-driven field checks
 * (lib/http/fields.c).
 */
#include <stdlib.h>

#include "core/limits.h"
#include "http/fields.h"
#include "t.h"

/* ---- rose_json_parse_object ------------------------------------------------ */

struct parse_case {
    const char *what;
    const char *data;
    size_t len;
    enum rose_err want;
    const char *msg; /* want != OK: a substring of msg, or NULL */
};

/* Literal bytes (NULs allowed), length from sizeof. */
#define P(what, lit, want, msg)                                                                    \
    {                                                                                              \
        what, lit, sizeof(lit) - 1, want, msg                                                      \
    }

static const struct parse_case parse_cases[] = {
    P("object", "{\"a\":1}", ROSE_OK, NULL),
    P("empty object", "{}", ROSE_OK, NULL),
    P("white space around", " \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n\t ", ROSE_OK, NULL),
    P("escapes", "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83c\\udf39\"}", ROSE_OK, NULL),
    P("UTF-8 text", "{\"r\\u00f6se\":\"r\xc3\xb6se \xf0\x9f\x8c\xb9\"}", ROSE_OK, NULL),
    P("numbers", "{\"a\":-0,\"b\":1.5e3,\"c\":1E-2,\"d\":9223372036854775807}", ROSE_OK, NULL),
    P("\\u0000 escape is valid JSON", "{\"a\":\"x\\u0000y\"}", ROSE_OK, NULL),

    P("empty body", "", ROSE_ERR_BAD_JSON, "empty"),
    P("only white space", " \n ", ROSE_ERR_BAD_JSON, NULL),
    P("array top level", "[1,2]", ROSE_ERR_BAD_JSON, "must be a JSON object"),
    P("string top level", "\"x\"", ROSE_ERR_BAD_JSON, NULL),
    P("number top level", "42", ROSE_ERR_BAD_JSON, NULL),
    P("number and space top level", "42 ", ROSE_ERR_BAD_JSON, NULL),
    P("true top level", "true", ROSE_ERR_BAD_JSON, NULL),
    P("null top level", "null", ROSE_ERR_BAD_JSON, NULL),
    P("trailing garbage", "{\"a\":1} x", ROSE_ERR_BAD_JSON, NULL),
    P("two objects", "{}{}", ROSE_ERR_BAD_JSON, NULL),
    P("truncated", "{\"a\":1", ROSE_ERR_BAD_JSON, NULL),
    P("truncated string", "{\"a\":\"x", ROSE_ERR_BAD_JSON, NULL),

    /* Bytes that are not UTF-8, anywhere. */
    P("invalid byte FF in a string", "{\"a\":\"\xff\"}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("invalid byte in a key", "{\"\xfe\":1}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("stray continuation byte", "{\"a\":\"\x80\"}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("overlong '/' C0 AF", "{\"a\":\"\xc0\xaf\"}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("overlong NUL C0 80", "{\"a\":\"\xc0\x80\"}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("overlong E0 80 AF", "{\"a\":\"\xe0\x80\xaf\"}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("raw surrogate ED A0 80", "{\"a\":\"\xed\xa0\x80\"}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("truncated sequence at the end", "{\"a\":1}\xe2\x82", ROSE_ERR_BAD_JSON, "UTF-8"),
    P("Latin-1 body", "{\"a\":\"r\xf6se\"}", ROSE_ERR_BAD_JSON, "UTF-8"),

    /* NUL bytes. */
    P("NUL inside a string", "{\"a\":\"x\0y\"}", ROSE_ERR_BAD_JSON, NULL),
    P("NUL after the object", "{\"a\":1}\0", ROSE_ERR_BAD_JSON, "after the JSON value"),
    P("NUL before the object", "\0{\"a\":1}", ROSE_ERR_BAD_JSON, NULL),
    P("NUL between tokens", "{\"a\":\0 1}", ROSE_ERR_BAD_JSON, NULL),

    /* Strict JSON (RFC 8259): what lenient parsers take. */
    P("single-quoted value", "{\"a\":'x'}", ROSE_ERR_BAD_JSON, NULL),
    P("single-quoted key", "{'a':1}", ROSE_ERR_BAD_JSON, NULL),
    P("trailing comma in object", "{\"a\":1,}", ROSE_ERR_BAD_JSON, NULL),
    P("trailing comma in array", "{\"a\":[1,]}", ROSE_ERR_BAD_JSON, NULL),
    P("comment", "{/* c */\"a\":1}", ROSE_ERR_BAD_JSON, NULL),
    P("line comment", "{\"a\":1 // c\n}", ROSE_ERR_BAD_JSON, NULL),
    P("unquoted key", "{a:1}", ROSE_ERR_BAD_JSON, NULL),
    P("leading zero", "{\"a\":01}", ROSE_ERR_BAD_JSON, NULL),
    P("leading plus", "{\"a\":+1}", ROSE_ERR_BAD_JSON, NULL),
    P("hex number", "{\"a\":0x10}", ROSE_ERR_BAD_JSON, NULL),
    P("leading dot", "{\"a\":.5}", ROSE_ERR_BAD_JSON, NULL),
    P("trailing dot", "{\"a\":1.}", ROSE_ERR_BAD_JSON, NULL),
    P("NaN", "{\"a\":NaN}", ROSE_ERR_BAD_JSON, NULL),
    P("Infinity", "{\"a\":Infinity}", ROSE_ERR_BAD_JSON, NULL),
    P("-Infinity", "{\"a\":-Infinity}", ROSE_ERR_BAD_JSON, NULL),
    P("True", "{\"a\":True}", ROSE_ERR_BAD_JSON, NULL),
    P("bad escape \\x", "{\"a\":\"\\x41\"}", ROSE_ERR_BAD_JSON, NULL),
    P("short \\u escape", "{\"a\":\"\\u12\"}", ROSE_ERR_BAD_JSON, NULL),
    P("raw control character in a string", "{\"a\":\"x\x01y\"}", ROSE_ERR_BAD_JSON, NULL),
    P("raw newline in a string", "{\"a\":\"x\ny\"}", ROSE_ERR_BAD_JSON, NULL),
    P("raw tab in a string", "{\"a\":\"x\ty\"}", ROSE_ERR_BAD_JSON, NULL),
    P("vertical tab is not JSON white space", "{\"a\":1}\v", ROSE_ERR_BAD_JSON, NULL),
    P("form feed is not JSON white space", "{\f\"a\":1}", ROSE_ERR_BAD_JSON, NULL),
    P("byte order mark", "\xef\xbb\xbf{}", ROSE_ERR_BAD_JSON, NULL),
};

static void
test_parse_cases(void)
{
    size_t i;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *pc = &parse_cases[i];
        struct json_object *obj = NULL;
        char msg[256] = "";
        enum rose_err err = rose_json_parse_object(pc->data, pc->len, &obj, msg, sizeof(msg));

        T_INT(err, pc->want, "parse: %s", pc->what);
        if (err != pc->want) {
            /* One failure per case is enough. */
        } else if (pc->want == ROSE_OK) {
            T_OK(obj != NULL && json_object_is_type(obj, json_type_object),
                 "parse: %s: gives an object", pc->what);
        } else {
            T_OK(obj == NULL && msg[0] != '\0' && (pc->msg == NULL || strstr(msg, pc->msg) != NULL),
                 "parse: %s: no object, message \"%s\"", pc->what, msg);
        }
        json_object_put(obj);
    }
}

/* Decoded values come out as the bytes they stand for. */
static void
test_parse_values(void)
{
    static const char body[] = "{\"a\":\"\\u00e9\\ud83c\\udf39\",\"a2\":\"x\\u0000y\",\"d\":1,"
                               "\"d\":2}";
    struct json_object *obj = NULL, *v = NULL;
    char msg[256];

    if (rose_json_parse_object(body, sizeof(body) - 1, &obj, msg, sizeof(msg)) != ROSE_OK) {
        T_OK(0, "values: parse (%s)", msg);
        return;
    }
    json_object_object_get_ex(obj, "a", &v);
    T_STR(json_object_get_string(v), "\xc3\xa9\xf0\x9f\x8c\xb9",
          "values: \\u00e9 and a surrogate pair decode to UTF-8");
    json_object_object_get_ex(obj, "a2", &v);
    T_INT(json_object_get_string_len(v), 3, "values: \\u0000 decodes to a NUL byte (length 3)");
    /* Pinned json-c behaviour: with a duplicate key the last one wins.  A
     * json-c upgrade that changes this should be noticed. */
    json_object_object_get_ex(obj, "d", &v);
    T_INT(json_object_get_int(v), 2, "values: duplicate key: the last value wins");
    json_object_put(obj);
}

/*
 * Depth.  json-c's max depth counts every value on the path from the top
 * object down to the deepest one, the leaf included: {} is depth 1,
 * {"a":{}} and {"a":1} are depth 2.  Pinned so that ROSE_JSON_DEPTH_MAX
 * means exactly that.
 */
static char *
nest(int containers, char open, const char *leaf)
{
    size_t n = (size_t)containers * 8 + strlen(leaf) + 8;
    char *s = malloc(n), *p = s;
    int i;

    if (s == NULL)
        exit(2);
    for (i = 0; i < containers; i++) {
        if (i == 0 || open == '{')
            p += sprintf(p, "{\"a\":");
        else
            *p++ = '[';
    }
    p += sprintf(p, "%s", leaf);
    for (i = containers - 1; i >= 0; i--)
        *p++ = (i == 0 || open == '{') ? '}' : ']';
    *p = '\0';
    return s;
}

static void
check_depth(const char *what, int containers, char open, const char *leaf, int depth)
{
    char *s = nest(containers, open, leaf);
    struct json_object *obj = NULL;
    char msg[256] = "";
    enum rose_err err = rose_json_parse_object(s, strlen(s), &obj, msg, sizeof(msg));

    if (depth <= ROSE_JSON_DEPTH_MAX) {
        T_INT(err, ROSE_OK, "depth %d (%s) is accepted", depth, what);
    } else {
        T_INT(err, ROSE_ERR_BAD_JSON, "depth %d (%s) is refused", depth, what);
        T_OK(strstr(msg, "nested too deeply") != NULL, "depth %d (%s): message says so (%s)", depth,
             what, msg);
    }
    json_object_put(obj);
    free(s);
}

static void
test_depth(void)
{
    const int m = ROSE_JSON_DEPTH_MAX;

    /* n objects around an empty {}: depth n + 1. */
    check_depth("objects, {} innermost", m - 1, '{', "{}", m);
    check_depth("objects, {} innermost", m, '{', "{}", m + 1);
    /* n objects holding a scalar: depth n + 1. */
    check_depth("objects, scalar leaf", m - 1, '{', "1", m);
    check_depth("objects, scalar leaf", m, '{', "1", m + 1);
    /* An object, then arrays, then a scalar. */
    check_depth("arrays, scalar leaf", m - 1, '[', "1", m);
    check_depth("arrays, scalar leaf", m, '[', "1", m + 1);
    check_depth("arrays, [] innermost", m - 1, '[', "[]", m);
    check_depth("arrays, [] innermost", m, '[', "[]", m + 1);
    /* Far too deep must be refused quickly, without recursion trouble. */
    check_depth("arrays", 100000, '[', "1", 100001);
}

/* ---- rose_fields_check ------------------------------------------------------- */

#define SID "3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f60"
#define SID_UPPER "3F2B8C1E-9A4D-4E7B-8C2A-1B2C3D4E5F60"

enum { F_SESSION, F_MESSAGE, F_VOICE, F_N, NFIELDS };

static const struct rose_field chat_fields[NFIELDS] = {
    [F_SESSION] = {"session_id", ROSE_F_UUID, ROSE_F_REQUIRED, 0, 0, 0},
    [F_MESSAGE] = {"message", ROSE_F_TEXT, ROSE_F_REQUIRED | ROSE_F_NONEMPTY, ROSE_MESSAGE_MAX, 0,
                   0},
    [F_VOICE] = {"voice", ROSE_F_BOOL, 0, 0, 0, 0},
    [F_N] = {"n", ROSE_F_INT, 0, 0, 1, 20},
};

struct fields_case {
    const char *what;
    const char *body;
    enum rose_err want;
    const char *msg; /* want != OK: substring of msg */
};

static const struct fields_case fields_cases[] = {
    {"all fields", "{\"session_id\":\"" SID "\",\"message\":\"hi\",\"voice\":true,\"n\":3}",
     ROSE_OK, NULL},
    {"optional fields absent", "{\"session_id\":\"" SID "\",\"message\":\"hi\"}", ROSE_OK, NULL},
    {"optional fields null",
     "{\"session_id\":\"" SID "\",\"message\":\"hi\",\"voice\":null,"
     "\"n\":null}",
     ROSE_OK, NULL},
    {"unknown fields ignored",
     "{\"session_id\":\"" SID "\",\"message\":\"hi\",\"extra\":[1,{}],"
     "\"other\":\"x\"}",
     ROSE_OK, NULL},

    {"session_id missing", "{\"message\":\"hi\"}", ROSE_ERR_MISSING_FIELD,
     "session_id is required."},
    {"session_id null counts as missing", "{\"session_id\":null,\"message\":\"hi\"}",
     ROSE_ERR_MISSING_FIELD, "session_id is required."},
    {"message missing", "{\"session_id\":\"" SID "\"}", ROSE_ERR_MISSING_FIELD,
     "message is required."},
    {"message null", "{\"session_id\":\"" SID "\",\"message\":null}", ROSE_ERR_MISSING_FIELD,
     "message is required."},
    {"empty object", "{}", ROSE_ERR_MISSING_FIELD, "session_id"},
    {"first bad field in table order is reported", "{\"session_id\":1}", ROSE_ERR_INVALID_FIELD,
     "session_id"},

    {"session_id a number", "{\"session_id\":1,\"message\":\"hi\"}", ROSE_ERR_INVALID_FIELD,
     "session_id must be a string."},
    {"session_id an object", "{\"session_id\":{},\"message\":\"hi\"}", ROSE_ERR_INVALID_FIELD,
     "session_id"},
    {"session_id not a UUID", "{\"session_id\":\"not-a-uuid\",\"message\":\"hi\"}",
     ROSE_ERR_INVALID_FIELD, "session_id must be a UUID."},
    {"UUID 35 chars", "{\"session_id\":\"3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f6\",\"message\":\"h\"}",
     ROSE_ERR_INVALID_FIELD, "UUID"},
    {"UUID 37 chars", "{\"session_id\":\"" SID "0\",\"message\":\"h\"}", ROSE_ERR_INVALID_FIELD,
     "UUID"},
    {"UUID non-hex", "{\"session_id\":\"3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f6g\",\"message\":\"h\"}",
     ROSE_ERR_INVALID_FIELD, "UUID"},
    {"UUID without hyphens",
     "{\"session_id\":\"3f2b8c1e9a4d4e7b8c2a1b2c3d4e5f60\",\"message\":\"h\"}",
     ROSE_ERR_INVALID_FIELD, "UUID"},
    {"UUID hyphen moved",
     "{\"session_id\":\"3f2b8c1e9-a4d-4e7b-8c2a-1b2c3d4e5f60\",\"message\":\"h\"}",
     ROSE_ERR_INVALID_FIELD, "UUID"},
    {"UUID in braces",
     "{\"session_id\":\"{3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f6}\",\"message\":\"h\"}",
     ROSE_ERR_INVALID_FIELD, "UUID"},
    {"UUID with trailing space",
     "{\"session_id\":\"3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f6 \","
     "\"message\":\"h\"}",
     ROSE_ERR_INVALID_FIELD, "UUID"},
    {"UUID with \\u0000",
     "{\"session_id\":\"3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f6\\u0000\","
     "\"message\":\"h\"}",
     ROSE_ERR_INVALID_FIELD, "UUID"},
    {"UUID empty", "{\"session_id\":\"\",\"message\":\"h\"}", ROSE_ERR_INVALID_FIELD, "UUID"},

    {"message a number", "{\"session_id\":\"" SID "\",\"message\":5}", ROSE_ERR_INVALID_FIELD,
     "message must be a string."},
    {"message an array", "{\"session_id\":\"" SID "\",\"message\":[\"hi\"]}",
     ROSE_ERR_INVALID_FIELD, "message must be a string."},
    {"message empty", "{\"session_id\":\"" SID "\",\"message\":\"\"}", ROSE_ERR_EMPTY,
     "message must not be empty."},
    {"message only white space", "{\"session_id\":\"" SID "\",\"message\":\"  \\n\"}",
     ROSE_ERR_EMPTY, "message must not be empty."},
    {"message tab and CR", "{\"session_id\":\"" SID "\",\"message\":\"\\t\\r\"}", ROSE_ERR_EMPTY,
     "message"},
    {"message with \\u0000", "{\"session_id\":\"" SID "\",\"message\":\"x\\u0000y\"}",
     ROSE_ERR_INVALID_FIELD, "message must be UTF-8 text without NUL characters."},
    {"message only \\u0000", "{\"session_id\":\"" SID "\",\"message\":\"\\u0000\"}",
     ROSE_ERR_INVALID_FIELD, "NUL"},

    {"voice a string", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"voice\":\"true\"}",
     ROSE_ERR_INVALID_FIELD, "voice must be true or false."},
    {"voice 1", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"voice\":1}",
     ROSE_ERR_INVALID_FIELD, "voice must be true or false."},

    {"n 0", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":0}", ROSE_ERR_INVALID_FIELD,
     "n must be 1..20."},
    {"n 21", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":21}", ROSE_ERR_INVALID_FIELD,
     "n must be 1..20."},
    {"n -1", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":-1}", ROSE_ERR_INVALID_FIELD,
     "n must be 1..20."},
    {"n 3.0", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":3.0}", ROSE_ERR_INVALID_FIELD,
     "n must be an integer."},
    {"n 1e1", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":1e1}", ROSE_ERR_INVALID_FIELD,
     "n must be an integer."},
    {"n a string", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":\"3\"}",
     ROSE_ERR_INVALID_FIELD, "n must be an integer."},
    {"n true", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":true}", ROSE_ERR_INVALID_FIELD,
     "n must be an integer."},
    {"n past int64", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":99999999999999999999}",
     ROSE_ERR_INVALID_FIELD, "n must be"},
    {"n below int64", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":-99999999999999999999}",
     ROSE_ERR_INVALID_FIELD, "n must be"},
    {"n 2^64 + 1", "{\"session_id\":\"" SID "\",\"message\":\"h\",\"n\":18446744073709551617}",
     ROSE_ERR_INVALID_FIELD, "n must be"},
};

static void
test_fields_cases(void)
{
    size_t i;

    for (i = 0; i < sizeof(fields_cases) / sizeof(fields_cases[0]); i++) {
        const struct fields_case *fc = &fields_cases[i];
        struct json_object *obj = NULL;
        struct rose_fval out[NFIELDS];
        char msg[256] = "";
        enum rose_err err;

        if (rose_json_parse_object(fc->body, strlen(fc->body), &obj, msg, sizeof(msg)) != ROSE_OK) {
            T_OK(0, "fields: %s: body parses (%s)", fc->what, msg);
            continue;
        }
        err = rose_fields_check(obj, chat_fields, NFIELDS, out, msg, sizeof(msg));
        T_INT(err, fc->want, "fields: %s", fc->what);
        if (fc->want != ROSE_OK)
            T_OK(strstr(msg, fc->msg) != NULL, "fields: %s: message has \"%s\" (%s)", fc->what,
                 fc->msg, msg);
        json_object_put(obj);
    }
}

/* Values come back as promised. */
static void
test_fields_values(void)
{
    static const char body[] =
        "{\"session_id\":\"" SID_UPPER "\",\"message\":\" hi \\u00e9 \",\"voice\":false,\"n\":20}";
    struct json_object *obj = NULL;
    struct rose_fval out[NFIELDS];
    char msg[256] = "";

    if (rose_json_parse_object(body, sizeof(body) - 1, &obj, msg, sizeof(msg)) != ROSE_OK) {
        T_OK(0, "values: parse (%s)", msg);
        return;
    }
    T_INT(rose_fields_check(obj, chat_fields, NFIELDS, out, msg, sizeof(msg)), ROSE_OK,
          "values: check (%s)", msg);
    T_STR(out[F_SESSION].uuid, SID, "values: upper-case UUID comes back lower-cased");
    T_OK(out[F_SESSION].str == out[F_SESSION].uuid && out[F_SESSION].len == 36,
         "values: UUID str points at the lower-cased copy");
    T_OK(out[F_SESSION].present && out[F_MESSAGE].present && out[F_VOICE].present &&
             out[F_N].present,
         "values: all present");
    T_STR(out[F_MESSAGE].str, " hi \xc3\xa9 ", "values: text kept as sent (not trimmed)");
    T_INT(out[F_MESSAGE].len, 7, "values: text length in bytes");
    T_INT(out[F_VOICE].num, 0, "values: false is 0");
    T_INT(out[F_N].num, 20, "values: n 20 (at max)");
    json_object_put(obj);

    obj = json_tokener_parse("{\"session_id\":\"" SID "\",\"message\":\"x\",\"voice\":true,"
                             "\"n\":1}");
    T_INT(rose_fields_check(obj, chat_fields, NFIELDS, out, msg, sizeof(msg)), ROSE_OK,
          "values: second body");
    T_INT(out[F_VOICE].num, 1, "values: true is 1");
    T_INT(out[F_N].num, 1, "values: n 1 (at min)");
    json_object_put(obj);

    obj = json_tokener_parse("{\"session_id\":\"" SID "\",\"message\":\"x\",\"voice\":null}");
    T_INT(rose_fields_check(obj, chat_fields, NFIELDS, out, msg, sizeof(msg)), ROSE_OK,
          "values: optional null");
    T_OK(!out[F_VOICE].present && !out[F_N].present, "values: null and absent are not present");
    json_object_put(obj);
}

/*
 * TEXT max counts bytes after JSON decoding, with multibyte characters at
 * the boundary.  Bodies are built at run time: n copies of a unit.
 */
static void
check_text(const char *what, const char *unit, int copies, const char *tail, enum rose_err want)
{
    static const struct rose_field f[] = {
        {"message", ROSE_F_TEXT, ROSE_F_REQUIRED | ROSE_F_NONEMPTY, ROSE_MESSAGE_MAX, 0, 0},
    };
    size_t cap = strlen(unit) * (size_t)copies + strlen(tail) + 32, at;
    char *body = malloc(cap);
    struct json_object *obj = NULL;
    struct rose_fval out[1];
    char msg[256] = "";
    enum rose_err err;
    int i;

    if (body == NULL)
        exit(2);
    at = (size_t)sprintf(body, "{\"message\":\"");
    for (i = 0; i < copies; i++)
        at += (size_t)sprintf(body + at, "%s", unit);
    sprintf(body + at, "%s\"}", tail);
    if (rose_json_parse_object(body, strlen(body), &obj, msg, sizeof(msg)) != ROSE_OK) {
        T_OK(0, "text max: %s: parses (%s)", what, msg);
        free(body);
        return;
    }
    err = rose_fields_check(obj, f, 1, out, msg, sizeof(msg));
    T_INT(err, want, "text max: %s", what);
    if (want == ROSE_ERR_TOO_LARGE)
        T_OK(strstr(msg, "message is longer than 4000 bytes.") != NULL, "text max: %s: message",
             what);
    json_object_put(obj);
    free(body);
}

static void
test_text_max(void)
{
    T_INT(ROSE_MESSAGE_MAX, 4000, "text max: the cases below assume 4000");
    check_text("4000 ASCII bytes", "a", 4000, "", ROSE_OK);
    check_text("4001 ASCII bytes", "a", 4001, "", ROSE_ERR_TOO_LARGE);
    check_text("2000 x 2-byte = 4000 bytes", "\xc3\xa9", 2000, "", ROSE_OK);
    check_text("2000 x 2-byte + 1 = 4001 bytes", "\xc3\xa9", 2000, "a", ROSE_ERR_TOO_LARGE);
    check_text("1999 x 2-byte + 2-byte char ending at 4000", "\xc3\xa9", 1999, "\xc3\xa9", ROSE_OK);
    check_text("1333 x 3-byte + 2-byte = 4001 (char straddles the limit)", "\xe2\x82\xac", 1333,
               "\xc3\xa9", ROSE_ERR_TOO_LARGE);
    check_text("999 x 4-byte + 4-byte = 4000", "\xf0\x9f\x8c\xb9", 999, "\xf0\x9f\x8c\xb9",
               ROSE_OK);
    check_text("1000 x 4-byte + 1 = 4001", "\xf0\x9f\x8c\xb9", 1000, "a", ROSE_ERR_TOO_LARGE);
    /* 2000 escapes of 6 characters: 12000 bytes of JSON, 4000 bytes of text. */
    check_text("2000 x \\u00e9 escapes = 4000 bytes", "\\u00e9", 2000, "", ROSE_OK);
    check_text("2000 x \\u00e9 escapes + 1 = 4001 bytes", "\\u00e9", 2000, "a", ROSE_ERR_TOO_LARGE);
    /* The size check comes before the emptiness check. */
    check_text("4001 spaces", " ", 4001, "", ROSE_ERR_TOO_LARGE);
    check_text("4000 spaces", " ", 4000, "", ROSE_ERR_EMPTY);
}

/* max 0 means no byte limit; INT at the edges of long long. */
static void
test_field_edges(void)
{
    static const struct rose_field f[] = {
        {"t", ROSE_F_TEXT, 0, 0, 0, 0},
        {"i", ROSE_F_INT, 0, 0, -5, 5},
    };
    struct json_object *obj;
    struct rose_fval out[2];
    char msg[256] = "";

    obj = json_tokener_parse("{\"t\":\"\",\"i\":-5}");
    T_INT(rose_fields_check(obj, f, 2, out, msg, sizeof(msg)), ROSE_OK,
          "edges: empty text without NONEMPTY is fine; INT at lo");
    T_OK(out[0].present && out[0].len == 0 && out[1].num == -5, "edges: values");
    json_object_put(obj);

    obj = json_tokener_parse("{\"i\":-6}");
    T_INT(rose_fields_check(obj, f, 2, out, msg, sizeof(msg)), ROSE_ERR_INVALID_FIELD,
          "edges: INT lo-1");
    T_STR(msg, "i must be -5..5.", "edges: INT range message");
    json_object_put(obj);
}

int
main(void)
{
    test_parse_cases();
    test_parse_values();
    test_depth();
    test_fields_cases();
    test_fields_values();
    test_text_max();
    test_field_edges();
    return t_done();
}
