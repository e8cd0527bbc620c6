/*
 * turns.c — transcript, checkpoints and idempotency records (turns.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/text.h"
#include "store/turns.h"

static const char *
to_json(struct json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE)
             : "{}";
}

/* INSERT one checkpoint (inside the caller's transaction, if any). */
static enum rose_err
insert_checkpoint(struct rose_store *st, const char *thread_id, const char *parent,
                  const char *node, struct json_object *state, struct json_object *metadata,
                  char checkpoint_id[37])
{
    sqlite3_stmt *s = NULL;
    char id[37];
    enum rose_err err;
    int rc;

    rose_uuid_new(id);
    if ((err = rose_store_prepare(st,
                                  "INSERT INTO checkpoints (thread_id, checkpoint_id, "
                                  "parent_checkpoint_id, node, state, metadata, created_at) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, thread_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    if (parent != NULL && *parent)
        sqlite3_bind_text(s, 3, parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, node, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, to_json(state), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, to_json(metadata), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 7, rose_now_ms());
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return rose_store_err(rc);
    memcpy(checkpoint_id, id, sizeof(id));
    return ROSE_OK;
}

enum rose_err
rose_checkpoint_save(struct rose_store *st, const char *thread_id, const char *parent,
                     const char *node, struct json_object *state, struct json_object *metadata,
                     char checkpoint_id[37])
{
    return insert_checkpoint(st, thread_id, parent, node, state, metadata, checkpoint_id);
}

enum rose_err
rose_checkpoint_latest(struct rose_store *st, const char *thread_id, struct json_object **state,
                       char checkpoint_id[37])
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    *state = NULL;
    checkpoint_id[0] = '\0';
    if ((err = rose_store_prepare(st,
                                  "SELECT checkpoint_id, state FROM checkpoints "
                                  "WHERE thread_id = ?1 AND node IN ('memory_inject', 'summarize') "
                                  "ORDER BY rowid DESC LIMIT 1",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, thread_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        const char *js = (const char *)sqlite3_column_text(s, 1);
        *state = js ? json_tokener_parse(js) : NULL;
        if (*state == NULL)
            err = ROSE_ERR_DB; /* we wrote it; unreadable means damage */
        else
            snprintf(checkpoint_id, 37, "%s", id ? id : "");
    } else if (rc != SQLITE_DONE) {
        err = rose_store_err(rc);
    }
    sqlite3_finalize(s);
    return err;
}

static enum rose_err
insert_message(struct rose_store *st, const char *session_id, const char *role, const char *text,
               long long now, long long *id)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st,
                                  "INSERT INTO messages (session_id, role, text, created_at) "
                                  "VALUES (?1, ?2, ?3, ?4)",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE && id != NULL)
        *id = sqlite3_last_insert_rowid(rose_store_db(st));
    return rc == SQLITE_DONE ? ROSE_OK : rose_store_err(rc);
}

static enum rose_err
exec_bind(struct rose_store *st, const char *sql, const char *a, const char *b, const char *c,
          long long n)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st, sql, &s)) != ROSE_OK)
        return err;
    if (a)
        sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    if (c)
        sqlite3_bind_text(s, 3, c, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, n);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? ROSE_OK : rose_store_err(rc);
}

enum rose_err
rose_turn_commit(struct rose_store *st, const struct rose_turn_record *r, char checkpoint_id[37])
{
    long long now = rose_now_ms();
    char id[37];
    enum rose_err err;

    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if ((err = insert_message(st, r->session_id, "user", r->user_text, now, NULL)) != ROSE_OK ||
        (err = insert_message(st, r->session_id, "assistant", r->reply_text, now, r->reply_id)) !=
            ROSE_OK)
        goto out;
    if ((err = exec_bind(st,
                         "UPDATE sessions SET message_count = message_count + 2, "
                         "last_active = ?4 WHERE id = ?1",
                         r->session_id, NULL, NULL, now)) != ROSE_OK)
        goto out;
    if ((err = insert_checkpoint(st, r->session_id, r->parent_checkpoint, r->node, r->state,
                                 r->metadata, id)) != ROSE_OK)
        goto out;
    if (r->idem_key != NULL &&
        (err = exec_bind(st,
                         "UPDATE idempotency SET status = 200, body = ?3, created_at = ?4 "
                         "WHERE session_id = ?1 AND key = ?2",
                         r->session_id, r->idem_key, to_json(r->idem_body), now)) != ROSE_OK)
        goto out;
    if ((err = rose_store_commit(st)) != ROSE_OK)
        goto out;
    memcpy(checkpoint_id, id, sizeof(id));
out:
    if (err != ROSE_OK)
        rose_store_rollback(st);
    return err;
}

enum rose_err
rose_session_set_summary(struct rose_store *st, const char *session_id, const char *summary)
{
    return exec_bind(st, "UPDATE sessions SET summary = ?2 WHERE id = ?1", session_id,
                     summary, NULL, 0);
}

enum rose_err
rose_idem_claim(struct rose_store *st, const char *session_id, const char *key, const char *route,
                long long stale_ms, struct json_object **replay)
{
    sqlite3_stmt *s = NULL;
    long long now = rose_now_ms();
    enum rose_err err;
    int rc;

    *replay = NULL;
    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if ((err = rose_store_prepare(st,
                                  "SELECT status, body, created_at, route FROM idempotency "
                                  "WHERE session_id = ?1 AND key = ?2",
                                  &s)) != ROSE_OK)
        goto out;
    sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int status = sqlite3_column_int(s, 0);
        const char *body = (const char *)sqlite3_column_text(s, 1);
        long long at = sqlite3_column_int64(s, 2);
        const char *was = (const char *)sqlite3_column_text(s, 3);
        if (was == NULL || strcmp(was, route) != 0) {
            err = ROSE_ERR_CONFLICT; /* the key was used for another kind of request */
        } else if (status != 0) {
            struct json_object *o = json_object_new_object();
            struct json_object *b = body ? json_tokener_parse(body) : NULL;
            if (o == NULL || b == NULL) {
                json_object_put(o);
                json_object_put(b);
                err = ROSE_ERR_DB;
            } else {
                json_object_object_add(o, "status", json_object_new_int(status));
                json_object_object_add(o, "body", b);
                *replay = o;
            }
        } else if (now - at < stale_ms) {
            err = ROSE_ERR_CONFLICT;
        }
        sqlite3_finalize(s);
        s = NULL;
        if (err != ROSE_OK || *replay != NULL)
            goto out;
        /* A stale claim of a worker that died: take it over. */
        err = exec_bind(st,
                        "UPDATE idempotency SET created_at = ?4 WHERE session_id = ?1 AND key = ?2",
                        session_id, key, NULL, now);
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != SQLITE_DONE) {
        err = rose_store_err(rc);
        goto out;
    }
    err = exec_bind(st,
                    "INSERT INTO idempotency (session_id, key, route, status, body, created_at) "
                    "VALUES (?1, ?2, ?3, 0, '', ?4)",
                    session_id, key, route, now);
out:
    sqlite3_finalize(s);
    if (err == ROSE_OK)
        err = rose_store_commit(st);
    if (err != ROSE_OK) {
        rose_store_rollback(st);
        json_object_put(*replay);
        *replay = NULL;
    }
    return err;
}

void
rose_idem_finish(struct rose_store *st, const char *session_id, const char *key,
                 struct json_object *body)
{
    exec_bind(st, "UPDATE idempotency SET body = ?3 WHERE session_id = ?1 AND key = ?2",
              session_id, key, to_json(body), 0);
}

void
rose_idem_release(struct rose_store *st, const char *session_id, const char *key)
{
    exec_bind(st, "DELETE FROM idempotency WHERE session_id = ?1 AND key = ?2 AND status = 0",
              session_id, key, NULL, 0);
}

enum rose_err
rose_messages_list(struct rose_store *st, const char *session_id, int limit,
                   struct json_object **out)
{
    sqlite3_stmt *s = NULL;
    struct json_object *arr = NULL, *m = NULL, *urls = NULL;
    long long last = -1;
    enum rose_err err;
    int rc;

    /* One row per message and spoken piece, the pieces in the order made. */
    if ((err = rose_store_prepare(st,
                                  "SELECT m.id, m.role, m.text, m.created_at, m.image_id, a.id "
                                  "FROM (SELECT * FROM messages WHERE session_id = ?1 "
                                  "ORDER BY id DESC LIMIT ?2) AS m "
                                  "LEFT JOIN audio AS a ON a.message_id = m.id "
                                  "ORDER BY m.id, a.created_at, a.rowid",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    if ((arr = json_object_new_array()) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *image = (const char *)sqlite3_column_text(s, 4);
        const char *audio = (const char *)sqlite3_column_text(s, 5);
        char ts[32], url[96];
        if (sqlite3_column_int64(s, 0) != last) {
            last = sqlite3_column_int64(s, 0);
            if ((m = json_object_new_object()) == NULL || json_object_array_add(arr, m) != 0) {
                json_object_put(m);
                err = ROSE_ERR_NOMEM;
                goto out;
            }
            urls = NULL;
            rose_time_iso(sqlite3_column_int64(s, 3), ts);
            json_object_object_add(m, "role",
                                   json_object_new_string((const char *)sqlite3_column_text(s, 1)));
            json_object_object_add(m, "text",
                                   json_object_new_string((const char *)sqlite3_column_text(s, 2)));
            json_object_object_add(m, "created_at", json_object_new_string(ts));
            if (image != NULL) {
                snprintf(url, sizeof(url), "/api/v1/images/%s", image);
                json_object_object_add(m, "image_url", json_object_new_string(url));
            }
        }
        if (audio == NULL)
            continue;
        snprintf(url, sizeof(url), "/api/v1/voice/audio/%s", audio);
        if (urls == NULL) {
            json_object_object_add(m, "audio_url", json_object_new_string(url));
            json_object_object_add(m, "audio_urls", urls = json_object_new_array());
        }
        if (urls != NULL)
            json_object_array_add(urls, json_object_new_string(url));
    }
    if (rc != SQLITE_DONE) {
        err = rose_store_err(rc);
        goto out;
    }
    *out = arr;
    arr = NULL;
out:
    json_object_put(arr);
    sqlite3_finalize(s);
    return err;
}

enum rose_err
rose_user_name(struct rose_store *st, const char *user_id, char **name)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    *name = NULL;
    if ((err = rose_store_prepare(st, "SELECT name FROM users WHERE id = ?1", &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL) {
        if ((*name = strdup((const char *)sqlite3_column_text(s, 0))) == NULL)
            err = ROSE_ERR_NOMEM;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = rose_store_err(rc);
    }
    sqlite3_finalize(s);
    return err;
}

enum rose_err
rose_user_set_name(struct rose_store *st, const char *user_id, const char *name)
{
    return exec_bind(st, "UPDATE users SET name = ?2 WHERE id = ?1", user_id, name,
                     NULL, 0);
}
