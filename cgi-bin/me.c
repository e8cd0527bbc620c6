/*
 * me.fcgi — what Rose keeps about a person, under their control
 * (DESIGN.md §8).  Every route needs the person's Bearer user token and
 * touches only their data.
 *
 *   GET    /memories         their long-term memories
 *   DELETE /memories/{id}    forget one
 *   GET    /me/export        everything stored about them, one JSON document
 *   DELETE /me               erase all of it; the token stops working
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memory/service.h"
#include "ops/audiodir.h"
#include "rose.h"
#include "store/turns.h"

/* The store and the user of the request's token, which every route needs. */
static enum rose_err
caller(struct rose_req *req, struct rose_store **st, char user_id[37])
{
    enum rose_err err;

    if ((err = rose_req_store(req, st)) != ROSE_OK)
        return err;
    return rose_req_user(req, *st, 1, user_id);
}

/* The user's memories as a JSON array. */
static enum rose_err
memories_json(struct rose_req *req, struct rose_store *st, const char *user_id,
              struct json_object **out)
{
    struct rose_memsvc *m;
    struct rose_memory *mems = NULL;
    struct json_object *arr;
    size_t n = 0, i;
    enum rose_err err;

    if ((err = rose_memsvc_get(rose_req_config(req), st, &m)) != ROSE_OK)
        return rose_fail(req, ROSE_ERR_UNAVAILABLE, "Rose's long-term memory is unavailable.");
    if ((err = rose_vectors_list(rose_memsvc_vectors(m), user_id, &mems, &n)) != ROSE_OK)
        return rose_fail(req, ROSE_ERR_UNAVAILABLE, "Rose's long-term memory is unavailable.");
    if ((arr = json_object_new_array()) == NULL) {
        rose_memories_free(mems, n);
        return ROSE_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        struct json_object *o = json_object_new_object();
        if (o == NULL)
            break;
        json_object_object_add(o, "id", json_object_new_string(mems[i].id));
        json_object_object_add(o, "text", json_object_new_string(mems[i].text));
        json_object_object_add(o, "type",
                               json_object_new_string(rose_memory_type_name(mems[i].type)));
        if (mems[i].session_id[0])
            json_object_object_add(o, "session_id", json_object_new_string(mems[i].session_id));
        json_object_object_add(o, "created_at", rose_json_time(mems[i].created_at));
        json_object_array_add(arr, o);
    }
    rose_memories_free(mems, n);
    *out = arr;
    return ROSE_OK;
}

static enum rose_err
memories_list(struct rose_req *req)
{
    struct rose_store *st;
    struct json_object *arr = NULL, *o;
    char user_id[37];
    enum rose_err err;

    if ((err = caller(req, &st, user_id)) != ROSE_OK ||
        (err = memories_json(req, st, user_id, &arr)) != ROSE_OK)
        return err;
    if ((o = json_object_new_object()) == NULL) {
        json_object_put(arr);
        return ROSE_ERR_NOMEM;
    }
    json_object_object_add(o, "memories", arr);
    return rose_reply_json(req, 200, o);
}

static enum rose_err
memory_delete(struct rose_req *req)
{
    const char *p = rose_req_param(req, 0);
    struct rose_store *st;
    struct rose_memsvc *m;
    char user_id[37], id[37];
    enum rose_err err;

    if (p == NULL || strlen(p) != 36 || !rose_uuid_valid(p))
        return rose_fail(req, ROSE_ERR_NOT_FOUND, "No such memory.");
    memcpy(id, p, sizeof(id));
    rose_uuid_lower(id);
    if ((err = caller(req, &st, user_id)) != ROSE_OK)
        return err;
    if (rose_memsvc_get(rose_req_config(req), st, &m) != ROSE_OK)
        return rose_fail(req, ROSE_ERR_UNAVAILABLE, "Rose's long-term memory is unavailable.");
    if ((err = rose_vectors_delete(rose_memsvc_vectors(m), user_id, id)) != ROSE_OK)
        return rose_fail(req, err, err == ROSE_ERR_NOT_FOUND ? "No such memory." : NULL);
    return rose_reply_empty(req, 204);
}

/* Every session of the user, each with its transcript. */
static enum rose_err
sessions_json(struct rose_store *st, const char *user_id, struct json_object **out)
{
    sqlite3_stmt *s = NULL;
    struct json_object *arr = json_object_new_array();
    enum rose_err err;
    int rc;

    if (arr == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = rose_store_prepare(st,
                                  "SELECT id, created_at, last_active, message_count, summary "
                                  "FROM sessions WHERE user_id = ?1 ORDER BY created_at",
                                  &s)) != ROSE_OK) {
        json_object_put(arr);
        return err;
    }
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        struct json_object *o = json_object_new_object(), *msgs = NULL;
        if (o == NULL || rose_messages_list(st, id, 1000000, &msgs) != ROSE_OK) {
            json_object_put(o);
            err = ROSE_ERR_DB;
            break;
        }
        json_object_object_add(o, "session_id", json_object_new_string(id));
        json_object_object_add(o, "created_at", rose_json_time(sqlite3_column_int64(s, 1)));
        json_object_object_add(o, "last_active", rose_json_time(sqlite3_column_int64(s, 2)));
        json_object_object_add(o, "message_count", json_object_new_int64(sqlite3_column_int64(s, 3)));
        json_object_object_add(o, "summary",
                               json_object_new_string((const char *)sqlite3_column_text(s, 4)));
        json_object_object_add(o, "messages", msgs);
        json_object_array_add(arr, o);
    }
    if (err == ROSE_OK && rc != SQLITE_DONE)
        err = rose_store_err(rc);
    sqlite3_finalize(s);
    if (err != ROSE_OK) {
        json_object_put(arr);
        return err;
    }
    *out = arr;
    return ROSE_OK;
}

static enum rose_err
audio_json(struct rose_store *st, const char *user_id, struct json_object **out)
{
    sqlite3_stmt *s = NULL;
    struct json_object *arr = json_object_new_array();
    enum rose_err err;

    if (arr == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = rose_store_prepare(st,
                                  "SELECT id, session_id, mime, bytes, created_at FROM audio "
                                  "WHERE user_id = ?1 ORDER BY created_at",
                                  &s)) != ROSE_OK) {
        json_object_put(arr);
        return err;
    }
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct json_object *o = json_object_new_object();
        char url[96];
        if (o == NULL)
            break;
        snprintf(url, sizeof(url), "/api/v1/voice/audio/%s", sqlite3_column_text(s, 0));
        json_object_object_add(o, "id", json_object_new_string((const char *)sqlite3_column_text(s, 0)));
        if (sqlite3_column_text(s, 1) != NULL)
            json_object_object_add(o, "session_id",
                                   json_object_new_string((const char *)sqlite3_column_text(s, 1)));
        json_object_object_add(o, "mime", json_object_new_string((const char *)sqlite3_column_text(s, 2)));
        json_object_object_add(o, "bytes", json_object_new_int64(sqlite3_column_int64(s, 3)));
        json_object_object_add(o, "created_at", rose_json_time(sqlite3_column_int64(s, 4)));
        json_object_object_add(o, "url", json_object_new_string(url));
        json_object_array_add(arr, o);
    }
    sqlite3_finalize(s);
    *out = arr;
    return ROSE_OK;
}

static enum rose_err
export(struct rose_req *req)
{
    struct rose_store *st;
    struct json_object *o = NULL, *user = NULL, *sessions = NULL, *memories = NULL, *audio = NULL;
    char user_id[37], *name = NULL;
    enum rose_err err;

    if ((err = caller(req, &st, user_id)) != ROSE_OK)
        return err;
    if ((err = memories_json(req, st, user_id, &memories)) != ROSE_OK ||
        (err = sessions_json(st, user_id, &sessions)) != ROSE_OK ||
        (err = audio_json(st, user_id, &audio)) != ROSE_OK ||
        (err = rose_user_name(st, user_id, &name)) != ROSE_OK)
        goto out;
    if ((o = json_object_new_object()) == NULL || (user = json_object_new_object()) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    json_object_object_add(user, "user_id", json_object_new_string(user_id));
    json_object_object_add(user, "name", name ? json_object_new_string(name) : NULL);
    json_object_object_add(o, "exported_at", rose_json_time(rose_now_ms()));
    json_object_object_add(o, "user", user);
    json_object_object_add(o, "sessions", sessions);
    json_object_object_add(o, "memories", memories);
    json_object_object_add(o, "audio", audio);
    user = sessions = memories = audio = NULL;
    rose_reply_header(req, "Content-Disposition", "attachment; filename=\"rose-export.json\"");
    err = rose_reply_json(req, 200, o);
    o = NULL;
out:
    json_object_put(o);
    json_object_put(user);
    json_object_put(sessions);
    json_object_put(memories);
    json_object_put(audio);
    free(name);
    return err;
}

/* Remove DATA_DIR/tts-cache/<user_id> and what is in it (regular files only). */
static void
remove_user_cache(const char *data_dir, const char *user_id)
{
    char path[4096];
    DIR *d;
    struct dirent *e;
    int dfd;

    snprintf(path, sizeof(path), "%s/tts-cache/%s", data_dir, user_id);
    if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return;
    if ((d = fdopendir(dfd)) == NULL) {
        close(dfd);
        return;
    }
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0); /* never follows a link; a folder fails */
    closedir(d);
    rmdir(path);
}

/*
 * DELETE /me: memories first (Qdrant cannot join our transaction; if it
 * refuses, nothing else is touched and the answer is 503), then, in one
 * transaction, the audio rows, the sessions (messages, checkpoints and
 * idempotency records cascade) and the user; then the files.
 */
static enum rose_err
erase(struct rose_req *req)
{
    const struct rose_config *cfg = rose_req_config(req);
    struct rose_store *st;
    struct rose_memsvc *m;
    sqlite3_stmt *s = NULL;
    char user_id[37], (*ids)[37] = NULL;
    size_t n = 0;
    enum rose_err err;

    if ((err = caller(req, &st, user_id)) != ROSE_OK)
        return err;
    if (rose_memsvc_get(cfg, st, &m) != ROSE_OK ||
        rose_vectors_delete_user(rose_memsvc_vectors(m), user_id) != ROSE_OK)
        return rose_fail(req, ROSE_ERR_UNAVAILABLE,
                         "Rose cannot erase your memories right now; nothing was deleted. "
                         "Please try again.");
    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if ((err = rose_store_prepare(st, "DELETE FROM audio WHERE user_id = ?1 OR session_id IN "
                                      "(SELECT id FROM sessions WHERE user_id = ?1) RETURNING id",
                                  &s)) != ROSE_OK)
        goto out;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        void *p = realloc(ids, (n + 1) * sizeof(*ids));
        if (p == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        ids = p;
        snprintf(ids[n++], 37, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((err = rose_store_prepare(st, "DELETE FROM users WHERE id = ?1", &s)) != ROSE_OK)
        goto out;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        err = rose_store_err(sqlite3_errcode(rose_store_db(st)));
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((err = rose_store_commit(st)) != ROSE_OK)
        goto out;
    rose_audiodir_remove_ids(cfg->data_dir, (const char (*)[37])ids, n);
    remove_user_cache(cfg->data_dir, user_id);
    rose_logf(ROSE_LOG_INFO, "user_erased", "user %s erased (%zu audio files)", user_id, n);
out:
    sqlite3_finalize(s);
    if (err != ROSE_OK)
        rose_store_rollback(st);
    free(ids);
    return err == ROSE_OK ? rose_reply_empty(req, 204) : err;
}

static const struct rose_route routes[] = {
    {"GET", "/memories", ROSE_BODY_NONE, 0, memories_list},
    {"DELETE", "/memories/{}", ROSE_BODY_NONE, 0, memory_delete},
    {"GET", "/me/export", ROSE_BODY_NONE, 0, export},
    {"DELETE", "/me", ROSE_BODY_NONE, 0, erase},
};

int
main(int argc, char **argv)
{
    return rose_http_main("me", routes, sizeof(routes) / sizeof(routes[0]), argc, argv);
}
