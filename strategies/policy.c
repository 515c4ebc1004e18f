/* policy.c - the tier policy (see policy.h for the rules). */
#include "strategies/policy.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain/err.h"

#define AMOUNT_MAX 96 /* a formatted amount: 78 digits, point, NUL */

/* One evaluation's working set. */
struct ctx {
    struct policy_decision *d;
    struct policy_memory *mem;
    const struct policy_params *p;
    const struct protocol_state *s;
    uint64_t now;
};

/* ---- small u256 helpers ------------------------------------------------ */

static void
u256_set_max(struct u256 *r)
{
    memset(r->w, 0xff, sizeof(r->w));
}

static void
sat_add(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
    if (u256_add(r, a, b) != 0)
        u256_set_max(r);
}

static void
sat_sub(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
    if (u256_cmp(a, b) <= 0)
        memset(r, 0, sizeof(*r));
    else
        (void)u256_sub(r, a, b);
}

static void
min_into(struct u256 *a, const struct u256 *b)
{
    if (u256_cmp(b, a) < 0)
        *a = *b;
}

static bool
u256_lt(const struct u256 *a, const struct u256 *b)
{
    return u256_cmp(a, b) < 0;
}

/* ---- names ------------------------------------------------------------- */

const char *
policy_tier_name(enum policy_tier t)
{
    switch (t) {
    case POLICY_TIER_T1:
        return "T1";
    case POLICY_TIER_AMBER:
        return "amber";
    case POLICY_TIER_T2:
        return "T2";
    case POLICY_TIER_T3:
        return "T3";
    }
    return "unknown";
}

const char *
policy_action_name(enum policy_action a)
{
    switch (a) {
    case POLICY_ACTION_INJECT:
        return "inject";
    case POLICY_ACTION_CLAWBACK:
        return "clawback";
    case POLICY_ACTION_COUNT:
        break;
    }
    return "unknown";
}

const char *
policy_alert_name(enum policy_alert a)
{
    switch (a) {
    case POLICY_ALERT_NO_PRICE:
        return "no_price";
    case POLICY_ALERT_STALE_PRICE:
        return "stale_price";
    case POLICY_ALERT_POOL_EMPTY:
        return "pool_empty";
    case POLICY_ALERT_BUDGET_EXHAUSTED:
        return "budget_exhausted";
    case POLICY_ALERT_NO_PNL:
        return "no_positive_pnl";
    case POLICY_ALERT_BAD_STATE:
        return "bad_state";
    case POLICY_ALERT_APPROVAL:
        return "clawback_approval";
    }
    return "unknown";
}

/* ---- parameters and memory --------------------------------------------- */

void
policy_params_default(struct policy_params *p)
{
    assert(p != NULL);
    memset(p, 0, sizeof(*p));
    snprintf(p->protocol, sizeof(p->protocol), "default");
    risk_params_default(&p->risk);
    p->price_max_age_s = 3600;
    p->amber_health = 1.5;
    p->t2_health = 1.0;
    p->epoch_s = 86400;
    u256_set_max(&p->epoch_budget);
    u256_set_max(&p->inject_max);
    u256_from_u64(&p->min_inject, 1);
    p->inject_cooldown_s = 60;
    u256_set_max(&p->clawback_max);
    p->clawback_cooldown_s = 300;
    p->clawback_needs_approval = false;
    p->inject_covers_debt = true;
    p->vol_beta = 1.0;
    p->vol_cap = 2.0;
}

static bool
protocol_id_ok(const char *id)
{
    size_t n = strnlen(id, POLICY_PROTOCOL_MAX);

    if (n == 0 || n == POLICY_PROTOCOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int
policy_params_check(const struct policy_params *p)
{
    assert(p != NULL);
    if (!protocol_id_ok(p->protocol) || risk_params_check(&p->risk) != 0)
        return KP_ECONFIG;
    if (!isfinite(p->amber_health) || !isfinite(p->t2_health) ||
        p->t2_health < 0.0 || p->amber_health < p->t2_health)
        return KP_ECONFIG;
    if (p->epoch_s == 0 || u256_is_zero(&p->min_inject))
        return KP_ECONFIG;
    /* A cap below the smallest injection would silently disable T2. */
    if (u256_lt(&p->inject_max, &p->min_inject) ||
        u256_is_zero(&p->clawback_max))
        return KP_ECONFIG;
    if (!isfinite(p->vol_beta) || p->vol_beta < 0.0 || p->vol_beta > 4.0)
        return KP_ECONFIG;
    if (!isfinite(p->vol_cap) || p->vol_cap < 1.0 ||
        p->vol_cap > RISK_LOADING_MAX)
        return KP_ECONFIG;
    return 0;
}

void
policy_memory_init(struct policy_memory *m)
{
    assert(m != NULL);
    memset(m, 0, sizeof(*m));
    m->tier = POLICY_TIER_T1;
}

/* ---- reason text ------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void
reason_add(struct policy_decision *d, const char *fmt, ...)
{
    size_t len = strlen(d->reason);
    va_list ap;

    if (len + 1 >= sizeof(d->reason))
        return;
    if (len > 0 && len + 3 < sizeof(d->reason)) {
        memcpy(d->reason + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    vsnprintf(d->reason + len, sizeof(d->reason) - len, fmt, ap);
    va_end(ap);
}

/* `a` in token units ("1.5"); "?" if it cannot be rendered. */
static const char *
amt(char buf[AMOUNT_MAX], const struct u256 *a, unsigned decimals)
{
    if (u256_fmt_units(buf, AMOUNT_MAX, a, decimals) != 0)
        snprintf(buf, AMOUNT_MAX, "?");
    return buf;
}

/* ---- inputs ------------------------------------------------------------ */

static void
fill_state_inputs(struct policy_inputs *in, const struct protocol_state *s,
                  uint64_t now)
{
    in->now = now;
    in->block_number = s->block_number;
    in->block_timestamp = s->block_timestamp;
    in->decimals = s->decimals;
    in->reserve = s->reserve;
    in->target = s->target;
    in->effective_target = s->target;
    in->critical = s->critical;
    in->depletion = s->depletion;
    in->uncovered_debt = s->uncovered_debt;
    in->open_interest = s->open_interest;
    in->pool_available = s->pool_available;
    in->has_positive_pnl = s->has_positive_pnl;
    in->positive_pnl = s->positive_pnl;
    in->loading = 1.0;
}

/* The budget epoch only moves forward: a clock stepping back must not
 * reopen a spent budget. */
static void
roll_epoch(struct ctx *c)
{
    struct policy_memory *mem = c->mem;
    uint64_t ep = c->now / c->p->epoch_s;

    if (ep > mem->epoch) {
        mem->epoch = ep;
        memset(&mem->epoch_spent, 0, sizeof(mem->epoch_spent));
    }
    c->d->in.epoch = mem->epoch;
    sat_sub(&c->d->in.budget_left, &c->p->epoch_budget, &mem->epoch_spent);
}

static void
fill_price_inputs(struct ctx *c, const struct price_view *pv)
{
    struct policy_inputs *in = &c->d->in;

    if (pv == NULL)
        return;
    in->sigma_ewma = pv->sigma_ewma;
    in->sigma_long = pv->sigma_long;
    in->loading = risk_vol_loading(pv->sigma_ewma, pv->sigma_long,
                                   c->p->vol_beta, c->p->vol_cap);
    /* Overflow saturates, which the caps below absorb. */
    if (risk_loaded_target(&in->effective_target, &c->s->target, in->loading) ==
        KP_EINVAL)
        in->effective_target = c->s->target;
    if (pv->price == NULL)
        return;
    in->has_price = true;
    in->price = pv->price->value;
    in->price_updated_at = pv->price->updated_at;
    in->price_age = oracle_price_age(pv->price, c->now);
    in->price_stale =
        oracle_price_is_stale(pv->price, c->now, c->p->price_max_age_s);
}

/* ---- tiers ------------------------------------------------------------- */

static enum policy_tier
classify(const struct policy_params *p, const struct risk_metrics *r,
         bool in_episode)
{
    if (r->below_depletion && r->has_debt)
        return POLICY_TIER_T3;
    if (r->below_critical || r->health < p->t2_health)
        return POLICY_TIER_T2;
    if (in_episode && r->below_target)
        return POLICY_TIER_T2;
    if (r->health < p->amber_health)
        return POLICY_TIER_AMBER;
    return POLICY_TIER_T1;
}

static void
track_episode(struct ctx *c, enum policy_tier tier)
{
    struct policy_memory *mem = c->mem;
    struct policy_decision *d = c->d;

    d->prev_tier = mem->tier;
    d->tier = tier;
    d->tier_changed = tier != mem->tier;
    if (tier >= POLICY_TIER_T2 && !mem->in_episode) {
        /* Keys embed the episode: it must never repeat, even if two
         * episodes open at the same block. */
        uint64_t e = c->s->block_number;

        if (e <= mem->episode)
            e = mem->episode + 1;
        mem->episode = e;
        mem->in_episode = true;
        for (int a = 0; a < POLICY_ACTION_COUNT; a++)
            mem->act[a].seq = 0;
    } else if (tier < POLICY_TIER_T2) {
        mem->in_episode = false;
    }
    mem->tier = tier;
    d->in_episode = mem->in_episode;
    d->episode = mem->in_episode ? mem->episode : 0;
}

static void
explain_tier(struct ctx *c)
{
    const struct policy_inputs *in = &c->d->in;
    const struct risk_metrics *r = &in->risk;
    char a[AMOUNT_MAX], b[AMOUNT_MAX], e[AMOUNT_MAX];
    unsigned dec = in->decimals;

    switch (c->d->tier) {
    case POLICY_TIER_T3:
        reason_add(c->d, "T3: reserve %s < depletion %s, uncovered debt %s",
                   amt(a, &in->reserve, dec), amt(b, &in->depletion, dec),
                   amt(e, &in->uncovered_debt, dec));
        break;
    case POLICY_TIER_T2:
        if (r->below_critical)
            reason_add(c->d, "T2: reserve %s < critical %s",
                       amt(a, &in->reserve, dec), amt(b, &in->critical, dec));
        else if (r->health < c->p->t2_health)
            reason_add(c->d, "T2: health %.4g < %.4g", r->health,
                       c->p->t2_health);
        else
            reason_add(c->d, "T2: episode open, reserve %s < target %s",
                       amt(a, &in->reserve, dec), amt(b, &in->target, dec));
        break;
    case POLICY_TIER_AMBER:
        reason_add(c->d, "amber: health %.4g < %.4g", r->health,
                   c->p->amber_health);
        break;
    case POLICY_TIER_T1:
        reason_add(c->d, "T1: reserve %s, health %.4g",
                   amt(a, &in->reserve, dec), r->health);
        break;
    }
}

/* ---- actions ----------------------------------------------------------- */

enum plan {
    PLAN_NONE,        /* nothing to do */
    PLAN_DECIDED,     /* an intent was emitted */
    PLAN_HELD,        /* needed, but in flight or cooling down */
    PLAN_UNAVAILABLE, /* needed, but the capital is not there */
};

static bool
held(struct ctx *c, enum policy_action a, uint64_t cooldown)
{
    const struct policy_action_mem *act = &c->mem->act[a];

    if (act->in_flight) {
        reason_add(c->d, "%s held: %s in flight", policy_action_name(a),
                   act->key);
        return true;
    }
    /* A clock that stepped back counts as still cooling down. */
    if (act->has_done &&
        (c->now < act->done_at || c->now - act->done_at < cooldown)) {
        uint64_t left = c->now < act->done_at
                            ? cooldown
                            : cooldown - (c->now - act->done_at);

        reason_add(c->d, "%s held: cooldown, %llu s left",
                   policy_action_name(a), (unsigned long long)left);
        return true;
    }
    return false;
}

static void
emit(struct ctx *c, enum policy_action a, const struct u256 *amount,
     bool approval)
{
    struct policy_action_mem *act = &c->mem->act[a];
    struct policy_intent *it;

    assert(c->d->n_intents < POLICY_INTENTS_MAX);
    it = &c->d->intents[c->d->n_intents++];
    it->action = a;
    it->amount = *amount;
    it->needs_approval = approval;
    act->seq++;
    snprintf(it->key, sizeof(it->key), "%s:%s:%llu:%lu", c->p->protocol,
             policy_action_name(a), (unsigned long long)c->mem->episode,
             (unsigned long)act->seq);
    act->in_flight = true;
    memcpy(act->key, it->key, sizeof(act->key));
    act->amount = *amount;
    act->epoch = c->mem->epoch;
    act->decided_at = c->now;
}

/* What an injection would move: target gap (plus debt), before caps.
 * Returns false when none is needed. */
static bool
inject_need(struct ctx *c, struct u256 *need)
{
    const struct protocol_state *s = c->s;
    const struct policy_inputs *in = &c->d->in;

    /* The pool refuses to inject into a reserve at its on-chain target,
     * whatever the loading says. */
    if (!u256_lt(&s->reserve, &s->target)) {
        reason_add(c->d, "no inject: reserve at target");
        return false;
    }
    sat_sub(need, &in->effective_target, &s->reserve);
    if (c->p->inject_covers_debt)
        sat_add(need, need, &s->uncovered_debt);
    if (u256_lt(need, &c->p->min_inject)) {
        reason_add(c->d, "no inject: need below min_inject");
        return false;
    }
    return true;
}

static void
explain_unavailable(struct ctx *c)
{
    const struct policy_inputs *in = &c->d->in;
    char a[AMOUNT_MAX];

    if (u256_lt(&in->pool_available, &c->p->min_inject)) {
        c->d->alerts |= POLICY_ALERT_POOL_EMPTY;
        reason_add(c->d, "no inject: backstop pool empty (available %s)",
                   amt(a, &in->pool_available, in->decimals));
    }
    if (u256_lt(&in->budget_left, &c->p->min_inject)) {
        c->d->alerts |= POLICY_ALERT_BUDGET_EXHAUSTED;
        reason_add(c->d, "no inject: epoch budget exhausted (left %s)",
                   amt(a, &in->budget_left, in->decimals));
    }
}

static enum plan
plan_inject(struct ctx *c)
{
    const struct policy_inputs *in = &c->d->in;
    struct u256 need, amount;
    char a[AMOUNT_MAX], b[AMOUNT_MAX], t[AMOUNT_MAX];

    if (!inject_need(c, &need))
        return PLAN_NONE;
    amount = need;
    min_into(&amount, &in->pool_available);
    min_into(&amount, &in->budget_left);
    min_into(&amount, &c->p->inject_max);
    if (u256_lt(&amount, &c->p->min_inject)) {
        explain_unavailable(c);
        return PLAN_UNAVAILABLE;
    }
    if (held(c, POLICY_ACTION_INJECT, c->p->inject_cooldown_s))
        return PLAN_HELD;
    emit(c, POLICY_ACTION_INJECT, &amount, false);
    sat_add(&c->mem->epoch_spent, &c->mem->epoch_spent, &amount);
    reason_add(c->d, "inject %s of %s needed to reach %s",
               amt(a, &amount, in->decimals), amt(b, &need, in->decimals),
               amt(t, &in->effective_target, in->decimals));
    return PLAN_DECIDED;
}

static void
plan_clawback(struct ctx *c)
{
    const struct policy_inputs *in = &c->d->in;
    const struct policy_params *p = c->p;
    struct u256 amount = in->uncovered_debt;
    char a[AMOUNT_MAX];

    if (c->mem->act[POLICY_ACTION_INJECT].in_flight) {
        reason_add(c->d, "no clawback while an injection is in flight");
        return;
    }
    if (in->has_positive_pnl) {
        if (u256_is_zero(&in->positive_pnl)) {
            c->d->alerts |= POLICY_ALERT_NO_PNL;
            reason_add(c->d, "no clawback: no positive PnL to take");
            return;
        }
        min_into(&amount, &in->positive_pnl);
    }
    min_into(&amount, &p->clawback_max);
    if (held(c, POLICY_ACTION_CLAWBACK, p->clawback_cooldown_s))
        return;
    emit(c, POLICY_ACTION_CLAWBACK, &amount, p->clawback_needs_approval);
    if (p->clawback_needs_approval)
        c->d->alerts |= POLICY_ALERT_APPROVAL;
    reason_add(c->d, "clawback %s%s", amt(a, &amount, in->decimals),
               p->clawback_needs_approval ? " (awaiting approval)" : "");
}

static void
plan_actions(struct ctx *c)
{
    enum plan inj = plan_inject(c);

    /* Never claw back while the backstop can still cover: only when an
     * injection is impossible, not merely waiting. */
    if (c->d->tier == POLICY_TIER_T3 && inj == PLAN_UNAVAILABLE)
        plan_clawback(c);
}

/* Returns: whether the price allows acting; alerts and reason if not. */
static bool
price_allows_action(struct ctx *c)
{
    const struct policy_inputs *in = &c->d->in;

    if (!in->has_price) {
        c->d->alerts |= POLICY_ALERT_NO_PRICE;
        reason_add(c->d, "no price yet: no action");
        return false;
    }
    if (in->price_stale) {
        c->d->alerts |= POLICY_ALERT_STALE_PRICE;
        reason_add(c->d,
                   "price stale (updated_at %llu, now %llu, max age %llu s): "
                   "no action",
                   (unsigned long long)in->price_updated_at,
                   (unsigned long long)in->now,
                   (unsigned long long)c->p->price_max_age_s);
        return false;
    }
    return true;
}

int
policy_decide(struct policy_decision *d, struct policy_memory *mem,
              const struct policy_params *p, const struct protocol_state *s,
              const struct price_view *pv, uint64_t now)
{
    struct ctx c = {d, mem, p, s, now};
    int rc;

    assert(d != NULL && mem != NULL && p != NULL && s != NULL);
    memset(d, 0, sizeof(*d));
    d->tier = d->prev_tier = mem->tier;
    if ((rc = policy_params_check(p)) != 0) {
        reason_add(d, "bad policy parameters: no action");
        return rc;
    }
    fill_state_inputs(&d->in, s, now);
    if ((rc = protocol_state_check(s)) != 0) {
        d->alerts |= POLICY_ALERT_BAD_STATE;
        reason_add(d, "bad state snapshot (%s): no action", kp_strerror(rc));
        return rc;
    }
    roll_epoch(&c);
    fill_price_inputs(&c, pv);
    rc = risk_evaluate(&d->in.risk, &p->risk, s,
                       d->in.has_price ? d->in.price : 0.0);
    assert(rc == 0); /* params and state were checked above */
    track_episode(&c, classify(p, &d->in.risk, mem->in_episode));
    explain_tier(&c);
    if (!price_allows_action(&c))
        return 0;
    if (d->tier >= POLICY_TIER_T2)
        plan_actions(&c);
    return 0;
}

int
policy_note_outcome(struct policy_memory *mem, const char *key,
                    enum policy_outcome outcome, uint64_t now)
{
    assert(mem != NULL && key != NULL);
    for (int a = 0; a < POLICY_ACTION_COUNT; a++) {
        struct policy_action_mem *act = &mem->act[a];

        if (!act->in_flight || strncmp(act->key, key, POLICY_KEY_MAX) != 0)
            continue;
        act->in_flight = false;
        act->has_done = true;
        act->done_at = now;
        if (outcome == POLICY_OUTCOME_FAILED && a == POLICY_ACTION_INJECT &&
            act->epoch == mem->epoch)
            sat_sub(&mem->epoch_spent, &mem->epoch_spent, &act->amount);
        return 0;
    }
    return KP_ENOTFOUND;
}

/* ---- formatting -------------------------------------------------------- */

struct line {
    char *out;
    size_t cap, len;
    bool trunc;
};

__attribute__((format(printf, 2, 3))) static void
line_add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (l->trunc)
        return;
    va_start(ap, fmt);
    n = vsnprintf(l->out + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= l->cap - l->len) {
        l->trunc = true;
        l->len = l->cap - 1;
        return;
    }
    l->len += (size_t)n;
}

static void
line_amount(struct line *l, const char *name, const struct u256 *a,
            unsigned decimals)
{
    char buf[AMOUNT_MAX];

    line_add(l, " %s=%s", name, amt(buf, a, decimals));
}

static void
line_alerts(struct line *l, uint32_t alerts)
{
    bool first = true;

    line_add(l, " alerts=");
    for (int i = 0; i < POLICY_ALERT_COUNT; i++) {
        if (!(alerts & (1u << i)))
            continue;
        line_add(l, "%s%s", first ? "" : ",",
                 policy_alert_name((enum policy_alert)(1u << i)));
        first = false;
    }
    if (first)
        line_add(l, "none");
}

static void
line_intent(struct line *l, const struct policy_intent *it, unsigned dec)
{
    line_add(l, "action=%s", policy_action_name(it->action));
    line_amount(l, "amount", &it->amount, dec);
    line_add(l, " key=%s approval=%d", it->key, it->needs_approval ? 1 : 0);
}

static void
line_inputs(struct line *l, const struct policy_inputs *in)
{
    unsigned dec = in->decimals;

    line_add(l, " block=%llu", (unsigned long long)in->block_number);
    line_amount(l, "reserve", &in->reserve, dec);
    line_amount(l, "target", &in->target, dec);
    line_amount(l, "effective_target", &in->effective_target, dec);
    line_amount(l, "critical", &in->critical, dec);
    line_amount(l, "depletion", &in->depletion, dec);
    line_amount(l, "debt", &in->uncovered_debt, dec);
    line_amount(l, "open_interest", &in->open_interest, dec);
    line_amount(l, "pool", &in->pool_available, dec);
    line_amount(l, "budget_left", &in->budget_left, dec);
    line_add(l, " health=%.6g shortfall=%.6g loading=%.6g", in->risk.health,
             in->risk.shortfall, in->loading);
    if (in->has_price)
        line_add(l, " price=%.10g price_age=%llu stale=%d", in->price,
                 (unsigned long long)in->price_age, in->price_stale ? 1 : 0);
    else
        line_add(l, " price=none");
}

int
policy_intent_format(char *out, size_t cap, const struct policy_intent *it,
                     unsigned decimals)
{
    struct line l = {out, cap, 0, false};

    assert(out != NULL && cap > 0 && it != NULL);
    out[0] = '\0';
    line_intent(&l, it, decimals);
    return l.trunc ? KP_ERANGE : 0;
}

int
policy_decision_format(char *out, size_t cap, const struct policy_decision *d)
{
    struct line l = {out, cap, 0, false};

    assert(out != NULL && cap > 0 && d != NULL);
    out[0] = '\0';
    line_add(&l, "tier=%s prev_tier=%s changed=%d episode=%llu",
             policy_tier_name(d->tier), policy_tier_name(d->prev_tier),
             d->tier_changed ? 1 : 0, (unsigned long long)d->episode);
    line_inputs(&l, &d->in);
    line_alerts(&l, d->alerts);
    line_add(&l, " intents=%zu", d->n_intents);
    for (size_t i = 0; i < d->n_intents; i++) {
        line_add(&l, " ");
        line_intent(&l, &d->intents[i], d->in.decimals);
    }
    line_add(&l, " reason=\"%s\"", d->reason);
    return l.trunc ? KP_ERANGE : 0;
}
