/*
 * probe.c — time-bounded GET for health probes (probe.h).
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/text.h"
#include "providers/probe.h"

#define PROBE_BODY_MAX (64 * 1024)

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    size_t *seen = arg;

    (void)ptr;
    *seen += size * nmemb;
    return *seen > PROBE_BODY_MAX ? 0 : size * nmemb;
}

enum rose_err
rose_probe_get(const char *url, const char *header1, const char *header2, long timeout_ms,
               struct rose_probe *p)
{
    CURL *c = NULL;
    struct curl_slist *h = NULL;
    size_t seen = 0;
    double t0 = rose_mono_ms();
    long status = 0;
    CURLcode cc;
    enum rose_err err = ROSE_ERR_UNAVAILABLE;

    memset(p, 0, sizeof(*p));
    if ((c = curl_easy_init()) == NULL) {
        snprintf(p->error, sizeof(p->error), "nomem");
        return ROSE_ERR_NOMEM;
    }
    if (header1 != NULL)
        h = curl_slist_append(h, header1);
    if (header2 != NULL)
        h = curl_slist_append(h, header2);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "rose-health/1");
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    p->http_status = (int)status;
    p->latency_ms = rose_mono_ms() - t0;
    if (status >= 200 && status < 300) {
        err = ROSE_OK;
    } else if (status > 0) {
        snprintf(p->error, sizeof(p->error), "http_%ld", status);
        err = status == 429 ? ROSE_ERR_RATE_LIMITED : ROSE_ERR_UPSTREAM;
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(p->error, sizeof(p->error), "timeout");
        err = ROSE_ERR_TIMEOUT;
    } else {
        snprintf(p->error, sizeof(p->error), "connect");
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return err;
}
