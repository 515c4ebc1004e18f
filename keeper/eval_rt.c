/* eval_rt.c - one protocol's evaluations on the loop (daemon_int.h): the
 * snapshot read in one JSON-RPC batch pinned at the head's block, the
 * tier policy run on it, the decision logged, counted and kept for
 * /status, then handed to actions.c.
 *
 * At most one evaluation is in flight per protocol; a head or a price
 * arriving meanwhile makes one more run after it (not one per trigger),
 * so a burst of triggers costs two evaluations at most. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "keeper/daemon_int.h"
#include "keeper/log.h"

#define ONCE_TICK_MS 20
#define AMOUNT_MAX 96 /* an amount in token units, with NUL */

static void eval_start(struct proto_rt *p);

/* ---- setup ---- */

int
eval_rt_init(struct proto_rt *p, char *err, size_t errcap)
{
    struct eval_rt *ev = &p->ev;
    char why[EVAL_ERR_MAX] = "";
    int rc;

    ev->calls = kp_xmalloc(sizeof(*ev->calls));
    if ((rc = eval_calls_init(ev->calls, why, sizeof(why), p->pc)) != 0) {
        snprintf(err, errcap, "%s: %s", p->pc->name, why);
        return rc;
    }
    if ((rc = eval_policy_params(&ev->params, p->pc)) != 0) {
        snprintf(err, errcap,
                 "%s: the strategies section gives invalid "
                 "policy parameters",
                 p->pc->name);
        return rc;
    }
    policy_memory_init(&ev->mem);
    for (unsigned i = 0; i <= EVAL_NREADS; i++)
        ev->slots[i] = (struct eval_slot){p, i};
    ev->logged_tier = POLICY_TIER_T1;
    if (p->d->metrics != NULL)
        obs_eval_attach(p);
    return 0;
}

static void
on_once_timer_closed(uv_handle_t *h)
{
    free(h);
}

void
eval_rt_cleanup(struct proto_rt *p)
{
    struct eval_rt *ev = &p->ev;

    if (ev->inflight && p->rpc != NULL)
        (void)rpc_cancel(p->rpc, ev->batch_id);
    ev->inflight = false;
    if (ev->once_timer != NULL) {
        uv_close((uv_handle_t *)ev->once_timer, on_once_timer_closed);
        ev->once_timer = NULL;
    }
    free(ev->calls);
    ev->calls = NULL;
}

/* An intent prev's transaction manager was tracking: its tracking ends
 * with prev. */
static void
adopt_close_intent(struct proto_rt *p, struct policy_action_mem *act)
{
    struct eval_action *rec = NULL;
    bool maybe_sent;

    for (size_t i = 0; i < p->ev.nactions; i++)
        if (!strcmp(p->ev.actions[i].key, act->key))
            rec = &p->ev.actions[i];
    maybe_sent =
        rec != NULL && (rec->state == TXM_SENT || rec->state == TXM_REPLACED);
    /* Sent: it may still be mined, so it counts as spent and its
     * cooldown holds the next one; the chain state decides after. */
    (void)policy_note_outcome(&p->ev.mem, act->key,
                              maybe_sent ? POLICY_OUTCOME_CONFIRMED
                                         : POLICY_OUTCOME_FAILED,
                              proto_clock(p));
    log_warn("policy", "reload: intent no longer tracked", "protocol",
             p->pc->name, "key", act->key, "counted_as",
             maybe_sent ? "spent" : "failed");
    if (rec != NULL)
        snprintf(rec->reason, sizeof(rec->reason),
                 "tracking ended by a reload (%s)",
                 maybe_sent ? "may still be mined" : "not sent");
}

void
eval_rt_adopt(struct proto_rt *p, struct proto_rt *prev)
{
    struct eval_rt *ev = &p->ev, *old = &prev->ev;

    ev->mem = old->mem;
    ev->have_last = old->have_last;
    ev->last = old->last;
    memcpy(ev->actions, old->actions, sizeof(ev->actions));
    memcpy(ev->act_decided_ns, old->act_decided_ns, sizeof(ev->act_decided_ns));
    memcpy(ev->act_hidden, old->act_hidden, sizeof(ev->act_hidden));
    ev->nactions = old->nactions;
    ev->next_action = old->next_action;
    ev->logged_block = old->logged_block;
    ev->logged_tier = old->logged_tier;
    for (int a = 0; a < POLICY_ACTION_COUNT; a++)
        if (ev->mem.act[a].in_flight)
            adopt_close_intent(p, &ev->mem.act[a]);
}

/* ---- triggers ---- */

static bool
can_evaluate(const struct proto_rt *p)
{
    return p->have_head && p->chain_id == CHAIN_ID_OK && p->ev.calls != NULL &&
           !p->d->stopping;
}

void
eval_trigger(struct proto_rt *p, const char *why)
{
    struct eval_rt *ev = &p->ev;

    if (p->d->o.once || !can_evaluate(p))
        return; /* --once evaluates from its timer only */
    if (ev->inflight) {
        ev->again = true;
        return;
    }
    ev->trigger_ns = !strcmp(why, "head") ? p->head_seen_ns : uv_hrtime();
    eval_start(p);
}

/* ---- the batch ---- */

static void eval_finish(struct proto_rt *p);

__attribute__((format(printf, 2, 3))) static void
eval_fail(struct eval_rt *ev, const char *fmt, ...)
{
    va_list ap;

    if (ev->err != 0)
        return; /* the first error tells */
    ev->err = KP_EINVAL;
    va_start(ap, fmt);
    vsnprintf(ev->errtext, sizeof(ev->errtext), fmt, ap);
    va_end(ap);
}

static void
on_reply(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct eval_slot *slot = arg;
    struct proto_rt *p = slot->p;
    struct eval_rt *ev = &p->ev;
    char why[EVAL_ERR_MAX];

    if (st->err != 0)
        eval_fail(ev, "%s: %s",
                  slot->idx < EVAL_NREADS
                      ? eval_read_name((enum eval_read)slot->idx)
                      : "signer balance",
                  st->text);
    else if (slot->idx == EVAL_NREADS) {
        if (eval_decode_balance(&ev->signer_balance, result) == 0)
            ev->have_balance = true;
        else
            eval_fail(ev, "signer balance: malformed quantity");
    } else if (eval_decode_read(&ev->vals[slot->idx], why, sizeof(why),
                                ev->calls, (enum eval_read)slot->idx,
                                result) != 0)
        eval_fail(ev, "%s", why);
    if (--ev->parts == 0)
        eval_finish(p);
}

static int
batch_fill(struct proto_rt *p, struct rpc_batch *b)
{
    struct eval_rt *ev = &p->ev;
    char params[EVAL_PARAMS_MAX];
    struct eth_addr who;
    int rc;

    for (unsigned i = 0; i < EVAL_NREADS; i++) {
        rc = eval_read_params(params, sizeof(params), ev->calls,
                              (enum eval_read)i, ev->block);
        if (rc != 0 || (rc = rpc_batch_add(b, "eth_call", params, on_reply,
                                           &ev->slots[i])) != 0)
            return rc;
    }
    if (p->signer == NULL)
        return 0;
    who = signer_address(p->signer);
    if ((rc = eval_balance_params(params, sizeof(params), &who, ev->block)))
        return rc;
    return rpc_batch_add(b, "eth_getBalance", params, on_reply,
                         &ev->slots[EVAL_NREADS]);
}

static void
eval_start(struct proto_rt *p)
{
    struct eval_rt *ev = &p->ev;
    struct rpc_batch *b = rpc_batch_new(p->rpc);
    int rc;

    ev->block = p->head.number;
    ev->block_ts = p->head.timestamp;
    memcpy(ev->block_hash, p->head.hash, sizeof(ev->block_hash));
    ev->err = 0;
    ev->errtext[0] = '\0';
    ev->have_balance = false;
    ev->again = false;
    ev->parts = EVAL_NREADS + (p->signer != NULL);
    ev->inflight = true;
    if ((rc = batch_fill(p, b)) != 0) {
        rpc_batch_free(b);
        eval_fail(ev, "cannot build the batch: %s", kp_strerror(rc));
        eval_finish(p); /* counted and logged as any failure */
        return;
    }
    if ((rc = rpc_batch_send(b, NULL, &ev->batch_id)) != 0) {
        /* Refused whole: no callback will come. */
        eval_fail(ev, "cannot send the batch: %s", kp_strerror(rc));
        eval_finish(p);
    }
}

/* ---- the decision ---- */

static const char *
amt(char buf[AMOUNT_MAX], const struct u256 *a, unsigned decimals)
{
    if (u256_fmt_units(buf, AMOUNT_MAX, a, decimals) != 0)
        snprintf(buf, AMOUNT_MAX, "?");
    return buf;
}

static const char *
health_text(char buf[32], double h)
{
    if (isinf(h))
        snprintf(buf, 32, "inf");
    else
        snprintf(buf, 32, "%.4g", h);
    return buf;
}

static void
record_decision(struct proto_rt *p, const struct policy_decision *d,
                const struct eval_price *ep, uint64_t now)
{
    struct eval_record *r = &p->ev.last;

    memset(r, 0, sizeof(*r));
    r->time = now;
    r->d = *d;
    snprintf(r->asset, sizeof(r->asset), "%s", ep->asset);
    r->has_price = ep->has_price;
    r->price = ep->has_price ? ep->price.value : 0.0;
    r->price_updated_at = ep->has_price ? ep->price.updated_at : 0;
    r->price_state = oracle_state_name(ep->state);
    p->ev.have_last = true;
}

static void
count_decision(struct proto_rt *p, const struct policy_decision *d,
               double eval_s)
{
    struct eval_rt *ev = &p->ev;
    double scale = pow(10.0, (double)d->in.decimals);

    metric_inc(ev->m_evals);
    metric_observe(ev->m_latency, eval_s);
    metric_set(ev->m_tier, (double)d->tier);
    metric_set(ev->m_reserve, u256_to_double(&d->in.reserve) / scale);
    if (d->n_intents == 0)
        metric_inc(ev->m_decisions[POLICY_ACTION_COUNT]);
    for (size_t i = 0; i < d->n_intents; i++)
        metric_inc(ev->m_decisions[d->intents[i].action]);
}

/* One line per decision; a repeat at the same block with nothing new
 * goes to debug. */
static void
log_decision(struct proto_rt *p, const struct policy_decision *d,
             const struct eval_price *ep, double eval_ms)
{
    struct eval_rt *ev = &p->ev;
    const struct policy_inputs *in = &d->in;
    const struct policy_intent *it = d->n_intents ? &d->intents[0] : NULL;
    char r[AMOUNT_MAX], t[AMOUNT_MAX], c[AMOUNT_MAX], dp[AMOUNT_MAX],
        u[AMOUNT_MAX], oi[AMOUNT_MAX], am[AMOUNT_MAX], h[32], px[LOG_NUM_BUF];
    enum log_level lvl = LOG_LEVEL_INFO;
    static const struct u256 zero;

    if (ev->logged_block == in->block_number && it == NULL &&
        ev->logged_tier == d->tier)
        lvl = LOG_LEVEL_DEBUG;
    ev->logged_block = in->block_number;
    ev->logged_tier = d->tier;
    if (!log_enabled(lvl))
        return;
    if (ep->has_price)
        log_fmt_f64(px, ep->price.value);
    else
        snprintf(px, sizeof(px), "none");
    {
        /* clang-format off */
        const char *kv[] = {
            "decision",
            "protocol", p->pc->name,
            LOG_U64("block", in->block_number),
            "reserve", amt(r, &in->reserve, in->decimals),
            "target", amt(t, &in->target, in->decimals),
            "critical", amt(c, &in->critical, in->decimals),
            "depletion", amt(dp, &in->depletion, in->decimals),
            "uncovered", amt(u, &in->uncovered_debt, in->decimals),
            "oi", amt(oi, &in->open_interest, in->decimals),
            "health", health_text(h, in->risk.health),
            "tier", policy_tier_name(d->tier),
            "price", px,
            "price_state", oracle_state_name(ep->state),
            "action", it ? policy_action_name(it->action) : "none",
            "amount", amt(am, it ? &it->amount : &zero, in->decimals),
            "reason", d->reason,
            "key", it ? it->key : "",
            LOG_F64("eval_ms", round(eval_ms * 1e3) / 1e3),
        };
        /* clang-format on */

        log_emitv(lvl, "policy", kv, sizeof(kv) / sizeof(kv[0]));
    }
}

static void once_line(struct proto_rt *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
once_line(struct proto_rt *p, const char *fmt, ...)
{
    char *buf = p->ev.once_lines;
    size_t len = strlen(buf), cap = sizeof(p->ev.once_lines);
    va_list ap;

    if (len + 1 >= cap)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

static void
once_decision(struct proto_rt *p, const struct policy_decision *d,
              const struct eval_price *ep)
{
    const struct policy_inputs *in = &d->in;
    const struct policy_intent *it = d->n_intents ? &d->intents[0] : NULL;
    char r[AMOUNT_MAX], c[AMOUNT_MAX], am[AMOUNT_MAX], h[32];
    static const struct u256 zero;

    once_line(
        p,
        "%s: decision block=%" PRIu64 " tier=%s reserve=%s critical=%s "
        "health=%s price=%.10g price_state=%s action=%s amount=%s "
        "key=%s reason=\"%s\"\n",
        p->pc->name, in->block_number, policy_tier_name(d->tier),
        amt(r, &in->reserve, in->decimals), amt(c, &in->critical, in->decimals),
        health_text(h, in->risk.health), ep->has_price ? ep->price.value : 0.0,
        oracle_state_name(ep->state),
        it ? policy_action_name(it->action) : "none",
        amt(am, it ? &it->amount : &zero, in->decimals), it ? it->key : "-",
        d->reason);
}

/* A decision with intents on a price that is not fresh is a policy bug:
 * drop them (and release them in the memory) rather than act. */
static void
guard_stale(struct proto_rt *p, struct policy_decision *d,
            const struct eval_price *ep)
{
    if (ep->state == ORACLE_STATE_FRESH || d->n_intents == 0)
        return;
    log_error("policy", "intent on a price that is not fresh dropped",
              "protocol", p->pc->name, "key", d->intents[0].key);
    for (size_t i = 0; i < d->n_intents; i++)
        (void)policy_note_outcome(&p->ev.mem, d->intents[i].key,
                                  POLICY_OUTCOME_FAILED, d->in.now);
    d->n_intents = 0;
}

static void
decide(struct proto_rt *p)
{
    struct eval_rt *ev = &p->ev;
    struct protocol_state s;
    struct policy_decision d;
    struct eval_price ep;
    struct price_view pv;
    uint64_t now = proto_clock(p);
    double eval_s;
    int rc;

    eval_state_build(&s, ev->vals, p->pc->reserve.decimals, ev->block,
                     ev->block_hash, ev->block_ts);
    oracles_rt_view(p->orc, &ep);
    pv = (struct price_view){
        .price = ep.has_price ? &ep.price : NULL,
        .sigma_ewma = ep.sigma_ewma,
        .sigma_long = ep.sigma_long,
    };
    rc = policy_decide(&d, &ev->mem, &ev->params, &s, &pv, now);
    if (rc == KP_ECONFIG) {
        log_error("policy", "invalid policy parameters", "protocol",
                  p->pc->name);
        return;
    }
    /* Once per streak at warn, like a failed read. */
    if (rc != 0 && !ev->refused)
        log_warn("policy", "snapshot refused", "protocol", p->pc->name,
                 LOG_U64("block", ev->block), "reason", d.reason);
    ev->refused = rc != 0;
    guard_stale(p, &d, &ep);
    eval_s = (double)(uv_hrtime() - ev->trigger_ns) / 1e9;
    record_decision(p, &d, &ep, now);
    count_decision(p, &d, eval_s);
    log_decision(p, &d, &ep, eval_s * 1e3);
    if (p->d->o.once)
        once_decision(p, &d, &ep);
    if (ev->have_balance)
        actions_on_balance(p, &ev->signer_balance);
    actions_on_decision(p, &d);
}

static void
eval_failed(struct proto_rt *p)
{
    struct eval_rt *ev = &p->ev;

    metric_inc(ev->m_eval_errors);
    /* Once per streak at warn: a node without the contracts must not
     * flood the log. */
    if (ev->failures++ == 0)
        log_warn("policy", "cannot read the protocol state", "protocol",
                 p->pc->name, LOG_U64("block", ev->block), "error",
                 ev->errtext);
    else
        log_debug("policy", "cannot read the protocol state", "protocol",
                  p->pc->name, LOG_U64("block", ev->block), "error",
                  ev->errtext);
    if (p->d->o.once)
        once_line(p, "%s: evaluation failed: %s\n", p->pc->name, ev->errtext);
}

static void
eval_finish(struct proto_rt *p)
{
    struct eval_rt *ev = &p->ev;
    bool ok = ev->err == 0;

    ev->inflight = false;
    if (ok) {
        if (ev->failures > 0)
            log_info("policy", "protocol state readable again", "protocol",
                     p->pc->name, LOG_U64("failed", ev->failures));
        ev->failures = 0;
        decide(p);
    } else
        eval_failed(p);
    actions_on_eval_result(p, ok);
    if (p->d->o.once) {
        if (p->ev.once_sims == 0)
            p->ev.once_done = true;
        return;
    }
    if (ev->again && can_evaluate(p)) {
        ev->trigger_ns = uv_hrtime();
        eval_start(p);
    }
}

/* ---- --once ---- */

static void
on_once_tick(uv_timer_t *t)
{
    struct proto_rt *p = t->data;
    struct eval_rt *ev = &p->ev;

    if (ev->once_done) {
        uv_timer_stop(t);
        ev->once_done = false;
        proto_once_finish(p); /* may free p: nothing after this */
        return;
    }
    if (!ev->once_wait || ev->inflight || !oracles_rt_settled(p->orc))
        return;
    ev->once_wait = false;
    ev->trigger_ns = p->head_seen_ns;
    eval_start(p);
}

void
eval_once_begin(struct proto_rt *p)
{
    struct eval_rt *ev = &p->ev;

    ev->once_wait = true;
    if (ev->once_timer == NULL) {
        ev->once_timer = kp_xmalloc(sizeof(*ev->once_timer));
        uv_timer_init(&p->d->loop, ev->once_timer);
        ev->once_timer->data = p;
    }
    uv_timer_start(ev->once_timer, on_once_tick, 0, ONCE_TICK_MS);
}
