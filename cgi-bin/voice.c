/*
 * voice.fcgi — a spoken turn and Rose's spoken answer (DESIGN.md §4, §5, §7).
 *
 *   POST /voice/process       multipart: audio (file) + session_id
 *        → {session_id, transcript, text, audio_url, duration_ms, timings}
 *        with Accept: text/event-stream, as server-sent events: transcript,
 *        token (Rose's words as they come), audio (one per sentence, spoken
 *        while the LLM writes the next), then done or error (DESIGN.md §6)
 *   GET  /voice/audio/{id}    the reply audio; byte ranges; 404 once gone
 *
 * Everything about the upload is checked before any provider is called:
 * multipart shape, sizes, the session, the format from magic bytes, and a
 * WAV's duration.  Speech-to-text is the configured provider (a WAV falls
 * back to PocketSphinx when it fails) or PocketSphinx offline; silence and
 * known Whisper artifacts get a short gentle reply that is not added to the
 * history; text-to-speech is the configured provider or Flite offline, with
 * a cache, and a failure leaves the reply as text with audio_url "".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/sniff.h"
#include "audio/wav.h"
#include "engines/stt_sphinx.h"
#include "http/multipart.h"
#include "memory/service.h"
#include "pipeline/persona.h"
#include "pipeline/speech.h"
#include "pipeline/turn.h"
#include "providers/stt.h"
#include "resilience/call.h"
#include "rose.h"
#include "store/audio.h"

/* Silence padded after the speech: PocketSphinx drops the last word
 * otherwise. */
#define SPHINX_PAD_MS 500

/* A transcription provider's answer body: a transcript (verbose JSON at most). */
#define PROVIDER_RESPONSE_MAX (8 * 1024 * 1024)

/* The multipart fields of /voice/process. */
enum { F_AUDIO, F_SESSION, F__MAX };

/* --------------------------------------------------------------- helpers */

static double
ms_since(double t0)
{
    return rose_mono_ms() - t0;
}

static void
add_ms(struct json_object *o, const char *key, double ms)
{
    char num[32];

    snprintf(num, sizeof(num), "%.3f", ms);
    json_object_object_add(o, key, json_object_new_double_s(ms, num));
}

/*
 * Is this transcript silence?  Empty, or one of the phrases Whisper is
 * known to invent from silence or noise.  Compared lowercase, without
 * punctuation.
 */
static int
is_silence(const char *t)
{
    static const char *const artifacts[] = {
        "", "you", "thank you", "thanks for watching", "thank you for watching",
        "thank you so much for watching", "thanks for watching and see you next time",
        "blank_audio", "music", "silence", "bye",
    };
    char norm[128];
    size_t i, o = 0;

    for (; *t && o + 1 < sizeof(norm); t++) {
        unsigned char c = (unsigned char)*t;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80)
            norm[o++] = (char)c;
        else if (o > 0 && norm[o - 1] != ' ')
            norm[o++] = ' ';
    }
    if (*t) /* longer than any artifact */
        return 0;
    while (o > 0 && norm[o - 1] == ' ')
        o--;
    norm[o] = '\0';
    if (strncmp(norm, "subtitles by", 12) == 0)
        return 1;
    for (i = 0; i < sizeof(artifacts) / sizeof(artifacts[0]); i++)
        if (strcmp(norm, artifacts[i]) == 0)
            return 1;
    return 0;
}

/* Count a silent turn (or reset the count) and return the new count. */
static long
silent_turns(struct rose_store *st, const char *session_id, int silent)
{
    sqlite3_stmt *s = NULL;
    long n = 0;

    if (rose_store_prepare(st,
                           silent ? "UPDATE sessions SET silent_turns = silent_turns + 1 "
                                    "WHERE id = ?1 RETURNING silent_turns"
                                  : "UPDATE sessions SET silent_turns = 0 WHERE id = ?1 "
                                    "RETURNING silent_turns",
                           &s) != ROSE_OK)
        return 0;
    sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* --------------------------------------------------------- speech to text */

struct stt_ctx {
    struct rose_stt_opts o;
    const void *audio;
    size_t len;
    const char *filename, *mime;
    struct rose_stt_result r;
};

static enum rose_err
stt_attempt(void *arg, long timeout_ms, struct rose_attempt *a)
{
    struct stt_ctx *x = arg;
    enum rose_err err;

    rose_stt_result_free(&x->r);
    memset(&x->r, 0, sizeof(x->r));
    x->o.timeout_ms = timeout_ms;
    if (x->o.connect_timeout_ms > timeout_ms)
        x->o.connect_timeout_ms = timeout_ms;
    err = rose_stt_transcribe(&x->o, x->audio, x->len, x->filename, x->mime, &x->r);
    a->http_status = x->r.http_status;
    a->retry_after_s = x->r.retry_after_s;
    a->error_type = x->r.error_type;
    return err;
}

/* PocketSphinx over a parsed WAV; the decoder is made once per process. */
static enum rose_err
stt_offline(const struct rose_wav *wav, char **text)
{
    static int ready;
    int16_t *pcm = NULL;
    size_t n = 0;
    enum rose_err err;

    if (!ready) {
        if ((err = rose_stt_sphinx_init(NULL)) != ROSE_OK)
            return err;
        ready = 1;
    }
    if ((err = rose_wav_to_mono16k(wav, SPHINX_PAD_MS, &pcm, &n)) != ROSE_OK)
        return err;
    err = rose_stt_sphinx_decode(pcm, n, text);
    free(pcm);
    return err;
}

/* ------------------------------------------------------- POST /process */

static const char *const gentle[] = {
    "I'm here whenever you're ready.",
    "Take your time. I'm listening.",
    "No rush at all. Say whatever is on your heart when it comes.",
};

static enum rose_err
process(struct rose_req *req)
{
    const struct rose_config *cfg = rose_req_config(req);
    struct rose_multipart_field fields[F__MAX] = {
        {"audio", (size_t)cfg->max_audio_bytes, ROSE_MULTIPART_REQUIRED},
        {"session_id", 256, ROSE_MULTIPART_REQUIRED},
    };
    struct rose_multipart *mp = NULL;
    struct rose_multipart_part *audio, *sid_part;
    struct rose_store *st;
    struct rose_session s;
    struct rose_role_info stt;
    struct rose_wav wav;
    struct json_object *o = NULL, *tm = NULL, *turn_body = NULL;
    enum rose_audio_fmt fmt;
    const char *data, *reply = NULL;
    char msg[200], sid[37], owner[37], *transcript = NULL;
    double t0 = rose_mono_ms(), deadline, stt_ms = 0, llm_ms = 0, tts_ms = 0, provider_ms = 0;
    int have_session = 0, is_wav, stream, streaming = 0;
    size_t len;
    long silences = 0;
    long long reply_id = 0; /* the stored reply's message, to tie its audio to */
    struct rose_speaker sp; /* speaks the reply; streamed, relays it as events too */
    enum rose_err err;

    deadline = t0 + (double)cfg->workflow_timeout_seconds * 1000.0;
    memset(&s, 0, sizeof(s));
    memset(&sp, 0, sizeof(sp));
    /* Shape and sizes, before anything else. */
    if ((err = rose_multipart_new(rose_req_env(req, "CONTENT_TYPE"), fields, F__MAX, &mp, msg,
                                  sizeof(msg))) != ROSE_OK)
        return rose_fail(req, err, msg);
    if ((err = rose_req_body(req, &data, &len)) != ROSE_OK)
        goto out;
    if ((err = rose_multipart_feed(mp, data, len)) == ROSE_OK)
        err = rose_multipart_finish(mp);
    if (err != ROSE_OK) {
        if (err == ROSE_ERR_TOO_LARGE)
            snprintf(msg, sizeof(msg), "The recording is larger than %ld bytes.",
                     cfg->max_audio_bytes);
        else
            snprintf(msg, sizeof(msg), "%s", rose_multipart_reason(mp));
        err = rose_fail(req, err, msg);
        goto out;
    }
    audio = rose_multipart_get(mp, F_AUDIO);
    sid_part = rose_multipart_get(mp, F_SESSION);
    snprintf(sid, sizeof(sid), "%.36s", sid_part->data);
    rose_trim(sid);
    if (sid_part->len > 40 || memchr(sid_part->data, '\0', sid_part->len) != NULL ||
        strlen(sid) != 36 || !rose_uuid_valid(sid)) {
        err = rose_fail(req, ROSE_ERR_INVALID_FIELD, "session_id must be a UUID.");
        goto out;
    }
    rose_uuid_lower(sid);
    rose_req_log_session(req, sid);
    if (audio->len == 0) {
        err = rose_fail(req, ROSE_ERR_EMPTY, "The recording is empty.");
        goto out;
    }
    /* The session (a token, when sent, must own it). */
    if ((err = rose_req_store(req, &st)) != ROSE_OK ||
        (err = rose_req_user(req, st, 0, owner)) != ROSE_OK)
        goto out;
    if ((err = rose_session_get(st, sid, owner[0] ? owner : NULL, &s)) != ROSE_OK) {
        err = rose_fail(req, err, err == ROSE_ERR_NOT_FOUND ? "No such session." : NULL);
        goto out;
    }
    have_session = 1;
    /* The format, from the bytes, not from what the client says. */
    fmt = rose_audio_sniff((const unsigned char *)audio->data, audio->len);
    if (fmt == ROSE_AUDIO_UNKNOWN) {
        err = rose_fail(req, ROSE_ERR_MEDIA_TYPE,
                        "Rose can hear WAV, WebM, Ogg, MP3, MP4/M4A or FLAC recordings.");
        goto out;
    }
    rose_config_role(cfg, ROSE_ROLE_STT, &stt);
    is_wav = fmt == ROSE_AUDIO_WAV;
    if (!is_wav && stt.mode != ROSE_MODE_HOSTED) {
        err = rose_fail(req, ROSE_ERR_MEDIA_TYPE,
                        "Offline speech recognition needs WAV audio (16-bit PCM is best).");
        goto out;
    }
    if (is_wav) {
        if (rose_wav_parse((const unsigned char *)audio->data, audio->len, &wav) != ROSE_OK) {
            err = rose_fail(req, ROSE_ERR_INVALID_FIELD,
                            "The recording is not a WAV file Rose can read.");
            goto out;
        }
        if (wav.info.duration_ms > (unsigned long)cfg->max_audio_seconds * 1000UL) {
            snprintf(msg, sizeof(msg), "The recording is longer than %ld seconds.",
                     cfg->max_audio_seconds);
            err = rose_fail(req, ROSE_ERR_TOO_LARGE, msg);
            goto out;
        }
    }
    rose_log_set_session(sid);
    {
        struct json_object *f = json_object_new_object();
        if (f != NULL) {
            json_object_object_add(f, "format", json_object_new_string(rose_audio_fmt_name(fmt)));
            json_object_object_add(f, "bytes", json_object_new_int64((int64_t)audio->len));
            rose_req_log_field(req, "audio", f);
        }
    }

    /* Speech to text. */
    {
        double ts = rose_mono_ms();
        err = ROSE_ERR_UNAVAILABLE;
        if (stt.mode == ROSE_MODE_HOSTED) {
            struct stt_ctx x;
            struct rose_call c;
            memset(&x, 0, sizeof(x));
            x.o.base_url = stt.base_url;
            x.o.api_key = stt.api_key;
            x.o.model = cfg->stt_model;
            x.o.language = cfg->stt_language;
            x.o.connect_timeout_ms = cfg->provider_connect_timeout_ms;
            x.o.max_response_bytes = PROVIDER_RESPONSE_MAX;
            x.audio = audio->data;
            x.len = audio->len;
            x.filename = audio->filename && audio->filename[0] ? audio->filename : "recording";
            x.mime = rose_audio_fmt_mime(fmt);
            memset(&c, 0, sizeof(c));
            c.cfg = cfg;
            c.st = st;
            c.role = "stt";
            c.provider = stt.provider;
            c.what = "transcribe";
            c.deadline_ms = deadline;
            err = rose_resilient_call(&c, stt_attempt, &x);
            provider_ms += c.provider_ms;
            if (err == ROSE_OK) {
                transcript = x.r.text;
                x.r.text = NULL;
            }
            rose_stt_result_free(&x.r);
        }
        if (err != ROSE_OK && is_wav) /* offline, or the provider failed */
            err = stt_offline(&wav, &transcript);
        stt_ms = ms_since(ts);
        if (err != ROSE_OK) {
            err = rose_fail(req, err == ROSE_ERR_TIMEOUT ? ROSE_ERR_TIMEOUT : ROSE_ERR_UNAVAILABLE,
                            "Rose could not listen to that right now. Please try again.");
            goto out;
        }
        rose_trim(transcript);
    }

    /* Streamed: from here on the answer is events; errors become an error event. */
    stream = rose_req_accepts(req, "text/event-stream");
    if ((err = rose_speaker_init(&sp, cfg, st, s.id, s.user_id, deadline,
                                 stream ? rose_sse_token : NULL, stream ? rose_sse_audio : NULL,
                                 req)) != ROSE_OK)
        goto out;
    if (stream) {
        struct json_object *ev;
        if ((err = rose_reply_stream_begin(req, 200, "text/event-stream; charset=utf-8")) !=
            ROSE_OK)
            goto out;
        streaming = 1;
        if ((ev = json_object_new_object()) == NULL) {
            err = ROSE_ERR_NOMEM;
            goto out;
        }
        json_object_object_add(ev, "transcript", json_object_new_string(transcript));
        err = rose_sse_event(req, "transcript", ev);
        json_object_put(ev);
        if (err != ROSE_OK)
            goto out;
    }

    /* Silence: a gentle word, not part of the conversation. */
    if (is_silence(transcript)) {
        silences = silent_turns(st, s.id, 1);
        reply = silences <= 3 ? gentle[(silences - 1 + 3) % 3] : "";
    } else {
        struct rose_turn_opts to;
        struct rose_turn_result tr;
        double tl = rose_mono_ms();
        silent_turns(st, s.id, 0);
        memset(&to, 0, sizeof(to));
        memset(&tr, 0, sizeof(tr));
        to.cfg = cfg;
        to.st = st;
        to.session_id = s.id;
        to.user_id = s.user_id;
        to.message = transcript;
        to.voice = 1;
        to.started_ms = t0;
        if (streaming) {
            to.on_token = rose_speaker_feed;
            to.token_arg = &sp;
        }
        if ((err = rose_turn_run(&to, &tr)) != ROSE_OK)
            goto out;
        turn_body = tr.body;
        reply_id = tr.reply_id;
        llm_ms = ms_since(tl) - sp.ms;
        {
            struct json_object *tmj, *pm;
            if (json_object_object_get_ex(turn_body, "timings", &tmj) &&
                json_object_object_get_ex(tmj, "provider_ms", &pm))
                provider_ms += json_object_get_double(pm); /* the LLM's share */
        }
        rose_req_defer(req, rose_memory_extract_job_run,
                       rose_memory_extract_job(cfg, st, s.user_id, s.id, transcript));
        {
            struct json_object *v;
            reply = json_object_object_get_ex(turn_body, "text", &v) ? json_object_get_string(v)
                                                                     : "";
        }
    }

    /* Text to speech: a failure leaves the answer as text.  Streamed, the
     * last words (or the gentle reply to silence) are spoken now. */
    if (streaming) {
        if (turn_body == NULL && reply[0] &&
            (err = rose_speaker_feed(&sp, reply, strlen(reply))) != ROSE_OK)
            goto out;
        err = rose_speaker_finish(&sp);
    } else if (reply[0]) {
        err = rose_speaker_say(&sp, reply);
    }
    if (err != ROSE_OK)
        goto out;
    tts_ms = sp.ms;
    provider_ms += sp.provider_ms;
    rose_speaker_link(&sp, reply_id);

    if ((o = json_object_new_object()) == NULL || (tm = json_object_new_object()) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    {
        struct json_object *v;
        json_object_object_add(o, "session_id", json_object_new_string(s.id));
        json_object_object_add(o, "transcript", json_object_new_string(transcript));
        json_object_object_add(o, "text", json_object_new_string(reply));
        json_object_object_add(o, "audio_url",
                               json_object_array_length(sp.urls) > 0
                                   ? json_object_get(json_object_array_get_idx(sp.urls, 0))
                                   : json_object_new_string(""));
        json_object_object_add(o, "duration_ms",
                               json_object_new_int64(is_wav ? (int64_t)wav.info.duration_ms : 0));
        json_object_object_add(o, "workflow",
                               json_object_new_string(turn_body ? "audio" : "silence"));
        if (turn_body != NULL && json_object_object_get_ex(turn_body, "engine", &v))
            json_object_object_add(o, "engine", json_object_get(v));
        if (turn_body != NULL && json_object_object_get_ex(turn_body, "fallback", &v))
            json_object_object_add(o, "fallback", json_object_get(v));
        add_ms(tm, "stt_ms", stt_ms);
        add_ms(tm, "llm_ms", llm_ms);
        add_ms(tm, "tts_ms", tts_ms);
        add_ms(tm, "provider_ms", provider_ms);
        add_ms(tm, "total_ms", ms_since(t0));
        json_object_object_add(o, "timings", tm);
        rose_req_log_field(req, "stages", json_object_get(tm));
        tm = NULL;
    }
    if (streaming) {
        json_object_object_add(o, "audio_urls", json_object_get(sp.urls));
        err = rose_sse_event(req, "done", o);
    } else {
        err = rose_reply_json(req, 200, o);
        o = NULL;
    }
out:
    if (streaming && err != ROSE_OK) {
        rose_sse_error(req, err,
                       err == ROSE_ERR_UPSTREAM ? "Rose lost her words midway. Please say that again."
                       : err == ROSE_ERR_TIMEOUT ? "Rose took too long to answer. Please try again."
                                                 : NULL);
        rose_req_log_field(req, "stream_error", json_object_new_string(rose_err_code(err)));
    }
    if (streaming)
        err = ROSE_OK; /* the response is already on its way */
    rose_speaker_free(&sp);
    json_object_put(o);
    json_object_put(tm);
    json_object_put(turn_body);
    free(transcript);
    if (have_session)
        rose_session_clear(&s);
    rose_multipart_free(mp);
    return err;
}

/* ------------------------------------------------------- GET /audio/{id} */

/*
 * Parse a single "bytes=a-b" range against size.  1: *from..*to (inclusive)
 * is the range; 0: no usable Range (serve everything); -1: unsatisfiable.
 */
static int
parse_digits(const char **p, long long *out)
{
    long long v = 0;
    const char *s = *p;

    if (*s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (LLONG_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    *p = s;
    *out = v;
    return 1;
}

/*
 * Parse a single "bytes=a-b", "bytes=a-" or "bytes=-n" (RFC 9110: digits
 * only) against size.  1: *from..*to (inclusive) is the range; 0: no usable
 * Range (serve everything: absent, malformed or several ranges); -1:
 * unsatisfiable.
 */
static int
parse_range(const char *h, long long size, long long *from, long long *to)
{
    long long a, b;

    if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return 0;
    h += 6;
    if (*h == '-') { /* the last n bytes */
        h++;
        if (!parse_digits(&h, &b) || *h != '\0')
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return 1;
    }
    if (!parse_digits(&h, &a) || *h++ != '-')
        return 0;
    if (*h == '\0') {
        b = size - 1;
    } else if (!parse_digits(&h, &b) || *h != '\0' || b < a) {
        return 0;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 1;
}

static enum rose_err
audio_get(struct rose_req *req)
{
    const struct rose_config *cfg = rose_req_config(req);
    const char *p = rose_req_param(req, 0), *token;
    struct rose_audio_row row;
    struct rose_store *st;
    char id[37], owner[37], cr[96];
    long long from = 0, to = 0;
    off_t size = 0;
    int fd = -1, r;
    char *buf = NULL;
    enum rose_err err;

    /* Anything that is not a server-made id cannot exist: no lookup at all. */
    if (p == NULL || strlen(p) != 36 || !rose_uuid_valid(p))
        return rose_fail(req, ROSE_ERR_NOT_FOUND, "No such audio.");
    memcpy(id, p, sizeof(id));
    rose_uuid_lower(id);
    if ((err = rose_req_bearer(req, &token)) != ROSE_OK)
        return rose_fail(req, err, "The Authorization header must be 'Bearer <user_token>'.");
    if ((err = rose_req_store(req, &st)) != ROSE_OK)
        return err;
    if ((err = rose_audio_find(st, id, &row)) != ROSE_OK)
        return rose_fail(req, err, err == ROSE_ERR_NOT_FOUND ? "No such audio." : NULL);
    if (token != NULL) {
        if ((err = rose_user_by_token(st, token, owner)) != ROSE_OK)
            return err;
        if (strcmp(owner, row.user_id) != 0) /* another user's: as if it did not exist */
            return rose_fail(req, ROSE_ERR_NOT_FOUND, "No such audio.");
    }
    if (row.session_id[0])
        rose_req_log_session(req, row.session_id);
    if (rose_audio_open(cfg->data_dir, &row, &fd, &size) != ROSE_OK)
        return rose_fail(req, ROSE_ERR_NOT_FOUND, "This audio has expired.");
    rose_reply_header(req, "Accept-Ranges", "bytes");
    r = parse_range(rose_req_env(req, "HTTP_RANGE"), (long long)size, &from, &to);
    if (r < 0) {
        close(fd);
        snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
        rose_reply_header(req, "Content-Range", cr);
        return rose_fail(req, ROSE_ERR_RANGE, "That byte range is outside the audio.");
    }
    if (r == 0) {
        from = 0;
        to = (long long)size - 1;
    }
    if (size > 0 && (buf = malloc((size_t)(to - from + 1))) == NULL) {
        close(fd);
        return ROSE_ERR_NOMEM;
    }
    if (size > 0 && pread(fd, buf, (size_t)(to - from + 1), (off_t)from) != to - from + 1) {
        close(fd);
        free(buf);
        return ROSE_ERR_IO;
    }
    close(fd);
    if (r == 1) {
        snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", from, to, (long long)size);
        rose_reply_header(req, "Content-Range", cr);
    }
    err = rose_reply_bytes(req, r == 1 ? 206 : 200, row.mime, buf ? buf : "",
                           size > 0 ? (size_t)(to - from + 1) : 0);
    free(buf);
    return err;
}

static const struct rose_route routes[] = {
    {"POST", "/voice/process", ROSE_BODY_RAW, ROSE_BODY_MAX, process},
    {"GET", "/voice/audio/{}", ROSE_BODY_NONE, 0, audio_get},
};

int
main(int argc, char **argv)
{
    return rose_http_main("voice", routes, sizeof(routes) / sizeof(routes[0]), argc, argv);
}
