/*
 * evaluate.h - one evaluation of a protocol's solvency, the parts without
 * I/O: the view calls prepared from the configuration, their replies
 * decoded into a struct protocol_state, the policy parameters mapped from
 * the configuration, the calldata of an action, and the /status rendering
 * of an evaluation and of an action.
 *
 * The daemon (eval_rt.c) sends the seven reserve.calls and the signer's
 * eth_getBalance in one JSON-RPC batch, every call pinned at the same
 * block number, then decodes each reply with the functions here. Nothing
 * here knows about the loop, so the mapping is tested with canned replies.
 *
 * Amounts stay exact (struct u256, the reserve token's base units) up to
 * /status, where they are rendered as decimal strings of base units.
 */
#ifndef KP_KEEPER_EVALUATE_H
#define KP_KEEPER_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "chain/abi.h"
#include "chain/address.h"
#include "chain/txm.h"
#include "chain/u256.h"
#include "config/cfg.h"
#include "strategies/policy.h"
#include "strategies/state.h"

/* The view calls of one evaluation, in batch order. */
enum eval_read {
    EVAL_READ_BALANCE = 0,   /* reserve: balance()                  */
    EVAL_READ_TARGET,        /* reserve: targetBalance()            */
    EVAL_READ_CRITICAL,      /* reserve: criticalThreshold()        */
    EVAL_READ_DEPLETION,     /* reserve: depletionThreshold()       */
    EVAL_READ_UNCOVERED,     /* reserve: uncoveredDebt()            */
    EVAL_READ_OPEN_INTEREST, /* clearinghouse: openInterest()       */
    EVAL_READ_BACKSTOP,      /* backstop pool: available()          */
    EVAL_NREADS
};

#define EVAL_PARAMS_MAX 192  /* JSON params of one call, with NUL */
#define EVAL_REPLY_MAX 1024  /* bytes of return data accepted per read */
#define EVAL_CALLDATA_MAX 68 /* an action's calldata: selector + word */
#define EVAL_ERR_MAX 192     /* one-line error texts, with NUL */
#define EVAL_ACTION_REASON_MAX 192

/* The calls prepared once per configuration. Large (parsed signatures):
 * keep it on the heap. */
struct eval_calls {
    struct eth_addr read_to[EVAL_NREADS];
    struct abi_sig read_sig[EVAL_NREADS];
    struct eth_addr act_to[POLICY_ACTION_COUNT];
    struct abi_sig act_sig[POLICY_ACTION_COUNT];
    bool act_enabled[POLICY_ACTION_COUNT];
};

/* Returns: the config key of read r ("balance", "target", "critical",
 * "depletion", "uncovered_debt", "open_interest", "backstop_available"),
 * "?" otherwise. */
const char *eval_read_name(enum eval_read r);

/* Parse the configured signatures (reserve.calls.*, strategies.inject.call
 * on the backstop pool, strategies.clawback.call on the clearinghouse).
 * The loader already checked their shape; this checks again, since a
 * view call must take no input and return one uintN, and an action take
 * one uintN.
 * Returns: 0, or KP_EINVAL with one line in err naming the key.
 * Out: c, err   In: pc */
int eval_calls_init(struct eval_calls *c, char *err, size_t errcap,
                    const struct cfg_protocol *pc);

/* The eth_call params of read r at `block`:
 * [{"to":"0x..","data":"0x<selector>"},"0x<block>"].
 * Returns: 0, or KP_ERANGE (cap too small).
 * Out: out   In: c, r, block */
int eval_read_params(char *out, size_t cap, const struct eval_calls *c,
                     enum eval_read r, uint64_t block);

/* The eth_getBalance params of `who` at `block`.
 * Returns: 0, or KP_ERANGE.   Out: out   In: who, block */
int eval_balance_params(char *out, size_t cap, const struct eth_addr *who,
                        uint64_t block);

/* Decode the eth_call result of read r (a "0x..." string) with its
 * signature's output.
 * Returns: 0; KP_EINVAL (not a hex string, or empty: no contract at the
 *          address), KP_ELIMIT (over EVAL_REPLY_MAX bytes), or the
 *          decoder's error (KP_ETRUNC, KP_ENONCANON); err says which read.
 * Out: *out, err   In: c, r, result */
int eval_decode_read(struct u256 *out, char *err, size_t errcap,
                     const struct eval_calls *c, enum eval_read r,
                     const cJSON *result);

/* Decode an eth_getBalance result (a quantity, up to 256 bits).
 * Returns: 0, KP_EINVAL (not a quantity), KP_EOVERFLOW.
 * Out: *out   In: result */
int eval_decode_balance(struct u256 *out, const cJSON *result);

/* Fill a snapshot from the decoded reads (no positions: the risk engine
 * then uses its open-interest proxy).
 * Out: s   In: v, decimals, block, hash, timestamp */
void eval_state_build(struct protocol_state *s,
                      const struct u256 v[EVAL_NREADS], unsigned decimals,
                      uint64_t block, const uint8_t hash[32],
                      uint64_t timestamp);

/* Map the configuration to policy parameters:
 *   protocol             protocol.name
 *   risk.stress_move     strategies.stress_move
 *   risk.margin_bps      0: the proxy assumes no margin left (safe side)
 *   price_max_age_s      the first oracle's max_age (rounded down)
 *   amber_health         strategies.amber_health
 *   t2_health            0: T2 only when the reserve is below critical.
 *                        Health is, for now, the open-interest proxy of
 *                        risk.h, which charges both sides of the book a
 *                        full stress move: for the reference protocol
 *                        (50 M open interest against a 1.6 M reserve in
 *                        a calm market) it sits far below 1, so a health
 *                        trigger would inject in a calm market. Health
 *                        drives the amber warning only, until the ES99
 *                        health replaces the proxy.
 *   epoch_s, epoch_budget, inject_cooldown_s   strategies.inject.* (a
 *                        disabled inject gets a zero budget)
 *   clawback_cooldown_s, clawback_needs_approval  strategies.clawback.*
 * Cooldowns are rounded up to whole seconds, ages down.
 * Returns: 0, or KP_ECONFIG (policy_params_check refused the result).
 * Out: pp   In: pc */
int eval_policy_params(struct policy_params *pp, const struct cfg_protocol *pc);

/* Calldata of action a with `amount` (selector + one uintN word).
 * Returns: 0; KP_ERANGE (amount does not fit the input type, or cap too
 *          small: *len then holds the size needed).
 * Out: out, *len   In: c, a, amount */
int eval_action_calldata(uint8_t *out, size_t cap, size_t *len,
                         const struct eval_calls *c, enum policy_action a,
                         const struct u256 *amount);

/* ---- what /status shows ---- */

/* One evaluation as it was decided. */
struct eval_record {
    uint64_t time; /* the decision's clock, unix seconds */
    struct policy_decision d;
    char asset[CFG_ASSET_MAX]; /* of the price used; "" without oracle */
    bool has_price;
    double price;
    const char *price_state; /* "fresh", "stale", "none" (static) */
    uint64_t price_updated_at;
};

/* An action (an intent handed to the transaction manager) and its latest
 * state. */
struct eval_action {
    char key[POLICY_KEY_MAX];
    enum policy_action action;
    struct u256 amount; /* token base units */
    enum txm_state state;
    bool has_tx;
    uint8_t tx_hash[32];
    bool has_block;
    uint64_t block; /* mined in (final states with a receipt) */
    char reason[EVAL_ACTION_REASON_MAX];
};

/* {"block","time","reserve","target","critical","depletion",
 *  "uncovered_debt","open_interest","backstop_available","decimals",
 *  "health" (null when infinite),"tier","price":{"asset","value","state",
 *  "updated_at"},"decision":{"action","amount","reason","key"}}
 * Amounts are decimal strings of base units; "action" is "none" (amount
 * "0", key "") when nothing was decided.
 * Returns: a new object (out of memory is fatal).   In: r */
cJSON *eval_record_json(const struct eval_record *r);

/* {"key","action","amount","state","tx_hash" (null before one is known),
 *  "block" (null before a receipt),"reason"}.
 * Returns: a new object.   In: a */
cJSON *eval_action_json(const struct eval_action *a);

#endif
