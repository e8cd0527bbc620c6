/*
 * users.h — anonymous users and their sessions (DESIGN.md §8).
 *
 * A user is named by a random bearer token that is shown once and stored
 * only as its SHA-256.  Sessions belong to a user.  Every lookup that takes
 * a user id refuses another user's rows with ROSE_ERR_NOT_FOUND, the same
 * answer as for a row that does not exist, so ids cannot be probed.
 */
#ifndef ROSE_USERS_H
#define ROSE_USERS_H

#include "core/err.h"
#include "store/store.h"

/* Create a user.  Writes its id (36 chars + NUL) and its new token (43 + NUL). */
enum rose_err rose_user_create(struct rose_store *st, char user_id[37], char token[44]);

/* Find the user a bearer token names; ROSE_ERR_UNAUTHORIZED when none. */
enum rose_err rose_user_by_token(struct rose_store *st, const char *token, char user_id[37]);

struct rose_session {
    char id[37];
    char user_id[37];
    long long created_at;  /* ms since epoch */
    long long last_active; /* ms since epoch */
    long long message_count;
    char *summary; /* caller frees with rose_session_clear() */
};

/* Create a session of user_id; writes its new id. */
enum rose_err rose_session_create(struct rose_store *st, const char *user_id, char session_id[37]);

/*
 * Load a session.  user_id NULL: any owner (the session id itself is the
 * capability); otherwise the session must belong to that user.
 * ROSE_ERR_NOT_FOUND when absent or another user's.
 */
enum rose_err rose_session_get(struct rose_store *st, const char *id, const char *user_id,
                               struct rose_session *out);

/* Free what rose_session_get() allocated; NULL-safe. */
void rose_session_clear(struct rose_session *s);

/* Delete a session of user_id (with everything that cascades from it). */
enum rose_err rose_session_delete(struct rose_store *st, const char *id, const char *user_id);

#endif
