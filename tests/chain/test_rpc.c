/* JSON-RPC client against two real anvil nodes (one mining on demand, one
 * started with --no-mining) and a misbehaving test server on the same
 * loop: calls, batches, error classes, failover (refused, HTTP 500, hang),
 * lagging endpoints, retries (safe vs unsafe), reply size cap, keep-alive,
 * cancellation, redaction of URL secrets, reply parser vectors, misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/http.h"
#include "chain/rpc.h"
#include "tests/chain/rpc_testsrv.h"
#include "tests/support/anvil.h"
#include "tests/support/proc.h"
#include "tests/support/uvrun.h"

#define CHAIN_ID TS_ANVIL_CHAIN_ID

/* a: mines on demand; b: --no-mining */
static struct ts_anvil anvil_a, anvil_b;

/* ---- call capture ---- */

struct got {
    int done;
    int *total; /* optional: shared by the calls of a batch */
    int err;
    long http_status;
    int64_t rpc_code;
    char message[128];
    char data[64];
    char text[256];
    char result[256];
    size_t endpoint;
    unsigned attempts;
    uint64_t elapsed_us;
};

static void
got_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct got *g = arg;

    g->done++;
    if (g->total)
        (*g->total)++;
    g->err = st->err;
    g->http_status = st->http_status;
    g->rpc_code = st->rpc_code;
    g->endpoint = st->endpoint;
    g->attempts = st->attempts;
    g->elapsed_us = st->elapsed_us;
    snprintf(g->text, sizeof(g->text), "%s", st->text);
    snprintf(g->message, sizeof(g->message), "%s",
             st->rpc_message ? st->rpc_message : "");
    snprintf(g->data, sizeof(g->data), "%s",
             cJSON_IsString(st->rpc_data) ? st->rpc_data->valuestring : "");
    if (result) {
        char *s = cJSON_PrintUnformatted(result);

        snprintf(g->result, sizeof(g->result), "%s", s);
        free(s);
    }
    assert_true((result != NULL) == (st->err == 0));
}

static void
never_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    (void)arg;
    (void)result;
    (void)st;
    fail_msg("callback of a cancelled call ran");
}

/* ---- per-test fixture ---- */

struct fx {
    uv_loop_t loop;
    struct rpc_client *c;
    struct tsrv srv;
    bool srv_on;
    char srv_url[64];
    int refuse_fd;
    int cb_count;
};

static struct rpc_opts
test_opts(void)
{
    struct rpc_opts o;

    rpc_opts_init(&o);
    o.head_poll_ms = 0;
    o.timeout_ms = 3000;
    o.backoff_base_ms = 40;
    o.backoff_max_ms = 200;
    o.seed = 42;
    return o;
}

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (!f || uv_loop_init(&f->loop) != 0)
        return -1;
    f->refuse_fd = -1;
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    rpc_client_free(f->c);
    if (f->srv_on)
        tsrv_stop(&f->srv);
    if (f->refuse_fd >= 0)
        close(f->refuse_fd);
    rc = ts_loop_close(&f->loop);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* A client on endpoint `first` and, unless NULL, `second` (its
 * failover). */
static void
fx_client(struct fx *f, const char *first, const char *second,
          const struct rpc_opts *o)
{
    struct rpc_endpoint_cfg eps[2] = {{.url = first}, {.url = second}};

    assert_int_equal(
        rpc_client_new(&f->c, &f->loop, NULL, eps, second ? 2 : 1, o), 0);
}

/* Start the test server in `mode`; its URL is then f->srv_url. */
static void
fx_server(struct fx *f, enum tsrv_mode mode)
{
    assert_int_equal(tsrv_start(&f->srv, &f->loop, mode), 0);
    f->srv_on = true;
    snprintf(f->srv_url, sizeof(f->srv_url), "http://127.0.0.1:%d/",
             f->srv.net.port);
}

/* The test server in `mode` as the client's only endpoint. */
static void
fx_server_client(struct fx *f, enum tsrv_mode mode, const struct rpc_opts *o)
{
    fx_server(f, mode);
    fx_client(f, f->srv_url, NULL, o);
}

/* Make one call and wait for it. */
static void
call_wait(struct fx *f, const char *method, const char *params,
          const struct rpc_call_opts *o, struct got *g, uint64_t ms)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(rpc_call(f->c, method, params, o, got_cb, g, NULL), 0);
    assert_true(ts_run_count(&f->loop, &g->done, 1, ms));
    assert_int_equal(g->done, 1);
}

static void
call_at_wait(struct fx *f, size_t idx, const char *method, const char *params,
             struct got *g)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(
        rpc_call_at(f->c, idx, method, params, NULL, got_cb, g, NULL), 0);
    assert_true(ts_run_count(&f->loop, &g->done, 1, 10000));
}

/* ---- group fixture: start both anvils, then wait for them ---- */

static int
group_setup(void **state)
{
    static const char *const no_mining[] = {"--no-mining", NULL};

    (void)state;
    if (ts_anvil_spawn(&anvil_a, NULL) != 0 ||
        ts_anvil_spawn(&anvil_b, no_mining) != 0)
        return -1;
    if (ts_anvil_wait(&anvil_a, 20000) != 0 ||
        ts_anvil_wait(&anvil_b, 20000) != 0)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    ts_anvil_stop(&anvil_a);
    ts_anvil_stop(&anvil_b);
    return 0;
}

/* ---- tests against anvil ---- */

static void
test_basic_calls(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    const struct rpc_endpoint_stats *st;
    struct got g;
    cJSON *v;
    uint64_t h;

    fx_client(f, anvil_a.http, NULL, &o);
    call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
    assert_int_equal(g.err, 0);
    assert_string_equal(g.result, "\"" CHAIN_ID "\"");
    assert_int_equal(g.endpoint, 0);
    assert_int_equal(g.attempts, 1);
    assert_int_equal(g.http_status, 200);

    call_wait(f, "eth_blockNumber", "[]", NULL, &g, 10000);
    assert_int_equal(g.err, 0);
    v = cJSON_Parse(g.result);
    assert_int_equal(rpc_quantity_u64(v, &h), 0);
    cJSON_Delete(v);
    /* A successful eth_blockNumber teaches the endpoint's head. */
    st = rpc_endpoint_stats(f->c, 0);
    assert_true(st->head_known);
    assert_int_equal(st->head, h);
    assert_int_equal(st->requests, 2);
    assert_int_equal(st->successes, 2);
    assert_int_equal(st->latency_count, 2);
    assert_true(st->latency_ewma_ms > 0);
    assert_string_equal(st->name, anvil_a.http);
    assert_string_equal(rpc_last_error(f->c), "");
}

static void
test_rpc_error_object(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    fx_client(f, anvil_a.http, NULL, &o);
    call_wait(f, "foo_notAMethod", "[]", NULL, &g, 10000);
    /* HTTP 200 carrying an error object. */
    assert_int_equal(g.err, KP_ERPC);
    assert_int_equal(g.http_status, 200);
    assert_int_equal(g.rpc_code, -32601);
    assert_true(strlen(g.message) > 0);
    assert_int_equal(g.attempts, 1);
    assert_non_null(strstr(g.text, "-32601"));
    assert_non_null(strstr(rpc_last_error(f->c), "foo_notAMethod"));
    assert_int_equal(rpc_endpoint_stats(f->c, 0)->errors[RPC_EC_RPC], 1);
    /* The endpoint answered: it stays healthy. */
    assert_int_equal(rpc_endpoint_stats(f->c, 0)->consecutive_failures, 0);
}

/* Add four calls to a batch, send it and wait for all four answers. */
static void
batch4_wait(struct fx *f, const char *const methods[4],
            const char *const params[4], struct got g[4])
{
    struct rpc_batch *b = rpc_batch_new(f->c);
    int total = 0;

    for (int i = 0; i < 4; i++) {
        memset(&g[i], 0, sizeof(g[i]));
        g[i].total = &total;
        assert_int_equal(rpc_batch_add(b, methods[i], params[i], got_cb, &g[i]),
                         0);
    }
    assert_int_equal(rpc_batch_send(b, NULL, NULL), 0);
    assert_true(ts_run_count(&f->loop, &total, 4, 10000));
    assert_int_equal(total, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g[i].done, 1);
}

static void
test_batch_anvil(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    static const char *const methods[4] = {"eth_chainId", "eth_getBalance",
                                           "nope_nothing", "net_version"};
    static const char *const params[4] = {
        NULL, "[\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\",\"latest\"]",
        "[]", "[]"};
    struct got g[4];

    fx_client(f, anvil_a.http, NULL, &o);
    batch4_wait(f, methods, params, g);
    assert_int_equal(g[0].err, 0);
    assert_string_equal(g[0].result, "\"" CHAIN_ID "\"");
    assert_int_equal(g[1].err, 0);
    /* The first dev account holds 10000 ether. */
    assert_string_equal(g[1].result, "\"0x21e19e0c9bab2400000\"");
    assert_int_equal(g[2].err, KP_ERPC);
    assert_int_equal(g[2].rpc_code, -32601);
    assert_int_equal(g[3].err, 0);
    assert_string_equal(g[3].result, "\"31337\"");
    /* One HTTP request for all four. */
    assert_int_equal(rpc_endpoint_stats(f->c, 0)->requests, 1);
}

/* ---- failover ---- */

/* eth_chainId, answered by endpoint 1 once endpoint 0 failed. */
static void
expect_failover(struct fx *f, struct got *g)
{
    call_wait(f, "eth_chainId", NULL, NULL, g, 10000);
    assert_int_equal(g->err, 0);
    assert_int_equal(g->endpoint, 1);
    assert_int_equal(g->attempts, 2);
}

static void
test_failover_refused(void **state)
{
    struct fx *f = *state;
    char bad[64];
    struct rpc_opts o = test_opts();
    const struct rpc_endpoint_stats *st;
    struct got g;
    int port = 0;

    f->refuse_fd = ts_refusing_port(&port);
    assert_true(f->refuse_fd >= 0);
    snprintf(bad, sizeof(bad), "http://127.0.0.1:%d", port);
    fx_client(f, bad, anvil_a.http, &o);
    expect_failover(f, &g);
    st = rpc_endpoint_stats(f->c, 0);
    assert_int_equal(st->errors[RPC_EC_TRANSPORT], 1);
    assert_int_equal(st->consecutive_failures, 1);
    assert_true(strlen(st->last_error) > 0);
    /* The failed endpoint is now second choice: straight to anvil. */
    call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
    assert_int_equal(g.endpoint, 1);
    assert_int_equal(g.attempts, 1);
    /* An unsafe call moves on too: the request never left. */
    call_wait(f, "eth_sendRawTransaction", "[\"0x00\"]",
              &(struct rpc_call_opts){.repeat = RPC_REPEAT_DEFAULT}, &g, 10000);
    assert_int_equal(g.endpoint, 1);
}

static void
test_failover_http_500(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    fx_server(f, TS_500);
    fx_client(f, f->srv_url, anvil_a.http, &o);
    expect_failover(f, &g);
    assert_int_equal(f->srv.requests, 1);
    assert_int_equal(rpc_endpoint_stats(f->c, 0)->errors[RPC_EC_HTTP], 1);

    /* eth_sendRawTransaction reached the server: never repeated. A fresh
     * client, so that the 500 endpoint is first choice again. */
    rpc_client_free(f->c);
    f->c = NULL;
    fx_client(f, f->srv_url, anvil_b.http, &o);
    call_wait(f, "eth_sendRawTransaction", "[\"0x00\"]", NULL, &g, 10000);
    assert_int_equal(g.err, KP_EHTTP);
    assert_int_equal(g.http_status, 500);
    assert_int_equal(g.attempts, 1);
    assert_int_equal(g.endpoint, 0);
    assert_int_equal(f->srv.requests, 2);
    assert_int_equal(rpc_endpoint_stats(f->c, 1)->requests, 0);
}

static void
test_failover_hang(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    o.timeout_ms = 400;
    fx_server(f, TS_HANG);
    fx_client(f, f->srv_url, anvil_a.http, &o);
    expect_failover(f, &g);
    assert_int_equal(f->srv.requests, 1);
    /* Within the timeout plus a margin, and not before the timeout. */
    assert_true(g.elapsed_us >= 380 * 1000);
    assert_true(g.elapsed_us < (400 + 1500) * 1000);
    assert_int_equal(rpc_endpoint_stats(f->c, 0)->errors[RPC_EC_TIMEOUT], 1);
}

static void
test_deadline(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    fx_server_client(f, TS_HANG, &o);
    call_wait(f, "eth_chainId", NULL,
              &(struct rpc_call_opts){.timeout_ms = 5000, .deadline_ms = 300},
              &g, 10000);
    assert_int_equal(g.err, KP_ETIMEOUT);
    assert_true(g.elapsed_us >= 280 * 1000);
    assert_true(g.elapsed_us < 1500 * 1000);
}

/* ---- lagging ---- */

static uint64_t
head_of(struct fx *f, size_t idx)
{
    struct got g;
    cJSON *v;
    uint64_t h = 0;

    call_at_wait(f, idx, "eth_blockNumber", NULL, &g);
    assert_int_equal(g.err, 0);
    v = cJSON_Parse(g.result);
    assert_int_equal(rpc_quantity_u64(v, &h), 0);
    cJSON_Delete(v);
    return h;
}

static void
mine(struct fx *f, size_t idx, uint64_t n)
{
    char params[32];
    struct got g;

    snprintf(params, sizeof(params), "[\"0x%llx\"]", (unsigned long long)n);
    call_at_wait(f, idx, "anvil_mine", params, &g);
    assert_int_equal(g.err, 0);
}

struct lag_want {
    struct fx *f;
    size_t idx;
    bool want;
};

static bool
lagging_is(void *arg)
{
    const struct lag_want *w = arg;

    return rpc_endpoint_stats(w->f->c, w->idx)->lagging == w->want;
}

/* Wait until endpoint idx's lagging flag equals `want` (set by the
 * client's own head polling). */
static bool
wait_lagging(struct fx *f, size_t idx, bool want)
{
    struct lag_want w = {f, idx, want};

    return ts_run_until(&f->loop, lagging_is, &w, 10000);
}

static void
test_lagging_endpoint(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    uint64_t ha, hb, target;
    struct got g;
    char want[32];

    o.head_poll_ms = 30;
    o.max_lag_blocks = 5;
    /* Ignore latency differences: config order decides among healthy. */
    o.latency_tolerance_ms = 60000;
    fx_client(f, anvil_b.http, anvil_a.http, &o);
    hb = head_of(f, 0);
    ha = head_of(f, 1);
    target = (ha > hb ? ha : hb) + 20;
    mine(f, 1, target - ha);
    assert_true(wait_lagging(f, 0, true));
    assert_int_equal(rpc_best_head(f->c), target);

    /* Skipped while lagging: anvil_a answers, with its head. */
    call_wait(f, "eth_blockNumber", NULL, NULL, &g, 10000);
    assert_int_equal(g.err, 0);
    assert_int_equal(g.endpoint, 1);
    snprintf(want, sizeof(want), "\"0x%llx\"", (unsigned long long)target);
    assert_string_equal(g.result, want);

    /* Catch up: back in rotation, and first choice again. */
    mine(f, 0, target - hb);
    assert_true(wait_lagging(f, 0, false));
    call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
    assert_int_equal(g.err, 0);
    assert_int_equal(g.endpoint, 0);

    /* A head reported from elsewhere, far ahead: an endpoint is judged
     * against it from its next poll on (not before: its last answer was
     * right when it was asked), and every endpoint goes out of rotation;
     * calls still go out as a last resort. */
    assert_int_equal(rpc_report_head(f->c, RPC_ENDPOINT_NONE, target + 1000),
                     0);
    assert_true(wait_lagging(f, 0, true));
    assert_true(wait_lagging(f, 1, true));
    assert_int_equal(rpc_best_head(f->c), target + 1000);
    call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
    assert_int_equal(g.err, 0);
}

/* ---- test server cases ---- */

static void
test_batch_any_order(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    static const char *const methods[4] = {"m_zero", "m_one", "t_revert",
                                           "m_three"};
    static const char *const params[4] = {"[]", NULL, "[1]", "{}"};
    struct got g[4];

    fx_server_client(f, TS_ECHO, &o);
    batch4_wait(f, methods, params, g);
    /* The server answered in reverse order; each got its own. */
    assert_string_equal(g[0].result, "\"m_zero\"");
    assert_string_equal(g[1].result, "\"m_one\"");
    assert_string_equal(g[3].result, "\"m_three\"");
    assert_int_equal(g[2].err, KP_ERPC);
    assert_int_equal(g[2].rpc_code, 3);
    assert_string_equal(g[2].message, "execution reverted");
    assert_string_equal(g[2].data, "0xdeadbeef");
    assert_int_equal(f->srv.requests, 1);
}

/* Make one call while the server answers its first `fails` requests with
 * HTTP 500; f->srv.requests then counts this call's requests. */
static void
call_after_500s(struct fx *f, int fails, const char *method, const char *params,
                enum rpc_repeat repeat, struct got *g)
{
    f->srv.fail_first = fails;
    f->srv.requests = 0;
    call_wait(f, method, params, &(struct rpc_call_opts){.repeat = repeat}, g,
              10000);
}

static void
test_retry_safe_not_unsafe(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    o.max_attempts = 3;
    fx_server_client(f, TS_ECHO, &o);

    /* A read is repeated after a backoff and then succeeds. */
    call_after_500s(f, 1, "eth_blockNumber", NULL, RPC_REPEAT_DEFAULT, &g);
    assert_int_equal(g.err, 0);
    assert_string_equal(g.result, "\"eth_blockNumber\"");
    assert_int_equal(g.attempts, 2);
    assert_int_equal(f->srv.requests, 2);
    assert_true(g.elapsed_us >= 20 * 1000); /* >= base/2 of backoff */

    /* eth_sendRawTransaction is not. */
    call_after_500s(f, 1, "eth_sendRawTransaction", "[\"0x02\"]",
                    RPC_REPEAT_DEFAULT, &g);
    assert_int_equal(g.err, KP_EHTTP);
    assert_int_equal(g.http_status, 500);
    assert_int_equal(g.attempts, 1);
    assert_int_equal(f->srv.requests, 1);
    /* The caller's flag overrides the table. */
    call_after_500s(f, 1, "eth_sendRawTransaction", "[\"0x02\"]",
                    RPC_REPEAT_SAFE, &g);
    assert_int_equal(g.err, 0);
    assert_int_equal(f->srv.requests, 2);
    call_after_500s(f, 1, "eth_call", "[{},\"latest\"]", RPC_REPEAT_UNSAFE, &g);
    assert_int_equal(g.err, KP_EHTTP);
    assert_int_equal(f->srv.requests, 1);

    /* Attempts are capped. */
    call_after_500s(f, 100, "eth_getLogs", "[{}]", RPC_REPEAT_DEFAULT, &g);
    assert_int_equal(g.err, KP_EHTTP);
    assert_int_equal(g.attempts, 3);
    assert_int_equal(f->srv.requests, 3);
    /* Three failures in a row: the endpoint rests. */
    assert_true(rpc_endpoint_stats(f->c, 0)->down);
    assert_non_null(strstr(rpc_last_error(f->c), "HTTP 500"));
}

static void
test_reply_size_cap(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    o.max_reply = 64 * 1024;
    fx_server_client(f, TS_BIG, &o);
    /* Under the cap: fine. */
    f->srv.big = 60 * 1024;
    call_wait(f, "eth_getLogs", "[{}]", NULL, &g, 10000);
    assert_int_equal(g.err, 0);
    /* Over it, with Content-Length: refused early. */
    f->srv.big = 200 * 1024;
    call_wait(f, "eth_getLogs", "[{}]", NULL, &g, 10000);
    assert_int_equal(g.err, KP_ELIMIT);
    assert_int_equal(g.attempts, 1); /* no point repeating */
    /* Over it, without a length: cut off while reading. */
    f->srv.mode = TS_BIG_CLOSE;
    f->srv.big = 300 * 1024;
    call_wait(f, "eth_getLogs", "[{}]", NULL, &g, 10000);
    assert_int_equal(g.err, KP_ELIMIT);
    assert_int_equal(rpc_endpoint_stats(f->c, 0)->errors[RPC_EC_LIMIT], 2);
}

static void
test_malformed_replies(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    o.max_attempts = 1;
    fx_server_client(f, TS_RAW, &o);
    f->srv.raw = "<html>bad gateway</html>";
    call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
    assert_int_equal(g.err, KP_EINVAL);
    assert_non_null(strstr(g.text, "not JSON"));
    f->srv.raw = "{\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":\"0x1\"}";
    call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
    assert_int_equal(g.err, KP_EINVAL);
    assert_non_null(strstr(g.text, "id"));
    assert_int_equal(rpc_endpoint_stats(f->c, 0)->errors[RPC_EC_MALFORMED], 2);
}

static void
test_keepalive(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct got g;

    fx_server_client(f, TS_ECHO, &o);
    for (int i = 0; i < 5; i++) {
        call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
        assert_int_equal(g.err, 0);
    }
    assert_int_equal(f->srv.requests, 5);
    assert_int_equal(f->srv.net.accepted, 1);
}

static void
test_redaction(void **state)
{
    struct fx *f = *state;
    char url[160], base[64];
    struct rpc_opts o = test_opts();
    struct got g;

    o.max_attempts = 1;
    fx_server(f, TS_500);
    snprintf(url, sizeof(url),
             "http://alice:s3cretpw@127.0.0.1:%d/v3/APIKEY0123456789?tok=zz9",
             f->srv.net.port);
    fx_client(f, url, NULL, &o);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", f->srv.net.port);
    assert_string_equal(rpc_endpoint_stats(f->c, 0)->name, base);
    call_wait(f, "eth_chainId", NULL, NULL, &g, 10000);
    assert_int_equal(g.err, KP_EHTTP);
    /* The server echoed the path with the key; it must not show. */
    assert_non_null(strstr(g.text, "HTTP 500"));
    assert_null(strstr(g.text, "APIKEY0123456789"));
    assert_null(strstr(g.text, "s3cretpw"));
    assert_null(strstr(g.text, "tok=zz9"));
    assert_null(strstr(rpc_endpoint_stats(f->c, 0)->last_error, "APIKEY"));
    assert_null(strstr(rpc_last_error(f->c), "APIKEY"));
}

static void
test_endpoint_name(void **state)
{
    struct fx *f = *state;
    struct rpc_endpoint_cfg ep = {.url = "https://k.example/v2/SECRET",
                                  .name = "primary"};

    assert_int_equal(rpc_client_new(&f->c, &f->loop, NULL, &ep, 1, NULL), 0);
    assert_string_equal(rpc_endpoint_stats(f->c, 0)->name, "primary");
}

/* ---- cancellation and lifetime ---- */

static void
free_in_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct fx *f = arg;

    (void)result;
    (void)st;
    f->cb_count++;
    rpc_client_free(f->c);
    f->c = NULL;
}

static void
test_cancel_and_free(void **state)
{
    struct fx *f = *state;
    struct rpc_opts o = test_opts();
    struct rpc_batch *b;
    uint64_t id = 0, id2 = 0;

    fx_server_client(f, TS_HANG, &o);
    assert_int_equal(
        rpc_call(f->c, "eth_chainId", NULL, NULL, never_cb, NULL, &id), 0);
    assert_true(id != 0);
    b = rpc_batch_new(f->c);
    assert_int_equal(rpc_batch_add(b, "eth_chainId", NULL, never_cb, NULL), 0);
    assert_int_equal(rpc_batch_send(b, NULL, &id2), 0);
    assert_true(id2 != 0 && id2 != id);
    /* Let the requests reach the server, then cancel. */
    assert_true(ts_run_count(&f->loop, &f->srv.requests, 2, 5000));
    assert_int_equal(rpc_cancel(f->c, id), 0);
    assert_int_equal(rpc_cancel(f->c, id), KP_ENOTFOUND);
    assert_int_equal(rpc_cancel(f->c, id2), 0);
    ts_run_for(&f->loop, 50);

    /* A client freed with calls in flight: no callbacks, no leaks. */
    assert_int_equal(
        rpc_call(f->c, "eth_chainId", NULL, NULL, never_cb, NULL, NULL), 0);
    rpc_client_free(f->c);
    f->c = NULL;
    ts_run_for(&f->loop, 50);

    /* Freed from inside a callback: the other call's callback never runs. */
    f->srv.mode = TS_ECHO;
    fx_client(f, f->srv_url, NULL, &o);
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            rpc_call(f->c, "eth_chainId", NULL, NULL, free_in_cb, f, NULL), 0);
    assert_true(ts_run_count(&f->loop, &f->cb_count, 1, 5000));
    assert_null(f->c);
    ts_run_for(&f->loop, 50);
    assert_int_equal(f->cb_count, 1);
}

/* ---- pure functions ---- */

/* The last parsed document stays alive until the next parse (or NULL
 * body) so that the items can be inspected. */
static int
parse(const char *body, uint64_t id, size_t n, bool batch,
      struct rpc_reply_item *items, char *why)
{
    static cJSON *doc;
    int rc = 0;

    cJSON_Delete(doc);
    doc = NULL;
    if (!body)
        return 0;
    rc = rpc_reply_parse(&doc, items, why, 128, body, strlen(body), id, n,
                         batch);
    assert_true((rc == 0) == (doc != NULL));
    return rc;
}

static void
test_reply_parser(void **state)
{
    struct rpc_reply_item it[3];
    char why[128];

    (void)state;
    assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":null}", 5,
                           1, false, it, why),
                     0);
    assert_int_equal(it[0].err, 0);
    assert_non_null(it[0].result);
    assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":"
                           "-32000,\"message\":\"nonce too low\"}}",
                           5, 1, false, it, why),
                     0);
    assert_int_equal(it[0].err, KP_ERPC);
    assert_int_equal(it[0].code, -32000);
    /* id null with an error: the server could not read the request. */
    assert_int_equal(parse("{\"id\":null,\"error\":{\"code\":-32700,"
                           "\"message\":\"Parse error\"}}",
                           5, 1, false, it, why),
                     0);
    assert_int_equal(it[0].err, KP_ERPC);
    /* Malformed as a whole. */
    assert_int_equal(parse("", 5, 1, false, it, why), KP_EINVAL);
    assert_int_equal(parse("{\"id\":5,\"result\":1} x", 5, 1, false, it, why),
                     KP_EINVAL);
    assert_int_equal(parse("{\"id\":6,\"result\":1}", 5, 1, false, it, why),
                     KP_EINVAL);
    assert_int_equal(parse("{\"id\":5}", 5, 1, false, it, why), KP_EINVAL);
    assert_int_equal(parse("{\"id\":5,\"result\":1,\"error\":{\"code\":1}}", 5,
                           1, false, it, why),
                     KP_EINVAL);
    assert_int_equal(
        parse("{\"id\":5,\"error\":{\"code\":1.5}}", 5, 1, false, it, why),
        KP_EINVAL);
    assert_int_equal(parse("{\"jsonrpc\":\"1.0\",\"id\":5,\"result\":1}", 5, 1,
                           false, it, why),
                     KP_EINVAL);
    assert_int_equal(parse("[{\"id\":5,\"result\":1}]", 5, 1, false, it, why),
                     KP_EINVAL);
    /* Batches: any order, missing and duplicate ids, unknown ids. */
    assert_int_equal(parse("[{\"id\":3,\"result\":\"c\"},{\"id\":1,\"result\":"
                           "\"a\"},{\"id\":1,\"result\":\"dup\"},{\"id\":77,"
                           "\"result\":0}]",
                           1, 3, true, it, why),
                     0);
    assert_int_equal(it[0].err, 0);
    assert_string_equal(it[0].result->valuestring, "a");
    assert_int_equal(it[1].err, KP_EINVAL);
    assert_non_null(strstr(why, "id 2"));
    assert_int_equal(it[2].err, 0);
    assert_string_equal(it[2].result->valuestring, "c");
    /* A rejected batch: one error for all. */
    assert_int_equal(parse("{\"id\":null,\"error\":{\"code\":-32600,"
                           "\"message\":\"too big\"}}",
                           1, 3, true, it, why),
                     0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(it[i].code, -32600);
    assert_int_equal(parse("{\"id\":1,\"result\":1}", 1, 3, true, it, why),
                     KP_EINVAL);
    assert_int_equal(parse("\"x\"", 1, 3, true, it, why), KP_EINVAL);
    parse(NULL, 0, 0, false, it, why);
}

static void
test_quantity(void **state)
{
    cJSON *v;
    uint64_t x;
    static const struct {
        const char *s;
        int rc;
        uint64_t want;
    } cases[] = {
        {"0x0", 0, 0},
        {"0x7a69", 0, 31337},
        {"0xFFFFFFFFFFFFFFFF", 0, UINT64_MAX},
        {"0x00000000000000000001", 0, 1},
        {"0x10000000000000000", KP_ERANGE, 0},
        {"0x", KP_EINVAL, 0},
        {"7a69", KP_EINVAL, 0},
        {"0x7g", KP_EINVAL, 0},
        {"", KP_EINVAL, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = cJSON_CreateString(cases[i].s);
        x = 12345;
        assert_int_equal(rpc_quantity_u64(v, &x), cases[i].rc);
        if (cases[i].rc == 0)
            assert_true(x == cases[i].want);
        cJSON_Delete(v);
    }
    v = cJSON_CreateNumber(5);
    assert_int_equal(rpc_quantity_u64(v, &x), KP_EINVAL);
    cJSON_Delete(v);
    assert_int_equal(rpc_quantity_u64(NULL, &x), KP_EINVAL);
}

static void
test_url_display(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(http_url_display(out, sizeof(out),
                                      "https://u:p@eth.example.org/v3/KEY?a=b"),
                     0);
    assert_string_equal(out, "https://eth.example.org");
    assert_int_equal(
        http_url_display(out, sizeof(out), "http://127.0.0.1:8545/"), 0);
    assert_string_equal(out, "http://127.0.0.1:8545");
    assert_int_equal(http_url_display(out, sizeof(out), "http://[::1]:8545"),
                     0);
    assert_string_equal(out, "http://[::1]:8545");
    assert_int_equal(http_url_display(out, sizeof(out), "ftp://x.org/"),
                     KP_EINVAL);
    assert_int_equal(http_url_display(out, sizeof(out), "not a url"),
                     KP_EINVAL);
    assert_int_equal(http_url_display(out, 8, "http://127.0.0.1:8545/"),
                     KP_ERANGE);
    assert_string_equal(out, "");
}

static void
test_method_table(void **state)
{
    (void)state;
    assert_true(rpc_method_is_safe("eth_call"));
    assert_true(rpc_method_is_safe("eth_getLogs"));
    assert_true(rpc_method_is_safe("eth_blockNumber"));
    assert_true(rpc_method_is_safe("eth_getTransactionReceipt"));
    assert_false(rpc_method_is_safe("eth_sendRawTransaction"));
    assert_false(rpc_method_is_safe("anvil_mine"));
    assert_false(rpc_method_is_safe(""));
    assert_string_equal(rpc_errclass_name(RPC_EC_TIMEOUT), "timeout");
    assert_string_equal(rpc_errclass_name(RPC_EC_LIMIT), "limit");
}

/* ---- misuse ---- */

static void
count_ep(void *arg, size_t idx, const struct rpc_endpoint_stats *st)
{
    (void)st;
    *(size_t *)arg += idx + 1;
}

static void
test_misuse(void **state)
{
    struct fx *f = *state;
    struct rpc_endpoint_cfg eps[RPC_MAX_ENDPOINTS + 1];
    struct rpc_client *c = (struct rpc_client *)1;
    struct rpc_opts o;
    struct rpc_batch *b;
    size_t sum = 0;
    const char *bad_hdr[] = {"X-Key: a\r\nInjected: b"};

    for (size_t i = 0; i <= RPC_MAX_ENDPOINTS; i++)
        eps[i] = (struct rpc_endpoint_cfg){.url = "http://127.0.0.1:1"};
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 0, NULL),
                     KP_ERANGE);
    assert_null(c);
    assert_int_equal(
        rpc_client_new(&c, &f->loop, NULL, eps, RPC_MAX_ENDPOINTS + 1, NULL),
        KP_ERANGE);
    eps[0].url = "ws://127.0.0.1:1";
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, NULL),
                     KP_EINVAL);
    eps[0].url = NULL;
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, NULL),
                     KP_EINVAL);
    eps[0].url = "http://127.0.0.1:1";
    eps[0].name = "";
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, NULL),
                     KP_EINVAL);
    eps[0].name = "ok";
    eps[0].headers = bad_hdr;
    eps[0].nheaders = 1;
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, NULL),
                     KP_EINVAL);
    eps[0].headers = NULL;
    eps[0].nheaders = 0;
    rpc_opts_init(&o);
    o.timeout_ms = 0;
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, &o), KP_ERANGE);
    rpc_opts_init(&o);
    o.max_attempts = 0;
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, &o), KP_ERANGE);
    rpc_opts_init(&o);
    o.max_reply = 10;
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, &o), KP_ERANGE);
    rpc_opts_init(&o);
    o.backoff_max_ms = o.backoff_base_ms - 1;
    assert_int_equal(rpc_client_new(&c, &f->loop, NULL, eps, 1, &o), KP_ERANGE);
    rpc_opts_init(&o);
    o.head_poll_ms = 0;
    o.max_pending = 1;
    assert_int_equal(rpc_client_new(&f->c, &f->loop, NULL, eps, 2, &o), 0);

    assert_int_equal(rpc_call(f->c, "", NULL, NULL, never_cb, NULL, NULL),
                     KP_EINVAL);
    assert_int_equal(
        rpc_call(f->c, "eth_\"x", NULL, NULL, never_cb, NULL, NULL), KP_EINVAL);
    assert_int_equal(
        rpc_call(f->c, "eth_chainId", "1,2", NULL, never_cb, NULL, NULL),
        KP_EINVAL);
    assert_int_equal(rpc_call(f->c, "eth_chainId", NULL,
                              &(struct rpc_call_opts){.repeat = 7}, never_cb,
                              NULL, NULL),
                     KP_ERANGE);
    assert_int_equal(
        rpc_call_at(f->c, 2, "eth_chainId", NULL, NULL, never_cb, NULL, NULL),
        KP_ERANGE);
    assert_int_equal(rpc_report_head(f->c, 2, 1), KP_ERANGE);
    assert_int_equal(rpc_report_head(f->c, 1, 7), 0);
    assert_int_equal(rpc_best_head(f->c), 7);
    assert_int_equal(rpc_cancel(f->c, 12345), KP_ENOTFOUND);
    assert_int_equal(rpc_endpoint_count(f->c), 2);
    rpc_endpoint_foreach(f->c, count_ep, &sum);
    assert_int_equal(sum, 3);

    /* max_pending = 1: the second call is refused, then cancel. */
    uint64_t id;
    assert_int_equal(
        rpc_call(f->c, "eth_chainId", NULL, NULL, never_cb, NULL, &id), 0);
    assert_int_equal(
        rpc_call(f->c, "eth_chainId", NULL, NULL, never_cb, NULL, NULL),
        KP_ELIMIT);
    b = rpc_batch_new(f->c);
    assert_int_equal(rpc_batch_add(b, "eth_chainId", NULL, never_cb, NULL), 0);
    assert_int_equal(rpc_batch_send(b, NULL, NULL), KP_ELIMIT);
    assert_int_equal(rpc_cancel(f->c, id), 0);

    b = rpc_batch_new(f->c);
    assert_int_equal(rpc_batch_send(b, NULL, NULL), KP_EINVAL); /* empty */
    b = rpc_batch_new(f->c);
    assert_int_equal(rpc_batch_add(b, "bad method", NULL, never_cb, NULL),
                     KP_EINVAL);
    assert_int_equal(rpc_batch_add(b, "eth_call", "\"x\"", never_cb, NULL),
                     KP_EINVAL);
    for (int i = 0; i < RPC_MAX_BATCH; i++)
        assert_int_equal(rpc_batch_add(b, "eth_chainId", NULL, never_cb, NULL),
                         0);
    assert_int_equal(rpc_batch_add(b, "eth_chainId", NULL, never_cb, NULL),
                     KP_ELIMIT);
    rpc_batch_free(b);
    rpc_batch_free(NULL);
    rpc_client_free(NULL);
    http_client_free(NULL);
}

static void
http_never(void *arg, const struct http_reply *rep)
{
    (void)arg;
    (void)rep;
    fail_msg("cancelled request completed");
}

static void
test_http_misuse(void **state)
{
    struct fx *f = *state;
    struct http_client *h;
    struct http_request *r = (struct http_request *)1;
    const char *bad_hdr[] = {"NoColon"};
    struct http_req_opts o = {
        .url = "http://127.0.0.1:1/", .timeout_ms = 100, .max_reply = 100};

    assert_int_equal(http_client_new(&h, &f->loop), 0);
    o.url = "file:///etc/passwd";
    assert_int_equal(http_request_start(h, &o, http_never, NULL, &r),
                     KP_EINVAL);
    assert_null(r);
    o.url = "http://127.0.0.1:1/";
    o.timeout_ms = 0;
    assert_int_equal(http_request_start(h, &o, http_never, NULL, NULL),
                     KP_EINVAL);
    o.timeout_ms = 100;
    o.max_reply = 0;
    assert_int_equal(http_request_start(h, &o, http_never, NULL, NULL),
                     KP_EINVAL);
    o.max_reply = 100;
    o.method = "get";
    assert_int_equal(http_request_start(h, &o, http_never, NULL, NULL),
                     KP_EINVAL);
    o.method = "GET";
    o.body = "x";
    o.body_len = 1;
    assert_int_equal(http_request_start(h, &o, http_never, NULL, NULL),
                     KP_EINVAL);
    o.body = NULL;
    o.body_len = 0;
    o.headers = bad_hdr;
    o.nheaders = 1;
    assert_int_equal(http_request_start(h, &o, http_never, NULL, NULL),
                     KP_EINVAL);
    o.headers = NULL;
    o.nheaders = 0;
    /* Started then cancelled: no callback; then freed with one pending. */
    assert_int_equal(http_request_start(h, &o, http_never, NULL, &r), 0);
    assert_int_equal(http_client_pending(h), 1);
    http_request_cancel(r);
    assert_int_equal(http_client_pending(h), 0);
    assert_int_equal(http_request_start(h, &o, http_never, NULL, NULL), 0);
    http_client_free(h);
    ts_run_for(&f->loop, 50);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_basic_calls),
        T(test_rpc_error_object),
        T(test_batch_anvil),
        T(test_failover_refused),
        T(test_failover_http_500),
        T(test_failover_hang),
        T(test_deadline),
        T(test_lagging_endpoint),
        T(test_batch_any_order),
        T(test_retry_safe_not_unsafe),
        T(test_reply_size_cap),
        T(test_malformed_replies),
        T(test_keepalive),
        T(test_redaction),
        T(test_endpoint_name),
        T(test_cancel_and_free),
        cmocka_unit_test(test_reply_parser),
        cmocka_unit_test(test_quantity),
        cmocka_unit_test(test_url_display),
        cmocka_unit_test(test_method_table),
        T(test_misuse),
        T(test_http_misuse),
    };
#undef T

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
