/*
 * tts.h — a hosted text-to-speech client for two protocols, over the libcurl
 * easy interface, both asking for MP3:
 *
 *   ROSE_TTS_ELEVENLABS  POST {base_url}/v1/text-to-speech/{voice}
 *                        ?output_format=mp3_44100_128, header xi-api-key, JSON
 *                        {text, model_id, voice_settings: {stability,
 *                        similarity_boost}}
 *   ROSE_TTS_OPENAI      POST {base_url}/audio/speech, Bearer key, JSON
 *                        {model, input, voice, response_format: "mp3"}
 *
 * The shape follows providers/llm.h: options in a struct, no logging (text
 * and keys must not reach a log), one attempt per call; retries, backoff and
 * the circuit breaker belong to the caller, which decides from the error and
 * the result:
 *
 *   ROSE_OK               res->audio holds MP3 bytes (they begin with an ID3
 *                         tag or an MPEG frame header)
 *   ROSE_ERR_UNAVAILABLE  no connection (refused, DNS, TLS, reset), HTTP 5xx,
 *                         or 498                                   retryable
 *   ROSE_ERR_RATE_LIMITED HTTP 429; res->retry_after_s if given.  For
 *                         ElevenLabs, res->error_type says which kind:
 *                         "too_many_concurrent_requests" (over the plan's
 *                         concurrency: queue rather than back off) or
 *                         "system_busy" (their load: back off)      retryable
 *   ROSE_ERR_TIMEOUT      connect or total timeout passed          retryable
 *   ROSE_ERR_UPSTREAM     any other HTTP status: 401 (ElevenLabs error_type
 *                         "invalid_api_key", or "quota_exceeded"...), 400 and
 *                         422 (the request failed validation), 404 (unknown
 *                         voice or model)...
 *   ROSE_ERR_PARSE        a 2xx body that is empty or not MP3
 *   ROSE_ERR_TOO_LARGE    the response passed opts.max_response_bytes
 *   ROSE_ERR_CONFIG       the options are unusable (see rose_tts_opts)
 *   ROSE_ERR_INTERNAL     the caller broke the contract (no text)
 *   ROSE_ERR_NOMEM
 *
 * On every return, res->http_status, ->retry_after_s, ->error_type,
 * ->request_id and ->character_cost say what the server answered, so the
 * caller can classify, log and count it.  libcurl must be initialised once per
 * process (curl_global_init) before the first call if the program has threads.
 */
#ifndef ROSE_TTS_H
#define ROSE_TTS_H

#include <stddef.h>

#include "core/err.h"

enum rose_tts_api {
    ROSE_TTS_ELEVENLABS, /* "elevenlabs" */
    ROSE_TTS_OPENAI,     /* "openai": any OpenAI-compatible /audio/speech */
    ROSE_TTS__MAX
};

struct rose_tts_opts {
    enum rose_tts_api api;
    const char *base_url;      /* http or https only.  ElevenLabs: the host, e.g.
                                  "https://api.elevenlabs.io" (we add /v1/...);
                                  OpenAI: e.g. "https://api.openai.com/v1" */
    const char *api_key;       /* ElevenLabs: the xi-api-key header (required);
                                  OpenAI: "Authorization: Bearer <key>", NULL or
                                  "" sends none (local servers) */
    const char *model;         /* e.g. "eleven_flash_v2_5", "tts-1" */
    const char *voice;         /* ElevenLabs: a voice_id, 1 to 64 letters and
                                  digits (it goes into the path), e.g.
                                  "21m00Tcm4TlvDq8ikWAM"; OpenAI: a voice name
                                  such as "alloy" */
    double stability;          /* ElevenLabs voice_settings, 0 to 1 */
    double similarity_boost;   /* ElevenLabs voice_settings, 0 to 1 */
    long connect_timeout_ms;   /* > 0 */
    long timeout_ms;           /* > 0: the whole call */
    size_t max_response_bytes; /* > 0: cap on the bytes of the response body */
};

struct rose_tts_result {
    char *audio;          /* the MP3 on ROSE_OK (caller frees), else NULL */
    size_t len;           /* its bytes */
    int http_status;      /* the server's status, 0 if no response */
    double retry_after_s; /* Retry-After on a 429 or 503 (seconds, or an HTTP
                             date turned into seconds from now), else -1 */
    char error_type[64];  /* from the error body: ElevenLabs detail.status
                             (else detail.code, else the first validation
                             item's type); OpenAI error.code, else error.type.
                             Bytes outside [A-Za-z0-9_.-] made '_'; "" if
                             none.  For classification and logs, never clients. */
    char request_id[64];  /* the request-id (ElevenLabs) or x-request-id header,
                             made safe the same way; "" if none.  For logs. */
    long character_cost;  /* ElevenLabs' character-cost header (characters
                             billed), -1 if absent or not a number */
};

/*
 * Speak text (UTF-8, NUL-terminated, not empty; the caller validated and
 * capped it) with the voice and model of o.  res need not be initialised: it
 * is set on every return, and the caller frees it with
 * rose_tts_result_free().  Returns an error from the table at the top of this
 * file.
 */
enum rose_err rose_tts_speak(const struct rose_tts_opts *o, const char *text,
                             struct rose_tts_result *res);

/* Free the audio of res and set it to NULL.  NULL-safe. */
void rose_tts_result_free(struct rose_tts_result *res);

/* The configuration name of api ("elevenlabs", "openai"); "" if out of range. */
const char *rose_tts_api_name(enum rose_tts_api api);

/* The api named name (as rose_tts_api_name() writes it, any case) into *out;
 * ROSE_ERR_CONFIG if none is. */
enum rose_err rose_tts_api_parse(const char *name, enum rose_tts_api *out);

#endif
