/*
 * test_wav.c — WAV parsing, conversion to 16 kHz mono and writing
 * (lib/audio/wav.c).
 *
 * Sine waves are written in every supported layout, parsed back and
 * converted: the format must be read right, the tone's frequency and level
 * must survive the resampler, a tone above 8 kHz must be filtered out rather
 * than folded down, and the length must be duration * 16 kHz plus the
 * padding.  Then hostile files: truncated at every byte, chunks missing,
 * reordered or oversized, impossible or unsupported fields.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "audio/wav.h"
#include "core/buf.h"
#include "t.h"

/* A WAV under construction: chunks are appended as they come. */
struct wb {
    struct rose_buf b;
};

static void
wb_bytes(struct wb *w, const void *p, size_t n)
{
    if (rose_buf_append(&w->b, p, n) != ROSE_OK)
        abort();
}

static void
wb_u16(struct wb *w, unsigned v)
{
    unsigned char p[2] = {v & 0xFF, v >> 8 & 0xFF};

    wb_bytes(w, p, 2);
}

static void
wb_u32(struct wb *w, uint32_t v)
{
    unsigned char p[4] = {v & 0xFF, v >> 8 & 0xFF, v >> 16 & 0xFF, v >> 24 & 0xFF};

    wb_bytes(w, p, 4);
}

static void
wb_start(struct wb *w)
{
    rose_buf_init(&w->b, 64 * 1024 * 1024);
    wb_bytes(w, "RIFF\0\0\0\0WAVE", 12);
}

/* Set the RIFF size from the length, as a well-behaved writer does. */
static void
wb_finish(struct wb *w)
{
    uint32_t v = (uint32_t)(w->b.len - 8);

    w->b.data[4] = (char)(v & 0xFF);
    w->b.data[5] = (char)(v >> 8 & 0xFF);
    w->b.data[6] = (char)(v >> 16 & 0xFF);
    w->b.data[7] = (char)(v >> 24 & 0xFF);
}

/* A chunk with the given id, size field and body (body_len bytes written,
 * plus a pad byte when the size is odd). */
static void
wb_chunk(struct wb *w, const char *id, uint32_t size, const void *body, size_t body_len)
{
    wb_bytes(w, id, 4);
    wb_u32(w, size);
    if (body_len)
        wb_bytes(w, body, body_len);
    if (size % 2 == 1 && body_len == size)
        wb_bytes(w, "", 1);
}

struct layout {
    unsigned tag; /* 1 PCM, 3 float, 0xFFFE extensible */
    unsigned sub; /* extensible: the subformat's tag */
    unsigned channels, rate, bits, align;
};

/* A plain 16-byte fmt (or the 40-byte extensible one). */
static void
wb_fmt(struct wb *w, const struct layout *l)
{
    static const unsigned char tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                           0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    unsigned align = l->align ? l->align : l->channels * l->bits / 8;

    wb_bytes(w, "fmt ", 4);
    wb_u32(w, l->tag == 0xFFFE ? 40 : 16);
    wb_u16(w, l->tag);
    wb_u16(w, l->channels);
    wb_u32(w, l->rate);
    wb_u32(w, l->rate * align);
    wb_u16(w, align);
    wb_u16(w, l->bits);
    if (l->tag == 0xFFFE) {
        wb_u16(w, 22);      /* cbSize */
        wb_u16(w, l->bits); /* valid bits */
        wb_u32(w, 0);       /* channel mask */
        wb_u16(w, l->sub);
        wb_bytes(w, tail, sizeof(tail));
    }
}

/* Amplitude of channel c: they differ, so that reading one channel only,
 * or summing without dividing, shows in the level. */
static double
chan_amp(unsigned c, unsigned channels)
{
    return 0.8 * (c + 1) / channels;
}

/* The data chunk: `frames` frames of a sine at freq Hz. */
static void
wb_sine(struct wb *w, const struct layout *l, int is_float, double freq, size_t frames)
{
    size_t i;
    unsigned c;
    double v;
    float f;
    uint32_t u;

    wb_bytes(w, "data", 4);
    wb_u32(w, (uint32_t)(frames * l->channels * l->bits / 8));
    for (i = 0; i < frames; i++) {
        for (c = 0; c < l->channels; c++) {
            v = chan_amp(c, l->channels) * sin(2 * M_PI * freq * (double)i / l->rate);
            if (is_float) {
                f = (float)v;
                memcpy(&u, &f, 4);
                wb_u32(w, u);
            } else if (l->bits == 8) {
                unsigned char s = (unsigned char)(lrint(v * 127) + 128);

                wb_bytes(w, &s, 1);
            } else if (l->bits == 16) {
                wb_u16(w, (unsigned)(uint16_t)(int16_t)lrint(v * 32767));
            } else if (l->bits == 24) {
                u = (uint32_t)(int32_t)lrint(v * 8388607);
                wb_u16(w, u & 0xFFFF);
                wb_bytes(w, (unsigned char[]){u >> 16 & 0xFF}, 1);
            } else {
                wb_u32(w, (uint32_t)(int32_t)lrint(v * 2147483647.0));
            }
        }
    }
}

/* Upward zero crossings in s[from..to): the number of cycles. */
static size_t
cycles(const int16_t *s, size_t from, size_t to)
{
    size_t i, n = 0;

    for (i = from + 1; i < to; i++)
        if (s[i - 1] < 0 && s[i] >= 0)
            n++;
    return n;
}

static double
rms(const int16_t *s, size_t from, size_t to)
{
    double sum = 0;
    size_t i;

    for (i = from; i < to; i++)
        sum += (double)s[i] * s[i];
    return sqrt(sum / (double)(to - from)) / 32768.0;
}

/* Write a 0.5 s, 1 kHz sine in the layout, parse, convert, check. */
static void
check_layout(unsigned tag, unsigned sub, unsigned bits, unsigned channels, unsigned rate)
{
    struct layout l = {tag, sub, channels, rate, bits, 0};
    int is_float = tag == 3 || (tag == 0xFFFE && sub == 3);
    size_t frames = rate / 2, want_n, got_n = 0, edge = 160, pad = 300, n_cycles;
    struct wb w;
    struct rose_wav wav;
    int16_t *s = NULL;
    double want_level, level;
    unsigned c;
    enum rose_err err;
    char what[96];

    snprintf(what, sizeof(what), "%s%u-bit %u ch %u Hz", tag == 0xFFFE ? "extensible " : "", bits,
             channels, rate);
    if (is_float)
        snprintf(what, sizeof(what), "%sfloat %u ch %u Hz", tag == 0xFFFE ? "extensible " : "",
                 channels, rate);
    wb_start(&w);
    wb_fmt(&w, &l);
    wb_sine(&w, &l, is_float, 1000.0, frames);
    wb_finish(&w);

    err = rose_wav_parse((unsigned char *)w.b.data, w.b.len, &wav);
    T_INT(err, ROSE_OK, "%s: parses", what);
    if (err != ROSE_OK)
        goto out;
    T_OK(wav.info.rate == rate && wav.info.channels == channels && wav.info.bits == bits &&
             wav.info.is_float == is_float && wav.info.frames == frames &&
             wav.info.duration_ms == frames * 1000 / rate,
         "%s: info read back (rate %u, ch %u, bits %u, float %d, frames %zu, %lu ms)", what,
         wav.info.rate, wav.info.channels, wav.info.bits, wav.info.is_float, wav.info.frames,
         wav.info.duration_ms);

    err = rose_wav_to_mono16k(&wav, (unsigned)pad, &s, &got_n);
    T_INT(err, ROSE_OK, "%s: converts", what);
    if (err != ROSE_OK)
        goto out;
    want_n = frames * 16000 / rate + pad * 16;
    T_INT(got_n, want_n, "%s: 16 kHz length is duration * 16000 + padding", what);
    if (got_n != want_n)
        goto out;
    /* The first and last 10 ms are left out (the filter's edges), which
     * leaves 480 ms: 480 cycles of 1 kHz, give or take the one cut by the
     * window's ends.  A rate off by 0.5% would be 2.4 cycles off. */
    n_cycles = cycles(s, edge, got_n - pad * 16 - edge);
    T_OK(n_cycles >= 479 && n_cycles <= 481, "%s: 1 kHz is still 1 kHz (%zu cycles in 480 ms)",
         what, n_cycles);
    for (want_level = 0, c = 0; c < channels; c++)
        want_level += chan_amp(c, channels);
    want_level = want_level / channels / sqrt(2.0);
    level = rms(s, edge, got_n - pad * 16 - edge);
    T_OK(fabs(level - want_level) < 0.02 * want_level, "%s: level %.4f, want %.4f", what, level,
         want_level);
    T_OK(rms(s, got_n - pad * 16, got_n) == 0.0, "%s: padding is silence", what);
out:
    free(s);
    rose_buf_free(&w.b);
}

/* A tone above the 8 kHz Nyquist limit of the output must be removed, not
 * folded down (48 kHz → 16 kHz, a 12 kHz tone would alias to 4 kHz). */
static void
check_antialias(unsigned rate, double freq, double max_level)
{
    struct layout l = {1, 0, 1, rate, 16, 0};
    struct wb w;
    struct rose_wav wav;
    int16_t *s = NULL;
    size_t n = 0;
    double level;

    wb_start(&w);
    wb_fmt(&w, &l);
    wb_sine(&w, &l, 0, freq, rate / 4);
    T_OK(rose_wav_parse((unsigned char *)w.b.data, w.b.len, &wav) == ROSE_OK &&
             rose_wav_to_mono16k(&wav, 0, &s, &n) == ROSE_OK,
         "%u Hz tone at %u Hz converts", (unsigned)freq, rate);
    level = s ? rms(s, 160, n - 160) : 1;
    T_OK(level < max_level, "%u Hz tone at %u Hz is filtered out (level %.5f < %.5f)",
         (unsigned)freq, rate, level, max_level);
    free(s);
    rose_buf_free(&w.b);
}

/* 16-bit mono at 16 kHz is copied sample for sample. */
static void
check_passthrough(void)
{
    int16_t in[1000], *s = NULL;
    unsigned char *bytes = NULL;
    size_t i, len = 0, n = 0;
    struct rose_wav wav;
    int same = 1;

    for (i = 0; i < 1000; i++)
        in[i] = (int16_t)((i * 7919) % 65536 - 32768);
    T_INT(rose_wav_write(in, 1000, 16000, &bytes, &len), ROSE_OK, "write 16 kHz mono");
    T_INT(len, 44 + 2000, "written WAV has a 44-byte header");
    T_OK(bytes && memcmp(bytes, "RIFF", 4) == 0 && memcmp(bytes + 8, "WAVEfmt ", 8) == 0 &&
             memcmp(bytes + 36, "data", 4) == 0 && bytes[4] == (2036 & 0xFF) &&
             bytes[5] == (2036 >> 8),
         "written header: RIFF size, WAVE, fmt, data");
    T_INT(rose_wav_parse(bytes, len, &wav), ROSE_OK, "written WAV parses");
    T_OK(wav.info.rate == 16000 && wav.info.channels == 1 && wav.info.bits == 16 &&
             wav.info.frames == 1000 && !wav.info.is_float,
         "written WAV reads back as 16 kHz mono 16-bit, 1000 frames");
    T_INT(rose_wav_to_mono16k(&wav, 0, &s, &n), ROSE_OK, "16 kHz converts");
    for (i = 0; s && i < 1000 && n == 1000; i++)
        same &= s[i] == in[i];
    T_OK(s && n == 1000 && same, "16 kHz mono 16-bit is copied exactly");
    free(s);
    free(bytes);
}

static void
check_write_errors(void)
{
    int16_t one = 0;
    unsigned char *out = NULL;
    size_t len = 0;

    T_INT(rose_wav_write(&one, 0, 16000, &out, &len), ROSE_ERR_EMPTY, "write 0 samples");
    T_INT(rose_wav_write(&one, 1, 7999, &out, &len), ROSE_ERR_INTERNAL, "write at 7999 Hz");
    T_INT(rose_wav_write(&one, 1, 192001, &out, &len), ROSE_ERR_INTERNAL, "write at 192001 Hz");
    T_INT(rose_wav_write(NULL, 1, 16000, &out, &len), ROSE_ERR_INTERNAL, "write NULL samples");
    /* Checked before the samples are read: no large array needed. */
    T_INT(rose_wav_write(&one, (size_t)600 * 16000 + 1, 16000, &out, &len), ROSE_ERR_TOO_LARGE,
          "write past ROSE_WAV_SECONDS_MAX");
    T_OK(out == NULL && len == 0, "failed writes leave the outputs alone");
}

/* A small valid file cut at every length: never a crash, and the error
 * says what is wrong. */
static void
check_truncation(void)
{
    struct layout l = {1, 0, 1, 8000, 16, 0};
    struct wb w;
    struct rose_wav wav;
    size_t k;
    int bad = 0;

    wb_start(&w);
    wb_fmt(&w, &l);
    wb_sine(&w, &l, 0, 440.0, 100);
    wb_finish(&w);
    for (k = 0; k <= w.b.len; k++) {
        unsigned char *copy = malloc(k ? k : 1);
        enum rose_err err, want;

        if (copy == NULL)
            abort();
        memcpy(copy, w.b.data, k);
        err = rose_wav_parse(copy, k, &wav);
        if (k < 12)
            want = ROSE_ERR_MEDIA_TYPE; /* not even the RIFF/WAVE magic */
        else if (k < 44)
            want = ROSE_ERR_BAD_REQUEST; /* ends inside fmt or the data header */
        else if (k < 46)
            want = ROSE_ERR_EMPTY; /* no whole frame yet */
        else
            want = ROSE_OK;
        if (err != want || (err == ROSE_OK && wav.info.frames != (k - 44) / 2)) {
            printf("#   cut at %zu: got %d, want %d\n", k, err, want);
            bad = 1;
        }
        free(copy);
    }
    T_OK(!bad,
         "WAV cut at every length 0..%zu: magic → 415, header → 400, no frame → empty, "
         "else the whole frames present",
         w.b.len);
    rose_buf_free(&w.b);
}

/* One hostile or unusual file. */
struct hostile {
    const char *what;
    enum rose_err want;
    size_t frames; /* when want is ROSE_OK */
};

static void
expect(struct wb *w, const struct hostile *h)
{
    struct rose_wav wav;
    enum rose_err err;

    memset(&wav, 0xA5, sizeof(wav));
    err = rose_wav_parse((unsigned char *)w->b.data, w->b.len, &wav);
    T_INT(err, h->want, "%s", h->what);
    if (err == ROSE_OK && h->want == ROSE_OK)
        T_INT(wav.info.frames, h->frames, "%s: frames", h->what);
    if (err != ROSE_OK)
        T_OK(wav.info.frames == (size_t)0xA5A5A5A5A5A5A5A5ull, "%s: output left alone", h->what);
    rose_buf_free(&w->b);
}

static void
check_hostile(void)
{
    static const struct layout mono16 = {1, 0, 1, 16000, 16, 0};
    static const unsigned char eight[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct wb w;
    struct layout l;

    /* Order and unknown chunks. */
    wb_start(&w);
    wb_chunk(&w, "data", 8, eight, 8);
    wb_fmt(&w, &mono16);
    expect(&w, &(struct hostile){"data before fmt is read", ROSE_OK, 4});

    wb_start(&w);
    wb_chunk(&w, "LIST", 5, "INFOx", 5); /* odd: one pad byte follows */
    wb_chunk(&w, "fact", 4, "\x04\0\0\0", 4);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "junk", 3, "abc", 3);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"LIST, fact and odd-sized chunks are skipped", ROSE_OK, 4});

    wb_start(&w);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 7, eight, 7); /* odd data, pad byte, then another chunk */
    wb_chunk(&w, "LIST", 4, "INFO", 4);
    expect(&w, &(struct hostile){"odd-sized data: whole frames only", ROSE_OK, 3});

    wb_start(&w);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 8, eight, 8);
    wb_chunk(&w, "id3 ", 0xFFFFFFF0u, "", 0); /* junk after data is never read */
    expect(&w, &(struct hostile){"a broken chunk after fmt and data is ignored", ROSE_OK, 4});

    /* Sizes. */
    wb_start(&w);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 0xFFFFFFFFu, eight, 8);
    expect(&w, &(struct hostile){"data size 0xFFFFFFFF: truncated to what is there", ROSE_OK, 4});

    wb_start(&w); /* RIFF size left 0, as streaming writers do */
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"RIFF size 0 is ignored", ROSE_OK, 4});

    wb_start(&w);
    wb_chunk(&w, "fmt ", 0xFFFFFFFFu, "", 0);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"fmt size 0xFFFFFFFF", ROSE_ERR_BAD_REQUEST, 0});

    wb_start(&w);
    wb_chunk(&w, "LIST", 0xFFFFFFF0u, "INFO", 4);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"LIST size past the end", ROSE_ERR_BAD_REQUEST, 0});

    wb_start(&w);
    wb_chunk(&w, "fmt ", 14, "\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0", 14);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"fmt shorter than 16 bytes", ROSE_ERR_BAD_REQUEST, 0});

    wb_start(&w);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 1, eight, 1);
    expect(&w, &(struct hostile){"one byte of 16-bit data", ROSE_ERR_EMPTY, 0});

    wb_start(&w);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 0, "", 0);
    expect(&w, &(struct hostile){"empty data chunk", ROSE_ERR_EMPTY, 0});

    /* Missing chunks. */
    wb_start(&w);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"fmt missing", ROSE_ERR_BAD_REQUEST, 0});

    wb_start(&w);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "LIST", 4, "INFO", 4);
    expect(&w, &(struct hostile){"data missing", ROSE_ERR_BAD_REQUEST, 0});

    wb_start(&w);
    wb_fmt(&w, &mono16);
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"two fmt chunks", ROSE_ERR_BAD_REQUEST, 0});

    wb_start(&w);
    wb_bytes(&w, "fmt ", 4);
    expect(&w, &(struct hostile){"chunk header cut short", ROSE_ERR_BAD_REQUEST, 0});

    /* Fields. */
    static const struct {
        struct layout l;
        const char *what;
        enum rose_err want;
    } fields[] = {
        {{1, 0, 0, 16000, 16, 2}, "zero channels", ROSE_ERR_BAD_REQUEST},
        {{1, 0, 9, 16000, 16, 0}, "nine channels", ROSE_ERR_MEDIA_TYPE},
        {{1, 0, 1, 0, 16, 0}, "rate 0", ROSE_ERR_BAD_REQUEST},
        {{1, 0, 1, 7999, 16, 0}, "rate 7999", ROSE_ERR_MEDIA_TYPE},
        {{1, 0, 1, 192001, 16, 0}, "rate 192001", ROSE_ERR_MEDIA_TYPE},
        {{1, 0, 1, 0xFFFFFFFFu, 16, 0}, "rate 2^32-1", ROSE_ERR_MEDIA_TYPE},
        {{1, 0, 1, 16000, 0, 2}, "zero bits", ROSE_ERR_BAD_REQUEST},
        {{1, 0, 1, 16000, 12, 2}, "12-bit", ROSE_ERR_MEDIA_TYPE},
        {{1, 0, 1, 16000, 64, 0}, "64-bit integer", ROSE_ERR_MEDIA_TYPE},
        {{3, 0, 1, 16000, 64, 0}, "64-bit float", ROSE_ERR_MEDIA_TYPE},
        {{3, 0, 1, 16000, 16, 0}, "16-bit float", ROSE_ERR_MEDIA_TYPE},
        {{1, 0, 2, 16000, 16, 2}, "block align disagrees with channels", ROSE_ERR_BAD_REQUEST},
        {{1, 0, 1, 16000, 16, 0xFFFF}, "block align 65535", ROSE_ERR_BAD_REQUEST},
        {{2, 0, 1, 16000, 4, 0}, "MS ADPCM", ROSE_ERR_MEDIA_TYPE},
        {{7, 0, 1, 8000, 8, 0}, "mu-law", ROSE_ERR_MEDIA_TYPE},
        {{0x55, 0, 1, 16000, 16, 0}, "MP3 in WAV", ROSE_ERR_MEDIA_TYPE},
        {{0xFFFE, 2, 1, 16000, 16, 0}, "extensible with ADPCM subformat", ROSE_ERR_MEDIA_TYPE},
        {{0xFFFE, 0xFFFE, 1, 16000, 16, 0}, "extensible inside extensible", ROSE_ERR_MEDIA_TYPE},
        {{0xFFFE, 1, 9, 16000, 16, 0}, "extensible with nine channels", ROSE_ERR_MEDIA_TYPE},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        unsigned char data[64] = {0};

        wb_start(&w);
        wb_fmt(&w, &fields[i].l);
        wb_chunk(&w, "data", sizeof(data), data, sizeof(data));
        expect(&w, &(struct hostile){fields[i].what, fields[i].want, 0});
    }

    /* Extensible whose GUID is not a KSDATAFORMAT subtype at all. */
    l = (struct layout){0xFFFE, 1, 1, 16000, 16, 0};
    wb_start(&w);
    wb_fmt(&w, &l);
    w.b.data[w.b.len - 1] ^= 0x01;
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"extensible with a foreign GUID", ROSE_ERR_MEDIA_TYPE, 0});

    /* Extensible too short for its GUID. */
    wb_start(&w);
    wb_chunk(&w, "fmt ", 18, "\xfe\xff\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0\x10\0\0\0", 18);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"extensible fmt of 18 bytes", ROSE_ERR_BAD_REQUEST, 0});

    /* Not WAV at all. */
    wb_start(&w);
    w.b.data[3] = 'X'; /* RIFX */
    wb_fmt(&w, &mono16);
    wb_chunk(&w, "data", 8, eight, 8);
    expect(&w, &(struct hostile){"RIFX", ROSE_ERR_MEDIA_TYPE, 0});

    rose_buf_init(&w.b, 0);
    wb_bytes(&w, "RIFF\0\0\0\0AVI LIST", 16);
    expect(&w, &(struct hostile){"AVI", ROSE_ERR_MEDIA_TYPE, 0});

    {
        struct rose_wav wav;

        T_INT(rose_wav_parse(NULL, 0, &wav), ROSE_ERR_MEDIA_TYPE, "NULL input");
    }
}

/* The duration cap: 8 kHz 8-bit mono, one frame a byte. */
static void
check_duration_cap(void)
{
    static const struct layout l = {1, 0, 1, 8000, 8, 0};
    size_t max = (size_t)ROSE_WAV_SECONDS_MAX * 8000;
    unsigned char *silence = malloc(max + 1);
    struct wb w;

    if (silence == NULL)
        abort();
    memset(silence, 128, max + 1);
    wb_start(&w);
    wb_fmt(&w, &l);
    wb_chunk(&w, "data", (uint32_t)max, silence, max);
    expect(&w, &(struct hostile){"exactly ROSE_WAV_SECONDS_MAX", ROSE_OK, max});

    wb_start(&w);
    wb_fmt(&w, &l);
    wb_chunk(&w, "data", (uint32_t)max + 1, silence, max + 1);
    expect(&w, &(struct hostile){"one frame past ROSE_WAV_SECONDS_MAX", ROSE_ERR_TOO_LARGE, 0});
    free(silence);
}

/* NaN, infinities and huge floats: converted without trouble, clamped. */
static void
check_float_specials(void)
{
    static const struct layout l = {3, 0, 1, 22050, 32, 0};
    static const uint32_t specials[] = {0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu,
                                        0xFF7FFFFFu, 0x00000001u, 0x3F800000u, 0xBF800000u};
    struct wb w;
    struct rose_wav wav;
    int16_t *s = NULL;
    size_t i, n = 0;

    wb_start(&w);
    wb_fmt(&w, &l);
    wb_bytes(&w, "data", 4);
    wb_u32(&w, 4 * 2205);
    for (i = 0; i < 2205; i++)
        wb_u32(&w, specials[i % 8]);
    T_OK(rose_wav_parse((unsigned char *)w.b.data, w.b.len, &wav) == ROSE_OK &&
             rose_wav_to_mono16k(&wav, 0, &s, &n) == ROSE_OK && n == 1600,
         "NaN, infinite and huge float samples convert");
    free(s);
    rose_buf_free(&w.b);
}

static void
check_bad_conversion_args(void)
{
    static const unsigned char bytes[4] = {0};
    struct rose_wav ok = {{16000, 1, 16, 0, 2, 0}, bytes, 4}, bad;
    int16_t *s = NULL;
    size_t n = 0;

    T_INT(rose_wav_to_mono16k(&ok, ROSE_WAV_PAD_MS_MAX + 1, &s, &n), ROSE_ERR_INTERNAL,
          "padding over ROSE_WAV_PAD_MS_MAX");
    bad = ok;
    bad.data_len = 3;
    T_INT(rose_wav_to_mono16k(&bad, 0, &s, &n), ROSE_ERR_INTERNAL, "frames beyond data_len");
    bad = ok;
    bad.info.channels = 0;
    T_INT(rose_wav_to_mono16k(&bad, 0, &s, &n), ROSE_ERR_INTERNAL, "zero channels");
    bad = ok;
    bad.info.bits = 12;
    T_INT(rose_wav_to_mono16k(&bad, 0, &s, &n), ROSE_ERR_INTERNAL, "12 bits");
    bad = ok;
    bad.data = NULL;
    T_INT(rose_wav_to_mono16k(&bad, 0, &s, &n), ROSE_ERR_INTERNAL, "no data");
    T_OK(s == NULL && n == 0, "refused conversions leave the outputs alone");
    T_INT(rose_wav_to_mono16k(&ok, 10, &s, &n), ROSE_OK, "two frames plus 10 ms");
    T_INT(n, 2 + 160, "two frames plus 10 ms is 162 samples");
    free(s);
}

int
main(void)
{
    static const unsigned rates[] = {8000, 16000, 22050, 44100, 48000};
    static const unsigned chans[] = {1, 2, 6};
    static const unsigned bits[] = {8, 16, 24, 32};
    size_t r, c, b;

    for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++)
        for (c = 0; c < sizeof(chans) / sizeof(chans[0]); c++) {
            for (b = 0; b < sizeof(bits) / sizeof(bits[0]); b++)
                check_layout(1, 0, bits[b], chans[c], rates[r]);
            check_layout(3, 0, 32, chans[c], rates[r]);
        }
    check_layout(0xFFFE, 1, 16, 2, 44100);
    check_layout(0xFFFE, 1, 24, 6, 48000);
    check_layout(0xFFFE, 3, 32, 2, 48000);
    check_layout(1, 0, 16, 8, 96000);
    check_layout(1, 0, 16, 1, 192000);
    check_layout(1, 0, 16, 1, 11025);

    check_antialias(48000, 12000, 0.001);
    check_antialias(44100, 9500, 0.001);
    check_antialias(192000, 20000, 0.001);
    check_passthrough();
    check_write_errors();
    check_truncation();
    check_hostile();
    check_duration_cap();
    check_float_specials();
    check_bad_conversion_args();
    return t_done();
}
