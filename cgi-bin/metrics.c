/*
 * metrics.fcgi — GET /metrics: Prometheus text format (DESIGN.md §9).
 *
 * Needs Authorization: Bearer <ADMIN_TOKEN> (compared in constant time)
 * unless the client is on loopback; with no ADMIN_TOKEN configured, only
 * loopback may read it.
 */
#include <string.h>

#include "rose.h"
#include "store/metrics.h"

static enum rose_err
metrics(struct rose_req *req)
{
    const struct rose_config *cfg = rose_req_config(req);
    struct rose_store *st;
    struct rose_buf out;
    const char *token;
    enum rose_err err;

    if (!rose_req_is_loopback(req)) {
        if ((err = rose_req_bearer(req, &token)) != ROSE_OK || token == NULL)
            return rose_fail(req, ROSE_ERR_UNAUTHORIZED,
                             "Metrics need the admin token as a Bearer token.");
        if (cfg->admin_token[0] == '\0' ||
            !rose_ct_equal(token, strlen(token), cfg->admin_token, strlen(cfg->admin_token)))
            return rose_fail(req, ROSE_ERR_FORBIDDEN, "That token may not read metrics.");
    }
    if ((err = rose_req_store(req, &st)) != ROSE_OK)
        return err;
    rose_buf_init(&out, 4 * 1024 * 1024);
    if ((err = rose_metrics_export(st, &out)) == ROSE_OK)
        err = rose_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                               out.data ? out.data : "", out.len);
    rose_buf_free(&out);
    return err;
}

static const struct rose_route routes[] = {
    {"GET", "/metrics", ROSE_BODY_NONE, 0, metrics},
};

int
main(int argc, char **argv)
{
    return rose_http_main("metrics", routes, sizeof(routes) / sizeof(routes[0]), argc, argv);
}
