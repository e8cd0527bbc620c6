/*
 * stt_sphinx.c — offline speech-to-text with PocketSphinx (stt_sphinx.h).
 *
 * One decoder per process, created by rose_stt_sphinx_init().  Each call
 * decodes a whole utterance at once (full_utt), which lets PocketSphinx
 * normalise the cepstrum over the utterance itself ("-cmn batch" in the
 * en-US model's feat.params), so one request's audio does not colour the
 * next one's.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include "audio/wav.h"
#include "engines/stt_sphinx.h"

static ps_decoder_t *decoder;

enum rose_err
rose_stt_sphinx_init(const struct rose_stt_sphinx_model *model)
{
    const char *hmm = ROSE_SPHINX_HMM_DEFAULT, *lm = ROSE_SPHINX_LM_DEFAULT;
    const char *dict = ROSE_SPHINX_DICT_DEFAULT;
    cmd_ln_t *config;

    if (decoder != NULL)
        return ROSE_OK;
    if (model != NULL) {
        hmm = model->hmm ? model->hmm : hmm;
        lm = model->lm ? model->lm : lm;
        dict = model->dict ? model->dict : dict;
    }
    /* PocketSphinx would exit or abort on some missing files; check first. */
    if (access(hmm, R_OK | X_OK) != 0 || access(lm, R_OK) != 0 || access(dict, R_OK) != 0)
        return ROSE_ERR_CONFIG;
    /* Off before anything else: cmd_ln_init() already logs the whole
     * configuration.  Without -logfn, ps_init() leaves it off. */
    err_set_logfp(NULL);
    config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-lm", lm, "-dict", dict, NULL);
    if (config == NULL)
        return ROSE_ERR_CONFIG;
    decoder = ps_init(config);
    cmd_ln_free_r(config); /* the decoder holds its own reference */
    return decoder != NULL ? ROSE_OK : ROSE_ERR_CONFIG;
}

void
rose_stt_sphinx_shutdown(void)
{
    if (decoder != NULL)
        ps_free(decoder);
    decoder = NULL;
}

/* Copy PocketSphinx's hypothesis as lowercase words separated by single
 * spaces.  Fillers ("<sil>", "[NOISE]") and alternate-pronunciation marks
 * ("read(2)") are dropped should the decoder let one through. */
static char *
clean_hyp(const char *hyp)
{
    char *out = malloc(strlen(hyp) + 1), *o = out;
    const char *w, *end;

    if (out == NULL)
        return NULL;
    for (w = hyp; *w != '\0'; w = end) {
        while (*w == ' ')
            w++;
        for (end = w; *end != '\0' && *end != ' '; end++)
            ;
        if (end == w || *w == '<' || *w == '[')
            continue;
        if (o != out)
            *o++ = ' ';
        for (; w < end && *w != '('; w++)
            *o++ = *w >= 'A' && *w <= 'Z' ? (char)(*w + 'a' - 'A') : *w;
    }
    *o = '\0';
    return out;
}

enum rose_err
rose_stt_sphinx_decode(const int16_t *samples, size_t n, char **text)
{
    const char *hyp;
    char *out;
    int32 score;

    if (decoder == NULL)
        return ROSE_ERR_UNAVAILABLE;
    if (n == 0 || samples == NULL)
        return ROSE_ERR_EMPTY;
    if (n >
        (size_t)(ROSE_WAV_SECONDS_MAX * 1000 + ROSE_WAV_PAD_MS_MAX) * (ROSE_WAV_STT_RATE / 1000))
        return ROSE_ERR_TOO_LARGE;
    if (ps_start_utt(decoder) < 0)
        return ROSE_ERR_INTERNAL;
    if (ps_process_raw(decoder, samples, n, FALSE, TRUE) < 0) {
        ps_end_utt(decoder);
        return ROSE_ERR_INTERNAL;
    }
    if (ps_end_utt(decoder) < 0)
        return ROSE_ERR_INTERNAL;
    hyp = ps_get_hyp(decoder, &score);
    if ((out = clean_hyp(hyp != NULL ? hyp : "")) == NULL)
        return ROSE_ERR_NOMEM;
    *text = out;
    return ROSE_OK;
}
