/*
 * tts_flite.c — offline text-to-speech with Flite (see tts_flite.h).
 *
 * Flite's front end is English and ASCII: it has no use for other bytes and
 * its tokenizer was not written with hostile input in mind, so the text is
 * first reduced to printable ASCII (to_ascii()).  Flite reports internal
 * errors through cst_error(), which longjmps to cst_errjmp when that is set
 * and otherwise calls exit(): we set it around synthesis, so a Flite failure
 * ends a request, not the worker.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>

#include "audio/wav.h"
#include "engines/tts_flite.h"

/* The voice's registration functions, in libflite_cmu_us_slt (Debian ships
 * no header for them). */
cst_voice *register_cmu_us_slt(const char *voxdir);
void unregister_cmu_us_slt(cst_voice *vox);

static cst_voice *voice;
static int broken; /* Flite longjmp'd out once: its state is unknown */

enum rose_err
rose_tts_flite_init(void)
{
    if (voice != NULL)
        return ROSE_OK;
    flite_init();
    voice = register_cmu_us_slt(NULL);
    return voice != NULL ? ROSE_OK : ROSE_ERR_UNAVAILABLE;
}

void
rose_tts_flite_shutdown(void)
{
    if (voice != NULL)
        unregister_cmu_us_slt(voice);
    voice = NULL;
}

/* ASCII for U+00C0..U+00FF: the letter without its accent; ' ' for the two
 * signs (multiplication and division) in the block. */
static const char latin1_ascii[] = "AAAAAAACEEEEIIIIDNOOOOO OUUUUYTs"
                                   "aaaaaaaceeeeiiiidnooooo ouuuuyty";

/* What code point cp (at least U+0080) is said as: written to out, and the
 * number of bytes returned (0: nothing, the caller writes a space).  Never
 * more bytes than the code point's UTF-8 form, so the text cannot grow. */
static size_t
ascii_for(unsigned long cp, char *out)
{
    const char *rep = NULL;

    switch (cp) {
    case 0x2018: /* left single quote */
    case 0x2019: /* right single quote, the usual apostrophe */
    case 0x02BC: /* modifier letter apostrophe */
        rep = "'";
        break;
    case 0x201C: /* left and right double quotes */
    case 0x201D:
        rep = "\"";
        break;
    case 0x2013: /* en and em dashes: a pause */
    case 0x2014:
        rep = ", ";
        break;
    case 0x2026: /* ellipsis */
        rep = "...";
        break;
    default:
        if (cp >= 0xC0 && cp <= 0xFF && latin1_ascii[cp - 0xC0] != ' ') {
            out[0] = latin1_ascii[cp - 0xC0];
            return 1;
        }
        return 0;
    }
    memcpy(out, rep, strlen(rep));
    return strlen(rep);
}

/* Reduce the n bytes of UTF-8 at s to printable ASCII (see tts_flite.h)
 * in out, which has room for n + 1 bytes.  Returns 1 if a letter or digit
 * is left to say, else 0. */
static int
to_ascii(const unsigned char *s, size_t n, char *out)
{
    size_t i = 0, len, k, w;
    unsigned long cp;
    char *o = out;

    while (i < n) {
        if (s[i] < 0x80) {
            *o++ = s[i] >= 0x20 && s[i] < 0x7F ? (char)s[i] : ' ';
            i++;
            continue;
        }
        /* A multi-byte sequence: its length from the lead byte, and every
         * continuation byte checked.  A bad sequence is one unknown byte. */
        len = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : s[i] >= 0xC0 ? 2 : 1;
        cp = s[i] & (0x7Fu >> len);
        for (k = 1; k < len && i + k < n && (s[i + k] & 0xC0) == 0x80; k++)
            cp = cp << 6 | (s[i + k] & 0x3F);
        if (len == 1 || k < len) {
            len = 1;
            cp = 0;
        }
        w = cp != 0 ? ascii_for(cp, o) : 0;
        if (w == 0) {
            *o = ' ';
            w = 1;
        }
        o += w;
        i += len;
    }
    *o = '\0';
    for (o = out; *o; o++)
        if ((*o >= '0' && *o <= '9') || ((*o | 0x20) >= 'a' && (*o | 0x20) <= 'z'))
            return 1;
    return 0;
}

/* flite_text_to_wave() with Flite's fatal errors caught.  Nothing here
 * changes after setjmp() and is read after a longjmp(), so no volatile. */
static cst_wave *
synth(const char *text)
{
    jmp_buf env;
    cst_wave *w;

    if (setjmp(env) != 0) {
        cst_errjmp = NULL;
        broken = 1;
        return NULL;
    }
    cst_errjmp = &env;
    w = flite_text_to_wave(text, voice);
    cst_errjmp = NULL;
    return w;
}

enum rose_err
rose_tts_flite_speak(const char *text, unsigned char **wav, size_t *wav_len)
{
    char *ascii = NULL;
    cst_wave *w = NULL;
    size_t n;
    enum rose_err err;

    if (voice == NULL || broken)
        return ROSE_ERR_UNAVAILABLE;
    if (text == NULL)
        return ROSE_ERR_EMPTY;
    if ((n = strnlen(text, ROSE_TTS_TEXT_MAX + 1)) > ROSE_TTS_TEXT_MAX)
        return ROSE_ERR_TOO_LARGE;
    if ((ascii = malloc(n + 1)) == NULL)
        return ROSE_ERR_NOMEM;
    if (!to_ascii((const unsigned char *)text, n, ascii)) {
        err = ROSE_ERR_EMPTY;
        goto out;
    }
    w = synth(ascii);
    if (w == NULL || w->num_channels != 1 || w->num_samples <= 0 || w->sample_rate <= 0) {
        err = ROSE_ERR_INTERNAL;
        goto out;
    }
    err =
        rose_wav_write(w->samples, (size_t)w->num_samples, (unsigned)w->sample_rate, wav, wav_len);
out:
    if (w != NULL)
        delete_wave(w);
    free(ascii);
    return err;
}
