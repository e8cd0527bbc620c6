/*
 * buf.c — growable byte buffer with a hard maximum (see buf.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"

void
rose_buf_init(struct rose_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

static size_t
buf_max(const struct rose_buf *b)
{
    return b->max ? b->max : ROSE_BUF_DEFAULT_MAX;
}

/* Make room for n more bytes plus the NUL. */
static enum rose_err
grow(struct rose_buf *b, size_t n)
{
    size_t need, ncap;
    char *p;

    if (n > buf_max(b) || b->len > buf_max(b) - n)
        return ROSE_ERR_TOO_LARGE;
    need = b->len + n + 1;
    if (need <= b->cap)
        return ROSE_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (buf_max(b) < SIZE_MAX && ncap > buf_max(b) + 1)
        ncap = buf_max(b) + 1;
    p = realloc(b->data, ncap);
    if (p == NULL)
        return ROSE_ERR_NOMEM;
    b->data = p;
    b->cap = ncap;
    return ROSE_OK;
}

enum rose_err
rose_buf_append(struct rose_buf *b, const void *p, size_t n)
{
    enum rose_err err;

    if ((err = grow(b, n)) != ROSE_OK)
        return err;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ROSE_OK;
}

enum rose_err
rose_buf_puts(struct rose_buf *b, const char *s)
{
    return rose_buf_append(b, s, strlen(s));
}

enum rose_err
rose_buf_printf(struct rose_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum rose_err err;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ROSE_ERR_INTERNAL;
    if ((err = grow(b, (size_t)n)) != ROSE_OK)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ROSE_OK;
}

void
rose_buf_reset(struct rose_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *
rose_buf_steal(struct rose_buf *b)
{
    char *p = b->data;

    if (p == NULL)
        p = strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void
rose_buf_free(struct rose_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
