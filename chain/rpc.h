/*
 * rpc.h - JSON-RPC 2.0 client over several HTTP endpoints of one chain.
 *
 * Calls are asynchronous: the callback runs from the libuv loop with the
 * result (a cJSON value borrowed for the callback's duration) or an error.
 * Errors fall in separate classes: transport failure (KP_ETRANSPORT), no
 * reply in time (KP_ETIMEOUT), HTTP status other than 2xx (KP_EHTTP), a
 * JSON-RPC error object - also when it comes with HTTP 200 - (KP_ERPC,
 * with code, message and data), a reply that is not valid JSON-RPC
 * (KP_EINVAL), and a reply over the size cap (KP_ELIMIT).
 *
 * Endpoints: each keeps health (latency EWMA, consecutive failures, head
 * height). A call goes to the best healthy endpoint - the fastest, where
 * latencies within latency_tolerance_ms count as equal and the one listed
 * first wins - and fails over to the next on transport, timeout, HTTP 5xx,
 * 408 or 429, and malformed replies. An endpoint whose head is more than
 * max_lag_blocks behind the best head known when its head was asked for
 * is out of rotation until it catches up (so a node polled every few
 * seconds is not judged against WebSocket heads that arrived since); heads
 * come from polling eth_blockNumber on every endpoint (head_poll_ms) and
 * from rpc_report_head. Endpoints that failed
 * fail_threshold times in a row rest for down_ms. Endpoints out of
 * rotation are used only when no other is left.
 *
 * Repetition: a call marked safe to repeat (reads; by default from the
 * method name, see rpc_method_is_safe) is retried up to max_attempts with
 * exponential backoff and jitter; an unsafe one (eth_sendRawTransaction)
 * is tried once, and moved to another endpoint only when the request
 * certainly never left (connection refused, name not resolved).
 *
 * URLs may hold API keys: they are never put in error texts; the display
 * name of an endpoint is the configured name or "scheme://host[:port]".
 *
 * Lifetime: rpc_client_free cancels pending calls (their callbacks are not
 * called); the memory goes once the loop has closed its handles.
 */
#ifndef KP_CHAIN_RPC_H
#define KP_CHAIN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "chain/http.h"

struct rpc_client;
struct rpc_batch;

#define RPC_MAX_ENDPOINTS 16
#define RPC_MAX_BATCH 1000          /* calls in one batch */
#define RPC_MAX_METHOD 64           /* bytes in a method name */
#define RPC_MAX_REQUEST (16u << 20) /* bytes in one request body */
#define RPC_NAME_MAX 96             /* display name, with NUL */
#define RPC_ENDPOINT_NONE SIZE_MAX

/* Error classes counted per endpoint. */
enum rpc_errclass {
    RPC_EC_TRANSPORT,
    RPC_EC_TIMEOUT,
    RPC_EC_HTTP,
    RPC_EC_RPC,
    RPC_EC_MALFORMED,
    RPC_EC_LIMIT,
    RPC_EC_COUNT
};

/* Latency histogram: bucket i counts attempts with latency <= bound i
 * (and above bound i-1); the last bucket is +Inf. Counts are not
 * cumulative. */
#define RPC_LAT_BUCKETS 14
extern const double rpc_latency_bounds_ms[RPC_LAT_BUCKETS - 1];

struct rpc_endpoint_cfg {
    const char *url;            /* http(s)://...; may hold secrets */
    const char *name;           /* display name; NULL: derived from url */
    const char *const *headers; /* extra "Name: value" lines (e.g. auth);
                                   never shown */
    size_t nheaders;
    const char *ca_file; /* https: PEM CA certificates to trust instead
                            of the system store; NULL: system store */
};

struct rpc_opts {
    uint32_t timeout_ms;           /* per attempt (default 10000) */
    size_t max_reply;              /* reply body cap (default 8 MiB) */
    uint32_t max_attempts;         /* safe calls, >= 1 (default 4) */
    uint32_t backoff_base_ms;      /* first retry delay (default 100) */
    uint32_t backoff_max_ms;       /* cap on the delay (default 5000) */
    uint32_t fail_threshold;       /* failures in a row to rest (default 3) */
    uint32_t down_ms;              /* rest time (default 5000) */
    uint64_t max_lag_blocks;       /* default 5 */
    uint32_t head_poll_ms;         /* 0: no polling (default 4000) */
    uint32_t latency_tolerance_ms; /* default 20 */
    uint32_t max_pending;          /* calls in flight (default 4096) */
    uint64_t seed;                 /* jitter PRNG seed; 0: from the clock */
};

/* How a call may be repeated. */
enum rpc_repeat {
    RPC_REPEAT_DEFAULT = 0, /* from the method name (rpc_method_is_safe) */
    RPC_REPEAT_SAFE,
    RPC_REPEAT_UNSAFE,
};

/* Per-call options; a zeroed struct (or NULL) means the client defaults. */
struct rpc_call_opts {
    uint32_t timeout_ms;  /* per attempt; 0: client default */
    uint32_t deadline_ms; /* whole call with retries; 0: none */
    enum rpc_repeat repeat;
};

/* What the callback learns besides the result. Borrowed for the callback's
 * duration. */
struct rpc_status {
    int err;                 /* 0 or a KP_E* code (see top of file);
                                KP_ESTATE: no endpoint could be tried */
    long http_status;        /* of the last attempt, 0 if none */
    int64_t rpc_code;        /* KP_ERPC: the error object's code */
    const char *rpc_message; /* KP_ERPC: its message, else NULL */
    const cJSON *rpc_data;   /* KP_ERPC: its data member, or NULL */
    const char *text;        /* one line; "" on success */
    size_t endpoint;         /* index of the last endpoint tried, or
                                RPC_ENDPOINT_NONE */
    const char *endpoint_name;
    unsigned attempts;   /* HTTP requests made for this call */
    uint64_t elapsed_us; /* since the call was made */
};

/* `result` is NULL exactly when st->err != 0. */
typedef void (*rpc_cb)(void *arg, const cJSON *result,
                       const struct rpc_status *st);

/* Counters per endpoint, for metrics and status pages. Plain values,
 * updated by the client; read them between loop iterations. */
struct rpc_endpoint_stats {
    char name[RPC_NAME_MAX]; /* display name, no secrets */
    uint64_t requests;       /* HTTP requests sent */
    uint64_t successes;      /* requests answered (incl. RPC errors) */
    uint64_t errors[RPC_EC_COUNT];
    uint64_t latency_buckets[RPC_LAT_BUCKETS];
    uint64_t latency_sum_us; /* over answered requests */
    uint64_t latency_count;
    double latency_ewma_ms; /* 0 before the first answer */
    uint32_t consecutive_failures;
    bool head_known;
    uint64_t head;        /* last head height learned */
    bool down;            /* resting after repeated failures */
    bool lagging;         /* behind the best head by > max_lag */
    char last_error[160]; /* "" if none */
};

/* Fill `o` with the defaults listed in struct rpc_opts. */
void rpc_opts_init(struct rpc_opts *o);

/* Create a client for `neps` endpoints (1..RPC_MAX_ENDPOINTS) on `loop`.
 * `http` is borrowed and must outlive the client; NULL: the client makes
 * its own. `o` NULL: defaults. Everything in `eps` is copied.
 * Returns: 0; KP_EINVAL on a URL that is not http(s) or a bad header or
 *          name; KP_ERANGE on a count or option out of range.
 * Out: *out   In: loop, http, eps, neps, o */
int rpc_client_new(struct rpc_client **out, uv_loop_t *loop,
                   struct http_client *http, const struct rpc_endpoint_cfg *eps,
                   size_t neps, const struct rpc_opts *o);

/* Cancel all calls (no callbacks) and release the client. NULL: no-op.
 * May be called from a callback. */
void rpc_client_free(struct rpc_client *c);

/* Call `method` with `params_json` (a JSON array or object as text, NULL
 * for []; sent as is). `cb` runs exactly once from the loop unless the
 * call is cancelled or the client freed; never from inside rpc_call.
 * Returns: 0; KP_EINVAL on a bad method name or params that do not start
 *          with '[' or '{'; KP_ELIMIT if max_pending calls are in flight
 *          or the request is over RPC_MAX_REQUEST.
 * Out: *id (optional, for rpc_cancel)
 * In: c, method, params_json, o (NULL: defaults), cb, arg */
int rpc_call(struct rpc_client *c, const char *method, const char *params_json,
             const struct rpc_call_opts *o, rpc_cb cb, void *arg, uint64_t *id);

/* As rpc_call, but only ever on endpoint `idx` (no failover; safe calls
 * are still retried there).
 * Returns: as rpc_call; KP_ERANGE if idx >= the endpoint count. */
int rpc_call_at(struct rpc_client *c, size_t idx, const char *method,
                const char *params_json, const struct rpc_call_opts *o,
                rpc_cb cb, void *arg, uint64_t *id);

/* Cancel a pending call or batch; its callbacks are not called.
 * Returns: 0, or KP_ENOTFOUND if `id` is not pending. */
int rpc_cancel(struct rpc_client *c, uint64_t id);

/* Start a batch: calls added to it go out in one HTTP request; replies are
 * matched by id in whatever order they come. Returns: never NULL. */
struct rpc_batch *rpc_batch_new(struct rpc_client *c);

/* Add a call to `b`; `cb` gets that call's result or error.
 * Returns: 0; KP_EINVAL (bad method or params); KP_ELIMIT (more than
 *          RPC_MAX_BATCH calls or RPC_MAX_REQUEST bytes). */
int rpc_batch_add(struct rpc_batch *b, const char *method,
                  const char *params_json, rpc_cb cb, void *arg);

/* Send `b` and release it, whatever the outcome. The batch is safe to
 * repeat only if every call in it is (or o->repeat says so).
 * Returns: 0; KP_EINVAL for an empty batch; KP_ELIMIT if max_pending
 *          calls are in flight (callbacks are then not called).
 * Out: *id (optional)   In: b, o */
int rpc_batch_send(struct rpc_batch *b, const struct rpc_call_opts *o,
                   uint64_t *id);

/* Discard an unsent batch. NULL: no-op. */
void rpc_batch_free(struct rpc_batch *b);

/* Tell the client a head height seen elsewhere (e.g. a WebSocket newHeads
 * of endpoint `idx`), or with idx RPC_ENDPOINT_NONE a head seen on another
 * source, which only raises the best known head.
 * Returns: 0, or KP_ERANGE if idx is neither an endpoint nor NONE. */
int rpc_report_head(struct rpc_client *c, size_t idx, uint64_t head);

/* Returns: the highest head known from any source, 0 if none. */
uint64_t rpc_best_head(const struct rpc_client *c);

/* Returns: the number of endpoints. */
size_t rpc_endpoint_count(const struct rpc_client *c);

/* Returns: the counters of endpoint `idx` (< rpc_endpoint_count), valid
 * until the client is freed. */
const struct rpc_endpoint_stats *rpc_endpoint_stats(const struct rpc_client *c,
                                                    size_t idx);

/* Call `fn` for each endpoint, in configuration order. */
void rpc_endpoint_foreach(const struct rpc_client *c,
                          void (*fn)(void *arg, size_t idx,
                                     const struct rpc_endpoint_stats *st),
                          void *arg);

/* Returns: the text of the last failed call ("" if none); never a URL. */
const char *rpc_last_error(const struct rpc_client *c);

/* Returns: the name of an error class ("transport", "timeout", "http",
 * "rpc", "malformed", "limit"). */
const char *rpc_errclass_name(enum rpc_errclass ec);

/* Returns: whether a call of `method` is safe to repeat by default (reads
 * such as eth_call, eth_getLogs, eth_blockNumber; never
 * eth_sendRawTransaction or unknown methods). */
bool rpc_method_is_safe(const char *method);

/* Read a JSON-RPC quantity ("0x" and 1 or more hex digits; leading zeros
 * are tolerated) into a uint64_t.
 * Returns: 0; KP_EINVAL if `v` is not such a string; KP_ERANGE if it does
 *          not fit in 64 bits.
 * Out: *out   In: v */
int rpc_quantity_u64(const cJSON *v, uint64_t *out);

/* ---- reply parsing, separate from I/O ---- */

/* One call's outcome in a reply. Pointers borrow from the parsed doc. */
struct rpc_reply_item {
    int err;             /* 0, KP_ERPC, or KP_EINVAL (no/bad reply) */
    const cJSON *result; /* err == 0 */
    int64_t code;        /* err == KP_ERPC */
    const char *message; /* err == KP_ERPC */
    const cJSON *data;   /* err == KP_ERPC, may be NULL */
};

/* Parse a reply body to a request with ids first_id..first_id+n-1.
 * `batch`: the request was a JSON array (then 1 <= n <= RPC_MAX_BATCH);
 * otherwise n must be 1. A batch answered with one error object (servers
 * do that for a rejected batch) gives that error to every item.
 * Returns: 0 with items[0..n-1] filled; KP_EINVAL if the body as a whole
 *          is not a usable reply (items untouched, *doc NULL). The text in
 *          errbuf says why (for KP_EINVAL, or the first bad item).
 * Out: *doc (free with cJSON_Delete), items, errbuf
 * In: body, len, first_id, n, batch, errcap */
int rpc_reply_parse(cJSON **doc, struct rpc_reply_item *items, char *errbuf,
                    size_t errcap, const char *body, size_t len,
                    uint64_t first_id, size_t n, bool batch);

#endif
