/*
 * sse.h — an incremental Server-Sent-Events parser (WHATWG HTML, "Server-sent
 * events", §9.2.6 "Interpreting an event stream").
 *
 * Bytes arrive in chunks of any size, split anywhere (inside a field name,
 * between the CR and LF of a line end, ...); the parser keeps the unfinished
 * line and the fields of the unfinished event between calls and calls back
 * once per complete event, in order.
 *
 * What it does, by the spec:
 *   - lines end with LF, CR or CRLF; a UTF-8 BOM at the very start is dropped;
 *   - a blank line dispatches the event; an event without any `data` field is
 *     not dispatched (its `event` name is forgotten);
 *   - lines starting with ':' are comments (keep-alives) and are ignored;
 *   - `field:value`, with one leading space of the value dropped; a line
 *     without ':' is a field with an empty value;
 *   - `data` lines of one event are joined with "\n"; `event` sets the event
 *     name (default "message"); `id`, `retry` and unknown fields are ignored,
 *     since we never reconnect.
 * What it does not do: decode or validate UTF-8 (the consumer of the data,
 * e.g. a JSON parser, does).
 *
 * Limits: each line, the joined data of one event and the event name may each
 * hold at most max_event_bytes; past that the parser fails with
 * ROSE_ERR_TOO_LARGE.  Memory is thus bounded by three times that figure.
 */
#ifndef ROSE_SSE_H
#define ROSE_SSE_H

#include <stddef.h>

#include "core/err.h"

struct rose_sse;

/*
 * Called once per dispatched event.  event is the event name ("message" when
 * the stream gave none), NUL-terminated.  data is the joined data lines,
 * datalen bytes long (it may contain NUL bytes) and NUL-terminated after
 * that.  Both are valid only during the call.  Returning anything but ROSE_OK
 * stops the parser: rose_sse_feed() returns that error.
 */
typedef enum rose_err (*rose_sse_event_fn)(void *arg, const char *event, const char *data,
                                           size_t datalen);

/*
 * Make a parser that calls fn(arg, ...) for each event.  max_event_bytes
 * (> 0) bounds one line and one event (see above).  On success *out is the
 * parser, freed with rose_sse_free().  ROSE_ERR_INTERNAL if max_event_bytes
 * is 0 or fn is NULL, ROSE_ERR_NOMEM.
 */
enum rose_err rose_sse_new(rose_sse_event_fn fn, void *arg, size_t max_event_bytes,
                           struct rose_sse **out);

/*
 * Feed the next n bytes of the stream; calls the callback for every event
 * they complete, before returning.  Returns ROSE_OK, ROSE_ERR_TOO_LARGE (a
 * line or event over max_event_bytes), ROSE_ERR_NOMEM, or the callback's
 * error.  After any error the parser is spent: later calls to
 * rose_sse_feed() and rose_sse_finish() return the same error again.
 */
enum rose_err rose_sse_feed(struct rose_sse *p, const char *buf, size_t n);

/*
 * Say the stream has ended.  As the spec requires, an event that was not
 * closed by a blank line is discarded, not dispatched.  Returns ROSE_OK if
 * nothing was pending, ROSE_ERR_PARSE if the stream ended inside a line or
 * after a field line (data, event, id, any) not yet closed by a blank line,
 * so the caller can tell a cut-off stream from a complete one; or the error
 * that spent the parser.  Comment lines never leave anything pending.
 */
enum rose_err rose_sse_finish(struct rose_sse *p);

/* Free the parser.  NULL-safe. */
void rose_sse_free(struct rose_sse *p);

#endif
