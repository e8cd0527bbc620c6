/*
 * wav.h — RIFF/WAVE: parse an uploaded file, convert it to what the speech
 * recogniser needs (16 kHz mono int16), and write a WAV for speech output.
 *
 * The parser is written for hostile input: it reads only inside the bytes
 * it is given, checks every size before using it, and refuses what it does
 * not decode instead of guessing.  See docs/internals/audio.md.
 */
#ifndef ROSE_AUDIO_WAV_H
#define ROSE_AUDIO_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"

/* The rate rose_wav_to_mono16k() produces: the PocketSphinx en-US model's. */
#define ROSE_WAV_STT_RATE 16000

struct rose_wav_info {
    unsigned rate;             /* frames per second, ROSE_WAV_RATE_MIN..MAX */
    unsigned channels;         /* 1..ROSE_WAV_CHANNELS_MAX */
    unsigned bits;             /* bits of one stored sample: 8, 16, 24 or 32 */
    int is_float;              /* 1: 32-bit IEEE float; 0: integer PCM */
    size_t frames;             /* sample frames (one sample of each channel) */
    unsigned long duration_ms; /* frames / rate in milliseconds, rounded down */
};

/* A parsed WAV: its format and a view of its samples inside the caller's
 * bytes (nothing is copied; valid while those bytes are). */
struct rose_wav {
    struct rose_wav_info info;
    const unsigned char *data; /* the first frame */
    size_t data_len;           /* frames * channels * bits / 8 */
};

/* Parse the n bytes at p as a WAV file.  Chunks may come in any order
 * (unknown ones such as LIST and fact are skipped, odd sizes are padded);
 * the first fmt and data chunks are used and the RIFF size field is ignored
 * (streaming writers leave it 0 or 0xFFFFFFFF).  A data chunk that claims
 * more bytes than follow is truncated to the whole frames present, so a
 * recording cut short still plays.  Accepted: format 1 (PCM: 8-bit
 * unsigned, 16/24/32-bit signed), 3 (32-bit IEEE float) and 0xFFFE
 * (WAVE_FORMAT_EXTENSIBLE with a PCM or float subformat), 1..8 channels,
 * 8,000..192,000 Hz.
 * Returns ROSE_OK and fills *out; ROSE_ERR_MEDIA_TYPE if this is not a
 * RIFF/WAVE file or uses an encoding or layout we do not decode;
 * ROSE_ERR_BAD_REQUEST if it is malformed (truncated header, fmt or data
 * missing, impossible values); ROSE_ERR_EMPTY if it holds no whole frame;
 * ROSE_ERR_TOO_LARGE if longer than ROSE_WAV_SECONDS_MAX.  *out is set only
 * on success.  Does not log. */
enum rose_err rose_wav_parse(const unsigned char *p, size_t n, struct rose_wav *out);

/* Convert a parsed WAV to 16 kHz mono signed 16-bit samples followed by
 * pad_ms milliseconds of silence (PocketSphinx drops a final word that runs
 * up to the end of the audio).  Channels are averaged; the rate is changed
 * with a windowed-sinc low-pass resampler (16 kHz input is copied as is).
 * The output has frames * 16000 / rate samples (rounded down) plus
 * pad_ms * 16.  pad_ms is at most ROSE_WAV_PAD_MS_MAX.
 * On success *out (caller frees) and *out_n are set.  ROSE_ERR_NOMEM;
 * ROSE_ERR_INTERNAL if wav does not describe a valid parse (or pad_ms is
 * too large).  Memory: 4 bytes per input frame while converting. */
enum rose_err rose_wav_to_mono16k(const struct rose_wav *wav, unsigned pad_ms, int16_t **out,
                                  size_t *out_n);

/* Write n mono 16-bit samples at rate Hz as a canonical WAV file (44-byte
 * header, PCM).  rate is ROSE_WAV_RATE_MIN..MAX and n at least 1.
 * On success *out (caller frees) and *out_len are set.  ROSE_ERR_EMPTY for
 * n == 0; ROSE_ERR_TOO_LARGE past ROSE_WAV_SECONDS_MAX; ROSE_ERR_INTERNAL
 * for a bad rate or NULL samples; ROSE_ERR_NOMEM. */
enum rose_err rose_wav_write(const int16_t *samples, size_t n, unsigned rate, unsigned char **out,
                             size_t *out_len);

#endif
