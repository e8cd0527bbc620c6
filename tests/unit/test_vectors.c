/*
 * test_vectors.c — the memory store's SQLite backend (lib/memory/vectors.c):
 * ranking against a brute-force reference on random vectors, the cache and
 * its invalidation by another handle (another worker), strict isolation of
 * users, deletion, re-embedding after an embedder change, and the time of a
 * top-5 search over 1k, 10k and 100k memories of one user (printed as `#`
 * lines, never asserted; ROSE_BENCH_ROWS=N sets the largest size, e.g. 10000
 * under valgrind).  Everything happens in a fresh mkdtemp() directory.
 */
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/text.h"
#include "memory/vectors.h"
#include "store/store.h"
#include "t.h"

#define DIM 64
#define NA 2000 /* memories of user A in the ranking test */
#define NB 300  /* of user B */

static char tmpdir[] = "/tmp/rose-test-vectors-XXXXXX";
static struct rose_store *st;
static char user_a[37], user_b[37], user_c[37], session_a[37], session_b[37];

/* xorshift64*: the same "random" vectors on every run. */
static uint64_t rng = 88172645463325252ULL;

static double
uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void
random_vector(float *v, int dim)
{
    int i;

    for (i = 0; i < dim; i++)
        v[i] = (float)(uniform() * 2 - 1);
}

static long long
query_int(const char *sql, const char *arg)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(rose_store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (arg != NULL)
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int
exec(const char *sql)
{
    return sqlite3_exec(rose_store_db(st), sql, NULL, NULL, NULL) == SQLITE_OK;
}

static void
new_user(char id[37])
{
    char sql[256];

    rose_uuid_new(id);
    snprintf(sql, sizeof(sql),
             "INSERT INTO users (id, token_hash, created_at) VALUES ('%s', 'h-%s', 1)", id, id);
    exec(sql);
}

static void
new_session(const char *user, char id[37])
{
    char sql[256];

    rose_uuid_new(id);
    snprintf(sql, sizeof(sql),
             "INSERT INTO sessions (id, user_id, created_at, last_active) "
             "VALUES ('%s', '%s', 1, 1)",
             id, user);
    exec(sql);
}

static struct rose_vectors *
open_handle(const char *embedder, int dim, rose_embed_fn embed, void *arg)
{
    struct rose_vectors_opts o = {.backend = ROSE_VECTORS_SQLITE,
                                  .embedder = embedder,
                                  .dim = dim,
                                  .embed = embed,
                                  .embed_arg = arg,
                                  .st = st};
    struct rose_vectors *v = NULL;

    if (rose_vectors_open(&o, &v) != ROSE_OK)
        return NULL;
    return v;
}

static enum rose_err
add(struct rose_vectors *v, const char *user, const char *session, const char *text, long long at,
    const float *vec, char id_out[37])
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

/* --- the ranking reference ---------------------------------------------- */

struct ref {
    char id[37];
    float vec[DIM];
};

static struct ref refs_a[NA], refs_b[NB];

struct scored {
    double score;
    const char *id;
};

static int
by_score(const void *pa, const void *pb)
{
    const struct scored *a = pa, *b = pb;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->id, b->id);
}

static double
cosine(const float *a, const float *b, int dim)
{
    double ab = 0, aa = 0, bb = 0;
    int i;

    for (i = 0; i < dim; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

/* Check one search against brute force over refs[0..n); 1 if it matches. */
static int
matches_reference(struct rose_vectors *v, const char *user, const struct ref *refs, size_t n,
                  const float *q, int k, float min_score)
{
    static struct scored all[NA];
    struct rose_memory *got = NULL;
    size_t ngot = 0, want = 0, i;
    int ok = 1;

    for (i = 0; i < n; i++) {
        all[i].score = cosine(q, refs[i].vec, DIM);
        all[i].id = refs[i].id;
    }
    qsort(all, n, sizeof(all[0]), by_score);
    while (want < n && want < (size_t)k && all[want].score >= min_score)
        want++;
    if (rose_vectors_search(v, user, q, k, min_score, &got, &ngot) != ROSE_OK)
        return 0;
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

static void
test_basics(struct rose_vectors *v)
{
    struct rose_memory m = {.type = ROSE_MEMORY_LOSS, .created_at = 1000}, *got = NULL;
    float vec[DIM], zero[DIM] = {0};
    char long_text[ROSE_MEMORY_TEXT_MAX + 2], id[37];
    size_t n = 0;
    float best = 0;

    T_INT(rose_vectors_prepare(v), ROSE_OK, "prepare: the schema fits");
    T_INT(rose_vectors_max_score(v, user_a, (random_vector(vec, DIM), vec), &best), ROSE_OK,
          "max_score with no memories: ok");
    T_OK(best == -1, "max_score with no memories: -1 (below any threshold)");

    rose_uuid_new(m.id);
    memcpy(m.user_id, user_a, 37);
    memcpy(m.session_id, session_a, 37);
    m.text = "Her mother passed away last spring";
    T_INT(rose_vectors_add(v, &m, vec), ROSE_OK, "add: ok");
    T_INT(rose_vectors_add(v, &m, vec), ROSE_ERR_CONFLICT, "add: the same id again → conflict");
    T_INT(rose_vectors_search(v, user_a, vec, 5, 0.5f, &got, &n), ROSE_OK, "search: ok");
    T_INT(n, 1, "search: the one memory");
    if (n == 1) {
        T_STR(got[0].id, m.id, "search: its id");
        T_STR(got[0].text, m.text, "search: its text");
        T_STR(got[0].session_id, session_a, "search: its session");
        T_INT(got[0].type, ROSE_MEMORY_LOSS, "search: its type");
        T_INT(got[0].created_at, 1000, "search: its time");
        T_OK(fabs(got[0].score - 1) < 1e-6, "search: cosine 1 with itself (%f)", got[0].score);
    }
    rose_memories_free(got, n);
    T_INT(rose_vectors_max_score(v, user_a, vec, &best), ROSE_OK, "max_score: ok");
    T_OK(fabs(best - 1) < 1e-6, "max_score: 1 for the same vector (a duplicate)");
    vec[0] += 0.5f; /* scaled copies are the same direction */
    T_INT(rose_vectors_search(v, user_a, vec, 5, 0.9999f, &got, &n), ROSE_OK, "search: ok");
    T_INT(n, 0, "search: min_score leaves out a vector less similar");
    rose_memories_free(got, n);

    /* A session of another user is not linked; "" stays "". */
    T_INT(add(v, user_a, session_b, "Likes tea", 2000, vec, id), ROSE_OK,
          "add with another user's session: stored");
    T_INT(query_int("SELECT count(*) FROM memories WHERE id = ?1 AND session_id IS NULL", id), 1,
          "add with another user's session: session_id NULL");

    /* Validation. */
    T_INT(add(v, user_a, NULL, "x", 1, zero, NULL), ROSE_ERR_INVALID_FIELD, "zero vector: refused");
    vec[1] = NAN;
    T_INT(add(v, user_a, NULL, "x", 1, vec, NULL), ROSE_ERR_INVALID_FIELD, "NaN: refused");
    vec[1] = 0.25f;
    T_INT(add(v, user_a, NULL, "", 1, vec, NULL), ROSE_ERR_EMPTY, "empty text: refused");
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    T_INT(add(v, user_a, NULL, long_text, 1, vec, NULL), ROSE_ERR_TOO_LARGE,
          "text over ROSE_MEMORY_TEXT_MAX: refused");
    T_INT(add(v, user_a, NULL, "\xc3\x28", 1, vec, NULL), ROSE_ERR_INVALID_FIELD,
          "invalid UTF-8: refused");
    T_INT(add(v, "not-a-uuid", NULL, "x", 1, vec, NULL), ROSE_ERR_INVALID_FIELD,
          "user id not a UUID: refused");
    T_INT(add(v, "00000000-0000-4000-8000-000000000000", NULL, "x", 1, vec, NULL),
          ROSE_ERR_NOT_FOUND, "unknown user: not found");
    T_INT(rose_vectors_search(v, user_a, vec, 0, 0, &got, &n), ROSE_ERR_INVALID_FIELD,
          "k = 0: refused");
    T_INT(rose_vectors_search(v, user_a, vec, ROSE_VECTOR_K_MAX + 1, 0, &got, &n),
          ROSE_ERR_INVALID_FIELD, "k over ROSE_VECTOR_K_MAX: refused");
    T_INT(rose_vectors_search(v, user_a, zero, 3, 0, &got, &n), ROSE_ERR_INVALID_FIELD,
          "zero query: refused");
    T_INT(rose_vectors_delete_user(v, user_a), ROSE_OK, "delete_user A: ok");
    T_INT(query_int("SELECT count(*) FROM memories WHERE user_id = ?1", user_a), 0,
          "delete_user A: no rows left");
}

static void
test_ranking(struct rose_vectors *v)
{
    struct rose_vectors *other = open_handle("test:random:64", DIM, NULL, NULL);
    float q[DIM];
    int i, ok = 1, okc = 1, k;
    char id[37], id2[37];

    rose_store_begin(st);
    for (i = 0; i < NA; i++) {
        random_vector(refs_a[i].vec, DIM);
        ok &= add(v, user_a, session_a, "a memory of A", i, refs_a[i].vec, refs_a[i].id) == ROSE_OK;
    }
    for (i = 0; i < NB; i++) {
        random_vector(refs_b[i].vec, DIM);
        ok &= add(v, user_b, NULL, "a memory of B", i, refs_b[i].vec, refs_b[i].id) == ROSE_OK;
    }
    rose_store_commit(st);
    T_OK(ok, "ranking: %d memories of A and %d of B added", NA, NB);

    /* Each query twice: once from a scan, once from the cache. */
    for (i = 0, ok = 1; i < 30; i++) {
        k = i % 3 == 0 ? 1 : i % 3 == 1 ? 5 : 20;
        random_vector(q, DIM);
        ok &= matches_reference(v, user_a, refs_a, NA, q, k, i < 15 ? -1.0f : 0.2f);
        ok &= matches_reference(v, user_a, refs_a, NA, q, k, i < 15 ? -1.0f : 0.2f);
        okc &= matches_reference(v, user_b, refs_b, NB, q, k, -1.0f);
    }
    T_OK(ok, "ranking: 30 searches of A (k 1, 5, 20; with and without min_score), scanned and "
             "cached, equal brute force");
    T_OK(okc, "ranking: 30 searches of B equal brute force over B's memories only");

    /* Another worker's handle adds and deletes: the first handle's cache
     * must notice (users.memory_version). */
    random_vector(q, DIM);
    T_OK(matches_reference(v, user_a, refs_a, NA, q, 5, -1), "cache: warm");
    T_INT(add(other, user_a, NULL, "new", NA, q, id), ROSE_OK, "cache: another handle adds");
    {
        struct rose_memory *got = NULL;
        size_t n = 0;

        T_INT(rose_vectors_search(v, user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
        T_OK(n == 1 && strcmp(got[0].id, id) == 0, "cache: the other handle's memory is found");
        rose_memories_free(got, n);
        T_INT(rose_vectors_delete(other, user_a, id), ROSE_OK, "cache: another handle deletes");
        T_INT(rose_vectors_search(v, user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
        T_OK(n == 1 && strcmp(got[0].id, id) != 0, "cache: the deleted memory is gone");
        rose_memories_free(got, n);
    }
    T_OK(matches_reference(v, user_a, refs_a, NA, q, 5, -1), "cache: still equal brute force");

    /* This handle adds: the cache takes the row without a rescan... */
    {
        struct rose_memory *got = NULL;
        size_t n = 0;

        random_vector(q, DIM);
        T_INT(add(v, user_a, NULL, "mine", NA, q, id), ROSE_OK, "cache: this handle adds");
        T_INT(rose_vectors_search(v, user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
        T_OK(n == 1 && strcmp(got[0].id, id) == 0, "cache: its own new memory is found");
        rose_memories_free(got, n);
        T_INT(rose_vectors_delete(v, user_a, id), ROSE_OK, "cache: and deleted");
        /* ...but not one the caller's transaction rolls back. */
        T_INT(rose_vectors_search(v, user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: warm again");
        rose_memories_free(got, n);
        rose_store_begin(st);
        T_INT(add(v, user_a, NULL, "rolled back", NA, q, id), ROSE_OK,
              "cache: an add inside a transaction");
        rose_store_rollback(st);
        /* Another worker's change brings the version to where the rolled-
         * back insert had taken it: the cache must not mistake one for the
         * other. */
        T_INT(add(other, user_a, NULL, "theirs", NA, refs_a[7].vec, id2), ROSE_OK,
              "cache: another handle adds");
        T_INT(rose_vectors_search(v, user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
        T_OK(n == 1 && strcmp(got[0].id, id) != 0, "cache: the rolled-back memory is not found");
        rose_memories_free(got, n);
        T_INT(rose_vectors_search(v, user_a, refs_a[7].vec, 2, -1, &got, &n), ROSE_OK,
              "cache: search");
        T_OK(n == 2 && (strcmp(got[0].id, id2) == 0 || strcmp(got[1].id, id2) == 0),
             "cache: the other handle's memory is found");
        rose_memories_free(got, n);
        T_INT(rose_vectors_delete(other, user_a, id2), ROSE_OK, "cache: which is deleted again");
    }
    T_OK(matches_reference(v, user_a, refs_a, NA, q, 5, -1), "cache: still equal brute force");
    rose_vectors_close(other);
}

static void
test_isolation(struct rose_vectors *v)
{
    struct rose_memory *got = NULL;
    size_t n = 0, i;
    float best = 0;
    int ok = 1;

    /* B searches with A's exact vectors: never A's memories. */
    for (i = 0; i < 50; i++) {
        if (rose_vectors_search(v, user_b, refs_a[i].vec, 20, -1, &got, &n) != ROSE_OK) {
            ok = 0;
            continue;
        }
        for (size_t j = 0; j < n; j++)
            ok &= strcmp(got[j].user_id, user_b) == 0 &&
                  strcmp(got[j].text, "a memory of B") == 0 && strcmp(got[j].id, refs_a[i].id);
        rose_memories_free(got, n);
        if (rose_vectors_max_score(v, user_b, refs_a[i].vec, &best) != ROSE_OK || best > 0.999f)
            ok = 0;
    }
    T_OK(ok, "isolation: B's searches and near-duplicate checks never meet A's memories");
    T_INT(rose_vectors_search(v, user_c, refs_a[0].vec, 5, -1, &got, &n), ROSE_OK,
          "isolation: C (no memories) searches");
    T_INT(n, 0, "isolation: C finds nothing");
    rose_memories_free(got, n);
    T_INT(rose_vectors_search(v, "00000000-0000-4000-8000-000000000000", refs_a[0].vec, 5, -1, &got,
                              &n),
          ROSE_OK, "isolation: an unknown user searches");
    T_INT(n, 0, "isolation: an unknown user finds nothing");
    rose_memories_free(got, n);

    T_INT(rose_vectors_list(v, user_b, &got, &n), ROSE_OK, "list B: ok");
    T_INT(n, NB, "list B: B's memories only");
    for (i = 0, ok = 1; i < n; i++)
        ok &= strcmp(got[i].user_id, user_b) == 0 && got[i].created_at == (long long)i;
    T_OK(ok, "list B: oldest first, all B's");
    rose_memories_free(got, n);

    T_INT(rose_vectors_delete(v, user_b, refs_a[0].id), ROSE_ERR_NOT_FOUND,
          "isolation: B deleting A's memory → not found");
    T_INT(query_int("SELECT count(*) FROM memories WHERE id = ?1", refs_a[0].id), 1,
          "isolation: A's memory is still there");
    T_INT(rose_vectors_delete(v, user_a, refs_a[0].id), ROSE_OK, "delete: A deletes its own");
    T_INT(rose_vectors_delete(v, user_a, refs_a[0].id), ROSE_ERR_NOT_FOUND,
          "delete: twice → not found");
    T_INT(rose_vectors_delete(v, user_a, "zzz"), ROSE_ERR_INVALID_FIELD, "delete: bad id");
    T_INT(rose_vectors_delete_user(v, user_b), ROSE_OK, "delete_user B: ok");
    T_INT(query_int("SELECT count(*) FROM memories WHERE user_id = ?1", user_b), 0,
          "delete_user B: B has no rows");
    T_INT(query_int("SELECT count(*) FROM memories WHERE user_id = ?1", user_a), NA - 1,
          "delete_user B: A's rows untouched");
    T_OK(matches_reference(v, user_a, refs_a + 1, NA - 1, refs_a[5].vec, 5, -1),
         "delete_user B: A's search unchanged");
}

/* A test embedder: a vector from the pairs of letters of the text, so equal
 * texts get equal vectors and the test can check the store used it. */
struct embed_calls {
    int calls;
    size_t texts;
    int fail;
};

static void
letters_vector(const char *text, float *out, int dim)
{
    int i;

    for (i = 0; i < dim; i++)
        out[i] = 0.01f;
    for (; text[0] && text[1]; text++) /* pairs of letters: "42" is not "24" */
        out[((unsigned char)text[0] * 31u + (unsigned char)text[1]) % (unsigned)dim] += 1;
}

static enum rose_err
letters_embed(void *arg, const char *const *texts, size_t n, float *out)
{
    struct embed_calls *c = arg;
    size_t i;

    c->calls++;
    c->texts += n;
    if (c->fail)
        return ROSE_ERR_UNAVAILABLE;
    for (i = 0; i < n; i++)
        letters_vector(texts[i], out + i * 32, 32);
    return ROSE_OK;
}

static void
test_embedder_change(void)
{
    struct rose_vectors *old = open_handle("test:random:64", DIM, NULL, NULL);
    struct rose_vectors *refuse = open_handle("test:letters:32", 32, NULL, NULL);
    struct embed_calls calls = {0};
    struct rose_vectors *newer = open_handle("test:letters:32", 32, letters_embed, &calls);
    struct rose_memory *got = NULL;
    char user_d[37], text[64], ids[70][37];
    float vec[DIM], q[32];
    size_t n = 0;
    int i, ok = 1;

    new_user(user_d);
    for (i = 0; i < 70; i++) {
        random_vector(vec, DIM);
        snprintf(text, sizeof(text), "memory number %d of D", i);
        ok &= add(old, user_d, NULL, text, i, vec, ids[i]) == ROSE_OK;
    }
    T_OK(ok, "embedder change: 70 memories of D made by test:random:64");

    T_INT(rose_vectors_search(refuse, user_d, (letters_vector("x", q, 32), q), 3, -1, &got, &n),
          ROSE_ERR_CONFLICT, "without an embed callback: refused (conflict)");
    T_STR(rose_vectors_status(refuse)->error_type, "stale_vectors", "refused: error type");
    T_OK(strstr(rose_vectors_status(refuse)->message, "70 memories") != NULL &&
             strstr(rose_vectors_status(refuse)->message, "test:letters:32") != NULL,
         "refused: the message says how many and which embedder (%s)",
         rose_vectors_status(refuse)->message);

    calls.fail = 1;
    T_INT(rose_vectors_search(newer, user_d, q, 3, -1, &got, &n), ROSE_ERR_UNAVAILABLE,
          "re-embed: the callback's error is returned");
    T_INT(query_int("SELECT count(*) FROM memories WHERE user_id = ?1 AND embedder = "
                    "'test:random:64'",
                    user_d),
          70, "re-embed failed: rows untouched");
    calls.fail = 0;
    calls.calls = 0;
    calls.texts = 0;
    letters_vector("memory number 42 of D", q, 32);
    T_INT(rose_vectors_search(newer, user_d, q, 3, -1, &got, &n), ROSE_OK,
          "re-embed: the search succeeds");
    T_INT(calls.texts, 70, "re-embed: every stale row embedded once");
    T_INT(calls.calls, 3, "re-embed: in batches of 32 (32 + 32 + 6)");
    T_OK(n == 3 && strcmp(got[0].id, ids[42]) == 0 && fabs(got[0].score - 1) < 1e-6,
         "re-embed: the query's own text ranks first with cosine 1");
    rose_memories_free(got, n);
    T_INT(query_int("SELECT count(*) FROM memories WHERE user_id = ?1 AND embedder = "
                    "'test:letters:32' AND dim = 32 AND length(vector) = 128",
                    user_d),
          70, "re-embed: all rows now carry the new embedder and dim");
    T_INT(query_int("SELECT count(*) FROM memories WHERE embedder = 'test:random:64'", NULL),
          NA - 1, "re-embed: lazy, per user: A's rows keep their embedder");
    calls.calls = 0;
    T_INT(rose_vectors_search(newer, user_d, q, 3, -1, &got, &n), ROSE_OK, "again: ok");
    T_INT(calls.calls, 0, "again: nothing left to re-embed");
    rose_memories_free(got, n);
    T_INT(rose_vectors_search(old, user_d, vec, 3, -1, &got, &n), ROSE_ERR_CONFLICT,
          "the old embedder now refuses D's rows instead of mixing them");
    T_INT(rose_vectors_list(old, user_d, &got, &n), ROSE_OK, "list: any embedder");
    T_INT(n, 70, "list: all of D's memories");
    rose_memories_free(got, n);

    /* Deleting the user row removes the memories (ON DELETE CASCADE). */
    T_INT(query_int("DELETE FROM users WHERE id = ?1 RETURNING 1", user_d), 1,
          "cascade: user D deleted");
    T_INT(query_int("SELECT count(*) FROM memories WHERE user_id = ?1", user_d), 0,
          "cascade: D's memories went with D");
    rose_vectors_close(old);
    rose_vectors_close(refuse);
    rose_vectors_close(newer);
}

static double
now_ms(void)
{
    return rose_mono_ms();
}

/* Top-5 over n memories of one fresh user: the first search (a scan) and
 * the median of later ones (the cache). */
static void
time_search(struct rose_vectors *v, int n)
{
    struct rose_vectors *other;
    struct rose_memory *got = NULL;
    char user[37];
    float vec[100], times[15], t;
    size_t ng = 0;
    double t0, cold, fresh;
    int i, j, ok = 1;

    new_user(user);
    rose_store_begin(st);
    for (i = 0; i < n; i++) {
        random_vector(vec, 100);
        ok &= add(v, user, NULL, "I keep thinking about my mother", i, vec, NULL) == ROSE_OK;
    }
    rose_store_commit(st);
    random_vector(vec, 100);
    t0 = now_ms();
    ok &= rose_vectors_search(v, user, vec, 5, -1, &got, &ng) == ROSE_OK && ng == 5;
    cold = now_ms() - t0;
    rose_memories_free(got, ng);
    for (i = 0; i < 15; i++) {
        random_vector(vec, 100);
        t0 = now_ms();
        ok &= rose_vectors_search(v, user, vec, 5, -1, &got, &ng) == ROSE_OK && ng == 5;
        times[i] = (float)(now_ms() - t0);
        rose_memories_free(got, ng);
    }
    for (i = 1; i < 15; i++) /* insertion sort for the median */
        for (j = i; j > 0 && times[j] < times[j - 1]; j--)
            t = times[j], times[j] = times[j - 1], times[j - 1] = t;
    /* A new worker: its first search scans rows already checkpointed into
     * the main file, as they mostly are in service. */
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
    other = open_handle("test:random:100", 100, NULL, NULL);
    random_vector(vec, 100);
    t0 = now_ms();
    ok &= other != NULL && rose_vectors_search(other, user, vec, 5, -1, &got, &ng) == ROSE_OK &&
          ng == 5;
    fresh = now_ms() - t0;
    rose_memories_free(got, ng);
    rose_vectors_close(other);
    T_OK(ok, "timing: %d memories of one user searched", n);
    printf("# top-5 over %6d memories (dim 100): first search %7.2f ms (after the inserts), "
           "%7.2f ms (another handle, checkpointed); cached: median %6.3f ms\n",
           n, cold, fresh, times[7]);
    rose_vectors_delete_user(v, user);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int
main(void)
{
    struct rose_vectors *v, *bench;
    char path[256];
    const char *rows = getenv("ROSE_BENCH_ROWS");
    int max = rows ? atoi(rows) : 100000, n;

    if (mkdtemp(tmpdir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/rose.db", tmpdir);
    T_INT(rose_store_open(path, &st), ROSE_OK, "store opens");
    if (st == NULL)
        return t_done();
    T_INT(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'memories'", NULL), 1,
          "the store's migrations create the memories table");
    new_user(user_a);
    new_user(user_b);
    new_user(user_c);
    new_session(user_a, session_a);
    new_session(user_b, session_b);

    {
        struct rose_vectors_opts bad = {
            .backend = ROSE_VECTORS_SQLITE, .embedder = "x y", .dim = 3, .st = st};
        T_INT(rose_vectors_open(&bad, &v), ROSE_ERR_CONFIG, "open: an embedder id with a space");
        bad.embedder = "ok";
        bad.dim = ROSE_VECTOR_DIM_MAX + 1;
        T_INT(rose_vectors_open(&bad, &v), ROSE_ERR_CONFIG, "open: dim too large");
        bad.dim = 3;
        bad.st = NULL;
        T_INT(rose_vectors_open(&bad, &v), ROSE_ERR_CONFIG, "open: SQLite without a store");
    }
    v = open_handle("test:random:64", DIM, NULL, NULL);
    T_OK(v != NULL, "open: ok");
    if (v != NULL) {
        test_basics(v);
        test_ranking(v);
        test_isolation(v);
        test_embedder_change();
        rose_vectors_close(v);
    }

    bench = open_handle("test:random:100", 100, NULL, NULL);
    for (n = 1000; bench != NULL && n <= max; n *= 10)
        time_search(bench, n);
    rose_vectors_close(bench);

    rose_store_close(st);
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return t_done();
}
