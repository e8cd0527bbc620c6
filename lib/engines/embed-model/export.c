/*
 * export.c — turn fastText's word vectors into the model file that
 * lib/engines/embed_local.c maps (its layout is documented there).
 * A build tool, compiled and run by build.sh; not part of librose.
 *
 *   export VECTORS.vec COUNTS LINKS WORDS OUT.bin
 *
 * VECTORS.vec: fastText's text output ("count dim", then "word v1 .. vdim",
 * most frequent first).  COUNTS: `fasttext dump MODEL.bin dict` ("word
 * count word", same order).  LINKS: "a b" lines from corpus.pl, pairs of
 * words that mean nearly the same (synonyms, hypernyms, inflections).
 * WORDS: how many of the most frequent words to keep.
 *
 * Four steps after reading, each measured on tests/embed/pairs.tsv
 * (docs/internals/embeddings.md):
 *   1. retrofitting (Faruqui et al. 2015, "Retrofitting Word Vectors to
 *      Semantic Lexicons"): each vector moves halfway towards the mean of
 *      its linked words' vectors, ten rounds, so "mom" meets "mother" and
 *      "died" meets "die" even where the dictionaries use them in
 *      different company;
 *   2. centring: the mean vector, which every word shares and which only
 *      makes unrelated texts look alike, is subtracted;
 *   3. weights: a / (a + p(word)), p the word's share of the training
 *      tokens, a = 1e-4 (Arora et al. 2017, "A simple but tough-to-beat
 *      baseline for sentence embeddings"): "the" weighs about 0.002, a
 *      rare word about 1;
 *   4. int8: each vector is stored as 8-bit integers times one float per
 *      word (the largest component maps to 127), with the weight folded
 *      into that float; a quarter of the size, no change in the AUC.
 * The header carries a hash of everything after it, the model's identity:
 * two trainings give unrelated vector spaces (even two runs with two
 * threads), so stored vectors are comparable only with the same hash.
 * The file is written to OUT.bin.tmp and renamed, so an interrupted build
 * never leaves a half-written model.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 64
#define DIM_MAX 1024
#define LINE_MAX_ (64 * 1024)
#define RETROFIT_ROUNDS 10
#define SIF_A 1e-4

struct word {
    char w[WORD_MAX + 1];
    double count;
    float *vec;
};

static struct word *words; /* kept words, sorted by w after reading */
static size_t nwords;
static int dim;

static void
die(const char *what)
{
    fprintf(stderr, "export: %s\n", what);
    exit(1);
}

static FILE *
open_or_die(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);

    if (f == NULL) {
        fprintf(stderr, "export: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void *
xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);

    if (p == NULL)
        die("out of memory");
    return p;
}

static int
cmp_word(const void *a, const void *b)
{
    return strcmp(((const struct word *)a)->w, ((const struct word *)b)->w);
}

static long
find(const char *w)
{
    struct word key, *hit;

    if (strlen(w) > WORD_MAX)
        return -1;
    strcpy(key.w, w);
    hit = bsearch(&key, words, nwords, sizeof(*words), cmp_word);
    return hit ? hit - words : -1;
}

/* Lowercase ASCII letters only, 1..WORD_MAX of them: the words the
 * embedder's tokeniser can produce ("</s>" is fastText's line end). */
static int
plain_word(const char *w)
{
    size_t n = strlen(w);

    if (n == 0 || n > WORD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] < 'a' || w[i] > 'z')
            return 0;
    return 1;
}

/* Read the vectors and counts; keep the first max plain words.  Returns
 * the count of all word tokens, for p(word). */
static double
read_vectors(const char *vec_path, const char *counts_path, size_t max)
{
    static char vline[LINE_MAX_], cline[1024];
    FILE *vf = open_or_die(vec_path, "r"), *cf = open_or_die(counts_path, "r");
    double total = 0;
    long n;

    if (fscanf(vf, "%ld %d\n", &n, &dim) != 2 || dim <= 0 || dim > DIM_MAX)
        die("bad header in the vectors file");
    if (fgets(cline, sizeof(cline), cf) == NULL) /* "N" header line */
        die("empty counts file");
    words = xmalloc(max * sizeof(*words));
    while (fgets(vline, sizeof(vline), vf) != NULL) {
        char cw[256], *p, *end;
        double c;

        if (fgets(cline, sizeof(cline), cf) == NULL || sscanf(cline, "%255s %lf", cw, &c) != 2)
            die("counts file shorter than the vectors");
        p = strchr(vline, ' ');
        if (p == NULL)
            die("bad line in the vectors file");
        *p++ = '\0';
        if (strcmp(vline, cw) != 0)
            die("counts and vectors are not in the same order");
        if (strcmp(cw, "</s>") != 0)
            total += c;
        if (nwords == max || !plain_word(vline))
            continue;
        struct word *w = &words[nwords++];
        strcpy(w->w, vline);
        w->count = c;
        w->vec = xmalloc((size_t)dim * sizeof(float));
        for (int k = 0; k < dim; k++, p = end) {
            w->vec[k] = strtof(p, &end);
            if (end == p)
                die("short vector in the vectors file");
        }
    }
    fclose(vf);
    fclose(cf);
    if (nwords == 0 || total <= 0)
        die("no words");
    return total;
}

/* Retrofit along the links: CSR adjacency, then in-place rounds of
 * v = (original + mean of neighbours) / 2. */
static size_t
retrofit(const char *links_path)
{
    static char line[1024];
    FILE *f = open_or_die(links_path, "r");
    size_t *deg = xmalloc((nwords + 1) * sizeof(size_t)), nedges = 0, cap = 1 << 20;
    uint32_t(*edge)[2] = xmalloc(cap * sizeof(*edge));
    size_t *start, *fill;
    uint32_t *adj;
    float **orig = xmalloc(nwords * sizeof(float *));
    double *mean = xmalloc((size_t)dim * sizeof(double));

    while (fgets(line, sizeof(line), f) != NULL) {
        char a[256], b[256];
        long i, j;

        if (sscanf(line, "%255s %255s", a, b) != 2 || (i = find(a)) < 0 || (j = find(b)) < 0 ||
            i == j)
            continue;
        if (nedges == cap) {
            cap *= 2;
            edge = realloc(edge, cap * sizeof(*edge));
            if (edge == NULL)
                die("out of memory");
        }
        edge[nedges][0] = (uint32_t)i;
        edge[nedges][1] = (uint32_t)j;
        nedges++;
        deg[i]++;
        deg[j]++;
    }
    fclose(f);
    start = xmalloc((nwords + 1) * sizeof(size_t));
    fill = xmalloc(nwords * sizeof(size_t));
    for (size_t i = 0; i < nwords; i++)
        start[i + 1] = start[i] + deg[i];
    adj = xmalloc((start[nwords] + 1) * sizeof(uint32_t));
    for (size_t e = 0; e < nedges; e++) {
        uint32_t i = edge[e][0], j = edge[e][1];
        adj[start[i] + fill[i]++] = j;
        adj[start[j] + fill[j]++] = i;
    }
    for (size_t i = 0; i < nwords; i++) {
        orig[i] = xmalloc((size_t)dim * sizeof(float));
        memcpy(orig[i], words[i].vec, (size_t)dim * sizeof(float));
    }
    for (int round = 0; round < RETROFIT_ROUNDS; round++) {
        for (size_t i = 0; i < nwords; i++) {
            size_t d = start[i + 1] - start[i];

            if (d == 0)
                continue;
            for (int k = 0; k < dim; k++)
                mean[k] = 0;
            for (size_t e = start[i]; e < start[i + 1]; e++)
                for (int k = 0; k < dim; k++)
                    mean[k] += words[adj[e]].vec[k];
            for (int k = 0; k < dim; k++)
                words[i].vec[k] = (float)((orig[i][k] + mean[k] / (double)d) / 2);
        }
    }
    for (size_t i = 0; i < nwords; i++)
        free(orig[i]);
    free(orig);
    free(mean);
    free(adj);
    free(fill);
    free(start);
    free(edge);
    free(deg);
    return nedges;
}

static void
centre(void)
{
    double *mean = xmalloc((size_t)dim * sizeof(double));

    for (size_t i = 0; i < nwords; i++)
        for (int k = 0; k < dim; k++)
            mean[k] += words[i].vec[k];
    for (size_t i = 0; i < nwords; i++)
        for (int k = 0; k < dim; k++)
            words[i].vec[k] -= (float)(mean[k] / (double)nwords);
    free(mean);
}

/* The file is built in memory: its hash goes into the header. */
static unsigned char *out_buf;
static size_t out_len, out_cap;

static void
put_bytes(const void *p, size_t n)
{
    if (out_len + n > out_cap) {
        out_cap = (out_len + n) * 2;
        out_buf = realloc(out_buf, out_cap);
        if (out_buf == NULL)
            die("out of memory");
    }
    memcpy(out_buf + out_len, p, n);
    out_len += n;
}

static void
put_u32(uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put_bytes(b, 4);
}

/* Floats are written little-endian, like the integers. */
static void
put_f32(float v)
{
    uint32_t u;

    memcpy(&u, &v, 4);
    put_u32(u);
}

static float
max_abs(const float *v)
{
    float m = 0;

    for (int k = 0; k < dim; k++)
        m = fabsf(v[k]) > m ? fabsf(v[k]) : m;
    return m;
}

/* FNV-1a, 32 bits: an identity, not a defence. */
static uint32_t
fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void
write_model(const char *out, double total)
{
    char tmp[4096];
    uint32_t slen = 0, hash;
    FILE *f;

    for (size_t i = 0; i < nwords; i++)
        slen += (uint32_t)strlen(words[i].w) + 1;
    slen = (slen + 3) & ~3u;
    put_bytes("RoseEmb", 8);
    put_u32(1);
    put_u32((uint32_t)dim);
    put_u32((uint32_t)nwords);
    put_u32(slen);
    put_u32(0); /* the hash, below */
    put_u32(0);
    for (size_t i = 0, off = 0; i < nwords; off += strlen(words[i].w) + 1, i++)
        put_u32((uint32_t)off);
    for (size_t i = 0; i < nwords; i++) {
        double weight = SIF_A / (SIF_A + words[i].count / total);

        put_f32((float)(weight * max_abs(words[i].vec) / 127));
    }
    for (size_t i = 0; i < nwords; i++) {
        float m = max_abs(words[i].vec);

        for (int k = 0; k < dim; k++) {
            signed char q = (signed char)lrintf(m > 0 ? words[i].vec[k] / m * 127 : 0);
            put_bytes(&q, 1);
        }
    }
    for (size_t pad = nwords * (size_t)dim; pad % 4; pad++)
        put_bytes("", 1);
    for (size_t i = 0; i < nwords; i++) {
        put_bytes(words[i].w, strlen(words[i].w) + 1);
        slen -= (uint32_t)strlen(words[i].w) + 1;
    }
    while (slen-- > 0) /* pad the strings to a multiple of 4 */
        put_bytes("", 1);
    hash = fnv1a(out_buf + 32, out_len - 32);
    for (int b = 0; b < 4; b++)
        out_buf[24 + b] = (unsigned char)(hash >> (8 * b));

    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    f = open_or_die(tmp, "wb");
    if (fwrite(out_buf, 1, out_len, f) != out_len || fclose(f) != 0 || rename(tmp, out) != 0) {
        fprintf(stderr, "export: %s: %s\n", out, strerror(errno));
        exit(1);
    }
    printf("export: model id %08x\n", (unsigned)hash);
    free(out_buf);
}

int
main(int argc, char **argv)
{
    double total;
    size_t nedges;
    long max;

    if (argc != 6 || (max = atol(argv[4])) <= 0) {
        fprintf(stderr, "usage: export VECTORS.vec COUNTS LINKS WORDS OUT.bin\n");
        return 2;
    }
    total = read_vectors(argv[1], argv[2], (size_t)max);
    qsort(words, nwords, sizeof(*words), cmp_word);
    nedges = retrofit(argv[3]);
    centre();
    write_model(argv[5], total);
    printf("export: %s: %zu words, %d dimensions, %zu links\n", argv[5], nwords, dim, nedges);
    for (size_t i = 0; i < nwords; i++)
        free(words[i].vec);
    free(words);
    return 0;
}
