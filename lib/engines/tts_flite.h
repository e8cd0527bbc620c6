/*
 * tts_flite.h — offline text-to-speech with Flite (voice cmu_us_slt), the
 * engine used when no hosted TTS is configured or it is down.
 *
 * Flite keeps global state (its voice list, its error jump buffer), so this
 * engine is one per process and not thread-safe: call it from one thread at
 * a time.  Rose's FastCGI workers are single-threaded processes, each with
 * its own copy.
 */
#ifndef ROSE_TTS_FLITE_H
#define ROSE_TTS_FLITE_H

#include <stddef.h>

#include "core/err.h"
#include "core/limits.h"

/* Start Flite and load the voice; cheap (the voice is compiled in), and
 * later calls do nothing.  Returns ROSE_OK or ROSE_ERR_UNAVAILABLE if the
 * voice could not be loaded.  Does not log. */
enum rose_err rose_tts_flite_init(void);

/* Speak text (NUL-terminated UTF-8, at most ROSE_TTS_TEXT_MAX bytes) into a
 * WAV file: mono 16-bit PCM at the voice's own rate (16 kHz for slt).  The
 * text is reduced to what Flite reads well before synthesis: typographic
 * quotes, dashes and ellipses become their ASCII forms, accented Latin
 * letters lose their accents, anything else that is not ASCII (emoji,
 * other scripts, invalid bytes) and control characters become spaces.
 * On success *wav (caller frees) and *wav_len are set.
 * ROSE_ERR_TOO_LARGE for longer text; ROSE_ERR_EMPTY if no letter or digit
 * is left to say; ROSE_ERR_UNAVAILABLE if rose_tts_flite_init() has not
 * succeeded, or Flite failed before (its state is then unknown, so the
 * engine stays off until the process restarts); ROSE_ERR_INTERNAL if Flite
 * fails now; ROSE_ERR_NOMEM.  Does not log (the text is never logged). */
enum rose_err rose_tts_flite_speak(const char *text, unsigned char **wav, size_t *wav_len);

/* Unload the voice (for leak checkers at exit; speaking needs init again). */
void rose_tts_flite_shutdown(void);

#endif
