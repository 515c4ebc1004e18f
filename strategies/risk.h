/*
 * risk.h - risk metrics of a protocol state snapshot.
 *
 * Exact integers for distances and amounts; doubles for estimates
 * (shortfall under stress, ratios, volatility), each rounded toward
 * safety: a shortfall is rounded up, a reserve down, so a ratio is never
 * flattered by rounding.
 *
 * Shortfall under a stress move m (a relative price move, both ways):
 *
 *   with positions (size s, entry E, margin M, mark P):
 *     shortfall(±) = Σ max(0, −(M + s·(P·(1 ± m) − E)))
 *     shortfall    = max(shortfall(+), shortfall(−))
 *
 *   without positions (the reference protocol's keeper view), the proxy
 *     shortfall ≈ OI · max(0, m − f)
 *   where OI is the open interest (both sides) and f the margin fraction
 *   every open position is assumed to still hold (per unit notional).
 *   Why it is conservative: a position that has not been liquidated holds
 *   equity ≥ maintenance margin · notional, so after a move m it owes at
 *   most notional · (m − maintenance); and only one side loses on a
 *   move, yet the proxy charges both. With f = the protocol's maintenance
 *   margin it is an upper bound; f = 0 (the default) assumes nothing.
 *   The move m should include slippage and the keeper's reaction delay.
 *
 * First solvency ratio = reserve / shortfall (+∞ when the shortfall is 0).
 * Health H is that ratio for now (ES99 of the shortfall later).
 * Volatility loading: target = base · max(1, σ_EWMA / σ_long)^β, capped.
 * Clawback haircut: h = amount / Σ positive PnL.
 */
#ifndef KP_STRATEGIES_RISK_H
#define KP_STRATEGIES_RISK_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/u256.h"
#include "strategies/state.h"

#define RISK_BPS 10000u
#define RISK_LOADING_MAX 100.0 /* largest volatility loading factor */

struct risk_params {
    uint32_t stress_move_bps; /* m, 1..10000; default 1000 (10%)        */
    uint32_t margin_bps;      /* f, 0..10000, < m to matter; default 0   */
};

struct risk_metrics {
    /* Exact distances |reserve − level| in token base units, with the
     * side: below_x means reserve < x. */
    struct u256 to_target, to_critical, to_depletion;
    bool below_target, below_critical, below_depletion;
    bool has_debt; /* uncovered_debt > 0 */

    double reserve;   /* token units, rounded down                   */
    double shortfall; /* token units under the stress move, rounded up */
    bool shortfall_from_positions;
    double solvency; /* reserve / shortfall, +inf when shortfall == 0  */
    double health;   /* = solvency (first version)                     */
    /* uncovered_debt / positive PnL: 0 without debt, NaN when the PnL is
     * unknown, +inf when it is zero (a clawback cannot cover anything). */
    double haircut;
};

/* Out: p (defaults above) */
void risk_params_default(struct risk_params *p);
/* Returns: 0, or KP_ECONFIG (stress move 0 or > 100%, margin > 100%). */
int risk_params_check(const struct risk_params *p);

/* Exact distance from `reserve` to `level`.
 * Out: *dist = |reserve − level|, *below = reserve < level
 * In: reserve, level */
void risk_distance(struct u256 *dist, bool *below, const struct u256 *reserve,
                   const struct u256 *level);

/* The open-interest proxy above, in token units, rounded up.
 * In: open_interest (base units), decimals, p */
double risk_shortfall_proxy(const struct u256 *open_interest, unsigned decimals,
                            const struct risk_params *p);

/* The position formula above, in token units, rounded up.
 * Returns: 0, KP_EINVAL (mark price not finite and positive, or the
 *          state's decimals out of range).
 * Out: *shortfall   In: s (positions, decimals), mark, p */
int risk_shortfall_positions(double *shortfall, const struct protocol_state *s,
                             double mark, const struct risk_params *p);

/* reserve / shortfall; +inf when shortfall <= 0, 0 when reserve <= 0
 * and shortfall > 0; NaN inputs give 0 (unknown counts as unhealthy). */
double risk_solvency_ratio(double reserve, double shortfall);

/* The volatility loading factor max(1, σ_ewma/σ_long)^β, at most `cap`.
 * Unknown volatility (σ not finite or <= 0), β <= 0 or a bad cap give 1:
 * no loading without evidence. */
double risk_vol_loading(double sigma_ewma, double sigma_long, double beta,
                        double cap);

/* base · factor, exactly: the factor is first rounded up to a multiple of
 * 1e-6, then the product is rounded up (toward a larger reserve).
 * Returns: 0, KP_EINVAL (factor not finite, < 1 or > RISK_LOADING_MAX),
 *          KP_EOVERFLOW (product >= 2^256; *out then 2^256 − 1).
 * Out: out   In: base, factor */
int risk_loaded_target(struct u256 *out, const struct u256 *base,
                       double factor);

/* The clawback haircut as exact basis points of positive PnL, rounded up
 * (as the reference Clearinghouse reports it): ceil(amount·10^4 / pnl).
 * Returns: 0, KP_EINVAL (pnl == 0), KP_ERANGE (amount > pnl: the PnL
 *          cannot cover it; *bps then 10000).
 * Out: *bps   In: amount, positive_pnl */
int risk_haircut_bps(uint32_t *bps, const struct u256 *amount,
                     const struct u256 *positive_pnl);

/* Everything above for one snapshot. `mark` is the current price (only
 * used with positions; <= 0 or NaN: unknown, then the proxy is used).
 * Returns: 0, or the error of protocol_state_check / risk_params_check
 *          (KP_ECONFIG); *m is then zeroed with health 0.
 * Out: m   In: p, s, mark */
int risk_evaluate(struct risk_metrics *m, const struct risk_params *p,
                  const struct protocol_state *s, double mark);

#endif
