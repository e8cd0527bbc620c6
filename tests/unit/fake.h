/*
 * fake.h — run one of the Python fakes in tests/fakes/ from a unit test and
 * talk to it: the launcher, control calls and request-log helpers that
 * test_llm, test_speech_providers, test_embeddings_provider and test_qdrant
 * share.  Header-only, like t.h: every function is static inline (no warning
 * for those a test leaves unused).  The test links libcurl, json-c and
 * lib/core/buf.c.
 *
 *     static struct fake fake;    (all zero: no fake yet)
 *     int main(void)
 *     {
 *         if (fake_begin(&fake, "fake LLM", "tests/fakes/fake_llm.py", "--key", KEY,
 *                        (char *)NULL)) {
 *             fake_script(&fake, "[{\"status\": 429}]");
 *             ... call the client with fake.url and FAKE_TIMEOUT_MS ...
 *             req = fake_last_request(&fake);
 *         }
 *         fake_end(&fake);
 *         return t_done();
 *     }
 */
#ifndef ROSE_FAKE_H
#define ROSE_FAKE_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "t.h"

#define FAKE_ARGS_MAX 16 /* arguments after the script path, beyond --port/--port-file */

/* The timeouts a client under test gets against a fake: on loopback a fake
 * connects at once and answers in milliseconds, so these are far above any
 * honest answer even under valgrind, yet a hung fake fails its case in
 * seconds.  A case about timeouts sets its own. */
#define FAKE_CONNECT_TIMEOUT_MS 2000
#define FAKE_TIMEOUT_MS 5000

struct fake {
    pid_t pid;          /* the python3 process, 0 when there is none */
    int port;           /* where it listens, 0 until it does */
    char url[32];       /* "http://127.0.0.1:PORT", no trailing '/' */
    const char *header; /* one "Name: value" line fake_call sends (Qdrant's api-key), or NULL */
    char dir[32];       /* private temporary directory holding the port file */
    char port_file[48];
};

/*
 * Start `python3 script --port 0 --port-file FILE arg...` (the args in ap
 * end with (char *)NULL, at most FAKE_ARGS_MAX) and wait up to 5 s for it to
 * write the port it bound.  The script path is relative to the cwd, so tests
 * run from the repository root.  The fake gets SIGTERM if this test dies (a
 * sanitizer abort).  Returns 1 once it listens, with f->pid, f->port and
 * f->url set; 0 otherwise.  Either way call fake_stop() at the end.  f starts
 * all zero.  Tests call it through fake_begin().
 */
static inline int
fake_vstart(struct fake *f, const char *script, va_list ap)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    char *argv[FAKE_ARGS_MAX + 7];
    char *arg;
    FILE *pf;
    int n = 0, i;

    argv[n++] = "python3";
    argv[n++] = (char *)script;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = f->port_file; /* filled in below */
    while ((arg = va_arg(ap, char *)) != NULL && n < FAKE_ARGS_MAX + 6)
        argv[n++] = arg;
    argv[n] = NULL;
    if (arg != NULL) /* too many */
        return 0;

    snprintf(f->dir, sizeof(f->dir), "/tmp/rose-fake-XXXXXX");
    if (access(script, R_OK) != 0 || mkdtemp(f->dir) == NULL) {
        f->dir[0] = '\0';
        return 0;
    }
    snprintf(f->port_file, sizeof(f->port_file), "%s/port", f->dir);

    fflush(stdout); /* or the child would inherit, and maybe repeat, unwritten TAP lines */
    if ((f->pid = fork()) < 0) {
        f->pid = 0;
        return 0;
    }
    if (f->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execvp("python3", argv);
        _exit(127);
    }
    f->port = 0;
    for (i = 0; i < 250 && f->port == 0; i++) { /* up to 5 s */
        if ((pf = fopen(f->port_file, "r")) != NULL) {
            if (fscanf(pf, "%d", &f->port) != 1)
                f->port = 0;
            fclose(pf);
        }
        if (f->port == 0) {
            if (waitpid(f->pid, NULL, WNOHANG) == f->pid) { /* died: no python3, bad args */
                f->pid = 0;
                break;
            }
            nanosleep(&pause, NULL);
        }
    }
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
    return f->port > 0;
}

/*
 * Stop the fake (SIGTERM, then reap it) and remove its port file and
 * directory.  Safe after a failed or no fake_vstart() and when called twice.
 */
static inline void
fake_stop(struct fake *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
    f->port = 0;
    if (f->dir[0] != '\0') {
        unlink(f->port_file);
        rmdir(f->dir);
        f->dir[0] = '\0';
    }
}

/*
 * The start of a test program against a fake: curl_global_init(), SIGPIPE
 * ignored (a fake that hangs up must fail a case, not kill the program),
 * then fake_vstart(f, script, arg..., (char *)NULL) and one TAP line saying
 * whether `what` listens.  Returns 1 if it does.  Either way the program
 * ends with fake_end(f).
 */
static inline int
fake_begin(struct fake *f, const char *what, const char *script, ...)
{
    va_list ap;
    int up;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    va_start(ap, script);
    up = fake_vstart(f, script, ap);
    va_end(ap);
    T_OK(up, "%s started (%s, run from the repository root)", what, script);
    return up;
}

/* The end of a program that began with fake_begin(): fake_stop(), then
 * curl_global_cleanup(). */
static inline void
fake_end(struct fake *f)
{
    fake_stop(f);
    curl_global_cleanup();
}

static inline size_t
fake_collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return rose_buf_append(userdata, ptr, size * nmemb) == ROSE_OK ? size * nmemb : 0;
}

/*
 * Send `method` to f->url + path (a control path such as "/_fake/requests",
 * or the fake's own API), with body as the request body when not NULL and
 * f->header when set; any HTTP status is accepted.  Returns the answer
 * parsed as JSON (caller puts), or NULL on a transport error, an answer over
 * 64 MiB or one that is not JSON.
 */
static inline struct json_object *
fake_call(const struct fake *f, const char *method, const char *path, const char *body)
{
    struct rose_buf out;
    struct curl_slist *h = NULL;
    struct json_object *o = NULL;
    char url[256];
    CURL *c;

    rose_buf_init(&out, 64 << 20);
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    if ((c = curl_easy_init()) == NULL)
        return NULL;
    if (f->header)
        h = curl_slist_append(h, f->header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fake_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK && out.data)
        o = json_tokener_parse(out.data);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    rose_buf_free(&out);
    return o;
}

/* Queue the fake's next answers: POST steps (a JSON array) to /_fake/script.
 * The answer is not checked; a test sees a bad script in what follows. */
static inline void
fake_script(const struct fake *f, const char *steps)
{
    json_object_put(fake_call(f, "POST", "/_fake/script", steps));
}

/* Every request the fake logged so far, oldest first (GET /_fake/requests);
 * caller puts.  NULL if the fake did not answer. */
static inline struct json_object *
fake_requests(const struct fake *f)
{
    return fake_call(f, "GET", "/_fake/requests", NULL);
}

/* The last request the fake logged (caller puts), or NULL if none. */
static inline struct json_object *
fake_last_request(const struct fake *f)
{
    struct json_object *all = fake_requests(f), *last = NULL;
    size_t n;

    if (json_object_is_type(all, json_type_array) && (n = json_object_array_length(all)) > 0)
        last = json_object_get(json_object_array_get_idx(all, n - 1));
    json_object_put(all);
    return last;
}

/* Walk o along a path of object keys and array indexes ("body.messages.1.content"),
 * at most 127 bytes; the value there (borrowed from o) or NULL. */
static inline struct json_object *
fake_dig(struct json_object *o, const char *path)
{
    char buf[128], *tok, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); o && tok; tok = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)atoi(tok));
        else if (!json_object_object_get_ex(o, tok, &o))
            o = NULL;
    }
    return o;
}

/* fake_dig() for a string: the string there (borrowed from o), or NULL if
 * nothing or not a string is there. */
static inline const char *
fake_dig_str(struct json_object *o, const char *path)
{
    o = fake_dig(o, path);
    return json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

/* A loopback port nothing listens on (bind one, note it, close it), for
 * "connection refused" cases; 0 if none could be had.  Another process could
 * take it meanwhile, which a test run does not. */
static inline int
fake_closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd, port = 0;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

#endif
