/* The tier policy: the tier table over many states, hysteresis (enter
 * below critical, inject up to target, leave at target), caps (pool,
 * epoch budget, per-intent), epoch rollover, cooldowns and in-flight
 * suppression, idempotency keys, stale/missing prices, clawback only when
 * the pool cannot cover, exact amounts at the u256 extremes, volatility
 * loading, formatting, and misuse. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/u256.h"
#include "oracle/price.h"
#include "strategies/policy.h"
#include "tests/support/check.h"

#define USD(x) ((uint64_t)(x)*1000000ull) /* 6 decimals */
#define T0 1700000000ull                  /* a fixed "now" */

struct fx {
    struct policy_params p;
    struct protocol_state s;
    struct policy_memory m;
    struct oracle_price px;
    struct price_view pv;
    struct policy_decision d;
    uint64_t now;
};

static void
set_price(struct fx *f, uint64_t updated_at)
{
    struct u256 ans = ts_u256(200000000000ull); /* 2000.00000000 */

    assert_int_equal(oracle_price_init(&f->px, &ans, 8, updated_at, NULL), 0);
    f->pv.price = &f->px;
}

/* Thresholds 1000 / 800 / 300 USD, reserve at target, pool 5000, no open
 * interest (health +inf), a fresh price. */
static void
fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    policy_params_default(&f->p);
    snprintf(f->p.protocol, sizeof(f->p.protocol), "test");
    protocol_state_init(&f->s);
    f->s.block_number = 100;
    f->s.reserve = ts_u256(USD(1000));
    f->s.target = ts_u256(USD(1000));
    f->s.critical = ts_u256(USD(800));
    f->s.depletion = ts_u256(USD(300));
    f->s.pool_available = ts_u256(USD(5000));
    policy_memory_init(&f->m);
    f->now = T0;
    set_price(f, T0 - 10);
}

/* Move the clock; the source keeps publishing (fresh price). */
static void
advance(struct fx *f, uint64_t secs)
{
    f->now += secs;
    set_price(f, f->now - 10);
}

static int
decide(struct fx *f)
{
    return policy_decide(&f->d, &f->m, &f->p, &f->s, &f->pv, f->now);
}

/* Decide, expecting exactly one intent of `action` for `amount`. */
static const struct policy_intent *
expect_intent(struct fx *f, enum policy_action action, uint64_t amount)
{
    assert_int_equal(decide(f), 0);
    if (f->d.n_intents != 1) {
        print_error("intents=%zu reason=%s\n", f->d.n_intents, f->d.reason);
        fail();
    }
    assert_int_equal(f->d.intents[0].action, action);
    ts_assert_u256_is(&f->d.intents[0].amount, amount);
    return &f->d.intents[0];
}

/* Report the outcome of intent `key` now; the memory must accept it. */
static void
note(struct fx *f, const char *key, enum policy_outcome outcome)
{
    assert_int_equal(policy_note_outcome(&f->m, key, outcome, f->now), 0);
}

static void
expect_none(struct fx *f)
{
    assert_int_equal(decide(f), 0);
    if (f->d.n_intents != 0) {
        print_error("unexpected intent: %s\n", f->d.reason);
        fail();
    }
}

/* ---- the tier table ---------------------------------------------------- */

struct row {
    uint64_t reserve, debt, oi, pool;
    enum policy_tier tier;
    int action; /* -1: none */
    uint64_t amount;
};

static void
test_tier_table(void **state)
{
    /* target 1000, critical 800, depletion 300; stress 10% of OI. */
    static const struct row rows[] = {
        {USD(1200), 0, 0, USD(5000), POLICY_TIER_T1, -1, 0},
        {USD(1000), 0, 0, USD(5000), POLICY_TIER_T1, -1, 0},
        /* Between critical and target, no episode: hysteresis does not
         * start from T1. */
        {USD(900), 0, 0, USD(5000), POLICY_TIER_T1, -1, 0},
        {USD(800), 0, 0, USD(5000), POLICY_TIER_T1, -1, 0},
        {USD(800) - 1, 0, 0, USD(5000), POLICY_TIER_T2, POLICY_ACTION_INJECT,
         USD(200) + 1},
        {USD(500), 0, 0, USD(5000), POLICY_TIER_T2, POLICY_ACTION_INJECT,
         USD(500)},
        /* Below depletion without debt is still T2. */
        {USD(299), 0, 0, USD(5000), POLICY_TIER_T2, POLICY_ACTION_INJECT,
         USD(701)},
        {0, 0, 0, USD(5000), POLICY_TIER_T2, POLICY_ACTION_INJECT, USD(1000)},
        /* T3 with the pool able to cover: inject (target + debt). */
        {0, USD(100), 0, USD(5000), POLICY_TIER_T3, POLICY_ACTION_INJECT,
         USD(1100)},
        /* At depletion (not below) with debt: T2. */
        {USD(300), USD(100), 0, USD(5000), POLICY_TIER_T2, POLICY_ACTION_INJECT,
         USD(800)},
        /* T3, pool empty: clawback the debt. */
        {0, USD(100), 0, 0, POLICY_TIER_T3, POLICY_ACTION_CLAWBACK, USD(100)},
        /* T2, pool empty: nothing to do but alert. */
        {USD(500), 0, 0, 0, POLICY_TIER_T2, -1, 0},
        /* Health 1200/1000 = 1.2 < 1.5: amber, no action. */
        {USD(1200), 0, USD(10000), USD(5000), POLICY_TIER_AMBER, -1, 0},
        /* Health 1000/1500 < 1.0 with reserve at target: T2 but the pool
         * refuses to inject at target. */
        {USD(1000), 0, USD(15000), USD(5000), POLICY_TIER_T2, -1, 0},
        /* Health 900/2000 < 1.0 between critical and target: inject. */
        {USD(900), 0, USD(20000), USD(5000), POLICY_TIER_T2,
         POLICY_ACTION_INJECT, USD(100)},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct fx f;

        fx_init(&f);
        f.s.reserve = ts_u256(r->reserve);
        f.s.uncovered_debt = ts_u256(r->debt);
        f.s.open_interest = ts_u256(r->oi);
        f.s.pool_available = ts_u256(r->pool);
        assert_int_equal(decide(&f), 0);
        if (f.d.tier != r->tier || f.d.n_intents != (r->action < 0 ? 0u : 1u)) {
            print_error("row %zu: tier=%s intents=%zu reason=%s\n", i,
                        policy_tier_name(f.d.tier), f.d.n_intents, f.d.reason);
            fail();
        }
        if (r->action >= 0) {
            assert_int_equal(f.d.intents[0].action, r->action);
            ts_assert_u256_is(&f.d.intents[0].amount, r->amount);
        }
        assert_int_equal(f.d.tier_changed, r->tier != POLICY_TIER_T1);
        assert_int_equal(f.d.in_episode, r->tier >= POLICY_TIER_T2);
    }
}

static void
test_empty_pool_alerts(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(500));
    f.s.pool_available = ts_u256(0);
    expect_none(&f);
    assert_true(f.d.alerts & POLICY_ALERT_POOL_EMPTY);
    assert_false(f.d.alerts & POLICY_ALERT_BUDGET_EXHAUSTED);
    assert_non_null(strstr(f.d.reason, "pool empty"));
    /* Below min_inject counts as empty. */
    fx_init(&f);
    f.p.min_inject = ts_u256(USD(10));
    f.s.reserve = ts_u256(USD(500));
    f.s.pool_available = ts_u256(USD(10) - 1);
    expect_none(&f);
    assert_true(f.d.alerts & POLICY_ALERT_POOL_EMPTY);
    f.s.pool_available = ts_u256(USD(10));
    expect_intent(&f, POLICY_ACTION_INJECT, USD(10));
}

/* ---- hysteresis and episodes ------------------------------------------- */

static void
test_hysteresis_episode(void **state)
{
    struct fx f;
    const struct policy_intent *it;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(700));
    f.s.pool_available = ts_u256(USD(250)); /* only part of the 300 needed */
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(250));
    assert_string_equal(it->key, "test:inject:100:1");
    assert_int_equal(f.d.tier, POLICY_TIER_T2);
    assert_int_equal(f.d.prev_tier, POLICY_TIER_T1);
    assert_true(f.d.tier_changed);
    assert_int_equal(f.d.episode, 100);
    note(&f, "test:inject:100:1", POLICY_OUTCOME_CONFIRMED);

    /* Above critical now, still below target: the episode continues. */
    f.s.block_number = 103;
    f.s.reserve = ts_u256(USD(950));
    f.s.pool_available = ts_u256(USD(5000));
    advance(&f, f.p.inject_cooldown_s);
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(50));
    assert_string_equal(it->key, "test:inject:100:2");
    assert_int_equal(f.d.tier, POLICY_TIER_T2);
    assert_false(f.d.tier_changed);
    note(&f, it->key, POLICY_OUTCOME_CONFIRMED);

    /* At target: the episode closes. */
    f.s.block_number = 104;
    f.s.reserve = ts_u256(USD(1000));
    expect_none(&f);
    assert_int_equal(f.d.tier, POLICY_TIER_T1);
    assert_true(f.d.tier_changed);
    assert_false(f.d.in_episode);
    assert_int_equal(f.d.episode, 0);

    /* Between critical and target again, from T1: no action. */
    f.s.block_number = 105;
    f.s.reserve = ts_u256(USD(900));
    advance(&f, 3600);
    expect_none(&f);
    assert_int_equal(f.d.tier, POLICY_TIER_T1);

    /* A new episode: a new key. */
    f.s.block_number = 200;
    f.s.reserve = ts_u256(USD(600));
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(400));
    assert_string_equal(it->key, "test:inject:200:1");
}

/* Two episodes opening at the same block must not share keys. */
static void
test_keys_never_repeat(void **state)
{
    struct fx f;
    char first[POLICY_KEY_MAX];

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(500));
    expect_intent(&f, POLICY_ACTION_INJECT, USD(500));
    snprintf(first, sizeof(first), "%s", f.d.intents[0].key);
    note(&f, first, POLICY_OUTCOME_FAILED);
    f.s.reserve = ts_u256(USD(1000)); /* closes */
    expect_none(&f);
    f.s.reserve = ts_u256(USD(500)); /* reopens, same block number */
    f.now += f.p.inject_cooldown_s;
    expect_intent(&f, POLICY_ACTION_INJECT, USD(500));
    assert_string_not_equal(f.d.intents[0].key, first);
    assert_string_equal(f.d.intents[0].key, "test:inject:101:1");
}

/* The same inputs give the same decisions and keys (determinism). */
static void
test_deterministic(void **state)
{
    struct fx a, b;
    char la[1024], lb[1024];

    (void)state;
    fx_init(&a);
    fx_init(&b);
    for (int i = 0; i < 5; i++) {
        a.s.reserve = b.s.reserve = ts_u256(USD(100 * (uint64_t)i));
        a.s.block_number = b.s.block_number = 100 + (uint64_t)i;
        assert_int_equal(decide(&a), 0);
        assert_int_equal(decide(&b), 0);
        assert_int_equal(policy_decision_format(la, sizeof(la), &a.d), 0);
        assert_int_equal(policy_decision_format(lb, sizeof(lb), &b.d), 0);
        assert_string_equal(la, lb);
    }
}

/* ---- caps and budgets -------------------------------------------------- */

/* An epoch budget of 300 and a reserve of 500: the first decision injects
 * the whole budget. Returns: that intent. */
static const struct policy_intent *
inject_whole_budget(struct fx *f)
{
    fx_init(f);
    f->p.epoch_budget = ts_u256(USD(300));
    f->s.reserve = ts_u256(USD(500));
    return expect_intent(f, POLICY_ACTION_INJECT, USD(300));
}

static void
test_capped_by_epoch_budget(void **state)
{
    struct fx f;
    const struct policy_intent *it;

    (void)state;
    it = inject_whole_budget(&f);
    note(&f, it->key, POLICY_OUTCOME_CONFIRMED);
    /* Budget spent: nothing more this epoch, and an alert. */
    f.s.reserve = ts_u256(USD(700));
    f.now += f.p.inject_cooldown_s;
    expect_none(&f);
    assert_true(f.d.alerts & POLICY_ALERT_BUDGET_EXHAUSTED);
    assert_false(f.d.alerts & POLICY_ALERT_POOL_EMPTY);
    assert_true(u256_is_zero(&f.d.in.budget_left));
    /* Next epoch: the budget is back. */
    advance(&f, (f.now / f.p.epoch_s + 1) * f.p.epoch_s - f.now);
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(300));
    assert_string_equal(it->key, "test:inject:100:2");
    assert_false(f.d.alerts & POLICY_ALERT_BUDGET_EXHAUSTED);
}

static void
test_failed_inject_refunds_budget(void **state)
{
    struct fx f;
    const struct policy_intent *it;
    char key[POLICY_KEY_MAX];

    (void)state;
    it = inject_whole_budget(&f);
    note(&f, it->key, POLICY_OUTCOME_FAILED);
    f.now += f.p.inject_cooldown_s;
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(300));
    ts_assert_u256_is(&f.d.in.budget_left, USD(300));
    assert_string_equal(it->key, "test:inject:100:2");
    snprintf(key, sizeof(key), "%s", it->key);
    /* A failure reported after the epoch rolled over refunds nothing to
     * the new epoch (its spending stands as it is). */
    advance(&f, (f.now / f.p.epoch_s + 1) * f.p.epoch_s - f.now);
    assert_int_equal(decide(&f), 0); /* rolls the epoch; still in flight */
    assert_int_equal(f.d.n_intents, 0);
    assert_true(u256_is_zero(&f.m.epoch_spent));
    f.m.epoch_spent = ts_u256(USD(50)); /* as if spent in the new epoch */
    note(&f, key, POLICY_OUTCOME_FAILED);
    ts_assert_u256_is(&f.m.epoch_spent, USD(50));
    /* In the same epoch the refund is exact. */
    f.m.epoch_spent = ts_u256(USD(0));
    f.p.epoch_budget = ts_u256_max();
    advance(&f, f.p.inject_cooldown_s);
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(500));
    ts_assert_u256_is(&f.m.epoch_spent, USD(500));
    f.m.epoch_spent = ts_u256(USD(700));
    note(&f, it->key, POLICY_OUTCOME_FAILED);
    ts_assert_u256_is(&f.m.epoch_spent, USD(200));
}

static void
test_capped_by_inject_max(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f);
    f.p.inject_max = ts_u256(USD(123));
    f.s.reserve = ts_u256(USD(500));
    expect_intent(&f, POLICY_ACTION_INJECT, USD(123));
}

/* The epoch budget never reopens when the clock steps back. */
static void
test_clock_step_back(void **state)
{
    struct fx f;
    const struct policy_intent *it;

    (void)state;
    it = inject_whole_budget(&f);
    note(&f, it->key, POLICY_OUTCOME_CONFIRMED);
    f.now -= 2 * f.p.epoch_s;
    set_price(&f, f.now);
    expect_none(&f);
    assert_true(f.d.alerts & POLICY_ALERT_BUDGET_EXHAUSTED);
    /* And a cooldown measured from a later outcome still holds. */
    f.p.epoch_budget = ts_u256_max();
    expect_none(&f);
    assert_non_null(strstr(f.d.reason, "cooldown"));
}

/* ---- one condition, one action ----------------------------------------- */

static void
test_in_flight_and_cooldown_suppress(void **state)
{
    struct fx f;
    char key[POLICY_KEY_MAX];
    int intents = 0;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(500));
    /* Twenty blocks of the same condition, nothing confirmed yet. */
    for (int i = 0; i < 20; i++) {
        f.s.block_number = 100 + (uint64_t)i;
        f.now = T0 + (uint64_t)i;
        assert_int_equal(decide(&f), 0);
        if (f.d.n_intents == 1)
            snprintf(key, sizeof(key), "%s", f.d.intents[0].key);
        intents += (int)f.d.n_intents;
        assert_int_equal(f.d.tier, POLICY_TIER_T2);
    }
    assert_int_equal(intents, 1);
    assert_non_null(strstr(f.d.reason, "in flight"));

    assert_int_equal(policy_note_outcome(&f.m, "test:inject:999:1",
                                         POLICY_OUTCOME_CONFIRMED, f.now),
                     KP_ENOTFOUND);
    note(&f, key, POLICY_OUTCOME_CONFIRMED);
    /* Reported twice: the second is not found. */
    assert_int_equal(
        policy_note_outcome(&f.m, key, POLICY_OUTCOME_CONFIRMED, f.now),
        KP_ENOTFOUND);
    /* Cooldown: 60 s. One second short: held. */
    f.now += f.p.inject_cooldown_s - 1;
    set_price(&f, f.now);
    expect_none(&f);
    assert_non_null(strstr(f.d.reason, "cooldown, 1 s left"));
    f.now += 1;
    expect_intent(&f, POLICY_ACTION_INJECT, USD(500));
    assert_string_equal(f.d.intents[0].key, "test:inject:100:2");
}

/* ---- prices ------------------------------------------------------------ */

static void
test_stale_price_no_action(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(500));
    set_price(&f, f.now - f.p.price_max_age_s - 1);
    expect_none(&f);
    assert_int_equal(f.d.tier, POLICY_TIER_T2); /* judged, not acted on */
    assert_true(f.d.alerts & POLICY_ALERT_STALE_PRICE);
    assert_true(f.d.in.price_stale);
    assert_int_equal(f.d.in.price_age, f.p.price_max_age_s + 1);
    assert_false(f.m.act[POLICY_ACTION_INJECT].in_flight);
    assert_non_null(strstr(f.d.reason, "stale"));

    /* From the future beyond max age: stale too. */
    set_price(&f, f.now + f.p.price_max_age_s + 1);
    expect_none(&f);
    assert_true(f.d.alerts & POLICY_ALERT_STALE_PRICE);

    /* Exactly max age: fresh, acts. */
    set_price(&f, f.now - f.p.price_max_age_s);
    expect_intent(&f, POLICY_ACTION_INJECT, USD(500));
    assert_int_equal(f.d.alerts, 0);

    /* Depletion and a stale price: no clawback either. */
    fx_init(&f);
    f.s.reserve = ts_u256(0);
    f.s.uncovered_debt = ts_u256(USD(100));
    f.s.pool_available = ts_u256(0);
    set_price(&f, 1);
    expect_none(&f);
    assert_int_equal(f.d.tier, POLICY_TIER_T3);
    assert_true(f.d.alerts & POLICY_ALERT_STALE_PRICE);
}

static void
test_no_price_no_action(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(500));
    f.pv.price = NULL;
    expect_none(&f);
    assert_true(f.d.alerts & POLICY_ALERT_NO_PRICE);
    assert_int_equal(policy_decide(&f.d, &f.m, &f.p, &f.s, NULL, f.now), 0);
    assert_int_equal(f.d.n_intents, 0);
    assert_true(f.d.alerts & POLICY_ALERT_NO_PRICE);
    assert_int_equal(f.d.tier, POLICY_TIER_T2);
}

/* ---- clawback ---------------------------------------------------------- */

static void
test_clawback_when_pool_cannot_cover(void **state)
{
    struct fx f;
    const struct policy_intent *it;
    char key[POLICY_KEY_MAX];

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(0);
    f.s.uncovered_debt = ts_u256(USD(100));
    f.s.pool_available = ts_u256(USD(30)); /* partial cover */
    /* The pool can still cover part: inject, never clawback. */
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(30));
    assert_int_equal(f.d.tier, POLICY_TIER_T3);
    snprintf(key, sizeof(key), "%s", it->key);
    /* While the injection is in flight and the pool reads empty: wait. */
    f.s.pool_available = ts_u256(0);
    expect_none(&f);
    assert_non_null(strstr(f.d.reason, "in flight"));
    note(&f, key, POLICY_OUTCOME_CONFIRMED);
    /* Pool empty, injection done: clawback the debt (no inject cooldown
     * needed: the pool cannot act at all). */
    f.s.uncovered_debt = ts_u256(USD(70));
    it = expect_intent(&f, POLICY_ACTION_CLAWBACK, USD(70));
    assert_string_equal(it->key, "test:clawback:100:1");
    assert_false(it->needs_approval);
    assert_true(f.d.alerts & POLICY_ALERT_POOL_EMPTY);
    /* One clawback per condition. */
    snprintf(key, sizeof(key), "%s", it->key);
    expect_none(&f);
    note(&f, key, POLICY_OUTCOME_CONFIRMED);
    f.now += f.p.clawback_cooldown_s - 1;
    set_price(&f, f.now);
    expect_none(&f);
    f.now += 1;
    it = expect_intent(&f, POLICY_ACTION_CLAWBACK, USD(70));
    assert_string_equal(it->key, "test:clawback:100:2");
}

static void
test_no_clawback_while_inject_cools_down(void **state)
{
    struct fx f;
    const struct policy_intent *it;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(0);
    f.s.uncovered_debt = ts_u256(USD(100));
    it = expect_intent(&f, POLICY_ACTION_INJECT, USD(1100));
    note(&f, it->key, POLICY_OUTCOME_FAILED);
    /* The pool still has capital; the inject is only cooling down. */
    expect_none(&f);
    assert_non_null(strstr(f.d.reason, "cooldown"));
}

static void
test_clawback_caps_and_approval(void **state)
{
    struct fx f;
    const struct policy_intent *it;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(10));
    f.s.uncovered_debt = ts_u256(USD(100));
    f.s.pool_available = ts_u256(0);
    f.s.has_positive_pnl = true;
    f.s.positive_pnl = ts_u256(USD(40));
    expect_intent(&f, POLICY_ACTION_CLAWBACK, USD(40));

    fx_init(&f);
    f.s.reserve = ts_u256(USD(10));
    f.s.uncovered_debt = ts_u256(USD(100));
    f.s.pool_available = ts_u256(0);
    f.p.clawback_max = ts_u256(USD(25));
    f.p.clawback_needs_approval = true;
    it = expect_intent(&f, POLICY_ACTION_CLAWBACK, USD(25));
    assert_true(it->needs_approval);
    assert_true(f.d.alerts & POLICY_ALERT_APPROVAL);
    assert_non_null(strstr(f.d.reason, "awaiting approval"));

    /* Nothing to take. */
    fx_init(&f);
    f.s.reserve = ts_u256(0);
    f.s.uncovered_debt = ts_u256(USD(100));
    f.s.pool_available = ts_u256(0);
    f.s.has_positive_pnl = true;
    f.s.positive_pnl = ts_u256(0);
    expect_none(&f);
    assert_true(f.d.alerts & POLICY_ALERT_NO_PNL);

    /* Epoch budget spent with capital in the pool: the keeper may not use
     * the pool, so the next tier applies. */
    fx_init(&f);
    f.p.epoch_budget = ts_u256(0);
    f.s.reserve = ts_u256(0);
    f.s.uncovered_debt = ts_u256(USD(100));
    expect_intent(&f, POLICY_ACTION_CLAWBACK, USD(100));
    assert_true(f.d.alerts & POLICY_ALERT_BUDGET_EXHAUSTED);
}

/* ---- exact amounts ----------------------------------------------------- */

static void
test_exact_amounts_at_extremes(void **state)
{
    struct fx f;
    struct u256 m = ts_u256_max(), half, big, want;

    (void)state;
    /* Everything at 2^256 − 1: need saturates, caps are exact. */
    fx_init(&f);
    f.s.target = m;
    f.s.critical = m;
    f.s.depletion = ts_u256(0);
    f.s.reserve = ts_u256(0);
    f.s.uncovered_debt = m; /* target + debt overflows */
    f.s.pool_available = m;
    assert_int_equal(decide(&f), 0);
    assert_int_equal(f.d.n_intents, 1);
    ts_assert_u256_equal(&f.d.intents[0].amount, &m);
    ts_assert_u256_equal(&f.m.epoch_spent, &m);

    /* Saturated need, capped by an exact pool of 2^200 + 1. */
    fx_init(&f);
    u256_from_u64(&half, 1);
    u256_shl(&half, &half, 255);
    f.s.target = half;
    f.s.critical = half;
    f.s.depletion = ts_u256(0);
    f.s.reserve = ts_u256(7);
    f.s.uncovered_debt = half;
    u256_from_u64(&big, 1);
    u256_shl(&big, &big, 200);
    assert_int_equal(u256_add_u64(&big, &big, 1), 0);
    f.s.pool_available = big;
    assert_int_equal(decide(&f), 0);
    ts_assert_u256_equal(&f.d.intents[0].amount, &big);

    /* An exact difference far beyond 2^64: target 10^30 + 7, reserve
     * 123456789012. */
    fx_init(&f);
    assert_int_equal(u256_pow10(&big, 30), 0);
    assert_int_equal(u256_add_u64(&big, &big, 7), 0);
    f.s.target = big;
    f.s.critical = big;
    f.s.reserve = ts_u256(123456789012ull);
    f.s.pool_available = m;
    assert_int_equal(decide(&f), 0);
    assert_int_equal(u256_sub(&want, &big, &f.s.reserve), 0);
    ts_assert_u256_equal(&f.d.intents[0].amount, &want);

    /* Loading on a huge target saturates instead of wrapping. */
    fx_init(&f);
    f.s.target = m;
    f.s.critical = m;
    f.s.depletion = ts_u256(0);
    f.s.reserve = ts_u256(0);
    f.s.pool_available = m;
    f.pv.sigma_ewma = 0.04;
    f.pv.sigma_long = 0.02;
    assert_int_equal(decide(&f), 0);
    ts_assert_u256_equal(&f.d.in.effective_target, &m);
    ts_assert_u256_equal(&f.d.intents[0].amount, &m);
}

static void
test_volatility_loading(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f);
    f.pv.sigma_ewma = 0.06; /* 3x the long run, capped at 2 */
    f.pv.sigma_long = 0.02;
    f.s.reserve = ts_u256(USD(500));
    expect_intent(&f, POLICY_ACTION_INJECT, USD(1500));
    ts_assert_u256_is(&f.d.in.effective_target, USD(2000));
    assert_true(f.d.in.loading == 2.0);
    /* At the on-chain target the pool refuses, loading or not. */
    fx_init(&f);
    f.pv.sigma_ewma = 0.06;
    f.pv.sigma_long = 0.02;
    f.s.reserve = ts_u256(USD(1000));
    expect_none(&f);
    assert_int_equal(f.d.tier, POLICY_TIER_T1);
    /* β = 0 disables loading. */
    fx_init(&f);
    f.p.vol_beta = 0.0;
    f.pv.sigma_ewma = 0.06;
    f.pv.sigma_long = 0.02;
    f.s.reserve = ts_u256(USD(500));
    expect_intent(&f, POLICY_ACTION_INJECT, USD(500));
}

static void
test_inject_covers_debt_off(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f);
    f.p.inject_covers_debt = false;
    f.s.reserve = ts_u256(0);
    f.s.uncovered_debt = ts_u256(USD(100));
    expect_intent(&f, POLICY_ACTION_INJECT, USD(1000));
}

/* ---- formatting and names ---------------------------------------------- */

static void
test_format(void **state)
{
    struct fx f;
    char line[2048], small[16];

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(500) + 500000); /* 500.5 */
    f.s.open_interest = ts_u256(USD(10000));
    assert_int_equal(decide(&f), 0);
    assert_int_equal(policy_decision_format(line, sizeof(line), &f.d), 0);
    assert_non_null(strstr(line, "tier=T2 prev_tier=T1 changed=1 "
                                 "episode=100 block=100 reserve=500.5 "
                                 "target=1000 "));
    assert_non_null(strstr(line, " alerts=none intents=1 action=inject "
                                 "amount=499.5 key=test:inject:100:1 "
                                 "approval=0 reason=\"T2: reserve 500.5 < "
                                 "critical 800; inject 499.5 of 499.5 "
                                 "needed to reach 1000\""));
    assert_non_null(strstr(line, " price=2000 price_age=10 stale=0"));
    assert_non_null(strstr(line, " health=0.5"));

    assert_int_equal(
        policy_intent_format(line, sizeof(line), &f.d.intents[0], 6), 0);
    assert_string_equal(line,
                        "action=inject amount=499.5 key=test:inject:100:1 "
                        "approval=0");

    /* Too small: an error and a terminated, truncated line. */
    assert_int_equal(policy_decision_format(small, sizeof(small), &f.d),
                     KP_ERANGE);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(policy_intent_format(small, 4, &f.d.intents[0], 6),
                     KP_ERANGE);
    assert_int_equal(strlen(small), 3);

    /* Alerts listed by name; no price. */
    f.s.pool_available = ts_u256(0);
    f.pv.price = NULL;
    assert_int_equal(decide(&f), 0);
    assert_int_equal(policy_decision_format(line, sizeof(line), &f.d), 0);
    assert_non_null(strstr(line, " price=none"));
    assert_non_null(strstr(line, " alerts=no_price intents=0"));
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(policy_tier_name(POLICY_TIER_T1), "T1");
    assert_string_equal(policy_tier_name(POLICY_TIER_AMBER), "amber");
    assert_string_equal(policy_tier_name(POLICY_TIER_T2), "T2");
    assert_string_equal(policy_tier_name(POLICY_TIER_T3), "T3");
    assert_string_equal(policy_tier_name((enum policy_tier)42), "unknown");
    assert_string_equal(policy_action_name(POLICY_ACTION_INJECT), "inject");
    assert_string_equal(policy_action_name(POLICY_ACTION_CLAWBACK), "clawback");
    assert_string_equal(policy_action_name(POLICY_ACTION_COUNT), "unknown");
    for (int i = 0; i < POLICY_ALERT_COUNT; i++)
        assert_string_not_equal(policy_alert_name((enum policy_alert)(1u << i)),
                                "unknown");
    assert_string_equal(policy_alert_name(POLICY_ALERT_STALE_PRICE),
                        "stale_price");
    assert_string_equal(policy_alert_name((enum policy_alert)(1u << 20)),
                        "unknown");
}

/* ---- misuse ------------------------------------------------------------ */

static void
test_params_misuse(void **state)
{
    struct policy_params d, p;

    (void)state;
    policy_params_default(&d);
    assert_int_equal(policy_params_check(&d), 0);
#define BAD(stmt)                                                              \
    do {                                                                       \
        p = d;                                                                 \
        stmt;                                                                  \
        assert_int_equal(policy_params_check(&p), KP_ECONFIG);                 \
    } while (0)
    BAD(p.protocol[0] = '\0');
    BAD(snprintf(p.protocol, sizeof(p.protocol), "has space"));
    BAD(snprintf(p.protocol, sizeof(p.protocol), "colon:sep"));
    BAD(memset(p.protocol, 'a', sizeof(p.protocol))); /* no NUL */
    BAD(p.amber_health = NAN);
    BAD(p.t2_health = -1.0);
    BAD(p.amber_health = 0.5); /* below t2 */
    BAD(p.epoch_s = 0);
    BAD(p.min_inject = ts_u256(0));
    BAD(p.inject_max = ts_u256(0));
    BAD(p.clawback_max = ts_u256(0));
    BAD(p.vol_beta = 5.0);
    BAD(p.vol_beta = NAN);
    BAD(p.vol_cap = 0.5);
    BAD(p.vol_cap = RISK_LOADING_MAX + 1);
    BAD(p.risk.stress_move_bps = 0);
#undef BAD
    p = d;
    memset(p.protocol, 'a', sizeof(p.protocol) - 1);
    p.protocol[sizeof(p.protocol) - 1] = '\0';
    assert_int_equal(policy_params_check(&p), 0); /* longest id */
}

static void
test_decide_misuse_leaves_memory(void **state)
{
    struct fx f;
    struct policy_memory before;

    (void)state;
    fx_init(&f);
    f.s.reserve = ts_u256(USD(500));
    before = f.m;
    f.p.epoch_s = 0;
    assert_int_equal(decide(&f), KP_ECONFIG);
    assert_int_equal(f.d.n_intents, 0);
    assert_memory_equal(&before, &f.m, sizeof(before));

    fx_init(&f);
    f.s.reserve = ts_u256(USD(500));
    f.s.critical = ts_u256(USD(2000)); /* above target */
    before = f.m;
    assert_int_equal(decide(&f), KP_EINVAL);
    assert_int_equal(f.d.n_intents, 0);
    assert_true(f.d.alerts & POLICY_ALERT_BAD_STATE);
    assert_int_equal(f.d.tier, POLICY_TIER_T1);
    assert_memory_equal(&before, &f.m, sizeof(before));
    assert_non_null(strstr(f.d.reason, "bad state"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tier_table),
        cmocka_unit_test(test_empty_pool_alerts),
        cmocka_unit_test(test_hysteresis_episode),
        cmocka_unit_test(test_keys_never_repeat),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_capped_by_epoch_budget),
        cmocka_unit_test(test_failed_inject_refunds_budget),
        cmocka_unit_test(test_capped_by_inject_max),
        cmocka_unit_test(test_clock_step_back),
        cmocka_unit_test(test_in_flight_and_cooldown_suppress),
        cmocka_unit_test(test_stale_price_no_action),
        cmocka_unit_test(test_no_price_no_action),
        cmocka_unit_test(test_clawback_when_pool_cannot_cover),
        cmocka_unit_test(test_no_clawback_while_inject_cools_down),
        cmocka_unit_test(test_clawback_caps_and_approval),
        cmocka_unit_test(test_exact_amounts_at_extremes),
        cmocka_unit_test(test_volatility_loading),
        cmocka_unit_test(test_inject_covers_debt_off),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_params_misuse),
        cmocka_unit_test(test_decide_misuse_leaves_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
