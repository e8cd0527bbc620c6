/*
 * turn.h — one conversation turn: a fixed graph of nodes over one state.
 *
 *   router → context_inject → respond → memory_inject → [summarize] → end
 *
 * The graph is data (turn.c: a table of nodes and a table of conditional
 * edges), so adding a node is one line in each.  After each node the state
 * is checkpointed in SQLite; memory_inject commits the transcript, the
 * session counters, its checkpoint and the idempotent answer in one
 * transaction, so a worker killed mid-turn loses nothing already stored
 * and leaves no half turn (store/turns.h).
 *
 * The state (JSON, what the checkpoints hold):
 *   {"messages": [{"role","text"}...],  recent messages (trimmed by summarize)
 *    "summary": "...",                   running summary of older messages
 *    "message": "...",                   this turn's user message
 *    "workflow": "conversation",         the router's choice
 *    "reply": "..."}                     Rose's reply, once respond ran
 */
#ifndef ROSE_TURN_H
#define ROSE_TURN_H

#include <json-c/json.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* Called with each piece of Rose's reply as it is made (streaming). */
typedef enum rose_err (*rose_turn_token_fn)(void *arg, const char *text, size_t len);

struct rose_turn_opts {
    const struct rose_config *cfg;
    struct rose_store *st;
    const char *session_id;
    const char *user_id;
    const char *message;  /* validated UTF-8, non-empty */
    int voice;            /* a voice turn: the router answers "audio" */
    const char *idem_key; /* claimed by the caller, or NULL */
    rose_turn_token_fn on_token; /* NULL: no streaming */
    void *token_arg;
    double started_ms; /* monotonic ms the request began (0: now); the turn's
                          deadline is WORKFLOW_TIMEOUT_SECONDS after it */
};

struct rose_turn_result {
    struct json_object *body; /* the answer: {session_id, text, workflow, engine, timings} */
    int tokens_sent;          /* pieces already handed to on_token */
    long long reply_id;       /* the stored reply's message id (0: none) */
};

/*
 * Run a turn.  On success res->body is a new object (caller puts it).
 * When the LLM fails before any token was sent, Rose answers through the
 * offline companion engine (body "engine": "offline", "fallback": true);
 * when it fails after tokens were streamed, the turn fails with
 * ROSE_ERR_UPSTREAM and nothing of it is stored.  A turn that runs past
 * WORKFLOW_TIMEOUT_SECONDS fails with ROSE_ERR_TIMEOUT (504) and nothing of
 * it is stored.  Logs node timings and
 * provider failures (never text).
 */
enum rose_err rose_turn_run(const struct rose_turn_opts *o, struct rose_turn_result *res);

/* The route label idempotency records use for chat turns. */
#define ROSE_TURN_ROUTE "chat"

#endif
