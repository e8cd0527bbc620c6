/*
 * breaker.h — a circuit breaker per provider service, shared by every
 * worker process through the breakers table (DESIGN.md §7,
 * docs/internals/resilience.md).
 *
 *   closed ──threshold consecutive failures──▶ open
 *   open ──recovery period passed, one caller claims the probe──▶ half_open
 *   half_open ──probe succeeds──▶ closed
 *   half_open ──probe fails──▶ open (with a fresh opened_at)
 *   half_open ──probe never reported for a recovery period──▶ half_open,
 *                                         claimed by the next caller
 *
 * Every change is one BEGIN IMMEDIATE transaction that reads the row,
 * decides and writes; the database write lock is held from before the read,
 * so two processes can never both claim the probe.  No transaction is open
 * when a function returns, so none is held across the provider call.
 * Callers pass the time (ms since the epoch) so tests control it.
 * A service that has never reported has no row and is closed.
 *
 * Each state change is logged once, by the process that made it (event
 * "breaker": service, from, to, failures), and counted in the same
 * transaction in rose_circuit_breaker_transitions_total{service} (metrics.h).
 */
#ifndef ROSE_BREAKER_H
#define ROSE_BREAKER_H

#include "core/err.h"
#include "store/store.h"

enum rose_breaker_state {
    ROSE_BREAKER_CLOSED,
    ROSE_BREAKER_OPEN,
    ROSE_BREAKER_HALF_OPEN,
    ROSE_BREAKER__MAX
};

/* "closed", "open", "half_open" (the values of breakers.state); NULL past the end. */
const char *rose_breaker_state_name(enum rose_breaker_state state);

struct rose_breaker_info {
    enum rose_breaker_state state;
    long long failures;   /* consecutive failures since the last success */
    long long opened_at;  /* ms; when the current wait began: the opening,
                           * or the probe's claim while half_open; 0 if closed */
    long long updated_at; /* ms; last change, 0 if the service never reported */
};

/*
 * May a call to service go ahead now?  recovery_s: CIRCUIT_BREAKER_RECOVERY_TIMEOUT.
 * ROSE_OK: go ahead; *is_probe is 1 if this caller has just claimed the one
 * half-open probe (it must report the outcome with rose_breaker_success()
 * or _failure()), 0 when the breaker is simply closed.
 * ROSE_ERR_UNAVAILABLE: the breaker is open and the recovery period has not
 * passed, or another caller holds the probe — do not call the provider and
 * do not report anything.
 * Database errors are returned as they are (logged); the caller decides —
 * Rose lets the call through, since losing the breaker must not take the
 * service down.  A closed or waiting breaker costs one read, no write lock.
 */
enum rose_err rose_breaker_allow(struct rose_store *st, const char *service, long recovery_s,
                                 long long now_ms, int *is_probe);

/*
 * Report a call that succeeded (the provider answered; see resilience.md
 * for which answers count).  Closed: the failure count returns to 0.
 * Half-open: closes.  Open: nothing — the call was let through before the
 * breaker opened, and the failures that opened it are newer evidence.
 * Costs one read and no write lock when there is nothing to change.
 * Database errors are logged and returned.
 */
enum rose_err rose_breaker_success(struct rose_store *st, const char *service, long long now_ms);

/*
 * Report a call that failed.  threshold: CIRCUIT_BREAKER_FAILURE_THRESHOLD
 * (>= 1).  Closed: counts; the threshold-th consecutive failure opens the
 * breaker at now_ms.  Half-open: the probe failed, re-open at now_ms.
 * Open: counted only; the wait is not extended.
 * Database errors are logged and returned.
 */
enum rose_err rose_breaker_failure(struct rose_store *st, const char *service, long threshold,
                                   long long now_ms);

/*
 * The stored state of service, for /health and /metrics (an open breaker
 * whose recovery period has passed still reads as open until a caller
 * claims the probe).  *out is set only on success.
 */
enum rose_err rose_breaker_get(struct rose_store *st, const char *service,
                               struct rose_breaker_info *out);

#endif
