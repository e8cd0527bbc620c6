/*
 * speech.h — Rose's words spoken (DESIGN.md §5 "media", §6): the TTS cache,
 * the configured provider (ElevenLabs or OpenAI-compatible, with retries and
 * its breaker) or Flite offline, and the audio kept under the data folder,
 * indexed with its session and user.  voice.fcgi speaks every reply; chat
 * turns asked with "voice": true do too.
 *
 * Every reply is spoken by a speaker.  A streamed reply is fed to it as the
 * LLM writes: it relays the words (on_text) and speaks each sentence as soon
 * as it is complete (rose_text_sentence_end()), so the first one can play
 * while the rest is still being written (on_audio).  A reply answered as
 * JSON is spoken whole (rose_speaker_say()).
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

/* Called with the words fed to the speaker, before they are spoken (the
 * same shape as a turn's on_token).  An error stops the speaker. */
typedef enum rose_err (*rose_speaker_text_fn)(void *arg, const char *text, size_t len);

/* Called with each spoken piece: its URL, its index (0, 1, ...) and the
 * words spoken.  An error stops the speaker and is returned by
 * feed/finish/say. */
typedef enum rose_err (*rose_speaker_audio_fn)(void *arg, const char *url, size_t index,
                                               const char *text);

struct rose_speaker {
    const struct rose_config *cfg;
    struct rose_store *st;
    const char *session_id, *user_id;
    double deadline; /* rose_mono_ms() time that bounds a provider's retries */
    rose_speaker_text_fn on_text;
    rose_speaker_audio_fn on_audio;
    void *arg;
    double provider_ms;       /* provider time spent speaking */
    double ms;                /* all time spent speaking */
    struct json_object *urls; /* every piece's URL, in order */
    int failed;               /* speech failed once: the rest stays text */
    struct rose_buf pending;  /* words not spoken yet */
};

/* Set up sp to speak for session_id of user_id (the strings must outlive
 * it); on_text and on_audio may be NULL and get arg.  ROSE_ERR_NOMEM. */
enum rose_err rose_speaker_init(struct rose_speaker *sp, const struct rose_config *cfg,
                                struct rose_store *st, const char *session_id, const char *user_id,
                                double deadline, rose_speaker_text_fn on_text,
                                rose_speaker_audio_fn on_audio, void *arg);

/* More words of the reply: relayed to on_text, and every sentence they
 * complete is spoken.  speaker is a struct rose_speaker *; the signature
 * lets it serve as a turn's on_token. */
enum rose_err rose_speaker_feed(void *speaker, const char *text, size_t len);

/* The reply is complete: speak what is left. */
enum rose_err rose_speaker_finish(struct rose_speaker *sp);

/* Speak text whole, as one piece (a reply answered as JSON). */
enum rose_err rose_speaker_say(struct rose_speaker *sp, const char *text);

/* Speech never fails a reply: a piece that cannot be spoken (cache,
 * provider with retries, or Flite) is logged once and the rest of the reply
 * stays text.  Only on_text and on_audio errors are returned. */

/* Tie the pieces spoken to the reply's message message_id, so the
 * transcript offers them; best effort (a failure is logged, the answer is
 * already given). */
void rose_speaker_link(struct rose_speaker *sp, long long message_id);

void rose_speaker_free(struct rose_speaker *sp);

#endif
