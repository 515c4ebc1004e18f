/* Risk metrics: exact distances, the open-interest shortfall proxy and
 * the position formula under a stress move, solvency/health, volatility
 * loading (factor and exact loaded target), haircut basis points, and
 * misuse (bad params, bad snapshots). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/u256.h"
#include "strategies/risk.h"
#include "strategies/state.h"
#include "tests/support/check.h"

#define USD(x) ((uint64_t)(x)*1000000ull) /* 6 decimals */

static void
base_state(struct protocol_state *s)
{
    protocol_state_init(s);
    s->block_number = 100;
    s->reserve = ts_u256(USD(500));
    s->target = ts_u256(USD(1000));
    s->critical = ts_u256(USD(800));
    s->depletion = ts_u256(USD(300));
    s->open_interest = ts_u256(USD(10000));
    s->pool_available = ts_u256(USD(5000));
}

static void
test_distance_exact(void **state)
{
    struct u256 d, a = ts_u256(USD(500)), b = ts_u256(USD(800)),
                   m = ts_u256_max(), z = ts_u256(0);
    bool below;

    (void)state;
    risk_distance(&d, &below, &a, &b);
    assert_true(below);
    ts_assert_u256_is(&d, USD(300));
    risk_distance(&d, &below, &b, &a);
    assert_false(below);
    ts_assert_u256_is(&d, USD(300));
    risk_distance(&d, &below, &a, &a);
    assert_false(below); /* equal is not below */
    assert_true(u256_is_zero(&d));
    /* Extremes: no wrap. */
    risk_distance(&d, &below, &z, &m);
    assert_true(below);
    ts_assert_u256_equal(&d, &m);
    risk_distance(&d, &below, &m, &z);
    assert_false(below);
    ts_assert_u256_equal(&d, &m);
}

static void
test_shortfall_proxy(void **state)
{
    struct risk_params p;
    struct u256 oi = ts_u256(USD(1000000));
    double sf;

    (void)state;
    risk_params_default(&p);
    assert_int_equal(p.stress_move_bps, 1000);
    assert_int_equal(p.margin_bps, 0);
    /* 10% of 1,000,000, rounded up (never below the exact value). */
    sf = risk_shortfall_proxy(&oi, 6, &p);
    assert_true(sf >= 100000.0);
    ts_assert_close(sf, 100000.0, 1e-12);
    /* Positions assumed to hold 2% margin: 8%. */
    p.margin_bps = 200;
    ts_assert_close(risk_shortfall_proxy(&oi, 6, &p), 80000.0, 1e-12);
    /* Margin covers the whole move: no shortfall. */
    p.margin_bps = 1000;
    assert_true(risk_shortfall_proxy(&oi, 6, &p) == 0.0);
    p.margin_bps = 0;
    oi = ts_u256(0);
    assert_true(risk_shortfall_proxy(&oi, 6, &p) == 0.0);
    /* Impossible decimals: unknown counts as unbounded. */
    assert_true(isinf(risk_shortfall_proxy(&oi, 99, &p)));
}

static void
set_signed(struct u256 *r, int64_t v, unsigned decimals)
{
    struct u256 scale, mag;

    assert_int_equal(u256_pow10(&scale, decimals), 0);
    u256_from_u64(&mag, (uint64_t)(v < 0 ? -v : v));
    assert_int_equal(u256_mul(r, &mag, &scale), 0);
    if (v < 0)
        u256_neg(r, r);
}

/*
 * Mark 2000, stress 10%:
 *   long  1 @ 2000, margin 100: down (1800) pnl −200 → owes 100; up: 0
 *   short 2 @ 2000, margin 250: up (2200) pnl −400 → owes 150; down: 0
 *   long  1 @ 1500, margin 10:  down pnl +300 → 0; up → 0
 * shortfall = max(down 100, up 150) = 150.
 */
static void
test_shortfall_positions(void **state)
{
    struct protocol_state s;
    struct risk_params p;
    struct position pos[3];
    double sf;

    (void)state;
    base_state(&s);
    risk_params_default(&p);
    memset(pos, 0, sizeof(pos));
    set_signed(&pos[0].size, 1, 18);
    set_signed(&pos[0].entry_price, 2000, 8);
    pos[0].margin = ts_u256(USD(100));
    set_signed(&pos[1].size, -2, 18);
    set_signed(&pos[1].entry_price, 2000, 8);
    pos[1].margin = ts_u256(USD(250));
    set_signed(&pos[2].size, 1, 18);
    set_signed(&pos[2].entry_price, 1500, 8);
    pos[2].margin = ts_u256(USD(10));
    s.positions = pos;
    s.n_positions = 3;
    assert_int_equal(risk_shortfall_positions(&sf, &s, 2000.0, &p), 0);
    assert_true(sf >= 150.0);
    ts_assert_close(sf, 150.0, 1e-12);
    /* Misuse: no mark price. */
    assert_int_equal(risk_shortfall_positions(&sf, &s, 0.0, &p), KP_EINVAL);
    assert_int_equal(risk_shortfall_positions(&sf, &s, NAN, &p), KP_EINVAL);
    s.size_decimals = 99;
    assert_int_equal(risk_shortfall_positions(&sf, &s, 2000.0, &p), KP_EINVAL);
}

static void
test_solvency_ratio(void **state)
{
    double h;

    (void)state;
    h = risk_solvency_ratio(200.0, 100.0);
    assert_true(h < 2.0 && h > 1.9999999); /* rounded down */
    assert_true(isinf(risk_solvency_ratio(200.0, 0.0)));
    assert_true(isinf(risk_solvency_ratio(0.0, 0.0)));
    assert_true(risk_solvency_ratio(0.0, 10.0) == 0.0);
    assert_true(risk_solvency_ratio(NAN, 10.0) == 0.0);
    assert_true(risk_solvency_ratio(10.0, NAN) == 0.0);
    assert_true(risk_solvency_ratio(10.0, INFINITY) == 0.0);
}

static void
test_vol_loading_factor(void **state)
{
    (void)state;
    assert_true(risk_vol_loading(0.04, 0.02, 1.0, 3.0) == 2.0);
    assert_true(risk_vol_loading(0.04, 0.02, 1.0, 1.5) == 1.5);
    assert_true(risk_vol_loading(0.04, 0.02, 2.0, 5.0) == 4.0);
    /* Calmer than usual: no discount, factor 1. */
    assert_true(risk_vol_loading(0.01, 0.02, 1.0, 3.0) == 1.0);
    /* Unknown or disabled: 1. */
    assert_true(risk_vol_loading(0.0, 0.02, 1.0, 3.0) == 1.0);
    assert_true(risk_vol_loading(0.04, NAN, 1.0, 3.0) == 1.0);
    assert_true(risk_vol_loading(INFINITY, 0.02, 1.0, 3.0) == 1.0);
    assert_true(risk_vol_loading(0.04, 0.02, 0.0, 3.0) == 1.0);
    assert_true(risk_vol_loading(0.04, 0.02, 1.0, 0.5) == 1.0);
    /* The cap itself is bounded. */
    assert_true(risk_vol_loading(1e300, 1e-300, 4.0, 1e9) == RISK_LOADING_MAX);
}

static void
test_loaded_target_exact(void **state)
{
    struct u256 out, base, m = ts_u256_max();

    (void)state;
    base = ts_u256(USD(1000));
    assert_int_equal(risk_loaded_target(&out, &base, 1.5), 0);
    ts_assert_u256_is(&out, USD(1500));
    /* 3 · 1.5 = 4.5 → 5 (rounded up, toward a larger reserve). */
    base = ts_u256(3);
    assert_int_equal(risk_loaded_target(&out, &base, 1.5), 0);
    ts_assert_u256_is(&out, 5);
    /* Factor resolution 1e-6, rounded up: 1.0000001 → 1.000001. */
    base = ts_u256(USD(1000000)); /* 1e12 */
    assert_int_equal(risk_loaded_target(&out, &base, 1.0000001), 0);
    ts_assert_u256_is(&out, 1000001000000ull);
    /* Factor 1 is the identity even at the top of the range. */
    assert_int_equal(risk_loaded_target(&out, &m, 1.0), 0);
    ts_assert_u256_equal(&out, &m);
    /* Overflow saturates. */
    assert_int_equal(risk_loaded_target(&out, &m, 2.0), KP_EOVERFLOW);
    ts_assert_u256_equal(&out, &m);
    /* Misuse. */
    assert_int_equal(risk_loaded_target(&out, &base, 0.5), KP_EINVAL);
    assert_int_equal(risk_loaded_target(&out, &base, NAN), KP_EINVAL);
    assert_int_equal(risk_loaded_target(&out, &base, RISK_LOADING_MAX * 2),
                     KP_EINVAL);
}

static void
test_haircut_bps(void **state)
{
    struct u256 a, p, m = ts_u256_max();
    uint32_t bps;

    (void)state;
    a = ts_u256(1), p = ts_u256(3);
    assert_int_equal(risk_haircut_bps(&bps, &a, &p), 0);
    assert_int_equal(bps, 3334); /* 3333.3 rounded up */
    a = ts_u256(USD(50)), p = ts_u256(USD(200));
    assert_int_equal(risk_haircut_bps(&bps, &a, &p), 0);
    assert_int_equal(bps, 2500);
    assert_int_equal(risk_haircut_bps(&bps, &p, &p), 0);
    assert_int_equal(bps, 10000);
    a = ts_u256(0);
    assert_int_equal(risk_haircut_bps(&bps, &a, &p), 0);
    assert_int_equal(bps, 0);
    /* Cannot cover. */
    a = ts_u256(USD(201));
    assert_int_equal(risk_haircut_bps(&bps, &a, &p), KP_ERANGE);
    assert_int_equal(bps, 10000);
    /* No PnL. */
    p = ts_u256(0);
    assert_int_equal(risk_haircut_bps(&bps, &a, &p), KP_EINVAL);
    /* Near 2^256: 2^255 / (2^256 − 1) is a hair above 1/2 → 5001. */
    a = ts_u256(1);
    u256_shl(&a, &a, 255);
    assert_int_equal(risk_haircut_bps(&bps, &a, &m), 0);
    assert_int_equal(bps, 5001);
    assert_int_equal(risk_haircut_bps(&bps, &m, &m), 0);
    assert_int_equal(bps, 10000);
}

static void
test_evaluate_snapshot(void **state)
{
    struct protocol_state s;
    struct risk_params p;
    struct risk_metrics m;

    (void)state;
    base_state(&s);
    risk_params_default(&p);
    assert_int_equal(risk_evaluate(&m, &p, &s, 0.0), 0);
    assert_true(m.below_target && m.below_critical && !m.below_depletion);
    ts_assert_u256_is(&m.to_critical, USD(300));
    ts_assert_u256_is(&m.to_depletion, USD(200));
    ts_assert_u256_is(&m.to_target, USD(500));
    assert_false(m.shortfall_from_positions);
    ts_assert_close(m.shortfall, 1000.0, 1e-12); /* 10% of OI 10,000 */
    ts_assert_close(m.health, 0.5, 1e-12);
    assert_true(m.health < 0.5); /* rounded toward safety */
    assert_true(m.health == m.solvency);
    assert_false(m.has_debt);
    assert_true(m.haircut == 0.0);

    s.uncovered_debt = ts_u256(USD(50));
    assert_int_equal(risk_evaluate(&m, &p, &s, 0.0), 0);
    assert_true(m.has_debt);
    assert_true(isnan(m.haircut)); /* PnL unknown */
    s.has_positive_pnl = true;
    s.positive_pnl = ts_u256(USD(200));
    assert_int_equal(risk_evaluate(&m, &p, &s, 0.0), 0);
    ts_assert_close(m.haircut, 0.25, 1e-12);
    s.positive_pnl = ts_u256(0);
    assert_int_equal(risk_evaluate(&m, &p, &s, 0.0), 0);
    assert_true(isinf(m.haircut));

    /* No open interest: infinitely healthy. */
    s.open_interest = ts_u256(0);
    assert_int_equal(risk_evaluate(&m, &p, &s, 0.0), 0);
    assert_true(isinf(m.health));
}

static void
test_evaluate_with_positions_falls_back(void **state)
{
    struct protocol_state s;
    struct risk_params p;
    struct risk_metrics m;
    struct position pos;

    (void)state;
    base_state(&s);
    risk_params_default(&p);
    memset(&pos, 0, sizeof(pos));
    set_signed(&pos.size, 1, 18);
    set_signed(&pos.entry_price, 2000, 8);
    pos.margin = ts_u256(USD(100));
    s.positions = &pos;
    s.n_positions = 1;
    assert_int_equal(risk_evaluate(&m, &p, &s, 2000.0), 0);
    assert_true(m.shortfall_from_positions);
    ts_assert_close(m.shortfall, 100.0, 1e-12);
    ts_assert_close(m.health, 5.0, 1e-12);
    /* No usable mark: the open-interest proxy. */
    assert_int_equal(risk_evaluate(&m, &p, &s, NAN), 0);
    assert_false(m.shortfall_from_positions);
    ts_assert_close(m.shortfall, 1000.0, 1e-12);
}

static void
test_misuse(void **state)
{
    struct protocol_state s;
    struct risk_params p, d;
    struct risk_metrics m;
    struct position pos;

    (void)state;
    risk_params_default(&d);
    assert_int_equal(risk_params_check(&d), 0);
    p = d, p.stress_move_bps = 0;
    assert_int_equal(risk_params_check(&p), KP_ECONFIG);
    p = d, p.stress_move_bps = 10001;
    assert_int_equal(risk_params_check(&p), KP_ECONFIG);
    p = d, p.margin_bps = 10001;
    assert_int_equal(risk_params_check(&p), KP_ECONFIG);
    base_state(&s);
    assert_int_equal(risk_evaluate(&m, &p, &s, 1.0), KP_ECONFIG);
    assert_true(m.health == 0.0);

    /* Snapshots a broken reader could produce. */
    base_state(&s);
    s.critical = ts_u256(USD(2000)); /* above target */
    assert_int_equal(protocol_state_check(&s), KP_EINVAL);
    assert_int_equal(risk_evaluate(&m, &d, &s, 1.0), KP_EINVAL);
    base_state(&s);
    s.depletion = ts_u256(USD(900)); /* above critical */
    assert_int_equal(protocol_state_check(&s), KP_EINVAL);
    base_state(&s);
    s.target = ts_u256(0), s.critical = ts_u256(0), s.depletion = ts_u256(0);
    assert_int_equal(protocol_state_check(&s), KP_EINVAL);
    base_state(&s);
    s.decimals = 37;
    assert_int_equal(protocol_state_check(&s), KP_ERANGE);
    base_state(&s);
    s.n_positions = 1; /* without a pointer */
    assert_int_equal(protocol_state_check(&s), KP_EINVAL);
    s.positions = &pos;
    s.n_positions = STATE_POSITIONS_MAX + 1;
    assert_int_equal(protocol_state_check(&s), KP_ELIMIT);
    base_state(&s);
    assert_int_equal(protocol_state_check(&s), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance_exact),
        cmocka_unit_test(test_shortfall_proxy),
        cmocka_unit_test(test_shortfall_positions),
        cmocka_unit_test(test_solvency_ratio),
        cmocka_unit_test(test_vol_loading_factor),
        cmocka_unit_test(test_loaded_target_exact),
        cmocka_unit_test(test_haircut_bps),
        cmocka_unit_test(test_evaluate_snapshot),
        cmocka_unit_test(test_evaluate_with_positions_falls_back),
        cmocka_unit_test(test_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
