/*
 * text.c — UTF-8 and UUID validation, time stamps, ASCII helpers (see text.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/text.h"

int
rose_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end;
    unsigned char c, lo, hi;
    size_t len, k;

    if (n == 0)
        return 1; /* before the arithmetic: NULL + 0 is undefined in C */
    end = p + n;
    while (p < end) {
        c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        /* Unicode Table 3-7: the lead byte fixes the length and the range of
         * the second byte; that range is what excludes overlong forms (C0,
         * C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points
         * above U+10FFFF (F4 90..BF, F5..FF). */
        lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return 0; /* stray continuation byte, C0, C1, F5..FF */
        }
        if ((size_t)(end - p) < len)
            return 0; /* truncated */
        if (p[1] < lo || p[1] > hi)
            return 0;
        for (k = 2; k < len; k++)
            if (p[k] < 0x80 || p[k] > 0xbf)
                return 0;
        p += len;
    }
    return 1;
}

static int
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

size_t
rose_utf8_char_len(const char *s, size_t n)
{
    unsigned char c;
    size_t len;

    if (n == 0)
        return 0;
    c = (unsigned char)s[0];
    if (c < 0x80)
        len = 1;
    else if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    return len <= n && rose_utf8_valid(s, len) ? len : 0;
}

int
rose_uuid_valid(const char *s)
{
    int i;

    if (s == NULL)
        return 0;
    /* The loop stops at the NUL of a short string: '\0' is neither '-' nor
     * hex, so we never read past it. */
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!is_hex(s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

void
rose_uuid_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            *s = (char)(*s - 'A' + 'a');
}

void
rose_time_iso(long long ms, char out[32])
{
    /* Floor division so that times before 1970 keep a 0..999 fraction. */
    long long sec = ms / 1000, frac = ms % 1000;
    time_t t;
    struct tm tm;

    if (frac < 0)
        sec--, frac += 1000;
    t = (time_t)sec;
    if (gmtime_r(&t, &tm) == NULL) {
        out[0] = '\0';
        return;
    }
    /* tm_year + 1900 can overflow an int, so widen.  The longest output, an
     * 11-character year ("-2147481748"), is 31 bytes + NUL: it always fits,
     * but checking keeps the compiler and the reader sure of it. */
    if (snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac) >= 32)
        out[0] = '\0';
}

long long
rose_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
rose_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
rose_strieq(const char *a, const char *b)
{
    for (; *a && lower((unsigned char)*a) == lower((unsigned char)*b); a++, b++)
        ;
    return lower((unsigned char)*a) == lower((unsigned char)*b);
}

int
rose_strnieq(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return 0;
        if (*a == '\0')
            return 1;
    }
    return 1;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

char *
rose_trim(char *s)
{
    size_t start = 0, end = strlen(s);

    while (start < end && is_space(s[start]))
        start++;
    while (end > start && is_space(s[end - 1]))
        end--;
    memmove(s, s + start, end - start);
    s[end - start] = '\0';
    return s;
}
