/*
 * metrics.h — counters and latency histograms shared by every worker
 * (SQLite), exported in the Prometheus text format.
 *
 * Recording never fails a request: a metric that cannot be written is
 * dropped (logged at debug).  Label values come from route tables, role
 * names and status codes, never from user input; they are escaped anyway.
 */
#ifndef ROSE_METRICS_H
#define ROSE_METRICS_H

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/* One answered request: rose_http_requests_total{route,status} and
 * rose_http_request_duration_seconds{route}. */
void rose_metrics_request(struct rose_store *st, const char *route, int status, double seconds);

/* One provider call: rose_provider_calls_total{role,provider,outcome},
 * rose_provider_request_duration_seconds{role}; outcome "ok" or an error
 * class ("timeout", "rate_limited", "unavailable", "upstream_error", ...). */
void rose_metrics_provider(struct rose_store *st, const char *role, const char *provider,
                           const char *outcome, double seconds);

/* Add n to counter name{key="value"} (e.g. retries by role). */
void rose_metrics_add(struct rose_store *st, const char *name, const char *key,
                      const char *value, long n);

/* The whole exposition, appended to out (gauges are read live: breaker
 * states, active sessions, audio files and bytes). */
enum rose_err rose_metrics_export(struct rose_store *st, struct rose_buf *out);

#endif
