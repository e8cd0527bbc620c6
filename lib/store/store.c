/*
 * store.c — opening, migrating and transactions (see store.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "store/schema.h"
#include "store/store.h"

struct rose_store {
    sqlite3 *db;
};

enum rose_err
rose_store_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return ROSE_OK;
    case SQLITE_NOMEM:
        return ROSE_ERR_NOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return ROSE_ERR_DB_UNAVAILABLE;
    default:
        return ROSE_ERR_DB;
    }
}

static enum rose_err
db_fail(struct rose_store *st, int rc, const char *what)
{
    /* The SQLite message may quote SQL but never user data (we bind). */
    rose_logf(ROSE_LOG_ERROR, "db_error", "%s: %s (%d)", what,
              st && st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc), rc);
    return rose_store_err(rc);
}

enum rose_err
rose_store_exec(struct rose_store *st, const char *sql)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? ROSE_OK : db_fail(st, rc, "exec");
}

enum rose_err
rose_store_prepare(struct rose_store *st, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);

    return rc == SQLITE_OK ? ROSE_OK : db_fail(st, rc, "prepare");
}

enum rose_err
rose_store_begin(struct rose_store *st)
{
    return rose_store_exec(st, "BEGIN IMMEDIATE");
}

enum rose_err
rose_store_commit(struct rose_store *st)
{
    return rose_store_exec(st, "COMMIT");
}

void
rose_store_rollback(struct rose_store *st)
{
    if (st != NULL && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3 *
rose_store_db(struct rose_store *st)
{
    return st->db;
}

static int
pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        *out = sqlite3_column_int(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

int
rose_store_version(struct rose_store *st)
{
    int v = -1;

    pragma_int(st->db, "PRAGMA user_version", &v);
    return v;
}

int
rose_store_target_version(void)
{
    return (int)rose_schema_count();
}

/*
 * Switch to WAL.  Changing the journal mode needs an exclusive lock that the
 * busy handler does not wait for, so when several workers create the file at
 * the same moment, retry briefly.
 */
static int
set_wal(sqlite3 *db)
{
    int i, rc = SQLITE_BUSY;

    for (i = 0; i < 100 && rc != SQLITE_OK; i++) {
        sqlite3_stmt *s = NULL;
        rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(s);
            if (rc == SQLITE_ROW) {
                const unsigned char *mode = sqlite3_column_text(s, 0);
                rc = mode && strcmp((const char *)mode, "wal") == 0 ? SQLITE_OK : SQLITE_ERROR;
            }
        }
        sqlite3_finalize(s);
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
            usleep(20000);
        else if (rc != SQLITE_OK)
            break;
    }
    return rc;
}

/* Apply pending migrations in one IMMEDIATE transaction. */
static enum rose_err
migrate(struct rose_store *st)
{
    enum rose_err err;
    int v = 0;
    size_t i;
    char sql[64];

    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if (pragma_int(st->db, "PRAGMA user_version", &v) != SQLITE_OK) {
        err = db_fail(st, sqlite3_errcode(st->db), "user_version");
        goto out;
    }
    if (v > (int)rose_schema_count()) {
        rose_logf(ROSE_LOG_ERROR, "db_error",
                  "database schema version %d is newer than this build (%zu)", v,
                  rose_schema_count());
        err = ROSE_ERR_DB_UNAVAILABLE;
        goto out;
    }
    for (i = (size_t)v; i < rose_schema_count(); i++) {
        if ((err = rose_store_exec(st, rose_schema_migration(i))) != ROSE_OK)
            goto out;
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%zu", i + 1);
        if ((err = rose_store_exec(st, sql)) != ROSE_OK)
            goto out;
        rose_logf(ROSE_LOG_INFO, "db_migrated", "schema version %zu", i + 1);
    }
    err = rose_store_commit(st);
out:
    if (err != ROSE_OK)
        rose_store_rollback(st);
    return err;
}

enum rose_err
rose_store_open(const char *path, struct rose_store **out)
{
    struct rose_store *st = NULL;
    enum rose_err err = ROSE_OK;
    int rc;

    if ((st = calloc(1, sizeof(*st))) == NULL)
        return ROSE_ERR_NOMEM;
    rc = sqlite3_open_v2(path, &st->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err = db_fail(st, rc, "open");
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, ROSE_STORE_BUSY_MS);
    if ((rc = set_wal(st->db)) != SQLITE_OK) {
        err = db_fail(st, rc, "journal_mode=WAL");
        goto out;
    }
    if ((err = rose_store_exec(st, "PRAGMA foreign_keys=ON;"
                                   "PRAGMA synchronous=NORMAL;"
                                   "PRAGMA trusted_schema=OFF")) != ROSE_OK)
        goto out;
    if ((err = migrate(st)) != ROSE_OK)
        goto out;
    *out = st;
    st = NULL;
out:
    rose_store_close(st);
    return err;
}

void
rose_store_close(struct rose_store *st)
{
    if (st == NULL)
        return;
    sqlite3_close_v2(st->db);
    free(st);
}

enum rose_err
rose_store_check(struct rose_store *st)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st, "SELECT count(*) FROM sessions WHERE id = ''", &s)) !=
        ROSE_OK)
        return err;
    rc = sqlite3_step(s);
    err = rc == SQLITE_ROW ? ROSE_OK : db_fail(st, rc, "check");
    sqlite3_finalize(s);
    return err;
}
