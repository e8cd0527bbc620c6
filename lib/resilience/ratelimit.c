/*
 * ratelimit.c — shared fixed-window rate limits and the client address
 * behind trusted proxies (see ratelimit.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "core/log.h"
#include "resilience/ratelimit.h"

/* ---- counting ------------------------------------------------------------------ */

static enum rose_err
db_fail(struct rose_store *st, int rc, const char *what)
{
    rose_logf(ROSE_LOG_ERROR, "db_error", "rate limit %s: %s (%d)", what,
              sqlite3_errmsg(rose_store_db(st)), rc);
    return rose_store_err(rc);
}

/*
 * Rows are rewritten by their client's next request, so only clients that
 * went away leave rows behind.  Keep the previous window: a worker whose
 * clock reading is a few ms behind another's may still be counting in it.
 */
static enum rose_err
prune(struct rose_store *st, long long window)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st, "DELETE FROM rate_limits WHERE window < ?1", &s)) != ROSE_OK)
        return err;
    sqlite3_bind_int64(s, 1, window - 1);
    if ((rc = sqlite3_step(s)) != SQLITE_DONE)
        err = db_fail(st, rc, "prune");
    sqlite3_finalize(s);
    return err;
}

/*
 * Count one request in window and return the window's count so far.
 *
 * The window never moves back by one: a request whose clock was read
 * before a minute boundary but that got the lock after another worker
 * started the new window counts in the new one (else the two would take
 * turns resetting the count).  A stored window further ahead than that
 * means the wall clock was set back; start afresh rather than lock every
 * client out until the clock catches up.
 */
static enum rose_err
count_hit(struct rose_store *st, const char *client, const char *family, long long window,
          long long *count)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(
             st,
             "INSERT INTO rate_limits (client, family, window, count) VALUES (?1, ?2, ?3, 1) "
             "ON CONFLICT (client, family) DO UPDATE SET "
             "count = CASE WHEN excluded.window - window IN (0, -1) THEN count + 1 ELSE 1 END, "
             "window = CASE WHEN excluded.window - window = -1 THEN window "
             "ELSE excluded.window END "
             "RETURNING count",
             &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, client, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, family, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, window);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *count = sqlite3_column_int64(s, 0);
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE)
        err = db_fail(st, rc, "count");
    sqlite3_finalize(s);
    return err;
}

enum rose_err
rose_ratelimit_hit(struct rose_store *st, const char *client, const char *family, long limit,
                   long long now_ms, long *remaining, long *reset_s)
{
    /* The window this process last pruned in: one DELETE per process per
     * minute keeps the table at about the clients of the last two minutes. */
    static long long pruned_window = -1;
    long long window = now_ms / ROSE_RATELIMIT_WINDOW_MS, count = 0;
    enum rose_err err;

    if ((err = rose_store_begin(st)) != ROSE_OK)
        return err;
    if (window != pruned_window && (err = prune(st, window)) != ROSE_OK)
        goto out;
    if ((err = count_hit(st, client, family, window, &count)) != ROSE_OK)
        goto out;
    if ((err = rose_store_commit(st)) != ROSE_OK)
        goto out;
    pruned_window = window;
out:
    if (err != ROSE_OK) {
        rose_store_rollback(st);
        return err;
    }
    *remaining = count < limit ? (long)(limit - count) : 0;
    *reset_s = (long)(((window + 1) * ROSE_RATELIMIT_WINDOW_MS - now_ms + 999) / 1000);
    return count <= limit ? ROSE_OK : ROSE_ERR_RATE_LIMITED;
}

/* ---- the client address ------------------------------------------------------------ */

/* An address as 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so one
 * comparison serves both families and a mapped address equals its IPv4. */
struct addr {
    unsigned char b[16];
};

/* A network: an address and how many leading bits of it must match. */
struct net {
    struct addr a;
    int bits;
};

/* Parse the n bytes at s as an address; 4 or 6 for its family, 0 if it is
 * not one. */
static int
parse_addr(const char *s, size_t n, struct addr *out)
{
    char text[64];
    unsigned char v4[4];

    if (n == 0 || n >= sizeof(text))
        return 0;
    memcpy(text, s, n);
    text[n] = '\0';
    if (inet_pton(AF_INET, text, v4) == 1) {
        memset(out->b, 0, 10);
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, v4, 4);
        return 4;
    }
    return inet_pton(AF_INET6, text, out->b) == 1 ? 6 : 0;
}

/* "10.0.0.1", "10.0.0.0/8", "fd00::/8"; 1 on success. */
static int
parse_net(const char *s, size_t n, struct net *out)
{
    const char *slash = memchr(s, '/', n);
    size_t i, alen = slash != NULL ? (size_t)(slash - s) : n;
    int family = parse_addr(s, alen, &out->a), prefix = 0;

    if (family == 0)
        return 0;
    out->bits = 128;
    if (slash == NULL)
        return 1;
    /* 1 to 3 digits, no sign, no spaces */
    if (n - alen < 2 || n - alen > 4)
        return 0;
    for (i = alen + 1; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        prefix = prefix * 10 + (s[i] - '0');
    }
    if (prefix > (family == 4 ? 32 : 128))
        return 0;
    out->bits = family == 4 ? 96 + prefix : prefix;
    return 1;
}

static int
in_net(const struct addr *a, const struct net *net)
{
    int whole = net->bits / 8, rest = net->bits % 8;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));

    if (memcmp(a->b, net->a.b, (size_t)whole) != 0)
        return 0;
    return rest == 0 || ((a->b[whole] ^ net->a.b[whole]) & mask) == 0;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The next comma-separated item of a list, without surrounding blanks;
 * empty items are skipped.  0 when the list is used up. */
static int
next_item(const char **p, const char **item, size_t *len)
{
    const char *s = *p, *e;

    while (*s == ',' || is_space(*s))
        s++;
    for (e = s; *e != '\0' && *e != ','; e++)
        ;
    *p = e;
    while (e > s && is_space(e[-1]))
        e--;
    *item = s;
    *len = (size_t)(e - s);
    return e > s;
}

/* As next_item(), from the right: *end is where the unread part stops. */
static int
prev_item(const char *list, size_t *end, const char **item, size_t *len)
{
    size_t e = *end, s;

    while (e > 0 && (list[e - 1] == ',' || is_space(list[e - 1])))
        e--;
    if (e == 0) {
        *end = 0;
        return 0;
    }
    for (s = e; s > 0 && list[s - 1] != ','; s--)
        ;
    *end = s;
    while (is_space(list[s]))
        s++;
    *item = list + s;
    *len = e - s;
    return 1;
}

static int
is_trusted(const struct addr *a, const char *trusted_proxies)
{
    const char *p = trusted_proxies != NULL ? trusted_proxies : "", *item;
    struct net net;
    size_t n;

    while (next_item(&p, &item, &n))
        if (parse_net(item, n, &net) && in_net(a, &net))
            return 1;
    return 0;
}

/*
 * An X-Forwarded-For entry: an address, and from some proxies "[v6]",
 * "[v6]:port" or "a.b.c.d:port".  1 if it is an address.
 */
static int
parse_forwarded(const char *s, size_t n, struct addr *out)
{
    const char *colon;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        size_t after;
        if (close == NULL)
            return 0;
        after = n - (size_t)(close + 1 - s);
        if (after != 0 && close[1] != ':') /* "]" then nothing or ":port" */
            return 0;
        return parse_addr(s + 1, (size_t)(close - s - 1), out) == 6;
    }
    colon = memchr(s, ':', n);
    if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) == NULL)
        return parse_addr(s, (size_t)(colon - s), out) == 4; /* one colon: IPv4 and a port */
    return parse_addr(s, n, out) != 0;
}

/* The first 12 bytes of an IPv4 address in its IPv4-mapped IPv6 form. */
static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void
format_addr(const struct addr *a, char *out, size_t outlen)
{
    char text[ROSE_RATELIMIT_CLIENT_LEN];

    if (memcmp(a->b, mapped, sizeof(mapped)) == 0)
        inet_ntop(AF_INET, a->b + 12, text, sizeof(text));
    else
        inet_ntop(AF_INET6, a->b, text, sizeof(text));
    snprintf(out, outlen, "%s", text);
}

const char *
rose_ratelimit_client(const char *remote_addr, const char *x_forwarded_for,
                      const char *trusted_proxies, char *out, size_t outlen)
{
    struct addr hop, prev;
    const char *item;
    size_t end, n;

    if (remote_addr == NULL)
        remote_addr = "";
    if (!parse_addr(remote_addr, strlen(remote_addr), &hop)) {
        snprintf(out, outlen, "%s", remote_addr);
        return out;
    }
    if (x_forwarded_for != NULL && is_trusted(&hop, trusted_proxies)) {
        /* hop is trusted: believe the address it says it received from. */
        end = strlen(x_forwarded_for);
        while (prev_item(x_forwarded_for, &end, &item, &n)) {
            if (!parse_forwarded(item, n, &prev))
                break; /* garbage: the proxy that passed it on is all we know */
            hop = prev;
            if (!is_trusted(&hop, trusted_proxies))
                break;
        }
    }
    format_addr(&hop, out, outlen);
    return out;
}

const char *
rose_ratelimit_key(const char *client, char *out, size_t outlen)
{
    char text[ROSE_RATELIMIT_CLIENT_LEN];
    struct addr a;

    if (client == NULL)
        client = "";
    if (!parse_addr(client, strlen(client), &a) || memcmp(a.b, mapped, sizeof(mapped)) == 0) {
        snprintf(out, outlen, "%s", client);
        return out;
    }
    memset(a.b + 8, 0, 8); /* one /64: what one subscriber line gets */
    inet_ntop(AF_INET6, a.b, text, sizeof(text));
    snprintf(out, outlen, "%s/64", text);
    return out;
}

enum rose_err
rose_ratelimit_proxies_check(const char *trusted_proxies, char *errbuf, size_t errlen)
{
    const char *p = trusted_proxies != NULL ? trusted_proxies : "", *item;
    struct net net;
    size_t n;
    int count = 0;

    while (next_item(&p, &item, &n)) {
        if (!parse_net(item, n, &net)) {
            snprintf(errbuf, errlen,
                     "TRUSTED_PROXIES: '%.*s' is not an IP address or network "
                     "(10.0.0.1, 10.0.0.0/8, fd00::1, fd00::/8)",
                     (int)(n > 64 ? 64 : n), item);
            return ROSE_ERR_CONFIG;
        }
        if (++count > ROSE_LIST_MAX) {
            snprintf(errbuf, errlen, "TRUSTED_PROXIES: more than %d entries", ROSE_LIST_MAX);
            return ROSE_ERR_CONFIG;
        }
    }
    return ROSE_OK;
}
