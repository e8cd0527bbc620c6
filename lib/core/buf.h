/*
 * buf.h — a growable byte buffer with a hard maximum.
 *
 * Every growable buffer in Rose has a cap: appending past it fails with
 * ROSE_ERR_TOO_LARGE and leaves the buffer as it was.  The data is always
 * NUL-terminated (the NUL is not counted in len), so text can be used as a
 * C string.  A zeroed struct is an empty buffer with ROSE_BUF_DEFAULT_MAX.
 */
#ifndef ROSE_BUF_H
#define ROSE_BUF_H

#include <stddef.h>
#include "core/err.h"

struct rose_buf {
    char *data;  /* NULL until the first append */
    size_t len;  /* bytes used, excluding the trailing NUL */
    size_t cap;  /* bytes allocated */
    size_t max;  /* most bytes len may reach; 0 means ROSE_BUF_DEFAULT_MAX */
};

/* Set up an empty buffer that may hold at most max bytes (0: default). */
void rose_buf_init(struct rose_buf *b, size_t max);

/* Append n bytes.  ROSE_ERR_TOO_LARGE past max, ROSE_ERR_NOMEM. */
enum rose_err rose_buf_append(struct rose_buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. */
enum rose_err rose_buf_puts(struct rose_buf *b, const char *s);

/* Append printf-style text. */
enum rose_err rose_buf_printf(struct rose_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forget the contents but keep the memory. */
void rose_buf_reset(struct rose_buf *b);

/* Give up the data: returns it (caller frees; "" if empty, NULL on OOM)
 * and leaves the buffer empty. */
char *rose_buf_steal(struct rose_buf *b);

/* Free the memory; the buffer is empty afterwards.  NULL-safe. */
void rose_buf_free(struct rose_buf *b);

#endif
