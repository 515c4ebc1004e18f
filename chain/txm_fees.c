/*
 * txm_fees.c - EIP-1559 pricing for the transaction manager: parse
 * eth_feeHistory, choose fees, raise them for a replacement. Exact u256
 * arithmetic throughout; anything that would overflow counts as "above
 * the cap", never as a wrapped small number.
 */
#include "chain/txm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"

#define BPS 10000u

/* A JSON-RPC quantity: "0x" then 1..64 hex digits. */
static int
quantity_u256(struct u256 *r, const cJSON *v)
{
    const char *s;
    size_t len;

    if (!cJSON_IsString(v) || !v->valuestring)
        return KP_EINVAL;
    s = v->valuestring;
    len = strlen(s);
    if (len < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return KP_EINVAL;
    return u256_parse(r, s, len);
}

/* Parse baseFeePerGas: nblocks or nblocks + 1 entries (the last is the
 * next block's, when given; otherwise the newest block's stands in). */
static int
parse_base_fees(struct txm_fee_history *h, const cJSON *arr, size_t nblocks)
{
    int n, rc;

    if (!cJSON_IsArray(arr))
        return KP_EINVAL;
    n = cJSON_GetArraySize(arr);
    if (n < 1 || ((size_t)n != nblocks && (size_t)n != nblocks + 1))
        return KP_EINVAL;
    for (const cJSON *e = arr->child; e; e = e->next)
        if ((rc = quantity_u256(&h->base_next, e)) != 0)
            return rc;
    return 0;
}

/* Collect the first-percentile reward of each block whose gas used
 * ratio is above zero (empty blocks carry no information about tips). */
static int
parse_rewards(struct txm_fee_history *h, const cJSON *rewards,
              const cJSON *ratios)
{
    const cJSON *r = rewards->child, *q = ratios ? ratios->child : NULL;
    int rc;

    for (; r; r = r->next, q = q ? q->next : NULL) {
        if (!cJSON_IsArray(r) || !r->child)
            return KP_EINVAL;
        if (q && !cJSON_IsNumber(q))
            return KP_EINVAL;
        if (q && !(q->valuedouble > 0))
            continue;
        if ((rc = quantity_u256(&h->rewards[h->nrewards], r->child)) != 0)
            return rc;
        h->nrewards++;
    }
    return 0;
}

/* Block count: from gasUsedRatio, else reward, else baseFeePerGas - 1. */
static int
history_count(size_t *n, const cJSON *ratios, const cJSON *rewards,
              const cJSON *base)
{
    int k;

    if (ratios && !cJSON_IsArray(ratios))
        return KP_EINVAL;
    if (rewards && !cJSON_IsArray(rewards))
        return KP_EINVAL;
    if (ratios)
        k = cJSON_GetArraySize(ratios);
    else if (rewards)
        k = cJSON_GetArraySize(rewards);
    else if (cJSON_IsArray(base))
        k = cJSON_GetArraySize(base) - 1;
    else
        return KP_EINVAL;
    if (k < 0)
        return KP_EINVAL;
    if (k > TXM_FEE_BLOCKS_MAX)
        return KP_ELIMIT;
    if (ratios && rewards && cJSON_GetArraySize(rewards) != k)
        return KP_EINVAL;
    *n = (size_t)k;
    return 0;
}

int
txm_fee_history_parse(struct txm_fee_history *h, const cJSON *result)
{
    const cJSON *base, *ratios, *rewards;
    struct u256 oldest;
    int rc;

    assert(h);
    memset(h, 0, sizeof(*h));
    if (!cJSON_IsObject(result))
        return KP_EINVAL;
    base = cJSON_GetObjectItemCaseSensitive(result, "baseFeePerGas");
    ratios = cJSON_GetObjectItemCaseSensitive(result, "gasUsedRatio");
    rewards = cJSON_GetObjectItemCaseSensitive(result, "reward");
    if (cJSON_IsNull(rewards))
        rewards = NULL;
    if ((rc = history_count(&h->nblocks, ratios, rewards, base)) != 0)
        return rc;
    if ((rc = quantity_u256(&oldest, cJSON_GetObjectItemCaseSensitive(
                                         result, "oldestBlock"))) != 0)
        return rc;
    if (u256_to_u64(&h->oldest_block, &oldest) != 0)
        return KP_EINVAL;
    if ((rc = parse_base_fees(h, base, h->nblocks)) != 0)
        return rc;
    if (rewards && (rc = parse_rewards(h, rewards, ratios)) != 0)
        return rc;
    return 0;
}

static int
u256_qcmp(const void *a, const void *b)
{
    return u256_cmp(a, b);
}

void
txm_fee_median_reward(struct u256 *r, const struct txm_fee_history *h)
{
    struct u256 v[TXM_FEE_BLOCKS_MAX], d;
    size_t n;

    assert(r && h && h->nrewards <= TXM_FEE_BLOCKS_MAX);
    n = h->nrewards;
    if (n == 0) {
        u256_from_u64(r, 0);
        return;
    }
    memcpy(v, h->rewards, n * sizeof(*v));
    qsort(v, n, sizeof(*v), u256_qcmp);
    *r = v[n / 2];
    if (n % 2)
        return;
    /* Between the two middle values, rounded up: a + ceil((b - a) / 2),
     * which cannot overflow since the result is at most b. */
    u256_sub(&d, &v[n / 2], &v[n / 2 - 1]);
    u256_add_u64(&d, &d, 1);
    u256_shr(&d, &d, 1);
    u256_add(r, &v[n / 2 - 1], &d);
}

static const struct u256 *
u256_max(const struct u256 *a, const struct u256 *b)
{
    return u256_cmp(a, b) >= 0 ? a : b;
}

/* Limit `x` to `cap`. Returns: whether it was cut. */
static bool
clamp(struct u256 *x, const struct u256 *cap)
{
    if (u256_cmp(x, cap) <= 0)
        return false;
    *x = *cap;
    return true;
}

int
txm_fees_price(struct txm_fees *out, unsigned *flags,
               const struct txm_fee_history *h, const struct txm_fee_cfg *cfg)
{
    struct u256 median, fee;
    bool over;

    assert(out && flags && h && cfg);
    *flags = 0;
    if (u256_is_zero(&cfg->max_fee) || cfg->base_mult == 0)
        return KP_EINVAL;
    txm_fee_median_reward(&median, h);
    out->max_priority_fee = *u256_max(&cfg->priority_fee, &median);
    over = u256_mul_u64(&fee, &h->base_next, cfg->base_mult) != 0 ||
           u256_add(&fee, &fee, &out->max_priority_fee) != 0;
    out->max_fee = over ? cfg->max_fee : fee;
    if (clamp(&out->max_fee, &cfg->max_fee) || over)
        *flags |= TXM_FEE_F_CAPPED;
    if (clamp(&out->max_priority_fee, &out->max_fee))
        *flags |= TXM_FEE_F_CAPPED;
    if (u256_cmp(&cfg->max_fee, &h->base_next) < 0)
        *flags |= TXM_FEE_F_BELOW_BASE;
    return 0;
}

int
txm_fee_raise(struct u256 *r, const struct u256 *x, uint32_t bps)
{
    struct u256 d, q, rem, part, plus1;
    uint64_t small;

    assert(r && x);
    /* x * bps / BPS exactly: with x = q * BPS + rem, it is
     * q * bps + rem * bps / BPS, and rem * bps fits in 64 bits. */
    u256_from_u64(&d, BPS);
    u256_divmod(&q, &rem, x, &d);
    u256_to_u64(&small, &rem);
    small *= bps;
    if (u256_mul_u64(&part, &q, bps) != 0 ||
        u256_add_u64(&part, &part, small / BPS + (small % BPS != 0)) != 0 ||
        u256_add(r, x, &part) != 0)
        return KP_EOVERFLOW;
    if (u256_add_u64(&plus1, x, 1) != 0)
        return KP_EOVERFLOW;
    *r = *u256_max(r, &plus1);
    return 0;
}

int
txm_fees_bump(struct txm_fees *out, const struct txm_fees *prev,
              const struct txm_fees *market, const struct txm_fee_cfg *cfg)
{
    struct txm_fees min, next;

    assert(out && prev && cfg);
    if (cfg->bump_bps < TXM_MIN_BUMP_BPS || u256_is_zero(&cfg->max_fee))
        return KP_EINVAL;
    if (txm_fee_raise(&min.max_fee, &prev->max_fee, cfg->bump_bps) != 0 ||
        txm_fee_raise(&min.max_priority_fee, &prev->max_priority_fee,
                      cfg->bump_bps) != 0 ||
        u256_cmp(&min.max_fee, &cfg->max_fee) > 0 ||
        u256_cmp(&min.max_priority_fee, &min.max_fee) > 0)
        goto at_cap;
    next = min;
    if (market) {
        next.max_fee = *u256_max(&min.max_fee, &market->max_fee);
        next.max_priority_fee =
            *u256_max(&min.max_priority_fee, &market->max_priority_fee);
    }
    clamp(&next.max_fee, &cfg->max_fee);
    clamp(&next.max_priority_fee, &next.max_fee);
    *out = next;
    return 0;
at_cap:
    *out = *prev;
    return KP_ELIMIT;
}
