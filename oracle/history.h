/*
 * history.h - a per-asset price history (bounded ring buffer) and its
 * EWMA volatility estimates.
 *
 * Variance model (RiskMetrics, extended to irregular ticks). For each new
 * observation with log return r = ln(P_t / P_{t-1}) over dt seconds:
 *
 *     λ_dt  = λ^(dt / D)                       D = 86400 s, λ per day
 *     σ²_t  = λ_dt · σ²_{t-1} + (1 − λ_dt) · r² · (D / dt)
 *
 * The r² · (D/dt) factor turns one return over dt into an estimate of the
 * one-day variance, so σ² stays a *daily* variance whatever the tick
 * spacing; with one tick per day it is exactly RiskMetrics' recursion.
 * For small dt, (1 − λ_dt)·D/dt → −ln λ, so a burst of closely spaced
 * ticks contributes its realised variance, not a multiple of it.
 * The first return seeds σ² = r² · (D/dt).
 *
 * Two estimators run side by side on the same returns: the fast one
 * (λ = 0.94 by default) and a long-run one (λ = 0.995 by default), whose
 * ratio drives the volatility loading of the reserve target.
 *
 * Observations that are not newer than the last one (publish time not
 * increasing, or round id not increasing when both rounds are known) are
 * ignored, so that a price read twice (event plus heartbeat) counts once.
 */
#ifndef KP_ORACLE_HISTORY_H
#define KP_ORACLE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oracle/price.h"

#define ORACLE_HISTORY_CAP_MAX 65536 /* samples per asset */
#define ORACLE_SECONDS_PER_DAY 86400
#define ORACLE_DAYS_PER_YEAR 365 /* crypto markets trade every day */

struct oracle_history_params {
    size_t capacity;        /* 2 .. ORACLE_HISTORY_CAP_MAX, default 1024 */
    double lambda_day;      /* fast decay per day, (0, 1), default 0.94  */
    double lambda_long_day; /* long-run decay per day, default 0.995     */
    unsigned min_returns;   /* returns before σ is reported, default 10  */
};

struct oracle_ewma {
    double var; /* daily variance */
    double lambda_day;
};

struct oracle_history {
    struct oracle_price *ring; /* capacity slots, owned */
    size_t capacity;
    size_t head; /* slot of the next write */
    size_t len;  /* samples held, <= capacity */
    struct oracle_ewma fast, slow;
    uint64_t n_returns; /* returns folded into the estimators */
    unsigned min_returns;
    bool has_last;
    struct oracle_price last; /* newest accepted sample */
};

/* Out: p (the defaults above) */
void oracle_history_params_default(struct oracle_history_params *p);

/* Returns: 0, or KP_ECONFIG if a field is out of range (capacity, λ not
 * finite or not in (0, 1), long λ below the fast one).   In: p */
int oracle_history_params_check(const struct oracle_history_params *p);

/* Allocate the ring. Returns: 0, or KP_ECONFIG (bad params; h then holds
 * nothing and oracle_history_cleanup is still safe).
 * Out: h   In: p */
int oracle_history_init(struct oracle_history *h,
                        const struct oracle_history_params *p);
/* Free the ring; h may be re-initialised. Safe on a zeroed struct. */
void oracle_history_cleanup(struct oracle_history *h);

/* Record `p` and update both estimators.
 * Returns: 0 (recorded), KP_ESTALE (not newer than the last sample:
 *          ignored, nothing changed), KP_EINVAL (value not finite and
 *          positive, or zero publish time: ignored).
 * In: p */
int oracle_history_push(struct oracle_history *h, const struct oracle_price *p);

/* Samples held (at most the capacity). */
size_t oracle_history_len(const struct oracle_history *h);
/* The i-th sample, 0 = oldest held. Returns: NULL if i >= len. */
const struct oracle_price *oracle_history_at(const struct oracle_history *h,
                                             size_t i);
/* Returns: the newest sample, or NULL when empty. */
const struct oracle_price *
oracle_history_latest(const struct oracle_history *h);

/* Volatility (standard deviation of log returns), fast estimator, per day
 * and per year (√365 · daily).
 * Returns: 0, or KP_ESTATE before min_returns returns were seen (*sigma
 * then 0).   Out: *sigma */
int oracle_history_sigma_daily(const struct oracle_history *h, double *sigma);
int oracle_history_sigma_annual(const struct oracle_history *h, double *sigma);
/* The same for the long-run estimator. */
int oracle_history_sigma_long_daily(const struct oracle_history *h,
                                    double *sigma);
int oracle_history_sigma_long_annual(const struct oracle_history *h,
                                     double *sigma);

/* One step of the recursion above, exposed for tests and benchmarks.
 * Returns: the new daily variance. `seed` true: no prior variance, the
 * result is r²·D/dt.   In: var, lambda_day, r, dt (seconds, > 0) */
double oracle_ewma_step(double var, double lambda_day, double r, double dt,
                        bool seed);

#endif
