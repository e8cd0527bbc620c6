/*
 * test_ratelimit.c — shared fixed-window rate limits
 * (lib/resilience/ratelimit.c): exact limits in one process and across
 * processes, windows, the RateLimit values, pruning, and which address a
 * request is counted against behind trusted proxies.  Times are passed in;
 * everything happens in a fresh mkdtemp() directory removed at the end.
 */
#include <stdlib.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "resilience/ratelimit.h"
#include "store/store.h"
#include "t.h"

#define MINUTE ROSE_RATELIMIT_WINDOW_MS
#define W0 28333333LL /* an arbitrary window number (2023-11-14) */
#define NCHILDREN 8
#define HITS_PER_CHILD 5
#define RACE_LIMIT 10
#define NROUNDS 5

static char tmpdir[] = "/tmp/rose-test-ratelimit-XXXXXX";
static char dbpath[300];
static struct rose_buf logs;

static void
capture(void *arg, const char *line)
{
    rose_buf_puts(arg, line);
}

static long long
query_int(struct rose_store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(rose_store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void
test_one_process(struct rose_store *st)
{
    long long now = W0 * MINUTE + 15000; /* 15 s into the window */
    long remaining = -1, reset = -1;
    enum rose_err err;
    int i;

    for (i = 1; i <= 3; i++) {
        err = rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, now + i, &remaining, &reset);
        T_INT(err, ROSE_OK, "limit 3: request %d allowed", i);
        T_INT(remaining, 3 - i, "limit 3: request %d leaves %d", i, 3 - i);
        T_INT(reset, 45, "limit 3: request %d resets in 45 s", i);
    }
    for (i = 4; i <= 6; i++) {
        remaining = reset = -1;
        err = rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, now + i, &remaining, &reset);
        T_INT(err, ROSE_ERR_RATE_LIMITED, "limit 3: request %d refused", i);
        T_INT(remaining, 0, "limit 3: refused request %d: remaining 0", i);
        T_INT(reset, 45, "limit 3: refused request %d: Retry-After 45", i);
    }
    T_OK(sqlite3_get_autocommit(rose_store_db(st)), "limit 3: no transaction left open");

    /* Other families and other clients have their own counts. */
    T_INT(rose_ratelimit_hit(st, "198.51.100.1", "health", 3, now, &remaining, &reset), ROSE_OK,
          "another family: allowed");
    T_INT(remaining, 2, "another family: its own count");
    T_INT(rose_ratelimit_hit(st, "198.51.100.2", "chat", 3, now, &remaining, &reset), ROSE_OK,
          "another client: allowed");
    T_INT(remaining, 2, "another client: its own count");
    T_INT(rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, now + 44999, &remaining, &reset),
          ROSE_ERR_RATE_LIMITED, "last ms of the window: still refused");
    T_INT(reset, 1, "last ms of the window: reset in 1 s");

    /* The next window starts afresh. */
    T_INT(rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, (W0 + 1) * MINUTE, &remaining, &reset),
          ROSE_OK, "next window: allowed again");
    T_INT(remaining, 2, "next window: count restarted");
    T_INT(reset, 60, "next window, first ms: reset in 60 s");

    /* A request whose clock reading is from the previous window, arriving
     * after the new one began, counts in the new one. */
    T_INT(rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, (W0 + 1) * MINUTE - 5, &remaining,
                             &reset),
          ROSE_OK, "stale clock by 5 ms: allowed");
    T_INT(remaining, 1, "stale clock by 5 ms: counted in the current window, not reset");
    T_INT(rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, (W0 + 1) * MINUTE + 1, &remaining,
                             &reset),
          ROSE_OK, "and back in the current window: allowed");
    T_INT(remaining, 0, "and back in the current window: the count went on (3rd of 3)");
    T_INT(rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, (W0 + 1) * MINUTE + 2, &remaining,
                             &reset),
          ROSE_ERR_RATE_LIMITED, "current window: the 4th is refused");

    /* A wall clock set back by minutes does not lock the client out. */
    T_INT(rose_ratelimit_hit(st, "198.51.100.1", "chat", 3, (W0 - 10) * MINUTE, &remaining, &reset),
          ROSE_OK, "clock set back 11 minutes: a fresh count");
    T_INT(remaining, 2, "clock set back: remaining 2");

    T_INT(rose_ratelimit_hit(st, "198.51.100.3", "chat", 1, now, &remaining, &reset), ROSE_OK,
          "limit 1: first allowed");
    T_INT(rose_ratelimit_hit(st, "198.51.100.3", "chat", 1, now, &remaining, &reset),
          ROSE_ERR_RATE_LIMITED, "limit 1: second refused");
}

/* Rows of windows older than the previous one go at the first request of
 * a window; the previous window's rows stay. */
static void
test_prune(struct rose_store *st)
{
    long long w = W0 + 100;
    long remaining, reset;
    char sql[256];

    snprintf(sql, sizeof(sql),
             "INSERT INTO rate_limits (client, family, window, count) VALUES "
             "('old', 'chat', %lld, 4), ('prev', 'chat', %lld, 4), ('older', 'voice', %lld, 1)",
             w - 2, w - 1, w - 50);
    T_INT(rose_store_exec(st, sql), ROSE_OK, "prune: stale rows inserted");
    T_INT(rose_ratelimit_hit(st, "198.51.100.9", "chat", 5, w * MINUTE + 10, &remaining, &reset),
          ROSE_OK, "prune: a request in a new window");
    T_INT(query_int(st, "SELECT count(*) FROM rate_limits WHERE client IN ('old', 'older')"), 0,
          "prune: rows two or more windows old are gone");
    T_INT(query_int(st, "SELECT count(*) FROM rate_limits WHERE client = 'prev'"), 1,
          "prune: the previous window's row stays");
    T_INT(query_int(st,
                    "SELECT count(*) FROM rate_limits WHERE window < "
                    "(SELECT max(window) - 1 FROM rate_limits)"),
          0, "prune: nothing older than the previous window is left");
}

/* What the racing processes share. */
struct hits_race {
    const char *client;
    long long now;
};

/* One worker of the race: its own connection, HITS_PER_CHILD requests.  Exit
 * status: the number allowed, or 100 + err. */
static int
hits_child(int i, void *arg)
{
    const struct hits_race *race = arg;
    struct rose_store *st = NULL;
    long remaining, reset;
    int ok = 0, j, status = 0;
    enum rose_err err;

    (void)i;
    if (rose_store_open(dbpath, &st) != ROSE_OK)
        status = 100;
    for (j = 0; status == 0 && j < HITS_PER_CHILD; j++) {
        err = rose_ratelimit_hit(st, race->client, "chat", RACE_LIMIT, race->now + j, &remaining,
                                 &reset);
        if (err == ROSE_OK)
            ok++;
        else if (err != ROSE_ERR_RATE_LIMITED)
            status = 100 + (int)err;
    }
    rose_store_close(st);
    rose_buf_free(&logs);
    return status != 0 ? status : ok;
}

/* NCHILDREN processes (t_race) each make HITS_PER_CHILD requests for the
 * same client at once against a limit of RACE_LIMIT: exactly RACE_LIMIT
 * succeed in total. */
static void
test_concurrent(int round)
{
    char client[32];
    struct hits_race race = {client, (W0 + 200 + round) * MINUTE + 30000};
    int exits[NCHILDREN], i, allowed = 0, errors = 0;
    struct rose_store *st = NULL;

    snprintf(client, sizeof(client), "203.0.113.%d", round + 1);
    if (!t_race(NCHILDREN, hits_child, &race, exits)) {
        T_OK(0, "race %d: pipe", round);
        return;
    }
    for (i = 0; i < NCHILDREN; i++) {
        if (exits[i] >= 0 && exits[i] <= HITS_PER_CHILD) {
            allowed += exits[i];
        } else {
            errors++;
            printf("#   child %d: exit %d (100 + enum rose_err for errors)\n", i, exits[i]);
        }
    }
    T_OK(allowed == RACE_LIMIT && errors == 0,
         "race %d: %d processes x %d requests, limit %d: exactly %d allowed (got %d, %d errors)",
         round, NCHILDREN, HITS_PER_CHILD, RACE_LIMIT, RACE_LIMIT, allowed, errors);
    if (rose_store_open(dbpath, &st) == ROSE_OK) {
        char sql[160];
        snprintf(sql, sizeof(sql), "SELECT count FROM rate_limits WHERE client = '%s'", client);
        T_INT(query_int(st, sql), NCHILDREN * HITS_PER_CHILD, "race %d: every request was counted",
              round);
        rose_store_close(st);
    }
}

static void
test_client(void)
{
    static const char *const trusted = "10.0.0.0/8, 192.168.1.1 ,172.16.0.0/12,fd00::/8, "
                                       "2001:db8::1";
    static const struct {
        const char *remote, *xff, *trusted, *want, *what;
    } cases[] = {
        /* untrusted REMOTE_ADDR: X-Forwarded-For is ignored */
        {"203.0.113.5", "198.51.100.7", trusted, "203.0.113.5", "untrusted peer, XFF ignored"},
        {"203.0.113.5", "10.0.0.1", trusted, "203.0.113.5", "untrusted peer claims a proxy"},
        {"203.0.113.5", NULL, trusted, "203.0.113.5", "untrusted peer, no XFF"},
        {"10.1.2.3", "198.51.100.7", NULL, "10.1.2.3", "no TRUSTED_PROXIES (NULL)"},
        {"10.1.2.3", "198.51.100.7", "", "10.1.2.3", "no TRUSTED_PROXIES (empty)"},
        /* trusted proxy: the right-most entry that is not a trusted proxy */
        {"10.1.2.3", "198.51.100.7", trusted, "198.51.100.7", "one trusted proxy"},
        {"10.1.2.3", NULL, trusted, "10.1.2.3", "trusted proxy, no XFF"},
        {"10.1.2.3", "", trusted, "10.1.2.3", "trusted proxy, empty XFF"},
        {"10.1.2.3", " , ", trusted, "10.1.2.3", "trusted proxy, blank XFF"},
        {"10.0.0.1", "198.51.100.7, 192.168.1.1, 10.9.9.9", trusted, "198.51.100.7",
         "three proxies"},
        {"10.0.0.1", " 198.51.100.7 ,, 10.0.0.2 ", trusted, "198.51.100.7", "blanks and empties"},
        /* spoofed chains: whatever the client wrote sits left of the real entry */
        {"10.0.0.1", "6.6.6.6, 198.51.100.7", trusted, "198.51.100.7", "spoofed left entry"},
        {"10.0.0.1", "10.0.0.5, 198.51.100.7", trusted, "198.51.100.7",
         "spoofed trusted address on the left"},
        {"10.0.0.1", "1.1.1.1, 2.2.2.2, 198.51.100.7, 10.0.0.9", trusted, "198.51.100.7",
         "long spoofed chain"},
        {"10.0.0.1", "10.0.0.2, 10.0.0.3", trusted, "10.0.0.2", "all trusted: the left-most hop"},
        {"10.0.0.1", "198.51.100.7, garbage", trusted, "10.0.0.1",
         "garbage from the proxy: the proxy"},
        {"10.0.0.1", "garbage, 10.0.0.3", trusted, "10.0.0.3", "garbage behind a trusted hop"},
        {"10.0.0.1", "garbage, 198.51.100.7", trusted, "198.51.100.7",
         "garbage left of the client: ignored"},
        {"10.0.0.1", "198.51.100.7:5555", trusted, "198.51.100.7", "IPv4 with a port"},
        {"10.0.0.1", "[2001:db8::7]:443", trusted, "2001:db8::7", "[IPv6]:port"},
        {"10.0.0.1", "[2001:db8::7]", trusted, "2001:db8::7", "[IPv6]"},
        {"10.0.0.1", "[2001:db8::7]x", trusted, "10.0.0.1", "[IPv6] with junk: garbage"},
        {"10.0.0.1", "[1.2.3.4]", trusted, "10.0.0.1", "[IPv4] is not a form: garbage"},
        {"10.0.0.1", "1.2.3.4:5:6", trusted, "10.0.0.1", "two colons, not IPv6: garbage"},
        /* IPv6 */
        {"2001:db8::5", "198.51.100.7", trusted, "2001:db8::5", "IPv6 untrusted peer"},
        {"fd12:3456::1", "2001:db8:0:0:0:0:0:7", trusted, "2001:db8::7",
         "IPv6 trusted by fd00::/8, client written canonically"},
        {"2001:DB8:0::1", "198.51.100.9", trusted, "198.51.100.9",
         "IPv6 single trusted address, other spelling"},
        {"2001:db8::2", "198.51.100.9", trusted, "2001:db8::2", "IPv6 neighbour not trusted"},
        {"::ffff:10.0.0.1", "198.51.100.7", trusted, "198.51.100.7",
         "IPv4-mapped peer matches an IPv4 network"},
        {"::ffff:203.0.113.5", NULL, trusted, "203.0.113.5", "IPv4-mapped written as IPv4"},
        {"10.0.0.1", "::ffff:198.51.100.7", trusted, "198.51.100.7",
         "IPv4-mapped XFF entry written as IPv4"},
        {"10.0.0.1", "::ffff:10.0.0.2", trusted, "10.0.0.2",
         "IPv4-mapped XFF entry of a proxy is trusted"},
        /* CIDR edges */
        {"11.0.0.1", "198.51.100.7", trusted, "11.0.0.1", "/8: 11.0.0.1 is outside"},
        {"9.255.255.255", "198.51.100.7", trusted, "9.255.255.255", "/8: 9.255.255.255 outside"},
        {"10.255.255.255", "198.51.100.7", trusted, "198.51.100.7", "/8: 10.255.255.255 inside"},
        {"192.168.1.2", "198.51.100.7", trusted, "192.168.1.2", "single address: neighbour"},
        {"172.31.255.255", "198.51.100.7", trusted, "198.51.100.7", "/12: top inside"},
        {"172.32.0.0", "198.51.100.7", trusted, "172.32.0.0", "/12: next outside"},
        {"172.15.255.255", "198.51.100.7", trusted, "172.15.255.255", "/12: below outside"},
        {"fdff:ffff::1", "198.51.100.7", trusted, "198.51.100.7", "fd00::/8: fdff:: inside"},
        {"fe00::1", "198.51.100.7", trusted, "fe00::1", "fd00::/8: fe00:: outside"},
        {"fc00::1", "198.51.100.7", trusted, "fc00::1", "fd00::/8: fc00:: outside"},
        {"203.0.113.5", "198.51.100.7", "0.0.0.0/0", "198.51.100.7", "0.0.0.0/0 trusts IPv4"},
        {"2001:db8::5", "198.51.100.7", "0.0.0.0/0", "2001:db8::5", "0.0.0.0/0 not IPv6"},
        {"2001:db8::5", "198.51.100.7", "::/0", "198.51.100.7", "::/0 trusts everything"},
        {"10.0.0.1", "198.51.100.7", "bogus, 10.0.0.0/33, 10.0.0.0/8", "198.51.100.7",
         "invalid entries are skipped, valid ones still count"},
        {"10.0.0.1", "198.51.100.7", "bogus, 10.0.0.0/33", "10.0.0.1",
         "invalid entries trust nothing"},
        {"10.0.0.1", "198.51.100.7", "10.0.0.1/32", "198.51.100.7", "/32"},
        {"10.0.0.2", "198.51.100.7", "10.0.0.1/32", "10.0.0.2", "/32 neighbour"},
        {"10.0.0.1", "198.51.100.7", "10.0.0.1/31", "198.51.100.7", "/31 odd bit"},
        {"10.0.0.2", "198.51.100.7", "10.0.0.1/31", "10.0.0.2", "/31 outside"},
        /* not an address */
        {"unix:/run/rose.sock", "198.51.100.7", trusted, "unix:/run/rose.sock",
         "REMOTE_ADDR not an address: copied"},
        {NULL, "198.51.100.7", trusted, "", "no REMOTE_ADDR: empty"},
    };
    char out[ROSE_RATELIMIT_CLIENT_LEN], small[8];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(out, 'x', sizeof(out));
        T_STR(rose_ratelimit_client(cases[i].remote, cases[i].xff, cases[i].trusted, out,
                                    sizeof(out)),
              cases[i].want, "client: %s", cases[i].what);
    }
    T_OK(rose_ratelimit_client("2001:db8::5", NULL, NULL, small, sizeof(small)) == small,
         "client: returns the caller's buffer");
    T_STR(small, "2001:db", "client: truncated to the buffer");
    T_STR(rose_ratelimit_client("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", NULL, NULL, out,
                                sizeof(out)),
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "client: the longest form fits");
}

static void
test_key(void)
{
    static const struct {
        const char *client, *want, *what;
    } cases[] = {
        {"203.0.113.7", "203.0.113.7", "IPv4 as it is"},
        {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64", "IPv6: its /64"},
        {"2001:db8:1:2::1", "2001:db8:1:2::/64", "another address of the same /64: the same key"},
        {"2001:db8:1:3::1", "2001:db8:1:3::/64", "the next /64: a key of its own"},
        {"::1", "::/64", "IPv6 loopback"},
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1", "an IPv4-mapped address stays one address"},
        {"unix:/run/rose.sock", "unix:/run/rose.sock", "not an address: as it is"},
        {"", "", "empty"},
    };
    char out[ROSE_RATELIMIT_CLIENT_LEN];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_STR(rose_ratelimit_key(cases[i].client, out, sizeof(out)), cases[i].want, "key: %s",
              cases[i].what);
    T_STR(rose_ratelimit_key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", out, sizeof(out)),
          "ffff:ffff:ffff:ffff::/64", "key: the longest /64 fits");
}

static void
test_proxies_check(void)
{
    static const struct {
        const char *list;
        enum rose_err want;
    } cases[] = {
        {NULL, ROSE_OK},
        {"", ROSE_OK},
        {"10.0.0.1", ROSE_OK},
        {"10.0.0.0/8, fd00::/8", ROSE_OK},
        {" 127.0.0.1 , ::1 ,", ROSE_OK},
        {"0.0.0.0/0,::/0,10.0.0.1/32,::1/128", ROSE_OK},
        {"10.0.0.0/33", ROSE_ERR_CONFIG},
        {"fd00::/129", ROSE_ERR_CONFIG},
        {"10.0.0.0/", ROSE_ERR_CONFIG},
        {"10.0.0.0/-1", ROSE_ERR_CONFIG},
        {"10.0.0.0/+8", ROSE_ERR_CONFIG},
        {"10.0.0.0/ 8", ROSE_ERR_CONFIG},
        {"10.0.0.0/0008", ROSE_ERR_CONFIG},
        {"10.0.0", ROSE_ERR_CONFIG},
        {"proxy.example", ROSE_ERR_CONFIG},
        {"10.0.0.1/8/8", ROSE_ERR_CONFIG},
        {"/8", ROSE_ERR_CONFIG},
        {"10.0.0.1 10.0.0.2", ROSE_ERR_CONFIG},
        {"10.0.0.1, nope", ROSE_ERR_CONFIG},
    };
    char err[256], many[ROSE_LIST_MAX * 10 + 32];
    size_t i;
    int j;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        T_INT(rose_ratelimit_proxies_check(cases[i].list, err, sizeof(err)), cases[i].want,
              "proxies check '%s'", cases[i].list ? cases[i].list : "(null)");
        if (cases[i].want != ROSE_OK)
            T_OK(strstr(err, "TRUSTED_PROXIES") != NULL, "proxies check '%s': says why (%s)",
                 cases[i].list, err);
    }
    many[0] = '\0';
    for (j = 0; j < ROSE_LIST_MAX; j++)
        strcat(many, "10.0.0.1,");
    T_INT(rose_ratelimit_proxies_check(many, err, sizeof(err)), ROSE_OK,
          "proxies check: %d entries allowed", ROSE_LIST_MAX);
    strcat(many, "10.0.0.2");
    T_INT(rose_ratelimit_proxies_check(many, err, sizeof(err)), ROSE_ERR_CONFIG,
          "proxies check: %d entries refused", ROSE_LIST_MAX + 1);
}

int
main(void)
{
    struct rose_store *st = NULL;
    int round;

    rose_log_set_sink(capture, &logs);
    if (!t_mkdtemp(tmpdir))
        return 2;
    snprintf(dbpath, sizeof(dbpath), "%s/ratelimit.db", tmpdir);

    test_client();
    test_key();
    test_proxies_check();
    if (rose_store_open(dbpath, &st) != ROSE_OK) {
        T_OK(0, "open the test database");
        return t_done();
    }
    test_one_process(st);
    test_prune(st);
    rose_store_close(st);
    for (round = 0; round < NROUNDS; round++)
        test_concurrent(round);
    T_OK(logs.data == NULL || strstr(logs.data, "db_error") == NULL, "no database errors logged");

    rose_buf_free(&logs);
    t_rmtree(tmpdir);
    return t_done();
}
