/*
 * recall — long-term memory retrieval: top-5 of one user's memories over
 * 1k, 10k and 100k memories (SQLite backend, local embedder), and the
 * embedder's time per sentence.  Prints numbers; never pass/fail.
 *
 *   recall MODEL [ROWS...]      (default rows: 1000 10000 100000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/text.h"
#include "engines/embed_local.h"
#include "memory/vectors.h"
#include "store/store.h"
#include "store/users.h"

static const char *const words[] = {
    "mother", "garden", "river", "grief", "sleep", "brother", "dog", "winter", "anxious",
    "walks", "music", "work", "hospital", "spring", "letters", "kitchen", "tea", "friend",
    "daughter", "church", "sea", "birthday", "funeral", "lonely", "hope", "father", "plans",
};

static void
sentence(unsigned *seed, char *out, size_t len)
{
    size_t i, o = 0, n = 6 + (size_t)(rand_r(seed) % 6);

    o += (size_t)snprintf(out + o, len - o, "They");
    for (i = 0; i < n && o + 16 < len; i++)
        o += (size_t)snprintf(out + o, len - o, " %s",
                              words[(size_t)rand_r(seed) % (sizeof(words) / sizeof(words[0]))]);
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    static const long defaults[] = {1000, 10000, 100000};
    struct rose_embed_local *model = NULL;
    char dir[] = "/tmp/rose-recall-XXXXXX", path[256], text[256];
    unsigned seed = 42;
    int a, dim;

    if (argc < 2 || rose_embed_local_open(argv[1], &model) != ROSE_OK) {
        fprintf(stderr, "usage: recall MODEL [ROWS...]\n");
        return 2;
    }
    dim = rose_embed_local_dim(model);
    {
        float *v = malloc(sizeof(float) * (size_t)dim);
        double t0 = rose_mono_ms();
        int i, n = 20000;
        for (i = 0; i < n; i++) {
            sentence(&seed, text, sizeof(text));
            rose_embed_local_text(model, text, v);
        }
        printf("local embedder: %.1f us per sentence (%d sentences of 7-12 words, dim %d)\n",
               (rose_mono_ms() - t0) * 1000.0 / n, n, dim);
        free(v);
    }
    if (mkdtemp(dir) == NULL)
        return 1;
    for (a = 0; a < (argc > 2 ? argc - 2 : 3); a++) {
        long rows = argc > 2 ? atol(argv[a + 2]) : defaults[a], i;
        struct rose_store *st = NULL;
        struct rose_vectors *vec = NULL;
        struct rose_vectors_opts o;
        char user[37], token[44];
        float *v = malloc(sizeof(float) * (size_t)dim);
        double ms[31];
        int q;

        snprintf(path, sizeof(path), "%s/r%ld.db", dir, rows);
        if (rose_store_open(path, &st) != ROSE_OK || rose_user_create(st, user, token) != ROSE_OK)
            return 1;
        memset(&o, 0, sizeof(o));
        o.backend = ROSE_VECTORS_SQLITE;
        o.embedder = "local:rose-embed:100";
        o.dim = dim;
        o.st = st;
        if (rose_vectors_open(&o, &vec) != ROSE_OK || rose_vectors_prepare(vec) != ROSE_OK)
            return 1;
        rose_store_begin(st);
        for (i = 0; i < rows; i++) {
            struct rose_memory m;
            memset(&m, 0, sizeof(m));
            rose_uuid_new(m.id);
            memcpy(m.user_id, user, sizeof(user));
            sentence(&seed, text, sizeof(text));
            m.text = text;
            m.type = ROSE_MEMORY_FACT;
            m.created_at = rose_now_ms();
            rose_embed_local_text(model, text, v);
            if (rose_vectors_add(vec, &m, v) != ROSE_OK)
                return 1;
        }
        rose_store_commit(st);
        rose_vectors_close(vec);
        rose_vectors_open(&o, &vec); /* a fresh worker: nothing cached */
        for (q = 0; q < 31; q++) {
            struct rose_memory *out = NULL;
            size_t n = 0;
            double t0;
            sentence(&seed, text, sizeof(text));
            t0 = rose_mono_ms();
            rose_embed_local_text(model, text, v);
            rose_vectors_search(vec, user, v, 5, 0.0f, &out, &n);
            ms[q] = rose_mono_ms() - t0;
            rose_memories_free(out, n);
        }
        qsort(ms + 1, 30, sizeof(double), cmp);
        printf("top-5 over %6ld memories of one user: first search in a worker %.2f ms; "
               "then median %.3f ms, max %.3f ms (30 queries, embedding included)\n",
               rows, ms[0], ms[16], ms[30]);
        rose_vectors_close(vec);
        rose_store_close(st);
        free(v);
        unlink(path);
    }
    rmdir(dir);
    rose_embed_local_close(model);
    return 0;
}
