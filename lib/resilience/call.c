/*
 * call.c — the resilient provider call loop (call.h).
 */
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/text.h"
#include "resilience/breaker.h"
#include "resilience/call.h"
#include "resilience/retry.h"
#include "store/metrics.h"

static long
time_left(const struct rose_call *c)
{
    double left = c->deadline_ms - rose_mono_ms();

    return left > 0 ? (long)left : 0;
}

static void
log_failure(const struct rose_call *c, enum rose_err err, const struct rose_attempt *a)
{
    struct json_object *f = json_object_new_object();

    if (f != NULL) {
        json_object_object_add(f, "role", json_object_new_string(c->role));
        json_object_object_add(f, "call", json_object_new_string(c->what));
        json_object_object_add(f, "attempt", json_object_new_int(c->attempts));
        json_object_object_add(f, "error", json_object_new_string(rose_err_code(err)));
        json_object_object_add(f, "upstream_status", json_object_new_int(a->http_status));
        if (a->error_type != NULL && a->error_type[0])
            json_object_object_add(f, "upstream_error", json_object_new_string(a->error_type));
    }
    rose_log(ROSE_LOG_WARN, "provider_failed", f);
}

enum rose_err
rose_resilient_call(struct rose_call *c, rose_attempt_fn fn, void *ctx)
{
    const struct rose_config *cfg = c->cfg;
    uint64_t rng = (uint64_t)rose_now_ms() ^ ((uint64_t)getpid() << 32);
    enum rose_err err = ROSE_ERR_UNAVAILABLE;
    int probe;

    for (c->attempts = 0;;) {
        struct rose_attempt a;
        long timeout, delay;
        double t0;

        if (c->st != NULL &&
            rose_breaker_allow(c->st, c->role, cfg->breaker_recovery_seconds, rose_now_ms(),
                               &probe) == ROSE_ERR_UNAVAILABLE) {
            rose_logf(ROSE_LOG_WARN, "breaker_refused", "%s circuit open; %s not called",
                      c->role, c->what);
            rose_metrics_provider(c->st, c->role, c->provider, "circuit_open", 0);
            return ROSE_ERR_UNAVAILABLE;
        }
        timeout = cfg->provider_timeout_seconds * 1000;
        if (timeout > time_left(c))
            timeout = time_left(c) > 0 ? time_left(c) : 1;
        memset(&a, 0, sizeof(a));
        a.retry_after_s = -1;
        c->attempts++;
        t0 = rose_mono_ms();
        err = fn(ctx, timeout, &a);
        c->provider_ms += rose_mono_ms() - t0;
        rose_metrics_provider(c->st, c->role, c->provider,
                              err == ROSE_OK ? "ok" : rose_err_code(err),
                              (rose_mono_ms() - t0) / 1000.0);
        if (err == ROSE_OK) {
            if (c->st != NULL)
                rose_breaker_success(c->st, c->role, rose_now_ms());
            return ROSE_OK;
        }
        log_failure(c, err, &a);
        if (!rose_retry_retryable(a.http_status, err)) {
            if (c->st != NULL) /* it answered: the provider is up */
                rose_breaker_success(c->st, c->role, rose_now_ms());
            return err;
        }
        if (c->st != NULL)
            rose_breaker_failure(c->st, c->role, cfg->breaker_threshold, rose_now_ms());
        if (a.no_retry || c->attempts >= cfg->retry_max_attempts)
            return err;
        delay = rose_retry_delay_ms(c->attempts - 1,
                                    a.error_type != NULL
                                        ? rose_retry_elevenlabs_base_ms(a.error_type,
                                                                        cfg->retry_base_delay_ms)
                                        : cfg->retry_base_delay_ms,
                                    cfg->retry_max_delay_ms, a.retry_after_s, &rng);
        if (!rose_retry_fits(delay, (long long)c->deadline_ms, (long long)rose_mono_ms()))
            return err; /* waiting would pass the deadline: fail now */
        rose_metrics_add(c->st, "rose_provider_retries_total", "role", c->role, 1);
        usleep((useconds_t)delay * 1000);
    }
}
