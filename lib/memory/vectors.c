/*
 * vectors.c — the memory store behind one handle (vectors.h): the SQLite
 * backend here, the Qdrant backend through qdrant.c.
 *
 * SQLite search.  Stepping through rows costs SQLite about a microsecond
 * each, a hundred times a 100-float dot product, so a search reads the
 * user's rows once, keeps their ids and vectors in one array (struct
 * cache), and answers later searches of that user from the array for as
 * long as users.memory_version (bumped by triggers on every insert, delete
 * or vector change of the user's memories, whoever makes it) has not moved.
 * The check and the scoring happen in one read transaction, so a search
 * never sees a half-applied change.  Either way the top K are kept in a
 * bounded heap and their text is read afterwards, K primary-key lookups.
 * docs/internals/memory-store.md has the measurements.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "memory/vectors.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vectors are stored as little-endian float32 and copied as they are"
#endif

/* Stale rows re-embedded per callback call and per write transaction. */
#define REEMBED_BATCH 32

static const char *const type_names[ROSE_MEMORY__MAX] = {
    "fact", "preference", "emotion", "loss", "goal", "relationship", "name", "other",
};

static const char *const backend_names[ROSE_VECTORS__MAX] = {"sqlite", "qdrant"};

/* The last searched user's vectors (SQLite); valid while that user's
 * memory_version is still `version`.  Empty when user_id is "". */
struct cache {
    char user_id[37];
    long long version;
    size_t n, cap; /* rows held, rows allocated */
    char (*ids)[37];
    float *vecs; /* n * dim, L2-normalised */
};

/* A growable list of memory ids (stale rows to re-embed). */
struct idlist {
    char (*ids)[37];
    size_t n, cap;
};

struct rose_vectors {
    enum rose_vectors_backend backend;
    char embedder[128];
    int dim;
    rose_embed_fn embed;
    void *embed_arg;
    struct rose_store *st;
    struct rose_qdrant_opts q; /* its strings point at the copies below */
    char *q_url, *q_key, *q_collection;
    long q_timeout_ms; /* as opened; rose_vectors_set_timeout(v, 0) restores it */
    float *unit;       /* dim floats: the caller's vector, normalised */
    float *row;        /* dim floats: one stored vector, aligned */
    struct cache cache;
    struct rose_vectors_status status;
};

/* One ranked memory while searching. */
struct hit {
    float score;
    char id[37];
};

/* The best k seen so far: a min-heap whose root h[0] is the worst kept. */
struct top {
    struct hit *h;
    int n, k;
    float min_score;
};

const char *
rose_memory_type_name(enum rose_memory_type t)
{
    return (unsigned)t < ROSE_MEMORY__MAX ? type_names[t] : NULL;
}

enum rose_err
rose_memory_type_parse(const char *name, enum rose_memory_type *out)
{
    int i;

    for (i = 0; name != NULL && i < ROSE_MEMORY__MAX; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (enum rose_memory_type)i;
            return ROSE_OK;
        }
    }
    return ROSE_ERR_INVALID_FIELD;
}

const char *
rose_vectors_backend_name(enum rose_vectors_backend b)
{
    return (unsigned)b < ROSE_VECTORS__MAX ? backend_names[b] : NULL;
}

void
rose_memories_free(struct rose_memory *m, size_t n)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < n; i++)
        free(m[i].text);
    free(m);
}

/* --- status ------------------------------------------------------------- */

static void
status_clear(struct rose_vectors *v)
{
    memset(&v->status, 0, sizeof(v->status));
    v->status.retry_after_s = -1;
}

/* Record why a call failed: a short kind and a sentence for the log. */
static enum rose_err fail(struct rose_vectors *v, enum rose_err err, const char *kind,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum rose_err
fail(struct rose_vectors *v, enum rose_err err, const char *kind, const char *fmt, ...)
{
    va_list ap;

    snprintf(v->status.error_type, sizeof(v->status.error_type), "%s", kind);
    va_start(ap, fmt);
    vsnprintf(v->status.message, sizeof(v->status.message), fmt, ap);
    va_end(ap);
    return err;
}

/* Keep what Qdrant answered; on failure say so in words. */
static enum rose_err
from_qdrant(struct rose_vectors *v, enum rose_err err, const struct rose_qdrant_result *r,
            const char *what)
{
    v->status.http_status = r->http_status;
    v->status.retry_after_s = r->retry_after_s;
    snprintf(v->status.error_type, sizeof(v->status.error_type), "%s", r->error_type);
    if (err != ROSE_OK)
        snprintf(v->status.message, sizeof(v->status.message), "qdrant %s: %s (HTTP %d%s%s)", what,
                 rose_err_code(err), r->http_status, r->error_type[0] ? ", " : "", r->error_type);
    return err;
}

/* --- checks ------------------------------------------------------------- */

static int
valid_embedder(const char *s)
{
    size_t i;

    if (s == NULL || s[0] == '\0')
        return 0;
    for (i = 0; s[i]; i++)
        if (i >= 127 || (unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* Copy a UUID in lower case, so ids compare equal however they were spelled. */
static enum rose_err
copy_uuid(const char *s, char out[37])
{
    if (!rose_uuid_valid(s))
        return ROSE_ERR_INVALID_FIELD;
    memcpy(out, s, 37);
    rose_uuid_lower(out);
    return ROSE_OK;
}

/* Write vec[0..dim) scaled to length 1 into out; a zero or non-finite
 * vector has no direction, so it cannot be compared by cosine. */
static enum rose_err
normalise(const float *vec, int dim, float *out)
{
    double sum = 0;
    int i;

    if (vec == NULL)
        return ROSE_ERR_INVALID_FIELD;
    for (i = 0; i < dim; i++) {
        if (!isfinite(vec[i]))
            return ROSE_ERR_INVALID_FIELD;
        sum += (double)vec[i] * vec[i];
    }
    if (!(sum > 0) || !isfinite(sum))
        return ROSE_ERR_INVALID_FIELD;
    sum = sqrt(sum);
    for (i = 0; i < dim; i++)
        out[i] = (float)(vec[i] / sum);
    return ROSE_OK;
}

static enum rose_err
check_memory(const struct rose_memory *m, struct rose_memory *copy)
{
    size_t len;

    if (m == NULL || m->text == NULL || (unsigned)m->type >= ROSE_MEMORY__MAX)
        return ROSE_ERR_INVALID_FIELD;
    *copy = *m;
    if (copy_uuid(m->id, copy->id) != ROSE_OK || copy_uuid(m->user_id, copy->user_id) != ROSE_OK)
        return ROSE_ERR_INVALID_FIELD;
    if (m->session_id[0] != '\0' && copy_uuid(m->session_id, copy->session_id) != ROSE_OK)
        return ROSE_ERR_INVALID_FIELD;
    len = strnlen(m->text, ROSE_MEMORY_TEXT_MAX + 1);
    if (len == 0)
        return ROSE_ERR_EMPTY;
    if (len > ROSE_MEMORY_TEXT_MAX)
        return ROSE_ERR_TOO_LARGE;
    return rose_utf8_valid(m->text, len) ? ROSE_OK : ROSE_ERR_INVALID_FIELD;
}

/* --- ranking ------------------------------------------------------------ */

/*
 * Dot product of two normalised vectors, i.e. their cosine.  Eight
 * independent sums let the CPU (and the compiler's vectoriser) work on
 * several products at once without -ffast-math reordering one long chain.
 */
static float
dot(const float *a, const float *b, int n)
{
    float s[8] = {0};
    int i, j;

    for (i = 0; i + 8 <= n; i += 8)
        for (j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    for (; i < n; i++)
        s[0] += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* a ranks below b: a lower score, or the same score and a later id. */
static int
worse(const struct hit *a, const struct hit *b)
{
    return a->score < b->score || (a->score == b->score && strcmp(a->id, b->id) > 0);
}

static int
by_rank(const void *pa, const void *pb)
{
    const struct hit *a = pa, *b = pb;

    return worse(a, b) ? 1 : worse(b, a) ? -1 : 0;
}

static void
sift_down(struct top *t, int i)
{
    struct hit tmp;
    int c;

    for (; (c = 2 * i + 1) < t->n; i = c) {
        if (c + 1 < t->n && worse(&t->h[c + 1], &t->h[c]))
            c++;
        if (!worse(&t->h[c], &t->h[i]))
            break;
        tmp = t->h[i];
        t->h[i] = t->h[c];
        t->h[c] = tmp;
    }
}

static void
sift_up(struct top *t, int i)
{
    struct hit tmp;

    for (; i > 0 && worse(&t->h[i], &t->h[(i - 1) / 2]); i = (i - 1) / 2) {
        tmp = t->h[i];
        t->h[i] = t->h[(i - 1) / 2];
        t->h[(i - 1) / 2] = tmp;
    }
}

/* Consider one memory.  Most rows lose on the score alone, cheaply. */
static void
offer(struct top *t, float score, const char *id)
{
    struct hit c;

    score = score > 1 ? 1 : score < -1 ? -1 : score; /* rounding can pass ±1 */
    if (score < t->min_score || (t->n == t->k && score < t->h[0].score))
        return;
    c.score = score;
    memcpy(c.id, id, sizeof(c.id));
    if (t->n < t->k) {
        t->h[t->n++] = c;
        sift_up(t, t->n - 1);
    } else if (worse(&t->h[0], &c)) {
        t->h[0] = c;
        sift_down(t, 0);
    }
}

/* --- SQLite: the cache -------------------------------------------------- */

static void
cache_clear(struct cache *c)
{
    free(c->ids);
    free(c->vecs);
    memset(c, 0, sizeof(*c));
}

/* Append one row; fails (and the caller stops caching) past the cap. */
static enum rose_err
cache_append(struct cache *c, int dim, const char *id, const float *vec)
{
    size_t row = (size_t)dim * sizeof(float) + 37, cap;
    void *p;

    if (c->n == c->cap) {
        cap = c->cap ? 2 * c->cap : 256;
        if (cap * row > ROSE_VECTOR_CACHE_MAX)
            cap = ROSE_VECTOR_CACHE_MAX / row;
        if (cap <= c->n)
            return ROSE_ERR_TOO_LARGE;
        if ((p = realloc(c->ids, cap * 37)) == NULL)
            return ROSE_ERR_NOMEM;
        c->ids = p;
        if ((p = realloc(c->vecs, cap * (size_t)dim * sizeof(float))) == NULL)
            return ROSE_ERR_NOMEM;
        c->vecs = p;
        c->cap = cap;
    }
    memcpy(c->ids[c->n], id, 37);
    memcpy(c->vecs + c->n * (size_t)dim, vec, (size_t)dim * sizeof(float));
    c->n++;
    return ROSE_OK;
}

static enum rose_err
ids_push(struct idlist *l, const char *id)
{
    void *p;

    if (l->n == l->cap) {
        if ((p = realloc(l->ids, (l->cap ? 2 * l->cap : 64) * 37)) == NULL)
            return ROSE_ERR_NOMEM;
        l->ids = p;
        l->cap = l->cap ? 2 * l->cap : 64;
    }
    snprintf(l->ids[l->n++], 37, "%s", id);
    return ROSE_OK;
}

/* --- SQLite: search ----------------------------------------------------- */

static enum rose_err
db_fail(struct rose_vectors *v, int rc, const char *what)
{
    /* SQLite's message names tables and constraints, never bound values. */
    return fail(v, rose_store_err(rc), "sqlite", "%s: %s", what,
                sqlite3_errmsg(rose_store_db(v->st)));
}

/* The user's memory_version; ROSE_ERR_NOT_FOUND if the user is gone. */
static enum rose_err
read_version(struct rose_vectors *v, const char *user_id, long long *out)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(v->st, "SELECT memory_version FROM users WHERE id = ?1", &s)) !=
        ROSE_OK)
        return fail(v, err, "sqlite", "cannot read users.memory_version (schema migration 5?)");
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else if (rc == SQLITE_DONE)
        err = ROSE_ERR_NOT_FOUND;
    else
        err = db_fail(v, rc, "read memory_version");
    sqlite3_finalize(s);
    return err;
}

/*
 * Score every row of the user (refilling the cache on the way); rows made by
 * another embedder are not scored but listed in *stale.
 */
static enum rose_err
scan(struct rose_vectors *v, const char *user_id, long long version, const float *q, struct top *t,
     struct idlist *stale)
{
    size_t bytes = (size_t)v->dim * sizeof(float);
    sqlite3_stmt *s = NULL;
    const unsigned char *id, *embedder;
    const void *blob;
    int caching = 1, rc;
    enum rose_err err;

    cache_clear(&v->cache);
    if ((err = rose_store_prepare(v->st,
                                  "SELECT id, embedder, dim, vector FROM memories "
                                  "WHERE user_id = ?1",
                                  &s)) != ROSE_OK)
        return fail(v, err, "sqlite", "cannot read the memories table (schema migration 5?)");
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        id = sqlite3_column_text(s, 0);
        embedder = sqlite3_column_text(s, 1);
        if (id == NULL || sqlite3_column_bytes(s, 0) != 36 || embedder == NULL) {
            err = fail(v, ROSE_ERR_DB, "sqlite", "a memories row has no id or embedder");
            goto out;
        }
        if (sqlite3_column_int(s, 2) != v->dim || strcmp((const char *)embedder, v->embedder)) {
            if ((err = ids_push(stale, (const char *)id)) != ROSE_OK)
                goto out;
            continue;
        }
        blob = sqlite3_column_blob(s, 3);
        if (blob == NULL || (size_t)sqlite3_column_bytes(s, 3) != bytes) {
            err = fail(v, ROSE_ERR_DB, "sqlite", "a memories row has a vector of the wrong size");
            goto out;
        }
        /* A copy: the blob need not be aligned for float loads. */
        memcpy(v->row, blob, bytes);
        offer(t, dot(q, v->row, v->dim), (const char *)id);
        if (caching && cache_append(&v->cache, v->dim, (const char *)id, v->row) != ROSE_OK) {
            cache_clear(&v->cache);
            caching = 0;
        }
    }
    if (rc != SQLITE_DONE) {
        err = db_fail(v, rc, "scan memories");
        goto out;
    }
    if (caching && stale->n == 0) {
        memcpy(v->cache.user_id, user_id, 37);
        v->cache.version = version;
    } else {
        cache_clear(&v->cache);
    }
out:
    if (err != ROSE_OK)
        cache_clear(&v->cache);
    sqlite3_finalize(s);
    return err;
}

/* Rank the user's memories: from the cache if it is current, else a scan. */
static enum rose_err
rank(struct rose_vectors *v, const char *user_id, const float *q, struct top *t,
     struct idlist *stale)
{
    long long version = 0;
    enum rose_err err;
    size_t i;

    if ((err = read_version(v, user_id, &version)) == ROSE_ERR_NOT_FOUND) {
        if (strcmp(v->cache.user_id, user_id) == 0)
            cache_clear(&v->cache);
        return ROSE_OK; /* no user: no memories */
    }
    if (err != ROSE_OK)
        return err;
    if (strcmp(v->cache.user_id, user_id) != 0 || v->cache.version != version)
        return scan(v, user_id, version, q, t, stale);
    for (i = 0; i < v->cache.n; i++)
        offer(t, dot(q, v->cache.vecs + i * (size_t)v->dim, v->dim), v->cache.ids[i]);
    return ROSE_OK;
}

static enum rose_err
copy_text_col(sqlite3_stmt *s, int col, char **out)
{
    const unsigned char *p = sqlite3_column_text(s, col);

    if (p == NULL)
        return ROSE_ERR_DB;
    if ((*out = strdup((const char *)p)) == NULL)
        return ROSE_ERR_NOMEM;
    return ROSE_OK;
}

/* Fill one rose_memory from a row (id, session_id, text, memory_type, created_at). */
static enum rose_err
read_memory(sqlite3_stmt *s, const char *user_id, struct rose_memory *m)
{
    const unsigned char *id = sqlite3_column_text(s, 0), *sid = sqlite3_column_text(s, 1);

    memset(m, 0, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", id ? (const char *)id : "");
    snprintf(m->user_id, sizeof(m->user_id), "%s", user_id);
    snprintf(m->session_id, sizeof(m->session_id), "%s", sid ? (const char *)sid : "");
    if (rose_memory_type_parse((const char *)sqlite3_column_text(s, 3), &m->type) != ROSE_OK)
        m->type = ROSE_MEMORY_OTHER;
    m->created_at = sqlite3_column_int64(s, 4);
    return copy_text_col(s, 2, &m->text);
}

/* Read the rows of the ranked hits, best first; rows gone since are skipped. */
static enum rose_err
fetch(struct rose_vectors *v, const char *user_id, const struct top *t, struct rose_memory **out,
      size_t *nout)
{
    struct rose_memory *m = NULL;
    sqlite3_stmt *s = NULL;
    size_t n = 0;
    enum rose_err err;
    int i, rc;

    if ((m = calloc((size_t)t->n + 1, sizeof(*m))) == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = rose_store_prepare(v->st,
                                  "SELECT id, session_id, text, memory_type, created_at "
                                  "FROM memories WHERE id = ?1 AND user_id = ?2",
                                  &s)) != ROSE_OK)
        goto out;
    for (i = 0; i < t->n; i++) {
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, t->h[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(s)) == SQLITE_DONE)
            continue;
        if (rc != SQLITE_ROW) {
            err = db_fail(v, rc, "read memory");
            goto out;
        }
        if ((err = read_memory(s, user_id, &m[n])) != ROSE_OK)
            goto out;
        m[n++].score = t->h[i].score;
    }
    *out = m;
    *nout = n;
    m = NULL;
out:
    sqlite3_finalize(s);
    rose_memories_free(m, n); /* read_memory() leaves a failed row without text */
    return err;
}

/*
 * Give the stale rows in ids the handle's embedder: texts through the
 * caller's callback, then one short write transaction per batch.  A row
 * changed or deleted meanwhile is left alone.
 */
static enum rose_err
reembed(struct rose_vectors *v, const char *user_id, const struct idlist *ids)
{
    const char *texts[REEMBED_BATCH];
    char *owned[REEMBED_BATCH];
    char got[REEMBED_BATCH][37];
    float *vecs = NULL;
    sqlite3_stmt *rd = NULL, *wr = NULL;
    size_t i, b, m = 0;
    enum rose_err err;
    int rc;

    memset(owned, 0, sizeof(owned));
    if ((vecs = malloc(sizeof(float) * (size_t)v->dim * REEMBED_BATCH)) == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = rose_store_prepare(v->st, "SELECT text FROM memories WHERE id = ?1 AND user_id = ?2",
                                  &rd)) != ROSE_OK ||
        (err = rose_store_prepare(v->st,
                                  "UPDATE memories SET embedder = ?3, dim = ?4, vector = ?5 "
                                  "WHERE id = ?1 AND user_id = ?2 "
                                  "AND (embedder <> ?3 OR dim <> ?4)",
                                  &wr)) != ROSE_OK)
        goto out;
    for (b = 0; b < ids->n; b += REEMBED_BATCH) {
        for (m = 0, i = b; i < ids->n && i < b + REEMBED_BATCH; i++) {
            sqlite3_reset(rd);
            sqlite3_bind_text(rd, 1, ids->ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(rd, 2, user_id, -1, SQLITE_STATIC);
            if ((rc = sqlite3_step(rd)) == SQLITE_DONE)
                continue; /* deleted meanwhile */
            if (rc != SQLITE_ROW) {
                err = db_fail(v, rc, "read stale memory");
                goto out;
            }
            if ((err = copy_text_col(rd, 0, &owned[m])) != ROSE_OK)
                goto out;
            texts[m] = owned[m];
            memcpy(got[m++], ids->ids[i], 37);
        }
        sqlite3_reset(rd);
        if (m == 0)
            continue;
        if ((err = v->embed(v->embed_arg, texts, m, vecs)) != ROSE_OK) {
            fail(v, err, "reembed_failed", "re-embedding %zu memories failed: %s", m,
                 rose_err_code(err));
            goto out;
        }
        if ((err = rose_store_begin(v->st)) != ROSE_OK)
            goto out;
        for (i = 0; i < m; i++) {
            if ((err = normalise(vecs + i * (size_t)v->dim, v->dim, v->row)) != ROSE_OK) {
                rose_store_rollback(v->st);
                fail(v, err, "reembed_failed", "the embed callback gave a zero vector");
                goto out;
            }
            sqlite3_reset(wr);
            sqlite3_bind_text(wr, 1, got[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(wr, 2, user_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(wr, 3, v->embedder, -1, SQLITE_STATIC);
            sqlite3_bind_int(wr, 4, v->dim);
            sqlite3_bind_blob(wr, 5, v->row, v->dim * (int)sizeof(float), SQLITE_STATIC);
            if ((rc = sqlite3_step(wr)) != SQLITE_DONE) {
                err = db_fail(v, rc, "update re-embedded memory");
                rose_store_rollback(v->st);
                goto out;
            }
        }
        sqlite3_reset(wr);
        if ((err = rose_store_commit(v->st)) != ROSE_OK) {
            rose_store_rollback(v->st);
            goto out;
        }
        for (i = 0; i < m; i++) {
            free(owned[i]);
            owned[i] = NULL;
        }
    }
out:
    for (i = 0; i < REEMBED_BATCH; i++)
        free(owned[i]);
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    free(vecs);
    return err;
}

/*
 * One read snapshot: rank, and (when out is not NULL) read the winners.
 * *stale lists rows of another embedder; nothing is read when there are any.
 */
static enum rose_err
rank_snapshot(struct rose_vectors *v, const char *user_id, const float *q, struct top *t,
              struct idlist *stale, struct rose_memory **out, size_t *n)
{
    enum rose_err err;

    /* A savepoint opens a read transaction, or nests in the caller's. */
    if ((err = rose_store_exec(v->st, "SAVEPOINT vectors_read")) != ROSE_OK)
        return fail(v, err, "sqlite", "cannot open a read transaction");
    t->n = 0;
    stale->n = 0;
    err = rank(v, user_id, q, t, stale);
    if (err == ROSE_OK && stale->n == 0) {
        qsort(t->h, (size_t)t->n, sizeof(t->h[0]), by_rank);
        if (out != NULL)
            err = fetch(v, user_id, t, out, n);
    }
    rose_store_exec(v->st, "RELEASE vectors_read"); /* read-only: nothing to lose */
    return err;
}

static enum rose_err
sqlite_search(struct rose_vectors *v, const char *user_id, int k, float min_score,
              struct rose_memory **out, size_t *n, float *best)
{
    struct top t = {.k = k, .min_score = min_score};
    struct idlist stale = {0};
    enum rose_err err;
    int pass;

    if ((t.h = calloc((size_t)k, sizeof(*t.h))) == NULL)
        return ROSE_ERR_NOMEM;
    for (pass = 0;; pass++) {
        if ((err = rank_snapshot(v, user_id, v->unit, &t, &stale, out, n)) != ROSE_OK ||
            stale.n == 0)
            break;
        if (v->embed == NULL || pass > 0) {
            /* pass > 0: a worker still on the old embedder keeps adding rows */
            err = fail(v, ROSE_ERR_CONFLICT, "stale_vectors",
                       "%zu memories of this user were made by another embedder than %s; "
                       "they are never compared with its vectors%s",
                       stale.n, v->embedder,
                       v->embed ? " (still there after re-embedding)"
                                : " and no embed callback was given to re-embed them");
            break;
        }
        err = reembed(v, user_id, &stale);
        if (err != ROSE_OK)
            break;
    }
    if (err == ROSE_OK && best != NULL)
        *best = t.n > 0 ? t.h[0].score : -1;
    free(stale.ids);
    free(t.h);
    return err;
}

/* --- SQLite: the rest --------------------------------------------------- */

static enum rose_err
sqlite_prepare(struct rose_vectors *v)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;

    /* Compiling a statement checks that every table and column exists. */
    err = rose_store_prepare(v->st,
                             "SELECT m.id, m.user_id, m.session_id, m.text, m.memory_type, "
                             "m.created_at, m.embedder, m.dim, m.vector, u.memory_version "
                             "FROM memories m JOIN users u ON u.id = m.user_id",
                             &s);
    sqlite3_finalize(s);
    if (err != ROSE_OK)
        return fail(v, ROSE_ERR_CONFIG, "schema",
                    "the database lacks the memories table or users.memory_version "
                    "(schema migration 5)");
    return ROSE_OK;
}

/*
 * After this handle added memory m: if the cache holds m's user and the
 * version moved by exactly one (our insert, committed: no caller's
 * transaction could still roll it back), append m instead of rescanning
 * on the next search.  Any other change in between moved the version
 * further, and the cache is dropped.
 */
static void
cache_note_add(struct rose_vectors *v, const struct rose_memory *m)
{
    long long version;

    if (strcmp(v->cache.user_id, m->user_id) != 0)
        return;
    if (!sqlite3_get_autocommit(rose_store_db(v->st)) ||
        read_version(v, m->user_id, &version) != ROSE_OK || version != v->cache.version + 1 ||
        cache_append(&v->cache, v->dim, m->id, v->unit) != ROSE_OK) {
        cache_clear(&v->cache);
        status_clear(v); /* the memory was added: report success */
        return;
    }
    v->cache.version = version;
}

static enum rose_err
sqlite_add(struct rose_vectors *v, const struct rose_memory *m)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(
             v->st,
             "INSERT INTO memories (id, user_id, session_id, text, memory_type, created_at, "
             "embedder, dim, vector) VALUES (?1, ?2, "
             "(SELECT id FROM sessions WHERE id = ?3 AND user_id = ?2), ?4, ?5, ?6, ?7, ?8, ?9)",
             &s)) != ROSE_OK)
        return fail(v, err, "sqlite", "cannot write the memories table (schema migration 5?)");
    sqlite3_bind_text(s, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, m->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, m->session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, m->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, type_names[m->type], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, m->created_at);
    sqlite3_bind_text(s, 7, v->embedder, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 8, v->dim);
    sqlite3_bind_blob(s, 9, v->unit, v->dim * (int)sizeof(float), SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        cache_note_add(v, m);
    else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        err = fail(v, ROSE_ERR_CONFLICT, "exists", "a memory with this id exists");
    else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        err = fail(v, ROSE_ERR_NOT_FOUND, "no_user", "no such user");
    else if (rc != SQLITE_DONE)
        err = db_fail(v, rc, "insert memory");
    sqlite3_finalize(s);
    return err;
}

/* Run a DELETE bound to (?1 user_id[, ?2 id]); *changes rows went. */
static enum rose_err
sqlite_delete(struct rose_vectors *v, const char *user_id, const char *id)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(v->st,
                                  id ? "DELETE FROM memories WHERE user_id = ?1 AND id = ?2"
                                     : "DELETE FROM memories WHERE user_id = ?1",
                                  &s)) != ROSE_OK)
        return fail(v, err, "sqlite", "cannot write the memories table (schema migration 5?)");
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    if (id)
        sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(s)) != SQLITE_DONE)
        err = db_fail(v, rc, "delete memories");
    else if (id && sqlite3_changes(rose_store_db(v->st)) == 0)
        err = fail(v, ROSE_ERR_NOT_FOUND, "not_found", "no such memory of this user");
    sqlite3_finalize(s);
    return err;
}

static enum rose_err
sqlite_list(struct rose_vectors *v, const char *user_id, struct rose_memory **out, size_t *nout)
{
    struct rose_memory *m = NULL, *p;
    sqlite3_stmt *s = NULL;
    size_t n = 0, cap = 0;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(v->st,
                                  "SELECT id, session_id, text, memory_type, created_at "
                                  "FROM memories WHERE user_id = ?1 ORDER BY created_at, id",
                                  &s)) != ROSE_OK)
        return fail(v, err, "sqlite", "cannot read the memories table (schema migration 5?)");
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == ROSE_MEMORY_LIST_MAX) {
            err = fail(v, ROSE_ERR_TOO_LARGE, "too_many", "more than %d memories",
                       ROSE_MEMORY_LIST_MAX);
            goto out;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            if ((p = realloc(m, cap * sizeof(*m))) == NULL) {
                err = ROSE_ERR_NOMEM;
                goto out;
            }
            m = p;
        }
        if ((err = read_memory(s, user_id, &m[n])) != ROSE_OK)
            goto out;
        n++;
    }
    if (rc != SQLITE_DONE) {
        err = db_fail(v, rc, "list memories");
        goto out;
    }
    *out = m;
    *nout = n;
    m = NULL;
out:
    sqlite3_finalize(s);
    rose_memories_free(m, n);
    return err;
}

/* --- Qdrant ------------------------------------------------------------- */

static enum rose_err
qdrant_prepare(struct rose_vectors *v)
{
    struct rose_qdrant_result r, cr;
    char distance[16];
    long long other = 0;
    int size = 0;
    enum rose_err err, cerr;

    err = rose_qdrant_collection_get(&v->q, &size, distance, &r);
    if (err == ROSE_ERR_NOT_FOUND) {
        /* If another worker created it first, this fails (409, or 400 on
         * older servers) and the second read finds theirs. */
        cerr = rose_qdrant_collection_create(&v->q, v->dim, &cr);
        err = rose_qdrant_collection_get(&v->q, &size, distance, &r);
        if (err == ROSE_ERR_NOT_FOUND && cerr != ROSE_OK)
            return from_qdrant(v, cerr, &cr, "create collection");
    }
    if (err != ROSE_OK)
        return from_qdrant(v, err, &r, "read collection");
    from_qdrant(v, err, &r, "");
    if (size != v->dim)
        return fail(v, ROSE_ERR_CONFIG, "dimension_mismatch",
                    "collection %s holds vectors of size %d but embedder %s makes %d; its "
                    "memories cannot be compared: go back to that embedder, or move the "
                    "collection aside (its memories would be lost)",
                    v->q.collection, size, v->embedder, v->dim);
    if (strcmp(distance, "Cosine") != 0)
        return fail(v, ROSE_ERR_CONFIG, "distance_mismatch",
                    "collection %s uses distance %s, not Cosine", v->q.collection, distance);
    if ((err = rose_qdrant_index_create(&v->q, "user_id", &r)) != ROSE_OK ||
        (err = rose_qdrant_index_create(&v->q, "embedder", &r)) != ROSE_OK)
        return from_qdrant(v, err, &r, "create payload index");
    if ((err = rose_qdrant_count_other_embedders(&v->q, v->embedder, &other, &r)) != ROSE_OK)
        return from_qdrant(v, err, &r, "count points");
    from_qdrant(v, err, &r, "");
    if (other > 0)
        return fail(v, ROSE_ERR_CONFIG, "embedder_mismatch",
                    "collection %s holds %lld memories made by another embedder than %s; "
                    "Qdrant memories are not re-embedded: go back to that embedder, or "
                    "move the collection aside (its memories would be lost)",
                    v->q.collection, other, v->embedder);
    return ROSE_OK;
}

static enum rose_err
qdrant_search(struct rose_vectors *v, const char *user_id, int k, float min_score,
              struct rose_memory **out, size_t *n, float *best)
{
    struct rose_qdrant_result r;
    struct rose_memory *m = NULL, tmp;
    size_t got = 0, i, j;
    enum rose_err err;

    err = rose_qdrant_search(&v->q, user_id, v->embedder, v->unit, v->dim, k, min_score, &m, &got,
                             &r);
    if ((err = from_qdrant(v, err, &r, "search")) != ROSE_OK)
        return err;
    /* Clamp like SQLite does, and break Qdrant's arbitrary ties by id (an
     * insertion sort: k is small). */
    for (i = 0; i < got; i++) {
        m[i].score = m[i].score > 1 ? 1 : m[i].score < -1 ? -1 : m[i].score;
        for (j = i; j > 0 && (m[j].score > m[j - 1].score ||
                              (m[j].score == m[j - 1].score && strcmp(m[j].id, m[j - 1].id) < 0));
             j--) {
            tmp = m[j];
            m[j] = m[j - 1];
            m[j - 1] = tmp;
        }
    }
    if (best != NULL)
        *best = got > 0 ? m[0].score : -1;
    if (out != NULL) {
        *out = m;
        *n = got;
    } else {
        rose_memories_free(m, got);
    }
    return ROSE_OK;
}

static int
by_age(const void *pa, const void *pb)
{
    const struct rose_memory *a = pa, *b = pb;

    if (a->created_at != b->created_at)
        return a->created_at < b->created_at ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* --- the handle --------------------------------------------------------- */

static enum rose_err
copy_str(const char *s, char **out)
{
    *out = NULL;
    if (s != NULL && (*out = strdup(s)) == NULL)
        return ROSE_ERR_NOMEM;
    return ROSE_OK;
}

enum rose_err
rose_vectors_open(const struct rose_vectors_opts *o, struct rose_vectors **out)
{
    struct rose_vectors *v = NULL;
    enum rose_err err = ROSE_ERR_CONFIG;

    if (o == NULL || (unsigned)o->backend >= ROSE_VECTORS__MAX || !valid_embedder(o->embedder) ||
        o->dim < 1 || o->dim > ROSE_VECTOR_DIM_MAX)
        return ROSE_ERR_CONFIG;
    if (o->backend == ROSE_VECTORS_SQLITE && o->st == NULL)
        return ROSE_ERR_CONFIG;
    if (o->backend == ROSE_VECTORS_QDRANT &&
        (o->qdrant.url == NULL || o->qdrant.url[0] == '\0' || o->qdrant.timeout_ms <= 0 ||
         o->qdrant.connect_timeout_ms <= 0 || o->qdrant.max_response_bytes == 0))
        return ROSE_ERR_CONFIG;
    if ((v = calloc(1, sizeof(*v))) == NULL)
        return ROSE_ERR_NOMEM;
    v->backend = o->backend;
    snprintf(v->embedder, sizeof(v->embedder), "%s", o->embedder);
    v->dim = o->dim;
    v->embed = o->embed;
    v->embed_arg = o->embed_arg;
    v->st = o->st;
    v->q = o->qdrant;
    v->q_timeout_ms = o->qdrant.timeout_ms;
    err = ROSE_ERR_NOMEM;
    if (copy_str(o->qdrant.url, &v->q_url) != ROSE_OK ||
        copy_str(o->qdrant.api_key, &v->q_key) != ROSE_OK ||
        copy_str(o->qdrant.collection ? o->qdrant.collection : ROSE_QDRANT_COLLECTION,
                 &v->q_collection) != ROSE_OK)
        goto out;
    v->q.url = v->q_url;
    v->q.api_key = v->q_key;
    v->q.collection = v->q_collection;
    if ((v->unit = malloc(sizeof(float) * (size_t)v->dim)) == NULL ||
        (v->row = malloc(sizeof(float) * (size_t)v->dim)) == NULL)
        goto out;
    status_clear(v);
    *out = v;
    v = NULL;
    err = ROSE_OK;
out:
    rose_vectors_close(v);
    return err;
}

void
rose_vectors_close(struct rose_vectors *v)
{
    if (v == NULL)
        return;
    cache_clear(&v->cache);
    free(v->q_url);
    if (v->q_key != NULL)
        explicit_bzero(v->q_key, strlen(v->q_key));
    free(v->q_key);
    free(v->q_collection);
    free(v->unit);
    free(v->row);
    free(v);
}

const struct rose_vectors_status *
rose_vectors_status(const struct rose_vectors *v)
{
    return &v->status;
}

void
rose_vectors_set_timeout(struct rose_vectors *v, long timeout_ms)
{
    v->q.timeout_ms = timeout_ms > 0 ? timeout_ms : v->q_timeout_ms;
}

enum rose_err
rose_vectors_prepare(struct rose_vectors *v)
{
    status_clear(v);
    return v->backend == ROSE_VECTORS_SQLITE ? sqlite_prepare(v) : qdrant_prepare(v);
}

enum rose_err
rose_vectors_add(struct rose_vectors *v, const struct rose_memory *m, const float *vec)
{
    struct rose_qdrant_result r;
    struct rose_memory copy;
    enum rose_err err;

    status_clear(v);
    if ((err = check_memory(m, &copy)) != ROSE_OK)
        return fail(v, err, "invalid", "the memory has an invalid id, type or text");
    if ((err = normalise(vec, v->dim, v->unit)) != ROSE_OK)
        return fail(v, err, "invalid", "the vector is zero or not finite");
    if (v->backend == ROSE_VECTORS_SQLITE)
        return sqlite_add(v, &copy);
    err = rose_qdrant_upsert(&v->q, &copy, v->unit, v->dim, v->embedder, &r);
    return from_qdrant(v, err, &r, "upsert");
}

/* The common part of search and max_score. */
static enum rose_err
search(struct rose_vectors *v, const char *user_id, const float *vec, int k, float min_score,
       struct rose_memory **out, size_t *n, float *best)
{
    char uid[37];
    enum rose_err err;

    status_clear(v);
    if (copy_uuid(user_id, uid) != ROSE_OK || k < 1 || k > ROSE_VECTOR_K_MAX || isnan(min_score))
        return fail(v, ROSE_ERR_INVALID_FIELD, "invalid", "bad user id, k or min_score");
    if ((err = normalise(vec, v->dim, v->unit)) != ROSE_OK)
        return fail(v, err, "invalid", "the vector is zero or not finite");
    if (v->backend == ROSE_VECTORS_SQLITE)
        return sqlite_search(v, uid, k, min_score, out, n, best);
    return qdrant_search(v, uid, k, min_score, out, n, best);
}

enum rose_err
rose_vectors_search(struct rose_vectors *v, const char *user_id, const float *vec, int k,
                    float min_score, struct rose_memory **out, size_t *n)
{
    return search(v, user_id, vec, k, min_score, out, n, NULL);
}

enum rose_err
rose_vectors_max_score(struct rose_vectors *v, const char *user_id, const float *vec, float *score)
{
    return search(v, user_id, vec, 1, -1, NULL, NULL, score);
}

enum rose_err
rose_vectors_delete(struct rose_vectors *v, const char *user_id, const char *id)
{
    struct rose_qdrant_result r;
    char uid[37], mid[37];
    enum rose_err err;

    status_clear(v);
    if (copy_uuid(user_id, uid) != ROSE_OK || copy_uuid(id, mid) != ROSE_OK)
        return fail(v, ROSE_ERR_INVALID_FIELD, "invalid", "bad user or memory id");
    if (v->backend == ROSE_VECTORS_SQLITE)
        return sqlite_delete(v, uid, mid);
    err = rose_qdrant_delete(&v->q, uid, mid, &r);
    if (err == ROSE_ERR_NOT_FOUND) {
        from_qdrant(v, ROSE_OK, &r, "delete");
        return fail(v, err, "not_found", "no such memory of this user");
    }
    return from_qdrant(v, err, &r, "delete");
}

enum rose_err
rose_vectors_delete_user(struct rose_vectors *v, const char *user_id)
{
    struct rose_qdrant_result r;
    char uid[37];
    enum rose_err err;

    status_clear(v);
    if (copy_uuid(user_id, uid) != ROSE_OK)
        return fail(v, ROSE_ERR_INVALID_FIELD, "invalid", "bad user id");
    if (v->backend == ROSE_VECTORS_SQLITE)
        return sqlite_delete(v, uid, NULL);
    err = rose_qdrant_delete(&v->q, uid, NULL, &r);
    return from_qdrant(v, err, &r, "delete user");
}

enum rose_err
rose_vectors_list(struct rose_vectors *v, const char *user_id, struct rose_memory **out, size_t *n)
{
    struct rose_qdrant_result r;
    struct rose_memory *m = NULL;
    size_t got = 0;
    char uid[37];
    enum rose_err err;

    status_clear(v);
    if (copy_uuid(user_id, uid) != ROSE_OK)
        return fail(v, ROSE_ERR_INVALID_FIELD, "invalid", "bad user id");
    if (v->backend == ROSE_VECTORS_SQLITE)
        return sqlite_list(v, uid, out, n);
    err = rose_qdrant_list(&v->q, uid, &m, &got, &r);
    if ((err = from_qdrant(v, err, &r, "list")) != ROSE_OK)
        return err;
    if (got > 1)
        qsort(m, got, sizeof(*m), by_age);
    *out = m;
    *n = got;
    return ROSE_OK;
}
