/*
 * job.c — command line, configuration, lock and summary of the cron jobs
 * (see job.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/text.h"
#include "ops/job.h"

/* Long-option values of the job-specific options: past every short option. */
#define OPT_BASE 256

void
rose_job_log(const struct rose_job *job, enum rose_log_level level, const char *event,
             struct json_object *fields)
{
    struct json_object *name;

    if (fields == NULL)
        fields = json_object_new_object();
    if (fields != NULL && (name = json_object_new_string(job->spec->name)) != NULL &&
        json_object_object_add(fields, "job", name) != 0)
        json_object_put(name);
    rose_log(level, event, fields);
}

static void
usage(const struct rose_job_spec *spec, FILE *f)
{
    const struct rose_job_opt *o;

    fprintf(f, "usage: %s [-c CONFIG] [-n] [-h]", spec->name);
    for (o = spec->opts; o != NULL && o->name != NULL; o++)
        fprintf(f, " [--%s %s]", o->name, o->arg);
    fprintf(f, "\n%s\n\n", spec->about);
    fprintf(f, "  -c CONFIG  the KEY=VALUE configuration file (default: $ROSE_CONF)\n"
               "  -n         dry run: report what would be done, change nothing\n"
               "  -h         this help\n");
    for (o = spec->opts; o != NULL && o->name != NULL; o++)
        fprintf(f, "  --%s %s  %s\n", o->name, o->arg, o->help);
}

/*
 * -c, -n, -h and the job's own long options.  Returns 1 to go on, 0 to stop
 * with job->status set.
 */
static int
parse_args(struct rose_job *job, int argc, char **argv, const char **conf)
{
    const struct rose_job_spec *spec = job->spec;
    struct option lo[3 + ROSE_JOB_OPTS_MAX + 1];
    size_t n = 0, i;
    int c;

    memset(lo, 0, sizeof(lo));
    lo[n++] = (struct option){"config", required_argument, NULL, 'c'};
    lo[n++] = (struct option){"dry-run", no_argument, NULL, 'n'};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    for (i = 0; spec->opts != NULL && spec->opts[i].name != NULL; i++) {
        if (i == ROSE_JOB_OPTS_MAX) {
            fprintf(stderr, "%s: too many job options (a bug)\n", spec->name);
            job->status = ROSE_JOB_EXIT_USAGE;
            return 0;
        }
        lo[n++] = (struct option){spec->opts[i].name, required_argument, NULL, OPT_BASE + (int)i};
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:nh", lo, NULL)) != -1) {
        if (c == 'c') {
            *conf = optarg;
        } else if (c == 'n') {
            job->dry_run = 1;
        } else if (c == 'h') {
            usage(spec, stdout);
            job->status = ROSE_JOB_EXIT_OK;
            return 0;
        } else if (c >= OPT_BASE && c < OPT_BASE + ROSE_JOB_OPTS_MAX) {
            job->opt[c - OPT_BASE] = optarg;
        } else {
            usage(spec, stderr); /* getopt has said what was wrong */
            job->status = ROSE_JOB_EXIT_USAGE;
            return 0;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", spec->name, argv[optind]);
        usage(spec, stderr);
        job->status = ROSE_JOB_EXIT_USAGE;
        return 0;
    }
    return 1;
}

/* Print "<name>: <text>; N errors" — the one line cron mails or logs. */
static void
summary(const struct rose_job *job, const char *text)
{
    printf("%s: %s%s; %ld error%s\n", job->spec->name, job->dry_run ? "dry run: " : "", text,
           job->errors, rose_job_plural(job->errors));
    fflush(stdout);
}

/* Is any option that an operator waits for given?  Then a held lock fails. */
static int
busy_fails(const struct rose_job *job)
{
    size_t i;

    for (i = 0; job->spec->opts != NULL && job->spec->opts[i].name != NULL; i++)
        if (job->opt[i] != NULL && job->spec->opts[i].busy_fails)
            return 1;
    return 0;
}

/*
 * Take DATA_DIR/.<name>.lock without waiting: a second run must not queue up
 * behind the first (cron would pile them up), it must leave.  flock() is
 * released by the kernel when the process dies, so a crashed run never leaves
 * a stale lock.  Returns 1 locked, 0 stop (job->status set).
 */
static int
take_lock(struct rose_job *job)
{
    char path[4096], text[4200];
    int fd;

    if (snprintf(path, sizeof(path), "%s/.%s.lock", job->cfg->data_dir, job->spec->name) >=
        (int)sizeof(path)) {
        fprintf(stderr, "%s: DATA_DIR is too long\n", job->spec->name);
        job->status = ROSE_JOB_EXIT_USAGE;
        return 0;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rose_logf(ROSE_LOG_ERROR, "job_lock", "%s: cannot open %s: %s", job->spec->name, path,
                  strerror(errno));
        rose_job_error(job);
        snprintf(text, sizeof(text), "cannot open the lock file %s (%s); nothing done", path,
                 strerror(errno));
        summary(job, text);
        job->status = ROSE_JOB_EXIT_FAIL;
        return 0;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        rose_logf(busy ? ROSE_LOG_WARN : ROSE_LOG_ERROR, "job_lock", "%s: %s: %s", job->spec->name,
                  path, busy ? "held by another run" : strerror(errno));
        if (!busy || busy_fails(job))
            rose_job_error(job);
        snprintf(text, sizeof(text), "%s (lock %s); nothing done",
                 busy ? "already running" : strerror(errno), path);
        summary(job, text);
        job->status = job->errors ? ROSE_JOB_EXIT_FAIL : ROSE_JOB_EXIT_OK;
        close(fd);
        return 0;
    }
    job->lock_fd = fd;
    return 1;
}

int
rose_job_start(struct rose_job *job, const struct rose_job_spec *spec, int argc, char **argv)
{
    const char *conf = NULL;
    char eb[512];
    struct json_object *f;

    memset(job, 0, sizeof(*job));
    job->spec = spec;
    job->lock_fd = -1;
    job->status = ROSE_JOB_EXIT_FAIL;
    job->start_ms = rose_now_ms();
    /* Everything a job creates (backups, lock files) holds or guards user
     * data: private to the service user, like DATA_DIR itself. */
    umask(077);

    if (!parse_args(job, argc, argv, &conf))
        return 0;
    if (rose_config_load(conf, &job->cfg, eb, sizeof(eb)) != ROSE_OK) {
        fprintf(stderr, "%s: %s\n", spec->name, eb);
        job->status = ROSE_JOB_EXIT_USAGE;
        return 0;
    }
    rose_log_set_level(job->cfg->log_level);
    if (!take_lock(job))
        return 0;
    if (job->dry_run && access(job->cfg->database_path, F_OK) != 0) {
        /* Opening would create it: a dry run changes nothing. */
        summary(job, "no database yet; nothing to do");
        job->status = ROSE_JOB_EXIT_OK;
        return 0;
    }
    if (rose_store_open(job->cfg->database_path, &job->st) != ROSE_OK) {
        /* rose_store_open() has logged why. */
        rose_job_error(job);
        summary(job, "cannot open the database; nothing done");
        job->status = ROSE_JOB_EXIT_FAIL;
        return 0;
    }
    f = json_object_new_object();
    if (f != NULL)
        json_object_object_add(f, "dry_run", json_object_new_boolean(job->dry_run));
    rose_job_log(job, ROSE_LOG_INFO, "job_start", f);
    job->status = ROSE_JOB_EXIT_OK;
    return 1;
}

enum rose_err
rose_job_begin(struct rose_job *job)
{
    return job->dry_run ? rose_store_exec(job->st, "BEGIN") : rose_store_begin(job->st);
}

enum rose_err
rose_job_commit(struct rose_job *job)
{
    enum rose_err err;

    if (job->dry_run) {
        rose_store_rollback(job->st);
        return ROSE_OK;
    }
    if ((err = rose_store_commit(job->st)) != ROSE_OK)
        rose_store_rollback(job->st);
    return err;
}

void
rose_job_error(struct rose_job *job)
{
    job->errors++;
}

int
rose_job_end(struct rose_job *job, const char *fmt, ...)
{
    char text[1024];
    struct json_object *f;
    va_list ap;
    int status = job->status;

    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        summary(job, text);
    }
    if (status == ROSE_JOB_EXIT_OK && job->errors > 0)
        status = ROSE_JOB_EXIT_FAIL;
    if (fmt != NULL) {
        f = json_object_new_object();
        if (f != NULL) {
            json_object_object_add(f, "dry_run", json_object_new_boolean(job->dry_run));
            json_object_object_add(f, "errors", json_object_new_int64(job->errors));
            json_object_object_add(f, "ms", json_object_new_int64(rose_now_ms() - job->start_ms));
            json_object_object_add(f, "status", json_object_new_int(status));
        }
        rose_job_log(job, status == ROSE_JOB_EXIT_OK ? ROSE_LOG_INFO : ROSE_LOG_ERROR, "job_done",
                     f);
    }
    rose_store_close(job->st);
    job->st = NULL;
    if (job->lock_fd >= 0)
        close(job->lock_fd); /* releases the flock */
    job->lock_fd = -1;
    rose_config_free(job->cfg);
    job->cfg = NULL;
    return status;
}

const char *
rose_job_plural(long long n)
{
    return n == 1 ? "" : "s";
}

void
rose_job_size(long long bytes, char out[32])
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t u = 0;

    if (bytes < 1024) {
        snprintf(out, 32, "%lld B", bytes);
        return;
    }
    v /= 1024;
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    snprintf(out, 32, "%.1f %s", v, units[u]);
}

void
rose_job_pause(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
