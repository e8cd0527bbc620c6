/*
 * fuzz_wav.c — libFuzzer harness for audio sniffing (lib/audio/sniff.c) and
 * WAV parsing, conversion and writing (lib/audio/wav.c).
 *
 * Besides memory errors, the harness aborts when a promise of the headers
 * is broken: a parse that succeeds on something not sniffed as WAV, a view
 * of the samples outside the input, sizes that disagree with the format, an
 * error outside the documented set, a converted length other than
 * frames * 16000 / rate plus the padding, or a WAV we write that does not
 * read back as the same samples.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sniff.h"
#include "audio/wav.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Convert, then write the result as a WAV and read it back. */
static void
convert(const struct rose_wav *w, unsigned pad_ms)
{
    struct rose_wav back;
    int16_t *s = NULL;
    unsigned char *bytes = NULL;
    size_t n = 0, len = 0;
    enum rose_err err;

    err = rose_wav_to_mono16k(w, pad_ms, &s, &n);
    if (err == ROSE_ERR_NOMEM)
        return;
    if (err != ROSE_OK ||
        n != (size_t)((uint64_t)w->info.frames * ROSE_WAV_STT_RATE / w->info.rate) + pad_ms * 16)
        abort();
    err = rose_wav_write(s, n, ROSE_WAV_STT_RATE, &bytes, &len);
    if (n == 0 && err != ROSE_ERR_EMPTY)
        abort();
    /* The padding may take a file right at the length cap over it. */
    if (n > 0 && err != ROSE_OK && err != ROSE_ERR_NOMEM && err != ROSE_ERR_TOO_LARGE)
        abort();
    if (err == ROSE_OK) {
        if (len != 44 + 2 * n || rose_audio_sniff(bytes, len) != ROSE_AUDIO_WAV ||
            rose_wav_parse(bytes, len, &back) != ROSE_OK || back.info.frames != n ||
            back.info.rate != ROSE_WAV_STT_RATE || back.info.channels != 1 ||
            back.info.bits != 16 || back.data != bytes + 44)
            abort();
        for (size_t i = 0; i < n; i++)
            if ((int16_t)(back.data[2 * i] | back.data[2 * i + 1] << 8) != s[i])
                abort();
    }
    free(bytes);
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum rose_audio_fmt fmt = rose_audio_sniff(data, size);
    struct rose_wav w;
    enum rose_err err;
    size_t frame;

    if (strlen(rose_audio_fmt_name(fmt)) == 0 || strlen(rose_audio_fmt_mime(fmt)) == 0)
        abort();
    err = rose_wav_parse(data, size, &w);
    if (fmt != ROSE_AUDIO_WAV && err != ROSE_ERR_MEDIA_TYPE)
        abort(); /* only what sniffs as WAV may get past the magic */
    if (err != ROSE_OK) {
        if (err != ROSE_ERR_MEDIA_TYPE && err != ROSE_ERR_BAD_REQUEST && err != ROSE_ERR_EMPTY &&
            err != ROSE_ERR_TOO_LARGE)
            abort();
        return 0;
    }
    frame = (size_t)w.info.channels * (w.info.bits / 8);
    if (w.info.channels < 1 || w.info.channels > ROSE_WAV_CHANNELS_MAX ||
        w.info.rate < ROSE_WAV_RATE_MIN || w.info.rate > ROSE_WAV_RATE_MAX ||
        (w.info.is_float && w.info.bits != 32) || w.info.frames == 0 ||
        w.data_len != w.info.frames * frame || w.data < data || w.data_len > size ||
        (size_t)(w.data - data) > size - w.data_len ||
        w.info.duration_ms != (unsigned long)((uint64_t)w.info.frames * 1000 / w.info.rate) ||
        w.info.frames > (size_t)ROSE_WAV_SECONDS_MAX * w.info.rate)
        abort();
    /* A padding length from the input, so both ends of its range are met. */
    convert(&w, size > 12 ? data[size - 1] % 3 * 250 : 0);
    return 0;
}
