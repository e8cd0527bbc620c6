/*
 * tts.c — hosted text-to-speech over libcurl: ElevenLabs and OpenAI-compatible
 * /audio/speech (see tts.h).
 *
 * One call is one easy handle: a JSON body out, the audio collected with a
 * cap and checked to be MP3 at the end.  Headers, statuses and error bodies
 * are read by http_common.c, as for the other provider clients, so they
 * classify alike.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/json.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/text.h"
#include "providers/http_common.h"
#include "providers/tts.h"

static const char *const api_names[ROSE_TTS__MAX] = {
    [ROSE_TTS_ELEVENLABS] = "elevenlabs",
    [ROSE_TTS_OPENAI] = "openai",
};

const char *
rose_tts_api_name(enum rose_tts_api api)
{
    return (int)api >= 0 && api < ROSE_TTS__MAX ? api_names[api] : "";
}

enum rose_err
rose_tts_api_parse(const char *name, enum rose_tts_api *out)
{
    int i;

    for (i = 0; name != NULL && i < ROSE_TTS__MAX; i++) {
        if (rose_strieq(name, api_names[i])) {
            *out = (enum rose_tts_api)i;
            return ROSE_OK;
        }
    }
    return ROSE_ERR_CONFIG;
}

/* 1 if b[0..n) starts like an MP3: an ID3v2 tag or an MPEG audio frame sync. */
static int
looks_like_mp3(const unsigned char *b, size_t n)
{
    if (n >= 3 && memcmp(b, "ID3", 3) == 0)
        return 1;
    return n >= 2 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0;
}

/* A number in [0, 1] with two decimals written by hand: json-c would write
 * 0.7 as 0.69999999999999996, and "%g" follows the locale ("0,7"). */
static struct json_object *
new_fraction(double v)
{
    long hundredths = lround(v * 100);
    char s[32];

    snprintf(s, sizeof(s), "%ld.%02ld", hundredths / 100, hundredths % 100);
    return json_object_new_double_s((double)hundredths / 100, s);
}

static enum rose_err
build_request(const struct rose_tts_opts *o, const char *text, struct json_object **out)
{
    struct json_object *root, *settings;
    enum rose_err err;

    if ((root = json_object_new_object()) == NULL)
        return ROSE_ERR_NOMEM;
    if (o->api == ROSE_TTS_ELEVENLABS) {
        if ((err = rose_json_add(root, "text", json_object_new_string(text))) != ROSE_OK ||
            (err = rose_json_add(root, "model_id", json_object_new_string(o->model))) != ROSE_OK ||
            (err = rose_json_add(root, "voice_settings", settings = json_object_new_object())) !=
                ROSE_OK ||
            (err = rose_json_add(settings, "stability", new_fraction(o->stability))) != ROSE_OK ||
            (err = rose_json_add(settings, "similarity_boost",
                                 new_fraction(o->similarity_boost))) != ROSE_OK)
            goto out;
    } else {
        if ((err = rose_json_add(root, "model", json_object_new_string(o->model))) != ROSE_OK ||
            (err = rose_json_add(root, "input", json_object_new_string(text))) != ROSE_OK ||
            (err = rose_json_add(root, "voice", json_object_new_string(o->voice))) != ROSE_OK ||
            (err = rose_json_add(root, "response_format", json_object_new_string("mp3"))) !=
                ROSE_OK)
            goto out;
    }
    *out = root;
    root = NULL;
out:
    json_object_put(root);
    return err;
}

/* An ElevenLabs voice_id: 1..64 letters and digits, safe in a URL path. */
static int
valid_voice_id(const char *s)
{
    size_t n = 0;

    for (; (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'); s++)
        n++;
    return *s == '\0' && n > 0 && n <= 64;
}

static enum rose_err
check_args(const struct rose_tts_opts *o, const char *text)
{
    if (o == NULL || (int)o->api < 0 || o->api >= ROSE_TTS__MAX || o->base_url == NULL ||
        o->base_url[0] == '\0' || o->model == NULL || o->model[0] == '\0' || o->voice == NULL ||
        o->voice[0] == '\0' || o->connect_timeout_ms <= 0 || o->timeout_ms <= 0 ||
        o->max_response_bytes == 0)
        return ROSE_ERR_CONFIG;
    /* A CR or LF in the key would let it write its own headers. */
    if (o->api_key != NULL && rose_pcall_has_control_char(o->api_key))
        return ROSE_ERR_CONFIG;
    if (o->api == ROSE_TTS_ELEVENLABS &&
        (o->api_key == NULL || o->api_key[0] == '\0' || !valid_voice_id(o->voice) ||
         !(o->stability >= 0 && o->stability <= 1) ||
         !(o->similarity_boost >= 0 && o->similarity_boost <= 1)))
        return ROSE_ERR_CONFIG;
    if (text == NULL || text[0] == '\0')
        return ROSE_ERR_INTERNAL;
    return ROSE_OK;
}

/* The request URL and the headers that depend on the api. */
static enum rose_err
prepare(const struct rose_tts_opts *o, struct rose_buf *url, struct rose_buf *key,
        struct rose_pcall *pc)
{
    static const char *const hdrs[] = {"Content-Type: application/json", "Accept: audio/mpeg",
                                       "Expect:", NULL};
    const char *lines[2] = {NULL, NULL};
    enum rose_err err;

    if ((err = rose_pcall_url(url, o->base_url)) != ROSE_OK)
        return err;
    if (o->api == ROSE_TTS_ELEVENLABS)
        err = rose_buf_printf(url, "/v1/text-to-speech/%s?output_format=mp3_44100_128", o->voice);
    else
        err = rose_buf_puts(url, "/audio/speech");
    if (err != ROSE_OK || (err = rose_pcall_add_headers(pc, hdrs)) != ROSE_OK)
        return err;
    if (o->api == ROSE_TTS_ELEVENLABS) {
        if ((err = rose_buf_printf(key, "xi-api-key: %s", o->api_key)) != ROSE_OK)
            return err;
        lines[0] = key->data;
        return rose_pcall_add_headers(pc, lines);
    }
    return ROSE_OK;
}

enum rose_err
rose_tts_speak(const struct rose_tts_opts *o, const char *text, struct rose_tts_result *res)
{
    static const char *const id_headers[] = {"request-id", "x-request-id", NULL};
    struct rose_pcall pc;
    struct json_object *req = NULL;
    struct rose_buf url, key;
    enum rose_err err;

    memset(res, 0, sizeof(*res));
    res->retry_after_s = -1;
    res->character_cost = -1;
    rose_buf_init(&url, ROSE_CONF_LINE_MAX + 128);
    rose_buf_init(&key, ROSE_CONF_LINE_MAX + 32);
    if ((err = check_args(o, text)) != ROSE_OK)
        return err;
    rose_pcall_init(&pc, o->max_response_bytes);
    pc.errors = ROSE_PCALL_ERRORS_ELEVENLABS; /* also reads OpenAI's error bodies */
    pc.unavailable_498 = 1;
    pc.id_headers = id_headers;

    if ((err = prepare(o, &url, &key, &pc)) != ROSE_OK)
        goto out;
    if ((err = build_request(o, text, &req)) != ROSE_OK)
        goto out;
    /* ElevenLabs takes its key in xi-api-key (prepare()), OpenAI as a bearer. */
    if ((err = rose_pcall_open(&pc, url.data, o->connect_timeout_ms, o->timeout_ms,
                               o->api == ROSE_TTS_OPENAI ? o->api_key : NULL)) != ROSE_OK)
        goto out;
    if ((err = rose_pcall_json_body(&pc, req)) != ROSE_OK)
        goto out;

    if ((err = rose_pcall_run(&pc)) != ROSE_OK) {
        /* the status, the cap or the transfer decided */
    } else if (!looks_like_mp3((const unsigned char *)pc.body.data, pc.body.len)) {
        err = ROSE_ERR_PARSE;
    } else {
        res->len = pc.body.len;
        if ((res->audio = rose_buf_steal(&pc.body)) == NULL) {
            res->len = 0;
            err = ROSE_ERR_NOMEM;
        }
    }
    res->http_status = (int)pc.status;
    res->retry_after_s = pc.retry_after_s;
    res->character_cost = pc.character_cost;
    memcpy(res->error_type, pc.error_type, sizeof(res->error_type));
    memcpy(res->request_id, pc.request_id, sizeof(res->request_id));
out:
    rose_pcall_free(&pc);
    json_object_put(req);
    rose_buf_free(&key);
    rose_buf_free(&url);
    return err;
}

void
rose_tts_result_free(struct rose_tts_result *res)
{
    if (res == NULL)
        return;
    free(res->audio);
    res->audio = NULL;
    res->len = 0;
}
