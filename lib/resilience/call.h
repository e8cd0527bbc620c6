/*
 * call.h — one provider call with the shared circuit breaker and retries
 * (DESIGN.md §7): the loop of retry.h, written once for every role.
 */
#ifndef ROSE_CALL_H
#define ROSE_CALL_H

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* What one attempt reports back. */
struct rose_attempt {
    int http_status;      /* 0 when no response */
    double retry_after_s; /* -1 when none */
    const char *error_type; /* provider's error class ("" if none), for logs */
    int no_retry;         /* the attempt says "do not repeat me" (tokens sent) */
};

/* Make one attempt with at most timeout_ms; fill *a whatever happens. */
typedef enum rose_err (*rose_attempt_fn)(void *ctx, long timeout_ms, struct rose_attempt *a);

struct rose_call {
    const struct rose_config *cfg;
    struct rose_store *st;     /* breaker state and metrics; NULL: neither */
    const char *role;          /* "llm", "stt", "tts", ... (the breaker's name) */
    const char *provider;      /* for metrics */
    const char *what;          /* for logs: "chat", "summary", "transcribe" ... */
    double deadline_ms;        /* monotonic ms the whole turn must end by */
    double provider_ms;        /* out: time spent in attempts */
    int attempts;              /* out: attempts made */
};

/*
 * Run fn until it succeeds, fails in a way not worth repeating, the breaker
 * refuses (ROSE_ERR_UNAVAILABLE, no call made), RETRY_MAX_ATTEMPTS is
 * reached, or a wait (backoff with full jitter, or Retry-After exactly)
 * would pass the deadline.  Each attempt's timeout is the provider timeout,
 * cut to the time left.  Attempts are counted in the metrics and failures
 * logged (status and class only).  Returns the last attempt's result.
 */
enum rose_err rose_resilient_call(struct rose_call *c, rose_attempt_fn fn, void *ctx);

#endif
