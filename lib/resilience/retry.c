/*
 * retry.c — retry classification, back-off and Retry-After (see retry.h).
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "resilience/retry.h"

int
rose_retry_retryable(int http_status, enum rose_err err)
{
    if (http_status == 0)
        return err == ROSE_ERR_IO || err == ROSE_ERR_TIMEOUT || err == ROSE_ERR_UNAVAILABLE;
    return http_status == 408 || http_status == 429 || http_status == 498 ||
           (http_status >= 500 && http_status <= 599);
}

/* xorshift64 (Marsaglia): tiny, fast, and good enough to spread retries. */
static uint64_t
next_random(uint64_t *state)
{
    uint64_t x = *state != 0 ? *state : 0x9e3779b97f4a7c15u;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

long
rose_retry_delay_ms(int attempt, long base_ms, long max_ms, double retry_after_s, uint64_t *rng)
{
    unsigned long long cap;
    int i;

    if (retry_after_s >= 0) {
        double ms = ceil(retry_after_s * 1000.0);
        return ms >= (double)LONG_MAX ? LONG_MAX : (long)ms;
    }
    if (base_ms <= 0 || max_ms <= 0)
        return 0;
    /* Double until the cap is reached, so a large attempt cannot overflow. */
    cap = (unsigned long long)base_ms;
    for (i = 0; i < attempt && cap < (unsigned long long)max_ms; i++)
        cap *= 2;
    if (cap > (unsigned long long)max_ms)
        cap = (unsigned long long)max_ms;
    /* The modulo bias is below 2^-40 for any cap a delay can have. */
    return (long)(next_random(rng) % (cap + 1));
}

int
rose_retry_fits(long delay_ms, long long deadline_ms, long long now_ms)
{
    /* Subtract rather than add: a saturated delay must not overflow. */
    return delay_ms >= 0 && delay_ms < deadline_ms - now_ms;
}

long
rose_retry_elevenlabs_base_ms(const char *status, long base_ms)
{
    if (status != NULL && strcmp(status, "too_many_concurrent_requests") == 0)
        return base_ms < ROSE_RETRY_CONCURRENCY_BASE_MS ? base_ms : ROSE_RETRY_CONCURRENCY_BASE_MS;
    return base_ms;
}

/* ---- HTTP-date (RFC 9110 §5.6.7) ------------------------------------------------- */

static const char *const day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const long_day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                             "Friday", "Saturday", "Sunday"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/*
 * A cursor over the header.  Each step consumes what it matches or clears
 * ok; once ok is 0 every later step fails too, so a parser is a straight
 * sequence of steps with one check at the end.
 */
struct scan {
    const char *p;
    int ok;
};

static void
literal(struct scan *s, const char *lit)
{
    size_t n = strlen(lit);

    if (s->ok && strncmp(s->p, lit, n) == 0)
        s->p += n;
    else
        s->ok = 0;
}

/* Exactly n digits (HTTP-date fields are fixed width). */
static int
digits(struct scan *s, int n)
{
    int v = 0, i;

    for (i = 0; s->ok && i < n; i++, s->p++) {
        if (*s->p < '0' || *s->p > '9')
            s->ok = 0;
        else
            v = v * 10 + (*s->p - '0');
    }
    return v;
}

/* One of count names (case-sensitive, as RFC 9110 says); its index. */
static int
name(struct scan *s, const char *const *names, int count)
{
    int i;

    for (i = 0; s->ok && i < count; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(s->p, names[i], n) == 0) {
            s->p += n;
            return i;
        }
    }
    s->ok = 0;
    return -1;
}

/* "08:49:37" */
static void
time_of_day(struct scan *s, struct tm *tm)
{
    tm->tm_hour = digits(s, 2);
    literal(s, ":");
    tm->tm_min = digits(s, 2);
    literal(s, ":");
    tm->tm_sec = digits(s, 2);
}

static int
leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The fields are in range and the day exists in that month (no 31 Feb). */
static int
valid_tm(const struct tm *tm)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = tm->tm_year + 1900;
    int mdays = days[tm->tm_mon] + (tm->tm_mon == 1 && leap_year(year));

    /* second 60: a leap second, which the grammar allows. */
    return tm->tm_mday >= 1 && tm->tm_mday <= mdays && tm->tm_hour <= 23 && tm->tm_min <= 59 &&
           tm->tm_sec <= 60;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
imf_fixdate(const char *p, struct tm *tm, const char **end)
{
    struct scan s = {p, 1};

    name(&s, day_names, 7);
    literal(&s, ", ");
    tm->tm_mday = digits(&s, 2);
    literal(&s, " ");
    tm->tm_mon = name(&s, month_names, 12);
    literal(&s, " ");
    tm->tm_year = digits(&s, 4) - 1900;
    literal(&s, " ");
    time_of_day(&s, tm);
    literal(&s, " GMT");
    *end = s.p;
    return s.ok;
}

/*
 * Obsolete RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT".  A two-digit year
 * more than 50 years in the future means the most recent past year with
 * those digits (RFC 9110 §5.6.7).
 */
static int
rfc850_date(const char *p, struct tm *tm, time_t now, const char **end)
{
    struct scan s = {p, 1};
    struct tm now_tm;
    int yy, year, this_year;

    name(&s, long_day_names, 7);
    literal(&s, ", ");
    tm->tm_mday = digits(&s, 2);
    literal(&s, "-");
    tm->tm_mon = name(&s, month_names, 12);
    literal(&s, "-");
    yy = digits(&s, 2);
    literal(&s, " ");
    time_of_day(&s, tm);
    literal(&s, " GMT");
    *end = s.p;
    if (!s.ok || gmtime_r(&now, &now_tm) == NULL)
        return 0;
    this_year = now_tm.tm_year + 1900;
    year = this_year - this_year % 100 + yy;
    if (year > this_year + 50)
        year -= 100;
    tm->tm_year = year - 1900;
    return 1;
}

/* asctime: "Sun Nov  6 08:49:37 1994" (day as " 6" or "16"). */
static int
asctime_date(const char *p, struct tm *tm, const char **end)
{
    struct scan s = {p, 1};

    name(&s, day_names, 7);
    literal(&s, " ");
    tm->tm_mon = name(&s, month_names, 12);
    literal(&s, " ");
    if (s.ok && *s.p == ' ') {
        s.p++;
        tm->tm_mday = digits(&s, 1);
    } else {
        tm->tm_mday = digits(&s, 2);
    }
    literal(&s, " ");
    time_of_day(&s, tm);
    literal(&s, " ");
    tm->tm_year = digits(&s, 4) - 1900;
    *end = s.p;
    return s.ok;
}

static const char *
skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

double
rose_retry_after_parse(const char *header, time_t now)
{
    struct tm tm;
    const char *p, *end = NULL;
    double seconds = 0;
    time_t when;

    if (header == NULL)
        return -1;
    p = skip_ows(header);
    if (*p >= '0' && *p <= '9') {
        /* delta-seconds = 1*DIGIT; a double cannot overflow here and a
         * huge value simply means "not within this turn". */
        for (end = p; *end >= '0' && *end <= '9'; end++)
            seconds = seconds * 10 + (*end - '0');
        return *skip_ows(end) == '\0' ? seconds : -1;
    }
    memset(&tm, 0, sizeof(tm));
    if (!imf_fixdate(p, &tm, &end) && !rfc850_date(p, &tm, now, &end) &&
        !asctime_date(p, &tm, &end))
        return -1;
    if (*skip_ows(end) != '\0' || !valid_tm(&tm))
        return -1;
    if ((when = timegm(&tm)) == (time_t)-1)
        return -1;
    return when > now ? difftime(when, now) : 0;
}
