/* The WebSocket client (chain/ws.c) over wss:// against a node WSS server
 * whose certificates come from a CA made at test time
 * (tests/chain/tlsfix.h): with that CA as ws_opts.ca_file the connection
 * opens, a subscription is answered and its notification arrives; without
 * it (the system store), with another CA, or to a server whose
 * certificate names another host, no attempt ever opens (failures grow,
 * on_open never runs). A CA file that cannot be read is refused when the
 * client is made. Clients made and freed back to back release their TLS
 * contexts (under LeakSanitizer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <libwebsockets.h>

#include "chain/err.h"
#include "chain/ws.h"
#include "tests/chain/tlsfix.h"
#include "tests/support/uvrun.h"

#define WAIT_MS 10000
#define BACK_TO_BACK 4
#define SUBSCRIBE                                                              \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\","              \
    "\"params\":[\"newHeads\"]}"
#define SUB_ID "0x9cef478923ff08bf67fde6c64013158d"

static struct tlsfix fix;
static uv_loop_t loop;

/* What one client saw. */
struct seen {
    struct ws_client *w;
    int opens;
    bool subscribed;   /* the eth_subscribe reply, with the id */
    bool notification; /* the eth_subscription push for that id */
};

/* The test's client; freed by test_teardown whatever the test did. */
static struct seen cur;

static void
on_open(void *arg)
{
    struct seen *s = arg;

    s->opens++;
    assert_int_equal(ws_send_text(s->w, SUBSCRIBE, strlen(SUBSCRIBE)), 0);
}

static void
on_message(void *arg, const char *msg, size_t len)
{
    struct seen *s = arg;
    cJSON *j = cJSON_ParseWithLength(msg, len);
    const cJSON *params;
    const char *result, *sub;

    assert_non_null(j);
    params = cJSON_GetObjectItem(j, "params");
    result = cJSON_GetStringValue(cJSON_GetObjectItem(j, "result"));
    sub = cJSON_GetStringValue(cJSON_GetObjectItem(params, "subscription"));
    if (cJSON_GetNumberValue(cJSON_GetObjectItem(j, "id")) == 1 && result &&
        !strcmp(result, SUB_ID))
        s->subscribed = true;
    if (s->subscribed && sub && !strcmp(sub, SUB_ID))
        s->notification = true;
    cJSON_Delete(j);
}

static bool
got_notification(void *arg)
{
    return ((struct seen *)arg)->notification;
}

static bool
failed_twice(void *arg)
{
    return ws_stats(((struct seen *)arg)->w)->failures >= 2;
}

/* The defaults with quick reconnects (20 ms doubling up to 160 ms) and
 * a fixed jitter seed. */
static struct ws_opts
quick_opts(void)
{
    struct ws_opts o;

    ws_opts_init(&o);
    o.backoff_base_ms = 20;
    o.backoff_max_ms = 160;
    o.connect_timeout_ms = 3000;
    o.seed = 7;
    return o;
}

/* A client for wss://127.0.0.1:<port>/ trusting `ca_file`, started. */
static void
start(int port, const char *ca_file)
{
    struct seen *s = &cur;
    struct ws_opts o = quick_opts();
    const struct ws_handler h = {.on_open = on_open, .on_message = on_message};
    char url[64];
    const char *urls[1] = {url};

    memset(s, 0, sizeof(*s));
    snprintf(url, sizeof(url), "wss://127.0.0.1:%d/", port);
    o.ca_file = ca_file;
    assert_int_equal(ws_client_new(&s->w, &loop, urls, 1, &o), 0);
    ws_set_handler(s->w, &h, s);
    assert_int_equal(ws_start(s->w), 0);
}

/* Two attempts fail and none opens: TLS refused the server. */
static void
expect_refused(int port, const char *ca_file)
{
    start(port, ca_file);
    assert_true(ts_run_until(&loop, failed_twice, &cur, WAIT_MS));
    assert_int_equal(cur.opens, 0);
    assert_int_equal(ws_stats(cur.w)->connects, 0);
    assert_int_equal(ws_stats(cur.w)->messages_in, 0);
    assert_false(ws_is_open(cur.w));
    /* lws 4.1 says no more than this about a refused certificate. */
    assert_non_null(strstr(ws_last_error(cur.w), "SSL"));
}

static int
group_setup(void **state)
{
    (void)state;
    /* lws reports every refused certificate as an error on stderr. */
    lws_set_log_level(0, NULL);
    if (tlsfix_start(&fix) != 0)
        return -1;
    return uv_loop_init(&loop);
}

/* No waiting for the client's lws context to go: the next test's client
 * is made while it is still being destroyed (as on a reload). */
static int
test_teardown(void **state)
{
    (void)state;
    ws_client_free(cur.w);
    memset(&cur, 0, sizeof(cur));
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    tlsfix_stop(&fix);
    return ts_loop_close(&loop) == 0 ? 0 : -1;
}

static void
test_trusted_ca_subscribes(void **state)
{
    (void)state;
    start(fix.port, fix.ca);
    assert_true(ts_run_until(&loop, got_notification, &cur, WAIT_MS));
    assert_int_equal(cur.opens, 1);
    assert_true(ws_is_open(cur.w));
    assert_int_equal(ws_stats(cur.w)->failures, 0);
    assert_int_equal(ws_stats(cur.w)->messages_in, 2);
}

static void
test_system_store_refuses(void **state)
{
    (void)state;
    expect_refused(fix.port, NULL);
}

static void
test_wrong_ca_refuses(void **state)
{
    (void)state;
    expect_refused(fix.port, fix.wrong_ca);
}

/* The certificate is from the trusted CA, for other.example only. */
static void
test_host_name_checked(void **state)
{
    (void)state;
    expect_refused(fix.other_port, fix.ca);
}

static void
test_unreadable_ca_file(void **state)
{
    struct ws_opts o = quick_opts();
    const char *urls[1] = {"wss://127.0.0.1:1/"};
    struct ws_client *w = NULL;
    char path[160];
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/none.pem", fix.dir);
    o.ca_file = path;
    assert_int_equal(ws_client_new(&w, &loop, urls, 1, &o), KP_EIO);
    assert_null(w);
    /* Readable, but no certificate in it. */
    snprintf(path, sizeof(path), "%s/nocert.pem", fix.dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a certificate\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ws_client_new(&w, &loop, urls, 1, &o), KP_EIO);
    assert_null(w);
    /* A readable file is fine. */
    o.ca_file = fix.ca;
    assert_int_equal(ws_client_new(&cur.w, &loop, urls, 1, &o), 0);
}

/* Clients made, opened and freed one after the other, each freed just
 * before the next is made (its lws context still being destroyed): every
 * one's TLS context and certificate store must
 * still be released (LeakSanitizer fails the run otherwise; lws 4.1 lost
 * a context of its own making destroyed after a newer one was made). */
static void
test_clients_back_to_back(void **state)
{
    (void)state;
    for (int i = 0; i < BACK_TO_BACK; i++) {
        start(fix.port, fix.ca);
        assert_true(ts_run_until(&loop, got_notification, &cur, WAIT_MS));
        assert_int_equal(cur.opens, 1);
        ws_client_free(cur.w);
        cur.w = NULL;
    }
    /* And one on the system store, still trying when the teardown frees
     * it. */
    start(fix.port, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_trusted_ca_subscribes, test_teardown),
        cmocka_unit_test_teardown(test_system_store_refuses, test_teardown),
        cmocka_unit_test_teardown(test_wrong_ca_refuses, test_teardown),
        cmocka_unit_test_teardown(test_host_name_checked, test_teardown),
        cmocka_unit_test_teardown(test_unreadable_ca_file, test_teardown),
        cmocka_unit_test_teardown(test_clients_back_to_back, test_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
