/*
 * audio.h — Rose's audio files: DATA_DIR/audio/<uuid>.<wav|mp3>, mode 0600,
 * indexed in the audio table with their session and user (lib/ops/audiodir.h
 * has the naming rules the cron jobs rely on), and the TTS cache
 * DATA_DIR/tts-cache/<user_id>/<sha256>.<ext>, from which a phrase the user
 * heard before is hard-linked into a new audio file without calling any
 * provider.  The cache is per user because Rose's words may hold the
 * person's name: erasing a user removes their folder.
 *
 * Invariants: a file is written completely (O_EXCL, then fsync) before its
 * row is committed, so a row never names a partial file; a file without a
 * row (a worker killed in between) is removed by rose-audio-cleanup after
 * its grace period.  Paths are built only from server-made UUIDs.
 */
#ifndef ROSE_AUDIO_STORE_H
#define ROSE_AUDIO_STORE_H

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"
#include "store/store.h"

struct rose_audio_row {
    char id[37];
    char session_id[37]; /* "" when none */
    char user_id[37];    /* "" when none */
    char mime[32];       /* "audio/wav" or "audio/mpeg" */
    long long bytes;
    long long created_at;
};

/* "wav" for audio/wav, "mp3" for audio/mpeg, NULL for anything else. */
const char *rose_audio_ext(const char *mime);

/* Save data as a new audio file of session/user and index it; writes the
 * new id. */
enum rose_err rose_audio_save(struct rose_store *st, const char *data_dir, const char *session_id,
                              const char *user_id, const char *mime, const void *data,
                              size_t len, char id[37]);

/* The row of id; ROSE_ERR_NOT_FOUND when none. id must be a valid UUID. */
enum rose_err rose_audio_find(struct rose_store *st, const char *id, struct rose_audio_row *out);

/* Make audio id a spoken piece of message message_id (the transcript then
 * offers it); ROSE_ERR_NOT_FOUND when there is no such audio. */
enum rose_err rose_audio_link(struct rose_store *st, const char *id, long long message_id);

/* Open the file of a row read-only (never through a link); *fd and *size on
 * success, ROSE_ERR_NOT_FOUND when the file is gone. */
enum rose_err rose_audio_open(const char *data_dir, const struct rose_audio_row *row, int *fd,
                              off_t *size);

/* The cache key of a synthesis: sha256 over every input that changes the
 * sound (provider, voice, model, settings, text), as 64 hex chars. */
void rose_tts_cache_key(const char *provider, const char *voice, const char *model,
                        const char *settings, const char *text, char key[65]);

/* On a cache hit, link the cached sound into a new audio file of
 * session/user and write its id; ROSE_ERR_NOT_FOUND on a miss. */
enum rose_err rose_tts_cache_take(struct rose_store *st, const char *data_dir, const char *key,
                                  const char *mime, const char *session_id, const char *user_id,
                                  char id[37]);

/* Remember data as the sound of key for user_id (best effort). */
void rose_tts_cache_put(const char *data_dir, const char *user_id, const char *key,
                        const char *mime, const void *data, size_t len);

#endif
