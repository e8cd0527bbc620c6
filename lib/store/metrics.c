/*
 * metrics.c — shared counters and histograms in SQLite (metrics.h).
 *
 * A histogram row keeps per-bucket counts (not cumulative) as a JSON array,
 * so recording one observation is one UPSERT touching one element; the
 * export turns them into Prometheus' cumulative buckets.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/log.h"
#include "store/metrics.h"

/* Upper bounds (seconds) of the latency buckets; +Inf follows. */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

enum kind { COUNTER, HISTOGRAM, GAUGE };

static const struct family {
    const char *name;
    enum kind kind;
    const char *help;
} families[] = {
    {"rose_http_requests_total", COUNTER, "HTTP requests answered, by route and status."},
    {"rose_http_request_duration_seconds", HISTOGRAM, "Time to answer a request, by route."},
    {"rose_provider_calls_total", COUNTER, "Calls to providers, by role, provider and outcome."},
    {"rose_provider_request_duration_seconds", HISTOGRAM, "Time of provider calls, by role."},
    {"rose_provider_retries_total", COUNTER, "Provider calls retried, by role."},
    {"rose_circuit_breaker_transitions_total", COUNTER, "Circuit breaker state changes."},
};

/* Escape a label value: backslash, double quote and newline. */
static void
escape(const char *v, char *out, size_t len)
{
    size_t o = 0;

    for (; *v && o + 3 < len; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

static void
dropped(struct rose_store *st, const char *what)
{
    rose_logf(ROSE_LOG_DEBUG, "metric_dropped", "%s: %s", what,
              sqlite3_errmsg(rose_store_db(st)));
}

static void
counter_add(struct rose_store *st, const char *name, const char *labels, long n)
{
    sqlite3_stmt *s = NULL;

    if (rose_store_prepare(st,
                           "INSERT INTO metric_counters (name, labels, value) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT (name, labels) DO UPDATE SET value = value + ?3",
                           &s) != ROSE_OK)
        return;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, labels, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, n);
    if (sqlite3_step(s) != SQLITE_DONE)
        dropped(st, name);
    sqlite3_finalize(s);
}

static void
observe(struct rose_store *st, const char *name, const char *labels, double v)
{
    sqlite3_stmt *s = NULL;
    char fresh[256];
    size_t i, b, o = 0;

    for (b = 0; b < NBOUNDS && v > bounds[b]; b++)
        ;
    o += (size_t)snprintf(fresh + o, sizeof(fresh) - o, "[");
    for (i = 0; i <= NBOUNDS; i++)
        o += (size_t)snprintf(fresh + o, sizeof(fresh) - o, "%s%d", i ? "," : "", i == b);
    snprintf(fresh + o, sizeof(fresh) - o, "]");
    if (rose_store_prepare(st,
                           "INSERT INTO metric_histograms (name, labels, buckets, sum, count) "
                           "VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (name, labels) DO UPDATE SET "
                           "buckets = json_set(buckets, '$[' || ?5 || ']', "
                           "json_extract(buckets, '$[' || ?5 || ']') + 1), "
                           "sum = sum + ?4, count = count + 1",
                           &s) != ROSE_OK)
        return;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, labels, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, fresh, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 4, v);
    sqlite3_bind_int(s, 5, (int)b);
    if (sqlite3_step(s) != SQLITE_DONE)
        dropped(st, name);
    sqlite3_finalize(s);
}

void
rose_metrics_request(struct rose_store *st, const char *route, int status, double seconds)
{
    char r[192], labels[256];

    if (st == NULL || rose_store_begin(st) != ROSE_OK)
        return;
    escape(route, r, sizeof(r));
    snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%d\"", r, status);
    counter_add(st, "rose_http_requests_total", labels, 1);
    snprintf(labels, sizeof(labels), "route=\"%s\"", r);
    observe(st, "rose_http_request_duration_seconds", labels, seconds);
    if (rose_store_commit(st) != ROSE_OK)
        rose_store_rollback(st);
}

void
rose_metrics_provider(struct rose_store *st, const char *role, const char *provider,
                      const char *outcome, double seconds)
{
    char a[64], b[64], c[64], labels[256];

    if (st == NULL || rose_store_begin(st) != ROSE_OK)
        return;
    escape(role, a, sizeof(a));
    escape(provider, b, sizeof(b));
    escape(outcome, c, sizeof(c));
    snprintf(labels, sizeof(labels), "role=\"%s\",provider=\"%s\",outcome=\"%s\"", a, b, c);
    counter_add(st, "rose_provider_calls_total", labels, 1);
    snprintf(labels, sizeof(labels), "role=\"%s\"", a);
    observe(st, "rose_provider_request_duration_seconds", labels, seconds);
    if (rose_store_commit(st) != ROSE_OK)
        rose_store_rollback(st);
}

void
rose_metrics_add(struct rose_store *st, const char *name, const char *key, const char *value,
                 long n)
{
    char v[128], labels[192];

    if (st == NULL)
        return;
    escape(value, v, sizeof(v));
    snprintf(labels, sizeof(labels), "%s=\"%s\"", key, v);
    counter_add(st, name, labels, n);
}

static enum rose_err
export_family(struct rose_store *st, const struct family *f, struct rose_buf *out)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err = ROSE_OK;
    int rc, first = 1;

    err = rose_store_prepare(st,
                             f->kind == COUNTER
                                 ? "SELECT labels, value FROM metric_counters WHERE name = ?1 "
                                   "ORDER BY labels"
                                 : "SELECT labels, buckets, sum, count FROM metric_histograms "
                                   "WHERE name = ?1 ORDER BY labels",
                             &s);
    if (err != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, f->name, -1, SQLITE_STATIC);
    while (err == ROSE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *labels = (const char *)sqlite3_column_text(s, 0);
        if (first) {
            err = rose_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                                  f->kind == COUNTER ? "counter" : "histogram");
            first = 0;
        }
        if (err != ROSE_OK)
            break;
        if (f->kind == COUNTER) {
            err = rose_buf_printf(out, "%s{%s} %lld\n", f->name, labels,
                                  (long long)sqlite3_column_int64(s, 1));
            continue;
        }
        {
            const char *js = (const char *)sqlite3_column_text(s, 1);
            struct json_object *arr = js ? json_tokener_parse(js) : NULL;
            long long cum = 0;
            size_t i;
            for (i = 0; arr != NULL && i <= NBOUNDS && err == ROSE_OK; i++) {
                cum += json_object_get_int64(json_object_array_get_idx(arr, i));
                if (i < NBOUNDS)
                    err = rose_buf_printf(out, "%s_bucket{%s,le=\"%g\"} %lld\n", f->name, labels,
                                          bounds[i], cum);
                else
                    err = rose_buf_printf(out, "%s_bucket{%s,le=\"+Inf\"} %lld\n", f->name,
                                          labels, cum);
            }
            json_object_put(arr);
            if (err == ROSE_OK)
                err = rose_buf_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %lld\n", f->name,
                                      labels, sqlite3_column_double(s, 2), f->name, labels,
                                      (long long)sqlite3_column_int64(s, 3));
        }
    }
    sqlite3_finalize(s);
    return err;
}

/* A gauge from one SQL value; a table that does not exist yet reads 0. */
static enum rose_err
gauge(struct rose_store *st, struct rose_buf *out, const char *name, const char *help,
      const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = 0;

    if (sqlite3_prepare_v2(rose_store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rose_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name,
                           v);
}

enum rose_err
rose_metrics_export(struct rose_store *st, struct rose_buf *out)
{
    static const char *const services[] = {"llm",          "stt",   "tts",   "embeddings",
                                           "vector_store", "image", "vision"};
    enum rose_err err = ROSE_OK;
    size_t i;

    for (i = 0; i < sizeof(families) / sizeof(families[0]) && err == ROSE_OK; i++)
        err = export_family(st, &families[i], out);
    if (err == ROSE_OK)
        err = rose_buf_puts(out, "# HELP rose_circuit_breaker_state Breaker state by service: "
                                 "0 closed, 1 half-open, 2 open.\n"
                                 "# TYPE rose_circuit_breaker_state gauge\n");
    for (i = 0; i < sizeof(services) / sizeof(services[0]) && err == ROSE_OK; i++) {
        sqlite3_stmt *s = NULL;
        int v = 0;
        if (rose_store_prepare(st, "SELECT state FROM breakers WHERE service = ?1", &s) ==
            ROSE_OK) {
            sqlite3_bind_text(s, 1, services[i], -1, SQLITE_STATIC);
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL) {
                const char *state = (const char *)sqlite3_column_text(s, 0);
                v = strcmp(state, "open") == 0 ? 2 : strcmp(state, "half_open") == 0 ? 1 : 0;
            }
            sqlite3_finalize(s);
        }
        err = rose_buf_printf(out, "rose_circuit_breaker_state{service=\"%s\"} %d\n", services[i],
                              v);
    }
    if (err == ROSE_OK)
        err = gauge(st, out, "rose_sessions_active", "Sessions active in the last 15 minutes.",
                    "SELECT count(*) FROM sessions WHERE last_active > "
                    "(unixepoch('now') - 900) * 1000");
    if (err == ROSE_OK)
        err = gauge(st, out, "rose_sessions", "Sessions stored.", "SELECT count(*) FROM sessions");
    if (err == ROSE_OK)
        err = gauge(st, out, "rose_messages", "Messages stored.", "SELECT count(*) FROM messages");
    if (err == ROSE_OK)
        err = gauge(st, out, "rose_memories", "Long-term memories stored.",
                    "SELECT count(*) FROM memories");
    if (err == ROSE_OK)
        err = gauge(st, out, "rose_audio_files", "Audio files stored.",
                    "SELECT count(*) FROM audio");
    if (err == ROSE_OK)
        err = gauge(st, out, "rose_audio_bytes", "Bytes of audio stored.",
                    "SELECT coalesce(sum(bytes), 0) FROM audio");
    return err;
}
