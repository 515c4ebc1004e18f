/* price.c - oracle observations and the staleness rule. */
#include "oracle/price.h"

#include <assert.h>
#include <string.h>

#include "chain/err.h"

int
oracle_price_init(struct oracle_price *p, const struct u256 *answer,
                  unsigned decimals, uint64_t updated_at,
                  const struct u256 *round_id)
{
    assert(p != NULL && answer != NULL);
    memset(p, 0, sizeof(*p));
    if (decimals > ORACLE_DECIMALS_MAX)
        return KP_ERANGE;
    if (u256_is_zero(answer) || u256_is_neg(answer) || updated_at == 0)
        return KP_EINVAL;
    p->answer = *answer;
    p->decimals = (uint8_t)decimals;
    p->value = u256_to_units_double(answer, decimals);
    p->updated_at = updated_at;
    if (round_id != NULL)
        p->round_id = *round_id;
    return 0;
}

uint64_t
oracle_price_age(const struct oracle_price *p, uint64_t now)
{
    assert(p != NULL);
    return now > p->updated_at ? now - p->updated_at : 0;
}

bool
oracle_price_is_stale(const struct oracle_price *p, uint64_t now,
                      uint64_t max_age)
{
    assert(p != NULL);
    if (p->updated_at == 0)
        return true;
    if (p->updated_at <= now)
        return now - p->updated_at > max_age;
    return p->updated_at - now > max_age;
}
