/*
 * chat.fcgi — POST /chat: one conversation turn (DESIGN.md §4–6).
 *
 *   {"session_id": uuid, "message": text, "voice"?: bool}
 *   → {"session_id", "text", "workflow", "engine", "fallback"?, "timings",
 *      "audio_url"? and "audio_urls"? when voice is true}
 *
 * With Accept: text/event-stream the same turn streams: "token" events as
 * Rose's words are made (and, for a voice turn, an "audio" event as each
 * sentence is spoken), then "done" with the answer above, or "error".
 * A Bearer token is optional (the session id is the capability, as the
 * original client expects); when present it must own the session.
 * Idempotency-Key: a retried request gets the first answer and runs
 * nothing again.
 */
#include <stdio.h>
#include <string.h>

#include "memory/service.h"
#include "pipeline/speech.h"
#include "pipeline/turn.h"
#include "rose.h"
#include "store/turns.h"

/* A timing of the answer, in milliseconds with three decimals. */
static void
set_ms(struct json_object *tm, const char *key, double ms)
{
    char num[32];

    snprintf(num, sizeof(num), "%.3f", ms);
    json_object_object_add(tm, key, json_object_new_double_s(ms, num));
}

/* The reply of a voice turn spoken: the whole of it (JSON), or what the
 * speaker has not spoken yet (streamed).  Its audio joins the answer
 * (audio_url the first piece, audio_urls all; "" and [] if speech failed),
 * with tts_ms; total_ms and provider_ms grow by what speaking took.  The
 * pieces are tied to the reply's message for the transcript. */
static void
speak_reply(struct rose_speaker *sp, int stream, struct json_object *body, long long reply_id)
{
    struct json_object *text, *tm, *v;
    double t0 = rose_mono_ms();
    enum rose_err err = ROSE_OK;

    if (stream)
        err = rose_speaker_finish(sp);
    else if (json_object_object_get_ex(body, "text", &text) && json_object_get_string_len(text) > 0)
        err = rose_speaker_say(sp, json_object_get_string(text));
    if (err != ROSE_OK) /* the stream broke: the answer goes no further */
        return;
    rose_speaker_link(sp, reply_id);
    json_object_object_add(body, "audio_url",
                           json_object_array_length(sp->urls) > 0
                               ? json_object_get(json_object_array_get_idx(sp->urls, 0))
                               : json_object_new_string(""));
    json_object_object_add(body, "audio_urls", json_object_get(sp->urls));
    if (json_object_object_get_ex(body, "timings", &tm)) {
        set_ms(tm, "tts_ms", sp->ms);
        if (json_object_object_get_ex(tm, "provider_ms", &v))
            set_ms(tm, "provider_ms", json_object_get_double(v) + sp->provider_ms);
        if (json_object_object_get_ex(tm, "total_ms", &v))
            set_ms(tm, "total_ms", json_object_get_double(v) + (rose_mono_ms() - t0));
    }
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
        struct json_object *text, *urls;
        size_t i;
        if (json_object_object_get_ex(body, "text", &text))
            rose_sse_token(req, json_object_get_string(text),
                           (size_t)json_object_get_string_len(text));
        if (json_object_object_get_ex(body, "audio_urls", &urls))
            for (i = 0; i < json_object_array_length(urls); i++)
                rose_sse_audio(req, json_object_get_string(json_object_array_get_idx(urls, i)), i,
                               "");
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
    struct rose_speaker sp;
    const char *key;
    char msg[160], owner[37];
    int stream = rose_req_accepts(req, "text/event-stream"), voice;
    double t0 = rose_mono_ms();
    enum rose_err err;

    memset(&sp, 0, sizeof(sp));
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
    to.voice = voice = v[2].present && v[2].num;
    to.idem_key = key;
    to.started_ms = t0;
    if (voice && (err = rose_speaker_init(&sp, cfg, st, s.id, s.user_id,
                                          t0 + cfg->workflow_timeout_seconds * 1000.0,
                                          stream ? rose_sse_token : NULL,
                                          stream ? rose_sse_audio : NULL, req)) != ROSE_OK)
        goto out;
    if (stream) {
        to.on_token = voice ? rose_speaker_feed : rose_sse_token;
        to.token_arg = voice ? (void *)&sp : (void *)req;
        if ((err = rose_reply_stream_begin(req, 200, "text/event-stream; charset=utf-8")) !=
            ROSE_OK)
            goto out;
    }
    err = rose_turn_run(&to, &tr);
    if (err == ROSE_OK && voice)
        speak_reply(&sp, stream, tr.body, tr.reply_id);
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
    rose_speaker_free(&sp);
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
