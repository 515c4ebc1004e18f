/* Transaction manager fees without a network: eth_feeHistory parsing
 * (anvil's and geth's reply shapes, bad replies), the median reward,
 * EIP-1559 pricing with floor and cap, replacement raises rounded up in
 * exact u256 arithmetic (checked against 128-bit arithmetic on random
 * values), bumps at and below the cap, misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/txm.h"
#include "tests/support/check.h"

#define GWEI 1000000000ull

/* Parse `json` as a fee history result. Returns: the parse result. */
static int
parse(struct txm_fee_history *h, const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    int rc;

    assert_non_null(doc);
    rc = txm_fee_history_parse(h, doc);
    cJSON_Delete(doc);
    return rc;
}

static struct txm_fee_history *
hist_new(void)
{
    return calloc(1, sizeof(struct txm_fee_history));
}

/* ---- parsing ---- */

static void
test_parse_anvil_reply(void **state)
{
    /* Captured from anvil 1.7.1 after raising the next base fee: blocks
     * 0 and 2 are empty, so only block 1's reward counts. */
    struct txm_fee_history *h = hist_new();

    (void)state;
    assert_int_equal(
        parse(h,
              "{\"baseFeePerGas\":[\"0x3b9aca00\",\"0x3b9aca00\","
              "\"0x174876e800\",\"0x145f680b00\"],\"gasUsedRatio\":[0.0,"
              "0.0073452,0.0],\"baseFeePerBlobGas\":[\"0x1\",\"0x1\",\"0x1\","
              "\"0x1\"],\"blobGasUsedRatio\":[0.0,0.0,0.0],\"oldestBlock\":"
              "\"0x0\",\"reward\":[[\"0x0\"],[\"0x1\"],[\"0x0\"]]}"),
        0);
    assert_int_equal(h->oldest_block, 0);
    assert_int_equal(h->nblocks, 3);
    ts_assert_u256_is(&h->base_next, 0x145f680b00ull);
    assert_int_equal(h->nrewards, 1);
    ts_assert_u256_is(&h->rewards[0], 1);
    free(h);
}

static void
test_parse_geth_reply(void **state)
{
    /* The example reply of the eth_feeHistory specification shape, five
     * blocks with two percentiles (only the first one is used). */
    struct txm_fee_history *h = hist_new();
    struct u256 med;

    (void)state;
    assert_int_equal(
        parse(h, "{\"oldestBlock\":\"0x1312d00\",\"reward\":[[\"0x4a817c7ee\","
                 "\"0x4a817c7ee\"],[\"0x773593f0\",\"0x773593f0\"],[\"0x0\","
                 "\"0x0\"],[\"0x773593f5\",\"0x773bae75\"],[\"0x59682f00\","
                 "\"0x59682f00\"]],\"baseFeePerGas\":[\"0x12\",\"0x10\","
                 "\"0x10\",\"0xe\",\"0xd\",\"0xf\"],\"gasUsedRatio\":[0.026,"
                 "0.463,0.4,0.042,0.84]}"),
        0);
    assert_int_equal(h->oldest_block, 0x1312d00);
    assert_int_equal(h->nblocks, 5);
    ts_assert_u256_is(&h->base_next, 0xf);
    assert_int_equal(h->nrewards, 5);
    ts_assert_u256_is(&h->rewards[0], 0x4a817c7eeull);
    /* sorted: 0, 1.5e9, 1999999984, 1999999989, 19999999982 */
    txm_fee_median_reward(&med, h);
    ts_assert_u256_is(&med, 0x773593f0ull);
    free(h);
}

static void
test_parse_without_rewards(void **state)
{
    struct txm_fee_history *h = hist_new();
    struct u256 med;

    (void)state;
    /* No percentiles asked: no reward member, or null. */
    assert_int_equal(parse(h, "{\"oldestBlock\":\"0x5\",\"baseFeePerGas\":"
                              "[\"0x7\",\"0x8\"],\"gasUsedRatio\":[0.5]}"),
                     0);
    assert_int_equal(h->nblocks, 1);
    assert_int_equal(h->nrewards, 0);
    ts_assert_u256_is(&h->base_next, 8);
    txm_fee_median_reward(&med, h);
    ts_assert_u256_is(&med, 0);
    assert_int_equal(parse(h, "{\"oldestBlock\":\"0x5\",\"baseFeePerGas\":"
                              "[\"0x7\",\"0x9\"],\"gasUsedRatio\":[0.5],"
                              "\"reward\":null}"),
                     0);
    ts_assert_u256_is(&h->base_next, 9);
    /* Some servers give n base fees, not n + 1. */
    assert_int_equal(parse(h, "{\"oldestBlock\":\"0x5\",\"baseFeePerGas\":"
                              "[\"0x7\",\"0x9\"],\"gasUsedRatio\":[0.5,0.1],"
                              "\"reward\":[[\"0x1\"],[\"0x3\"]]}"),
                     0);
    ts_assert_u256_is(&h->base_next, 9);
    assert_int_equal(h->nrewards, 2);
    free(h);
}

static void
test_parse_bad_replies(void **state)
{
    static const struct {
        const char *json;
        int rc;
    } bad[] = {
        {"[]", KP_EINVAL},
        {"\"0x1\"", KP_EINVAL},
        {"{}", KP_EINVAL},
        /* no oldestBlock */
        {"{\"baseFeePerGas\":[\"0x1\",\"0x2\"],\"gasUsedRatio\":[0.1]}",
         KP_EINVAL},
        /* base fee count neither n nor n + 1 */
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\",\"0x3\"]"
         ",\"gasUsedRatio\":[0.1]}",
         KP_EINVAL},
        /* a quantity that is decimal, a number, empty, or not hex */
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"12\",\"0x2\"],"
         "\"gasUsedRatio\":[0.1]}",
         KP_EINVAL},
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[1,\"0x2\"],"
         "\"gasUsedRatio\":[0.1]}",
         KP_EINVAL},
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x\",\"0x2\"],"
         "\"gasUsedRatio\":[0.1]}",
         KP_EINVAL},
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0xzz\",\"0x2\"],"
         "\"gasUsedRatio\":[0.1]}",
         KP_EINVAL},
        /* 2^256 */
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x1000000000"
         "000000000000000000000000000000000000000000000000000000000\"],"
         "\"gasUsedRatio\":[0.1]}",
         KP_EOVERFLOW},
        /* oldestBlock beyond 64 bits */
        {"{\"oldestBlock\":\"0x10000000000000000\",\"baseFeePerGas\":[\"0x1\","
         "\"0x2\"],\"gasUsedRatio\":[0.1]}",
         KP_EINVAL},
        /* reward and ratio counts disagree; an empty reward entry; a ratio
         * that is not a number; reward not an array */
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\"],"
         "\"gasUsedRatio\":[0.1],\"reward\":[[\"0x1\"],[\"0x1\"]]}",
         KP_EINVAL},
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\"],"
         "\"gasUsedRatio\":[0.1],\"reward\":[[]]}",
         KP_EINVAL},
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\"],"
         "\"gasUsedRatio\":[\"x\"],\"reward\":[[\"0x1\"]]}",
         KP_EINVAL},
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[\"0x1\",\"0x2\"],"
         "\"gasUsedRatio\":[0.1],\"reward\":{}}",
         KP_EINVAL},
        {"{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[],\"gasUsedRatio\":[]}",
         KP_EINVAL},
    };
    struct txm_fee_history *h = hist_new();

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int rc = parse(h, bad[i].json);

        if (rc != bad[i].rc)
            fail_msg("case %zu: got %d want %d", i, rc, bad[i].rc);
    }
    free(h);
}

static void
test_parse_block_cap(void **state)
{
    struct txm_fee_history *h = hist_new();
    char *json = malloc(64 * 1024);
    size_t n;

    (void)state;
    for (int blocks = TXM_FEE_BLOCKS_MAX; blocks <= TXM_FEE_BLOCKS_MAX + 1;
         blocks++) {
        n = (size_t)sprintf(json,
                            "{\"oldestBlock\":\"0x1\",\"baseFeePerGas\":[");
        for (int i = 0; i <= blocks; i++)
            n += (size_t)sprintf(json + n, "%s\"0x%x\"", i ? "," : "", i + 1);
        n += (size_t)sprintf(json + n, "],\"gasUsedRatio\":[");
        for (int i = 0; i < blocks; i++)
            n += (size_t)sprintf(json + n, "%s0.5", i ? "," : "");
        n += (size_t)sprintf(json + n, "],\"reward\":[");
        for (int i = 0; i < blocks; i++)
            n += (size_t)sprintf(json + n, "%s[\"0x%x\"]", i ? "," : "", i);
        sprintf(json + n, "]}");
        if (blocks == TXM_FEE_BLOCKS_MAX) {
            assert_int_equal(parse(h, json), 0);
            assert_int_equal(h->nrewards, TXM_FEE_BLOCKS_MAX);
            ts_assert_u256_is(&h->base_next, TXM_FEE_BLOCKS_MAX + 1);
        } else {
            assert_int_equal(parse(h, json), KP_ELIMIT);
        }
    }
    free(json);
    free(h);
}

/* ---- median ---- */

static void
test_median(void **state)
{
    struct txm_fee_history *h = hist_new();
    struct u256 med, want;

    (void)state;
    h->nrewards = 3;
    h->rewards[0] = ts_u256(9);
    h->rewards[1] = ts_u256(1);
    h->rewards[2] = ts_u256(5);
    txm_fee_median_reward(&med, h);
    ts_assert_u256_is(&med, 5);
    /* Even count: between the middle two, rounded up. */
    h->nrewards = 2;
    h->rewards[0] = ts_u256(4);
    h->rewards[1] = ts_u256(1);
    txm_fee_median_reward(&med, h);
    ts_assert_u256_is(&med, 3);
    h->rewards[0] = ts_u256(2);
    h->rewards[1] = ts_u256(4);
    txm_fee_median_reward(&med, h);
    ts_assert_u256_is(&med, 3);
    /* No overflow at the top of the range. */
    h->rewards[0] =
        ts_u256_parse("0xfffffffffffffffffffffffffffffffffffffffffffffffff"
                      "ffffffffffffffe");
    h->rewards[1] =
        ts_u256_parse("0xfffffffffffffffffffffffffffffffffffffffffffffffff"
                      "fffffffffffffff");
    txm_fee_median_reward(&med, h);
    want = h->rewards[1];
    ts_assert_u256_equal(&med, &want);
    free(h);
}

/* ---- pricing ---- */

static struct txm_fee_cfg
cfg(uint64_t cap, uint64_t floor)
{
    struct txm_fee_cfg c = {.max_fee = ts_u256(cap),
                            .priority_fee = ts_u256(floor),
                            .base_mult = 2,
                            .bump_bps = 1250};

    return c;
}

static struct txm_fee_history *
hist(uint64_t base_next, uint64_t reward)
{
    struct txm_fee_history *h = hist_new();

    h->nblocks = 1;
    h->base_next = ts_u256(base_next);
    h->nrewards = 1;
    h->rewards[0] = ts_u256(reward);
    return h;
}

static void
test_price(void **state)
{
    struct txm_fee_history *h = hist(10 * GWEI, 2 * GWEI);
    struct txm_fee_cfg c = cfg(500 * GWEI, 1 * GWEI);
    struct txm_fees f;
    unsigned flags;

    (void)state;
    /* The median reward is above the floor. */
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), 0);
    assert_int_equal(flags, 0);
    ts_assert_u256_is(&f.max_priority_fee, 2 * GWEI);
    ts_assert_u256_is(&f.max_fee, 22 * GWEI);
    /* The floor is above the median. */
    c.priority_fee = ts_u256(3 * GWEI);
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), 0);
    ts_assert_u256_is(&f.max_priority_fee, 3 * GWEI);
    ts_assert_u256_is(&f.max_fee, 23 * GWEI);
    /* Another multiplier. */
    c.base_mult = 3;
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), 0);
    ts_assert_u256_is(&f.max_fee, 33 * GWEI);
    /* Capped, still above the base fee. */
    c = cfg(15 * GWEI, 1 * GWEI);
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), 0);
    assert_int_equal(flags, TXM_FEE_F_CAPPED);
    ts_assert_u256_is(&f.max_fee, 15 * GWEI);
    ts_assert_u256_is(&f.max_priority_fee, 2 * GWEI);
    /* Cap below the next base fee: sent at the cap, flagged; the tip is
     * cut to the cap as well. */
    c = cfg(1500000000ull, 1 * GWEI);
    h->rewards[0] = ts_u256(4 * GWEI);
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), 0);
    assert_int_equal(flags, TXM_FEE_F_CAPPED | TXM_FEE_F_BELOW_BASE);
    ts_assert_u256_is(&f.max_fee, 1500000000ull);
    ts_assert_u256_is(&f.max_priority_fee, 1500000000ull);
    free(h);
}

static void
test_price_overflow_and_misuse(void **state)
{
    struct txm_fee_history *h = hist(0, 0);
    struct txm_fee_cfg c = cfg(7, 1);
    struct txm_fees f;
    unsigned flags;

    (void)state;
    /* 2 x 2^255 overflows: counts as over the cap, never wraps. */
    h->base_next =
        ts_u256_parse("0x8000000000000000000000000000000000000000000000000"
                      "000000000000000");
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), 0);
    assert_int_equal(flags, TXM_FEE_F_CAPPED | TXM_FEE_F_BELOW_BASE);
    ts_assert_u256_is(&f.max_fee, 7);
    ts_assert_u256_is(&f.max_priority_fee, 1);
    /* 2 x (2^255 - 1) + tip overflows in the addition. */
    h->base_next =
        ts_u256_parse("0x7fffffffffffffffffffffffffffffffffffffffffffffffff"
                      "ffffffffffffff");
    c.priority_fee = ts_u256(2);
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), 0);
    ts_assert_u256_is(&f.max_fee, 7);
    assert_true(flags & TXM_FEE_F_CAPPED);
    /* Misuse. */
    c.max_fee = ts_u256(0);
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), KP_EINVAL);
    c = cfg(7, 1);
    c.base_mult = 0;
    assert_int_equal(txm_fees_price(&f, &flags, h, &c), KP_EINVAL);
    free(h);
}

/* ---- raises ---- */

static void
test_raise_vectors(void **state)
{
    static const struct {
        uint64_t x;
        uint32_t bps;
        uint64_t want;
    } v[] = {
        {0, 1250, 1},     /* at least one wei more */
        {1, 1250, 2},     /* 1.125 rounds up */
        {7, 1250, 8},     /* 7.875 -> 8 */
        {8, 1250, 9},     /* exact */
        {100, 1250, 113}, /* 112.5 -> 113 */
        {16, 1250, 18},
        {10001, 1300, 11302}, /* 11301.3 -> 11302 */
        {1000000000, 1250, 1125000000},
        {1000000001, 1250, 1125000002}, /* 1125000001.125 -> ...002 */
        {3, 10000, 6},                  /* doubling */
        {UINT64_MAX, 1250, 0},          /* checked below: beyond 64 bits */
    };
    struct u256 r, x, want;

    (void)state;
    for (size_t i = 0; i + 1 < sizeof(v) / sizeof(*v); i++) {
        x = ts_u256(v[i].x);
        assert_int_equal(txm_fee_raise(&r, &x, v[i].bps), 0);
        ts_assert_u256_is(&r, v[i].want);
    }
    /* (2^64 - 1) x 1.125 = 2^64 + 2^61 - 1.125 -> 2^64 + 2^61 - 1 */
    x = ts_u256(UINT64_MAX);
    assert_int_equal(txm_fee_raise(&r, &x, 1250), 0);
    want = ts_u256_parse("0x11fffffffffffffff");
    ts_assert_u256_equal(&r, &want);
    /* 2^200 + 1 -> 2^200 + 1 + ceil((2^200 + 1) / 8) = 2^200 + 2^197 + 2 */
    x = ts_u256_parse("0x100000000000000000000000000000000000000000000000001");
    want =
        ts_u256_parse("0x120000000000000000000000000000000000000000000000002");
    assert_int_equal(txm_fee_raise(&r, &x, 1250), 0);
    ts_assert_u256_equal(&r, &want);
    /* Overflow: no u256 is 12.5% above these. */
    x = ts_u256_parse(
        "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "ffff");
    assert_int_equal(txm_fee_raise(&r, &x, 1250), KP_EOVERFLOW);
    x = ts_u256_parse(
        "0xf000000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(txm_fee_raise(&r, &x, 1250), KP_EOVERFLOW);
    /* Just fits: floor((2^256 - 1) x 8 / 9) x 9 / 8 rounds up to the top;
     * one more overflows. */
    x = ts_u256_parse(
        "0xe38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38d");
    assert_int_equal(txm_fee_raise(&r, &x, 1250), 0);
    want = ts_u256_parse(
        "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    ts_assert_u256_equal(&r, &want);
    x = ts_u256_parse(
        "0xe38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e38e");
    assert_int_equal(txm_fee_raise(&r, &x, 1250), KP_EOVERFLOW);
}

/* Against 128-bit arithmetic on random 64-bit values (fixed seed). */
static void
test_raise_random(void **state)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        uint64_t x, lo, hi;
        uint32_t bps;
        unsigned __int128 want;
        struct u256 r, ux, w;

        ts_xorshift64(&s);
        x = (i % 3 == 0) ? s % 1000000 : s;
        bps = 1250 + (uint32_t)((s >> 40) % 20000);
        want = ((unsigned __int128)x * (10000u + bps) + 9999) / 10000;
        if (want <= x)
            want = (unsigned __int128)x + 1;
        ux = ts_u256(x);
        assert_int_equal(txm_fee_raise(&r, &ux, bps), 0);
        lo = (uint64_t)want;
        hi = (uint64_t)(want >> 64);
        w.w[0] = lo;
        w.w[1] = hi;
        w.w[2] = w.w[3] = 0;
        ts_assert_u256_equal(&r, &w);
    }
}

/* ---- bumps ---- */

static struct txm_fees
fees(uint64_t max_fee, uint64_t tip)
{
    struct txm_fees f = {.max_fee = ts_u256(max_fee),
                         .max_priority_fee = ts_u256(tip)};

    return f;
}

static void
test_bump(void **state)
{
    struct txm_fees prev = fees(100, 10), market, out;
    struct txm_fee_cfg c = cfg(1000, 1);

    (void)state;
    /* Both raised by 12.5%, rounded up. */
    assert_int_equal(txm_fees_bump(&out, &prev, NULL, &c), 0);
    ts_assert_u256_is(&out.max_fee, 113);
    ts_assert_u256_is(&out.max_priority_fee, 12);
    /* The market is higher: take it. */
    market = fees(200, 20);
    assert_int_equal(txm_fees_bump(&out, &prev, &market, &c), 0);
    ts_assert_u256_is(&out.max_fee, 200);
    ts_assert_u256_is(&out.max_priority_fee, 20);
    /* The market is lower: the minimum raise still applies. */
    market = fees(50, 1);
    assert_int_equal(txm_fees_bump(&out, &prev, &market, &c), 0);
    ts_assert_u256_is(&out.max_fee, 113);
    ts_assert_u256_is(&out.max_priority_fee, 12);
    /* Market above the cap: cut to the cap. */
    c = cfg(150, 1);
    market = fees(400, 20);
    assert_int_equal(txm_fees_bump(&out, &prev, &market, &c), 0);
    ts_assert_u256_is(&out.max_fee, 150);
    ts_assert_u256_is(&out.max_priority_fee, 20);
    /* A market tip above the new maxFee is cut to it. */
    market = fees(0, 400);
    assert_int_equal(txm_fees_bump(&out, &prev, &market, &c), 0);
    ts_assert_u256_is(&out.max_fee, 113);
    ts_assert_u256_is(&out.max_priority_fee, 113);
    /* Exactly at the cap is allowed. */
    c = cfg(113, 1);
    assert_int_equal(txm_fees_bump(&out, &prev, NULL, &c), 0);
    ts_assert_u256_is(&out.max_fee, 113);
    /* One wei short: at cap, out is prev. */
    c = cfg(112, 1);
    assert_int_equal(txm_fees_bump(&out, &prev, &market, &c), KP_ELIMIT);
    ts_assert_u256_is(&out.max_fee, 100);
    ts_assert_u256_is(&out.max_priority_fee, 10);
    /* A bigger configured bump. */
    c = cfg(1000, 1);
    c.bump_bps = 5000;
    assert_int_equal(txm_fees_bump(&out, &prev, NULL, &c), 0);
    ts_assert_u256_is(&out.max_fee, 150);
    ts_assert_u256_is(&out.max_priority_fee, 15);
}

static void
test_bump_until_cap(void **state)
{
    struct txm_fees prev = fees(GWEI, GWEI / 10), out;
    struct txm_fee_cfg c = cfg(50 * GWEI, 1);
    int steps = 0, rc;

    (void)state;
    while ((rc = txm_fees_bump(&out, &prev, NULL, &c)) == 0) {
        struct u256 min;

        /* Each step at least 12.5% up on both fees, never above the cap. */
        txm_fee_raise(&min, &prev.max_fee, 1250);
        assert_true(u256_cmp(&out.max_fee, &min) >= 0);
        txm_fee_raise(&min, &prev.max_priority_fee, 1250);
        assert_true(u256_cmp(&out.max_priority_fee, &min) >= 0);
        assert_true(u256_cmp(&out.max_fee, &c.max_fee) <= 0);
        assert_true(u256_cmp(&out.max_priority_fee, &out.max_fee) <= 0);
        prev = out;
        steps++;
        assert_true(steps < 100);
    }
    assert_int_equal(rc, KP_ELIMIT);
    /* 1.125^33 = 48.6 and 1.125^34 = 54.7 (with rounding up). */
    assert_int_equal(steps, 33);
}

static void
test_bump_misuse(void **state)
{
    struct txm_fees prev = fees(100, 10), out;
    struct txm_fee_cfg c = cfg(1000, 1);

    (void)state;
    c.bump_bps = 1249; /* nodes want >= 10%; we promise 12.5% */
    assert_int_equal(txm_fees_bump(&out, &prev, NULL, &c), KP_EINVAL);
    c = cfg(0, 1);
    assert_int_equal(txm_fees_bump(&out, &prev, NULL, &c), KP_EINVAL);
    /* Fees at the top of the range: at cap, not a wrapped small value. */
    c = cfg(1000, 1);
    prev.max_fee =
        ts_u256_parse("0xfffffffffffffffffffffffffffffffffffffffffffffffff"
                      "fffffffffffffff");
    c.max_fee = prev.max_fee;
    assert_int_equal(txm_fees_bump(&out, &prev, NULL, &c), KP_ELIMIT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_anvil_reply),
        cmocka_unit_test(test_parse_geth_reply),
        cmocka_unit_test(test_parse_without_rewards),
        cmocka_unit_test(test_parse_bad_replies),
        cmocka_unit_test(test_parse_block_cap),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_price),
        cmocka_unit_test(test_price_overflow_and_misuse),
        cmocka_unit_test(test_raise_vectors),
        cmocka_unit_test(test_raise_random),
        cmocka_unit_test(test_bump),
        cmocka_unit_test(test_bump_until_cap),
        cmocka_unit_test(test_bump_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
