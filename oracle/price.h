/*
 * price.h - one oracle observation, and the staleness rule.
 *
 * A price carries two renderings of the same number:
 *   answer    the source's exact integer (a Chainlink `int256 answer`,
 *             known positive here), scaled by 10^decimals. This is what an
 *             amount computation or a log line uses.
 *   value     answer / 10^decimals as a double, for risk estimates only
 *             (returns, volatility, stress moves). Never used for an
 *             on-chain amount.
 * The time is the source's own publish time (Chainlink `updatedAt`, Pyth
 * `publish_time`), never the time we received it: a feed that stopped
 * updating must look old even if its last message arrived a moment ago.
 */
#ifndef KP_ORACLE_PRICE_H
#define KP_ORACLE_PRICE_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/u256.h"

/* Chainlink feeds use 8 or 18 decimals; more than this is a broken feed
 * (and 10^36 is still exact enough in a double for the risk side). */
#define ORACLE_DECIMALS_MAX 36

struct oracle_price {
    struct u256 answer;  /* > 0, scaled by 10^decimals                  */
    uint8_t decimals;    /* <= ORACLE_DECIMALS_MAX                      */
    double value;        /* answer / 10^decimals, risk estimates only    */
    uint64_t updated_at; /* source publish time, unix seconds            */
    /* Source round (Chainlink uint80 roundId: phase << 64 | round), zero
     * when the source has no rounds (Pyth, generic feeds). */
    struct u256 round_id;
};

/* Build a price from a source's raw answer.
 * `answer` is two's complement (an ABI int256): zero and negative answers
 * are refused, as is a publish time of 0 (Chainlink's "round not
 * complete").
 * Returns: 0, KP_EINVAL (answer <= 0, updated_at == 0),
 *          KP_ERANGE (decimals > ORACLE_DECIMALS_MAX).
 * Out: p   In: answer, decimals, updated_at, round_id (NULL = no round) */
int oracle_price_init(struct oracle_price *p, const struct u256 *answer,
                      unsigned decimals, uint64_t updated_at,
                      const struct u256 *round_id);

/* Age of `p` at `now` in seconds; 0 when the publish time is in the
 * future (see oracle_price_is_stale for how that is judged). */
uint64_t oracle_price_age(const struct oracle_price *p, uint64_t now);

/* Whether `p` must not be acted on at `now` (unix seconds).
 * Stale when the publish time is more than `max_age` seconds before `now`,
 * and also when it is more than `max_age` seconds *after* `now`: a price
 * from the future means our clock or the source is wrong, and neither is
 * a basis for sending a transaction. A zero publish time is stale.
 * max_age == 0 accepts only a publish time equal to `now`. */
bool oracle_price_is_stale(const struct oracle_price *p, uint64_t now,
                           uint64_t max_age);

#endif
