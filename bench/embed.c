/*
 * embed — the local embedder's speed: model load time, then the time to
 * embed one sentence (mean and p99 over ROUNDS sentences, the sentences of
 * tests/embed/pairs.tsv in turn).  Prints numbers; no pass or fail.
 *
 *   build/bench/embed [MODEL [PAIRS [ROUNDS]]]
 *     defaults: build/embed/rose-embed.bin tests/embed/pairs.tsv 10000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/embed_local.h"

#define SENTENCES_MAX 2000

static double
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The sentences of a pairs file (label<TAB>a<TAB>b lines), copied. */
static int
read_sentences(const char *path, char **s, int max)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return -1;
    while (n + 2 <= max && fgets(line, sizeof(line), f) != NULL) {
        char *a = strchr(line, '\t'), *b, *nl = strchr(line, '\n');

        if (line[0] == '#' || a == NULL || (b = strchr(a + 1, '\t')) == NULL)
            continue;
        if (nl != NULL)
            *nl = '\0';
        *b = '\0';
        s[n++] = strdup(a + 1);
        s[n++] = strdup(b + 1);
    }
    fclose(f);
    return n;
}

int
main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "build/embed/rose-embed.bin";
    const char *pairs = argc > 2 ? argv[2] : "tests/embed/pairs.tsv";
    int rounds = argc > 3 ? atoi(argv[3]) : 10000;
    static char *sent[SENTENCES_MAX];
    float v[ROSE_EMBED_DIM_MAX];
    struct rose_embed_local *m = NULL;
    double t0, load, first, sum = 0, *t;
    int n, empty = 0;

    t0 = now_us();
    if (rose_embed_local_open(model, &m) != 0) {
        fprintf(stderr, "embed: cannot open model %s\n", model);
        return 1;
    }
    load = now_us() - t0;
    n = read_sentences(pairs, sent, SENTENCES_MAX);
    if (n <= 0 || rounds <= 0) {
        fprintf(stderr, "embed: no sentences in %s\n", pairs);
        return 1;
    }
    t = malloc((size_t)rounds * sizeof(*t));
    if (t == NULL)
        return 1;
    /* The first sentence after open pays for page faults in the mapping. */
    t0 = now_us();
    rose_embed_local_text(m, sent[0], v);
    first = now_us() - t0;
    for (int i = 0; i < rounds; i++) {
        t0 = now_us();
        empty += rose_embed_local_text(m, sent[i % n], v) != 0;
        t[i] = now_us() - t0;
        sum += t[i];
    }
    qsort(t, (size_t)rounds, sizeof(*t), cmp);
    printf("model load (open, map, check): %.2f ms\n", load / 1e3);
    printf("first sentence after load: %.1f us\n", first);
    printf("per sentence over %d (%d distinct, %d with no known word): mean %.2f us, "
           "p50 %.2f us, p99 %.2f us, max %.2f us\n",
           rounds, n, empty, sum / rounds, t[rounds / 2], t[(int)(rounds * 0.99)], t[rounds - 1]);
    free(t);
    for (int i = 0; i < n; i++)
        free(sent[i]);
    rose_embed_local_close(m);
    return 0;
}
