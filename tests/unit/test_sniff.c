/*
 * test_sniff.c — audio format sniffing (lib/audio/sniff.c): the first bytes
 * of real files of each format, garbage, inputs cut shorter than the magic,
 * and MPEG frame headers against look-alike runs of 0xFF.
 */
#include <stdlib.h>

#include "audio/sniff.h"
#include "t.h"

#define B(...) ((const unsigned char[]){__VA_ARGS__}), sizeof((const unsigned char[]){__VA_ARGS__})

struct sniff_case {
    const char *what;
    const unsigned char *p;
    size_t n;
    enum rose_audio_fmt want;
};

static const struct sniff_case cases[] = {
    /* The 44-byte header sox writes for 16 kHz mono 16-bit. */
    {"wav (sox)",
     B('R', 'I', 'F', 'F', 0x24, 0x7D, 0x00, 0x00, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 0x10,
       0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x80, 0x3E, 0x00, 0x00, 0x00, 0x7D, 0x00, 0x00,
       0x02, 0x00, 0x10, 0x00, 'd', 'a', 't', 'a', 0x00, 0x7D, 0x00, 0x00),
     ROSE_AUDIO_WAV},
    /* Chrome's MediaRecorder: EBML header, DocType "webm". */
    {"webm (Chrome MediaRecorder)",
     B(0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42, 0xF2,
       0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x84, 'w', 'e', 'b', 'm', 0x42, 0x87, 0x81,
       0x04, 0x42, 0x85, 0x81, 0x02),
     ROSE_AUDIO_WEBM},
    {"matroska (mkvmerge)",
     B(0x1A, 0x45, 0xDF, 0xA3, 0xA3, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42, 0xF2,
       0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x88, 'm', 'a', 't', 'r', 'o', 's', 'k',
       'a'),
     ROSE_AUDIO_WEBM},
    /* Firefox's MediaRecorder: Ogg page with an OpusHead packet. */
    {"ogg opus (Firefox MediaRecorder)",
     B('O', 'g', 'g', 'S', 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3B, 0x5A,
       0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8C, 0x4B, 0x6A, 0x7E, 0x01, 0x13, 'O', 'p', 'u', 's',
       'H', 'e', 'a', 'd', 0x01, 0x01, 0x38, 0x01, 0x80, 0xBB, 0x00, 0x00, 0x00, 0x00, 0x00),
     ROSE_AUDIO_OGG},
    {"ogg vorbis",
     B('O', 'g', 'g', 'S', 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22,
       0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0x9A, 0x10, 0x6E, 0x3C, 0x01, 0x1E, 0x01, 'v', 'o', 'r',
       'b', 'i', 's'),
     ROSE_AUDIO_OGG},
    /* LAME with an ID3v2.4 tag (TSSE frame), and an ID3v2.3 one. */
    {"mp3 with ID3v2.4",
     B('I', 'D', '3', 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 'T', 'S', 'S', 'E', 0x00, 0x00,
       0x00, 0x0F, 0x00, 0x00, 0x03, 'L', 'a', 'v', 'f', '5', '8'),
     ROSE_AUDIO_MP3},
    {"mp3 with ID3v2.3",
     B('I', 'D', '3', 0x03, 0x00, 0x00, 0x00, 0x00, 0x10, 0x76, 'T', 'I', 'T', '2'),
     ROSE_AUDIO_MP3},
    /* One MPEG-1 layer III frame header (128 kbit/s, 44.1 kHz), too short
     * to hold the next frame: the header alone decides. */
    {"mp3 frame header, short input", B(0xFF, 0xFB, 0x90, 0x64, 0x00, 0x00, 0x00, 0x00),
     ROSE_AUDIO_MP3},
    {"mp3 MPEG-2 layer III header (24 kHz)", B(0xFF, 0xF3, 0x84, 0xC4, 0x00), ROSE_AUDIO_MP3},
    /* iPhone Voice Memos / ffmpeg .m4a. */
    {"m4a (M4A major brand)",
     B(0x00, 0x00, 0x00, 0x20, 'f', 't', 'y', 'p', 'M', '4', 'A', ' ', 0x00, 0x00, 0x02, 0x00, 'M',
       '4', 'A', ' ', 'i', 's', 'o', 'm', 'i', 's', 'o', '2', 0x00, 0x00, 0x00, 0x00),
     ROSE_AUDIO_MP4},
    {"mp4 (mp42, Safari MediaRecorder)",
     B(0x00, 0x00, 0x00, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2', 0x00, 0x00, 0x00, 0x00, 'i',
       's', 'o', 'm', 'm', 'p', '4', '2'),
     ROSE_AUDIO_MP4},
    {"mp4 with an unknown major brand but isom compatible",
     B(0x00, 0x00, 0x00, 0x1C, 'f', 't', 'y', 'p', 'x', 'y', 'z', 'w', 0x00, 0x00, 0x00, 0x01, 'a',
       'b', 'c', 'd', 'i', 's', 'o', 'm', 'e', 'f', 'g', 'h'),
     ROSE_AUDIO_MP4},
    {"flac",
     B('f', 'L', 'a', 'C', 0x00, 0x00, 0x00, 0x22, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00, 0x0E, 0x00,
       0x2C, 0x8C, 0x0A, 0xC4, 0x40, 0xF0),
     ROSE_AUDIO_FLAC},

    /* Not audio, or not a format we take. */
    {"empty", (const unsigned char *)"", 0, ROSE_AUDIO_UNKNOWN},
    {"text", B('h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'), ROSE_AUDIO_UNKNOWN},
    {"png",
     B(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 'I', 'H', 'D', 'R'),
     ROSE_AUDIO_UNKNOWN},
    {"pdf", B('%', 'P', 'D', 'F', '-', '1', '.', '7', '\n'), ROSE_AUDIO_UNKNOWN},
    {"zeros", B(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), ROSE_AUDIO_UNKNOWN},
    {"RIFF but AVI", B('R', 'I', 'F', 'F', 0x00, 0x10, 0x00, 0x00, 'A', 'V', 'I', ' '),
     ROSE_AUDIO_UNKNOWN},
    {"RIFX (big-endian WAV)", B('R', 'I', 'F', 'X', 0x00, 0x00, 0x10, 0x00, 'W', 'A', 'V', 'E'),
     ROSE_AUDIO_UNKNOWN},
    {"HEIC image (ftyp heic)",
     B(0x00, 0x00, 0x00, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0x00, 0x00, 0x00, 0x00, 'm',
       'i', 'f', '1', 'h', 'e', 'i', 'c'),
     ROSE_AUDIO_UNKNOWN},
    {"ftyp box with a size below 16",
     B(0x00, 0x00, 0x00, 0x08, 'f', 't', 'y', 'p', 'M', '4', 'A', ' ', 0x00, 0x00, 0x00, 0x00),
     ROSE_AUDIO_UNKNOWN},
    {"ID3 with a bad version", B('I', 'D', '3', 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
     ROSE_AUDIO_UNKNOWN},
    {"ID3 with a non-syncsafe size", B('I', 'D', '3', 0x04, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00),
     ROSE_AUDIO_UNKNOWN},
    {"AAC ADTS (layer 0, not MPEG audio)", B(0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC),
     ROSE_AUDIO_UNKNOWN},
    {"0xFF run", B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), ROSE_AUDIO_UNKNOWN},
    {"sync with reserved version", B(0xFF, 0xEB, 0x90, 0x64), ROSE_AUDIO_UNKNOWN},
    {"sync with free bitrate", B(0xFF, 0xFB, 0x00, 0x64), ROSE_AUDIO_UNKNOWN},
    {"sync with reserved sample rate", B(0xFF, 0xFB, 0x9C, 0x64), ROSE_AUDIO_UNKNOWN},
    {"sync with reserved emphasis", B(0xFF, 0xFB, 0x90, 0x66), ROSE_AUDIO_UNKNOWN},

    /* Cut shorter than the magic. */
    {"truncated wav (11 bytes)", B('R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V'),
     ROSE_AUDIO_UNKNOWN},
    {"truncated wav (3 bytes)", B('R', 'I', 'F'), ROSE_AUDIO_UNKNOWN},
    {"truncated webm", B(0x1A, 0x45, 0xDF), ROSE_AUDIO_UNKNOWN},
    {"truncated ogg", B('O', 'g', 'g'), ROSE_AUDIO_UNKNOWN},
    {"truncated flac", B('f', 'L', 'a'), ROSE_AUDIO_UNKNOWN},
    {"truncated ID3", B('I', 'D', '3', 0x04), ROSE_AUDIO_UNKNOWN},
    {"truncated mp3 header", B(0xFF, 0xFB, 0x90), ROSE_AUDIO_UNKNOWN},
    {"truncated ftyp", B(0x00, 0x00, 0x00, 0x20, 'f', 't', 'y', 'p', 'M', '4', 'A', ' '),
     ROSE_AUDIO_UNKNOWN},
};

/* A run of MPEG-1 layer III frames: 128 kbit/s at 44.1 kHz is 417 bytes a
 * frame (418 with the padding bit). */
static void
test_mp3_frames(void)
{
    static const unsigned char hdr[4] = {0xFF, 0xFB, 0x90, 0x64};
    size_t len = 417, n = 3 * len;
    unsigned char *p = calloc(1, n);

    if (p == NULL)
        abort();
    memcpy(p, hdr, 4);
    memcpy(p + len, hdr, 4);
    memcpy(p + 2 * len, hdr, 4);
    T_INT(rose_audio_sniff(p, n), ROSE_AUDIO_MP3, "three MP3 frames in a row");

    /* The second header one byte off: the first frame's length is wrong. */
    memset(p + len, 0, 4);
    memcpy(p + len + 1, hdr, 4);
    T_INT(rose_audio_sniff(p, n), ROSE_AUDIO_UNKNOWN, "MP3 header with no frame where it points");

    /* The padding bit makes the frame one byte longer. */
    p[2] |= 0x02;
    T_INT(rose_audio_sniff(p, n), ROSE_AUDIO_MP3, "padded MP3 frame is one byte longer");

    /* The next header at the right place but another sample rate. */
    p[2] = 0x90;
    memcpy(p + len, hdr, 4);
    p[len + 2] = 0x94; /* 48 kHz */
    T_INT(rose_audio_sniff(p, n), ROSE_AUDIO_UNKNOWN, "next MP3 frame at another rate");

    /* 0xFF bytes with valid-looking header bits, followed by noise. */
    memset(p, 0xFF, n);
    T_INT(rose_audio_sniff(p, n), ROSE_AUDIO_UNKNOWN, "long run of 0xFF");
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7919 % 251);
    memcpy(p, hdr, 4);
    T_INT(rose_audio_sniff(p, n), ROSE_AUDIO_UNKNOWN, "one MP3 header followed by noise");
    free(p);
}

/* MP4 compatible brands are read only within the ftyp box and the input. */
static void
test_mp4_bounds(void)
{
    static const unsigned char box[] = {0x00, 0x00, 0x00, 0x10, 'f',  't',  'y', 'p', 'x', 'x',
                                        'x',  'x',  0x00, 0x00, 0x00, 0x00, 'i', 's', 'o', 'm'};

    T_INT(rose_audio_sniff(box, sizeof(box)), ROSE_AUDIO_UNKNOWN,
          "brand after the ftyp box's end is not read");
}

static void
test_tables(void)
{
    int f;

    for (f = 0; f < ROSE_AUDIO__MAX; f++) {
        T_OK(rose_audio_fmt_name(f) != NULL && rose_audio_fmt_mime(f) != NULL &&
                 rose_audio_fmt_name(f)[0] != '\0',
             "format %d has a name (%s) and a MIME type (%s)", f, rose_audio_fmt_name(f),
             rose_audio_fmt_mime(f));
        if (f != ROSE_AUDIO_UNKNOWN)
            T_OK(strncmp(rose_audio_fmt_mime(f), "audio/", 6) == 0, "%s MIME is audio/*",
                 rose_audio_fmt_name(f));
    }
    T_STR(rose_audio_fmt_mime(ROSE_AUDIO_MP3), "audio/mpeg", "MP3 is audio/mpeg");
    T_STR(rose_audio_fmt_mime(ROSE_AUDIO_WAV), "audio/wav", "WAV is audio/wav");
    T_STR(rose_audio_fmt_name((enum rose_audio_fmt)ROSE_AUDIO__MAX), "unknown",
          "out-of-range name is unknown");
    T_STR(rose_audio_fmt_mime((enum rose_audio_fmt) - 1), "application/octet-stream",
          "out-of-range MIME is octet-stream");
}

int
main(void)
{
    size_t i, k;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct sniff_case *c = &cases[i];
        enum rose_audio_fmt got = rose_audio_sniff(c->p, c->n);

        T_OK(got == c->want, "%s → %s", c->what, rose_audio_fmt_name(c->want));
        if (got != c->want)
            printf("#   got %s\n", rose_audio_fmt_name(got));
    }
    T_INT(rose_audio_sniff(NULL, 0), ROSE_AUDIO_UNKNOWN, "NULL input");

    /* Every prefix of every recognised header shorter than its magic is
     * unknown, and reading a prefix never goes past it (ASan checks the
     * heap copy of exactly k bytes). */
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct sniff_case *c = &cases[i];
        int bad = 0;

        for (k = 0; k <= c->n; k++) {
            unsigned char *copy = malloc(k ? k : 1);

            if (copy == NULL)
                abort();
            memcpy(copy, c->p, k);
            if (rose_audio_sniff(copy, k) != ROSE_AUDIO_UNKNOWN && k < 4)
                bad = 1;
            free(copy);
        }
        T_OK(!bad, "%s: prefixes under 4 bytes are unknown", c->what);
    }

    test_mp3_frames();
    test_mp4_bounds();
    test_tables();
    return t_done();
}
