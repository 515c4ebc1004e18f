/*
 * events_int.h - private declarations shared by events.c (sources,
 * delivery, lifecycle) and events_sync.c (reading the chain: rounds of
 * JSON-RPC batches).
 */
#ifndef KP_CHAIN_EVENTS_INT_H
#define KP_CHAIN_EVENTS_INT_H

#include "chain/events.h"
#include "chain/logwin.h"

#define EV_TEXT_MAX 256
#define EV_MAX_BACK 256 /* deepest ancestor search, blocks */

/* A head waiting to be processed. */
struct ev_head {
    struct blocktrack_hdr h;
    uint64_t gen; /* WebSocket connection it came on; 0: polled */
    uint64_t seq; /* arrival order */
};

/* Logs read in one round, owned. */
struct ev_logvec {
    struct logwin_entry **v;
    size_t n, cap;
};

enum ev_round_kind {
    EV_R_ANCHOR,  /* header of from_block - 1 */
    EV_R_HEADERS, /* headers by number: ancestor, new blocks */
    EV_R_LOGS,    /* logs of the new blocks */
    EV_R_BULK,    /* logs of a deep range, tip check, anchor header */
    EV_R_RECHECK, /* logs of the last processed blocks again */
    EV_R_POLL,    /* the latest header */
};

enum ev_item_kind { EV_I_HEADER, EV_I_LOGS };

struct ev_round;

struct ev_item {
    struct ev_round *r;
    enum ev_item_kind kind;
    size_t idx; /* header slot or filter index */
};

struct ev_round {
    struct events *ev;
    enum ev_round_kind kind;
    struct ev_item *items;
    size_t nitems, ndone;
    int err;          /* first failure */
    bool logs_failed; /* an eth_getLogs failed */
    char text[EV_TEXT_MAX];
    struct blocktrack_hdr *hdrs; /* by slot */
    uint64_t *want;              /* number asked for in each slot;
                                    UINT64_MAX: "latest" */
    bool *have;                  /* slot answered with a block */
    size_t nhdrs;
    uint64_t from, to; /* logs range */
    uint64_t seq;      /* heads up to this one are covered */
    struct ev_logvec logs;
};

struct events {
    uv_loop_t *loop;
    struct rpc_client *rpc;
    struct ws_client *ws;
    struct evlog_filter *filters;
    size_t nfilters;
    struct events_opts o;
    struct events_callbacks cb;
    void *arg;

    struct blocktrack bt;  /* processed chain */
    struct logwin win;     /* delivered logs, recent blocks */
    struct logwin pend;    /* live logs waiting for their head */
    uint64_t first_number; /* logs below are not delivered */
    uint64_t pend_max;     /* highest block number put in pend */

    struct ev_head *hq; /* ring of waiting heads */
    size_t hq_cap, hq_start, hq_len;
    uint64_t hq_seq;

    /* WebSocket subscriptions, per connection */
    uint64_t gen;                  /* connection generation */
    uint64_t next_id;              /* JSON-RPC ids on the WebSocket */
    uint64_t sub_base;             /* id of this connection's first
                                      eth_subscribe */
    char (*subs)[EVLOG_SUBID_MAX]; /* nfilters logs, then newHeads */
    size_t subs_ok;
    bool heads_sent;
    bool live;
    uint64_t fast_min; /* live heads below: read by number */
    uint64_t opens;
    uint8_t *msgbuf; /* log data of a WebSocket message */

    /* reading */
    struct ev_round *round; /* in flight */
    uint64_t round_id;
    struct ev_round *poll; /* poll in flight */
    uint64_t poll_id;
    bool waiting; /* retry timer armed */
    uint32_t retry_ms;
    uint64_t chunk; /* eth_getLogs range */
    uint64_t hspan; /* headers per round */
    uint64_t back;  /* ancestor search depth */
    bool recheck;
    bool check_tip; /* the tip failed a check: search */
    uv_timer_t poll_timer, retry_timer, kick_timer;
    int handles;
    int in_cb;
    bool dead;

    struct events_stats st;
    char last_error[EV_TEXT_MAX];
};

/* events.c */
void events_kick(struct events *ev);
void events_set_error(struct events *ev, int err, const char *text);
void events_fail(struct events *ev, int err, const char *text);
void events_wait(struct events *ev, uint32_t ms);
void events_backoff(struct events *ev);
void events_deliver(struct events *ev, const struct evlog *l, bool live);
void events_remove(struct events *ev, const struct evlog *l);
void events_head_done(struct events *ev, const struct blocktrack_hdr *h);
void events_prune(struct events *ev);
const struct ev_head *events_hq_front(const struct events *ev);
const struct ev_head *events_hq_back(const struct events *ev);
void events_hq_pop(struct events *ev);
void events_hq_drop_covered(struct events *ev, uint64_t seq, uint64_t upto);
void events_hq_push(struct events *ev, const struct blocktrack_hdr *h,
                    uint64_t gen);
struct logwin_entry *events_entry_new(const struct evlog *l);
void events_logvec_push(struct ev_logvec *v, struct logwin_entry *e);
void events_logvec_free(struct ev_logvec *v);

/* events_sync.c */
void events_step(struct events *ev);
void events_round_free(struct ev_round *r);
int events_poll_start(struct events *ev);

#endif
