/*
 * events.h - the chain event stream: heads and logs, once each, in order,
 * across reconnects and reorgs.
 *
 * Sources. With a WebSocket client, the stream subscribes (eth_subscribe)
 * to "logs" - one subscription per filter - and then to "newHeads", again
 * after every reconnect. Without one, or while it is down (optional), it
 * polls eth_getBlockByNumber("latest") over JSON-RPC. Either way, heads
 * feed one mechanism:
 *
 *   - The processed chain: the last `window` blocks (number, hash, parent)
 *     whose logs were delivered (blocktrack.h). A head that is the child of
 *     the tip, seen on the current subscription, is taken with the live
 *     logs that came for it. Any other head - a gap after a reconnect, a
 *     poll, a head whose parent is not our tip - makes the stream read the
 *     node's blocks by number (a JSON-RPC batch), find the common ancestor
 *     with the processed chain, rewind to it, and read the logs of the new
 *     blocks with eth_getLogs, checking that every log's block hash is the
 *     block read for its number.
 *   - Far behind (more than `window` blocks, e.g. after a long outage or a
 *     start from an old block), logs come in eth_getLogs ranges of at most
 *     chunk_blocks (halved while the node refuses a range or the reply is
 *     over the size cap); blocks that deep are taken as final.
 *   - Rewinding delivers the removal of every log of the orphaned blocks
 *     (removed = true), newest block first and within a block by
 *     descending log index; then the new branch's logs come as usual.
 *     Logs announced with "removed": true are withdrawn the same way.
 *   - After a WebSocket drop, the logs of the last recheck_blocks processed
 *     blocks are read again (a live log may have been lost with the
 *     connection) and the missing ones delivered.
 *
 * Each log is delivered once: a window of recent delivered logs, keyed by
 * (block hash, log index), drops repeats. Within a block logs come by log
 * index, blocks in ascending order; on_head(b) follows the logs of b that
 * are known at that point (a live log that the node sends after its head
 * is delivered when it arrives).
 *
 * The rpc client and the WebSocket client are borrowed: create them first,
 * free the stream first. The stream takes over the WebSocket client's
 * handler and starts it.
 */
#ifndef KP_CHAIN_EVENTS_H
#define KP_CHAIN_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chain/blocktrack.h"
#include "chain/evlog.h"
#include "chain/rpc.h"
#include "chain/ws.h"

struct events;

#define EVENTS_MAX_FILTERS 32
#define EVENTS_MAX_WINDOW 1024

struct events_opts {
    uint32_t window;         /* recent blocks tracked: the deepest reorg
                                handled (default 128, 2..1024) */
    uint32_t chunk_blocks;   /* largest eth_getLogs range (default 2000) */
    uint32_t poll_ms;        /* head polling period (default 2000) */
    bool poll_when_ws_down;  /* poll while the WebSocket is not
                                subscribed (default true) */
    uint32_t recheck_blocks; /* blocks re-read after a drop (default 2) */
    uint32_t retry_base_ms;  /* delay after a failed read (default 250) */
    uint32_t retry_max_ms;   /* cap on that delay (default 10000) */
    size_t max_log_data;     /* bytes of data per log; longer logs are
                                dropped and counted (default 64 KiB) */
    size_t max_window_logs;  /* delivered logs remembered (default
                                100000) */
    size_t max_pending_logs; /* live logs waiting for their head
                                (default 10000) */
    size_t max_heads_queued; /* heads waiting to be processed (default
                                256); older ones are dropped (the blocks
                                are then read by number) */
    bool from_set;           /* start with the logs of from_block */
    uint64_t from_block;     /* otherwise: from the block after the
                                first head seen */
};

/* Called from the loop; neither may free the stream. */
struct events_callbacks {
    /* A block became the processed tip. */
    void (*on_head)(void *arg, uint64_t number, const uint8_t hash[32],
                    uint64_t timestamp);
    /* A log, or (removed) the withdrawal of one delivered before. The log
     * and its data are borrowed for the call. */
    void (*on_log)(void *arg, const struct evlog *log, bool removed);
    /* Optional: a one-line error (read failed, subscription refused,
     * reorg deeper than the window). The stream retries by itself. */
    void (*on_error)(void *arg, int err, const char *text);
};

/* Counters, for metrics. Plain values, updated by the stream. */
struct events_stats {
    uint64_t reconnects;      /* WebSocket connections after the first */
    uint64_t live_logs;       /* delivered from subscriptions */
    uint64_t backfilled_logs; /* delivered from eth_getLogs */
    uint64_t removed_logs;    /* removals delivered */
    uint64_t duplicates;      /* logs seen again, not delivered */
    uint64_t dropped_logs;    /* malformed, over the data cap, or not
                                 matching any filter */
    uint64_t reorgs;          /* rewinds of the processed chain */
    uint64_t deep_reorgs;     /* of those, deeper than the window */
    uint64_t heads;           /* blocks processed */
    uint64_t rpc_errors;      /* failed reads (retried) */
    uint64_t chunk_blocks;    /* current eth_getLogs range */
    bool head_known;
    uint64_t head_number; /* processed tip */
    uint64_t head_timestamp;
    bool live; /* WebSocket subscriptions active */
};

/* Fill `o` with the defaults listed in struct events_opts. */
void events_opts_init(struct events_opts *o);

/* Create a stream on `loop` reading from `rpc` and, if not NULL, `ws`,
 * for the logs matching any of `filters` (copied; 0..EVENTS_MAX_FILTERS;
 * with none, only heads are followed). Starts at once.
 * Returns: 0; KP_ERANGE (an option or the filter count out of range);
 *          KP_EINVAL (an invalid filter, no on_log with filters).
 * Out: *out   In: loop, rpc, ws, filters, nfilters, o (NULL: defaults),
 *                 cb, arg */
int events_new(struct events **out, uv_loop_t *loop, struct rpc_client *rpc,
               struct ws_client *ws, const struct evlog_filter *filters,
               size_t nfilters, const struct events_opts *o,
               const struct events_callbacks *cb, void *arg);

/* Stop and release the stream (pending reads are cancelled; no callback
 * after this). The WebSocket client is left to its owner with no handler.
 * The memory goes while the loop runs. NULL: no-op. */
void events_free(struct events *ev);

/* Returns: the counters, valid until the stream is freed. */
const struct events_stats *events_stats(const struct events *ev);

/* Returns: the processed chain (read only; changes as the loop runs). */
const struct blocktrack *events_chain(const struct events *ev);

/* Returns: the text of the last error ("" if none). */
const char *events_last_error(const struct events *ev);

#endif
