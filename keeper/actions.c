/* actions.c - what comes of a decision (daemon_int.h): intents to the
 * transaction manager, its reports back into the policy memory, and the
 * alerts, logs and metrics of decisions, actions and the protocol's
 * health conditions.
 *
 * Alert conditions of a protocol (keys, severities):
 *   tier                       amber: warning; T2, T3: critical; cleared
 *                              back in T1
 *   policy/<alert>             pool_empty, budget_exhausted,
 *                              no_positive_pnl, clawback_approval:
 *                              critical; bad_state: error
 *   action_disabled/<action>   the policy wants an action the config
 *                              disables: critical
 *   stale_oracle/<oracle>      critical, cleared when fresh again
 *   rpc/no_healthy             no healthy endpoint for EVAL_RPC_BAD_POLLS
 *                              head polls: critical
 *   signer/low_balance         below signer.min_balance: warning
 *   evaluation                 EVAL_FAIL_ALERT evaluations in a row
 *                              failed: error
 * Notices (alert_notify), key "action/<intent key>/<state>": sent and
 * confirmed (warning), failed and simulated_revert (critical), dry_run
 * (info).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "keeper/daemon_int.h"
#include "keeper/log.h"

#define AMOUNT_MAX 96
#define ALERT_DRAIN_TICK_MS 50

/* ---- alert managers: build, compare, drain ---- */

static bool
channel_equal(const struct cfg_channel *a, const struct cfg_channel *b)
{
    return !strcmp(a->name, b->name) && a->type == b->type &&
           !strcmp(a->url.value, b->url.value) &&
           !strcmp(a->routing_key.value, b->routing_key.value) &&
           a->min_severity == b->min_severity;
}

static bool
alerts_cfg_equal(const struct cfg_alerts *a, const struct cfg_alerts *b)
{
    if (a->n_channels != b->n_channels)
        return false;
    for (size_t i = 0; i < a->n_channels; i++)
        if (!channel_equal(&a->channels[i], &b->channels[i]))
            return false;
    return true;
}

struct alert_drain {
    uv_timer_t timer;
    struct alert_mgr *m;
    uint64_t deadline; /* uv_now */
};

static void
on_drain_closed(uv_handle_t *h)
{
    free(h->data);
}

static void
on_drain_tick(uv_timer_t *t)
{
    struct alert_drain *dr = t->data;
    size_t left = alert_mgr_pending(dr->m);

    if (left > 0 && uv_now(t->loop) < dr->deadline)
        return;
    if (left > 0)
        log_warn("alert", "alerts not delivered before shutdown",
                 LOG_U64("pending", left));
    alert_mgr_free(dr->m);
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, on_drain_closed);
}

/* Free m once its queues are empty, or after ALERT_DRAIN_MS. */
static void
alert_drain(uv_loop_t *loop, struct alert_mgr *m)
{
    struct alert_drain *dr;

    if (m == NULL)
        return;
    if (alert_mgr_pending(m) == 0) {
        alert_mgr_free(m);
        return;
    }
    dr = kp_xcalloc(1, sizeof(*dr));
    dr->m = m;
    dr->deadline = uv_now(loop) + ALERT_DRAIN_MS;
    uv_timer_init(loop, &dr->timer);
    dr->timer.data = dr;
    uv_timer_start(&dr->timer, on_drain_tick, ALERT_DRAIN_TICK_MS,
                   ALERT_DRAIN_TICK_MS);
}

static int
alerts_build(struct proto_rt *p, char *err, size_t errcap)
{
    struct alert_opts ao = {.protocol = p->pc->name};
    int rc;

    rc = alert_mgr_new(&p->alerts, &p->d->loop, p->d->metrics, &ao,
                       p->pc->alerts.channels, p->pc->alerts.n_channels);
    if (rc != 0)
        snprintf(err, errcap, "%s: alerts: %s", p->pc->name, kp_strerror(rc));
    return rc;
}

/* ---- transaction manager ---- */

static void on_txm_event(void *arg, const struct txm_event *ev);

static int
journal_open(struct proto_rt *p, char *err, size_t errcap)
{
    const char *dir = p->d->o.state_dir;
    char path[CFG_PATH_MAX + CFG_NAME_MAX + 16];
    int rc;

    if (dir == NULL)
        return 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "%s: --state-dir %s: %s", p->pc->name, dir,
                 strerror(errno));
        return KP_EIO;
    }
    snprintf(path, sizeof(path), "%s/%s.journal", dir, p->pc->name);
    if ((rc = txm_journal_open(&p->journal, path)) != 0)
        snprintf(err, errcap, "%s: cannot open the journal %s: %s", p->pc->name,
                 path, strerror(errno));
    return rc;
}

static int
txm_build(struct proto_rt *p)
{
    const struct cfg_protocol *pc = p->pc;
    struct txm_opts o;

    txm_opts_init(&o);
    o.chain_id = pc->chain.chain_id;
    o.gas_margin_bps = pc->tx.gas_limit_margin_bps;
    o.max_fee = pc->tx.max_fee;
    o.priority_fee = pc->tx.priority_fee;
    if (pc->tx.replace_after_blocks > 0)
        o.replace_after_blocks = pc->tx.replace_after_blocks;
    if (pc->tx.fee_bump_bps >= TXM_MIN_BUMP_BPS)
        o.fee_bump_bps = pc->tx.fee_bump_bps;
    if (pc->chain.confirmations > 0)
        o.confirmations = pc->chain.confirmations;
    o.on_event = on_txm_event;
    o.event_arg = p;
    if (p->journal != NULL) {
        o.journal = txm_journal_append;
        o.journal_arg = p->journal;
    }
    return txm_new(&p->txm, &p->d->loop, p->rpc, p->signer, &o);
}

int
actions_init(struct proto_rt *p, char *err, size_t errcap,
             struct proto_rt *prev)
{
    int rc;

    if ((rc = journal_open(p, err, errcap)) != 0)
        return rc;
    /* A signer taken over on reload arrives in proto_rt_start; the
     * manager is built then (with options that prev's already passed). */
    if (p->signer != NULL && (rc = txm_build(p)) != 0) {
        snprintf(err, errcap, "%s: transaction manager: %s", p->pc->name,
                 kp_strerror(rc));
        return rc;
    }
    if (p->d->o.once)
        return 0;
    if (prev != NULL && prev->alerts != NULL &&
        alerts_cfg_equal(&prev->pc->alerts, &p->pc->alerts)) {
        p->alerts_from = prev;
        return 0;
    }
    return alerts_build(p, err, errcap);
}

void
actions_start(struct proto_rt *p)
{
    int rc;

    if (p->alerts_from != NULL) {
        p->alerts = p->alerts_from->alerts;
        p->alerts_from->alerts = NULL;
        p->alerts_from = NULL;
    }
    if (p->txm == NULL && p->signer != NULL && (rc = txm_build(p)) != 0)
        log_error("tx",
                  "cannot build the transaction manager: no action "
                  "will be sent",
                  "protocol", p->pc->name, LOG_RC(rc));
}

void
actions_cleanup(struct proto_rt *p)
{
    txm_free(p->txm);
    p->txm = NULL;
    txm_journal_close(p->journal);
    p->journal = NULL;
    alert_drain(&p->d->loop, p->alerts);
    p->alerts = NULL;
}

/* ---- the ring of actions ---- */

static struct eval_action *
ring_find(struct proto_rt *p, const char *key, size_t *idx)
{
    struct eval_rt *ev = &p->ev;

    for (size_t i = 0; i < ev->nactions; i++)
        if (!strcmp(ev->actions[i].key, key)) {
            if (idx != NULL)
                *idx = i;
            return &ev->actions[i];
        }
    return NULL;
}

struct eval_action *
actions_record(struct proto_rt *p, const char *key)
{
    struct eval_rt *ev = &p->ev;
    struct eval_action *a = ring_find(p, key, NULL);
    size_t i;

    if (a != NULL)
        return a;
    i = ev->next_action;
    ev->next_action = (i + 1) % EVAL_ACTIONS_KEPT;
    if (ev->nactions < EVAL_ACTIONS_KEPT)
        ev->nactions++;
    a = &ev->actions[i];
    memset(a, 0, sizeof(*a));
    snprintf(a->key, sizeof(a->key), "%s", key);
    ev->act_hidden[i] = true;
    ev->act_decided_ns[i] = uv_hrtime();
    return a;
}

/* ---- small helpers ---- */

static const char *
amt(char buf[AMOUNT_MAX], const struct u256 *a, unsigned decimals)
{
    if (u256_fmt_units(buf, AMOUNT_MAX, a, decimals) != 0)
        snprintf(buf, AMOUNT_MAX, "?");
    return buf;
}

static unsigned
decimals_of(const struct proto_rt *p)
{
    return p->pc->reserve.decimals;
}

static void
raise_or_clear(struct proto_rt *p, const char *key, bool on,
               enum alert_severity sev, const char *summary,
               const char *const *kv, size_t nkv)
{
    int rc;

    if (p->alerts == NULL)
        return;
    rc = on ? alert_raise(p->alerts, key, sev, summary, kv, nkv)
            : alert_clear(p->alerts, key);
    if (rc != 0)
        log_warn("alert", "alert refused", "protocol", p->pc->name, "key", key,
                 LOG_RC(rc));
}

/* ---- reports of the transaction manager ---- */

static enum alert_severity
notice_severity(enum txm_state st)
{
    switch (st) {
    case TXM_SENT:
    case TXM_CONFIRMED:
        return ALERT_WARNING;
    case TXM_FAILED:
    case TXM_SIMULATED_REVERT:
        return ALERT_CRITICAL;
    case TXM_DRY_RUN:
    case TXM_REPLACED:
        break;
    }
    return ALERT_INFO;
}

static void
notify(struct proto_rt *p, const struct eval_action *a, const char *hash)
{
    char key[ALERT_KEY_MAX], summary[512], am[AMOUNT_MAX], blk[24];
    const char *state = txm_state_name(a->state);

    if (p->alerts == NULL || a->state == TXM_REPLACED)
        return;
    snprintf(key, sizeof(key), "action/%s/%s", a->key, state);
    snprintf(summary, sizeof(summary), "%s: %s of %s %s%s%s", p->pc->name,
             policy_action_name(a->action), amt(am, &a->amount, decimals_of(p)),
             state, a->reason[0] ? ": " : "", a->reason);
    snprintf(blk, sizeof(blk), "%" PRIu64, a->block);
    if (alert_notify(p->alerts, key, notice_severity(a->state), summary,
                     ALERT_KV("action", policy_action_name(a->action), "amount",
                              am, "state", state, "key", a->key, "tx_hash",
                              hash, "block", a->has_block ? blk : NULL,
                              "reason", a->reason)) != 0)
        log_warn("alert", "notice refused", "protocol", p->pc->name, "key",
                 key);
}

static void
note_outcome(struct proto_rt *p, const struct txm_report *r)
{
    enum policy_outcome out = POLICY_OUTCOME_FAILED;

    if (r->state == TXM_CONFIRMED)
        out = POLICY_OUTCOME_CONFIRMED;
    else if (r->state == TXM_FAILED && r->sent && !r->has_receipt)
        /* A transaction may be on a node with its nonce taken by
         * another: count it as spent, never refund it. */
        out = POLICY_OUTCOME_CONFIRMED;
    (void)policy_note_outcome(&p->ev.mem, r->key, out, proto_clock(p));
}

static void
report_text(struct eval_action *a, const struct txm_report *r)
{
    if (r->text != NULL && r->text[0] != '\0')
        snprintf(a->reason, sizeof(a->reason), "%s", r->text);
    else if (r->state == TXM_CONFIRMED)
        snprintf(a->reason, sizeof(a->reason), "mined");
}

static void
log_report(struct proto_rt *p, const struct eval_action *a,
           const struct txm_report *r, const char *hash)
{
    char am[AMOUNT_MAX];
    const char *state = txm_state_name(r->state);
    enum log_level lvl = LOG_LEVEL_INFO;

    if (r->state == TXM_FAILED || r->state == TXM_SIMULATED_REVERT)
        lvl = LOG_LEVEL_WARN;
    {
        /* clang-format off */
        const char *kv[] = {
            "action",
            "protocol", p->pc->name,
            "key", r->key,
            "action", policy_action_name(a->action),
            "amount", amt(am, &a->amount, decimals_of(p)),
            "state", state,
            "tx_hash", hash,
            LOG_U64("nonce", r->has_tx ? r->nonce : 0),
            LOG_U64("block", r->has_receipt ? r->block : 0),
            "detail", r->text ? r->text : "",
        };
        /* clang-format on */

        log_emitv(lvl, "tx", kv, sizeof(kv) / sizeof(kv[0]));
    }
}

static void
once_sim_done(struct proto_rt *p, const struct eval_action *a,
              const struct txm_report *r)
{
    char am[AMOUNT_MAX], *buf = p->ev.once_lines;
    size_t len = strlen(buf);

    snprintf(buf + len, sizeof(p->ev.once_lines) - len,
             "%s: simulation action=%s amount=%s key=%s result=%s%s%s\n",
             p->pc->name, policy_action_name(a->action),
             amt(am, &a->amount, decimals_of(p)), a->key,
             r->state == TXM_DRY_RUN ? "ok" : txm_state_name(r->state),
             r->text && r->text[0] ? ": " : "", r->text ? r->text : "");
    if (p->ev.once_sims > 0 && --p->ev.once_sims == 0)
        p->ev.once_done = true;
}

static void
on_txm_result(void *arg, const struct txm_report *r)
{
    struct proto_rt *p = arg;
    size_t idx = 0;
    struct eval_action *a = ring_find(p, r->key, &idx);
    char hash[67] = "";

    if (a == NULL) { /* dropped from the ring: keep the report anyway */
        actions_record(p, r->key);
        a = ring_find(p, r->key, &idx);
    }
    p->ev.act_hidden[idx] = false;
    a->state = r->state;
    if (r->has_tx) {
        a->has_tx = true;
        memcpy(a->tx_hash, r->hash, sizeof(a->tx_hash));
    }
    if (a->has_tx)
        hex_encode(hash, sizeof(hash), a->tx_hash, sizeof(a->tx_hash), true);
    if (r->has_receipt) {
        a->has_block = true;
        a->block = r->block;
    }
    report_text(a, r);
    obs_action(p, a->action, r->state);
    log_report(p, a, r, hash);
    notify(p, a, hash[0] ? hash : NULL);
    if (!txm_state_is_final(r->state))
        return;
    note_outcome(p, r);
    if (p->d->o.once)
        once_sim_done(p, a, r);
}

static void
on_txm_event(void *arg, const struct txm_event *ev)
{
    struct proto_rt *p = arg;
    static const enum log_level lv[] = {
        [TXM_SEV_DEBUG] = LOG_LEVEL_DEBUG,
        [TXM_SEV_INFO] = LOG_LEVEL_DEBUG,
        [TXM_SEV_WARN] = LOG_LEVEL_WARN,
        [TXM_SEV_ERROR] = LOG_LEVEL_ERROR,
    };
    enum log_level lvl = (unsigned)ev->severity <= TXM_SEV_ERROR
                             ? lv[ev->severity]
                             : LOG_LEVEL_WARN;
    size_t idx;
    double wire_us = -1;

    /* The first broadcast of an intent: how long decision -> wire. */
    if (ev->kind == TXM_EV_BROADCAST && ev->key != NULL &&
        ring_find(p, ev->key, &idx) != NULL && p->ev.act_hidden[idx]) {
        wire_us =
            round((double)(uv_hrtime() - p->ev.act_decided_ns[idx]) / 1e2) / 10;
        lvl = LOG_LEVEL_INFO;
    }
    if (!log_enabled(lvl))
        return;
    {
        /* clang-format off */
        const char *kv[] = {
            "transaction manager",
            "protocol", p->pc->name,
            "key", ev->key ? ev->key : "",
            "event", txm_event_name(ev->kind),
            "detail", ev->text ? ev->text : "",
            LOG_F64("decision_to_wire_us", wire_us),
        };
        /* clang-format on */

        log_emitv(lvl, "tx", kv,
                  sizeof(kv) / sizeof(kv[0]) - (wire_us < 0 ? 2 : 0));
    }
}

/* ---- intents ---- */

static void
submit_failed(struct proto_rt *p, struct eval_action *a, int rc)
{
    struct txm_report r = {
        .key = a->key, .state = TXM_FAILED, .err = rc, .text = NULL};
    char text[128];

    snprintf(text, sizeof(text), "not submitted: %s", kp_strerror(rc));
    r.text = text;
    on_txm_result(p, &r);
}

/* Why an intent is only simulated, or NULL when it may be sent. */
static const char *
simulate_only(const struct proto_rt *p, const struct policy_intent *it)
{
    if (p->d->o.once)
        return "--once: simulated only";
    if (p->d->o.dry_run)
        return "dry run: simulated only";
    if (it->needs_approval)
        return "awaiting approval (strategies.clawback.require_approval): "
               "simulated only";
    return NULL;
}

static void
submit(struct proto_rt *p, const struct policy_intent *it)
{
    const struct eval_calls *c = p->ev.calls;
    uint8_t data[EVAL_CALLDATA_MAX];
    const char *why = simulate_only(p, it);
    struct eval_action *a = actions_record(p, it->key);
    struct txm_intent in = {0};
    size_t len = 0;
    int rc;

    /* --once waits for one final report per intent, whatever path it
     * takes (each path below ends in on_txm_result). */
    if (p->d->o.once)
        p->ev.once_sims++;
    a->action = it->action;
    a->amount = it->amount;
    if (why != NULL)
        snprintf(a->reason, sizeof(a->reason), "%s", why);
    if (p->txm == NULL) {
        submit_failed(p, a, KP_ESTATE);
        return;
    }
    rc = eval_action_calldata(data, sizeof(data), &len, c, it->action,
                              &it->amount);
    if (rc != 0) {
        submit_failed(p, a, rc);
        return;
    }
    in.key = it->key;
    in.to = c->act_to[it->action];
    in.data = data;
    in.data_len = len;
    in.dry_run = why != NULL;
    in.cb = on_txm_result;
    in.arg = p;
    if ((rc = txm_submit(p->txm, &in)) != 0)
        submit_failed(p, a, rc);
}

/* An action the configuration disables: a human must act. */
static void
disabled(struct proto_rt *p, const struct policy_intent *it)
{
    char key[64], summary[256], am[AMOUNT_MAX];
    const char *name = policy_action_name(it->action);

    (void)policy_note_outcome(&p->ev.mem, it->key, POLICY_OUTCOME_FAILED,
                              proto_clock(p));
    snprintf(key, sizeof(key), "action_disabled/%s", name);
    snprintf(summary, sizeof(summary),
             "%s: the policy wants a %s of %s, disabled in the config",
             p->pc->name, name, amt(am, &it->amount, decimals_of(p)));
    log_warn("policy", "action disabled in the configuration", "protocol",
             p->pc->name, "action", name, "amount", am, "key", it->key);
    raise_or_clear(p, key, true, ALERT_CRITICAL, summary,
                   ALERT_KV("action", name, "amount", am));
}

/* ---- alerts of a decision ---- */

static void
tier_alert(struct proto_rt *p, const struct policy_decision *d)
{
    const struct policy_inputs *in = &d->in;
    char summary[POLICY_REASON_MAX + 96], r[AMOUNT_MAX], c[AMOUNT_MAX],
        dp[AMOUNT_MAX], u[AMOUNT_MAX], h[32], blk[24];
    enum alert_severity sev =
        d->tier == POLICY_TIER_AMBER ? ALERT_WARNING : ALERT_CRITICAL;

    if (d->tier == POLICY_TIER_T1) {
        raise_or_clear(p, "tier", false, ALERT_INFO, NULL, ALERT_NO_KV);
        return;
    }
    /* The reason starts with the tier ("T2: reserve ... < critical"). */
    snprintf(summary, sizeof(summary), "%s: %s", p->pc->name, d->reason);
    snprintf(h, sizeof(h), "%.4g", in->risk.health);
    snprintf(blk, sizeof(blk), "%" PRIu64, in->block_number);
    raise_or_clear(p, "tier", true, sev, summary,
                   ALERT_KV("tier", policy_tier_name(d->tier), "prev_tier",
                            policy_tier_name(d->prev_tier), "reserve",
                            amt(r, &in->reserve, in->decimals), "critical",
                            amt(c, &in->critical, in->decimals), "depletion",
                            amt(dp, &in->depletion, in->decimals),
                            "uncovered_debt",
                            amt(u, &in->uncovered_debt, in->decimals), "health",
                            h, "block", blk));
}

static void
policy_alerts(struct proto_rt *p, const struct policy_decision *d)
{
    static const uint32_t bits[] = {
        POLICY_ALERT_POOL_EMPTY, POLICY_ALERT_BUDGET_EXHAUSTED,
        POLICY_ALERT_NO_PNL,     POLICY_ALERT_BAD_STATE,
        POLICY_ALERT_APPROVAL,
    };
    /* Without a usable price the policy does not plan actions, so their
     * conditions are unknown: leave them as they are. */
    bool planned =
        !(d->alerts & (POLICY_ALERT_NO_PRICE | POLICY_ALERT_STALE_PRICE));
    char key[64], summary[POLICY_REASON_MAX + 64];

    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        const char *name = policy_alert_name((enum policy_alert)bits[i]);
        bool on = (d->alerts & bits[i]) != 0;

        if (!on && !planned && bits[i] != POLICY_ALERT_BAD_STATE)
            continue;
        /* Approval stays open for the whole T3 episode: the intent is
         * decided once, then held. */
        if (bits[i] == POLICY_ALERT_APPROVAL && !on &&
            d->tier == POLICY_TIER_T3)
            continue;
        snprintf(key, sizeof(key), "policy/%s", name);
        snprintf(summary, sizeof(summary), "%s: %s: %s", p->pc->name, name,
                 d->reason);
        raise_or_clear(p, key, on,
                       bits[i] == POLICY_ALERT_BAD_STATE ? ALERT_ERROR
                                                         : ALERT_CRITICAL,
                       summary, ALERT_KV("tier", policy_tier_name(d->tier)));
    }
    if (d->tier != POLICY_TIER_T3)
        for (int a = 0; a < POLICY_ACTION_COUNT; a++) {
            snprintf(key, sizeof(key), "action_disabled/%s",
                     policy_action_name((enum policy_action)a));
            raise_or_clear(p, key, false, ALERT_INFO, NULL, ALERT_NO_KV);
        }
}

void
actions_on_decision(struct proto_rt *p, const struct policy_decision *d)
{
    tier_alert(p, d);
    policy_alerts(p, d);
    for (size_t i = 0; i < d->n_intents; i++) {
        const struct policy_intent *it = &d->intents[i];

        if (!p->ev.calls->act_enabled[it->action])
            disabled(p, it);
        else
            submit(p, it);
    }
}

/* ---- other conditions ---- */

void
actions_on_balance(struct proto_rt *p, const struct u256 *wei)
{
    const struct u256 *min = &p->pc->signer.min_balance;
    char have[AMOUNT_MAX], want[AMOUNT_MAX], summary[256];
    bool low = u256_cmp(wei, min) < 0;

    if (!low) {
        raise_or_clear(p, "signer/low_balance", false, ALERT_INFO, NULL,
                       ALERT_NO_KV);
        return;
    }
    amt(have, wei, 18);
    amt(want, min, 18);
    snprintf(summary, sizeof(summary),
             "%s: signer %s holds %s ETH, below the minimum %s", p->pc->name,
             p->address, have, want);
    raise_or_clear(p, "signer/low_balance", true, ALERT_WARNING, summary,
                   ALERT_KV("address", p->address, "balance_eth", have,
                            "min_balance_eth", want));
}

void
actions_on_eval_result(struct proto_rt *p, bool ok)
{
    char summary[EVAL_ERR_MAX + 96], n[24];

    if (ok || p->ev.failures < EVAL_FAIL_ALERT) {
        if (ok)
            raise_or_clear(p, "evaluation", false, ALERT_INFO, NULL,
                           ALERT_NO_KV);
        return;
    }
    snprintf(summary, sizeof(summary), "%s: cannot read the protocol state: %s",
             p->pc->name, p->ev.errtext);
    snprintf(n, sizeof(n), "%" PRIu64, p->ev.failures);
    raise_or_clear(p, "evaluation", true, ALERT_ERROR, summary,
                   ALERT_KV("failures", n, "error", p->ev.errtext));
}

void
actions_on_oracle_state(struct proto_rt *p, const struct oracle_source *s,
                        enum oracle_state to)
{
    char key[ORACLE_NAME_MAX + 16], summary[256], age[24], max[24];
    const struct oracle_price *pr = oracle_source_latest(s);

    if (to == ORACLE_STATE_NONE)
        return;
    snprintf(key, sizeof(key), "stale_oracle/%s", oracle_source_name(s));
    if (to == ORACLE_STATE_FRESH) {
        raise_or_clear(p, key, false, ALERT_INFO, NULL, ALERT_NO_KV);
        return;
    }
    snprintf(age, sizeof(age), "%" PRIu64,
             pr ? oracle_price_age(pr, oracle_source_now(s)) : 0);
    snprintf(max, sizeof(max), "%" PRIu64, s->max_age);
    snprintf(summary, sizeof(summary),
             "%s: %s price from %s is stale (%s s old, max %s s): no "
             "action on it",
             p->pc->name, oracle_source_asset(s), oracle_source_name(s), age,
             max);
    raise_or_clear(p, key, true, ALERT_CRITICAL, summary,
                   ALERT_KV("oracle", oracle_source_name(s), "asset",
                            oracle_source_asset(s), "age_s", age, "max_age_s",
                            max));
}

static bool
any_endpoint_healthy(const struct proto_rt *p)
{
    for (size_t i = 0; i < rpc_endpoint_count(p->rpc); i++)
        if (proto_endpoint_healthy(rpc_endpoint_stats(p->rpc, i),
                                   p->fail_threshold))
            return true;
    return false;
}

static void
rpc_health(struct proto_rt *p)
{
    char summary[DAEMON_ERR_MAX + 96];

    if (any_endpoint_healthy(p)) {
        if (p->ev.rpc_bad_polls >= EVAL_RPC_BAD_POLLS)
            log_info("chain", "a healthy endpoint is back", "protocol",
                     p->pc->name);
        p->ev.rpc_bad_polls = 0;
        raise_or_clear(p, "rpc/no_healthy", false, ALERT_INFO, NULL,
                       ALERT_NO_KV);
        return;
    }
    if (++p->ev.rpc_bad_polls < EVAL_RPC_BAD_POLLS)
        return;
    if (p->ev.rpc_bad_polls == EVAL_RPC_BAD_POLLS)
        log_error("chain", "no healthy RPC endpoint", "protocol", p->pc->name,
                  "error", p->last_error);
    snprintf(summary, sizeof(summary), "%s: no healthy RPC endpoint%s%s",
             p->pc->name, p->last_error[0] ? ": " : "", p->last_error);
    raise_or_clear(p, "rpc/no_healthy", true, ALERT_CRITICAL, summary,
                   ALERT_KV("error", p->last_error));
}

void
actions_on_head(struct proto_rt *p, bool moved)
{
    if (moved && p->txm != NULL)
        txm_on_head(p->txm, p->head.number);
    rpc_health(p);
}

void
actions_on_head_error(struct proto_rt *p)
{
    rpc_health(p);
}
