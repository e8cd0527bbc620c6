/*
 * stt_sphinx.h — offline speech-to-text with PocketSphinx (Debian's
 * 5prealpha) and the en-US model of the pocketsphinx-en-us package, the
 * engine used when no hosted STT is configured or it is down.
 *
 * Creating the decoder loads the acoustic model, the language model and the
 * 134,000-entry dictionary: about half a second, so it is done once per
 * process (rose_stt_sphinx_init()) and the decoder is reused for every
 * utterance.  The decoder is not thread-safe: call this from one thread at
 * a time (Rose's FastCGI workers are single-threaded processes).
 */
#ifndef ROSE_STT_SPHINX_H
#define ROSE_STT_SPHINX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Where pocketsphinx-en-us installs the model. */
#define ROSE_SPHINX_HMM_DEFAULT "/usr/share/pocketsphinx/model/en-us/en-us"
#define ROSE_SPHINX_LM_DEFAULT "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
#define ROSE_SPHINX_DICT_DEFAULT "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"

/* Model files; a NULL member (or a NULL struct) means the default above. */
struct rose_stt_sphinx_model {
    const char *hmm;  /* acoustic model directory */
    const char *lm;   /* language model (ARPA or binary) */
    const char *dict; /* pronunciation dictionary */
};

/* Create the process's decoder from model (NULL: the defaults).  Logging
 * of PocketSphinx is turned off (it would print the file paths and timing
 * of every utterance).  Later calls do nothing and return ROSE_OK.
 * Returns ROSE_ERR_CONFIG if a model file is missing or PocketSphinx cannot
 * load it; ROSE_ERR_NOMEM.  Does not log. */
enum rose_err rose_stt_sphinx_init(const struct rose_stt_sphinx_model *model);

/* Decode one utterance: n samples of 16 kHz mono signed 16-bit audio (see
 * rose_wav_to_mono16k(), which also appends the silence PocketSphinx needs
 * after the last word), at most ROSE_WAV_SECONDS_MAX seconds plus
 * ROSE_WAV_PAD_MS_MAX.  On success *text (caller frees) is the transcript:
 * lowercase words separated by single spaces, "" if nothing was
 * recognised.  ROSE_ERR_UNAVAILABLE before a successful init;
 * ROSE_ERR_TOO_LARGE over the length limit; ROSE_ERR_EMPTY for n == 0;
 * ROSE_ERR_INTERNAL if the decoder fails; ROSE_ERR_NOMEM.  Does not log
 * (transcripts are never logged). */
enum rose_err rose_stt_sphinx_decode(const int16_t *samples, size_t n, char **text);

/* Free the decoder (for leak checkers at exit; decoding needs init again). */
void rose_stt_sphinx_shutdown(void);

#endif
