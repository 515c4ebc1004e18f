/*
 * chainlink.h - a price source reading a Chainlink AggregatorV3 feed.
 *
 * How the price arrives:
 *   - start: decimals() and latestRoundData() in one JSON-RPC batch of
 *     eth_call; the answer is scaled by the decimals (struct oracle_price
 *     keeps the exact integer and its decimals, plus a double for risk).
 *   - logs: AnswerUpdated(int256 indexed current, uint256 indexed roundId,
 *     uint256 updatedAt). The daemon subscribes with the source's filter
 *     (address + topic0, oracle_source_log_filter) and hands every
 *     matching log in (oracle_source_on_log). A removed log (chain
 *     reorganisation) causes a re-read whose answer is taken even if its
 *     round is older: the canonical chain wins. (If that answer is
 *     refused, the price held stays until it goes stale.) A log that
 *     arrives before the first read has given the decimals causes a
 *     read instead.
 *   - heartbeat: latestRoundData again every heartbeat_ms after the last
 *     read (sooner, retry_ms, after a failed one), so that a missed log
 *     or a dead subscription costs at most one heartbeat.
 *
 * What is refused (counted per reason, never used): answer <= 0,
 * updatedAt == 0 (round not complete), answeredInRound < roundId (answer
 * carried over from an older round), updatedAt beyond 64 bits, decimals
 * above ORACLE_DECIMALS_MAX, undecodable return data or logs. Older
 * rounds and repeats (log plus heartbeat) are ignored, so each round
 * enters the history once. (A newer round published in the same second
 * as the last becomes the latest price but adds no history sample: the
 * history takes strictly later publish times only.)
 *
 * Freshness: by the round's own updatedAt against the source clock and
 * max_age (see source.h), re-judged every check_ms and on each price.
 *
 * Proxies: a feed read through an EACAggregatorProxy emits no events; its
 * current aggregator does, with the aggregator's own round ids, while
 * the proxy reports phaseId << 64 | aggregator round. Configure
 * `events` as the aggregator's address and the source puts the phase of
 * the last read round on the log's round id. When the proxy moves to a
 * new aggregator, the heartbeat still reads it; the events address must
 * then be changed in the configuration.
 *
 * Lifetime: free the source before the RPC client it uses.
 */
#ifndef KP_ORACLE_CHAINLINK_H
#define KP_ORACLE_CHAINLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chain/address.h"
#include "chain/rpc.h"
#include "chain/u256.h"
#include "oracle/price.h"
#include "oracle/source.h"

struct oracle_chainlink;

#define ORACLE_CL_REPLY_MAX 4096 /* bytes of eth_call return data kept */
#define ORACLE_CL_HEARTBEAT_MIN_MS 100
#define ORACLE_CL_HEARTBEAT_MAX_MS (3600u * 1000u)

/* One round as the feed reports it, undecided. */
struct oracle_chainlink_round {
    struct u256 round_id;          /* uint80 (phase << 64 | round) */
    struct u256 answer;            /* int256, two's complement */
    struct u256 started_at;        /* 0 when from a log */
    struct u256 updated_at;        /* unix seconds */
    struct u256 answered_in_round; /* uint80; = round_id from a log */
};

struct oracle_chainlink_cfg {
    struct oracle_source_cfg base;
    struct eth_addr feed;   /* read with eth_call (proxy or aggregator) */
    bool has_events;        /* false: logs come from `feed` */
    struct eth_addr events; /* emitter of AnswerUpdated */
    /* Re-read period; 0: max_age / 2, within ORACLE_CL_HEARTBEAT_MIN_MS ..
     * ORACLE_CL_HEARTBEAT_MAX_MS. */
    uint32_t heartbeat_ms;
    uint32_t retry_ms;        /* after a failed read; 0: 2000 */
    uint32_t check_ms;        /* staleness re-judged; 0: 1000 */
    uint32_t call_timeout_ms; /* per eth_call attempt; 0: RPC default */
};

struct oracle_chainlink_stats {
    uint64_t reads;        /* latestRoundData replies decoded */
    uint64_t read_errors;  /* reads that failed (RPC, revert, bad data) */
    uint64_t logs;         /* AnswerUpdated logs taken (not removed) */
    uint64_t logs_removed; /* removals, each causing a re-read */
};

/* ---- the source ---- */

/* Out: cfg with the defaults above (no name, asset, feed, max_age). */
void oracle_chainlink_cfg_init(struct oracle_chainlink_cfg *cfg);

/* Create a source on `loop` reading through `rpc` (borrowed; must
 * outlive the source). Nothing is sent before oracle_source_start.
 * Returns: 0, or KP_ECONFIG (see oracle_source_cfg_check; zero feed
 *          address; a period out of range).
 * Out: *out   In: loop, rpc, cfg */
int oracle_chainlink_new(struct oracle_chainlink **out, uv_loop_t *loop,
                         struct rpc_client *rpc,
                         const struct oracle_chainlink_cfg *cfg);

/* The generic handle (start, stop, free, state, callbacks...). */
struct oracle_source *oracle_chainlink_source(struct oracle_chainlink *c);
/* Returns: the Chainlink source behind `s`, or NULL for another kind. */
struct oracle_chainlink *oracle_chainlink_from_source(struct oracle_source *s);

/* Read latestRoundData now (e.g. after the event stream reconnected).
 * A read in flight is followed by another one.
 * Returns: 0, or KP_ESTATE (not started). */
int oracle_chainlink_refresh(struct oracle_chainlink *c);

/* Returns: 0 with *decimals, or KP_ESTATE (not read yet). */
int oracle_chainlink_decimals(const struct oracle_chainlink *c,
                              unsigned *decimals);

const struct oracle_chainlink_stats *
oracle_chainlink_stats(const struct oracle_chainlink *c);

/* Returns: the heartbeat period in use, ms. */
uint32_t oracle_chainlink_heartbeat_ms(const struct oracle_chainlink *c);

/* ---- decoding, no I/O ---- */

/* Selectors of decimals() and latestRoundData(), and the topic0 of
 * AnswerUpdated(int256,uint256,uint256).
 * Out: sel (4 bytes) / topic (32 bytes) */
void oracle_chainlink_selector_decimals(uint8_t sel[4]);
void oracle_chainlink_selector_latest(uint8_t sel[4]);
void oracle_chainlink_topic_answer_updated(uint8_t topic[32]);

/* Decode decimals() return data (a uint8).
 * Returns: 0; KP_ETRUNC / KP_ENONCANON (bad data).
 * Out: *decimals   In: data, len */
int oracle_chainlink_decode_decimals(unsigned *decimals, const uint8_t *data,
                                     size_t len);

/* Decode latestRoundData() / getRoundData() return data:
 * (uint80, int256, uint256, uint256, uint80).
 * Returns: 0; KP_ETRUNC / KP_ENONCANON (bad data).
 * Out: r   In: data, len */
int oracle_chainlink_decode_round(struct oracle_chainlink_round *r,
                                  const uint8_t *data, size_t len);

/* Decode an AnswerUpdated log: topics [topic0, current, roundId], data
 * updatedAt. answered_in_round is set to round_id, started_at to 0.
 * Returns: 0; KP_EINVAL (topic0 or topic count); KP_ETRUNC /
 *          KP_ENONCANON (bad data).
 * Out: r   In: topics[ntopics], data, len */
int oracle_chainlink_decode_log(struct oracle_chainlink_round *r,
                                const uint8_t (*topics)[32], size_t ntopics,
                                const uint8_t *data, size_t len);

/* Put the phase of `proxy_round` (a proxy's phaseId << 64 | round) on
 * `round_id`, an aggregator's own round from its AnswerUpdated log. A
 * round_id above 64 bits already has a phase and is left alone.
 * In/Out: round_id   In: proxy_round */
void oracle_chainlink_apply_phase(struct u256 *round_id,
                                  const struct u256 *proxy_round);

/* Judge a round and scale it by `decimals`.
 * Returns: 0 with *p; KP_EINVAL with *why (NONPOSITIVE, INCOMPLETE,
 *          CARRIED, RANGE: decimals > ORACLE_DECIMALS_MAX or updatedAt
 *          beyond 64 bits).
 * Out: p, why   In: r, decimals */
int oracle_chainlink_round_price(struct oracle_price *p,
                                 enum oracle_reject *why,
                                 const struct oracle_chainlink_round *r,
                                 unsigned decimals);

#endif
