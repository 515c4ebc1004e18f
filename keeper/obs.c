/* obs.c - the rpc clients' own counters copied into the metrics registry
 * (daemon_int.h). The rpc client counts per endpoint and knows nothing of
 * metrics; a timer copies the differences over, so counters keep growing
 * across reloads (a new client starts from zero, the registry does not). */
#include <math.h>
#include <stdio.h>

#include "chain/err.h"
#include "chain/ws.h"
#include "keeper/daemon_int.h"
#include "keeper/log.h"

/* keeper_rpc_requests_total has a method label, but the client counts per
 * endpoint only: its requests are reported under this method value. */
#define OBS_METHOD_ALL "all"

/* Class label values of keeper_rpc_errors_total, by enum rpc_errclass. */
static const char *const obs_class[RPC_EC_COUNT] = {
    [RPC_EC_TRANSPORT] = METRIC_ERR_TRANSPORT,
    [RPC_EC_TIMEOUT] = METRIC_ERR_TIMEOUT,
    [RPC_EC_HTTP] = METRIC_ERR_HTTP,
    [RPC_EC_RPC] = METRIC_ERR_RPC,
    [RPC_EC_MALFORMED] = METRIC_ERR_DECODE,
    [RPC_EC_LIMIT] = "limit",
};

void
obs_attach(struct proto_rt *p)
{
    struct metrics *reg = p->d->metrics;

    p->nobs = rpc_endpoint_count(p->rpc);
    for (size_t i = 0; i < p->nobs; i++) {
        const char *name = rpc_endpoint_stats(p->rpc, i)->name;
        struct obs_endpoint *o = &p->obs[i];

        metrics_series(reg, &o->requests, METRIC_RPC_REQUESTS_TOTAL,
                       METRIC_LABELS(name, OBS_METHOD_ALL));
        for (size_t c = 0; c < RPC_EC_COUNT; c++)
            metrics_series(reg, &o->errors[c], METRIC_RPC_ERRORS_TOTAL,
                           METRIC_LABELS(name, obs_class[c]));
        metrics_series(reg, &o->latency, METRIC_RPC_LATENCY_SECONDS,
                       METRIC_LABELS(name));
    }
    /* The event stream's counters (--once has no stream and no
     * registry). */
    for (size_t i = 0; i < p->pc->chain.n_ws; i++)
        metrics_series(reg, &p->m_ws_reconnects[i], METRIC_WS_RECONNECTS_TOTAL,
                       METRIC_LABELS(p->pc->chain.ws[i].name));
    metrics_series(reg, &p->m_backfilled, METRIC_BACKFILLED_LOGS_TOTAL,
                   METRIC_LABELS(p->chain_label));
}

/* Add cur - *seen to counter h; a counter that went backwards (cannot
 * happen with one client) only resynchronises. */
static void
add_delta(struct metric *h, uint64_t *seen, uint64_t cur)
{
    if (cur > *seen)
        metric_add(h, (double)(cur - *seen));
    *seen = cur;
}

static double
bucket_lo(size_t i)
{
    return i == 0 ? 0.0 : rpc_latency_bounds_ms[i - 1] / 1000.0;
}

static double
bucket_hi(size_t i)
{
    return rpc_latency_bounds_ms[i] / 1000.0; /* i < RPC_LAT_BUCKETS - 1 */
}

/* A value inside bucket i ("le" bounds: lo < v <= hi). */
static double
inside(size_t i, double v)
{
    double lo = bucket_lo(i);

    if (i > 0 && v <= lo)
        v = nextafter(lo, INFINITY);
    if (i < RPC_LAT_BUCKETS - 1 && v > bucket_hi(i))
        v = bucket_hi(i);
    return v;
}

/* Where to put the observations of each bucket: finite buckets at one
 * common fraction t of their width, chosen to match the sum; with
 * observations past the last bound, finite ones at their middle and the
 * rest of the sum on the open bucket. */
static void
place(double v[RPC_LAT_BUCKETS], const uint64_t d[RPC_LAT_BUCKETS], double sum)
{
    const size_t last = RPC_LAT_BUCKETS - 1;
    double a = 0, b = 0, t = 1, mid = 0;

    for (size_t i = 0; i < last; i++) {
        a += (double)d[i] * bucket_lo(i);
        b += (double)d[i] * bucket_hi(i);
        mid += (double)d[i] * (bucket_lo(i) + bucket_hi(i)) / 2;
    }
    if (d[last] > 0) {
        for (size_t i = 0; i < last; i++)
            v[i] = inside(i, (bucket_lo(i) + bucket_hi(i)) / 2);
        v[last] = inside(last, (sum - mid) / (double)d[last]);
        return;
    }
    if (b > a)
        t = fmin(1.0, fmax(0.0, (sum - a) / (b - a)));
    for (size_t i = 0; i < last; i++)
        v[i] = inside(i, bucket_lo(i) + t * (bucket_hi(i) - bucket_lo(i)));
    v[last] = 0;
}

uint64_t
obs_latency_feed(struct metric *h, uint64_t seen[RPC_LAT_BUCKETS],
                 const uint64_t cur[RPC_LAT_BUCKETS], uint64_t sum_us)
{
    uint64_t d[RPC_LAT_BUCKETS], n = 0;
    double v[RPC_LAT_BUCKETS];

    for (size_t i = 0; i < RPC_LAT_BUCKETS; i++) {
        d[i] = cur[i] > seen[i] ? cur[i] - seen[i] : 0;
        seen[i] = cur[i];
        n += d[i];
    }
    if (n == 0)
        return 0;
    place(v, d, (double)sum_us / 1e6);
    for (size_t i = 0; i < RPC_LAT_BUCKETS; i++)
        for (uint64_t k = 0; k < d[i]; k++)
            metric_observe(h, v[i]);
    return n;
}

static void
obs_sync_events(struct proto_rt *p)
{
    const struct events_stats *st;

    if (p->events == NULL)
        return;
    st = events_stats(p->events);
    if (p->ws != NULL) {
        const struct ws_stats *ws = ws_stats(p->ws);

        for (size_t i = 0; i < p->pc->chain.n_ws; i++)
            if (p->m_ws_reconnects[i] != NULL)
                add_delta(p->m_ws_reconnects[i], &p->seen_ws_reconnects[i],
                          ws->reconnects[i]);
    }
    if (p->m_backfilled != NULL)
        add_delta(p->m_backfilled, &p->seen_backfilled, st->backfilled_logs);
}

void
obs_sync(struct proto_rt *p)
{
    for (size_t i = 0; i < p->nobs; i++) {
        const struct rpc_endpoint_stats *st = rpc_endpoint_stats(p->rpc, i);
        struct obs_endpoint *o = &p->obs[i];

        add_delta(o->requests, &o->seen_requests, st->requests);
        for (size_t c = 0; c < RPC_EC_COUNT; c++)
            add_delta(o->errors[c], &o->seen_errors[c], st->errors[c]);
        obs_latency_feed(o->latency, o->seen_buckets, st->latency_buckets,
                         st->latency_sum_us > o->seen_sum_us
                             ? st->latency_sum_us - o->seen_sum_us
                             : 0);
        o->seen_sum_us = st->latency_sum_us;
    }
    obs_sync_events(p);
}

void
obs_head_age(struct proto_rt *p, uint64_t now_s)
{
    if (!p->have_head)
        return;
    metric_set(p->m_head_age, now_s > p->head.timestamp
                                  ? (double)(now_s - p->head.timestamp)
                                  : 0.0);
}

/* ---- evaluations ---- */

#define M_EVALS "keeper_evaluations_total"
#define M_EVAL_ERRORS "keeper_evaluation_errors_total"
#define M_EVAL_LATENCY "keeper_evaluation_latency_seconds"
#define M_DECISIONS "keeper_decisions_total"
#define M_TIER "keeper_tier"
#define M_RESERVE "keeper_reserve_balance"
#define M_ACTIONS "keeper_actions_total"

static const double eval_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static const struct metric_desc eval_families[] = {
    {.name = M_EVALS,
     .help = "Evaluations of the protocol state that reached a decision.",
     .type = METRIC_TYPE_COUNTER,
     .label_names = {"protocol"},
     .nlabels = 1},
    {.name = M_EVAL_ERRORS,
     .help = "Evaluations that could not read the protocol state.",
     .type = METRIC_TYPE_COUNTER,
     .label_names = {"protocol"},
     .nlabels = 1},
    {.name = M_EVAL_LATENCY,
     .help = "Time from receiving a head (or a price) to the decision.",
     .type = METRIC_TYPE_HISTOGRAM,
     .label_names = {"protocol"},
     .nlabels = 1,
     .buckets = eval_buckets,
     .nbuckets = sizeof(eval_buckets) / sizeof(eval_buckets[0])},
    {.name = M_DECISIONS,
     .help = "Decisions by action (none, inject, clawback).",
     .type = METRIC_TYPE_COUNTER,
     .label_names = {"protocol", "action"},
     .nlabels = 2},
    {.name = M_TIER,
     .help = "Tier of the last evaluation: 0 T1 (ok), 1 amber (health "
             "warning), 2 T2 (backstop injection), 3 T3 (clawback).",
     .type = METRIC_TYPE_GAUGE,
     .label_names = {"protocol"},
     .nlabels = 1},
    {.name = M_RESERVE,
     .help = "Reserve fund balance at the last evaluation, in token units.",
     .type = METRIC_TYPE_GAUGE,
     .label_names = {"protocol"},
     .nlabels = 1},
    {.name = M_ACTIONS,
     .help = "States reached by actions (simulated_revert, dry_run, sent, "
             "replaced, confirmed, failed).",
     .type = METRIC_TYPE_COUNTER,
     .label_names = {"protocol", "action", "outcome"},
     .nlabels = 3},
};

static void
series(struct metrics *reg, struct metric **out, const char *name,
       const char *const *values, size_t n)
{
    int rc = metrics_series(reg, out, name, values, n);

    if (rc != 0) {
        *out = NULL;
        log_warn("metrics", "cannot create a series", "name", name, LOG_RC(rc));
    }
}

void
obs_eval_attach(struct proto_rt *p)
{
    struct metrics *reg = p->d->metrics;
    struct eval_rt *ev = &p->ev;
    const char *name = p->pc->name;

    if (reg == NULL)
        return;
    for (size_t i = 0; i < sizeof(eval_families) / sizeof(eval_families[0]);
         i++)
        if (metrics_define(reg, &eval_families[i]) != 0)
            log_warn("metrics", "cannot define a family", "name",
                     eval_families[i].name);
    series(reg, &ev->m_evals, M_EVALS, METRIC_LABELS(name));
    series(reg, &ev->m_eval_errors, M_EVAL_ERRORS, METRIC_LABELS(name));
    series(reg, &ev->m_latency, M_EVAL_LATENCY, METRIC_LABELS(name));
    series(reg, &ev->m_tier, M_TIER, METRIC_LABELS(name));
    series(reg, &ev->m_reserve, M_RESERVE, METRIC_LABELS(name));
    for (int a = 0; a < POLICY_ACTION_COUNT; a++)
        series(reg, &ev->m_decisions[a], M_DECISIONS,
               METRIC_LABELS(name, policy_action_name((enum policy_action)a)));
    series(reg, &ev->m_decisions[POLICY_ACTION_COUNT], M_DECISIONS,
           METRIC_LABELS(name, "none"));
}

void
obs_action(struct proto_rt *p, enum policy_action a, enum txm_state st)
{
    struct metric *m;

    if (p->d->metrics == NULL)
        return;
    /* Rare (one per action state): the lookup is fine here. */
    series(
        p->d->metrics, &m, M_ACTIONS,
        METRIC_LABELS(p->pc->name, policy_action_name(a), txm_state_name(st)));
    metric_inc(m);
}
