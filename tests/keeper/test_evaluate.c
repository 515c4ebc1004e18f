/* The evaluation's parts without I/O (keeper/evaluate.h): the view calls
 * built from a configuration, canned eth_call replies decoded into a
 * snapshot, the policy parameters mapped from the configuration, the
 * action calldata (checked against `cast calldata`), and the /status
 * rendering. No network. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "config/cfg.h"
#include "keeper/evaluate.h"

/* The reference protocol's addresses (examples/reference-protocol.yaml). */
#define RESERVE "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
#define CLEARINGHOUSE "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
#define BACKSTOP "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9"

static const char base_yaml[] =
    "protocol:\n"
    "  name: reference\n"
    "chain:\n"
    "  chain_id: 31337\n"
    "  rpc:\n"
    "    - url: http://127.0.0.1:8545\n"
    "signer:\n"
    "  key_file: keeper.key\n"
    "  min_balance: 0.5ether\n"
    "oracles:\n"
    "  - name: eth_usd\n"
    "    address: 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\n"
    "    asset: ETH/USD\n"
    "    max_age: 2h\n"
    "    heartbeat: 1h\n"
    "reserve:\n"
    "  contracts:\n"
    "    reserve: " RESERVE "\n"
    "    clearinghouse: " CLEARINGHOUSE "\n"
    "    backstop: " BACKSTOP "\n"
    "  decimals: 6\n"
    "strategies:\n"
    "  inject:\n"
    "    epoch: 1d\n"
    "    epoch_budget: 250000e6\n"
    "    cooldown: 1500ms\n"
    "  clawback:\n"
    "    enabled: true\n"
    "    cooldown: 1h\n"
    "    require_approval: false\n"
    "  amber_health: 1.5\n"
    "  stress_move: 2%\n";

struct fx {
    struct cfg cfg;
    struct eval_calls *calls;
};

static void
load(struct fx *f, const char *yaml)
{
    struct cfg_errors errs;
    char err[EVAL_ERR_MAX] = "";
    int rc;

    cfg_errors_init(&errs);
    rc = cfg_load_mem(&f->cfg, "t.yaml", yaml, strlen(yaml),
                      CFG_LOAD_NO_SECRETS, &errs);
    if (rc != 0)
        cfg_errors_print(stderr, &errs);
    assert_int_equal(rc, 0);
    cfg_errors_cleanup(&errs);
    f->calls = malloc(sizeof(*f->calls));
    assert_non_null(f->calls);
    rc = eval_calls_init(f->calls, err, sizeof(err), &f->cfg.protocols[0]);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
}

static void
unload(struct fx *f)
{
    cfg_cleanup(&f->cfg);
    free(f->calls);
}

/* A uint256 word as eth_call returns it. */
static cJSON *
word(uint64_t v)
{
    char s[2 + 64 + 1];

    snprintf(s, sizeof(s), "0x%048x%016llx", 0, (unsigned long long)v);
    return cJSON_CreateString(s);
}

static void
u(struct u256 *r, uint64_t v)
{
    u256_from_u64(r, v);
}

/* Decode canned replies for every read. */
static void
decode_all(const struct fx *f, struct u256 v[EVAL_NREADS],
           const uint64_t raw[EVAL_NREADS])
{
    char err[EVAL_ERR_MAX];

    for (int i = 0; i < EVAL_NREADS; i++) {
        cJSON *r = word(raw[i]);

        assert_int_equal(eval_decode_read(&v[i], err, sizeof(err), f->calls,
                                          (enum eval_read)i, r),
                         0);
        cJSON_Delete(r);
    }
}

/* ---- calls ---- */

static void
test_read_params(void **state)
{
    /* Selectors from `cast sig`. */
    static const char *const sel[EVAL_NREADS] = {
        "0xb69ef8a8", "0x43cce08e", "0xf8fec54a", "0x67aefa0c",
        "0x49b50926", "0xfa5a2e62", "0x48a0d754",
    };
    static const char *const to[EVAL_NREADS] = {
        RESERVE, RESERVE, RESERVE, RESERVE, RESERVE, CLEARINGHOUSE, BACKSTOP,
    };
    struct fx f;
    char out[EVAL_PARAMS_MAX], want[EVAL_PARAMS_MAX], lower[64];

    (void)state;
    load(&f, base_yaml);
    for (int i = 0; i < EVAL_NREADS; i++) {
        assert_int_equal(eval_read_params(out, sizeof(out), f.calls,
                                          (enum eval_read)i, 0x1a),
                         0);
        snprintf(lower, sizeof(lower), "%s", to[i]);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
        snprintf(want, sizeof(want),
                 "[{\"to\":\"%s\",\"data\":\"%s\"},\"0x1a\"]", lower, sel[i]);
        assert_string_equal(out, want);
    }
    assert_string_equal(eval_read_name(EVAL_READ_UNCOVERED), "uncovered_debt");
    assert_string_equal(eval_read_name(EVAL_NREADS), "?");
    /* Too small a buffer: an error, never a cut request. */
    assert_int_equal(eval_read_params(out, 20, f.calls, EVAL_READ_BALANCE, 1),
                     KP_ERANGE);
    unload(&f);
}

static void
test_balance_params(void **state)
{
    struct eth_addr a;
    char out[EVAL_PARAMS_MAX];
    const char *s = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    (void)state;
    assert_int_equal(eth_addr_parse(&a, s, strlen(s)), 0);
    assert_int_equal(eval_balance_params(out, sizeof(out), &a, 255), 0);
    assert_string_equal(
        out, "[\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\",\"0xff\"]");
    assert_int_equal(eval_balance_params(out, 10, &a, 255), KP_ERANGE);
}

static void
test_calls_misuse(void **state)
{
    struct fx f;
    struct cfg_protocol pc;
    struct eval_calls *c = malloc(sizeof(*c));
    char err[EVAL_ERR_MAX];

    (void)state;
    load(&f, base_yaml);
    pc = f.cfg.protocols[0];
    /* The loader refuses these; a struct filled by other means is checked
     * again. */
    snprintf(pc.reserve.calls.balance, sizeof(pc.reserve.calls.balance),
             "balance(uint256)(uint256)");
    assert_int_equal(eval_calls_init(c, err, sizeof(err), &pc), KP_EINVAL);
    assert_non_null(strstr(err, "reserve.calls.balance"));
    pc = f.cfg.protocols[0];
    snprintf(pc.reserve.calls.target, sizeof(pc.reserve.calls.target),
             "targetBalance()(bool)");
    assert_int_equal(eval_calls_init(c, err, sizeof(err), &pc), KP_EINVAL);
    assert_non_null(strstr(err, "reserve.calls.target"));
    pc = f.cfg.protocols[0];
    snprintf(pc.strategies.inject.call, sizeof(pc.strategies.inject.call),
             "inject(address)");
    assert_int_equal(eval_calls_init(c, err, sizeof(err), &pc), KP_EINVAL);
    assert_non_null(strstr(err, "strategies.inject.call"));
    pc = f.cfg.protocols[0];
    snprintf(pc.strategies.clawback.call, sizeof(pc.strategies.clawback.call),
             "clawback(");
    assert_int_equal(eval_calls_init(c, err, sizeof(err), &pc), KP_EINVAL);
    assert_non_null(strstr(err, "strategies.clawback.call"));
    free(c);
    unload(&f);
}

/* ---- replies ---- */

static void
test_snapshot_from_replies(void **state)
{
    /* The reference protocol mid-crash, 6-decimal USD. */
    const uint64_t raw[EVAL_NREADS] = {
        812345670000ull,
        1600000000000ull,
        1000000000000ull,
        250000000000ull,
        0,
        88123456780000ull,
        5000000000000ull,
    };
    struct fx f;
    struct u256 v[EVAL_NREADS], want;
    struct protocol_state s;
    uint8_t hash[32];

    (void)state;
    load(&f, base_yaml);
    decode_all(&f, v, raw);
    memset(hash, 0xab, sizeof(hash));
    eval_state_build(&s, v, 6, 1234, hash, 1700000000);
    assert_int_equal(protocol_state_check(&s), 0);
    assert_true(s.block_number == 1234 && s.block_timestamp == 1700000000);
    assert_memory_equal(s.block_hash, hash, 32);
    assert_int_equal(s.decimals, 6);
    u(&want, 812345670000ull);
    assert_int_equal(u256_cmp(&s.reserve, &want), 0);
    u(&want, 1600000000000ull);
    assert_int_equal(u256_cmp(&s.target, &want), 0);
    u(&want, 1000000000000ull);
    assert_int_equal(u256_cmp(&s.critical, &want), 0);
    u(&want, 250000000000ull);
    assert_int_equal(u256_cmp(&s.depletion, &want), 0);
    assert_true(u256_is_zero(&s.uncovered_debt));
    u(&want, 88123456780000ull);
    assert_int_equal(u256_cmp(&s.open_interest, &want), 0);
    u(&want, 5000000000000ull);
    assert_int_equal(u256_cmp(&s.pool_available, &want), 0);
    /* Positions unknown: the risk engine uses its open-interest proxy. */
    assert_null(s.positions);
    assert_int_equal(s.n_positions, 0);
    assert_false(s.has_positive_pnl);
    unload(&f);
}

static void
test_full_width_word(void **state)
{
    struct fx f;
    struct u256 v, want;
    char err[EVAL_ERR_MAX];
    const char *max = "0xffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                      "ffffffffff";
    cJSON *r = cJSON_CreateString(max);

    (void)state;
    load(&f, base_yaml);
    assert_int_equal(eval_decode_read(&v, err, sizeof(err), f.calls,
                                      EVAL_READ_OPEN_INTEREST, r),
                     0);
    assert_int_equal(u256_parse(&want, max, strlen(max)), 0);
    assert_int_equal(u256_cmp(&v, &want), 0);
    cJSON_Delete(r);
    unload(&f);
}

static void
check_bad_reply(const struct fx *f, const char *text, enum eval_read rd,
                int want_rc, const char *want_err)
{
    cJSON *r = text ? cJSON_CreateString(text) : cJSON_CreateNumber(5);
    struct u256 v;
    char err[EVAL_ERR_MAX] = "";

    assert_int_equal(eval_decode_read(&v, err, sizeof(err), f->calls, rd, r),
                     want_rc);
    if (strstr(err, want_err) == NULL)
        fail_msg("error '%s' does not mention '%s'", err, want_err);
    assert_non_null(strstr(err, eval_read_name(rd)));
    cJSON_Delete(r);
}

static void
test_bad_replies(void **state)
{
    struct fx f;
    char big[2 + 2 * (EVAL_REPLY_MAX + 1) + 1];

    (void)state;
    load(&f, base_yaml);
    /* No contract at the address: eth_call returns no data. */
    check_bad_reply(&f, "0x", EVAL_READ_BALANCE, KP_EINVAL, "no contract");
    check_bad_reply(&f, NULL, EVAL_READ_TARGET, KP_EINVAL, "not hex");
    check_bad_reply(&f, "1234", EVAL_READ_TARGET, KP_EINVAL, "not hex");
    check_bad_reply(&f, "0xzz", EVAL_READ_CRITICAL, KP_EINVAL, "not hex");
    check_bad_reply(&f, "0x123", EVAL_READ_CRITICAL, KP_EINVAL, "not hex");
    check_bad_reply(&f, "0x1234", EVAL_READ_DEPLETION, KP_ETRUNC, "");
    memset(big, '0', sizeof(big) - 1);
    big[1] = 'x';
    big[sizeof(big) - 1] = '\0';
    check_bad_reply(&f, big, EVAL_READ_UNCOVERED, KP_ELIMIT, "over");
    unload(&f);
}

/* base_yaml with the first `find` replaced by `repl`. */
static void
yaml_with(char *out, size_t cap, const char *find, const char *repl)
{
    const char *at = strstr(base_yaml, find);

    assert_non_null(at);
    snprintf(out, cap, "%.*s%s%s", (int)(at - base_yaml), base_yaml, repl,
             at + strlen(find));
}

static void
test_narrow_output_is_strict(void **state)
{
    char yaml[sizeof(base_yaml) + 128];
    struct fx f;
    cJSON *r;
    struct u256 v;
    char err[EVAL_ERR_MAX];

    (void)state;
    yaml_with(yaml, sizeof(yaml), "  decimals: 6\n",
              "  calls:\n    balance: funds()(uint128)\n  decimals: 6\n");
    load(&f, yaml);
    r = word(7);
    assert_int_equal(
        eval_decode_read(&v, err, sizeof(err), f.calls, EVAL_READ_BALANCE, r),
        0);
    cJSON_Delete(r);
    /* High bits set in a uint128: refused, not truncated. */
    r = cJSON_CreateString("0x0000000000000000000000000000000100000000000000"
                           "000000000000000000");
    assert_int_equal(
        eval_decode_read(&v, err, sizeof(err), f.calls, EVAL_READ_BALANCE, r),
        KP_ENONCANON);
    cJSON_Delete(r);
    unload(&f);
}

static void
test_balance_reply(void **state)
{
    struct u256 v, want;
    cJSON *r;
    const char *bad[] = {"", "0x", "123", "0xg1", "x12"};

    (void)state;
    r = cJSON_CreateString("0x152d02c7e14af6800000"); /* 100000 ether */
    assert_int_equal(eval_decode_balance(&v, r), 0);
    assert_int_equal(u256_parse(&want, "100000000000000000000000", 24), 0);
    assert_int_equal(u256_cmp(&v, &want), 0);
    cJSON_Delete(r);
    r = cJSON_CreateString("0x0");
    assert_int_equal(eval_decode_balance(&v, r), 0);
    assert_true(u256_is_zero(&v));
    cJSON_Delete(r);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = cJSON_CreateString(bad[i]);
        assert_int_equal(eval_decode_balance(&v, r), KP_EINVAL);
        cJSON_Delete(r);
    }
    r = cJSON_CreateString("0x1000000000000000000000000000000000000000000000"
                           "00000000000000000000");
    assert_int_equal(eval_decode_balance(&v, r), KP_EOVERFLOW);
    cJSON_Delete(r);
    r = cJSON_CreateNull();
    assert_int_equal(eval_decode_balance(&v, r), KP_EINVAL);
    cJSON_Delete(r);
}

/* ---- policy parameters ---- */

static void
test_policy_params(void **state)
{
    struct fx f;
    struct policy_params pp;
    struct u256 want;
    char yaml[sizeof(base_yaml) + 64];

    (void)state;
    load(&f, base_yaml);
    assert_int_equal(eval_policy_params(&pp, &f.cfg.protocols[0]), 0);
    assert_string_equal(pp.protocol, "reference");
    assert_int_equal(pp.risk.stress_move_bps, 200);
    assert_int_equal(pp.risk.margin_bps, 0);
    assert_true(pp.price_max_age_s == 7200);
    assert_true(pp.amber_health == 1.5);
    assert_true(pp.t2_health == 0.0);
    assert_true(pp.epoch_s == 86400);
    u(&want, 250000000000ull);
    assert_int_equal(u256_cmp(&pp.epoch_budget, &want), 0);
    assert_true(pp.inject_cooldown_s == 2); /* 1500 ms, rounded up */
    assert_true(pp.clawback_cooldown_s == 3600);
    assert_false(pp.clawback_needs_approval);
    assert_true(f.calls->act_enabled[POLICY_ACTION_INJECT]);
    assert_true(f.calls->act_enabled[POLICY_ACTION_CLAWBACK]);
    unload(&f);

    /* A disabled inject has no budget: the policy then treats the pool as
     * unavailable. */
    yaml_with(yaml, sizeof(yaml), "  inject:\n",
              "  inject:\n    enabled: false\n");
    load(&f, yaml);
    assert_int_equal(eval_policy_params(&pp, &f.cfg.protocols[0]), 0);
    assert_true(u256_is_zero(&pp.epoch_budget));
    assert_false(f.calls->act_enabled[POLICY_ACTION_INJECT]);
    unload(&f);
}

/* ---- decisions from canned replies ---- */

static void
decide(struct policy_decision *d, const struct fx *f,
       const uint64_t raw[EVAL_NREADS], double price, uint64_t updated_at,
       uint64_t now)
{
    struct u256 v[EVAL_NREADS], ans;
    struct protocol_state s;
    struct policy_params pp;
    struct policy_memory mem;
    struct oracle_price p;
    struct price_view pv = {.price = &p};
    uint8_t hash[32] = {0};

    decode_all(f, v, raw);
    eval_state_build(&s, v, 6, 100, hash, now);
    assert_int_equal(eval_policy_params(&pp, &f->cfg.protocols[0]), 0);
    policy_memory_init(&mem);
    u(&ans, (uint64_t)(price * 1e8));
    assert_int_equal(oracle_price_init(&p, &ans, 8, updated_at, NULL), 0);
    assert_int_equal(policy_decide(d, &mem, &pp, &s, &pv, now), 0);
}

static void
test_calm_market_never_injects(void **state)
{
    /* Calm: 50 M open interest on a 1.6 M reserve, above critical. With
     * a 2% stress move the proxy shortfall is 1 M: health 1.6, T1. With
     * the default 20% move health is 0.16: amber, and still no injection,
     * since T2 needs the reserve below critical (t2_health 0). */
    const uint64_t raw[EVAL_NREADS] = {
        1600000000000ull,
        2000000000000ull,
        1000000000000ull,
        250000000000ull,
        0,
        50000000000000ull,
        5000000000000ull,
    };
    struct fx f;
    struct policy_decision d;

    (void)state;
    load(&f, base_yaml);
    decide(&d, &f, raw, 2000, 1700000000, 1700000060);
    assert_int_equal(d.tier, POLICY_TIER_T1);
    assert_int_equal(d.n_intents, 0);
    f.cfg.protocols[0].strategies.stress_move_bps = 2000;
    decide(&d, &f, raw, 2000, 1700000000, 1700000060);
    assert_true(d.in.risk.health < 1.0);
    assert_int_equal(d.tier, POLICY_TIER_AMBER);
    assert_int_equal(d.n_intents, 0);
    unload(&f);
}

static void
test_below_critical_injects_to_target(void **state)
{
    const uint64_t raw[EVAL_NREADS] = {
        800000000000ull,
        2000000000000ull,
        1000000000000ull,
        250000000000ull,
        0,
        90000000000000ull,
        5000000000000ull,
    };
    struct fx f;
    struct policy_decision d;
    struct u256 want;
    uint8_t data[EVAL_CALLDATA_MAX], wantdata[EVAL_CALLDATA_MAX];
    size_t len = 0, wlen = 0;
    /* cast calldata "inject(uint256)" 250000000000 */
    const char *cast = "0x1820433f000000000000000000000000000000000000000000"
                       "0000000000003a35294400";

    (void)state;
    load(&f, base_yaml);
    decide(&d, &f, raw, 136, 1700000000, 1700000060);
    assert_int_equal(d.tier, POLICY_TIER_T2);
    assert_int_equal(d.n_intents, 1);
    assert_int_equal(d.intents[0].action, POLICY_ACTION_INJECT);
    /* 1.2 M needed to reach the 2 M target, capped by the 250 k budget. */
    u(&want, 250000000000ull);
    assert_int_equal(u256_cmp(&d.intents[0].amount, &want), 0);
    assert_string_equal(d.intents[0].key, "reference:inject:100:1");
    assert_int_equal(eval_action_calldata(data, sizeof(data), &len, f.calls,
                                          POLICY_ACTION_INJECT,
                                          &d.intents[0].amount),
                     0);
    assert_int_equal(
        hex_decode(wantdata, sizeof(wantdata), &wlen, cast, strlen(cast)), 0);
    assert_int_equal(len, wlen);
    assert_memory_equal(data, wantdata, len);
    /* A stale price: the tier is still judged, nothing is decided. */
    decide(&d, &f, raw, 136, 1700000000, 1700000000 + 7201);
    assert_int_equal(d.tier, POLICY_TIER_T2);
    assert_int_equal(d.n_intents, 0);
    assert_true(d.alerts & POLICY_ALERT_STALE_PRICE);
    unload(&f);
}

static void
test_action_calldata(void **state)
{
    struct fx f;
    uint8_t out[EVAL_CALLDATA_MAX];
    size_t len = 0;
    struct u256 one, big;
    char hex[2 * EVAL_CALLDATA_MAX + 3];

    (void)state;
    load(&f, base_yaml);
    u(&one, 1);
    assert_int_equal(eval_action_calldata(out, sizeof(out), &len, f.calls,
                                          POLICY_ACTION_CLAWBACK, &one),
                     0);
    hex_encode(hex, sizeof(hex), out, len, true);
    /* cast calldata "clawback(uint256)" 1 */
    assert_string_equal(hex, "0xfcc36bc900000000000000000000000000000000000000"
                             "00000000000000000000000001");
    /* Too small a buffer: the size needed. */
    assert_int_equal(eval_action_calldata(out, 10, &len, f.calls,
                                          POLICY_ACTION_CLAWBACK, &one),
                     KP_ERANGE);
    assert_int_equal(len, 36);
    /* An amount that does not fit a narrower input type is refused. */
    snprintf(f.cfg.protocols[0].strategies.inject.call, CFG_SIG_MAX,
             "inject(uint8)");
    {
        char err[EVAL_ERR_MAX];

        assert_int_equal(
            eval_calls_init(f.calls, err, sizeof(err), &f.cfg.protocols[0]), 0);
    }
    u(&big, 256);
    assert_int_equal(eval_action_calldata(out, sizeof(out), &len, f.calls,
                                          POLICY_ACTION_INJECT, &big),
                     KP_ERANGE);
    unload(&f);
}

/* ---- /status ---- */

static const char *
str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double
num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void
test_record_json(void **state)
{
    const uint64_t raw[EVAL_NREADS] = {
        800000000000ull, 2000000000000ull,  1000000000000ull, 250000000000ull,
        12345,           90000000000000ull, 5000000000000ull,
    };
    struct fx f;
    struct eval_record r;
    cJSON *o, *p, *dj;

    (void)state;
    load(&f, base_yaml);
    memset(&r, 0, sizeof(r));
    decide(&r.d, &f, raw, 136.5, 1700000000, 1700000060);
    r.time = 1700000060;
    snprintf(r.asset, sizeof(r.asset), "ETH/USD");
    r.has_price = true;
    r.price = 136.5;
    r.price_state = "fresh";
    r.price_updated_at = 1700000000;
    o = eval_record_json(&r);
    assert_true(num(o, "block") == 100);
    assert_true(num(o, "time") == 1700000060);
    assert_string_equal(str(o, "reserve"), "800000000000");
    assert_string_equal(str(o, "target"), "2000000000000");
    assert_string_equal(str(o, "critical"), "1000000000000");
    assert_string_equal(str(o, "depletion"), "250000000000");
    assert_string_equal(str(o, "uncovered_debt"), "12345");
    assert_string_equal(str(o, "open_interest"), "90000000000000");
    assert_string_equal(str(o, "backstop_available"), "5000000000000");
    assert_true(num(o, "decimals") == 6);
    assert_true(num(o, "health") > 0 && num(o, "health") < 1);
    assert_string_equal(str(o, "tier"), "T2");
    p = cJSON_GetObjectItemCaseSensitive(o, "price");
    assert_string_equal(str(p, "asset"), "ETH/USD");
    assert_true(num(p, "value") == 136.5);
    assert_string_equal(str(p, "state"), "fresh");
    assert_true(num(p, "updated_at") == 1700000000);
    dj = cJSON_GetObjectItemCaseSensitive(o, "decision");
    assert_string_equal(str(dj, "action"), "inject");
    /* The debt is settled first out of an inflow: it is part of the need;
     * the budget caps it. */
    assert_string_equal(str(dj, "amount"), "250000000000");
    assert_string_equal(str(dj, "key"), "reference:inject:100:1");
    assert_non_null(strstr(str(dj, "reason"), "T2: reserve 800000 < critical"));
    cJSON_Delete(o);

    /* No open interest: the shortfall is 0 and health infinite (null); no
     * price; nothing decided. */
    r.d.in.risk.health = INFINITY;
    r.d.n_intents = 0;
    r.has_price = false;
    r.price_state = "none";
    o = eval_record_json(&r);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "health")));
    p = cJSON_GetObjectItemCaseSensitive(o, "price");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "value")));
    assert_string_equal(str(p, "state"), "none");
    dj = cJSON_GetObjectItemCaseSensitive(o, "decision");
    assert_string_equal(str(dj, "action"), "none");
    assert_string_equal(str(dj, "amount"), "0");
    assert_string_equal(str(dj, "key"), "");
    cJSON_Delete(o);
    unload(&f);
}

static void
test_action_json(void **state)
{
    struct eval_action a;
    cJSON *o;

    (void)state;
    memset(&a, 0, sizeof(a));
    snprintf(a.key, sizeof(a.key), "reference:inject:100:1");
    a.action = POLICY_ACTION_INJECT;
    u(&a.amount, 250000000000ull);
    a.state = TXM_SIMULATED_REVERT;
    snprintf(a.reason, sizeof(a.reason), "Error(\"reserve at target\")");
    o = eval_action_json(&a);
    assert_string_equal(str(o, "key"), "reference:inject:100:1");
    assert_string_equal(str(o, "action"), "inject");
    assert_string_equal(str(o, "amount"), "250000000000");
    assert_string_equal(str(o, "state"), "simulated_revert");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "tx_hash")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "block")));
    assert_string_equal(str(o, "reason"), "Error(\"reserve at target\")");
    cJSON_Delete(o);

    a.state = TXM_CONFIRMED;
    a.has_tx = true;
    memset(a.tx_hash, 0x11, sizeof(a.tx_hash));
    a.has_block = true;
    a.block = 4242;
    o = eval_action_json(&a);
    assert_string_equal(str(o, "state"), "confirmed");
    assert_string_equal(str(o, "tx_hash"), "0x1111111111111111111111111111111"
                                           "111111111111111111111111111111111");
    assert_true(num(o, "block") == 4242);
    cJSON_Delete(o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_params),
        cmocka_unit_test(test_balance_params),
        cmocka_unit_test(test_calls_misuse),
        cmocka_unit_test(test_snapshot_from_replies),
        cmocka_unit_test(test_full_width_word),
        cmocka_unit_test(test_bad_replies),
        cmocka_unit_test(test_narrow_output_is_strict),
        cmocka_unit_test(test_balance_reply),
        cmocka_unit_test(test_policy_params),
        cmocka_unit_test(test_calm_market_never_injects),
        cmocka_unit_test(test_below_critical_injects_to_target),
        cmocka_unit_test(test_action_calldata),
        cmocka_unit_test(test_record_json),
        cmocka_unit_test(test_action_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
