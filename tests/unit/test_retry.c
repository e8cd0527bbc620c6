/*
 * test_retry.c — retry policy (lib/resilience/retry.c): which failures are
 * retried, back-off bounds and jitter, Retry-After, the deadline check and
 * the ElevenLabs 429 hint.  Pure functions: no clock, no network.
 */
#include <limits.h>
#include <stdlib.h>

#include "resilience/retry.h"
#include "t.h"

/* 1994-11-06 08:49:37 UTC, the RFC 9110 example date. */
#define RFC_EXAMPLE ((time_t)784111777)

static void
test_classification(void)
{
    static const struct {
        int status;
        enum rose_err err;
        int want;
    } cases[] = {
        {0, ROSE_ERR_IO, 1},          /* connection refused / reset */
        {0, ROSE_ERR_TIMEOUT, 1},     /* connect or read timeout */
        {0, ROSE_ERR_UNAVAILABLE, 1}, /* DNS, TLS, no route */
        {0, ROSE_ERR_PARSE, 0},
        {0, ROSE_ERR_NOMEM, 0},
        {0, ROSE_ERR_INTERNAL, 0},
        {0, ROSE_ERR_BAD_REQUEST, 0},
        {0, ROSE_OK, 0},
        {200, ROSE_ERR_PARSE, 0}, /* malformed JSON body */
        {408, ROSE_ERR_UPSTREAM, 1},
        {429, ROSE_ERR_UPSTREAM, 1},
        {498, ROSE_ERR_UPSTREAM, 1},
        {500, ROSE_ERR_UPSTREAM, 1},
        {502, ROSE_ERR_UPSTREAM, 1},
        {503, ROSE_ERR_UPSTREAM, 1},
        {504, ROSE_ERR_UPSTREAM, 1},
        {599, ROSE_ERR_UPSTREAM, 1},
        {400, ROSE_ERR_UPSTREAM, 0},
        {401, ROSE_ERR_UPSTREAM, 0},
        {403, ROSE_ERR_UPSTREAM, 0},
        {404, ROSE_ERR_UPSTREAM, 0},
        {409, ROSE_ERR_UPSTREAM, 0},
        {413, ROSE_ERR_UPSTREAM, 0},
        {422, ROSE_ERR_UPSTREAM, 0},
        {499, ROSE_ERR_UPSTREAM, 0},
        {600, ROSE_ERR_UPSTREAM, 0},
        {301, ROSE_ERR_UPSTREAM, 0},
        /* a status decides even if err would say otherwise */
        {404, ROSE_ERR_TIMEOUT, 0},
        {503, ROSE_OK, 1},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_INT(rose_retry_retryable(cases[i].status, cases[i].err), cases[i].want,
              "retryable(%d, %s) = %d", cases[i].status, rose_err_code(cases[i].err),
              cases[i].want);
}

/* Over many draws each delay stays within [0, min(max, base*2^n)], the
 * draws differ, and the upper half of the range is reached. */
static void
test_backoff_bounds(void)
{
    static const struct {
        int attempt;
        long base, max, bound;
    } cases[] = {
        {0, 1000, 10000, 1000},     {1, 1000, 10000, 2000},
        {2, 1000, 10000, 4000},     {3, 1000, 10000, 8000},
        {4, 1000, 10000, 10000},    {60, 1000, 10000, 10000},
        {1000, 1000, 10000, 10000}, {0, 7, 5, 5},
        {3, 3, 1000000, 24},        {62, LONG_MAX / 2, LONG_MAX, LONG_MAX},
    };
    uint64_t rng = 42;
    size_t i;
    int n;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long lo = LONG_MAX, hi = -1, first = -2;
        int distinct = 0;

        for (n = 0; n < 10000; n++) {
            long d = rose_retry_delay_ms(cases[i].attempt, cases[i].base, cases[i].max, -1, &rng);
            if (d < lo)
                lo = d;
            if (d > hi)
                hi = d;
            if (first == -2)
                first = d;
            else if (d != first)
                distinct = 1;
        }
        T_OK(lo >= 0 && hi <= cases[i].bound,
             "backoff attempt %d base %ld max %ld: 10000 draws in [0, %ld] (saw %ld..%ld)",
             cases[i].attempt, cases[i].base, cases[i].max, cases[i].bound, lo, hi);
        T_OK(distinct, "backoff attempt %d base %ld: the draws are jittered", cases[i].attempt,
             cases[i].base);
        T_OK(hi > cases[i].bound / 2, "backoff attempt %d base %ld: the top half is reached",
             cases[i].attempt, cases[i].base);
    }
    T_INT(rose_retry_delay_ms(3, 0, 10000, -1, &rng), 0, "backoff: base 0 → 0");
    T_INT(rose_retry_delay_ms(3, 1000, 0, -1, &rng), 0, "backoff: max 0 → 0");
    T_INT(rose_retry_delay_ms(-5, 1000, 10000, -1, &rng) <= 1000, 1,
          "backoff: a negative attempt is treated as 0");
}

/* Same seed, same sequence; different seeds, different sequences; seed 0
 * is usable (xorshift would otherwise stay at 0 forever). */
static void
test_backoff_seed(void)
{
    uint64_t a = 7, b = 7, c = 8, z = 0;
    int same = 1, differ = 0, zero_varies = 0, i;
    long z0 = rose_retry_delay_ms(5, 1000, 100000, -1, &z);

    for (i = 0; i < 100; i++) {
        long x = rose_retry_delay_ms(5, 1000, 100000, -1, &a);
        long y = rose_retry_delay_ms(5, 1000, 100000, -1, &b);
        long w = rose_retry_delay_ms(5, 1000, 100000, -1, &c);
        if (x != y)
            same = 0;
        if (x != w)
            differ = 1;
        if (rose_retry_delay_ms(5, 1000, 100000, -1, &z) != z0)
            zero_varies = 1;
    }
    T_OK(same, "seed: the same seed gives the same delays");
    T_OK(differ, "seed: another seed gives other delays");
    T_OK(z != 0 && zero_varies, "seed: a zero state still produces varying delays");
}

static void
test_retry_after_honoured(void)
{
    uint64_t rng = 1;

    T_INT(rose_retry_delay_ms(0, 1000, 10000, 1, &rng), 1000, "Retry-After 1 → exactly 1000 ms");
    T_INT(rose_retry_delay_ms(2, 1000, 10000, 0, &rng), 0, "Retry-After 0 → 0 ms");
    T_INT(rose_retry_delay_ms(0, 1000, 10000, 30, &rng), 30000,
          "Retry-After 30 → 30000 ms, above max (the deadline decides)");
    T_INT(rose_retry_delay_ms(0, 1000, 10000, 0.0015, &rng), 2, "Retry-After 1.5 ms rounds up");
    T_INT(rose_retry_delay_ms(0, 1000, 10000, 1e300, &rng), LONG_MAX,
          "Retry-After huge → saturates at LONG_MAX");
    T_OK(rose_retry_delay_ms(0, 1000, 10000, -1, &rng) <= 1000, "Retry-After -1 → back-off");
}

static void
test_fits(void)
{
    T_INT(rose_retry_fits(1000, 10000, 5000), 1, "fits: 1 s wait with 5 s left");
    T_INT(rose_retry_fits(4999, 10000, 5000), 1, "fits: 1 ms to spare");
    T_INT(rose_retry_fits(5000, 10000, 5000), 0, "fits: landing on the deadline does not fit");
    T_INT(rose_retry_fits(30000, 10000, 5000), 0,
          "fits: Retry-After beyond the deadline fails fast");
    T_INT(rose_retry_fits(0, 10000, 10000), 0, "fits: deadline already reached");
    T_INT(rose_retry_fits(0, 10000, 20000), 0, "fits: deadline already passed");
    T_INT(rose_retry_fits(LONG_MAX, 10000, 5000), 0, "fits: saturated delay does not overflow");
    T_INT(rose_retry_fits(-1, 10000, 5000), 0, "fits: negative delay is refused");
}

static void
test_after_parse(void)
{
    static const struct {
        const char *header;
        time_t now;
        double want;
    } cases[] = {
        {"0", 0, 0},
        {"1", 0, 1},
        {"120", 0, 120},
        {"  7\t", 0, 7},
        {"00042", 0, 42},
        {"99999999999", 0, 99999999999.0},
        /* IMF-fixdate, RFC 850 and asctime, 10 s after now */
        {"Sun, 06 Nov 1994 08:49:47 GMT", RFC_EXAMPLE, 10},
        {"Sunday, 06-Nov-94 08:49:47 GMT", RFC_EXAMPLE, 10},
        {"Sun Nov  6 08:49:47 1994", RFC_EXAMPLE, 10},
        {"Wed Nov 16 08:49:37 1994", RFC_EXAMPLE, 10 * 86400},
        {" Sun, 06 Nov 1994 08:50:37 GMT ", RFC_EXAMPLE, 60},
        /* a date in the past: retry now */
        {"Sun, 06 Nov 1994 08:49:36 GMT", RFC_EXAMPLE, 0},
        {"Thu, 01 Jan 1970 00:00:00 GMT", RFC_EXAMPLE, 0},
        /* a leap day that exists; the weekday name is not cross-checked */
        {"Thu, 29 Feb 1996 00:00:00 GMT", 825552000 - 5, 5},
        /* RFC 850 two-digit year: "30" seen from 2029 is 2030 (within 50
         * years); "94" seen from 2025 is 1994 (past: 0), not 2094. */
        {"Tuesday, 01-Jan-30 00:00:00 GMT", 1893456000 - 3600, 3600},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 1735689600, 0},
        /* garbage */
        {NULL, 0, -1},
        {"", 0, -1},
        {"   ", 0, -1},
        {"-5", 0, -1},
        {"+5", 0, -1},
        {"1.5", 0, -1},
        {"5s", 0, -1},
        {"5 5", 0, -1},
        {"0x10", 0, -1},
        {"soon", 0, -1},
        {"Sun, 06 Nov 1994 08:49:37", RFC_EXAMPLE, -1},     /* no GMT */
        {"Sun, 06 Nov 1994 08:49:37 UTC", RFC_EXAMPLE, -1}, /* not GMT */
        {"Sun, 6 Nov 1994 08:49:37 GMT", RFC_EXAMPLE, -1},  /* 1-digit day */
        {"sun, 06 nov 1994 08:49:37 GMT", RFC_EXAMPLE, -1}, /* case matters */
        {"Sun, 06 Now 1994 08:49:37 GMT", RFC_EXAMPLE, -1}, /* no such month */
        {"Sun, 31 Feb 1994 08:49:37 GMT", RFC_EXAMPLE, -1}, /* no such day */
        {"Sun, 29 Feb 1900 08:49:37 GMT", RFC_EXAMPLE, -1}, /* 1900 is not leap */
        {"Sun, 00 Nov 1994 08:49:37 GMT", RFC_EXAMPLE, -1},
        {"Sun, 06 Nov 1994 24:00:00 GMT", RFC_EXAMPLE, -1},
        {"Sun, 06 Nov 1994 08:60:00 GMT", RFC_EXAMPLE, -1},
        {"Sun, 06 Nov 1994 08:49:37 GMT junk", RFC_EXAMPLE, -1},
        {"Sun, 06 Nov 94 08:49:37 GMT", RFC_EXAMPLE, -1}, /* mixed forms */
        {"Sun, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE, -1},
        {"Sunday, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE, -1},
        {"Sun Nov 6 08:49:37 1994", RFC_EXAMPLE, -1}, /* asctime needs " 6" */
        {"Sun Nov  6 08:49:37 1994 GMT", RFC_EXAMPLE, -1},
        {"Sun, 06 Nov 1994 08:49:3", RFC_EXAMPLE, -1}, /* truncated */
        {"Sun", RFC_EXAMPLE, -1},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = rose_retry_after_parse(cases[i].header, cases[i].now);
        T_OK(got == cases[i].want, "Retry-After '%s' → %.0f (got %.0f)",
             cases[i].header ? cases[i].header : "(null)", cases[i].want, got);
    }
}

static void
test_elevenlabs(void)
{
    uint64_t rng = 3;
    long hi = 0, d;
    int i;

    T_INT(rose_retry_elevenlabs_base_ms("too_many_concurrent_requests", 1000),
          ROSE_RETRY_CONCURRENCY_BASE_MS, "elevenlabs: concurrency limit → short base");
    T_INT(rose_retry_elevenlabs_base_ms("too_many_concurrent_requests", 100), 100,
          "elevenlabs: concurrency limit never lengthens a shorter base");
    T_INT(rose_retry_elevenlabs_base_ms("system_busy", 1000), 1000,
          "elevenlabs: system_busy → ordinary back-off");
    T_INT(rose_retry_elevenlabs_base_ms("quota_exceeded", 1000), 1000,
          "elevenlabs: other status → ordinary back-off");
    T_INT(rose_retry_elevenlabs_base_ms(NULL, 1000), 1000, "elevenlabs: no status → ordinary");
    for (i = 0; i < 1000; i++) {
        d = rose_retry_delay_ms(0,
                                rose_retry_elevenlabs_base_ms("too_many_concurrent_requests", 1000),
                                10000, -1, &rng);
        if (d > hi)
            hi = d;
    }
    T_OK(hi <= ROSE_RETRY_CONCURRENCY_BASE_MS && hi > 0,
         "elevenlabs: first wait after a concurrency 429 is at most %d ms (max seen %ld)",
         ROSE_RETRY_CONCURRENCY_BASE_MS, hi);
}

int
main(void)
{
    test_classification();
    test_backoff_bounds();
    test_backoff_seed();
    test_retry_after_honoured();
    test_fits();
    test_after_parse();
    test_elevenlabs();
    return t_done();
}
