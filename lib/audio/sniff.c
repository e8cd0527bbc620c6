/*
 * sniff.c — audio container format from magic bytes (see sniff.h).
 *
 * Most formats start with a fixed signature.  MP3 is the exception: a file
 * without an ID3 tag starts straight with a frame header, whose only fixed
 * part is an 11-bit sync word, so "0xFF 0xFx" alone would take many binary
 * files for MP3.  We decode the header fully (version, layer, bitrate and
 * sample rate must all be valid), compute the frame's length, and when the
 * input is long enough require the next frame header there too.
 */
#include <string.h>

#include "audio/sniff.h"

/* Bytes of the input we look at: enough for the longest MPEG audio frame
 * (2,881 bytes: MPEG-2.5 layer II at 160 kbit/s, 8 kHz) plus the next header,
 * and for an ftyp box's list of compatible brands. */
#define SNIFF_MAX 4096

/* clang-format off */
static const char *const fmt_names[ROSE_AUDIO__MAX] = {
    [ROSE_AUDIO_UNKNOWN] = "unknown",
    [ROSE_AUDIO_WAV] = "wav",
    [ROSE_AUDIO_WEBM] = "webm",
    [ROSE_AUDIO_OGG] = "ogg",
    [ROSE_AUDIO_MP3] = "mp3",
    [ROSE_AUDIO_MP4] = "mp4",
    [ROSE_AUDIO_FLAC] = "flac",
};

static const char *const fmt_mimes[ROSE_AUDIO__MAX] = {
    [ROSE_AUDIO_UNKNOWN] = "application/octet-stream",
    [ROSE_AUDIO_WAV] = "audio/wav",
    [ROSE_AUDIO_WEBM] = "audio/webm",
    [ROSE_AUDIO_OGG] = "audio/ogg",
    [ROSE_AUDIO_MP3] = "audio/mpeg",
    [ROSE_AUDIO_MP4] = "audio/mp4",
    [ROSE_AUDIO_FLAC] = "audio/flac",
};
/* clang-format on */

/* ISO base media brands that audio files carry as major or compatible
 * brand: iTunes/Apple audio, the generic ISO brands browsers' MediaRecorder
 * writes, and 3GPP.  Image and QuickTime-only brands are not audio uploads. */
static const char mp4_brands[][5] = {
    "M4A ", "M4B ", "M4P ", "isom", "iso2", "iso3", "iso4", "iso5",
    "iso6", "mp41", "mp42", "dash", "3gp4", "3gp5", "3gp6", "3g2a",
};

/* Bitrates in kbit/s by [row][index]; index 0 ("free") and 15 ("bad") are
 * refused.  Rows: MPEG-1 layer I, II, III; MPEG-2/2.5 layer I; layers II+III. */
static const unsigned short mpeg_kbps[5][16] = {
    {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0},
    {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0},
    {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
    {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0},
    {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
};

/* Sample rates by [version field][index]; version 1 is reserved. */
static const unsigned mpeg_rates[4][3] = {
    {11025, 12000, 8000},  /* MPEG-2.5 */
    {0, 0, 0},             /* reserved */
    {22050, 24000, 16000}, /* MPEG-2 */
    {44100, 48000, 32000}, /* MPEG-1 */
};

/* Length in bytes of the MPEG audio frame whose 4-byte header is at p, or 0
 * if p is not a valid header. */
static size_t
mpeg_frame_len(const unsigned char *p)
{
    unsigned version, layer, kbps, rate, pad, row;

    if (p[0] != 0xFF || (p[1] & 0xE0) != 0xE0)
        return 0;
    version = (p[1] >> 3) & 3; /* 0: 2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1 */
    layer = (p[1] >> 1) & 3;   /* 0: reserved, 1: III, 2: II, 3: I */
    if (version == 1 || layer == 0 || (p[2] >> 2 & 3) == 3 || (p[3] & 3) == 2)
        return 0;
    if (version == 3)
        row = 3 - layer; /* I → 0, II → 1, III → 2 */
    else
        row = layer == 3 ? 3 : 4;
    kbps = mpeg_kbps[row][p[2] >> 4];
    if (kbps == 0)
        return 0;
    rate = mpeg_rates[version][p[2] >> 2 & 3];
    pad = p[2] >> 1 & 1;
    if (layer == 3)
        return (12 * 1000 * kbps / rate + pad) * 4;
    if (layer == 1 && version != 3)
        return 72 * 1000 * kbps / rate + pad; /* MPEG-2/2.5 layer III: half the samples */
    return 144 * 1000 * kbps / rate + pad;
}

static int
is_mp3(const unsigned char *p, size_t n)
{
    size_t len;

    /* ID3v2: "ID3", major version 2..4, revision, flags, then a 28-bit
     * "syncsafe" size whose bytes all have the top bit clear. */
    if (n >= 10 && memcmp(p, "ID3", 3) == 0)
        return p[3] >= 2 && p[3] <= 4 && p[4] != 0xFF && ((p[6] | p[7] | p[8] | p[9]) & 0x80) == 0;
    if (n < 4 || (len = mpeg_frame_len(p)) == 0)
        return 0;
    /* Too short to hold the next header: one valid header is all we have.
     * (A frame is at most 2,881 bytes, so SNIFF_MAX bytes always hold two.) */
    if (len > n - 4)
        return 1;
    /* The next frame must have the same version, layer and sample rate. */
    return mpeg_frame_len(p + len) != 0 && (p[len + 1] & 0xFE) == (p[1] & 0xFE) &&
           (p[len + 2] & 0x0C) == (p[2] & 0x0C);
}

static int
is_mp4_brand(const unsigned char *b)
{
    size_t i;

    for (i = 0; i < sizeof(mp4_brands) / sizeof(mp4_brands[0]); i++)
        if (memcmp(b, mp4_brands[i], 4) == 0)
            return 1;
    return 0;
}

/* An ftyp box first: big-endian size, "ftyp", the major brand, a minor
 * version, then compatible brands up to the box's end. */
static int
is_mp4(const unsigned char *p, size_t n)
{
    size_t size, at;

    if (n < 16 || memcmp(p + 4, "ftyp", 4) != 0)
        return 0;
    size = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (size < 16 || size % 4 != 0)
        return 0;
    if (is_mp4_brand(p + 8))
        return 1;
    if (size > n)
        size = n;
    for (at = 16; at + 4 <= size; at += 4)
        if (is_mp4_brand(p + at))
            return 1;
    return 0;
}

enum rose_audio_fmt
rose_audio_sniff(const unsigned char *p, size_t n)
{
    if (p == NULL)
        return ROSE_AUDIO_UNKNOWN;
    if (n > SNIFF_MAX)
        n = SNIFF_MAX;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0)
        return ROSE_AUDIO_WAV;
    if (n >= 4 && memcmp(p, "\x1A\x45\xDF\xA3", 4) == 0)
        return ROSE_AUDIO_WEBM;
    if (n >= 4 && memcmp(p, "OggS", 4) == 0)
        return ROSE_AUDIO_OGG;
    if (n >= 4 && memcmp(p, "fLaC", 4) == 0)
        return ROSE_AUDIO_FLAC;
    if (is_mp4(p, n))
        return ROSE_AUDIO_MP4;
    if (is_mp3(p, n))
        return ROSE_AUDIO_MP3;
    return ROSE_AUDIO_UNKNOWN;
}

const char *
rose_audio_fmt_name(enum rose_audio_fmt fmt)
{
    if ((unsigned)fmt >= ROSE_AUDIO__MAX)
        fmt = ROSE_AUDIO_UNKNOWN;
    return fmt_names[fmt];
}

const char *
rose_audio_fmt_mime(enum rose_audio_fmt fmt)
{
    if ((unsigned)fmt >= ROSE_AUDIO__MAX)
        fmt = ROSE_AUDIO_UNKNOWN;
    return fmt_mimes[fmt];
}
