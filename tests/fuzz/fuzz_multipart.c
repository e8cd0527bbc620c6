/*
 * fuzz_multipart.c — libFuzzer harness for the multipart/form-data parser
 * (lib/http/multipart.c).
 *
 * Input: the Content-Type header value up to the first LF, then the body
 * (no LF: all of it is the Content-Type and the body is empty).  The body is
 * parsed twice: fed whole, and fed in pieces whose sizes come from the
 * input's own bytes.  Both runs must give the same error, the same reason
 * and the same parts; the harness aborts if not, so a bug in carrying state
 * across reads (a boundary split between pieces) shows up as a crash, not
 * only memory errors.  It also aborts when a result breaks what multipart.h
 * promises: required fields present, data within its max and NUL-terminated,
 * file names UTF-8 without control characters, content types printable
 * ASCII, a reason exactly when there is an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so the caps are reached often. */
static const struct rose_multipart_field fields[] = {
    {"audio", 256, ROSE_MULTIPART_REQUIRED},
    {"session_id", 36, ROSE_MULTIPART_REQUIRED},
    {"note", 8, 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static void
check_text(const char *s, int printable_ascii)
{
    size_t i, n;

    if (s == NULL)
        return;
    n = strlen(s);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (printable_ascii && c > 0x7e))
            abort();
    }
    if (!rose_utf8_valid(s, n))
        abort();
}

/* Append s and its NUL (or a marker for NULL) to the record. */
static void
record_str(struct rose_buf *log, const char *s)
{
    if (rose_buf_append(log, s ? "s" : "n", 1) != ROSE_OK ||
        (s && rose_buf_append(log, s, strlen(s) + 1) != ROSE_OK))
        abort();
}

/*
 * Parse body[0..n) under ctype, fed whole (sizes NULL) or in pieces of the
 * given sizes (cycled), into an exact record of the outcome.
 */
static void
parse(const char *ctype, const uint8_t *body, size_t n, const uint8_t *sizes, size_t nsizes,
      struct rose_buf *log)
{
    struct rose_multipart *p;
    struct rose_multipart_part *part;
    char msg[160];
    size_t at = 0, piece, k = 0, i;
    enum rose_err err;

    err = rose_multipart_new(ctype, fields, NFIELDS, &p, msg, sizeof(msg));
    if (err != ROSE_OK) {
        if (msg[0] == '\0')
            abort();
        if (rose_buf_append(log, &err, sizeof(err)) != ROSE_OK)
            abort();
        return;
    }
    while (at < n && err == ROSE_OK) {
        piece = sizes ? 1 + (size_t)(sizes[k++ % nsizes] % 64) : n;
        if (piece > n - at)
            piece = n - at;
        err = rose_multipart_feed(p, (const char *)body + at, piece);
        at += piece;
    }
    if (err == ROSE_OK)
        err = rose_multipart_finish(p);
    if ((err == ROSE_OK) != (rose_multipart_reason(p)[0] == '\0'))
        abort();
    if (rose_buf_append(log, &err, sizeof(err)) != ROSE_OK)
        abort();
    record_str(log, rose_multipart_reason(p));
    for (i = 0; err == ROSE_OK && i < NFIELDS; i++) {
        part = rose_multipart_get(p, i);
        if (part == NULL) {
            if (fields[i].flags & ROSE_MULTIPART_REQUIRED)
                abort();
            record_str(log, NULL);
            continue;
        }
        if (part->data == NULL || part->len > fields[i].max || part->data[part->len] != '\0' ||
            strcmp(part->name, fields[i].name) != 0)
            abort();
        check_text(part->filename, 0);
        check_text(part->content_type, 1);
        record_str(log, part->name);
        record_str(log, part->filename);
        record_str(log, part->content_type);
        if (rose_buf_append(log, &part->len, sizeof(part->len)) != ROSE_OK ||
            rose_buf_append(log, part->data, part->len) != ROSE_OK)
            abort();
    }
    rose_multipart_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *lf = memchr(data, '\n', size);
    size_t ctlen = lf ? (size_t)(lf - data) : size;
    const uint8_t *body = lf ? lf + 1 : data + size;
    size_t n = size - ctlen - (lf ? 1 : 0);
    struct rose_buf whole, split;
    char *ctype;

    if ((ctype = malloc(ctlen + 1)) == NULL)
        return 0;
    memcpy(ctype, data, ctlen);
    ctype[ctlen] = '\0'; /* a NUL inside just shortens it */
    rose_buf_init(&whole, 1 << 20);
    rose_buf_init(&split, 1 << 20);
    parse(ctype, body, n, NULL, 0, &whole);
    parse(ctype, body, n, data, size, &split);
    if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
        abort();
    rose_buf_free(&whole);
    rose_buf_free(&split);
    free(ctype);
    return 0;
}
