/*
 * txm.h - the transaction manager: turns intents into mined transactions
 * for one signer on one chain, on the libuv loop.
 *
 * An intent is one decision: an idempotency key, a call (to, calldata,
 * value) and a dry-run flag. For each one the manager
 *   1. refuses the key while an intent with it is live, or once a
 *      transaction of it was mined (never two transactions for one
 *      decision);
 *   2. simulates the call with eth_call from the signer's address (at
 *      "pending" by default); a revert is decoded (Error(string), Panic,
 *      the intent's custom errors) and reported as TXM_SIMULATED_REVERT,
 *      nothing is sent; a dry run stops here with TXM_DRY_RUN;
 *   3. estimates gas (eth_estimateGas) and adds gas_margin_bps;
 *   4. prices it EIP-1559 from eth_feeHistory: tip = max(priority_fee,
 *      median reward of the non-empty blocks), maxFee = base_mult x
 *      baseFee(next) + tip, both capped by max_fee. A cap below
 *      baseFee(next) still sends, at the cap, with a TXM_EV_FEE_BELOW_BASE
 *      warning: the transaction waits for the base fee to fall (a node
 *      that refuses such a transaction makes the intent fail with
 *      nothing sent);
 *   5. takes the nonce from eth_getTransactionCount(addr, "pending") once,
 *      then counts locally; one intent at a time goes from nonce to the
 *      node's answer to its first broadcast, so nonces stay contiguous;
 *   6. signs, hands the signed bytes to the journal hook (if any), and
 *      sends them with eth_sendRawTransaction. "already known" counts as
 *      sent; "nonce too low" resyncs the nonce and re-signs (only when no
 *      transaction of the intent was ever accepted); "replacement
 *      underpriced" on a first send means a foreign pending transaction
 *      holds the nonce: resync and re-sign. A send whose outcome is
 *      unknown (timeout, transport) counts as sent: the same bytes are
 *      broadcast again on the next head;
 *   7. polls receipts of every hash it sent on each new head (txm_on_head,
 *      or its own eth_blockNumber timer when poll_ms is set);
 *   8. after replace_after_blocks heads without a receipt, replaces the
 *      transaction at the same nonce with both fees raised by at least
 *      fee_bump_bps (>= 12.5%, rounded up, exact) or to the market price
 *      if higher, capped by max_fee. When even the minimum raise would
 *      pass the cap it stops bumping, reports TXM_EV_BUMP_AT_CAP once and
 *      keeps waiting (the same bytes are broadcast again every
 *      replace_after_blocks). A receipt for any hash of the intent ends
 *      it, after `confirmations` blocks. A node answering "nonce too low"
 *      while no receipt of the intent's hashes shows up within 3 heads
 *      means a foreign transaction took the nonce: the intent fails with
 *      KP_ESTATE and its key counts as done (the conservative side: a
 *      receipt missed on a lagging node must not become a second
 *      transaction).
 *
 * Failures before anything reached a node (simulation, estimate, fee
 * history, nonce, signing, journal, a node refusing the first send, e.g.
 * "insufficient funds") end with TXM_FAILED and report.sent false: the
 * key is free again. Once a node may hold a transaction, the intent ends
 * only with a receipt (or the nonce case above).
 *
 * Results go to the intent's callback (states below, several per intent,
 * the last one final); progress, warnings and reconciliations go to the
 * manager's event callback, for logs and alerts (chain/ does not log).
 * Callbacks run from the loop, never from inside txm_submit; they may
 * call txm_submit and txm_on_head, not txm_free.
 *
 * Crash safety: the journal hook (struct txm_opts) sees every newly
 * signed transaction before it is broadcast (key, nonce, hash, raw
 * bytes); when it fails, nothing is broadcast. txm_journal_* below is a
 * simple fsync'd append-only file that fits the hook.
 */
#ifndef KP_CHAIN_TXM_H
#define KP_CHAIN_TXM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "chain/abi.h"
#include "chain/address.h"
#include "chain/rpc.h"
#include "chain/signer.h"
#include "chain/u256.h"

struct txm;

#define TXM_KEY_MAX 128           /* idempotency key bytes, without NUL */
#define TXM_DATA_MAX (96u * 1024) /* calldata bytes */
#define TXM_MAX_ERRORS 8          /* custom error signatures per intent */
#define TXM_MAX_TXS 16            /* transactions per intent (1 + bumps) */
#define TXM_FEE_BLOCKS_MAX 128    /* eth_feeHistory blocks */
#define TXM_MIN_BUMP_BPS 1250     /* 12.5%: what nodes require, and more */
#define TXM_TEXT_MAX 256          /* report and event texts, with NUL */

/* What an intent's callback learns. TXM_SENT and TXM_REPLACED are
 * progress; the others are final (txm_state_is_final). */
enum txm_state {
    TXM_SIMULATED_REVERT = 1, /* the simulation reverted; nothing sent */
    TXM_DRY_RUN,              /* the simulation passed; nothing sent */
    TXM_SENT,                 /* first transaction accepted by a node
                                 (or its outcome unknown: text says so) */
    TXM_REPLACED,             /* a replacement accepted (same nonce) */
    TXM_CONFIRMED,            /* mined with status 1 */
    TXM_FAILED,               /* mined with status 0, or an error */
};

enum txm_severity {
    TXM_SEV_DEBUG = 0,
    TXM_SEV_INFO,
    TXM_SEV_WARN,
    TXM_SEV_ERROR,
};

/* Progress events, for logs and alerts. */
enum txm_event_kind {
    TXM_EV_SIMULATED = 1,  /* eth_call passed */
    TXM_EV_GAS,            /* gas estimated, limit chosen */
    TXM_EV_FEES,           /* fees chosen */
    TXM_EV_FEE_CAPPED,     /* maxFee limited by max_fee (warn) */
    TXM_EV_FEE_BELOW_BASE, /* max_fee below baseFee(next): sent at cap (warn) */
    TXM_EV_NONCE,          /* nonce assigned */
    TXM_EV_NONCE_RESYNC,   /* local nonce refetched from the node */
    TXM_EV_BROADCAST,      /* signed bytes sent (or sent again) */
    TXM_EV_RECONCILED,     /* "already known", "nonce too low", ... handled */
    TXM_EV_SEND_UNKNOWN,   /* send outcome unknown: will broadcast again */
    TXM_EV_BUMP_AT_CAP,    /* cannot raise fees under max_fee: waiting (warn) */
    TXM_EV_BUMP_REFUSED,   /* node refused a replacement (warn) */
    TXM_EV_RPC_ERROR,      /* a read failed; retried on the next head (warn) */
    TXM_EV_JOURNAL_FAILED, /* journal hook failed: not broadcast (error) */
    TXM_EV_MINED,          /* receipt seen, waiting for confirmations */
};

/* The outcome of an intent, or a step towards it. Borrowed for the
 * callback's duration. */
struct txm_report {
    const char *key;
    enum txm_state state;
    int err;          /* TXM_FAILED: KP_EREVERT (status 0) or the error;
                         TXM_SIMULATED_REVERT: KP_EREVERT; else 0 */
    const char *text; /* one line: decoded revert, error text; or "" */
    bool sent;        /* a transaction of the intent may be on a node */
    bool has_tx;      /* hash, nonce, gas and fees below are set */
    uint8_t hash[32]; /* SENT/REPLACED: the new one; final: the mined one */
    uint64_t nonce;
    uint64_t gas_limit;
    struct u256 max_fee;          /* of that transaction */
    struct u256 max_priority_fee; /* of that transaction */
    unsigned ntx;                 /* transactions signed for the intent */
    /* TXM_SIMULATED_REVERT with revert data; pointers into that data */
    const struct abi_revert *revert;
    /* receipt: TXM_CONFIRMED, and TXM_FAILED when mined */
    bool has_receipt;
    uint64_t block;
    uint64_t gas_used;
    struct u256 effective_gas_price;
    int status; /* receipt status: 1 or 0 */
};

typedef void (*txm_result_cb)(void *arg, const struct txm_report *r);

struct txm_event {
    const char *key; /* the intent, or NULL for the manager itself */
    enum txm_event_kind kind;
    enum txm_severity severity;
    const char *text; /* one line of key=value fields */
};

typedef void (*txm_event_cb)(void *arg, const struct txm_event *ev);

/* A transaction about to be broadcast for the first time. */
struct txm_journal_rec {
    const char *key;
    uint64_t nonce;
    uint8_t hash[32];
    const uint8_t *raw;
    size_t raw_len;
};

/* Make `r` durable before returning (it runs on the loop).
 * Returns: 0, or a KP_E* code: the transaction is then not broadcast. */
typedef int (*txm_journal_fn)(void *arg, const struct txm_journal_rec *r);

struct txm_intent {
    const char *key; /* 1..TXM_KEY_MAX printable ASCII bytes, no space,
                        quote or backslash */
    struct eth_addr to;
    const uint8_t *data; /* copied; may be NULL when data_len is 0 */
    size_t data_len;     /* <= TXM_DATA_MAX */
    struct u256 value;
    bool dry_run;
    /* custom error signatures to decode a revert with; copied */
    const struct abi_sig *errors;
    size_t nerrors; /* <= TXM_MAX_ERRORS */
    txm_result_cb cb;
    void *arg;
};

struct txm_opts {
    uint64_t chain_id;             /* 0: ask the node (eth_chainId) once */
    uint32_t gas_margin_bps;       /* added to the estimate (default 2000) */
    uint64_t gas_limit_max;        /* refuse above; 0: none (default 0) */
    struct u256 max_fee;           /* cap on maxFeePerGas; required */
    struct u256 priority_fee;      /* floor of the tip (default 1 gwei) */
    uint32_t base_fee_mult;        /* 1..100 (default 2) */
    uint32_t fee_history_blocks;   /* 1..TXM_FEE_BLOCKS_MAX (default 5) */
    uint32_t reward_percentile;    /* 0..100 (default 50) */
    uint32_t replace_after_blocks; /* >= 1 (default 3) */
    uint32_t fee_bump_bps;         /* >= TXM_MIN_BUMP_BPS (default 1250) */
    uint32_t confirmations;        /* >= 1 (default 1) */
    uint32_t poll_ms;              /* eth_blockNumber timer; 0: heads only
                                      from txm_on_head (default 0) */
    bool sim_latest;               /* simulate at "latest", not "pending" */
    size_t max_live;               /* live intents (default 64) */
    size_t max_done_keys;          /* keys remembered as done, oldest
                                      forgotten first (default 4096) */
    txm_event_cb on_event;         /* may be NULL */
    void *event_arg;
    txm_journal_fn journal; /* may be NULL */
    void *journal_arg;
};

/* What the manager knows of a key. */
enum txm_key_status {
    TXM_KEY_UNKNOWN = 0, /* never seen, or it ended without a mined tx */
    TXM_KEY_LIVE,        /* an intent with it is in progress */
    TXM_KEY_DONE,        /* a transaction of it was mined (or its
                            nonce was lost, see the top of the file) */
};

/* Fill `o` with the defaults above (max_fee zero: the caller sets it). */
void txm_opts_init(struct txm_opts *o);

/* Create a manager for `signer` over `rpc` on `loop` (all borrowed; they
 * must outlive it).
 * Returns: 0; KP_EINVAL for an option out of range or a zero max_fee.
 * Out: *out   In: loop, rpc, signer, o */
int txm_new(struct txm **out, uv_loop_t *loop, struct rpc_client *rpc,
            const struct signer *signer, const struct txm_opts *o);

/* Cancel the manager's calls and free it; live intents end without a
 * callback (their transactions may still be mined: the journal knows
 * them). NULL: no-op. Not from a txm callback. */
void txm_free(struct txm *m);

/* Start an intent. Its callback runs later from the loop.
 * Returns: 0; KP_ESTATE if the key is live or done; KP_EINVAL (bad key,
 *          NULL callback, too many errors); KP_ELIMIT (calldata over
 *          TXM_DATA_MAX, max_live intents live, or the RPC client full).
 * In: m, in (copied) */
int txm_submit(struct txm *m, const struct txm_intent *in);

/* Tell the manager a new head height (from the daemon's head stream).
 * Heights at or below the last one are ignored. */
void txm_on_head(struct txm *m, uint64_t number);

/* Returns: what the manager knows of `key`. */
enum txm_key_status txm_key_status(const struct txm *m, const char *key);

/* Returns: the number of live intents. */
size_t txm_live_count(const struct txm *m);

/* Returns: whether an RPC call of an intent or of the nonce queue is in
 * flight (false: everything live waits for a head). For tests and
 * orderly shutdown. */
bool txm_is_busy(const struct txm *m);

/* Returns: the signer's address. */
struct eth_addr txm_address(const struct txm *m);

/* Returns: whether `s` ends an intent. */
bool txm_state_is_final(enum txm_state s);

/* Returns: "simulated_revert", "dry_run", "sent", "replaced",
 * "confirmed", "failed" ("?" otherwise). */
const char *txm_state_name(enum txm_state s);

/* Returns: a short name of an event kind ("fees", "bump_at_cap", ...). */
const char *txm_event_name(enum txm_event_kind k);

/* How a node answered eth_sendRawTransaction with an error. */
enum txm_send_class {
    TXM_SEND_ERROR = 0,   /* anything else: the node refused it */
    TXM_SEND_KNOWN,       /* "already known": it has these bytes */
    TXM_SEND_NONCE_LOW,   /* "nonce too low": the nonce is used */
    TXM_SEND_UNDERPRICED, /* "replacement transaction underpriced" */
};

/* Classify an error message of eth_sendRawTransaction (geth, erigon,
 * nethermind, besu, reth and anvil wordings; case-insensitive).
 * Returns: the class.   In: msg (may be NULL) */
enum txm_send_class txm_send_classify(const char *msg);

/* ---- fees (txm_fees.c): pure, exact, no network ---- */

struct txm_fees {
    struct u256 max_fee;          /* maxFeePerGas */
    struct u256 max_priority_fee; /* maxPriorityFeePerGas */
};

/* What eth_feeHistory said, with one reward percentile. */
struct txm_fee_history {
    uint64_t oldest_block;
    size_t nblocks;
    struct u256 base_next; /* baseFeePerGas of the block after the last */
    size_t nrewards;       /* rewards of the non-empty blocks (gas used
                              ratio > 0, or all if no ratios given) */
    struct u256 rewards[TXM_FEE_BLOCKS_MAX];
};

struct txm_fee_cfg {
    struct u256 max_fee;      /* cap on maxFeePerGas (and the tip) */
    struct u256 priority_fee; /* floor of the tip */
    uint32_t base_mult;       /* maxFee = base_mult x baseFee(next) + tip */
    uint32_t bump_bps;        /* minimum raise of a replacement */
};

/* Flags of txm_fees_price. */
#define TXM_FEE_F_CAPPED 0x1u     /* maxFee (or the tip) cut to the cap */
#define TXM_FEE_F_BELOW_BASE 0x2u /* the cap is below baseFee(next) */

/* Parse an eth_feeHistory result: oldestBlock, baseFeePerGas (n or n+1
 * quantities; the last is baseFee(next)), gasUsedRatio (n numbers,
 * optional), reward (n arrays, optional; their first entry is used).
 * Returns: 0; KP_EINVAL (shape, a quantity that is not 0x-hex, counts
 *          that disagree); KP_ELIMIT (more than TXM_FEE_BLOCKS_MAX
 *          blocks); KP_EOVERFLOW (a quantity >= 2^256).
 * Out: h   In: result */
int txm_fee_history_parse(struct txm_fee_history *h, const cJSON *result);

/* The median of the rewards (upper half rounded up for an even count;
 * 0 when there are none).   Out: r   In: h */
void txm_fee_median_reward(struct u256 *r, const struct txm_fee_history *h);

/* Price a new transaction: tip = max(priority_fee, median reward),
 * maxFee = base_mult x baseFee(next) + tip; both at most max_fee (an
 * overflow counts as over the cap).
 * Returns: 0, or KP_EINVAL (max_fee zero, base_mult zero).
 * Out: out, *flags (TXM_FEE_F_*)   In: h, cfg */
int txm_fees_price(struct txm_fees *out, unsigned *flags,
                   const struct txm_fee_history *h,
                   const struct txm_fee_cfg *cfg);

/* ceil(x x (10000 + bps) / 10000), and at least x + 1: the smallest
 * value a replacement may use.
 * Returns: 0, or KP_EOVERFLOW (no such u256).   Out: r   In: x, bps */
int txm_fee_raise(struct u256 *r, const struct u256 *x, uint32_t bps);

/* Fees of a replacement of `prev`: each at least txm_fee_raise(prev,
 * bump_bps), or `market`'s if higher (market may be NULL), maxFee at most
 * max_fee, tip at most maxFee.
 * Returns: 0; KP_ELIMIT when the minimum raise of either fee would pass
 *          the cap (at cap: *out is then prev); KP_EINVAL (bump_bps
 *          below TXM_MIN_BUMP_BPS, max_fee zero).
 * Out: out   In: prev, market, cfg */
int txm_fees_bump(struct txm_fees *out, const struct txm_fees *prev,
                  const struct txm_fees *market, const struct txm_fee_cfg *cfg);

/* ---- journal (txm_journal.c) ---- */

struct txm_journal;

/* Open (create 0600, append) the journal file at `path`.
 * Returns: 0, KP_EIO (errno kept).   Out: *out   In: path */
int txm_journal_open(struct txm_journal **out, const char *path);

/* Close. NULL: no-op. */
void txm_journal_close(struct txm_journal *j);

/* Append one record as a line and fdatasync: a txm_journal_fn (arg is
 * the struct txm_journal).
 * Returns: 0, KP_EIO, KP_EINVAL (bad key or raw size). */
int txm_journal_append(void *j, const struct txm_journal_rec *r);

/* Read the records of a journal file in order, calling `fn` for each
 * (raw bytes borrowed for the call). A torn last line (crash while
 * writing) is skipped; a record whose hash does not match its bytes, or
 * any other bad line, stops the read with KP_EINVAL (*line tells which).
 * `fn` returning non-zero stops the read with that code.
 * Returns: 0, KP_EIO, KP_EINVAL, or fn's code.
 * Out: *line (may be NULL)   In: path, fn, arg */
int txm_journal_read(const char *path, size_t *line,
                     int (*fn)(void *arg, const struct txm_journal_rec *r),
                     void *arg);

#endif
