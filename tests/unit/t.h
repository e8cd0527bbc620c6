/*
 * t.h — the unit-test harness: one C program per module, table-driven cases,
 * TAP-style lines ("ok N - what" / "not ok N - what") that tests/run counts.
 * main() ends with `return t_done();` (exit 1 if anything failed).
 */
#ifndef ROSE_T_H
#define ROSE_T_H

#include <stdio.h>
#include <string.h>

static int t_n, t_failed;

#define T_OK(cond, ...)                                                        \
    do {                                                                       \
        int t_c_ = (cond) ? 1 : 0;                                             \
        t_n++;                                                                 \
        if (!t_c_)                                                             \
            t_failed++;                                                        \
        printf("%sok %d - ", t_c_ ? "" : "not ", t_n);                         \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
        if (!t_c_)                                                             \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
    } while (0)

#define T_STR(got, want, ...)                                                  \
    do {                                                                       \
        const char *t_g_ = (got), *t_w_ = (want);                              \
        T_OK(t_g_ != NULL && t_w_ != NULL && strcmp(t_g_, t_w_) == 0,          \
             __VA_ARGS__);                                                     \
        if (!(t_g_ != NULL && t_w_ != NULL && strcmp(t_g_, t_w_) == 0))        \
            printf("#   got '%s', want '%s'\n", t_g_ ? t_g_ : "(null)",        \
                   t_w_ ? t_w_ : "(null)");                                    \
    } while (0)

#define T_INT(got, want, ...)                                                  \
    do {                                                                       \
        long long t_g_ = (long long)(got), t_w_ = (long long)(want);           \
        T_OK(t_g_ == t_w_, __VA_ARGS__);                                       \
        if (t_g_ != t_w_)                                                      \
            printf("#   got %lld, want %lld\n", t_g_, t_w_);                   \
    } while (0)

static inline int
t_done(void)
{
    printf("# %d tests, %d failed\n", t_n, t_failed);
    return t_failed ? 1 : 0;
}

#endif
