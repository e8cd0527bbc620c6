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

#include "rose.h"

enum circuit { CIRCUIT_CLOSED, CIRCUIT_OPEN, CIRCUIT_HALF_OPEN, CIRCUIT_UNKNOWN, CIRCUIT__MAX };
static const char *const circuit_names[CIRCUIT__MAX] = {"closed", "open", "half_open", "unknown"};

/*
 * The breaker state of a service as every worker sees it: closed when it has
 * no row, unknown when the database cannot say.
 */
static enum circuit
circuit_of(struct rose_store *st, const char *service)
{
    sqlite3_stmt *s = NULL;
    enum circuit c = CIRCUIT_UNKNOWN;
    int i;

    if (st == NULL ||
        rose_store_prepare(st, "SELECT state FROM breakers WHERE service = ?1", &s) != ROSE_OK)
        return c;
    sqlite3_bind_text(s, 1, service, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        for (i = 0; v != NULL && i < CIRCUIT_UNKNOWN; i++)
            if (strcmp(v, circuit_names[i]) == 0)
                c = (enum circuit)i;
    } else {
        c = CIRCUIT_CLOSED;
    }
    sqlite3_finalize(s);
    return c;
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
        const char *status;

        rose_config_role(cfg, (enum rose_role)r, &info);
        switch (info.mode) {
        case ROSE_MODE_HOSTED:
            status = c == CIRCUIT_OPEN ? "down" : c == CIRCUIT_HALF_OPEN ? "degraded" : "ok";
            degraded |= c == CIRCUIT_OPEN || c == CIRCUIT_HALF_OPEN;
            break;
        case ROSE_MODE_EMBEDDED:
            status = db_ok ? "ok" : "down";
            degraded |= !db_ok;
            break;
        case ROSE_MODE_OFFLINE:
            status = "offline";
            break;
        default:
            status = "disabled";
            break;
        }
        json_object_object_add(svcs, name, service(status, info.provider, circuit_names[c]));
    }
    json_object_object_add(body, "status",
                           json_object_new_string(!db_ok      ? "unhealthy"
                                                  : degraded ? "degraded"
                                                             : "healthy"));
    json_object_object_add(body, "version", json_object_new_string(ROSE_VERSION));
    json_object_object_add(body, "services", svcs);
    return rose_reply_json(req, db_ok ? 200 : 503, body);
}

static const struct rose_route routes[] = {
    {"GET", "/health", ROSE_BODY_NONE, 0, health},
};

int
main(int argc, char **argv)
{
    return rose_http_main("health", routes, sizeof(routes) / sizeof(routes[0]), argc, argv);
}
