/*
 * health.fcgi — GET /health: is the database usable, and how is each
 * provider role served (DESIGN.md §4, §7).
 *
 * 200 with status healthy or degraded; 503 unhealthy only when the database
 * cannot be used, because without it no request can succeed.  This binary
 * also answers every unknown path under /api with a JSON 404 (the web server
 * maps the /api/ fallback here).
 */
#include <stdio.h>
#include <string.h>

#include "providers/probe.h"
#include "resilience/breaker.h"
#include "rose.h"

/* A probe may take this long; health must answer quickly even when a
 * provider hangs. */
#define PROBE_TIMEOUT_MS 3000

enum circuit { CIRCUIT_CLOSED, CIRCUIT_OPEN, CIRCUIT_HALF_OPEN, CIRCUIT_UNKNOWN, CIRCUIT__MAX };
static const char *const circuit_names[CIRCUIT__MAX] = {"closed", "open", "half_open", "unknown"};

/*
 * The breaker state of a service as every worker sees it: closed when it has
 * no row, unknown when the database cannot say.
 */
static enum circuit
circuit_of(struct rose_store *st, const char *service)
{
    struct rose_breaker_info b;

    if (st == NULL || rose_breaker_get(st, service, &b) != ROSE_OK)
        return CIRCUIT_UNKNOWN;
    switch (b.state) {
    case ROSE_BREAKER_OPEN:
        return CIRCUIT_OPEN;
    case ROSE_BREAKER_HALF_OPEN:
        return CIRCUIT_HALF_OPEN;
    default:
        return CIRCUIT_CLOSED;
    }
}

static struct json_object *
service(const char *status, const char *provider, const char *circuit)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "provider", json_object_new_string(provider));
    json_object_object_add(o, "circuit", json_object_new_string(circuit));
    return o;
}

/* The status word of a role under this configuration and breaker state. */
static const char *
role_status(const struct rose_role_info *info, enum circuit c, int db_ok, int *degraded)
{
    switch (info->mode) {
    case ROSE_MODE_HOSTED:
        *degraded |= c == CIRCUIT_OPEN || c == CIRCUIT_HALF_OPEN;
        return c == CIRCUIT_OPEN ? "down" : c == CIRCUIT_HALF_OPEN ? "degraded" : "ok";
    case ROSE_MODE_EMBEDDED:
        *degraded |= !db_ok;
        return db_ok ? "ok" : "down";
    case ROSE_MODE_OFFLINE:
        return "offline";
    default:
        return "disabled";
    }
}

static enum rose_err
health(struct rose_req *req)
{
    const struct rose_config *cfg = rose_req_config(req);
    struct rose_store *st = NULL;
    struct json_object *body = NULL, *svcs = NULL;
    int db_ok, degraded = 0;
    int r;

    db_ok = rose_req_store(req, &st) == ROSE_OK && rose_store_check(st) == ROSE_OK;
    if (!db_ok)
        st = NULL;
    if ((body = json_object_new_object()) == NULL || (svcs = json_object_new_object()) == NULL) {
        json_object_put(body);
        return ROSE_ERR_NOMEM;
    }
    json_object_object_add(svcs, "database",
                           service(db_ok ? "ok" : "down", "sqlite", db_ok ? "closed" : "unknown"));
    for (r = 0; r < ROSE_ROLE__MAX; r++) {
        struct rose_role_info info;
        const char *name = rose_role_name((enum rose_role)r);
        enum circuit c = circuit_of(st, name);

        rose_config_role(cfg, (enum rose_role)r, &info);
        json_object_object_add(
            svcs, name,
            service(role_status(&info, c, db_ok, &degraded), info.provider, circuit_names[c]));
    }
    json_object_object_add(body, "status",
                           json_object_new_string(!db_ok      ? "unhealthy"
                                                  : degraded ? "degraded"
                                                             : "healthy"));
    json_object_object_add(body, "version", json_object_new_string(ROSE_VERSION));
    json_object_object_add(body, "services", svcs);
    return rose_reply_json(req, db_ok ? 200 : 503, body);
}

/* The seed's provider names for services. */
static const char *
service_alias(const char *name)
{
    static const char *const aliases[][2] = {
        {"groq", "llm"}, {"elevenlabs", "tts"}, {"qdrant", "vector_store"}};
    size_t i;

    for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strcmp(name, aliases[i][0]) == 0)
            return aliases[i][1];
    return name;
}

/* Probe a hosted role: the cheapest authenticated GET its protocol has. */
static void
probe_role(const struct rose_config *cfg, enum rose_role role, const struct rose_role_info *info,
           struct rose_probe *p)
{
    char url[1024], auth[512];
    const char *key = info->api_key ? info->api_key : "";

    if (role == ROSE_ROLE_VECTOR_STORE) {
        snprintf(url, sizeof(url), "%s/readyz", info->base_url);
        snprintf(auth, sizeof(auth), "api-key: %s", key);
        rose_probe_get(url, key[0] ? auth : NULL, NULL, PROBE_TIMEOUT_MS, p);
    } else if (role == ROSE_ROLE_TTS && strcmp(cfg->tts_provider, "elevenlabs") == 0) {
        snprintf(url, sizeof(url), "%s/v1/models", info->base_url);
        snprintf(auth, sizeof(auth), "xi-api-key: %s", key);
        rose_probe_get(url, auth, NULL, PROBE_TIMEOUT_MS, p);
    } else {
        snprintf(url, sizeof(url), "%s/models", info->base_url);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        rose_probe_get(url, auth, NULL, PROBE_TIMEOUT_MS, p);
    }
    explicit_bzero(auth, sizeof(auth));
}

/*
 * GET /health/{service}: one service with a live probe.  200 unless the
 * service is down (503); unknown service names are 404.
 */
static enum rose_err
health_one(struct rose_req *req)
{
    const struct rose_config *cfg = rose_req_config(req);
    const char *name = service_alias(rose_req_param(req, 0));
    struct rose_store *st = NULL;
    struct rose_role_info info;
    struct rose_probe p;
    struct json_object *o, *pr;
    const char *status;
    enum circuit c;
    int r, db_ok, degraded = 0;
    char num[32];

    db_ok = rose_req_store(req, &st) == ROSE_OK && rose_store_check(st) == ROSE_OK;
    if (!db_ok)
        st = NULL;
    if ((o = json_object_new_object()) == NULL)
        return ROSE_ERR_NOMEM;
    if (strcmp(name, "database") == 0) {
        json_object_object_add(o, "service", json_object_new_string("database"));
        json_object_object_add(o, "status", json_object_new_string(db_ok ? "ok" : "down"));
        json_object_object_add(o, "provider", json_object_new_string("sqlite"));
        json_object_object_add(o, "schema_version",
                               json_object_new_int(st ? rose_store_version(st) : -1));
        return rose_reply_json(req, db_ok ? 200 : 503, o);
    }
    for (r = 0; r < ROSE_ROLE__MAX; r++)
        if (strcmp(name, rose_role_name((enum rose_role)r)) == 0)
            break;
    if (r == ROSE_ROLE__MAX) {
        json_object_put(o);
        return rose_fail(req, ROSE_ERR_NOT_FOUND,
                         "No such service. Try llm, stt, tts, embeddings, vector_store, image, "
                         "vision or database.");
    }
    rose_config_role(cfg, (enum rose_role)r, &info);
    c = circuit_of(st, name);
    status = role_status(&info, c, db_ok, &degraded);
    json_object_object_add(o, "service", json_object_new_string(name));
    json_object_object_add(o, "provider", json_object_new_string(info.provider));
    json_object_object_add(o, "circuit", json_object_new_string(circuit_names[c]));
    if (info.mode == ROSE_MODE_HOSTED) {
        enum rose_err pe;
        memset(&p, 0, sizeof(p));
        probe_role(cfg, (enum rose_role)r, &info, &p);
        pe = p.http_status >= 200 && p.http_status < 300 ? ROSE_OK : ROSE_ERR_UNAVAILABLE;
        if ((pr = json_object_new_object()) != NULL) {
            json_object_object_add(pr, "ok", json_object_new_boolean(pe == ROSE_OK));
            if (p.http_status)
                json_object_object_add(pr, "http_status", json_object_new_int(p.http_status));
            snprintf(num, sizeof(num), "%.3f", p.latency_ms);
            json_object_object_add(pr, "latency_ms", json_object_new_double_s(p.latency_ms, num));
            if (p.error[0])
                json_object_object_add(pr, "error", json_object_new_string(p.error));
            json_object_object_add(o, "probe", pr);
        }
        if (pe != ROSE_OK)
            status = p.http_status == 429 ? "degraded" : "down";
    }
    json_object_object_add(o, "status", json_object_new_string(status));
    return rose_reply_json(req, strcmp(status, "down") == 0 ? 503 : 200, o);
}

static const struct rose_route routes[] = {
    {"GET", "/health", ROSE_BODY_NONE, 0, health},
    {"GET", "/health/{}", ROSE_BODY_NONE, 0, health_one},
};

int
main(int argc, char **argv)
{
    return rose_http_main("health", routes, sizeof(routes) / sizeof(routes[0]), argc, argv);
}
