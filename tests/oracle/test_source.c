/* The generic price source: ordering (rounds, publish times, replace
 * after a reorg), refusals, freshness state and its callbacks at the
 * max_age boundaries, the action gate, dispatch and misuse - through a
 * fake source kind and a test clock, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/u256.h"
#include "oracle/chainlink.h"
#include "oracle/history.h"
#include "oracle/source.h"

/* ---- a fake kind ---- */

struct fake {
    struct oracle_source src;
    int starts, stops;
    bool started;
};

static int
fake_start(struct oracle_source *s)
{
    struct fake *f = (struct fake *)s;

    if (f->started)
        return KP_ESTATE;
    f->started = true;
    f->starts++;
    return 0;
}

static void
fake_stop(struct oracle_source *s)
{
    struct fake *f = (struct fake *)s;

    if (f->started)
        f->stops++;
    f->started = false;
}

static void
fake_free(struct oracle_source *s)
{
    free(s);
}

static const struct oracle_source_ops fake_ops = {
    .kind = "fake",
    .start = fake_start,
    .stop = fake_stop,
    .free = fake_free,
};

/* ---- what the callbacks saw ---- */

struct seen {
    uint64_t now; /* the test clock */
    int prices, states, rejects;
    enum oracle_state from, to;
    enum oracle_state state_in_price; /* state as on_price saw it */
    enum oracle_reject why;
    char text[ORACLE_ERR_MAX];
    struct oracle_price last;
};

static uint64_t
test_clock(void *arg)
{
    return ((struct seen *)arg)->now;
}

static void
on_price(void *arg, struct oracle_source *s, const struct oracle_price *p)
{
    struct seen *w = arg;

    w->prices++;
    w->last = *p;
    w->state_in_price = oracle_source_state(s);
}

static void
on_state(void *arg, struct oracle_source *s, enum oracle_state from,
         enum oracle_state to)
{
    struct seen *w = arg;

    assert_int_equal(oracle_source_state(s), to);
    w->states++;
    w->from = from;
    w->to = to;
}

static void
on_reject(void *arg, struct oracle_source *s, enum oracle_reject why,
          const char *text)
{
    struct seen *w = arg;

    (void)s;
    w->rejects++;
    w->why = why;
    snprintf(w->text, sizeof(w->text), "%s", text);
}

struct fx {
    struct seen seen;
    struct oracle_history hist;
    struct fake *fk;
    struct oracle_source *s;
};

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct oracle_history_params hp;
    struct oracle_source_cfg cfg = {
        .name = "eth-usd-test",
        .asset = "ETH",
        .max_age = 60,
        .cbs = {on_price, on_state, on_reject, NULL},
        .clock = test_clock,
    };

    if (f == NULL)
        return -1;
    oracle_history_params_default(&hp);
    hp.capacity = 8;
    if (oracle_history_init(&f->hist, &hp) != 0)
        return -1;
    f->seen.now = 1000;
    cfg.history = &f->hist;
    cfg.cbs.arg = &f->seen;
    cfg.clock_arg = &f->seen;
    f->fk = calloc(1, sizeof(*f->fk));
    oracle_source_init(&f->fk->src, &fake_ops, &cfg);
    f->s = &f->fk->src;
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;

    oracle_source_free(f->s);
    oracle_history_cleanup(&f->hist);
    free(f);
    return 0;
}

/* A price of `units` with 8 decimals, published at t, in round `round`. */
static struct oracle_price
px(uint64_t units, uint64_t t, uint64_t round)
{
    struct oracle_price p;
    struct u256 a, r;

    u256_from_u64(&a, units * 100000000ull);
    u256_from_u64(&r, round);
    assert_int_equal(oracle_price_init(&p, &a, 8, t, &r), 0);
    return p;
}

/* ---- tests ---- */

static void
test_initial_state(void **state)
{
    struct fx *f = *state;
    struct oracle_price p;

    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_NONE);
    assert_null(oracle_source_latest(f->s));
    assert_int_equal(oracle_source_check(f->s), ORACLE_STATE_NONE);
    assert_int_equal(oracle_source_fresh_price(f->s, &p), KP_ENOTFOUND);
    assert_int_equal(f->seen.states, 0);
    assert_string_equal(oracle_source_name(f->s), "eth-usd-test");
    assert_string_equal(oracle_source_asset(f->s), "ETH");
    assert_string_equal(oracle_source_kind(f->s), "fake");
    assert_null(oracle_chainlink_from_source(f->s));
    assert_string_equal(oracle_source_last_error(f->s), "");
    assert_int_equal(oracle_source_now(f->s), 1000);
}

static void
test_first_price_then_stale_at_boundary(void **state)
{
    struct fx *f = *state;
    struct oracle_price p = px(2000, 1000, 1), got;

    assert_int_equal(oracle_source_offer(f->s, &p, false), 0);
    assert_int_equal(f->seen.prices, 1);
    assert_int_equal(f->seen.states, 1);
    assert_int_equal(f->seen.from, ORACLE_STATE_NONE);
    assert_int_equal(f->seen.to, ORACLE_STATE_FRESH);
    /* on_price runs after the state is judged. */
    assert_int_equal(f->seen.state_in_price, ORACLE_STATE_FRESH);
    assert_int_equal(oracle_history_len(&f->hist), 1);
    assert_int_equal(oracle_source_stats(f->s)->accepted, 1);

    /* Exactly max_age old is still fresh; one second more is stale. */
    f->seen.now = 1060;
    assert_int_equal(oracle_source_check(f->s), ORACLE_STATE_FRESH);
    assert_int_equal(oracle_source_fresh_price(f->s, &got), 0);
    assert_int_equal(got.updated_at, 1000);
    assert_int_equal(f->seen.states, 1);
    f->seen.now = 1061;
    assert_int_equal(oracle_source_check(f->s), ORACLE_STATE_STALE);
    assert_int_equal(f->seen.states, 2);
    assert_int_equal(f->seen.to, ORACLE_STATE_STALE);
    /* Once per change, however often it is judged. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(oracle_source_check(f->s), ORACLE_STATE_STALE);
    f->seen.now = 5000;
    assert_int_equal(oracle_source_check(f->s), ORACLE_STATE_STALE);
    assert_int_equal(f->seen.states, 2);
    /* The gate refuses, but still shows the price. */
    memset(&got, 0, sizeof(got));
    assert_int_equal(oracle_source_fresh_price(f->s, &got), KP_ESTALE);
    assert_int_equal(got.updated_at, 1000);

    /* A new round fresh at now: fresh again, one change. */
    p = px(2100, 4990, 2);
    assert_int_equal(oracle_source_offer(f->s, &p, false), 0);
    assert_int_equal(f->seen.states, 3);
    assert_int_equal(f->seen.from, ORACLE_STATE_STALE);
    assert_int_equal(f->seen.to, ORACLE_STATE_FRESH);
    assert_int_equal(f->seen.prices, 2);
    assert_int_equal(oracle_source_fresh_price(f->s, &got), 0);
    assert_true(got.value == 2100.0);
}

static void
test_new_price_that_is_already_stale(void **state)
{
    struct fx *f = *state;
    struct oracle_price p = px(2000, 900, 1);

    /* Accepted (it is the feed's latest), but stale from the start. */
    assert_int_equal(oracle_source_offer(f->s, &p, false), 0);
    assert_int_equal(f->seen.states, 1);
    assert_int_equal(f->seen.to, ORACLE_STATE_STALE);
    assert_int_equal(f->seen.state_in_price, ORACLE_STATE_STALE);
}

static void
test_duplicates_and_older_rounds_ignored(void **state)
{
    struct fx *f = *state;
    struct oracle_price p1 = px(2000, 990, 5), p0 = px(1900, 980, 4);

    assert_int_equal(oracle_source_offer(f->s, &p1, false), 0);
    /* The same round again (log, then heartbeat): counted once. */
    assert_int_equal(oracle_source_offer(f->s, &p1, false), KP_ESTALE);
    assert_int_equal(oracle_source_offer(f->s, &p0, false), KP_ESTALE);
    assert_int_equal(f->seen.prices, 1);
    assert_int_equal(oracle_history_len(&f->hist), 1);
    assert_int_equal(oracle_source_stats(f->s)->accepted, 1);
    assert_int_equal(oracle_source_stats(f->s)->ignored, 2);
    assert_int_equal(
        u256_cmp(&oracle_source_latest(f->s)->round_id, &p1.round_id), 0);

    /* Rounds decide, not times: a newer round with the same publish time
     * is the latest, though it adds no return to the history. */
    struct oracle_price p2 = px(2010, 990, 6);

    assert_int_equal(oracle_source_offer(f->s, &p2, false), 0);
    assert_true(oracle_source_latest(f->s)->value == 2010.0);
    assert_int_equal(oracle_history_len(&f->hist), 1);
}

static void
test_sources_without_rounds_order_by_time(void **state)
{
    struct fx *f = *state;
    struct oracle_price a = px(10, 990, 0), b = px(11, 991, 0);

    assert_int_equal(oracle_source_offer(f->s, &a, false), 0);
    assert_int_equal(oracle_source_offer(f->s, &a, false), KP_ESTALE);
    assert_int_equal(oracle_source_offer(f->s, &b, false), 0);
    assert_int_equal(oracle_source_offer(f->s, &a, false), KP_ESTALE);
    assert_int_equal(oracle_history_len(&f->hist), 2);
}

static void
test_replace_after_reorg(void **state)
{
    struct fx *f = *state;
    struct oracle_price r1 = px(2000, 990, 1), r2 = px(2200, 995, 2);

    assert_int_equal(oracle_source_offer(f->s, &r1, false), 0);
    assert_int_equal(oracle_source_offer(f->s, &r2, false), 0);
    /* Round 2 was orphaned: the re-read says round 1. */
    assert_int_equal(oracle_source_offer(f->s, &r1, true), 0);
    assert_int_equal(f->seen.prices, 3);
    assert_true(f->seen.last.value == 2000.0);
    assert_true(oracle_source_latest(f->s)->value == 2000.0);
    assert_int_equal(oracle_source_stats(f->s)->replaced, 1);
    /* The history only grows forward. */
    assert_int_equal(oracle_history_len(&f->hist), 2);
    /* The same answer again with replace: nothing to do. */
    assert_int_equal(oracle_source_offer(f->s, &r1, true), KP_ESTALE);
    assert_int_equal(f->seen.prices, 3);
    /* Round 2 mined again with another answer: newer than round 1. */
    struct oracle_price r2b = px(2150, 996, 2);

    assert_int_equal(oracle_source_offer(f->s, &r2b, false), 0);
    assert_true(oracle_source_latest(f->s)->value == 2150.0);
}

static void
test_future_publish_time(void **state)
{
    struct fx *f = *state;
    struct oracle_price ahead = px(2000, 1061, 1), near = px(2000, 1060, 1);

    assert_int_equal(oracle_source_offer(f->s, &ahead, false), KP_EINVAL);
    assert_int_equal(f->seen.rejects, 1);
    assert_int_equal(f->seen.why, ORACLE_REJ_FUTURE);
    assert_non_null(strstr(f->seen.text, "61 s ahead"));
    assert_int_equal(oracle_source_stats(f->s)->rejected[ORACLE_REJ_FUTURE], 1);
    assert_null(oracle_source_latest(f->s));
    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_NONE);
    /* Within max_age ahead: a clock skew we tolerate. */
    assert_int_equal(oracle_source_offer(f->s, &near, false), 0);
    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_FRESH);
}

static void
test_reject_and_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(
        oracle_source_reject(f->s, ORACLE_REJ_CARRIED, "round %d carried", 7),
        KP_EINVAL);
    assert_int_equal(f->seen.rejects, 1);
    assert_int_equal(f->seen.why, ORACLE_REJ_CARRIED);
    assert_string_equal(f->seen.text, "round 7 carried");
    assert_string_equal(oracle_source_last_error(f->s), "round 7 carried");
    assert_int_equal(oracle_source_stats(f->s)->rejected[ORACLE_REJ_CARRIED],
                     1);
    oracle_source_set_error(f->s, "read failed: %s", "timeout");
    assert_string_equal(oracle_source_last_error(f->s), "read failed: timeout");
    assert_int_equal(f->seen.rejects, 1);
}

static void
test_dispatch(void **state)
{
    struct fx *f = *state;
    struct evlog_filter flt;
    struct evlog log;

    assert_int_equal(oracle_source_start(f->s), 0);
    assert_int_equal(oracle_source_start(f->s), KP_ESTATE);
    oracle_source_stop(f->s);
    oracle_source_stop(f->s);
    assert_int_equal(f->fk->starts, 1);
    assert_int_equal(f->fk->stops, 1);
    /* A kind without logs. */
    assert_false(oracle_source_log_filter(f->s, &flt));
    assert_false(oracle_source_log_filter(f->s, NULL));
    memset(&log, 0, sizeof(log));
    assert_int_equal(oracle_source_on_log(f->s, &log, false), KP_ENOTFOUND);
    oracle_source_free(NULL);
}

static void
test_cfg_check(void **state)
{
    char longname[ORACLE_NAME_MAX + 1];
    struct oracle_source_cfg c = {.name = "a", .asset = "ETH", .max_age = 1};

    (void)state;
    assert_int_equal(oracle_source_cfg_check(&c), 0);
    c.max_age = 0;
    assert_int_equal(oracle_source_cfg_check(&c), KP_ECONFIG);
    c.max_age = 60;
    c.name = NULL;
    assert_int_equal(oracle_source_cfg_check(&c), KP_ECONFIG);
    c.name = "";
    assert_int_equal(oracle_source_cfg_check(&c), KP_ECONFIG);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    c.name = longname;
    assert_int_equal(oracle_source_cfg_check(&c), KP_ECONFIG);
    longname[ORACLE_NAME_MAX - 1] = '\0'; /* 63 characters: fits */
    assert_int_equal(oracle_source_cfg_check(&c), 0);
    c.asset = "";
    assert_int_equal(oracle_source_cfg_check(&c), KP_ECONFIG);
    c.asset = NULL;
    assert_int_equal(oracle_source_cfg_check(&c), KP_ECONFIG);
}

static void
test_names_and_clock(void **state)
{
    (void)state;
    assert_string_equal(oracle_state_name(ORACLE_STATE_NONE), "none");
    assert_string_equal(oracle_state_name(ORACLE_STATE_FRESH), "fresh");
    assert_string_equal(oracle_state_name(ORACLE_STATE_STALE), "stale");
    assert_string_equal(oracle_state_name((enum oracle_state)42), "?");
    assert_string_equal(oracle_reject_name(ORACLE_REJ_MALFORMED), "malformed");
    assert_string_equal(oracle_reject_name(ORACLE_REJ_NONPOSITIVE),
                        "nonpositive");
    assert_string_equal(oracle_reject_name(ORACLE_REJ_INCOMPLETE),
                        "incomplete");
    assert_string_equal(oracle_reject_name(ORACLE_REJ_CARRIED), "carried");
    assert_string_equal(oracle_reject_name(ORACLE_REJ_RANGE), "range");
    assert_string_equal(oracle_reject_name(ORACLE_REJ_FUTURE), "future");
    assert_string_equal(oracle_reject_name(ORACLE_REJ_COUNT), "?");
    /* 2023-11-14 or later. */
    assert_true(oracle_clock_wall(NULL) > 1700000000ull);
}

static void
test_default_clock_is_wall(void **state)
{
    struct oracle_source_cfg cfg = {.name = "w", .asset = "BTC", .max_age = 5};
    struct fake *fk = calloc(1, sizeof(*fk));
    uint64_t a, b, c;

    (void)state;
    oracle_source_init(&fk->src, &fake_ops, &cfg);
    a = oracle_clock_wall(NULL);
    b = oracle_source_now(&fk->src);
    c = oracle_clock_wall(NULL);
    assert_true(a <= b && b <= c);
    oracle_source_free(&fk->src);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_initial_state),
        T(test_first_price_then_stale_at_boundary),
        T(test_new_price_that_is_already_stale),
        T(test_duplicates_and_older_rounds_ignored),
        T(test_sources_without_rounds_order_by_time),
        T(test_replace_after_reorg),
        T(test_future_publish_time),
        T(test_reject_and_errors),
        T(test_dispatch),
        cmocka_unit_test(test_cfg_check),
        cmocka_unit_test(test_names_and_clock),
        cmocka_unit_test(test_default_clock_is_wall),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
