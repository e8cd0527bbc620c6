/*
 * sse.c — incremental Server-Sent-Events parser (see sse.h).
 *
 * The input is cut into lines as it arrives; only the unfinished line is
 * copied between calls.  A CR ends a line at once (so a stream using bare CR
 * works without waiting for more input); an LF right after it, even in the
 * next chunk, is then skipped as the second half of a CRLF.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "providers/sse.h"

static const char bom[] = "\xEF\xBB\xBF";

struct rose_sse {
    rose_sse_event_fn fn;
    void *arg;
    struct rose_buf line;  /* the current line, not yet terminated */
    struct rose_buf data;  /* data values of the pending event, each + "\n" */
    struct rose_buf event; /* event name of the pending event; empty = "message" */
    int after_cr;          /* the last byte ended a line with CR */
    int open;              /* a field line came since the last blank line */
    size_t bom_seen;       /* BOM bytes matched at the start; 3 once decided */
    enum rose_err failed;  /* sticky: the first error, once the parser is spent */
};

enum rose_err
rose_sse_new(rose_sse_event_fn fn, void *arg, size_t max_event_bytes, struct rose_sse **out)
{
    struct rose_sse *p;

    if (fn == NULL || max_event_bytes == 0)
        return ROSE_ERR_INTERNAL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return ROSE_ERR_NOMEM;
    p->fn = fn;
    p->arg = arg;
    rose_buf_init(&p->line, max_event_bytes);
    rose_buf_init(&p->data, max_event_bytes);
    rose_buf_init(&p->event, max_event_bytes);
    *out = p;
    return ROSE_OK;
}

void
rose_sse_free(struct rose_sse *p)
{
    if (p == NULL)
        return;
    rose_buf_free(&p->line);
    rose_buf_free(&p->data);
    rose_buf_free(&p->event);
    free(p);
}

/* A blank line: hand the pending event to the callback, then forget it. */
static enum rose_err
dispatch(struct rose_sse *p)
{
    enum rose_err err = ROSE_OK;

    if (p->data.len > 0) {
        /* Every data value was stored with a "\n" after it; drop the last. */
        p->data.len--;
        p->data.data[p->data.len] = '\0';
        err = p->fn(p->arg, p->event.len ? p->event.data : "message", p->data.data, p->data.len);
    }
    rose_buf_reset(&p->data);
    rose_buf_reset(&p->event);
    p->open = 0;
    return err;
}

static int
field_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* Act on the complete line in p->line, then empty it. */
static enum rose_err
process_line(struct rose_sse *p)
{
    const char *s = p->line.data, *value, *colon;
    size_t len = p->line.len, namelen, vlen;
    enum rose_err err = ROSE_OK;

    if (len == 0)
        return dispatch(p);
    if (s[0] == ':')
        goto out;
    p->open = 1;
    if ((colon = memchr(s, ':', len)) != NULL) {
        namelen = (size_t)(colon - s);
        value = colon + 1;
        vlen = len - namelen - 1;
        if (vlen > 0 && value[0] == ' ') {
            value++;
            vlen--;
        }
    } else {
        namelen = len;
        value = "";
        vlen = 0;
    }
    if (field_is(s, namelen, "data")) {
        if ((err = rose_buf_append(&p->data, value, vlen)) == ROSE_OK)
            err = rose_buf_append(&p->data, "\n", 1);
    } else if (field_is(s, namelen, "event")) {
        rose_buf_reset(&p->event);
        err = rose_buf_append(&p->event, value, vlen);
    }
out:
    rose_buf_reset(&p->line);
    return err;
}

/* Split buf into lines; the tail without a line end stays in p->line. */
static enum rose_err
feed_lines(struct rose_sse *p, const char *buf, size_t n)
{
    size_t i = 0, j;
    enum rose_err err;

    while (i < n) {
        if (p->after_cr) {
            p->after_cr = 0;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        for (j = i; j < n && buf[j] != '\n' && buf[j] != '\r'; j++)
            ;
        if ((err = rose_buf_append(&p->line, buf + i, j - i)) != ROSE_OK)
            return err;
        if (j == n)
            break;
        p->after_cr = buf[j] == '\r';
        i = j + 1;
        if ((err = process_line(p)) != ROSE_OK)
            return err;
    }
    return ROSE_OK;
}

/* Drop a UTF-8 BOM at the very start, even when it arrives split. */
static enum rose_err
skip_bom(struct rose_sse *p, const char **buf, size_t *n)
{
    size_t matched;

    while (p->bom_seen < 3 && *n > 0 && **buf == bom[p->bom_seen]) {
        p->bom_seen++;
        (*buf)++;
        (*n)--;
    }
    if (p->bom_seen == 3 || *n == 0)
        return ROSE_OK; /* a whole BOM, or still undecided */
    /* Not a BOM after all: the bytes taken for one are ordinary input. */
    matched = p->bom_seen;
    p->bom_seen = 3;
    return feed_lines(p, bom, matched);
}

enum rose_err
rose_sse_feed(struct rose_sse *p, const char *buf, size_t n)
{
    enum rose_err err;

    if (p->failed != ROSE_OK)
        return p->failed;
    if (p->bom_seen < 3 && (err = skip_bom(p, &buf, &n)) != ROSE_OK)
        return p->failed = err;
    if ((err = feed_lines(p, buf, n)) != ROSE_OK)
        return p->failed = err;
    return ROSE_OK;
}

enum rose_err
rose_sse_finish(struct rose_sse *p)
{
    enum rose_err err;

    if (p->failed != ROSE_OK)
        return p->failed;
    /* Bytes held back as a possible BOM start are an unfinished line. */
    if (p->bom_seen > 0 && p->bom_seen < 3)
        return ROSE_ERR_PARSE;
    err = (p->line.len || p->open) ? ROSE_ERR_PARSE : ROSE_OK;
    rose_buf_reset(&p->line);
    rose_buf_reset(&p->data);
    rose_buf_reset(&p->event);
    p->open = 0;
    return err;
}
