/*
 * config.c — the key table, the KEY=VALUE reader and the validators.
 *
 * Every value is first gathered as a string (default, then file, then
 * environment), then each is validated and converted once into struct
 * rose_config.  Keeping the raw strings until the end means the error
 * message can name where a value came from and what range was allowed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/limits.h"
#include "resilience/ratelimit.h"

enum ctype {
    C_STR,    /* any text without control characters */
    C_SECRET, /* like C_STR, never echoed, may come from KEY_FILE */
    C_URL,    /* "" or http(s)://... */
    C_INT,    /* integer in [lo, hi] */
    C_REAL,   /* real number in [lo, hi] */
    C_ENUM,   /* one of choices (comma-separated) */
    C_ORIGINS /* "" or comma-separated http(s)://host[:port] */
};

struct key {
    const char *name;
    enum ctype type;
    size_t off;
    const char *def;
    double lo, hi;
    const char *choices;
};

#define S(n, f, d) {n, C_STR, offsetof(struct rose_config, f), d, 0, 0, NULL}
#define K(n, f) {n, C_SECRET, offsetof(struct rose_config, f), "", 0, 0, NULL}
#define U(n, f, d) {n, C_URL, offsetof(struct rose_config, f), d, 0, 0, NULL}
#define I(n, f, d, lo, hi) {n, C_INT, offsetof(struct rose_config, f), d, lo, hi, NULL}
#define R(n, f, d, lo, hi) {n, C_REAL, offsetof(struct rose_config, f), d, lo, hi, NULL}
#define E(n, f, d, ch) {n, C_ENUM, offsetof(struct rose_config, f), d, 0, 0, ch}

static const struct key keys[] = {
    S("DATA_DIR", data_dir, "/var/lib/rose"),
    S("DATABASE_PATH", database_path, ""),
    S("BACKUP_DIR", backup_dir, ""),
    E("LOG_LEVEL", log_level, "info", "debug,info,warn,error"),
    {"ALLOWED_ORIGINS", C_ORIGINS, offsetof(struct rose_config, allowed_origins), "", 0, 0, NULL},
    S("TRUSTED_PROXIES", trusted_proxies, ""),
    K("ADMIN_TOKEN", admin_token),
    I("MAX_MESSAGE_BYTES", max_message_bytes, "4000", 1, 16000),
    I("MAX_AUDIO_BYTES", max_audio_bytes, "10485760", 1024, 10485760),
    I("MAX_AUDIO_SECONDS", max_audio_seconds, "60", 1, 300),
    I("RATE_LIMIT_PER_MINUTE", rate_limit_per_minute, "10", 1, 100000),
    I("RATE_LIMIT_HEALTH_PER_MINUTE", rate_limit_health_per_minute, "60", 1, 100000),
    I("WORKFLOW_TIMEOUT_SECONDS", workflow_timeout_seconds, "60", 1, 600),
    I("PROVIDER_CONNECT_TIMEOUT_MS", provider_connect_timeout_ms, "5000", 100, 60000),
    I("PROVIDER_TIMEOUT_SECONDS", provider_timeout_seconds, "30", 1, 600),
    I("CIRCUIT_BREAKER_FAILURE_THRESHOLD", breaker_threshold, "5", 1, 1000),
    I("CIRCUIT_BREAKER_RECOVERY_TIMEOUT", breaker_recovery_seconds, "60", 1, 86400),
    I("RETRY_MAX_ATTEMPTS", retry_max_attempts, "3", 1, 10),
    I("RETRY_BASE_DELAY_MS", retry_base_delay_ms, "1000", 0, 60000),
    I("RETRY_MAX_DELAY_MS", retry_max_delay_ms, "10000", 0, 600000),
    U("LLM_BASE_URL", llm_base_url, "https://api.groq.com/openai/v1"),
    K("LLM_API_KEY", llm_api_key),
    K("GROQ_API_KEY", groq_api_key),
    S("LLM_MODEL", llm_model, "llama-3.3-70b-versatile"),
    S("LLM_SMALL_MODEL", llm_small_model, "llama-3.1-8b-instant"),
    R("LLM_TEMPERATURE", llm_temperature, "0.7", 0, 2),
    I("LLM_MAX_TOKENS", llm_max_tokens, "300", 1, 32768),
    U("STT_BASE_URL", stt_base_url, "https://api.groq.com/openai/v1"),
    K("STT_API_KEY", stt_api_key),
    S("STT_MODEL", stt_model, "whisper-large-v3-turbo"),
    S("STT_LANGUAGE", stt_language, "en"),
    E("TTS_PROVIDER", tts_provider, "elevenlabs", "elevenlabs,openai"),
    U("TTS_BASE_URL", tts_base_url, "https://api.elevenlabs.io"),
    K("ELEVENLABS_API_KEY", elevenlabs_api_key),
    K("TTS_API_KEY", tts_api_key),
    S("ELEVENLABS_VOICE_ID", elevenlabs_voice_id, "21m00Tcm4TlvDq8ikWAM"),
    S("TTS_MODEL", tts_model, "eleven_flash_v2_5"),
    S("TTS_VOICE", tts_voice, "alloy"),
    U("IMAGE_BASE_URL", image_base_url, "https://api.together.xyz/v1"),
    K("TOGETHER_API_KEY", together_api_key),
    S("IMAGE_MODEL", image_model, "black-forest-labs/FLUX.1-schnell"),
    U("VISION_BASE_URL", vision_base_url, "https://api.groq.com/openai/v1"),
    K("VISION_API_KEY", vision_api_key),
    S("VISION_MODEL", vision_model, "meta-llama/llama-4-scout-17b-16e-instruct"),
    U("EMBEDDINGS_BASE_URL", embeddings_base_url, "https://api.openai.com/v1"),
    K("EMBEDDINGS_API_KEY", embeddings_api_key),
    S("EMBEDDINGS_MODEL", embeddings_model, "text-embedding-3-small"),
    I("EMBEDDINGS_DIM", embeddings_dim, "0", 0, 8192),
    S("EMBEDDINGS_MODEL_PATH", embeddings_model_path, "/usr/local/share/rose/rose-embed.bin"),
    E("VECTOR_STORE", vector_store, "sqlite", "sqlite,qdrant"),
    U("QDRANT_URL", qdrant_url, ""),
    K("QDRANT_API_KEY", qdrant_api_key),
    E("LONG_TERM_MEMORY", long_term_memory, "on", "on,off"),
    I("MEMORY_TOP_K", memory_top_k, "3", 1, 20),
    R("MEMORY_DUPLICATE_THRESHOLD", memory_duplicate_threshold, "0.90", 0.5, 1.0),
    I("SUMMARY_TRIGGER", summary_trigger, "20", 4, 1000),
    I("SUMMARY_KEEP", summary_keep, "5", 1, 100),
    I("AUDIO_RETENTION_HOURS", audio_retention_hours, "24", 1, 87600),
    I("SESSION_RETENTION_DAYS", session_retention_days, "7", 1, 3650),
    I("BACKUP_KEEP", backup_keep, "7", 1, 365),
    U("WHATSAPP_API_URL", whatsapp_api_url, "https://graph.facebook.com/v21.0"),
    K("WHATSAPP_VERIFY_TOKEN", whatsapp_verify_token),
    K("WHATSAPP_APP_SECRET", whatsapp_app_secret),
    K("WHATSAPP_ACCESS_TOKEN", whatsapp_access_token),
    S("WHATSAPP_PHONE_NUMBER_ID", whatsapp_phone_number_id, ""),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Where a raw value came from, for error messages. */
enum origin { FROM_DEFAULT, FROM_FILE, FROM_ENV };

struct raw {
    char *val[NKEYS];
    enum origin from[NKEYS];
    int line[NKEYS];
};

const char *
rose_config_key_name(size_t i)
{
    return i < NKEYS ? keys[i].name : NULL;
}

static int
find_key(const char *name, size_t n)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        if (strlen(keys[i].name) == n && memcmp(keys[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

static enum rose_err
set_raw(struct raw *r, int k, const char *v, enum origin from, int line)
{
    char *p = strdup(v);

    if (p == NULL)
        return ROSE_ERR_NOMEM;
    free(r->val[k]);
    r->val[k] = p;
    r->from[k] = from;
    r->line[k] = line;
    return ROSE_OK;
}

static enum rose_err slurp(const char *what, const char *path, size_t max, int private_only,
                           char **out, size_t *outlen, char *eb, size_t el);

/*
 * Read a secret from a file: it must be a regular file that neither group
 * nor others can read (keys do not belong in world-readable files), at most
 * ROSE_SECRET_FILE_MAX bytes.  Trailing whitespace is dropped.
 */
static enum rose_err
read_secret_file(const char *name, const char *path, char **out, char *eb, size_t el)
{
    char what[96], *buf = NULL;
    size_t len = 0;
    enum rose_err err;

    snprintf(what, sizeof(what), "%s_FILE", name);
    if ((err = slurp(what, path, ROSE_SECRET_FILE_MAX, 1, &buf, &len, eb, el)) != ROSE_OK)
        return err;
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        buf[--len] = '\0';
    *out = buf;
    return ROSE_OK;
}

/*
 * Take one NAME=VALUE (from the file or the environment).  NAME_FILE sets a
 * secret from a file.  An unknown name is an error only in the file (the
 * environment holds many unrelated variables).
 */
static enum rose_err
take(struct raw *r, const char *name, size_t nlen, const char *val, enum origin from, int line,
     char *eb, size_t el)
{
    int k = find_key(name, nlen);
    char *secret = NULL;
    enum rose_err err;

    if (k >= 0)
        return set_raw(r, k, val, from, line);
    if (nlen > 5 && memcmp(name + nlen - 5, "_FILE", 5) == 0) {
        k = find_key(name, nlen - 5);
        if (k >= 0 && keys[k].type == C_SECRET) {
            if (*val == '\0')
                return ROSE_OK;
            if ((err = read_secret_file(keys[k].name, val, &secret, eb, el)) != ROSE_OK)
                return err;
            err = set_raw(r, k, secret, from, line);
            explicit_bzero(secret, strlen(secret));
            free(secret);
            return err;
        }
    }
    if (from == FROM_FILE) {
        snprintf(eb, el, "line %d: unknown key '%.*s'", line, (int)(nlen > 64 ? 64 : nlen), name);
        return ROSE_ERR_CONFIG;
    }
    return ROSE_OK;
}

/*
 * Read a whole file of at most max bytes: a regular file only (a FIFO or a
 * device would block or never end), opened without blocking; with
 * private_only, one that neither group nor others may read (checked on the
 * opened file, so it cannot be swapped between check and read).  *out is
 * NUL-terminated; the caller frees it.
 */
static enum rose_err
slurp(const char *what, const char *path, size_t max, int private_only, char **out,
      size_t *outlen, char *eb, size_t el)
{
    int fd;
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    enum rose_err err = ROSE_ERR_CONFIG;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
        snprintf(eb, el, "%s=%s: cannot open: %s", what, path, strerror(errno));
        return ROSE_ERR_CONFIG;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(eb, el, "%s=%s: not a regular file", what, path);
        goto out;
    }
    if (private_only && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        snprintf(eb, el, "%s=%s: must not be readable by group or others (chmod 600)", what,
                 path);
        goto out;
    }
    if ((buf = malloc(max + 2)) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    while (len <= max && (n = read(fd, buf + len, max + 1 - len)) > 0)
        len += (size_t)n;
    if (len > max) {
        snprintf(eb, el, "%s=%s: larger than %zu bytes", what, path, max);
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    buf = NULL;
    err = ROSE_OK;
out:
    free(buf);
    close(fd);
    return err;
}

/* Parse the KEY=VALUE file: '#' comments, blank lines, optional quotes. */
static enum rose_err
read_file(struct raw *r, const char *path, char *eb, size_t el)
{
    char *text = NULL, *line, *next;
    size_t len;
    int lineno = 0;
    enum rose_err err;

    if ((err = slurp("ROSE_CONF", path, ROSE_CONF_FILE_MAX, 0, &text, &len, eb, el)) != ROSE_OK)
        return err;
    if (memchr(text, '\0', len) != NULL) {
        snprintf(eb, el, "%s: contains a NUL byte; not a text file", path);
        free(text);
        return ROSE_ERR_CONFIG;
    }
    for (line = text; err == ROSE_OK && line < text + len; line = next) {
        char *p, *eq, *v, *end, *nl = strchr(line, '\n');
        size_t n;

        next = nl ? nl + 1 : text + len;
        if (nl)
            *nl = '\0';
        lineno++;
        n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        if (n > ROSE_CONF_LINE_MAX) {
            snprintf(eb, el, "%s line %d: longer than %d bytes", path, lineno,
                     ROSE_CONF_LINE_MAX);
            err = ROSE_ERR_CONFIG;
            break;
        }
        for (p = line; *p == ' ' || *p == '\t'; p++)
            ;
        if (*p == '\0' || *p == '#')
            continue;
        if ((eq = strchr(p, '=')) == NULL) {
            snprintf(eb, el, "%s line %d: expected KEY=VALUE", path, lineno);
            err = ROSE_ERR_CONFIG;
            break;
        }
        for (end = eq; end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
            ;
        for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (*v == '"' || *v == '\'') {
            /* Quoted: the value is what is between the quotes. */
            char *close = strchr(v + 1, *v);
            char after = close ? close[1 + strspn(close + 1, " \t")] : '\0';
            if (close == NULL || (after != '\0' && after != '#')) {
                snprintf(eb, el, "%s line %d: unbalanced quote", path, lineno);
                err = ROSE_ERR_CONFIG;
                break;
            }
            *close = '\0';
            v++;
        } else {
            /* Unquoted: a '#' after white space starts a comment. */
            char *c;
            for (c = v; *c; c++)
                if (*c == '#' && (c[-1] == ' ' || c[-1] == '\t'))
                    break;
            *c = '\0';
            n = strlen(v);
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                v[--n] = '\0';
        }
        err = take(r, p, (size_t)(end - p), v, FROM_FILE, lineno, eb, el);
    }
    free(text);
    return err;
}

static void
read_env(struct raw *r, char *eb, size_t el, enum rose_err *err)
{
    size_t i;
    char name[128];

    for (i = 0; i < NKEYS && *err == ROSE_OK; i++) {
        const char *v = getenv(keys[i].name);

        if (v != NULL)
            *err = take(r, keys[i].name, strlen(keys[i].name), v, FROM_ENV, 0, eb, el);
        if (*err == ROSE_OK && keys[i].type == C_SECRET) {
            snprintf(name, sizeof(name), "%s_FILE", keys[i].name);
            if ((v = getenv(name)) != NULL)
                *err = take(r, name, strlen(name), v, FROM_ENV, 0, eb, el);
        }
    }
}

static int
has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static int
valid_url(const char *s)
{
    const char *host;

    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else
        return 0;
    if (*host == '\0' || *host == '/')
        return 0;
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return 0;
    return 1;
}

static int
in_choices(const char *v, const char *choices)
{
    size_t n = strlen(v);
    const char *p = choices;

    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && memcmp(p, v, n) == 0 && n > 0)
            return 1;
        if (c == NULL)
            break;
        p = c + 1;
    }
    return 0;
}

/* host[:port] as a browser sends it in Origin: letters, digits, '-', '.',
 * and an optional port of digits; nothing else (no path, user or query). */
static int
valid_host_port(const char *s)
{
    size_t h = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
    size_t p;

    if (h == 0)
        return 0;
    if (s[h] == '\0')
        return 1;
    if (s[h] != ':')
        return 0;
    p = strspn(s + h + 1, "0123456789");
    return p >= 1 && p <= 5 && s[h + 1 + p] == '\0';
}

/* Each comma-separated origin must be scheme://host[:port] with no path. */
static int
valid_origins(const char *v)
{
    char buf[ROSE_CONF_LINE_MAX + 1], *save = NULL, *tok;
    int n = 0;

    if (*v == '\0')
        return 1;
    snprintf(buf, sizeof(buf), "%s", v);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const char *host;
        while (*tok == ' ')
            tok++;
        if (!valid_url(tok))
            return 0;
        host = strstr(tok, "://") + 3;
        if (!valid_host_port(host) || ++n > ROSE_LIST_MAX)
            return 0;
    }
    return n > 0;
}

static const char *
origin_desc(const struct raw *r, size_t k, char *buf, size_t len)
{
    if (r->from[k] == FROM_FILE)
        snprintf(buf, len, " (config line %d)", r->line[k]);
    else if (r->from[k] == FROM_ENV)
        snprintf(buf, len, " (environment)");
    else
        snprintf(buf, len, " (default)");
    return buf;
}

/* Validate raw value k and store it in cfg. */
static enum rose_err
convert(struct rose_config *cfg, const struct raw *r, size_t k, char *eb, size_t el)
{
    const struct key *key = &keys[k];
    const char *v = r->val[k];
    char *slot = (char *)cfg + key->off;
    char where[48];
    char *end;

    origin_desc(r, k, where, sizeof(where));
    if (key->type == C_SECRET) {
        if (has_ctl(v) || strlen(v) > ROSE_SECRET_FILE_MAX) {
            snprintf(eb, el, "%s: must be printable text%s", key->name, where);
            return ROSE_ERR_CONFIG;
        }
    } else if (has_ctl(v) || strlen(v) > ROSE_CONF_LINE_MAX) {
        snprintf(eb, el, "%s: must be printable text on one line%s", key->name, where);
        return ROSE_ERR_CONFIG;
    }
    switch (key->type) {
    case C_INT: {
        long x;
        errno = 0;
        x = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno != 0 || x < (long)key->lo || x > (long)key->hi) {
            snprintf(eb, el, "%s=%.40s: must be %ld..%ld%s", key->name, v, (long)key->lo,
                     (long)key->hi, where);
            return ROSE_ERR_CONFIG;
        }
        *(long *)(void *)slot = x;
        return ROSE_OK;
    }
    case C_REAL: {
        double x;
        errno = 0;
        x = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(x) || x < key->lo ||
            x > key->hi) {
            snprintf(eb, el, "%s=%.40s: must be a number in %g..%g%s", key->name, v, key->lo,
                     key->hi, where);
            return ROSE_ERR_CONFIG;
        }
        *(double *)(void *)slot = x;
        return ROSE_OK;
    }
    case C_ENUM:
        if (!in_choices(v, key->choices)) {
            snprintf(eb, el, "%s=%.40s: must be one of %s%s", key->name, v, key->choices, where);
            return ROSE_ERR_CONFIG;
        }
        break;
    case C_URL:
        if (*v != '\0' && !valid_url(v)) {
            snprintf(eb, el, "%s=%.80s: must be an http:// or https:// URL%s", key->name, v,
                     where);
            return ROSE_ERR_CONFIG;
        }
        break;
    case C_ORIGINS:
        if (!valid_origins(v)) {
            snprintf(eb, el,
                     "%s=%.80s: must be a comma-separated list of at most %d origins like "
                     "https://example.org%s",
                     key->name, v, ROSE_LIST_MAX, where);
            return ROSE_ERR_CONFIG;
        }
        break;
    case C_STR:
    case C_SECRET:
        break;
    }
    if ((*(char **)(void *)slot = strdup(v)) == NULL)
        return ROSE_ERR_NOMEM;
    return ROSE_OK;
}

/* Cross-key rules and derived paths. */
static enum rose_err
finish(struct rose_config *c, char *eb, size_t el)
{
    char *p;

    if (c->data_dir[0] == '\0') {
        snprintf(eb, el, "DATA_DIR: must not be empty");
        return ROSE_ERR_CONFIG;
    }
    if (c->summary_keep >= c->summary_trigger) {
        snprintf(eb, el, "SUMMARY_KEEP=%ld: must be less than SUMMARY_TRIGGER (%ld)",
                 c->summary_keep, c->summary_trigger);
        return ROSE_ERR_CONFIG;
    }
    if (c->retry_base_delay_ms > c->retry_max_delay_ms) {
        snprintf(eb, el, "RETRY_BASE_DELAY_MS=%ld: must not exceed RETRY_MAX_DELAY_MS (%ld)",
                 c->retry_base_delay_ms, c->retry_max_delay_ms);
        return ROSE_ERR_CONFIG;
    }
    if (rose_ratelimit_proxies_check(c->trusted_proxies, eb, el) != ROSE_OK)
        return ROSE_ERR_CONFIG;
    if (strcmp(c->vector_store, "qdrant") == 0 && c->qdrant_url[0] == '\0') {
        snprintf(eb, el, "VECTOR_STORE=qdrant: needs QDRANT_URL");
        return ROSE_ERR_CONFIG;
    }
    if (c->database_path[0] == '\0') {
        if (asprintf(&p, "%s/rose.db", c->data_dir) < 0)
            return ROSE_ERR_NOMEM;
        free(c->database_path);
        c->database_path = p;
    }
    if (c->backup_dir[0] == '\0') {
        if (asprintf(&p, "%s/backups", c->data_dir) < 0)
            return ROSE_ERR_NOMEM;
        free(c->backup_dir);
        c->backup_dir = p;
    }
    return ROSE_OK;
}

enum rose_err
rose_config_load(const char *path, struct rose_config **out, char *eb, size_t el)
{
    struct raw r;
    struct rose_config *cfg = NULL;
    enum rose_err err = ROSE_OK;
    size_t i;

    memset(&r, 0, sizeof(r));
    if (el)
        eb[0] = '\0';
    for (i = 0; i < NKEYS && err == ROSE_OK; i++)
        err = set_raw(&r, (int)i, keys[i].def, FROM_DEFAULT, 0);
    if (err != ROSE_OK)
        goto out;
    if (path == NULL)
        path = getenv("ROSE_CONF");
    if (path != NULL && *path != '\0' && (err = read_file(&r, path, eb, el)) != ROSE_OK)
        goto out;
    read_env(&r, eb, el, &err);
    if (err != ROSE_OK)
        goto out;
    if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
        err = ROSE_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < NKEYS && err == ROSE_OK; i++)
        err = convert(cfg, &r, i, eb, el);
    if (err == ROSE_OK)
        err = finish(cfg, eb, el);
    if (err == ROSE_OK) {
        *out = cfg;
        cfg = NULL;
    }
out:
    if (err == ROSE_ERR_NOMEM && el)
        snprintf(eb, el, "out of memory while reading the configuration");
    for (i = 0; i < NKEYS; i++) {
        if (r.val[i] != NULL && keys[i].type == C_SECRET)
            explicit_bzero(r.val[i], strlen(r.val[i]));
        free(r.val[i]);
    }
    rose_config_free(cfg);
    return err;
}

void
rose_config_free(struct rose_config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    for (i = 0; i < NKEYS; i++) {
        enum ctype t = keys[i].type;
        char **slot;
        if (t == C_INT || t == C_REAL)
            continue;
        slot = (char **)(void *)((char *)cfg + keys[i].off);
        if (*slot != NULL && t == C_SECRET)
            explicit_bzero(*slot, strlen(*slot));
        free(*slot);
    }
    free(cfg);
}

static const char *const role_names[ROSE_ROLE__MAX] = {
    "llm", "stt", "tts", "embeddings", "vector_store", "image", "vision",
};

const char *
rose_role_name(enum rose_role role)
{
    return (int)role >= 0 && role < ROSE_ROLE__MAX ? role_names[role] : NULL;
}

/* Name the provider behind a base URL by its host, for health and logs. */
static const char *
provider_of(const char *url)
{
    static const struct {
        const char *host, *name;
    } known[] = {
        {"api.groq.com", "groq"},         {"api.elevenlabs.io", "elevenlabs"},
        {"api.together.xyz", "together"}, {"api.openai.com", "openai"},
    };
    const char *host = strstr(url, "://");
    size_t i, n;

    if (host == NULL)
        return "openai-compatible";
    host += 3;
    n = strcspn(host, ":/?#");
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].host) == n && strncasecmp(host, known[i].host, n) == 0)
            return known[i].name;
    return "openai-compatible";
}

static const char *
first_key(const char *a, const char *b)
{
    if (a != NULL && *a != '\0')
        return a;
    if (b != NULL && *b != '\0')
        return b;
    return NULL;
}

static void
hosted_or(struct rose_role_info *info, const char *url, const char *key, enum rose_role_mode fb,
          const char *fb_name)
{
    if (key != NULL && url != NULL && *url != '\0') {
        info->mode = ROSE_MODE_HOSTED;
        info->provider = provider_of(url);
        info->base_url = url;
        info->api_key = key;
    } else {
        info->mode = fb;
        info->provider = fb_name;
    }
}

void
rose_config_role(const struct rose_config *c, enum rose_role role, struct rose_role_info *info)
{
    memset(info, 0, sizeof(*info));
    switch (role) {
    case ROSE_ROLE_LLM:
        hosted_or(info, c->llm_base_url, first_key(c->llm_api_key, c->groq_api_key),
                  ROSE_MODE_OFFLINE, "companion");
        break;
    case ROSE_ROLE_STT:
        hosted_or(info, c->stt_base_url, first_key(c->stt_api_key, c->groq_api_key),
                  ROSE_MODE_OFFLINE, "pocketsphinx");
        break;
    case ROSE_ROLE_TTS:
        hosted_or(info, c->tts_base_url,
                  strcmp(c->tts_provider, "openai") == 0 ? first_key(c->tts_api_key, NULL)
                                                        : first_key(c->elevenlabs_api_key, NULL),
                  ROSE_MODE_OFFLINE, "flite");
        if (info->mode == ROSE_MODE_HOSTED && strcmp(c->tts_provider, "elevenlabs") == 0)
            info->provider = "elevenlabs";
        break;
    case ROSE_ROLE_EMBEDDINGS:
        hosted_or(info, c->embeddings_base_url, first_key(c->embeddings_api_key, NULL),
                  ROSE_MODE_OFFLINE, "local");
        break;
    case ROSE_ROLE_VECTOR_STORE:
        if (strcmp(c->vector_store, "qdrant") == 0) {
            info->mode = ROSE_MODE_HOSTED;
            info->provider = "qdrant";
            info->base_url = c->qdrant_url;
            info->api_key = first_key(c->qdrant_api_key, NULL);
        } else {
            info->mode = ROSE_MODE_EMBEDDED;
            info->provider = "sqlite";
        }
        break;
    case ROSE_ROLE_IMAGE:
        hosted_or(info, c->image_base_url, first_key(c->together_api_key, NULL),
                  ROSE_MODE_DISABLED, "none");
        break;
    case ROSE_ROLE_VISION:
        hosted_or(info, c->vision_base_url, first_key(c->vision_api_key, c->groq_api_key),
                  ROSE_MODE_DISABLED, "none");
        break;
    case ROSE_ROLE__MAX:
        info->mode = ROSE_MODE_DISABLED;
        info->provider = "none";
        break;
    }
}
