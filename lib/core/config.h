/*
 * config.h — Rose's configuration: one table of keys, read once at start.
 *
 * Sources, later ones winning: built-in defaults, the KEY=VALUE file named by
 * ROSE_CONF (or the path given), then the environment.  Any secret key K may
 * instead be given as K_FILE=/path to a file that is not group- or
 * world-readable.  Every value is validated; the first bad one stops loading
 * with a message naming the key, the problem and the allowed range, e.g.
 * "MEMORY_TOP_K=99: must be 1..20".  Secrets are never echoed.
 *
 * The keys, their defaults and ranges are the table in config.c; the
 * operator-facing copy is conf/rose.conf.example (a unit test keeps the two
 * in step).
 */
#ifndef ROSE_CONFIG_H
#define ROSE_CONFIG_H

#include <stddef.h>
#include "core/err.h"

struct rose_config {
    /* storage and server */
    char *data_dir;
    char *database_path;   /* "" in the table: DATA_DIR/rose.db after load */
    char *backup_dir;      /* "" in the table: DATA_DIR/backups after load */
    char *log_level;       /* debug | info | warn | error */
    char *allowed_origins; /* comma-separated origins, "" = none */
    char *trusted_proxies; /* comma-separated IPs, "" = none */
    char *admin_token;     /* secret */
    long max_message_bytes;
    long max_audio_bytes;
    long max_audio_seconds;
    long rate_limit_per_minute;
    long rate_limit_health_per_minute;
    long workflow_timeout_seconds;
    /* provider calls */
    long provider_connect_timeout_ms;
    long provider_timeout_seconds;
    long breaker_threshold;
    long breaker_recovery_seconds;
    long retry_max_attempts;
    long retry_base_delay_ms;
    long retry_max_delay_ms;
    /* LLM */
    char *llm_base_url;
    char *llm_api_key;
    char *groq_api_key;
    char *llm_model;
    char *llm_small_model;
    double llm_temperature;
    long llm_max_tokens;
    /* speech to text */
    char *stt_base_url;
    char *stt_api_key;
    char *stt_model;
    char *stt_language;
    /* text to speech */
    char *tts_provider; /* elevenlabs | openai */
    char *tts_base_url;
    char *elevenlabs_api_key;
    char *tts_api_key;
    char *elevenlabs_voice_id;
    char *tts_model;
    char *tts_voice;
    /* image and vision */
    char *image_base_url;
    char *together_api_key;
    char *image_model;
    char *vision_base_url;
    char *vision_api_key;
    char *vision_model;
    /* embeddings and vectors */
    char *embeddings_base_url;
    char *embeddings_api_key;
    char *embeddings_model;
    long embeddings_dim;
    char *embeddings_model_path; /* the local embedder's model file */
    char *vector_store; /* sqlite | qdrant */
    char *qdrant_url;
    char *qdrant_api_key;
    /* memory */
    char *long_term_memory; /* on | off */
    long memory_top_k;
    double memory_duplicate_threshold;
    long summary_trigger;
    long summary_keep;
    /* retention */
    long audio_retention_hours;
    long session_retention_days;
    long backup_keep;
    /* WhatsApp */
    char *whatsapp_api_url;
    char *whatsapp_verify_token;
    char *whatsapp_app_secret;
    char *whatsapp_access_token;
    char *whatsapp_phone_number_id;
};

/*
 * Load the configuration.  path: the KEY=VALUE file, or NULL to use the
 * ROSE_CONF environment variable (unset or empty: no file).  On success *out
 * is a new config the caller frees with rose_config_free().  On failure
 * ROSE_ERR_CONFIG (or ROSE_ERR_NOMEM) is returned and errbuf holds one line
 * naming the key and the problem; the function itself does not log.
 */
enum rose_err rose_config_load(const char *path, struct rose_config **out, char *errbuf,
                               size_t errlen);

/* Free a config; NULL-safe. */
void rose_config_free(struct rose_config *cfg);

/* The roles a provider can fill (DESIGN.md §7), with a parallel name table. */
enum rose_role {
    ROSE_ROLE_LLM,
    ROSE_ROLE_STT,
    ROSE_ROLE_TTS,
    ROSE_ROLE_EMBEDDINGS,
    ROSE_ROLE_VECTOR_STORE,
    ROSE_ROLE_IMAGE,
    ROSE_ROLE_VISION,
    ROSE_ROLE__MAX
};

/* "llm", "stt", ... ; NULL past the end. */
const char *rose_role_name(enum rose_role role);

/* How a role is served under this configuration. */
enum rose_role_mode {
    ROSE_MODE_HOSTED,   /* an HTTP provider with a key */
    ROSE_MODE_EMBEDDED, /* built in by design (the SQLite vector store) */
    ROSE_MODE_OFFLINE,  /* no key: the in-process offline engine */
    ROSE_MODE_DISABLED  /* no key and no offline engine */
};

struct rose_role_info {
    enum rose_role_mode mode;
    const char *provider; /* "groq", "elevenlabs", "openai-compatible", "flite", ... */
    const char *base_url; /* NULL unless hosted */
    const char *api_key;  /* NULL unless hosted; never log it */
};

/* Describe how role is served; never fails for a valid role. */
void rose_config_role(const struct rose_config *cfg, enum rose_role role,
                      struct rose_role_info *info);

/* For tests and the example file: the key names, in table order; NULL past the end. */
const char *rose_config_key_name(size_t i);

#endif
