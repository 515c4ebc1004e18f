/* Price history: ring bounds and order, duplicate/old rounds ignored,
 * bad prices refused, EWMA variance against hand-computed values with
 * irregular sampling intervals, σ accessors and parameter checks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/u256.h"
#include "oracle/history.h"
#include "tests/support/check.h"

/* A price with 2 decimals: cents, exact in both renderings. */
static struct oracle_price
px(uint64_t cents, uint64_t t, uint64_t round)
{
    struct oracle_price p;
    struct u256 a, r;

    u256_from_u64(&a, cents);
    u256_from_u64(&r, round);
    assert_int_equal(oracle_price_init(&p, &a, 2, t, &r), 0);
    return p;
}

static void
init_default(struct oracle_history *h, size_t cap, unsigned min_returns)
{
    struct oracle_history_params p;

    oracle_history_params_default(&p);
    p.capacity = cap;
    p.min_returns = min_returns;
    assert_int_equal(oracle_history_init(h, &p), 0);
}

static void
test_ring_keeps_newest_in_order(void **state)
{
    struct oracle_history h;
    struct oracle_price p;

    (void)state;
    init_default(&h, 4, 1);
    assert_int_equal(oracle_history_len(&h), 0);
    assert_null(oracle_history_latest(&h));
    assert_null(oracle_history_at(&h, 0));
    for (uint64_t i = 1; i <= 10; i++) {
        p = px(10000 + i, 100 * i, i);
        assert_int_equal(oracle_history_push(&h, &p), 0);
        assert_int_equal(oracle_history_len(&h), i < 4 ? i : 4);
    }
    /* Holds samples 7..10, oldest first. */
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(oracle_history_at(&h, i)->updated_at, 100 * (7 + i));
    assert_null(oracle_history_at(&h, 4));
    assert_int_equal(oracle_history_latest(&h)->updated_at, 1000);
    oracle_history_cleanup(&h);
    oracle_history_cleanup(&h); /* twice is harmless */
}

static void
test_duplicates_and_old_rounds_ignored(void **state)
{
    struct oracle_history h;
    struct oracle_price p;
    double s1, s2;

    (void)state;
    init_default(&h, 16, 1);
    p = px(10000, 1000, 5);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    p = px(10100, 2000, 6);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    assert_int_equal(oracle_history_sigma_daily(&h, &s1), 0);

    /* The same round read again (event + heartbeat). */
    p = px(10100, 2000, 6);
    assert_int_equal(oracle_history_push(&h, &p), KP_ESTALE);
    /* Older time. */
    p = px(20000, 1500, 7);
    assert_int_equal(oracle_history_push(&h, &p), KP_ESTALE);
    /* Newer time but the same or an older round. */
    p = px(20000, 3000, 6);
    assert_int_equal(oracle_history_push(&h, &p), KP_ESTALE);
    p = px(20000, 3000, 4);
    assert_int_equal(oracle_history_push(&h, &p), KP_ESTALE);
    assert_int_equal(oracle_history_len(&h), 2);
    assert_int_equal(oracle_history_sigma_daily(&h, &s2), 0);
    assert_true(s1 == s2);

    /* Sources without rounds (0) are ordered by time alone. */
    p = px(10200, 3000, 0);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    p = px(10300, 3000, 0);
    assert_int_equal(oracle_history_push(&h, &p), KP_ESTALE);
    assert_int_equal(oracle_history_len(&h), 3);
    oracle_history_cleanup(&h);
}

static void
test_bad_prices_refused(void **state)
{
    struct oracle_history h;
    struct oracle_price p;

    (void)state;
    init_default(&h, 4, 1);
    p = px(100, 10, 1);
    p.value = 0.0;
    assert_int_equal(oracle_history_push(&h, &p), KP_EINVAL);
    p.value = -1.0;
    assert_int_equal(oracle_history_push(&h, &p), KP_EINVAL);
    p.value = NAN;
    assert_int_equal(oracle_history_push(&h, &p), KP_EINVAL);
    p.value = INFINITY;
    assert_int_equal(oracle_history_push(&h, &p), KP_EINVAL);
    p = px(100, 10, 1);
    p.updated_at = 0;
    assert_int_equal(oracle_history_push(&h, &p), KP_EINVAL);
    assert_int_equal(oracle_history_len(&h), 0);
    oracle_history_cleanup(&h);
}

/*
 * Hand computation (λ = 0.94 and 0.995 per day, D = 86400 s):
 *   t0 = 1000      P = 100.00
 *   t1 = t0 + 12 h P = 102.00  r1 = ln(1.02)       = 0.0198026272961797
 *       seed: σ² = r1²·(D/43200) = 2·r1²            = 7.84288095662805e-4
 *   t2 = t1 + 24 h P = 99.00   r2 = ln(99/102)     = -0.0298529631496812
 *       λ_dt = 0.94: σ² = 0.94·7.84288095662805e-4 + 0.06·r2²
 *                      = 7.3723080992304e-4 + 5.3471964529e-5
 *                      = 7.9070277445201e-4
 *   t3 = t2 + 1 h  P = 99.50   r3 = ln(99.5/99)    = 0.00503779402995708
 *       λ_dt = 0.94^(1/24) = 0.997425..., day var = r3²·24
 *       σ² = 7.902351922500567e-4
 * Long run (0.995): 7.848226522285721e-4, then 7.847859563591034e-4.
 */
static void
test_ewma_irregular_hand_values(void **state)
{
    struct oracle_history h;
    struct oracle_price p;
    double s;

    (void)state;
    init_default(&h, 8, 1);
    assert_int_equal(oracle_history_sigma_daily(&h, &s), KP_ESTATE);
    assert_true(s == 0.0);
    p = px(10000, 1000, 1);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    /* One price, no return yet. */
    assert_int_equal(oracle_history_sigma_daily(&h, &s), KP_ESTATE);

    p = px(10200, 1000 + 43200, 2);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    assert_int_equal(oracle_history_sigma_daily(&h, &s), 0);
    ts_assert_close(s * s, 7.84288095662805e-4, 1e-12);

    p = px(9900, 1000 + 43200 + 86400, 3);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    assert_int_equal(oracle_history_sigma_daily(&h, &s), 0);
    ts_assert_close(s * s, 7.9070277445201e-4, 1e-12);
    assert_int_equal(oracle_history_sigma_long_daily(&h, &s), 0);
    ts_assert_close(s * s, 7.848226522285721e-4, 1e-12);

    p = px(9950, 1000 + 43200 + 86400 + 3600, 4);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    assert_int_equal(oracle_history_sigma_daily(&h, &s), 0);
    ts_assert_close(s, 0.028111122216127493, 1e-12);
    assert_int_equal(oracle_history_sigma_annual(&h, &s), 0);
    ts_assert_close(s, 0.5370622358454099, 1e-12);
    assert_int_equal(oracle_history_sigma_long_daily(&h, &s), 0);
    ts_assert_close(s, 0.028014031419256732, 1e-12);
    assert_int_equal(oracle_history_sigma_long_annual(&h, &s), 0);
    ts_assert_close(s, 0.535207318775699, 1e-12);
    oracle_history_cleanup(&h);
}

/* With one tick per day the recursion is RiskMetrics' own. */
static void
test_ewma_step_daily_is_riskmetrics(void **state)
{
    double v;

    (void)state;
    v = oracle_ewma_step(0.0004, 0.94, 0.03, 86400.0, false);
    ts_assert_close(v, 0.94 * 0.0004 + 0.06 * 0.0009, 1e-15);
    v = oracle_ewma_step(123.0, 0.94, 0.03, 86400.0, true);
    ts_assert_close(v, 0.0009, 1e-15);
    /* Two days at once decay like λ². */
    v = oracle_ewma_step(0.0004, 0.94, 0.03, 2 * 86400.0, false);
    ts_assert_close(v, 0.8836 * 0.0004 + 0.1164 * 0.00045, 1e-12);
}

/* Many closely spaced ticks: σ² approaches the realised daily variance,
 * not a multiple of it (the r²·D/dt scaling is not an amplifier). */
static void
test_ewma_fine_ticks_match_realised(void **state)
{
    struct oracle_history h;
    struct oracle_price p;
    double s, want;
    uint64_t t = 1;

    (void)state;
    init_default(&h, 64, 10);
    /* ±1% alternating each minute for 30 days: realised daily variance
     * = 1440 · ln(1.01)² (to first order, both signs alike). */
    for (int i = 0; i < 30 * 1440; i++) {
        uint64_t cents = (i % 2) ? 10100 : 10000;

        p = px(cents, t, (uint64_t)i + 1);
        assert_int_equal(oracle_history_push(&h, &p), 0);
        t += 60;
    }
    want = 1440.0 * (log(1.01) * log(1.01));
    assert_int_equal(oracle_history_sigma_daily(&h, &s), 0);
    ts_assert_close(s * s, want, 1e-6);
    assert_int_equal(oracle_history_len(&h), 64);
    oracle_history_cleanup(&h);
}

static void
test_min_returns_gate(void **state)
{
    struct oracle_history h;
    struct oracle_price p;
    double s;

    (void)state;
    init_default(&h, 8, 3);
    for (uint64_t i = 0; i < 3; i++) {
        p = px(10000 + 10 * i, 60 * (i + 1), i + 1);
        assert_int_equal(oracle_history_push(&h, &p), 0);
        assert_int_equal(oracle_history_sigma_daily(&h, &s), KP_ESTATE);
        assert_int_equal(oracle_history_sigma_long_annual(&h, &s), KP_ESTATE);
    }
    p = px(10100, 240, 4);
    assert_int_equal(oracle_history_push(&h, &p), 0);
    assert_int_equal(oracle_history_sigma_daily(&h, &s), 0);
    assert_true(s > 0.0);
    oracle_history_cleanup(&h);
}

static void
test_params_misuse(void **state)
{
    struct oracle_history_params p, d;
    struct oracle_history h;

    (void)state;
    oracle_history_params_default(&d);
    assert_int_equal(oracle_history_params_check(&d), 0);
    assert_true(d.lambda_day == 0.94);

    p = d, p.capacity = 1;
    assert_int_equal(oracle_history_params_check(&p), KP_ECONFIG);
    p = d, p.capacity = ORACLE_HISTORY_CAP_MAX + 1;
    assert_int_equal(oracle_history_params_check(&p), KP_ECONFIG);
    p = d, p.lambda_day = 1.0;
    assert_int_equal(oracle_history_params_check(&p), KP_ECONFIG);
    p = d, p.lambda_day = 0.0;
    assert_int_equal(oracle_history_params_check(&p), KP_ECONFIG);
    p = d, p.lambda_day = NAN;
    assert_int_equal(oracle_history_params_check(&p), KP_ECONFIG);
    p = d, p.lambda_long_day = 0.9; /* faster than the fast one */
    assert_int_equal(oracle_history_params_check(&p), KP_ECONFIG);

    p = d, p.capacity = 0;
    assert_int_equal(oracle_history_init(&h, &p), KP_ECONFIG);
    assert_null(h.ring);
    oracle_history_cleanup(&h);
    oracle_history_cleanup(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_keeps_newest_in_order),
        cmocka_unit_test(test_duplicates_and_old_rounds_ignored),
        cmocka_unit_test(test_bad_prices_refused),
        cmocka_unit_test(test_ewma_irregular_hand_values),
        cmocka_unit_test(test_ewma_step_daily_is_riskmetrics),
        cmocka_unit_test(test_ewma_fine_ticks_match_realised),
        cmocka_unit_test(test_min_returns_gate),
        cmocka_unit_test(test_params_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
