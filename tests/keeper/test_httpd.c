/* keeper/httpd: a server on 127.0.0.1:0 on a libuv loop, exercised by a
 * raw HTTP client on the same loop (so nothing blocks the server): routes,
 * status codes, keep-alive, large bodies, header cap, readiness toggling,
 * a stalled heartbeat, promtool on the scraped /metrics, and a clean
 * teardown (uv_loop_close succeeds, ASan finds no leak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "chain/err.h"
#include "keeper/httpd.h"
#include "keeper/log.h"
#include "keeper/metrics.h"
#include "tests/keeper/promtool.h"

#define RESP_MAX (8u << 20)
#define WAIT_MS 5000

/* ---- a tiny HTTP client on the loop ------------------------------------ */

struct client {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    uv_buf_t wbuf;
    bool connected, eof, closed, failed;
    char *data; /* everything received, NUL-terminated */
    size_t len;
};

struct response {
    int status;
    char *headers; /* raw header block, NUL-terminated */
    char *body;
    size_t body_len;
};

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct client *c = h->data;

    (void)hint;
    if (c->len + 65536 + 1 > RESP_MAX) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    c->data = realloc(c->data, c->len + 65536 + 1);
    assert_non_null(c->data);
    *buf = uv_buf_init(c->data + c->len, 65536);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;

    (void)buf;
    if (n > 0) {
        c->len += (size_t)n;
        c->data[c->len] = '\0';
    } else if (n < 0) {
        c->eof = true;
        uv_read_stop(s);
    }
}

static void
on_connect(uv_connect_t *req, int status)
{
    struct client *c = req->data;

    if (status != 0) {
        c->failed = true;
        return;
    }
    c->connected = true;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void
on_timeout(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static void
on_closed(uv_handle_t *h)
{
    if (h->type == UV_TCP)
        ((struct client *)h->data)->closed = true;
}

/* Run the loop until *flag (or cond(arg)) holds or WAIT_MS pass.
 * Returns: true if the condition was met. */
static bool
run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg, uint64_t ms)
{
    uv_timer_t t;
    bool expired = false, met;

    uv_timer_init(loop, &t);
    t.data = &expired;
    uv_timer_start(&t, on_timeout, ms, 0);
    while (!(met = cond(arg)) && !expired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return met;
}

static bool
is_connected(void *arg)
{
    struct client *c = arg;

    return c->connected || c->failed;
}

static bool
is_closed(void *arg)
{
    return ((struct client *)arg)->closed;
}

static void
client_open(struct client *c, uv_loop_t *loop, uint16_t port)
{
    struct sockaddr_in addr;

    memset(c, 0, sizeof(*c));
    c->loop = loop;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->conn.data = c;
    uv_ip4_addr("127.0.0.1", port, &addr);
    assert_int_equal(uv_tcp_connect(&c->conn, &c->tcp,
                                    (const struct sockaddr *)&addr, on_connect),
                     0);
    assert_true(run_until(loop, is_connected, c, WAIT_MS));
    assert_false(c->failed);
}

static void
client_close(struct client *c)
{
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    assert_true(run_until(c->loop, is_closed, c, WAIT_MS));
    free(c->data);
}

/* Returns: offset of the body if a full response is buffered, else 0. */
static size_t
response_complete(const struct client *c)
{
    const char *end, *cl;
    size_t hdr;

    if (c->data == NULL || (end = strstr(c->data, "\r\n\r\n")) == NULL)
        return 0;
    hdr = (size_t)(end - c->data) + 4;
    cl = strcasestr(c->data, "\r\ncontent-length:");
    if (cl == NULL || cl > end)
        return c->eof ? hdr : 0;
    if (c->len >= hdr + strtoul(cl + 17, NULL, 10))
        return hdr;
    return 0;
}

static bool
has_response(void *arg)
{
    struct client *c = arg;

    return response_complete(c) != 0 || c->eof;
}

static void
response_parse(struct response *r, struct client *c)
{
    size_t hdr = response_complete(c);

    memset(r, 0, sizeof(*r));
    assert_true(hdr > 0);
    assert_int_equal(sscanf(c->data, "HTTP/1.%*d %d", &r->status), 1);
    r->headers = strndup(c->data, hdr);
    r->body_len = c->len - hdr;
    r->body = kp_xmalloc(r->body_len + 1);
    memcpy(r->body, c->data + hdr, r->body_len);
    r->body[r->body_len] = '\0';
    c->len = 0; /* ready for the next response on this connection */
    c->data[0] = '\0';
}

static void
response_free(struct response *r)
{
    free(r->headers);
    free(r->body);
}

static void
client_send(struct client *c, const char *raw)
{
    c->wbuf = uv_buf_init((char *)raw, (unsigned)strlen(raw));
    assert_int_equal(
        uv_write(&c->wr, (uv_stream_t *)&c->tcp, &c->wbuf, 1, NULL), 0);
}

/* One request on an open connection; waits for the full response. */
static void
client_request(struct client *c, struct response *r, const char *raw)
{
    client_send(c, raw);
    assert_true(run_until(c->loop, has_response, c, WAIT_MS));
    response_parse(r, c);
}

/* One request on a new connection that asks to be closed. */
static void
get(uv_loop_t *loop, uint16_t port, struct response *r, const char *path)
{
    struct client c;
    char raw[512];

    snprintf(raw, sizeof(raw),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             path);
    client_open(&c, loop, port);
    client_request(&c, r, raw);
    client_close(&c);
}

static bool
header_has(const struct response *r, const char *line)
{
    return strcasestr(r->headers, line) != NULL;
}

/* ---- fixture ----------------------------------------------------------- */

struct app {
    bool ready;
    const char *reason;
    int status_calls;
};

static bool
app_ready(void *arg, char *reason, size_t reasonsz)
{
    struct app *a = arg;

    if (!a->ready)
        snprintf(reason, reasonsz, "%s", a->reason);
    return a->ready;
}

static cJSON *
app_status(void *arg)
{
    struct app *a = arg;
    cJSON *doc = cJSON_CreateObject();

    a->status_calls++;
    cJSON_AddStringToObject(doc, "state", a->ready ? "running" : "starting");
    cJSON_AddNumberToObject(doc, "head", 123456);
    return doc;
}

struct fixture {
    uv_loop_t loop;
    struct metrics *reg;
    struct httpd *srv;
    struct app app;
};

static struct fixture *
fixture_new(const struct httpd_config *extra)
{
    struct fixture *f = kp_xcalloc(1, sizeof(*f));
    struct httpd_config cfg = {0};

    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->reg = metrics_new(0);
    assert_int_equal(metrics_register_keeper(f->reg, "test"), 0);
    if (extra != NULL)
        cfg = *extra;
    cfg.listen = "127.0.0.1:0";
    cfg.metrics = f->reg;
    cfg.ready = app_ready;
    cfg.status = app_status;
    cfg.arg = &f->app;
    f->app.ready = true;
    assert_int_equal(httpd_new(&f->srv, &f->loop, &cfg), 0);
    assert_int_not_equal(httpd_port(f->srv), 0);
    return f;
}

static void
fixture_free(struct fixture *f)
{
    httpd_free(f->srv);
    /* Everything the server opened must close: the loop then runs dry
     * and can be closed. */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    metrics_free(f->reg);
    free(f);
}

static int
setup(void **state)
{
    log_init(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, NULL);
    *state = NULL;
    return 0;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_routes(void **state)
{
    struct fixture *f = fixture_new(NULL);
    uint16_t port = httpd_port(f->srv);
    struct response r;

    (void)state;
    get(&f->loop, port, &r, "/healthz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    assert_true(header_has(&r, "content-type: text/plain"));
    response_free(&r);

    get(&f->loop, port, &r, "/nope");
    assert_int_equal(r.status, 404);
    response_free(&r);

    get(&f->loop, port, &r, "/");
    assert_int_equal(r.status, 404);
    response_free(&r);

    get(&f->loop, port, &r, "/metricsx");
    assert_int_equal(r.status, 404);
    response_free(&r);

    get(&f->loop, port, &r, "/status");
    assert_int_equal(r.status, 200);
    assert_true(header_has(&r, "content-type: application/json"));
    {
        cJSON *doc = cJSON_Parse(r.body);

        assert_non_null(doc);
        assert_string_equal(cJSON_GetObjectItem(doc, "state")->valuestring,
                            "running");
        assert_true(cJSON_GetObjectItem(doc, "head")->valuedouble == 123456);
        cJSON_Delete(doc);
    }
    assert_int_equal(f->app.status_calls, 1);
    response_free(&r);
    fixture_free(f);
}

static void
test_readyz_toggles(void **state)
{
    struct fixture *f = fixture_new(NULL);
    uint16_t port = httpd_port(f->srv);
    struct response r;

    (void)state;
    f->app.ready = false;
    f->app.reason = "no fresh head from a healthy endpoint";
    get(&f->loop, port, &r, "/readyz");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "no fresh head from a healthy endpoint\n");
    response_free(&r);

    f->app.reason = "two\nlines";
    get(&f->loop, port, &r, "/readyz");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "two lines\n");
    response_free(&r);

    f->app.ready = true;
    get(&f->loop, port, &r, "/readyz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    response_free(&r);
    fixture_free(f);
}

static void
test_metrics_scrape_promtool(void **state)
{
    struct fixture *f = fixture_new(NULL);
    struct metric *h;
    struct response r;
    char report[4096], *want;
    size_t want_len;
    int rc;

    (void)state;
    assert_int_equal(metrics_series(f->reg, &h, METRIC_RPC_REQUESTS_TOTAL,
                                    METRIC_LABELS("main", "eth_call")),
                     0);
    metric_add(h, 42);
    assert_int_equal(metrics_series(f->reg, &h, METRIC_RPC_LATENCY_SECONDS,
                                    METRIC_LABELS("main")),
                     0);
    metric_observe(h, 0.012);
    assert_int_equal(
        metrics_series(f->reg, &h, METRIC_HEAD_AGE_SECONDS, METRIC_LABELS("1")),
        0);
    metric_set(h, 3.25);
    get(&f->loop, httpd_port(f->srv), &r, "/metrics");
    assert_int_equal(r.status, 200);
    assert_true(header_has(&r, "content-type: text/plain; version=0.0.4"));
    assert_int_equal(metrics_render(f->reg, &want, &want_len), 0);
    assert_int_equal(r.body_len, want_len);
    assert_string_equal(r.body, want);
    assert_non_null(strstr(
        r.body,
        "keeper_rpc_requests_total{endpoint=\"main\",method=\"eth_call\"} "
        "42\n"));
    rc = promtool_check(r.body, r.body_len, report, sizeof(report));
    if (rc != 0 || report[0] != '\0')
        fail_msg("promtool exit %d:\n%s", rc, report);
    free(want);
    response_free(&r);
    fixture_free(f);
}

static void
test_large_body(void **state)
{
    struct fixture *f = fixture_new(NULL);
    struct metric *h;
    struct response r;
    char ep[64], *want;
    size_t want_len;

    (void)state;
    /* ~1000 histogram series: several hundred KiB, many writes. */
    for (int i = 0; i < 1000; i++) {
        snprintf(ep, sizeof(ep), "endpoint-%04d", i);
        assert_int_equal(metrics_series(f->reg, &h, METRIC_RPC_LATENCY_SECONDS,
                                        METRIC_LABELS(ep)),
                         0);
        metric_observe(h, i / 1000.0);
    }
    assert_int_equal(metrics_render(f->reg, &want, &want_len), 0);
    assert_true(want_len > 500000);
    get(&f->loop, httpd_port(f->srv), &r, "/metrics");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, want_len);
    assert_memory_equal(r.body, want, want_len);
    free(want);
    response_free(&r);
    fixture_free(f);
}

static void
test_methods_and_keepalive(void **state)
{
    struct fixture *f = fixture_new(NULL);
    struct client c;
    struct response r;

    (void)state;
    /* Two requests on one keep-alive connection. */
    client_open(&c, &f->loop, httpd_port(f->srv));
    client_request(&c, &r, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    response_free(&r);
    client_request(&c, &r, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    response_free(&r);
    assert_false(c.eof);
    client_close(&c);

    /* POST is refused, and the connection closes (its body unread). */
    client_open(&c, &f->loop, httpd_port(f->srv));
    client_request(&c, &r,
                   "POST /metrics HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 5\r\n\r\nhello");
    assert_int_equal(r.status, 405);
    assert_true(header_has(&r, "allow: GET"));
    response_free(&r);
    assert_true(run_until(&f->loop, has_response, &c, WAIT_MS));
    assert_true(c.eof);
    client_close(&c);
    fixture_free(f);
}

static bool
is_eof(void *arg)
{
    return ((struct client *)arg)->eof;
}

static void
test_header_cap(void **state)
{
    const struct httpd_config cfg = {.max_header = 1024};
    struct fixture *f = fixture_new(&cfg);
    struct client c;
    char *raw = kp_xmalloc(8192);
    int status = 0;
    size_t n;

    (void)state;
    n = (size_t)snprintf(raw, 8192,
                         "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                         "X-Big: ");
    memset(raw + n, 'a', 4000);
    memcpy(raw + n + 4000, "\r\n\r\n", 5);
    client_open(&c, &f->loop, httpd_port(f->srv));
    client_send(&c, raw);
    /* Refused: either an error status or a closed connection, never 200. */
    assert_true(run_until(&f->loop, is_eof, &c, WAIT_MS));
    if (c.len > 0)
        assert_int_equal(sscanf(c.data, "HTTP/1.%*d %d", &status), 1);
    assert_int_not_equal(status, 200);
    client_close(&c);
    free(raw);
    fixture_free(f);
}

static void
on_wait(uv_timer_t *t)
{
    (void)t;
}

static void
test_healthz_stalled(void **state)
{
    /* A heartbeat slower than the stall threshold stands in for a loop
     * that stopped running its timers. */
    const struct httpd_config cfg = {.heartbeat_ms = 60000, .stall_ms = 500};
    struct fixture *f = fixture_new(&cfg);
    uint16_t port = httpd_port(f->srv);
    struct response r;
    uv_timer_t t;

    (void)state;
    get(&f->loop, port, &r, "/healthz");
    assert_int_equal(r.status, 200);
    response_free(&r);
    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, on_wait, 600, 0);
    while (uv_is_active((uv_handle_t *)&t))
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    get(&f->loop, port, &r, "/healthz");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "loop stalled\n");
    response_free(&r);
    fixture_free(f);
}

static void
test_free_with_open_connections(void **state)
{
    struct fixture *f = fixture_new(NULL);
    struct client idle, busy;
    struct response r;

    (void)state;
    /* One idle keep-alive connection, one with a request in flight. */
    client_open(&idle, &f->loop, httpd_port(f->srv));
    client_request(&idle, &r, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    response_free(&r);
    client_open(&busy, &f->loop, httpd_port(f->srv));
    client_send(&busy, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    uv_run(&f->loop, UV_RUN_NOWAIT);
    httpd_free(f->srv);
    f->srv = NULL;
    /* The server side goes away: both clients see the connection end. */
    assert_true(run_until(&f->loop, is_eof, &idle, WAIT_MS));
    assert_true(run_until(&f->loop, is_eof, &busy, WAIT_MS));
    client_close(&idle);
    client_close(&busy);
    fixture_free(f);
}

static void
test_defaults_without_callbacks(void **state)
{
    struct httpd_config cfg = {.listen = "localhost:0"};
    struct response r;
    struct httpd *srv;
    uv_loop_t loop;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(httpd_new(&srv, &loop, &cfg), 0);
    get(&loop, httpd_port(srv), &r, "/readyz");
    assert_int_equal(r.status, 200);
    response_free(&r);
    get(&loop, httpd_port(srv), &r, "/status");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{}");
    response_free(&r);
    get(&loop, httpd_port(srv), &r, "/metrics");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    response_free(&r);
    httpd_free(srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_bind_conflict_and_misuse(void **state)
{
    struct fixture *f = fixture_new(NULL);
    struct httpd_config cfg = {0};
    struct httpd *srv = (struct httpd *)1;
    char listen[32];

    (void)state;
    snprintf(listen, sizeof(listen), "127.0.0.1:%u",
             (unsigned)httpd_port(f->srv));
    cfg.listen = listen;
    assert_int_equal(httpd_new(&srv, &f->loop, &cfg), KP_EIO);
    assert_null(srv);
    cfg.listen = "nonsense";
    assert_int_equal(httpd_new(&srv, &f->loop, &cfg), KP_EINVAL);
    cfg.listen = "127.0.0.1:65536";
    assert_int_equal(httpd_new(&srv, &f->loop, &cfg), KP_ERANGE);
    assert_int_equal(httpd_new(NULL, &f->loop, &cfg), KP_EINVAL);
    assert_int_equal(httpd_new(&srv, NULL, &cfg), KP_EINVAL);
    assert_int_equal(httpd_new(&srv, &f->loop, NULL), KP_EINVAL);
    assert_int_equal(httpd_port(NULL), 0);
    httpd_free(NULL);
    fixture_free(f);
}

static void
test_parse_listen(void **state)
{
    static const struct {
        const char *in;
        int rc;
        const char *host;
        uint16_t port;
    } cases[] = {
        {"127.0.0.1:9464", 0, "127.0.0.1", 9464},
        {"0.0.0.0:0", 0, "0.0.0.0", 0},
        {"localhost:65535", 0, "127.0.0.1", 65535},
        {"10.1.2.3:080", 0, "10.1.2.3", 80},
        {"127.0.0.1:65536", KP_ERANGE, NULL, 0},
        {"127.0.0.1:999999", KP_ERANGE, NULL, 0},
        {"127.0.0.1:", KP_EINVAL, NULL, 0},
        {"127.0.0.1:-1", KP_EINVAL, NULL, 0},
        {"127.0.0.1:12a", KP_EINVAL, NULL, 0},
        {":9464", KP_EINVAL, NULL, 0},
        {"9464", KP_EINVAL, NULL, 0},
        {"", KP_EINVAL, NULL, 0},
        {"example.com:80", KP_EINVAL, NULL, 0},
        {"256.0.0.1:80", KP_EINVAL, NULL, 0},
        {"[::1]:9464", KP_EINVAL, NULL, 0},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaa:1",
         KP_ERANGE, NULL, 0},
    };
    char host[HTTPD_MAX_HOST], tiny[4];
    uint16_t port;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = httpd_parse_listen(host, sizeof(host), &port, cases[i].in);

        if (rc != cases[i].rc)
            fail_msg("%s: got %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0) {
            assert_string_equal(host, cases[i].host);
            assert_int_equal(port, cases[i].port);
        }
    }
    assert_int_equal(
        httpd_parse_listen(tiny, sizeof(tiny), &port, "127.0.0.1:1"),
        KP_ERANGE);
    assert_int_equal(httpd_parse_listen(host, sizeof(host), &port, NULL),
                     KP_EINVAL);
    assert_int_equal(httpd_parse_listen(NULL, 0, &port, "1.2.3.4:5"),
                     KP_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_readyz_toggles),
        cmocka_unit_test(test_metrics_scrape_promtool),
        cmocka_unit_test(test_large_body),
        cmocka_unit_test(test_methods_and_keepalive),
        cmocka_unit_test(test_header_cap),
        cmocka_unit_test(test_healthz_stalled),
        cmocka_unit_test(test_defaults_without_callbacks),
        cmocka_unit_test(test_free_with_open_connections),
        cmocka_unit_test(test_bind_conflict_and_misuse),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
