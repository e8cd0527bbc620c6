/*
 * test_sse.c — the SSE parser: a table of streams, each fed whole, byte by
 * byte and cut at every one and every two positions (same events out every
 * time), then limits, callback errors and a realistic Groq stream.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "providers/sse.h"
#include "t.h"

/* Events as text, "{name:data}" each, so a whole run compares as a string. */
struct sink {
    struct rose_buf out;
    const char *stop_at; /* data that makes the callback fail */
};

static enum rose_err
on_event(void *arg, const char *event, const char *data, size_t datalen)
{
    struct sink *s = arg;
    enum rose_err err;

    if ((err = rose_buf_printf(&s->out, "{%s:", event)) != ROSE_OK ||
        (err = rose_buf_append(&s->out, data, datalen)) != ROSE_OK ||
        (err = rose_buf_puts(&s->out, "}")) != ROSE_OK)
        return err;
    if (data[datalen] != '\0')
        return ROSE_ERR_INTERNAL; /* the promised NUL is missing */
    if (s->stop_at && strcmp(data, s->stop_at) == 0)
        return ROSE_ERR_UPSTREAM;
    return ROSE_OK;
}

/*
 * Feed in[0..n) in pieces ending at the given cut points (ascending), then
 * finish.  Returns the events seen; *feed_err is the first feed error (or
 * ROSE_OK) and *fin_err what rose_sse_finish() said.
 */
static char *
run(const char *in, size_t n, const size_t *cuts, size_t ncuts, size_t max, enum rose_err *feed_err,
    enum rose_err *fin_err)
{
    struct sink s = {0};
    struct rose_sse *p = NULL;
    size_t at = 0, i;
    enum rose_err err = ROSE_OK;

    rose_buf_init(&s.out, 1 << 20);
    if (rose_sse_new(on_event, &s, max, &p) != ROSE_OK)
        abort();
    for (i = 0; i <= ncuts && err == ROSE_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        err = rose_sse_feed(p, in + at, end - at);
        at = end;
    }
    *feed_err = err;
    *fin_err = rose_sse_finish(p);
    rose_sse_free(p);
    return rose_buf_steal(&s.out);
}

struct sse_case {
    const char *name;
    const char *in;
    const char *want;
    enum rose_err fin; /* what finish says */
};

static const struct sse_case cases[] = {
    {"one event", "data: hello\n\n", "{message:hello}", ROSE_OK},
    {"LF, CR and CRLF line ends", "data: a\r\rdata: b\r\n\r\ndata: c\n\n",
     "{message:a}{message:b}{message:c}", ROSE_OK},
    {"CRLF is one line end, LF after LF is not", "data: a\r\ndata: b\r\n\r\ndata: c\n\r\n",
     "{message:a\nb}{message:c}", ROSE_OK},
    {"multi-line data joined with LF", "data: a\ndata:\ndata: b\n\n", "{message:a\n\nb}", ROSE_OK},
    {"comments ignored", ": ping\n\n: x\ndata: y\n: mid\n\n", "{message:y}", ROSE_OK},
    {"event name, reset after dispatch", "event: token\ndata: t\n\ndata: 2\n\n",
     "{token:t}{message:2}", ROSE_OK},
    {"event without data is not dispatched", "event: a\n\ndata: 2\n\n", "{message:2}", ROSE_OK},
    {"only one leading space stripped", "data:  two\n\ndata:none\n\n",
     "{message: two}{message:none}", ROSE_OK},
    {"field without colon", "data\n\ndata\ndata\n\n", "{message:}{message:\n}", ROSE_OK},
    {"empty data is an event", "data:\n\n", "{message:}", ROSE_OK},
    {"id, retry, unknown fields ignored", "id: 5\nretry: 100\nfoo: bar\ndata : no\ndata: x\n\n",
     "{message:x}", ROSE_OK},
    {"colon in value kept", "data: {\"a\":\"b\"}\n\n", "{message:{\"a\":\"b\"}}", ROSE_OK},
    {"BOM at start dropped", "\357\273\277data: x\n\n", "{message:x}", ROSE_OK},
    {"second BOM is data", "\357\273\277\357\273\277data: x\n\n", "", ROSE_OK},
    {"half a BOM is data", "\357\273data: x\n\ndata: y\n\n", "{message:y}", ROSE_OK},
    {"blank lines alone", "\r\n\r\n\n\r", "", ROSE_OK},
    {"empty stream", "", "", ROSE_OK},
    {"no trailing blank line", "data: a\n\ndata: b\n", "{message:a}", ROSE_ERR_PARSE},
    {"ends inside a line", "data: a\n\ndata: b", "{message:a}", ROSE_ERR_PARSE},
    {"ends after an event name", "event: x\n", "", ROSE_ERR_PARSE},
    {"ends after an empty field", "data: a\n\nid\n", "{message:a}", ROSE_ERR_PARSE},
    {"ends inside a comment", ": keep", "", ROSE_ERR_PARSE},
    {"ends after a comment line", "data: a\n\n: bye\n", "{message:a}", ROSE_OK},
    {"[DONE]", "data: [DONE]\n\n", "{message:[DONE]}", ROSE_OK},
};

/* Whole, byte by byte, at every cut and every pair of cuts: same result. */
static void
check_case(const struct sse_case *c)
{
    size_t n = strlen(c->in), i, j, *cuts;
    enum rose_err fe, fin;
    char *got;
    int bad = 0;

    got = run(c->in, n, NULL, 0, 4096, &fe, &fin);
    T_STR(got, c->want, "%s: events", c->name);
    T_INT(fe, ROSE_OK, "%s: feed ok", c->name);
    T_INT(fin, c->fin, "%s: finish", c->name);
    free(got);

    if ((cuts = malloc((n + 2) * sizeof(*cuts))) == NULL)
        abort();
    for (i = 0; i < n; i++)
        cuts[i] = i + 1;
    got = run(c->in, n, cuts, n, 4096, &fe, &fin);
    bad += strcmp(got, c->want) != 0 || fe != ROSE_OK || fin != c->fin;
    free(got);
    for (i = 0; i <= n; i++) {
        for (j = i; j <= n; j++) {
            cuts[0] = i;
            cuts[1] = j;
            got = run(c->in, n, cuts, 2, 4096, &fe, &fin);
            if (strcmp(got, c->want) != 0 || fe != ROSE_OK || fin != c->fin) {
                if (!bad)
                    printf("#   cut at %zu,%zu gave '%s'\n", i, j, got);
                bad++;
            }
            free(got);
        }
    }
    free(cuts);
    T_INT(bad, 0, "%s: same result byte by byte and at every 1-2 cuts", c->name);
}

/* A Groq-like stream: CRLF, keep-alive comment, role delta, usage chunk. */
static const char groq_stream[] =
    ": keep-alive\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
    "\"finish_reason\":null}],\"x_groq\":{\"id\":\"req_1\"}}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
    "\"x_groq\":{\"id\":\"req_1\",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}}\r\r"
    "data: [DONE]\r\n\r\n";

static void
check_groq_stream(void)
{
    size_t n = sizeof(groq_stream) - 1, i, k, cuts[64], ncuts;
    enum rose_err fe, fin;
    char *want, *got;
    int bad = 0;
    unsigned seed = 1;

    want = run(groq_stream, n, NULL, 0, 4096, &fe, &fin);
    T_OK(fe == ROSE_OK && fin == ROSE_OK, "groq stream: parses");
    T_OK(strstr(want, "{message:[DONE]}") != NULL && strncmp(want, "{message:{\"id\"", 14) == 0,
         "groq stream: first event is the role chunk, last is [DONE]");
    for (i = 0, k = 0; want[i]; i++)
        k += want[i] == '{' && (i == 0 || want[i - 1] == '}');
    T_INT(k, 5, "groq stream: five events");

    for (i = 0; i <= n; i++) {
        cuts[0] = i;
        got = run(groq_stream, n, cuts, 1, 4096, &fe, &fin);
        bad += strcmp(got, want) != 0 || fe != ROSE_OK || fin != ROSE_OK;
        free(got);
    }
    T_INT(bad, 0, "groq stream: same events at every cut point");

    /* Many random chunkings (a fixed LCG, so a failure can be replayed). */
    for (k = 0; k < 2000; k++) {
        size_t at = 0;
        for (ncuts = 0; ncuts < 64; ncuts++) {
            seed = seed * 1103515245u + 12345u;
            at += 1 + (seed >> 16) % 24;
            if (at >= n)
                break;
            cuts[ncuts] = at;
        }
        got = run(groq_stream, n, cuts, ncuts, 4096, &fe, &fin);
        bad += strcmp(got, want) != 0 || fe != ROSE_OK || fin != ROSE_OK;
        free(got);
    }
    T_INT(bad, 0, "groq stream: same events for 2000 random chunkings");
    free(want);
}

static void
check_crlf_split(void)
{
    static const char in[] = "data: a\r\ndata: b\r\n\r\n";
    size_t cut = 8; /* between the first "\r" and its "\n" */
    enum rose_err fe, fin;
    char *got;

    got = run(in, sizeof(in) - 1, &cut, 1, 64, &fe, &fin);
    T_STR(got, "{message:a\nb}", "CR and LF in separate reads are one line end");
    free(got);
}

static void
check_limits(void)
{
    enum rose_err fe, fin;
    struct rose_sse *p = NULL;
    char *got;

    /* max 16: a 16-byte line and 16 bytes of data ("0123456789abcde\n") fit. */
    got = run("data:0123456789a\n\n", 18, NULL, 0, 16, &fe, &fin);
    T_OK(fe == ROSE_OK && strcmp(got, "{message:0123456789a}") == 0, "line of exactly max fits");
    free(got);
    got = run("data:0123456789ab\n\n", 19, NULL, 0, 16, &fe, &fin);
    T_INT(fe, ROSE_ERR_TOO_LARGE, "line of max+1 is too large");
    T_STR(got, "", "nothing dispatched past the limit");
    T_INT(fin, ROSE_ERR_TOO_LARGE, "finish repeats the error");
    free(got);
    got = run("data:0123456\ndata:0123456\ndata:0\n\n", 34, NULL, 0, 16, &fe, &fin);
    T_INT(fe, ROSE_ERR_TOO_LARGE, "data lines adding up past max are too large");
    free(got);
    got = run("data:0123456\ndata:0123456\n\n", 27, NULL, 0, 16, &fe, &fin);
    T_OK(fe == ROSE_OK && strcmp(got, "{message:0123456\n0123456}") == 0,
         "data of exactly max (with separators) fits");
    free(got);

    T_INT(rose_sse_new(on_event, NULL, 0, &p), ROSE_ERR_INTERNAL, "max 0 is refused");
    T_INT(rose_sse_new(NULL, NULL, 16, &p), ROSE_ERR_INTERNAL, "NULL callback is refused");
    rose_sse_free(NULL);
}

static void
check_callback_error(void)
{
    static const char in[] = "data: a\n\ndata: stop\n\ndata: c\n\n";
    struct sink s = {0};
    struct rose_sse *p = NULL;
    enum rose_err err;
    char *got;

    rose_buf_init(&s.out, 4096);
    s.stop_at = "stop";
    T_INT(rose_sse_new(on_event, &s, 64, &p), ROSE_OK, "new");
    err = rose_sse_feed(p, in, sizeof(in) - 1);
    T_INT(err, ROSE_ERR_UPSTREAM, "callback error is returned by feed");
    T_INT(rose_sse_feed(p, "data: d\n\n", 9), ROSE_ERR_UPSTREAM, "parser stays spent");
    T_INT(rose_sse_finish(p), ROSE_ERR_UPSTREAM, "finish repeats it");
    got = rose_buf_steal(&s.out);
    T_STR(got, "{message:a}{message:stop}", "no event after the failing one");
    free(got);
    rose_sse_free(p);
}

static void
check_nul_in_data(void)
{
    static const char in[] = "data: a\0b\n\n";
    struct sink s = {0};
    struct rose_sse *p = NULL;

    rose_buf_init(&s.out, 4096);
    T_INT(rose_sse_new(on_event, &s, 64, &p), ROSE_OK, "new");
    T_INT(rose_sse_feed(p, in, sizeof(in) - 1), ROSE_OK, "NUL in data accepted");
    T_INT(s.out.len, 13, "datalen counts past the NUL");
    T_OK(s.out.len == 13 && memcmp(s.out.data, "{message:a\0b}", 13) == 0, "NUL kept in data");
    rose_buf_free(&s.out);
    rose_sse_free(p);
}

int
main(void)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i]);
    check_groq_stream();
    check_crlf_split();
    check_limits();
    check_callback_error();
    check_nul_in_data();
    return t_done();
}
