/*
 * rose-session-expire — daily: delete sessions idle (last_active) longer than
 * SESSION_RETENTION_DAYS with everything that belongs to them: messages,
 * checkpoints and idempotent answers (ON DELETE CASCADE) and their audio,
 * rows and files (docs/internals/cron.md).  Users stay, and with them their
 * long-term memories.
 *
 * ROSE_JOB_BATCH sessions per BEGIN IMMEDIATE transaction, so a worker
 * never waits long for the write lock; audio files are unlinked only after
 * the transaction that removed their rows has committed (a crash in between
 * leaves files without a row, which rose-audio-cleanup removes).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/text.h"
#include "ops/audiodir.h"
#include "ops/job.h"

/* Audio ids remembered per batch to unlink after the commit (37 bytes
 * each): ~100,000 files.  Past it the files are left to rose-audio-cleanup,
 * which removes files without a row. */
#define AUDIO_IDS_MAX (37 * 100000)

static const struct rose_job_spec spec = {
    "rose-session-expire",
    "Delete sessions idle longer than SESSION_RETENTION_DAYS with their messages, checkpoints "
    "and audio; users and their memories stay.",
    NULL,
};

struct counts {
    long sessions;
    long long messages;
    long long checkpoints;
    long audio_files;
    long long audio_bytes;
};

/* Statements used for every session of a batch. */
enum {
    Q_SESSIONS,
    Q_MESSAGES,
    Q_CHECKPOINTS,
    Q_AUDIO_IDS,
    Q_DELETE_AUDIO,
    Q_DELETE_SESSION,
    Q__MAX
};

/* Sessions are named by rowid within a transaction, so an id of any shape
 * is handled and never copied. */
static const char *const sql[Q__MAX] = {
    [Q_SESSIONS] = "SELECT rowid, last_active, id FROM sessions"
                   " WHERE last_active < ?1 AND (last_active, rowid) > (?2, ?3)"
                   " ORDER BY last_active, rowid LIMIT ?4",
    [Q_MESSAGES] = "SELECT count(*) FROM messages"
                   " WHERE session_id = (SELECT id FROM sessions WHERE rowid = ?1)",
    [Q_CHECKPOINTS] = "SELECT count(*) FROM checkpoints"
                      " WHERE thread_id = (SELECT id FROM sessions WHERE rowid = ?1)",
    [Q_AUDIO_IDS] = "SELECT id FROM audio"
                    " WHERE session_id = (SELECT id FROM sessions WHERE rowid = ?1)",
    [Q_DELETE_AUDIO] = "DELETE FROM audio"
                       " WHERE session_id = (SELECT id FROM sessions WHERE rowid = ?1)",
    [Q_DELETE_SESSION] = "DELETE FROM sessions WHERE rowid = ?1",
};

struct batch {
    sqlite3_stmt *q[Q__MAX];
    sqlite3_int64 rowid[ROSE_JOB_BATCH];
    long long last_active[ROSE_JOB_BATCH];
    int n;
    struct rose_buf audio_ids; /* NUL-terminated ids, one after another */
    int audio_ids_full;        /* some ids did not fit (logged once) */
};

static enum rose_err
step_fail(struct rose_job *job, int rc, const char *what)
{
    rose_logf(ROSE_LOG_ERROR, "db_error", "%s: %s", what, sqlite3_errmsg(rose_store_db(job->st)));
    return rose_store_err(rc);
}

/* Run a one-row count query for the session at rowid. */
static enum rose_err
count(struct rose_job *job, sqlite3_stmt *s, sqlite3_int64 rowid, long long *out)
{
    int rc;

    sqlite3_bind_int64(s, 1, rowid);
    if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
        sqlite3_reset(s);
        return step_fail(job, rc, "count");
    }
    *out += sqlite3_column_int64(s, 0);
    /* A statement left on a row keeps its read snapshot after COMMIT; the
     * next BEGIN IMMEDIATE would then fail with SQLITE_BUSY_SNAPSHOT. */
    sqlite3_reset(s);
    return ROSE_OK;
}

/* Run a statement without result rows for the session at rowid. */
static enum rose_err
run(struct rose_job *job, sqlite3_stmt *s, sqlite3_int64 rowid)
{
    int rc;

    sqlite3_bind_int64(s, 1, rowid);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? ROSE_OK : step_fail(job, rc, "delete");
}

/* Remember the audio ids of the session at rowid, for after the commit. */
static enum rose_err
collect_audio(struct rose_job *job, struct batch *b, sqlite3_int64 rowid)
{
    sqlite3_stmt *s = b->q[Q_AUDIO_IDS];
    const char *id;
    int rc;

    sqlite3_bind_int64(s, 1, rowid);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        id = (const char *)sqlite3_column_text(s, 0);
        if (id == NULL || !rose_audiodir_id_valid(id) || b->audio_ids_full)
            continue; /* no file can have such a name */
        if (rose_buf_append(&b->audio_ids, id, 37) != ROSE_OK) {
            b->audio_ids_full = 1;
            rose_job_log(job, ROSE_LOG_WARN, "audio_ids_full", NULL);
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? ROSE_OK : step_fail(job, rc, "audio ids");
}

/*
 * One batch inside the open transaction: read up to ROSE_JOB_BATCH expired
 * sessions after (after_t, after_rowid), count what goes with them, remember
 * their audio ids and (unless dry run) delete them.
 */
static enum rose_err
expire_batch(struct rose_job *job, struct batch *b, long long cutoff, long long after_t,
             sqlite3_int64 after_rowid, struct counts *c)
{
    sqlite3_stmt *s = b->q[Q_SESSIONS];
    enum rose_err err = ROSE_OK;
    const unsigned char *id;
    int rc = SQLITE_DONE, i;

    b->n = 0;
    sqlite3_bind_int64(s, 1, cutoff);
    sqlite3_bind_int64(s, 2, after_t);
    sqlite3_bind_int64(s, 3, after_rowid);
    sqlite3_bind_int(s, 4, ROSE_JOB_BATCH);
    while (b->n < ROSE_JOB_BATCH && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        b->rowid[b->n] = sqlite3_column_int64(s, 0);
        b->last_active[b->n] = sqlite3_column_int64(s, 1);
        id = sqlite3_column_text(s, 2);
        rose_logf(ROSE_LOG_DEBUG, "session_expire", "%s", id ? (const char *)id : "");
        b->n++;
    }
    sqlite3_reset(s); /* done reading before deleting from the same table */
    if (b->n < ROSE_JOB_BATCH && rc != SQLITE_DONE)
        return step_fail(job, rc, "read sessions");
    for (i = 0; i < b->n && err == ROSE_OK; i++) {
        err = count(job, b->q[Q_MESSAGES], b->rowid[i], &c->messages);
        if (err == ROSE_OK)
            err = count(job, b->q[Q_CHECKPOINTS], b->rowid[i], &c->checkpoints);
        if (err == ROSE_OK)
            err = collect_audio(job, b, b->rowid[i]);
        if (err == ROSE_OK && !job->dry_run)
            err = run(job, b->q[Q_DELETE_AUDIO], b->rowid[i]);
        if (err == ROSE_OK && !job->dry_run)
            err = run(job, b->q[Q_DELETE_SESSION], b->rowid[i]);
    }
    return err;
}

static enum rose_err
expire(struct rose_job *job, int dirfd, long long cutoff, struct counts *c)
{
    struct batch b;
    long long after_t = LLONG_MIN;
    sqlite3_int64 after_rowid = 0;
    enum rose_err err = ROSE_OK;
    size_t off;
    int i;

    memset(&b, 0, sizeof(b));
    rose_buf_init(&b.audio_ids, AUDIO_IDS_MAX);
    for (i = 0; i < Q__MAX && err == ROSE_OK; i++)
        err = rose_store_prepare(job->st, sql[i], &b.q[i]);
    while (err == ROSE_OK) {
        struct counts before = *c;
        long files = 0;
        long long bytes = 0;
        struct json_object *f;

        rose_buf_reset(&b.audio_ids);
        b.audio_ids_full = 0;
        if ((err = rose_job_begin(job)) != ROSE_OK)
            break;
        err = expire_batch(job, &b, cutoff, after_t, after_rowid, c);
        if (err == ROSE_OK)
            err = rose_job_commit(job);
        if (err != ROSE_OK) {
            rose_store_rollback(job->st);
            *c = before; /* nothing of this batch happened */
            break;
        }
        /* Committed: the rows are gone, now their files. */
        for (off = 0; off < b.audio_ids.len; off += 37)
            if (rose_audiodir_remove(dirfd, b.audio_ids.data + off, job->dry_run, &files, &bytes) !=
                ROSE_OK)
                rose_job_error(job);
        c->sessions += b.n;
        c->audio_files += files;
        c->audio_bytes += bytes;
        if (b.n == 0)
            break;
        if ((f = json_object_new_object()) != NULL) {
            json_object_object_add(f, "sessions", json_object_new_int(b.n));
            json_object_object_add(f, "messages",
                                   json_object_new_int64(c->messages - before.messages));
            json_object_object_add(f, "checkpoints",
                                   json_object_new_int64(c->checkpoints - before.checkpoints));
            json_object_object_add(f, "audio_files", json_object_new_int64(files));
            json_object_object_add(f, "audio_bytes", json_object_new_int64(bytes));
        }
        rose_job_log(job, ROSE_LOG_INFO, "sessions_expired", f);
        if (b.n < ROSE_JOB_BATCH)
            break;
        after_t = b.last_active[b.n - 1];
        after_rowid = b.rowid[b.n - 1];
        if (!job->dry_run)
            rose_job_pause(ROSE_JOB_BATCH_PAUSE_MS);
    }
    for (i = 0; i < Q__MAX; i++)
        sqlite3_finalize(b.q[i]);
    rose_buf_free(&b.audio_ids);
    return err;
}

int
main(int argc, char **argv)
{
    struct rose_job job;
    struct counts c = {0};
    enum rose_err err;
    long long cutoff;
    char size[32];
    int dirfd = -1;

    if (!rose_job_start(&job, &spec, argc, argv))
        return rose_job_end(&job, NULL);
    cutoff = rose_now_ms() - job.cfg->session_retention_days * 86400LL * 1000;
    err = rose_audiodir_open(job.cfg->data_dir, &dirfd);
    if (err == ROSE_OK)
        err = expire(&job, dirfd, cutoff, &c);
    if (err != ROSE_OK)
        rose_job_error(&job);
    if (dirfd >= 0)
        close(dirfd);
    rose_job_size(c.audio_bytes, size);
    return rose_job_end(&job,
                        "%s %ld session%s (%lld message%s, %lld checkpoint%s, %ld audio file%s, "
                        "%s)%s",
                        job.dry_run ? "would expire" : "expired", c.sessions,
                        rose_job_plural(c.sessions), c.messages, rose_job_plural(c.messages),
                        c.checkpoints, rose_job_plural(c.checkpoints), c.audio_files,
                        rose_job_plural(c.audio_files), size,
                        err != ROSE_OK ? "; stopped early" : "");
}
