/*
 * chat.fcgi — POST /chat: one conversation turn (DESIGN.md §4–6).
 *
 *   {"session_id": uuid, "message": text, "voice"?: bool}
 *   → {"session_id", "text", "workflow", "engine", "fallback"?, "timings"}
 *
 * With Accept: text/event-stream the same turn streams: "token" events as
 * Rose's words are made, then "done" with the answer above, or "error".
 * A Bearer token is optional (the session id is the capability, as the
 * original client expects); when present it must own the session.
 * Idempotency-Key: a retried request gets the first answer and runs
 * nothing again.
 */
#include <stdio.h>
#include <string.h>

#include "memory/service.h"
#include "pipeline/turn.h"
#include "rose.h"
#include "store/turns.h"

static enum rose_err
on_token(void *arg, const char *text, size_t len)
{
    struct rose_req *req = arg;
    struct json_object *o = json_object_new_object();
    enum rose_err err;

    if (o == NULL)
        return ROSE_ERR_NOMEM;
    json_object_object_add(o, "text", json_object_new_string_len(text, (int)len));
    err = rose_sse_event(req, "token", o);
    json_object_put(o);
    return err;
}

/* Idempotency-Key: 1..ROSE_IDEM_KEY_MAX visible ASCII characters. */
static enum rose_err
idem_key(struct rose_req *req, const char **key)
{
    const char *k = rose_req_env(req, "HTTP_IDEMPOTENCY_KEY");
    size_t i, n;

    *key = NULL;
    if (k == NULL || *k == '\0') /* lighttpd drops an empty header; Apache passes it */
        return ROSE_OK;
    n = strlen(k);
    for (i = 0; i < n; i++)
        if (k[i] <= 0x20 || k[i] >= 0x7f)
            break;
    if (n == 0 || n > ROSE_IDEM_KEY_MAX || i != n)
        return rose_fail(req, ROSE_ERR_INVALID_FIELD,
                         "Idempotency-Key must be 1 to 128 visible ASCII characters.");
    *key = k;
    return ROSE_OK;
}

/* Replay a stored answer, as JSON or as a stream. */
static enum rose_err
replay(struct rose_req *req, struct json_object *stored, int stream)
{
    struct json_object *status, *body;
    enum rose_err err;

    json_object_object_get_ex(stored, "status", &status);
    json_object_object_get_ex(stored, "body", &body);
    rose_reply_header(req, "Idempotent-Replayed", "true");
    if (!stream)
        return rose_reply_json(req, json_object_get_int(status), json_object_get(body));
    if ((err = rose_reply_stream_begin(req, 200, "text/event-stream; charset=utf-8")) != ROSE_OK)
        return err;
    {
        struct json_object *text;
        if (json_object_object_get_ex(body, "text", &text))
            on_token(req, json_object_get_string(text), (size_t)json_object_get_string_len(text));
    }
    return rose_sse_event(req, "done", body);
}

static enum rose_err
chat(struct rose_req *req)
{
    const struct rose_config *cfg = rose_req_config(req);
    struct rose_field fields[] = {
        {"session_id", ROSE_F_UUID, ROSE_F_REQUIRED, 0, 0, 0},
        {"message", ROSE_F_TEXT, ROSE_F_REQUIRED | ROSE_F_NONEMPTY,
         (size_t)cfg->max_message_bytes, 0, 0},
        {"voice", ROSE_F_BOOL, 0, 0, 0, 0},
    };
    struct rose_fval v[3];
    struct rose_store *st;
    struct rose_session s;
    struct rose_turn_opts to;
    struct rose_turn_result tr;
    struct json_object *stored = NULL;
    const char *key;
    char msg[160], owner[37];
    int stream = rose_req_accepts(req, "text/event-stream");
    enum rose_err err;

    if ((err = rose_fields_check(rose_req_json(req), fields, 3, v, msg, sizeof(msg))) != ROSE_OK)
        return rose_fail(req, err, msg);
    rose_req_log_session(req, v[0].str);
    if ((err = idem_key(req, &key)) != ROSE_OK)
        return err;
    if ((err = rose_req_store(req, &st)) != ROSE_OK ||
        (err = rose_req_user(req, st, 0, owner)) != ROSE_OK)
        return err;
    if ((err = rose_session_get(st, v[0].str, owner[0] ? owner : NULL, &s)) != ROSE_OK)
        return rose_fail(req, err, err == ROSE_ERR_NOT_FOUND ? "No such session." : NULL);
    if (key != NULL) {
        err = rose_idem_claim(st, s.id, key, ROSE_TURN_ROUTE,
                              cfg->workflow_timeout_seconds * 1000LL, &stored);
        if (err == ROSE_ERR_CONFLICT)
            err = rose_fail(req, err,
                            "A request with this Idempotency-Key is still being answered, "
                            "or the key was used for something else.");
        if (err != ROSE_OK || stored != NULL) {
            if (stored != NULL)
                err = replay(req, stored, stream);
            json_object_put(stored);
            rose_session_clear(&s);
            return err;
        }
    }

    memset(&to, 0, sizeof(to));
    memset(&tr, 0, sizeof(tr));
    to.cfg = cfg;
    to.st = st;
    to.session_id = s.id;
    to.user_id = s.user_id;
    to.message = v[1].str;
    to.voice = v[2].present && v[2].num;
    to.idem_key = key;
    if (stream) {
        to.on_token = on_token;
        to.token_arg = req;
        if ((err = rose_reply_stream_begin(req, 200, "text/event-stream; charset=utf-8")) !=
            ROSE_OK)
            goto out;
    }
    err = rose_turn_run(&to, &tr);
    if (tr.body != NULL && key != NULL)
        rose_idem_finish(st, s.id, key, tr.body); /* replays get exactly this answer */
    if (tr.body != NULL) /* what to remember, decided after the answer is sent */
        rose_req_defer(req, rose_memory_extract_job_run,
                       rose_memory_extract_job(cfg, st, s.user_id, s.id, v[1].str));
    if (tr.body != NULL) {
        struct json_object *tm, *engine;
        if (json_object_object_get_ex(tr.body, "timings", &tm))
            rose_req_log_field(req, "stages", json_object_get(tm));
        if (json_object_object_get_ex(tr.body, "engine", &engine))
            rose_req_log_field(req, "engine", json_object_get(engine));
    }
    if (stream) {
        if (err == ROSE_OK)
            rose_sse_event(req, "done", tr.body);
        else
            rose_sse_error(req, err,
                      err == ROSE_ERR_UPSTREAM
                          ? "Rose lost her words midway. Please say that again."
                      : err == ROSE_ERR_TIMEOUT
                          ? "Rose took too long to answer. Please try again."
                          : NULL);
        err = ROSE_OK; /* the response is already on its way */
    } else if (err == ROSE_OK) {
        err = rose_reply_json(req, 200, json_object_get(tr.body));
    }
out:
    if (key != NULL && tr.body == NULL)
        rose_idem_release(st, s.id, key);
    json_object_put(tr.body);
    rose_session_clear(&s);
    return err;
}

static const struct rose_route routes[] = {
    {"POST", "/chat", ROSE_BODY_JSON, 0, chat},
};

int
main(int argc, char **argv)
{
    return rose_http_main("chat", routes, sizeof(routes) / sizeof(routes[0]), argc, argv);
}
