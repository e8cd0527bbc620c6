/*
 * vector_scenarios.h — what the memory store (memory/vectors.h) does with
 * either backend, as one set of scenarios: test_vectors.c runs them against
 * SQLite, test_qdrant.c against Qdrant (tests/fakes/fake_qdrant.py).  Options
 * checked at open, one memory with every field and the validation of what
 * goes in, ranking equal to a brute-force reference on random vectors, the
 * list oldest first, strict isolation of users, deletion.  What only one
 * backend does (SQLite's cache and re-embedding; what Qdrant is sent, its
 * errors and mismatches) stays in that backend's test.
 *
 * Header-only like t.h and fake.h (one TAP counter per program); the
 * functions are static inline, so a test pays nothing for what it leaves
 * unused.  The test fills one struct vs with its backend:
 *
 *     static struct vs vs = {.opts = sqlite_opts, .stored = stored, .dim = 64, ...};
 *     vs_open_checks(&vs);
 *     v = vs_open(&vs, vs.embedder, vs.dim);
 *     vs_one_memory(&vs, v);     A's memories: none left
 *     vs_ranking(&vs, v);        vs.na of A, vs.nb of B, in vs.refs_a and vs.refs_b
 *     vs_isolation(&vs, v);      B's: none left; A's: all but refs_a[0]
 */
#ifndef ROSE_VECTOR_SCENARIOS_H
#define ROSE_VECTOR_SCENARIOS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "memory/vectors.h"
#include "t.h"

#define VS_DIM_MAX 64 /* floats of a scenario's vectors */
#define VS_NA_MAX 2000
#define VS_NB_MAX 300

/* The one memory of vs_one_memory(): its text, type, and the type's name
 * written out (what a backend stores), and its time. */
#define VS_TEXT "Her mother passed away last spring"
#define VS_TYPE ROSE_MEMORY_LOSS
#define VS_TYPE_NAME "loss"
#define VS_AT 1000

/* The calls after which a backend's test may check what was sent (vs.sent). */
enum vs_call {
    VS_ADD,            /* the one memory (m), with a session, was added */
    VS_SEARCH,         /* A searched its vector with k and min_score */
    VS_MAX_SCORE,      /* A's max_score of the same vector */
    VS_ADD_NO_SESSION, /* the last of vs_ranking's adds, with no session */
};

struct vs_ref {
    char id[37];
    float vec[VS_DIM_MAX];
};

struct vs {
    /* Set by the test. */
    /* Options that open a handle of this backend for embedder and dim. */
    struct rose_vectors_opts (*opts)(const char *embedder, int dim);
    /* The memories of user (and with this id, unless NULL) the backend holds,
     * read from its storage past the code under test; -1 if it cannot tell. */
    long long (*stored)(const char *user, const char *id);
    /* NULL, or checks (T_*) what the backend was sent by the call just made:
     * m is the memory concerned (VS_ADD, VS_SEARCH, VS_MAX_SCORE), else NULL. */
    void (*sent)(enum vs_call call, const struct rose_memory *m, int k, float min_score);
    const char *embedder; /* of the scenarios' handle */
    int dim;              /* its dim, <= VS_DIM_MAX */
    int na, nb;           /* vs_ranking's memories of A (<= VS_NA_MAX) and B (<= VS_NB_MAX) */
    int rounds;           /* vs_ranking's random queries */
    int probes;           /* vs_isolation's searches of B with A's vectors, <= na */
    char user_a[37], user_b[37], user_c[37]; /* users the backend accepts; C has no memories */
    char session_a[37];                      /* a session of A */
    /* Made by vs_ranking(). */
    struct vs_ref refs_a[VS_NA_MAX], refs_b[VS_NB_MAX];
};

/* xorshift64*: the same "random" vectors on every run. */
static uint64_t vs_rng = 88172645463325252ULL;

/* dim floats, uniform in [-1, 1). */
static inline void
vs_random_vector(float *v, int dim)
{
    int i;

    for (i = 0; i < dim; i++) {
        vs_rng ^= vs_rng >> 12;
        vs_rng ^= vs_rng << 25;
        vs_rng ^= vs_rng >> 27;
        v[i] =
            (float)((double)((vs_rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0 * 2 - 1);
    }
}

/* A handle of s's backend, or NULL. */
static inline struct rose_vectors *
vs_open(const struct vs *s, const char *embedder, int dim)
{
    struct rose_vectors_opts o = s->opts(embedder, dim);
    struct rose_vectors *v = NULL;

    return rose_vectors_open(&o, &v) == ROSE_OK ? v : NULL;
}

/* Add a fact of user (in session, unless NULL) with a new id, copied to
 * id_out unless NULL; rose_vectors_add()'s answer. */
static inline enum rose_err
vs_add(struct rose_vectors *v, const char *user, const char *session, const char *text,
       long long at, const float *vec, char id_out[37])
{
    struct rose_memory m = {.type = ROSE_MEMORY_FACT, .created_at = at};
    char *t = strdup(text);
    enum rose_err err;

    rose_uuid_new(m.id);
    snprintf(m.user_id, sizeof(m.user_id), "%s", user);
    snprintf(m.session_id, sizeof(m.session_id), "%s", session ? session : "");
    m.text = t;
    err = rose_vectors_add(v, &m, vec);
    free(t);
    if (id_out)
        memcpy(id_out, m.id, 37);
    return err;
}

static inline void
vs_sent(const struct vs *s, enum vs_call call, const struct rose_memory *m, int k, float min_score)
{
    if (s->sent != NULL)
        s->sent(call, m, k, min_score);
}

/* --- the ranking reference ---------------------------------------------- */

struct vs_scored {
    double score;
    const char *id;
};

/* Best first; equal scores by id, as the store breaks ties. */
static inline int
vs_by_score(const void *pa, const void *pb)
{
    const struct vs_scored *a = pa, *b = pb;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Check one search of user against brute force over refs[0..n) (n <=
 * VS_NA_MAX); 1 if they are equal, rank by rank. */
static inline int
vs_matches_reference(const struct vs *s, struct rose_vectors *v, const char *user,
                     const struct vs_ref *refs, size_t n, const float *q, int k, float min_score)
{
    static struct vs_scored all[VS_NA_MAX];
    struct rose_memory *got = NULL;
    size_t ngot = 0, want = 0, i;
    int ok = 1;

    for (i = 0; i < n; i++) {
        all[i].score = t_cosine(q, refs[i].vec, s->dim);
        all[i].id = refs[i].id;
    }
    qsort(all, n, sizeof(all[0]), vs_by_score);
    while (want < n && want < (size_t)k && all[want].score >= min_score)
        want++;
    if (rose_vectors_search(v, user, q, k, min_score, &got, &ngot) != ROSE_OK) {
        printf("#   search failed: %s\n", rose_vectors_status(v)->message);
        return 0;
    }
    if (ngot != want) {
        printf("#   %zu results, want %zu\n", ngot, want);
        ok = 0;
    }
    for (i = 0; ok && i < ngot; i++) {
        if (strcmp(got[i].id, all[i].id) != 0 || fabs(got[i].score - all[i].score) > 1e-5 ||
            strcmp(got[i].user_id, user) != 0) {
            printf("#   rank %zu: got %s %.7f, want %s %.7f\n", i, got[i].id, got[i].score,
                   all[i].id, all[i].score);
            ok = 0;
        }
    }
    rose_memories_free(got, ngot);
    return ok;
}

/* --- the scenarios ------------------------------------------------------ */

/* Options refused whatever the backend. */
static inline void
vs_open_checks(const struct vs *s)
{
    struct rose_vectors_opts o = s->opts("x y", 3);
    struct rose_vectors *v = NULL;

    T_INT(rose_vectors_open(&o, &v), ROSE_ERR_CONFIG, "open: an embedder id with a space");
    o = s->opts("ok", ROSE_VECTOR_DIM_MAX + 1);
    T_INT(rose_vectors_open(&o, &v), ROSE_ERR_CONFIG, "open: dim too large");
}

/* One memory of A: kept with every field, found, its duplicate seen,
 * deleted; then everything add, search and delete refuse before the backend
 * (nothing is stored); then delete_user.  A has no memories before or after. */
static inline void
vs_one_memory(const struct vs *s, struct rose_vectors *v)
{
    struct rose_memory m = {.type = VS_TYPE, .created_at = VS_AT}, *got = NULL;
    float vec[VS_DIM_MAX], zero[VS_DIM_MAX] = {0}, best = 0;
    char long_text[ROSE_MEMORY_TEXT_MAX + 2];
    size_t n = 0;

    vs_random_vector(vec, s->dim);
    T_INT(rose_vectors_max_score(v, s->user_a, vec, &best), ROSE_OK,
          "max_score with no memories: ok");
    T_OK(best == -1, "max_score with no memories: -1 (below any threshold)");

    rose_uuid_new(m.id);
    memcpy(m.user_id, s->user_a, 37);
    memcpy(m.session_id, s->session_a, 37);
    m.text = VS_TEXT;
    T_INT(rose_vectors_add(v, &m, vec), ROSE_OK, "add: ok");
    vs_sent(s, VS_ADD, &m, 0, 0);
    T_INT(s->stored(s->user_a, m.id), 1, "add: stored");
    T_INT(rose_vectors_search(v, s->user_a, vec, 5, 0.5f, &got, &n), ROSE_OK, "search: ok");
    vs_sent(s, VS_SEARCH, &m, 5, 0.5f);
    T_INT(n, 1, "search: the one memory");
    if (n == 1) {
        T_STR(got[0].id, m.id, "search: its id");
        T_STR(got[0].user_id, s->user_a, "search: its user");
        T_STR(got[0].text, VS_TEXT, "search: its text");
        T_STR(got[0].session_id, s->session_a, "search: its session");
        T_INT(got[0].type, VS_TYPE, "search: its type");
        T_INT(got[0].created_at, VS_AT, "search: its time");
        T_OK(fabs(got[0].score - 1) < 1e-6, "search: cosine 1 with itself (%f)", got[0].score);
    }
    rose_memories_free(got, n);
    T_INT(rose_vectors_max_score(v, s->user_a, vec, &best), ROSE_OK, "max_score: ok");
    vs_sent(s, VS_MAX_SCORE, &m, 1, -1);
    T_OK(fabs(best - 1) < 1e-6, "max_score: 1 for the same vector (a duplicate)");
    vec[0] += 0.5f; /* a vector a little off the memory's */
    T_INT(rose_vectors_search(v, s->user_a, vec, 5, 0.9999f, &got, &n), ROSE_OK, "search: ok");
    T_INT(n, 0, "search: min_score leaves out a vector less similar");
    rose_memories_free(got, n);
    T_INT(rose_vectors_delete(v, s->user_a, m.id), ROSE_OK, "delete: ok");
    T_INT(rose_vectors_max_score(v, s->user_a, vec, &best), ROSE_OK, "max_score after delete: ok");
    T_OK(best == -1, "max_score after delete: -1, nothing left");

    /* Validation, before the backend. */
    T_INT(vs_add(v, s->user_a, NULL, "x", 1, zero, NULL), ROSE_ERR_INVALID_FIELD,
          "zero vector: refused");
    vec[1] = NAN;
    T_INT(vs_add(v, s->user_a, NULL, "x", 1, vec, NULL), ROSE_ERR_INVALID_FIELD, "NaN: refused");
    vec[1] = 0.25f;
    T_INT(vs_add(v, s->user_a, NULL, "", 1, vec, NULL), ROSE_ERR_EMPTY, "empty text: refused");
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    T_INT(vs_add(v, s->user_a, NULL, long_text, 1, vec, NULL), ROSE_ERR_TOO_LARGE,
          "text over ROSE_MEMORY_TEXT_MAX: refused");
    T_INT(vs_add(v, s->user_a, NULL, "\xc3\x28", 1, vec, NULL), ROSE_ERR_INVALID_FIELD,
          "invalid UTF-8: refused");
    T_INT(vs_add(v, "not-a-uuid", NULL, "x", 1, vec, NULL), ROSE_ERR_INVALID_FIELD,
          "user id not a UUID: refused");
    T_INT(rose_vectors_search(v, s->user_a, vec, 0, 0, &got, &n), ROSE_ERR_INVALID_FIELD,
          "k = 0: refused");
    T_INT(rose_vectors_search(v, s->user_a, vec, ROSE_VECTOR_K_MAX + 1, 0, &got, &n),
          ROSE_ERR_INVALID_FIELD, "k over ROSE_VECTOR_K_MAX: refused");
    T_INT(rose_vectors_search(v, s->user_a, zero, 3, 0, &got, &n), ROSE_ERR_INVALID_FIELD,
          "zero query: refused");
    T_INT(vs_add(v, s->user_a, NULL, "Likes tea", 2000, vec, NULL), ROSE_OK,
          "add: another memory of A");
    T_INT(s->stored(s->user_a, NULL), 1, "add: A has one memory");
    T_INT(rose_vectors_delete_user(v, s->user_a), ROSE_OK, "delete_user A: ok");
    T_INT(s->stored(s->user_a, NULL), 0, "delete_user A: nothing of A left");
}

/* s->na memories of A, added newest first, and s->nb of B; searches equal
 * brute force, each of A's twice (SQLite: scanned, then cached); A's list is
 * oldest first. */
static inline void
vs_ranking(struct vs *s, struct rose_vectors *v)
{
    struct rose_memory *got = NULL;
    float q[VS_DIM_MAX];
    size_t n = 0, i;
    int ok = 1, okb = 1, r, k;

    for (i = 0; i < (size_t)s->na; i++) {
        vs_random_vector(s->refs_a[i].vec, s->dim);
        ok &= vs_add(v, s->user_a, NULL, "a memory of A", (long long)(s->na - i), s->refs_a[i].vec,
                     s->refs_a[i].id) == ROSE_OK;
    }
    for (i = 0; i < (size_t)s->nb; i++) {
        vs_random_vector(s->refs_b[i].vec, s->dim);
        ok &= vs_add(v, s->user_b, NULL, "a memory of B", (long long)i, s->refs_b[i].vec,
                     s->refs_b[i].id) == ROSE_OK;
    }
    T_OK(ok, "ranking: %d memories of A and %d of B added", s->na, s->nb);
    vs_sent(s, VS_ADD_NO_SESSION, NULL, 0, 0);

    for (r = 0, ok = 1; r < s->rounds; r++) {
        k = r % 3 == 0 ? 1 : r % 3 == 1 ? 5 : 20;
        vs_random_vector(q, s->dim);
        for (i = 0; i < 2; i++)
            ok &= vs_matches_reference(s, v, s->user_a, s->refs_a, (size_t)s->na, q, k,
                                       r < s->rounds / 2 ? -1.0f : 0.2f);
        okb &= vs_matches_reference(s, v, s->user_b, s->refs_b, (size_t)s->nb, q, k, -1.0f);
    }
    T_OK(ok,
         "ranking: %d searches of A (k 1, 5, 20; with and without min_score), each twice, "
         "equal brute force",
         s->rounds);
    T_OK(okb, "ranking: %d searches of B equal brute force over B's memories only", s->rounds);

    T_INT(rose_vectors_list(v, s->user_a, &got, &n), ROSE_OK, "list A: ok");
    T_INT(n, s->na, "list A: all of A's memories");
    for (i = 0, ok = 1; i < n; i++)
        ok &= strcmp(got[i].user_id, s->user_a) == 0 && got[i].created_at == (long long)i + 1;
    T_OK(ok, "list A: A's only, oldest first");
    rose_memories_free(got, n);
}

/* After vs_ranking(): no user ever meets another's memories, in a search, a
 * near-duplicate check, a list or a delete; deleting B leaves A whole. */
static inline void
vs_isolation(const struct vs *s, struct rose_vectors *v)
{
    static const char unknown[] = "00000000-0000-4000-8000-000000000000";
    struct rose_memory *got = NULL;
    size_t n = 0, i, j;
    float best = 0;
    int ok = 1;

    /* B searches with A's exact vectors: never A's memories. */
    for (i = 0; i < (size_t)s->probes; i++) {
        if (rose_vectors_search(v, s->user_b, s->refs_a[i].vec, 20, -1, &got, &n) != ROSE_OK) {
            ok = 0;
            continue;
        }
        for (j = 0; j < n; j++)
            ok &= strcmp(got[j].user_id, s->user_b) == 0 &&
                  strcmp(got[j].text, "a memory of B") == 0 &&
                  strcmp(got[j].id, s->refs_a[i].id) != 0;
        rose_memories_free(got, n);
        if (rose_vectors_max_score(v, s->user_b, s->refs_a[i].vec, &best) != ROSE_OK ||
            best > 0.999f)
            ok = 0;
    }
    T_OK(ok, "isolation: B's searches and near-duplicate checks never meet A's memories");
    T_INT(rose_vectors_search(v, s->user_c, s->refs_a[0].vec, 5, -1, &got, &n), ROSE_OK,
          "isolation: C (no memories) searches");
    T_INT(n, 0, "isolation: C finds nothing");
    rose_memories_free(got, n);
    T_INT(rose_vectors_search(v, unknown, s->refs_a[0].vec, 5, -1, &got, &n), ROSE_OK,
          "isolation: an unknown user searches");
    T_INT(n, 0, "isolation: an unknown user finds nothing");
    rose_memories_free(got, n);

    T_INT(rose_vectors_list(v, s->user_b, &got, &n), ROSE_OK, "list B: ok");
    T_INT(n, s->nb, "list B: B's memories only");
    for (i = 0, ok = 1; i < n; i++)
        ok &= strcmp(got[i].user_id, s->user_b) == 0 && got[i].created_at == (long long)i;
    T_OK(ok, "list B: oldest first, all B's");
    rose_memories_free(got, n);

    T_INT(rose_vectors_delete(v, s->user_b, s->refs_a[0].id), ROSE_ERR_NOT_FOUND,
          "isolation: B deleting A's memory → not found");
    T_INT(s->stored(s->user_a, s->refs_a[0].id), 1, "isolation: A's memory is still there");
    T_INT(rose_vectors_delete(v, s->user_a, s->refs_a[0].id), ROSE_OK, "delete: A deletes its own");
    T_INT(rose_vectors_delete(v, s->user_a, s->refs_a[0].id), ROSE_ERR_NOT_FOUND,
          "delete: twice → not found");
    T_INT(rose_vectors_delete(v, s->user_a, "zzz"), ROSE_ERR_INVALID_FIELD, "delete: bad id");
    T_INT(rose_vectors_delete_user(v, s->user_b), ROSE_OK, "delete_user B: ok");
    T_INT(s->stored(s->user_b, NULL), 0, "delete_user B: nothing of B left");
    T_INT(rose_vectors_list(v, s->user_b, &got, &n), ROSE_OK, "list B after delete_user: ok");
    T_INT(n, 0, "list B after delete_user: empty");
    rose_memories_free(got, n);
    T_INT(s->stored(s->user_a, NULL), s->na - 1, "delete_user B: A's memories untouched");
    T_INT(rose_vectors_list(v, s->user_a, &got, &n), ROSE_OK, "list A after delete_user B: ok");
    T_INT(n, s->na - 1, "list A after delete_user B: all but the one deleted");
    rose_memories_free(got, n);
    T_OK(vs_matches_reference(s, v, s->user_a, s->refs_a + 1, (size_t)s->na - 1, s->refs_a[5].vec,
                              5, -1),
         "delete_user B: A's search unchanged");
}

#endif
