/*
 * test_text.c — UTF-8 and UUID validation, time stamps, trim and the ASCII
 * case-insensitive comparisons (lib/core/text.c); the JSON building helpers
 * (lib/core/json.c).
 */
#include <stdlib.h>

#include "core/json.h"
#include "core/text.h"
#include "t.h"

/* A case: bytes (may hold NULs, so with an explicit length) and the answer. */
struct utf8_case {
    const char *what;
    const char *s;
    size_t n;
    int valid;
};

#define U(what, lit, valid)                                                                        \
    {                                                                                              \
        what, lit, sizeof(lit) - 1, valid                                                          \
    }

/* After Markus Kuhn's UTF-8 decoder stress test, with the boundaries of
 * Unicode Table 3-7. */
static const struct utf8_case utf8_cases[] = {
    U("empty", "", 1),
    U("ASCII", "hello, world", 1),
    U("NUL is valid", "a\0b", 1),
    U("DEL U+007F", "\x7f", 1),
    U("U+0080 first 2-byte", "\xc2\x80", 1),
    U("U+07FF last 2-byte", "\xdf\xbf", 1),
    U("U+0800 first 3-byte", "\xe0\xa0\x80", 1),
    U("U+D7FF before surrogates", "\xed\x9f\xbf", 1),
    U("U+E000 after surrogates", "\xee\x80\x80", 1),
    U("U+FFFD", "\xef\xbf\xbd", 1),
    U("U+FFFF noncharacter is well-formed", "\xef\xbf\xbf", 1),
    U("U+10000 first 4-byte", "\xf0\x90\x80\x80", 1),
    U("U+10FFFF last code point", "\xf4\x8f\xbf\xbf", 1),
    U("Greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 1),
    U("emoji", "\xf0\x9f\x8c\xb9 rose", 1),
    U("BOM", "\xef\xbb\xbf!", 1),

    U("overlong NUL C0 80", "\xc0\x80", 0),
    U("overlong C1 BF", "\xc1\xbf", 0),
    U("overlong '/' E0 80 AF", "\xe0\x80\xaf", 0),
    U("overlong NUL E0 80 80", "\xe0\x80\x80", 0),
    U("overlong U+07FF E0 9F BF", "\xe0\x9f\xbf", 0),
    U("overlong F0 80 80 80", "\xf0\x80\x80\x80", 0),
    U("overlong U+FFFF F0 8F BF BF", "\xf0\x8f\xbf\xbf", 0),
    U("surrogate U+D800 ED A0 80", "\xed\xa0\x80", 0),
    U("surrogate U+DFFF ED BF BF", "\xed\xbf\xbf", 0),
    U("surrogate pair as CESU-8", "\xed\xa0\x80\xed\xb0\x80", 0),
    U("U+110000 F4 90 80 80", "\xf4\x90\x80\x80", 0),
    U("F5 lead", "\xf5\x80\x80\x80", 0),
    U("F7 BF BF BF", "\xf7\xbf\xbf\xbf", 0),
    U("5-byte form F8", "\xf8\x88\x80\x80\x80", 0),
    U("6-byte form FC", "\xfc\x84\x80\x80\x80\x80", 0),
    U("FE", "\xfe", 0),
    U("FF", "\xff", 0),
    U("FE FF (UTF-16 BOM)", "\xfe\xff", 0),
    U("stray continuation 80", "\x80", 0),
    U("stray continuation BF after ASCII", "a\xbf", 0),
    U("two continuations", "\x80\xbf", 0),
    U("truncated 2-byte at end", "ab\xc2", 0),
    U("truncated 3-byte (1 of 2)", "\xe2\x82", 0),
    U("truncated 3-byte (0 of 2)", "\xe2", 0),
    U("truncated 4-byte (2 of 3)", "\xf0\x9f\x8c", 0),
    U("lead then ASCII", "\xc3z", 0),
    U("3-byte with bad third byte", "\xe2\x82\x41", 0),
    U("4-byte with bad fourth byte", "\xf0\x9f\x8c\xc0", 0),
    U("valid then invalid", "\xc3\xa9t\xc3\xa9\xff", 0),
    U("lone lead before NUL", "\xc3\0", 0),
};

static void
test_utf8(void)
{
    size_t i;

    for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++)
        T_INT(rose_utf8_valid(utf8_cases[i].s, utf8_cases[i].n), utf8_cases[i].valid, "utf8: %s",
              utf8_cases[i].what);
    T_INT(rose_utf8_valid(NULL, 0), 1, "utf8: NULL with length 0");
    /* The length is honoured: the bad byte after n is not looked at. */
    T_INT(rose_utf8_valid("ok\xff", 2), 1, "utf8: stops at n");
    T_INT(rose_utf8_valid("\xe2\x82\xac", 2), 0, "utf8: a sequence cut by n is truncated");
}

static void
test_uuid(void)
{
    static const struct {
        const char *what, *s;
        int valid;
    } cases[] = {
        {"lowercase v4", "123e4567-e89b-42d3-a456-426614174000", 1},
        {"uppercase", "123E4567-E89B-42D3-A456-426614174000", 1},
        {"mixed case", "123e4567-E89B-42d3-A456-426614174000", 1},
        {"nil UUID", "00000000-0000-0000-0000-000000000000", 1},
        {"any version and variant", "ffffffff-ffff-1fff-cfff-ffffffffffff", 1},
        {"missing hyphen", "123e4567e89b-42d3-a456-426614174000", 0},
        {"too long", "123e4567-e89b-42d3-a456-4266141740000", 0},
        {"too short", "123e4567-e89b-42d3-a456-42661417400", 0},
        {"non-hex digit", "123e4567-e89b-42d3-a456-42661417400g", 0},
        {"wrong separator", "123e4567-e89b-42d3-a456_426614174000", 0},
        {"hyphen moved", "123e4567-e89b-42d3-a4564-26614174000", 0},
        {"braces", "{123e4567-e89b-42d3-a456-426614174000}", 0},
        {"leading space", " 123e4567-e89b-42d3-a456-426614174000", 0},
        {"trailing newline", "123e4567-e89b-42d3-a456-426614174000\n", 0},
        {"no hyphens (32 hex)", "123e4567e89b42d3a456426614174000", 0},
        {"empty", "", 0},
    };
    char s[37];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_INT(rose_uuid_valid(cases[i].s), cases[i].valid, "uuid_valid: %s", cases[i].what);
    T_INT(rose_uuid_valid(NULL), 0, "uuid_valid(NULL)");

    memcpy(s, "123E4567-E89B-42D3-A456-42661417400F", sizeof(s));
    rose_uuid_lower(s);
    T_STR(s, "123e4567-e89b-42d3-a456-42661417400f", "uuid_lower");
}

static void
test_time(void)
{
    static const struct {
        long long ms;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {999, "1970-01-01T00:00:00.999Z"},
        {1000, "1970-01-01T00:00:01.000Z"},
        {951782400000LL, "2000-02-29T00:00:00.000Z"}, /* leap day of a year divisible by 400 */
        {951868799999LL, "2000-02-29T23:59:59.999Z"},
        {1700000000000LL, "2023-11-14T22:13:20.000Z"},
        {1795466624123LL, "2026-11-23T20:43:44.123Z"},
        {2147483648000LL, "2038-01-19T03:14:08.000Z"}, /* past 32-bit time_t */
        {4107542399000LL, "2100-02-28T23:59:59.000Z"}, /* 2100 is no leap year */
        {4107542400000LL, "2100-03-01T00:00:00.000Z"},
        {253402300799999LL, "9999-12-31T23:59:59.999Z"},
    };
    char out[32];
    long long now;
    double m1, m2;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(out, 'X', sizeof(out));
        rose_time_iso(cases[i].ms, out);
        T_STR(out, cases[i].want, "time_iso(%lld)", cases[i].ms);
    }

    /* Sanity, not timing: the clock is after this code was written and the
     * monotonic clock does not go back. */
    now = rose_now_ms();
    T_OK(now > 1700000000000LL, "now_ms is a plausible time: %lld", now);
    m1 = rose_mono_ms();
    m2 = rose_mono_ms();
    T_OK(m1 > 0 && m2 >= m1, "mono_ms does not go back");
}

static void
test_trim(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"abc", "abc"},
        {"  abc", "abc"},
        {"abc  ", "abc"},
        {" \t\r\n\v\fa b\t\r\n ", "a b"},
        {"   ", ""},
        {"\t", ""},
        {"a", "a"},
        {"\xc2\xa0x\xc2\xa0", "\xc2\xa0x\xc2\xa0"}, /* NBSP is not ASCII space */
    };
    char buf[64], *r;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(buf, sizeof(buf), "%s", cases[i].in);
        r = rose_trim(buf);
        T_OK(r == buf, "trim returns its argument (case %zu)", i);
        T_STR(buf, cases[i].want, "trim case %zu", i);
    }
}

static void
test_strieq(void)
{
    T_INT(rose_strieq("Content-Type", "content-type"), 1, "strieq: mixed case");
    T_INT(rose_strieq("", ""), 1, "strieq: both empty");
    T_INT(rose_strieq("abc", "abd"), 0, "strieq: differ");
    T_INT(rose_strieq("abc", "ab"), 0, "strieq: b is a prefix of a");
    T_INT(rose_strieq("ab", "abc"), 0, "strieq: a is a prefix of b");
    T_INT(rose_strieq("@", "`"), 0, "strieq: only letters fold ('@' vs '`')");
    T_INT(rose_strieq("[", "{"), 0, "strieq: '[' is not '{'");
    T_INT(rose_strieq("\xc3\x89", "\xc3\xa9"), 0, "strieq: no folding beyond ASCII");

    T_INT(rose_strnieq("Bearer abc", "bearer ", 7), 1, "strnieq: prefix");
    T_INT(rose_strnieq("Bearer", "bearer ", 7), 0, "strnieq: a ends before n");
    T_INT(rose_strnieq("Basic abc", "bearer ", 7), 0, "strnieq: differ");
    T_INT(rose_strnieq("abc", "ABC", 10), 1, "strnieq: both end before n");
    T_INT(rose_strnieq("abc", "xyz", 0), 1, "strnieq: n = 0");
}

static void
test_utf8_char_len(void)
{
    T_INT((int)rose_utf8_char_len("a", 1), 1, "char_len: ASCII");
    T_INT((int)rose_utf8_char_len("\xc3\xa9x", 3), 2, "char_len: two bytes, followed by more");
    T_INT((int)rose_utf8_char_len("\xe2\x80\x99", 3), 3, "char_len: three bytes");
    T_INT((int)rose_utf8_char_len("\xf0\x9f\x8c\xb9", 4), 4, "char_len: four bytes (a rose)");
    T_INT((int)rose_utf8_char_len("\xf0\x9f\x8c\xb9", 3), 0, "char_len: cut short");
    T_INT((int)rose_utf8_char_len("\xc0\xaf", 2), 0, "char_len: overlong");
    T_INT((int)rose_utf8_char_len("\xed\xa0\x80", 3), 0, "char_len: surrogate");
    T_INT((int)rose_utf8_char_len("\x80", 1), 0, "char_len: stray continuation byte");
    T_INT((int)rose_utf8_char_len("\xf5\x80\x80\x80", 4), 0, "char_len: above U+10FFFF");
    T_INT((int)rose_utf8_char_len("a", 0), 0, "char_len: no bytes");
}

static void
test_json(void)
{
    struct json_object *o = json_object_new_object(), *a = json_object_new_array();

    T_INT(rose_json_add(o, "k", json_object_new_string("v")), ROSE_OK, "json_add: adds");
    T_STR(json_object_get_string(json_object_object_get(o, "k")), "v", "json_add: the value");
    T_INT(rose_json_add(o, "k", NULL), ROSE_ERR_NOMEM, "json_add: a NULL value fails");
    T_INT(rose_json_add(NULL, "k", json_object_new_int(1)), ROSE_ERR_NOMEM,
          "json_add: no object fails (the value is freed: the sanitizer run sees no leak)");
    T_INT(rose_json_push(a, json_object_new_int(7)), ROSE_OK, "json_push: appends");
    T_INT((int)json_object_array_length(a), 1, "json_push: one element");
    T_INT(rose_json_push(a, NULL), ROSE_ERR_NOMEM, "json_push: a NULL value fails");
    T_INT(rose_json_push(NULL, json_object_new_int(1)), ROSE_ERR_NOMEM,
          "json_push: no array fails");
    json_object_put(o);
    json_object_put(a);
    o = rose_json_time(1795437824123LL);
    T_STR(json_object_get_string(o), "2026-11-23T12:43:44.123Z", "json_time: RFC 3339, UTC, ms");
    json_object_put(o);
}

int
main(void)
{
    test_utf8();
    test_uuid();
    test_time();
    test_trim();
    test_strieq();
    test_utf8_char_len();
    test_json();
    return t_done();
}
