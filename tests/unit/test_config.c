/*
 * test_config.c — the configuration loader (lib/core/config.c): defaults,
 * the KEY=VALUE file, environment overrides, every validator, secrets from
 * files, cross-key rules, derived paths, the example file and the roles.
 *
 * config.c is included so the tests can walk its key table (every C_INT
 * key's range is tested, and a value can be read back by key name); the
 * expected messages and defaults below are written out by hand so that they
 * are an independent statement of what the operator sees.
 *
 * Every case starts from a clean environment: every key, every K_FILE and
 * ROSE_CONF are unset first, so the machine's environment cannot leak in.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.c"
#include "t.h"

static char tmpdir[] = "/tmp/rose-test-config-XXXXXX";

/*
 * Variables are set with putenv() on strings this file owns: setenv() keeps
 * every value it ever saw in a glibc tree that valgrind reports as possibly
 * lost.  clean_env() unsets them and frees the strings.
 */
static char *env_strings[64];
static size_t n_env;

static void
put_var(const char *name, const char *value)
{
    char *s = NULL;

    if (n_env == sizeof(env_strings) / sizeof(env_strings[0]) ||
        asprintf(&s, "%s=%s", name, value) < 0 || putenv(s) != 0)
        exit(2);
    env_strings[n_env++] = s;
}

/* Unset every variable the loader reads, and any this file set. */
static void
clean_env(void)
{
    const char *name;
    char buf[160];
    size_t i;

    for (i = 0; (name = rose_config_key_name(i)) != NULL; i++) {
        unsetenv(name);
        snprintf(buf, sizeof(buf), "%s_FILE", name);
        unsetenv(buf);
    }
    unsetenv("ROSE_CONF");
    for (i = 0; i < n_env; i++) {
        snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(env_strings[i], "="), env_strings[i]);
        unsetenv(buf);
        free(env_strings[i]);
    }
    n_env = 0;
}

/* Set variables from "KEY=VALUE" lines separated by '\n' (NULL: none). */
static void
set_env(const char *kv)
{
    char name[160], *value;

    while (kv != NULL && *kv != '\0') {
        size_t eq = strcspn(kv, "="), len = strcspn(kv, "\n");
        snprintf(name, sizeof(name), "%.*s", (int)eq, kv);
        if ((value = strndup(kv + eq + 1, len - eq - 1)) == NULL)
            exit(2);
        put_var(name, value);
        free(value);
        kv += len + (kv[len] == '\n');
    }
}

/* Write len bytes to tmpdir/name with the given mode; returns the path
 * (static storage, valid until the next call). */
static const char *
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    static char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) != 0) {
        perror(path);
        exit(2);
    }
    close(fd);
    return path;
}

static const char *
write_text(const char *name, const char *text, mode_t mode)
{
    return write_file(name, text, strlen(text), mode);
}

/* Read a loaded value back by key name, formatted as text, through the
 * table's own offsets. */
static const char *
cfg_value(const struct rose_config *cfg, const char *name, char *buf, size_t len)
{
    int k = find_key(name, strlen(name));
    const char *slot;

    if (k < 0 || cfg == NULL)
        return NULL;
    slot = (const char *)cfg + keys[k].off;
    if (keys[k].type == C_INT)
        snprintf(buf, len, "%ld", *(const long *)(const void *)slot);
    else if (keys[k].type == C_REAL)
        snprintf(buf, len, "%g", *(const double *)(const void *)slot);
    else
        snprintf(buf, len, "%s", *(char *const *)(const void *)slot);
    return buf;
}

static int
starts_with(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- defaults -------------------------------------------------------- */

static void
test_defaults(void)
{
    struct rose_config *c = NULL;
    char eb[512];
    enum rose_err err;

    clean_env();
    err = rose_config_load(NULL, &c, eb, sizeof(eb));
    T_INT(err, ROSE_OK, "defaults: loads with no file and a clean environment (%s)", eb);
    if (c == NULL)
        return;
    T_STR(c->data_dir, "/var/lib/rose", "defaults: DATA_DIR");
    T_STR(c->database_path, "/var/lib/rose/rose.db", "defaults: DATABASE_PATH derived");
    T_STR(c->backup_dir, "/var/lib/rose/backups", "defaults: BACKUP_DIR derived");
    T_STR(c->log_level, "info", "defaults: LOG_LEVEL");
    T_STR(c->allowed_origins, "", "defaults: no ALLOWED_ORIGINS");
    T_STR(c->admin_token, "", "defaults: no ADMIN_TOKEN");
    T_INT(c->max_message_bytes, ROSE_MESSAGE_MAX, "defaults: MAX_MESSAGE_BYTES");
    T_INT(c->max_audio_bytes, 10485760, "defaults: MAX_AUDIO_BYTES");
    T_INT(c->rate_limit_per_minute, 10, "defaults: RATE_LIMIT_PER_MINUTE");
    T_INT(c->workflow_timeout_seconds, 60, "defaults: WORKFLOW_TIMEOUT_SECONDS");
    T_INT(c->provider_connect_timeout_ms, 5000, "defaults: PROVIDER_CONNECT_TIMEOUT_MS");
    T_INT(c->breaker_threshold, 5, "defaults: CIRCUIT_BREAKER_FAILURE_THRESHOLD");
    T_INT(c->retry_max_attempts, 3, "defaults: RETRY_MAX_ATTEMPTS");
    T_INT(c->retry_base_delay_ms, 1000, "defaults: RETRY_BASE_DELAY_MS");
    T_INT(c->retry_max_delay_ms, 10000, "defaults: RETRY_MAX_DELAY_MS");
    T_STR(c->llm_base_url, "https://api.groq.com/openai/v1", "defaults: LLM_BASE_URL");
    T_STR(c->llm_api_key, "", "defaults: no LLM_API_KEY");
    T_STR(c->groq_api_key, "", "defaults: no GROQ_API_KEY");
    T_STR(c->llm_model, "llama-3.3-70b-versatile", "defaults: LLM_MODEL");
    T_OK(c->llm_temperature == 0.7, "defaults: LLM_TEMPERATURE 0.7");
    T_INT(c->llm_max_tokens, 300, "defaults: LLM_MAX_TOKENS");
    T_STR(c->tts_provider, "elevenlabs", "defaults: TTS_PROVIDER");
    T_INT(c->embeddings_dim, 0, "defaults: EMBEDDINGS_DIM");
    T_STR(c->vector_store, "sqlite", "defaults: VECTOR_STORE");
    T_STR(c->qdrant_url, "", "defaults: no QDRANT_URL");
    T_INT(c->memory_top_k, 3, "defaults: MEMORY_TOP_K");
    T_OK(c->memory_duplicate_threshold == 0.90, "defaults: MEMORY_DUPLICATE_THRESHOLD 0.90");
    T_INT(c->summary_trigger, 20, "defaults: SUMMARY_TRIGGER");
    T_INT(c->summary_keep, 5, "defaults: SUMMARY_KEEP");
    T_INT(c->audio_retention_hours, 24, "defaults: AUDIO_RETENTION_HOURS");
    T_INT(c->session_retention_days, 7, "defaults: SESSION_RETENTION_DAYS");
    T_INT(c->backup_keep, 7, "defaults: BACKUP_KEEP");
    T_STR(c->whatsapp_phone_number_id, "", "defaults: WHATSAPP_PHONE_NUMBER_ID");
    rose_config_free(c);

    /* ROSE_CONF="" means no file, like unset. */
    put_var("ROSE_CONF", "");
    c = NULL;
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK, "ROSE_CONF=\"\" loads defaults");
    rose_config_free(c);
    rose_config_free(NULL);
    T_OK(1, "rose_config_free(NULL) is a no-op");
}

/* ---- the KEY=VALUE file ---------------------------------------------- */

struct file_case {
    const char *what;
    const char *text; /* file contents; NUL-free */
    enum rose_err want;
    const char *msg;   /* want != OK: a substring of the message */
    const char *key;   /* want == OK: this key ... */
    const char *value; /* ... has this value (formatted as text) */
};

static const struct file_case file_cases[] = {
    {"comments and blank lines", "# a comment\n\n   \n\t# indented comment\nLOG_LEVEL=debug\n",
     ROSE_OK, NULL, "LOG_LEVEL", "debug"},
    {"inline comment after space", "LOG_LEVEL=warn # be quieter\n", ROSE_OK, NULL, "LOG_LEVEL",
     "warn"},
    {"inline comment after tab", "LOG_LEVEL=warn\t# x\n", ROSE_OK, NULL, "LOG_LEVEL", "warn"},
    {"'#' not after white space is data", "LLM_MODEL=model#1\n", ROSE_OK, NULL, "LLM_MODEL",
     "model#1"},
    {"URL fragment kept", "LLM_BASE_URL=http://127.0.0.1:9/v1#frag\n", ROSE_OK, NULL,
     "LLM_BASE_URL", "http://127.0.0.1:9/v1#frag"},
    {"double-quoted value with ' # ' inside", "LLM_MODEL=\"a # b\"\n", ROSE_OK, NULL, "LLM_MODEL",
     "a # b"},
    {"single-quoted value then a comment", "LLM_MODEL='x#y'   # comment\n", ROSE_OK, NULL,
     "LLM_MODEL", "x#y"},
    {"quoted value, comment right after", "LLM_MODEL=\"m\"#c\n", ROSE_OK, NULL, "LLM_MODEL", "m"},
    {"quoted empty value", "LLM_SMALL_MODEL=\"\"\n", ROSE_OK, NULL, "LLM_SMALL_MODEL", ""},
    {"CRLF line ends", "LOG_LEVEL=error\r\nMEMORY_TOP_K=7\r\n", ROSE_OK, NULL, "MEMORY_TOP_K", "7"},
    {"CRLF and a quoted value", "LLM_MODEL=\"q\"\r\n", ROSE_OK, NULL, "LLM_MODEL", "q"},
    {"spaces around '='", "  LOG_LEVEL \t=  warn  \n", ROSE_OK, NULL, "LOG_LEVEL", "warn"},
    {"last line without newline", "LOG_LEVEL=debug", ROSE_OK, NULL, "LOG_LEVEL", "debug"},
    {"later line wins", "MEMORY_TOP_K=4\nMEMORY_TOP_K=6\n", ROSE_OK, NULL, "MEMORY_TOP_K", "6"},
    {"empty DATABASE_PATH is derived", "DATA_DIR=/srv/r\nDATABASE_PATH=\n", ROSE_OK, NULL,
     "DATABASE_PATH", "/srv/r/rose.db"},
    {"empty file", "", ROSE_OK, NULL, "LOG_LEVEL", "info"},
    {"UTF-8 text value", "LLM_MODEL=r\xc3\xb6se\n", ROSE_OK, NULL, "LLM_MODEL", "r\xc3\xb6se"},

    {"unknown key names line and key", "LOG_LEVEL=info\nNO_SUCH_KEY=1\n", ROSE_ERR_CONFIG,
     "line 2: unknown key 'NO_SUCH_KEY'", NULL, NULL},
    {"K_FILE of a non-secret is unknown", "LOG_LEVEL_FILE=/x\n", ROSE_ERR_CONFIG,
     "unknown key 'LOG_LEVEL_FILE'", NULL, NULL},
    {"lower-case key is unknown", "log_level=info\n", ROSE_ERR_CONFIG, "unknown key 'log_level'",
     NULL, NULL},
    {"empty key", "=x\n", ROSE_ERR_CONFIG, "line 1: unknown key ''", NULL, NULL},
    {"missing '='", "# ok\nLOG_LEVEL debug\n", ROSE_ERR_CONFIG, "line 2: expected KEY=VALUE", NULL,
     NULL},
    {"unbalanced double quote", "LLM_MODEL=\"abc\n", ROSE_ERR_CONFIG, "line 1: unbalanced quote",
     NULL, NULL},
    {"text after closing quote", "LLM_MODEL=\"a\" b\n", ROSE_ERR_CONFIG, "line 1: unbalanced quote",
     NULL, NULL},
    {"bad value names the config line", "\n\nMEMORY_TOP_K=0\n", ROSE_ERR_CONFIG,
     "MEMORY_TOP_K=0: must be 1..20 (config line 3)", NULL, NULL},
    {"control character in a value", "LLM_MODEL=a\x01z\n", ROSE_ERR_CONFIG,
     "LLM_MODEL: must be printable text on one line (config line 1)", NULL, NULL},
    {"bare CR inside a value", "LLM_MODEL=a\rb\n", ROSE_ERR_CONFIG,
     "LLM_MODEL: must be printable text", NULL, NULL},
};

static void
test_file_cases(void)
{
    size_t i;

    for (i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
        const struct file_case *fc = &file_cases[i];
        struct rose_config *c = NULL;
        char eb[512], vb[5000];
        const char *path = write_text("case.conf", fc->text, 0600);
        enum rose_err err;

        clean_env();
        err = rose_config_load(path, &c, eb, sizeof(eb));
        T_INT(err, fc->want, "file: %s: error code", fc->what);
        if (fc->want != ROSE_OK) {
            T_OK(strstr(eb, fc->msg) != NULL, "file: %s: message has \"%s\"", fc->what, fc->msg);
            if (strstr(eb, fc->msg) == NULL)
                printf("#   message: %s\n", eb);
            T_OK(c == NULL, "file: %s: no config on failure", fc->what);
        } else {
            T_STR(cfg_value(c, fc->key, vb, sizeof(vb)), fc->value, "file: %s: %s", fc->what,
                  fc->key);
        }
        rose_config_free(c);
    }
}

/* Lines near ROSE_CONF_LINE_MAX, built at run time. */
static void
test_long_lines(void)
{
    struct rose_config *c = NULL;
    char eb[512], vb[ROSE_CONF_LINE_MAX + 16];
    char *text = malloc(3 * ROSE_CONF_LINE_MAX);
    const char *path;
    size_t prefix = strlen("LLM_MODEL="), n;

    if (text == NULL)
        exit(2);
    clean_env();

    /* A line of exactly ROSE_CONF_LINE_MAX bytes (newline not counted). */
    n = ROSE_CONF_LINE_MAX - prefix;
    memcpy(text, "LLM_MODEL=", prefix);
    memset(text + prefix, 'm', n);
    text[prefix + n] = '\0';
    path = write_text("max.conf", text, 0600);
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_OK,
          "file: line of exactly %d bytes, last line without newline, is accepted (%s)",
          ROSE_CONF_LINE_MAX, eb);
    T_INT(strlen(cfg_value(c, "LLM_MODEL", vb, sizeof(vb)) ? vb : ""), n,
          "file: ... and its value is kept whole");
    rose_config_free(c);
    c = NULL;

    /* The same line followed by a newline must be judged the same way: the
     * line is ROSE_CONF_LINE_MAX bytes long either way. */
    strcat(text, "\n");
    path = write_text("max_nl.conf", text, 0600);
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_OK,
          "file: line of exactly %d bytes plus '\\n' is accepted (%s)", ROSE_CONF_LINE_MAX, eb);
    rose_config_free(c);
    c = NULL;

    /* One byte over. */
    memset(text + prefix, 'm', n + 1);
    strcpy(text + prefix + n + 1, "\n");
    path = write_text("over.conf", text, 0600);
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "file: line of %d bytes is rejected", ROSE_CONF_LINE_MAX + 1);
    T_OK(strstr(eb, "line 1: longer than 4096 bytes") != NULL,
         "file: ... with a message naming the line and the limit (%s)", eb);
    rose_config_free(c);
    c = NULL;

    /* Far over, followed by a valid line: still an error, and the tail of the
     * long line is not read as a line of its own. */
    memset(text, 'x', 2 * ROSE_CONF_LINE_MAX + 3);
    strcpy(text + 2 * ROSE_CONF_LINE_MAX + 3, "\nLOG_LEVEL=debug\n");
    path = write_text("far.conf", text, 0600);
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "file: line of %d bytes is rejected", 2 * ROSE_CONF_LINE_MAX + 3);
    rose_config_free(c);
    c = NULL;

    /*
     * A NUL byte must not hide an overlong line.  Here a comment line "#",
     * a NUL and filler make one physical line longer than the limit that
     * ends in LOG_LEVEL=debug.  The file must be refused (binary data or an
     * overlong line); it must not set LOG_LEVEL from the middle of a line.
     */
    text[0] = '#';
    text[1] = '\0';
    memset(text + 2, 'x', ROSE_CONF_LINE_MAX - 1);
    memcpy(text + 1 + ROSE_CONF_LINE_MAX, "LOG_LEVEL=debug\n", 16);
    path = write_file("nul.conf", text, 1 + ROSE_CONF_LINE_MAX + 16, 0600);
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "file: NUL byte inside an overlong comment line is refused");
    T_OK(c == NULL || strcmp(c->log_level, "info") == 0,
         "file: ... and LOG_LEVEL is not taken from the middle of that line");
    rose_config_free(c);
    free(text);
}

static void
test_file_open_errors(void)
{
    struct rose_config *c = NULL;
    char eb[512], path[300];

    clean_env();
    snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG, "missing file: error");
    T_OK(starts_with(eb, "ROSE_CONF=") && strstr(eb, "cannot open") != NULL,
         "missing file: message says it cannot open ROSE_CONF (%s)", eb);
    rose_config_free(c);
    c = NULL;

    /* ROSE_CONF from the environment is the file when path is NULL. */
    put_var("ROSE_CONF", write_text("env.conf", "LOG_LEVEL=warn\n", 0600));
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK, "ROSE_CONF names the file");
    T_STR(c ? c->log_level : NULL, "warn", "ROSE_CONF: its values are used");
    rose_config_free(c);
    c = NULL;
    clean_env();

    /* A directory opens with fopen() but cannot be read: that is an error,
     * not an empty configuration. */
    T_INT(rose_config_load(tmpdir, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "ROSE_CONF naming a directory is an error");
    rose_config_free(c);
}

static void
test_env_overrides(void)
{
    struct rose_config *c = NULL;
    char eb[512];
    const char *path = write_text("ov.conf", "LOG_LEVEL=debug\nMEMORY_TOP_K=5\n", 0600);

    clean_env();
    put_var("LOG_LEVEL", "error");
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_OK, "env overrides file: loads");
    T_STR(c ? c->log_level : NULL, "error", "env overrides file: LOG_LEVEL from environment");
    T_INT(c ? c->memory_top_k : -1, 5, "env overrides file: other keys still from the file");
    rose_config_free(c);
    c = NULL;

    /* The message says where the bad value came from. */
    put_var("MEMORY_TOP_K", "0");
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "env overrides file: bad env value is an error");
    T_STR(eb, "MEMORY_TOP_K=0: must be 1..20 (environment)",
          "env overrides file: message names the environment");
    rose_config_free(c);
    c = NULL;

    /* Unknown variables in the environment are not errors: it holds many. */
    clean_env();
    put_var("ROSE_NOT_A_KEY", "1");
    put_var("GROQ_API_KEYS", "x");
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK,
          "unknown environment variables are ignored");
    clean_env();
    rose_config_free(c);
}

/* ---- validators, from the environment ---------------------------------- */

struct env_case {
    const char *what;
    const char *env; /* "KEY=VALUE" lines */
    enum rose_err want;
    const char *msg;   /* want != OK: the message starts with this */
    const char *key;   /* want == OK: this key ... */
    const char *value; /* ... has this value */
};

static const struct env_case env_cases[] = {
    /* Integers: spot checks with the numbers written out. */
    {"MEMORY_TOP_K=99", "MEMORY_TOP_K=99", ROSE_ERR_CONFIG,
     "MEMORY_TOP_K=99: must be 1..20 (environment)", NULL, NULL},
    {"MAX_MESSAGE_BYTES=16001", "MAX_MESSAGE_BYTES=16001", ROSE_ERR_CONFIG,
     "MAX_MESSAGE_BYTES=16001: must be 1..16000", NULL, NULL},
    {"MAX_AUDIO_BYTES=1023", "MAX_AUDIO_BYTES=1023", ROSE_ERR_CONFIG,
     "MAX_AUDIO_BYTES=1023: must be 1024..10485760", NULL, NULL},
    {"integer with junk", "MEMORY_TOP_K=5x", ROSE_ERR_CONFIG, "MEMORY_TOP_K=5x: must be 1..20",
     NULL, NULL},
    {"integer empty", "MEMORY_TOP_K=", ROSE_ERR_CONFIG, "MEMORY_TOP_K=: must be 1..20", NULL, NULL},
    {"integer as real", "MEMORY_TOP_K=2.5", ROSE_ERR_CONFIG, "MEMORY_TOP_K=2.5: must be 1..20",
     NULL, NULL},
    {"integer hex", "MEMORY_TOP_K=0x5", ROSE_ERR_CONFIG, "MEMORY_TOP_K=0x5: must be", NULL, NULL},
    {"integer overflowing long", "MEMORY_TOP_K=99999999999999999999999", ROSE_ERR_CONFIG,
     "MEMORY_TOP_K=99999999999999999999999: must be 1..20", NULL, NULL},
    {"integer trailing space", "MEMORY_TOP_K=5 ", ROSE_ERR_CONFIG, "MEMORY_TOP_K=5 : must be", NULL,
     NULL},
    {"integer ok", "MEMORY_TOP_K=20", ROSE_OK, NULL, "MEMORY_TOP_K", "20"},

    /* Reals. */
    {"LLM_TEMPERATURE=2.1", "LLM_TEMPERATURE=2.1", ROSE_ERR_CONFIG,
     "LLM_TEMPERATURE=2.1: must be a number in 0..2 (environment)", NULL, NULL},
    {"LLM_TEMPERATURE=-0.1", "LLM_TEMPERATURE=-0.1", ROSE_ERR_CONFIG,
     "LLM_TEMPERATURE=-0.1: must be a number in 0..2", NULL, NULL},
    {"LLM_TEMPERATURE=nan", "LLM_TEMPERATURE=nan", ROSE_ERR_CONFIG, "LLM_TEMPERATURE=nan:", NULL,
     NULL},
    {"LLM_TEMPERATURE=inf", "LLM_TEMPERATURE=inf", ROSE_ERR_CONFIG, "LLM_TEMPERATURE=inf:", NULL,
     NULL},
    {"LLM_TEMPERATURE=1e400", "LLM_TEMPERATURE=1e400", ROSE_ERR_CONFIG,
     "LLM_TEMPERATURE=1e400:", NULL, NULL},
    {"LLM_TEMPERATURE=warm", "LLM_TEMPERATURE=warm", ROSE_ERR_CONFIG, "LLM_TEMPERATURE=warm:", NULL,
     NULL},
    {"LLM_TEMPERATURE=2 (at max)", "LLM_TEMPERATURE=2", ROSE_OK, NULL, "LLM_TEMPERATURE", "2"},
    {"LLM_TEMPERATURE=0 (at min)", "LLM_TEMPERATURE=0", ROSE_OK, NULL, "LLM_TEMPERATURE", "0"},
    {"MEMORY_DUPLICATE_THRESHOLD=0.49", "MEMORY_DUPLICATE_THRESHOLD=0.49", ROSE_ERR_CONFIG,
     "MEMORY_DUPLICATE_THRESHOLD=0.49: must be a number in 0.5..1", NULL, NULL},
    {"MEMORY_DUPLICATE_THRESHOLD=0.5", "MEMORY_DUPLICATE_THRESHOLD=0.5", ROSE_OK, NULL,
     "MEMORY_DUPLICATE_THRESHOLD", "0.5"},
    {"MEMORY_DUPLICATE_THRESHOLD=1.0", "MEMORY_DUPLICATE_THRESHOLD=1.0", ROSE_OK, NULL,
     "MEMORY_DUPLICATE_THRESHOLD", "1"},
    {"MEMORY_DUPLICATE_THRESHOLD=1.01", "MEMORY_DUPLICATE_THRESHOLD=1.01", ROSE_ERR_CONFIG,
     "MEMORY_DUPLICATE_THRESHOLD=1.01: must be a number in 0.5..1", NULL, NULL},

    /* Enums. */
    {"LOG_LEVEL=loud", "LOG_LEVEL=loud", ROSE_ERR_CONFIG,
     "LOG_LEVEL=loud: must be one of debug,info,warn,error (environment)", NULL, NULL},
    {"LOG_LEVEL empty", "LOG_LEVEL=", ROSE_ERR_CONFIG, "LOG_LEVEL=: must be one of", NULL, NULL},
    {"LOG_LEVEL upper case", "LOG_LEVEL=INFO", ROSE_ERR_CONFIG, "LOG_LEVEL=INFO: must be one of",
     NULL, NULL},
    {"LOG_LEVEL two choices", "LOG_LEVEL=info,warn", ROSE_ERR_CONFIG,
     "LOG_LEVEL=info,warn: must be one of", NULL, NULL},
    {"LOG_LEVEL prefix of a choice", "LOG_LEVEL=inf", ROSE_ERR_CONFIG,
     "LOG_LEVEL=inf: must be one of", NULL, NULL},
    {"LOG_LEVEL=error (last choice)", "LOG_LEVEL=error", ROSE_OK, NULL, "LOG_LEVEL", "error"},
    {"VECTOR_STORE=redis", "VECTOR_STORE=redis", ROSE_ERR_CONFIG,
     "VECTOR_STORE=redis: must be one of sqlite,qdrant", NULL, NULL},
    {"TTS_PROVIDER=openai", "TTS_PROVIDER=openai", ROSE_OK, NULL, "TTS_PROVIDER", "openai"},

    /* URLs. */
    {"LLM_BASE_URL=ftp://x", "LLM_BASE_URL=ftp://x", ROSE_ERR_CONFIG,
     "LLM_BASE_URL=ftp://x: must be an http:// or https:// URL (environment)", NULL, NULL},
    {"URL without host", "LLM_BASE_URL=http://", ROSE_ERR_CONFIG, "LLM_BASE_URL=http://: must",
     NULL, NULL},
    {"URL with empty host", "STT_BASE_URL=https:///v1", ROSE_ERR_CONFIG,
     "STT_BASE_URL=https:///v1: must be", NULL, NULL},
    {"URL with a space", "TTS_BASE_URL=http://a b", ROSE_ERR_CONFIG,
     "TTS_BASE_URL=http://a b: must be", NULL, NULL},
    {"URL without scheme", "QDRANT_URL=localhost:6333", ROSE_ERR_CONFIG,
     "QDRANT_URL=localhost:6333: must be", NULL, NULL},
    {"URL upper-case scheme", "LLM_BASE_URL=HTTP://x", ROSE_ERR_CONFIG,
     "LLM_BASE_URL=HTTP://x: must be", NULL, NULL},
    {"URL empty is allowed", "IMAGE_BASE_URL=", ROSE_OK, NULL, "IMAGE_BASE_URL", ""},
    {"URL loopback with port", "LLM_BASE_URL=http://127.0.0.1:9/v1", ROSE_OK, NULL, "LLM_BASE_URL",
     "http://127.0.0.1:9/v1"},

    /* ALLOWED_ORIGINS. */
    {"one origin", "ALLOWED_ORIGINS=https://rose.example", ROSE_OK, NULL, "ALLOWED_ORIGINS",
     "https://rose.example"},
    {"two origins with port", "ALLOWED_ORIGINS=https://a.example,http://localhost:8080", ROSE_OK,
     NULL, "ALLOWED_ORIGINS", "https://a.example,http://localhost:8080"},
    {"space after comma", "ALLOWED_ORIGINS=https://a.example, https://b.example", ROSE_OK, NULL,
     "ALLOWED_ORIGINS", "https://a.example, https://b.example"},
    {"origin with a path", "ALLOWED_ORIGINS=https://a.example/app", ROSE_ERR_CONFIG,
     "ALLOWED_ORIGINS=https://a.example/app: must be a comma-separated list of at most 32 "
     "origins like https://example.org (environment)",
     NULL, NULL},
    {"origin with trailing slash", "ALLOWED_ORIGINS=https://a.example/", ROSE_ERR_CONFIG,
     "ALLOWED_ORIGINS=https://a.example/: must be", NULL, NULL},
    {"origin without scheme", "ALLOWED_ORIGINS=a.example", ROSE_ERR_CONFIG,
     "ALLOWED_ORIGINS=a.example: must be", NULL, NULL},
    {"second origin bad", "ALLOWED_ORIGINS=https://a.example,ftp://b.example", ROSE_ERR_CONFIG,
     "ALLOWED_ORIGINS=https://a.example,ftp://b.example: must be", NULL, NULL},
    {"only a comma", "ALLOWED_ORIGINS=,", ROSE_ERR_CONFIG, "ALLOWED_ORIGINS=,: must be", NULL,
     NULL},

    /* Text. */
    {"control character in text", "LLM_MODEL=a\tb", ROSE_ERR_CONFIG,
     "LLM_MODEL: must be printable text on one line (environment)", NULL, NULL},
    {"DEL in text", "STT_LANGUAGE=e\x7f", ROSE_ERR_CONFIG, "STT_LANGUAGE: must be printable", NULL,
     NULL},

    /* Cross-key rules. */
    {"SUMMARY_KEEP == SUMMARY_TRIGGER", "SUMMARY_TRIGGER=20\nSUMMARY_KEEP=20", ROSE_ERR_CONFIG,
     "SUMMARY_KEEP=20: must be less than SUMMARY_TRIGGER (20)", NULL, NULL},
    {"SUMMARY_KEEP > SUMMARY_TRIGGER", "SUMMARY_TRIGGER=10\nSUMMARY_KEEP=11", ROSE_ERR_CONFIG,
     "SUMMARY_KEEP=11: must be less than SUMMARY_TRIGGER (10)", NULL, NULL},
    {"SUMMARY_KEEP just under SUMMARY_TRIGGER", "SUMMARY_TRIGGER=20\nSUMMARY_KEEP=19", ROSE_OK,
     NULL, "SUMMARY_KEEP", "19"},
    {"RETRY_BASE_DELAY_MS > RETRY_MAX_DELAY_MS",
     "RETRY_BASE_DELAY_MS=2001\nRETRY_MAX_DELAY_MS=2000", ROSE_ERR_CONFIG,
     "RETRY_BASE_DELAY_MS=2001: must not exceed RETRY_MAX_DELAY_MS (2000)", NULL, NULL},
    {"RETRY_BASE_DELAY_MS == RETRY_MAX_DELAY_MS",
     "RETRY_BASE_DELAY_MS=2000\nRETRY_MAX_DELAY_MS=2000", ROSE_OK, NULL, "RETRY_BASE_DELAY_MS",
     "2000"},
    {"VECTOR_STORE=qdrant without QDRANT_URL", "VECTOR_STORE=qdrant", ROSE_ERR_CONFIG,
     "VECTOR_STORE=qdrant: needs QDRANT_URL", NULL, NULL},
    {"VECTOR_STORE=qdrant with QDRANT_URL", "VECTOR_STORE=qdrant\nQDRANT_URL=http://127.0.0.1:6333",
     ROSE_OK, NULL, "QDRANT_URL", "http://127.0.0.1:6333"},
    {"DATA_DIR empty", "DATA_DIR=", ROSE_ERR_CONFIG, "DATA_DIR: must not be empty", NULL, NULL},

    /* Derived paths. */
    {"DATABASE_PATH from DATA_DIR", "DATA_DIR=/srv/rose", ROSE_OK, NULL, "DATABASE_PATH",
     "/srv/rose/rose.db"},
    {"BACKUP_DIR from DATA_DIR", "DATA_DIR=/srv/rose", ROSE_OK, NULL, "BACKUP_DIR",
     "/srv/rose/backups"},
    {"explicit DATABASE_PATH kept", "DATA_DIR=/srv/rose\nDATABASE_PATH=/db/r.db", ROSE_OK, NULL,
     "DATABASE_PATH", "/db/r.db"},
    {"explicit BACKUP_DIR kept", "DATA_DIR=/srv/rose\nBACKUP_DIR=/bk", ROSE_OK, NULL, "BACKUP_DIR",
     "/bk"},
};

static void
run_env_case(const struct env_case *ec)
{
    struct rose_config *c = NULL;
    char eb[512], vb[512];
    enum rose_err err;

    clean_env();
    set_env(ec->env);
    err = rose_config_load(NULL, &c, eb, sizeof(eb));
    T_INT(err, ec->want, "env: %s: error code", ec->what);
    if (ec->want != ROSE_OK) {
        T_OK(starts_with(eb, ec->msg), "env: %s: message starts \"%s\"", ec->what, ec->msg);
        if (!starts_with(eb, ec->msg))
            printf("#   message: %s\n", eb);
    } else {
        T_STR(cfg_value(c, ec->key, vb, sizeof(vb)), ec->value, "env: %s: %s", ec->what, ec->key);
    }
    rose_config_free(c);
}

static void
test_env_cases(void)
{
    size_t i;

    for (i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++)
        run_env_case(&env_cases[i]);
}

/*
 * Every C_INT key of the table at lo-1, lo, hi, hi+1.  The cross-key rules
 * are kept out of the way by a baseline that satisfies them at every bound
 * (the key under test is set after it, so it wins).
 */
static void
test_int_ranges(void)
{
    static const char baseline[] = "SUMMARY_TRIGGER=1000\nSUMMARY_KEEP=1\n"
                                   "RETRY_BASE_DELAY_MS=0\nRETRY_MAX_DELAY_MS=600000";
    size_t i;
    int nint = 0;

    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        long lo = (long)k->lo, hi = (long)k->hi;
        long vals[4] = {lo - 1, lo, hi, hi + 1};
        int j;

        if (k->type != C_INT)
            continue;
        nint++;
        for (j = 0; j < 4; j++) {
            struct rose_config *c = NULL;
            char eb[512], want[256], val[32];
            enum rose_err err;

            clean_env();
            set_env(baseline);
            snprintf(val, sizeof(val), "%ld", vals[j]);
            put_var(k->name, val);
            err = rose_config_load(NULL, &c, eb, sizeof(eb));
            if (j == 1 || j == 2) {
                T_INT(err, ROSE_OK, "range: %s=%s is accepted (%s)", k->name, val, eb);
                T_OK(c != NULL && *(long *)(void *)((char *)c + k->off) == vals[j],
                     "range: %s=%s is stored", k->name, val);
            } else {
                snprintf(want, sizeof(want), "%s=%s: must be %ld..%ld (environment)", k->name, val,
                         lo, hi);
                T_INT(err, ROSE_ERR_CONFIG, "range: %s=%s is refused", k->name, val);
                T_STR(eb, want, "range: %s=%s message", k->name, val);
            }
            rose_config_free(c);
        }
    }
    T_OK(nint >= 20, "range: the table has the integer keys we expect (%d)", nint);
}

/* 33 origins fail, 32 pass. */
static void
test_origin_count(void)
{
    struct rose_config *c = NULL;
    char list[2048], eb[512];
    size_t at = 0;
    int i;

    for (i = 1; i <= ROSE_LIST_MAX + 1; i++) {
        if (i == ROSE_LIST_MAX + 1) {
            clean_env();
            put_var("ALLOWED_ORIGINS", list);
            T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK,
                  "origins: %d origins are accepted (%s)", ROSE_LIST_MAX, eb);
            rose_config_free(c);
            c = NULL;
        }
        at += (size_t)snprintf(list + at, sizeof(list) - at, "%shttps://o%d.example:%d",
                               i > 1 ? "," : "", i, 8000 + i);
    }
    clean_env();
    put_var("ALLOWED_ORIGINS", list);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "origins: %d origins are refused", ROSE_LIST_MAX + 1);
    T_OK(strstr(eb, "at most 32 origins") != NULL, "origins: message gives the limit");
    rose_config_free(c);
}

/* ---- secrets ------------------------------------------------------------- */

#define SECRET "gsk_SECRETVALUE_do_not_echo_42"

static void
test_secret_files(void)
{
    struct rose_config *c = NULL;
    char eb[512], link[300];
    const char *path;

    /* 0600: read, trailing newline (and other white space) trimmed. */
    clean_env();
    path = write_text("groq.key", SECRET "\n", 0600);
    put_var("GROQ_API_KEY_FILE", path);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK, "secret file 0600: loads (%s)", eb);
    T_STR(c ? c->groq_api_key : NULL, SECRET, "secret file 0600: value read, newline trimmed");
    rose_config_free(c);
    c = NULL;

    path = write_text("groq2.key", SECRET " \r\n\n", 0400);
    put_var("GROQ_API_KEY_FILE", path);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK, "secret file 0400: loads");
    T_STR(c ? c->groq_api_key : NULL, SECRET, "secret file: trailing CR, LF, space trimmed");
    rose_config_free(c);
    c = NULL;

    /* The file wins over the plain variable (both given: the file is newer
     * practice, and read second). */
    put_var("GROQ_API_KEY", "plain");
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK, "secret file and variable: loads");
    T_STR(c ? c->groq_api_key : NULL, SECRET, "secret file and variable: the file wins");
    rose_config_free(c);
    c = NULL;

    /* K_FILE inside the configuration file works too. */
    clean_env();
    {
        char text[400];
        snprintf(text, sizeof(text), "ADMIN_TOKEN_FILE=%s\n", path);
        path = write_text("withfile.conf", text, 0600);
    }
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_OK, "K_FILE in the config file: loads");
    T_STR(c ? c->admin_token : NULL, SECRET, "K_FILE in the config file: value read");
    rose_config_free(c);
    c = NULL;

    /* An empty K_FILE is ignored. */
    clean_env();
    put_var("GROQ_API_KEY_FILE", "");
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK, "empty K_FILE is ignored");
    rose_config_free(c);
    c = NULL;

    /* 0644: refused, and the message tells how to fix it. */
    clean_env();
    path = write_text("open.key", SECRET "\n", 0644);
    put_var("GROQ_API_KEY_FILE", path);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG, "secret file 0644: error");
    T_OK(strstr(eb, "GROQ_API_KEY_FILE=") != NULL && strstr(eb, "chmod 600") != NULL,
         "secret file 0644: message names the key and says chmod 600 (%s)", eb);
    T_OK(strstr(eb, "SECRETVALUE") == NULL, "secret file 0644: secret not in message");
    rose_config_free(c);
    c = NULL;

    /* 0640: group-readable is refused too. */
    path = write_text("group.key", SECRET "\n", 0640);
    put_var("GROQ_API_KEY_FILE", path);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG, "secret file 0640: error");
    rose_config_free(c);
    c = NULL;

    /* Missing file. */
    clean_env();
    snprintf(link, sizeof(link), "%s/no-such.key", tmpdir);
    put_var("ELEVENLABS_API_KEY_FILE", link);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "missing secret file: error");
    T_OK(starts_with(eb, "ELEVENLABS_API_KEY_FILE=") && strstr(eb, "cannot open") != NULL,
         "missing secret file: message names the key (%s)", eb);
    rose_config_free(c);
    c = NULL;

    /* A directory is not a regular file. */
    put_var("ELEVENLABS_API_KEY_FILE", tmpdir);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "secret file that is a directory: error");
    rose_config_free(c);
    c = NULL;

    /* A symlink (as container secret mounts use) is judged by its target:
     * a link itself is always mode 0777, so checking the link would refuse
     * every one, and checking nothing would let an 0644 target through. */
    path = write_text("real.key", SECRET, 0600);
    snprintf(link, sizeof(link), "%s/link.key", tmpdir);
    unlink(link);
    if (symlink(path, link) != 0)
        perror("symlink");
    put_var("ELEVENLABS_API_KEY_FILE", link);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK,
          "secret file via a symlink to an 0600 file: loads (%s)", eb);
    T_STR(c ? c->elevenlabs_api_key : NULL, SECRET, "secret file via a symlink: value read");
    rose_config_free(c);
    c = NULL;
    path = write_text("real.key", SECRET, 0644);
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "secret file via a symlink to an 0644 file: refused");
    T_OK(strstr(eb, "chmod 600") != NULL, "secret file via a symlink to 0644: says chmod 600");
    rose_config_free(c);
    c = NULL;
    clean_env();
}

/*
 * A FIFO (or any non-regular file) named as a secret file must be refused
 * at once; opening it for reading must not wait for a writer.  Run in a
 * child with an alarm so a hang is a failed test, not a stuck suite.
 */
static void
test_secret_fifo(void)
{
    char fifo[300];
    pid_t pid;
    int status = 0;

    snprintf(fifo, sizeof(fifo), "%s/secret.fifo", tmpdir);
    unlink(fifo);
    if (mkfifo(fifo, 0600) != 0) {
        perror("mkfifo");
        T_OK(0, "secret FIFO: mkfifo");
        return;
    }
    fflush(stdout);
    if ((pid = fork()) == 0) {
        struct rose_config *c = NULL;
        char eb[512];
        enum rose_err err;

        alarm(3);
        clean_env();
        put_var("GROQ_API_KEY_FILE", fifo);
        err = rose_config_load(NULL, &c, eb, sizeof(eb));
        rose_config_free(c);
        _exit(err == ROSE_ERR_CONFIG ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "secret FIFO: GROQ_API_KEY_FILE naming a FIFO is refused at once, not waited on");
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        printf("#   rose_config_load() was still blocked in open() after 3 s\n");
    unlink(fifo);
}

/*
 * Every way a secret can be wrong: the message must never contain it.  The
 * secret is always the same marker so one strstr() checks them all.
 */
struct secret_case {
    const char *what;
    const char *file_text; /* a config file, or NULL */
    const char *key_file;  /* contents of a secret file named by GROQ_API_KEY_FILE, or NULL */
    mode_t key_mode;
    const char *env_val; /* GROQ_API_KEY from the environment, or NULL */
};

static const struct secret_case secret_cases[] = {
    {"control character in env secret", NULL, NULL, 0, SECRET "\x01"},
    {"newline in env secret", NULL, NULL, 0, "a" SECRET "\nb"},
    {"control character in file secret", NULL, SECRET "\x02tail\n", 0600, NULL},
    {"secret file readable by others", NULL, SECRET "\n", 0604, NULL},
    {"control character in config-file secret", "GROQ_API_KEY=" SECRET "\x03\n", NULL, 0, NULL},
    {"unbalanced quote around a secret", "GROQ_API_KEY=\"" SECRET "\n", NULL, 0, NULL},
    {"misspelt secret key", "GROQ_API_KEYS=" SECRET "\n", NULL, 0, NULL},
    {"secret pasted as a line", "\n" SECRET "\n", NULL, 0, NULL},
};

static void
test_secret_not_echoed(void)
{
    size_t i;

    for (i = 0; i < sizeof(secret_cases) / sizeof(secret_cases[0]); i++) {
        const struct secret_case *sc = &secret_cases[i];
        struct rose_config *c = NULL;
        const char *path = NULL;
        char eb[1024];
        enum rose_err err;

        clean_env();
        if (sc->key_file)
            put_var("GROQ_API_KEY_FILE", write_text("bad.key", sc->key_file, sc->key_mode));
        if (sc->env_val)
            put_var("GROQ_API_KEY", sc->env_val);
        if (sc->file_text)
            path = write_text("secret.conf", sc->file_text, 0600);
        err = rose_config_load(path, &c, eb, sizeof(eb));
        T_INT(err, ROSE_ERR_CONFIG, "secret: %s: refused", sc->what);
        T_OK(eb[0] != '\0' && strstr(eb, "SECRETVALUE") == NULL,
             "secret: %s: message does not contain the secret", sc->what);
        if (strstr(eb, "SECRETVALUE") != NULL)
            printf("#   message: %s\n", eb);
        rose_config_free(c);
    }
    clean_env();
}

/* A secret longer than ROSE_SECRET_FILE_MAX from a file is refused. */
static void
test_secret_too_long(void)
{
    struct rose_config *c = NULL;
    char eb[512];
    char *big = malloc(ROSE_SECRET_FILE_MAX + 2);

    if (big == NULL)
        exit(2);
    memset(big, 'k', ROSE_SECRET_FILE_MAX + 1);
    clean_env();
    put_var("ADMIN_TOKEN_FILE", write_file("big.key", big, ROSE_SECRET_FILE_MAX + 1, 0600));
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_ERR_CONFIG,
          "secret file over %d bytes: refused", ROSE_SECRET_FILE_MAX);
    rose_config_free(c);
    c = NULL;

    put_var("ADMIN_TOKEN_FILE", write_file("max.key", big, ROSE_SECRET_FILE_MAX, 0600));
    T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), ROSE_OK,
          "secret file of exactly %d bytes: accepted (%s)", ROSE_SECRET_FILE_MAX, eb);
    T_INT(c ? strlen(c->admin_token) : 0, ROSE_SECRET_FILE_MAX, "secret file at max: whole");
    rose_config_free(c);
    clean_env();
    free(big);
}

/* ---- the example file ------------------------------------------------------ */

static void
test_example_file(void)
{
    static const char path[] = "conf/rose.conf.example";
    struct rose_config *c = NULL;
    char eb[512], line[ROSE_CONF_LINE_MAX + 2];
    unsigned char seen[NKEYS];
    const char *name;
    FILE *f;
    size_t i;
    int missing = 0;

    clean_env();
    T_INT(rose_config_load(path, &c, eb, sizeof(eb)), ROSE_OK,
          "example: %s loads with no error (%s)", path, eb);
    rose_config_free(c);

    memset(seen, 0, sizeof(seen));
    if ((f = fopen(path, "r")) == NULL) {
        T_OK(0, "example: open %s (run from the top of the tree)", path);
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');
        int k;
        if (eq == NULL || line[0] == '#' || line[0] == ' ')
            continue;
        if ((k = find_key(line, (size_t)(eq - line))) >= 0)
            seen[k] = 1;
    }
    fclose(f);
    for (i = 0; (name = rose_config_key_name(i)) != NULL; i++) {
        if (!seen[i]) {
            printf("#   %s has no line \"%s=\"\n", path, name);
            missing++;
        }
    }
    T_INT(missing, 0, "example: every key of the table has a \"KEY=\" line");
    T_INT(i, NKEYS, "rose_config_key_name() walks the whole table");
    T_OK(rose_config_key_name(NKEYS) == NULL, "rose_config_key_name() past the end is NULL");
}

/* ---- roles ------------------------------------------------------------------- */

struct role_case {
    const char *what;
    const char *env; /* "KEY=VALUE" lines, or NULL */
    enum rose_role role;
    enum rose_role_mode mode;
    const char *provider;
    const char *api_key; /* hosted: the key it uses */
};

static const struct role_case role_cases[] = {
    {"no keys: llm", NULL, ROSE_ROLE_LLM, ROSE_MODE_OFFLINE, "companion", NULL},
    {"no keys: stt", NULL, ROSE_ROLE_STT, ROSE_MODE_OFFLINE, "pocketsphinx", NULL},
    {"no keys: tts", NULL, ROSE_ROLE_TTS, ROSE_MODE_OFFLINE, "flite", NULL},
    {"no keys: embeddings", NULL, ROSE_ROLE_EMBEDDINGS, ROSE_MODE_OFFLINE, "local", NULL},
    {"no keys: vector_store", NULL, ROSE_ROLE_VECTOR_STORE, ROSE_MODE_EMBEDDED, "sqlite", NULL},
    {"no keys: image", NULL, ROSE_ROLE_IMAGE, ROSE_MODE_DISABLED, "none", NULL},
    {"no keys: vision", NULL, ROSE_ROLE_VISION, ROSE_MODE_DISABLED, "none", NULL},

    {"GROQ_API_KEY: llm", "GROQ_API_KEY=gk", ROSE_ROLE_LLM, ROSE_MODE_HOSTED, "groq", "gk"},
    {"GROQ_API_KEY: stt", "GROQ_API_KEY=gk", ROSE_ROLE_STT, ROSE_MODE_HOSTED, "groq", "gk"},
    {"GROQ_API_KEY: vision", "GROQ_API_KEY=gk", ROSE_ROLE_VISION, ROSE_MODE_HOSTED, "groq", "gk"},
    {"GROQ_API_KEY: tts stays offline", "GROQ_API_KEY=gk", ROSE_ROLE_TTS, ROSE_MODE_OFFLINE,
     "flite", NULL},
    {"GROQ_API_KEY: image stays disabled", "GROQ_API_KEY=gk", ROSE_ROLE_IMAGE, ROSE_MODE_DISABLED,
     "none", NULL},
    {"LLM_API_KEY wins over GROQ_API_KEY", "GROQ_API_KEY=gk\nLLM_API_KEY=lk", ROSE_ROLE_LLM,
     ROSE_MODE_HOSTED, "groq", "lk"},
    {"STT_API_KEY wins over GROQ_API_KEY", "GROQ_API_KEY=gk\nSTT_API_KEY=sk", ROSE_ROLE_STT,
     ROSE_MODE_HOSTED, "groq", "sk"},
    {"key but empty LLM_BASE_URL: offline", "GROQ_API_KEY=gk\nLLM_BASE_URL=", ROSE_ROLE_LLM,
     ROSE_MODE_OFFLINE, "companion", NULL},

    {"ELEVENLABS_API_KEY: tts", "ELEVENLABS_API_KEY=ek", ROSE_ROLE_TTS, ROSE_MODE_HOSTED,
     "elevenlabs", "ek"},
    {"TTS_PROVIDER=openai ignores ELEVENLABS_API_KEY", "ELEVENLABS_API_KEY=ek\nTTS_PROVIDER=openai",
     ROSE_ROLE_TTS, ROSE_MODE_OFFLINE, "flite", NULL},
    {"TTS_PROVIDER=openai with TTS_API_KEY",
     "TTS_PROVIDER=openai\nTTS_API_KEY=tk\nTTS_BASE_URL=https://api.openai.com/v1", ROSE_ROLE_TTS,
     ROSE_MODE_HOSTED, "openai", "tk"},

    {"EMBEDDINGS_API_KEY: embeddings", "EMBEDDINGS_API_KEY=mk", ROSE_ROLE_EMBEDDINGS,
     ROSE_MODE_HOSTED, "openai", "mk"},
    {"TOGETHER_API_KEY: image", "TOGETHER_API_KEY=xk", ROSE_ROLE_IMAGE, ROSE_MODE_HOSTED,
     "together", "xk"},
    {"VISION_API_KEY: vision", "VISION_API_KEY=vk", ROSE_ROLE_VISION, ROSE_MODE_HOSTED, "groq",
     "vk"},
    {"qdrant", "VECTOR_STORE=qdrant\nQDRANT_URL=http://127.0.0.1:6333", ROSE_ROLE_VECTOR_STORE,
     ROSE_MODE_HOSTED, "qdrant", NULL},
    {"local OpenAI-compatible LLM", "LLM_BASE_URL=http://127.0.0.1:9/v1\nLLM_API_KEY=lk",
     ROSE_ROLE_LLM, ROSE_MODE_HOSTED, "openai-compatible", "lk"},
};

static void
test_roles(void)
{
    size_t i;

    for (i = 0; i < sizeof(role_cases) / sizeof(role_cases[0]); i++) {
        const struct role_case *rc = &role_cases[i];
        struct rose_config *c = NULL;
        struct rose_role_info info;
        char eb[512];

        clean_env();
        set_env(rc->env);
        if (rose_config_load(NULL, &c, eb, sizeof(eb)) != ROSE_OK) {
            T_OK(0, "role: %s: config loads (%s)", rc->what, eb);
            continue;
        }
        memset(&info, 0xa5, sizeof(info));
        rose_config_role(c, rc->role, &info);
        T_INT(info.mode, rc->mode, "role: %s: mode", rc->what);
        T_STR(info.provider, rc->provider, "role: %s: provider", rc->what);
        if (rc->mode == ROSE_MODE_HOSTED) {
            T_OK(info.base_url != NULL && info.base_url[0] != '\0', "role: %s: has a base URL",
                 rc->what);
            if (rc->api_key)
                T_STR(info.api_key, rc->api_key, "role: %s: api key", rc->what);
        } else {
            T_OK(info.base_url == NULL && info.api_key == NULL,
                 "role: %s: no URL or key when not hosted", rc->what);
        }
        rose_config_free(c);
    }

    /* The local LLM case: the URL is the configured one. */
    {
        static const char env[] = "LLM_BASE_URL=http://127.0.0.1:9/v1\nLLM_API_KEY=lk";
        struct rose_config *c = NULL;
        struct rose_role_info info;
        char eb[512];

        clean_env();
        set_env(env);
        if (rose_config_load(NULL, &c, eb, sizeof(eb)) == ROSE_OK) {
            rose_config_role(c, ROSE_ROLE_LLM, &info);
            T_STR(info.base_url, "http://127.0.0.1:9/v1", "role: local LLM: base URL");
        } else {
            T_OK(0, "role: local LLM: config loads (%s)", eb);
        }
        rose_config_free(c);
    }

    T_STR(rose_role_name(ROSE_ROLE_LLM), "llm", "rose_role_name(LLM)");
    T_STR(rose_role_name(ROSE_ROLE_VECTOR_STORE), "vector_store", "rose_role_name(VECTOR_STORE)");
    T_STR(rose_role_name(ROSE_ROLE_VISION), "vision", "rose_role_name(VISION)");
    T_OK(rose_role_name(ROSE_ROLE__MAX) == NULL, "rose_role_name(__MAX) is NULL");
    clean_env();
}

/* Origins exactly as a browser sends them; providers named by host only. */
static void
test_origin_shapes_and_provider_hosts(void)
{
    static const struct {
        const char *v;
        int ok;
    } origins[] = {
        {"https://rose.example", 1},
        {"http://localhost:5173", 1},
        {"https://a.example, https://b.example", 1},
        {"https://a.example/", 0},
        {"https://a.example?x=1", 0},
        {"https://user@a.example", 0},
        {"https://a.example:notaport", 0},
        {"https://a.example:123456", 0},
        {"https://", 0},
    };
    static const struct {
        const char *url, *provider;
    } hosts[] = {
        {"https://api.groq.com/openai/v1", "groq"},
        {"https://API.GROQ.COM/openai/v1", "groq"},
        {"http://evil.example/api.groq.com", "openai-compatible"},
        {"https://api.groq.com.evil.example/v1", "openai-compatible"},
        {"http://127.0.0.1:9/v1", "openai-compatible"},
    };
    struct rose_config *c = NULL;
    struct rose_role_info info;
    char eb[512];
    size_t i;

    for (i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
        clean_env();
        put_var("ALLOWED_ORIGINS", origins[i].v);
        T_INT(rose_config_load(NULL, &c, eb, sizeof(eb)), origins[i].ok ? ROSE_OK : ROSE_ERR_CONFIG,
              "ALLOWED_ORIGINS='%s' %s", origins[i].v, origins[i].ok ? "accepted" : "refused");
        rose_config_free(c);
        c = NULL;
    }
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        clean_env();
        put_var("LLM_BASE_URL", hosts[i].url);
        put_var("LLM_API_KEY", "k");
        if (rose_config_load(NULL, &c, eb, sizeof(eb)) != ROSE_OK) {
            T_OK(0, "provider of %s: config loads (%s)", hosts[i].url, eb);
            continue;
        }
        rose_config_role(c, ROSE_ROLE_LLM, &info);
        T_STR(info.provider, hosts[i].provider, "provider of %s", hosts[i].url);
        rose_config_free(c);
        c = NULL;
    }
    clean_env();
}

int
main(void)
{
    if (!t_mkdtemp(tmpdir))
        return 2;
    test_defaults();
    test_file_cases();
    test_long_lines();
    test_file_open_errors();
    test_env_overrides();
    test_env_cases();
    test_int_ranges();
    test_origin_count();
    test_secret_files();
    test_secret_fifo();
    test_secret_not_echoed();
    test_secret_too_long();
    test_example_file();
    test_roles();
    test_origin_shapes_and_provider_hosts();
    clean_env();
    t_rmtree(tmpdir);
    return t_done();
}
