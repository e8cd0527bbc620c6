/*
 * qdrant.h — the parts of Qdrant's REST API that hold long-term memories:
 * one collection (long_term_memory, cosine), one point per memory with its
 * id (the memory's UUID), vector and payload {text, user_id, session_id,
 * memory_type, created_at, embedder}.  Over the libcurl easy interface.
 *
 * Every search, list, count and delete of a user's memories carries the
 * filter {"must": [{"key": "user_id", "match": {"value": ...}}, ...]}: there
 * is no function here that reads or deletes points without naming the user,
 * except counting points of other embedders in the whole collection (a
 * number, no content).
 *
 * Like providers/llm.h: options in a struct, one attempt per call, never
 * logs; retries and the breaker belong to the caller, which decides from the
 * error and the result:
 *
 *   ROSE_OK
 *   ROSE_ERR_UNAVAILABLE  no connection, or HTTP 5xx               retryable
 *   ROSE_ERR_RATE_LIMITED HTTP 429; res->retry_after_s if given    retryable
 *   ROSE_ERR_TIMEOUT      connect or total timeout passed          retryable
 *   ROSE_ERR_NOT_FOUND    rose_qdrant_collection_get(): no such collection;
 *                         rose_qdrant_delete() with an id: no such point of
 *                         that user
 *   ROSE_ERR_CONFLICT     rose_qdrant_collection_create(): it exists already
 *   ROSE_ERR_UPSTREAM     any other HTTP status: 400 a wrong vector size,
 *                         401/403 the api-key, 404 a missing collection...;
 *                         or a point of another user in an answer
 *   ROSE_ERR_PARSE        a 2xx body that is not the JSON Qdrant documents
 *   ROSE_ERR_TOO_LARGE    the response passed opts.max_response_bytes, or a
 *                         list passed ROSE_MEMORY_LIST_MAX
 *   ROSE_ERR_CONFIG       the options are unusable
 *   ROSE_ERR_INVALID_FIELD an argument breaks the contract (ids not UUIDs...)
 *   ROSE_ERR_NOMEM
 *
 * On every return res->http_status, ->retry_after_s and ->error_type say
 * what the server answered.  libcurl must be initialised once per process
 * (curl_global_init) before the first call if the program has threads.
 */
#ifndef ROSE_QDRANT_H
#define ROSE_QDRANT_H

#include <stddef.h>

#include "core/err.h"

/* The collection of DESIGN.md §7, unless opts.collection names another. */
#define ROSE_QDRANT_COLLECTION "long_term_memory"

struct rose_memory; /* memory/vectors.h */

struct rose_qdrant_opts {
    const char *url;           /* QDRANT_URL, e.g. "http://127.0.0.1:6333"; http or https */
    const char *api_key;       /* QDRANT_API_KEY, sent as "api-key: <key>"; NULL or ""
                                  sends none */
    const char *collection;    /* NULL: ROSE_QDRANT_COLLECTION; else 1..64 of
                                  [A-Za-z0-9_-] */
    long connect_timeout_ms;   /* > 0 */
    long timeout_ms;           /* > 0: the whole call */
    size_t max_response_bytes; /* > 0: cap on each response body */
};

struct rose_qdrant_result {
    int http_status;      /* the server's status, 0 if no response */
    double retry_after_s; /* Retry-After on a 429 or 503, else -1 */
    char error_type[64];  /* the kind of status.error, the words before its first
                             ':' ("Wrong input" → "Wrong_input", "Not found"...),
                             any byte outside [A-Za-z0-9_.-] made '_'; "" if none.
                             The rest of the message may quote data: never kept. */
};

/*
 * GET the collection: its vector size and distance ("Cosine", "Dot"...; at
 * most 15 bytes).  ROSE_ERR_NOT_FOUND when it does not exist; ROSE_ERR_PARSE
 * when it has named vectors (we use the one unnamed vector).
 */
enum rose_err rose_qdrant_collection_get(const struct rose_qdrant_opts *o, int *size,
                                         char distance[16], struct rose_qdrant_result *res);

/* PUT the collection with vectors {size: dim, distance: Cosine};
 * ROSE_ERR_CONFLICT when it exists already (another worker won the race). */
enum rose_err rose_qdrant_collection_create(const struct rose_qdrant_opts *o, int dim,
                                            struct rose_qdrant_result *res);

/* PUT a keyword payload index on field ("user_id", "embedder"); creating one
 * that exists is not an error. */
enum rose_err rose_qdrant_index_create(const struct rose_qdrant_opts *o, const char *field,
                                       struct rose_qdrant_result *res);

/*
 * Upsert (wait=true) memory m as a point: id, vec[0..dim) as given (the
 * caller normalised it), payload text, user_id, session_id (null when ""),
 * memory_type, created_at, embedder.
 */
enum rose_err rose_qdrant_upsert(const struct rose_qdrant_opts *o, const struct rose_memory *m,
                                 const float *vec, int dim, const char *embedder,
                                 struct rose_qdrant_result *res);

/*
 * Search the points of user_id made by embedder for the k nearest to
 * vec[0..dim) with score >= min_score.  *out (free with rose_memories_free)
 * and *n on success, best first as Qdrant ranks them.
 */
enum rose_err rose_qdrant_search(const struct rose_qdrant_opts *o, const char *user_id,
                                 const char *embedder, const float *vec, int dim, int k,
                                 float min_score, struct rose_memory **out, size_t *n,
                                 struct rose_qdrant_result *res);

/* Every point of user_id (scrolled page by page), in Qdrant's order (by id).
 * *out (free with rose_memories_free) and *n on success. */
enum rose_err rose_qdrant_list(const struct rose_qdrant_opts *o, const char *user_id,
                               struct rose_memory **out, size_t *n, struct rose_qdrant_result *res);

/*
 * Delete (wait=true) point id of user_id, or, with id NULL, every point of
 * user_id.  With an id, the point is counted first (same filter) so that
 * ROSE_ERR_NOT_FOUND can be told apart: Qdrant's delete does not say.
 */
enum rose_err rose_qdrant_delete(const struct rose_qdrant_opts *o, const char *user_id,
                                 const char *id, struct rose_qdrant_result *res);

/* Count (exact) the points of the whole collection NOT made by embedder. */
enum rose_err rose_qdrant_count_other_embedders(const struct rose_qdrant_opts *o,
                                                const char *embedder, long long *count,
                                                struct rose_qdrant_result *res);

#endif
