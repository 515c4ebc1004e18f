/*
 * state.h - one snapshot of a protocol's solvency state, read at one
 * pinned block.
 *
 * Every amount is an exact integer in the reserve token's base units
 * (6 decimals for the reference protocol's USD), as the chain returns it.
 * The snapshot is plain data filled by the reader (keeper/); the risk
 * engine and the tier policy only read it.
 *
 * Positions are optional: the reference protocol does not list them to
 * the keeper cheaply, so the first solvency ratio falls back to a proxy
 * built from open interest (see strategies/risk.h).
 */
#ifndef KP_STRATEGIES_STATE_H
#define KP_STRATEGIES_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/u256.h"

#define STATE_DECIMALS_MAX 36
#define STATE_POSITIONS_MAX 4096

/* One open position, as far as the keeper knows it. */
struct position {
    struct u256 size;        /* signed (two's complement), > 0 long, base
                                asset units scaled by 10^size_decimals   */
    struct u256 entry_price; /* quote per base, 10^price_decimals        */
    struct u256 margin;      /* token base units (net of haircuts)       */
};

struct protocol_state {
    /* Where the snapshot was read. */
    uint64_t block_number;
    uint8_t block_hash[32];
    uint64_t block_timestamp; /* unix seconds */

    unsigned decimals; /* of the reserve token, <= STATE_DECIMALS_MAX */

    /* ReserveFund: balance(), targetBalance(), criticalThreshold(),
     * depletionThreshold(), uncoveredDebt(). Required order:
     * depletion <= critical <= target, target > 0. */
    struct u256 reserve;
    struct u256 target;
    struct u256 critical;
    struct u256 depletion;
    struct u256 uncovered_debt;

    /* Clearinghouse openInterest(): notional of both sides, token units. */
    struct u256 open_interest;
    /* BackstopPool available(): what an injection can move now. */
    struct u256 pool_available;

    /* Clearinghouse totalPositivePnl(): what a clawback can take.
     * has_positive_pnl false: unknown (no cap from it). */
    bool has_positive_pnl;
    struct u256 positive_pnl;

    /* Optional positions (not owned). n_positions == 0 with
     * positions == NULL: unknown, use the open-interest proxy. */
    const struct position *positions;
    size_t n_positions;
    unsigned size_decimals;  /* of position.size, <= STATE_DECIMALS_MAX  */
    unsigned price_decimals; /* of entry_price, <= STATE_DECIMALS_MAX    */
};

/* A zeroed snapshot: token decimals 6, size decimals 18, price decimals 8,
 * no positions.   Out: s */
void protocol_state_init(struct protocol_state *s);

/* Validate a snapshot read from the chain (its values are outside input).
 * Returns: 0, KP_EINVAL (thresholds out of order, target zero, positions
 *          pointer and count disagree), KP_ERANGE (decimals too large),
 *          KP_ELIMIT (more than STATE_POSITIONS_MAX positions).
 * In: s */
int protocol_state_check(const struct protocol_state *s);

#endif
