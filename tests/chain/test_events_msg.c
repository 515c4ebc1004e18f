/* Parsing what a node sends for the event stream: eth_subscription
 * notifications (newHeads, logs - shapes as anvil and geth send them),
 * replies to eth_subscribe, log and header objects; filter matching by
 * eth_getLogs rules and filter JSON; every bad input gets an error code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/evlog.h"
#include "chain/hex.h"

#define Z62 "00000000000000000000000000000000000000000000000000000000000000"
#define H32(c)                                                                 \
    "0x" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
        c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

/* A log notification as anvil 1.x sends it. */
static const char log_msg[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{"
    "\"subscription\":\"0x6c4176346151746b5041357265503762\",\"result\":{"
    "\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
    "\"topics\":["
    "\"0x1111111111111111111111111111111111111111111111111111111111111111\"],"
    "\"data\":"
    "\"0x0000000000000000000000000000000000000000000000000000000000000063\","
    "\"blockHash\":"
    "\"0xba167c3e23690d60c5ad79ee6b9abde2f668d36d2a2f16488700d17e2bab936a\","
    "\"blockNumber\":\"0x7\",\"blockTimestamp\":\"0x6b05142f\","
    "\"transactionHash\":"
    "\"0xa02c68ac6eb9b3d01ccfef49748cb7dad8d6bd8da6d64390b944fc7f1b4e2863\","
    "\"transactionIndex\":\"0x0\",\"logIndex\":\"0x3\",\"removed\":false}}}";

/* A newHeads notification (geth shape, trimmed of fields we ignore). */
static const char head_msg[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{"
    "\"subscription\":\"0x9ce59a13059e417087c02d3236a0b1cc\",\"result\":{"
    "\"parentHash\":"
    "\"0x5c1dc44acd4160c73cbff2b8c96182ac76e832da0b4dbaf8a340773a1f83dd54\","
    "\"miner\":\"0x0000000000000000000000000000000000000000\","
    "\"number\":\"0x1b4\",\"gasLimit\":\"0x1c9c380\",\"gasUsed\":\"0x0\","
    "\"timestamp\":\"0x56ffeff8\",\"baseFeePerGas\":\"0x7\","
    "\"hash\":"
    "\"0xff98b63bb86773bc242494f84d8aaf257b78ee628dd756010ce86f97d0811bdb\"}}}";

static void
test_log_notification(void **state)
{
    struct evlog_msg m;
    uint8_t buf[64];
    uint8_t want_hash[32];

    (void)state;
    assert_int_equal(
        evlog_msg_parse(&m, buf, sizeof(buf), log_msg, strlen(log_msg)), 0);
    assert_int_equal(m.kind, EVLOG_MSG_LOG);
    assert_string_equal(m.sub, "0x6c4176346151746b5041357265503762");
    assert_false(m.removed);
    assert_int_equal(m.log.block_number, 7);
    assert_int_equal(m.log.log_index, 3);
    assert_int_equal(m.log.tx_index, 0);
    assert_int_equal(m.log.ntopics, 1);
    assert_int_equal(m.log.topics[0][31], 0x11);
    assert_int_equal(m.log.data_len, 32);
    assert_ptr_equal(m.log.data, buf);
    assert_int_equal(m.log.data[31], 0x63);
    assert_int_equal(m.log.address.b[0], 0x5f);
    assert_int_equal(m.log.address.b[19], 0xa3);
    hex_decode_exact(
        want_hash, 32,
        "ba167c3e23690d60c5ad79ee6b9abde2f668d36d2a2f16488700d17e2bab936a", 64);
    assert_memory_equal(m.log.block_hash, want_hash, 32);
    assert_int_equal(m.log.tx_hash[0], 0xa0);
}

static void
test_removed_log(void **state)
{
    char msg[sizeof(log_msg) + 8];
    char *p;
    struct evlog_msg m;
    uint8_t buf[64];

    (void)state;
    snprintf(msg, sizeof(msg), "%s", log_msg);
    p = strstr(msg, "\"removed\":false");
    memcpy(p, "\"removed\":true ", 15);
    assert_int_equal(evlog_msg_parse(&m, buf, sizeof(buf), msg, strlen(msg)),
                     0);
    assert_true(m.removed);
    /* "removed" of another type is malformed. */
    memcpy(p, "\"removed\":1    ", 15);
    assert_int_equal(evlog_msg_parse(&m, buf, sizeof(buf), msg, strlen(msg)),
                     KP_EINVAL);
}

static void
test_head_notification(void **state)
{
    struct evlog_msg m;

    (void)state;
    assert_int_equal(evlog_msg_parse(&m, NULL, 0, head_msg, strlen(head_msg)),
                     0);
    assert_int_equal(m.kind, EVLOG_MSG_HEAD);
    assert_string_equal(m.sub, "0x9ce59a13059e417087c02d3236a0b1cc");
    assert_int_equal(m.head.number, 436);
    assert_int_equal(m.head.timestamp, 0x56ffeff8);
    assert_int_equal(m.head.hash[0], 0xff);
    assert_int_equal(m.head.parent[0], 0x5c);
}

static void
test_replies(void **state)
{
    struct evlog_msg m;
    const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":\"0xabc\"}";
    const char *err =
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,"
        "\"message\":\"the method eth_subscribe does not exist\"}}";
    const char *obj = "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"a\":1}}";

    (void)state;
    assert_int_equal(evlog_msg_parse(&m, NULL, 0, ok, strlen(ok)), 0);
    assert_int_equal(m.kind, EVLOG_MSG_REPLY);
    assert_int_equal(m.id, 12);
    assert_false(m.is_error);
    assert_string_equal(m.text, "0xabc");
    assert_int_equal(evlog_msg_parse(&m, NULL, 0, err, strlen(err)), 0);
    assert_true(m.is_error);
    assert_int_equal(m.id, 3);
    assert_int_equal(m.err_code, -32601);
    assert_string_equal(m.text, "the method eth_subscribe does not exist");
    assert_int_equal(evlog_msg_parse(&m, NULL, 0, obj, strlen(obj)), 0);
    assert_string_equal(m.text, "");
}

static void
test_bad_messages(void **state)
{
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\"}]",
        "\"eth_subscription\"",
        "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":\"0x1\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":-1,\"result\":\"0x1\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":\"0x1\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"no\"}",
        "{\"method\":\"eth_subscription\"}",
        "{\"method\":\"eth_subscription\",\"params\":{\"result\":{}}}",
        "{\"method\":\"eth_subscription\",\"params\":{\"subscription\":1,"
        "\"result\":{}}}",
        "{\"method\":\"eth_subscription\",\"params\":{\"subscription\":\"0x1\","
        "\"result\":[]}}",
        "{\"method\":\"eth_subscription\",\"params\":{\"subscription\":\"0x1\","
        "\"result\":{}}}",
        "{\"method\":\"other\",\"params\":{}}",
    };
    struct evlog_msg m;
    uint8_t buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(
            evlog_msg_parse(&m, buf, sizeof(buf), bad[i], strlen(bad[i])),
            KP_EINVAL);
}

static void
test_caps(void **state)
{
    struct evlog_msg m;
    uint8_t buf[64];
    char msg[2048];
    const char *sub_long;
    char *p;

    (void)state;
    /* Data over the caller's cap. */
    assert_int_equal(evlog_msg_parse(&m, buf, 31, log_msg, strlen(log_msg)),
                     KP_ELIMIT);
    assert_int_equal(evlog_msg_parse(&m, buf, 32, log_msg, strlen(log_msg)), 0);
    /* Five topics. */
    snprintf(msg, sizeof(msg), "%s", log_msg);
    p = strstr(msg, "\"topics\":[");
    assert_non_null(p);
    {
        char rest[2048];
        const char *end = strchr(p, ']');

        snprintf(rest, sizeof(rest), "%s", end);
        snprintf(p, sizeof(msg) - (size_t)(p - msg), "\"topics\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"%s", H32("1"),
                H32("2"), H32("3"), H32("4"), H32("5"), rest);
    }
    assert_int_equal(evlog_msg_parse(&m, buf, 64, msg, strlen(msg)), KP_ELIMIT);
    /* A subscription id longer than we keep. */
    sub_long = "{\"method\":\"eth_subscription\",\"params\":{\"subscription\":"
               "\"0x0123456789012345678901234567890123456789012345678901234567"
               "89012345678901234567890123456789\",\"result\":{}}}";
    assert_int_equal(evlog_msg_parse(&m, buf, 64, sub_long, strlen(sub_long)),
                     KP_ELIMIT);
    /* A block number over 64 bits. */
    snprintf(msg, sizeof(msg), "%s", head_msg);
    p = strstr(msg, "\"number\":\"0x1b4\"");
    assert_non_null(p);
    {
        char rest[2048];

        snprintf(rest, sizeof(rest), "%s", p + strlen("\"number\":\"0x1b4\""));
        snprintf(p, sizeof(msg) - (size_t)(p - msg), "\"number\":\"0x10000000000000000\"%s", rest);
    }
    assert_int_equal(evlog_msg_parse(&m, buf, 64, msg, strlen(msg)), KP_ERANGE);
}

/* Replace the value of `key` in a copy of log_msg's result object. */
static int
parse_log_with(const char *key, const char *value)
{
    char msg[2048], rest[2048];
    char *p, *v, *end;
    cJSON *doc, *res;
    struct evlog l;
    uint8_t buf[64];
    int rc;

    snprintf(msg, sizeof(msg), "%s", log_msg);
    snprintf(rest, sizeof(rest), "\"%s\":", key);
    p = strstr(msg, rest);
    assert_non_null(p);
    v = p + strlen(rest);
    end = v + strcspn(v, ",}");
    if (*v == '[')
        end = strchr(v, ']') + 1;
    snprintf(rest, sizeof(rest), "%s", end);
    sprintf(v, "%s%s", value, rest);
    doc = cJSON_Parse(msg);
    assert_non_null(doc);
    res = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "params"), "result");
    rc = evlog_parse(&l, buf, sizeof(buf), NULL, res);
    cJSON_Delete(doc);
    return rc;
}

static void
test_log_members(void **state)
{
    (void)state;
    assert_int_equal(parse_log_with("logIndex", "\"0x3\""), 0);
    assert_int_equal(parse_log_with("blockHash", "null"),
                     KP_EINVAL); /* pending */
    assert_int_equal(parse_log_with("blockHash", "\"0x12\""), KP_EINVAL);
    assert_int_equal(parse_log_with("blockNumber", "\"7\""), KP_EINVAL);
    assert_int_equal(parse_log_with("blockNumber", "\"0x\""), KP_EINVAL);
    assert_int_equal(
        parse_log_with("address",
                       "\"0x5fbdb2315678afecb367f032d93f642f64180a\""),
        KP_EINVAL);
    assert_int_equal(
        parse_log_with("address",
                       "\"5fbdb2315678afecb367f032d93f642f64180aa3\""),
        KP_EINVAL);
    assert_int_equal(parse_log_with("data", "\"0x123\""), KP_EINVAL);
    assert_int_equal(parse_log_with("data", "\"0xzz\""), KP_EINVAL);
    assert_int_equal(parse_log_with("data", "\"0x\""), 0);
    assert_int_equal(parse_log_with("topics", "[]"), 0);
    assert_int_equal(parse_log_with("topics", "[1]"), KP_EINVAL);
    assert_int_equal(parse_log_with("topics", "\"0x11\""), KP_EINVAL);
    assert_int_equal(parse_log_with("transactionIndex", "null"), KP_EINVAL);
    assert_int_equal(evlog_parse_header(&(struct blocktrack_hdr){0}, NULL),
                     KP_EINVAL);
}

/* ---- filters ---- */

static struct evlog
log_with(uint8_t addr, size_t ntopics, const uint8_t *topic_first_bytes)
{
    struct evlog l;

    memset(&l, 0, sizeof(l));
    l.address.b[19] = addr;
    l.ntopics = (uint8_t)ntopics;
    for (size_t i = 0; i < ntopics; i++)
        l.topics[i][0] = topic_first_bytes[i];
    return l;
}

static void
test_filter_match(void **state)
{
    struct evlog_filter f;
    const uint8_t t_ab[] = {0xa, 0xb}, t_ac[] = {0xa, 0xc}, t_a[] = {0xa},
                  t_ba[] = {0xb, 0xa};
    struct evlog l;

    (void)state;
    memset(&f, 0, sizeof(f));
    l = log_with(1, 0, NULL);
    assert_true(evlog_filter_match(&f, &l)); /* empty filter: anything */
    f.naddrs = 2;
    f.addrs[0].b[19] = 1;
    f.addrs[1].b[19] = 2;
    assert_true(evlog_filter_match(&f, &l));
    l = log_with(3, 0, NULL);
    assert_false(evlog_filter_match(&f, &l));
    /* Position 1 constrained to 0xb or 0xc, position 0 wildcard. */
    f.nalts[1] = 2;
    f.topics[1][0][0] = 0xb;
    f.topics[1][1][0] = 0xc;
    l = log_with(2, 2, t_ab);
    assert_true(evlog_filter_match(&f, &l));
    l = log_with(2, 2, t_ac);
    assert_true(evlog_filter_match(&f, &l));
    l = log_with(2, 2, t_ba);
    assert_false(evlog_filter_match(&f, &l));
    /* Too few topics for the constrained position. */
    l = log_with(2, 1, t_a);
    assert_false(evlog_filter_match(&f, &l));
    /* Position 0 constrained too. */
    f.nalts[0] = 1;
    f.topics[0][0][0] = 0xb;
    l = log_with(2, 2, t_ab);
    assert_false(evlog_filter_match(&f, &l));
    f.nalts[0] = 9;
    assert_false(evlog_filter_is_valid(&f));
    assert_false(evlog_filter_is_valid(NULL));
}

static void
test_filter_json(void **state)
{
    struct evlog_filter f;
    char out[EVLOG_FILTER_JSON_MAX];

    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(evlog_filter_json(out, sizeof(out), &f, NULL), 0);
    assert_string_equal(out, "{}");
    assert_int_equal(
        evlog_filter_json(out, sizeof(out), &f, "\"blockHash\":\"0x1\""), 0);
    assert_string_equal(out, "{\"blockHash\":\"0x1\"}");
    f.naddrs = 1;
    f.addrs[0].b[19] = 0xaa;
    f.nalts[1] = 2;
    f.topics[1][0][31] = 1;
    f.topics[1][1][31] = 2;
    assert_int_equal(
        evlog_filter_json(out, sizeof(out), &f, "\"fromBlock\":\"0x1\""), 0);
    assert_string_equal(
        out, "{\"address\":[\"0x00000000000000000000000000000000000000aa\"],"
             "\"topics\":[null,[\"0x" Z62 "01\",\"0x" Z62 "02\"]],"
             "\"fromBlock\":\"0x1\"}");
    /* Too small a buffer: an error and an empty string. */
    assert_int_equal(evlog_filter_json(out, 40, &f, NULL), KP_ERANGE);
    assert_string_equal(out, "");
    f.naddrs = EVLOG_MAX_ADDRS + 1;
    assert_int_equal(evlog_filter_json(out, sizeof(out), &f, NULL), KP_EINVAL);
    /* The largest filter fits the documented size. */
    memset(&f, 0xff, sizeof(f));
    f.naddrs = EVLOG_MAX_ADDRS;
    for (size_t i = 0; i < EVLOG_MAX_TOPICS; i++)
        f.nalts[i] = EVLOG_MAX_ALTS;
    assert_int_equal(evlog_filter_json(out, sizeof(out), &f,
                                       "\"fromBlock\":\"0xffffffffffffffff\","
                                       "\"toBlock\":\"0xffffffffffffffff\""),
                     0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_notification),
        cmocka_unit_test(test_removed_log),
        cmocka_unit_test(test_head_notification),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_bad_messages),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_log_members),
        cmocka_unit_test(test_filter_match),
        cmocka_unit_test(test_filter_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
