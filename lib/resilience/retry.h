/*
 * retry.h — whether to call a provider again after a failure, and how long
 * to wait first (DESIGN.md §7, docs/internals/resilience.md).
 *
 * Pure policy: nothing here sleeps, reads the clock or touches the network.
 * The caller owns the loop, the clock, the random state and the turn's
 * deadline, which keeps every rule testable with fixed inputs.  A provider
 * call with retries looks like:
 *
 *     for (attempt = 0;; attempt++) {
 *         rose_breaker_allow() → refused: stop (not a provider failure)
 *         call the provider → status, err, Retry-After
 *         rose_breaker_success() / rose_breaker_failure()
 *         if done, or !rose_retry_retryable(), or attempt + 1 == RETRY_MAX_ATTEMPTS: stop
 *         delay = rose_retry_delay_ms(attempt, ...)
 *         if !rose_retry_fits(delay, deadline, now): stop (fail fast, 504)
 *         sleep delay
 *     }
 */
#ifndef ROSE_RETRY_H
#define ROSE_RETRY_H

#include <stdint.h>
#include <time.h>

#include "core/err.h"

/*
 * Base delay for an ElevenLabs 429 "too_many_concurrent_requests": the
 * slot frees as soon as one of our own requests to them finishes (about a
 * second of speech synthesis), so a short wait is enough; the ordinary
 * back-off would waste most of the turn.
 */
#define ROSE_RETRY_CONCURRENCY_BASE_MS 250

/*
 * Whether a failed call is worth repeating.  http_status is the provider's
 * status, or 0 when no response arrived; then err says why.
 * Retryable: no response with ROSE_ERR_IO (connection refused or reset),
 * ROSE_ERR_TIMEOUT or ROSE_ERR_UNAVAILABLE; status 408, 429, 498 (Groq:
 * capacity exceeded) and every 5xx.  Everything else is not: 400, 401, 403,
 * 404, 422 and the other 4xx say the request itself is wrong and would fail
 * the same way again; a 2xx with a malformed body is not a transient fault.
 * Returns 1 or 0.
 */
int rose_retry_retryable(int http_status, enum rose_err err);

/*
 * How long to wait, in milliseconds, before the retry that follows failed
 * attempt number attempt (0 for the wait after the first call).
 *
 * retry_after_s >= 0 (from rose_retry_after_parse()): exactly that many
 * seconds, rounded up to whole milliseconds, even above max_ms: the
 * provider said when it will take us, and rose_retry_fits() against the
 * turn's deadline decides whether we can afford it.  Saturates at LONG_MAX.
 *
 * Otherwise exponential back-off with full jitter: uniform in
 * [0, min(max_ms, base_ms * 2^attempt)], drawn from *rng, so that workers
 * that failed together do not retry together.  base_ms <= 0 or max_ms <= 0
 * give 0.
 *
 * rng: the caller's xorshift64 state, advanced on each draw; seed it once
 * per process with any value (rose_random() in production, a constant in
 * tests for reproducible draws).  0 is replaced by a fixed non-zero seed.
 */
long rose_retry_delay_ms(int attempt, long base_ms, long max_ms, double retry_after_s,
                         uint64_t *rng);

/*
 * Whether waiting delay_ms from now_ms still leaves time before
 * deadline_ms (all in ms): 1 if now_ms + delay_ms < deadline_ms, else 0 —
 * the caller then fails fast rather than sleeping past the turn's deadline.
 * A negative delay never fits.
 */
int rose_retry_fits(long delay_ms, long long deadline_ms, long long now_ms);

/*
 * Parse a Retry-After header value (RFC 9110 §10.2.3): delta-seconds
 * ("120") or an HTTP-date in any of its three forms — IMF-fixdate
 * ("Sun, 06 Nov 1994 08:49:37 GMT"), obsolete RFC 850
 * ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994")
 * — with optional surrounding whitespace.  now is the current time for
 * dates.  Returns the seconds to wait (a date in the past gives 0), or -1
 * when header is NULL, empty or not one of those forms (negative numbers,
 * fractions, trailing garbage, impossible dates).
 */
double rose_retry_after_parse(const char *header, time_t now);

/*
 * The base delay to pass to rose_retry_delay_ms() after an ElevenLabs 429,
 * given detail.status from its JSON body (NULL if absent):
 * "too_many_concurrent_requests" (our plan's concurrency is used up)
 * → min(base_ms, ROSE_RETRY_CONCURRENCY_BASE_MS), a short wait;
 * "system_busy" (their side is overloaded) and anything else → base_ms,
 * the ordinary exponential back-off.
 */
long rose_retry_elevenlabs_base_ms(const char *status, long base_ms);

#endif
