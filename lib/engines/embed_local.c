/*
 * embed_local.c — the built-in sentence embedder (see embed_local.h).
 *
 * Model file (integers little-endian u32, floats IEEE-754 binary32; written
 * by lib/engines/embed-model/export.c):
 *
 *   offset 0   magic "RoseEmb\0"
 *          8   version (1)
 *         12   dim: components per vector
 *         16   count: words
 *         20   strings_len: bytes of the string section
 *         24   hash: FNV-1a (32 bits) of every byte after the header,
 *              the model's identity (see rose_embed_local_id())
 *         28   reserved (0)
 *         32   u32   word_off[count]  word i starts at strings + word_off[i];
 *                                     words are in strcmp order
 *              f32   scale[count]     word i counts in a sentence as
 *              i8    vec[count][dim]  scale[i] * vec[i]: its weight in the
 *                                     mean times its int8-quantised vector
 *              zero bytes to a multiple of 4
 *              char  strings[strings_len]  NUL-terminated words, then zero
 *                                     bytes to a multiple of 4
 *
 * Every section starts at a multiple of 4 bytes, so the mapping is aligned
 * for u32 and float.  The word offsets and scales are read in place, so a
 * big-endian machine refuses the file (Rose's targets are little-endian).
 * build.sh replaces the file by rename(), never in place: a mapped file cut
 * short under a running worker would fault.
 */
#include "engines/embed_local.h"

#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "RoseEmb"
#define VERSION 1
#define HEADER_SIZE 32

/* Words the file may hold (ours: 100,000) and the longest word: bounds
 * that keep every size computation below far from overflow. */
#define COUNT_MAX (4u * 1000 * 1000)
#define WORD_MAX 64

struct rose_embed_local {
    char id[48];
    void *map;
    size_t map_len;
    int dim;
    uint32_t count;
    const uint32_t *word_off;
    const float *scale;
    const int8_t *vec;
    const char *strings;
};

static uint32_t
get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Check the word table: each offset inside the strings, each word ends in
 * a NUL within WORD_MAX bytes and the words are strictly sorted, so the
 * binary search in lookup() is both memory-safe and correct. */
static int
words_valid(const struct rose_embed_local *m, uint32_t strings_len)
{
    const char *prev = NULL;

    for (uint32_t i = 0; i < m->count; i++) {
        uint32_t off = m->word_off[i];
        const char *w;

        if (off >= strings_len)
            return 0;
        w = m->strings + off;
        if (memchr(w, '\0', strings_len - off < WORD_MAX + 1 ? strings_len - off : WORD_MAX + 1) ==
            NULL)
            return 0;
        if (prev != NULL && strcmp(prev, w) >= 0)
            return 0;
        prev = w;
    }
    return 1;
}

enum rose_err
rose_embed_local_open(const char *path, struct rose_embed_local **out)
{
    struct rose_embed_local *m = NULL;
    const unsigned char *h;
    struct stat st;
    uint32_t version, dim, count, strings_len;
    uint64_t vec_len, need;
    enum rose_err err = ROSE_ERR_PARSE;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ROSE_ERR_IO;
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = ROSE_ERR_IO;
        goto out;
    }
    if (st.st_size < HEADER_SIZE)
        goto out;
    m->map_len = (size_t)st.st_size;
    m->map = mmap(NULL, m->map_len, PROT_READ, MAP_SHARED, fd, 0);
    if (m->map == MAP_FAILED) {
        m->map = NULL;
        err = ROSE_ERR_IO;
        goto out;
    }
    h = m->map;
    if (memcmp(h, MAGIC, sizeof(MAGIC)) != 0)
        goto out;
    version = get_u32(h + 8);
    dim = get_u32(h + 12);
    count = get_u32(h + 16);
    strings_len = get_u32(h + 20);
    if (version != VERSION || dim == 0 || dim > ROSE_EMBED_DIM_MAX || count == 0 ||
        count > COUNT_MAX || strings_len % 4 != 0 || get_u32(h + 28) != 0)
        goto out;
    /* The sections must fill the file exactly: a truncated or padded file
     * is not the file export.c wrote.  64-bit sums cannot overflow here. */
    vec_len = ((uint64_t)count * dim + 3) / 4 * 4;
    need = HEADER_SIZE + (uint64_t)count * 8 + vec_len + strings_len;
    if (need != (uint64_t)st.st_size)
        goto out;
    /* Read natively, the version is 1 only on a little-endian machine. */
    if (*(const uint32_t *)(const void *)(h + 8) != VERSION)
        goto out;
    m->dim = (int)dim;
    m->count = count;
    snprintf(m->id, sizeof(m->id), "local:rose-embed-%08x:%u", (unsigned)get_u32(h + 24),
             (unsigned)dim);
    m->word_off = (const uint32_t *)(const void *)(h + HEADER_SIZE);
    m->scale = (const float *)(const void *)(m->word_off + count);
    m->vec = (const int8_t *)(const void *)(m->scale + count);
    m->strings = (const char *)m->vec + vec_len;
    if (!words_valid(m, strings_len))
        goto out;
    *out = m;
    m = NULL;
    err = ROSE_OK;
out:
    close(fd);
    rose_embed_local_close(m);
    return err;
}

int
rose_embed_local_dim(const struct rose_embed_local *m)
{
    return m->dim;
}

const char *
rose_embed_local_id(const struct rose_embed_local *m)
{
    return m->id;
}

/* The index of word w in the sorted table, or -1. */
static long
lookup(const struct rose_embed_local *m, const char *w)
{
    size_t lo = 0, hi = m->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(w, m->strings + m->word_off[mid]);

        if (c == 0)
            return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* The ASCII letter an accented Latin-1 letter (U+00C0..U+00FF, UTF-8
 * C3 80..C3 BF) is read as, lowercase, or 0 for the few that are not
 * letters (multiplication and division signs). */
static char
fold_latin1(unsigned char second)
{
    static const char table[65] = "aaaaaaaceeeeiiiidnooooo\0ouuuuyts"
                                  "aaaaaaaceeeeiiiidnooooo\0ouuuuyty";

    return (second >= 0x80 && second <= 0xbf) ? table[second - 0x80] : 0;
}

/* Is the byte a letter, digit or underscore (Perl's \w in ASCII)? */
static int
is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Add the weighted vector of word w (len bytes, NUL-terminated here) to
 * sum; returns 1 if the word is known. */
static int
add_word(const struct rose_embed_local *m, char *w, size_t len, float *sum)
{
    const int8_t *v;
    float scale;
    long i;

    if (len == 0 || len > WORD_MAX)
        return 0;
    w[len] = '\0';
    i = lookup(m, w);
    if (i < 0)
        return 0;
    v = m->vec + (size_t)i * (size_t)m->dim;
    scale = m->scale[i];
    for (int k = 0; k < m->dim; k++)
        sum[k] += scale * (float)v[k];
    return 1;
}

enum rose_err
rose_embed_local_text(const struct rose_embed_local *m, const char *text, float *out)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + strnlen(text, ROSE_EMBED_TEXT_MAX);
    char word[WORD_MAX + 2];
    size_t len = 0;
    int tokens = 0, known = 0;
    double norm = 0;

    memset(out, 0, (size_t)m->dim * sizeof(*out));
    /* One pass; a word ends at any byte that is not a letter, an apostrophe
     * or a folded accented letter.  Letters past WORD_MAX still advance len
     * so an over-long word is dropped, not cut into a wrong word. */
    while (p < end && tokens < ROSE_EMBED_TOKENS_MAX) {
        unsigned char c = *p;
        char letter = 0;
        size_t step = 1;

        if (c >= 'A' && c <= 'Z')
            letter = (char)(c - 'A' + 'a');
        else if (c >= 'a' && c <= 'z')
            letter = (char)c;
        else if (c == 0xc3 && end - p >= 2 && (letter = fold_latin1(p[1])) != 0)
            step = 2;
        else if (c == '\'' || (c == 0xe2 && end - p >= 3 && p[1] == 0x80 && p[2] == 0x99)) {
            /* An apostrophe: "'s" before a non-word byte is a possessive
             * and goes; any other apostrophe is removed ("don't" is
             * "dont"), as corpus.pl does to the training text. */
            size_t alen = c == '\'' ? 1 : 3;
            const unsigned char *q = p + alen;

            if (q < end && (*q == 's' || *q == 'S') && (q + 1 >= end || !is_word_byte(q[1])))
                alen++;
            p += alen;
            continue;
        }
        if (letter != 0) {
            if (len <= WORD_MAX)
                word[len] = letter;
            len++;
            p += step;
            continue;
        }
        if (len > 0) {
            known += add_word(m, word, len, out);
            tokens++;
            len = 0;
        }
        p++;
    }
    if (len > 0 && tokens < ROSE_EMBED_TOKENS_MAX)
        known += add_word(m, word, len, out);
    for (int k = 0; k < m->dim; k++)
        norm += (double)out[k] * out[k];
    if (known == 0 || !(norm > 0) || !isfinite(norm)) {
        memset(out, 0, (size_t)m->dim * sizeof(*out));
        return ROSE_ERR_EMPTY;
    }
    norm = sqrt(norm);
    for (int k = 0; k < m->dim; k++)
        out[k] = (float)(out[k] / norm);
    return ROSE_OK;
}

float
rose_embed_cosine(const float *a, const float *b, int dim)
{
    float dot = 0;

    for (int k = 0; k < dim; k++)
        dot += a[k] * b[k];
    return dot;
}

void
rose_embed_local_close(struct rose_embed_local *m)
{
    if (m == NULL)
        return;
    if (m->map != NULL)
        munmap(m->map, m->map_len);
    free(m);
}
