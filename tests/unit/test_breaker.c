/*
 * test_breaker.c — circuit breakers shared through SQLite
 * (lib/resilience/breaker.c): the state machine, fail-fast, one probe among
 * concurrent processes, abandoned probes, logging and counting.  Times are
 * passed in, so nothing waits; everything happens in a fresh mkdtemp()
 * directory that is removed at the end.
 */
#include <stdlib.h>

#include "core/buf.h"
#include "core/log.h"
#include "resilience/breaker.h"
#include "store/store.h"
#include "t.h"

#define THRESHOLD 5
#define RECOVERY_S 60
#define RECOVERY_MS (RECOVERY_S * 1000LL)
#define T0 1700000000000LL /* an arbitrary "now", ms */
#define NCHILDREN 8
#define NROUNDS 20

static char tmpdir[] = "/tmp/rose-test-breaker-XXXXXX";
static char dbpath[300];

/* Every log line, so tests can count "breaker" events. */
static struct rose_buf logs;

static void
capture(void *arg, const char *line)
{
    rose_buf_puts(arg, line);
}

static size_t
count_in_logs(const char *needle)
{
    size_t n = 0;
    const char *p = logs.data;

    while (p != NULL && (p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

static const char *
state_of(struct rose_store *st, const char *service)
{
    struct rose_breaker_info b;

    if (rose_breaker_get(st, service, &b) != ROSE_OK)
        return "(error)";
    return rose_breaker_state_name(b.state);
}

static long long
get_field(struct rose_store *st, const char *service, char which)
{
    struct rose_breaker_info b;

    if (rose_breaker_get(st, service, &b) != ROSE_OK)
        return -1;
    switch (which) {
    case 'f':
        return b.failures;
    case 'o':
        return b.opened_at;
    default:
        return b.updated_at;
    }
}

/* rose_circuit_breaker_transitions_total{service="..."}, read where
 * lib/store/metrics.c keeps counters; 0 before the first change. */
static long long
transitions(struct rose_store *st, const char *service)
{
    sqlite3_stmt *s = NULL;
    char labels[64];
    long long v = -1;

    snprintf(labels, sizeof(labels), "service=\"%s\"", service);
    if (sqlite3_prepare_v2(rose_store_db(st),
                           "SELECT coalesce(sum(value), 0) FROM metric_counters "
                           "WHERE name = 'rose_circuit_breaker_transitions_total' AND labels = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, labels, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* allow() → -1 refused, 0 allowed (closed), 1 allowed as the probe, or
 * 100 + err on any other error. */
static int
allow(struct rose_store *st, const char *service, long long now)
{
    int probe = -7;
    enum rose_err err = rose_breaker_allow(st, service, RECOVERY_S, now, &probe);

    if (err == ROSE_ERR_UNAVAILABLE)
        return probe == -7 ? -1 : 200; /* *is_probe must be untouched */
    if (err != ROSE_OK)
        return 100 + (int)err;
    return probe;
}

/* Fail service n times at time now. */
static void
fail_n(struct rose_store *st, const char *service, int n, long long now)
{
    int i;

    for (i = 0; i < n; i++)
        if (rose_breaker_failure(st, service, THRESHOLD, now) != ROSE_OK)
            T_OK(0, "%s: failure() returned an error", service);
}

static void
test_names(void)
{
    T_STR(rose_breaker_state_name(ROSE_BREAKER_CLOSED), "closed", "name: closed");
    T_STR(rose_breaker_state_name(ROSE_BREAKER_OPEN), "open", "name: open");
    T_STR(rose_breaker_state_name(ROSE_BREAKER_HALF_OPEN), "half_open", "name: half_open");
    T_OK(rose_breaker_state_name(ROSE_BREAKER__MAX) == NULL, "name: NULL past the end");
}

static void
test_unknown_service(struct rose_store *st)
{
    struct rose_breaker_info b;

    memset(&b, 0xff, sizeof(b));
    T_INT(rose_breaker_get(st, "never", &b), ROSE_OK, "unknown service: get ok");
    T_OK(b.state == ROSE_BREAKER_CLOSED && b.failures == 0 && b.opened_at == 0 && b.updated_at == 0,
         "unknown service: closed, all zero");
    T_INT(allow(st, "never", T0), 0, "unknown service: allowed, not a probe");
    T_INT(rose_breaker_success(st, "never", T0), ROSE_OK, "unknown service: success ok");
    T_INT(get_field(st, "never", 'u'), 0, "unknown service: a success writes no row");
}

static void
test_threshold(struct rose_store *st)
{
    const char *svc = "llm";
    size_t opened_lines = count_in_logs("\"to\":\"open\"");

    fail_n(st, svc, THRESHOLD - 1, T0);
    T_STR(state_of(st, svc), "closed", "threshold: %d failures → still closed", THRESHOLD - 1);
    T_INT(get_field(st, svc, 'f'), THRESHOLD - 1, "threshold: failures counted");
    T_INT(allow(st, svc, T0), 0, "threshold: closed allows");

    /* A success in between resets the count. */
    T_INT(rose_breaker_success(st, svc, T0), ROSE_OK, "threshold: success ok");
    T_INT(get_field(st, svc, 'f'), 0, "threshold: success resets the count");
    fail_n(st, svc, THRESHOLD - 1, T0);
    T_STR(state_of(st, svc), "closed", "threshold: after a reset, %d more failures → closed",
          THRESHOLD - 1);
    T_INT(transitions(st, svc), 0, "threshold: no transition yet");

    fail_n(st, svc, 1, T0 + 5);
    T_STR(state_of(st, svc), "open", "threshold: the %dth consecutive failure opens", THRESHOLD);
    T_INT(get_field(st, svc, 'o'), T0 + 5, "threshold: opened_at is the time of that failure");
    T_INT(transitions(st, svc), 1, "threshold: one transition counted");
    T_INT(count_in_logs("\"to\":\"open\""), opened_lines + 1, "threshold: logged once");
    T_OK(strstr(logs.data ? logs.data : "", "\"service\":\"llm\"") != NULL,
         "threshold: the log line names the service");

    /* Open fails fast until a whole recovery period has passed. */
    T_INT(allow(st, svc, T0 + 5), -1, "open: refused at once");
    T_INT(allow(st, svc, T0 + 5 + RECOVERY_MS - 1), -1, "open: refused 1 ms before recovery");
    T_OK(sqlite3_get_autocommit(rose_store_db(st)), "open: no transaction left open");

    /* Failures while open are counted but do not extend the wait. */
    fail_n(st, svc, 2, T0 + 1000);
    T_INT(get_field(st, svc, 'o'), T0 + 5, "open: later failures keep opened_at");
    T_INT(get_field(st, svc, 'f'), THRESHOLD + 2, "open: later failures are counted");
    /* A late success (a call let through before it opened) changes nothing. */
    T_INT(rose_breaker_success(st, svc, T0 + 2000), ROSE_OK, "open: late success ok");
    T_STR(state_of(st, svc), "open", "open: a late success does not close it");

    /* Recovery: one probe; success closes. */
    T_INT(allow(st, svc, T0 + 5 + RECOVERY_MS), 1, "recovery: the first caller gets the probe");
    T_OK(sqlite3_get_autocommit(rose_store_db(st)),
         "recovery: no transaction held across the provider call");
    T_STR(state_of(st, svc), "half_open", "recovery: half_open");
    T_INT(allow(st, svc, T0 + 5 + RECOVERY_MS), -1, "recovery: a second caller is refused");
    T_INT(allow(st, svc, T0 + 5 + 2 * RECOVERY_MS - 1), -1,
          "recovery: still refused while the probe is out");
    T_INT(rose_breaker_success(st, svc, T0 + 5 + RECOVERY_MS + 300), ROSE_OK, "probe success ok");
    T_STR(state_of(st, svc), "closed", "probe success: closed");
    T_INT(get_field(st, svc, 'f'), 0, "probe success: failures 0");
    T_INT(get_field(st, svc, 'o'), 0, "probe success: opened_at cleared");
    T_INT(get_field(st, svc, 'u'), T0 + 5 + RECOVERY_MS + 300, "probe success: updated_at");
    T_INT(transitions(st, svc), 3, "probe success: 3 transitions (open, half_open, closed)");
    T_INT(allow(st, svc, T0 + 5 + RECOVERY_MS + 301), 0, "closed again: allowed, not a probe");
}

static void
test_probe_failure(struct rose_store *st)
{
    const char *svc = "tts";
    long long t_probe = T0 + RECOVERY_MS, t_fail = t_probe + 700;

    fail_n(st, svc, THRESHOLD, T0);
    T_INT(allow(st, svc, t_probe), 1, "probe failure: probe claimed");
    fail_n(st, svc, 1, t_fail);
    T_STR(state_of(st, svc), "open", "probe failure: re-opened");
    T_INT(get_field(st, svc, 'o'), t_fail, "probe failure: fresh opened_at");
    T_INT(allow(st, svc, t_fail + RECOVERY_MS - 1), -1,
          "probe failure: refused until a new recovery period has passed");
    T_INT(allow(st, svc, t_fail + RECOVERY_MS), 1, "probe failure: then a new probe");
    T_INT(transitions(st, svc), 4, "probe failure: 4 transitions (open, half, open, half)");
}

static void
test_abandoned_probe(struct rose_store *st)
{
    const char *svc = "stt";
    long long t_claim = T0 + RECOVERY_MS;
    size_t abandoned = count_in_logs("probe abandoned");

    fail_n(st, svc, THRESHOLD, T0);
    T_INT(allow(st, svc, t_claim), 1, "abandoned: probe claimed (and its worker dies)");
    T_INT(allow(st, svc, t_claim + RECOVERY_MS - 1), -1,
          "abandoned: refused for a recovery period after the claim");
    T_INT(allow(st, svc, t_claim + RECOVERY_MS), 1, "abandoned: reclaimable after that");
    T_INT(allow(st, svc, t_claim + RECOVERY_MS), -1, "abandoned: but only by one caller");
    T_STR(state_of(st, svc), "half_open", "abandoned: still half_open");
    T_INT(transitions(st, svc), 2, "abandoned: a reclaim is not a state change");
    T_INT(count_in_logs("probe abandoned"), abandoned + 1, "abandoned: the reclaim is logged");
    T_INT(rose_breaker_success(st, svc, t_claim + RECOVERY_MS + 10), ROSE_OK,
          "abandoned: the new probe reports success");
    T_STR(state_of(st, svc), "closed", "abandoned: closed");
}

/* A wall clock stepped back by more than a recovery period cannot keep the
 * breaker open for the length of the step. */
static void
test_clock_step_back(struct rose_store *st)
{
    const char *svc = "image";

    fail_n(st, svc, THRESHOLD, T0);
    T_INT(allow(st, svc, T0 - 1000), -1, "clock back 1 s: still open");
    T_INT(allow(st, svc, T0 - RECOVERY_MS - 1), 1, "clock back > recovery: probe allowed");
}

static void
test_independent(struct rose_store *st)
{
    fail_n(st, "embeddings", THRESHOLD, T0);
    T_STR(state_of(st, "embeddings"), "open", "independent: embeddings open");
    T_STR(state_of(st, "vision"), "closed", "independent: vision closed");
    T_INT(allow(st, "vision", T0), 0, "independent: vision allowed");
    fail_n(st, "vision", THRESHOLD - 1, T0);
    T_INT(rose_breaker_success(st, "embeddings", T0), ROSE_OK, "independent: success elsewhere");
    T_INT(get_field(st, "vision", 'f'), THRESHOLD - 1,
          "independent: a success on embeddings leaves vision's count");
    T_STR(state_of(st, "embeddings"), "open", "independent: embeddings still open");
}

/* What the racing processes share. */
struct probe_race {
    const char *svc;
    long long t_open; /* when the breaker opened */
};

/* One worker of the race: its own connection, its own clock.  Exit status:
 * 0 probe, 1 refused, 10 + enum rose_err on an error, 3 anything else. */
static int
probe_child(int i, void *arg)
{
    const struct probe_race *race = arg;
    struct rose_store *st = NULL;
    int r = 2; /* the store did not open: exit 3 */

    if (rose_store_open(dbpath, &st) == ROSE_OK)
        r = allow(st, race->svc, race->t_open + RECOVERY_MS + i); /* workers' clocks differ */
    rose_store_close(st);
    rose_buf_free(&logs);
    return r == 1 ? 0 : r == -1 ? 1 : r >= 100 ? r - 90 : 3;
}

/* After the recovery period, NCHILDREN processes ask at the same moment
 * (t_race): exactly one gets the probe. */
static void
test_concurrent_probe(int round)
{
    char svc[32];
    struct probe_race race = {svc, T0 + round};
    int exits[NCHILDREN], i, probes = 0, refused = 0, other = 0;
    struct rose_store *st = NULL;

    snprintf(svc, sizeof(svc), "race-%d", round);
    if (rose_store_open(dbpath, &st) != ROSE_OK) {
        T_OK(0, "race %d: open", round);
        return;
    }
    fail_n(st, svc, THRESHOLD, race.t_open);
    rose_store_close(st);
    st = NULL;
    if (!t_race(NCHILDREN, probe_child, &race, exits)) {
        T_OK(0, "race %d: pipe", round);
        return;
    }
    for (i = 0; i < NCHILDREN; i++) {
        if (exits[i] == 0 || exits[i] == 1) {
            probes += exits[i] == 0;
            refused += exits[i] == 1;
        } else {
            other++;
            printf("#   child %d: exit %d (10 + enum rose_err for errors)\n", i, exits[i]);
        }
    }
    T_OK(probes == 1 && refused == NCHILDREN - 1 && other == 0,
         "race %d: exactly 1 of %d processes got the probe (probe %d, refused %d, errors %d)",
         round, NCHILDREN, probes, refused, other);
    if (rose_store_open(dbpath, &st) == ROSE_OK) {
        T_STR(state_of(st, svc), "half_open", "race %d: half_open afterwards", round);
        T_INT(transitions(st, svc), 2, "race %d: exactly 2 transitions", round);
        rose_store_close(st);
    }
}

int
main(void)
{
    struct rose_store *st = NULL;
    size_t lines_before;
    int round;

    rose_log_set_sink(capture, &logs);
    if (!t_mkdtemp(tmpdir))
        return 2;
    snprintf(dbpath, sizeof(dbpath), "%s/breaker.db", tmpdir);

    test_names();
    if (rose_store_open(dbpath, &st) != ROSE_OK) {
        T_OK(0, "open the test database");
        return t_done();
    }
    test_unknown_service(st);
    test_threshold(st);
    test_probe_failure(st);
    test_abandoned_probe(st);
    test_clock_step_back(st);
    test_independent(st);
    rose_store_close(st);

    lines_before = count_in_logs("\"event\":\"breaker\"");
    for (round = 0; round < NROUNDS; round++)
        test_concurrent_probe(round);
    /* The parent's own logs: each round's opening; the children's go with them. */
    T_INT(count_in_logs("\"event\":\"breaker\""), lines_before + NROUNDS,
          "race: the parent logged one opening per round");

    rose_buf_free(&logs);
    t_rmtree(tmpdir);
    return t_done();
}
