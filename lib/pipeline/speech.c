/*
 * speech.c — Rose's words spoken: cache, provider or Flite, stored audio;
 * and the speaker that speaks a streamed reply a sentence at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/text.h"
#include "engines/tts_flite.h"
#include "pipeline/persona.h"
#include "pipeline/speech.h"
#include "providers/tts.h"
#include "resilience/call.h"
#include "store/audio.h"

struct tts_ctx {
    struct rose_tts_opts o;
    const char *text;
    struct rose_tts_result r;
};

static enum rose_err
tts_attempt(void *arg, long timeout_ms, struct rose_attempt *a)
{
    struct tts_ctx *x = arg;
    enum rose_err err;

    rose_tts_result_free(&x->r);
    memset(&x->r, 0, sizeof(x->r));
    x->o.timeout_ms = timeout_ms;
    if (x->o.connect_timeout_ms > timeout_ms)
        x->o.connect_timeout_ms = timeout_ms;
    err = rose_tts_speak(&x->o, x->text, &x->r);
    a->http_status = x->r.http_status;
    a->retry_after_s = x->r.retry_after_s;
    a->error_type = x->r.error_type;
    return err;
}

/* Speak text for session_id of user_id; id gets the new audio's id.  A
 * phrase spoken before comes from the cache with no provider call. */
static enum rose_err
speak(const struct rose_config *cfg, struct rose_store *st, const char *session_id,
      const char *user_id, const char *text, double deadline, double *provider_ms, char id[37])
{
    struct rose_role_info info;
    struct tts_ctx x;
    char key[65], settings[64];
    const char *mime, *voice;
    unsigned char *wav = NULL;
    size_t wav_len = 0;
    enum rose_err err;

    rose_config_role(cfg, ROSE_ROLE_TTS, &info);
    memset(&x, 0, sizeof(x));
    if (info.mode == ROSE_MODE_HOSTED) {
        int eleven = strcmp(cfg->tts_provider, "elevenlabs") == 0;
        mime = "audio/mpeg";
        voice = eleven ? cfg->elevenlabs_voice_id : cfg->tts_voice;
        x.o.api = eleven ? ROSE_TTS_ELEVENLABS : ROSE_TTS_OPENAI;
        x.o.base_url = info.base_url;
        x.o.api_key = info.api_key;
        x.o.model = cfg->tts_model;
        x.o.voice = voice;
        x.o.stability = 0.5;
        x.o.similarity_boost = 0.75;
        x.o.connect_timeout_ms = cfg->provider_connect_timeout_ms;
        x.o.max_response_bytes = ROSE_SPEECH_RESPONSE_MAX;
        snprintf(settings, sizeof(settings), "%.2f/%.2f", x.o.stability, x.o.similarity_boost);
    } else {
        mime = "audio/wav";
        voice = "slt";
        snprintf(settings, sizeof(settings), "flite");
    }
    rose_tts_cache_key(info.provider, voice, info.mode == ROSE_MODE_HOSTED ? cfg->tts_model : "",
                       settings, text, key);
    if (rose_tts_cache_take(st, cfg->data_dir, key, mime, session_id, user_id, id) == ROSE_OK)
        return ROSE_OK;
    if (info.mode == ROSE_MODE_HOSTED) {
        struct rose_call c;
        memset(&c, 0, sizeof(c));
        c.cfg = cfg;
        c.st = st;
        c.role = "tts";
        c.provider = info.provider;
        c.what = "speak";
        c.deadline_ms = deadline;
        x.text = text;
        err = rose_resilient_call(&c, tts_attempt, &x);
        *provider_ms += c.provider_ms;
        if (err == ROSE_OK) {
            rose_tts_cache_put(cfg->data_dir, user_id, key, mime, x.r.audio, x.r.len);
            err = rose_audio_save(st, cfg->data_dir, session_id, user_id, mime, x.r.audio, x.r.len,
                                  id);
        }
        rose_tts_result_free(&x.r);
        return err;
    }
    {
        static int ready;
        if (!ready && (err = rose_tts_flite_init()) != ROSE_OK)
            return err;
        ready = 1;
    }
    if ((err = rose_tts_flite_speak(text, &wav, &wav_len)) != ROSE_OK)
        return err;
    rose_tts_cache_put(cfg->data_dir, user_id, key, mime, wav, wav_len);
    err = rose_audio_save(st, cfg->data_dir, session_id, user_id, mime, wav, wav_len, id);
    free(wav);
    return err;
}

/* ------------------------------------------------------------ the speaker */

enum rose_err
rose_speaker_init(struct rose_speaker *sp, const struct rose_config *cfg, struct rose_store *st,
                  const char *session_id, const char *user_id, double deadline,
                  rose_speaker_text_fn on_text, rose_speaker_audio_fn on_audio, void *arg)
{
    memset(sp, 0, sizeof(*sp));
    sp->cfg = cfg;
    sp->st = st;
    sp->session_id = session_id;
    sp->user_id = user_id;
    sp->deadline = deadline;
    sp->on_text = on_text;
    sp->on_audio = on_audio;
    sp->arg = arg;
    rose_buf_init(&sp->pending, ROSE_LLM_RESPONSE_MAX);
    return (sp->urls = json_object_new_array()) != NULL ? ROSE_OK : ROSE_ERR_NOMEM;
}

/* Speak text[0..len) (markup dropped) and hand its URL on. */
static enum rose_err
speak_piece(struct rose_speaker *sp, const char *text, size_t len)
{
    char *piece, id[37], url[96];
    double t0 = rose_mono_ms();
    enum rose_err err;

    if (sp->failed)
        return ROSE_OK;
    if ((piece = strndup(text, len)) == NULL) {
        err = ROSE_ERR_NOMEM;
    } else if (rose_text_strip_markup(piece) == 0) {
        free(piece);
        return ROSE_OK;
    } else {
        err = speak(sp->cfg, sp->st, sp->session_id, sp->user_id, piece, sp->deadline,
                    &sp->provider_ms, id);
        sp->ms += rose_mono_ms() - t0;
    }
    if (err == ROSE_OK) {
        snprintf(url, sizeof(url), ROSE_SPEECH_URL_PREFIX "%s", id);
        if (json_object_array_add(sp->urls, json_object_new_string(url)) != 0)
            err = ROSE_ERR_NOMEM;
    }
    if (err != ROSE_OK) {
        sp->failed = 1;
        rose_logf(ROSE_LOG_WARN, "tts_failed", "the reply, from here on, is text only");
        free(piece);
        return ROSE_OK;
    }
    err = sp->on_audio ? sp->on_audio(sp->arg, url, json_object_array_length(sp->urls) - 1, piece)
                       : ROSE_OK;
    free(piece);
    return err;
}

enum rose_err
rose_speaker_feed(void *speaker, const char *text, size_t len)
{
    struct rose_speaker *sp = speaker;
    enum rose_err err;
    size_t end;

    if (sp->on_text != NULL && (err = sp->on_text(sp->arg, text, len)) != ROSE_OK)
        return err;
    if ((err = rose_buf_append(&sp->pending, text, len)) != ROSE_OK)
        return err;
    while ((end = rose_text_sentence_end(sp->pending.data, sp->pending.len,
                                         ROSE_SPEECH_SENTENCE_MIN)) > 0) {
        if ((err = speak_piece(sp, sp->pending.data, end)) != ROSE_OK)
            return err;
        memmove(sp->pending.data, sp->pending.data + end, sp->pending.len - end + 1);
        sp->pending.len -= end;
    }
    return ROSE_OK;
}

enum rose_err
rose_speaker_finish(struct rose_speaker *sp)
{
    enum rose_err err = ROSE_OK;

    if (sp->pending.len > 0)
        err = speak_piece(sp, sp->pending.data, sp->pending.len);
    rose_buf_reset(&sp->pending);
    return err;
}

enum rose_err
rose_speaker_say(struct rose_speaker *sp, const char *text)
{
    return speak_piece(sp, text, strlen(text));
}

void
rose_speaker_free(struct rose_speaker *sp)
{
    json_object_put(sp->urls);
    sp->urls = NULL;
    rose_buf_free(&sp->pending);
}

void
rose_speaker_link(struct rose_speaker *sp, long long message_id)
{
    size_t i, n = sp->urls != NULL ? json_object_array_length(sp->urls) : 0;

    /* Every URL in sp->urls was made by speak_piece() with the prefix. */
    for (i = 0; i < n && message_id > 0; i++) {
        const char *url = json_object_get_string(json_object_array_get_idx(sp->urls, i));
        if (rose_audio_link(sp->st, url + strlen(ROSE_SPEECH_URL_PREFIX), message_id) != ROSE_OK)
            rose_logf(ROSE_LOG_WARN, "audio_link_failed",
                      "a spoken piece stays out of the transcript");
    }
}
