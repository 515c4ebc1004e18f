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
    bool have_phase;
    uint64_t phase; /* round_id >> 64 of the last round read */

    /* The read in flight (one at most) and the one queued behind it. */
    bool reading, read_replace;
    uint64_t read_id;
    int parts;      /* replies still expected */
    bool again, again_replace;
    int dec_err, round_err;
    char dec_text[ORACLE_ERR_MAX], round_text[ORACLE_ERR_MAX];
    unsigned dec_value;
    uint8_t round_buf[ORACLE_CL_REPLY_MAX];
    size_t round_len;

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
                          struct oracle_log_filter *f);
static int cl_on_log(struct oracle_source *s, const struct oracle_log *log);
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

static void read_start(struct oracle_chainlink *c, bool replace);

static void
arm_heartbeat(struct oracle_chainlink *c, uint32_t ms)
{
    if (c->started)
        uv_timer_start(&c->heartbeat, NULL, 0, 0), /* placeholder */
            (void)0;
    (void)ms;
}
