/* keeper/daemon: the parts that run without a node - rpc latency counts
 * fed into a histogram (exact buckets, matching sum), block parsing for
 * heads, readiness rules and reasons, the /status document, and signer
 * sections compared for a reload. The daemon against anvil is tested by
 * daemon_run.test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "keeper/daemon_int.h"

/* ---- histogram feeding ---- */

/* The cumulative count of bucket `le` of series {endpoint="e"} in the
 * rendered registry, or the _sum / _count when le is "sum" / "count". */
static double
rendered(struct metrics *reg, const char *le)
{
    char *text, want[128], *p;
    size_t len;
    double v = -1;

    assert_int_equal(metrics_render(reg, &text, &len), 0);
    if (!strcmp(le, "sum") || !strcmp(le, "count"))
        snprintf(want, sizeof(want),
                 "keeper_rpc_latency_seconds_%s{endpoint=\"e\"} ", le);
    else
        snprintf(want, sizeof(want),
                 "keeper_rpc_latency_seconds_bucket{endpoint=\"e\",le=\"%s\"} ",
                 le);
    if ((p = strstr(text, want)) != NULL)
        v = strtod(p + strlen(want), NULL);
    free(text);
    return v;
}

static struct metrics *
latency_registry(struct metric **h)
{
    struct metrics *reg = metrics_new(0);

    assert_int_equal(metrics_register_keeper(reg, "test"), 0);
    assert_int_equal(
        metrics_series(reg, h, METRIC_RPC_LATENCY_SECONDS, METRIC_LABELS("e")),
        0);
    return reg;
}

static void
test_latency_exact_buckets_and_sum(void **state)
{
    struct metric *h;
    struct metrics *reg = latency_registry(&h);
    uint64_t seen[RPC_LAT_BUCKETS] = {0}, cur[RPC_LAT_BUCKETS] = {0};

    (void)state;
    /* 3 in (0,1ms], 2 in (5,10ms], 1 in (250,500ms]; sum 0.3+0.4+0.5 ms
     * + 6+9 ms + 300 ms = 316.2 ms. */
    cur[0] = 3;
    cur[3] = 2;
    cur[8] = 1;
    assert_int_equal(obs_latency_feed(h, seen, cur, 316200), 6);
    assert_true(rendered(reg, "0.001") == 3);
    assert_true(rendered(reg, "0.005") == 3);
    assert_true(rendered(reg, "0.01") == 5);
    assert_true(rendered(reg, "0.25") == 5);
    assert_true(rendered(reg, "0.5") == 6);
    assert_true(rendered(reg, "+Inf") == 6);
    assert_true(rendered(reg, "count") == 6);
    assert_true(fabs(rendered(reg, "sum") - 0.3162) < 1e-9);
    assert_memory_equal(seen, cur, sizeof(seen));

    /* Nothing new: nothing observed. */
    assert_int_equal(obs_latency_feed(h, seen, cur, 0), 0);
    assert_true(rendered(reg, "count") == 6);
    metrics_free(reg);
}

static void
test_latency_sum_out_of_reach(void **state)
{
    struct metric *h;
    struct metrics *reg = latency_registry(&h);
    uint64_t seen[RPC_LAT_BUCKETS] = {0}, cur[RPC_LAT_BUCKETS] = {0};

    (void)state;
    /* 4 in (1,2.5ms] cannot sum to 1 s: the counts stay exact, each value
     * at the top of its bucket, never in the next one. */
    cur[1] = 4;
    assert_int_equal(obs_latency_feed(h, seen, cur, 1000000), 4);
    assert_true(rendered(reg, "0.001") == 0);
    assert_true(rendered(reg, "0.0025") == 4);
    assert_true(fabs(rendered(reg, "sum") - 0.01) < 1e-9);
    /* ... nor below it: a zero sum puts them just above 1 ms. */
    memset(seen, 0, sizeof(seen));
    assert_int_equal(obs_latency_feed(h, seen, cur, 0), 4);
    assert_true(rendered(reg, "0.001") == 0);
    assert_true(rendered(reg, "0.0025") == 8);
    metrics_free(reg);
}

static void
test_latency_open_bucket(void **state)
{
    struct metric *h;
    struct metrics *reg = latency_registry(&h);
    uint64_t seen[RPC_LAT_BUCKETS] = {0}, cur[RPC_LAT_BUCKETS] = {0};

    (void)state;
    /* 1 in (0,1ms] and 2 over 10 s, sum 30.0005 s. */
    cur[0] = 1;
    cur[RPC_LAT_BUCKETS - 1] = 2;
    assert_int_equal(obs_latency_feed(h, seen, cur, 30000500), 3);
    assert_true(rendered(reg, "10") == 1);
    assert_true(rendered(reg, "+Inf") == 3);
    assert_true(fabs(rendered(reg, "sum") - 30.0005) < 1e-6);
    metrics_free(reg);
}

static void
test_latency_counter_reset(void **state)
{
    struct metric *h;
    struct metrics *reg = latency_registry(&h);
    uint64_t seen[RPC_LAT_BUCKETS] = {0}, cur[RPC_LAT_BUCKETS] = {0};

    (void)state;
    seen[2] = 10; /* a new client counts from zero */
    cur[2] = 3;
    assert_int_equal(obs_latency_feed(h, seen, cur, 9000), 0);
    assert_true(seen[2] == 3);
    /* A NULL handle (no registry) only tracks. */
    cur[2] = 5;
    assert_int_equal(obs_latency_feed(NULL, seen, cur, 8000), 2);
    assert_true(seen[2] == 5);
    metrics_free(reg);
}

/* ---- block parsing ---- */

static int
parse(struct head *h, const char *json)
{
    cJSON *v = cJSON_Parse(json);
    int rc;

    h->endpoint = 7;
    rc = heads_parse_block(h, v);
    cJSON_Delete(v);
    return rc;
}

#define HASH                                                                   \
    "0x8d32865bdff07e6fbb315f92ebb3ea34890eb1b19c3b5f1b6cf4916bbab2eea7"

static void
test_parse_block(void **state)
{
    struct head h;

    (void)state;
    assert_int_equal(parse(&h, "{\"number\":\"0x1b4\",\"hash\":\"" HASH
                               "\",\"timestamp\":\"0x6553f100\",\"x\":1}"),
                     0);
    assert_true(h.number == 0x1b4);
    assert_true(h.timestamp == 0x6553f100);
    assert_int_equal(h.hash[0], 0x8d);
    assert_int_equal(h.hash[31], 0xa7);
    assert_true(h.endpoint == 7);
}

static void
test_parse_block_misuse(void **state)
{
    static const char *const bad[] = {
        "null",
        "[]",
        "\"0x1\"",
        "{}",
        "{\"number\":\"0x1\",\"timestamp\":\"0x1\"}",
        "{\"number\":\"0x1\",\"hash\":\"" HASH "\"}",
        "{\"number\":1,\"hash\":\"" HASH "\",\"timestamp\":\"0x1\"}",
        "{\"number\":\"0x1\",\"hash\":\"0x12\",\"timestamp\":\"0x1\"}",
        "{\"number\":\"0x1\",\"hash\":"
        "\"8d32865bdff07e6fbb315f92ebb3ea34890eb1b1"
        "9c3b5f1b6cf4916bbab2eea7\",\"timestamp\":\"0x1\"}",
        "{\"number\":\"0x1\",\"hash\":\"" HASH "00\",\"timestamp\":\"0x1\"}",
        "{\"number\":\"0x1\",\"hash\":\"0xzz32865bdff07e6fbb315f92ebb3ea34890e"
        "b1b19c3b5f1b6cf4916bbab2eea7\",\"timestamp\":\"0x1\"}",
        "{\"number\":\"0x10000000000000000\",\"hash\":\"" HASH
        "\",\"timestamp\":\"0x1\"}",
    };
    struct head h;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&h, 0xaa, sizeof(h));
        assert_int_equal(parse(&h, bad[i]), KP_EINVAL);
        assert_int_equal(h.hash[0], 0xaa); /* untouched on error */
    }
    memset(&h, 0, sizeof(h));
    assert_int_equal(heads_parse_block(&h, NULL), KP_EINVAL);
}

/* ---- readiness and status ---- */

struct fixture {
    uv_loop_t loop;
    struct cfg_protocol pc;
    struct daemon d;
    struct proto_rt p;
    struct proto_rt *protos[1];
};

static void
fixture_init(struct fixture *f)
{
    struct rpc_endpoint_cfg ep = {.url = "http://127.0.0.1:1/secret-path",
                                  .name = "node-a"};
    struct rpc_opts o;

    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->pc.name, sizeof(f->pc.name), "proto");
    f->pc.chain.chain_id = 31337;
    f->pc.chain.poll_interval_ms = 2000;
    f->pc.signer.kind = CFG_SIGNER_KEY_FILE;
    rpc_opts_init(&o);
    o.head_poll_ms = 0; /* no traffic: nothing runs the loop */
    o.max_lag_blocks = 5;
    f->d.o.version = "9.9.9";
    f->d.start_ns = uv_hrtime();
    f->p.d = &f->d;
    f->p.pc = &f->pc;
    f->p.fail_threshold = DAEMON_FAIL_THRESHOLD;
    snprintf(f->p.address, sizeof(f->p.address), "0xabc");
    assert_int_equal(rpc_client_new(&f->p.rpc, &f->loop, NULL, &ep, 1, &o), 0);
    f->protos[0] = &f->p;
    f->d.protos = f->protos;
    f->d.nprotos = 1;
}

static void
fixture_cleanup(struct fixture *f)
{
    rpc_client_free(f->p.rpc);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void
give_head(struct fixture *f, uint64_t number, uint64_t seen_ns)
{
    f->p.have_head = true;
    f->p.head.number = number;
    f->p.head.endpoint = 0;
    f->p.head_seen_ns = seen_ns;
    rpc_report_head(f->p.rpc, 0, number);
}

static void
test_fresh_bound(void **state)
{
    struct cfg_protocol pc;

    (void)state;
    memset(&pc, 0, sizeof(pc));
    pc.chain.poll_interval_ms = 200;
    assert_true(proto_fresh_ms(&pc) == 30000);
    pc.chain.poll_interval_ms = 10000;
    assert_true(proto_fresh_ms(&pc) == 30000);
    pc.chain.poll_interval_ms = 20000;
    assert_true(proto_fresh_ms(&pc) == 60000);
}

static void
test_endpoint_healthy(void **state)
{
    struct rpc_endpoint_stats st;

    (void)state;
    memset(&st, 0, sizeof(st));
    assert_true(proto_endpoint_healthy(&st, 3));
    st.consecutive_failures = 2;
    assert_true(proto_endpoint_healthy(&st, 3));
    st.consecutive_failures = 3; /* resting or due for a probe */
    assert_false(proto_endpoint_healthy(&st, 3));
    st.consecutive_failures = 0;
    st.lagging = true;
    assert_false(proto_endpoint_healthy(&st, 3));
    st.lagging = false;
    st.down = true;
    assert_false(proto_endpoint_healthy(&st, 3));
}

static void
test_ready_rules(void **state)
{
    struct fixture f;
    char reason[HTTPD_MAX_REASON];
    uint64_t now = uv_hrtime() + 60ull * 1000000000u;

    (void)state;
    fixture_init(&f);
    assert_false(proto_rt_ready(&f.p, now, reason, sizeof(reason)));
    assert_string_equal(reason, "proto: no head yet");
    snprintf(f.p.last_error, sizeof(f.p.last_error), "rpc: node-a: refused");
    assert_false(proto_rt_ready(&f.p, now, reason, sizeof(reason)));
    assert_string_equal(reason, "proto: no head yet: rpc: node-a: refused");
    f.p.last_error[0] = '\0';

    give_head(&f, 100, now - 1000000000u);
    assert_false(proto_rt_ready(&f.p, now, reason, sizeof(reason)));
    assert_string_equal(reason, "proto: chain id not verified yet");
    f.p.chain_id = CHAIN_ID_OK;
    assert_true(proto_rt_ready(&f.p, now, reason, sizeof(reason)));
    assert_true(daemon_ready(&f.d, reason, sizeof(reason)));

    /* Stale: the bound is 30 s for a 2 s poll interval. */
    f.p.head_seen_ns = now - 30ull * 1000000000u;
    assert_false(proto_rt_ready(&f.p, now, reason, sizeof(reason)));
    assert_string_equal(reason, "proto: no head for 30s (limit 30s)");
    f.p.head_seen_ns = now - 29ull * 1000000000u;
    assert_true(proto_rt_ready(&f.p, now, reason, sizeof(reason)));

    /* The endpoint that gave the head fell behind another source: a head
     * from elsewhere alone proves nothing until the endpoint, asked again,
     * still answers the old height. */
    rpc_report_head(f.p.rpc, RPC_ENDPOINT_NONE, 106);
    assert_true(proto_rt_ready(&f.p, now, reason, sizeof(reason)));
    rpc_report_head(f.p.rpc, 0, 100);
    assert_false(proto_rt_ready(&f.p, now, reason, sizeof(reason)));
    assert_string_equal(reason, "proto: head endpoint node-a is lagging");
    rpc_report_head(f.p.rpc, 0, 106);
    assert_true(proto_rt_ready(&f.p, now, reason, sizeof(reason)));

    f.p.chain_id = CHAIN_ID_MISMATCH;
    f.p.chain_id_seen = 1;
    assert_false(daemon_ready(&f.d, reason, sizeof(reason)));
    assert_string_equal(
        reason,
        "proto: chain id mismatch (configured 31337, endpoint serves 1)");
    f.p.chain_id = CHAIN_ID_OK;

    f.d.stopping = true;
    assert_false(daemon_ready(&f.d, reason, sizeof(reason)));
    assert_string_equal(reason, "shutting down");
    f.d.stopping = false;
    f.d.nprotos = 0;
    assert_false(daemon_ready(&f.d, reason, sizeof(reason)));
    assert_string_equal(reason, "configuration not loaded");
    fixture_cleanup(&f);
}

static void
test_status_document(void **state)
{
    struct fixture f;
    cJSON *doc, *p, *ep;
    char *text;

    (void)state;
    fixture_init(&f);
    doc = daemon_status(&f.d);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "version")->valuestring,
                        "9.9.9");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(doc, "ready")));
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "protocols"), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(p, "head")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(p, "last_evaluation")));
    cJSON_Delete(doc);

    give_head(&f, 42, uv_hrtime());
    f.p.head.timestamp = 1;
    f.p.head.hash[31] = 0x01;
    f.p.chain_id = CHAIN_ID_OK;
    doc = daemon_status(&f.d);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "ready")));
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "protocols"), 0);
    assert_string_equal(cJSON_GetObjectItem(p, "name")->valuestring, "proto");
    assert_true(cJSON_GetObjectItem(p, "chain_id")->valuedouble == 31337);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(p, "signer"), "address")
            ->valuestring,
        "0xabc");
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "head"), "number")
                    ->valuedouble == 42);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(p, "head"), "hash")
            ->valuestring,
        "0x0000000000000000000000000000000000000000000000000000000000000001");
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "head"), "age_s")
                    ->valuedouble > 1e9);
    ep = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "endpoints"), 0);
    assert_string_equal(cJSON_GetObjectItem(ep, "name")->valuestring, "node-a");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ep, "healthy")));
    assert_true(cJSON_GetObjectItem(ep, "head")->valuedouble == 42);
    /* The endpoint's URL (which may carry an API key) is never shown. */
    text = cJSON_PrintUnformatted(doc);
    assert_null(strstr(text, "secret-path"));
    assert_null(strstr(text, "127.0.0.1"));
    free(text);
    cJSON_Delete(doc);
    fixture_cleanup(&f);
}

/* ---- signer sections on reload ---- */

static void
test_signer_cfg_equal(void **state)
{
    struct cfg_signer a, b;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.kind = CFG_SIGNER_KEYSTORE;
    snprintf(a.keystore.path, sizeof(a.keystore.path), "/k/ks.json");
    snprintf(a.keystore.password.ref, sizeof(a.keystore.password.ref),
             "env:PW");
    b = a;
    assert_true(proto_signer_cfg_equal(&a, &b));
    snprintf(b.keystore.password.ref, sizeof(b.keystore.password.ref),
             "file:/pw");
    assert_false(proto_signer_cfg_equal(&a, &b));
    b = a;
    snprintf(b.keystore.path, sizeof(b.keystore.path), "/k/other.json");
    assert_false(proto_signer_cfg_equal(&a, &b));

    memset(&b, 0, sizeof(b));
    b.kind = CFG_SIGNER_KEY_FILE;
    snprintf(b.key_file, sizeof(b.key_file), "/k/ks.json");
    assert_false(proto_signer_cfg_equal(&a, &b)); /* kind differs */
    a = b;
    assert_true(proto_signer_cfg_equal(&a, &b));
    memset(&a, 0, sizeof(a));
    a.kind = CFG_SIGNER_KEY_ENV;
    snprintf(a.key_env, sizeof(a.key_env), "K1");
    b = a;
    assert_true(proto_signer_cfg_equal(&a, &b));
    snprintf(b.key_env, sizeof(b.key_env), "K2");
    assert_false(proto_signer_cfg_equal(&a, &b));
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_false(proto_signer_cfg_equal(&a, &b)); /* no signer at all */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency_exact_buckets_and_sum),
        cmocka_unit_test(test_latency_sum_out_of_reach),
        cmocka_unit_test(test_latency_open_bucket),
        cmocka_unit_test(test_latency_counter_reset),
        cmocka_unit_test(test_parse_block),
        cmocka_unit_test(test_parse_block_misuse),
        cmocka_unit_test(test_fresh_bound),
        cmocka_unit_test(test_endpoint_healthy),
        cmocka_unit_test(test_ready_rules),
        cmocka_unit_test(test_status_document),
        cmocka_unit_test(test_signer_cfg_equal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
