/* oracles_rt.c - one protocol's price sources (daemon_int.h): a Chainlink
 * source per configured oracle, each with its own price history, on the
 * protocol's rpc client and clock; their prices trigger evaluations and
 * their freshness drives the stale-oracle alert.
 *
 * AnswerUpdated logs: until the event stream (chain/events.h) is wired
 * into the daemon, logs_* below fetch them per new head with one
 * eth_getLogs over the blocks since the last fetch. What that fallback
 * does not do - reorgs (a removed log), backfill after a long outage - the
 * sources' heartbeat read covers within one heartbeat. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "chain/evlog.h"
#include "chain/hex.h"
#include "keeper/daemon_int.h"
#include "keeper/log.h"
#include "oracle/chainlink.h"

/* A gap wider than this is not fetched log by log: the sources re-read. */
#define LOGS_RANGE_MAX 1000
#define LOG_DATA_MAX 256 /* an AnswerUpdated log has 32 bytes of data */

struct oracles_rt {
    struct proto_rt *p;
    size_t n;
    struct oracle_chainlink *cl[CFG_MAX_ORACLES];
    struct oracle_history hist[CFG_MAX_ORACLES];
    bool started;

    /* Log fetching (the fallback above). */
    bool have_next;
    uint64_t next_block; /* first block whose logs are not fetched */
    bool logs_inflight;
    uint64_t logs_call;
    uint64_t logs_to, logs_to_ts;     /* last block of the fetch in flight */
    uint64_t logs_want, logs_want_ts; /* a head seen meanwhile: next */
};

static void
clock_advance(struct oracles_rt *o, uint64_t ts)
{
    if (ts > o->p->clock_ts)
        o->p->clock_ts = ts;
}

static struct oracle_source *
src(const struct oracles_rt *o, size_t i)
{
    return oracle_chainlink_source(o->cl[i]);
}

/* ---- source callbacks ---- */

static uint64_t
clock_of(void *arg)
{
    struct oracles_rt *o = arg;

    return proto_clock(o->p);
}

static void
on_price(void *arg, struct oracle_source *s, const struct oracle_price *p)
{
    struct oracles_rt *o = arg;

    if (log_enabled(LOG_LEVEL_DEBUG)) {
        char v[U256_DEC_MAX + 2];

        if (u256_fmt_units(v, sizeof(v), &p->answer, p->decimals) != 0)
            snprintf(v, sizeof(v), "?");
        log_debug("oracle", "price", "protocol", o->p->pc->name, "oracle",
                  oracle_source_name(s), "asset", oracle_source_asset(s),
                  "value", v, LOG_U64("updated_at", p->updated_at));
    }
    eval_trigger(o->p, "oracle");
}

static void
on_state(void *arg, struct oracle_source *s, enum oracle_state from,
         enum oracle_state to)
{
    struct oracles_rt *o = arg;
    const struct oracle_price *p = oracle_source_latest(s);
    uint64_t now = oracle_source_now(s);

    if (to == ORACLE_STATE_STALE)
        log_warn("oracle", "price is stale: no action on it", "protocol",
                 o->p->pc->name, "oracle", oracle_source_name(s),
                 LOG_U64("age_s", p ? oracle_price_age(p, now) : 0),
                 LOG_U64("max_age_s", s->max_age));
    else
        log_info("oracle", "price state", "protocol", o->p->pc->name,
                 "oracle", oracle_source_name(s), "from",
                 oracle_state_name(from), "to", oracle_state_name(to));
    actions_on_oracle_state(o->p, s, to);
}

static void
on_reject(void *arg, struct oracle_source *s, enum oracle_reject why,
          const char *text)
{
    struct oracles_rt *o = arg;

    log_warn("oracle", "price refused", "protocol", o->p->pc->name, "oracle",
             oracle_source_name(s), "why", oracle_reject_name(why), "error",
             text);
    /* --once waits for a first answer; a refusal is one. */
    eval_trigger(o->p, "oracle");
}

/* ---- building ---- */

static int
history_init(struct oracle_history *h, const struct cfg_oracle *oc)
{
    struct oracle_history_params hp;

    oracle_history_params_default(&hp);
    hp.lambda_day = oc->ewma_lambda;
    hp.lambda_long_day = fmax(hp.lambda_long_day, oc->ewma_lambda);
    return oracle_history_init(h, &hp);
}

static uint32_t
heartbeat_of(const struct cfg_oracle *oc)
{
    uint64_t ms = oc->heartbeat_ms;

    if (ms < ORACLE_CL_HEARTBEAT_MIN_MS)
        ms = ORACLE_CL_HEARTBEAT_MIN_MS;
    if (ms > ORACLE_CL_HEARTBEAT_MAX_MS)
        ms = ORACLE_CL_HEARTBEAT_MAX_MS;
    return (uint32_t)ms;
}

static int
source_build(struct oracles_rt *o, size_t i, char *err, size_t errcap)
{
    const struct cfg_oracle *oc = &o->p->pc->oracles[i];
    struct oracle_chainlink_cfg cc;
    uint64_t age_s = oc->max_age_ms / 1000;
    int rc;

    if ((rc = history_init(&o->hist[i], oc)) != 0) {
        snprintf(err, errcap, "%s: oracle %s: bad ewma_lambda", o->p->pc->name,
                 oc->name);
        return rc;
    }
    oracle_chainlink_cfg_init(&cc);
    cc.base.name = oc->name;
    cc.base.asset = oc->asset;
    cc.base.max_age = age_s > 0 ? age_s : 1;
    cc.base.history = &o->hist[i];
    cc.base.cbs = (struct oracle_source_cbs){
        .on_price = on_price,
        .on_state = on_state,
        .on_reject = on_reject,
        .arg = o,
    };
    cc.base.clock = clock_of;
    cc.base.clock_arg = o;
    cc.feed = oc->address;
    cc.heartbeat_ms = heartbeat_of(oc);
    rc = oracle_chainlink_new(&o->cl[i], &o->p->d->loop, o->p->rpc, &cc);
    if (rc != 0)
        snprintf(err, errcap, "%s: oracle %s: %s", o->p->pc->name, oc->name,
                 kp_strerror(rc));
    return rc;
}

int
oracles_rt_new(struct oracles_rt **out, char *err, size_t errcap,
               struct proto_rt *p)
{
    struct oracles_rt *o = kp_xcalloc(1, sizeof(*o));
    int rc;

    *out = NULL;
    o->p = p;
    for (size_t i = 0; i < p->pc->n_oracles; i++) {
        if ((rc = source_build(o, i, err, errcap)) != 0) {
            oracle_history_cleanup(&o->hist[i]);
            oracles_rt_free(o);
            return rc;
        }
        o->n++;
    }
    *out = o;
    return 0;
}

void
oracles_rt_start(struct oracles_rt *o)
{
    int rc;

    o->started = true;
    for (size_t i = 0; i < o->n; i++)
        if ((rc = oracle_source_start(src(o, i))) != 0)
            log_error("oracle", "cannot start the price source", "protocol",
                      o->p->pc->name, "oracle", oracle_source_name(src(o, i)),
                      LOG_RC(rc));
}

void
oracles_rt_free(struct oracles_rt *o)
{
    if (o == NULL)
        return;
    if (o->logs_inflight)
        (void)rpc_cancel(o->p->rpc, o->logs_call);
    /* The sources stop at once (no more pushes into the histories);
     * their memory goes when the loop closes their timers. */
    for (size_t i = 0; i < o->n; i++) {
        oracle_source_free(src(o, i));
        oracle_history_cleanup(&o->hist[i]);
    }
    free(o);
}

/* ---- state ---- */

static bool
source_settled(const struct oracles_rt *o, size_t i)
{
    const struct oracle_source *s = src(o, i);
    const struct oracle_chainlink_stats *cs = oracle_chainlink_stats(o->cl[i]);
    const struct oracle_source_stats *ss = oracle_source_stats(s);
    uint64_t rejected = 0;

    for (size_t r = 0; r < ORACLE_REJ_COUNT; r++)
        rejected += ss->rejected[r];
    return oracle_source_latest(s) != NULL || cs->reads > 0 ||
           cs->read_errors > 0 || rejected > 0;
}

bool
oracles_rt_settled(const struct oracles_rt *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (!source_settled(o, i))
            return false;
    return true;
}

void
oracles_rt_view(struct oracles_rt *o, struct eval_price *out)
{
    size_t pick = 0;
    struct oracle_source *s;
    int rc;

    memset(out, 0, sizeof(*out));
    out->state = ORACLE_STATE_NONE;
    out->asset = "";
    if (o->n == 0)
        return;
    /* Every source is re-judged; the first one not fresh wins. */
    for (size_t i = o->n; i-- > 0;)
        if (oracle_source_check(src(o, i)) != ORACLE_STATE_FRESH)
            pick = i;
    s = src(o, pick);
    out->asset = oracle_source_asset(s);
    rc = oracle_source_fresh_price(s, &out->price);
    out->has_price = rc == 0 || rc == KP_ESTALE;
    out->state = rc == 0           ? ORACLE_STATE_FRESH
                 : rc == KP_ESTALE ? ORACLE_STATE_STALE
                                   : ORACLE_STATE_NONE;
    if (oracle_history_sigma_daily(&o->hist[pick], &out->sigma_ewma) != 0)
        out->sigma_ewma = 0;
    if (oracle_history_sigma_long_daily(&o->hist[pick], &out->sigma_long) != 0)
        out->sigma_long = 0;
}

/* ---- AnswerUpdated logs (fallback until the event stream) ---- */

static void logs_fetch(struct oracles_rt *o, uint64_t to, uint64_t to_ts);

/* Hand one log to the source it belongs to. */
static void
logs_deliver(struct oracles_rt *o, const struct evlog *log, bool removed)
{
    for (size_t i = 0; i < o->n; i++)
        if (oracle_source_on_log(src(o, i), log, removed) != KP_ENOTFOUND)
            return;
}

static void
logs_take(struct oracles_rt *o, const cJSON *result)
{
    uint8_t buf[LOG_DATA_MAX];
    const cJSON *item;
    struct evlog log;
    bool removed;
    int rc;

    cJSON_ArrayForEach(item, result)
    {
        rc = evlog_parse(&log, buf, sizeof(buf), &removed, item);
        if (rc != 0) {
            log_warn("oracle", "malformed log skipped", "protocol",
                     o->p->pc->name, LOG_RC(rc));
            continue;
        }
        logs_deliver(o, &log, removed);
    }
}

static void
on_logs(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct oracles_rt *o = arg;

    o->logs_inflight = false;
    if (st->err != 0 || !cJSON_IsArray(result)) {
        /* Retried with the next head, from the same block. */
        log_debug("oracle", "eth_getLogs failed", "protocol", o->p->pc->name,
                  "error", st->err != 0 ? st->text : "result is not an array");
    } else {
        logs_take(o, result);
        o->next_block = o->logs_to + 1;
        clock_advance(o, o->logs_to_ts);
    }
    if (o->logs_want >= o->next_block)
        logs_fetch(o, o->logs_want, o->logs_want_ts);
}

/* {"address":[...],"topics":[["0x<AnswerUpdated>"]],"fromBlock","toBlock"} */
static char *
logs_params(const struct oracles_rt *o, uint64_t from, uint64_t to)
{
    cJSON *params = cJSON_CreateArray(), *f = cJSON_CreateObject();
    cJSON *addrs = cJSON_AddArrayToObject(f, "address");
    cJSON *topics = cJSON_AddArrayToObject(f, "topics"), *t0;
    char buf[67];
    uint8_t topic[32];
    char *text;

    for (size_t i = 0; i < o->n; i++) {
        const struct eth_addr *a = &o->p->pc->oracles[i].address;

        hex_encode(buf, sizeof(buf), a->b, sizeof(a->b), true);
        cJSON_AddItemToArray(addrs, cJSON_CreateString(buf));
    }
    oracle_chainlink_topic_answer_updated(topic);
    hex_encode(buf, sizeof(buf), topic, sizeof(topic), true);
    t0 = cJSON_CreateArray();
    cJSON_AddItemToArray(t0, cJSON_CreateString(buf));
    cJSON_AddItemToArray(topics, t0);
    snprintf(buf, sizeof(buf), "0x%" PRIx64, from);
    cJSON_AddStringToObject(f, "fromBlock", buf);
    snprintf(buf, sizeof(buf), "0x%" PRIx64, to);
    cJSON_AddStringToObject(f, "toBlock", buf);
    cJSON_AddItemToArray(params, f);
    text = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    if (text == NULL)
        log_fatal("oracle", "out of memory");
    return text;
}

static void
logs_fetch(struct oracles_rt *o, uint64_t to, uint64_t to_ts)
{
    char *params;
    int rc;

    if (o->logs_inflight) {
        if (to > o->logs_want) {
            o->logs_want = to;
            o->logs_want_ts = to_ts;
        }
        return;
    }
    if (to < o->next_block)
        return;
    if (to - o->next_block >= LOGS_RANGE_MAX) {
        /* Too far behind to fetch log by log: read the latest rounds. */
        for (size_t i = 0; i < o->n; i++)
            (void)oracle_chainlink_refresh(o->cl[i]);
        o->next_block = to;
    }
    params = logs_params(o, o->next_block, to);
    rc = rpc_call(o->p->rpc, "eth_getLogs", params, NULL, on_logs, o,
                  &o->logs_call);
    free(params);
    if (rc != 0)
        return; /* the next head tries again */
    o->logs_inflight = true;
    o->logs_to = to;
    o->logs_to_ts = to_ts;
}

void
oracles_rt_on_head(struct oracles_rt *o, uint64_t number, uint64_t timestamp)
{
    if (!o->started || o->n == 0) {
        clock_advance(o, timestamp);
        return;
    }
    if (!o->have_next) {
        /* The sources' first read covers what came before. */
        o->have_next = true;
        o->next_block = number;
        clock_advance(o, timestamp);
    }
    logs_fetch(o, number, timestamp);
}
