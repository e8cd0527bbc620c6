/*
 * fuzz_sse.c — libFuzzer harness for the SSE parser (lib/providers/sse.c)
 * and the chat chunk decoder (rose_llm_decode_chunk() in llm.c).
 *
 * The input is parsed twice: fed whole, and fed in pieces whose sizes come
 * from the input's own bytes.  Both runs must give the same events, the same
 * error and the same end; the harness aborts if not, so a bug in carrying
 * state across reads shows up as a crash, not only memory errors.  The data
 * of every event, and the whole input, also go through the chunk decoder,
 * whose results are checked against what llm.h promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "providers/llm.h"
#include "providers/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so the size limit is reached often. */
#define EVENT_MAX 512

/* Each event as name, NUL, length, data: an exact record to compare runs. */
static enum rose_err
on_event(void *arg, const char *event, const char *data, size_t datalen)
{
    struct rose_buf *log = arg;
    enum rose_err err;

    if (data[datalen] != '\0')
        abort();
    if ((err = rose_buf_append(log, event, strlen(event) + 1)) != ROSE_OK ||
        (err = rose_buf_append(log, &datalen, sizeof(datalen))) != ROSE_OK ||
        (err = rose_buf_append(log, data, datalen)) != ROSE_OK)
        return err;
    /* Exercise the "callback error stops the parser" path. */
    if (datalen >= 6 && memcmp(data, "!abort", 6) == 0)
        return ROSE_ERR_UPSTREAM;
    return ROSE_OK;
}

/* Feed data in pieces of the given sizes (cycled; NULL = all at once). */
static void
parse(const uint8_t *data, size_t size, const uint8_t *sizes, size_t nsizes, struct rose_buf *log,
      enum rose_err *feed_err, enum rose_err *fin_err)
{
    struct rose_sse *p = NULL;
    size_t at = 0, k = 0, piece;
    enum rose_err err = ROSE_OK;

    if (rose_sse_new(on_event, log, EVENT_MAX, &p) != ROSE_OK)
        abort();
    while (at < size && err == ROSE_OK) {
        piece = sizes ? 1 + (size_t)(sizes[k++ % nsizes] % 32) : size;
        if (piece > size - at)
            piece = size - at;
        err = rose_sse_feed(p, (const char *)data + at, piece);
        at += piece;
    }
    *feed_err = err;
    *fin_err = rose_sse_finish(p);
    rose_sse_free(p);
}

static void
check_chunk(const char *json, size_t n)
{
    struct rose_llm_chunk c;

    if (rose_llm_decode_chunk(json, n, &c) != ROSE_OK)
        return;
    if (c.content != NULL && strlen(c.content) != c.content_len)
        abort(); /* the decoder promises no NUL inside content */
    if (c.finish_reason != NULL)
        (void)strlen(c.finish_reason);
    if (c.error != NULL)
        (void)strlen(c.error);
    if (c.prompt_tokens < -1 || c.completion_tokens < -1)
        abort();
    rose_llm_chunk_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rose_buf whole, split;
    enum rose_err fe1, fin1, fe2, fin2;
    size_t at, len;

    rose_buf_init(&whole, 1 << 20);
    rose_buf_init(&split, 1 << 20);
    parse(data, size, NULL, 0, &whole, &fe1, &fin1);
    parse(data, size, data, size, &split, &fe2, &fin2);
    if (fe1 != fe2 || fin1 != fin2 || whole.len != split.len ||
        (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
        abort();

    /* Decode every event's data as a chunk. */
    for (at = 0; at < whole.len;) {
        at += strlen(whole.data + at) + 1;
        memcpy(&len, whole.data + at, sizeof(len));
        at += sizeof(len);
        check_chunk(whole.data + at, len);
        at += len;
    }
    check_chunk((const char *)data, size);

    rose_buf_free(&whole);
    rose_buf_free(&split);
    return 0;
}
