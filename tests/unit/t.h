/*
 * t.h — the unit-test harness: one C program per module, table-driven cases,
 * TAP-style lines ("ok N - what" / "not ok N - what") that tests/run counts.
 * main() ends with `return t_done();` (exit 1 if anything failed).  Also what
 * several tests need: a private temporary directory (t_mkdtemp, t_rmtree),
 * processes racing each other (t_race) and a reference cosine (t_cosine).
 * Header-only: everything is static inline, so a test pays nothing for what
 * it leaves unused.
 */
#ifndef ROSE_T_H
#define ROSE_T_H

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define T_RACE_MAX 64 /* processes one t_race() runs */

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

/*
 * Make the test's private directory: dir is a template ending in "XXXXXX"
 * ("/tmp/rose-test-store-XXXXXX"), which becomes the directory's name.
 * Returns 1, or says why on stderr and returns 0 (main then exits 2).
 * t_rmtree(dir) removes it at the end.
 */
static inline int
t_mkdtemp(char *dir)
{
    if (mkdtemp(dir) != NULL)
        return 1;
    perror("mkdtemp");
    return 0;
}

static inline int
t_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything under it, depth first, following no symlink. */
static inline void
t_rmtree(const char *dir)
{
    nftw(dir, t_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Run child(i, arg) for i in 0..n-1 (n <= T_RACE_MAX) in n processes at once:
 * each is forked and waits on a pipe until all exist, so they race; each
 * exits with child's return, 0..255 (exit(), not _exit(): the sanitizers'
 * leak check runs in the child too, so child frees what it can; stdout is
 * flushed before fork).  exits[i] gets child i's exit status, or -1 if it
 * was not forked or did not exit (said in a `#` line).  Returns 1, or 0
 * (nothing run) if n is out of range or the pipe fails.
 */
static inline int
t_race(int n, int (*child)(int i, void *arg), void *arg, int exits[])
{
    pid_t pids[T_RACE_MAX];
    int fds[2], i, status;
    char c;

    if (n < 1 || n > T_RACE_MAX || pipe(fds) != 0)
        return 0;
    fflush(stdout);
    fflush(stderr);
    for (i = 0; i < n; i++) {
        if ((pids[i] = fork()) == 0) {
            close(fds[1]);
            while (read(fds[0], &c, 1) < 0 && errno == EINTR)
                ;
            close(fds[0]);
            exit(child(i, arg));
        }
    }
    close(fds[0]);
    close(fds[1]); /* start: each child's read ends */
    for (i = 0; i < n; i++) {
        status = 0;
        if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status)) {
            exits[i] = WEXITSTATUS(status);
        } else {
            exits[i] = -1;
            printf("#   child %d: not forked, or did not exit (wait status %d)\n", i, status);
        }
    }
    return 1;
}

/* The cosine of a and b (dim floats each), in double: the reference a test
 * holds the library's float arithmetic to.  NaN if either is zero. */
static inline double
t_cosine(const float *a, const float *b, int dim)
{
    double ab = 0, aa = 0, bb = 0;
    int i;

    for (i = 0; i < dim; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

#endif
