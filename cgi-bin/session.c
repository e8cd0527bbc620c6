/*
 * session.fcgi — start, read and delete conversation sessions
 * (DESIGN.md §4, §8).
 *
 *   POST   /session/start   new session; Bearer token optional
 *   GET    /session/{id}    Bearer token of the owner
 *   DELETE /session/{id}    Bearer token of the owner
 *   GET    /session/{id}/messages   the transcript; Bearer token of the owner
 *
 * Without a token, /session/start makes a new anonymous user and returns its
 * token once.  An unknown token is 401; another user's session is 404, the
 * same answer as a session that does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/audiodir.h"
#include "rose.h"
#include "store/turns.h"

/*
 * The session the path names, for a caller whose token must own it: id (the
 * {id} as a lowercase UUID; anything else cannot exist), the store and the
 * caller's user_id; with s, the session row too (the caller clears it).
 */
static enum rose_err
owned_session(struct rose_req *req, struct rose_store **st, char id[37], char user_id[37],
              struct rose_session *s)
{
    const char *p = rose_req_param(req, 0);
    enum rose_err err;

    if (p == NULL || strlen(p) != 36 || !rose_uuid_valid(p))
        return rose_fail(req, ROSE_ERR_NOT_FOUND, "No such session.");
    memcpy(id, p, 37);
    rose_uuid_lower(id);
    rose_req_log_session(req, id);
    if ((err = rose_req_store(req, st)) != ROSE_OK ||
        (err = rose_req_user(req, *st, 1, user_id)) != ROSE_OK)
        return err;
    if (s != NULL && (err = rose_session_get(*st, id, user_id, s)) != ROSE_OK)
        return rose_fail(req, err, err == ROSE_ERR_NOT_FOUND ? "No such session." : NULL);
    return ROSE_OK;
}

static enum rose_err
start(struct rose_req *req)
{
    struct rose_store *st;
    const char *token;
    char user_id[37], new_token[44] = "", session_id[37];
    struct json_object *o;
    enum rose_err err;

    if ((err = rose_req_store(req, &st)) != ROSE_OK)
        return err;
    if ((err = rose_req_bearer(req, &token)) != ROSE_OK)
        return rose_fail(req, err, "The Authorization header must be 'Bearer <user_token>'.");
    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if (token != NULL)
        err = rose_user_by_token(st, token, user_id);
    else
        err = rose_user_create(st, user_id, new_token);
    if (err == ROSE_OK)
        err = rose_session_create(st, user_id, session_id);
    if (err == ROSE_OK)
        err = rose_store_commit(st);
    if (err != ROSE_OK) {
        rose_store_rollback(st);
        explicit_bzero(new_token, sizeof(new_token));
        return err;
    }
    rose_req_log_session(req, session_id);
    o = json_object_new_object();
    if (o != NULL) {
        json_object_object_add(o, "session_id", json_object_new_string(session_id));
        json_object_object_add(o, "user_id", json_object_new_string(user_id));
        if (new_token[0])
            json_object_object_add(o, "user_token", json_object_new_string(new_token));
        json_object_object_add(o, "message",
                               json_object_new_string(new_token[0]
                                                          ? "Session started. Keep user_token "
                                                            "to return; it is shown only once."
                                                          : "Session started."));
    }
    explicit_bzero(new_token, sizeof(new_token));
    return rose_reply_json(req, 200, o);
}

static enum rose_err
get(struct rose_req *req)
{
    struct rose_store *st;
    struct rose_session s;
    char user_id[37], id[37];
    struct json_object *o;
    enum rose_err err;

    if ((err = owned_session(req, &st, id, user_id, &s)) != ROSE_OK)
        return err;
    o = json_object_new_object();
    if (o != NULL) {
        json_object_object_add(o, "session_id", json_object_new_string(s.id));
        json_object_object_add(o, "created_at", rose_json_time(s.created_at));
        json_object_object_add(o, "last_active", rose_json_time(s.last_active));
        json_object_object_add(o, "message_count", json_object_new_int64(s.message_count));
        json_object_object_add(o, "summary", json_object_new_string(s.summary));
    }
    rose_session_clear(&s);
    return rose_reply_json(req, 200, o);
}

/*
 * Delete a session with everything under it: checkpoints and messages
 * cascade; audio rows are deleted in the same transaction, and their files
 * removed once it has committed (a crash in between leaves orphan files,
 * which rose-audio-cleanup removes).
 */
static enum rose_err
delete_with_audio(struct rose_req *req, struct rose_store *st, const char *id,
                  const char *user_id)
{
    const struct rose_config *cfg = rose_req_config(req);
    sqlite3_stmt *s = NULL;
    char (*ids)[37] = NULL;
    size_t n = 0;
    enum rose_err err;

    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if ((err = rose_store_prepare(st,
                                  "DELETE FROM audio WHERE session_id = ?1 AND EXISTS (SELECT 1 "
                                  "FROM sessions WHERE id = ?1 AND user_id = ?2) RETURNING id",
                                  &s)) != ROSE_OK)
        goto out;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        void *p = realloc(ids, (n + 1) * sizeof(*ids));
        const unsigned char *aid = sqlite3_column_text(s, 0);
        if (p == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        ids = p;
        snprintf(ids[n++], 37, "%s", aid ? (const char *)aid : "");
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((err = rose_session_delete(st, id, user_id)) != ROSE_OK ||
        (err = rose_store_commit(st)) != ROSE_OK)
        goto out;
    rose_audiodir_remove_ids(cfg->data_dir, (const char (*)[37])ids, n);
out:
    sqlite3_finalize(s);
    if (err != ROSE_OK)
        rose_store_rollback(st);
    free(ids);
    return err;
}

static enum rose_err
del(struct rose_req *req)
{
    struct rose_store *st;
    char user_id[37], id[37];
    enum rose_err err;

    if ((err = owned_session(req, &st, id, user_id, NULL)) != ROSE_OK)
        return err;
    if ((err = delete_with_audio(req, st, id, user_id)) != ROSE_OK)
        return rose_fail(req, err, err == ROSE_ERR_NOT_FOUND ? "No such session." : NULL);
    return rose_reply_empty(req, 204);
}

static enum rose_err
messages(struct rose_req *req)
{
    struct rose_store *st;
    struct rose_session s;
    struct json_object *list = NULL, *o;
    char user_id[37], id[37];
    enum rose_err err;

    if ((err = owned_session(req, &st, id, user_id, &s)) != ROSE_OK)
        return err;
    rose_session_clear(&s);
    if ((err = rose_messages_list(st, id, ROSE_TRANSCRIPT_MAX, &list)) != ROSE_OK)
        return err;
    if ((o = json_object_new_object()) == NULL) {
        json_object_put(list);
        return ROSE_ERR_NOMEM;
    }
    json_object_object_add(o, "session_id", json_object_new_string(id));
    json_object_object_add(o, "messages", list);
    return rose_reply_json(req, 200, o);
}

static const struct rose_route routes[] = {
    {"GET", "/session/{}/messages", ROSE_BODY_NONE, 0, messages},
    {"POST", "/session/start", ROSE_BODY_JSON_OPTIONAL, 0, start},
    {"GET", "/session/{}", ROSE_BODY_NONE, 0, get},
    {"DELETE", "/session/{}", ROSE_BODY_NONE, 0, del},
};

int
main(int argc, char **argv)
{
    return rose_http_main("session", routes, sizeof(routes) / sizeof(routes[0]), argc, argv);
}
