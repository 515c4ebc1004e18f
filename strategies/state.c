/* state.c - protocol state snapshot validation. */
#include "strategies/state.h"

#include <assert.h>
#include <string.h>

#include "chain/err.h"

void
protocol_state_init(struct protocol_state *s)
{
    assert(s != NULL);
    memset(s, 0, sizeof(*s));
    s->decimals = 6;
    s->size_decimals = 18;
    s->price_decimals = 8;
}

int
protocol_state_check(const struct protocol_state *s)
{
    assert(s != NULL);
    if (s->decimals > STATE_DECIMALS_MAX ||
        s->size_decimals > STATE_DECIMALS_MAX ||
        s->price_decimals > STATE_DECIMALS_MAX)
        return KP_ERANGE;
    if (u256_is_zero(&s->target))
        return KP_EINVAL;
    /* The reference ReserveFund enforces this order; a reader that
     * returns anything else read the wrong contract or the wrong slot. */
    if (u256_cmp(&s->depletion, &s->critical) > 0 ||
        u256_cmp(&s->critical, &s->target) > 0)
        return KP_EINVAL;
    if ((s->positions == NULL) != (s->n_positions == 0))
        return KP_EINVAL;
    if (s->n_positions > STATE_POSITIONS_MAX)
        return KP_ELIMIT;
    return 0;
}
