/*
 * log.c — JSON log lines (see log.h).  Lines are built with json-c so every
 * string is escaped; a line is written with one call so lines from
 * concurrent workers never interleave within a line.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/text.h"

static enum rose_log_level min_level = ROSE_LOG_INFO;
static rose_log_sink_fn sink_fn;
static void *sink_arg;
static char ctx_request_id[40];
static char ctx_route[96];
static char ctx_session[40];

static const char *const level_names[ROSE_LOG__MAX] = {"debug", "info", "warn", "error"};

void
rose_log_set_level(const char *name)
{
    int i;

    min_level = ROSE_LOG_INFO;
    for (i = 0; name != NULL && i < ROSE_LOG__MAX; i++)
        if (strcmp(name, level_names[i]) == 0)
            min_level = (enum rose_log_level)i;
}

void
rose_log_set_sink(rose_log_sink_fn fn, void *arg)
{
    sink_fn = fn;
    sink_arg = arg;
}

void
rose_log_set_context(const char *request_id, const char *route)
{
    snprintf(ctx_request_id, sizeof(ctx_request_id), "%s", request_id ? request_id : "");
    snprintf(ctx_route, sizeof(ctx_route), "%s", route ? route : "");
    if (request_id == NULL)
        ctx_session[0] = '\0';
}

void
rose_log_set_session(const char *session_id)
{
    snprintf(ctx_session, sizeof(ctx_session), "%s", session_id ? session_id : "");
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
    struct json_object *s = json_object_new_string(v);

    if (s != NULL && json_object_object_add(o, k, s) != 0)
        json_object_put(s);
}

/*
 * A line outside any request (start-up, cron).  lighttpd gives FastCGI
 * workers /dev/null as stderr, so when ROSE_LOG_FILE names a file the line
 * is appended there (O_APPEND keeps concurrent lines whole); else stderr.
 */
static void
write_outside(const char *line, size_t n)
{
    const char *path = getenv("ROSE_LOG_FILE");
    int fd = -1;
    ssize_t w;

    if (path != NULL && *path != '\0')
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    w = write(fd >= 0 ? fd : STDERR_FILENO, line, n);
    (void)w;
    if (fd >= 0)
        close(fd);
}

void
rose_log(enum rose_log_level level, const char *event, struct json_object *fields)
{
    struct json_object *line = NULL;
    char ts[32];
    const char *text;

    if (level < min_level || level >= ROSE_LOG__MAX)
        goto out;
    if ((line = json_object_new_object()) == NULL)
        goto out;
    rose_time_iso(rose_now_ms(), ts);
    add_str(line, "ts", ts);
    add_str(line, "level", level_names[level]);
    add_str(line, "event", event);
    if (ctx_request_id[0])
        add_str(line, "request_id", ctx_request_id);
    if (ctx_route[0])
        add_str(line, "route", ctx_route);
    if (ctx_session[0])
        add_str(line, "session_id", ctx_session);
    if (fields != NULL) {
        json_object_object_foreach(fields, k, v) {
            struct json_object *ref = json_object_get(v);
            if (json_object_object_add(line, k, ref) != 0)
                json_object_put(ref);
        }
    }
    text = json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text != NULL) {
        /* One buffer, one write: lines of concurrent workers never mix. */
        size_t n = strlen(text);
        char *buf = malloc(n + 2);
        if (buf != NULL) {
            memcpy(buf, text, n);
            buf[n] = '\n';
            buf[n + 1] = '\0';
            if (sink_fn != NULL)
                sink_fn(sink_arg, buf);
            else
                write_outside(buf, n + 1);
            free(buf);
        }
    }
out:
    json_object_put(line);
    json_object_put(fields);
}

void
rose_logf(enum rose_log_level level, const char *event, const char *fmt, ...)
{
    struct json_object *f;
    char detail[1024];
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    f = json_object_new_object();
    if (f != NULL)
        add_str(f, "detail", detail);
    rose_log(level, event, f);
}
