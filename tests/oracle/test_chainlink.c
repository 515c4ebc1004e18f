/* Chainlink AggregatorV3 source.
 * Without a network: selectors and topic against cast's values, decoding
 * of latestRoundData / decimals / AnswerUpdated (strict padding, short
 * data), judging and scaling (decimals 0, 8, 18, 36; int256 extremes;
 * every refusal), configuration checks, misuse before start.
 * Against a real anvil with the reference PriceFeed (compiled here with
 * solcjs): the start read (one batched request), the log path fed as the
 * daemon feeds it (eth_getLogs with the source's filter), no double count,
 * the heartbeat, stale once after evm_increaseTime and fresh again on a
 * new round, a reorg's removed log causing a re-read that wins, refused
 * answers on both paths, no contract at the address, stop/restart and
 * freeing with a read in flight. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/abi.h"
#include "chain/err.h"
#include "chain/evlog.h"
#include "chain/hex.h"
#include "chain/rpc.h"
#include "chain/u256.h"
#include "oracle/chainlink.h"
#include "oracle/history.h"
#include "oracle/source.h"
#include "tests/support/anvil.h"
#include "tests/support/check.h"
#include "tests/support/proc.h"
#include "tests/support/rpcsync.h"
#include "tests/support/solc.h"
#include "tests/support/uvrun.h"

/* anvil's first dev account: deploys the feed and is its admin. */
#define ADMIN "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
/* From `cast keccak "AnswerUpdated(int256,uint256,uint256)"`. */
#define TOPIC_ANSWER_UPDATED                                                   \
    "0559884fd3a460db3073b7fc896cc77986f16e378210ded43186175bf646fc5f"

/* ==== helpers without a network ==== */

static void
word_u64(uint8_t w[32], uint64_t v)
{
    struct u256 x;

    u256_from_u64(&x, v);
    u256_to_be(w, &x);
}

/* -v as an int256 word. */
static void
word_neg(uint8_t w[32], uint64_t v)
{
    struct u256 x;

    u256_from_u64(&x, v);
    u256_neg(&x, &x);
    u256_to_be(w, &x);
}

/* latestRoundData return data: five words. */
static void
round_data(uint8_t d[160], uint64_t round, const uint8_t answer[32],
           uint64_t started, uint64_t updated, uint64_t answered)
{
    word_u64(d, round);
    memcpy(d + 32, answer, 32);
    word_u64(d + 64, started);
    word_u64(d + 96, updated);
    word_u64(d + 128, answered);
}

/* answer * 10^e */
static struct u256
scaled(uint64_t answer, unsigned e)
{
    struct u256 p, r, a = ts_u256(answer);

    assert_int_equal(u256_pow10(&p, e), 0);
    assert_int_equal(u256_mul(&r, &a, &p), 0);
    return r;
}

static struct oracle_chainlink_round
mkround(uint64_t round, const struct u256 *answer, uint64_t updated,
        uint64_t answered)
{
    struct oracle_chainlink_round r;

    memset(&r, 0, sizeof(r));
    r.round_id = ts_u256(round);
    r.answer = *answer;
    r.started_at = ts_u256(updated);
    r.updated_at = ts_u256(updated);
    r.answered_in_round = ts_u256(answered);
    return r;
}

/* ==== decoding and judging ==== */

static void
test_selectors_and_topic(void **state)
{
    uint8_t sel[4], topic[32], want[32];

    (void)state;
    oracle_chainlink_selector_decimals(sel);
    assert_memory_equal(sel, "\x31\x3c\xe5\x67", 4);
    oracle_chainlink_selector_latest(sel);
    assert_memory_equal(sel, "\xfe\xaf\x96\x8c", 4);
    oracle_chainlink_topic_answer_updated(topic);
    assert_int_equal(hex_decode_exact(want, 32, TOPIC_ANSWER_UPDATED, 64), 0);
    assert_memory_equal(topic, want, 32);
}

static void
test_decode_round(void **state)
{
    uint8_t d[192], ans[32];
    struct oracle_chainlink_round r;
    struct u256 phase_round;

    (void)state;
    /* cast abi-encode "f(uint80,int256,uint256,uint256,uint80)" 7 -5 1 2 7 */
    word_neg(ans, 5);
    round_data(d, 7, ans, 1, 2, 7);
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 160), 0);
    assert_int_equal(u256_cmp(&r.round_id, &(struct u256){{7}}), 0);
    assert_true(u256_is_neg(&r.answer));
    assert_int_equal(u256_cmp(&r.started_at, &(struct u256){{1}}), 0);
    assert_int_equal(u256_cmp(&r.updated_at, &(struct u256){{2}}), 0);
    assert_int_equal(u256_cmp(&r.answered_in_round, &(struct u256){{7}}), 0);

    /* A proxy's round: phase 3 in bits 64..79. */
    memset(d, 0, 32);
    d[32 - 9] = 0x03;
    d[31] = 0x2a;
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 160), 0);
    phase_round = ts_u256(3);
    u256_shl(&phase_round, &phase_round, 64);
    phase_round.w[0] = 42;
    assert_int_equal(u256_cmp(&r.round_id, &phase_round), 0);

    /* Bytes past the five words are ignored, as Solidity does. */
    memset(d + 160, 0xee, 32);
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 192), 0);
}

static void
test_decode_round_malformed(void **state)
{
    uint8_t d[160], ans[32];
    struct oracle_chainlink_round r;

    (void)state;
    word_u64(ans, 1);
    round_data(d, 1, ans, 1, 1, 1);
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 0), KP_ETRUNC);
    assert_int_equal(oracle_chainlink_decode_round(&r, NULL, 0), KP_ETRUNC);
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 159), KP_ETRUNC);
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 32), KP_ETRUNC);
    /* uint80 with bit 80 set. */
    d[32 - 11] = 1;
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 160), KP_ENONCANON);
    d[32 - 11] = 0;
    d[128] = 0x80; /* answeredInRound, top byte */
    assert_int_equal(oracle_chainlink_decode_round(&r, d, 160), KP_ENONCANON);
}

static void
test_decode_decimals(void **state)
{
    uint8_t d[64];
    unsigned dec = 99;

    (void)state;
    word_u64(d, 8);
    assert_int_equal(oracle_chainlink_decode_decimals(&dec, d, 32), 0);
    assert_int_equal(dec, 8);
    word_u64(d, 0);
    assert_int_equal(oracle_chainlink_decode_decimals(&dec, d, 32), 0);
    assert_int_equal(dec, 0);
    word_u64(d, 255);
    assert_int_equal(oracle_chainlink_decode_decimals(&dec, d, 32), 0);
    assert_int_equal(dec, 255);
    word_u64(d, 256); /* not a uint8 */
    assert_int_equal(oracle_chainlink_decode_decimals(&dec, d, 32),
                     KP_ENONCANON);
    assert_int_equal(oracle_chainlink_decode_decimals(&dec, d, 31), KP_ETRUNC);
    assert_int_equal(oracle_chainlink_decode_decimals(&dec, NULL, 0),
                     KP_ETRUNC);
}

static void
test_decode_log(void **state)
{
    uint8_t topics[4][32], data[64];
    struct oracle_chainlink_round r;
    struct oracle_price p;
    enum oracle_reject why;
    struct u256 want = scaled(2000, 8);

    (void)state;
    oracle_chainlink_topic_answer_updated(topics[0]);
    u256_to_be(topics[1], &want);
    word_u64(topics[2], 3);
    word_u64(data, 1700000000);
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 3, data, 32), 0);
    assert_int_equal(u256_cmp(&r.answer, &want), 0);
    assert_int_equal(u256_cmp(&r.round_id, &(struct u256){{3}}), 0);
    assert_int_equal(u256_cmp(&r.answered_in_round, &r.round_id), 0);
    assert_true(u256_is_zero(&r.started_at));
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), 0);
    assert_true(p.value == 2000.0);
    assert_int_equal(p.updated_at, 1700000000);

    /* Extra data is ignored; short data is not. */
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 3, data, 64), 0);
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 3, data, 31),
                     KP_ETRUNC);
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 3, NULL, 0),
                     KP_ETRUNC);
    /* Topic count and topic0. */
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 2, data, 32),
                     KP_EINVAL);
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 4, data, 32),
                     KP_EINVAL);
    assert_int_equal(oracle_chainlink_decode_log(&r, NULL, 0, data, 32),
                     KP_EINVAL);
    topics[0][0] ^= 1;
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 3, data, 32),
                     KP_EINVAL);
    topics[0][0] ^= 1;

    /* A negative answer decodes (it is what the feed said) and is refused
     * when judged. */
    word_neg(topics[1], 1);
    assert_int_equal(oracle_chainlink_decode_log(&r, topics, 3, data, 32), 0);
    assert_true(u256_is_neg(&r.answer));
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_NONPOSITIVE);
}

static void
test_scale_by_decimals(void **state)
{
    struct oracle_chainlink_round r;
    struct oracle_price p;
    enum oracle_reject why;
    struct u256 a;

    (void)state;
    a = ts_u256(2000);
    r = mkround(1, &a, 100, 1);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 0), 0);
    assert_true(p.value == 2000.0);
    assert_int_equal(p.decimals, 0);

    a = ts_u256(200012345678ull); /* 2000.12345678 with 8 decimals */
    r = mkround(1, &a, 100, 1);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), 0);
    assert_int_equal(u256_cmp(&p.answer, &a), 0);
    assert_int_equal(p.decimals, 8);
    assert_true(fabs(p.value - 2000.12345678) < 1e-9);
    assert_int_equal(p.updated_at, 100);
    assert_int_equal(u256_cmp(&p.round_id, &r.round_id), 0);

    a = scaled(2000, 18);
    r = mkround(1, &a, 100, 1);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 18), 0);
    assert_true(p.value == 2000.0);

    /* The most decimals we take, and one more. */
    a = scaled(3, 36);
    r = mkround(1, &a, 100, 1);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 36), 0);
    assert_true(fabs(p.value - 3.0) < 1e-12);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 37), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_RANGE);
}

static void
test_huge_answers(void **state)
{
    struct oracle_chainlink_round r;
    struct oracle_price p;
    enum oracle_reject why;
    struct u256 max, min;

    (void)state;
    /* int256 max = 2^255 - 1: exact in the answer, finite as a double. */
    memset(&max, 0xff, sizeof(max));
    max.w[3] = 0x7fffffffffffffffull;
    r = mkround(1, &max, 100, 1);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 18), 0);
    assert_int_equal(u256_cmp(&p.answer, &max), 0);
    assert_true(isfinite(p.value));
    assert_true(fabs(p.value / (ldexp(1.0, 255) / 1e18) - 1.0) < 1e-12);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 0), 0);
    assert_true(fabs(p.value / ldexp(1.0, 255) - 1.0) < 1e-12);

    /* int256 min = -2^255: negative, refused. */
    memset(&min, 0, sizeof(min));
    min.w[3] = 0x8000000000000000ull;
    r = mkround(1, &min, 100, 1);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_NONPOSITIVE);
}

static void
test_refusals(void **state)
{
    struct oracle_chainlink_round r;
    struct oracle_price p;
    enum oracle_reject why;
    struct u256 a = ts_u256(5), zero = ts_u256(0), neg;

    (void)state;
    u256_neg(&neg, &a);
    r = mkround(2, &neg, 100, 2);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_NONPOSITIVE);
    r = mkround(2, &zero, 100, 2);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_NONPOSITIVE);

    r = mkround(2, &a, 0, 2);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_INCOMPLETE);

    /* Carried over: answeredInRound < roundId. */
    r = mkround(2, &a, 100, 1);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_CARRIED);
    r = mkround(2, &a, 100, 3); /* later is fine */
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), 0);

    /* updatedAt beyond 64 bits. */
    r = mkround(2, &a, 100, 2);
    u256_shl(&r.updated_at, &r.updated_at, 64);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), KP_EINVAL);
    assert_int_equal(why, ORACLE_REJ_RANGE);
    r.updated_at = ts_u256(UINT64_MAX);
    assert_int_equal(oracle_chainlink_round_price(&p, &why, &r, 8), 0);
}

static void
test_apply_phase(void **state)
{
    struct u256 proxy, round, want;

    (void)state;
    /* Proxy round: phase 2, round 41. The aggregator logs round 42. */
    proxy = ts_u256(2);
    u256_shl(&proxy, &proxy, 64);
    proxy.w[0] = 41;
    round = ts_u256(42);
    oracle_chainlink_apply_phase(&round, &proxy);
    want = proxy;
    want.w[0] = 42;
    assert_int_equal(u256_cmp(&round, &want), 0);
    /* Already phased: unchanged. */
    oracle_chainlink_apply_phase(&round, &proxy);
    assert_int_equal(u256_cmp(&round, &want), 0);
    want = ts_u256(3);
    u256_shl(&want, &want, 64);
    round = want;
    oracle_chainlink_apply_phase(&round, &proxy);
    assert_int_equal(u256_cmp(&round, &want), 0);
    /* Phase 0 (a plain aggregator): unchanged. */
    round = ts_u256(7);
    proxy = ts_u256(6);
    oracle_chainlink_apply_phase(&round, &proxy);
    assert_int_equal(u256_cmp(&round, &(struct u256){{7}}), 0);
}

/* ==== configuration and misuse (a client that is never used) ==== */

struct quiet {
    uv_loop_t loop;
    struct rpc_client *rpc;
};

static struct rpc_opts
test_rpc_opts(void)
{
    struct rpc_opts o;

    ts_rpc_opts_init(&o);
    o.max_attempts = 1; /* no backoff either */
    return o;
}

static void
quiet_open(struct quiet *q, const char *url)
{
    struct rpc_endpoint_cfg ep = {.url = url};
    struct rpc_opts o = test_rpc_opts();

    assert_int_equal(uv_loop_init(&q->loop), 0);
    assert_int_equal(rpc_client_new(&q->rpc, &q->loop, NULL, &ep, 1, &o), 0);
}

static void
quiet_close(struct quiet *q)
{
    rpc_client_free(q->rpc);
    assert_int_equal(ts_loop_close(&q->loop), 0);
}

static void
cfg_valid(struct oracle_chainlink_cfg *cfg)
{
    oracle_chainlink_cfg_init(cfg);
    cfg->base.name = "eth-usd";
    cfg->base.asset = "ETH";
    cfg->base.max_age = 60;
    memset(cfg->feed.b, 0x11, 20);
}

static void
test_new_config(void **state)
{
    struct quiet q;
    struct oracle_chainlink_cfg cfg;
    struct oracle_chainlink *c = (void *)1;

    (void)state;
    quiet_open(&q, "http://127.0.0.1:9");
    cfg_valid(&cfg);
    assert_int_equal(oracle_chainlink_new(&c, &q.loop, q.rpc, &cfg), 0);
    /* Default heartbeat: half of max_age. */
    assert_int_equal(oracle_chainlink_heartbeat_ms(c), 30000);
    assert_string_equal(oracle_source_kind(oracle_chainlink_source(c)),
                        "chainlink");
    oracle_source_free(oracle_chainlink_source(c));

    cfg.base.max_age = 1;
    assert_int_equal(oracle_chainlink_new(&c, &q.loop, q.rpc, &cfg), 0);
    assert_int_equal(oracle_chainlink_heartbeat_ms(c), 500);
    oracle_source_free(oracle_chainlink_source(c));
    cfg.base.max_age = 1000000000;
    assert_int_equal(oracle_chainlink_new(&c, &q.loop, q.rpc, &cfg), 0);
    assert_int_equal(oracle_chainlink_heartbeat_ms(c),
                     ORACLE_CL_HEARTBEAT_MAX_MS);
    oracle_source_free(oracle_chainlink_source(c));
    quiet_close(&q);
}

#define BAD_CFG(stmt)                                                          \
    do {                                                                       \
        cfg_valid(&cfg);                                                       \
        stmt;                                                                  \
        c = (void *)1;                                                         \
        assert_int_equal(oracle_chainlink_new(&c, &q.loop, q.rpc, &cfg),       \
                         KP_ECONFIG);                                          \
        assert_null(c);                                                        \
    } while (0)

static void
test_new_bad_config(void **state)
{
    struct quiet q;
    struct oracle_chainlink_cfg cfg;
    struct oracle_chainlink *c;

    (void)state;
    quiet_open(&q, "http://127.0.0.1:9");
    BAD_CFG(memset(&cfg.feed, 0, sizeof(cfg.feed)));
    BAD_CFG(cfg.has_events = true);
    BAD_CFG(cfg.base.name = NULL);
    BAD_CFG(cfg.base.asset = "");
    BAD_CFG(cfg.base.max_age = 0);
    BAD_CFG(cfg.heartbeat_ms = ORACLE_CL_HEARTBEAT_MIN_MS - 1);
    BAD_CFG(cfg.heartbeat_ms = ORACLE_CL_HEARTBEAT_MAX_MS + 1);
    BAD_CFG(cfg.check_ms = 60001);
    BAD_CFG(cfg.retry_ms = 600001);
    quiet_close(&q);
}

static void
test_before_start(void **state)
{
    struct quiet q;
    struct oracle_chainlink_cfg cfg;
    struct oracle_chainlink *c;
    struct oracle_source *s;
    struct evlog_filter flt;
    struct evlog log;
    uint8_t data[32];
    unsigned dec;

    (void)state;
    quiet_open(&q, "http://127.0.0.1:9");
    cfg_valid(&cfg);
    assert_int_equal(oracle_chainlink_new(&c, &q.loop, q.rpc, &cfg), 0);
    s = oracle_chainlink_source(c);
    assert_ptr_equal(oracle_chainlink_from_source(s), c);
    assert_int_equal(oracle_source_state(s), ORACLE_STATE_NONE);
    assert_null(oracle_source_latest(s));
    assert_int_equal(oracle_chainlink_decimals(c, &dec), KP_ESTATE);
    assert_int_equal(oracle_chainlink_refresh(c), KP_ESTATE);
    oracle_source_stop(s); /* not started: nothing to do */

    /* The filter: the feed and AnswerUpdated. */
    assert_true(oracle_source_log_filter(s, &flt));
    assert_int_equal(flt.naddrs, 1);
    assert_memory_equal(flt.addrs[0].b, cfg.feed.b, 20);
    assert_int_equal(flt.nalts[0], 1);
    assert_int_equal(flt.nalts[1], 0);
    oracle_chainlink_topic_answer_updated(log.topics[0]);
    assert_memory_equal(flt.topics[0][0], log.topics[0], 32);

    /* Logs: ours before start, then others. */
    memset(&log, 0, sizeof(log));
    log.address = cfg.feed;
    oracle_chainlink_topic_answer_updated(log.topics[0]);
    word_u64(log.topics[1], 5);
    word_u64(log.topics[2], 1);
    log.ntopics = 3;
    word_u64(data, 100);
    log.data = data;
    log.data_len = 32;
    assert_int_equal(oracle_source_on_log(s, &log, false), KP_ESTATE);
    assert_int_equal(oracle_source_on_log(s, &log, true), KP_ESTATE);
    log.address.b[0] ^= 1;
    assert_int_equal(oracle_source_on_log(s, &log, false), KP_ENOTFOUND);
    log.address.b[0] ^= 1;
    log.topics[0][5] ^= 1;
    assert_int_equal(oracle_source_on_log(s, &log, false), KP_ENOTFOUND);
    log.ntopics = 0;
    assert_int_equal(oracle_source_on_log(s, &log, false), KP_ENOTFOUND);
    oracle_source_free(s);

    /* A proxy: logs come from the aggregator. */
    cfg.has_events = true;
    memset(cfg.events.b, 0x22, 20);
    assert_int_equal(oracle_chainlink_new(&c, &q.loop, q.rpc, &cfg), 0);
    s = oracle_chainlink_source(c);
    assert_true(oracle_source_log_filter(s, &flt));
    assert_memory_equal(flt.addrs[0].b, cfg.events.b, 20);
    oracle_source_free(s);
    oracle_source_free(NULL);
    quiet_close(&q);
}

/* ==== against anvil ==== */

/* ---- processes: solcjs once, anvil for the group ---- */

static struct ts_anvil node;
static char *feed_bin; /* PriceFeed creation code, hex without 0x */

static uint64_t
json_u64(const cJSON *v)
{
    uint64_t x = 0;

    assert_int_equal(rpc_quantity_u64(v, &x), 0);
    return x;
}

static int
group_setup(void **state)
{
    char sol[4096];

    (void)state;
    if (ts_source_path(sol, sizeof(sol), "tests/contracts/PriceFeed.sol") !=
            0 ||
        ts_solc_file(&feed_bin, sol, "PriceFeed") != 0)
        return -1;
    if (ts_anvil_start(&node, NULL) != 0) {
        fprintf(stderr, "anvil did not start\n");
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    ts_anvil_stop(&node);
    free(feed_bin);
    feed_bin = NULL;
    return 0;
}

/* ---- per-test fixture: a client, a feed, a source ---- */

struct fx {
    uv_loop_t loop;
    struct rpc_client *rpc;
    struct oracle_history hist;
    struct oracle_chainlink *cl;
    struct oracle_source *s;
    struct eth_addr feed;
    char feed_hex[ETH_ADDR_STR_LEN];
    int64_t offset; /* test clock = wall + offset: anvil's time */
    /* what the callbacks saw */
    int prices, states, rejects;
    enum oracle_state trail[16];
    struct oracle_price last;
    enum oracle_reject why;
    char why_text[ORACLE_ERR_MAX];
};

static uint64_t
fx_clock(void *arg)
{
    struct fx *f = arg;

    return (uint64_t)((int64_t)oracle_clock_wall(NULL) + f->offset);
}

static void
fx_on_price(void *arg, struct oracle_source *s, const struct oracle_price *p)
{
    struct fx *f = arg;

    assert_ptr_equal(s, f->s);
    f->prices++;
    f->last = *p;
}

static void
fx_on_state(void *arg, struct oracle_source *s, enum oracle_state from,
            enum oracle_state to)
{
    struct fx *f = arg;

    assert_ptr_equal(s, f->s);
    assert_int_not_equal(from, to);
    if (f->states < 16)
        f->trail[f->states] = to;
    f->states++;
}

static void
fx_on_reject(void *arg, struct oracle_source *s, enum oracle_reject why,
             const char *text)
{
    struct fx *f = arg;

    (void)s;
    f->rejects++;
    f->why = why;
    snprintf(f->why_text, sizeof(f->why_text), "%s", text);
}

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct rpc_endpoint_cfg ep = {.url = node.http};
    struct rpc_opts o = test_rpc_opts();
    struct oracle_history_params hp;

    if (f == NULL || uv_loop_init(&f->loop) != 0)
        return -1;
    if (rpc_client_new(&f->rpc, &f->loop, NULL, &ep, 1, &o) != 0)
        return -1;
    oracle_history_params_default(&hp);
    if (oracle_history_init(&f->hist, &hp) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    oracle_source_free(f->s); /* before the client it uses */
    rpc_client_free(f->rpc);
    rc = ts_loop_close(&f->loop);
    oracle_history_cleanup(&f->hist);
    free(f);
    return rc == 0 ? 0 : -1;
}

static cJSON *
fx_call(struct fx *f, const char *method, const char *params)
{
    return ts_rpc_must(&f->loop, f->rpc, method, params, 15000);
}

/* Send a transaction from the admin; wait for its receipt.
 * Returns: the receipt (cJSON_Delete it). */
static cJSON *
send_tx(struct fx *f, const char *to, const uint8_t *data, size_t len)
{
    size_t cap = 2 * len + 512;
    char *params = malloc(cap), *hexdata = malloc(2 * len + 3), hp[128];
    cJSON *hash, *rcpt = NULL;

    assert_int_equal(hex_encode(hexdata, 2 * len + 3, data, len, true), 0);
    snprintf(params, cap,
             "[{\"from\":\"" ADMIN "\",%s%s%s\"data\":\"%s\",\"gas\":"
             "\"0x989680\"}]",
             to ? "\"to\":\"" : "", to ? to : "", to ? "\"," : "", hexdata);
    hash = fx_call(f, "eth_sendTransaction", params);
    assert_true(cJSON_IsString(hash));
    snprintf(hp, sizeof(hp), "[\"%s\"]", hash->valuestring);
    /* anvil mines each transaction at once. */
    for (int i = 0; i < 50 && (rcpt == NULL || cJSON_IsNull(rcpt)); i++) {
        cJSON_Delete(rcpt);
        rcpt = fx_call(f, "eth_getTransactionReceipt", hp);
    }
    assert_true(cJSON_IsObject(rcpt));
    assert_string_equal(cJSON_GetObjectItem(rcpt, "status")->valuestring,
                        "0x1");
    cJSON_Delete(hash);
    free(params);
    free(hexdata);
    return rcpt;
}

static uint64_t
block_timestamp(struct fx *f, uint64_t number)
{
    char params[64];
    cJSON *b;
    uint64_t t;

    snprintf(params, sizeof(params), "[\"0x%llx\",false]",
             (unsigned long long)number);
    b = fx_call(f, "eth_getBlockByNumber", params);
    t = json_u64(cJSON_GetObjectItem(b, "timestamp"));
    cJSON_Delete(b);
    return t;
}

/* Deploy PriceFeed(admin, decimals, "ETH / USD", answer) and follow
 * anvil's clock from its block. */
static void
deploy_feed(struct fx *f, const char *decimals, const char *answer)
{
    struct abi_sig sig;
    struct abi_error err;
    const char *argv[] = {ADMIN, decimals, "ETH / USD", answer};
    const char *ctor = "(address,uint8,string,int256)";
    size_t binlen = strlen(feed_bin) / 2, n;
    size_t cap = binlen + 1024;
    uint8_t *code = malloc(cap);
    cJSON *rcpt;
    const char *addr;
    uint64_t blk;

    assert_int_equal(hex_decode(code, cap, &n, feed_bin, strlen(feed_bin)), 0);
    assert_int_equal(abi_sig_parse(&sig, ctor, strlen(ctor), &err), 0);
    assert_int_equal(
        abi_encode_call_text(code + n, cap - n, &n, &sig, argv, 4, &err), 0);
    rcpt = send_tx(f, NULL, code, binlen + n);
    addr = cJSON_GetObjectItem(rcpt, "contractAddress")->valuestring;
    assert_int_equal(eth_addr_parse(&f->feed, addr, strlen(addr)), 0);
    eth_addr_to_checksum(f->feed_hex, &f->feed);
    blk = json_u64(cJSON_GetObjectItem(rcpt, "blockNumber"));
    f->offset =
        (int64_t)block_timestamp(f, blk) - (int64_t)oracle_clock_wall(NULL);
    cJSON_Delete(rcpt);
    free(code);
}

/* updateAnswer(answer), one second after the last block (anvil may mine
 * blocks within one second with equal timestamps, and the history takes
 * only strictly later samples). Returns: the block it was mined in. */
static uint64_t
update_answer(struct fx *f, const char *answer)
{
    struct abi_sig sig;
    struct abi_error err;
    const char *text = "updateAnswer(int256)";
    const char *argv[] = {answer};
    uint8_t data[64];
    size_t n;
    cJSON *rcpt;
    uint64_t blk;

    assert_int_equal(abi_sig_parse(&sig, text, strlen(text), &err), 0);
    assert_int_equal(
        abi_encode_call_text(data, sizeof(data), &n, &sig, argv, 1, &err), 0);
    cJSON_Delete(fx_call(f, "evm_increaseTime", "[1]"));
    f->offset += 1;
    rcpt = send_tx(f, f->feed_hex, data, n);
    blk = json_u64(cJSON_GetObjectItem(rcpt, "blockNumber"));
    cJSON_Delete(rcpt);
    return blk;
}

static void
make_source(struct fx *f, uint64_t max_age, uint32_t heartbeat_ms)
{
    struct oracle_chainlink_cfg cfg;

    oracle_chainlink_cfg_init(&cfg);
    cfg.base.name = "eth-usd-anvil";
    cfg.base.asset = "ETH";
    cfg.base.max_age = max_age;
    cfg.base.history = &f->hist;
    cfg.base.cbs =
        (struct oracle_source_cbs){fx_on_price, fx_on_state, fx_on_reject, f};
    cfg.base.clock = fx_clock;
    cfg.base.clock_arg = f;
    cfg.feed = f->feed;
    cfg.heartbeat_ms = heartbeat_ms;
    cfg.check_ms = 50;
    cfg.retry_ms = 100;
    assert_int_equal(oracle_chainlink_new(&f->cl, &f->loop, f->rpc, &cfg), 0);
    f->s = oracle_chainlink_source(f->cl);
}

/* Deploy, start, wait for the first price. */
static void
started(struct fx *f, uint64_t max_age, uint32_t heartbeat_ms)
{
    deploy_feed(f, "8", "200000000000"); /* 2000.00000000 */
    make_source(f, max_age, heartbeat_ms);
    assert_int_equal(oracle_source_start(f->s), 0);
    assert_true(ts_run_count(&f->loop, &f->prices, 1, 10000));
}

/* The feed's logs in `block` as the daemon gets them: eth_getLogs with
 * the source's own filter (filtered = false: every log of the feed).
 * Returns: the array (cJSON_Delete it). */
static cJSON *
get_logs(struct fx *f, uint64_t block, bool filtered)
{
    struct evlog_filter flt;
    char extra[128], params[EVLOG_FILTER_JSON_MAX + 8];
    cJSON *logs;

    if (filtered) {
        assert_true(oracle_source_log_filter(f->s, &flt));
    } else {
        memset(&flt, 0, sizeof(flt));
        flt.addrs[0] = f->feed;
        flt.naddrs = 1;
    }
    snprintf(extra, sizeof(extra),
             "\"fromBlock\":\"0x%llx\",\"toBlock\":\"0x%llx\"",
             (unsigned long long)block, (unsigned long long)block);
    params[0] = '[';
    assert_int_equal(
        evlog_filter_json(params + 1, sizeof(params) - 2, &flt, extra), 0);
    strcat(params, "]");
    logs = fx_call(f, "eth_getLogs", params);
    assert_true(cJSON_IsArray(logs));
    return logs;
}

/* Hand every log of `logs` to the source. Returns: the last return code;
 * *n: how many logs. */
static int
feed_logs(struct fx *f, const cJSON *logs, bool removed, int *n)
{
    const cJSON *item;
    uint8_t buf[256];
    struct evlog log;
    int rc = KP_ENOTFOUND;

    *n = 0;
    cJSON_ArrayForEach(item, logs)
    {
        assert_int_equal(evlog_parse(&log, buf, sizeof(buf), NULL, item), 0);
        rc = oracle_source_on_log(f->s, &log, removed);
        (*n)++;
    }
    return rc;
}

static int
update_and_feed(struct fx *f, const char *answer)
{
    uint64_t blk = update_answer(f, answer);
    cJSON *logs = get_logs(f, blk, true);
    int n, rc = feed_logs(f, logs, false, &n);

    assert_int_equal(n, 1);
    cJSON_Delete(logs);
    return rc;
}

static const struct oracle_chainlink_stats *
stats(struct fx *f)
{
    return oracle_chainlink_stats(f->cl);
}

struct reads_goal {
    struct fx *f;
    uint64_t reads, errors;
};

static bool
reads_reached(void *arg)
{
    struct reads_goal *g = arg;

    return stats(g->f)->reads >= g->reads &&
           stats(g->f)->read_errors >= g->errors;
}

/* Run until `reads` replies were decoded and `errors` reads failed. */
static bool
wait_reads(struct fx *f, uint64_t reads, uint64_t errors, uint64_t ms)
{
    struct reads_goal g = {f, reads, errors};

    return ts_run_until(&f->loop, reads_reached, &g, ms);
}

/* ---- the tests ---- */

static void
test_anvil_start_reads_and_scales(void **state)
{
    struct fx *f = *state;
    const struct oracle_price *p;
    unsigned dec = 0;
    struct u256 want = ts_u256(200012345678ull);
    uint64_t requests;

    deploy_feed(f, "8", "200012345678");
    make_source(f, 60, 60000);
    requests = rpc_endpoint_stats(f->rpc, 0)->requests;
    assert_int_equal(oracle_source_start(f->s), 0);
    assert_int_equal(oracle_source_start(f->s), KP_ESTATE);
    assert_true(ts_run_count(&f->loop, &f->prices, 1, 10000));
    p = oracle_source_latest(f->s);
    assert_non_null(p);
    assert_int_equal(u256_cmp(&p->answer, &want), 0);
    assert_int_equal(p->decimals, 8);
    assert_true(fabs(p->value - 2000.12345678) < 1e-9);
    assert_int_equal(u256_cmp(&p->round_id, &(struct u256){{1}}), 0);
    assert_true(p->updated_at <= fx_clock(f) &&
                p->updated_at + 30 > fx_clock(f));
    assert_int_equal(oracle_chainlink_decimals(f->cl, &dec), 0);
    assert_int_equal(dec, 8);
    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_FRESH);
    assert_int_equal(f->states, 1);
    assert_int_equal(f->trail[0], ORACLE_STATE_FRESH);
    assert_int_equal(oracle_history_len(&f->hist), 1);
    assert_int_equal(stats(f)->reads, 1);
    assert_int_equal(stats(f)->read_errors, 0);
    /* decimals() and latestRoundData() went in one HTTP request. */
    assert_int_equal(rpc_endpoint_stats(f->rpc, 0)->requests, requests + 1);
    assert_int_equal(f->rejects, 0);
}

static void
test_anvil_decimals_0_and_18(void **state)
{
    struct fx *f = *state;
    struct u256 want = scaled(2000, 18);

    deploy_feed(f, "0", "2000");
    make_source(f, 60, 60000);
    assert_int_equal(oracle_source_start(f->s), 0);
    assert_true(ts_run_count(&f->loop, &f->prices, 1, 10000));
    assert_true(f->last.value == 2000.0);
    assert_int_equal(f->last.decimals, 0);
    oracle_source_free(f->s);

    f->prices = f->states = 0;
    deploy_feed(f, "18", "2000000000000000000000");
    make_source(f, 60, 60000);
    assert_int_equal(oracle_source_start(f->s), 0);
    assert_true(ts_run_count(&f->loop, &f->prices, 1, 10000));
    assert_true(f->last.value == 2000.0);
    assert_int_equal(f->last.decimals, 18);
    assert_int_equal(u256_cmp(&f->last.answer, &want), 0);
}

static void
test_anvil_log_path(void **state)
{
    struct fx *f = *state;
    uint64_t blk;
    cJSON *logs;
    int n;

    started(f, 60, 60000);
    blk = update_answer(f, "210000000000");
    logs = get_logs(f, blk, true);
    /* Delivered as the daemon does: synchronously, no read needed. */
    assert_int_equal(feed_logs(f, logs, false, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(f->prices, 2);
    assert_true(f->last.value == 2100.0);
    assert_int_equal(u256_cmp(&f->last.round_id, &(struct u256){{2}}), 0);
    assert_int_equal(f->last.updated_at, block_timestamp(f, blk));
    assert_int_equal(stats(f)->logs, 1);
    assert_int_equal(stats(f)->reads, 1);
    assert_int_equal(oracle_history_len(&f->hist), 2);

    /* The same log again (a backfill overlap): not counted twice. */
    assert_int_equal(feed_logs(f, logs, false, &n), KP_ESTALE);
    assert_int_equal(f->prices, 2);
    assert_int_equal(oracle_history_len(&f->hist), 2);
    assert_int_equal(oracle_source_stats(f->s)->ignored, 1);
    cJSON_Delete(logs);

    /* The feed's other event in that block is not ours. */
    logs = get_logs(f, blk, false);
    assert_int_equal(cJSON_GetArraySize(logs), 2); /* NewRound, AnswerUpdated */
    {
        uint8_t buf[256];
        struct evlog log;

        assert_int_equal(evlog_parse(&log, buf, sizeof(buf), NULL,
                                     cJSON_GetArrayItem(logs, 0)),
                         0);
        assert_int_equal(oracle_source_on_log(f->s, &log, false), KP_ENOTFOUND);
    }
    cJSON_Delete(logs);

    /* A read of the same round (heartbeat after the log): ignored. */
    assert_int_equal(oracle_chainlink_refresh(f->cl), 0);
    assert_true(wait_reads(f, 2, 0, 10000));
    assert_int_equal(f->prices, 2);
    assert_int_equal(oracle_history_len(&f->hist), 2);
    assert_int_equal(oracle_source_stats(f->s)->accepted, 2);
    assert_int_equal(oracle_source_stats(f->s)->ignored, 2);
}

static void
test_anvil_log_before_first_read(void **state)
{
    struct fx *f = *state;
    uint64_t blk;
    cJSON *logs;
    int n;

    deploy_feed(f, "8", "200000000000");
    make_source(f, 60, 60000);
    blk = update_answer(f, "210000000000");
    logs = get_logs(f, blk, true);
    assert_int_equal(oracle_source_start(f->s), 0);
    /* Decimals are not known yet: the log asks for a read instead. */
    assert_int_equal(feed_logs(f, logs, false, &n), 0);
    cJSON_Delete(logs);
    assert_int_equal(f->prices, 0);
    assert_true(wait_reads(f, 2, 0, 10000));
    assert_int_equal(f->prices, 1);
    assert_true(f->last.value == 2100.0);
    assert_int_equal(u256_cmp(&f->last.round_id, &(struct u256){{2}}), 0);
}

static void
test_anvil_heartbeat(void **state)
{
    struct fx *f = *state;

    started(f, 60, 200);
    assert_int_equal(oracle_chainlink_heartbeat_ms(f->cl), 200);
    /* A round whose log never reaches us. */
    (void)update_answer(f, "205000000000");
    assert_true(ts_run_count(&f->loop, &f->prices, 2, 10000));
    assert_true(f->last.value == 2050.0);
    assert_int_equal(u256_cmp(&f->last.round_id, &(struct u256){{2}}), 0);
    assert_int_equal(stats(f)->logs, 0);
    assert_true(stats(f)->reads >= 2);
    /* It keeps reading; the round counts once. */
    assert_true(wait_reads(f, stats(f)->reads + 2, 0, 10000));
    assert_int_equal(f->prices, 2);
    assert_int_equal(oracle_history_len(&f->hist), 2);
}

static void
test_anvil_stale_then_fresh(void **state)
{
    struct fx *f = *state;
    struct oracle_price p;

    started(f, 60, 60000);
    assert_int_equal(f->states, 1);
    assert_int_equal(f->trail[0], ORACLE_STATE_FRESH);

    /* Two minutes pass on the chain (and on our clock) without a round. */
    cJSON_Delete(fx_call(f, "evm_increaseTime", "[120]"));
    cJSON_Delete(fx_call(f, "evm_mine", "[]"));
    f->offset += 120;
    assert_true(ts_run_count(&f->loop, &f->states, 2, 10000));
    assert_int_equal(f->trail[1], ORACLE_STATE_STALE);
    assert_int_equal(oracle_source_fresh_price(f->s, &p), KP_ESTALE);
    assert_true(p.value == 2000.0);

    /* Once: re-judging and re-reading the same old round change nothing. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(oracle_source_check(f->s), ORACLE_STATE_STALE);
    assert_int_equal(oracle_chainlink_refresh(f->cl), 0);
    assert_true(wait_reads(f, 2, 0, 10000));
    /* Five check periods (check_ms is 50): no second change comes. */
    assert_false(ts_run_count(&f->loop, &f->states, 3, 250));
    assert_int_equal(f->states, 2);
    assert_int_equal(f->prices, 1);

    /* A new round: fresh again. */
    assert_int_equal(update_and_feed(f, "210000000000"), 0);
    assert_int_equal(f->states, 3);
    assert_int_equal(f->trail[2], ORACLE_STATE_FRESH);
    assert_int_equal(oracle_source_fresh_price(f->s, &p), 0);
    assert_true(p.value == 2100.0);
}

static void
test_anvil_reorg_removed_log(void **state)
{
    struct fx *f = *state;
    cJSON *snap, *logs, *ok;
    char params[128];
    uint64_t blk;
    int n;

    started(f, 60, 60000);
    snap = fx_call(f, "evm_snapshot", "[]");
    assert_true(cJSON_IsString(snap));
    blk = update_answer(f, "220000000000");
    logs = get_logs(f, blk, true);
    assert_int_equal(feed_logs(f, logs, false, &n), 0);
    assert_true(f->last.value == 2200.0);
    assert_int_equal(f->prices, 2);

    /* The block with round 2 is orphaned: the chain is back at round 1. */
    snprintf(params, sizeof(params), "[\"%s\"]", snap->valuestring);
    ok = fx_call(f, "evm_revert", params);
    assert_true(cJSON_IsTrue(ok));
    cJSON_Delete(ok);
    cJSON_Delete(snap);

    /* A plain read goes out first: the removal must not ride on it (its
     * older answer would be ignored) but get a read of its own. */
    assert_int_equal(oracle_chainlink_refresh(f->cl), 0);
    assert_int_equal(feed_logs(f, logs, true, &n), 0);
    cJSON_Delete(logs);
    assert_int_equal(stats(f)->logs_removed, 1);
    assert_true(ts_run_count(&f->loop, &f->prices, 3, 10000));
    assert_int_equal(stats(f)->reads, 3);
    /* The canonical answer wins, though its round is older. */
    assert_true(f->last.value == 2000.0);
    assert_int_equal(u256_cmp(&f->last.round_id, &(struct u256){{1}}), 0);
    assert_true(oracle_source_latest(f->s)->value == 2000.0);
    assert_int_equal(oracle_source_stats(f->s)->replaced, 1);
    assert_int_equal(oracle_history_len(&f->hist), 2); /* forward only */

    /* The new branch's round 2 is newer than round 1. */
    assert_int_equal(update_and_feed(f, "230000000000"), 0);
    assert_true(f->last.value == 2300.0);
    assert_int_equal(u256_cmp(&f->last.round_id, &(struct u256){{2}}), 0);
}

static void
test_anvil_refused_answers(void **state)
{
    struct fx *f = *state;
    const struct oracle_source_stats *st;

    started(f, 60, 60000);
    st = oracle_source_stats(f->s);
    assert_int_equal(update_and_feed(f, "-5"), KP_EINVAL);
    assert_int_equal(f->rejects, 1);
    assert_int_equal(f->why, ORACLE_REJ_NONPOSITIVE);
    assert_non_null(strstr(f->why_text, "answer=-5"));
    assert_int_equal(st->rejected[ORACLE_REJ_NONPOSITIVE], 1);
    assert_int_equal(update_and_feed(f, "0"), KP_EINVAL);
    assert_int_equal(st->rejected[ORACLE_REJ_NONPOSITIVE], 2);

    /* The read path refuses the same round. */
    assert_int_equal(oracle_chainlink_refresh(f->cl), 0);
    assert_true(wait_reads(f, 2, 0, 10000));
    assert_int_equal(st->rejected[ORACLE_REJ_NONPOSITIVE], 3);
    assert_non_null(strstr(oracle_source_last_error(f->s), "nonpositive"));

    /* Never used: the last good price stays, and stays fresh. */
    assert_int_equal(f->prices, 1);
    assert_true(oracle_source_latest(f->s)->value == 2000.0);
    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_FRESH);
    assert_int_equal(oracle_history_len(&f->hist), 1);
    assert_int_equal(st->accepted, 1);
}

static void
test_anvil_no_contract(void **state)
{
    struct fx *f = *state;

    memset(f->feed.b, 0xde, 20);
    make_source(f, 60, 60000);
    assert_int_equal(oracle_source_start(f->s), 0);
    /* retry_ms is 100: it keeps trying. */
    assert_true(wait_reads(f, 0, 2, 10000));
    assert_int_equal(f->prices, 0);
    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_NONE);
    assert_true(oracle_source_stats(f->s)->rejected[ORACLE_REJ_MALFORMED] >= 2);
    assert_non_null(strstr(oracle_source_last_error(f->s), "no contract"));
    assert_non_null(strstr(oracle_source_last_error(f->s), "decimals()"));
}

static void
test_anvil_unreachable(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct rpc_endpoint_cfg ep = {.url = url};
    struct rpc_opts o = test_rpc_opts();
    struct rpc_client *dead;
    struct oracle_chainlink_cfg cfg;

    /* A port nobody listens on. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ts_free_port());
    assert_int_equal(rpc_client_new(&dead, &f->loop, NULL, &ep, 1, &o), 0);
    cfg_valid(&cfg);
    cfg.retry_ms = 100;
    assert_int_equal(oracle_chainlink_new(&f->cl, &f->loop, dead, &cfg), 0);
    f->s = oracle_chainlink_source(f->cl);
    assert_int_equal(oracle_source_start(f->s), 0);
    assert_true(wait_reads(f, 0, 2, 10000));
    assert_non_null(strstr(oracle_source_last_error(f->s), "decimals()"));
    assert_int_equal(oracle_source_stats(f->s)->rejected[ORACLE_REJ_MALFORMED],
                     0);
    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_NONE);
    oracle_source_free(f->s);
    f->s = NULL;
    rpc_client_free(dead);
}

static void
test_anvil_stop_restart_free(void **state)
{
    struct fx *f = *state;

    started(f, 60, 60000);
    oracle_source_stop(f->s);
    assert_int_equal(oracle_chainlink_refresh(f->cl), KP_ESTATE);
    /* Logs while stopped are not taken. */
    {
        uint64_t blk = update_answer(f, "210000000000");
        cJSON *logs = get_logs(f, blk, true);
        int n;

        assert_int_equal(feed_logs(f, logs, false, &n), KP_ESTATE);
        cJSON_Delete(logs);
    }
    assert_int_equal(oracle_source_state(f->s), ORACLE_STATE_FRESH);
    /* Started again: a new read finds round 2. */
    assert_int_equal(oracle_source_start(f->s), 0);
    assert_true(ts_run_count(&f->loop, &f->prices, 2, 10000));
    assert_true(f->last.value == 2100.0);
    /* Stop with a read in flight: no callback afterwards. */
    assert_int_equal(oracle_chainlink_refresh(f->cl), 0);
    oracle_source_stop(f->s);
    assert_int_equal(oracle_source_start(f->s), 0);
    /* Free with a read in flight (the teardown drains the loop). */
    oracle_source_free(f->s);
    f->s = NULL;
}

#define U(fn) cmocka_unit_test(fn)
#define A(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest unit[] = {
        U(test_selectors_and_topic),
        U(test_decode_round),
        U(test_decode_round_malformed),
        U(test_decode_decimals),
        U(test_decode_log),
        U(test_scale_by_decimals),
        U(test_huge_answers),
        U(test_refusals),
        U(test_apply_phase),
        U(test_new_config),
        U(test_new_bad_config),
        U(test_before_start),
    };
    const struct CMUnitTest anvil[] = {
        A(test_anvil_start_reads_and_scales),
        A(test_anvil_decimals_0_and_18),
        A(test_anvil_log_path),
        A(test_anvil_log_before_first_read),
        A(test_anvil_heartbeat),
        A(test_anvil_stale_then_fresh),
        A(test_anvil_reorg_removed_log),
        A(test_anvil_refused_answers),
        A(test_anvil_no_contract),
        A(test_anvil_unreachable),
        A(test_anvil_stop_restart_free),
    };
    int rc = cmocka_run_group_tests_name("chainlink_unit", unit, NULL, NULL);

    rc |= cmocka_run_group_tests_name("chainlink_anvil", anvil, group_setup,
                                      group_teardown);
    return rc;
}
