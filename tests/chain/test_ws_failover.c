/* The WebSocket client with several URLs, against scripted servers on
 * loopback (no node needed): a first URL that refuses connections is
 * passed over for the second; a connection the server drops moves the
 * client to the next URL and, from the last, back to the first; the
 * backoff grows over the whole list, not per URL; the handshake headers
 * go to every URL; URL lists that are bad at creation are refused, and
 * ws_urls_check names the bad entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/ws.h"
#include "tests/chain/wsquick.h"
#include "tests/chain/wssrv.h"
#include "tests/support/proc.h"
#include "tests/support/uvrun.h"

#define WAIT_MS 5000
#define MAX_EVENTS 8

/* ---- a server that only records the handshake request ---- */

#define CAP_MAX 4096

struct capsrv {
    uv_tcp_t listener;
    int port;
    int open; /* handles not yet closed */
    int requests;
    char req[CAP_MAX]; /* the last request head, NUL-terminated */
};

struct capconn {
    uv_tcp_t tcp;
    struct capsrv *s;
    char in[CAP_MAX];
    size_t len;
    bool closing;
};

static void
cap_conn_closed(uv_handle_t *h)
{
    struct capconn *c = h->data;

    c->s->open--;
    free(c);
}

static void
cap_conn_close(struct capconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, cap_conn_closed);
}

/* Keep the request head, then hang up: the attempt fails. */
static void
cap_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct capconn *c = st->data;
    size_t take;

    if (n > 0 && !c->closing) {
        take = (size_t)n < sizeof(c->in) - 1 - c->len
                   ? (size_t)n
                   : sizeof(c->in) - 1 - c->len;
        memcpy(c->in + c->len, buf->base, take);
        c->len += take;
        c->in[c->len] = '\0';
        if (strstr(c->in, "\r\n\r\n") != NULL || c->len == sizeof(c->in) - 1) {
            memcpy(c->s->req, c->in, c->len + 1);
            c->s->requests++;
            cap_conn_close(c);
        }
    } else if (n < 0) {
        cap_conn_close(c);
    }
    free(buf->base);
}

static void
cap_on_accept(uv_stream_t *server, int status)
{
    struct capsrv *s = server->data;
    struct capconn *c;

    if (status != 0)
        return;
    c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->s = s;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    s->open++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        cap_conn_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, ts_alloc_64k, cap_on_read);
}

static void
cap_listener_closed(uv_handle_t *h)
{
    ((struct capsrv *)h->data)->open--;
}

static int
capsrv_start(struct capsrv *s, uv_loop_t *loop)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->open = 1;
    rc = ts_listen(&s->listener, loop, 16, cap_on_accept, &s->port);
    s->listener.data = s;
    return rc;
}

static void
capsrv_stop(struct capsrv *s)
{
    if (s->open > 0 && !uv_is_closing((uv_handle_t *)&s->listener))
        uv_close((uv_handle_t *)&s->listener, cap_listener_closed);
}

/* ---- fixture ---- */

struct fx {
    uv_loop_t loop;
    struct ws_client *w;
    struct wssrv srv[2];
    bool srv_on[2];
    struct capsrv cap[2];
    bool cap_on[2];
    int refuse_fd[2];
    int refuse_port[2];
    int opens, closes;
    size_t open_idx[MAX_EVENTS];  /* ws_url_index at each on_open */
    size_t close_idx[MAX_EVENTS]; /* and at each on_close */
    char close_name[MAX_EVENTS][WS_NAME_MAX];
};

static void
h_open(void *arg)
{
    struct fx *f = arg;

    if (f->opens < MAX_EVENTS)
        f->open_idx[f->opens] = ws_url_index(f->w);
    f->opens++;
}

static void
h_close(void *arg, int err, const char *text)
{
    struct fx *f = arg;

    (void)text;
    assert_int_equal(err, KP_ETRANSPORT);
    if (f->closes < MAX_EVENTS) {
        f->close_idx[f->closes] = ws_url_index(f->w);
        snprintf(f->close_name[f->closes], WS_NAME_MAX, "%s", ws_name(f->w));
    }
    f->closes++;
}

static const struct ws_handler handler = {h_open, NULL, h_close};

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL || uv_loop_init(&f->loop) != 0)
        return -1;
    f->refuse_fd[0] = f->refuse_fd[1] = -1;
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    ws_client_free(f->w);
    for (int i = 0; i < 2; i++) {
        if (f->srv_on[i])
            wssrv_stop(&f->srv[i]);
        if (f->cap_on[i])
            capsrv_stop(&f->cap[i]);
        if (f->refuse_fd[i] >= 0)
            close(f->refuse_fd[i]);
    }
    rc = ts_loop_close(&f->loop);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void
fx_wssrv(struct fx *f, int i)
{
    assert_int_equal(wssrv_start(&f->srv[i], &f->loop), 0);
    f->srv_on[i] = true;
}

static void
fx_refusing(struct fx *f, int i)
{
    f->refuse_fd[i] = ts_refusing_port(&f->refuse_port[i]);
    assert_true(f->refuse_fd[i] >= 0);
}

/* A client for the URLs "ws://127.0.0.1:<port>/path?key=SECRET", started. */
static void
fx_client(struct fx *f, const int *ports, size_t n, const struct ws_opts *o)
{
    char buf[4][64];
    const char *urls[4];

    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        snprintf(buf[i], sizeof(buf[i]), "ws://127.0.0.1:%d/p?key=SECRET",
                 ports[i]);
        urls[i] = buf[i];
    }
    assert_int_equal(ws_client_new(&f->w, &f->loop, urls, n, o), 0);
    ws_set_handler(f->w, &handler, f);
    assert_int_equal(ws_url_index(f->w), 0);
    assert_int_equal(ws_start(f->w), 0);
}

/* Close the server's side of every connection it holds. */
static void
srv_drop(struct wssrv *s)
{
    for (struct wssrv_conn *c = s->conns; c != NULL; c = c->next)
        wss_close(c);
}

static void
name_of(char *out, size_t cap, int port)
{
    snprintf(out, cap, "ws://127.0.0.1:%d", port);
}

/* ---- tests ---- */

static void
test_first_refuses(void **state)
{
    struct fx *f = *state;
    struct ws_opts o = wsquick_opts(7);
    char want[64];
    int ports[2];

    fx_refusing(f, 0);
    fx_wssrv(f, 1);
    ports[0] = f->refuse_port[0];
    ports[1] = f->srv[1].port;
    fx_client(f, ports, 2, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, WAIT_MS));
    assert_true(ws_is_open(f->w));
    assert_int_equal(f->open_idx[0], 1);
    assert_int_equal(ws_url_index(f->w), 1);
    name_of(want, sizeof(want), f->srv[1].port);
    assert_string_equal(ws_name(f->w), want);
    assert_int_equal(f->srv[1].upgrades, 1);
    assert_int_equal(ws_stats(f->w)->attempts, 2);
    assert_int_equal(ws_stats(f->w)->failures, 1);
    assert_int_equal(ws_stats(f->w)->connects, 1);
    /* A failed attempt is no lost connection: nothing for on_close. */
    assert_int_equal(f->closes, 0);
    /* The failure names the URL that refused, without its secret. */
    name_of(want, sizeof(want), f->refuse_port[0]);
    assert_non_null(strstr(ws_last_error(f->w), want));
    assert_null(strstr(ws_last_error(f->w), "SECRET"));
}

static void
test_drop_moves_on_and_back(void **state)
{
    struct fx *f = *state;
    struct ws_opts o = wsquick_opts(7);
    char name0[64], name1[64];
    int ports[2];

    fx_wssrv(f, 0);
    fx_wssrv(f, 1);
    ports[0] = f->srv[0].port;
    ports[1] = f->srv[1].port;
    name_of(name0, sizeof(name0), ports[0]);
    name_of(name1, sizeof(name1), ports[1]);
    fx_client(f, ports, 2, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, WAIT_MS));
    assert_int_equal(f->open_idx[0], 0);
    assert_string_equal(ws_name(f->w), name0);

    /* URL 1 drops the connection: the client goes to URL 2. */
    srv_drop(&f->srv[0]);
    assert_true(ts_run_count(&f->loop, &f->opens, 2, WAIT_MS));
    assert_int_equal(f->closes, 1);
    assert_int_equal(f->close_idx[0], 0); /* on_close names the lost URL */
    assert_string_equal(f->close_name[0], name0);
    assert_int_equal(f->open_idx[1], 1);
    assert_string_equal(ws_name(f->w), name1);
    assert_int_equal(f->srv[1].upgrades, 1);

    /* URL 2 drops it: back to URL 1. */
    srv_drop(&f->srv[1]);
    assert_true(ts_run_count(&f->loop, &f->opens, 3, WAIT_MS));
    assert_int_equal(f->closes, 2);
    assert_int_equal(f->close_idx[1], 1);
    assert_string_equal(f->close_name[1], name1);
    assert_int_equal(f->open_idx[2], 0);
    assert_string_equal(ws_name(f->w), name0);
    assert_int_equal(f->srv[0].upgrades, 2);
    assert_int_equal(f->srv[1].upgrades, 1);
    assert_int_equal(ws_stats(f->w)->connects, 3);
    assert_int_equal(ws_stats(f->w)->disconnects, 2);
    assert_int_equal(ws_stats(f->w)->failures, 0);

    /* The open connection works. */
    assert_int_equal(ws_send_text(f->w, "{}", 2), 0);
}

static void
test_backoff_over_the_list(void **state)
{
    struct fx *f = *state;
    struct ws_opts o = wsquick_opts(7);
    int ports[2];

    fx_refusing(f, 0);
    fx_refusing(f, 1);
    ports[0] = f->refuse_port[0];
    ports[1] = f->refuse_port[1];
    fx_client(f, ports, 2, &o);
    /* As many attempts as with one URL. A backoff that started over at
     * each URL, or none, would make several dozen. */
    wsquick_check_backoff(&f->loop, f->w);
    assert_int_equal(f->opens, 0);
    assert_int_equal(f->closes, 0);
}

static void
test_order_of_tries(void **state)
{
    struct fx *f = *state;
    struct ws_opts o = wsquick_opts(7);
    int ports[3];

    /* Two dead URLs, then a live one: three attempts, in list order. */
    fx_refusing(f, 0);
    fx_refusing(f, 1);
    fx_wssrv(f, 0);
    ports[0] = f->refuse_port[0];
    ports[1] = f->refuse_port[1];
    ports[2] = f->srv[0].port;
    fx_client(f, ports, 3, &o);
    assert_true(ts_run_count(&f->loop, &f->opens, 1, WAIT_MS));
    assert_int_equal(f->open_idx[0], 2);
    assert_int_equal(ws_stats(f->w)->attempts, 3);
    assert_int_equal(ws_stats(f->w)->failures, 2);
}

static void
test_headers_to_every_url(void **state)
{
    struct fx *f = *state;
    struct ws_opts o = wsquick_opts(7);
    const char *hdrs[] = {"X-Test: yes"};
    int ports[2];

    o.headers = hdrs;
    o.nheaders = 1;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(capsrv_start(&f->cap[i], &f->loop), 0);
        f->cap_on[i] = true;
        ports[i] = f->cap[i].port;
    }
    fx_client(f, ports, 2, &o);
    assert_true(ts_run_count(&f->loop, &f->cap[1].requests, 1, WAIT_MS));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f->cap[i].requests, 1);
        assert_non_null(strcasestr(f->cap[i].req, "\r\nX-Test: yes\r\n"));
        /* Each URL gets its own path and Host. */
        assert_true(strncmp(f->cap[i].req, "GET /p?key=SECRET ", 18) == 0);
    }
    {
        char host[64];

        snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", ports[1]);
        assert_non_null(strcasestr(f->cap[1].req, host));
    }
}

static void
test_bad_lists(void **state)
{
    uv_loop_t loop;
    struct ws_client *w = NULL;
    const char *all_bad[] = {"http://a", "ws://"};
    const char *second_bad[] = {"ws://a", "ws://b:0", "ws://c"};
    const char *null_entry[] = {"ws://a", NULL};
    const char *good[] = {"ws://a:1/x?key=SECRET", "wss://[::1]/y"};
    const char *many[WS_MAX_URLS + 1];
    char longhost[WS_MAX_HOST + 16];
    const char *too_long[] = {"ws://a", longhost};
    size_t bad = 99;

    (void)state;
    uv_loop_init(&loop);
    for (size_t i = 0; i < WS_MAX_URLS + 1; i++)
        many[i] = "ws://a";
    memset(longhost, 'h', sizeof(longhost));
    memcpy(longhost, "ws://", 5);
    longhost[sizeof(longhost) - 1] = '\0';

    /* Every URL bad. */
    assert_int_equal(ws_client_new(&w, &loop, all_bad, 2, NULL), KP_EINVAL);
    assert_null(w);
    assert_int_equal(ws_urls_check(&bad, all_bad, 2), KP_EINVAL);
    assert_int_equal(bad, 0);
    /* One bad among good ones: refused all the same, and named. */
    assert_int_equal(ws_client_new(&w, &loop, second_bad, 3, NULL), KP_EINVAL);
    assert_null(w);
    assert_int_equal(ws_urls_check(&bad, second_bad, 3), KP_EINVAL);
    assert_int_equal(bad, 1);
    assert_int_equal(ws_client_new(&w, &loop, null_entry, 2, NULL), KP_EINVAL);
    assert_int_equal(ws_urls_check(&bad, null_entry, 2), KP_EINVAL);
    assert_int_equal(bad, 1);
    assert_int_equal(ws_client_new(&w, &loop, too_long, 2, NULL), KP_ERANGE);
    assert_int_equal(ws_urls_check(&bad, too_long, 2), KP_ERANGE);
    assert_int_equal(bad, 1);
    /* Counts. */
    assert_int_equal(ws_client_new(&w, &loop, good, 0, NULL), KP_ERANGE);
    assert_int_equal(ws_client_new(&w, &loop, many, WS_MAX_URLS + 1, NULL),
                     KP_ERANGE);
    assert_int_equal(ws_client_new(&w, &loop, NULL, 1, NULL), KP_EINVAL);
    assert_null(w);
    assert_int_equal(ws_urls_check(&bad, good, 0), KP_ERANGE);
    assert_int_equal(bad, 0);
    assert_int_equal(ws_urls_check(&bad, many, WS_MAX_URLS + 1), KP_ERANGE);
    assert_int_equal(bad, WS_MAX_URLS + 1);
    assert_int_equal(ws_urls_check(&bad, NULL, 1), KP_EINVAL);
    assert_int_equal(bad, 0);

    /* A good list: nothing named; the client starts at the first URL. */
    bad = 99;
    assert_int_equal(ws_urls_check(&bad, good, 2), 0);
    assert_int_equal(bad, 99);
    assert_int_equal(ws_urls_check(&bad, many, WS_MAX_URLS), 0);
    assert_int_equal(ws_client_new(&w, &loop, good, 2, NULL), 0);
    assert_string_equal(ws_name(w), "ws://a:1");
    assert_int_equal(ws_url_index(w), 0);
    ws_client_free(w);
    assert_int_equal(ts_loop_close(&loop), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_lists), T(test_first_refuses),
        T(test_drop_moves_on_and_back),   T(test_backoff_over_the_list),
        T(test_order_of_tries),           T(test_headers_to_every_url),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
