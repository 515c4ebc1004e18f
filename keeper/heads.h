/*
 * heads.h - the head of one chain, learned by polling
 * eth_getBlockByNumber("latest", false) through an rpc client on a uv
 * timer.
 *
 * The running daemon takes its heads from the event stream (chain/
 * events.h: WebSocket newHeads, HTTP polling as fallback); this poller
 * serves `--once`, which needs one head and which endpoint told it.
 *
 * The poller reports every successful poll, also when the head did not
 * move: a repeated head still proves the endpoint answers, which is what
 * readiness measures. Calls go through rpc_call, so they fail over between
 * endpoints and are retried as the client is configured.
 */
#ifndef KP_KEEPER_HEADS_H
#define KP_KEEPER_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "chain/rpc.h"

struct heads;

struct head {
    uint64_t number;
    uint8_t hash[32];
    uint64_t timestamp; /* block timestamp, Unix seconds */
    size_t endpoint;    /* index of the rpc endpoint that answered */
};

/* A poll succeeded. `h` is borrowed for the callback's duration. */
typedef void (*heads_fn)(void *arg, const struct head *h);
/* A poll failed: `err` is a KP_E* code, `text` one line without URLs. */
typedef void (*heads_err_fn)(void *arg, int err, const char *text);

struct heads_opts {
    uint32_t interval_ms; /* between polls, >= 10 */
    uint32_t timeout_ms;  /* whole call with retries; 0: rpc defaults */
    heads_fn on_head;
    heads_err_fn on_error; /* may be NULL */
    void *arg;
};

/* Create a poller on `loop` using `rpc` (borrowed: free the poller
 * first). Nothing is sent until heads_start or heads_poll_now.
 * Returns: 0, or KP_ERANGE for an interval under 10 ms.
 * Out: *out   In: loop, rpc, o */
int heads_new(struct heads **out, uv_loop_t *loop, struct rpc_client *rpc,
              const struct heads_opts *o);

/* Poll now and then every interval. */
void heads_start(struct heads *h);

/* Poll once now (unless a poll is in flight), without starting the timer.
 * Returns: 0, or an rpc_call error (the callback is then not called). */
int heads_poll_now(struct heads *h);

/* Stop polling, cancel a call in flight (no callback) and release the
 * poller; the memory goes once the loop has closed the timer. NULL is a
 * no-op. May be called from the poller's own callbacks. */
void heads_free(struct heads *h);

/* Parse a block object as eth_getBlockByNumber returns it.
 * Returns: 0, or KP_EINVAL (not an object, or number/hash/timestamp
 *          missing or malformed).
 * Out: *out (endpoint left as is)   In: block */
int heads_parse_block(struct head *out, const cJSON *block);

#endif
