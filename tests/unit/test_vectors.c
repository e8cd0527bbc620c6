/*
 * test_vectors.c — the memory store's SQLite backend (lib/memory/vectors.c):
 * the scenarios both backends share (vector_scenarios.h: one memory and
 * validation, ranking against a brute-force reference on random vectors,
 * isolation of users, deletion), then what only SQLite does: ids refused
 * twice, sessions and users it knows, the cache and its invalidation by
 * another handle (another worker), re-embedding after an embedder change,
 * and the time of a top-5 search over 1k, 10k and 100k memories of one user
 * (printed as `#` lines, never asserted; ROSE_BENCH_ROWS=N sets the largest
 * size, e.g. 10000 under valgrind).  Everything happens in a fresh mkdtemp()
 * directory.
 */
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
#include "vector_scenarios.h"

#define DIM 64
#define NA 2000 /* memories of user A in the ranking test */
#define NB 300  /* of user B */

static char tmpdir[] = "/tmp/rose-test-vectors-XXXXXX";
static struct rose_store *st;
static char session_b[37];

/* Run sql with up to two text parameters (NULL: unbound); the first column
 * of the first row as an integer, or -1 if there is no row or an error. */
static long long
query_int2(const char *sql, const char *arg, const char *arg2)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(rose_store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (arg != NULL)
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    if (arg2 != NULL)
        sqlite3_bind_text(s, 2, arg2, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static long long
query_int(const char *sql, const char *arg)
{
    return query_int2(sql, arg, NULL);
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

/* --- the backend, for vector_scenarios.h ---------------------------------- */

static struct rose_vectors_opts
sqlite_opts(const char *embedder, int dim)
{
    struct rose_vectors_opts o = {
        .backend = ROSE_VECTORS_SQLITE, .embedder = embedder, .dim = dim, .st = st};
    return o;
}

/* The memories rows of user (and id), straight from the table. */
static long long
stored(const char *user, const char *id)
{
    return id ? query_int2("SELECT count(*) FROM memories WHERE user_id = ?1 AND id = ?2", user, id)
              : query_int("SELECT count(*) FROM memories WHERE user_id = ?1", user);
}

static struct vs vs = {.opts = sqlite_opts,
                       .stored = stored,
                       .embedder = "test:random:64",
                       .dim = DIM,
                       .na = NA,
                       .nb = NB,
                       .rounds = 30,
                       .probes = 50};

static struct rose_vectors *
open_handle(const char *embedder, int dim, rose_embed_fn embed, void *arg)
{
    struct rose_vectors_opts o = sqlite_opts(embedder, dim);
    struct rose_vectors *v = NULL;

    o.embed = embed;
    o.embed_arg = arg;
    return rose_vectors_open(&o, &v) == ROSE_OK ? v : NULL;
}

/* --- what only SQLite does ---------------------------------------------- */

/* An id twice, a session of another user, a user the store does not know. */
static void
test_adds(struct rose_vectors *v)
{
    struct rose_memory m = {.type = ROSE_MEMORY_LOSS, .created_at = 1000};
    float vec[DIM];
    char id[37];

    vs_random_vector(vec, DIM);
    rose_uuid_new(m.id);
    memcpy(m.user_id, vs.user_a, 37);
    memcpy(m.session_id, vs.session_a, 37);
    m.text = "Her mother passed away last spring";
    T_INT(rose_vectors_add(v, &m, vec), ROSE_OK, "add: ok");
    T_INT(rose_vectors_add(v, &m, vec), ROSE_ERR_CONFLICT, "add: the same id again → conflict");
    /* A session of another user is not linked; "" stays "". */
    T_INT(vs_add(v, vs.user_a, session_b, "Likes tea", 2000, vec, id), ROSE_OK,
          "add with another user's session: stored");
    T_INT(query_int("SELECT count(*) FROM memories WHERE id = ?1 AND session_id IS NULL", id), 1,
          "add with another user's session: session_id NULL");
    T_INT(vs_add(v, "00000000-0000-4000-8000-000000000000", NULL, "x", 1, vec, NULL),
          ROSE_ERR_NOT_FOUND, "unknown user: not found");
    T_INT(rose_vectors_delete_user(v, vs.user_a), ROSE_OK, "delete_user A: ok");
    T_INT(stored(vs.user_a, NULL), 0, "delete_user A: no rows left");
}

/* After vs_ranking(): another worker's handle adds and deletes, and the
 * first handle's cache must notice (users.memory_version). */
static void
test_cache(struct rose_vectors *v)
{
    struct rose_vectors *other = open_handle("test:random:64", DIM, NULL, NULL);
    struct rose_memory *got = NULL;
    size_t n = 0;
    float q[DIM];
    char id[37], id2[37];

    vs_random_vector(q, DIM);
    T_OK(vs_matches_reference(&vs, v, vs.user_a, vs.refs_a, NA, q, 5, -1), "cache: warm");
    T_INT(vs_add(other, vs.user_a, NULL, "new", NA + 1, q, id), ROSE_OK,
          "cache: another handle adds");
    T_INT(rose_vectors_search(v, vs.user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
    T_OK(n == 1 && strcmp(got[0].id, id) == 0, "cache: the other handle's memory is found");
    rose_memories_free(got, n);
    T_INT(rose_vectors_delete(other, vs.user_a, id), ROSE_OK, "cache: another handle deletes");
    T_INT(rose_vectors_search(v, vs.user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
    T_OK(n == 1 && strcmp(got[0].id, id) != 0, "cache: the deleted memory is gone");
    rose_memories_free(got, n);
    T_OK(vs_matches_reference(&vs, v, vs.user_a, vs.refs_a, NA, q, 5, -1),
         "cache: still equal brute force");

    /* This handle adds: the cache takes the row without a rescan... */
    vs_random_vector(q, DIM);
    T_INT(vs_add(v, vs.user_a, NULL, "mine", NA + 1, q, id), ROSE_OK, "cache: this handle adds");
    T_INT(rose_vectors_search(v, vs.user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
    T_OK(n == 1 && strcmp(got[0].id, id) == 0, "cache: its own new memory is found");
    rose_memories_free(got, n);
    T_INT(rose_vectors_delete(v, vs.user_a, id), ROSE_OK, "cache: and deleted");
    /* ...but not one the caller's transaction rolls back. */
    T_INT(rose_vectors_search(v, vs.user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: warm again");
    rose_memories_free(got, n);
    rose_store_begin(st);
    T_INT(vs_add(v, vs.user_a, NULL, "rolled back", NA + 1, q, id), ROSE_OK,
          "cache: an add inside a transaction");
    rose_store_rollback(st);
    /* Another worker's change brings the version to where the rolled-back
     * insert had taken it: the cache must not mistake one for the other. */
    T_INT(vs_add(other, vs.user_a, NULL, "theirs", NA + 1, vs.refs_a[7].vec, id2), ROSE_OK,
          "cache: another handle adds");
    T_INT(rose_vectors_search(v, vs.user_a, q, 1, -1, &got, &n), ROSE_OK, "cache: search");
    T_OK(n == 1 && strcmp(got[0].id, id) != 0, "cache: the rolled-back memory is not found");
    rose_memories_free(got, n);
    T_INT(rose_vectors_search(v, vs.user_a, vs.refs_a[7].vec, 2, -1, &got, &n), ROSE_OK,
          "cache: search");
    T_OK(n == 2 && (strcmp(got[0].id, id2) == 0 || strcmp(got[1].id, id2) == 0),
         "cache: the other handle's memory is found");
    rose_memories_free(got, n);
    T_INT(rose_vectors_delete(other, vs.user_a, id2), ROSE_OK, "cache: which is deleted again");
    T_OK(vs_matches_reference(&vs, v, vs.user_a, vs.refs_a, NA, q, 5, -1),
         "cache: still equal brute force");
    rose_vectors_close(other);
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
        vs_random_vector(vec, DIM);
        snprintf(text, sizeof(text), "memory number %d of D", i);
        ok &= vs_add(old, user_d, NULL, text, i, vec, ids[i]) == ROSE_OK;
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
        vs_random_vector(vec, 100);
        ok &= vs_add(v, user, NULL, "I keep thinking about my mother", i, vec, NULL) == ROSE_OK;
    }
    rose_store_commit(st);
    vs_random_vector(vec, 100);
    t0 = now_ms();
    ok &= rose_vectors_search(v, user, vec, 5, -1, &got, &ng) == ROSE_OK && ng == 5;
    cold = now_ms() - t0;
    rose_memories_free(got, ng);
    for (i = 0; i < 15; i++) {
        vs_random_vector(vec, 100);
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
    vs_random_vector(vec, 100);
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

int
main(void)
{
    struct rose_vectors *v, *bench, *nostore = NULL;
    struct rose_vectors_opts bad;
    char path[256];
    const char *rows = getenv("ROSE_BENCH_ROWS");
    int max = rows ? atoi(rows) : 100000, n;

    if (!t_mkdtemp(tmpdir))
        return 2;
    snprintf(path, sizeof(path), "%s/rose.db", tmpdir);
    T_INT(rose_store_open(path, &st), ROSE_OK, "store opens");
    if (st == NULL)
        return t_done();
    T_INT(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'memories'", NULL), 1,
          "the store's migrations create the memories table");
    new_user(vs.user_a);
    new_user(vs.user_b);
    new_user(vs.user_c);
    new_session(vs.user_a, vs.session_a);
    new_session(vs.user_b, session_b);

    vs_open_checks(&vs);
    bad = sqlite_opts("ok", 3);
    bad.st = NULL;
    T_INT(rose_vectors_open(&bad, &nostore), ROSE_ERR_CONFIG, "open: SQLite without a store");
    v = vs_open(&vs, vs.embedder, DIM);
    T_OK(v != NULL, "open: ok");
    if (v != NULL) {
        T_INT(rose_vectors_prepare(v), ROSE_OK, "prepare: the schema fits");
        vs_one_memory(&vs, v);
        test_adds(v);
        vs_ranking(&vs, v);
        test_cache(v);
        vs_isolation(&vs, v);
        test_embedder_change();
        rose_vectors_close(v);
    }

    bench = open_handle("test:random:100", 100, NULL, NULL);
    for (n = 1000; bench != NULL && n <= max; n *= 10)
        time_search(bench, n);
    rose_vectors_close(bench);

    rose_store_close(st);
    t_rmtree(tmpdir);
    return t_done();
}
