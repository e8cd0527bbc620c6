/*
 * sniff.h — tell an audio upload's container format from its first bytes.
 *
 * The Content-Type and file name a client sends are not trusted (the web
 * app calls every upload "recording.webm"); the magic bytes decide.  Only
 * the container is recognised, not the codec inside it: an Ogg file may
 * hold Opus or Vorbis, an MP4 file AAC or ALAC.
 */
#ifndef ROSE_AUDIO_SNIFF_H
#define ROSE_AUDIO_SNIFF_H

#include <stddef.h>

enum rose_audio_fmt {
    ROSE_AUDIO_UNKNOWN = 0,
    ROSE_AUDIO_WAV,  /* RIFF....WAVE */
    ROSE_AUDIO_WEBM, /* EBML header 1A 45 DF A3 (WebM and Matroska) */
    ROSE_AUDIO_OGG,  /* "OggS" */
    ROSE_AUDIO_MP3,  /* an ID3v2 tag, or two valid MPEG audio frame headers */
    ROSE_AUDIO_MP4,  /* an ftyp box with an audio-capable ISO brand (M4A too) */
    ROSE_AUDIO_FLAC, /* "fLaC" */
    ROSE_AUDIO__MAX
};

/* The format of the n bytes at p, from magic bytes alone; ROSE_AUDIO_UNKNOWN
 * if none matches or n is too short to tell.  Reads at most the first 4 KiB
 * (an MP3 frame is checked against the next one) and never past n; p may be
 * NULL if n is 0. */
enum rose_audio_fmt rose_audio_sniff(const unsigned char *p, size_t n);

/* Short lowercase name, e.g. "wav", "mp4"; "unknown" for ROSE_AUDIO_UNKNOWN
 * and for any value out of range.  Never NULL. */
const char *rose_audio_fmt_name(enum rose_audio_fmt fmt);

/* MIME type, e.g. "audio/wav"; "application/octet-stream" for
 * ROSE_AUDIO_UNKNOWN and for any value out of range.  Never NULL. */
const char *rose_audio_fmt_mime(enum rose_audio_fmt fmt);

#endif
