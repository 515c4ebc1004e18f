/* What the evaluation shows without a node: the ring of actions in /status
 * (oldest first, the 32 latest, those without a report left out), the
 * last evaluation in /status, and the evaluation metrics (families, HELP,
 * labels, counts). The whole loop against the devnet is tested by
 * backstop_e2e.test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "keeper/daemon_int.h"

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
    struct rpc_endpoint_cfg ep = {.url = "http://127.0.0.1:1/", .name = "a"};
    struct rpc_opts o;

    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->pc.name, sizeof(f->pc.name), "proto");
    f->pc.chain.chain_id = 31337;
    f->pc.chain.poll_interval_ms = 2000;
    f->pc.reserve.decimals = 6;
    rpc_opts_init(&o);
    o.head_poll_ms = 0;
    f->d.o.version = "test";
    f->d.start_ns = uv_hrtime();
    f->p.d = &f->d;
    f->p.pc = &f->pc;
    f->p.fail_threshold = DAEMON_FAIL_THRESHOLD;
    assert_int_equal(rpc_client_new(&f->p.rpc, &f->loop, NULL, &ep, 1, &o), 0);
    f->protos[0] = &f->p;
    f->d.protos = f->protos;
    f->d.nprotos = 1;
}

static void
fixture_cleanup(struct fixture *f)
{
    rpc_client_free(f->p.rpc);
    metrics_free(f->d.metrics);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static const cJSON *
proto0(const cJSON *doc)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "protocols"), 0);
}

/* Record action `key` and give it a state, as a report would. */
static struct eval_action *
reported(struct fixture *f, const char *key, enum txm_state st)
{
    struct eval_action *a = actions_record(&f->p, key);

    for (size_t i = 0; i < f->p.ev.nactions; i++)
        if (&f->p.ev.actions[i] == a)
            f->p.ev.act_hidden[i] = false;
    a->action = POLICY_ACTION_INJECT;
    u256_from_u64(&a->amount, 1000000);
    a->state = st;
    return a;
}

static void
test_actions_ring(void **state)
{
    struct fixture f;
    cJSON *doc;
    const cJSON *acts;
    char key[32];

    (void)state;
    fixture_init(&f);
    doc = daemon_status(&f.d);
    acts = cJSON_GetObjectItem(proto0(doc), "actions");
    assert_true(cJSON_IsArray(acts));
    assert_int_equal(cJSON_GetArraySize(acts), 0);
    assert_true(
        cJSON_IsNull(cJSON_GetObjectItem(proto0(doc), "last_evaluation")));
    cJSON_Delete(doc);

    /* 40 actions: the ring keeps the 32 latest, oldest first. */
    for (int i = 1; i <= 40; i++) {
        snprintf(key, sizeof(key), "proto:inject:1:%d", i);
        reported(&f, key, TXM_CONFIRMED);
    }
    /* The same key again is the same entry, not a new one. */
    assert_ptr_equal(actions_record(&f.p, "proto:inject:1:40"),
                     reported(&f, "proto:inject:1:40", TXM_CONFIRMED));
    /* Submitted, no report yet: not shown. */
    actions_record(&f.p, "proto:inject:1:41");
    assert_int_equal(f.p.ev.nactions, EVAL_ACTIONS_KEPT);

    doc = daemon_status(&f.d);
    acts = cJSON_GetObjectItem(proto0(doc), "actions");
    assert_int_equal(cJSON_GetArraySize(acts), EVAL_ACTIONS_KEPT - 1);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(acts, 0), "key")->valuestring,
        "proto:inject:1:10");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(acts, EVAL_ACTIONS_KEPT - 2),
                            "key")
            ->valuestring,
        "proto:inject:1:40");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(acts, 0), "state")->valuestring,
        "confirmed");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(acts, 0), "amount")->valuestring,
        "1000000");
    cJSON_Delete(doc);
    fixture_cleanup(&f);
}

static void
test_last_evaluation(void **state)
{
    struct fixture f;
    cJSON *doc;
    const cJSON *le;

    (void)state;
    fixture_init(&f);
    f.p.ev.have_last = true;
    f.p.ev.last.time = 1700000000;
    f.p.ev.last.d.tier = POLICY_TIER_T3;
    f.p.ev.last.d.in.block_number = 77;
    f.p.ev.last.d.in.decimals = 6;
    u256_from_u64(&f.p.ev.last.d.in.reserve, 5);
    f.p.ev.last.price_state = "stale";
    doc = daemon_status(&f.d);
    le = cJSON_GetObjectItem(proto0(doc), "last_evaluation");
    assert_true(cJSON_IsObject(le));
    assert_true(cJSON_GetObjectItem(le, "block")->valuedouble == 77);
    assert_string_equal(cJSON_GetObjectItem(le, "tier")->valuestring, "T3");
    assert_string_equal(cJSON_GetObjectItem(le, "reserve")->valuestring, "5");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(le, "price"), "state")
            ->valuestring,
        "stale");
    cJSON_Delete(doc);
    fixture_cleanup(&f);
}

static double
series_value(struct metrics *reg, const char *line)
{
    char *text, *p;
    size_t len;
    double v = -1;

    assert_int_equal(metrics_render(reg, &text, &len), 0);
    if ((p = strstr(text, line)) != NULL)
        v = strtod(p + strlen(line), NULL);
    free(text);
    return v;
}

static void
test_metrics(void **state)
{
    struct fixture f;
    char *text;
    size_t len;

    (void)state;
    fixture_init(&f);
    f.d.metrics = metrics_new(0);
    assert_int_equal(metrics_register_keeper(f.d.metrics, "test"), 0);
    obs_eval_attach(&f.p);
    obs_eval_attach(&f.p); /* a reload defines the families again */
    metric_set(f.p.ev.m_tier, 2);
    metric_set(f.p.ev.m_reserve, 812345.67);
    metric_inc(f.p.ev.m_evals);
    metric_inc(f.p.ev.m_decisions[POLICY_ACTION_COUNT]);
    obs_action(&f.p, POLICY_ACTION_INJECT, TXM_SENT);
    obs_action(&f.p, POLICY_ACTION_INJECT, TXM_CONFIRMED);
    obs_action(&f.p, POLICY_ACTION_INJECT, TXM_CONFIRMED);

    assert_true(series_value(f.d.metrics, "keeper_tier{protocol=\"proto\"} ") ==
                2);
    assert_true(series_value(f.d.metrics,
                             "keeper_reserve_balance{protocol=\"proto\"} ") ==
                812345.67);
    assert_true(series_value(f.d.metrics,
                             "keeper_evaluations_total{protocol=\"proto\"} ") ==
                1);
    assert_true(series_value(f.d.metrics,
                             "keeper_decisions_total{protocol=\"proto\","
                             "action=\"none\"} ") == 1);
    assert_true(series_value(f.d.metrics,
                             "keeper_decisions_total{protocol=\"proto\","
                             "action=\"inject\"} ") == 0);
    assert_true(series_value(f.d.metrics,
                             "keeper_actions_total{protocol=\"proto\",action="
                             "\"inject\",outcome=\"confirmed\"} ") == 2);
    assert_true(series_value(f.d.metrics,
                             "keeper_actions_total{protocol=\"proto\",action="
                             "\"inject\",outcome=\"sent\"} ") == 1);
    assert_int_equal(metrics_render(f.d.metrics, &text, &len), 0);
    assert_non_null(strstr(text, "# HELP keeper_tier Tier of the last "
                                 "evaluation: 0 T1"));
    assert_non_null(strstr(text, "# TYPE keeper_tier gauge"));
    assert_non_null(
        strstr(text, "# TYPE keeper_evaluation_latency_seconds histogram"));
    free(text);
    fixture_cleanup(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actions_ring),
        cmocka_unit_test(test_last_evaluation),
        cmocka_unit_test(test_metrics),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
