/* Arbitrary bytes into the transaction manager's fee code:
 *   - the input as an eth_feeHistory result: what parses is priced and
 *     bumped; prices never pass the cap, tips never pass maxFee, bumps
 *     raise both fees by >= 12.5% or report the cap;
 *   - the first 32 bytes as a fee x and the next 2 as a bump: the raise
 *     is floor or ceil of x * (10000 + bps) / 10000 (u256_muldiv, an
 *     independent route), or x + 1, and never below x + 1.
 * Traps on any violation; the sanitizers catch the rest. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/err.h"
#include "chain/txm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct txm_fee_history hist;

static void
check_bump(const struct txm_fees *prev, const struct txm_fee_cfg *cfg)
{
    struct txm_fees out;
    struct u256 min;
    int rc = txm_fees_bump(&out, prev, NULL, cfg);

    if (rc == KP_ELIMIT) {
        if (memcmp(&out, prev, sizeof(out)) != 0)
            __builtin_trap();
        return;
    }
    if (rc != 0 || u256_cmp(&out.max_fee, &cfg->max_fee) > 0 ||
        u256_cmp(&out.max_priority_fee, &out.max_fee) > 0)
        __builtin_trap();
    if (txm_fee_raise(&min, &prev->max_fee, cfg->bump_bps) != 0 ||
        u256_cmp(&out.max_fee, &min) < 0)
        __builtin_trap();
    if (txm_fee_raise(&min, &prev->max_priority_fee, cfg->bump_bps) != 0 ||
        u256_cmp(&out.max_priority_fee, &min) < 0)
        __builtin_trap();
}

static void
check_history(const uint8_t *data, size_t size)
{
    struct txm_fee_cfg cfg = {.base_mult = 2, .bump_bps = TXM_MIN_BUMP_BPS};
    struct txm_fees f;
    unsigned flags;
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);

    if (!doc)
        return;
    if (txm_fee_history_parse(&hist, doc) == 0) {
        if (hist.nrewards > hist.nblocks || hist.nblocks > TXM_FEE_BLOCKS_MAX)
            __builtin_trap();
        u256_from_u64(&cfg.max_fee, 500000000000ull);
        u256_from_u64(&cfg.priority_fee, 1000000000ull);
        if (txm_fees_price(&f, &flags, &hist, &cfg) != 0 ||
            u256_cmp(&f.max_fee, &cfg.max_fee) > 0 ||
            u256_cmp(&f.max_priority_fee, &f.max_fee) > 0 ||
            ((flags & TXM_FEE_F_BELOW_BASE) != 0) !=
                (u256_cmp(&cfg.max_fee, &hist.base_next) < 0))
            __builtin_trap();
        check_bump(&f, &cfg);
    }
    cJSON_Delete(doc);
}

static void
check_raise(const uint8_t *data, size_t size)
{
    struct u256 x, r, q, k, d, plus1;
    uint32_t bps;

    if (size < 34)
        return;
    u256_from_be(&x, data, 32);
    bps = (uint32_t)data[32] << 8 | data[33];
    u256_from_u64(&k, 10000u + bps);
    u256_from_u64(&d, 10000u);
    if (txm_fee_raise(&r, &x, bps) != 0) {
        /* Only when the true result does not fit. */
        if (u256_muldiv(&q, &x, &k, &d) == 0 && u256_add_u64(&q, &q, 1) == 0 &&
            u256_add_u64(&plus1, &x, 1) == 0 && bps > 0)
            __builtin_trap();
        return;
    }
    if (u256_muldiv(&q, &x, &k, &d) != 0 || u256_add_u64(&plus1, &x, 1) != 0)
        __builtin_trap();
    if (u256_cmp(&r, &plus1) < 0 || u256_cmp(&r, &q) < 0)
        __builtin_trap();
    u256_add_u64(&q, &q, 1);
    if (u256_cmp(&r, &q) > 0 && u256_cmp(&r, &plus1) != 0)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_history(data, size);
    check_raise(data, size);
    return 0;
}
