/*
 * test_llm.c — the chat completions client against tests/fakes/fake_llm.py,
 * which this program starts (cwd must be the repository root) and stops.
 * Each case scripts the fake, calls the client, and checks the result and,
 * where it matters, what the fake received.  Also the chunk decoder alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "providers/llm.h"
#include "fake.h"
#include "t.h"

#define FAKE "tests/fakes/fake_llm.py"
#define KEY "test-key"

static struct fake fake;
static char base_url[64]; /* http://127.0.0.1:PORT/openai/v1 */

static struct rose_llm_opts
opts(void)
{
    struct rose_llm_opts o = {
        .base_url = base_url,
        .api_key = KEY,
        .model = "llama-3.3-70b-versatile",
        .temperature = 0.7,
        .max_tokens = 200,
        .connect_timeout_ms = FAKE_CONNECT_TIMEOUT_MS,
        .timeout_ms = FAKE_TIMEOUT_MS,
        .max_response_bytes = 1 << 20,
    };
    return o;
}

static const struct rose_llm_msg chat[] = {
    {"system", "You are Rose, a warm companion."},
    {"user", "I lost my grandmother last spring and I still miss her every day."},
};
#define NCHAT (sizeof(chat) / sizeof(chat[0]))

/* Tokens as they arrive: joined, and counted. */
struct tokens {
    struct rose_buf joined;
    int n;
    int fail_after; /* > 0: return ROSE_ERR_CONFLICT on that token */
};

static enum rose_err
on_token(void *arg, const char *tok, size_t len)
{
    struct tokens *t = arg;

    t->n++;
    if (len == 0 || tok[len] != '\0')
        return ROSE_ERR_INTERNAL;
    if (t->fail_after > 0 && t->n == t->fail_after)
        return ROSE_ERR_CONFLICT;
    return rose_buf_append(&t->joined, tok, len);
}

static void
test_plain(void)
{
    struct rose_llm_opts o = opts();
    struct rose_llm_result r;
    struct json_object *req;
    enum rose_err err;

    fake_script(&fake, "[{\"reply\": \"The garden remembers her too.\","
                       " \"usage\": {\"prompt_tokens\": 31, \"completion_tokens\": 7}}]");
    err = rose_llm_complete(&o, chat, NCHAT, &r);
    T_INT(err, ROSE_OK, "plain: ok");
    T_STR(r.text, "The garden remembers her too.", "plain: text");
    T_STR(r.finish_reason, "stop", "plain: finish_reason");
    T_INT(r.prompt_tokens, 31, "plain: prompt_tokens from usage");
    T_INT(r.completion_tokens, 7, "plain: completion_tokens from usage");
    T_INT(r.http_status, 200, "plain: status");
    T_OK(r.retry_after_s == -1, "plain: no retry_after");
    T_STR(r.error_type, "", "plain: no error_type");
    rose_llm_result_free(&r);
    rose_llm_result_free(&r); /* twice is harmless */

    req = fake_last_request(&fake);
    T_STR(fake_dig_str(req, "path"), "/openai/v1/chat/completions", "plain: request path");
    T_STR(fake_dig_str(req, "auth"), "ok", "plain: bearer key sent");
    T_STR(fake_dig_str(req, "headers.Content-Type"), "application/json",
          "plain: JSON content type");
    T_STR(fake_dig_str(req, "body.model"), "llama-3.3-70b-versatile", "plain: model sent");
    T_STR(fake_dig_str(req, "body.messages.0.role"), "system", "plain: first role");
    T_STR(fake_dig_str(req, "body.messages.1.content"), chat[1].content, "plain: user text sent");
    T_OK(json_object_is_type(fake_dig(req, "body.stream"), json_type_boolean) &&
             !json_object_get_boolean(fake_dig(req, "body.stream")),
         "plain: stream is false");
    T_OK(json_object_get_double(fake_dig(req, "body.temperature")) == 0.7,
         "plain: temperature 0.7");
    T_INT(json_object_get_int(fake_dig(req, "body.max_tokens")), 200, "plain: max_tokens");
    json_object_put(req);
}

static void
test_default_reply_and_escaping(void)
{
    static const char tricky[] = "She said \"goodbye\" \\ then {\"x\":1}\n\ttabs and é 🌿";
    struct rose_llm_msg m[] = {{"user", tricky}};
    struct rose_llm_opts o = opts();
    struct rose_llm_result r;
    struct json_object *req;
    char url[160], want[128];

    snprintf(url, sizeof(url), "%s/", base_url);
    o.base_url = url;
    T_INT(rose_llm_complete(&o, m, 1, &r), ROSE_OK, "default reply: ok (base URL with '/')");
    snprintf(want, sizeof(want), "I hear you. You said: %.40s", tricky);
    T_STR(r.text, want, "default reply: derived from the message");
    rose_llm_result_free(&r);
    req = fake_last_request(&fake);
    T_STR(fake_dig_str(req, "body.messages.0.content"), tricky,
          "quotes, escapes, UTF-8 sent intact");
    json_object_put(req);
}

static void
test_stream(const char *name, const char *step, const char *reply)
{
    struct rose_llm_opts o = opts();
    struct rose_llm_result r;
    struct tokens t = {.n = 0};
    struct json_object *req;
    enum rose_err err;

    rose_buf_init(&t.joined, 1 << 16);
    fake_script(&fake, step);
    err = rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r);
    T_INT(err, ROSE_OK, "%s: ok", name);
    T_STR(r.text, reply, "%s: full text", name);
    T_STR(t.joined.data, reply, "%s: tokens in order join to the text", name);
    T_OK(t.n > 5, "%s: many tokens (%d)", name, t.n);
    T_STR(r.finish_reason, "stop", "%s: finish_reason", name);
    T_INT(r.prompt_tokens, 40, "%s: prompt_tokens from x_groq.usage", name);
    T_INT(r.completion_tokens, 12, "%s: completion_tokens from x_groq.usage", name);
    rose_llm_result_free(&r);
    rose_buf_free(&t.joined);

    req = fake_last_request(&fake);
    T_OK(json_object_get_boolean(fake_dig(req, "body.stream")), "%s: stream is true", name);
    T_STR(fake_dig_str(req, "headers.Accept"), "text/event-stream", "%s: accepts SSE", name);
    T_STR(fake_dig_str(req, "body.messages.1.content"), chat[1].content, "%s: user text sent",
          name);
    json_object_put(req);
}

static void
test_errors(void)
{
    struct rose_llm_opts o = opts();
    struct rose_llm_result r;
    struct tokens t = {.n = 0};
    enum rose_err err;

    rose_buf_init(&t.joined, 1 << 16);

    o.api_key = "wrong-key";
    err = rose_llm_complete(&o, chat, NCHAT, &r);
    T_INT(err, ROSE_ERR_UPSTREAM, "401: upstream error");
    T_INT(r.http_status, 401, "401: status");
    T_STR(r.error_type, "invalid_api_key", "401: error code kept");
    T_OK(r.text == NULL, "401: no text");
    rose_llm_result_free(&r);
    o.api_key = NULL;
    T_INT(rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r), ROSE_ERR_UPSTREAM,
          "401 without a key, streaming");
    T_INT(r.http_status, 401, "401 without a key: status");
    rose_llm_result_free(&r);
    o = opts();

    fake_script(&fake,
                "[{\"status\": 429, \"retry_after\": 2}, {\"status\": 429, \"retry_after\": 7}]");
    err = rose_llm_complete(&o, chat, NCHAT, &r);
    T_INT(err, ROSE_ERR_RATE_LIMITED, "429: rate limited");
    T_INT(r.http_status, 429, "429: status");
    T_OK(r.retry_after_s == 2, "429: retry_after 2 (got %g)", r.retry_after_s);
    T_STR(r.error_type, "rate_limit_exceeded", "429: error code");
    rose_llm_result_free(&r);
    err = rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r);
    T_INT(err, ROSE_ERR_RATE_LIMITED, "429 streaming: rate limited");
    T_OK(r.retry_after_s == 7, "429 streaming: retry_after 7 (got %g)", r.retry_after_s);
    rose_llm_result_free(&r);

    fake_script(&fake,
                "[{\"status\": 500}, {\"status\": 503, \"retry_after\": 3}, {\"status\": 498},"
                " {\"status\": 400}, {\"status\": 500},"
                " {\"status\": 503, \"retry_after\": \"Thu, 01 Jan 2015 00:00:00 GMT\"}]");
    err = rose_llm_complete(&o, chat, NCHAT, &r);
    T_INT(err, ROSE_ERR_UNAVAILABLE, "500: unavailable");
    T_INT(r.http_status, 500, "500: status");
    T_STR(r.error_type, "internal_server_error", "500: error type");
    T_OK(r.retry_after_s == -1, "500: no retry_after");
    rose_llm_result_free(&r);
    err = rose_llm_complete(&o, chat, NCHAT, &r);
    T_INT(err, ROSE_ERR_UNAVAILABLE, "503: unavailable");
    T_OK(r.retry_after_s == 3, "503: retry_after 3");
    rose_llm_result_free(&r);
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_UNAVAILABLE, "498: unavailable");
    T_OK(r.retry_after_s == -1, "498: no retry_after");
    rose_llm_result_free(&r);
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_UPSTREAM, "400: upstream");
    rose_llm_result_free(&r);
    T_INT(rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r), ROSE_ERR_UNAVAILABLE,
          "500 streaming: unavailable");
    T_OK(r.text == NULL, "500 streaming: no text");
    rose_llm_result_free(&r);
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_UNAVAILABLE, "503 with a date");
    T_OK(r.retry_after_s == 0, "503: a past Retry-After date is 0 s (got %g)", r.retry_after_s);
    rose_llm_result_free(&r);
    rose_buf_free(&t.joined);
}

static void
test_cut_and_malformed(void)
{
    static const char reply[] = "One two three four five six seven eight nine ten.";
    struct rose_llm_opts o = opts();
    struct rose_llm_result r;
    struct tokens t = {.n = 0};
    enum rose_err err;

    rose_buf_init(&t.joined, 1 << 16);
    fake_script(&fake, "[{\"cut\": true,"
                       " \"reply\": \"One two three four five six seven eight nine ten.\"}]");
    err = rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r);
    T_INT(err, ROSE_ERR_PARSE, "cut-off stream: parse error");
    T_OK(r.text != NULL && r.text[0] != '\0' && strlen(r.text) < strlen(reply) &&
             strncmp(r.text, reply, strlen(r.text)) == 0,
         "cut-off stream: partial text kept ('%s')", r.text ? r.text : "(null)");
    T_STR(t.joined.data, r.text, "cut-off stream: tokens match the partial text");
    T_OK(r.finish_reason == NULL, "cut-off stream: no finish_reason");
    T_INT(r.http_status, 200, "cut-off stream: status 200");
    rose_llm_result_free(&r);

    fake_script(&fake, "[{\"malformed\": true},"
                       " {\"malformed\": true, \"reply\": \"Hello there friend.\"}]");
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_PARSE, "malformed JSON body: parse");
    T_OK(r.text == NULL, "malformed JSON body: no text");
    rose_llm_result_free(&r);
    T_INT(rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r), ROSE_ERR_PARSE,
          "malformed stream chunk: parse");
    rose_llm_result_free(&r);

    t.n = 0;
    t.fail_after = 3;
    rose_buf_reset(&t.joined);
    fake_script(&fake, "[{\"reply\": \"One two three four five six seven eight nine ten.\"}]");
    T_INT(rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r), ROSE_ERR_CONFLICT,
          "token callback error stops the stream");
    T_INT(t.n, 3, "no token after the failing one");
    T_STR(r.text, "One two three", "text up to the failing token");
    rose_llm_result_free(&r);

    fake_script(&fake, "[{\"reply\": \"It was cut short\", \"finish_reason\": \"length\"}]");
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_OK, "finish_reason length: ok");
    T_STR(r.finish_reason, "length", "finish_reason length: reported");
    rose_llm_result_free(&r);
    rose_buf_free(&t.joined);
}

static void
test_transport(void)
{
    struct rose_llm_opts o = opts();
    struct rose_llm_result r;
    struct tokens t = {.n = 0};
    char url[64];
    enum rose_err err;

    rose_buf_init(&t.joined, 1 << 16);
    o.timeout_ms = 300;
    fake_script(&fake, "[{\"stall\": 3}, {\"stall\": 3}]");
    err = rose_llm_complete(&o, chat, NCHAT, &r);
    T_INT(err, ROSE_ERR_TIMEOUT, "stall: timeout");
    T_INT(r.http_status, 0, "stall: no status");
    rose_llm_result_free(&r);
    T_INT(rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r), ROSE_ERR_TIMEOUT,
          "stall streaming: timeout");
    rose_llm_result_free(&r);

    o = opts();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", fake_closed_port());
    o.base_url = url;
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_UNAVAILABLE, "refused: unavailable");
    T_INT(r.http_status, 0, "refused: no status");
    rose_llm_result_free(&r);

    o = opts();
    o.max_response_bytes = 300;
    fake_script(
        &fake,
        "[{\"reply\": \"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
        "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, "
        "quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\"},"
        " {\"reply\": \"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\"}]");
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_TOO_LARGE, "over cap: too large");
    rose_llm_result_free(&r);
    T_INT(rose_llm_stream(&o, chat, NCHAT, on_token, &t, &r), ROSE_ERR_TOO_LARGE,
          "over cap streaming: too large");
    rose_llm_result_free(&r);

    o = opts();
    o.base_url = NULL;
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_CONFIG, "no base URL: config");
    T_OK(r.text == NULL && r.http_status == 0 && r.prompt_tokens == -1, "result set anyway");
    o = opts();
    o.api_key = "key\r\nX-Evil: 1";
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_CONFIG, "CRLF in key: config");
    o = opts();
    o.base_url = "file:///etc/passwd";
    T_INT(rose_llm_complete(&o, chat, NCHAT, &r), ROSE_ERR_CONFIG, "file:// URL: config");
    rose_llm_result_free(&r);
    rose_buf_free(&t.joined);
}

struct chunk_case {
    const char *json;
    enum rose_err err;
    const char *content; /* NULL: none */
    const char *finish;
    const char *error;
    int prompt, completion;
};

static const struct chunk_case chunks[] = {
    {"{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
     "\"finish_reason\":null}],\"x_groq\":{\"id\":\"req_1\"}}",
     ROSE_OK, "", NULL, NULL, -1, -1},
    {"{\"choices\":[{\"delta\":{\"content\":\" h\\u00e9\\n\"}}]}", ROSE_OK, " h\xc3\xa9\n", NULL,
     NULL, -1, -1},
    {"{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],"
     "\"x_groq\":{\"id\":\"r\",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3}}}",
     ROSE_OK, NULL, "stop", NULL, 9, 3},
    {"{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}", ROSE_OK, NULL,
     NULL, NULL, 5, 2},
    {"{\"choices\":[{\"delta\":{\"content\":null}}],\"usage\":null}", ROSE_OK, NULL, NULL, NULL, -1,
     -1},
    {"{\"error\":{\"message\":\"x\",\"type\":\"internal_server_error\"}}", ROSE_OK, NULL, NULL,
     "internal_server_error", -1, -1},
    {"{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":-4,"
     "\"completion_tokens\":\"7\"}}",
     ROSE_OK, "a", NULL, NULL, -1, -1},
    {"[]", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"choices\":{}}", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"choices\":[7]}", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"choices\":[{\"delta\":\"x\"}]}", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"choices\":[{\"delta\":{\"content\":5}}]}", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"choices\":[{\"delta\":{},\"finish_reason\":1}]}", ROSE_ERR_PARSE, NULL, NULL, NULL, -1,
     -1},
    {"{\"choices\":[{\"delta\":{\"content\":\"a\\u0000b\"}}]}", ROSE_ERR_PARSE, NULL, NULL, NULL,
     -1, -1},
    {"{\"choices\":[]} x", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"choices\":[{\"delta\":{\"content\":\"Hel", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"a\":\"\xff\"}", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"{\"a\":[[[[[[[[[[1]]]]]]]]]]}", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
    {"", ROSE_ERR_PARSE, NULL, NULL, NULL, -1, -1},
};

static void
test_chunks(void)
{
    struct rose_llm_chunk c;
    size_t i;

    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        const struct chunk_case *k = &chunks[i];
        enum rose_err err = rose_llm_decode_chunk(k->json, strlen(k->json), &c);
        int same = err == k->err;

        if (err == ROSE_OK) {
            same = same && (k->content ? c.content && c.content_len == strlen(k->content) &&
                                             memcmp(c.content, k->content, c.content_len) == 0
                                       : c.content == NULL);
            same = same && (k->finish ? c.finish_reason && !strcmp(c.finish_reason, k->finish)
                                      : c.finish_reason == NULL);
            same = same && (k->error ? c.error && !strcmp(c.error, k->error) : c.error == NULL);
            same = same && c.prompt_tokens == k->prompt && c.completion_tokens == k->completion;
            rose_llm_chunk_free(&c);
        }
        T_OK(same, "chunk %zu decodes as expected (%s)", i, k->json);
    }
    rose_llm_chunk_free(NULL);
    rose_llm_result_free(NULL);
}

int
main(void)
{
    int up;

    test_chunks();
    up = fake_begin(&fake, "fake LLM", FAKE, "--key", KEY, (char *)NULL);
    snprintf(base_url, sizeof(base_url), "%s/openai/v1", fake.url);
    if (up) {
        test_plain();
        test_default_reply_and_escaping();
        test_stream("stream",
                    "[{\"reply\": \"Take a slow breath with me. The river keeps moving, "
                    "and so will you.\", \"usage\": {\"prompt_tokens\": 40, "
                    "\"completion_tokens\": 12}}]",
                    "Take a slow breath with me. The river keeps moving, and so will you.");
        test_stream("split stream",
                    "[{\"split\": true, \"reply\": \"Grief is love with nowhere to "
                    "go, and it softens with time.\", \"usage\": "
                    "{\"prompt_tokens\": 40, \"completion_tokens\": 12}}]",
                    "Grief is love with nowhere to go, and it softens with time.");
        test_errors();
        test_cut_and_malformed();
        test_transport();
    }
    fake_end(&fake);
    return t_done();
}
