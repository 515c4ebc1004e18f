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
#include "chain/rpc.h"
#include "chain/signer.h"
#include "config/cfg.h"
#include "keeper/daemon.h"
#include "keeper/heads.h"
#include "keeper/httpd.h"
#include "keeper/metrics.h"

/* Readiness: a head older than max(DAEMON_FRESH_POLLS x poll interval,
 * DAEMON_FRESH_MIN_MS) is stale. */
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

struct daemon;

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
    struct head head;
    uint64_t head_seen_ns;  /* uv_hrtime() when the head was last polled */
    uint64_t head_failures; /* polls failed in a row */
    char last_error[DAEMON_ERR_MAX];

    struct metric *m_head_block, *m_head_age;
    struct obs_endpoint obs[CFG_MAX_RPC];
    size_t nobs;

    bool once_reported; /* --once: the summary line is out */
    bool once_ok;
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

/* ---- daemon.c ---- */

/* --once: protocol p is done (ok or not); the daemon stops after the
 * last one. */
void daemon_once_done(struct daemon *d, struct proto_rt *p, bool ok);

#endif
