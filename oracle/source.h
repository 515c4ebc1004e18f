/*
 * source.h - the generic price source: one asset's price from one feed
 * (a Chainlink aggregator, later a Pyth stream or an HTTP/WS JSON feed),
 * its freshness state, and the callbacks the daemon acts on.
 *
 * A concrete source embeds struct oracle_source as its first member and
 * fills in a table of operations; the daemon handles every source through
 * the oracle_source_* functions below and never looks at the kind.
 *
 * The rules shared by every source live here, so that each feed only
 * fetches and decodes:
 *   - ordering: a price replaces the latest one only when it is newer
 *     (round id when both have one, else publish time); a duplicate or an
 *     older round is ignored and counted, never counted twice in the
 *     history. After a chain reorganisation a source may re-read with
 *     `replace`, which takes the canonical answer even if it is older.
 *   - rejection: a price the feed published but that must never be used
 *     (non-positive answer, incomplete round, answer carried over from an
 *     older round, publish time out of range or ahead of our clock by
 *     more than max_age, undecodable data) is refused with a reason,
 *     counted per reason, and reported through on_reject.
 *   - freshness: the state is NONE (no price yet), FRESH or STALE, judged
 *     by the price's own publish time against the injectable clock and
 *     max_age (oracle_price_is_stale). on_state runs on every change,
 *     so an alert can be raised once and resolved once; on_price runs on
 *     every accepted price, so the daemon can re-evaluate.
 *
 * Everything runs on the daemon's one loop. Callbacks run from the loop
 * or from inside oracle_source_on_log / oracle_source_check; they may call
 * oracle_source_stop but must not free the source.
 */
#ifndef KP_ORACLE_SOURCE_H
#define KP_ORACLE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/evlog.h"
#include "oracle/history.h"
#include "oracle/price.h"

#define ORACLE_NAME_MAX 64  /* source name, with the NUL */
#define ORACLE_ASSET_MAX 32 /* asset symbol, with the NUL */
#define ORACLE_ERR_MAX 160  /* last error text, with the NUL */

struct oracle_source;

enum oracle_state {
    ORACLE_STATE_NONE = 0, /* no usable price yet */
    ORACLE_STATE_FRESH,    /* latest price within max_age of now */
    ORACLE_STATE_STALE,    /* latest price too old (or too far ahead) */
};

/* Why a published price was refused. */
enum oracle_reject {
    ORACLE_REJ_MALFORMED = 0, /* reply or log not decodable */
    ORACLE_REJ_NONPOSITIVE,   /* answer <= 0 */
    ORACLE_REJ_INCOMPLETE,    /* publish time 0: round not complete */
    ORACLE_REJ_CARRIED,       /* answeredInRound < roundId */
    ORACLE_REJ_RANGE,         /* decimals or publish time out of range */
    ORACLE_REJ_FUTURE,        /* published > max_age ahead of our clock */
    ORACLE_REJ_COUNT
};

/* The daemon's hooks; any may be NULL. */
struct oracle_source_cbs {
    void (*on_price)(void *arg, struct oracle_source *s,
                     const struct oracle_price *p);
    void (*on_state)(void *arg, struct oracle_source *s, enum oracle_state from,
                     enum oracle_state to);
    /* One line in `text`, without the source name. */
    void (*on_reject)(void *arg, struct oracle_source *s,
                      enum oracle_reject why, const char *text);
    void *arg;
};

/* Wall clock in unix seconds; injectable for tests. */
typedef uint64_t (*oracle_clock_fn)(void *arg);

/* Settings every source has. Strings are copied. */
struct oracle_source_cfg {
    const char *name;  /* e.g. "eth-usd-chainlink"; 1..ORACLE_NAME_MAX-1 */
    const char *asset; /* e.g. "ETH"; 1..ORACLE_ASSET_MAX-1 */
    uint64_t max_age;  /* seconds, >= 1 */
    /* Accepted prices are pushed here; borrowed, may be NULL. Several
     * sources of one asset should not share one history (each would see
     * the other's samples as out of order). */
    struct oracle_history *history;
    struct oracle_source_cbs cbs;
    oracle_clock_fn clock; /* NULL: oracle_clock_wall */
    void *clock_arg;
};

/* The operations a kind of source provides. */
struct oracle_source_ops {
    const char *kind; /* "chainlink" */
    int (*start)(struct oracle_source *s);
    void (*stop)(struct oracle_source *s);
    /* NULL when the source takes no logs. */
    void (*log_filter)(const struct oracle_source *s, struct evlog_filter *f);
    int (*on_log)(struct oracle_source *s, const struct evlog *log,
                  bool removed);
    void (*free)(struct oracle_source *s);
};

/* Counters, plain values for metrics. */
struct oracle_source_stats {
    uint64_t accepted;                   /* new latest prices */
    uint64_t ignored;                    /* duplicates, older rounds */
    uint64_t rejected[ORACLE_REJ_COUNT]; /* refused, per reason */
    uint64_t replaced;                   /* taken after a reorg */
};

/* The common part. Fields are the implementations' business; the daemon
 * uses the functions below. */
struct oracle_source {
    const struct oracle_source_ops *ops;
    char name[ORACLE_NAME_MAX];
    char asset[ORACLE_ASSET_MAX];
    uint64_t max_age;
    struct oracle_history *history;
    struct oracle_source_cbs cbs;
    oracle_clock_fn clock;
    void *clock_arg;
    enum oracle_state state;
    bool has_price;
    struct oracle_price latest;
    struct oracle_source_stats stats;
    char last_error[ORACLE_ERR_MAX];
};

/* ---- for the daemon ---- */

/* Start fetching (first read, timers).
 * Returns: 0; KP_ESTATE if already started; or the kind's error. */
int oracle_source_start(struct oracle_source *s);
/* Stop fetching: pending requests are cancelled, timers stopped; the
 * latest price and state are kept. Not started: no-op. */
void oracle_source_stop(struct oracle_source *s);
/* Stop and release. NULL: no-op. Sources holding loop handles release
 * their memory once the loop has closed them. */
void oracle_source_free(struct oracle_source *s);

/* Whether the source takes logs; if so, *f is the filter to give the
 * event stream (events_new): the emitter's address and topic0.
 * Out: f (may be NULL) */
bool oracle_source_log_filter(const struct oracle_source *s,
                              struct evlog_filter *f);

/* Hand a log to the source, as the event stream's on_log delivers it
 * (one matching the source's filter, or any: others are told apart by
 * the return code).
 * Returns: 0 (used: a new price, or a re-read after a removal);
 *          KP_ENOTFOUND (not this source's log, or it takes none);
 *          KP_ESTALE (not newer than the latest price: ignored);
 *          KP_EINVAL (refused: see on_reject and the counters);
 *          KP_ESTATE (not started). */
int oracle_source_on_log(struct oracle_source *s, const struct evlog *log,
                         bool removed);

/* Re-judge freshness at the clock's now (the daemon may call this on
 * every head; sources call it from their own timer).
 * Returns: the state now; on_state has run if it changed. */
enum oracle_state oracle_source_check(struct oracle_source *s);

/* The gate before any action: the latest price if it is fresh now.
 * Returns: 0; KP_ENOTFOUND (no price); KP_ESTALE (too old or too far
 *          ahead: *p still holds it, for reports).
 * Out: p */
int oracle_source_fresh_price(struct oracle_source *s, struct oracle_price *p);

/* Returns: the latest accepted price (fresh or not), or NULL. */
const struct oracle_price *oracle_source_latest(const struct oracle_source *s);
/* Returns: the state as last judged (oracle_source_check re-judges). */
enum oracle_state oracle_source_state(const struct oracle_source *s);
const char *oracle_source_name(const struct oracle_source *s);
const char *oracle_source_asset(const struct oracle_source *s);
const char *oracle_source_kind(const struct oracle_source *s);
/* Returns: the last fetch, decode or rejection error ("" if none). */
const char *oracle_source_last_error(const struct oracle_source *s);
const struct oracle_source_stats *
oracle_source_stats(const struct oracle_source *s);
/* Returns: the clock's now, unix seconds. */
uint64_t oracle_source_now(const struct oracle_source *s);

/* Returns: "none", "fresh", "stale". */
const char *oracle_state_name(enum oracle_state st);
/* Returns: "malformed", "nonpositive", "incomplete", "carried", "range",
 * "future". */
const char *oracle_reject_name(enum oracle_reject why);

/* CLOCK_REALTIME in seconds. `arg` is unused. */
uint64_t oracle_clock_wall(void *arg);

/* ---- for implementations ---- */

/* Returns: 0, or KP_ECONFIG (missing or over-long name/asset, max_age 0).
 * In: cfg */
int oracle_source_cfg_check(const struct oracle_source_cfg *cfg);

/* Fill the common part (state NONE, no price). cfg must have passed
 * oracle_source_cfg_check. Out: s   In: ops, cfg */
void oracle_source_init(struct oracle_source *s,
                        const struct oracle_source_ops *ops,
                        const struct oracle_source_cfg *cfg);

/* Offer a validated price (oracle_price_init succeeded).
 * Newer than the latest: it becomes the latest, goes into the history,
 * on_price runs, then the state is re-judged. Not newer: ignored, unless
 * `replace` (a re-read after a reorg) and it differs from the latest:
 * then it becomes the latest without entering the history (which only
 * grows forward) and on_price runs.
 * A publish time more than max_age after now is refused (FUTURE).
 * Returns: 0 (taken); KP_ESTALE (ignored); KP_EINVAL (refused). */
int oracle_source_offer(struct oracle_source *s, const struct oracle_price *p,
                        bool replace);

/* Count a refusal, keep its text as the last error, run on_reject.
 * Returns: KP_EINVAL (for tail calls).   In: why, fmt... */
int oracle_source_reject(struct oracle_source *s, enum oracle_reject why,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Keep a one-line error text (fetch failures). In: fmt... */
void oracle_source_set_error(struct oracle_source *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
