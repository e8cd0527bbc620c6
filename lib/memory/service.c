/*
 * service.c — embedder + vector store + extraction (service.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"
#include "engines/embed_local.h"
#include "memory/extract.h"
#include "memory/service.h"
#include "pipeline/persona.h"
#include "providers/embeddings.h"
#include "providers/llm.h"
#include "resilience/call.h"

/* Memories below this cosine are not "related" enough to recall. */
#define RECALL_MIN_SCORE 0.15f

/* A provider's /embeddings answer for one short text. */
#define EMBED_RESPONSE_MAX (4 * 1024 * 1024)

struct rose_memsvc {
    const struct rose_config *cfg;
    struct rose_store *st;
    struct rose_role_info info;
    struct rose_embed_local *local; /* NULL when embeddings are hosted */
    struct rose_vectors *vec;
    char embedder[128];
    int dim;
};

static struct rose_memsvc *the; /* one per worker process */

int
rose_memory_enabled(const struct rose_config *cfg)
{
    return strcmp(cfg->long_term_memory, "on") == 0;
}

/* ----------------------------------------------------------- embedding */

struct embed_attempt {
    struct rose_embed_opts o;
    const char *const *texts;
    size_t n;
    struct rose_embed_result r;
};

static enum rose_err
embed_attempt(void *arg, long timeout_ms, struct rose_attempt *a)
{
    struct embed_attempt *x = arg;
    enum rose_err err;

    rose_embed_result_free(&x->r);
    memset(&x->r, 0, sizeof(x->r));
    x->o.timeout_ms = timeout_ms;
    if (x->o.connect_timeout_ms > timeout_ms)
        x->o.connect_timeout_ms = timeout_ms;
    err = rose_embed_texts(&x->o, x->texts, x->n, &x->r);
    a->http_status = x->r.http_status;
    a->retry_after_s = x->r.retry_after_s;
    a->error_type = x->r.error_type;
    return err;
}

/* Embed n texts into out (n * dim floats), hosted or local.  The vector
 * store calls this too, to re-embed rows made by another embedder. */
static enum rose_err
embed_many(void *arg, const char *const *texts, size_t n, float *out)
{
    struct rose_memsvc *m = arg;
    size_t i;
    enum rose_err err = ROSE_OK;

    if (m->local != NULL) {
        for (i = 0; i < n; i++) {
            err = rose_embed_local_text(m->local, texts[i], out + i * (size_t)m->dim);
            if (err == ROSE_ERR_EMPTY)
                err = ROSE_OK; /* no known word: a zero vector, matching nothing */
            if (err != ROSE_OK)
                return err;
        }
        return ROSE_OK;
    }
    {
        struct embed_attempt x;
        struct rose_call c;
        memset(&x, 0, sizeof(x));
        x.o.base_url = m->info.base_url;
        x.o.api_key = m->info.api_key;
        x.o.model = m->cfg->embeddings_model;
        x.o.dim = m->dim;
        x.o.connect_timeout_ms = m->cfg->provider_connect_timeout_ms;
        x.o.max_response_bytes = EMBED_RESPONSE_MAX;
        x.texts = texts;
        x.n = n;
        memset(&c, 0, sizeof(c));
        c.cfg = m->cfg;
        c.st = m->st;
        c.role = "embeddings";
        c.provider = m->info.provider;
        c.what = "embed";
        c.deadline_ms = rose_mono_ms() + (double)m->cfg->provider_timeout_seconds * 1000.0;
        err = rose_resilient_call(&c, embed_attempt, &x);
        if (err == ROSE_OK && (x.r.n != n || x.r.dim != m->dim))
            err = ROSE_ERR_UPSTREAM;
        if (err == ROSE_OK)
            memcpy(out, x.r.vectors, n * (size_t)m->dim * sizeof(float));
        rose_embed_result_free(&x.r);
    }
    return err;
}

/* The hosted embedder's size, when the configuration does not say: ask. */
static enum rose_err
discover_dim(struct rose_memsvc *m)
{
    static const char *const probe[] = {"dimension"};
    struct embed_attempt x;
    enum rose_err err;

    memset(&x, 0, sizeof(x));
    x.o.base_url = m->info.base_url;
    x.o.api_key = m->info.api_key;
    x.o.model = m->cfg->embeddings_model;
    x.o.connect_timeout_ms = m->cfg->provider_connect_timeout_ms;
    x.o.max_response_bytes = EMBED_RESPONSE_MAX;
    x.texts = probe;
    x.n = 1;
    {
        struct rose_attempt a;
        memset(&a, 0, sizeof(a));
        err = embed_attempt(&x, m->cfg->provider_timeout_seconds * 1000, &a);
    }
    if (err == ROSE_OK)
        m->dim = x.r.dim;
    rose_embed_result_free(&x.r);
    return err;
}

/* -------------------------------------------------------------- service */

static void
memsvc_free(struct rose_memsvc *m)
{
    if (m == NULL)
        return;
    rose_vectors_close(m->vec);
    rose_embed_local_close(m->local);
    free(m);
}

enum rose_err
rose_memsvc_get(const struct rose_config *cfg, struct rose_store *st, struct rose_memsvc **out)
{
    struct rose_memsvc *m;
    struct rose_vectors_opts vo;
    struct rose_role_info vs;
    enum rose_err err;

    if (the != NULL && the->st == st) {
        *out = the;
        return ROSE_OK;
    }
    memsvc_free(the);
    the = NULL;
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return ROSE_ERR_NOMEM;
    m->cfg = cfg;
    m->st = st;
    rose_config_role(cfg, ROSE_ROLE_EMBEDDINGS, &m->info);
    if (m->info.mode == ROSE_MODE_HOSTED) {
        m->dim = (int)cfg->embeddings_dim;
        if (m->dim == 0 && (err = discover_dim(m)) != ROSE_OK) {
            rose_logf(ROSE_LOG_ERROR, "memory_unavailable",
                      "cannot learn the embeddings provider's vector size");
            goto fail;
        }
        snprintf(m->embedder, sizeof(m->embedder), "%s:%s:%d", m->info.provider,
                 cfg->embeddings_model, m->dim);
    } else {
        if ((err = rose_embed_local_open(cfg->embeddings_model_path, &m->local)) != ROSE_OK) {
            rose_logf(ROSE_LOG_ERROR, "memory_unavailable",
                      "cannot open the local embedding model (EMBEDDINGS_MODEL_PATH)");
            goto fail;
        }
        m->dim = rose_embed_local_dim(m->local);
        /* The id names this very model: a retrained one is another vector
         * space, and the store re-embeds rows made by any other. */
        snprintf(m->embedder, sizeof(m->embedder), "%s", rose_embed_local_id(m->local));
    }
    memset(&vo, 0, sizeof(vo));
    rose_config_role(cfg, ROSE_ROLE_VECTOR_STORE, &vs);
    vo.backend = vs.mode == ROSE_MODE_HOSTED ? ROSE_VECTORS_QDRANT : ROSE_VECTORS_SQLITE;
    vo.embedder = m->embedder;
    vo.dim = m->dim;
    vo.embed = embed_many;
    vo.embed_arg = m;
    vo.st = st;
    vo.qdrant.url = cfg->qdrant_url;
    vo.qdrant.api_key = cfg->qdrant_api_key;
    vo.qdrant.connect_timeout_ms = cfg->provider_connect_timeout_ms;
    vo.qdrant.timeout_ms = cfg->provider_timeout_seconds * 1000;
    vo.qdrant.max_response_bytes = EMBED_RESPONSE_MAX;
    if ((err = rose_vectors_open(&vo, &m->vec)) != ROSE_OK ||
        (err = rose_vectors_prepare(m->vec)) != ROSE_OK) {
        rose_logf(ROSE_LOG_ERROR, "memory_unavailable", "vector store: %s",
                  m->vec ? rose_vectors_status(m->vec)->message : "cannot open");
        goto fail;
    }
    the = m;
    *out = m;
    return ROSE_OK;
fail:
    memsvc_free(m);
    return err == ROSE_OK ? ROSE_ERR_UNAVAILABLE : err;
}

struct rose_vectors *
rose_memsvc_vectors(struct rose_memsvc *m)
{
    return m->vec;
}

enum rose_err
rose_memsvc_recall(struct rose_memsvc *m, const char *user_id, const char *text, int k,
                   struct rose_memory **out, size_t *n)
{
    float *v;
    enum rose_err err;

    *out = NULL;
    *n = 0;
    if ((v = calloc((size_t)m->dim, sizeof(float))) == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = embed_many(m, &text, 1, v)) == ROSE_OK)
        err = rose_vectors_search(m->vec, user_id, v, k, RECALL_MIN_SCORE, out, n);
    free(v);
    return err;
}

/* Is w (lowercase, n bytes) a word that carries content? */
static int
content_word(const char *w, size_t n)
{
    static const char *const common[] = {
        "the", "and", "her", "his", "their", "they", "them", "she", "him", "for", "with",
        "was", "were", "are", "has", "have", "had", "been", "that", "this", "who", "from",
        "into", "about", "since", "when", "very", "just", "still", "also", "its", "our",
    };
    size_t i;

    if (n < 3)
        return 0;
    for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (strlen(common[i]) == n && strncmp(common[i], w, n) == 0)
            return 0;
    return 1;
}

/* Does old hold every content word of new (as whole words, any case)? */
static int
covers(const char *old, const char *new_text)
{
    char o[ROSE_MEMORY_TEXT_MAX + 3], w[64];
    const char *p = new_text;
    size_t i, n;

    /* " old " in lowercase, words separated by single spaces */
    for (i = 0, n = 1, o[0] = ' '; old[i] && n + 2 < sizeof(o); i++)
        o[n++] = isalnum((unsigned char)old[i]) ? (char)tolower((unsigned char)old[i]) : ' ';
    o[n++] = ' ';
    o[n] = '\0';
    while (*p) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        for (n = 0; isalnum((unsigned char)p[n]) && n + 2 < sizeof(w); n++)
            w[n + 1] = (char)tolower((unsigned char)p[n]);
        if (n == 0)
            break;
        if (content_word(w + 1, n)) {
            w[0] = ' ';
            w[n + 1] = ' ';
            w[n + 2] = '\0';
            if (strstr(o, w) == NULL)
                return 0;
        }
        p += n;
        while (isalnum((unsigned char)*p))
            p++;
    }
    return 1;
}

/*
 * A near-duplicate: as close as MEMORY_DUPLICATE_THRESHOLD and saying no
 * new content word.  The cosine alone cannot tell "her mother passed away"
 * from "her father passed away" (0.97 with the local embedder): both are
 * worth keeping.
 */
static enum rose_err
has_duplicate(struct rose_memsvc *m, const char *user_id, const float *v, const char *text,
              int *dup)
{
    struct rose_memory *near = NULL;
    size_t n = 0, i;
    enum rose_err err;

    *dup = 0;
    err = rose_vectors_search(m->vec, user_id, v, 5, (float)m->cfg->memory_duplicate_threshold,
                              &near, &n);
    for (i = 0; err == ROSE_OK && i < n && !*dup; i++)
        *dup = covers(near[i].text, text);
    rose_memories_free(near, n);
    return err;
}

enum rose_err
rose_memsvc_remember(struct rose_memsvc *m, const char *user_id, const char *session_id,
                     const char *text, enum rose_memory_type type, int *stored)
{
    struct rose_memory mem;
    float *v;
    int dup = 0;
    enum rose_err err;

    *stored = 0;
    if ((v = calloc((size_t)m->dim, sizeof(float))) == NULL)
        return ROSE_ERR_NOMEM;
    if ((err = embed_many(m, &text, 1, v)) != ROSE_OK)
        goto out;
    if ((err = has_duplicate(m, user_id, v, text, &dup)) != ROSE_OK || dup)
        goto out; /* a near-duplicate is already kept */
    memset(&mem, 0, sizeof(mem));
    rose_uuid_new(mem.id);
    snprintf(mem.user_id, sizeof(mem.user_id), "%s", user_id);
    snprintf(mem.session_id, sizeof(mem.session_id), "%s", session_id ? session_id : "");
    mem.text = (char *)text;
    mem.type = type;
    mem.created_at = rose_now_ms();
    if ((err = rose_vectors_add(m->vec, &mem, v)) == ROSE_OK)
        *stored = 1;
out:
    free(v);
    return err;
}

/* ----------------------------------------------------------- extraction */

struct llm_extract {
    struct rose_llm_opts o;
    struct rose_llm_msg msgs[2];
    struct rose_llm_result r;
};

static enum rose_err
extract_attempt(void *arg, long timeout_ms, struct rose_attempt *a)
{
    struct llm_extract *x = arg;
    enum rose_err err;

    rose_llm_result_free(&x->r);
    memset(&x->r, 0, sizeof(x->r));
    x->o.timeout_ms = timeout_ms;
    if (x->o.connect_timeout_ms > timeout_ms)
        x->o.connect_timeout_ms = timeout_ms;
    err = rose_llm_complete(&x->o, x->msgs, 2, &x->r);
    a->http_status = x->r.http_status;
    a->retry_after_s = x->r.retry_after_s;
    a->error_type = x->r.error_type;
    return err;
}

static void
log_outcome(const char *outcome, enum rose_memory_type type)
{
    struct json_object *f = json_object_new_object();

    if (f != NULL) {
        json_object_object_add(f, "outcome", json_object_new_string(outcome));
        if (rose_memory_type_name(type) != NULL)
            json_object_object_add(f, "memory_type",
                                   json_object_new_string(rose_memory_type_name(type)));
    }
    rose_log(ROSE_LOG_INFO, "memory_extract", f);
}

void
rose_memory_extract_run(const struct rose_config *cfg, struct rose_store *st, const char *user_id,
                        const char *session_id, const char *message)
{
    struct rose_role_info llm;
    struct rose_memsvc *m = NULL;
    enum rose_memory_type type = ROSE_MEMORY__MAX;
    char *memory = NULL;
    int stored = 0;
    enum rose_err err;

    rose_config_role(cfg, ROSE_ROLE_LLM, &llm);
    if (llm.mode == ROSE_MODE_HOSTED) {
        struct llm_extract x;
        struct rose_call c;
        memset(&x, 0, sizeof(x));
        x.o.base_url = llm.base_url;
        x.o.api_key = llm.api_key;
        x.o.model = cfg->llm_small_model;
        x.o.temperature = 0;
        x.o.max_tokens = 200;
        x.o.connect_timeout_ms = cfg->provider_connect_timeout_ms;
        x.o.max_response_bytes = 64 * 1024;
        x.msgs[0].role = "system";
        x.msgs[0].content = rose_persona_memory_prompt();
        x.msgs[1].role = "user";
        x.msgs[1].content = message;
        memset(&c, 0, sizeof(c));
        c.cfg = cfg;
        c.st = st;
        c.role = "llm";
        c.provider = llm.provider;
        c.what = "memory_extract";
        c.deadline_ms = rose_mono_ms() + (double)cfg->provider_timeout_seconds * 1000.0;
        err = rose_resilient_call(&c, extract_attempt, &x);
        if (err == ROSE_OK)
            err = rose_memory_parse_llm(x.r.text, strlen(x.r.text), &memory, &type);
        rose_llm_result_free(&x.r);
        if (err == ROSE_ERR_PARSE) {
            log_outcome("malformed_model_answer", ROSE_MEMORY__MAX);
            return;
        }
    } else {
        err = rose_memory_extract_offline(message, &memory, &type);
    }
    if (err == ROSE_ERR_NOT_FOUND) {
        log_outcome("not_important", ROSE_MEMORY__MAX);
        return;
    }
    if (err != ROSE_OK) {
        log_outcome("extract_failed", ROSE_MEMORY__MAX);
        return;
    }
    if ((err = rose_memsvc_get(cfg, st, &m)) == ROSE_OK)
        err = rose_memsvc_remember(m, user_id, session_id, memory, type, &stored);
    log_outcome(err != ROSE_OK ? "store_failed" : stored ? "kept" : "duplicate", type);
    free(memory);
}

struct extract_job {
    const struct rose_config *cfg;
    struct rose_store *st;
    char user_id[37];
    char session_id[37];
    char *message;
};

void *
rose_memory_extract_job(const struct rose_config *cfg, struct rose_store *st, const char *user_id,
                        const char *session_id, const char *message)
{
    struct extract_job *j;

    if (!rose_memory_enabled(cfg))
        return NULL; /* nothing to do: the job runs as a no-op */
    j = calloc(1, sizeof(*j));

    if (j == NULL || (j->message = strdup(message)) == NULL) {
        free(j);
        return NULL;
    }
    j->cfg = cfg;
    j->st = st;
    snprintf(j->user_id, sizeof(j->user_id), "%s", user_id);
    snprintf(j->session_id, sizeof(j->session_id), "%s", session_id);
    return j;
}

void
rose_memory_extract_job_run(void *arg)
{
    struct extract_job *j = arg;

    if (j == NULL)
        return;
    rose_memory_extract_run(j->cfg, j->st, j->user_id, j->session_id, j->message);
    free(j->message);
    free(j);
}
