/* chainlink.c - Chainlink AggregatorV3 price source: batched eth_call
 * reads, AnswerUpdated logs, heartbeat and staleness timers. */
#include "oracle/chainlink.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/err.h"
#include "chain/hex.h"

static const char SIG_DECIMALS[] = "decimals()(uint8)";
static const char SIG_LATEST[] =
    "latestRoundData()(uint80,int256,uint256,uint256,uint80)";
static const char SIG_ANSWER_UPDATED[] =
    "event AnswerUpdated(int256 indexed current, uint256 indexed roundId, "
    "uint256 updatedAt)";

#define DEFAULT_RETRY_MS 2000
#define DEFAULT_CHECK_MS 1000
#define CHECK_MS_MAX (60u * 1000u)
#define RETRY_MS_MAX (600u * 1000u)
/* eth_call params: [{"to":"0x<40>","data":"0x<8>"},"latest"] */
#define CALL_PARAMS_MAX 128

/* One eth_call reply: its return data, or why there is none. */
struct cl_part {
    int err;        /* 0, or the call's error */
    bool malformed; /* err: the call succeeded, its result is not data */
    char text[ORACLE_ERR_MAX];
    uint8_t buf[ORACLE_CL_REPLY_MAX];
    size_t len;
};

struct oracle_chainlink {
    struct oracle_source src; /* first: the generic view */
    uv_loop_t *loop;
    struct rpc_client *rpc;
    struct eth_addr feed, events;
    uint32_t heartbeat_ms, retry_ms, check_ms, call_timeout_ms;
    uv_timer_t heartbeat, check;
    int open_handles; /* timers not yet closed (free waits for 0) */
    bool started;

    bool have_decimals;
    uint8_t decimals;
    bool have_read_round;
    struct u256 read_round; /* round id of the last latestRoundData */

    /* The read in flight (one at most) and the one queued behind it.
     * want_replace: a log was removed; the next read's answer wins even
     * if older, and this stays set until such a read succeeds. */
    bool reading, read_replace;
    uint64_t read_id;
    int parts; /* replies still expected */
    bool again, want_replace;
    struct cl_part dec, round; /* replies of the read in flight */

    struct oracle_chainlink_stats stats;
};

/* ---- decoding ---- */

static void
sig_load(struct abi_sig *sig, const char *text)
{
    int rc = abi_sig_parse(sig, text, strlen(text), NULL);

    assert(rc == 0); /* constant text */
    (void)rc;
}

void
oracle_chainlink_selector_decimals(uint8_t sel[4])
{
    struct abi_sig sig;

    sig_load(&sig, SIG_DECIMALS);
    memcpy(sel, sig.hash, 4);
}

void
oracle_chainlink_selector_latest(uint8_t sel[4])
{
    struct abi_sig sig;

    sig_load(&sig, SIG_LATEST);
    memcpy(sel, sig.hash, 4);
}

void
oracle_chainlink_topic_answer_updated(uint8_t topic[32])
{
    struct abi_sig sig;

    sig_load(&sig, SIG_ANSWER_UPDATED);
    memcpy(topic, sig.hash, 32);
}

int
oracle_chainlink_decode_decimals(unsigned *decimals, const uint8_t *data,
                                 size_t len)
{
    struct abi_sig sig;
    struct abi_value nodes[4], out;
    struct abi_arena a;
    uint64_t d;
    int rc;

    assert(decimals != NULL && (data != NULL || len == 0));
    sig_load(&sig, SIG_DECIMALS);
    abi_arena_init(&a, nodes, sizeof(nodes));
    if ((rc = abi_decode_output(&out, &a, &sig, data, len, NULL)) != 0)
        return rc;
    /* A strict uint8 decode leaves nothing above 255. */
    rc = u256_to_u64(&d, &out.u.list.v[0].u.num);
    assert(rc == 0 && d <= 255);
    *decimals = (unsigned)d;
    return 0;
}

int
oracle_chainlink_decode_round(struct oracle_chainlink_round *r,
                              const uint8_t *data, size_t len)
{
    struct abi_sig sig;
    struct abi_value nodes[8], out;
    struct abi_arena a;
    int rc;

    assert(r != NULL && (data != NULL || len == 0));
    sig_load(&sig, SIG_LATEST);
    abi_arena_init(&a, nodes, sizeof(nodes));
    if ((rc = abi_decode_output(&out, &a, &sig, data, len, NULL)) != 0)
        return rc;
    assert(out.u.list.n == 5);
    r->round_id = out.u.list.v[0].u.num;
    r->answer = out.u.list.v[1].u.num;
    r->started_at = out.u.list.v[2].u.num;
    r->updated_at = out.u.list.v[3].u.num;
    r->answered_in_round = out.u.list.v[4].u.num;
    return 0;
}

int
oracle_chainlink_decode_log(struct oracle_chainlink_round *r,
                            const uint8_t (*topics)[32], size_t ntopics,
                            const uint8_t *data, size_t len)
{
    struct abi_sig sig;
    struct abi_value nodes[8], out;
    struct abi_arena a;
    int rc;

    assert(r != NULL && (topics != NULL || ntopics == 0) &&
           (data != NULL || len == 0));
    sig_load(&sig, SIG_ANSWER_UPDATED);
    abi_arena_init(&a, nodes, sizeof(nodes));
    rc = abi_decode_log(&out, &a, &sig, topics, ntopics, data, len, NULL);
    if (rc != 0)
        return rc;
    assert(out.u.list.n == 3);
    memset(r, 0, sizeof(*r));
    r->answer = out.u.list.v[0].u.num;
    r->round_id = out.u.list.v[1].u.num;
    r->answered_in_round = r->round_id;
    r->updated_at = out.u.list.v[2].u.num;
    return 0;
}

int
oracle_chainlink_round_price(struct oracle_price *p, enum oracle_reject *why,
                             const struct oracle_chainlink_round *r,
                             unsigned decimals)
{
    uint64_t t;

    assert(p != NULL && why != NULL && r != NULL);
    memset(p, 0, sizeof(*p));
    if (u256_is_zero(&r->answer) || u256_is_neg(&r->answer))
        *why = ORACLE_REJ_NONPOSITIVE;
    else if (u256_is_zero(&r->updated_at))
        *why = ORACLE_REJ_INCOMPLETE;
    else if (u256_cmp(&r->answered_in_round, &r->round_id) < 0)
        *why = ORACLE_REJ_CARRIED;
    else if (decimals > ORACLE_DECIMALS_MAX ||
             u256_to_u64(&t, &r->updated_at) != 0)
        *why = ORACLE_REJ_RANGE;
    else if (oracle_price_init(p, &r->answer, decimals, t, &r->round_id) != 0)
        *why = ORACLE_REJ_RANGE; /* not reached: checked above */
    else
        return 0;
    return KP_EINVAL;
}

void
oracle_chainlink_apply_phase(struct u256 *round_id,
                             const struct u256 *proxy_round)
{
    struct u256 phase;

    assert(round_id != NULL && proxy_round != NULL);
    if (u256_bit_len(round_id) > 64)
        return;
    u256_shr(&phase, proxy_round, 64);
    u256_shl(&phase, &phase, 64);
    /* The low 64 bits of `phase` are zero: an or, no carry. */
    (void)u256_add(round_id, round_id, &phase);
}

/* ---- configuration ---- */

void
oracle_chainlink_cfg_init(struct oracle_chainlink_cfg *cfg)
{
    assert(cfg != NULL);
    memset(cfg, 0, sizeof(*cfg));
    cfg->retry_ms = DEFAULT_RETRY_MS;
    cfg->check_ms = DEFAULT_CHECK_MS;
}

static bool
addr_is_zero(const struct eth_addr *a)
{
    static const struct eth_addr zero;

    return memcmp(a, &zero, sizeof(zero)) == 0;
}

/* Half the maximum age: a price read on a heartbeat is then at most
 * max_age/2 older than it needs to be when judged. */
static uint32_t
heartbeat_default(uint64_t max_age)
{
    uint64_t ms = max_age > UINT64_MAX / 500 ? UINT64_MAX : max_age * 500;

    if (ms < ORACLE_CL_HEARTBEAT_MIN_MS)
        ms = ORACLE_CL_HEARTBEAT_MIN_MS;
    if (ms > ORACLE_CL_HEARTBEAT_MAX_MS)
        ms = ORACLE_CL_HEARTBEAT_MAX_MS;
    return (uint32_t)ms;
}

static int
cfg_check(const struct oracle_chainlink_cfg *cfg)
{
    if (oracle_source_cfg_check(&cfg->base) != 0 || addr_is_zero(&cfg->feed))
        return KP_ECONFIG;
    if (cfg->has_events && addr_is_zero(&cfg->events))
        return KP_ECONFIG;
    if (cfg->heartbeat_ms != 0 &&
        (cfg->heartbeat_ms < ORACLE_CL_HEARTBEAT_MIN_MS ||
         cfg->heartbeat_ms > ORACLE_CL_HEARTBEAT_MAX_MS))
        return KP_ECONFIG;
    if (cfg->retry_ms > RETRY_MS_MAX || cfg->check_ms > CHECK_MS_MAX)
        return KP_ECONFIG;
    return 0;
}

/* ---- lifetime ---- */

static int cl_start(struct oracle_source *s);
static void cl_stop(struct oracle_source *s);
static void cl_log_filter(const struct oracle_source *s,
                          struct evlog_filter *f);
static int cl_on_log(struct oracle_source *s, const struct evlog *log,
                     bool removed);
static void cl_free(struct oracle_source *s);

static const struct oracle_source_ops chainlink_ops = {
    .kind = "chainlink",
    .start = cl_start,
    .stop = cl_stop,
    .log_filter = cl_log_filter,
    .on_log = cl_on_log,
    .free = cl_free,
};

int
oracle_chainlink_new(struct oracle_chainlink **out, uv_loop_t *loop,
                     struct rpc_client *rpc,
                     const struct oracle_chainlink_cfg *cfg)
{
    struct oracle_chainlink *c;

    assert(out != NULL && loop != NULL && rpc != NULL && cfg != NULL);
    *out = NULL;
    if (cfg_check(cfg) != 0)
        return KP_ECONFIG;
    c = kp_xcalloc(1, sizeof(*c));
    oracle_source_init(&c->src, &chainlink_ops, &cfg->base);
    c->loop = loop;
    c->rpc = rpc;
    c->feed = cfg->feed;
    c->events = cfg->has_events ? cfg->events : cfg->feed;
    c->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms
                                        : heartbeat_default(cfg->base.max_age);
    c->retry_ms = cfg->retry_ms ? cfg->retry_ms : DEFAULT_RETRY_MS;
    c->check_ms = cfg->check_ms ? cfg->check_ms : DEFAULT_CHECK_MS;
    c->call_timeout_ms = cfg->call_timeout_ms;
    uv_timer_init(loop, &c->heartbeat);
    uv_timer_init(loop, &c->check);
    c->heartbeat.data = c->check.data = c;
    c->open_handles = 2;
    *out = c;
    return 0;
}

struct oracle_source *
oracle_chainlink_source(struct oracle_chainlink *c)
{
    assert(c != NULL);
    return &c->src;
}

struct oracle_chainlink *
oracle_chainlink_from_source(struct oracle_source *s)
{
    assert(s != NULL);
    return s->ops == &chainlink_ops ? (struct oracle_chainlink *)s : NULL;
}

static struct oracle_chainlink *
cl_of(struct oracle_source *s)
{
    assert(s != NULL && s->ops == &chainlink_ops);
    return (struct oracle_chainlink *)s;
}

static void
on_handle_closed(uv_handle_t *h)
{
    struct oracle_chainlink *c = h->data;

    if (--c->open_handles == 0)
        free(c);
}

static void
cl_free(struct oracle_source *s)
{
    struct oracle_chainlink *c = cl_of(s);

    cl_stop(s);
    uv_close((uv_handle_t *)&c->heartbeat, on_handle_closed);
    uv_close((uv_handle_t *)&c->check, on_handle_closed);
}

/* ---- reads ---- */

static void read_start(struct oracle_chainlink *c);

static void
on_heartbeat(uv_timer_t *t)
{
    read_start(t->data);
}

static void
on_check(uv_timer_t *t)
{
    struct oracle_chainlink *c = t->data;

    oracle_source_check(&c->src);
}

static void
arm_heartbeat(struct oracle_chainlink *c, uint32_t ms)
{
    if (c->started)
        uv_timer_start(&c->heartbeat, on_heartbeat, ms, 0);
}

static void
call_params(char *out, size_t cap, const struct eth_addr *to,
            const uint8_t sel[4])
{
    char addr[2 * 20 + 3], data[2 * 4 + 3];

    hex_encode(addr, sizeof(addr), to->b, sizeof(to->b), true);
    hex_encode(data, sizeof(data), sel, 4, true);
    snprintf(out, cap, "[{\"to\":\"%s\",\"data\":\"%s\"},\"latest\"]", addr,
             data);
}

/* Return data of an eth_call: a "0x..." string of at most
 * ORACLE_CL_REPLY_MAX bytes. */
static int
result_bytes(uint8_t *out, size_t cap, size_t *len, const cJSON *result)
{
    const char *s = cJSON_GetStringValue(result);

    if (s == NULL || !hex_has_prefix(s, strlen(s)))
        return KP_EINVAL;
    return hex_decode(out, cap, len, s, strlen(s));
}

static void read_done(struct oracle_chainlink *c);

/* Keep one reply's return data, or a one-line reason. */
static void
keep_part(struct cl_part *part, const char *what, const cJSON *result,
          const struct rpc_status *st)
{
    part->len = 0;
    part->malformed = false;
    part->err = st->err;
    if (part->err != 0) {
        snprintf(part->text, sizeof(part->text), "%s: %s", what, st->text);
        return;
    }
    part->err = result_bytes(part->buf, sizeof(part->buf), &part->len, result);
    part->malformed = part->err != 0;
    if (part->malformed)
        snprintf(part->text, sizeof(part->text),
                 "%s: result is not hex data of at most %d bytes", what,
                 ORACLE_CL_REPLY_MAX);
}

static void
on_decimals_reply(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct oracle_chainlink *c = arg;

    keep_part(&c->dec, "decimals()", result, st);
    if (--c->parts == 0)
        read_done(c);
}

static void
on_round_reply(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct oracle_chainlink *c = arg;

    keep_part(&c->round, "latestRoundData()", result, st);
    if (--c->parts == 0)
        read_done(c);
}

static int
batch_add(struct rpc_batch *b, struct oracle_chainlink *c, const uint8_t sel[4],
          rpc_cb cb)
{
    char params[CALL_PARAMS_MAX];

    call_params(params, sizeof(params), &c->feed, sel);
    return rpc_batch_add(b, "eth_call", params, cb, c);
}

/* decimals() (until known) and latestRoundData() in one request. */
static int
send_read(struct oracle_chainlink *c)
{
    struct rpc_call_opts o = {.timeout_ms = c->call_timeout_ms};
    struct rpc_batch *b = rpc_batch_new(c->rpc);
    uint8_t sel[4];
    int rc = 0;

    c->parts = 0;
    c->dec.err = c->round.err = 0;
    if (!c->have_decimals) {
        oracle_chainlink_selector_decimals(sel);
        rc = batch_add(b, c, sel, on_decimals_reply);
        c->parts++;
    }
    oracle_chainlink_selector_latest(sel);
    if (rc == 0 && (rc = batch_add(b, c, sel, on_round_reply)) == 0)
        c->parts++;
    if (rc != 0) {
        rpc_batch_free(b);
        return rc;
    }
    return rpc_batch_send(b, &o, &c->read_id);
}

static void
read_start(struct oracle_chainlink *c)
{
    int rc;

    if (!c->started)
        return;
    if (c->reading) {
        /* The reply in flight may predate what prompted this read. */
        c->again = true;
        return;
    }
    uv_timer_stop(&c->heartbeat);
    if ((rc = send_read(c)) != 0) {
        c->stats.read_errors++;
        oracle_source_set_error(&c->src, "read not sent: %s", kp_strerror(rc));
        arm_heartbeat(c, c->retry_ms);
        return;
    }
    c->reading = true;
    c->read_replace = c->want_replace;
    c->want_replace = false;
}

/* A reply that arrived but does not decode: refused as malformed. An
 * empty one is what a call to an address without code returns. */
static int
reject_data(struct oracle_chainlink *c, const char *what, int rc, size_t len)
{
    return oracle_source_reject(&c->src, ORACLE_REJ_MALFORMED,
                                "%s: %s (%zu bytes%s)", what, kp_strerror(rc),
                                len, len == 0 ? ": no contract?" : "");
}

/* Decimals from the first read's reply. Returns: 0 or KP_EINVAL. */
static int
take_decimals(struct oracle_chainlink *c)
{
    unsigned d;
    int rc;

    if (c->have_decimals)
        return 0;
    if ((rc = oracle_chainlink_decode_decimals(&d, c->dec.buf, c->dec.len)))
        return reject_data(c, "decimals()", rc, c->dec.len);
    if (d > ORACLE_DECIMALS_MAX)
        return oracle_source_reject(&c->src, ORACLE_REJ_RANGE,
                                    "decimals() = %u, above %d", d,
                                    ORACLE_DECIMALS_MAX);
    c->decimals = (uint8_t)d;
    c->have_decimals = true;
    return 0;
}

/* Judge and offer one round. Returns: as oracle_source_offer. */
static int
offer_round(struct oracle_chainlink *c, const struct oracle_chainlink_round *r,
            bool replace, const char *via)
{
    struct oracle_price p;
    enum oracle_reject why;
    char ans[U256_DEC_MAX], round[U256_DEC_MAX];

    if (oracle_chainlink_round_price(&p, &why, r, c->decimals) == 0)
        return oracle_source_offer(&c->src, &p, replace);
    u256_fmt_dec_signed(ans, sizeof(ans), &r->answer);
    u256_fmt_dec(round, sizeof(round), &r->round_id);
    return oracle_source_reject(&c->src, why,
                                "%s: round %s refused (%s): answer=%s", via,
                                round, oracle_reject_name(why), ans);
}

/* Returns: whether the reply gave a round (refused or not). */
static bool
process_read(struct oracle_chainlink *c)
{
    struct oracle_chainlink_round r;
    const struct cl_part *bad = NULL;
    int rc;

    if (!c->have_decimals && c->dec.err != 0)
        bad = &c->dec;
    else if (c->round.err != 0)
        bad = &c->round;
    if (bad != NULL) {
        if (bad->malformed)
            oracle_source_reject(&c->src, ORACLE_REJ_MALFORMED, "%s",
                                 bad->text);
        else
            oracle_source_set_error(&c->src, "%s", bad->text);
        return false;
    }
    if (take_decimals(c) != 0)
        return false;
    rc = oracle_chainlink_decode_round(&r, c->round.buf, c->round.len);
    if (rc != 0) {
        reject_data(c, "latestRoundData()", rc, c->round.len);
        return false;
    }
    c->read_round = r.round_id;
    c->have_read_round = true;
    c->stats.reads++;
    (void)offer_round(c, &r, c->read_replace, "latestRoundData()");
    return true;
}

static void
read_done(struct oracle_chainlink *c)
{
    bool ok;

    c->reading = false;
    ok = process_read(c);
    if (!ok) {
        c->stats.read_errors++;
        c->want_replace |= c->read_replace;
    }
    /* A callback may have stopped the source. */
    if (!c->started)
        return;
    arm_heartbeat(c, ok ? c->heartbeat_ms : c->retry_ms);
    if (c->again) {
        c->again = false;
        read_start(c);
    }
}

/* ---- operations ---- */

static int
cl_start(struct oracle_source *s)
{
    struct oracle_chainlink *c = cl_of(s);

    if (c->started)
        return KP_ESTATE;
    c->started = true;
    uv_timer_start(&c->check, on_check, c->check_ms, c->check_ms);
    read_start(c);
    return 0;
}

static void
cl_stop(struct oracle_source *s)
{
    struct oracle_chainlink *c = cl_of(s);

    if (!c->started)
        return;
    c->started = false;
    if (c->reading) {
        (void)rpc_cancel(c->rpc, c->read_id);
        c->want_replace |= c->read_replace;
    }
    c->reading = c->again = false;
    uv_timer_stop(&c->heartbeat);
    uv_timer_stop(&c->check);
}

static void
cl_log_filter(const struct oracle_source *s, struct evlog_filter *f)
{
    const struct oracle_chainlink *c = (const struct oracle_chainlink *)s;

    assert(s->ops == &chainlink_ops && f != NULL);
    f->addrs[0] = c->events;
    f->naddrs = 1;
    oracle_chainlink_topic_answer_updated(f->topics[0][0]);
    f->nalts[0] = 1;
}

static bool
log_is_ours(const struct oracle_chainlink *c, const struct evlog *log)
{
    uint8_t topic0[32];

    if (log->ntopics == 0 || memcmp(&log->address, &c->events, 20) != 0)
        return false;
    oracle_chainlink_topic_answer_updated(topic0);
    return memcmp(log->topics[0], topic0, 32) == 0;
}

static int
cl_on_log(struct oracle_source *s, const struct evlog *log, bool removed)
{
    struct oracle_chainlink *c = cl_of(s);
    struct oracle_chainlink_round r;
    int rc;

    if (!log_is_ours(c, log))
        return KP_ENOTFOUND;
    if (!c->started)
        return KP_ESTATE;
    if (removed) {
        c->stats.logs_removed++;
        c->want_replace = true;
        read_start(c);
        return 0;
    }
    rc = oracle_chainlink_decode_log(&r, log->topics, log->ntopics, log->data,
                                     log->data_len);
    if (rc != 0)
        return oracle_source_reject(
            s, ORACLE_REJ_MALFORMED, "AnswerUpdated log in block %llu: %s",
            (unsigned long long)log->block_number, kp_strerror(rc));
    c->stats.logs++;
    if (!c->have_decimals) {
        /* Cannot scale yet: the read after the pending one will see it. */
        read_start(c);
        return 0;
    }
    if (memcmp(&c->events, &c->feed, 20) != 0 && c->have_read_round)
        oracle_chainlink_apply_phase(&r.round_id, &c->read_round);
    return offer_round(c, &r, false, "AnswerUpdated");
}

/* ---- public wrappers ---- */

int
oracle_chainlink_refresh(struct oracle_chainlink *c)
{
    assert(c != NULL);
    if (!c->started)
        return KP_ESTATE;
    read_start(c);
    return 0;
}

int
oracle_chainlink_decimals(const struct oracle_chainlink *c, unsigned *decimals)
{
    assert(c != NULL && decimals != NULL);
    if (!c->have_decimals)
        return KP_ESTATE;
    *decimals = c->decimals;
    return 0;
}

const struct oracle_chainlink_stats *
oracle_chainlink_stats(const struct oracle_chainlink *c)
{
    assert(c != NULL);
    return &c->stats;
}

uint32_t
oracle_chainlink_heartbeat_ms(const struct oracle_chainlink *c)
{
    assert(c != NULL);
    return c->heartbeat_ms;
}
