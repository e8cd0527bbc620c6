/*
 * text.h — small text helpers: UTF-8 and UUID validation, time stamps,
 * ASCII case-insensitive comparison for header parsing, trimming.
 *
 * Everything here is locale-independent: headers and ids are ASCII by
 * protocol, and the worker must not behave differently under another LANG.
 */
#ifndef ROSE_TEXT_H
#define ROSE_TEXT_H

#include <stddef.h>

/* 1 if s[0..n) is well-formed UTF-8 (Unicode Table 3-7: no overlong forms,
 * no surrogates, nothing above U+10FFFF), else 0.  NUL bytes are valid; s may
 * be NULL if n is 0. */
int rose_utf8_valid(const char *s, size_t n);

/* Bytes in the well-formed UTF-8 character at s (n > 0 bytes available), or 0
 * if the bytes there are not one: for walking text a character at a time. */
size_t rose_utf8_char_len(const char *s, size_t n);

/* 1 if s is a hyphenated UUID, 8-4-4-4-12 hex digits of either case and
 * nothing after, else 0.  Any version or variant.  NULL gives 0. */
int rose_uuid_valid(const char *s);

/* Lowercase the hex digits of a UUID in place; s has passed rose_uuid_valid(),
 * so ids compare equal however the client spelled them. */
void rose_uuid_lower(char *s);

/* Write the time ms (milliseconds since the epoch, UTC) as RFC 3339 with
 * milliseconds, e.g. "2026-11-23T20:43:44.123Z".  Times before 1970 work;
 * out gets "" if the year does not fit in an int. */
void rose_time_iso(long long ms, char out[32]);

/* Wall-clock time in milliseconds since the epoch (CLOCK_REALTIME): for
 * stored time stamps. */
long long rose_now_ms(void);

/* Milliseconds on CLOCK_MONOTONIC from an arbitrary start: for durations and
 * deadlines, which must not jump when the wall clock is set. */
double rose_mono_ms(void);

/* 1 if a and b are equal ignoring ASCII case, else 0. */
int rose_strieq(const char *a, const char *b);

/* 1 if the first n characters of a and b are equal ignoring ASCII case (both
 * strings ending early at the same place also counts as equal), else 0;
 * like strncasecmp() == 0.  rose_strnieq(hdr, "bearer ", 7) tests a prefix. */
int rose_strnieq(const char *a, const char *b, size_t n);

/* Remove ASCII white space (space, \t, \n, \v, \f, \r) from both ends of s
 * in place, moving the text to the start of s.  Returns s. */
char *rose_trim(char *s);

#endif
