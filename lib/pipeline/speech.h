/*
 * speech.h — Rose's words spoken (DESIGN.md §5 "media", §6): the TTS cache,
 * the configured provider (ElevenLabs or OpenAI-compatible, with retries and
 * its breaker) or Flite offline, and the audio kept under the data folder,
 * indexed with its session and user.  voice.fcgi speaks every reply; chat
 * turns asked with "voice": true do too.
 *
 * A streamed reply is spoken a sentence at a time by a speaker: feed it the
 * words as the LLM writes them, and each sentence is spoken as soon as it is
 * complete (rose_text_sentence_end()), so the first one can play while the
 * rest is still being written.
 */
#ifndef ROSE_SPEECH_H
#define ROSE_SPEECH_H

#include <stddef.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* The path a spoken piece is served at: "/api/v1/voice/audio/<id>". */
#define ROSE_SPEECH_URL_PREFIX "/api/v1/voice/audio/"

/* A sentence shorter than this waits for the next one ("Oh, Sarah." alone
 * would be a clip too short to sound natural). */
#define ROSE_SPEECH_SENTENCE_MIN 20

/*
 * Speak text for session_id of user_id; id gets the new audio's id.  A
 * phrase spoken before comes from the cache with no provider call.  deadline
 * (rose_mono_ms() time) bounds a provider's retries; provider time is added
 * to *provider_ms.  On failure nothing is kept and the caller answers with
 * text only.
 */
enum rose_err rose_speak(const struct rose_config *cfg, struct rose_store *st,
                         const char *session_id, const char *user_id, const char *text,
                         double deadline, double *provider_ms, char id[37]);

/* Called with each spoken piece: its URL, its index (0, 1, ...) and the
 * words spoken.  An error stops the speaker and is returned by feed/finish. */
typedef enum rose_err (*rose_speaker_audio_fn)(void *arg, const char *url, size_t index,
                                               const char *text);

struct rose_speaker {
    const struct rose_config *cfg;
    struct rose_store *st;
    const char *session_id, *user_id;
    double deadline;
    rose_speaker_audio_fn on_audio;
    void *arg;
    double provider_ms;       /* provider time spent speaking */
    double ms;                /* all time spent speaking */
    struct json_object *urls; /* every piece's URL, in order */
    int failed;               /* speech failed once: the rest stays text */
    struct rose_buf pending;  /* words not spoken yet */
};

/* Set up sp (the strings must outlive it).  ROSE_ERR_NOMEM. */
enum rose_err rose_speaker_init(struct rose_speaker *sp, const struct rose_config *cfg,
                                struct rose_store *st, const char *session_id, const char *user_id,
                                double deadline, rose_speaker_audio_fn on_audio, void *arg);

/* More words of the reply; every sentence they complete is spoken. */
enum rose_err rose_speaker_feed(struct rose_speaker *sp, const char *text, size_t len);

/* The reply is complete: speak what is left. */
enum rose_err rose_speaker_finish(struct rose_speaker *sp);

void rose_speaker_free(struct rose_speaker *sp);

/* Tie the spoken pieces urls (URLs as made here) to the reply's message
 * message_id, so the transcript offers them; best effort (a failure is
 * logged, the answer is already given). */
void rose_speech_link(struct rose_store *st, struct json_object *urls, long long message_id);

#endif
