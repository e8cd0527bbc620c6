/*
 * test_speech.c — the offline speech engines together: Flite
 * (lib/engines/tts_flite.c) speaks a sentence, the WAV goes through the
 * parser and the 16 kHz converter (lib/audio/wav.c), and PocketSphinx
 * (lib/engines/stt_sphinx.c) must hear the words back.  The same speech
 * re-recorded as 48 kHz 24-bit stereo, 44.1 kHz 16-bit stereo and 22.05 kHz
 * 8-bit mono checks the converter on real speech; silence must give an empty transcript; odd text
 * must not trouble Flite.  Prints the decoder's creation time and both
 * engines' real-time factors as "# " lines (measured, never asserted).
 *
 * tts_flite.c is included to test its text reduction directly.
 */
#include <math.h>
#include <stdlib.h>

#include "audio/wav.h"
#include "core/buf.h"
#include "core/text.h"
#include "engines/stt_sphinx.h"
#include "engines/tts_flite.c"
#include "t.h"

#define SENTENCE "my name is sarah and i feel sad today"
#define PAD_MS 500

/* 1 if word occurs in text as a whole word. */
static int
has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    const char *p;

    for (p = text; (p = strstr(p, word)) != NULL; p++)
        if ((p == text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* WAV bytes → parse → 16 kHz mono + padding → PocketSphinx.  Returns the
 * transcript (caller frees) or NULL, and adds the decoding time to *ms. */
static char *
hear(const unsigned char *bytes, size_t len, const char *what, double *ms)
{
    struct rose_wav wav;
    int16_t *s = NULL;
    size_t n = 0;
    char *text = NULL;
    double t0;

    T_INT(rose_wav_parse(bytes, len, &wav), ROSE_OK, "%s: WAV parses", what);
    T_INT(rose_wav_to_mono16k(&wav, PAD_MS, &s, &n), ROSE_OK, "%s: converts to 16 kHz", what);
    if (s == NULL)
        return NULL;
    t0 = rose_mono_ms();
    T_INT(rose_stt_sphinx_decode(s, n, &text), ROSE_OK, "%s: decodes", what);
    *ms += rose_mono_ms() - t0;
    free(s);
    return text;
}

static void
wr16(unsigned char *p, unsigned v)
{
    p[0] = v & 0xFF;
    p[1] = v >> 8 & 0xFF;
}

static void
wr32(unsigned char *p, uint32_t v)
{
    wr16(p, v & 0xFFFF);
    wr16(p + 2, v >> 16);
}

/* A WAV of the 16 kHz mono speech re-recorded at rate Hz, channels wide,
 * bits deep: linear interpolation up from 16 kHz (speech has nothing above
 * 8 kHz to lose), the right channel at half the level. */
static void
rerecord(const int16_t *in, size_t n, unsigned rate, unsigned channels, unsigned bits,
         struct rose_buf *out)
{
    size_t frames = (size_t)((uint64_t)n * rate / 16000), i, j;
    unsigned bytes = bits / 8, c, align = channels * bytes;
    unsigned char hdr[44];
    uint32_t data_len = (uint32_t)(frames * align);
    double t, v;

    memcpy(hdr, "RIFF", 4);
    wr32(hdr + 4, 36 + data_len);
    memcpy(hdr + 8, "WAVEfmt ", 8);
    wr32(hdr + 16, 16);
    wr16(hdr + 20, 1);
    wr16(hdr + 22, channels);
    wr32(hdr + 24, rate);
    wr32(hdr + 28, rate * align);
    wr16(hdr + 32, align);
    wr16(hdr + 34, bits);
    memcpy(hdr + 36, "data", 4);
    wr32(hdr + 40, data_len);
    rose_buf_init(out, 64 * 1024 * 1024);
    if (rose_buf_append(out, hdr, sizeof(hdr)) != ROSE_OK)
        abort();
    for (i = 0; i < frames; i++) {
        t = (double)i * 16000 / rate;
        j = (size_t)t;
        v = j + 1 < n ? in[j] + (t - (double)j) * (in[j + 1] - in[j]) : in[n - 1];
        for (c = 0; c < channels; c++) {
            int32_t x = (int32_t)lrint((c ? v / 2 : v) * (bits == 24 ? 256 : 1));
            unsigned char b[3] = {x & 0xFF, x >> 8 & 0xFF, x >> 16 & 0xFF};

            if (bits == 8) /* unsigned, the top 8 bits */
                b[0] = (unsigned char)((x >> 8) + 128);

            if (rose_buf_append(out, b, bytes) != ROSE_OK)
                abort();
        }
    }
}

static void
check_to_ascii(void)
{
    static const struct {
        const char *in, *want;
        int said;
    } cases[] = {
        {"Hello, world!", "Hello, world!", 1},
        {"Zo\xc3\xab\xe2\x80\x99s caf\xc3\xa9", "Zoe's cafe", 1},
        {"\xe2\x80\x9cyes\xe2\x80\x9d \xe2\x80\x94 maybe\xe2\x80\xa6", "\"yes\" ,  maybe...", 1},
        {"tab\there\nnew\x01line\x7f", "tab here new line ", 1},
        {"\xf0\x9f\x98\x80 smile", "  smile", 1}, /* an emoji is one space... */
        {"\xe6\x97\xa5\xe6\x9c\xac", "  ", 0},    /* ...and so is each CJK letter */
        {"\xff\xfe a \xc3", "   a  ", 1},         /* invalid bytes, cut sequence */
        {"\xc3\x28", " (", 0},                    /* bad continuation: two bytes */
        {"\xe2\x80", "  ", 0},                    /* sequence cut at the end */
        {"\xc3\x97 \xc3\xb7", "   ", 0},          /* multiplication, division signs */
        {"... !?", "... !?", 0},
        {"", "", 0},
    };
    char out[64];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int said = to_ascii((const unsigned char *)cases[i].in, strlen(cases[i].in), out);

        T_STR(out, cases[i].want, "to_ascii case %zu", i);
        T_INT(said, cases[i].said, "to_ascii case %zu: something to say", i);
    }
}

/* Text Flite must survive: never a crash, a WAV or a clear error. */
static void
check_odd_text(void)
{
    static const struct {
        const char *text;
        enum rose_err want;
    } cases[] = {
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", ROSE_ERR_EMPTY},
        {"   \t\n", ROSE_ERR_EMPTY},
        {"", ROSE_ERR_EMPTY},
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e and English", ROSE_OK},
        {"I'm here \xe2\x80\x94 always \xf0\x9f\x8c\xb9", ROSE_OK},
        {"\xff\xfe\xfd ok \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80", ROSE_OK},
        {"$3.50 at 10:30pm on 2024-01-02, 50% off!!! ???", ROSE_OK},
        {"a", ROSE_OK},
    };
    unsigned char *wav = NULL;
    size_t i, len = 0;
    char *big;
    enum rose_err err;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = rose_tts_flite_speak(cases[i].text, &wav, &len);
        T_INT(err, cases[i].want, "odd text %zu speaks or refuses cleanly", i);
        if (err == ROSE_OK) {
            struct rose_wav w;

            T_OK(rose_wav_parse(wav, len, &w) == ROSE_OK && w.info.frames > 0,
                 "odd text %zu gives a valid WAV", i);
            free(wav);
            wav = NULL;
        }
    }
    T_INT(rose_tts_flite_speak(NULL, &wav, &len), ROSE_ERR_EMPTY, "NULL text");
    if ((big = malloc(ROSE_TTS_TEXT_MAX + 2)) == NULL)
        abort();
    memset(big, 'a', ROSE_TTS_TEXT_MAX + 1);
    big[ROSE_TTS_TEXT_MAX + 1] = '\0';
    T_INT(rose_tts_flite_speak(big, &wav, &len), ROSE_ERR_TOO_LARGE, "text over the limit");
    free(big);
}

static void
check_silence(void)
{
    int16_t *zeros = calloc(32000, sizeof(*zeros));
    unsigned char *bytes = NULL;
    size_t i, len = 0;
    char *text;
    double ms = 0;

    if (zeros == NULL)
        abort();
    T_INT(rose_wav_write(zeros, 32000, 16000, &bytes, &len), ROSE_OK, "2 s of silence");
    text = hear(bytes, len, "digital silence", &ms);
    T_STR(text, "", "digital silence: empty transcript");
    free(text);
    free(bytes);

    /* A quiet room: noise of a few units, as a real microphone gives. */
    for (i = 0; i < 32000; i++)
        zeros[i] = (int16_t)((int)(i * 2654435761u >> 28) - 8);
    T_INT(rose_wav_write(zeros, 32000, 16000, &bytes, &len), ROSE_OK, "2 s of faint noise");
    text = hear(bytes, len, "faint noise", &ms);
    T_STR(text, "", "faint noise: empty transcript");
    free(text);
    free(bytes);

    /* Shorter than one 10 ms analysis frame, or about one. */
    for (i = 1; i <= 161; i += 80) {
        text = NULL;
        T_INT(rose_stt_sphinx_decode(zeros, i, &text), ROSE_OK, "%zu samples decode", i);
        T_STR(text, "", "%zu samples: empty transcript", i);
        free(text);
    }
    T_INT(rose_stt_sphinx_decode(zeros, 0, &text), ROSE_ERR_EMPTY, "0 samples");
    T_INT(rose_stt_sphinx_decode(zeros, (size_t)(ROSE_WAV_SECONDS_MAX + 6) * 16000, &text),
          ROSE_ERR_TOO_LARGE, "over the length limit (checked before reading)");
    free(zeros);
}

int
main(void)
{
    struct rose_stt_sphinx_model nowhere = {"/nonexistent/en-us", NULL, NULL};
    unsigned char *wav = NULL;
    size_t len = 0;
    struct rose_wav info;
    struct rose_buf re;
    double t0, init_ms, tts_ms, stt_ms = 0, audio_ms;
    char *text;
    int16_t *s16 = NULL;
    size_t n16 = 0;

    check_to_ascii();

    T_INT(rose_tts_flite_speak("hello", &wav, &len), ROSE_ERR_UNAVAILABLE, "speak before init");
    T_INT(rose_stt_sphinx_decode((const int16_t *)"\0\0", 1, &text), ROSE_ERR_UNAVAILABLE,
          "decode before init");
    T_INT(rose_stt_sphinx_init(&nowhere), ROSE_ERR_CONFIG, "missing model → config error");

    T_INT(rose_tts_flite_init(), ROSE_OK, "Flite starts");
    t0 = rose_mono_ms();
    T_INT(rose_stt_sphinx_init(NULL), ROSE_OK, "PocketSphinx decoder created");
    init_ms = rose_mono_ms() - t0;
    T_INT(rose_stt_sphinx_init(NULL), ROSE_OK, "second init is a no-op");

    /* The round trip. */
    t0 = rose_mono_ms();
    T_INT(rose_tts_flite_speak(SENTENCE, &wav, &len), ROSE_OK, "Flite speaks the sentence");
    tts_ms = rose_mono_ms() - t0;
    if (wav == NULL)
        return t_done();
    T_OK(rose_wav_parse(wav, len, &info) == ROSE_OK && info.info.rate == 16000 &&
             info.info.channels == 1 && info.info.bits == 16 && info.info.duration_ms > 1000,
         "Flite's WAV: 16 kHz mono 16-bit, %lu ms", info.info.duration_ms);
    audio_ms = (double)info.info.duration_ms;
    text = hear(wav, len, "Flite's WAV", &stt_ms);
    printf("# transcript: '%s'\n", text ? text : "(none)");
    T_OK(text && has_word(text, "sarah"), "transcript has 'sarah'");
    T_OK(text && has_word(text, "sad"), "transcript has 'sad'");
    free(text);
    printf("# PocketSphinx decoder creation: %.0f ms\n", init_ms);
    printf("# Flite: %.0f ms for %.0f ms of speech, real-time factor %.3f\n", tts_ms, audio_ms,
           tts_ms / audio_ms);
    printf("# PocketSphinx: %.0f ms for %.0f ms of audio (+%d ms padding), real-time factor "
           "%.3f\n",
           stt_ms, audio_ms, PAD_MS, stt_ms / (audio_ms + PAD_MS));

    /* The same speech from other recorders. */
    if (rose_wav_to_mono16k(&info, 0, &s16, &n16) == ROSE_OK) {
        static const struct {
            unsigned rate, channels, bits;
        } recs[] = {{48000, 2, 24}, {44100, 2, 16}, {22050, 1, 8}};
        size_t i;

        for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
            char what[64];
            double ms = 0;

            snprintf(what, sizeof(what), "%u Hz %u-bit %u ch", recs[i].rate, recs[i].bits,
                     recs[i].channels);
            rerecord(s16, n16, recs[i].rate, recs[i].channels, recs[i].bits, &re);
            text = hear((unsigned char *)re.data, re.len, what, &ms);
            printf("# %s transcript: '%s'\n", what, text ? text : "(none)");
            T_OK(text && has_word(text, "sarah") && has_word(text, "sad"),
                 "%s: transcript has 'sarah' and 'sad'", what);
            free(text);
            rose_buf_free(&re);
        }
        free(s16);
    }
    free(wav);

    check_silence();
    check_odd_text();

    rose_stt_sphinx_shutdown();
    rose_tts_flite_shutdown();
    T_INT(rose_tts_flite_speak("hello", &wav, &len), ROSE_ERR_UNAVAILABLE, "speak after shutdown");
    return t_done();
}
