/*
 * txm.c - the transaction manager (see txm.h for the contract).
 *
 * Each intent is a small state machine driven by RPC callbacks and heads:
 *
 *   SIMULATE -> ESTIMATE -> PRICE -> NONCE (queue) -> SEND -> WAIT -> end
 *
 * An intent makes at most one RPC call at a time (`busy`, `call`), so a
 * callback always finds its intent alive and txm_free can cancel exactly
 * what is outstanding. The manager makes its own calls (chain id, nonce,
 * head polling) with the same discipline.
 *
 * The nonce gate: the intent at the head of the nonce queue takes the
 * local next nonce and holds the gate until a node has answered its first
 * broadcast. The next nonce is counted only once a node may have the
 * transaction, so a refused transaction leaves no gap.
 */
#include "chain/txm.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/tx.h"

#define REVERT_DATA_MAX (16u * 1024) /* revert data decoded at most */
#define REVERT_ARENA (32u * 1024)
#define MAX_RESIGNS 3 /* re-signs after nonce conflicts, per intent */
#define NONCE_GONE_HEADS                                                       \
    3 /* heads to find our receipt after "nonce too                            \
         low" before giving the nonce up */
#define MSG_NORM_MAX 512

enum istate {
    IS_SIMULATE,
    IS_ESTIMATE,
    IS_PRICE,
    IS_NONCE, /* in the nonce queue */
    IS_SEND,  /* holds the gate: first broadcast in flight */
    IS_WAIT,  /* a node may have a transaction: receipts, bumps */
};

/* A transaction of an intent that a node may hold. */
struct txm_tx {
    uint8_t hash[32];
    struct txm_fees fees;
};

struct txm_item {
    struct txm *m;
    struct txm_item *prev, *next; /* live list */
    struct txm_item *qnext;       /* nonce queue */
    char key[TXM_KEY_MAX + 1];
    struct eth_addr to;
    uint8_t *data;
    size_t data_len;
    struct u256 value;
    bool dry_run;
    struct abi_sig *errors; /* until the simulation is over */
    size_t nerrors;
    txm_result_cb cb;
    void *arg;

    enum istate st;
    bool busy;
    uint64_t call;

    uint64_t gas_limit;
    struct txm_fees fees; /* of the transaction being signed */
    uint64_t nonce;
    unsigned resigns;

    struct txm_tx txs[TXM_MAX_TXS]; /* hashes to watch */
    size_t ntx;
    uint8_t *raw; /* bytes of txs[ntx - 1], for broadcasting again */
    size_t raw_len;
    uint8_t *cand; /* bytes being sent */
    size_t cand_len;
    uint8_t cand_hash[32];
    struct txm_fees bump_base; /* fees the next raise starts from */

    uint64_t last_send_head; /* head when the newest tx went out; 0: none */
    bool rebroadcast;        /* newest send's outcome unknown */
    bool at_cap;             /* no raise fits under the cap any more */
    bool warned_rebroadcast;
    bool nonce_gone; /* "nonce too low" while waiting */
    unsigned nonce_gone_heads;

    /* receipt poll in progress */
    size_t poll_left;
    bool poll_err;
    bool mined;
    size_t mined_idx;
    uint64_t mined_block, gas_used;
    struct u256 egp;
    int status;
};

struct txm {
    uv_loop_t *loop;
    struct rpc_client *rpc;
    const struct signer *signer;
    struct txm_opts o;
    struct eth_addr addr;
    char addr_hex[ETH_ADDR_STR_LEN];
    uint64_t chain_id;

    struct txm_item *live;
    size_t nlive;
    struct txm_item *qhead, *qtail;
    struct txm_item *gate;

    bool nonce_known;
    uint64_t next_nonce;
    uint64_t nonce_floor; /* applied at the next nonce fetch */
    bool mgr_busy;
    uint64_t mgr_call;

    uint64_t head;
    uv_timer_t *timer;
    bool poll_busy;
    uint64_t poll_call;

    char **done; /* ring of keys with a mined transaction */
    size_t ndone, done_pos;
    int in_cb;
};

/* ---- small helpers ---- */

static void emit(struct txm *m, const struct txm_item *it,
                 enum txm_event_kind kind, enum txm_severity sev,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
emit(struct txm *m, const struct txm_item *it, enum txm_event_kind kind,
     enum txm_severity sev, const char *fmt, ...)
{
    char text[TXM_TEXT_MAX];
    struct txm_event ev = {.key = it ? it->key : NULL,
                           .kind = kind,
                           .severity = sev,
                           .text = text};
    va_list ap;

    if (!m->o.on_event)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    m->in_cb++;
    m->o.on_event(m->o.event_arg, &ev);
    m->in_cb--;
}

/* Decimal text of `a` in a caller buffer, for event texts. */
static const char *
dec(char buf[U256_DEC_MAX], const struct u256 *a)
{
    u256_fmt_dec(buf, U256_DEC_MAX, a);
    return buf;
}

static const char *
hash_hex(char buf[67], const uint8_t h[32])
{
    hex_encode(buf, 67, h, 32, true);
    return buf;
}

/* Replace control characters: texts are one line. */
static void
one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static bool
key_is_valid(const char *k)
{
    size_t n = 0;

    for (; k[n]; n++) {
        unsigned char c = (unsigned char)k[n];

        if (n >= TXM_KEY_MAX || c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return false;
    }
    return n > 0;
}

/* ---- done keys ---- */

static bool
done_has(const struct txm *m, const char *key)
{
    for (size_t i = 0; i < m->ndone; i++)
        if (!strcmp(m->done[i], key))
            return true;
    return false;
}

static void
done_add(struct txm *m, const char *key)
{
    if (done_has(m, key))
        return;
    if (m->ndone < m->o.max_done_keys) {
        m->done[m->ndone++] = kp_xstrdup(key);
        return;
    }
    free(m->done[m->done_pos]);
    m->done[m->done_pos] = kp_xstrdup(key);
    m->done_pos = (m->done_pos + 1) % m->o.max_done_keys;
}

static struct txm_item *
live_find(const struct txm *m, const char *key)
{
    for (struct txm_item *it = m->live; it; it = it->next)
        if (!strcmp(it->key, key))
            return it;
    return NULL;
}

/* ---- item lifetime ---- */

static void
item_free(struct txm_item *it)
{
    free(it->data);
    free(it->errors);
    free(it->raw);
    free(it->cand);
    free(it);
}

static void
queue_remove(struct txm *m, struct txm_item *it)
{
    struct txm_item **pp = &m->qhead, *last = NULL;

    for (; *pp; last = *pp, pp = &(*pp)->qnext)
        if (*pp == it) {
            *pp = it->qnext;
            if (m->qtail == it)
                m->qtail = last;
            it->qnext = NULL;
            return;
        }
}

static void
live_unlink(struct txm *m, struct txm_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        m->live = it->next;
    if (it->next)
        it->next->prev = it->prev;
    m->nlive--;
    queue_remove(m, it);
    if (m->gate == it)
        m->gate = NULL;
}

static void
report_init(struct txm_report *r, const struct txm_item *it,
            enum txm_state state)
{
    memset(r, 0, sizeof(*r));
    r->key = it->key;
    r->state = state;
    r->text = "";
    r->ntx = (unsigned)it->ntx;
    r->sent = it->ntx > 0;
    r->nonce = it->nonce;
    r->gas_limit = it->gas_limit;
}

/* Fill the transaction fields of `r` from txs[idx]. */
static void
report_tx(struct txm_report *r, const struct txm_item *it, size_t idx)
{
    r->has_tx = true;
    memcpy(r->hash, it->txs[idx].hash, 32);
    r->max_fee = it->txs[idx].fees.max_fee;
    r->max_priority_fee = it->txs[idx].fees.max_priority_fee;
}

static void
deliver(struct txm *m, struct txm_item *it, const struct txm_report *r)
{
    m->in_cb++;
    it->cb(it->arg, r);
    m->in_cb--;
}

static void pump_queue(struct txm *m);

/* End `it` with report `r`: unlink first, so the callback may submit
 * the same key again when that is allowed. */
static void
finish(struct txm *m, struct txm_item *it, const struct txm_report *r)
{
    assert(!it->busy);
    live_unlink(m, it);
    if (it->mined || (it->nonce_gone && it->ntx > 0))
        done_add(m, it->key);
    deliver(m, it, r);
    item_free(it);
    pump_queue(m);
}

/* End with nothing mined. */
static void fail(struct txm *m, struct txm_item *it, int err, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

static void
fail(struct txm *m, struct txm_item *it, int err, const char *fmt, ...)
{
    char text[TXM_TEXT_MAX];
    struct txm_report r;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    one_line(text);
    report_init(&r, it, TXM_FAILED);
    r.err = err;
    r.text = text;
    if (it->ntx)
        report_tx(&r, it, it->ntx - 1);
    finish(m, it, &r);
}

/* ---- RPC plumbing ---- */

static int
item_call(struct txm_item *it, const char *method, const char *params,
          rpc_cb cb)
{
    int rc = rpc_call(it->m->rpc, method, params, NULL, cb, it, &it->call);

    it->busy = rc == 0;
    return rc;
}

/* JSON call object for eth_call / eth_estimateGas. Returns: heap text. */
static char *
call_object(const struct txm *m, const struct txm_item *it)
{
    size_t cap = 2 * it->data_len + 256;
    char *s = kp_xmalloc(cap), to[ETH_ADDR_STR_LEN], val[U256_HEX_MAX];
    int n;

    hex_encode(to, sizeof(to), it->to.b, 20, true);
    u256_fmt_hex(val, sizeof(val), &it->value);
    n = snprintf(s, cap,
                 "{\"from\":\"%s\",\"to\":\"%s\",\"value\":\"%s\","
                 "\"data\":\"0x",
                 m->addr_hex, to, val);
    hex_encode(s + n, cap - (size_t)n, it->data, it->data_len, false);
    strcat(s, "\"}");
    return s;
}

static bool
is_revert(const struct rpc_status *st)
{
    return st->err == KP_ERPC &&
           (st->rpc_code == 3 ||
            (st->rpc_message && strcasestr(st->rpc_message, "revert")));
}

/* ---- step 2: simulation ---- */

static void on_simulate(void *arg, const cJSON *res,
                        const struct rpc_status *st);
static void start_estimate(struct txm *m, struct txm_item *it);

static int
start_simulate(struct txm *m, struct txm_item *it)
{
    char *obj = call_object(m, it);
    size_t cap = strlen(obj) + 32;
    char *params = kp_xmalloc(cap);
    int rc;

    snprintf(params, cap, "[%s,\"%s\"]", obj,
             m->o.sim_latest ? "latest" : "pending");
    free(obj);
    it->st = IS_SIMULATE;
    rc = item_call(it, "eth_call", params, on_simulate);
    free(params);
    return rc;
}

/* Decode revert data into `text` (and `rv` when it decodes).
 * Returns: whether *rv holds a decoded revert. */
static bool
decode_revert(struct txm_item *it, const struct rpc_status *st,
              struct abi_revert *rv, struct abi_arena *arena, uint8_t *buf,
              char *text, size_t cap)
{
    const char *hex =
        cJSON_IsString(st->rpc_data) ? st->rpc_data->valuestring : NULL;
    size_t len = 0;

    if (!hex || hex_decode(buf, REVERT_DATA_MAX, &len, hex, strlen(hex)) != 0) {
        snprintf(text, cap, "%s",
                 st->rpc_message ? st->rpc_message : "execution reverted");
        return false;
    }
    if (abi_decode_revert(rv, arena, buf, len, it->errors, it->nerrors, NULL) !=
        0) {
        snprintf(text, cap, "undecodable revert data (%zu bytes): %s", len,
                 st->rpc_message ? st->rpc_message : "");
        return false;
    }
    if (abi_revert_format(text, cap, NULL, rv) != 0)
        snprintf(text, cap, "%s",
                 st->rpc_message ? st->rpc_message : "execution reverted");
    return true;
}

/* The call reverted (in eth_call or eth_estimateGas): report, end. */
static void
report_revert(struct txm *m, struct txm_item *it, const struct rpc_status *st)
{
    uint8_t *buf = kp_xmalloc(REVERT_DATA_MAX + REVERT_ARENA);
    char text[1024];
    struct abi_revert rv;
    struct abi_arena arena;
    struct txm_report r;

    abi_arena_init(&arena, buf + REVERT_DATA_MAX, REVERT_ARENA);
    report_init(&r, it, TXM_SIMULATED_REVERT);
    if (decode_revert(it, st, &rv, &arena, buf, text, sizeof(text)))
        r.revert = &rv;
    one_line(text);
    r.err = KP_EREVERT;
    r.text = text;
    finish(m, it, &r);
    free(buf);
}

static void
on_simulate(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;
    struct txm *m = it->m;
    struct txm_report r;

    it->busy = false;
    if (is_revert(st)) {
        report_revert(m, it, st);
        return;
    }
    if (st->err) {
        fail(m, it, st->err, "simulation failed: %s", st->text);
        return;
    }
    emit(m, it, TXM_EV_SIMULATED, TXM_SEV_INFO, "simulation=ok block=%s",
         m->o.sim_latest ? "latest" : "pending");
    free(it->errors); /* not needed past here */
    it->errors = NULL;
    it->nerrors = 0;
    if (it->dry_run) {
        report_init(&r, it, TXM_DRY_RUN);
        finish(m, it, &r);
        return;
    }
    start_estimate(m, it);
}

/* ---- step 3: gas ---- */

static void on_estimate(void *arg, const cJSON *res,
                        const struct rpc_status *st);
static void start_price(struct txm *m, struct txm_item *it);

static void
start_estimate(struct txm *m, struct txm_item *it)
{
    char *obj = call_object(m, it);
    size_t cap = strlen(obj) + 8;
    char *params = kp_xmalloc(cap);
    int rc;

    snprintf(params, cap, "[%s]", obj);
    free(obj);
    it->st = IS_ESTIMATE;
    rc = item_call(it, "eth_estimateGas", params, on_estimate);
    free(params);
    if (rc != 0)
        fail(m, it, rc, "eth_estimateGas not sent: %s", kp_strerror(rc));
}

/* est + ceil(est * bps / 10000). Returns: 0 or KP_EOVERFLOW. */
static int
gas_with_margin(uint64_t *out, uint64_t est, uint32_t bps)
{
    unsigned __int128 g = (unsigned __int128)est * (10000u + bps);

    g = (g + 9999) / 10000;
    if (g > UINT64_MAX)
        return KP_EOVERFLOW;
    *out = (uint64_t)g;
    return 0;
}

static void
on_estimate(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;
    struct txm *m = it->m;
    uint64_t est;

    it->busy = false;
    if (is_revert(st)) {
        report_revert(m, it, st);
        return;
    }
    if (st->err) {
        fail(m, it, st->err, "gas estimate failed: %s", st->text);
        return;
    }
    if (rpc_quantity_u64(res, &est) != 0 || est == 0 ||
        gas_with_margin(&it->gas_limit, est, m->o.gas_margin_bps) != 0) {
        fail(m, it, KP_EINVAL, "gas estimate: bad reply");
        return;
    }
    if (m->o.gas_limit_max && it->gas_limit > m->o.gas_limit_max) {
        fail(m, it, KP_ELIMIT, "gas limit %llu above gas_limit_max %llu",
             (unsigned long long)it->gas_limit,
             (unsigned long long)m->o.gas_limit_max);
        return;
    }
    emit(m, it, TXM_EV_GAS, TXM_SEV_DEBUG, "estimate=%llu gas_limit=%llu",
         (unsigned long long)est, (unsigned long long)it->gas_limit);
    start_price(m, it);
}

/* ---- step 4: fees ---- */

static void on_price(void *arg, const cJSON *res, const struct rpc_status *st);

static struct txm_fee_cfg
fee_cfg(const struct txm *m)
{
    struct txm_fee_cfg c = {.max_fee = m->o.max_fee,
                            .priority_fee = m->o.priority_fee,
                            .base_mult = m->o.base_fee_mult,
                            .bump_bps = m->o.fee_bump_bps};

    return c;
}

static int
fee_history_call(struct txm *m, struct txm_item *it, rpc_cb cb)
{
    char params[64];

    snprintf(params, sizeof(params), "[\"0x%x\",\"latest\",[%u]]",
             (unsigned)m->o.fee_history_blocks,
             (unsigned)m->o.reward_percentile);
    return item_call(it, "eth_feeHistory", params, cb);
}

static void
start_price(struct txm *m, struct txm_item *it)
{
    int rc;

    it->st = IS_PRICE;
    if ((rc = fee_history_call(m, it, on_price)) != 0)
        fail(m, it, rc, "eth_feeHistory not sent: %s", kp_strerror(rc));
}

/* Market fees from a fee history reply; events for caps.
 * Returns: 0 or the parse error. */
static int
market_fees(struct txm *m, struct txm_item *it, struct txm_fees *f,
            const cJSON *res)
{
    struct txm_fee_history *h = kp_xmalloc(sizeof(*h));
    struct txm_fee_cfg cfg = fee_cfg(m);
    char a[U256_DEC_MAX], b[U256_DEC_MAX];
    unsigned flags = 0;
    int rc;

    if ((rc = txm_fee_history_parse(h, res)) == 0)
        rc = txm_fees_price(f, &flags, h, &cfg);
    if (rc == 0 && (flags & TXM_FEE_F_BELOW_BASE))
        emit(m, it, TXM_EV_FEE_BELOW_BASE, TXM_SEV_WARN,
             "max_fee=%s base_fee_next=%s: sending at the cap",
             dec(a, &m->o.max_fee), dec(b, &h->base_next));
    else if (rc == 0 && (flags & TXM_FEE_F_CAPPED))
        emit(m, it, TXM_EV_FEE_CAPPED, TXM_SEV_WARN,
             "max_fee capped at %s (base_fee_next=%s)", dec(a, &m->o.max_fee),
             dec(b, &h->base_next));
    free(h);
    return rc;
}

static void
on_price(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;
    struct txm *m = it->m;
    char a[U256_DEC_MAX], b[U256_DEC_MAX];
    int rc;

    it->busy = false;
    if (st->err) {
        fail(m, it, st->err, "fee history failed: %s", st->text);
        return;
    }
    if ((rc = market_fees(m, it, &it->fees, res)) != 0) {
        fail(m, it, rc, "fee history: bad reply (%s)", kp_strerror(rc));
        return;
    }
    emit(m, it, TXM_EV_FEES, TXM_SEV_DEBUG, "max_fee=%s max_priority_fee=%s",
         dec(a, &it->fees.max_fee), dec(b, &it->fees.max_priority_fee));
    it->bump_base = it->fees;
    it->st = IS_NONCE;
    if (m->qtail)
        m->qtail->qnext = it;
    else
        m->qhead = it;
    m->qtail = it;
    pump_queue(m);
}

/* ---- step 5: nonce ---- */

static void on_chain_id(void *arg, const cJSON *res,
                        const struct rpc_status *st);
static void on_nonce(void *arg, const cJSON *res, const struct rpc_status *st);
static void send_first(struct txm *m, struct txm_item *it);

/* Fail every queued intent (nothing of theirs was sent). The queue is
 * detached first: fail() pumps the queue. */
static void
fail_queue(struct txm *m, int err, const char *what, const char *why)
{
    struct txm_item *it = m->qhead, *next;

    m->qhead = m->qtail = NULL;
    for (; it; it = next) {
        next = it->qnext;
        it->qnext = NULL;
        fail(m, it, err, "%s failed: %s", what, why);
    }
}

static void
mgr_call(struct txm *m, const char *method, const char *params, rpc_cb cb)
{
    int rc = rpc_call(m->rpc, method, params, NULL, cb, m, &m->mgr_call);

    m->mgr_busy = rc == 0;
    if (rc != 0)
        fail_queue(m, rc, method, kp_strerror(rc));
}

static void
pump_queue(struct txm *m)
{
    struct txm_item *it;
    char params[128];

    if (m->gate || m->mgr_busy || !m->qhead)
        return;
    if (m->chain_id == 0) {
        mgr_call(m, "eth_chainId", NULL, on_chain_id);
        return;
    }
    if (!m->nonce_known) {
        snprintf(params, sizeof(params), "[\"%s\",\"pending\"]", m->addr_hex);
        mgr_call(m, "eth_getTransactionCount", params, on_nonce);
        return;
    }
    it = m->qhead;
    queue_remove(m, it);
    it->nonce = m->next_nonce;
    m->gate = it;
    emit(m, it, TXM_EV_NONCE, TXM_SEV_DEBUG, "nonce=%llu",
         (unsigned long long)it->nonce);
    send_first(m, it);
}

static void
on_chain_id(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm *m = arg;
    uint64_t id = 0;

    m->mgr_busy = false;
    if (st->err || rpc_quantity_u64(res, &id) != 0 || id == 0) {
        fail_queue(m, st->err ? st->err : KP_EINVAL, "eth_chainId",
                   st->err ? st->text : "bad reply");
        return;
    }
    m->chain_id = id;
    pump_queue(m);
}

static void
on_nonce(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm *m = arg;
    uint64_t n = 0;

    m->mgr_busy = false;
    if (st->err || rpc_quantity_u64(res, &n) != 0) {
        fail_queue(m, st->err ? st->err : KP_EINVAL, "nonce fetch",
                   st->err ? st->text : "bad reply");
        return;
    }
    if (n < m->nonce_floor)
        n = m->nonce_floor;
    if (m->nonce_floor)
        emit(m, NULL, TXM_EV_NONCE_RESYNC, TXM_SEV_WARN,
             "next_nonce=%llu local=%llu", (unsigned long long)n,
             (unsigned long long)m->next_nonce);
    m->nonce_floor = 0;
    m->next_nonce = n;
    m->nonce_known = true;
    pump_queue(m);
}

/* ---- step 6: sign and send ---- */

/* Sign `it` with it->nonce and it->fees into it->cand.
 * Returns: 0 or the signer's/encoder's error. */
static int
sign_candidate(struct txm *m, struct txm_item *it)
{
    struct tx t = {.type = TX_1559,
                   .chain_id = m->chain_id,
                   .nonce = it->nonce,
                   .max_priority_fee = it->fees.max_priority_fee,
                   .max_fee = it->fees.max_fee,
                   .gas_limit = it->gas_limit,
                   .has_to = true,
                   .to = it->to,
                   .value = it->value,
                   .data = it->data,
                   .data_len = it->data_len};
    uint8_t digest[32];
    struct eth_sig sig;
    size_t cap = it->data_len + 512;
    int rc;

    if ((rc = tx_signing_hash(digest, &t)) != 0 ||
        (rc = signer_sign_digest(m->signer, &sig, digest)) != 0)
        return rc;
    free(it->cand);
    it->cand = kp_xmalloc(cap);
    if ((rc = tx_encode_signed(it->cand, cap, &it->cand_len, &t, &sig)) != 0)
        return rc;
    tx_hash(it->cand_hash, it->cand, it->cand_len);
    return 0;
}

/* Journal the candidate. Returns: 0 or the hook's error (reported). */
static int
journal_candidate(struct txm *m, struct txm_item *it)
{
    struct txm_journal_rec rec = {.key = it->key,
                                  .nonce = it->nonce,
                                  .raw = it->cand,
                                  .raw_len = it->cand_len};
    char h[67];
    int rc;

    if (!m->o.journal)
        return 0;
    memcpy(rec.hash, it->cand_hash, 32);
    m->in_cb++;
    rc = m->o.journal(m->o.journal_arg, &rec);
    m->in_cb--;
    if (rc != 0)
        emit(m, it, TXM_EV_JOURNAL_FAILED, TXM_SEV_ERROR,
             "hash=%s nonce=%llu err=%s: not broadcast",
             hash_hex(h, it->cand_hash), (unsigned long long)it->nonce,
             kp_strerror(rc));
    return rc;
}

static int
send_raw(struct txm_item *it, const uint8_t *raw, size_t len, rpc_cb cb)
{
    size_t cap = 2 * len + 16;
    char *params = kp_xmalloc(cap);
    int rc;

    memcpy(params, "[\"0x", 4);
    hex_encode(params + 4, cap - 4, raw, len, false);
    strcat(params, "\"]");
    rc = item_call(it, "eth_sendRawTransaction", params, cb);
    free(params);
    return rc;
}

static void on_send_first(void *arg, const cJSON *res,
                          const struct rpc_status *st);

/* Sign, journal and send the first transaction (it holds the gate). */
static void
send_first(struct txm *m, struct txm_item *it)
{
    char h[67];
    int rc;

    it->st = IS_SEND;
    if ((rc = sign_candidate(m, it)) != 0) {
        fail(m, it, rc, "signing failed: %s", kp_strerror(rc));
        return;
    }
    if ((rc = journal_candidate(m, it)) != 0) {
        fail(m, it, rc, "journal failed: %s", kp_strerror(rc));
        return;
    }
    emit(m, it, TXM_EV_BROADCAST, TXM_SEV_INFO, "hash=%s nonce=%llu",
         hash_hex(h, it->cand_hash), (unsigned long long)it->nonce);
    if ((rc = send_raw(it, it->cand, it->cand_len, on_send_first)) != 0)
        fail(m, it, rc, "eth_sendRawTransaction not sent: %s", kp_strerror(rc));
}

/* The candidate may be on a node: watch its hash from now on. */
static void
adopt_candidate(struct txm *m, struct txm_item *it, bool unknown)
{
    struct txm_tx *t = &it->txs[it->ntx++];

    assert(it->ntx <= TXM_MAX_TXS);
    memcpy(t->hash, it->cand_hash, 32);
    t->fees = it->fees;
    it->bump_base = it->fees;
    free(it->raw);
    it->raw = it->cand;
    it->raw_len = it->cand_len;
    it->cand = NULL;
    it->last_send_head = m->head;
    it->rebroadcast = unknown;
    it->st = IS_WAIT;
}

static void
report_sent(struct txm *m, struct txm_item *it, enum txm_state state,
            const char *text)
{
    struct txm_report r;

    report_init(&r, it, state);
    report_tx(&r, it, it->ntx - 1);
    r.text = text;
    deliver(m, it, &r);
}

/* First send accepted (or maybe): release the gate. */
static void
first_accepted(struct txm *m, struct txm_item *it, bool unknown)
{
    adopt_candidate(m, it, unknown);
    m->next_nonce = it->nonce + 1;
    m->gate = NULL;
    report_sent(m, it, TXM_SENT,
                unknown ? "send outcome unknown: will broadcast again" : "");
    pump_queue(m);
}

/* The nonce is taken by a transaction we do not have: resync and sign
 * again at the node's next nonce. */
static void
resign(struct txm *m, struct txm_item *it, const char *why)
{
    m->gate = NULL;
    if (++it->resigns > MAX_RESIGNS) {
        fail(m, it, KP_ESTATE, "nonce conflicts persist (%s)", why);
        return;
    }
    emit(m, it, TXM_EV_RECONCILED, TXM_SEV_WARN,
         "outcome=\"%s\" nonce=%llu: resync nonce and sign again", why,
         (unsigned long long)it->nonce);
    m->nonce_known = false;
    if (m->nonce_floor < it->nonce + 1)
        m->nonce_floor = it->nonce + 1;
    it->st = IS_NONCE;
    it->qnext = m->qhead;
    m->qhead = it;
    if (!m->qtail)
        m->qtail = it;
    pump_queue(m);
}

static void
on_send_first(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;
    struct txm *m = it->m;
    char h[67];

    it->busy = false;
    if (st->err == 0) {
        first_accepted(m, it, false);
        return;
    }
    if (st->err != KP_ERPC) {
        emit(m, it, TXM_EV_SEND_UNKNOWN, TXM_SEV_WARN,
             "hash=%s err=\"%s\": will broadcast again",
             hash_hex(h, it->cand_hash), st->text);
        first_accepted(m, it, true);
        return;
    }
    switch (txm_send_classify(st->rpc_message)) {
    case TXM_SEND_KNOWN:
        emit(m, it, TXM_EV_RECONCILED, TXM_SEV_INFO,
             "outcome=\"already known\" hash=%s", hash_hex(h, it->cand_hash));
        first_accepted(m, it, false);
        return;
    case TXM_SEND_NONCE_LOW:
        resign(m, it, "nonce too low");
        return;
    case TXM_SEND_UNDERPRICED:
        resign(m, it, "replacement underpriced");
        return;
    case TXM_SEND_ERROR:
        break;
    }
    m->gate = NULL; /* the nonce stays free: next_nonce unchanged */
    fail(m, it, KP_ERPC, "node refused the transaction: %s", st->rpc_message);
}

/* ---- step 7: receipts ---- */

static void on_receipt(void *arg, const cJSON *res,
                       const struct rpc_status *st);
static void after_poll(struct txm *m, struct txm_item *it);

static void
poll_receipts(struct txm *m, struct txm_item *it)
{
    struct rpc_batch *b = rpc_batch_new(m->rpc);
    char params[80], h[67];
    int rc;

    it->poll_left = 0;
    it->poll_err = false;
    it->mined = false;
    for (size_t i = 0; i < it->ntx; i++) {
        snprintf(params, sizeof(params), "[\"%s\"]",
                 hash_hex(h, it->txs[i].hash));
        if (rpc_batch_add(b, "eth_getTransactionReceipt", params, on_receipt,
                          it) == 0)
            it->poll_left++;
    }
    rc = rpc_batch_send(b, NULL, &it->call);
    it->busy = rc == 0;
    if (rc != 0)
        emit(m, it, TXM_EV_RPC_ERROR, TXM_SEV_WARN, "receipt poll not sent: %s",
             kp_strerror(rc));
}

static int
receipt_u64(const cJSON *rc, const char *name, uint64_t *v)
{
    return rpc_quantity_u64(cJSON_GetObjectItemCaseSensitive(rc, name), v);
}

/* Record a receipt. Returns: 0, or KP_EINVAL if it is malformed or not
 * one of ours. */
static int
take_receipt(struct txm_item *it, const cJSON *rc)
{
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(rc, "transactionHash");
    const cJSON *egp =
        cJSON_GetObjectItemCaseSensitive(rc, "effectiveGasPrice");
    uint8_t hash[32];
    uint64_t status;
    size_t i;

    if (!cJSON_IsString(th) ||
        hex_decode_exact(hash, 32, th->valuestring, strlen(th->valuestring)))
        return KP_EINVAL;
    for (i = 0; i < it->ntx && memcmp(it->txs[i].hash, hash, 32); i++)
        ;
    if (i == it->ntx || receipt_u64(rc, "blockNumber", &it->mined_block) ||
        receipt_u64(rc, "gasUsed", &it->gas_used) ||
        receipt_u64(rc, "status", &status) || status > 1)
        return KP_EINVAL;
    u256_from_u64(&it->egp, 0);
    if (cJSON_IsString(egp))
        u256_parse(&it->egp, egp->valuestring, strlen(egp->valuestring));
    it->status = (int)status;
    it->mined_idx = i;
    it->mined = true;
    return 0;
}

static void
on_receipt(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;

    if (st->err)
        it->poll_err = true;
    else if (!cJSON_IsNull(res) && take_receipt(it, res) != 0)
        it->poll_err = true;
    if (--it->poll_left > 0)
        return;
    it->busy = false;
    after_poll(it->m, it);
}

static void
report_mined(struct txm *m, struct txm_item *it)
{
    struct txm_report r;
    char text[64] = "";

    report_init(&r, it, it->status == 1 ? TXM_CONFIRMED : TXM_FAILED);
    report_tx(&r, it, it->mined_idx);
    r.has_receipt = true;
    r.block = it->mined_block;
    r.gas_used = it->gas_used;
    r.effective_gas_price = it->egp;
    r.status = it->status;
    if (it->status != 1) {
        r.err = KP_EREVERT;
        snprintf(text, sizeof(text), "transaction reverted on chain");
    }
    r.text = text;
    finish(m, it, &r);
}

static void start_bump(struct txm *m, struct txm_item *it);
static void start_rebroadcast(struct txm *m, struct txm_item *it);

/* No receipt yet: give a lost nonce up, broadcast again, or bump. */
static void
not_mined(struct txm *m, struct txm_item *it)
{
    uint64_t since = m->head - it->last_send_head;

    if (it->nonce_gone && ++it->nonce_gone_heads >= NONCE_GONE_HEADS) {
        fail(m, it, KP_ESTATE,
             "nonce %llu was used by a transaction not of this intent",
             (unsigned long long)it->nonce);
        return;
    }
    if (it->nonce_gone)
        return;
    if (it->rebroadcast) {
        start_rebroadcast(m, it);
        return;
    }
    if (since < m->o.replace_after_blocks)
        return;
    if (!it->at_cap && it->ntx < TXM_MAX_TXS) {
        start_bump(m, it);
        return;
    }
    /* At the cap: keep the newest bytes in the pools. */
    it->last_send_head = m->head;
    start_rebroadcast(m, it);
}

static void
after_poll(struct txm *m, struct txm_item *it)
{
    char h[67];

    if (it->mined) {
        if (m->head + 1 >= it->mined_block + m->o.confirmations) {
            report_mined(m, it);
            return;
        }
        emit(m, it, TXM_EV_MINED, TXM_SEV_DEBUG, "hash=%s block=%llu",
             hash_hex(h, it->txs[it->mined_idx].hash),
             (unsigned long long)it->mined_block);
        return;
    }
    if (it->poll_err) {
        emit(m, it, TXM_EV_RPC_ERROR, TXM_SEV_WARN, "receipt poll failed: %s",
             rpc_last_error(m->rpc));
        return;
    }
    not_mined(m, it);
}

/* ---- step 8: broadcast again, replace ---- */

static void on_rebroadcast(void *arg, const cJSON *res,
                           const struct rpc_status *st);
static void on_bump_price(void *arg, const cJSON *res,
                          const struct rpc_status *st);
static void on_bump_send(void *arg, const cJSON *res,
                         const struct rpc_status *st);

static void
start_rebroadcast(struct txm *m, struct txm_item *it)
{
    char h[67];
    int rc;

    emit(m, it, TXM_EV_BROADCAST, TXM_SEV_DEBUG, "hash=%s nonce=%llu again",
         hash_hex(h, it->txs[it->ntx - 1].hash), (unsigned long long)it->nonce);
    if ((rc = send_raw(it, it->raw, it->raw_len, on_rebroadcast)) != 0)
        emit(m, it, TXM_EV_RPC_ERROR, TXM_SEV_WARN, "broadcast not sent: %s",
             kp_strerror(rc));
}

/* A node answered "nonce too low" while we wait: some transaction at our
 * nonce was mined. Receipts tell whether it is ours. */
static void
nonce_used(struct txm *m, struct txm_item *it)
{
    if (it->nonce_gone)
        return;
    it->nonce_gone = true;
    it->nonce_gone_heads = 0;
    emit(m, it, TXM_EV_RECONCILED, TXM_SEV_INFO,
         "outcome=\"nonce too low\" nonce=%llu: checking receipts",
         (unsigned long long)it->nonce);
}

static void
on_rebroadcast(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;
    struct txm *m = it->m;
    enum txm_send_class c;

    it->busy = false;
    if (st->err == 0) {
        it->rebroadcast = false;
        return;
    }
    c = st->err == KP_ERPC ? txm_send_classify(st->rpc_message)
                           : TXM_SEND_ERROR;
    if (c == TXM_SEND_KNOWN) {
        it->rebroadcast = false;
    } else if (c == TXM_SEND_NONCE_LOW) {
        it->rebroadcast = false;
        nonce_used(m, it);
    } else if (!it->warned_rebroadcast) {
        it->warned_rebroadcast = true;
        emit(m, it, TXM_EV_RPC_ERROR, TXM_SEV_WARN,
             "broadcast again failed: %s", st->text);
    }
}

static void
start_bump(struct txm *m, struct txm_item *it)
{
    int rc;

    if ((rc = fee_history_call(m, it, on_bump_price)) != 0)
        emit(m, it, TXM_EV_RPC_ERROR, TXM_SEV_WARN,
             "eth_feeHistory not sent: %s", kp_strerror(rc));
}

/* Sign and send a replacement with it->fees. */
static void
send_replacement(struct txm *m, struct txm_item *it)
{
    char h[67], a[U256_DEC_MAX], b[U256_DEC_MAX];
    int rc;

    if ((rc = sign_candidate(m, it)) != 0 ||
        (rc = journal_candidate(m, it)) != 0) {
        emit(m, it, TXM_EV_BUMP_REFUSED, TXM_SEV_ERROR,
             "replacement not signed or journaled: %s", kp_strerror(rc));
        return;
    }
    emit(m, it, TXM_EV_BROADCAST, TXM_SEV_INFO,
         "hash=%s nonce=%llu replaces=%zu max_fee=%s max_priority_fee=%s",
         hash_hex(h, it->cand_hash), (unsigned long long)it->nonce, it->ntx,
         dec(a, &it->fees.max_fee), dec(b, &it->fees.max_priority_fee));
    if ((rc = send_raw(it, it->cand, it->cand_len, on_bump_send)) != 0)
        emit(m, it, TXM_EV_RPC_ERROR, TXM_SEV_WARN, "replacement not sent: %s",
             kp_strerror(rc));
}

static void
on_bump_price(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;
    struct txm *m = it->m;
    struct txm_fee_cfg cfg = fee_cfg(m);
    struct txm_fees market, next;
    bool have_market;
    char a[U256_DEC_MAX];

    it->busy = false;
    /* Without a market view, raise from the previous fees alone. */
    have_market = st->err == 0 && market_fees(m, it, &market, res) == 0;
    if (txm_fees_bump(&next, &it->bump_base, have_market ? &market : NULL,
                      &cfg) != 0) {
        it->at_cap = true;
        emit(m, it, TXM_EV_BUMP_AT_CAP, TXM_SEV_WARN,
             "max_fee=%s bump_bps=%u: no raise fits under the cap; waiting",
             dec(a, &m->o.max_fee), (unsigned)m->o.fee_bump_bps);
        it->last_send_head = m->head;
        start_rebroadcast(m, it);
        return;
    }
    it->fees = next;
    send_replacement(m, it);
}

static void
bump_accepted(struct txm *m, struct txm_item *it, bool unknown)
{
    adopt_candidate(m, it, unknown);
    report_sent(m, it, TXM_REPLACED,
                unknown ? "send outcome unknown: will broadcast again" : "");
}

static void
on_bump_send(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm_item *it = arg;
    struct txm *m = it->m;
    enum txm_send_class c;

    it->busy = false;
    if (st->err == 0 || st->err != KP_ERPC) {
        bump_accepted(m, it, st->err != 0);
        return;
    }
    c = txm_send_classify(st->rpc_message);
    if (c == TXM_SEND_KNOWN) {
        bump_accepted(m, it, false);
        return;
    }
    if (c == TXM_SEND_NONCE_LOW) {
        nonce_used(m, it);
        return;
    }
    /* Refused: the next try (next head) starts above what was refused. */
    it->bump_base = it->fees;
    emit(m, it, TXM_EV_BUMP_REFUSED, TXM_SEV_WARN, "replacement refused: %s",
         st->rpc_message);
}

/* ---- heads ---- */

static void
on_head_item(struct txm *m, struct txm_item *it)
{
    if (it->st != IS_WAIT || it->busy)
        return;
    if (it->last_send_head == 0)
        it->last_send_head = m->head;
    poll_receipts(m, it);
}

void
txm_on_head(struct txm *m, uint64_t number)
{
    struct txm_item *it, *next;

    assert(m);
    if (number <= m->head)
        return;
    m->head = number;
    /* Calls only start here; callbacks come later from the loop, so the
     * list does not change under us. */
    for (it = m->live; it; it = next) {
        next = it->next;
        on_head_item(m, it);
    }
}

static void
on_block_number(void *arg, const cJSON *res, const struct rpc_status *st)
{
    struct txm *m = arg;
    uint64_t n;

    m->poll_busy = false;
    if (st->err == 0 && rpc_quantity_u64(res, &n) == 0)
        txm_on_head(m, n);
}

static void
on_timer(uv_timer_t *t)
{
    struct txm *m = t->data;

    if (m->poll_busy || m->nlive == 0)
        return;
    m->poll_busy = rpc_call(m->rpc, "eth_blockNumber", NULL, NULL,
                            on_block_number, m, &m->poll_call) == 0;
}

/* ---- public API ---- */

void
txm_opts_init(struct txm_opts *o)
{
    assert(o);
    memset(o, 0, sizeof(*o));
    o->gas_margin_bps = 2000;
    u256_from_u64(&o->priority_fee, 1000000000u);
    o->base_fee_mult = 2;
    o->fee_history_blocks = 5;
    o->reward_percentile = 50;
    o->replace_after_blocks = 3;
    o->fee_bump_bps = TXM_MIN_BUMP_BPS;
    o->confirmations = 1;
    o->max_live = 64;
    o->max_done_keys = 4096;
}

static bool
opts_valid(const struct txm_opts *o)
{
    return !u256_is_zero(&o->max_fee) && o->gas_margin_bps <= 100000 &&
           o->base_fee_mult >= 1 && o->base_fee_mult <= 100 &&
           o->fee_history_blocks >= 1 &&
           o->fee_history_blocks <= TXM_FEE_BLOCKS_MAX &&
           o->reward_percentile <= 100 && o->replace_after_blocks >= 1 &&
           o->fee_bump_bps >= TXM_MIN_BUMP_BPS && o->fee_bump_bps <= 100000 &&
           o->confirmations >= 1 && o->confirmations <= 1000 &&
           o->max_live >= 1 && o->max_live <= 100000 && o->max_done_keys >= 1 &&
           o->max_done_keys <= 10000000;
}

int
txm_new(struct txm **out, uv_loop_t *loop, struct rpc_client *rpc,
        const struct signer *signer, const struct txm_opts *o)
{
    struct txm *m;

    assert(out && loop && rpc && signer && o);
    *out = NULL;
    if (!opts_valid(o))
        return KP_EINVAL;
    m = kp_xcalloc(1, sizeof(*m));
    m->loop = loop;
    m->rpc = rpc;
    m->signer = signer;
    m->o = *o;
    m->chain_id = o->chain_id;
    m->addr = signer_address(signer);
    hex_encode(m->addr_hex, sizeof(m->addr_hex), m->addr.b, 20, true);
    m->done = kp_xcalloc(o->max_done_keys, sizeof(*m->done));
    m->timer = kp_xmalloc(sizeof(*m->timer));
    uv_timer_init(loop, m->timer);
    m->timer->data = m;
    if (o->poll_ms)
        uv_timer_start(m->timer, on_timer, o->poll_ms, o->poll_ms);
    *out = m;
    return 0;
}

static void
on_timer_closed(uv_handle_t *h)
{
    free(h);
}

void
txm_free(struct txm *m)
{
    struct txm_item *it, *next;

    if (!m)
        return;
    assert(m->in_cb == 0);
    for (it = m->live; it; it = next) {
        next = it->next;
        if (it->busy)
            rpc_cancel(m->rpc, it->call);
        item_free(it);
    }
    if (m->mgr_busy)
        rpc_cancel(m->rpc, m->mgr_call);
    if (m->poll_busy)
        rpc_cancel(m->rpc, m->poll_call);
    uv_close((uv_handle_t *)m->timer, on_timer_closed);
    for (size_t i = 0; i < m->ndone; i++)
        free(m->done[i]);
    free(m->done);
    free(m);
}

static int
check_intent(const struct txm *m, const struct txm_intent *in)
{
    if (!in->key || !key_is_valid(in->key) || !in->cb ||
        in->nerrors > TXM_MAX_ERRORS || (in->nerrors && !in->errors) ||
        (in->data_len && !in->data))
        return KP_EINVAL;
    if (in->data_len > TXM_DATA_MAX)
        return KP_ELIMIT;
    if (live_find(m, in->key) || done_has(m, in->key))
        return KP_ESTATE;
    if (m->nlive >= m->o.max_live)
        return KP_ELIMIT;
    return 0;
}

static struct txm_item *
item_new(struct txm *m, const struct txm_intent *in)
{
    struct txm_item *it = kp_xcalloc(1, sizeof(*it));

    it->m = m;
    snprintf(it->key, sizeof(it->key), "%s", in->key);
    it->to = in->to;
    it->data = kp_xmalloc(in->data_len ? in->data_len : 1);
    if (in->data_len)
        memcpy(it->data, in->data, in->data_len);
    it->data_len = in->data_len;
    it->value = in->value;
    it->dry_run = in->dry_run;
    if (in->nerrors) {
        it->errors = kp_xmalloc(in->nerrors * sizeof(*it->errors));
        memcpy(it->errors, in->errors, in->nerrors * sizeof(*it->errors));
        it->nerrors = in->nerrors;
    }
    it->cb = in->cb;
    it->arg = in->arg;
    return it;
}

int
txm_submit(struct txm *m, const struct txm_intent *in)
{
    struct txm_item *it;
    int rc;

    assert(m && in);
    if ((rc = check_intent(m, in)) != 0)
        return rc;
    it = item_new(m, in);
    if ((rc = start_simulate(m, it)) != 0) {
        item_free(it);
        return rc;
    }
    it->next = m->live;
    if (m->live)
        m->live->prev = it;
    m->live = it;
    m->nlive++;
    return 0;
}

enum txm_key_status
txm_key_status(const struct txm *m, const char *key)
{
    assert(m && key);
    if (live_find(m, key))
        return TXM_KEY_LIVE;
    return done_has(m, key) ? TXM_KEY_DONE : TXM_KEY_UNKNOWN;
}

size_t
txm_live_count(const struct txm *m)
{
    assert(m);
    return m->nlive;
}

bool
txm_is_busy(const struct txm *m)
{
    assert(m);
    if (m->mgr_busy)
        return true;
    for (const struct txm_item *it = m->live; it; it = it->next)
        if (it->busy)
            return true;
    return false;
}

struct eth_addr
txm_address(const struct txm *m)
{
    assert(m);
    return m->addr;
}

bool
txm_state_is_final(enum txm_state s)
{
    return s != TXM_SENT && s != TXM_REPLACED;
}

const char *
txm_state_name(enum txm_state s)
{
    switch (s) {
    case TXM_SIMULATED_REVERT:
        return "simulated_revert";
    case TXM_DRY_RUN:
        return "dry_run";
    case TXM_SENT:
        return "sent";
    case TXM_REPLACED:
        return "replaced";
    case TXM_CONFIRMED:
        return "confirmed";
    case TXM_FAILED:
        return "failed";
    }
    return "?";
}

const char *
txm_event_name(enum txm_event_kind k)
{
    static const char *const names[] = {
        [TXM_EV_SIMULATED] = "simulated",
        [TXM_EV_GAS] = "gas",
        [TXM_EV_FEES] = "fees",
        [TXM_EV_FEE_CAPPED] = "fee_capped",
        [TXM_EV_FEE_BELOW_BASE] = "fee_below_base",
        [TXM_EV_NONCE] = "nonce",
        [TXM_EV_NONCE_RESYNC] = "nonce_resync",
        [TXM_EV_BROADCAST] = "broadcast",
        [TXM_EV_RECONCILED] = "reconciled",
        [TXM_EV_SEND_UNKNOWN] = "send_unknown",
        [TXM_EV_BUMP_AT_CAP] = "bump_at_cap",
        [TXM_EV_BUMP_REFUSED] = "bump_refused",
        [TXM_EV_RPC_ERROR] = "rpc_error",
        [TXM_EV_JOURNAL_FAILED] = "journal_failed",
        [TXM_EV_MINED] = "mined",
    };

    if ((unsigned)k < sizeof(names) / sizeof(*names) && names[k])
        return names[k];
    return "?";
}

/* Lowercase `msg` without spaces, '_' and '-': the wordings of different
 * clients ("nonce too low", "NONCE_TOO_LOW", "OldNonce") then meet. */
static void
normalize(char *out, size_t cap, const char *msg)
{
    size_t n = 0;

    for (; *msg && n + 1 < cap; msg++) {
        unsigned char c = (unsigned char)*msg;

        if (c != ' ' && c != '_' && c != '-')
            out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
}

enum txm_send_class
txm_send_classify(const char *msg)
{
    static const struct {
        const char *needle;
        enum txm_send_class c;
    } table[] = {
        {"alreadyknown", TXM_SEND_KNOWN},
        {"alreadyimported", TXM_SEND_KNOWN},
        {"knowntransaction", TXM_SEND_KNOWN},
        {"noncetoolow", TXM_SEND_NONCE_LOW},
        {"oldnonce", TXM_SEND_NONCE_LOW},
        {"replacementtransactionunderpriced", TXM_SEND_UNDERPRICED},
        {"replacementunderpriced", TXM_SEND_UNDERPRICED},
    };
    char norm[MSG_NORM_MAX];

    if (!msg)
        return TXM_SEND_ERROR;
    normalize(norm, sizeof(norm), msg);
    for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++)
        if (strstr(norm, table[i].needle))
            return table[i].c;
    return TXM_SEND_ERROR;
}
