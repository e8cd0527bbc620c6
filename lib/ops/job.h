/*
 * job.h — what every maintenance job in cron/ shares: its command line, the
 * configuration, a lock so two runs of one job never overlap, the store, and
 * the one summary line it ends with (docs/internals/cron.md).
 *
 *   rose-<job> [-c CONFIG] [-n] [-h] [job options]
 *
 * -c names the KEY=VALUE file (else ROSE_CONF, as for the workers); -n is a
 * dry run: the job reports what it would do and changes nothing.
 *
 * A job's main() is:
 *
 *     struct rose_job job;
 *     if (!rose_job_start(&job, &spec, argc, argv))
 *         return rose_job_end(&job, NULL);
 *     ... work, calling rose_job_error() for each failure it logged ...
 *     return rose_job_end(&job, "deleted %ld files", n);
 *
 * Exit status: 0 success (also -h, and a scheduled run that finds another run
 * holding the lock), 1 any failure, 2 bad arguments or configuration.
 */
#ifndef ROSE_JOB_H
#define ROSE_JOB_H

#include "core/config.h"
#include "core/limits.h"
#include "core/log.h"
#include "store/store.h"

/* Rows (sessions, audio items) a job changes in one BEGIN IMMEDIATE
 * transaction: small enough that a worker waiting for the write lock waits
 * milliseconds, not seconds; large enough that a big backlog still clears. */
#define ROSE_JOB_BATCH 100

/* Pause between two write transactions, so workers whose busy handler is
 * sleeping get the lock before the job takes it again. */
#define ROSE_JOB_BATCH_PAUSE_MS 20

/* Exit statuses (see the top of this file). */
#define ROSE_JOB_EXIT_OK 0
#define ROSE_JOB_EXIT_FAIL 1
#define ROSE_JOB_EXIT_USAGE 2

/* A long option with one argument, e.g. {"restore", "FILE", "restore ...", 1}. */
struct rose_job_opt {
    const char *name; /* without the dashes */
    const char *arg;  /* the argument's name in -h */
    const char *help; /* one line for -h */
    int busy_fails;   /* 1: an operator waits for this one, so a held lock
                       * is a failure (exit 1), not a skipped run (exit 0) */
};

struct rose_job_spec {
    const char *name;                /* "rose-audio-cleanup": logs, lock file, summary */
    const char *about;               /* one line for -h */
    const struct rose_job_opt *opts; /* NULL, or ended by {NULL} */
};

struct rose_job {
    const struct rose_job_spec *spec;
    struct rose_config *cfg;
    struct rose_store *st;
    int dry_run;
    const char *opt[ROSE_JOB_OPTS_MAX]; /* argument of spec->opts[i], or NULL */
    long errors;                        /* failures so far; any makes the exit status 1 */
    int status;                         /* exit status so far (set by rose_job_start()) */
    int lock_fd;
    long long start_ms;
};

/*
 * Prepare a run: parse argv, load the configuration, set the log level and a
 * private umask (backups hold user data), take the job's lock
 * (DATA_DIR/.<name>.lock, flock, never waiting) and open the store.
 * Returns 1 when the job should run.  Returns 0 when it must do nothing and
 * main() should return rose_job_end(job, NULL): after -h (status 0), bad
 * arguments or configuration (message on stderr, status 2), the lock held by
 * another run (summary "already running", status 0 or, with a busy_fails
 * option, 1), a dry run with no database file (opening would create it;
 * status 0), or no lock file or store (logged, status 1).  Either way call
 * rose_job_end() exactly once.  job->opt[] point into argv.
 */
int rose_job_start(struct rose_job *job, const struct rose_job_spec *spec, int argc, char **argv);

/*
 * Open the transaction of one batch: BEGIN IMMEDIATE (writers never upgrade a
 * read), or in a dry run a plain BEGIN, which takes no write lock so a dry
 * run never makes a worker wait.  Logs on failure.
 */
enum rose_err rose_job_begin(struct rose_job *job);

/* End it: COMMIT, or ROLLBACK in a dry run.  On failure the transaction is
 * rolled back (logged). */
enum rose_err rose_job_commit(struct rose_job *job);

/* Count one failure the caller has logged; the exit status becomes 1. */
void rose_job_error(struct rose_job *job);

/*
 * Finish: print the summary line "<name>: [dry run: ]<fmt...>; N errors" on
 * stdout and log a "job_done" line with the duration (neither when fmt is
 * NULL: after rose_job_start() said stop, it has said what there was to
 * say), then release the lock, close the store and free the configuration.
 * Returns the exit status for main(): job->status, or 1 if any error was
 * counted.
 */
int rose_job_end(struct rose_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "s" when n is not 1, for summary lines: "%ld file%s", n, rose_job_plural(n). */
const char *rose_job_plural(long long n);

/* A size for people: "512 B", "3.4 KiB", "1.2 MiB", "2.0 GiB". */
void rose_job_size(long long bytes, char out[32]);

/* Sleep ms milliseconds (between batches). */
void rose_job_pause(long ms);

/* rose_log() with "job": <name> added; fields (may be NULL) is adopted. */
void rose_job_log(const struct rose_job *job, enum rose_log_level level, const char *event,
                  struct json_object *fields);

#endif
