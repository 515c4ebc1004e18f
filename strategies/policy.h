/*
 * policy.h - the tier policy: (state snapshot, price, config, memory of
 * what was already done) → a tier, alert conditions and intents.
 *
 * No I/O. policy_decide is deterministic: the same inputs and memory give
 * the same decision. The memory is plain data the caller keeps (and may
 * persist); the decision records its intents there, and the caller
 * reports each intent's end with policy_note_outcome.
 *
 * Tiers (DESIGN "Tier model"), judged on every evaluation:
 *   T3 clawback  reserve < depletion and uncovered debt > 0
 *   T2 backstop  reserve < critical, or health < t2_health, or
 *                (hysteresis) an episode is open and reserve < target
 *   amber        health < amber_health
 *   T1 ok        otherwise
 * An episode opens when the tier first reaches T2 or T3 and closes when
 * it falls back to amber or T1, i.e. once reserve >= target (and the
 * other T2 conditions are gone). So a reserve between critical and
 * target is NOT acted on from T1 (no action there), but an injection
 * that started below critical continues up to the target.
 *
 * Actions, only on a fresh price (a stale or missing price yields no
 * intent at all, only an alert condition; the tier and episode are still
 * judged from the chain state, so /status and tier alerts stay true):
 *   inject    in T2 and T3 while reserve < on-chain target:
 *             amount = effective_target − reserve (+ uncovered debt when
 *             inject_covers_debt: the reference ReserveFund settles debt
 *             out of any inflow first), where effective_target = target ·
 *             volatility loading (>= target). Capped by the pool's
 *             available capital, the remaining epoch budget and
 *             inject_max; nothing below min_inject.
 *   clawback  in T3 only when the pool cannot inject (capped amount below
 *             min_inject because the pool or the epoch budget is empty) and
 *             no injection is in flight or cooling down: never while the
 *             backstop can still cover. amount = uncovered debt, capped by
 *             the known positive PnL and clawback_max.
 * One condition yields one action: a decided intent stays "in flight" in
 * the memory until policy_note_outcome; no second intent of that action
 * is decided while one is in flight, nor within its cooldown after the
 * outcome. The epoch budget counts decided injections (a failed one is
 * refunded to the epoch it was charged to) and resets when
 * floor(now / epoch_s) changes.
 *
 * Idempotency key of an intent: "<protocol>:<action>:<episode>:<seq>",
 * episode = the block number at which the episode opened (forced to grow
 * if blocks repeat), seq = 1, 2, ... per action within the episode. It is
 * stable for one decision and never reused by another within a memory's
 * life; the transaction manager journals by it.
 */
#ifndef KP_STRATEGIES_POLICY_H
#define KP_STRATEGIES_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/u256.h"
#include "oracle/price.h"
#include "strategies/risk.h"
#include "strategies/state.h"

#define POLICY_PROTOCOL_MAX 64 /* protocol id, NUL included */
#define POLICY_KEY_MAX 128     /* idempotency key, NUL included */
#define POLICY_REASON_MAX 256  /* reason text, NUL included */
#define POLICY_INTENTS_MAX 2

enum policy_tier {
    POLICY_TIER_T1 = 0,    /* ok: reserve fund covers, watch health  */
    POLICY_TIER_AMBER = 1, /* health below amber: warn               */
    POLICY_TIER_T2 = 2,    /* backstop: inject from the pool         */
    POLICY_TIER_T3 = 3,    /* clawback: haircut positive PnL         */
};

enum policy_action {
    POLICY_ACTION_INJECT = 0,
    POLICY_ACTION_CLAWBACK = 1,
    POLICY_ACTION_COUNT
};

/* Alert conditions (bits of policy_decision.alerts). Tier changes are
 * reported separately (policy_decision.tier_changed). */
enum policy_alert {
    POLICY_ALERT_NO_PRICE = 1u << 0,         /* no price from the source yet */
    POLICY_ALERT_STALE_PRICE = 1u << 1,      /* publish time too old/future  */
    POLICY_ALERT_POOL_EMPTY = 1u << 2,       /* backstop needed, pool empty  */
    POLICY_ALERT_BUDGET_EXHAUSTED = 1u << 3, /* epoch budget spent      */
    POLICY_ALERT_NO_PNL = 1u << 4,    /* clawback needed, no positive PnL */
    POLICY_ALERT_BAD_STATE = 1u << 5, /* snapshot failed validation     */
    POLICY_ALERT_APPROVAL = 1u << 6,  /* clawback awaits human approval */
};
#define POLICY_ALERT_COUNT 7

enum policy_outcome {
    POLICY_OUTCOME_CONFIRMED, /* mined and succeeded: amount spent      */
    POLICY_OUTCOME_FAILED,    /* reverted, dropped, rejected: refunded  */
};

struct policy_params {
    char protocol[POLICY_PROTOCOL_MAX]; /* [A-Za-z0-9_.-]+, in keys     */
    struct risk_params risk;
    uint64_t price_max_age_s;     /* default 3600 (a Chainlink heartbeat) */
    double amber_health;          /* default 1.5                          */
    double t2_health;             /* default 1.0; 0 disables              */
    uint64_t epoch_s;             /* budget epoch, default 86400          */
    struct u256 epoch_budget;     /* inject per epoch, default unlimited  */
    struct u256 inject_max;       /* per intent, default unlimited        */
    struct u256 min_inject;       /* smaller is not worth a tx, default 1 */
    uint64_t inject_cooldown_s;   /* default 60                      */
    struct u256 clawback_max;     /* per intent, default unlimited    */
    uint64_t clawback_cooldown_s; /* default 300                     */
    bool clawback_needs_approval; /* default false                   */
    bool inject_covers_debt;      /* default true                    */
    double vol_beta; /* loading exponent β, default 1; 0 disables      */
    double vol_cap;  /* largest loading factor, default 2              */
};

/* What the price side knows. */
struct price_view {
    const struct oracle_price *price; /* NULL: no price yet              */
    double sigma_ewma;                /* daily σ; <= 0 or NaN: unknown   */
    double sigma_long;                /* long-run daily σ, same          */
};

struct policy_action_mem {
    bool in_flight;           /* decided, outcome not yet reported       */
    char key[POLICY_KEY_MAX]; /* of the in-flight (or last) intent       */
    struct u256 amount;       /* of the in-flight intent                 */
    uint64_t epoch;           /* epoch its amount was charged to         */
    uint64_t decided_at;
    bool has_done;
    uint64_t done_at; /* when the last outcome was reported            */
    uint32_t seq;     /* intents of this action in the current episode */
};

struct policy_memory {
    enum policy_tier tier;
    bool in_episode;
    uint64_t episode; /* block number the current/last episode opened */
    uint64_t epoch;   /* floor(now / epoch_s) of the budget below      */
    struct u256 epoch_spent;
    struct policy_action_mem act[POLICY_ACTION_COUNT];
};

struct policy_intent {
    enum policy_action action;
    struct u256 amount; /* token base units, exact */
    char key[POLICY_KEY_MAX];
    bool needs_approval; /* hold until a human approves */
};

/* The inputs a decision used, for logs, metrics and /status. */
struct policy_inputs {
    uint64_t now;
    uint64_t block_number;
    uint64_t block_timestamp;
    unsigned decimals;
    struct u256 reserve, target, effective_target, critical, depletion;
    struct u256 uncovered_debt, open_interest, pool_available;
    bool has_positive_pnl;
    struct u256 positive_pnl;
    uint64_t epoch;
    struct u256 budget_left; /* before this decision's intents */
    bool has_price;
    bool price_stale;
    double price;
    uint64_t price_updated_at;
    uint64_t price_age;
    double sigma_ewma, sigma_long, loading;
    struct risk_metrics risk;
};

struct policy_decision {
    enum policy_tier tier;
    enum policy_tier prev_tier;
    bool tier_changed;
    bool in_episode;
    uint64_t episode;
    uint32_t alerts; /* enum policy_alert bits */
    size_t n_intents;
    struct policy_intent intents[POLICY_INTENTS_MAX];
    char reason[POLICY_REASON_MAX];
    struct policy_inputs in;
};

/* Out: p (the defaults above; protocol "default") */
void policy_params_default(struct policy_params *p);
/* Returns: 0, or KP_ECONFIG (protocol id empty, too long or with other
 * characters; thresholds not finite or amber < t2; epoch_s 0; min_inject
 * 0; vol_beta < 0 or > 4; vol_cap < 1 or > RISK_LOADING_MAX; bad risk
 * params). */
int policy_params_check(const struct policy_params *p);

/* Out: m (tier T1, no episode, nothing in flight) */
void policy_memory_init(struct policy_memory *m);

/* Decide at `now` (unix seconds) for snapshot `s` and price `pv`.
 * Records the decided intents in `mem` (in flight, budget charged) and
 * the tier and episode.
 * Returns: 0 (d filled; it may hold no intent), KP_ECONFIG (bad params:
 *          nothing decided, mem untouched), or the error of
 *          protocol_state_check (d holds the BAD_STATE alert, the previous
 *          tier and no intent; mem untouched).
 * Out: d   In/out: mem   In: p, s, pv (NULL = no price), now */
int policy_decide(struct policy_decision *d, struct policy_memory *mem,
                  const struct policy_params *p, const struct protocol_state *s,
                  const struct price_view *pv, uint64_t now);

/* Report the end of the in-flight intent with idempotency key `key`.
 * FAILED refunds an injection's amount to the epoch budget it was charged
 * to (if that epoch is still current). The action's cooldown starts now.
 * Returns: 0, or KP_ENOTFOUND (no intent with that key is in flight).
 * In/out: mem   In: key, outcome, now */
int policy_note_outcome(struct policy_memory *mem, const char *key,
                        enum policy_outcome outcome, uint64_t now);

/* Static names ("T1", "amber", "T2", "T3"; "inject", "clawback";
 * "no_price", "stale_price", ...). Unknown values give "unknown". */
const char *policy_tier_name(enum policy_tier t);
const char *policy_action_name(enum policy_action a);
/* Name of one alert bit. */
const char *policy_alert_name(enum policy_alert a);

/* One key=value line (no newline) describing the decision: tier, inputs,
 * alerts, intents and the quoted reason. Amounts in token units, exact.
 * Returns: 0, or KP_ERANGE (cap too small; out holds a truncated line).
 * Out: out (NUL-terminated)   In: d */
int policy_decision_format(char *out, size_t cap,
                           const struct policy_decision *d);
/* "action=inject amount=1.5 key=... approval=0"
 * Returns: 0 or KP_ERANGE.   Out: out   In: it, decimals */
int policy_intent_format(char *out, size_t cap, const struct policy_intent *it,
                         unsigned decimals);

#endif
