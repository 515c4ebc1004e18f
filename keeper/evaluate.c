/* evaluate.c - the evaluation's parts without I/O (evaluate.h). */
#include "keeper/evaluate.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chain/err.h"
#include "chain/hex.h"

/* ---- calls ---- */

static const char *const read_names[EVAL_NREADS] = {
    [EVAL_READ_BALANCE] = "balance",
    [EVAL_READ_TARGET] = "target",
    [EVAL_READ_CRITICAL] = "critical",
    [EVAL_READ_DEPLETION] = "depletion",
    [EVAL_READ_UNCOVERED] = "uncovered_debt",
    [EVAL_READ_OPEN_INTEREST] = "open_interest",
    [EVAL_READ_BACKSTOP] = "backstop_available",
};

const char *
eval_read_name(enum eval_read r)
{
    return (unsigned)r < EVAL_NREADS ? read_names[r] : "?";
}

/* The one member of tuple node `t`, if it has exactly one. */
static const struct abi_type *
single_member(const struct abi_sig *sig, uint16_t t)
{
    const struct abi_type *tuple;

    if (t == ABI_NONE)
        return NULL;
    tuple = abi_sig_node(sig, t);
    if (tuple->kind != ABI_TUPLE || tuple->count != 1)
        return NULL;
    return abi_sig_node(sig, tuple->child);
}

static bool
is_view_sig(const struct abi_sig *sig)
{
    const struct abi_type *in = abi_sig_node(sig, sig->inputs);
    const struct abi_type *out = single_member(sig, sig->outputs);

    return sig->kind == ABI_SIG_FUNCTION && in->count == 0 && out != NULL &&
           out->kind == ABI_UINT;
}

static bool
is_action_sig(const struct abi_sig *sig)
{
    const struct abi_type *in = single_member(sig, sig->inputs);

    return sig->kind == ABI_SIG_FUNCTION && in != NULL && in->kind == ABI_UINT;
}

static int
parse_sig(struct abi_sig *sig, char *err, size_t errcap, const char *key,
          const char *text, bool view)
{
    struct abi_error ae;
    int rc = abi_sig_parse(sig, text, strlen(text), &ae);

    if (rc != 0) {
        snprintf(err, errcap, "%s: %s", key, ae.msg);
        return KP_EINVAL;
    }
    if (view ? !is_view_sig(sig) : !is_action_sig(sig)) {
        snprintf(err, errcap, "%s: '%s' must %s", key, text,
                 view ? "take no input and return one uintN"
                      : "take one uintN input");
        return KP_EINVAL;
    }
    return 0;
}

int
eval_calls_init(struct eval_calls *c, char *err, size_t errcap,
                const struct cfg_protocol *pc)
{
    const struct cfg_reserve *r = &pc->reserve;
    const char *text[EVAL_NREADS] = {
        r->calls.balance,
        r->calls.target,
        r->calls.critical,
        r->calls.depletion,
        r->calls.uncovered_debt,
        r->calls.open_interest,
        r->calls.backstop_available,
    };
    char key[64];
    int rc;

    assert(c != NULL && err != NULL && pc != NULL);
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < EVAL_NREADS; i++) {
        snprintf(key, sizeof(key), "reserve.calls.%s", read_names[i]);
        if ((rc = parse_sig(&c->read_sig[i], err, errcap, key, text[i], true)))
            return rc;
        c->read_to[i] = i == EVAL_READ_OPEN_INTEREST
                            ? r->contracts.clearinghouse
                        : i == EVAL_READ_BACKSTOP ? r->contracts.backstop
                                                  : r->contracts.reserve;
    }
    rc = parse_sig(&c->act_sig[POLICY_ACTION_INJECT], err, errcap,
                   "strategies.inject.call", pc->strategies.inject.call, false);
    if (rc == 0)
        rc = parse_sig(&c->act_sig[POLICY_ACTION_CLAWBACK], err, errcap,
                       "strategies.clawback.call", pc->strategies.clawback.call,
                       false);
    c->act_to[POLICY_ACTION_INJECT] = r->contracts.backstop;
    c->act_to[POLICY_ACTION_CLAWBACK] = r->contracts.clearinghouse;
    c->act_enabled[POLICY_ACTION_INJECT] = pc->strategies.inject.enabled;
    c->act_enabled[POLICY_ACTION_CLAWBACK] = pc->strategies.clawback.enabled;
    return rc;
}

static int
fit(int n, size_t cap)
{
    return n < 0 || (size_t)n >= cap ? KP_ERANGE : 0;
}

int
eval_read_params(char *out, size_t cap, const struct eval_calls *c,
                 enum eval_read r, uint64_t block)
{
    char to[ETH_ADDR_STR_LEN], sel[11];

    assert(out != NULL && c != NULL && (unsigned)r < EVAL_NREADS);
    hex_encode(to, sizeof(to), c->read_to[r].b, sizeof(c->read_to[r].b), true);
    hex_encode(sel, sizeof(sel), c->read_sig[r].hash, 4, true);
    return fit(snprintf(out, cap,
                        "[{\"to\":\"%s\",\"data\":\"%s\"},\"0x%llx\"]", to, sel,
                        (unsigned long long)block),
               cap);
}

int
eval_balance_params(char *out, size_t cap, const struct eth_addr *who,
                    uint64_t block)
{
    char a[ETH_ADDR_STR_LEN];

    assert(out != NULL && who != NULL);
    hex_encode(a, sizeof(a), who->b, sizeof(who->b), true);
    return fit(
        snprintf(out, cap, "[\"%s\",\"0x%llx\"]", a, (unsigned long long)block),
        cap);
}

/* ---- replies ---- */

int
eval_decode_read(struct u256 *out, char *err, size_t errcap,
                 const struct eval_calls *c, enum eval_read r,
                 const cJSON *result)
{
    const char *s = cJSON_GetStringValue(result);
    uint8_t data[EVAL_REPLY_MAX];
    struct abi_value vals[4], v;
    struct abi_arena arena;
    struct abi_error ae;
    size_t len = 0, slen;
    int rc;

    assert(out != NULL && err != NULL && c != NULL &&
           (unsigned)r < EVAL_NREADS);
    slen = s != NULL ? strlen(s) : 0;
    if (s == NULL || !hex_has_prefix(s, slen)) {
        snprintf(err, errcap, "%s: result is not hex data", read_names[r]);
        return KP_EINVAL;
    }
    if (slen - 2 > 2 * sizeof(data)) {
        snprintf(err, errcap, "%s: result over %d bytes", read_names[r],
                 EVAL_REPLY_MAX);
        return KP_ELIMIT;
    }
    if ((rc = hex_decode(data, sizeof(data), &len, s, slen)) != 0) {
        snprintf(err, errcap, "%s: result is not hex data", read_names[r]);
        return KP_EINVAL;
    }
    if (len == 0) {
        snprintf(err, errcap, "%s: empty result (no contract at the address?)",
                 read_names[r]);
        return KP_EINVAL;
    }
    abi_arena_init(&arena, vals, sizeof(vals));
    rc = abi_decode_output(&v, &arena, &c->read_sig[r], data, len, &ae);
    if (rc != 0) {
        snprintf(err, errcap, "%s: %s", read_names[r], ae.msg);
        return rc;
    }
    assert(v.kind == ABI_TUPLE && v.u.list.n == 1 &&
           v.u.list.v[0].kind == ABI_UINT);
    *out = v.u.list.v[0].u.num;
    return 0;
}

int
eval_decode_balance(struct u256 *out, const cJSON *result)
{
    const char *s = cJSON_GetStringValue(result);
    size_t len;

    assert(out != NULL);
    if (s == NULL)
        return KP_EINVAL;
    len = strlen(s);
    /* A quantity: 0x and 1..64 hex digits (u256_parse also takes
     * decimal, which a quantity never is). */
    if (!hex_has_prefix(s, len) || len < 3)
        return KP_EINVAL;
    return u256_parse(out, s, len);
}

void
eval_state_build(struct protocol_state *s, const struct u256 v[EVAL_NREADS],
                 unsigned decimals, uint64_t block, const uint8_t hash[32],
                 uint64_t timestamp)
{
    assert(s != NULL && v != NULL && hash != NULL);
    protocol_state_init(s);
    s->block_number = block;
    memcpy(s->block_hash, hash, sizeof(s->block_hash));
    s->block_timestamp = timestamp;
    s->decimals = decimals;
    s->reserve = v[EVAL_READ_BALANCE];
    s->target = v[EVAL_READ_TARGET];
    s->critical = v[EVAL_READ_CRITICAL];
    s->depletion = v[EVAL_READ_DEPLETION];
    s->uncovered_debt = v[EVAL_READ_UNCOVERED];
    s->open_interest = v[EVAL_READ_OPEN_INTEREST];
    s->pool_available = v[EVAL_READ_BACKSTOP];
}

/* ---- policy parameters ---- */

static uint64_t
ms_to_s_up(uint64_t ms)
{
    return ms / 1000 + (ms % 1000 != 0);
}

int
eval_policy_params(struct policy_params *pp, const struct cfg_protocol *pc)
{
    const struct cfg_strategies *st = &pc->strategies;
    uint64_t age_s;

    assert(pp != NULL && pc != NULL);
    policy_params_default(pp);
    snprintf(pp->protocol, sizeof(pp->protocol), "%s", pc->name);
    pp->risk.stress_move_bps = st->stress_move_bps;
    pp->risk.margin_bps = 0;
    if (pc->n_oracles > 0) {
        age_s = pc->oracles[0].max_age_ms / 1000;
        pp->price_max_age_s = age_s > 0 ? age_s : 1;
    }
    pp->amber_health = st->amber_health;
    pp->t2_health = 0.0;
    pp->epoch_s = ms_to_s_up(st->inject.epoch_ms);
    if (pp->epoch_s == 0)
        pp->epoch_s = 1;
    if (st->inject.enabled)
        pp->epoch_budget = st->inject.epoch_budget;
    else
        memset(&pp->epoch_budget, 0, sizeof(pp->epoch_budget));
    pp->inject_cooldown_s = ms_to_s_up(st->inject.cooldown_ms);
    pp->clawback_cooldown_s = ms_to_s_up(st->clawback.cooldown_ms);
    pp->clawback_needs_approval = st->clawback.require_approval;
    return policy_params_check(pp);
}

/* ---- actions ---- */

int
eval_action_calldata(uint8_t *out, size_t cap, size_t *len,
                     const struct eval_calls *c, enum policy_action a,
                     const struct u256 *amount)
{
    struct abi_value arg, args;

    assert(out != NULL && len != NULL && c != NULL && amount != NULL &&
           (unsigned)a < POLICY_ACTION_COUNT);
    abi_value_uint(&arg, amount);
    abi_value_list(&args, ABI_TUPLE, &arg, 1);
    return abi_encode_call(out, cap, len, &c->act_sig[a], &args);
}

/* ---- /status ---- */

static void
add_amount(cJSON *o, const char *name, const struct u256 *a)
{
    char buf[U256_DEC_MAX];

    if (u256_fmt_dec(buf, sizeof(buf), a) != 0)
        snprintf(buf, sizeof(buf), "?");
    cJSON_AddStringToObject(o, name, buf);
}

static void
add_finite(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static cJSON *
price_json(const struct eval_record *r)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddStringToObject(p, "asset", r->asset);
    if (r->has_price) {
        add_finite(p, "value", r->price);
        cJSON_AddNumberToObject(p, "updated_at", (double)r->price_updated_at);
    } else {
        cJSON_AddNullToObject(p, "value");
        cJSON_AddNullToObject(p, "updated_at");
    }
    cJSON_AddStringToObject(p, "state",
                            r->price_state != NULL ? r->price_state : "none");
    return p;
}

static cJSON *
decision_json(const struct policy_decision *d)
{
    cJSON *o = cJSON_CreateObject();
    static const struct u256 zero;

    if (d->n_intents == 0) {
        cJSON_AddStringToObject(o, "action", "none");
        add_amount(o, "amount", &zero);
        cJSON_AddStringToObject(o, "reason", d->reason);
        cJSON_AddStringToObject(o, "key", "");
        return o;
    }
    cJSON_AddStringToObject(o, "action",
                            policy_action_name(d->intents[0].action));
    add_amount(o, "amount", &d->intents[0].amount);
    cJSON_AddStringToObject(o, "reason", d->reason);
    cJSON_AddStringToObject(o, "key", d->intents[0].key);
    return o;
}

cJSON *
eval_record_json(const struct eval_record *r)
{
    const struct policy_inputs *in = &r->d.in;
    cJSON *o = cJSON_CreateObject();

    assert(r != NULL);
    cJSON_AddNumberToObject(o, "block", (double)in->block_number);
    cJSON_AddNumberToObject(o, "time", (double)r->time);
    add_amount(o, "reserve", &in->reserve);
    add_amount(o, "target", &in->target);
    add_amount(o, "critical", &in->critical);
    add_amount(o, "depletion", &in->depletion);
    add_amount(o, "uncovered_debt", &in->uncovered_debt);
    add_amount(o, "open_interest", &in->open_interest);
    add_amount(o, "backstop_available", &in->pool_available);
    cJSON_AddNumberToObject(o, "decimals", (double)in->decimals);
    add_finite(o, "health", in->risk.health);
    cJSON_AddStringToObject(o, "tier", policy_tier_name(r->d.tier));
    cJSON_AddItemToObject(o, "price", price_json(r));
    cJSON_AddItemToObject(o, "decision", decision_json(&r->d));
    return o;
}

cJSON *
eval_action_json(const struct eval_action *a)
{
    cJSON *o = cJSON_CreateObject();
    char hash[67];

    assert(a != NULL);
    cJSON_AddStringToObject(o, "key", a->key);
    cJSON_AddStringToObject(o, "action", policy_action_name(a->action));
    add_amount(o, "amount", &a->amount);
    cJSON_AddStringToObject(o, "state", txm_state_name(a->state));
    if (a->has_tx) {
        hex_encode(hash, sizeof(hash), a->tx_hash, sizeof(a->tx_hash), true);
        cJSON_AddStringToObject(o, "tx_hash", hash);
    } else
        cJSON_AddNullToObject(o, "tx_hash");
    if (a->has_block)
        cJSON_AddNumberToObject(o, "block", (double)a->block);
    else
        cJSON_AddNullToObject(o, "block");
    cJSON_AddStringToObject(o, "reason", a->reason);
    return o;
}
