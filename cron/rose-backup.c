/*
 * rose-backup — daily: a consistent copy of the live database made with
 * SQLite's online backup API, never a file copy (a copy of a WAL database
 * taken while workers write can be torn, or miss what is still in the -wal
 * file).  docs/internals/cron.md has the guarantees and the restore
 * procedure.
 *
 *   rose-backup [-c CONFIG] [-n]            BACKUP_DIR/rose-YYYYmmdd-HHMMSS.db
 *   rose-backup [-c CONFIG] [-n] --restore FILE
 *
 * A backup is built under a temporary name in BACKUP_DIR, switched to a
 * rollback journal (one self-contained file), checked with PRAGMA
 * integrity_check, fsynced and only then renamed to its final name: a file
 * with a final name is always complete and checked.  Then only the newest
 * BACKUP_KEEP files with that name pattern are kept.  Times in names are UTC,
 * so names sort in time order across daylight-saving changes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/text.h"
#include "ops/job.h"

/* Pages copied per sqlite3_backup_step(): 1 MiB at the default page size.
 * Steps keep each call short and let a busy lock be retried without
 * starting the copy over. */
#define STEP_PAGES 256

/* How often a step that found a lock busy (after the connection's own
 * busy timeout) is retried, BUSY_PAUSE_MS apart. */
#define BUSY_RETRIES 20
#define BUSY_PAUSE_MS 250

/* "rose-YYYYmmdd-HHMMSS.db" and its NUL. */
#define NAME_LEN 24

/* Backup files one prune looks at; more in BACKUP_DIR is an error. */
#define PRUNE_MAX 10000

enum { OPT_RESTORE };

static const struct rose_job_opt opts[] = {
    [OPT_RESTORE] = {"restore", "FILE",
                     "check FILE, keep the current database aside, restore FILE into it", 1},
    {NULL, NULL, NULL, 0},
};

static const struct rose_job_spec spec = {
    "rose-backup",
    "Back up the database with SQLite's online backup API to BACKUP_DIR and keep the newest "
    "BACKUP_KEEP; or restore one.",
    opts,
};

/* The current UTC time as YYYYmmdd-HHMMSS. */
static void
stamp(char out[16])
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y%m%d-%H%M%S", &tm);
}

/* 1 if name is rose-YYYYmmdd-HHMMSS.db (digits only where digits go). */
static int
backup_name(const char *name)
{
    static const char pat[] = "rose-########-######.db";
    size_t i;

    if (strlen(name) != sizeof(pat) - 1)
        return 0;
    for (i = 0; pat[i]; i++)
        if (pat[i] == '#' ? name[i] < '0' || name[i] > '9' : name[i] != pat[i])
            return 0;
    return 1;
}

/* 1 if name is what a crashed run may have left: .rose-...db.tmp and the
 * files SQLite keeps next to it. */
static int
stale_name(const char *name)
{
    static const char *const sfx[] = {".tmp", ".tmp-journal", ".tmp-wal", ".tmp-shm"};
    char b[NAME_LEN];
    size_t i;

    if (name[0] != '.' || strlen(name) < NAME_LEN)
        return 0;
    memcpy(b, name + 1, NAME_LEN - 1);
    b[NAME_LEN - 1] = '\0';
    for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
        if (strcmp(name + NAME_LEN, sfx[i]) == 0)
            return backup_name(b);
    return 0;
}

/* fsync a file or folder by path. */
static int
sync_path(const char *path, int dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* dir and base of path, "." when it has no slash. */
static void
split_path(const char *path, char *dir, size_t dlen, const char **base)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL) {
        snprintf(dir, dlen, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dlen, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

/* Run PRAGMA integrity_check on db: ROSE_OK for "ok", else the first
 * complaint is logged (it names pages and indexes, never row contents). */
static enum rose_err
integrity(sqlite3 *db, const char *what)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *r;
    enum rose_err err = ROSE_ERR_DB;
    int rc;

    rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        r = sqlite3_column_text(s, 0);
        if (r != NULL && strcmp((const char *)r, "ok") == 0)
            err = ROSE_OK;
        else
            rose_logf(ROSE_LOG_ERROR, "integrity_check", "%s: %.200s", what,
                      r ? (const char *)r : "");
    } else {
        rose_logf(ROSE_LOG_ERROR, "integrity_check", "%s: %s", what, sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return err;
}

/* One integer of a query, e.g. PRAGMA user_version; -1 on failure. */
static long long
query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/*
 * Copy src into dst with the online backup API, STEP_PAGES at a time.  A
 * step that finds a lock busy is retried; any other failure ends the copy
 * and sqlite3_backup_finish() leaves dst as it was (its write transaction is
 * rolled back).  what names the copy in the log.
 */
static enum rose_err
copy_db(sqlite3 *dst, sqlite3 *src, const char *what)
{
    sqlite3_backup *bk;
    int rc, busy = 0;

    if ((bk = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "%s: %s", what, sqlite3_errmsg(dst));
        return ROSE_ERR_DB;
    }
    do {
        rc = sqlite3_backup_step(bk, STEP_PAGES);
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
            if (++busy > BUSY_RETRIES)
                break;
            sqlite3_sleep(BUSY_PAUSE_MS);
            rc = SQLITE_OK;
        }
    } while (rc == SQLITE_OK);
    sqlite3_backup_finish(bk);
    if (rc != SQLITE_DONE) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "%s: %s (%d)", what, sqlite3_errstr(rc), rc);
        return rose_store_err(rc) == ROSE_OK ? ROSE_ERR_DB : rose_store_err(rc);
    }
    return ROSE_OK;
}

/* Remove a temporary copy and what SQLite may have left next to it. */
static void
remove_tmp(const char *tmp)
{
    static const char *const sfx[] = {"", "-journal", "-wal", "-shm"};
    char p[4200];
    size_t i;

    for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", tmp, sfx[i]);
        unlink(p);
    }
}

/*
 * Write a consistent copy of the live database src to path: built as
 * <dir>/.<base>.tmp from one read snapshot (a read transaction held across
 * the steps, so writers carry on and the copy never restarts), switched to
 * a rollback journal, checked with integrity_check when check is set,
 * fsynced, moved to path (replacing a file there only when replace is set),
 * and the folder fsynced.  On failure the temporary file is removed.
 * *bytes gets the size.  Logs on failure.
 */
static enum rose_err
backup_to(sqlite3 *src, const char *path, int check, int replace, long long *bytes)
{
    char dir[4096], tmp[4200];
    const char *base;
    sqlite3 *dst = NULL;
    struct stat st;
    enum rose_err err = ROSE_ERR_IO;
    int fd;

    split_path(path, dir, sizeof(dir), &base);
    if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, base) >= (int)sizeof(tmp)) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "path too long");
        return ROSE_ERR_IO;
    }
    remove_tmp(tmp); /* a crashed run's; the job lock says none is running */
    /* Created here, not by SQLite, so it is private (0600) from the start. */
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "cannot create %s: %s", tmp, strerror(errno));
        return ROSE_ERR_IO;
    }
    close(fd);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "open %s: %s", tmp, sqlite3_errmsg(dst));
        err = ROSE_ERR_DB;
        goto out;
    }
    /* One snapshot for every step: in WAL mode a reader never blocks the
     * workers, and without it each step would see their commits and start
     * the copy over. */
    if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) !=
        SQLITE_OK) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "snapshot: %s", sqlite3_errmsg(src));
        err = ROSE_ERR_DB;
        goto out;
    }
    if ((err = copy_db(dst, src, "backup")) != ROSE_OK)
        goto out;
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    /* The copy carries the WAL flag of its source; a backup must be one
     * file that opens anywhere, even read-only. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "journal mode: %s", sqlite3_errmsg(dst));
        err = ROSE_ERR_DB;
        goto out;
    }
    if (check && (err = integrity(dst, tmp)) != ROSE_OK)
        goto out;
    if (sqlite3_close(dst) != SQLITE_OK) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "close: %s", sqlite3_errmsg(dst));
        err = ROSE_ERR_DB;
        goto out;
    }
    dst = NULL;
    err = ROSE_ERR_IO;
    if (sync_path(tmp, 0) != 0 || stat(tmp, &st) != 0) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "sync %s: %s", tmp, strerror(errno));
        goto out;
    }
    /* rename() replaces (a second backup in the same second is the newer
     * one); link() refuses to, for copies that must never be lost. */
    if (replace ? rename(tmp, path) != 0 : (link(tmp, path) != 0 || unlink(tmp) != 0)) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "%s: %s", path, strerror(errno));
        goto out;
    }
    if (sync_path(dir, 1) != 0) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "sync %s: %s", dir, strerror(errno));
        goto out;
    }
    *bytes = (long long)st.st_size;
    err = ROSE_OK;
out:
    if (!sqlite3_get_autocommit(src)) /* the snapshot, if still open */
        sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
    if (dst != NULL)
        sqlite3_close(dst);
    if (err != ROSE_OK)
        remove_tmp(tmp);
    return err;
}

/* mkdir -p, private: backups hold everything users said. */
static enum rose_err
make_dir(const char *dir)
{
    char buf[4096], *p;

    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
        return ROSE_ERR_IO;
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return ROSE_ERR_IO;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return ROSE_ERR_IO;
    return ROSE_OK;
}

/* Newest first: the names hold the time, YYYYmmdd-HHMMSS sorts by it. */
static int
newest_first(const void *a, const void *b)
{
    return strcmp((const char *)b, (const char *)a);
}

/*
 * Keep the newest keep backups in dir (only regular files named
 * rose-YYYYmmdd-HHMMSS.db count; anything else is never touched), delete the
 * rest and what crashed runs left.  With dry_run, only count.
 */
static enum rose_err
prune(struct rose_job *job, const char *dir, long keep, long *kept, long *deleted)
{
    struct rose_buf names;
    struct stat st;
    struct dirent *e;
    DIR *d;
    enum rose_err err = ROSE_OK;
    size_t n, i;

    rose_buf_init(&names, (size_t)PRUNE_MAX * NAME_LEN);
    if ((d = opendir(dir)) == NULL) {
        rose_logf(ROSE_LOG_ERROR, "backup_prune", "%s: %s", dir, strerror(errno));
        return ROSE_ERR_IO;
    }
    while ((e = readdir(d)) != NULL) {
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (stale_name(e->d_name)) {
            if (!job->dry_run)
                unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        if (!backup_name(e->d_name))
            continue;
        if ((err = rose_buf_append(&names, e->d_name, NAME_LEN)) != ROSE_OK) {
            rose_logf(ROSE_LOG_ERROR, "backup_prune", "more than %d backups in %s", PRUNE_MAX, dir);
            goto out;
        }
    }
    n = names.len / NAME_LEN;
    if (n > 0)
        qsort(names.data, n, NAME_LEN, newest_first);
    for (i = 0; i < n; i++) {
        const char *name = names.data + i * NAME_LEN;
        if ((long)i < keep) {
            (*kept)++;
            continue;
        }
        if (!job->dry_run && unlinkat(dirfd(d), name, 0) != 0 && errno != ENOENT) {
            rose_logf(ROSE_LOG_ERROR, "backup_prune", "%s: %s", name, strerror(errno));
            rose_job_error(job);
            continue;
        }
        rose_logf(ROSE_LOG_INFO, "backup_pruned", "%s", name);
        (*deleted)++;
    }
out:
    closedir(d);
    rose_buf_free(&names);
    return err;
}

static int
backup(struct rose_job *job)
{
    char ts[16], path[4200], size[32];
    long long bytes = 0;
    long kept = 0, deleted = 0;
    enum rose_err err;

    stamp(ts);
    if (snprintf(path, sizeof(path), "%s/rose-%s.db", job->cfg->backup_dir, ts) >=
        (int)sizeof(path)) {
        rose_job_error(job);
        return rose_job_end(job, "BACKUP_DIR is too long; no backup written");
    }
    if (job->dry_run) {
        /* The copy that would be written counts as one of the kept. */
        err = ROSE_OK;
        if (access(job->cfg->backup_dir, F_OK) == 0)
            err = prune(job, job->cfg->backup_dir, job->cfg->backup_keep - 1, &kept, &deleted);
        if (err != ROSE_OK)
            rose_job_error(job);
        return rose_job_end(job, "would write %s, keep %ld, delete %ld old backup%s", path,
                            kept + 1, deleted, rose_job_plural(deleted));
    }
    if (make_dir(job->cfg->backup_dir) != ROSE_OK) {
        rose_logf(ROSE_LOG_ERROR, "backup_error", "cannot create %s: %s", job->cfg->backup_dir,
                  strerror(errno));
        rose_job_error(job);
        return rose_job_end(job, "cannot create %s; no backup written", job->cfg->backup_dir);
    }
    if (backup_to(rose_store_db(job->st), path, 1, 1, &bytes) != ROSE_OK) {
        /* Old backups are kept when today's failed: they are all there is. */
        rose_job_error(job);
        return rose_job_end(job, "backup failed (see the log); no backup written, none deleted");
    }
    rose_logf(ROSE_LOG_INFO, "backup_written", "%s %lld bytes", path, bytes);
    if (prune(job, job->cfg->backup_dir, job->cfg->backup_keep, &kept, &deleted) != ROSE_OK)
        rose_job_error(job);
    rose_job_size(bytes, size);
    return rose_job_end(job, "wrote %s (%s, integrity ok), kept %ld, deleted %ld old backup%s",
                        path, size, kept, deleted, rose_job_plural(deleted));
}

/*
 * Is file a Rose database we may restore?  A regular file, not the live
 * database itself, that SQLite opens read-only, passes integrity_check, has
 * Rose's tables, a schema version this build knows (an older one is
 * migrated after the restore; a newer one would be unusable) and the live
 * database's page size.  On success *out is the open read-only handle (the
 * caller closes it) and *version its schema version.  Logs why not.
 */
static enum rose_err
check_file(struct rose_job *job, const char *file, sqlite3 **out, long long *version)
{
    struct stat fs, ls;
    sqlite3 *db = NULL;
    enum rose_err err = ROSE_ERR_INVALID_FIELD;
    long long v, tables, ps, live_ps;

    if (stat(file, &fs) != 0 || !S_ISREG(fs.st_mode)) {
        rose_logf(ROSE_LOG_ERROR, "restore_check", "%s: not a regular file", file);
        return err;
    }
    if (stat(job->cfg->database_path, &ls) == 0 && ls.st_dev == fs.st_dev &&
        ls.st_ino == fs.st_ino) {
        rose_logf(ROSE_LOG_ERROR, "restore_check", "%s is the live database", file);
        return err;
    }
    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rose_logf(ROSE_LOG_ERROR, "restore_check", "%s: %s", file, sqlite3_errmsg(db));
        goto out;
    }
    if (integrity(db, file) != ROSE_OK)
        goto out;
    v = query_int(db, "PRAGMA user_version");
    tables = query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                           " AND name IN ('users', 'sessions')");
    if (tables != 2 || v < 1) {
        rose_logf(ROSE_LOG_ERROR, "restore_check", "%s: not a Rose database", file);
        goto out;
    }
    if (v > rose_store_target_version()) {
        rose_logf(ROSE_LOG_ERROR, "restore_check",
                  "%s: schema version %lld is newer than this build's (%d)", file, v,
                  rose_store_target_version());
        goto out;
    }
    /* The backup API cannot change the page size of a WAL database. */
    ps = query_int(db, "PRAGMA page_size");
    live_ps = query_int(rose_store_db(job->st), "PRAGMA page_size");
    if (ps != live_ps) {
        rose_logf(ROSE_LOG_ERROR, "restore_check",
                  "%s: page size %lld differs from the live database's (%lld); convert a copy "
                  "first: sqlite3 COPY 'PRAGMA page_size=%lld; VACUUM'",
                  file, ps, live_ps, live_ps);
        goto out;
    }
    *out = db;
    *version = v;
    db = NULL;
    err = ROSE_OK;
out:
    sqlite3_close(db);
    return err;
}

static int
restore(struct rose_job *job, const char *file)
{
    char ts[16], aside[4200], size[32];
    sqlite3 *src = NULL;
    long long version = 0, aside_bytes = 0;
    struct stat fs;
    enum rose_err err;

    stamp(ts);
    snprintf(aside, sizeof(aside), "%s.before-restore-%s", job->cfg->database_path, ts);
    if (check_file(job, file, &src, &version) != ROSE_OK) {
        rose_job_error(job);
        return rose_job_end(job, "%s cannot be restored (see the log); nothing changed", file);
    }
    size[0] = '\0';
    if (stat(file, &fs) == 0)
        rose_job_size((long long)fs.st_size, size);
    if (job->dry_run) {
        sqlite3_close(src);
        return rose_job_end(job,
                            "would restore %s (schema %lld, %s, integrity ok) into %s, "
                            "keeping the current database as %s",
                            file, version, size, job->cfg->database_path, aside);
    }
    /* First the way back: the current database, whatever state it is in
     * (it may be why we restore, so it is not integrity-checked). */
    if (backup_to(rose_store_db(job->st), aside, 0, 0, &aside_bytes) != ROSE_OK) {
        sqlite3_close(src);
        rose_job_error(job);
        return rose_job_end(job, "cannot keep the current database aside; nothing changed");
    }
    rose_logf(ROSE_LOG_INFO, "restore_aside", "%s %lld bytes", aside, aside_bytes);
    /* The backup API writes the whole file as one transaction of the live
     * database, under its write lock: workers wait (busy timeout), readers
     * see the old or the new content, never a mix. */
    err = copy_db(rose_store_db(job->st), src, "restore");
    sqlite3_close(src);
    if (err != ROSE_OK) {
        rose_job_error(job);
        return rose_job_end(job, "restore of %s failed (see the log); the database is unchanged",
                            file);
    }
    rose_logf(ROSE_LOG_INFO, "restored", "%s schema %lld", file, version);
    /* Reopen: brings an older schema up to this build's, as workers expect. */
    rose_store_close(job->st);
    job->st = NULL;
    if (rose_store_open(job->cfg->database_path, &job->st) != ROSE_OK ||
        integrity(rose_store_db(job->st), job->cfg->database_path) != ROSE_OK) {
        rose_job_error(job);
        return rose_job_end(job,
                            "restored %s, but the live database fails its check; the "
                            "previous one is %s",
                            file, aside);
    }
    return rose_job_end(job,
                        "restored %s (schema %lld, %s) into %s (integrity ok); the "
                        "previous database is kept as %s",
                        file, version, size, job->cfg->database_path, aside);
}

int
main(int argc, char **argv)
{
    struct rose_job job;

    if (!rose_job_start(&job, &spec, argc, argv))
        return rose_job_end(&job, NULL);
    if (job.opt[OPT_RESTORE] != NULL)
        return restore(&job, job.opt[OPT_RESTORE]);
    return backup(&job);
}
