/* oracles_rt.c - one protocol's price sources (daemon_int.h): a Chainlink
 * source per configured oracle, each with its own price history, on the
 * protocol's rpc client and clock; their prices trigger evaluations and
 * their freshness drives the stale-oracle alert.
 *
 * AnswerUpdated logs come through the protocol's event stream
 * (chain/events.h, owned by protocol_rt.c; over WebSocket or HTTP
 * polling): in order, once each, backfilled after an outage, and
 * withdrawn on a reorg (a source then re-reads its feed). The stream's
 * heads also move the protocol's clock (proto_clock): chain time counts
 * only as far as the sources have seen the chain.
 *
 * Everything starts at the first head, when the clock first knows the
 * chain's time: a devnet that replayed a crash runs hours ahead of the
 * wall clock, and its current price must not look "from the future". */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "chain/evlog.h"
#include "keeper/daemon_int.h"
#include "keeper/log.h"
#include "oracle/chainlink.h"

/* Logs held until their block's head: more, and the sources re-read. */
#define PENDING_MAX 256
#define LOG_DATA_MAX ORACLES_LOG_DATA_MAX

/* A log copied out of the stream's callback until its head comes. */
struct pending_log {
    struct evlog log;
    uint8_t data[LOG_DATA_MAX];
    bool removed;
};

struct oracles_rt {
    struct proto_rt *p;
    size_t n;
    struct oracle_chainlink *cl[CFG_MAX_ORACLES];
    struct oracle_history hist[CFG_MAX_ORACLES];
    enum oracle_state told[CFG_MAX_ORACLES]; /* last state acted on */
    uint64_t refused[CFG_MAX_ORACLES];       /* refusals since a price */
    bool armed;                              /* oracles_rt_start was called */
    bool running; /* sources started (at the first head) */
    /* Logs of a block are being handed over: their prices come in order
     * after the clock already moved to the block, so the states they
     * pass through on the way are not news (see on_stream_head). */
    bool delivering;

    struct pending_log *pending;
    size_t npending;
    bool overflow; /* logs were dropped: re-read the feeds */
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

static size_t
index_of(const struct oracles_rt *o, const struct oracle_source *s)
{
    for (size_t i = 0; i < o->n; i++)
        if (oracle_chainlink_source(o->cl[i]) == s)
            return i;
    return 0;
}

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

    o->refused[index_of(o, s)] = 0;
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

/* Act on source i's state `to` if it is news: a log line and the
 * stale-oracle alert. */
static void
state_news(struct oracles_rt *o, size_t i, enum oracle_state to)
{
    struct oracle_source *s = oracle_chainlink_source(o->cl[i]);
    const struct oracle_price *p = oracle_source_latest(s);
    enum oracle_state from = o->told[i];
    uint64_t now = oracle_source_now(s);

    if (to == from)
        return;
    o->told[i] = to;
    if (to == ORACLE_STATE_STALE)
        log_warn("oracle", "price is stale: no action on it", "protocol",
                 o->p->pc->name, "oracle", oracle_source_name(s),
                 LOG_U64("age_s", p ? oracle_price_age(p, now) : 0),
                 LOG_U64("max_age_s", s->max_age));
    else
        log_info("oracle", "price state", "protocol", o->p->pc->name, "oracle",
                 oracle_source_name(s), "from", oracle_state_name(from), "to",
                 oracle_state_name(to));
    actions_on_oracle_state(o->p, s, to);
}

static void
on_state(void *arg, struct oracle_source *s, enum oracle_state from,
         enum oracle_state to)
{
    struct oracles_rt *o = arg;

    (void)from;
    if (!o->delivering)
        state_news(o, index_of(o, s), to);
}

static void
on_reject(void *arg, struct oracle_source *s, enum oracle_reject why,
          const char *text)
{
    struct oracles_rt *o = arg;
    /* Once per streak at warn: a broken feed is re-read every few
     * seconds. */
    enum log_level lvl =
        o->refused[index_of(o, s)]++ == 0 ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG;

    if (log_enabled(lvl)) {
        /* clang-format off */
        const char *kv[] = {
            "price refused",
            "protocol", o->p->pc->name,
            "oracle", oracle_source_name(s),
            "why", oracle_reject_name(why),
            "error", text,
        };
        /* clang-format on */

        log_emitv(lvl, "oracle", kv, sizeof(kv) / sizeof(kv[0]));
    }
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
    o->pending = kp_xcalloc(PENDING_MAX, sizeof(*o->pending));
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
    o->armed = true;
}

void
oracles_rt_free(struct oracles_rt *o)
{
    if (o == NULL)
        return;
    free(o->pending);
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

/* ---- AnswerUpdated logs, from the event stream ---- */

/* Hand one log to the source it belongs to. */
static void
logs_deliver(struct oracles_rt *o, const struct evlog *log, bool removed)
{
    for (size_t i = 0; i < o->n; i++)
        if (oracle_source_on_log(src(o, i), log, removed) != KP_ENOTFOUND)
            return;
}

void
oracles_rt_on_log(struct oracles_rt *o, const struct evlog *log, bool removed)
{
    struct pending_log *pl;

    if (o->npending == PENDING_MAX || log->data_len > LOG_DATA_MAX) {
        o->overflow = true;
        return;
    }
    pl = &o->pending[o->npending++];
    pl->log = *log;
    memcpy(pl->data, log->data, log->data_len);
    pl->log.data = pl->data;
    pl->removed = removed;
}

/* The first head: the clock knows the chain's time; start reading. */
static void
run(struct oracles_rt *o)
{
    int rc;

    o->running = true;
    for (size_t i = 0; i < o->n; i++)
        if ((rc = oracle_source_start(src(o, i))) != 0)
            log_error("oracle", "cannot start the price source", "protocol",
                      o->p->pc->name, "oracle", oracle_source_name(src(o, i)),
                      LOG_RC(rc));
}

size_t
oracles_rt_filters(const struct oracles_rt *o,
                   struct evlog_filter f[CFG_MAX_ORACLES])
{
    memset(f, 0, CFG_MAX_ORACLES * sizeof(*f));
    for (size_t i = 0; i < o->n; i++)
        (void)oracle_source_log_filter(src(o, i), &f[i]);
    return o->n;
}

/* Block `number` is processed, its logs came before: the clock moves to
 * its time first (the prices were published by then, so none is "from
 * the future"), then its logs are handed over; the older prices pass
 * through the history on the way to the latest, and only the state they
 * end in is acted on. */
void
oracles_rt_on_head(struct oracles_rt *o, uint64_t number, uint64_t timestamp)
{
    (void)number;
    if (!o->armed)
        return;
    clock_advance(o, timestamp);
    if (!o->running) {
        /* The sources' first read covers the past. */
        o->npending = 0;
        o->overflow = false;
        run(o);
        return;
    }
    o->delivering = true;
    for (size_t i = 0; i < o->npending; i++)
        logs_deliver(o, &o->pending[i].log, o->pending[i].removed);
    o->npending = 0;
    o->delivering = false;
    if (o->overflow) {
        o->overflow = false;
        for (size_t i = 0; i < o->n; i++)
            (void)oracle_chainlink_refresh(o->cl[i]);
    }
    for (size_t i = 0; i < o->n; i++)
        state_news(o, i, oracle_source_check(src(o, i)));
}
