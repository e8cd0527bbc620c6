/*
 * wav.c — RIFF/WAVE parsing, conversion to 16 kHz mono, writing (wav.h).
 *
 * A WAV file is "RIFF" <size> "WAVE" followed by chunks, each an id, a
 * little-endian 32-bit size and that many bytes, plus one pad byte when the
 * size is odd.  We need two of them: "fmt " (encoding, channels, rate) and
 * "data" (the interleaved frames).
 *
 * Resampling: each output sample is the input convolved with a low-pass
 * windowed sinc (Blackman window, SINC_ZEROS zero crossings on each side),
 * evaluated at the output instant, so any rate ratio works (44.1 kHz →
 * 16 kHz is 2.75625:1).  The cutoff is CUTOFF times the lower Nyquist rate:
 * 7.52 kHz when going down to 16 kHz, so what would alias is removed before
 * decimation; the transition band (about 6.2 to 8.8 kHz) folds only above
 * 7.2 kHz, past the 6.8 kHz the en-US acoustic model listens to.  The
 * kernel is tabulated once per call and read with linear interpolation.
 * The work is about 2 * SINC_ZEROS / CUTOFF multiply-adds per input frame
 * when downsampling, whatever the rate.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audio/wav.h"

#define FORMAT_PCM 0x0001
#define FORMAT_FLOAT 0x0003
#define FORMAT_EXTENSIBLE 0xFFFE

#define WAV_HEADER_LEN 44

#define SINC_ZEROS 16  /* zero crossings of the kernel on each side */
#define SINC_STEPS 512 /* table entries per zero crossing */
#define CUTOFF 0.47    /* -6 dB point as a fraction of the lower rate */

/* The tail shared by every KSDATAFORMAT_SUBTYPE GUID: the subformat is
 * {xxxxxxxx-0000-0010-8000-00AA00389B71} with the format tag in the first
 * two bytes (stored little-endian). */
static const unsigned char guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                            0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

static unsigned
le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put16(unsigned char *p, unsigned v)
{
    p[0] = v & 0xFF;
    p[1] = v >> 8 & 0xFF;
}

static void
put32(unsigned char *p, uint32_t v)
{
    p[0] = v & 0xFF;
    p[1] = v >> 8 & 0xFF;
    p[2] = v >> 16 & 0xFF;
    p[3] = v >> 24 & 0xFF;
}

/* Decode the fmt chunk (len bytes at p) into info's rate, channels, bits
 * and is_float. */
static enum rose_err
parse_fmt(const unsigned char *p, size_t len, struct rose_wav_info *info)
{
    unsigned tag, channels, align, bits;
    uint32_t rate;

    if (len < 16)
        return ROSE_ERR_BAD_REQUEST;
    tag = le16(p);
    channels = le16(p + 2);
    rate = le32(p + 4);
    align = le16(p + 12);
    bits = le16(p + 14);
    if (tag == FORMAT_EXTENSIBLE) {
        /* cbSize (22), valid bits, channel mask, then the subformat GUID.
         * Valid bits only say how many of the stored bits carry signal; the
         * unused low bits are zero, so decoding the container is right. */
        if (len < 40 || le16(p + 16) < 22)
            return ROSE_ERR_BAD_REQUEST;
        if (memcmp(p + 26, guid_tail, sizeof(guid_tail)) != 0)
            return ROSE_ERR_MEDIA_TYPE;
        tag = le16(p + 24);
    }
    if (tag != FORMAT_PCM && tag != FORMAT_FLOAT)
        return ROSE_ERR_MEDIA_TYPE; /* ADPCM, mu-law, MP3-in-WAV... */
    if (channels == 0 || rate == 0 || bits == 0)
        return ROSE_ERR_BAD_REQUEST;
    if (channels > ROSE_WAV_CHANNELS_MAX || rate < ROSE_WAV_RATE_MIN || rate > ROSE_WAV_RATE_MAX)
        return ROSE_ERR_MEDIA_TYPE;
    if (tag == FORMAT_FLOAT ? bits != 32 : bits != 8 && bits != 16 && bits != 24 && bits != 32)
        return ROSE_ERR_MEDIA_TYPE;
    /* The frame size is what locates every sample; a file that disagrees
     * with itself about it is broken, not another layout. */
    if (align != channels * (bits / 8))
        return ROSE_ERR_BAD_REQUEST;
    info->rate = rate;
    info->channels = channels;
    info->bits = bits;
    info->is_float = tag == FORMAT_FLOAT;
    return ROSE_OK;
}

enum rose_err
rose_wav_parse(const unsigned char *p, size_t n, struct rose_wav *out)
{
    struct rose_wav_info info;
    const unsigned char *data = NULL;
    size_t at, size, data_size = 0, frame;
    int have_fmt = 0;
    enum rose_err err;

    if (p == NULL || n < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WAVE", 4) != 0)
        return ROSE_ERR_MEDIA_TYPE;
    memset(&info, 0, sizeof(info));
    for (at = 12; !have_fmt || data == NULL;) {
        if (n - at < 8)
            return ROSE_ERR_BAD_REQUEST; /* ended before fmt and data were both seen */
        size = le32(p + at + 4);
        at += 8;
        if (memcmp(p + at - 8, "data", 4) == 0 && data == NULL) {
            if (size > n - at)
                size = n - at; /* cut short: keep what is there */
            data = p + at;
            data_size = size;
        } else if (size > n - at) {
            return ROSE_ERR_BAD_REQUEST; /* a chunk runs past the end */
        } else if (memcmp(p + at - 8, "fmt ", 4) == 0) {
            if (have_fmt)
                return ROSE_ERR_BAD_REQUEST; /* two formats: which one is true? */
            if ((err = parse_fmt(p + at, size, &info)) != ROSE_OK)
                return err;
            have_fmt = 1;
        }
        at += size;
        if (size % 2 == 1 && at < n)
            at++;
    }

    frame = (size_t)info.channels * (info.bits / 8);
    info.frames = data_size / frame;
    if (info.frames == 0)
        return ROSE_ERR_EMPTY;
    if (info.frames > (size_t)ROSE_WAV_SECONDS_MAX * info.rate)
        return ROSE_ERR_TOO_LARGE;
    info.duration_ms = (unsigned long)((uint64_t)info.frames * 1000 / info.rate);
    out->info = info;
    out->data = data;
    out->data_len = info.frames * frame;
    return ROSE_OK;
}

/* Sample ch of frame i as a float in [-1, 1]. */
static float
sample_at(const struct rose_wav *w, size_t i, unsigned ch)
{
    size_t bytes = w->info.bits / 8;
    const unsigned char *s = w->data + (i * w->info.channels + ch) * bytes;
    uint32_t u;
    float f;

    switch (w->info.bits) {
    case 8:
        return ((int)s[0] - 128) / 128.0f; /* 8-bit WAV is unsigned */
    case 16:
        return (int16_t)le16(s) / 32768.0f;
    case 24:
        /* Put the 24 bits at the top of 32 so the sign extends. */
        u = (uint32_t)s[0] << 8 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 24;
        return (float)((int32_t)u / 2147483648.0);
    default:
        u = le32(s);
        if (!w->info.is_float)
            return (float)((int32_t)u / 2147483648.0);
        memcpy(&f, &u, sizeof(f));
        /* Hostile floats: NaN or huge values would poison the filter. */
        if (!(f >= -1.0f))
            return f < -1.0f ? -1.0f : 0.0f;
        return f > 1.0f ? 1.0f : f;
    }
}

static int16_t
to_int16(double v)
{
    v *= 32768.0;
    if (v >= 32767.0)
        return 32767;
    if (v <= -32768.0)
        return -32768;
    return (int16_t)lrint(v);
}

/* tab[i] is the windowed sinc at i / SINC_STEPS zero crossings from its
 * centre; one extra 0 at the end lets the interpolation read tab[i + 1]. */
static void
fill_kernel(float *tab)
{
    size_t i, last = (size_t)SINC_ZEROS * SINC_STEPS;
    double u, v;

    for (i = 0; i < last; i++) {
        u = M_PI * (double)i / SINC_STEPS;
        v = M_PI * (double)i / (double)last; /* 0..pi across the half window */
        tab[i] = (float)((i == 0 ? 1.0 : sin(u) / u) * (0.42 + 0.5 * cos(v) + 0.08 * cos(2 * v)));
    }
    tab[last] = 0.0f;
    tab[last + 1] = 0.0f;
}

/* One side of the convolution: in[j] * kernel for j = from, from + step...
 * (stopping before `end`), the first at pos table steps from the output
 * instant and each next one dpos further, until the kernel ends. */
static float
convolve_side(const float *in, ptrdiff_t j, ptrdiff_t end, ptrdiff_t step, float pos, float dpos,
              const float *tab)
{
    float acc = 0.0f;
    int i;

    for (; j != end; j += step, pos += dpos) {
        i = (int)pos; /* pos >= 0; int, as float to size_t is slow on x86 */
        if (i >= SINC_ZEROS * SINC_STEPS)
            break;
        acc += in[j] * (tab[i] + (pos - (float)i) * (tab[i + 1] - tab[i]));
    }
    return acc;
}

/* Resample nin mono samples at rate `from` to nout samples at 16 kHz. */
static void
resample(const float *in, size_t nin, unsigned from, const float *tab, int16_t *out, size_t nout)
{
    unsigned lower = from < ROSE_WAV_STT_RATE ? from : ROSE_WAV_STT_RATE;
    /* The sinc's zero crossings per input sample, in table steps. */
    float dpos = (float)(2.0 * CUTOFF * lower / from * SINC_STEPS);
    double t, frac;
    ptrdiff_t j;
    size_t k;
    float acc;

    for (k = 0; k < nout; k++) {
        /* The output instant in input samples (exact: k * from < 2^53),
         * which lies between in[j] and in[j + 1]; j < nin by nout's choice. */
        t = (double)((uint64_t)k * from) / ROSE_WAV_STT_RATE;
        j = (ptrdiff_t)t;
        frac = t - (double)j;
        acc = convolve_side(in, j, -1, -1, (float)(frac * dpos), dpos, tab) +
              convolve_side(in, j + 1, (ptrdiff_t)nin, 1, (float)((1.0 - frac) * dpos), dpos, tab);
        out[k] = to_int16(acc * dpos / SINC_STEPS);
    }
}

enum rose_err
rose_wav_to_mono16k(const struct rose_wav *wav, unsigned pad_ms, int16_t **out, size_t *out_n)
{
    const struct rose_wav_info *in = &wav->info;
    float *mono = NULL, *tab = NULL;
    int16_t *res = NULL;
    size_t i, nout, npad;
    unsigned ch;
    double sum;
    enum rose_err err = ROSE_ERR_NOMEM;

    /* Refuse what rose_wav_parse() cannot have produced: every size below
     * follows from these bounds. */
    if (wav->data == NULL || in->channels == 0 || in->channels > ROSE_WAV_CHANNELS_MAX ||
        in->rate < ROSE_WAV_RATE_MIN || in->rate > ROSE_WAV_RATE_MAX ||
        (in->bits != 8 && in->bits != 16 && in->bits != 24 && in->bits != 32) ||
        (in->is_float && in->bits != 32) || in->frames == 0 ||
        in->frames > (size_t)ROSE_WAV_SECONDS_MAX * in->rate ||
        wav->data_len / in->channels / (in->bits / 8) < in->frames || pad_ms > ROSE_WAV_PAD_MS_MAX)
        return ROSE_ERR_INTERNAL;

    nout = (size_t)((uint64_t)in->frames * ROSE_WAV_STT_RATE / in->rate);
    npad = (size_t)pad_ms * (ROSE_WAV_STT_RATE / 1000);
    if ((res = malloc((nout + npad ? nout + npad : 1) * sizeof(*res))) == NULL)
        goto out;
    if ((mono = malloc(in->frames * sizeof(*mono))) == NULL)
        goto out;
    for (i = 0; i < in->frames; i++) {
        for (sum = 0, ch = 0; ch < in->channels; ch++)
            sum += sample_at(wav, i, ch);
        mono[i] = (float)(sum / in->channels);
    }
    if (in->rate == ROSE_WAV_STT_RATE) {
        for (i = 0; i < nout; i++)
            res[i] = to_int16(mono[i]);
    } else {
        if ((tab = malloc(((size_t)SINC_ZEROS * SINC_STEPS + 2) * sizeof(*tab))) == NULL)
            goto out;
        fill_kernel(tab);
        resample(mono, in->frames, in->rate, tab, res, nout);
    }
    memset(res + nout, 0, npad * sizeof(*res));
    *out = res;
    *out_n = nout + npad;
    res = NULL;
    err = ROSE_OK;
out:
    free(res);
    free(mono);
    free(tab);
    return err;
}

enum rose_err
rose_wav_write(const int16_t *samples, size_t n, unsigned rate, unsigned char **out,
               size_t *out_len)
{
    unsigned char *w, *d;
    size_t i, data_len;

    if (samples == NULL && n > 0)
        return ROSE_ERR_INTERNAL;
    if (rate < ROSE_WAV_RATE_MIN || rate > ROSE_WAV_RATE_MAX)
        return ROSE_ERR_INTERNAL;
    if (n == 0)
        return ROSE_ERR_EMPTY;
    /* The cap also keeps every size below far from 32-bit overflow:
     * 600 s * 192 kHz * 2 bytes is 230 MB. */
    if (n > (size_t)ROSE_WAV_SECONDS_MAX * rate)
        return ROSE_ERR_TOO_LARGE;
    data_len = n * 2;
    if ((w = malloc(WAV_HEADER_LEN + data_len)) == NULL)
        return ROSE_ERR_NOMEM;
    memcpy(w, "RIFF", 4);
    put32(w + 4, (uint32_t)(36 + data_len));
    memcpy(w + 8, "WAVEfmt ", 8);
    put32(w + 16, 16);         /* fmt chunk size */
    put16(w + 20, FORMAT_PCM); /* format */
    put16(w + 22, 1);          /* channels */
    put32(w + 24, rate);       /* frames per second */
    put32(w + 28, rate * 2);   /* bytes per second */
    put16(w + 32, 2);          /* bytes per frame */
    put16(w + 34, 16);         /* bits per sample */
    memcpy(w + 36, "data", 4);
    put32(w + 40, (uint32_t)data_len);
    /* Samples are little-endian in the file whatever the host's order. */
    for (d = w + WAV_HEADER_LEN, i = 0; i < n; i++, d += 2)
        put16(d, (uint16_t)samples[i]);
    *out = w;
    *out_len = WAV_HEADER_LEN + data_len;
    return ROSE_OK;
}
