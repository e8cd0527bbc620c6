/*
 * probe.h — a cheap, time-bounded GET against a provider, for
 * /health/{service}: is it reachable, and does it accept our key?
 */
#ifndef ROSE_PROBE_H
#define ROSE_PROBE_H

#include "core/err.h"

struct rose_probe {
    int http_status;   /* 0 when no response */
    double latency_ms;
    char error[48];    /* "", or a short class: "timeout", "connect", "http_401", ... */
};

/*
 * GET url with up to two extra headers ("Name: value", NULL to omit),
 * discarding the body (at most 64 KiB is read).  Fills p in every case;
 * returns ROSE_OK when the provider answered 2xx.
 */
enum rose_err rose_probe_get(const char *url, const char *header1, const char *header2,
                             long timeout_ms, struct rose_probe *p);

#endif
