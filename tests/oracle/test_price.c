/* Oracle price construction (exact answer, double value, refusals) and
 * the staleness rule (own publish time, both directions, boundaries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/u256.h"
#include "oracle/price.h"

static void
test_init_scales_by_decimals(void **state)
{
    struct oracle_price p;
    struct u256 ans, round;

    (void)state;
    /* Chainlink ETH/USD style: 8 decimals. */
    u256_from_u64(&ans, 189512345678ull);
    u256_from_u64(&round, 42);
    assert_int_equal(oracle_price_init(&p, &ans, 8, 1700000000, &round), 0);
    assert_int_equal(u256_cmp(&p.answer, &ans), 0);
    assert_int_equal(p.decimals, 8);
    assert_true(p.value > 1895.12345677 && p.value < 1895.12345679);
    assert_int_equal(p.updated_at, 1700000000);
    assert_int_equal(u256_cmp(&p.round_id, &round), 0);

    /* No round: zero. 0 decimals: the integer itself. */
    u256_from_u64(&ans, 7);
    assert_int_equal(oracle_price_init(&p, &ans, 0, 5, NULL), 0);
    assert_true(u256_is_zero(&p.round_id));
    assert_true(p.value == 7.0);

    /* 18 decimals: 1e18 is exactly 1.0. */
    assert_int_equal(u256_pow10(&ans, 18), 0);
    assert_int_equal(oracle_price_init(&p, &ans, 18, 5, NULL), 0);
    assert_true(p.value == 1.0);
}

static void
test_init_refuses_bad_answers(void **state)
{
    struct oracle_price p;
    struct u256 ans, neg;

    (void)state;
    memset(&ans, 0, sizeof(ans));
    assert_int_equal(oracle_price_init(&p, &ans, 8, 100, NULL), KP_EINVAL);
    /* int256 -1 (two's complement) */
    u256_from_u64(&ans, 1);
    u256_neg(&neg, &ans);
    assert_int_equal(oracle_price_init(&p, &neg, 8, 100, NULL), KP_EINVAL);
    /* Chainlink's "round not complete": updatedAt == 0. */
    assert_int_equal(oracle_price_init(&p, &ans, 8, 0, NULL), KP_EINVAL);
    assert_int_equal(
        oracle_price_init(&p, &ans, ORACLE_DECIMALS_MAX + 1, 100, NULL),
        KP_ERANGE);
    assert_int_equal(
        oracle_price_init(&p, &ans, ORACLE_DECIMALS_MAX, 100, NULL), 0);
}

static void
test_staleness_uses_publish_time(void **state)
{
    struct oracle_price p;
    struct u256 ans;

    (void)state;
    u256_from_u64(&ans, 100);
    assert_int_equal(oracle_price_init(&p, &ans, 0, 1000, NULL), 0);
    /* Boundary: exactly max_age old is still fresh, one more is stale. */
    assert_false(oracle_price_is_stale(&p, 1000, 60));
    assert_false(oracle_price_is_stale(&p, 1060, 60));
    assert_true(oracle_price_is_stale(&p, 1061, 60));
    assert_int_equal(oracle_price_age(&p, 1061), 61);
    /* From the future: fresh within max_age, stale beyond. */
    assert_false(oracle_price_is_stale(&p, 940, 60));
    assert_true(oracle_price_is_stale(&p, 939, 60));
    assert_int_equal(oracle_price_age(&p, 939), 0);
    /* max_age 0: only the exact second. */
    assert_false(oracle_price_is_stale(&p, 1000, 0));
    assert_true(oracle_price_is_stale(&p, 1001, 0));
    /* Extremes do not wrap. */
    assert_true(oracle_price_is_stale(&p, UINT64_MAX, 60));
    assert_false(oracle_price_is_stale(&p, UINT64_MAX, UINT64_MAX));
    assert_true(oracle_price_is_stale(&p, 0, 60));
    /* A zeroed (never initialised) price is stale. */
    memset(&p, 0, sizeof(p));
    assert_true(oracle_price_is_stale(&p, 0, UINT64_MAX));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_scales_by_decimals),
        cmocka_unit_test(test_init_refuses_bad_answers),
        cmocka_unit_test(test_staleness_uses_publish_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
