/*
 * turns.h — what a conversation turn stores: the transcript (messages),
 * the checkpoints of the turn graph, and idempotency records.
 *
 * Invariants:
 *   - rose_turn_commit() writes both messages of a turn, the session's
 *     counters, the checkpoint and the idempotency answer in ONE transaction:
 *     a killed worker leaves either the whole turn or none of it.
 *   - The state a new turn starts from is the latest checkpoint written by a
 *     node that completes a turn (memory_inject or summarize); checkpoints of
 *     a turn that died midway are kept for inspection but never resumed.
 */
#ifndef ROSE_TURNS_H
#define ROSE_TURNS_H

#include <json-c/json.h>

#include "core/err.h"
#include "store/store.h"

/* Save a checkpoint of state (serialized here) after node; writes its new
 * id into checkpoint_id.  parent may be NULL. */
enum rose_err rose_checkpoint_save(struct rose_store *st, const char *thread_id,
                                   const char *parent, const char *node,
                                   struct json_object *state, struct json_object *metadata,
                                   char checkpoint_id[37]);

/* The state of the latest completed turn of thread_id: *state is a new
 * object (caller puts it) or NULL when the thread has none; checkpoint_id
 * gets its id ("" when none). */
enum rose_err rose_checkpoint_latest(struct rose_store *st, const char *thread_id,
                                     struct json_object **state, char checkpoint_id[37]);

struct rose_turn_record {
    const char *session_id;
    const char *user_text;
    const char *reply_text;
    const char *parent_checkpoint; /* may be NULL */
    const char *node;              /* the node that commits ("memory_inject") */
    struct json_object *state;     /* state after the turn */
    struct json_object *metadata;
    const char *idem_key;          /* NULL: none */
    const char *idem_route;
    struct json_object *idem_body; /* the answer to replay */
    long long *reply_id;           /* out, may be NULL: the assistant message's id */
};

/* Commit a finished turn atomically (see the invariants); writes the
 * checkpoint id. */
enum rose_err rose_turn_commit(struct rose_store *st, const struct rose_turn_record *r,
                               char checkpoint_id[37]);

/* Replace the running summary of a session (after summarize). */
enum rose_err rose_session_set_summary(struct rose_store *st, const char *session_id,
                                       const char *summary);

/*
 * Claim an idempotency key for a turn before running it.
 *   ROSE_OK:        claimed; run the turn.
 *   ROSE_ERR_CONFLICT: the same key is being processed right now.
 * When the key already has an answer, *replay is set to a new object
 * {status, body} (caller puts it) and ROSE_OK is returned.  A claim older
 * than stale_ms (a worker that died) may be taken over.
 */
enum rose_err rose_idem_claim(struct rose_store *st, const char *session_id, const char *key,
                              const char *route, long long stale_ms,
                              struct json_object **replay);

/* Replace the stored answer of a finished turn by its final form (with the
 * whole turn's timings); best effort — until then the answer stored with
 * the turn is replayed. */
void rose_idem_finish(struct rose_store *st, const char *session_id, const char *key,
                      struct json_object *body);

/* Give up a claim whose turn failed, so a retry can run it. */
void rose_idem_release(struct rose_store *st, const char *session_id, const char *key);

/* The transcript of a session, oldest first, at most limit messages (the
 * newest): a new array of {role, text, created_at, audio_url?, audio_urls?}.
 * audio_urls are a reply's spoken pieces still kept (rose_audio_link()), in
 * order; audio_url is the first. */
enum rose_err rose_messages_list(struct rose_store *st, const char *session_id, int limit,
                                 struct json_object **out);

/* The person's name, if Rose learned it (may be NULL); set it. */
enum rose_err rose_user_name(struct rose_store *st, const char *user_id, char **name);
enum rose_err rose_user_set_name(struct rose_store *st, const char *user_id, const char *name);

#endif
