/*
 * breaker.c — circuit breakers in SQLite (see breaker.h).
 *
 * The transitions are one pure function, next_state(); the rest moves rows
 * in and out of the database around it.
 */
#include <string.h>

#include "core/log.h"
#include "resilience/breaker.h"
#include "store/metrics.h"

static const char *const state_names[ROSE_BREAKER__MAX] = {
    [ROSE_BREAKER_CLOSED] = "closed",
    [ROSE_BREAKER_OPEN] = "open",
    [ROSE_BREAKER_HALF_OPEN] = "half_open",
};

const char *
rose_breaker_state_name(enum rose_breaker_state state)
{
    return (unsigned)state < ROSE_BREAKER__MAX ? state_names[state] : NULL;
}

/* What happened to the service. */
enum event {
    EV_CLAIM, /* a caller wants the half-open probe */
    EV_SUCCESS,
    EV_FAILURE,
};

/*
 * Whether an open breaker, or a half-open one whose probe may have been
 * abandoned, has waited a whole recovery period.  A wall clock stepped back
 * by more than a period also counts, or the breaker would stay open for
 * as long as the step; smaller differences are the normal skew between
 * workers that read the clock before waiting for the write lock.
 */
static int
recovered(const struct rose_breaker_info *b, long long recovery_ms, long long now)
{
    return b->state != ROSE_BREAKER_CLOSED &&
           (now - b->opened_at >= recovery_ms || b->opened_at - now > recovery_ms);
}

/*
 * The breaker after ev at time now.  *next starts as a copy of *cur; the
 * caller compares the two to see what changed.
 */
static void
next_state(const struct rose_breaker_info *cur, enum event ev, long threshold,
           long long recovery_ms, long long now, struct rose_breaker_info *next)
{
    *next = *cur;
    switch (ev) {
    case EV_CLAIM:
        /* The claim time goes in opened_at, so an abandoned probe is
         * reclaimable one recovery period after it was claimed. */
        if (recovered(cur, recovery_ms, now)) {
            next->state = ROSE_BREAKER_HALF_OPEN;
            next->opened_at = now;
        }
        break;
    case EV_SUCCESS:
        if (cur->state != ROSE_BREAKER_OPEN) {
            next->state = ROSE_BREAKER_CLOSED;
            next->failures = 0;
            next->opened_at = 0;
        }
        break;
    case EV_FAILURE:
        next->failures++;
        if ((cur->state == ROSE_BREAKER_CLOSED && next->failures >= threshold) ||
            cur->state == ROSE_BREAKER_HALF_OPEN) {
            next->state = ROSE_BREAKER_OPEN;
            next->opened_at = now;
        }
        break;
    }
}

static enum rose_err
db_fail(struct rose_store *st, int rc, const char *what, const char *service)
{
    rose_logf(ROSE_LOG_ERROR, "db_error", "breaker %s %s: %s (%d)", service, what,
              sqlite3_errmsg(rose_store_db(st)), rc);
    return rose_store_err(rc);
}

/* Read the row of service; no row is a closed breaker that never failed. */
static enum rose_err
load(struct rose_store *st, const char *service, struct rose_breaker_info *out)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    const char *state;
    int rc, i;

    if ((err = rose_store_prepare(st,
                                  "SELECT state, failures, opened_at, updated_at "
                                  "FROM breakers WHERE service = ?1",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, service, -1, SQLITE_STATIC);
    memset(out, 0, sizeof(*out));
    out->state = ROSE_BREAKER_CLOSED;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        state = (const char *)sqlite3_column_text(s, 0);
        for (i = 0; i < ROSE_BREAKER__MAX; i++)
            if (state != NULL && strcmp(state, state_names[i]) == 0)
                break;
        out->state = (enum rose_breaker_state)i;
        out->failures = sqlite3_column_int64(s, 1);
        out->opened_at = sqlite3_column_int64(s, 2); /* NULL reads as 0 */
        out->updated_at = sqlite3_column_int64(s, 3);
        if (i == ROSE_BREAKER__MAX) { /* the CHECK constraint makes this impossible */
            rose_logf(ROSE_LOG_ERROR, "breaker", "%s: unknown state in the database", service);
            err = ROSE_ERR_INTERNAL;
        }
    } else if (rc != SQLITE_DONE) {
        err = db_fail(st, rc, "read", service);
    }
    sqlite3_finalize(s);
    return err;
}

static enum rose_err
save(struct rose_store *st, const char *service, const struct rose_breaker_info *b)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(
             st,
             "INSERT INTO breakers (service, state, failures, opened_at, updated_at) "
             "VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT (service) DO UPDATE SET state = excluded.state, "
             "failures = excluded.failures, opened_at = excluded.opened_at, "
             "updated_at = excluded.updated_at",
             &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, state_names[b->state], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, b->failures);
    if (b->state == ROSE_BREAKER_CLOSED)
        sqlite3_bind_null(s, 4);
    else
        sqlite3_bind_int64(s, 4, b->opened_at);
    sqlite3_bind_int64(s, 5, b->updated_at);
    if ((rc = sqlite3_step(s)) != SQLITE_DONE)
        err = db_fail(st, rc, "write", service);
    sqlite3_finalize(s);
    return err;
}

/* One line per state change, and one when an abandoned probe is reclaimed. */
static void
log_change(const char *service, const struct rose_breaker_info *from,
           const struct rose_breaker_info *to)
{
    struct json_object *f;
    int reclaimed = from->state == ROSE_BREAKER_HALF_OPEN && to->state == ROSE_BREAKER_HALF_OPEN &&
                    from->opened_at != to->opened_at;

    if (from->state == to->state && !reclaimed)
        return;
    if ((f = json_object_new_object()) != NULL) {
        json_object_object_add(f, "service", json_object_new_string(service));
        json_object_object_add(f, "from", json_object_new_string(state_names[from->state]));
        json_object_object_add(f, "to", json_object_new_string(state_names[to->state]));
        json_object_object_add(f, "failures", json_object_new_int64(to->failures));
        if (reclaimed)
            json_object_object_add(f, "detail", json_object_new_string("probe abandoned"));
    }
    rose_log(to->state == ROSE_BREAKER_CLOSED ? ROSE_LOG_INFO : ROSE_LOG_WARN, "breaker", f);
}

/*
 * Apply ev to service in one BEGIN IMMEDIATE transaction: the write lock is
 * taken before the row is read, so the decision cannot race another
 * process.  A state change is also counted for /metrics.  *claimed (may be NULL) is set to whether
 * ev was a claim that won the probe.  Logs after the commit, so a change is logged only if it
 * happened.
 */
static enum rose_err
apply(struct rose_store *st, const char *service, enum event ev, long threshold,
      long long recovery_ms, long long now, int *claimed)
{
    struct rose_breaker_info cur, next;
    enum rose_err err;
    int changed = 0;

    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if ((err = load(st, service, &cur)) != ROSE_OK)
        goto out;
    next_state(&cur, ev, threshold, recovery_ms, now, &next);
    changed =
        next.state != cur.state || next.failures != cur.failures || next.opened_at != cur.opened_at;
    if (changed) {
        next.updated_at = now;
        if ((err = save(st, service, &next)) != ROSE_OK)
            goto out;
        /* In this transaction, so the count and the change commit together. */
        if (next.state != cur.state)
            rose_metrics_add(st, "rose_circuit_breaker_transitions_total", "service", service, 1);
    }
    err = rose_store_commit(st);
out:
    if (err != ROSE_OK) {
        rose_store_rollback(st);
        return err;
    }
    if (claimed != NULL)
        *claimed = ev == EV_CLAIM && changed; /* a claim changes the row iff it wins */
    if (changed)
        log_change(service, &cur, &next);
    return ROSE_OK;
}

enum rose_err
rose_breaker_allow(struct rose_store *st, const char *service, long recovery_s, long long now_ms,
                   int *is_probe)
{
    struct rose_breaker_info b;
    long long recovery_ms = (long long)recovery_s * 1000;
    enum rose_err err;
    int claimed = 0;

    /* Read first: closed and still-waiting breakers, the common cases,
     * never touch the write lock. */
    if ((err = load(st, service, &b)) != ROSE_OK)
        return err;
    if (b.state == ROSE_BREAKER_CLOSED) {
        *is_probe = 0;
        return ROSE_OK;
    }
    if (!recovered(&b, recovery_ms, now_ms))
        return ROSE_ERR_UNAVAILABLE;
    /* Probably due; apply() decides again under the lock. */
    if ((err = apply(st, service, EV_CLAIM, 0, recovery_ms, now_ms, &claimed)) != ROSE_OK)
        return err;
    if (!claimed)
        return ROSE_ERR_UNAVAILABLE;
    *is_probe = 1;
    return ROSE_OK;
}

enum rose_err
rose_breaker_success(struct rose_store *st, const char *service, long long now_ms)
{
    struct rose_breaker_info b;
    enum rose_err err;

    if ((err = load(st, service, &b)) != ROSE_OK)
        return err;
    if ((b.state == ROSE_BREAKER_CLOSED && b.failures == 0) || b.state == ROSE_BREAKER_OPEN)
        return ROSE_OK; /* nothing would change */
    return apply(st, service, EV_SUCCESS, 0, 0, now_ms, NULL);
}

enum rose_err
rose_breaker_failure(struct rose_store *st, const char *service, long threshold, long long now_ms)
{
    return apply(st, service, EV_FAILURE, threshold, 0, now_ms, NULL);
}

enum rose_err
rose_breaker_get(struct rose_store *st, const char *service, struct rose_breaker_info *out)
{
    struct rose_breaker_info b;
    enum rose_err err;

    if ((err = load(st, service, &b)) == ROSE_OK)
        *out = b;
    return err;
}
