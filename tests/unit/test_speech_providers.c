/*
 * test_speech_providers.c — the speech-to-text client (lib/providers/stt.c)
 * and the text-to-speech client (lib/providers/tts.c, ElevenLabs and
 * OpenAI-compatible) against tests/fakes/fake_speech.py, which this program
 * starts (cwd must be the repository root) and stops.  Each case scripts the
 * fake, calls a client, and checks the result and what the fake received,
 * for success and for every error mapping of stt.h and tts.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "providers/stt.h"
#include "providers/tts.h"
#include "fake.h"
#include "t.h"

#define FAKE "tests/fakes/fake_speech.py"
#define KEY "test-key"
#define VOICE "21m00Tcm4TlvDq8ikWAM"
#define UPLOAD_MAX (25 * 1024 * 1024) /* the fake's default, Groq's limit */

static struct fake fake;
static char openai_url[64]; /* http://127.0.0.1:PORT/openai/v1 */

/* --- speech to text ------------------------------------------------------ */

/* A 16 kHz mono 16-bit WAV of n samples, a ramp so no two uploads of
 * different sizes hash alike; caller frees.  *len gets its size. */
static char *
make_wav(size_t samples, size_t *len)
{
    size_t data = samples * 2, i;
    unsigned char *w = calloc(1, 44 + data);
    static const unsigned char hdr[44] = {'R', 'I', 'F',  'F',  0,   0,   0,   0,    'W', 'A', 'V',
                                          'E', 'f', 'm',  't',  ' ', 16,  0,   0,    0,   1,   0,
                                          1,   0,   0x80, 0x3e, 0,   0,   0,   0x7d, 0,   0,   2,
                                          0,   16,  0,    'd',  'a', 't', 'a', 0,    0,   0,   0};

    if (w == NULL)
        abort();
    memcpy(w, hdr, 44);
    for (i = 0; i < 4; i++) {
        w[4 + i] = (unsigned char)((36 + data) >> (8 * i));
        w[40 + i] = (unsigned char)(data >> (8 * i));
    }
    for (i = 0; i < data; i++)
        w[44 + i] = (unsigned char)(i * 7);
    *len = 44 + data;
    return (char *)w;
}

static struct rose_stt_opts
stt_opts(void)
{
    struct rose_stt_opts o = {
        .base_url = openai_url,
        .api_key = KEY,
        .model = "whisper-large-v3-turbo",
        .language = "en",
        .connect_timeout_ms = FAKE_CONNECT_TIMEOUT_MS,
        .timeout_ms = FAKE_TIMEOUT_MS,
        .max_response_bytes = 1 << 16,
    };
    return o;
}

static void
test_stt_ok(void)
{
    struct rose_stt_opts o = stt_opts();
    struct rose_stt_result r;
    struct json_object *req;
    unsigned char sum[ROSE_SHA256_LEN];
    char hex[2 * ROSE_SHA256_LEN + 1], *wav;
    const char *ct;
    size_t len;

    wav = make_wav(16000, &len);
    fake_script(&fake, "[{\"route\": \"transcriptions\","
                       " \"transcript\": \"My name is Sarah and I feel sad today.\"}]");
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_OK, "stt: ok");
    T_STR(r.text, "My name is Sarah and I feel sad today.", "stt: the scripted transcript");
    T_INT(r.http_status, 200, "stt: status");
    T_OK(r.retry_after_s == -1, "stt: no retry_after");
    T_STR(r.error_type, "", "stt: no error_type");
    T_OK(strncmp(r.request_id, "req_", 4) == 0, "stt: x-request-id kept (%s)", r.request_id);
    rose_stt_result_free(&r);
    rose_stt_result_free(&r); /* twice is harmless */

    req = fake_last_request(&fake);
    T_STR(fake_dig_str(req, "path"), "/openai/v1/audio/transcriptions", "stt: request path");
    T_STR(fake_dig_str(req, "auth"), "ok", "stt: bearer key sent");
    ct = fake_dig_str(req, "headers.Content-Type");
    T_OK(ct && strncmp(ct, "multipart/form-data; boundary=", 30) == 0, "stt: multipart upload");
    T_OK(fake_dig(req, "headers.Expect") == NULL, "stt: no Expect: 100-continue");
    T_STR(fake_dig_str(req, "fields.model"), "whisper-large-v3-turbo", "stt: model sent");
    T_STR(fake_dig_str(req, "fields.language"), "en", "stt: language sent");
    T_STR(fake_dig_str(req, "fields.response_format"), "json", "stt: response_format json");
    T_STR(fake_dig_str(req, "files.0.field"), "file", "stt: the file part is 'file'");
    T_STR(fake_dig_str(req, "files.0.filename"), "audio.wav", "stt: file name");
    T_STR(fake_dig_str(req, "files.0.content_type"), "audio/wav", "stt: file content type");
    T_INT(json_object_get_int64(fake_dig(req, "files.0.size")), (long long)len,
          "stt: every byte sent");
    rose_sha256(wav, len, sum);
    rose_hex(sum, sizeof(sum), hex);
    T_STR(fake_dig_str(req, "files.0.sha256"), hex, "stt: the bytes arrived intact");
    json_object_put(req);

    /* Nothing scripted, no language: the default transcript, with Whisper's
     * leading space kept as the server sent it. */
    o.language = NULL;
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_OK,
          "stt default: ok");
    T_STR(r.text, " Hello Rose, I had a long day today.", "stt default: the default transcript");
    rose_stt_result_free(&r);
    req = fake_last_request(&fake);
    T_OK(fake_dig(req, "fields.language") == NULL, "stt: no language field when none is set");
    json_object_put(req);

    o.language = "";
    fake_script(
        &fake,
        "[{\"transcript\": \"\"}, {\"transcript\": \"Je suis fatigu\\u00e9e, \\\"vraiment\\\" "
        "\\ud83c\\udf3f\"}]");
    T_INT(rose_stt_transcribe(&o, wav, len, "recording.webm", "audio/webm", &r), ROSE_OK,
          "stt silence: ok");
    T_STR(r.text, "", "stt silence: empty transcript");
    rose_stt_result_free(&r);
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_OK,
          "stt UTF-8: ok");
    T_STR(r.text,
          "Je suis fatigu\xc3\xa9"
          "e, \"vraiment\" \xf0\x9f\x8c\xbf",
          "stt UTF-8: quotes and non-ASCII intact");
    rose_stt_result_free(&r);
    free(wav);
}

static void
test_stt_errors(void)
{
    struct rose_stt_opts o = stt_opts();
    struct rose_stt_result r;
    char *wav, *big;
    size_t len;
    enum rose_err err;

    wav = make_wav(1600, &len);
    o.api_key = "wrong-key";
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_UPSTREAM,
          "stt 401: upstream");
    T_INT(r.http_status, 401, "stt 401: status");
    T_STR(r.error_type, "invalid_api_key", "stt 401: error code kept");
    T_OK(r.text == NULL, "stt 401: no text");
    rose_stt_result_free(&r);
    o.api_key = NULL;
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_UPSTREAM,
          "stt without a key: upstream");
    T_INT(r.http_status, 401, "stt without a key: 401");
    rose_stt_result_free(&r);
    o = stt_opts();

    fake_script(&fake,
                "[{\"route\": \"transcriptions\", \"status\": 429, \"retry_after\": 2},"
                " {\"status\": 500}, {\"status\": 503, \"retry_after\": 3}, {\"status\": 498},"
                " {\"status\": 503, \"retry_after\": \"Thu, 01 Jan 2015 00:00:00 GMT\"}]");
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_RATE_LIMITED,
          "stt 429: rate limited");
    T_INT(r.http_status, 429, "stt 429: status");
    T_OK(r.retry_after_s == 2, "stt 429: retry_after 2 (got %g)", r.retry_after_s);
    T_STR(r.error_type, "rate_limit_exceeded", "stt 429: error code");
    rose_stt_result_free(&r);
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_UNAVAILABLE,
          "stt 500: unavailable");
    T_STR(r.error_type, "internal_server_error", "stt 500: error type (no code)");
    T_OK(r.retry_after_s == -1, "stt 500: no retry_after");
    rose_stt_result_free(&r);
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_UNAVAILABLE,
          "stt 503: unavailable");
    T_OK(r.retry_after_s == 3, "stt 503: retry_after 3 (got %g)", r.retry_after_s);
    rose_stt_result_free(&r);
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_UNAVAILABLE,
          "stt 498: unavailable");
    T_INT(r.http_status, 498, "stt 498: status");
    rose_stt_result_free(&r);
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_UNAVAILABLE,
          "stt 503 with a date");
    T_OK(r.retry_after_s == 0, "stt 503: a past Retry-After date is 0 s (got %g)", r.retry_after_s);
    rose_stt_result_free(&r);

    /* What the fake itself refuses, as Groq would. */
    T_INT(rose_stt_transcribe(&o, "just some text", 14, "audio.wav", "audio/wav", &r),
          ROSE_ERR_UPSTREAM, "stt bad file: upstream");
    T_INT(r.http_status, 400, "stt bad file: 400");
    T_STR(r.error_type, "invalid_request_error", "stt bad file: invalid_request_error");
    rose_stt_result_free(&r);
    o.model = "whisper-9000";
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_UPSTREAM,
          "stt unknown model: upstream");
    T_INT(r.http_status, 404, "stt unknown model: 404");
    T_STR(r.error_type, "model_not_found", "stt unknown model: model_not_found");
    rose_stt_result_free(&r);
    o = stt_opts();
    if ((big = calloc(1, UPLOAD_MAX + 1)) == NULL)
        abort();
    memcpy(big, "RIFF", 4);
    err = rose_stt_transcribe(&o, big, UPLOAD_MAX + 1, "audio.wav", "audio/wav", &r);
    T_INT(err, ROSE_ERR_UPSTREAM, "stt over 25 MiB: upstream");
    T_INT(r.http_status, 413, "stt over 25 MiB: 413");
    T_STR(r.error_type, "request_too_large", "stt over 25 MiB: request_too_large");
    rose_stt_result_free(&r);
    free(big);

    /* Bodies and transport. */
    fake_script(&fake,
                "[{\"route\": \"transcriptions\", \"malformed\": true},"
                " {\"route\": \"transcriptions\", \"transcript\": \"Lorem ipsum dolor sit amet, "
                "consectetur adipiscing elit, sed do eiusmod tempor incididunt.\"},"
                " {\"route\": \"transcriptions\", \"stall\": 3}]");
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_PARSE,
          "stt malformed JSON: parse");
    T_OK(r.text == NULL, "stt malformed: no text");
    rose_stt_result_free(&r);
    o.max_response_bytes = 60;
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_TOO_LARGE,
          "stt over the response cap: too large");
    rose_stt_result_free(&r);
    o = stt_opts();
    o.timeout_ms = 300;
    T_INT(rose_stt_transcribe(&o, wav, len, "audio.wav", "audio/wav", &r), ROSE_ERR_TIMEOUT,
          "stt stall: timeout");
    T_INT(r.http_status, 0, "stt stall: no status");
    rose_stt_result_free(&r);
    free(wav);
}

static void
test_stt_args(void)
{
    struct rose_stt_opts o = stt_opts();
    struct rose_stt_result r;
    char url[64];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", fake_closed_port());
    o.base_url = url;
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", "audio/wav", &r), ROSE_ERR_UNAVAILABLE,
          "stt refused: unavailable");
    T_INT(r.http_status, 0, "stt refused: no status");
    rose_stt_result_free(&r);

    o = stt_opts();
    o.base_url = NULL;
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", "audio/wav", &r), ROSE_ERR_CONFIG,
          "stt no base URL: config");
    T_OK(r.text == NULL && r.http_status == 0 && r.retry_after_s == -1, "stt: result set anyway");
    o = stt_opts();
    o.base_url = "file:///etc/passwd";
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", "audio/wav", &r), ROSE_ERR_CONFIG,
          "stt file:// URL: config");
    o = stt_opts();
    o.api_key = "key\r\nX-Evil: 1";
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", "audio/wav", &r), ROSE_ERR_CONFIG,
          "stt CRLF in key: config");
    o = stt_opts();
    o.language = "en\r\n";
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", "audio/wav", &r), ROSE_ERR_CONFIG,
          "stt bad language: config");
    o = stt_opts();
    o.model = "";
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", "audio/wav", &r), ROSE_ERR_CONFIG,
          "stt no model: config");
    o = stt_opts();
    T_INT(rose_stt_transcribe(&o, "RIFF", 0, "a.wav", "audio/wav", &r), ROSE_ERR_INTERNAL,
          "stt no audio: internal");
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "../a.wav", "audio/wav", &r), ROSE_ERR_INTERNAL,
          "stt file name with '/': internal");
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a\".wav", "audio/wav", &r), ROSE_ERR_INTERNAL,
          "stt file name with a quote: internal");
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", "audio/\"wav", &r), ROSE_ERR_INTERNAL,
          "stt content type with a quote: internal");
    T_INT(rose_stt_transcribe(&o, "RIFF", 4, "a.wav", NULL, &r), ROSE_ERR_INTERNAL,
          "stt no content type: internal");
    rose_stt_result_free(&r);
    rose_stt_result_free(NULL);
}

/* --- text to speech ------------------------------------------------------ */

static struct rose_tts_opts
eleven_opts(void)
{
    struct rose_tts_opts o = {
        .api = ROSE_TTS_ELEVENLABS,
        .base_url = fake.url,
        .api_key = KEY,
        .model = "eleven_flash_v2_5",
        .voice = VOICE,
        .stability = 0.5,
        .similarity_boost = 0.75,
        .connect_timeout_ms = FAKE_CONNECT_TIMEOUT_MS,
        .timeout_ms = FAKE_TIMEOUT_MS,
        .max_response_bytes = 1 << 20,
    };
    return o;
}

static struct rose_tts_opts
openai_opts(void)
{
    struct rose_tts_opts o = eleven_opts();

    o.api = ROSE_TTS_OPENAI;
    o.base_url = openai_url;
    o.model = "tts-1";
    o.voice = "alloy";
    return o;
}

/* 1 if a[0..n) is an ID3v2 tag followed by nothing but whole MPEG-1 Layer III
 * frames of 417 bytes (what the fake writes), at least one. */
static int
fake_mp3(const unsigned char *a, size_t n)
{
    size_t tag, at;

    if (n < 10 || memcmp(a, "ID3", 3) != 0)
        return 0;
    tag = 10 + ((size_t)a[6] << 21 | (size_t)a[7] << 14 | (size_t)a[8] << 7 | a[9]);
    if (tag >= n)
        return 0;
    for (at = tag; at + 417 <= n; at += 417)
        if (a[at] != 0xff || a[at + 1] != 0xfb || a[at + 2] != 0x90)
            return 0;
    return at == n;
}

static void
test_eleven_ok(void)
{
    static const char text[] = "Take a slow breath with me. The river keeps moving.";
    struct rose_tts_opts o = eleven_opts();
    struct rose_tts_result r;
    struct json_object *req;
    char url[96];

    T_INT(rose_tts_speak(&o, text, &r), ROSE_OK, "elevenlabs: ok");
    T_OK(r.audio != NULL && fake_mp3((unsigned char *)r.audio, r.len),
         "elevenlabs: MP3 bytes, whole frames (%zu bytes)", r.len);
    T_INT(r.http_status, 200, "elevenlabs: status");
    T_INT(r.character_cost, (long)strlen(text), "elevenlabs: character-cost header");
    T_INT(strlen(r.request_id), 20, "elevenlabs: request-id header (%s)", r.request_id);
    T_STR(r.error_type, "", "elevenlabs: no error_type");
    T_OK(r.retry_after_s == -1, "elevenlabs: no retry_after");
    rose_tts_result_free(&r);
    T_OK(r.audio == NULL && r.len == 0, "elevenlabs: result freed");

    req = fake_last_request(&fake);
    T_STR(fake_dig_str(req, "path"), "/v1/text-to-speech/" VOICE, "elevenlabs: voice in the path");
    T_STR(fake_dig_str(req, "query.output_format.0"), "mp3_44100_128", "elevenlabs: output_format");
    T_STR(fake_dig_str(req, "auth"), "ok", "elevenlabs: xi-api-key sent");
    T_OK(fake_dig(req, "headers.Authorization") == NULL, "elevenlabs: no Authorization header");
    T_STR(fake_dig_str(req, "headers.Content-Type"), "application/json", "elevenlabs: JSON body");
    T_STR(fake_dig_str(req, "headers.Accept"), "audio/mpeg", "elevenlabs: accepts audio/mpeg");
    T_STR(fake_dig_str(req, "body.text"), text, "elevenlabs: text sent");
    T_STR(fake_dig_str(req, "body.model_id"), "eleven_flash_v2_5", "elevenlabs: model_id sent");
    T_OK(json_object_get_double(fake_dig(req, "body.voice_settings.stability")) == 0.5,
         "elevenlabs: stability 0.5");
    T_OK(json_object_get_double(fake_dig(req, "body.voice_settings.similarity_boost")) == 0.75,
         "elevenlabs: similarity_boost 0.75");
    json_object_put(req);

    /* The cost comes from the header, not from counting here: the fake
     * counts characters, which for this text are fewer than bytes. */
    snprintf(url, sizeof(url), "%s/", fake.url);
    o.base_url = url;
    T_INT(rose_tts_speak(&o, "Caf\xc3\xa9 \xe2\x98\x95", &r), ROSE_OK,
          "elevenlabs: ok (base URL with '/')");
    T_INT(r.character_cost, 6, "elevenlabs: character-cost is the server's count");
    rose_tts_result_free(&r);
    req = fake_last_request(&fake);
    T_STR(fake_dig_str(req, "body.text"), "Caf\xc3\xa9 \xe2\x98\x95",
          "elevenlabs: UTF-8 sent intact");
    json_object_put(req);
}

static void
test_eleven_errors(void)
{
    struct rose_tts_opts o = eleven_opts();
    struct rose_tts_result r;
    char *longtext;

    o.api_key = "wrong-key";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UPSTREAM, "elevenlabs 401: upstream");
    T_INT(r.http_status, 401, "elevenlabs 401: status");
    T_STR(r.error_type, "invalid_api_key", "elevenlabs 401: detail.status invalid_api_key");
    T_OK(r.audio == NULL && r.len == 0, "elevenlabs 401: no audio");
    T_INT(strlen(r.request_id), 20, "elevenlabs 401: request-id kept");
    rose_tts_result_free(&r);
    o = eleven_opts();

    fake_script(
        &fake,
        "[{\"route\": \"elevenlabs\", \"status\": 429},"
        " {\"route\": \"elevenlabs\", \"status\": 429, \"detail_status\": \"system_busy\","
        " \"retry_after\": 4},"
        " {\"route\": \"elevenlabs\", \"status\": 422},"
        " {\"route\": \"elevenlabs\", \"status\": 500},"
        " {\"route\": \"elevenlabs\", \"status\": 503},"
        " {\"route\": \"elevenlabs\", \"status\": 401, \"detail_status\": \"quota_exceeded\"}]");
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_RATE_LIMITED, "elevenlabs 429: rate limited");
    T_STR(r.error_type, "too_many_concurrent_requests", "elevenlabs 429: the concurrency kind");
    T_OK(r.retry_after_s == -1, "elevenlabs 429: no retry_after sent, none reported");
    rose_tts_result_free(&r);
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_RATE_LIMITED,
          "elevenlabs 429 busy: rate limited");
    T_STR(r.error_type, "system_busy", "elevenlabs 429: the system_busy kind");
    T_OK(r.retry_after_s == 4, "elevenlabs 429 busy: retry_after 4 (got %g)", r.retry_after_s);
    rose_tts_result_free(&r);
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UPSTREAM, "elevenlabs 422: upstream");
    T_INT(r.http_status, 422, "elevenlabs 422: status");
    T_STR(r.error_type, "value_error.missing", "elevenlabs 422: the validation item's type");
    rose_tts_result_free(&r);
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UNAVAILABLE, "elevenlabs 500: unavailable");
    rose_tts_result_free(&r);
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UNAVAILABLE, "elevenlabs 503: unavailable");
    rose_tts_result_free(&r);
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UPSTREAM, "elevenlabs quota: upstream");
    T_STR(r.error_type, "quota_exceeded", "elevenlabs quota: quota_exceeded");
    rose_tts_result_free(&r);

    /* What the fake itself refuses, as ElevenLabs would. */
    if ((longtext = malloc(40002)) == NULL)
        abort();
    memset(longtext, 'a', 40001);
    longtext[40001] = '\0';
    T_INT(rose_tts_speak(&o, longtext, &r), ROSE_ERR_UPSTREAM, "elevenlabs 400: upstream");
    T_INT(r.http_status, 400, "elevenlabs 400: status");
    T_STR(r.error_type, "max_character_limit_exceeded", "elevenlabs 400: detail.status");
    rose_tts_result_free(&r);
    free(longtext);
    o.voice = "NoSuchVoice";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UPSTREAM, "elevenlabs 404: upstream");
    T_INT(r.http_status, 404, "elevenlabs 404: status");
    T_STR(r.error_type, "voice_not_found", "elevenlabs 404: voice_not_found");
    rose_tts_result_free(&r);
    o = eleven_opts();

    /* Bodies and transport. */
    fake_script(&fake, "[{\"route\": \"elevenlabs\", \"malformed\": true},"
                       " {\"route\": \"elevenlabs\", \"frames\": 100},"
                       " {\"route\": \"elevenlabs\", \"stall\": 3}]");
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_PARSE,
          "elevenlabs HTML instead of MP3: parse");
    T_OK(r.audio == NULL, "elevenlabs parse: no audio");
    T_INT(r.character_cost, 6, "elevenlabs parse: headers still reported");
    rose_tts_result_free(&r);
    o.max_response_bytes = 10000;
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_TOO_LARGE,
          "elevenlabs over the response cap: too large");
    T_OK(r.audio == NULL, "elevenlabs too large: no audio");
    rose_tts_result_free(&r);
    o = eleven_opts();
    o.timeout_ms = 300;
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_TIMEOUT, "elevenlabs stall: timeout");
    T_INT(r.http_status, 0, "elevenlabs stall: no status");
    rose_tts_result_free(&r);
}

static void
test_openai_tts(void)
{
    struct rose_tts_opts o = openai_opts();
    struct rose_tts_result r;
    struct json_object *req;

    T_INT(rose_tts_speak(&o, "You are not alone.", &r), ROSE_OK, "openai tts: ok");
    T_OK(r.audio != NULL && fake_mp3((unsigned char *)r.audio, r.len), "openai tts: MP3 bytes");
    T_INT(r.character_cost, -1, "openai tts: no character-cost");
    T_OK(strncmp(r.request_id, "req_", 4) == 0, "openai tts: x-request-id kept");
    rose_tts_result_free(&r);
    req = fake_last_request(&fake);
    T_STR(fake_dig_str(req, "path"), "/openai/v1/audio/speech", "openai tts: path");
    T_STR(fake_dig_str(req, "auth"), "ok", "openai tts: bearer key sent");
    T_OK(fake_dig(req, "headers.xi-api-key") == NULL, "openai tts: no xi-api-key");
    T_STR(fake_dig_str(req, "body.model"), "tts-1", "openai tts: model");
    T_STR(fake_dig_str(req, "body.input"), "You are not alone.", "openai tts: input");
    T_STR(fake_dig_str(req, "body.voice"), "alloy", "openai tts: voice");
    T_STR(fake_dig_str(req, "body.response_format"), "mp3", "openai tts: response_format mp3");
    json_object_put(req);

    o.api_key = "wrong-key";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UPSTREAM, "openai tts 401: upstream");
    T_STR(r.error_type, "invalid_api_key", "openai tts 401: error.code");
    rose_tts_result_free(&r);
    o = openai_opts();
    o.voice = "nobody";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UPSTREAM, "openai tts bad voice: upstream");
    T_INT(r.http_status, 400, "openai tts bad voice: 400");
    T_STR(r.error_type, "invalid_request_error", "openai tts bad voice: error.type");
    rose_tts_result_free(&r);
    o = openai_opts();
    fake_script(
        &fake,
        "[{\"route\": \"speech\", \"status\": 429}, {\"route\": \"speech\", \"malformed\": true}]");
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_RATE_LIMITED, "openai tts 429: rate limited");
    T_OK(r.retry_after_s == 1, "openai tts 429: retry_after 1 (got %g)", r.retry_after_s);
    T_STR(r.error_type, "rate_limit_exceeded", "openai tts 429: error.code");
    rose_tts_result_free(&r);
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_PARSE,
          "openai tts JSON instead of MP3: parse");
    rose_tts_result_free(&r);
}

static void
test_tts_args(void)
{
    struct rose_tts_opts o = eleven_opts();
    struct rose_tts_result r;
    enum rose_tts_api api = ROSE_TTS__MAX;
    char url[64];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", fake_closed_port());
    o.base_url = url;
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_UNAVAILABLE, "tts refused: unavailable");
    rose_tts_result_free(&r);
    o = eleven_opts();
    o.voice = "../../v1/user";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_CONFIG, "tts voice id with '/': config");
    T_OK(r.audio == NULL && r.http_status == 0 && r.character_cost == -1 && r.retry_after_s == -1,
         "tts: result set anyway");
    o = eleven_opts();
    o.api_key = "";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_CONFIG, "elevenlabs without a key: config");
    o = eleven_opts();
    o.api_key = "k\r\nX-Evil: 1";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_CONFIG, "tts CRLF in key: config");
    o = eleven_opts();
    o.stability = 1.5;
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_CONFIG, "tts stability 1.5: config");
    o = eleven_opts();
    o.api = ROSE_TTS__MAX;
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_CONFIG, "tts unknown api: config");
    o = eleven_opts();
    o.base_url = "file:///etc/passwd";
    T_INT(rose_tts_speak(&o, "Hello.", &r), ROSE_ERR_CONFIG, "tts file:// URL: config");
    o = eleven_opts();
    T_INT(rose_tts_speak(&o, "", &r), ROSE_ERR_INTERNAL, "tts empty text: internal");
    T_INT(rose_tts_speak(&o, NULL, &r), ROSE_ERR_INTERNAL, "tts no text: internal");
    rose_tts_result_free(&r);
    rose_tts_result_free(NULL);

    T_STR(rose_tts_api_name(ROSE_TTS_ELEVENLABS), "elevenlabs", "api name: elevenlabs");
    T_STR(rose_tts_api_name(ROSE_TTS_OPENAI), "openai", "api name: openai");
    T_STR(rose_tts_api_name(ROSE_TTS__MAX), "", "api name: out of range");
    T_INT(rose_tts_api_parse("OpenAI", &api), ROSE_OK, "api parse: any case");
    T_INT(api, ROSE_TTS_OPENAI, "api parse: openai");
    T_INT(rose_tts_api_parse("flite", &api), ROSE_ERR_CONFIG, "api parse: unknown");
    T_INT(rose_tts_api_parse(NULL, &api), ROSE_ERR_CONFIG, "api parse: NULL");
}

int
main(void)
{
    int up = fake_begin(&fake, "fake speech server", FAKE, "--key", KEY, (char *)NULL);

    snprintf(openai_url, sizeof(openai_url), "%s/openai/v1", fake.url);
    if (up) {
        test_stt_ok();
        test_stt_errors();
        test_stt_args();
        test_eleven_ok();
        test_eleven_errors();
        test_openai_tts();
        test_tts_args();
    }
    fake_end(&fake);
    return t_done();
}
