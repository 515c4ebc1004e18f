/*
 * daemon_int.h - the daemon's private parts, shared by daemon.c (loop,
 * signals, lifecycle), protocol_rt.c (one protocol's runtime), status.c
 * (/status and /readyz) and obs.c (rpc counters into metrics).
 */
#ifndef KP_KEEPER_DAEMON_INT_H
#define KP_KEEPER_DAEMON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "chain/address.h"
#include "chain/events.h"
#include "chain/rpc.h"
#include "chain/ws.h"
#include "chain/signer.h"
#include "chain/txm.h"
#include "config/cfg.h"
#include "keeper/alert.h"
#include "keeper/daemon.h"
#include "keeper/evaluate.h"
#include "keeper/heads.h"
#include "keeper/httpd.h"
#include "keeper/metrics.h"
#include "oracle/source.h"
#include "strategies/policy.h"

/* Readiness: a head not confirmed current for max(DAEMON_FRESH_POLLS x
 * poll interval, DAEMON_FRESH_MIN_MS) is stale. */
#define DAEMON_FRESH_POLLS 3
#define DAEMON_FRESH_MIN_MS 30000
/* How often rpc counters are copied into the registry and the head age
 * gauge is refreshed. */
#define DAEMON_OBS_MS 1000
/* A stop that has not finished by then exits anyway. */
#define DAEMON_STOP_GRACE_MS 15000
/* Failures in a row after which an endpoint rests (rpc_opts). */
#define DAEMON_FAIL_THRESHOLD 3
#define DAEMON_LISTEN_MAX (CFG_HOST_MAX + 8)
#define DAEMON_ERR_MAX 192
/* Cap on the WebSocket reconnect delay: the HTTP polling fallback covers
 * the gap, but a node back from a restart should be used soon. */
#define DAEMON_WS_BACKOFF_MAX_MS 5000
/* Bytes of data per oracle log (an AnswerUpdated log has 32). */
#define ORACLES_LOG_DATA_MAX 256

/* Actions shown in /status (the most recent ones). */
#define EVAL_ACTIONS_KEPT 32
/* Evaluations failed in a row before the "evaluation" alert fires. */
#define EVAL_FAIL_ALERT 3
/* Head polls in a row with no healthy endpoint before the rpc/no_healthy
 * alert fires. */
#define EVAL_RPC_BAD_POLLS 3
/* On stop or reload, how long queued alerts may take to go out. */
#define ALERT_DRAIN_MS 3000

struct daemon;
struct oracles_rt;
struct proto_rt;

/* The callback argument of one call of an evaluation's batch. */
struct eval_slot {
    struct proto_rt *p;
    unsigned idx; /* enum eval_read, or EVAL_NREADS: the signer balance */
};

/* One protocol's evaluation (eval_rt.c) and what came of it (actions.c).
 * The policy memory, the last record and the actions carry over a
 * reload. */
struct eval_rt {
    struct eval_calls *calls; /* owned */
    struct policy_params params;
    struct policy_memory mem;

    /* The evaluation in flight: at most one; a trigger meanwhile runs
     * one more after it. */
    bool inflight, again;
    uint64_t batch_id;
    uint64_t block, block_ts, trigger_ns;
    uint8_t block_hash[32];
    struct eval_slot slots[EVAL_NREADS + 1];
    unsigned parts; /* replies still to come */
    struct u256 vals[EVAL_NREADS];
    bool have_balance;
    struct u256 signer_balance; /* wei */
    int err;
    char errtext[EVAL_ERR_MAX];
    uint64_t failures; /* evaluations failed in a row */
    bool refused;      /* the last snapshot failed protocol_state_check */
    uint64_t logged_block;
    enum policy_tier logged_tier;

    bool have_last;
    struct eval_record last;
    struct eval_action actions[EVAL_ACTIONS_KEPT]; /* ring */
    uint64_t act_decided_ns[EVAL_ACTIONS_KEPT];
    bool act_hidden[EVAL_ACTIONS_KEPT]; /* submitted, no report yet */
    size_t nactions, next_action;

    unsigned rpc_bad_polls; /* head polls in a row without a healthy
                               endpoint */

    struct metric *m_evals, *m_eval_errors, *m_latency, *m_tier, *m_reserve;
    struct metric *m_decisions[POLICY_ACTION_COUNT + 1]; /* + "none" */

    /* --once */
    bool once_wait; /* chain id and head are in: evaluate when settled */
    bool once_done; /* evaluated and simulated: print and report */
    uv_timer_t *once_timer;
    size_t once_sims; /* simulations still to report */
    char once_lines[1024];
};

/* What has been copied from one endpoint's rpc counters into the
 * registry, so the next copy adds only the difference. */
struct obs_endpoint {
    struct metric *requests;
    struct metric *errors[RPC_EC_COUNT];
    struct metric *latency;
    uint64_t seen_requests;
    uint64_t seen_errors[RPC_EC_COUNT];
    uint64_t seen_buckets[RPC_LAT_BUCKETS];
    uint64_t seen_sum_us;
};

enum chain_id_state {
    CHAIN_ID_UNKNOWN = 0, /* not asked yet, or the question failed */
    CHAIN_ID_OK,
    CHAIN_ID_MISMATCH,
};

/* One protocol's runtime. Built from a cfg_protocol that must outlive it
 * (the daemon's current struct cfg). */
struct proto_rt {
    struct daemon *d;
    const struct cfg_protocol *pc;
    struct rpc_client *rpc;
    /* Heads and oracle logs: the event stream (over `ws` when chain.ws
     * names an endpoint, else HTTP polling); --once polls one head with
     * `heads` instead. */
    struct events *events;
    struct ws_client *ws;
    struct heads *heads;
    struct signer *signer;        /* NULL while it is to be adopted (reload) */
    struct proto_rt *signer_from; /* reload: take its signer */
    char address[ETH_ADDR_STR_LEN]; /* of the signer, EIP-55 */
    char chain_label[24];           /* decimal chain id */
    uint32_t fail_threshold;

    enum chain_id_state chain_id;
    uint64_t chain_id_seen; /* what the endpoint said */
    bool chain_id_inflight;
    uint64_t chain_id_call;

    bool have_head;
    struct head head;       /* endpoint: RPC_ENDPOINT_NONE from the stream */
    uint64_t head_seen_ns;  /* uv_hrtime() when the head was last processed
                               or confirmed current (proto_rt_tick) */
    uint64_t head_failures; /* stream errors / polls failed in a row */
    char last_error[DAEMON_ERR_MAX];

    struct metric *m_head_block, *m_head_age;
    struct obs_endpoint obs[CFG_MAX_RPC];
    size_t nobs;
    struct metric *m_ws_reconnects[CFG_MAX_WS]; /* per chain.ws endpoint */
    uint64_t seen_ws_reconnects[CFG_MAX_WS];
    struct metric *m_backfilled; /* NULL: none */
    uint64_t seen_backfilled;

    bool once_reported; /* --once: the summary line is out */
    bool once_ok;

    /* Chain time the oracles have caught up with: the timestamp of the
     * newest head whose AnswerUpdated logs were all handed to the sources
     * (proto_clock). */
    uint64_t clock_ts;

    struct eval_rt ev;
    struct oracles_rt *orc;
    struct txm *txm;
    struct txm_journal *journal;
    struct alert_mgr *alerts;     /* NULL with --once */
    struct proto_rt *alerts_from; /* reload: take its alert manager */
    struct proto_rt *eval_from;   /* reload: take its policy memory */
};

struct daemon {
    uv_loop_t loop;
    struct daemon_opts o;
    struct cfg cfg;
    struct proto_rt **protos;
    size_t nprotos;
    struct metrics *metrics;
    struct httpd *httpd;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t obs_timer;
    uv_timer_t stop_timer;
    uint64_t start_ns;
    uint64_t reloads;
    bool stopping;
    int exit_code;
    size_t once_left; /* --once: protocols not reported yet */
    bool once_failed;
    bool was_ready;   /* readiness at the last obs tick, to log changes */
    char *listen_str; /* the running httpd's listen address (owned) */
};

/* ---- protocol_rt.c ---- */

/* Build the runtime of `pc`: rpc client, head source (not started),
 * metric handles, and the signer - opened now, or, when `prev` (the
 * runtime being replaced, may be NULL) has an identical signer section,
 * taken over from it by proto_rt_start. Nothing is sent yet.
 * Returns: 0, or a KP_E* code with one line in err.
 * Out: *out, err   In: d, pc, prev */
int proto_rt_new(struct proto_rt **out, char *err, size_t errcap,
                 struct daemon *d, const struct cfg_protocol *pc,
                 struct proto_rt *prev);

/* Take the signer over if so arranged, then start asking for the chain id
 * and heads (with d->o.once: one head only). */
void proto_rt_start(struct proto_rt *p);

/* The obs timer ticked: a processed head that is still the best known
 * one while an endpoint is healthy is confirmed current (a chain that
 * does not move is not a stale keeper); the rpc/no_healthy alert is
 * re-judged. In: p, now_ns (uv_hrtime clock) */
void proto_rt_tick(struct proto_rt *p, uint64_t now_ns);

/* Returns: whether any of p's rpc endpoints is healthy. */
bool proto_any_healthy(const struct proto_rt *p);

/* Copy the counters into the registry one last time, then free the
 * runtime (its clients close on the loop). NULL is a no-op. */
void proto_rt_free(struct proto_rt *p);

/* Returns: whether the signer sections of a and b name the same key. */
bool proto_signer_cfg_equal(const struct cfg_signer *a,
                            const struct cfg_signer *b);

/* Returns: "keystore", "key_file" or "env". */
const char *proto_signer_source_name(const struct proto_rt *p);

/* ---- status.c ---- */

/* Returns: the freshness bound of heads for this protocol, in ms. */
uint64_t proto_fresh_ms(const struct cfg_protocol *pc);

/* Returns: whether endpoint `st` is usable: not resting and not lagging
 * and fewer than `fail_threshold` failures in a row. */
bool proto_endpoint_healthy(const struct rpc_endpoint_stats *st,
                            uint32_t fail_threshold);

/* Readiness of one protocol at `now_ns` (uv_hrtime clock).
 * Returns: true, or false with a one-line reason in `reason`. */
bool proto_rt_ready(const struct proto_rt *p, uint64_t now_ns, char *reason,
                    size_t reasonsz);

/* httpd callbacks; arg is the struct daemon. */
bool daemon_ready(void *arg, char *reason, size_t reasonsz);
cJSON *daemon_status(void *arg);

/* ---- obs.c ---- */

/* Create the metric handles of p's endpoints (labels: configured names). */
void obs_attach(struct proto_rt *p);

/* Define the evaluation families and create p's series:
 *   keeper_evaluations_total             counter   {protocol}
 *   keeper_evaluation_errors_total       counter   {protocol}
 *   keeper_evaluation_latency_seconds    histogram {protocol}  head
 *                                        received -> decision
 *   keeper_decisions_total               counter   {protocol, action}
 *   keeper_tier                          gauge     {protocol} 0..3
 *   keeper_reserve_balance               gauge     {protocol} token units
 *   keeper_actions_total                 counter   {protocol, action,
 *                                                   outcome} (obs_action)
 */
void obs_eval_attach(struct proto_rt *p);

/* Count one state reached by an action (outcome: txm_state_name). */
void obs_action(struct proto_rt *p, enum policy_action a, enum txm_state st);

/* Add what p's rpc counters gained since the last copy. */
void obs_sync(struct proto_rt *p);

/* Set keeper_head_age_seconds from the head's timestamp and `now_s`
 * (Unix seconds). */
void obs_head_age(struct proto_rt *p, uint64_t now_s);

/* Feed histogram `h` with the observations that moved the latency buckets
 * from `seen` to `cur` (bounds rpc_latency_bounds_ms), placed inside their
 * buckets so that their sum is `sum_us` microseconds as far as the
 * buckets allow. `seen` is updated to `cur`.
 * Returns: the number of observations made. */
uint64_t obs_latency_feed(struct metric *h, uint64_t seen[RPC_LAT_BUCKETS],
                          const uint64_t cur[RPC_LAT_BUCKETS], uint64_t sum_us);

/* Returns: the clock of decisions and price freshness, unix seconds:
 * the later of the wall clock and p->clock_ts. A devnet replay runs its
 * chain hours ahead of the wall clock, so chain time must count; but only
 * as far as the oracles have seen the chain, or a head that jumped ahead
 * would make the last price look stale until its update is read. A
 * stalled chain does not stop the wall clock, so a price still ages. */
uint64_t proto_clock(const struct proto_rt *p);

/* --once: the evaluation (and its simulations) is done; print the
 * summary and report. */
void proto_once_finish(struct proto_rt *p);

/* ---- eval_rt.c ---- */

/* Prepare p's evaluation: calls, policy parameters and memory, metric
 * handles.
 * Returns: 0, or an error with one line in err. */
int eval_rt_init(struct proto_rt *p, char *err, size_t errcap);

/* Take the policy memory, the last record and the actions of `prev`
 * (reload). Intents that prev's transaction manager still tracked are
 * closed in the memory: as spent when a transaction may be on a node,
 * else as failed. */
void eval_rt_adopt(struct proto_rt *p, struct proto_rt *prev);

/* Cancel the evaluation in flight and release. */
void eval_rt_cleanup(struct proto_rt *p);

/* Evaluate now, or once more after the one in flight. Needs a head and a
 * verified chain id (otherwise a no-op). `why`: "head", "oracle". */
void eval_trigger(struct proto_rt *p, const char *why);

/* --once: chain id and head are known; evaluate as soon as the oracles
 * have answered (or failed) their first read. */
void eval_once_begin(struct proto_rt *p);

/* ---- actions.c ---- */

/* Build p's transaction manager (journal under d->o.state_dir, if set)
 * and, unless --once, its alert manager (or arrange to take prev's when
 * the alerts section is unchanged).
 * Returns: 0, or an error with one line in err. */
int actions_init(struct proto_rt *p, char *err, size_t errcap,
                 struct proto_rt *prev);

/* Take the alert manager over if so arranged. */
void actions_start(struct proto_rt *p);

/* Free the transaction manager and journal; hand the alert manager to a
 * drain that gives queued alerts ALERT_DRAIN_MS to go out. */
void actions_cleanup(struct proto_rt *p);

/* A head poll succeeded (moved: a new head) or failed: txm_on_head, the
 * rpc/no_healthy alert. */
void actions_on_head(struct proto_rt *p, bool moved);
void actions_on_head_error(struct proto_rt *p);

/* A decision was made: alerts (tier, policy conditions), then its
 * intents go to the transaction manager. */
void actions_on_decision(struct proto_rt *p, const struct policy_decision *d);

/* The signer's balance read with the snapshot (the signer/low_balance
 * alert). */
void actions_on_balance(struct proto_rt *p, const struct u256 *wei);

/* An evaluation failed / succeeded (the "evaluation" alert after
 * EVAL_FAIL_ALERT failures in a row). */
void actions_on_eval_result(struct proto_rt *p, bool ok);

/* An oracle's freshness changed (the "stale_oracle/<name>" alert). */
void actions_on_oracle_state(struct proto_rt *p, const struct oracle_source *s,
                             enum oracle_state to);

/* Record an action in the ring (new key) or update it; returns it. */
struct eval_action *actions_record(struct proto_rt *p, const char *key);

/* ---- oracles_rt.c ---- */

/* The price a decision uses (see oracles_rt_view). */
struct eval_price {
    struct oracle_price price; /* valid when has_price */
    bool has_price;
    enum oracle_state state;
    const char *asset;
    double sigma_ewma, sigma_long;
};

/* Build p's oracle sources (not started) with their histories.
 * Returns: 0, or an error with one line in err. */
int oracles_rt_new(struct oracles_rt **out, char *err, size_t errcap,
                   struct proto_rt *p);
void oracles_rt_start(struct oracles_rt *o);
/* NULL: no-op. */
void oracles_rt_free(struct oracles_rt *o);

/* The AnswerUpdated filters of the sources, for the event stream.
 * Returns: how many were written to f (at most CFG_MAX_ORACLES). */
size_t oracles_rt_filters(const struct oracles_rt *o,
                          struct evlog_filter f[CFG_MAX_ORACLES]);

/* A log from the event stream: held until its block's head. */
void oracles_rt_on_log(struct oracles_rt *o, const struct evlog *log,
                       bool removed);

/* A new head, its logs delivered before (event stream) or none (--once).
 * The clock moves to its time; the first one starts the sources (their
 * first read covers the past); later ones hand the held logs over. */
void oracles_rt_on_head(struct oracles_rt *o, uint64_t number,
                        uint64_t timestamp);

/* Returns: whether every source has a price or has failed a read. */
bool oracles_rt_settled(const struct oracles_rt *o);

/* The price for the policy: the first source's, unless another source
 * is not fresh (then that one's: no action on any stale price). Each
 * source is re-judged at the clock's now first.
 * Out: out   In/out: o */
void oracles_rt_view(struct oracles_rt *o, struct eval_price *out);

/* ---- daemon.c ---- */

/* --once: protocol p is done (ok or not); the daemon stops after the
 * last one. */
void daemon_once_done(struct daemon *d, struct proto_rt *p, bool ok);

#endif
