/*
 * turn.c — the turn graph and its nodes (turn.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/text.h"
#include "engines/companion.h"
#include "memory/service.h"
#include "pipeline/persona.h"
#include "pipeline/turn.h"
#include "providers/llm.h"
#include "resilience/call.h"
#include "store/metrics.h"
#include "store/turns.h"

struct turn {
    const struct rose_turn_opts *o;
    struct json_object *state;
    char parent[37];     /* the checkpoint the next one descends from */
    long long reply_id;  /* the reply's message, once memory_inject stored it */
    char *name;          /* the person's name, if known */
    char **memories;     /* what Rose remembers that bears on this turn */
    size_t nmemories;
    char activity[160];  /* Rose's activity right now */
    int offline;         /* the reply came from the companion engine */
    int fallback;        /* ... because the LLM failed */
    int summarized;
    int tokens_sent;
    double ms[8];        /* per node, indexed like nodes[] */
    double provider_ms;  /* inside provider calls (LLM), across nodes */
    double t0;           /* when the turn started (monotonic ms) */
    double deadline;     /* t0 + WORKFLOW_TIMEOUT_SECONDS */
};

/* ------------------------------------------------------------ state */

static const char *
state_str(struct turn *t, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(t->state, key, &v) ? json_object_get_string(v) : "";
}

static void
state_set(struct turn *t, const char *key, const char *value)
{
    struct json_object *v = json_object_new_string(value);

    if (v != NULL && json_object_object_add(t->state, key, v) != 0)
        json_object_put(v);
}

static struct json_object *
state_messages(struct turn *t)
{
    struct json_object *v;

    if (!json_object_object_get_ex(t->state, "messages", &v) ||
        !json_object_is_type(v, json_type_array)) {
        v = json_object_new_array();
        if (v != NULL && json_object_object_add(t->state, "messages", v) != 0) {
            json_object_put(v);
            v = NULL;
        }
    }
    return v;
}

static enum rose_err
push_message(struct json_object *arr, const char *role, const char *text)
{
    struct json_object *m = json_object_new_object();

    if (m == NULL)
        return ROSE_ERR_NOMEM;
    json_object_object_add(m, "role", json_object_new_string(role));
    json_object_object_add(m, "text", json_object_new_string(text));
    if (json_object_array_add(arr, m) != 0) {
        json_object_put(m);
        return ROSE_ERR_NOMEM;
    }
    return ROSE_OK;
}

/* --------------------------------------------------------------- LLM */

/* Milliseconds left before the turn's deadline (0 when past it). */
static long
time_left(const struct turn *t)
{
    double left = t->deadline - rose_mono_ms();

    return left > 0 ? (long)left : 0;
}

/* Did a failure happen because the whole turn ran out of time? */
static int
past_deadline(const struct turn *t, enum rose_err err)
{
    return err == ROSE_ERR_TIMEOUT && time_left(t) < 50;
}

/* The LLM's options from the configuration; each attempt of
 * rose_resilient_call() cuts the timeouts to the time the turn has left. */
static void
llm_opts(const struct rose_config *cfg, const char *model, struct rose_llm_opts *lo)
{
    struct rose_role_info info;

    rose_config_role(cfg, ROSE_ROLE_LLM, &info);
    memset(lo, 0, sizeof(*lo));
    lo->base_url = info.base_url;
    lo->api_key = info.api_key;
    lo->model = model;
    lo->temperature = cfg->llm_temperature;
    lo->max_tokens = (int)cfg->llm_max_tokens;
    lo->connect_timeout_ms = cfg->provider_connect_timeout_ms;
    lo->timeout_ms = cfg->provider_timeout_seconds * 1000;
    lo->max_response_bytes = ROSE_LLM_RESPONSE_MAX;
}

static int
llm_hosted(const struct rose_config *cfg)
{
    struct rose_role_info info;

    rose_config_role(cfg, ROSE_ROLE_LLM, &info);
    return info.mode == ROSE_MODE_HOSTED;
}

/* One attempt of an LLM call, for rose_resilient_call(). */
struct llm_attempt {
    struct turn *t;
    struct rose_llm_opts *lo;
    const struct rose_llm_msg *lm;
    size_t n;
    rose_llm_token_fn on_tok;
    void *arg;
    struct rose_llm_result *r;
};

static enum rose_err
llm_attempt(void *ctx, long timeout_ms, struct rose_attempt *a)
{
    struct llm_attempt *x = ctx;
    enum rose_err err;

    rose_llm_result_free(x->r);
    memset(x->r, 0, sizeof(*x->r));
    x->lo->timeout_ms = timeout_ms;
    if (x->lo->connect_timeout_ms > timeout_ms)
        x->lo->connect_timeout_ms = timeout_ms;
    if (x->on_tok != NULL)
        err = rose_llm_stream(x->lo, x->lm, x->n, x->on_tok, x->arg, x->r);
    else
        err = rose_llm_complete(x->lo, x->lm, x->n, x->r);
    a->http_status = x->r->http_status;
    a->retry_after_s = x->r->retry_after_s;
    a->error_type = x->r->error_type;
    a->no_retry = x->t->tokens_sent > 0; /* words already sent: cannot start over */
    return err;
}

/* One LLM call through the shared breaker and the retry policy. */
static enum rose_err
llm_call(struct turn *t, const char *what, struct rose_llm_opts *lo,
         const struct rose_llm_msg *lm, size_t n, rose_llm_token_fn on_tok, void *arg,
         struct rose_llm_result *r)
{
    struct rose_role_info info;
    struct llm_attempt x = {t, lo, lm, n, on_tok, arg, r};
    struct rose_call c;
    enum rose_err err;

    rose_config_role(t->o->cfg, ROSE_ROLE_LLM, &info);
    memset(&c, 0, sizeof(c));
    c.cfg = t->o->cfg;
    c.st = t->o->st;
    c.role = "llm";
    c.provider = info.provider;
    c.what = what;
    c.deadline_ms = t->deadline;
    err = rose_resilient_call(&c, llm_attempt, &x);
    t->provider_ms += c.provider_ms;
    return err;
}

/* ------------------------------------------------------------- nodes */

/*
 * router: conversation, image or audio.  A voice turn always answers with
 * audio.  Image generation is disabled unless a key is configured, and then
 * the router can only choose between conversation and audio by the kind
 * of turn, so no LLM call is spent on it.
 */
static enum rose_err
node_router(struct turn *t)
{
    state_set(t, "workflow", t->o->voice ? "audio" : "conversation");
    return ROSE_OK;
}

/*
 * The user's long-term memories related to this message, into t->memories
 * and the state.  Without a memory service (no model, store down) the turn
 * goes on without them; that is logged once by the service.
 */
static void
recall(struct turn *t)
{
    struct rose_memsvc *m;
    struct rose_memory *mems = NULL;
    struct json_object *arr;
    size_t n = 0, i;

    if (!rose_memory_enabled(t->o->cfg) || rose_memsvc_get(t->o->cfg, t->o->st, &m) != ROSE_OK ||
        rose_memsvc_recall(m, t->o->user_id, t->o->message, (int)t->o->cfg->memory_top_k, &mems,
                           &n) != ROSE_OK)
        return;
    if (n > 0 && (t->memories = calloc(n, sizeof(*t->memories))) != NULL &&
        (arr = json_object_new_array()) != NULL) {
        for (i = 0; i < n; i++) {
            t->memories[t->nmemories] = strdup(mems[i].text);
            if (t->memories[t->nmemories] != NULL) {
                json_object_array_add(arr, json_object_new_string(mems[i].text));
                t->nmemories++;
            }
        }
        json_object_object_add(t->state, "memories", arr);
    }
    rose_memories_free(mems, n);
}

/* context_inject: Rose's activity now, and what she knows of the person:
 * the name and the long-term memories related to this message. */
static enum rose_err
node_context_inject(struct turn *t)
{
    char found[64];
    enum rose_err err;

    if (rose_persona_activity(time(NULL), t->activity, sizeof(t->activity)) != ROSE_OK)
        t->activity[0] = '\0';
    if ((err = rose_user_name(t->o->st, t->o->user_id, &t->name)) != ROSE_OK)
        return err;
    recall(t);
    if (rose_companion_find_name(t->o->message, found, sizeof(found))) {
        /* A person who introduces themselves: remember the name. */
        if ((err = rose_user_set_name(t->o->st, t->o->user_id, found)) != ROSE_OK)
            return err;
        free(t->name);
        if ((t->name = strdup(found)) == NULL)
            return ROSE_ERR_NOMEM;
    }
    return ROSE_OK;
}

struct stream_ctx {
    struct turn *t;
};

static enum rose_err
on_llm_token(void *arg, const char *tok, size_t len)
{
    struct turn *t = ((struct stream_ctx *)arg)->t;
    enum rose_err err;

    if (len == 0)
        return ROSE_OK;
    if ((err = t->o->on_token(t->o->token_arg, tok, len)) == ROSE_OK)
        t->tokens_sent++;
    return err;
}

/* The offline companion's reply, streamed word by word when asked. */
static enum rose_err
respond_offline(struct turn *t, char **reply)
{
    struct json_object *msgs = state_messages(t);
    size_t i, n = msgs ? json_object_array_length(msgs) : 0;
    struct rose_companion_msg *hist = NULL;
    struct rose_companion_ctx c;
    enum rose_err err;

    if (n > 0 && (hist = calloc(n, sizeof(*hist))) == NULL)
        return ROSE_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        struct json_object *m = json_object_array_get_idx(msgs, i), *v;
        hist[i].role = json_object_object_get_ex(m, "role", &v) ? json_object_get_string(v) : "";
        hist[i].text = json_object_object_get_ex(m, "text", &v) ? json_object_get_string(v) : "";
    }
    memset(&c, 0, sizeof(c));
    c.message = t->o->message;
    c.history = hist;
    c.history_len = n;
    c.name = t->name;
    c.memories = (const char *const *)t->memories;
    c.memories_len = t->nmemories;
    c.activity = t->activity[0] ? t->activity : NULL;
    c.seed = (unsigned long)n;
    err = rose_companion_reply(&c, reply);
    free(hist);
    if (err != ROSE_OK || t->o->on_token == NULL)
        return err;
    /* Stream it in words, as an LLM would, so the page behaves the same. */
    {
        const char *p = *reply;
        while (*p && err == ROSE_OK) {
            size_t k = strcspn(p, " ");
            k += strspn(p + k, " ");
            err = t->o->on_token(t->o->token_arg, p, k);
            if (err == ROSE_OK)
                t->tokens_sent++;
            p += k;
        }
    }
    return err;
}

static enum rose_err
respond_llm(struct turn *t, char **reply)
{
    const struct rose_config *cfg = t->o->cfg;
    struct json_object *msgs = state_messages(t);
    size_t i, n = msgs ? json_object_array_length(msgs) : 0, k = 0;
    struct rose_persona_ctx pc;
    struct rose_llm_opts lo;
    struct rose_llm_result r;
    struct rose_llm_msg *lm = NULL;
    struct stream_ctx sc = {t};
    char *sys = NULL;
    enum rose_err err;

    memset(&r, 0, sizeof(r));
    memset(&pc, 0, sizeof(pc));
    pc.name = t->name;
    pc.memories = (const char *const *)t->memories;
    pc.memories_len = t->nmemories;
    pc.summary = state_str(t, "summary");
    pc.now = time(NULL);
    if ((err = rose_persona_system_prompt(&pc, &sys)) != ROSE_OK)
        return err;
    if ((lm = calloc(n + 2, sizeof(*lm))) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    lm[k].role = "system";
    lm[k++].content = sys;
    for (i = 0; i < n; i++) {
        struct json_object *m = json_object_array_get_idx(msgs, i), *v;
        const char *role = json_object_object_get_ex(m, "role", &v) ? json_object_get_string(v)
                                                                    : "user";
        lm[k].role = strcmp(role, "assistant") == 0 ? "assistant" : "user";
        lm[k++].content = json_object_object_get_ex(m, "text", &v) ? json_object_get_string(v)
                                                                   : "";
    }
    lm[k].role = "user";
    lm[k++].content = t->o->message;
    llm_opts(cfg, cfg->llm_model, &lo);
    err = llm_call(t, "chat", &lo, lm, k, t->o->on_token ? on_llm_token : NULL, &sc, &r);
    if (err != ROSE_OK)
        goto out;
    rose_text_strip_markup(r.text);
    if (r.text[0] == '\0') {
        err = ROSE_ERR_UPSTREAM; /* nothing left to say: treat as a failure */
        goto out;
    }
    *reply = r.text;
    r.text = NULL;
out:
    rose_llm_result_free(&r);
    free(lm);
    free(sys);
    return err;
}

/* respond: the persona, the summary and recent messages → Rose's words. */
static enum rose_err
node_respond(struct turn *t)
{
    char *reply = NULL;
    enum rose_err err;

    if (llm_hosted(t->o->cfg)) {
        err = respond_llm(t, &reply);
        if (past_deadline(t, err))
            return ROSE_ERR_TIMEOUT; /* the whole turn is out of time: 504 */
        if (err != ROSE_OK && err != ROSE_ERR_NOMEM) {
            if (t->tokens_sent > 0)
                return ROSE_ERR_UPSTREAM; /* words already on their way: cannot swap */
            t->fallback = 1;
            err = ROSE_OK;
        }
        if (err != ROSE_OK)
            return err;
    }
    if (reply == NULL) {
        t->offline = 1;
        if ((err = respond_offline(t, &reply)) != ROSE_OK)
            return err;
    }
    state_set(t, "reply", reply);
    free(reply);
    return ROSE_OK;
}

static struct json_object *
answer_body(struct turn *t, int with_total);

/* memory_inject: the exchange joins the state and the transcript, in one
 * transaction with its checkpoint and the idempotent answer. */
static enum rose_err
node_memory_inject(struct turn *t)
{
    struct json_object *msgs = state_messages(t), *body = NULL, *meta = NULL;
    struct rose_turn_record r;
    char id[37];
    enum rose_err err;

    if (msgs == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = push_message(msgs, "user", t->o->message)) != ROSE_OK ||
        (err = push_message(msgs, "assistant", state_str(t, "reply"))) != ROSE_OK)
        return err;
    body = answer_body(t, 0);
    meta = json_object_new_object();
    if (meta != NULL)
        json_object_object_add(meta, "engine",
                               json_object_new_string(t->offline ? "offline" : "llm"));
    memset(&r, 0, sizeof(r));
    r.session_id = t->o->session_id;
    r.user_text = t->o->message;
    r.reply_text = state_str(t, "reply");
    r.parent_checkpoint = t->parent;
    r.node = "memory_inject";
    r.state = t->state;
    r.metadata = meta;
    r.idem_key = t->o->idem_key;
    r.idem_route = ROSE_TURN_ROUTE;
    r.idem_body = body;
    r.reply_id = &t->reply_id;
    err = rose_turn_commit(t->o->st, &r, id);
    if (err == ROSE_OK)
        memcpy(t->parent, id, sizeof(id));
    json_object_put(body);
    json_object_put(meta);
    return err;
}

/* The summary when no LLM is configured: the earlier summary plus the first
 * sentence of each folded user message, newest kept when it grows long. */
static char *
summary_offline(const char *old, struct json_object *msgs, size_t fold)
{
    struct rose_buf b;
    size_t i, start;
    char *s;

    rose_buf_init(&b, 0);
    if (old[0] && rose_buf_puts(&b, old) != ROSE_OK)
        goto fail;
    for (i = 0; i < fold; i++) {
        struct json_object *m = json_object_array_get_idx(msgs, i), *v;
        const char *text, *role;
        size_t n;
        role = json_object_object_get_ex(m, "role", &v) ? json_object_get_string(v) : "";
        if (strcmp(role, "user") != 0)
            continue;
        text = json_object_object_get_ex(m, "text", &v) ? json_object_get_string(v) : "";
        n = strcspn(text, ".!?\n");
        if (n > 200)
            n = 200;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--; /* never cut inside a UTF-8 character */
        if (rose_buf_printf(&b, "%sThey said: %.*s.", b.len ? " " : "", (int)n, text) != ROSE_OK)
            goto fail;
    }
    s = rose_buf_steal(&b);
    /* Keep the newest ROSE_SUMMARY_MAX bytes, starting on a character. */
    if (s != NULL && (i = strlen(s)) > ROSE_SUMMARY_MAX) {
        start = i - ROSE_SUMMARY_MAX;
        while (start < i && ((unsigned char)s[start] & 0xc0) == 0x80)
            start++;
        memmove(s, s + start, i - start + 1);
    }
    return s;
fail:
    rose_buf_free(&b);
    return NULL;
}

static enum rose_err
summary_llm(struct turn *t, struct json_object *msgs, size_t fold, char **out)
{
    const struct rose_config *cfg = t->o->cfg;
    struct rose_llm_msg lm[2];
    struct rose_llm_opts lo;
    struct rose_llm_result r;
    struct rose_buf b;
    size_t i;
    enum rose_err err = ROSE_OK;

    memset(&r, 0, sizeof(r));
    rose_buf_init(&b, 0);
    if (state_str(t, "summary")[0])
        err = rose_buf_printf(&b, "Existing summary: %s\n\n", state_str(t, "summary"));
    if (err == ROSE_OK)
        err = rose_buf_puts(&b, "Messages since then:\n");
    for (i = 0; i < fold && err == ROSE_OK; i++) {
        struct json_object *m = json_object_array_get_idx(msgs, i), *v;
        const char *role = json_object_object_get_ex(m, "role", &v) ? json_object_get_string(v)
                                                                    : "";
        const char *text = json_object_object_get_ex(m, "text", &v) ? json_object_get_string(v)
                                                                    : "";
        err = rose_buf_printf(&b, "%s: %s\n", strcmp(role, "assistant") == 0 ? "Rose" : "Person",
                              text);
    }
    if (err == ROSE_OK)
        err = rose_buf_puts(&b, "\nSummarize them into one new summary.");
    if (err != ROSE_OK)
        goto out;
    lm[0].role = "system";
    lm[0].content = rose_persona_summary_prompt();
    lm[1].role = "user";
    lm[1].content = b.data;
    llm_opts(cfg, cfg->llm_small_model, &lo);
    if ((err = llm_call(t, "summary", &lo, lm, 2, NULL, NULL, &r)) != ROSE_OK)
        goto out;
    rose_text_strip_markup(r.text);
    if (strlen(r.text) > ROSE_SUMMARY_MAX) {
        size_t n = ROSE_SUMMARY_MAX;
        while (n > 0 && ((unsigned char)r.text[n] & 0xc0) == 0x80)
            n--;
        r.text[n] = '\0';
    }
    *out = r.text;
    r.text = NULL;
out:
    rose_llm_result_free(&r);
    rose_buf_free(&b);
    return err;
}

static int
needs_summary(const struct turn *t)
{
    struct json_object *v;

    return json_object_object_get_ex(t->state, "messages", &v) &&
           (long)json_object_array_length(v) > t->o->cfg->summary_trigger;
}

/*
 * summarize: fold all but the last SUMMARY_KEEP messages into the running
 * summary.  If the LLM cannot do it now, the state stays as it is and the
 * next turn tries again (nothing is lost: the transcript has every message).
 */
static enum rose_err
node_summarize(struct turn *t)
{
    struct json_object *msgs = state_messages(t), *kept = NULL;
    size_t i, n = msgs ? json_object_array_length(msgs) : 0;
    size_t keep = (size_t)t->o->cfg->summary_keep, fold = n > keep ? n - keep : 0;
    char *summary = NULL;
    enum rose_err err;

    if (fold == 0 || time_left(t) == 0)
        return ROSE_OK; /* nothing to fold, or no time left: next turn does it */
    if (llm_hosted(t->o->cfg)) {
        if (summary_llm(t, msgs, fold, &summary) != ROSE_OK)
            return ROSE_OK; /* logged; retried next turn */
    } else if ((summary = summary_offline(state_str(t, "summary"), msgs, fold)) == NULL) {
        return ROSE_ERR_NOMEM;
    }
    if ((kept = json_object_new_array()) == NULL) {
        free(summary);
        return ROSE_ERR_NOMEM;
    }
    for (i = fold; i < n; i++)
        json_object_array_add(kept, json_object_get(json_object_array_get_idx(msgs, i)));
    json_object_object_add(t->state, "messages", kept);
    state_set(t, "summary", summary);
    if ((err = rose_store_begin(t->o->st)) == ROSE_OK) {
        char id[37];
        if ((err = rose_session_set_summary(t->o->st, t->o->session_id, summary)) == ROSE_OK &&
            (err = rose_checkpoint_save(t->o->st, t->o->session_id, t->parent, "summarize",
                                        t->state, NULL, id)) == ROSE_OK &&
            (err = rose_store_commit(t->o->st)) == ROSE_OK)
            memcpy(t->parent, id, sizeof(id));
        if (err != ROSE_OK)
            rose_store_rollback(t->o->st);
    }
    free(summary);
    t->summarized = err == ROSE_OK;
    return err;
}

/* ------------------------------------------------------------- graph */

#define END NULL

struct node {
    const char *name;
    enum rose_err (*fn)(struct turn *t);
    int checkpoint; /* 1: save the state after it; 0: the node commits its own */
    const char *timing; /* key in "timings" */
};

/* The nodes, in the order a turn meets them.  memory_extract runs after
 * the reply has been sent (rose_memory_extract_job, deferred by the
 * endpoint), so deciding what to remember never delays Rose's answer. */
static const struct node nodes[] = {
    {"router", node_router, 1, "router_ms"},
    {"context_inject", node_context_inject, 1, "context_ms"},
    {"respond", node_respond, 1, "llm_ms"},
    {"memory_inject", node_memory_inject, 0, "memory_ms"},
    {"summarize", node_summarize, 0, "summarize_ms"},
};

struct edge {
    const char *from;
    int (*when)(const struct turn *t); /* NULL: always */
    const char *to;
};

/* The first edge from a node whose condition holds is taken. */
static const struct edge edges[] = {
    {"router", NULL, "context_inject"},
    {"context_inject", NULL, "respond"},
    {"respond", NULL, "memory_inject"},
    {"memory_inject", needs_summary, "summarize"},
    {"memory_inject", NULL, END},
    {"summarize", NULL, END},
};

#define NNODES (sizeof(nodes) / sizeof(nodes[0]))

static int
node_index(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < NNODES; i++)
        if (strcmp(nodes[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const char *
next_node(const struct turn *t, const char *from)
{
    size_t i;

    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        if (strcmp(edges[i].from, from) == 0 && (edges[i].when == NULL || edges[i].when(t)))
            return edges[i].to;
    return END;
}

static struct json_object *
answer_body(struct turn *t, int with_total)
{
    struct json_object *o = json_object_new_object(), *tm = json_object_new_object();
    double total = rose_mono_ms() - t->t0;
    size_t i;

    if (o == NULL || tm == NULL) {
        json_object_put(o);
        json_object_put(tm);
        return NULL;
    }
    for (i = 0; i < NNODES; i++) {
        char num[32];
        snprintf(num, sizeof(num), "%.3f", t->ms[i]);
        json_object_object_add(tm, nodes[i].timing, json_object_new_double_s(t->ms[i], num));
    }
    if (with_total) {
        char num[32];
        snprintf(num, sizeof(num), "%.3f", total);
        json_object_object_add(tm, "total_ms", json_object_new_double_s(total, num));
    }
    {
        char num[32];
        snprintf(num, sizeof(num), "%.3f", t->provider_ms);
        json_object_object_add(tm, "provider_ms", json_object_new_double_s(t->provider_ms, num));
    }
    json_object_object_add(o, "session_id", json_object_new_string(t->o->session_id));
    json_object_object_add(o, "text", json_object_new_string(state_str(t, "reply")));
    json_object_object_add(o, "workflow", json_object_new_string(state_str(t, "workflow")));
    json_object_object_add(o, "engine", json_object_new_string(t->offline ? "offline" : "llm"));
    if (t->fallback)
        json_object_object_add(o, "fallback", json_object_new_boolean(1));
    json_object_object_add(o, "timings", tm);
    return o;
}

static void
log_turn(const struct turn *t, enum rose_err err)
{
    struct json_object *f = json_object_new_object();
    size_t i;

    if (f == NULL)
        return;
    for (i = 0; i < NNODES; i++) {
        char num[32];
        snprintf(num, sizeof(num), "%.3f", t->ms[i]);
        json_object_object_add(f, nodes[i].timing, json_object_new_double_s(t->ms[i], num));
    }
    json_object_object_add(f, "engine", json_object_new_string(t->offline ? "offline" : "llm"));
    json_object_object_add(f, "fallback", json_object_new_boolean(t->fallback));
    json_object_object_add(f, "summarized", json_object_new_boolean(t->summarized));
    json_object_object_add(f, "message_bytes", json_object_new_int64((int64_t)strlen(t->o->message)));
    if (err != ROSE_OK)
        json_object_object_add(f, "error", json_object_new_string(rose_err_code(err)));
    rose_log(err == ROSE_OK ? ROSE_LOG_DEBUG : ROSE_LOG_WARN, "turn", f);
}

enum rose_err
rose_turn_run(const struct rose_turn_opts *o, struct rose_turn_result *res)
{
    struct turn t;
    const char *at = nodes[0].name;
    enum rose_err err;

    memset(&t, 0, sizeof(t));
    t.o = o;
    t.t0 = rose_mono_ms();
    t.deadline = (o->started_ms > 0 ? o->started_ms : t.t0) +
                 (double)o->cfg->workflow_timeout_seconds * 1000.0;
    if ((err = rose_checkpoint_latest(o->st, o->session_id, &t.state, t.parent)) != ROSE_OK)
        return err;
    if (t.state == NULL && (t.state = json_object_new_object()) == NULL)
        return ROSE_ERR_NOMEM;
    state_set(&t, "message", o->message);
    json_object_object_del(t.state, "reply");
    json_object_object_del(t.state, "memories");
    while (at != END && err == ROSE_OK) {
        int i = node_index(at);
        double t0 = rose_mono_ms();
        if (i < 0) {
            err = ROSE_ERR_INTERNAL;
            break;
        }
        err = nodes[i].fn(&t);
        t.ms[i] = rose_mono_ms() - t0;
        if (err == ROSE_OK && nodes[i].checkpoint) {
            char id[37];
            err = rose_checkpoint_save(o->st, o->session_id, t.parent, at, t.state, NULL, id);
            if (err == ROSE_OK)
                memcpy(t.parent, id, sizeof(id));
        }
        if (err == ROSE_OK)
            at = next_node(&t, at);
    }
    log_turn(&t, err);
    res->tokens_sent = t.tokens_sent;
    res->reply_id = err == ROSE_OK ? t.reply_id : 0;
    if (err == ROSE_OK && (res->body = answer_body(&t, 1)) == NULL)
        err = ROSE_ERR_NOMEM;
    json_object_put(t.state);
    free(t.name);
    while (t.nmemories > 0)
        free(t.memories[--t.nmemories]);
    free(t.memories);
    return err;
}
