/* The WebSocket client against anvil's WebSocket endpoint, directly and
 * through a loopback TCP proxy the test controls: request/reply, the
 * message size cap, reconnect after a drop, exponential backoff while the
 * server is down, idle timeout on a silent path, pings keeping a quiet
 * connection up, connect timeout, freeing from inside a handler; URL
 * parsing and misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <libwebsockets.h>

#include "chain/err.h"
#include "chain/ws.h"
#include "tests/chain/evtest.h"
#include "tests/chain/tcpproxy.h"
#include "tests/chain/wsquick.h"

/* ---- fixture ---- */

struct wfx {
    uv_loop_t loop;
    struct ws_client *w;
    struct tcpproxy px;
    bool px_on;
    int opens, closes, msgs;
    int last_err;
    char last_msg[8192];
    char last_close[200];
    bool free_in_handler;
};

static void
h_open(void *arg)
{
    struct wfx *f = arg;

    f->opens++;
}

static void
h_message(void *arg, const char *msg, size_t len)
{
    struct wfx *f = arg;

    f->msgs++;
    assert_int_equal(msg[len], '\0');
    snprintf(f->last_msg, sizeof(f->last_msg), "%s", msg);
    if (f->free_in_handler) {
        ws_client_free(f->w);
        f->w = NULL;
    }
}

static void
h_close(void *arg, int err, const char *text)
{
    struct wfx *f = arg;

    f->closes++;
    f->last_err = err;
    snprintf(f->last_close, sizeof(f->last_close), "%s", text);
}

static const struct ws_handler handler = {h_open, h_message, h_close};

static int
wfx_setup(void **state)
{
    struct wfx *f = calloc(1, sizeof(*f));

    if (f == NULL || uv_loop_init(&f->loop) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
wfx_teardown(void **state)
{
    struct wfx *f = *state;
    int rc;

    ws_client_free(f->w);
    if (f->px_on)
        tcpproxy_stop(&f->px);
    rc = ts_loop_close(&f->loop);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Client to anvil, directly or through the proxy. */
static void
wfx_client(struct wfx *f, bool proxied, const struct ws_opts *o)
{
    char url[96];

    if (proxied) {
        assert_int_equal(tcpproxy_start(&f->px, &f->loop, evt_node.port), 0);
        f->px_on = true;
        snprintf(url, sizeof(url), "ws://127.0.0.1:%d/?key=SECRET", f->px.port);
    } else {
        snprintf(url, sizeof(url), "%s", evt_node.ws);
    }
    assert_int_equal(ws_client_new(&f->w, &f->loop, &(const char *){url}, 1, o),
                     0);
    ws_set_handler(f->w, &handler, f);
    assert_int_equal(ws_start(f->w), 0);
    assert_int_equal(ws_start(f->w), KP_ESTATE);
}

static void
send_req(struct wfx *f, const char *method, const char *params)
{
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\","
                     "\"params\":%s}",
                     method, params);

    assert_int_equal(ws_send_text(f->w, req, (size_t)n), 0);
}

/* ---- tests ---- */

static void
test_request_reply(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    wfx_client(f, false, &o);
    assert_false(ws_is_open(f->w));
    assert_int_equal(ws_send_text(f->w, "x", 1), KP_ESTATE);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 10000));
    assert_true(ws_is_open(f->w));
    send_req(f, "eth_chainId", "[]");
    send_req(f, "eth_chainId", "[]"); /* two queued at once */
    assert_true(ts_run_count(&f->loop, &f->msgs, 2, 10000));
    assert_non_null(strstr(f->last_msg, "\"0x7a69\""));
    assert_int_equal(ws_stats(f->w)->connects, 1);
    assert_int_equal(ws_stats(f->w)->messages_in, 2);
    assert_int_equal(ws_stats(f->w)->messages_out, 2);
    assert_int_equal(ws_stats(f->w)->dropped_out, 1);
    assert_int_equal(f->closes, 0);
    assert_string_equal(ws_name(f->w), evt_node.ws);
}

static void
test_message_cap(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    o.max_message = 100;
    wfx_client(f, false, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 10000));
    /* A block is far over 100 bytes: the connection goes, and comes back. */
    send_req(f, "eth_getBlockByNumber", "[\"0x0\",false]");
    assert_true(ts_run_count(&f->loop, &f->closes, 1, 10000));
    assert_int_equal(f->last_err, KP_ELIMIT);
    assert_int_equal(f->msgs, 0);
    assert_int_equal(ws_stats(f->w)->oversized, 1);
    assert_true(ts_run_count(&f->loop, &f->opens, 2, 10000));
    /* Small replies still pass. */
    send_req(f, "eth_chainId", "[]");
    assert_true(ts_run_count(&f->loop, &f->msgs, 1, 10000));
    assert_non_null(strstr(f->last_msg, "0x7a69"));
}

static void
test_drop_and_reconnect(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    wfx_client(f, true, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 10000));
    tcpproxy_drop_all(&f->px);
    assert_true(ts_run_count(&f->loop, &f->closes, 1, 10000));
    assert_int_equal(f->last_err, KP_ETRANSPORT);
    assert_false(ws_is_open(f->w));
    /* The display name and errors never show the path or the key. */
    assert_null(strstr(ws_last_error(f->w), "SECRET"));
    assert_null(strstr(ws_name(f->w), "key"));
    assert_true(ts_run_count(&f->loop, &f->opens, 2, 10000));
    send_req(f, "eth_chainId", "[]");
    assert_true(ts_run_count(&f->loop, &f->msgs, 1, 10000));
    assert_int_equal(ws_stats(f->w)->connects, 2);
    assert_int_equal(ws_stats(f->w)->disconnects, 1);
}

static void
test_backoff_while_down(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    assert_int_equal(tcpproxy_start(&f->px, &f->loop, evt_node.port), 0);
    f->px_on = true;
    tcpproxy_set_mode(&f->px, TP_REFUSE);
    {
        char url[64];

        snprintf(url, sizeof(url), "ws://127.0.0.1:%d", f->px.port);
        assert_int_equal(
            ws_client_new(&f->w, &f->loop, &(const char *){url}, 1, &o), 0);
    }
    ws_set_handler(f->w, &handler, f);
    assert_int_equal(ws_start(f->w), 0);
    wsquick_check_backoff(&f->loop, f->w);
    assert_int_equal(f->opens, 0);
    assert_int_equal(f->closes, 0); /* never open: nothing to report */
    assert_true(strlen(ws_last_error(f->w)) > 0);
    tcpproxy_set_mode(&f->px, TP_FORWARD);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 5000));
}

static void
test_idle_timeout(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    o.ping_ms = 50;
    o.idle_timeout_ms = 300;
    wfx_client(f, true, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 10000));
    tcpproxy_set_mode(&f->px, TP_BLACKHOLE);
    assert_true(ts_run_count(&f->loop, &f->closes, 1, 3000));
    assert_int_equal(f->last_err, KP_ETIMEOUT);
    tcpproxy_set_mode(&f->px, TP_FORWARD);
    assert_true(ts_run_count(&f->loop, &f->opens, 2, 5000));
}

static void
test_pings_keep_quiet_connection(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    o.ping_ms = 40;
    o.idle_timeout_ms = 200;
    wfx_client(f, false, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 10000));
    ts_run_for(&f->loop, 800); /* four idle timeouts' worth of silence */
    assert_true(ws_is_open(f->w));
    assert_int_equal(f->closes, 0);
    assert_true(ws_stats(f->w)->pings >= 8);
    assert_int_equal(ws_stats(f->w)->connects, 1);
}

static void
test_connect_timeout(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    /* TCP connects, the handshake is never answered. */
    o.connect_timeout_ms = 150;
    assert_int_equal(tcpproxy_start(&f->px, &f->loop, evt_node.port), 0);
    f->px_on = true;
    tcpproxy_set_mode(&f->px, TP_BLACKHOLE);
    {
        char url[64];

        snprintf(url, sizeof(url), "ws://127.0.0.1:%d", f->px.port);
        assert_int_equal(
            ws_client_new(&f->w, &f->loop, &(const char *){url}, 1, &o), 0);
    }
    ws_set_handler(f->w, &handler, f);
    ws_start(f->w);
    ts_run_for(&f->loop, 700);
    assert_true(ws_stats(f->w)->failures >= 2);
    assert_int_equal(f->opens, 0);
    assert_non_null(strstr(ws_last_error(f->w), "timed out"));
    /* Abandoned attempts do not pile up. */
    assert_true(tcpproxy_live(&f->px) <= 2);
    tcpproxy_set_mode(&f->px, TP_FORWARD);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 5000));
}

static void
test_free_from_handler(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);

    wfx_client(f, false, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 10000));
    f->free_in_handler = true;
    send_req(f, "eth_chainId", "[]");
    assert_true(ts_run_count(&f->loop, &f->msgs, 1, 10000));
    assert_null(f->w);
    /* Teardown drains the loop: ASan sees any use after free. */
}

static void
test_url_parse(void **state)
{
    struct ws_url u;

    (void)state;
    assert_int_equal(ws_url_parse(&u, "ws://example.com"), 0);
    assert_false(u.tls);
    assert_string_equal(u.host, "example.com");
    assert_int_equal(u.port, 80);
    assert_false(u.port_given);
    assert_string_equal(u.path, "/");
    assert_int_equal(ws_url_parse(&u, "WSS://node.example:8546/v3/KEY?x=1#f"),
                     0);
    assert_true(u.tls);
    assert_int_equal(u.port, 8546);
    assert_string_equal(u.path, "/v3/KEY?x=1");
    assert_int_equal(ws_url_parse(&u, "wss://h?q"), 0);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/?q");
    assert_int_equal(ws_url_parse(&u, "ws://[::1]:9000/p"), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);

    assert_int_equal(ws_url_parse(&u, "http://h"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://:80"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://h:0"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://h:65536"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://h:8a"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://h:"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://user:pw@h"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://[::1"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://[::1]x"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, "ws://h/a b"), KP_EINVAL);
    assert_int_equal(ws_url_parse(&u, NULL), KP_EINVAL);
    {
        char big[WS_MAX_HOST + 16];

        memset(big, 'a', sizeof(big));
        memcpy(big, "ws://", 5);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(ws_url_parse(&u, big), KP_ERANGE);
    }
}

static void
test_misuse(void **state)
{
    uv_loop_t loop;
    struct ws_client *w = NULL;
    struct ws_opts o;
    const char *bad_hdr[] = {"NoColon"};
    const char *crlf_hdr[] = {"X-A: b\r\nX-B: c"};
    const char *https[] = {"https://h"}, *h[] = {"ws://h"};
    const char *closed[] = {"ws://127.0.0.1:1"};

    (void)state;
    uv_loop_init(&loop);
    assert_int_equal(ws_client_new(&w, &loop, https, 1, NULL), KP_EINVAL);
    assert_null(w);
    ws_opts_init(&o);
    o.max_message = 0;
    assert_int_equal(ws_client_new(&w, &loop, h, 1, &o), KP_ERANGE);
    ws_opts_init(&o);
    o.backoff_base_ms = 5000;
    o.backoff_max_ms = 100;
    assert_int_equal(ws_client_new(&w, &loop, h, 1, &o), KP_ERANGE);
    ws_opts_init(&o);
    o.headers = bad_hdr;
    o.nheaders = 1;
    assert_int_equal(ws_client_new(&w, &loop, h, 1, &o), KP_EINVAL);
    o.headers = crlf_hdr;
    assert_int_equal(ws_client_new(&w, &loop, h, 1, &o), KP_EINVAL);
    o.nheaders = WS_MAX_HEADERS + 1;
    assert_int_equal(ws_client_new(&w, &loop, h, 1, &o), KP_ERANGE);
    /* A client never started, freed at once. */
    assert_int_equal(ws_client_new(&w, &loop, closed, 1, NULL), 0);
    assert_false(ws_is_open(w));
    assert_string_equal(ws_last_error(w), "");
    ws_client_free(w);
    ws_client_free(NULL);
    assert_int_equal(ts_loop_close(&loop), 0);
}

static void
test_headers_sent(void **state)
{
    struct wfx *f = *state;
    struct ws_opts o = wsquick_opts(99);
    const char *hdrs[] = {"Authorization: Bearer not-a-secret", "X-Test:  yes"};

    /* anvil ignores them; the handshake must still succeed with them. */
    o.headers = hdrs;
    o.nheaders = 2;
    wfx_client(f, false, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, 10000));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, wfx_setup, wfx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_misuse),
        T(test_request_reply),
        T(test_message_cap),
        T(test_drop_and_reconnect),
        T(test_backoff_while_down),
        T(test_idle_timeout),
        T(test_pings_keep_quiet_connection),
        T(test_connect_timeout),
        T(test_free_from_handler),
        T(test_headers_sent),
    };

    return cmocka_run_group_tests(tests, evt_group_setup_node,
                                  evt_group_teardown);
}
