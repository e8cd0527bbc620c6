/*
 * ratelimit.h — requests per client IP and route family, counted in fixed
 * one-minute windows in the rate_limits table so every worker process
 * shares the count (DESIGN.md §4, docs/internals/resilience.md).
 */
#ifndef ROSE_RATELIMIT_H
#define ROSE_RATELIMIT_H

#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

/* The window length: "per minute" in RATE_LIMIT_PER_MINUTE. */
#define ROSE_RATELIMIT_WINDOW_MS 60000

/* Room for any client string rose_ratelimit_client() writes: the longest
 * IPv6 text form and its NUL (INET6_ADDRSTRLEN). */
#define ROSE_RATELIMIT_CLIENT_LEN 46

/*
 * Count one request of client (rose_ratelimit_client()) on route family
 * ("chat", "health"...) at now_ms, against limit (>= 1) requests per
 * window.  One BEGIN IMMEDIATE transaction, so exactly limit requests per
 * window succeed however many processes ask at once; refused requests are
 * counted too.  Once per process per window it also deletes rows of windows
 * older than the previous one.
 *
 * ROSE_OK: allowed.  ROSE_ERR_RATE_LIMITED: refused.  In both cases (only)
 * *remaining is the requests left in this window (0 when refused) and
 * *reset_s the whole seconds until the window ends (1..60): the
 * RateLimit-Remaining and RateLimit-Reset values, and Retry-After on a 429.
 * Database errors are logged and returned; Rose then lets the request
 * through (a limiter must not become the outage).
 */
enum rose_err rose_ratelimit_hit(struct rose_store *st, const char *client, const char *family,
                                 long limit, long long now_ms, long *remaining, long *reset_s);

/*
 * The client address to count a request against, written to out (outlen
 * >= ROSE_RATELIMIT_CLIENT_LEN avoids truncation) and returned.
 *
 * remote_addr (REMOTE_ADDR) unless it is one of trusted_proxies
 * (TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses and CIDR networks,
 * e.g. "127.0.0.1, 10.0.0.0/8, fd00::/8"; NULL or "" trusts nobody).  Behind
 * a trusted proxy, x_forwarded_for (NULL if absent) is read right to left
 * — each proxy appends the address it received from — skipping trusted
 * proxies; the first address that is not trusted is the client.  Anything
 * left of it is client-supplied and ignored.  If the walk meets an entry
 * that is not an address, or runs out, the last trusted hop is the client.
 *
 * Addresses are written in canonical text (inet_ntop), IPv4-mapped IPv6
 * as IPv4, so one client has one key.  A remote_addr that is not an address
 * (a Unix socket) is copied as it is, truncated to outlen.  Invalid entries
 * of trusted_proxies trust nothing; rose_ratelimit_proxies_check() finds
 * them at start-up.
 */
const char *rose_ratelimit_client(const char *remote_addr, const char *x_forwarded_for,
                                  const char *trusted_proxies, char *out, size_t outlen);

/*
 * The key a client (rose_ratelimit_client()) is counted under, written to out
 * (outlen >= ROSE_RATELIMIT_CLIENT_LEN) and returned: an IPv4 address (or a
 * string that is no address) as it is; an IPv6 address as its /64 network,
 * e.g. "2001:db8:1:2::/64", since one home or phone line is handed a whole
 * /64 and could otherwise take a fresh address, and a fresh allowance, at will.
 */
const char *rose_ratelimit_key(const char *client, char *out, size_t outlen);

/*
 * Validate a TRUSTED_PROXIES value, for the configuration loader.  ROSE_OK,
 * or ROSE_ERR_CONFIG with one line in errbuf naming the bad entry (or the
 * count over ROSE_LIST_MAX).  Does not log.
 */
enum rose_err rose_ratelimit_proxies_check(const char *trusted_proxies, char *errbuf,
                                           size_t errlen);

#endif
