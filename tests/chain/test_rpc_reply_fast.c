/* rpc_call's reading of the usual single reply without building the
 * envelope as cJSON (chain/rpc.c): replies that look almost like
 * {"jsonrpc":"2.0","id":N,"result":R} must get exactly the outcome the
 * full parser gives them - same result, or the same malformed error -
 * served byte for byte by the test server, one fresh client per reply so
 * that the call's id is always 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/rpc.h"
#include "tests/chain/rpc_testsrv.h"
#include "tests/support/uvrun.h"

#define WAIT_MS 10000

struct got {
    int done;
    int err;
    char *result; /* printed, NULL on error */
    char text[256];
};

static void
got_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct got *g = arg;

    g->done++;
    g->err = st->err;
    g->result = result ? cJSON_PrintUnformatted(result) : NULL;
    snprintf(g->text, sizeof(g->text), "%s", st->text);
}

/* Serve `raw` to one call of a new client; the outcome is in *g. */
static void
serve_one(const char *raw, struct got *g)
{
    uv_loop_t loop;
    struct tsrv srv;
    struct rpc_client *c;
    struct rpc_opts o;
    struct rpc_endpoint_cfg ep;
    char url[64];

    memset(g, 0, sizeof(*g));
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(tsrv_start(&srv, &loop, TS_RAW), 0);
    srv.raw = raw;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.net.port);
    ep = (struct rpc_endpoint_cfg){.url = url};
    rpc_opts_init(&o);
    o.head_poll_ms = 0;
    o.max_attempts = 1;
    assert_int_equal(rpc_client_new(&c, &loop, NULL, &ep, 1, &o), 0);
    assert_int_equal(rpc_call(c, "eth_chainId", NULL, NULL, got_cb, g, NULL),
                     0);
    assert_true(ts_run_count(&loop, &g->done, 1, WAIT_MS));
    assert_int_equal(g->done, 1);
    rpc_client_free(c);
    tsrv_stop(&srv);
    assert_int_equal(ts_loop_close(&loop), 0);
}

static void
expect_result(const char *raw, const char *printed)
{
    struct got g;

    serve_one(raw, &g);
    assert_int_equal(g.err, 0);
    assert_non_null(g.result);
    assert_string_equal(g.result, printed);
    cJSON_free(g.result);
}

static void
expect_malformed(const char *raw, const char *why)
{
    struct got g;

    serve_one(raw, &g);
    assert_int_equal(g.err, KP_EINVAL);
    assert_null(g.result);
    if (strstr(g.text, why) == NULL)
        fail_msg("reply %s: text \"%s\" lacks \"%s\"", raw, g.text, why);
}

static void
test_fast_shapes(void **state)
{
    (void)state;
    expect_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}",
                  "\"0x7a69\"");
    /* geth ends its replies with a newline */
    expect_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":[1,2]}}\n",
                  "{\"a\":[1,2]}");
    expect_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}", "null");
    expect_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[]} \r\n", "[]");
}

/* Shapes the fast reading leaves to the full parser. */
static void
test_other_shapes(void **state)
{
    (void)state;
    expect_result("{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":\"0x1\"}",
                  "\"0x1\"");
    expect_result("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\" }",
                  "\"0x1\"");
    expect_result("{\"jsonrpc\": \"2.0\", \"id\": 1, \"result\": \"0x1\"}",
                  "\"0x1\"");
    expect_result("{\"id\":1,\"result\":true}", "true");
}

/* Near misses: each is malformed for the full parser too. */
static void
test_near_misses(void **state)
{
    (void)state;
    /* another member where "result" belongs */
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":1,\"resulx\":\"0x1\"}",
                     "exactly one");
    /* another id that starts with ours */
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":\"0x1\"}",
                     "id");
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\","
                     "\"error\":{\"code\":1,\"message\":\"x\"}}",
                     "exactly one");
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\"}}",
                     "trailing");
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\"}x",
                     "trailing");
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":}", "JSON");
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\"",
                     "JSON");
    expect_malformed("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":", "JSON");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_shapes),
        cmocka_unit_test(test_other_shapes),
        cmocka_unit_test(test_near_misses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
