/* HTTPS through the curl engine (chain/http.c) and the RPC client
 * (chain/rpc.c) against a node HTTPS server whose certificates come from
 * a CA made at test time (tests/chain/tlsfix.h): with that CA as ca_file
 * a request gets the server's reply; without it (the system store), with
 * another CA, with a CA file that does not exist, or to a server whose
 * certificate names another host, the request fails in the handshake.
 * Idle easy handles are reused only for the same CA file, so a request
 * without a CA never rides on a handle configured with one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/http.h"
#include "chain/rpc.h"
#include "tests/chain/tlsfix.h"
#include "tests/support/rpcsync.h"
#include "tests/support/uvrun.h"

#define WAIT_MS 10000
#define BODY "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_blockNumber\"}"
#define WANT "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"tls:eth_blockNumber\"}"

static struct tlsfix fix;
static uv_loop_t loop;
static struct http_client *client;

/* What one request came back with. */
struct got {
    bool done;
    int err;
    long status;
    char body[256];
    char errtext[256];
};

static void
on_done(void *arg, const struct http_reply *rep)
{
    struct got *g = arg;

    g->done = true;
    g->err = rep->err;
    g->status = rep->status;
    snprintf(g->body, sizeof(g->body), "%s", rep->body);
    snprintf(g->errtext, sizeof(g->errtext), "%s", rep->errtext);
}

static bool
got_done(void *arg)
{
    return ((struct got *)arg)->done;
}

/* POST BODY to the server on `port` with `ca_file`, and wait for the
 * reply.   Out: *g */
static void
post(struct got *g, int port, const char *ca_file)
{
    char url[64];
    const char *hdr = "Content-Type: application/json";

    memset(g, 0, sizeof(*g));
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
    assert_int_equal(http_request_start(client,
                                        &(struct http_req_opts){
                                            .url = url,
                                            .headers = &hdr,
                                            .nheaders = 1,
                                            .body = BODY,
                                            .body_len = strlen(BODY),
                                            .timeout_ms = WAIT_MS,
                                            .max_reply = 4096,
                                            .ca_file = ca_file,
                                        },
                                        on_done, g, NULL),
                     0);
    assert_true(ts_run_until(&loop, got_done, g, WAIT_MS + 2000));
}

static void
expect_ok(int port, const char *ca_file)
{
    struct got g;

    post(&g, port, ca_file);
    if (g.err != 0)
        fail_msg("expected a reply, got %s: %s", kp_strerror(g.err), g.errtext);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, WANT);
}

/* A TLS failure: a transport error with no HTTP status, whose text
 * contains `why` (curl's words for the cause). */
static void
expect_refused(int port, const char *ca_file, const char *why)
{
    struct got g;

    post(&g, port, ca_file);
    assert_int_equal(g.err, KP_ETRANSPORT);
    assert_int_equal(g.status, 0);
    assert_string_equal(g.body, "");
    if (!strstr(g.errtext, why))
        fail_msg("error text '%s' does not say '%s'", g.errtext, why);
}

static int
group_setup(void **state)
{
    (void)state;
    if (tlsfix_start(&fix) != 0)
        return -1;
    uv_loop_init(&loop);
    return http_client_new(&client, &loop);
}

static int
group_teardown(void **state)
{
    (void)state;
    http_client_free(client);
    tlsfix_stop(&fix);
    return ts_loop_close(&loop) == 0 ? 0 : -1;
}

static void
test_trusted_ca(void **state)
{
    (void)state;
    expect_ok(fix.port, fix.ca);
    expect_ok(fix.port, fix.ca); /* again, on the kept-alive connection */
}

static void
test_system_store_refuses(void **state)
{
    (void)state;
    expect_refused(fix.port, NULL, "certificate");
}

static void
test_wrong_ca_refuses(void **state)
{
    (void)state;
    expect_refused(fix.port, fix.wrong_ca, "certificate");
}

static void
test_missing_ca_file_fails(void **state)
{
    char path[160];

    (void)state;
    snprintf(path, sizeof(path), "%s/none.pem", fix.dir);
    expect_refused(fix.port, path, "none.pem");
}

/* The certificate is from the trusted CA, for other.example only. */
static void
test_host_name_checked(void **state)
{
    (void)state;
    expect_refused(fix.other_port, fix.ca, "127.0.0.1");
}

/* Alternating CA files on one client: each request is judged by its own
 * ca_file, whichever idle handle or connection the previous one left. */
static void
test_ca_file_separates_handles(void **state)
{
    (void)state;
    expect_ok(fix.port, fix.ca);
    expect_refused(fix.port, NULL, "certificate");
    expect_ok(fix.port, fix.ca);
    expect_refused(fix.port, fix.wrong_ca, "certificate");
    expect_ok(fix.port, fix.ca);
}

/* rpc_endpoint_cfg.ca_file reaches the request. */
static void
test_rpc_call_over_tls(void **state)
{
    char url[64];
    struct rpc_endpoint_cfg ep = {.url = url, .ca_file = fix.ca};
    struct rpc_client *rc = NULL;
    struct ts_rpc_reply r;
    struct rpc_opts o;

    (void)state;
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", fix.port);
    ts_rpc_opts_init(&o);
    assert_int_equal(rpc_client_new(&rc, &loop, client, &ep, 1, &o), 0);
    assert_int_equal(ts_rpc_call(&r, &loop, rc, "eth_chainId", NULL, WAIT_MS),
                     0);
    assert_string_equal(cJSON_GetStringValue(r.result), "0x7a69");
    ts_rpc_reply_cleanup(&r);
    rpc_client_free(rc);

    /* The same endpoint without the CA: the call fails. */
    ep.ca_file = NULL;
    o.max_attempts = 1;
    assert_int_equal(rpc_client_new(&rc, &loop, client, &ep, 1, &o), 0);
    assert_int_not_equal(
        ts_rpc_call(&r, &loop, rc, "eth_chainId", NULL, WAIT_MS), 0);
    assert_null(r.result);
    ts_rpc_reply_cleanup(&r);
    rpc_client_free(rc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trusted_ca),
        cmocka_unit_test(test_system_store_refuses),
        cmocka_unit_test(test_wrong_ca_refuses),
        cmocka_unit_test(test_missing_ca_file_fails),
        cmocka_unit_test(test_host_name_checked),
        cmocka_unit_test(test_ca_file_separates_handles),
        cmocka_unit_test(test_rpc_call_over_tls),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
