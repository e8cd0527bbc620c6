/*
 * fcgi_startup — how long a worker takes from exec to its first answer.
 *
 *   fcgi_startup WORKER RUNS [fresh]
 *
 * With "fresh", $DATA_DIR/rose.db* is removed before each run, so every
 * start creates and migrates the database.
 * For each run: bind a fresh Unix socket, fork, exec WORKER with the socket
 * on fd 0 (the FastCGI convention web servers use), send one FastCGI request
 * for GET /api/v1/health and time until FCGI_END_REQUEST arrives.  The
 * environment (ROSE_CONF, DATA_DIR) is the caller's.  Prints min, median and
 * p90 in milliseconds; no pass/fail.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Append one FastCGI record. */
static size_t
record(unsigned char *p, int type, const void *data, size_t len)
{
    p[0] = 1;
    p[1] = (unsigned char)type;
    p[2] = 0;
    p[3] = 1; /* request id 1 */
    p[4] = (unsigned char)(len >> 8);
    p[5] = (unsigned char)len;
    p[6] = 0;
    p[7] = 0;
    memcpy(p + 8, data, len);
    return 8 + len;
}

static size_t
param(unsigned char *p, const char *k, const char *v)
{
    size_t kl = strlen(k), vl = strlen(v);

    p[0] = (unsigned char)kl;
    p[1] = (unsigned char)vl;
    memcpy(p + 2, k, kl);
    memcpy(p + 2 + kl, v, vl);
    return 2 + kl + vl;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
one_run(const char *worker, const char *sock)
{
    struct sockaddr_un sa;
    unsigned char req[1024], params[512], buf[8192];
    size_t n = 0, pl = 0;
    int lfd, cfd, done = 0;
    pid_t pid;
    double t0, t;
    static const unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0}; /* responder, no keep-conn */

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    unlink(sock);
    if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0) {
        perror("socket");
        exit(1);
    }
    t0 = now_ms();
    if ((pid = fork()) == 0) {
        dup2(lfd, 0);
        close(lfd);
        execl(worker, worker, (char *)NULL);
        _exit(127);
    }
    close(lfd);
    pl += param(params + pl, "REQUEST_METHOD", "GET");
    pl += param(params + pl, "REQUEST_URI", "/api/v1/health");
    pl += param(params + pl, "SERVER_PROTOCOL", "HTTP/1.1");
    n += record(req + n, 1, begin, sizeof(begin));
    n += record(req + n, 4, params, pl);
    n += record(req + n, 4, "", 0);
    n += record(req + n, 5, "", 0);
    if ((cfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
        connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        write(cfd, req, n) != (ssize_t)n) {
        perror("connect");
        exit(1);
    }
    /* Read records until FCGI_END_REQUEST (type 3). */
    while (!done) {
        unsigned char h[8];
        ssize_t got = 0, r;
        size_t len;
        while (got < 8 && (r = read(cfd, h + got, (size_t)(8 - got))) > 0)
            got += r;
        if (got < 8)
            break;
        len = ((size_t)h[4] << 8 | h[5]) + h[6];
        while (len > 0 && (r = read(cfd, buf, len < sizeof(buf) ? len : sizeof(buf))) > 0)
            len -= (size_t)r;
        done = h[1] == 3;
    }
    t = now_ms() - t0;
    close(cfd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(sock);
    if (!done) {
        fprintf(stderr, "no complete answer from %s\n", worker);
        exit(1);
    }
    return t;
}

int
main(int argc, char **argv)
{
    int i, runs;
    double *ms;
    char sock[108];

    int fresh = argc == 4 && strcmp(argv[3], "fresh") == 0;
    const char *data = getenv("DATA_DIR");
    char db[4096];

    if (argc < 3 || (runs = atoi(argv[2])) < 1 || (fresh && data == NULL)) {
        fprintf(stderr, "usage: DATA_DIR=... %s WORKER RUNS [fresh]\n", argv[0]);
        return 2;
    }
    if ((ms = calloc((size_t)runs, sizeof(*ms))) == NULL)
        return 1;
    snprintf(sock, sizeof(sock), "/tmp/rose-bench-%ld.sock", (long)getpid());
    for (i = 0; i < runs; i++) {
        if (fresh) {
            const char *sfx[] = {"", "-wal", "-shm"};
            size_t k;
            for (k = 0; k < 3; k++) {
                snprintf(db, sizeof(db), "%s/rose.db%s", data, sfx[k]);
                unlink(db);
            }
        }
        ms[i] = one_run(argv[1], sock);
    }
    qsort(ms, (size_t)runs, sizeof(*ms), cmp);
    printf("worker start-up to first answer, %s (%d runs): min %.2f ms, median %.2f ms, "
           "p90 %.2f ms\n",
           fresh ? "new database (create + migrate)" : "existing database", runs, ms[0],
           ms[runs / 2], ms[(runs * 9) / 10]);
    free(ms);
    return 0;
}
