/*
 * test_store.c — opening and migrating the database (lib/store/store.c,
 * schema.c), and users and sessions (lib/store/users.c).  Everything
 * happens in a fresh mkdtemp() directory that is removed at the end.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"
#include "store/schema.h"
#include "store/store.h"
#include "store/users.h"
#include "t.h"

#define NCHILDREN 8
#define NROUNDS 4 /* a race shows up in some runs only; several rounds catch more */

static char tmpdir[] = "/tmp/rose-test-store-XXXXXX";

/* Every log line, so tests can look for what must (not) be logged. */
static struct rose_buf logs;

static void
capture(void *arg, const char *line)
{
    rose_buf_puts(arg, line);
}

static void
tmp_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", tmpdir, name);
}

/* Run sql with at most one text parameter; the first column of the first
 * row as an integer, or -1 if there is no row or an error. */
static long long
query_int(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (arg != NULL)
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* As query_int, but the text of the first column into out ("" if none). */
static const char *
query_text(sqlite3 *db, const char *sql, const char *arg, char *out, size_t len)
{
    sqlite3_stmt *s = NULL;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return out;
    if (arg != NULL)
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

/* The whole file into memory (caller frees), or NULL if it does not exist. */
static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct rose_buf b;
    char chunk[65536];
    size_t n;

    *len = 0;
    if (f == NULL)
        return NULL;
    rose_buf_init(&b, 256u * 1024 * 1024);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (rose_buf_append(&b, chunk, n) != ROSE_OK)
            break;
    fclose(f);
    *len = b.len;
    return (unsigned char *)rose_buf_steal(&b);
}

/* Whether needle occurs in the file at path. */
static int
file_contains(const char *path, const char *needle)
{
    size_t len;
    unsigned char *data = slurp(path, &len);
    int found = data != NULL && memmem(data, len, needle, strlen(needle)) != NULL;

    free(data);
    return found;
}

static size_t
count_lines(const char *event)
{
    size_t n = 0;
    const char *p = logs.data;

    while (p != NULL && (p = strstr(p, event)) != NULL) {
        n++;
        p += strlen(event);
    }
    return n;
}

/* The schema as one string, to see whether anything changed. */
static void
schema_of(sqlite3 *db, char *out, size_t len)
{
    query_text(db,
               "SELECT group_concat(type || ' ' || name || ' ' || ifnull(sql, ''), ';') "
               "FROM (SELECT * FROM sqlite_master ORDER BY name)",
               NULL, out, len);
}

/* ---- opening and migrating ------------------------------------------------ */

static void
test_open_new(void)
{
    struct rose_store *st = NULL;
    char path[300], mode[32], schema1[8192], schema2[8192];
    size_t migrated;
    sqlite3 *db;

    tmp_path(path, sizeof(path), "new.db");
    T_INT(rose_store_open(path, &st), ROSE_OK, "open: a new file");
    if (st == NULL)
        return;
    db = rose_store_db(st);
    T_OK(rose_store_target_version() >= 1, "open: target version is at least 1");
    T_INT(rose_store_target_version(), rose_schema_count(), "open: target is the migration count");
    T_INT(rose_store_version(st), rose_store_target_version(), "open: migrated to the target");
    T_STR(query_text(db, "PRAGMA journal_mode", NULL, mode, sizeof(mode)), "wal",
          "open: journal_mode is wal");
    T_INT(query_int(db, "PRAGMA foreign_keys", NULL), 1, "open: foreign_keys is on");
    T_INT(query_int(db, "PRAGMA busy_timeout", NULL), ROSE_STORE_BUSY_MS, "open: busy timeout set");
    T_INT(query_int(db,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                    "('users', 'sessions', 'breakers')",
                    NULL),
          3, "open: the version-1 tables exist");
    T_INT(rose_store_check(st), ROSE_OK, "open: rose_store_check");
    schema_of(db, schema1, sizeof(schema1));
    rose_store_close(st);
    st = NULL;

    /* Reopen: nothing to do, nothing changes. */
    migrated = count_lines("db_migrated");
    T_INT(rose_store_open(path, &st), ROSE_OK, "reopen: ok");
    if (st == NULL)
        return;
    db = rose_store_db(st);
    T_INT(rose_store_version(st), rose_store_target_version(), "reopen: same version");
    schema_of(db, schema2, sizeof(schema2));
    T_STR(schema2, schema1, "reopen: schema unchanged");
    T_INT(count_lines("db_migrated"), migrated, "reopen: no migration ran");
    T_STR(query_text(db, "PRAGMA journal_mode", NULL, mode, sizeof(mode)), "wal",
          "reopen: still wal");
    T_INT(query_int(db, "PRAGMA foreign_keys", NULL), 1, "reopen: foreign_keys on again");
    rose_store_close(st);
    rose_store_close(NULL);
    T_OK(1, "rose_store_close(NULL) is a no-op");
}

/* One worker of test_concurrent_open(): open the file at arg, write a user
 * and a session.  Exit status 0, or 10 + enum rose_err. */
static int
open_child(int i, void *arg)
{
    struct rose_store *st = NULL;
    char uid[37], tok[44], sid[37];
    enum rose_err err;

    (void)i;
    err = rose_store_open(arg, &st);
    if (err == ROSE_OK)
        err = rose_user_create(st, uid, tok);
    if (err == ROSE_OK)
        err = rose_session_create(st, uid, sid);
    rose_store_close(st);
    rose_buf_free(&logs);
    return err == ROSE_OK ? 0 : 10 + (int)err;
}

/*
 * Several workers start at once (t_race) on a file that does not exist yet:
 * every one must open it (WAL switch and migration race), and every write
 * must land.
 */
static void
test_concurrent_open(int round)
{
    char path[300], name[32];
    int exits[NCHILDREN], i, ok = 0;
    struct rose_store *st = NULL;

    snprintf(name, sizeof(name), "concurrent-%d.db", round);
    tmp_path(path, sizeof(path), name);
    if (!t_race(NCHILDREN, open_child, path, exits)) {
        T_OK(0, "concurrent: pipe");
        return;
    }
    for (i = 0; i < NCHILDREN; i++) {
        if (exits[i] == 0)
            ok++;
        else
            printf("#   child %d: exit %d (10 + enum rose_err)\n", i, exits[i]);
    }
    T_INT(ok, NCHILDREN, "concurrent %d: all %d workers opened and wrote", round, NCHILDREN);
    T_INT(rose_store_open(path, &st), ROSE_OK, "concurrent %d: the file opens afterwards", round);
    if (st == NULL)
        return;
    T_INT(rose_store_version(st), rose_store_target_version(), "concurrent %d: version correct",
          round);
    T_INT(query_int(rose_store_db(st), "SELECT count(*) FROM users", NULL), NCHILDREN,
          "concurrent %d: %d users present", round, NCHILDREN);
    T_INT(query_int(rose_store_db(st),
                    "SELECT count(*) FROM sessions JOIN users ON users.id = sessions.user_id",
                    NULL),
          NCHILDREN, "concurrent %d: %d sessions, each with its user", round, NCHILDREN);
    rose_store_close(st);
}

/* A file that is not a database is refused and left exactly as it was. */
static void
test_not_a_database(void)
{
    struct rose_store *st = NULL, *sentinel = (struct rose_store *)&logs;
    char path[300], garbage[4096];
    unsigned char *before, *after;
    size_t blen, alen, i;
    FILE *f;

    for (i = 0; i < sizeof(garbage); i++)
        garbage[i] = "garbage "[i % 8];
    tmp_path(path, sizeof(path), "garbage.db");
    if ((f = fopen(path, "wb")) == NULL ||
        fwrite(garbage, 1, sizeof(garbage), f) != sizeof(garbage))
        exit(2);
    fclose(f);
    before = slurp(path, &blen);
    st = sentinel;
    T_INT(rose_store_open(path, &st), ROSE_ERR_DB_UNAVAILABLE,
          "garbage file: ROSE_ERR_DB_UNAVAILABLE");
    T_OK(st == sentinel, "garbage file: *out untouched on failure");
    after = slurp(path, &alen);
    T_OK(before != NULL && after != NULL && blen == alen && memcmp(before, after, blen) == 0,
         "garbage file: not modified (%zu bytes before, %zu after)", blen, alen);
    T_OK(count_lines("db_error") > 0, "garbage file: the reason is logged");
    free(before);
    free(after);
}

/* A file from a newer build (higher user_version) is refused, untouched. */
static void
test_newer_version(void)
{
    struct rose_store *st = NULL;
    sqlite3 *db = NULL;
    char path[300], sql[64];
    int newer = rose_store_target_version() + 1;

    tmp_path(path, sizeof(path), "newer.db");
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", newer);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        exit(2);
    sqlite3_close(db);

    T_INT(rose_store_open(path, &st), ROSE_ERR_DB_UNAVAILABLE, "newer schema (%d > %d): refused",
          newer, rose_store_target_version());
    T_OK(st == NULL, "newer schema: no handle");
    rose_store_close(st);
    db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        exit(2);
    T_INT(query_int(db, "PRAGMA user_version", NULL), newer, "newer schema: version untouched");
    T_INT(query_int(db, "SELECT count(*) FROM sqlite_master", NULL), 0,
          "newer schema: no tables created");
    sqlite3_close(db);
}

static void
test_unopenable(void)
{
    struct rose_store *st = NULL;
    char path[300];

    tmp_path(path, sizeof(path), "no/such/dir/x.db");
    T_INT(rose_store_open(path, &st), ROSE_ERR_DB_UNAVAILABLE,
          "path in a missing directory: ROSE_ERR_DB_UNAVAILABLE");
    T_OK(st == NULL, "path in a missing directory: no handle");
}

/* ---- users --------------------------------------------------------------------- */

static int
base64url_only(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static void
test_users(void)
{
    struct rose_store *st = NULL;
    char path[300], wal[310], uid[37], uid2[37], tok[44], tok2[44], found[37], hash[65];
    char stored[80], wrong[44];

    tmp_path(path, sizeof(path), "users.db");
    snprintf(wal, sizeof(wal), "%s-wal", path);
    if (rose_store_open(path, &st) != ROSE_OK) {
        T_OK(0, "users: open");
        return;
    }
    memset(tok, 0, sizeof(tok));
    T_INT(rose_user_create(st, uid, tok), ROSE_OK, "users: create");
    T_INT(strlen(tok), 43, "users: token is 43 characters");
    T_OK(base64url_only(tok), "users: token is base64url");
    T_OK(rose_uuid_valid(uid), "users: id is a UUID");
    T_INT(rose_user_create(st, uid2, tok2), ROSE_OK, "users: create a second");
    T_OK(strcmp(uid, uid2) != 0 && strcmp(tok, tok2) != 0, "users: ids and tokens differ");

    T_INT(rose_user_by_token(st, tok, found), ROSE_OK, "users: by_token finds the user");
    T_STR(found, uid, "users: by_token gives the right id");
    T_INT(rose_user_by_token(st, tok2, found), ROSE_OK, "users: by_token, second user");
    T_STR(found, uid2, "users: by_token gives the second id");
    T_INT(rose_user_by_token(st, "no-such-token", found), ROSE_ERR_UNAUTHORIZED,
          "users: unknown token → UNAUTHORIZED");
    T_INT(rose_user_by_token(st, "", found), ROSE_ERR_UNAUTHORIZED,
          "users: empty token → UNAUTHORIZED");
    snprintf(wrong, sizeof(wrong), "%s", tok);
    wrong[42] = wrong[42] == 'A' ? 'B' : 'A';
    T_INT(rose_user_by_token(st, wrong, found), ROSE_ERR_UNAUTHORIZED,
          "users: token with one character changed → UNAUTHORIZED");

    /* Only the hash is stored. */
    rose_token_hash(tok, hash);
    T_STR(query_text(rose_store_db(st), "SELECT token_hash FROM users WHERE id = ?1", uid, stored,
                     sizeof(stored)),
          hash, "users: the stored token_hash is sha256(token)");
    rose_store_close(st);

    /* Closing the last connection checkpoints the WAL into the main file;
     * look in both anyway. */
    T_OK(file_contains(path, hash) || file_contains(wal, hash),
         "users: the hash is in the database file (so the search below can find things)");
    T_OK(!file_contains(path, tok) && !file_contains(wal, tok) && !file_contains(path, tok2) &&
             !file_contains(wal, tok2),
         "users: no raw token anywhere in the database file bytes");
    T_OK(logs.data == NULL || (strstr(logs.data, tok) == NULL && strstr(logs.data, tok2) == NULL),
         "users: no raw token in the logs");
    explicit_bzero(tok, sizeof(tok));
    explicit_bzero(tok2, sizeof(tok2));
}

/* ---- sessions ------------------------------------------------------------------- */

static void
test_sessions(void)
{
    struct rose_store *st = NULL;
    struct rose_session s, pattern;
    char path[300], a[37], b[37], tok[44], sid[37], sid2[37], sid_b[37];
    const char *ghost = "00000000-0000-4000-8000-000000000000";
    sqlite3 *db;
    sqlite3_stmt *del = NULL;

    tmp_path(path, sizeof(path), "sessions.db");
    if (rose_store_open(path, &st) != ROSE_OK || rose_user_create(st, a, tok) != ROSE_OK ||
        rose_user_create(st, b, tok) != ROSE_OK) {
        T_OK(0, "sessions: open and create users");
        rose_store_close(st);
        return;
    }
    db = rose_store_db(st);
    T_INT(rose_session_create(st, a, sid), ROSE_OK, "sessions: create for A");
    T_OK(rose_uuid_valid(sid), "sessions: id is a UUID");

    memset(&s, 0, sizeof(s));
    T_INT(rose_session_get(st, sid, a, &s), ROSE_OK, "sessions: owner gets it");
    T_STR(s.id, sid, "sessions: id");
    T_STR(s.user_id, a, "sessions: user_id");
    T_OK(s.created_at > 1600000000000LL && s.last_active == s.created_at,
         "sessions: created_at is ms since the epoch, last_active equals it");
    T_INT(s.message_count, 0, "sessions: message_count 0");
    T_STR(s.summary, "", "sessions: empty summary");
    rose_session_clear(&s);
    T_OK(s.summary == NULL, "sessions: clear frees the summary");
    rose_session_clear(NULL);
    T_OK(1, "sessions: clear(NULL) is a no-op");

    /* Another user: NOT_FOUND, and the output is not touched. */
    memset(&pattern, 0x5a, sizeof(pattern));
    s = pattern;
    T_INT(rose_session_get(st, sid, b, &s), ROSE_ERR_NOT_FOUND, "sessions: other user → NOT_FOUND");
    T_OK(memcmp(&s, &pattern, sizeof(s)) == 0, "sessions: output untouched on NOT_FOUND");

    /* No user: the id is the capability. */
    memset(&s, 0, sizeof(s));
    T_INT(rose_session_get(st, sid, NULL, &s), ROSE_OK, "sessions: user_id NULL → any owner");
    T_STR(s.user_id, a, "sessions: ... and it is A's");
    rose_session_clear(&s);
    T_INT(rose_session_get(st, ghost, NULL, &s), ROSE_ERR_NOT_FOUND,
          "sessions: unknown id → NOT_FOUND");

    /* Delete by another user: refused, row still there. */
    T_INT(rose_session_delete(st, sid, b), ROSE_ERR_NOT_FOUND,
          "sessions: delete by other user → NOT_FOUND");
    T_INT(query_int(db, "SELECT count(*) FROM sessions WHERE id = ?1", sid), 1,
          "sessions: ... and the row is still there");
    T_INT(rose_session_get(st, sid, a, &s), ROSE_OK, "sessions: ... and the owner still gets it");
    rose_session_clear(&s);

    /* Delete by the owner. */
    T_INT(rose_session_delete(st, sid, a), ROSE_OK, "sessions: delete by owner");
    T_INT(rose_session_get(st, sid, NULL, &s), ROSE_ERR_NOT_FOUND, "sessions: deleted → NOT_FOUND");
    T_INT(rose_session_delete(st, sid, a), ROSE_ERR_NOT_FOUND,
          "sessions: delete twice → NOT_FOUND");

    /* A session for a user that does not exist is refused (foreign key). */
    T_OK(rose_session_create(st, ghost, sid2) != ROSE_OK,
         "sessions: create for unknown user fails");
    T_INT(query_int(db, "SELECT count(*) FROM sessions WHERE user_id = ?1", ghost), 0,
          "sessions: ... and nothing was inserted");

    /* Deleting a user deletes its sessions, and only its. */
    rose_session_create(st, a, sid);
    rose_session_create(st, a, sid2);
    rose_session_create(st, b, sid_b);
    T_INT(query_int(db, "SELECT count(*) FROM sessions WHERE user_id = ?1", a), 2,
          "cascade: A has two sessions");
    if (sqlite3_prepare_v2(db, "DELETE FROM users WHERE id = ?1", -1, &del, NULL) == SQLITE_OK) {
        sqlite3_bind_text(del, 1, a, -1, SQLITE_STATIC);
        T_INT(sqlite3_step(del), SQLITE_DONE, "cascade: delete user A");
    }
    sqlite3_finalize(del);
    T_INT(query_int(db, "SELECT count(*) FROM sessions WHERE user_id = ?1", a), 0,
          "cascade: A's sessions are gone");
    T_INT(rose_session_get(st, sid, NULL, &s), ROSE_ERR_NOT_FOUND,
          "cascade: A's session → NOT_FOUND");
    T_INT(rose_session_get(st, sid_b, b, &s), ROSE_OK, "cascade: B's session is still there");
    rose_session_clear(&s);
    rose_store_close(st);
}

int
main(void)
{
    int i;

    if (!t_mkdtemp(tmpdir))
        return 2;
    rose_buf_init(&logs, 4u * 1024 * 1024);
    rose_log_set_level("debug");
    rose_log_set_sink(capture, &logs);
    test_open_new();
    for (i = 1; i <= NROUNDS; i++)
        test_concurrent_open(i);
    test_not_a_database();
    test_newer_version();
    test_unopenable();
    test_users();
    test_sessions();
    rose_log_set_sink(NULL, NULL);
    rose_buf_free(&logs);
    t_rmtree(tmpdir);
    return t_done();
}
