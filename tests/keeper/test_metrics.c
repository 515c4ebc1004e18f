/* keeper/metrics: exact Prometheus text for a small registry, escaping,
 * cumulative histogram buckets, name validation, caps and misuse, and the
 * daemon's own families checked by promtool. */
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
#include "keeper/metrics.h"
#include "tests/keeper/promtool.h"

static const double small_buckets[] = {0.1, 0.5, 1};

static const struct metric_desc req_desc = {
    "app_requests_total",
    "Requests served.",
    METRIC_TYPE_COUNTER,
    {"endpoint", "method"},
    2,
    NULL,
    0,
};
static const struct metric_desc temp_desc = {
    "app_temperature_celsius",
    "Temperature.",
    METRIC_TYPE_GAUGE,
    {NULL},
    0,
    NULL,
    0,
};
static const struct metric_desc lat_desc = {
    "app_latency_seconds", "Latency.", METRIC_TYPE_HISTOGRAM, {"endpoint"}, 1,
    small_buckets,         3,
};

static char *
render(const struct metrics *reg)
{
    char *text = NULL;
    size_t len = 0;

    assert_int_equal(metrics_render(reg, &text, &len), 0);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void
test_render_exact(void **state)
{
    struct metrics *reg = metrics_new(0);
    struct metric *a, *b, *t, *h;
    char *text;

    (void)state;
    assert_int_equal(metrics_define(reg, &req_desc), 0);
    assert_int_equal(metrics_define(reg, &temp_desc), 0);
    assert_int_equal(metrics_define(reg, &lat_desc), 0);
    assert_int_equal(metrics_series(reg, &a, "app_requests_total",
                                    METRIC_LABELS("main", "eth_call")),
                     0);
    assert_int_equal(metrics_series(reg, &b, "app_requests_total",
                                    METRIC_LABELS("backup", "eth_call")),
                     0);
    assert_int_equal(
        metrics_series(reg, &t, "app_temperature_celsius", NULL, 0), 0);
    assert_int_equal(
        metrics_series(reg, &h, "app_latency_seconds", METRIC_LABELS("main")),
        0);
    metric_inc(a);
    metric_inc(a);
    metric_add(a, 3);
    metric_inc(b);
    metric_set(t, -12.5);
    metric_observe(h, 0.05); /* bucket 0.1 */
    metric_observe(h, 0.1);  /* le is inclusive: bucket 0.1 */
    metric_observe(h, 0.7);  /* bucket 1 */
    metric_observe(h, 30);   /* +Inf only */
    text = render(reg);
    assert_string_equal(
        text, "# HELP app_requests_total Requests served.\n"
              "# TYPE app_requests_total counter\n"
              "app_requests_total{endpoint=\"main\",method=\"eth_call\"} 5\n"
              "app_requests_total{endpoint=\"backup\",method=\"eth_call\"} 1\n"
              "# HELP app_temperature_celsius Temperature.\n"
              "# TYPE app_temperature_celsius gauge\n"
              "app_temperature_celsius -12.5\n"
              "# HELP app_latency_seconds Latency.\n"
              "# TYPE app_latency_seconds histogram\n"
              "app_latency_seconds_bucket{endpoint=\"main\",le=\"0.1\"} 2\n"
              "app_latency_seconds_bucket{endpoint=\"main\",le=\"0.5\"} 2\n"
              "app_latency_seconds_bucket{endpoint=\"main\",le=\"1\"} 3\n"
              "app_latency_seconds_bucket{endpoint=\"main\",le=\"+Inf\"} 4\n"
              "app_latency_seconds_sum{endpoint=\"main\"} 30.85\n"
              "app_latency_seconds_count{endpoint=\"main\"} 4\n");
    assert_true(metric_value(a) == 5);
    assert_true(metric_value(h) == 4);
    free(text);
    metrics_free(reg);
}

static void
test_histogram_no_labels(void **state)
{
    static const double b[] = {1, 2};
    const struct metric_desc d = {
        "job_seconds", "Job time.", METRIC_TYPE_HISTOGRAM, {NULL}, 0, b, 2};
    struct metrics *reg = metrics_new(0);
    struct metric *h;
    char *text;

    (void)state;
    assert_int_equal(metrics_define(reg, &d), 0);
    /* Defined without labels: rendered at once, all zero. */
    text = render(reg);
    assert_string_equal(text, "# HELP job_seconds Job time.\n"
                              "# TYPE job_seconds histogram\n"
                              "job_seconds_bucket{le=\"1\"} 0\n"
                              "job_seconds_bucket{le=\"2\"} 0\n"
                              "job_seconds_bucket{le=\"+Inf\"} 0\n"
                              "job_seconds_sum 0\n"
                              "job_seconds_count 0\n");
    free(text);
    assert_int_equal(metrics_series(reg, &h, "job_seconds", NULL, 0), 0);
    metric_observe(h, 2);
    metric_observe(h, 2.5);
    metric_observe(h, NAN); /* ignored */
    text = render(reg);
    assert_non_null(strstr(text, "job_seconds_bucket{le=\"1\"} 0\n"
                                 "job_seconds_bucket{le=\"2\"} 1\n"
                                 "job_seconds_bucket{le=\"+Inf\"} 2\n"
                                 "job_seconds_sum 4.5\n"
                                 "job_seconds_count 2\n"));
    free(text);
    metrics_free(reg);
}

static void
test_escaping(void **state)
{
    const struct metric_desc d = {"esc_info",
                                  "Back\\slash and\nnewline, \"q\".",
                                  METRIC_TYPE_GAUGE,
                                  {"v"},
                                  1,
                                  NULL,
                                  0};
    struct metrics *reg = metrics_new(0);
    struct metric *h;
    char *text;

    (void)state;
    assert_int_equal(metrics_define(reg, &d), 0);
    assert_int_equal(metrics_series(reg, &h, "esc_info",
                                    METRIC_LABELS("a\\b\"c\nd \xc3\xa9")),
                     0);
    metric_set(h, 1);
    text = render(reg);
    assert_string_equal(text,
                        "# HELP esc_info Back\\\\slash and\\nnewline, \"q\".\n"
                        "# TYPE esc_info gauge\n"
                        "esc_info{v=\"a\\\\b\\\"c\\nd \xc3\xa9\"} 1\n");
    free(text);
    metrics_free(reg);
}

static void
test_values(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {0.1, "0.1"},
        {-0.0, "-0"},
        {1e21, "1e+21"},
        {123456789, "123456789"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
        {1.0 / 3.0, "0.33333333333333331"},
    };
    struct metrics *reg = metrics_new(0);
    struct metric *h;
    char want[64], *text;

    (void)state;
    assert_int_equal(metrics_define(reg, &temp_desc), 0);
    assert_int_equal(
        metrics_series(reg, &h, "app_temperature_celsius", NULL, 0), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        metric_set(h, cases[i].v);
        text = render(reg);
        snprintf(want, sizeof(want), "\napp_temperature_celsius %s\n",
                 cases[i].want);
        assert_non_null(strstr(text, want));
        free(text);
    }
    metrics_free(reg);
}

static void
test_invalid_definitions(void **state)
{
    static const double unsorted[] = {1, 0.5};
    static const double dup[] = {1, 1};
    static const double inf[] = {1, INFINITY};
    static const double ok_b[] = {1};
    const struct {
        struct metric_desc d;
        int rc;
    } cases[] = {
        {{"1abc_total", "h", METRIC_TYPE_COUNTER, {NULL}, 0, NULL, 0},
         KP_EINVAL},
        {{"a-b_total", "h", METRIC_TYPE_COUNTER, {NULL}, 0, NULL, 0},
         KP_EINVAL},
        {{"", "h", METRIC_TYPE_GAUGE, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{NULL, "h", METRIC_TYPE_GAUGE, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x_total", NULL, METRIC_TYPE_COUNTER, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x_total", "", METRIC_TYPE_COUNTER, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_COUNTER, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x_total", "h", METRIC_TYPE_GAUGE, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x_count", "h", METRIC_TYPE_GAUGE, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x_bucket", "h", METRIC_TYPE_GAUGE, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x", "h", (enum metric_type)7, {NULL}, 0, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {"le"}, 1, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {"quantile"}, 1, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {"__name"}, 1, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {"a:b"}, 1, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {"9a"}, 1, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {NULL}, 1, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {"a", "a"}, 2, NULL, 0}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_GAUGE, {"a"}, METRICS_MAX_LABELS + 1, NULL, 0},
         KP_ERANGE},
        {{"x", "h", METRIC_TYPE_GAUGE, {NULL}, 0, ok_b, 1}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_HISTOGRAM, {NULL}, 0, unsorted, 2}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_HISTOGRAM, {NULL}, 0, dup, 2}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_HISTOGRAM, {NULL}, 0, inf, 2}, KP_EINVAL},
        {{"x", "h", METRIC_TYPE_HISTOGRAM, {NULL}, 0, NULL, 2}, KP_EINVAL},
        {{"x",
          "h",
          METRIC_TYPE_HISTOGRAM,
          {NULL},
          0,
          ok_b,
          METRICS_MAX_BUCKETS + 1},
         KP_ERANGE},
    };
    struct metrics *reg = metrics_new(0);
    char *text;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = metrics_define(reg, &cases[i].d);

        if (rc != cases[i].rc)
            fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
    }
    assert_int_equal(metrics_define(NULL, &temp_desc), KP_EINVAL);
    assert_int_equal(metrics_define(reg, NULL), KP_EINVAL);
    /* Nothing was registered by the failures. */
    text = render(reg);
    assert_string_equal(text, "");
    free(text);
    metrics_free(reg);
}

static void
test_name_predicates(void **state)
{
    (void)state;
    assert_true(metrics_is_valid_name("a"));
    assert_true(metrics_is_valid_name("_a:b_9"));
    assert_true(metrics_is_valid_name(":x"));
    assert_false(metrics_is_valid_name("9a"));
    assert_false(metrics_is_valid_name("a b"));
    assert_false(metrics_is_valid_name("a.b"));
    assert_false(metrics_is_valid_name("\xc3\xa9"));
    assert_false(metrics_is_valid_name(""));
    assert_false(metrics_is_valid_name(NULL));
    assert_true(metrics_is_valid_label_name("_x9"));
    assert_false(metrics_is_valid_label_name("a:b"));
    assert_false(metrics_is_valid_label_name(NULL));
}

static void
test_redefine(void **state)
{
    struct metrics *reg = metrics_new(0);
    struct metric_desc other = req_desc;
    struct metric *a, *b;

    (void)state;
    assert_int_equal(metrics_define(reg, &req_desc), 0);
    assert_int_equal(
        metrics_series(reg, &a, "app_requests_total", METRIC_LABELS("x", "y")),
        0);
    metric_inc(a);
    /* Same description again (config reload): no-op, series kept. */
    assert_int_equal(metrics_define(reg, &req_desc), 0);
    assert_int_equal(
        metrics_series(reg, &b, "app_requests_total", METRIC_LABELS("x", "y")),
        0);
    assert_ptr_equal(a, b);
    assert_true(metric_value(b) == 1);
    other.nlabels = 1;
    assert_int_equal(metrics_define(reg, &other), KP_EINVAL);
    other = req_desc;
    other.help = "Different.";
    assert_int_equal(metrics_define(reg, &other), KP_EINVAL);
    other = req_desc;
    other.label_names[1] = "verb";
    assert_int_equal(metrics_define(reg, &other), KP_EINVAL);
    metrics_free(reg);
}

static void
test_series_lookup(void **state)
{
    struct metrics *reg = metrics_new(0);
    struct metric *a, *b, *c;
    char longval[METRICS_MAX_LABEL_VALUE + 2];

    (void)state;
    assert_int_equal(metrics_define(reg, &req_desc), 0);
    assert_int_equal(
        metrics_series(reg, &a, "app_requests_total", METRIC_LABELS("ab", "c")),
        0);
    assert_int_equal(
        metrics_series(reg, &b, "app_requests_total", METRIC_LABELS("a", "bc")),
        0);
    assert_int_equal(
        metrics_series(reg, &c, "app_requests_total", METRIC_LABELS("ab", "c")),
        0);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(a, c);

    assert_int_equal(metrics_series(reg, &c, "nope_total", NULL, 0),
                     KP_ENOTFOUND);
    assert_null(c);
    assert_int_equal(
        metrics_series(reg, &c, "app_requests_total", METRIC_LABELS("x")),
        KP_EINVAL);
    assert_int_equal(metrics_series(reg, &c, "app_requests_total", NULL, 2),
                     KP_EINVAL);
    assert_int_equal(
        metrics_series(reg, &c, "app_requests_total", METRIC_LABELS("x", NULL)),
        KP_EINVAL);
    memset(longval, 'v', sizeof(longval) - 1);
    longval[sizeof(longval) - 1] = '\0';
    assert_int_equal(metrics_series(reg, &c, "app_requests_total",
                                    METRIC_LABELS("x", longval)),
                     KP_ERANGE);
    longval[METRICS_MAX_LABEL_VALUE] = '\0'; /* exactly the cap: fine */
    assert_int_equal(metrics_series(reg, &c, "app_requests_total",
                                    METRIC_LABELS("x", longval)),
                     0);
    assert_int_equal(metrics_series(NULL, &c, "x", NULL, 0), KP_EINVAL);
    assert_int_equal(metrics_series(reg, NULL, "x", NULL, 0), KP_EINVAL);
    assert_int_equal(metrics_series(reg, &c, NULL, NULL, 0), KP_EINVAL);
    metrics_free(reg);
}

static void
test_cardinality_cap(void **state)
{
    struct metrics *reg = metrics_new(0);
    struct metric *h;
    char ep[16];

    (void)state;
    assert_int_equal(metrics_define(reg, &lat_desc), 0);
    for (int i = 0; i < METRICS_MAX_SERIES; i++) {
        snprintf(ep, sizeof(ep), "e%d", i);
        assert_int_equal(
            metrics_series(reg, &h, "app_latency_seconds", METRIC_LABELS(ep)),
            0);
        metric_observe(h, i);
    }
    assert_int_equal(metrics_series(reg, &h, "app_latency_seconds",
                                    METRIC_LABELS("one-more")),
                     KP_ELIMIT);
    /* Existing series are still found at the cap. */
    assert_int_equal(
        metrics_series(reg, &h, "app_latency_seconds", METRIC_LABELS("e7")), 0);
    assert_true(metric_value(h) == 1);
    metrics_free(reg);
}

static void
test_update_misuse(void **state)
{
    struct metrics *reg = metrics_new(0);
    struct metric *c, *g, *h;

    (void)state;
    metric_inc(NULL);
    metric_add(NULL, 1);
    metric_set(NULL, 1);
    metric_observe(NULL, 1);
    assert_true(metric_value(NULL) == 0);
    assert_int_equal(metrics_define(reg, &req_desc), 0);
    assert_int_equal(metrics_define(reg, &temp_desc), 0);
    assert_int_equal(metrics_define(reg, &lat_desc), 0);
    assert_int_equal(
        metrics_series(reg, &c, "app_requests_total", METRIC_LABELS("a", "b")),
        0);
    assert_int_equal(
        metrics_series(reg, &g, "app_temperature_celsius", NULL, 0), 0);
    assert_int_equal(
        metrics_series(reg, &h, "app_latency_seconds", METRIC_LABELS("a")), 0);
    metric_add(c, 2);
    metric_add(c, -1);  /* counters never go down */
    metric_add(c, NAN); /* ignored */
    metric_set(c, 100); /* not a gauge */
    metric_observe(c, 1);
    assert_true(metric_value(c) == 2);
    metric_set(g, 5);
    metric_add(g, -7);
    metric_inc(g);
    metric_observe(g, 1); /* not a histogram */
    assert_true(metric_value(g) == -1);
    metric_inc(h); /* not a counter */
    metric_set(h, 3);
    assert_true(metric_value(h) == 0);
    metrics_free(reg);
    metrics_free(NULL);
}

static void
test_render_cap(void **state)
{
    struct metrics *reg = metrics_new(64);
    char *text = (char *)1;
    size_t len = 99;

    (void)state;
    text = render(reg); /* empty registry */
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(metrics_define(reg, &temp_desc), 0);
    assert_int_equal(metrics_render(reg, &text, &len), KP_ELIMIT);
    assert_null(text);
    assert_int_equal(len, 0);
    assert_int_equal(metrics_render(NULL, &text, &len), KP_EINVAL);
    assert_int_equal(metrics_render(reg, NULL, &len), KP_EINVAL);
    metrics_free(reg);
}

static void
test_keeper_families_promtool(void **state)
{
    struct metrics *reg = metrics_new(0);
    struct metric *h;
    char report[4096], *text;
    int rc;

    (void)state;
    assert_int_equal(metrics_register_keeper(reg, "1.2.3"), 0);
    /* Idempotent, as on a config reload. */
    assert_int_equal(metrics_register_keeper(reg, "1.2.3"), 0);
    assert_int_equal(metrics_series(reg, &h, METRIC_RPC_REQUESTS_TOTAL,
                                    METRIC_LABELS("main", "eth_blockNumber")),
                     0);
    metric_inc(h);
    assert_int_equal(metrics_series(reg, &h, METRIC_RPC_ERRORS_TOTAL,
                                    METRIC_LABELS("main", METRIC_ERR_HTTP)),
                     0);
    metric_inc(h);
    assert_int_equal(metrics_series(reg, &h, METRIC_RPC_LATENCY_SECONDS,
                                    METRIC_LABELS("main")),
                     0);
    metric_observe(h, 0.0042);
    assert_int_equal(
        metrics_series(reg, &h, METRIC_HEAD_BLOCK, METRIC_LABELS("31337")), 0);
    metric_set(h, 123456);
    assert_int_equal(metrics_series(reg, &h, METRIC_HEAD_AGE_SECONDS,
                                    METRIC_LABELS("31337")),
                     0);
    metric_set(h, 1.5);
    assert_int_equal(metrics_series(reg, &h, METRIC_WS_RECONNECTS_TOTAL,
                                    METRIC_LABELS("main-ws")),
                     0);
    metric_inc(h);
    assert_int_equal(metrics_series(reg, &h, METRIC_BACKFILLED_LOGS_TOTAL,
                                    METRIC_LABELS("31337")),
                     0);
    metric_add(h, 12);
    text = render(reg);
    assert_non_null(strstr(text, "keeper_build_info{version=\"1.2.3\"} 1\n"));
    assert_non_null(strstr(text, "\nkeeper_up 1\n"));
    rc = promtool_check(text, strlen(text), report, sizeof(report));
    if (rc != 0 || report[0] != '\0')
        fail_msg("promtool exit %d:\n%s\n--- input ---\n%s", rc, report, text);
    free(text);
    metrics_free(reg);
}

static void
test_promtool_can_fail(void **state)
{
    /* The check above is only meaningful if promtool rejects bad text. */
    static const char bad[] = "# TYPE x_count counter\nx_count 1\n";
    char report[1024];

    (void)state;
    assert_int_not_equal(
        promtool_check(bad, strlen(bad), report, sizeof(report)), 0);
    assert_non_null(strstr(report, "_total"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_histogram_no_labels),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_invalid_definitions),
        cmocka_unit_test(test_name_predicates),
        cmocka_unit_test(test_redefine),
        cmocka_unit_test(test_series_lookup),
        cmocka_unit_test(test_cardinality_cap),
        cmocka_unit_test(test_update_misuse),
        cmocka_unit_test(test_render_cap),
        cmocka_unit_test(test_keeper_families_promtool),
        cmocka_unit_test(test_promtool_can_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
