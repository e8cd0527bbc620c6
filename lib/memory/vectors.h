/*
 * vectors.h — the long-term memories of each user, with their embedding
 * vectors, and exact top-K cosine search over ONE user's memories at a time.
 *
 * One handle, two backends (DESIGN.md §7):
 *
 *   sqlite  the memories table (schema migration 5) beside everything else;
 *           vectors are float32 BLOBs scanned in a tight loop with a bounded
 *           heap.  The handle keeps the last searched user's vectors in
 *           memory, checked against users.memory_version (bumped by triggers
 *           on every change) before each use, so a repeated search costs one
 *           indexed read plus the arithmetic.
 *   qdrant  a Qdrant collection over its REST API (memory/qdrant.h); the
 *           memories live there entirely (payload: text, user_id, session_id,
 *           memory_type, created_at, embedder).
 *
 * Isolation: every search, list and delete names the user and only ever
 * touches that user's memories; there is no call without a user_id.
 *
 * Embedder change: each memory records the embedder that made its vector
 * ("<provider>:<model>:<dim>", e.g. "local:rose-embed-v1:100") and its dim.
 * A handle is opened for one embedder and never compares its vectors with
 * another's.  SQLite re-embeds a user's stale rows on that user's next search
 * through opts.embed, or refuses (ROSE_ERR_CONFLICT) without it.  Qdrant
 * refuses in rose_vectors_prepare() (ROSE_ERR_CONFIG) when the collection
 * has another vector size or holds points of another embedder, and filters
 * every search on the embedder as well.
 *
 * Errors: ROSE_OK; ROSE_ERR_INVALID_FIELD (an id that is not a UUID, a
 * type out of range, text empty, too long or not UTF-8, a vector that is zero
 * or not finite); ROSE_ERR_NOT_FOUND (delete: no such memory of that user);
 * ROSE_ERR_CONFLICT (add: the id exists; search: stale vectors and no embed
 * callback); ROSE_ERR_CONFIG (prepare: a schema or collection that does not
 * fit); ROSE_ERR_DB, ROSE_ERR_DB_UNAVAILABLE (SQLite); for Qdrant the
 * provider errors of llm.h (ROSE_ERR_UNAVAILABLE, _RATE_LIMITED, _TIMEOUT,
 * _UPSTREAM, _PARSE, _TOO_LARGE); ROSE_ERR_NOMEM; or the embed callback's.
 * After every call, rose_vectors_status() says what happened in words fit
 * for a log (never memory text) and, for Qdrant, what the server answered,
 * so the caller's resilient-call attempt can fill struct rose_attempt.
 *
 * The functions do not log.  A handle is used by one thread at a time.
 */
#ifndef ROSE_VECTORS_H
#define ROSE_VECTORS_H

#include <stddef.h>

#include "core/err.h"
#include "core/limits.h"
#include "memory/qdrant.h"
#include "store/store.h"

/* What a memory is about; stored by name (rose_memory_type_name). */
enum rose_memory_type {
    ROSE_MEMORY_FACT,
    ROSE_MEMORY_PREFERENCE,
    ROSE_MEMORY_EMOTION,
    ROSE_MEMORY_LOSS,
    ROSE_MEMORY_GOAL,
    ROSE_MEMORY_RELATIONSHIP,
    ROSE_MEMORY_NAME,
    ROSE_MEMORY_OTHER,
    ROSE_MEMORY__MAX
};

/* "fact", "preference", ...; NULL past the end. */
const char *rose_memory_type_name(enum rose_memory_type t);

/* The type named name (exact, lower case); ROSE_ERR_INVALID_FIELD if none. */
enum rose_err rose_memory_type_parse(const char *name, enum rose_memory_type *out);

struct rose_memory {
    char id[37];         /* lower-case UUID, made by the server */
    char user_id[37];    /* the owner */
    char session_id[37]; /* where it was said; "" when none or gone */
    char *text;          /* UTF-8, 1..ROSE_MEMORY_TEXT_MAX bytes */
    enum rose_memory_type type;
    long long created_at; /* ms since the epoch */
    float score;          /* search: cosine to the query, -1..1; else 0 */
};

/* Free n memories returned by search or list, and the array.  NULL-safe. */
void rose_memories_free(struct rose_memory *m, size_t n);

enum rose_vectors_backend { ROSE_VECTORS_SQLITE, ROSE_VECTORS_QDRANT, ROSE_VECTORS__MAX };

/* "sqlite", "qdrant"; NULL past the end. */
const char *rose_vectors_backend_name(enum rose_vectors_backend b);

/*
 * Embed texts[0..n) with the handle's embedder: write n vectors of opts.dim
 * floats to out (n * dim floats; they need not be normalised).  Returns
 * ROSE_OK or the error the search then returns.
 */
typedef enum rose_err (*rose_embed_fn)(void *arg, const char *const *texts, size_t n, float *out);

struct rose_vectors_opts {
    enum rose_vectors_backend backend;
    const char *embedder; /* id of what makes the vectors: 1..127 printable ASCII
                             bytes, e.g. "openai:text-embedding-3-small:1536" */
    int dim;              /* its vector size, 1..ROSE_VECTOR_DIM_MAX */
    rose_embed_fn embed;  /* SQLite: re-embeds stale rows; NULL: refuse them */
    void *embed_arg;
    struct rose_store *st;          /* SQLite: the open store; must outlive the handle */
    struct rose_qdrant_opts qdrant; /* Qdrant: server, key, timeouts (strings are
                                       copied) */
};

/* What the last call on a handle did, for logs and the retry loop. */
struct rose_vectors_status {
    int http_status;      /* Qdrant's status, 0 if no response (or SQLite) */
    double retry_after_s; /* Qdrant's Retry-After on a 429/503, else -1 */
    char error_type[64];  /* Qdrant's error kind ("Wrong_input", "Not_found"...),
                             else a word of ours ("stale_vectors"...); "" on success */
    char message[256];    /* plain words for an operator; never memory text */
};

struct rose_vectors;

/*
 * Make a handle; talks to nothing (call rose_vectors_prepare() before the
 * first use, e.g. at start and in health checks).  The options are checked
 * and copied.  *out is set on success; close it with rose_vectors_close().
 * ROSE_ERR_CONFIG with unusable options, ROSE_ERR_NOMEM.
 */
enum rose_err rose_vectors_open(const struct rose_vectors_opts *o, struct rose_vectors **out);

/* Free the handle; NULL-safe. */
void rose_vectors_close(struct rose_vectors *v);

/* The outcome of the last call on v; valid until the next call. */
const struct rose_vectors_status *rose_vectors_status(const struct rose_vectors *v);

/* Qdrant: cut the total time of the next calls to timeout_ms (> 0), e.g. to
 * the time a retry attempt has left; 0 restores opts.qdrant.timeout_ms. */
void rose_vectors_set_timeout(struct rose_vectors *v, long timeout_ms);

/*
 * Make the backend ready and check it fits the handle.  SQLite: the
 * memories table and users.memory_version exist.  Qdrant: create the
 * collection (cosine, opts.dim) and its user_id and embedder payload indexes
 * if missing; refuse (ROSE_ERR_CONFIG, the reason in the status message) a
 * collection with another vector size or distance, or holding points of
 * another embedder.  Safe to call from many workers at once.
 */
enum rose_err rose_vectors_prepare(struct rose_vectors *v);

/*
 * Store memory m (id a fresh UUID, user_id, session_id "" or a session of that
 * user, text, type, created_at) with vec (opts.dim floats, any non-zero
 * length: it is stored L2-normalised).  SQLite keeps session_id only if that
 * session exists and belongs to the user.  ROSE_ERR_NOT_FOUND if the user
 * does not exist (SQLite); ROSE_ERR_CONFLICT if the id does (SQLite; Qdrant
 * overwrites, which is why ids must be new).
 */
enum rose_err rose_vectors_add(struct rose_vectors *v, const struct rose_memory *m,
                               const float *vec);

/*
 * The at most k (1..ROSE_VECTOR_K_MAX) memories of user_id most similar to
 * vec (opts.dim floats, non-zero), whose cosine is >= min_score, best
 * first (ties by id).  *out (free with rose_memories_free) and *n are set on
 * success; *n may be 0.  SQLite first re-embeds the user's memories made by
 * another embedder (see the top), or fails with ROSE_ERR_CONFLICT; since
 * re-embedding writes, do not call it inside a transaction of your own.
 */
enum rose_err rose_vectors_search(struct rose_vectors *v, const char *user_id, const float *vec,
                                  int k, float min_score, struct rose_memory **out, size_t *n);

/*
 * The highest cosine between vec and the memories of user_id, for the
 * near-duplicate check; -1 when the user has none (so it is below any
 * threshold).  Same rules as rose_vectors_search().
 */
enum rose_err rose_vectors_max_score(struct rose_vectors *v, const char *user_id, const float *vec,
                                     float *score);

/* Delete memory id of user_id; ROSE_ERR_NOT_FOUND if user_id has no such
 * memory (another user's id is not found either). */
enum rose_err rose_vectors_delete(struct rose_vectors *v, const char *user_id, const char *id);

/* Delete every memory of user_id (none is not an error).  SQLite also does
 * this by itself when the user row is deleted (ON DELETE CASCADE); Qdrant
 * needs this call. */
enum rose_err rose_vectors_delete_user(struct rose_vectors *v, const char *user_id);

/*
 * All memories of user_id, oldest first (ties by id), whatever embedder
 * made them; score is 0.  *out (free with rose_memories_free) and *n on
 * success.  ROSE_ERR_TOO_LARGE past ROSE_MEMORY_LIST_MAX.
 */
enum rose_err rose_vectors_list(struct rose_vectors *v, const char *user_id,
                                struct rose_memory **out, size_t *n);

#endif
