/*
 * test_err.c — the error table and its HTTP mapping (lib/core/err.c), and
 * the capped growable buffer (lib/core/buf.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/limits.h"
#include "t.h"

/* ---- errors ----------------------------------------------------------- */

/* The whole mapping, written out: what a client sees for each error. */
static const struct {
    enum rose_err err;
    int status;
    const char *code;
} err_cases[] = {
    {ROSE_OK, 200, "ok"},
    {ROSE_ERR_NOMEM, 500, "internal_error"},
    {ROSE_ERR_INTERNAL, 500, "internal_error"},
    {ROSE_ERR_IO, 500, "internal_error"},
    {ROSE_ERR_CONFIG, 500, "internal_error"},
    {ROSE_ERR_DB, 500, "internal_error"},
    {ROSE_ERR_DB_UNAVAILABLE, 503, "database_unavailable"},
    {ROSE_ERR_BAD_REQUEST, 400, "bad_request"},
    {ROSE_ERR_BAD_JSON, 400, "invalid_json"},
    {ROSE_ERR_MISSING_FIELD, 400, "missing_field"},
    {ROSE_ERR_INVALID_FIELD, 400, "invalid_field"},
    {ROSE_ERR_EMPTY, 400, "empty"},
    {ROSE_ERR_UNAUTHORIZED, 401, "unauthorized"},
    {ROSE_ERR_FORBIDDEN, 403, "forbidden"},
    {ROSE_ERR_NOT_FOUND, 404, "not_found"},
    {ROSE_ERR_METHOD, 405, "method_not_allowed"},
    {ROSE_ERR_NOT_ACCEPTABLE, 406, "not_acceptable"},
    {ROSE_ERR_CONFLICT, 409, "conflict"},
    {ROSE_ERR_LENGTH_REQUIRED, 411, "length_required"},
    {ROSE_ERR_TOO_LARGE, 413, "payload_too_large"},
    {ROSE_ERR_MEDIA_TYPE, 415, "unsupported_media_type"},
    {ROSE_ERR_RATE_LIMITED, 429, "rate_limited"},
    {ROSE_ERR_UPSTREAM, 502, "upstream_error"},
    {ROSE_ERR_UNAVAILABLE, 503, "service_unavailable"},
    {ROSE_ERR_TIMEOUT, 504, "timeout"},
    {ROSE_ERR_PARSE, 500, "internal_error"},
    {ROSE_ERR_RANGE, 416, "range_not_satisfiable"},
};

#define NCASES (sizeof(err_cases) / sizeof(err_cases[0]))

static void
test_err_table(void)
{
    size_t i;
    int e;

    for (e = 0; e < ROSE_ERR__MAX; e++) {
        const char *code = rose_err_code((enum rose_err)e);
        const char *msg = rose_err_message((enum rose_err)e);
        int status = rose_err_http_status((enum rose_err)e);
        size_t n = msg ? strlen(msg) : 0;

        T_OK(code != NULL && code[0] != '\0', "err %d: non-empty code", e);
        /* A sentence for a person: starts upper case, ends with a full stop. */
        T_OK(n > 1 && msg[0] >= 'A' && msg[0] <= 'Z' && msg[n - 1] == '.',
             "err %d (%s): message is a sentence", e, code ? code : "?");
        T_OK(status >= 200 && status <= 599, "err %d (%s): status %d in 200..599", e,
             code ? code : "?", status);
        T_OK(e == ROSE_OK || status >= 400, "err %d (%s): errors are 4xx/5xx", e,
             code ? code : "?");
    }
    /* Every value has a written-out expectation, so a new error needs a
     * deliberate entry here. */
    T_INT(NCASES, ROSE_ERR__MAX, "every enum rose_err value has a case");
    for (i = 0; i < NCASES; i++) {
        T_INT(rose_err_http_status(err_cases[i].err), err_cases[i].status, "%s → %d",
              err_cases[i].code, err_cases[i].status);
        T_STR(rose_err_code(err_cases[i].err), err_cases[i].code, "code of %s", err_cases[i].code);
    }
}

static void
test_err_out_of_range(void)
{
    static const int bad[] = {-1, -1000, ROSE_ERR__MAX, ROSE_ERR__MAX + 1, 1 << 20};
    const char *internal = rose_err_message(ROSE_ERR_INTERNAL);
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum rose_err e = (enum rose_err)bad[i];
        T_INT(rose_err_http_status(e), 500, "err %d (out of range) → 500", bad[i]);
        T_STR(rose_err_code(e), "internal_error", "err %d (out of range) → internal_error", bad[i]);
        T_STR(rose_err_message(e), internal, "err %d (out of range) → the internal message",
              bad[i]);
    }
}

/* ---- struct rose_buf ----------------------------------------------------- */

static void
test_buf_max(void)
{
    struct rose_buf b;
    char *old;

    rose_buf_init(&b, 10);
    T_OK(b.data == NULL && b.len == 0 && b.max == 10, "buf: init is empty with the max");
    T_INT(rose_buf_append(&b, "12345", 5), ROSE_OK, "buf: append 5 of 10");
    T_INT(rose_buf_puts(&b, "67890"), ROSE_OK, "buf: puts up to exactly max");
    T_INT(b.len, 10, "buf: len is max");
    T_STR(b.data, "1234567890", "buf: contents at max, NUL-terminated");

    old = b.data;
    T_INT(rose_buf_append(&b, "x", 1), ROSE_ERR_TOO_LARGE, "buf: max+1 is TOO_LARGE");
    T_INT(b.len, 10, "buf: len unchanged after TOO_LARGE");
    T_OK(b.data == old && memcmp(b.data, "1234567890", 11) == 0,
         "buf: data and NUL unchanged after TOO_LARGE");
    T_INT(rose_buf_printf(&b, "%d", 7), ROSE_ERR_TOO_LARGE, "buf: printf past max is TOO_LARGE");
    T_STR(b.data, "1234567890", "buf: unchanged after printf TOO_LARGE");
    T_INT(rose_buf_append(&b, "", 0), ROSE_OK, "buf: appending nothing at max is fine");
    T_INT(rose_buf_append(&b, "x", SIZE_MAX), ROSE_ERR_TOO_LARGE,
          "buf: n = SIZE_MAX is TOO_LARGE, not an overflow");
    T_INT(b.len, 10, "buf: still unchanged");

    rose_buf_reset(&b);
    T_OK(b.len == 0 && b.data == old && b.data[0] == '\0', "buf: reset empties, keeps memory");
    T_INT(rose_buf_append(&b, "abcdefghijk", 11), ROSE_ERR_TOO_LARGE,
          "buf: one append of max+1 on empty is TOO_LARGE");
    T_OK(b.len == 0 && b.data[0] == '\0', "buf: and leaves it empty");
    rose_buf_free(&b);
    T_OK(b.data == NULL && b.len == 0 && b.cap == 0, "buf: free leaves it empty");
    rose_buf_free(&b);
    T_OK(1, "buf: free twice is fine");
    rose_buf_free(NULL);
    T_OK(1, "buf: free(NULL) is a no-op");
}

static void
test_buf_printf(void)
{
    struct rose_buf b;

    rose_buf_init(&b, 10);
    T_INT(rose_buf_printf(&b, "%d-%s", 42, "ab"), ROSE_OK, "buf: printf");
    T_STR(b.data, "42-ab", "buf: printf text");
    T_INT(rose_buf_printf(&b, "%05d", 7), ROSE_OK, "buf: printf appends up to max");
    T_STR(b.data, "42-ab00007", "buf: printf appended");
    T_INT(b.len, 10, "buf: len after printf at max");
    rose_buf_free(&b);

    /* Longer than the first allocation, to cross a growth. */
    rose_buf_init(&b, 0);
    T_INT(rose_buf_printf(&b, "%0300d", 1), ROSE_OK, "buf: printf of 300 chars");
    T_INT(b.len, 300, "buf: len 300");
    T_OK(b.data[0] == '0' && b.data[299] == '1' && b.data[300] == '\0', "buf: text correct");
    rose_buf_free(&b);
}

static void
test_buf_grow_and_bytes(void)
{
    struct rose_buf b;
    char want[1000];
    int i, ok = 1;

    memset(&b, 0, sizeof(b)); /* a zeroed struct is an empty default buffer */
    for (i = 0; i < 1000; i++) {
        char c = (char)('a' + i % 26);
        want[i] = c;
        ok &= rose_buf_append(&b, &c, 1) == ROSE_OK;
    }
    T_OK(ok, "buf: 1000 one-byte appends");
    T_OK(b.len == 1000 && memcmp(b.data, want, 1000) == 0 && b.data[1000] == '\0',
         "buf: contents after many growths");
    T_OK(b.cap >= b.len + 1, "buf: cap holds len + NUL");
    rose_buf_reset(&b);
    T_INT(rose_buf_append(&b, "a\0b", 3), ROSE_OK, "buf: bytes with a NUL");
    T_OK(b.len == 3 && memcmp(b.data, "a\0b", 4) == 0, "buf: NUL kept, length counts it");
    rose_buf_free(&b);
}

static void
test_buf_default_max(void)
{
    struct rose_buf b;
    char *big = malloc(ROSE_BUF_DEFAULT_MAX);

    if (big == NULL)
        exit(2);
    memset(big, 'z', ROSE_BUF_DEFAULT_MAX);
    rose_buf_init(&b, 0);
    T_INT(rose_buf_append(&b, big, ROSE_BUF_DEFAULT_MAX), ROSE_OK,
          "buf: max 0 means ROSE_BUF_DEFAULT_MAX: that much fits");
    T_INT(rose_buf_append(&b, "z", 1), ROSE_ERR_TOO_LARGE, "buf: default max + 1 is TOO_LARGE");
    T_INT(b.len, ROSE_BUF_DEFAULT_MAX, "buf: len unchanged");
    rose_buf_free(&b);
    free(big);
}

static void
test_buf_steal(void)
{
    struct rose_buf b;
    char *s;

    rose_buf_init(&b, 100);
    rose_buf_puts(&b, "hello");
    s = rose_buf_steal(&b);
    T_STR(s, "hello", "buf: steal returns the text");
    T_OK(b.data == NULL && b.len == 0 && b.cap == 0, "buf: steal leaves it empty");
    T_INT(b.max, 100, "buf: steal keeps the max");
    T_INT(rose_buf_puts(&b, "again"), ROSE_OK, "buf: usable after steal");
    T_STR(b.data, "again", "buf: new text after steal");
    free(s);
    rose_buf_free(&b);

    rose_buf_init(&b, 0);
    s = rose_buf_steal(&b);
    T_STR(s, "", "buf: steal of a never-used buffer gives \"\" (caller frees)");
    free(s);
    rose_buf_free(&b);
}

/*
 * max = SIZE_MAX ("no practical limit") must still work.  Run in a child:
 * an overflow in the capacity arithmetic shows up as a heap overflow that
 * the sanitizers abort on, and that must fail one test, not the program.
 */
static void
test_buf_size_max(void)
{
    pid_t pid;
    int status = 0;

    fflush(stdout);
    if ((pid = fork()) == 0) {
        struct rose_buf b;
        int ok;

        rose_buf_init(&b, SIZE_MAX);
        ok = rose_buf_append(&b, "abc", 3) == ROSE_OK && b.cap >= 4 && strcmp(b.data, "abc") == 0;
        rose_buf_free(&b);
        _exit(ok ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "buf: max SIZE_MAX: append \"abc\" allocates room for it (status %d)", status);
}

int
main(void)
{
    test_err_table();
    test_err_out_of_range();
    test_buf_max();
    test_buf_printf();
    test_buf_grow_and_bytes();
    test_buf_default_max();
    test_buf_steal();
    test_buf_size_max();
    return t_done();
}
