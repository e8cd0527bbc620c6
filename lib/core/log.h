/*
 * log.h — one JSON object per line: {"ts", "level", "event", request
 * context..., fields...}.
 *
 * During a request the lines go to the FastCGI error stream (the web server
 * writes them to its error log); otherwise to stderr.  Callers pass only ids,
 * sizes, durations and codes: never message text, transcripts, audio or keys.
 */
#ifndef ROSE_LOG_H
#define ROSE_LOG_H

#include <json-c/json.h>

enum rose_log_level { ROSE_LOG_DEBUG, ROSE_LOG_INFO, ROSE_LOG_WARN, ROSE_LOG_ERROR,
                      ROSE_LOG__MAX };

/* Set the lowest level written, by name ("debug".."error"); unknown: info. */
void rose_log_set_level(const char *name);

/* Where lines go: fn(arg, line) with a NUL-terminated line ending in '\n'.
 * NULL restores stderr. */
typedef void (*rose_log_sink_fn)(void *arg, const char *line);
void rose_log_set_sink(rose_log_sink_fn fn, void *arg);

/* Context added to every line until cleared; strings are copied. NULLs clear. */
void rose_log_set_context(const char *request_id, const char *route);
void rose_log_set_session(const char *session_id);

/* Write one line.  fields (may be NULL) is adopted and freed. */
void rose_log(enum rose_log_level level, const char *event, struct json_object *fields);

/* Shorthand: one line with a "detail" string (no user content in it!). */
void rose_logf(enum rose_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
