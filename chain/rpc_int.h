/*
 * rpc_int.h - private declarations shared by rpc.c and rpc_endpoint.c.
 */
#ifndef KP_CHAIN_RPC_INT_H
#define KP_CHAIN_RPC_INT_H

#include "chain/rpc.h"

#define RPC_TEXT_MAX 256
#define RPC_MAX_SECRETS 4

struct rpc_endpoint {
    char *url;
    char **hdrs; /* configured headers + content type */
    size_t nhdrs;
    char *ca_file;                  /* NULL: the system store */
    char *secrets[RPC_MAX_SECRETS]; /* URL parts scrubbed from texts */
    uint64_t down_until;            /* uv_now() ms */
    /* The best head known when the endpoint's current head was asked for:
     * lag is measured against it, so a node polled every few seconds is
     * not called lagging because WebSocket heads moved on since. */
    uint64_t lag_ref;
    bool poll_inflight;
    struct rpc_endpoint_stats st;
};

/* One method call: a single call, or one entry of a batch. */
struct rpc_item {
    char method[RPC_MAX_METHOD + 1];
    char *params; /* batch entries, until the body is built */
    rpc_cb cb;
    void *arg;
};

struct rpc_call {
    struct rpc_client *c;
    struct rpc_call *prev, *next;
    uint64_t id; /* JSON id of the first item */
    size_t n;
    bool batch;
    struct rpc_item *items; /* &one for a single call */
    struct rpc_item one;
    char *body;
    size_t body_len;
    bool safe;
    bool internal; /* head poll: not a user call */
    size_t pin;    /* RPC_ENDPOINT_NONE: any endpoint */
    uint32_t timeout_ms;
    uint64_t t0_ns;    /* uv_hrtime() at the call */
    uint64_t best_at_send; /* rpc_best_head() when the attempt started */
    uint64_t deadline; /* uv_now() ms, 0: none */
    unsigned attempts, max_attempts, round;
    uint32_t tried; /* endpoints tried in this round */
    size_t ep;      /* endpoint of the last attempt */
    struct http_request *req;
    bool waiting;        /* parked until `due` */
    bool finish_pending; /* when due: report the error */
    uint64_t due;
    int err; /* error of the last attempt */
    long http_status;
    char text[RPC_TEXT_MAX];
};

struct rpc_client {
    uv_loop_t *loop;
    struct http_client *http;
    bool own_http;
    struct rpc_endpoint eps[RPC_MAX_ENDPOINTS];
    size_t neps;
    struct rpc_opts o;
    struct rpc_call *calls;
    size_t nuser; /* user calls pending */
    uint64_t next_id;
    uint64_t rng;
    uv_timer_t retry_timer, poll_timer;
    int open_handles;
    bool ext_head_known;
    uint64_t ext_head;
    int depth; /* > 0 while user callbacks run */
    bool dead;
    char last_error[RPC_TEXT_MAX];
};

/* rpc_endpoint.c */
int rpc_endpoint_setup(struct rpc_endpoint *e,
                       const struct rpc_endpoint_cfg *cfg);
void rpc_endpoint_cleanup(struct rpc_endpoint *e);
size_t rpc_pick_endpoint(struct rpc_client *c, const struct rpc_call *k);
void rpc_endpoint_answered(struct rpc_client *c, size_t idx, uint64_t us);
void rpc_endpoint_failed(struct rpc_client *c, size_t idx, enum rpc_errclass ec,
                         const char *text);
void rpc_endpoint_count_error(struct rpc_client *c, size_t idx,
                              enum rpc_errclass ec);
/* Record endpoint idx's head; `ref` is the best head known when that head
 * was asked for (see struct rpc_endpoint.lag_ref). */
void rpc_endpoint_set_head(struct rpc_client *c, size_t idx, uint64_t head,
                           uint64_t ref);
void rpc_refresh_flags(struct rpc_client *c);
void rpc_scrub(const struct rpc_endpoint *e, char *text, size_t cap);

/* Returns: whether [p, end) holds only whitespace (rpc_reply.c). */
bool rpc_only_space(const char *p, const char *end);

#endif
