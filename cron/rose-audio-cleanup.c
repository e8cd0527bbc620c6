/*
 * rose-audio-cleanup — hourly: delete audio older than AUDIO_RETENTION_HOURS
 * and reconcile the audio folder with its index (docs/internals/cron.md).
 *
 * Three passes, each safe while workers store new audio:
 *   1. expired: rows older than the retention, in batches of ROSE_JOB_BATCH
 *      per BEGIN IMMEDIATE; their files are unlinked after the commit, so a
 *      crash in between leaves only files without a row, which pass 3 of
 *      this or the next run removes.
 *   2. rows without file: rows older than GRACE_MS whose file is gone.
 *   3. orphan files: server-made names older than GRACE_MS with no row.
 * The grace period covers the moment between a worker writing its file and
 * committing its row (in either order): a fresh item is never judged.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/text.h"
#include "ops/audiodir.h"
#include "ops/job.h"

/* How old an item must be before a missing file or row counts as an
 * inconsistency: far longer than any request takes to store one. */
#define GRACE_MS (10 * 60 * 1000LL)

static const struct rose_job_spec spec = {
    "rose-audio-cleanup",
    "Delete audio older than AUDIO_RETENTION_HOURS; remove files without a row and rows "
    "without a file.",
    NULL,
};

struct counts {
    long expired_files;
    long long expired_bytes;
    long orphans;
    long long orphan_bytes;
    long rows_without_file;
};

/* One row of a batch. */
struct row {
    sqlite3_int64 rowid;
    long long created_at;
    char id[37];  /* "" when the stored id is not a server-made one */
    int has_file; /* pass 2 only */
};

/*
 * Read the next batch of audio rows with lo <= created_at < hi that come
 * after *after in (created_at, rowid) order.  Paging by key rather than
 * "delete the first 100" also works in a dry run, which deletes nothing.
 */
static enum rose_err
read_batch(struct rose_job *job, long long lo, long long hi, const struct row *after,
           struct row rows[ROSE_JOB_BATCH], int *n)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    *n = 0;
    err = rose_store_prepare(job->st,
                             "SELECT rowid, created_at, id FROM audio"
                             " WHERE created_at >= ?1 AND created_at < ?2"
                             "   AND (created_at, rowid) > (?3, ?4)"
                             " ORDER BY created_at, rowid LIMIT ?5",
                             &s);
    if (err != ROSE_OK)
        return err;
    sqlite3_bind_int64(s, 1, lo);
    sqlite3_bind_int64(s, 2, hi);
    sqlite3_bind_int64(s, 3, after->created_at);
    sqlite3_bind_int64(s, 4, after->rowid);
    sqlite3_bind_int(s, 5, ROSE_JOB_BATCH);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < ROSE_JOB_BATCH) {
        struct row *r = &rows[(*n)++];
        const char *id = (const char *)sqlite3_column_text(s, 2);
        r->rowid = sqlite3_column_int64(s, 0);
        r->created_at = sqlite3_column_int64(s, 1);
        r->id[0] = '\0';
        r->has_file = 0;
        if (id != NULL && rose_audiodir_id_valid(id))
            memcpy(r->id, id, sizeof(r->id));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rose_logf(ROSE_LOG_ERROR, "db_error", "read audio rows: %s",
                  sqlite3_errmsg(rose_store_db(job->st)));
        err = rose_store_err(rc);
    }
    sqlite3_finalize(s);
    return err;
}

/* Delete the rows of rows[] with want(row) inside the open transaction. */
static enum rose_err
delete_rows(struct rose_job *job, const struct row rows[], int n, int only_without_file)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int i, rc;

    if (job->dry_run)
        return ROSE_OK;
    if ((err = rose_store_prepare(job->st, "DELETE FROM audio WHERE rowid = ?1", &s)) != ROSE_OK)
        return err;
    for (i = 0; i < n && err == ROSE_OK; i++) {
        if (only_without_file && rows[i].has_file)
            continue;
        sqlite3_bind_int64(s, 1, rows[i].rowid);
        if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
            rose_logf(ROSE_LOG_ERROR, "db_error", "delete audio row: %s",
                      sqlite3_errmsg(rose_store_db(job->st)));
            err = rose_store_err(rc);
        }
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return err;
}

/* Log one batch: counts only. */
static void
log_batch(struct rose_job *job, const char *event, int rows, long files, long long bytes)
{
    struct json_object *f = json_object_new_object();

    if (f != NULL) {
        json_object_object_add(f, "rows", json_object_new_int(rows));
        json_object_object_add(f, "files", json_object_new_int64(files));
        json_object_object_add(f, "bytes", json_object_new_int64(bytes));
    }
    rose_job_log(job, ROSE_LOG_INFO, event, f);
}

/* Pass 1: rows older than cutoff, then their files. */
static enum rose_err
expire(struct rose_job *job, int dirfd, long long cutoff, struct counts *c)
{
    struct row rows[ROSE_JOB_BATCH], after = {0, LLONG_MIN, "", 0};
    enum rose_err err;
    int n, i;

    do {
        long files = 0;
        long long bytes = 0;

        if ((err = rose_job_begin(job)) != ROSE_OK)
            return err;
        if ((err = read_batch(job, LLONG_MIN, cutoff, &after, rows, &n)) == ROSE_OK)
            err = delete_rows(job, rows, n, 0);
        if (err == ROSE_OK)
            err = rose_job_commit(job);
        else
            rose_store_rollback(job->st);
        if (err != ROSE_OK)
            return err;
        /* Committed: now the files.  A file that cannot go stays without a
         * row and is retried as an orphan. */
        for (i = 0; i < n; i++) {
            long f = 0;
            if (rose_audiodir_remove(dirfd, rows[i].id, job->dry_run, &f, &bytes) != ROSE_OK)
                rose_job_error(job);
            if (f == 0)
                c->rows_without_file++;
            files += f;
        }
        c->expired_files += files;
        c->expired_bytes += bytes;
        if (n > 0) {
            log_batch(job, "audio_expired", n, files, bytes);
            after = rows[n - 1];
            if (!job->dry_run)
                rose_job_pause(ROSE_JOB_BATCH_PAUSE_MS);
        }
    } while (n == ROSE_JOB_BATCH);
    return ROSE_OK;
}

/* Pass 2: rows in [cutoff, settled) whose file is missing. */
static enum rose_err
rows_without_file(struct rose_job *job, int dirfd, long long cutoff, long long settled,
                  struct counts *c)
{
    struct row rows[ROSE_JOB_BATCH], after = {0, LLONG_MIN, "", 0};
    enum rose_err err;
    int n, i, missing;

    do {
        missing = 0;
        /* The files are checked inside the transaction, so the rows cannot
         * change between the check and the delete. */
        if ((err = rose_job_begin(job)) != ROSE_OK)
            return err;
        if ((err = read_batch(job, cutoff, settled, &after, rows, &n)) == ROSE_OK) {
            for (i = 0; i < n; i++) {
                rows[i].has_file = rows[i].id[0] && rose_audiodir_has_file(dirfd, rows[i].id);
                if (!rows[i].has_file) {
                    missing++;
                    rose_logf(ROSE_LOG_INFO, "audio_row_without_file", "%s",
                              rows[i].id[0] ? rows[i].id : "(invalid id)");
                }
            }
            err = delete_rows(job, rows, n, 1);
        }
        if (err == ROSE_OK)
            err = rose_job_commit(job);
        else
            rose_store_rollback(job->st);
        if (err != ROSE_OK)
            return err;
        c->rows_without_file += missing;
        if (n > 0)
            after = rows[n - 1];
        if (missing > 0 && !job->dry_run)
            rose_job_pause(ROSE_JOB_BATCH_PAUSE_MS);
    } while (n == ROSE_JOB_BATCH);
    return ROSE_OK;
}

/* 1 if the audio table has a row for id now; -1 on a database error
 * (logged). */
static int
has_row(struct rose_job *job, sqlite3_stmt *s, const char *id)
{
    int rc;

    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    /* Reset at once: a statement left on its row keeps its read snapshot,
     * and the next look-up would not see rows committed since. */
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    rose_logf(ROSE_LOG_ERROR, "db_error", "look up audio row: %s",
              sqlite3_errmsg(rose_store_db(job->st)));
    return -1;
}

/* Pass 3: files with a server-made name, older than settled, with no row. */
static enum rose_err
orphans(struct rose_job *job, int dirfd, long long settled, struct counts *c)
{
    sqlite3_stmt *s = NULL;
    DIR *d = NULL;
    struct dirent *e;
    struct stat st;
    char id[37];
    enum rose_err err;
    int fd, removed, found;

    if (dirfd < 0)
        return ROSE_OK;
    if ((err = rose_store_prepare(job->st, "SELECT 1 FROM audio WHERE id = ?1", &s)) != ROSE_OK)
        return err;
    if ((fd = dup(dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        rose_logf(ROSE_LOG_ERROR, "audio_dir", "cannot read the audio folder");
        err = ROSE_ERR_IO;
        goto out;
    }
    while ((e = readdir(d)) != NULL) {
        if (!rose_audiodir_name_id(e->d_name, id))
            continue; /* not ours: never touched */
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue; /* vanished, or a link / folder: never followed */
        if ((long long)st.st_mtime * 1000 >= settled)
            continue; /* its row may not be committed yet */
        if ((found = has_row(job, s, id)) < 0) {
            err = ROSE_ERR_DB;
            goto out;
        }
        if (found)
            continue;
        if (rose_audiodir_remove_name(dirfd, e->d_name, job->dry_run, &removed, &c->orphan_bytes) !=
            ROSE_OK) {
            rose_job_error(job);
            continue;
        }
        if (removed) {
            c->orphans++;
            rose_logf(ROSE_LOG_INFO, "audio_orphan", "%s", id);
        }
    }
out:
    if (d != NULL)
        closedir(d);
    sqlite3_finalize(s);
    return err;
}

int
main(int argc, char **argv)
{
    struct rose_job job;
    struct counts c = {0};
    enum rose_err err;
    long long now, cutoff, settled;
    char eb[32], ob[32];
    int dirfd = -1;

    if (!rose_job_start(&job, &spec, argc, argv))
        return rose_job_end(&job, NULL);
    now = rose_now_ms();
    cutoff = now - job.cfg->audio_retention_hours * 3600LL * 1000;
    settled = now - GRACE_MS; /* later than cutoff: the retention is at least an hour */

    err = rose_audiodir_open(job.cfg->data_dir, &dirfd);
    if (err == ROSE_OK)
        err = expire(&job, dirfd, cutoff, &c);
    if (err == ROSE_OK)
        err = rows_without_file(&job, dirfd, cutoff, settled, &c);
    if (err == ROSE_OK)
        err = orphans(&job, dirfd, settled, &c);
    if (err != ROSE_OK)
        rose_job_error(&job);
    if (dirfd >= 0)
        close(dirfd);

    rose_job_size(c.expired_bytes, eb);
    rose_job_size(c.orphan_bytes, ob);
    return rose_job_end(&job,
                        "%s %ld expired file%s (%s), %ld orphan file%s (%s), %ld row%s "
                        "without file%s",
                        job.dry_run ? "would delete" : "deleted", c.expired_files,
                        rose_job_plural(c.expired_files), eb, c.orphans, rose_job_plural(c.orphans),
                        ob, c.rows_without_file, rose_job_plural(c.rows_without_file),
                        err != ROSE_OK ? "; stopped early" : "");
}
