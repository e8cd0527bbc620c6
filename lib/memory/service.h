/*
 * service.h — long-term memory as the pipeline and the endpoints use it:
 * the configured embedder (local model, or an OpenAI-compatible
 * /embeddings provider) + the configured vector store (SQLite or Qdrant),
 * opened once per worker process.
 *
 * Every call takes the user id and touches only that user's memories.
 */
#ifndef ROSE_MEMORY_SERVICE_H
#define ROSE_MEMORY_SERVICE_H

#include "core/config.h"
#include "core/err.h"
#include "memory/vectors.h"
#include "store/store.h"

struct rose_memsvc;

/* LONG_TERM_MEMORY=on? */
int rose_memory_enabled(const struct rose_config *cfg);

/* The process's memory service, opened on first use; NULL-safe to call
 * again after a failure (it retries).  Logs why it cannot open. */
enum rose_err rose_memsvc_get(const struct rose_config *cfg, struct rose_store *st,
                              struct rose_memsvc **out);

/* The top k memories of user_id most related to text (score >= a floor);
 * *out (rose_memories_free) and *n. */
enum rose_err rose_memsvc_recall(struct rose_memsvc *m, const char *user_id, const char *text,
                                 int k, struct rose_memory **out, size_t *n);

/* Keep text as a memory of user_id unless a near-duplicate exists: cosine
 * >= MEMORY_DUPLICATE_THRESHOLD and no content word the older memory lacks;
 * *stored says which. */
enum rose_err rose_memsvc_remember(struct rose_memsvc *m, const char *user_id,
                                   const char *session_id, const char *text,
                                   enum rose_memory_type type, int *stored);

/* The underlying store, for list/delete. */
struct rose_vectors *rose_memsvc_vectors(struct rose_memsvc *m);

/*
 * memory_extract (DESIGN.md §5): decide whether message holds something
 * worth keeping (the small LLM's JSON, or the offline rules) and remember
 * it.  Meant to run after the reply was sent, so it never delays it.
 * Logs the outcome (kept / duplicate / not important / malformed model
 * answer), never the text.
 */
void rose_memory_extract_run(const struct rose_config *cfg, struct rose_store *st,
                             const char *user_id, const char *session_id, const char *message);

/* A memory_extract job to run after the reply (see rose_req_defer): the
 * strings are copied; NULL when out of memory (then nothing is extracted). */
void *rose_memory_extract_job(const struct rose_config *cfg, struct rose_store *st,
                              const char *user_id, const char *session_id, const char *message);

/* Run a job made by rose_memory_extract_job() and free it. */
void rose_memory_extract_job_run(void *job);

#endif
