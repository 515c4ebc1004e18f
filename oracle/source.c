/* source.c - the rules every price source shares: ordering, refusals,
 * freshness state and the daemon's callbacks. */
#include "oracle/source.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain/err.h"

uint64_t
oracle_clock_wall(void *arg)
{
    struct timespec ts;

    (void)arg;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec > 0 ? (uint64_t)ts.tv_sec : 0;
}

const char *
oracle_state_name(enum oracle_state st)
{
    switch (st) {
    case ORACLE_STATE_NONE:
        return "none";
    case ORACLE_STATE_FRESH:
        return "fresh";
    case ORACLE_STATE_STALE:
        return "stale";
    }
    return "?";
}

const char *
oracle_reject_name(enum oracle_reject why)
{
    static const char *const names[ORACLE_REJ_COUNT] = {
        [ORACLE_REJ_MALFORMED] = "malformed",
        [ORACLE_REJ_NONPOSITIVE] = "nonpositive",
        [ORACLE_REJ_INCOMPLETE] = "incomplete",
        [ORACLE_REJ_CARRIED] = "carried",
        [ORACLE_REJ_RANGE] = "range",
        [ORACLE_REJ_FUTURE] = "future",
    };

    return (unsigned)why < ORACLE_REJ_COUNT ? names[why] : "?";
}

static bool
text_ok(const char *s, size_t cap)
{
    return s != NULL && s[0] != '\0' && strlen(s) < cap;
}

int
oracle_source_cfg_check(const struct oracle_source_cfg *cfg)
{
    assert(cfg != NULL);
    if (!text_ok(cfg->name, ORACLE_NAME_MAX) ||
        !text_ok(cfg->asset, ORACLE_ASSET_MAX) || cfg->max_age == 0)
        return KP_ECONFIG;
    return 0;
}

void
oracle_source_init(struct oracle_source *s, const struct oracle_source_ops *ops,
                   const struct oracle_source_cfg *cfg)
{
    assert(s != NULL && ops != NULL && cfg != NULL);
    assert(oracle_source_cfg_check(cfg) == 0);
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    snprintf(s->name, sizeof(s->name), "%s", cfg->name);
    snprintf(s->asset, sizeof(s->asset), "%s", cfg->asset);
    s->max_age = cfg->max_age;
    s->history = cfg->history;
    s->cbs = cfg->cbs;
    s->clock = cfg->clock ? cfg->clock : oracle_clock_wall;
    s->clock_arg = cfg->clock_arg;
    s->state = ORACLE_STATE_NONE;
}

/* ---- dispatch ---- */

int
oracle_source_start(struct oracle_source *s)
{
    assert(s != NULL && s->ops != NULL && s->ops->start != NULL);
    return s->ops->start(s);
}

void
oracle_source_stop(struct oracle_source *s)
{
    assert(s != NULL && s->ops != NULL && s->ops->stop != NULL);
    s->ops->stop(s);
}

void
oracle_source_free(struct oracle_source *s)
{
    if (s == NULL)
        return;
    assert(s->ops != NULL && s->ops->free != NULL);
    s->ops->free(s);
}

bool
oracle_source_log_filter(const struct oracle_source *s, struct evlog_filter *f)
{
    assert(s != NULL && s->ops != NULL);
    if (s->ops->log_filter == NULL || s->ops->on_log == NULL)
        return false;
    if (f != NULL) {
        memset(f, 0, sizeof(*f));
        s->ops->log_filter(s, f);
    }
    return true;
}

int
oracle_source_on_log(struct oracle_source *s, const struct evlog *log,
                     bool removed)
{
    assert(s != NULL && s->ops != NULL && log != NULL);
    assert(log->ntopics <= EVLOG_MAX_TOPICS);
    assert(log->data_len == 0 || log->data != NULL);
    if (s->ops->on_log == NULL)
        return KP_ENOTFOUND;
    return s->ops->on_log(s, log, removed);
}

/* ---- state ---- */

uint64_t
oracle_source_now(const struct oracle_source *s)
{
    assert(s != NULL && s->clock != NULL);
    return s->clock(s->clock_arg);
}

static enum oracle_state
judge(const struct oracle_source *s, uint64_t now)
{
    if (!s->has_price)
        return ORACLE_STATE_NONE;
    if (oracle_price_is_stale(&s->latest, now, s->max_age))
        return ORACLE_STATE_STALE;
    return ORACLE_STATE_FRESH;
}

enum oracle_state
oracle_source_check(struct oracle_source *s)
{
    enum oracle_state from, to;

    assert(s != NULL);
    from = s->state;
    to = judge(s, oracle_source_now(s));
    if (to != from) {
        s->state = to;
        if (s->cbs.on_state)
            s->cbs.on_state(s->cbs.arg, s, from, to);
    }
    return s->state;
}

int
oracle_source_fresh_price(struct oracle_source *s, struct oracle_price *p)
{
    enum oracle_state st;

    assert(s != NULL && p != NULL);
    st = oracle_source_check(s);
    if (st == ORACLE_STATE_NONE)
        return KP_ENOTFOUND;
    *p = s->latest;
    return st == ORACLE_STATE_FRESH ? 0 : KP_ESTALE;
}

const struct oracle_price *
oracle_source_latest(const struct oracle_source *s)
{
    assert(s != NULL);
    return s->has_price ? &s->latest : NULL;
}

enum oracle_state
oracle_source_state(const struct oracle_source *s)
{
    assert(s != NULL);
    return s->state;
}

const char *
oracle_source_name(const struct oracle_source *s)
{
    assert(s != NULL);
    return s->name;
}

const char *
oracle_source_asset(const struct oracle_source *s)
{
    assert(s != NULL);
    return s->asset;
}

const char *
oracle_source_kind(const struct oracle_source *s)
{
    assert(s != NULL && s->ops != NULL);
    return s->ops->kind;
}

const char *
oracle_source_last_error(const struct oracle_source *s)
{
    assert(s != NULL);
    return s->last_error;
}

const struct oracle_source_stats *
oracle_source_stats(const struct oracle_source *s)
{
    assert(s != NULL);
    return &s->stats;
}

/* ---- for implementations ---- */

void
oracle_source_set_error(struct oracle_source *s, const char *fmt, ...)
{
    va_list ap;

    assert(s != NULL && fmt != NULL);
    va_start(ap, fmt);
    vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
    va_end(ap);
}

int
oracle_source_reject(struct oracle_source *s, enum oracle_reject why,
                     const char *fmt, ...)
{
    va_list ap;

    assert(s != NULL && fmt != NULL && (unsigned)why < ORACLE_REJ_COUNT);
    va_start(ap, fmt);
    vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
    va_end(ap);
    s->stats.rejected[why]++;
    if (s->cbs.on_reject)
        s->cbs.on_reject(s->cbs.arg, s, why, s->last_error);
    return KP_EINVAL;
}

/* Round ids decide when both prices have one (Chainlink); otherwise the
 * publish time (sources without rounds). */
static bool
is_newer(const struct oracle_price *p, const struct oracle_price *last)
{
    if (!u256_is_zero(&p->round_id) && !u256_is_zero(&last->round_id))
        return u256_cmp(&p->round_id, &last->round_id) > 0;
    return p->updated_at > last->updated_at;
}

static bool
same_price(const struct oracle_price *a, const struct oracle_price *b)
{
    return u256_cmp(&a->answer, &b->answer) == 0 &&
           a->decimals == b->decimals && a->updated_at == b->updated_at &&
           u256_cmp(&a->round_id, &b->round_id) == 0;
}

static void
take(struct oracle_source *s, const struct oracle_price *p, bool forward)
{
    s->latest = *p;
    s->has_price = true;
    /* A history refusal (equal publish time on a newer round) only means
     * the sample adds no return; the price itself is still the latest. */
    if (forward && s->history != NULL)
        (void)oracle_history_push(s->history, p);
    /* State first: the daemon's on_price sees the state this price makes. */
    oracle_source_check(s);
    if (s->cbs.on_price)
        s->cbs.on_price(s->cbs.arg, s, &s->latest);
}

int
oracle_source_offer(struct oracle_source *s, const struct oracle_price *p,
                    bool replace)
{
    uint64_t now;

    assert(s != NULL && p != NULL);
    assert(p->updated_at != 0 && p->decimals <= ORACLE_DECIMALS_MAX);
    now = oracle_source_now(s);
    if (p->updated_at > now && p->updated_at - now > s->max_age)
        return oracle_source_reject(
            s, ORACLE_REJ_FUTURE,
            "publish time %llu is %llu s ahead of our clock",
            (unsigned long long)p->updated_at,
            (unsigned long long)(p->updated_at - now));
    if (!s->has_price || is_newer(p, &s->latest)) {
        s->stats.accepted++;
        take(s, p, true);
        return 0;
    }
    if (replace && !same_price(p, &s->latest)) {
        s->stats.replaced++;
        take(s, p, false);
        return 0;
    }
    s->stats.ignored++;
    return KP_ESTALE;
}
