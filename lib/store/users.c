/*
 * users.c — users and sessions (see users.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/text.h"
#include "store/users.h"

static void
copy_col(sqlite3_stmt *s, int col, char *dst, size_t len)
{
    const unsigned char *v = sqlite3_column_text(s, col);

    snprintf(dst, len, "%s", v ? (const char *)v : "");
}

enum rose_err
rose_user_create(struct rose_store *st, char user_id[37], char token[44])
{
    sqlite3_stmt *s = NULL;
    char id[37], tok[44], hash[65];
    enum rose_err err;
    int rc;

    rose_uuid_new(id);
    if ((err = rose_token_new(tok)) != ROSE_OK)
        return err;
    rose_token_hash(tok, hash);
    if ((err = rose_store_prepare(
             st, "INSERT INTO users (id, token_hash, created_at) VALUES (?1, ?2, ?3)", &s)) !=
        ROSE_OK)
        goto out;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, rose_now_ms());
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        err = rose_store_err(rc);
        goto out;
    }
    memcpy(user_id, id, sizeof(id));
    memcpy(token, tok, sizeof(tok));
out:
    sqlite3_finalize(s);
    explicit_bzero(tok, sizeof(tok));
    return err;
}

enum rose_err
rose_user_by_token(struct rose_store *st, const char *token, char user_id[37])
{
    sqlite3_stmt *s = NULL;
    char hash[65];
    enum rose_err err;
    int rc;

    rose_token_hash(token, hash);
    if ((err = rose_store_prepare(st, "SELECT id FROM users WHERE token_hash = ?1", &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        copy_col(s, 0, user_id, 37);
    else
        err = rc == SQLITE_DONE ? ROSE_ERR_UNAUTHORIZED : rose_store_err(rc);
    sqlite3_finalize(s);
    return err;
}

enum rose_err
rose_session_create(struct rose_store *st, const char *user_id, char session_id[37])
{
    sqlite3_stmt *s = NULL;
    char id[37];
    long long now = rose_now_ms();
    enum rose_err err;
    int rc;

    rose_uuid_new(id);
    if ((err = rose_store_prepare(st,
                                  "INSERT INTO sessions (id, user_id, created_at, last_active) "
                                  "VALUES (?1, ?2, ?3, ?3)",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        memcpy(session_id, id, sizeof(id));
    else
        err = rose_store_err(rc);
    sqlite3_finalize(s);
    return err;
}

enum rose_err
rose_session_get(struct rose_store *st, const char *id, const char *user_id,
                 struct rose_session *out)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st,
                                  "SELECT id, user_id, created_at, last_active, message_count, "
                                  "summary FROM sessions WHERE id = ?1 "
                                  "AND (?2 IS NULL OR user_id = ?2)",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (user_id != NULL)
        sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *sum = sqlite3_column_text(s, 5);
        char *summary = strdup(sum ? (const char *)sum : "");
        if (summary == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        memset(out, 0, sizeof(*out));
        copy_col(s, 0, out->id, sizeof(out->id));
        copy_col(s, 1, out->user_id, sizeof(out->user_id));
        out->created_at = sqlite3_column_int64(s, 2);
        out->last_active = sqlite3_column_int64(s, 3);
        out->message_count = sqlite3_column_int64(s, 4);
        out->summary = summary;
    } else {
        err = rc == SQLITE_DONE ? ROSE_ERR_NOT_FOUND : rose_store_err(rc);
    }
out:
    sqlite3_finalize(s);
    return err;
}

void
rose_session_clear(struct rose_session *s)
{
    if (s == NULL)
        return;
    free(s->summary);
    s->summary = NULL;
}

enum rose_err
rose_session_delete(struct rose_store *st, const char *id, const char *user_id)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st, "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        err = rose_store_err(rc);
    else if (sqlite3_changes(rose_store_db(st)) == 0)
        err = ROSE_ERR_NOT_FOUND;
    sqlite3_finalize(s);
    return err;
}
