/*
 * fuzz_config.c — libFuzzer harness for the configuration file reader and
 * validators: rose_config_load() on the input as a KEY=VALUE file, in an
 * environment with none of the keys set.
 *
 * The file is made once per process with mkstemp() and unlinked at once, so
 * nothing is left behind even after a crash; the loader opens it again by
 * its /proc/self/fd/N name.  Besides memory errors, the harness aborts when
 * a result breaks what config.h promises: failure gives ROSE_ERR_CONFIG (or
 * NOMEM) with a message; success gives a config whose cross-key rules hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

/* Unset every variable the loader reads, make the file. */
static void
setup(void)
{
    char name[160], tmpl[] = "/tmp/rose-fuzz-config-XXXXXX";
    const char *key;
    size_t i;

    for (i = 0; (key = rose_config_key_name(i)) != NULL; i++) {
        unsetenv(key);
        snprintf(name, sizeof(name), "%s_FILE", key);
        unsetenv(name);
    }
    unsetenv("ROSE_CONF");
    if ((fd = mkstemp(tmpl)) < 0 || unlink(tmpl) != 0)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
}

static void
check(const struct rose_config *c)
{
    if (c->data_dir[0] == '\0' || c->database_path[0] == '\0' || c->backup_dir[0] == '\0')
        abort();
    if (c->summary_keep >= c->summary_trigger || c->retry_base_delay_ms > c->retry_max_delay_ms)
        abort();
    if (c->memory_top_k < 1 || c->memory_top_k > 20 || c->max_message_bytes < 1)
        abort();
    if (!(c->llm_temperature >= 0 && c->llm_temperature <= 2))
        abort();
    if (strcmp(c->vector_store, "qdrant") == 0 ? c->qdrant_url[0] == '\0'
                                               : strcmp(c->vector_store, "sqlite") != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rose_config *cfg = NULL;
    char eb[512];
    enum rose_err err;
    int i;

    if (fd < 0)
        setup();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    err = rose_config_load(path, &cfg, eb, sizeof(eb));
    if (err == ROSE_OK) {
        struct rose_role_info info;
        if (cfg == NULL)
            abort();
        check(cfg);
        for (i = 0; i < ROSE_ROLE__MAX; i++) {
            rose_config_role(cfg, (enum rose_role)i, &info);
            if (info.provider == NULL || (info.mode == ROSE_MODE_HOSTED && info.base_url == NULL))
                abort();
        }
    } else if (cfg != NULL || (err != ROSE_ERR_CONFIG && err != ROSE_ERR_NOMEM) || eb[0] == '\0' ||
               strlen(eb) >= sizeof(eb)) {
        abort();
    }
    rose_config_free(cfg);
    return 0;
}
