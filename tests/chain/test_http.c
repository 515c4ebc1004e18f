/* HTTP client (chain/http.c) against a small recording server on the same
 * loop, every test once on each engine: the plain one (kept-alive libuv
 * connections) and libcurl's (via_curl). Idle handles and connections are
 * reused, so requests that differ in method, headers, body or
 * compression one after the other must each go out exactly as asked, and
 * reply buffers kept between requests must never leak bytes from one
 * reply into the next. Failures - refused connections, hung servers,
 * oversized replies, a kept-alive connection the server drops as the
 * request arrives - are reported alike by both engines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/http.h"
#include "tests/support/net.h"
#include "tests/support/proc.h"
#include "tests/support/uvrun.h"

#define WAIT_MS 5000
#define MAX_SEEN 32

/* ---- recording server ---- */

/* What the server saw of one request. */
struct seen {
    char method[16];
    char path[64];
    char xa[32], xb[32]; /* values of X-A and X-B, "" if absent */
    char host[64];       /* value of Host */
    bool accept_encoding;
    bool has_length;
    size_t body_len;
    char body[512]; /* first bytes of the body */
};

struct srv {
    struct ts_tcpsrv net; /* port, accepted connections, conns */
    struct seen seen[MAX_SEEN];
    int nseen;
    int vanish;      /* "/vanish" requests still to be answered by closing */
    bool vanish_all; /* ... and the listener closed with them */
};

static struct srv *
srv_of(struct ts_tcpconn *k)
{
    return k->srv->arg;
}

/* Copy the value of header `name` (with its colon) from the header block
 * `hdrs` into out; "" if absent. */
static void
srv_header(char *out, size_t cap, const char *hdrs, const char *name)
{
    size_t n = strlen(name);

    out[0] = '\0';
    for (const char *p = hdrs; (p = strchr(p, '\n')) != NULL; p++) {
        if (strncasecmp(p + 1, name, n) == 0) {
            const char *v = p + 1 + n, *e;

            while (*v == ' ')
                v++;
            e = strpbrk(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return;
        }
    }
}

/* Reply body for `path`: "/size/N" gets N bytes of a pattern that differs
 * from request to request; anything else "ok". */
static char *
srv_body(const char *path, int nth, size_t *len)
{
    char *b;

    if (strncmp(path, "/size/", 6) == 0) {
        *len = strtoul(path + 6, NULL, 10);
        b = malloc(*len + 1);
        for (size_t i = 0; i < *len; i++)
            b[i] = (char)('a' + (i + (size_t)nth) % 26);
        return b;
    }
    *len = 2;
    b = malloc(3);
    memcpy(b, "ok", 3);
    return b;
}

static void srv_reply(struct ts_tcpconn *k, const struct seen *w);

#define SRV_CHUNKED                                                            \
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"   \
    "6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"

#define SRV_429                                                                \
    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"                     \
    "Content-Length: 4\r\n\r\nslow"

/* Special paths: "/hang" gets no reply; "/vanish" gets the connection
 * closed under it while s->vanish > 0, then "ok"; "/429" a 429 with
 * "Retry-After: 7"; "/chunked" a chunked "hello world".
 * Returns: whether the connection is still open. */
static bool
srv_special(struct ts_tcpconn *k, const struct seen *w)
{
    if (strcmp(w->path, "/hang") == 0)
        return true;
    if (strcmp(w->path, "/vanish") == 0 && srv_of(k)->vanish > 0) {
        srv_of(k)->vanish--;
        ts_tcpconn_close(k);
        if (srv_of(k)->vanish_all)
            ts_tcpsrv_stop_listening(k->srv);
        return false;
    }
    if (strcmp(w->path, "/vanish") == 0) {
        srv_reply(k, w);
        return true;
    }
    if (strcmp(w->path, "/429") == 0) {
        ts_write_copy((uv_stream_t *)&k->tcp, SRV_429, strlen(SRV_429));
        return true;
    }
    ts_write_copy((uv_stream_t *)&k->tcp, SRV_CHUNKED, strlen(SRV_CHUNKED));
    return true;
}

static void
srv_reply(struct ts_tcpconn *k, const struct seen *w)
{
    size_t blen, hl;
    char head[128], *body, *all;

    body = srv_body(w->path, srv_of(k)->nseen - 1, &blen);

    /* "/close": the client is to close the connection after the reply. */
    hl = (size_t)snprintf(
        head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n%s\r\n",
        blen, strcmp(w->path, "/close") == 0 ? "Connection: close\r\n" : "");
    if (strcmp(w->method, "HEAD") == 0)
        blen = 0;
    all = malloc(hl + blen);
    memcpy(all, head, hl);
    memcpy(all + hl, body, blen);
    ts_write_copy((uv_stream_t *)&k->tcp, all, hl + blen);
    free(all);
    free(body);
}

/* Drop body bytes the server does not want: those already read now,
 * the rest as they arrive (k->discard). */
static void
srv_drop(struct ts_tcpconn *k, size_t n)
{
    size_t now = n < k->len ? n : k->len;

    ts_tcpconn_consume(k, now);
    k->discard = n - now;
}

/* Take complete requests off the front of the connection's buffer. */
static void
srv_parse(struct ts_tcpconn *k)
{
    struct srv *s = srv_of(k);

    for (;;) {
        char *end = memmem(k->buf, k->len, "\r\n\r\n", 4), cl[32];
        struct seen w = {0};
        size_t hlen;

        if (!end)
            return;
        hlen = (size_t)(end - k->buf) + 4;
        *end = '\0';
        srv_header(cl, sizeof(cl), k->buf, "Content-Length:");
        w.has_length = cl[0] != '\0';
        w.body_len = strtoul(cl, NULL, 10);
        if (strncmp(k->buf, "POST /early ", 12) == 0) {
            /* An early answer (as to a body too large): "ok" before the
             * body is read; the body is dropped as it comes. */
            sscanf(k->buf, "%15s %63s", w.method, w.path);
            if (s->nseen < MAX_SEEN)
                s->seen[s->nseen++] = w;
            srv_reply(k, &w);
            ts_tcpconn_consume(k, hlen);
            srv_drop(k, w.body_len);
            continue;
        }
        if (k->len < hlen + w.body_len) {
            *end = '\r';
            return;
        }
        sscanf(k->buf, "%15s %63s", w.method, w.path);
        srv_header(w.xa, sizeof(w.xa), k->buf, "X-A:");
        srv_header(w.xb, sizeof(w.xb), k->buf, "X-B:");
        w.accept_encoding = strcasestr(k->buf, "\nAccept-Encoding:") != NULL;
        srv_header(w.host, sizeof(w.host), k->buf, "Host:");
        memcpy(w.body, k->buf + hlen,
               w.body_len < sizeof(w.body) - 1 ? w.body_len
                                               : sizeof(w.body) - 1);
        if (s->nseen < MAX_SEEN)
            s->seen[s->nseen++] = w;
        if (!strcmp(w.path, "/hang") || !strcmp(w.path, "/vanish") ||
            !strcmp(w.path, "/chunked") || !strcmp(w.path, "/429")) {
            if (!srv_special(k, &w))
                return;
        } else {
            srv_reply(k, &w);
        }
        ts_tcpconn_consume(k, hlen + w.body_len);
    }
}

/* ---- fixture ---- */

/* The engine the tests of this run ask for (set by the setup). */
static bool via_curl;

struct fx {
    uv_loop_t loop;
    struct srv srv;
    struct http_client *c;
    char url[96];
};

static int fx_setup_any(void **state);

static int
fx_setup(void **state)
{
    via_curl = false;
    return fx_setup_any(state);
}

static int
fx_setup_curl(void **state)
{
    via_curl = true;
    return fx_setup_any(state);
}

static int
fx_setup_any(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (!f || uv_loop_init(&f->loop) != 0)
        return -1;
    if (ts_tcpsrv_start(&f->srv.net, &f->loop, srv_parse, &f->srv) != 0)
        return -1;
    http_client_new(&f->c, &f->loop);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    http_client_free(f->c);
    ts_tcpsrv_stop(&f->srv.net);
    rc = ts_loop_close(&f->loop);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Point f->url at `path` on the test server. */
static void
fx_url(struct fx *f, const char *path)
{
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d%s", f->srv.net.port,
             path);
}

/* One reply, copied out of the callback. */
struct got {
    int done;
    int err;
    bool sent;
    long status;
    long retry_after_s;
    size_t len;
    char *body;
};

static void
got_cb(void *arg, const struct http_reply *rep)
{
    struct got *g = arg;

    g->done++;
    g->err = rep->err;
    g->sent = rep->sent;
    g->status = rep->status;
    g->retry_after_s = rep->retry_after_s;
    g->len = rep->body_len;
    g->body = malloc(rep->body_len + 1);
    memcpy(g->body, rep->body, rep->body_len + 1);
}

static bool
got_done(void *arg)
{
    return ((struct got *)arg)->done > 0;
}

/* Make one request and wait for it; the reply must be a 200. */
static void
do_request(struct fx *f, const struct http_req_opts *o, struct got *g)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(http_request_start(f->c, o, got_cb, g, NULL), 0);
    assert_true(ts_run_until(&f->loop, got_done, g, WAIT_MS));
    assert_int_equal(g->done, 1);
    assert_int_equal(g->err, 0);
    assert_int_equal(g->status, 200);
}

static struct http_req_opts
req(const char *url, const char *method, const char *body)
{
    return (struct http_req_opts){
        .method = method,
        .url = url,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = WAIT_MS,
        .max_reply = 1u << 20,
        .via_curl = via_curl,
    };
}

/* POST `body` to `path` on the test server; the reply must be "ok". */
static void
post_ok(struct fx *f, const char *path, const char *body)
{
    struct http_req_opts o;
    struct got g;

    fx_url(f, path);
    o = req(f->url, "POST", body);
    do_request(f, &o, &g);
    assert_string_equal(g.body, "ok");
    free(g.body);
}

/* ---- tests ---- */

/* Each request goes out as asked, whatever the previous request on the
 * (reused) handle was. */
static void
test_http_options_do_not_leak(void **state)
{
    struct fx *f = *state;
    static const char *const ha[] = {"X-A: one"};
    static const char *const hb[] = {"X-B: two", "Content-Type: text/plain"};
    struct http_req_opts o;
    const struct seen *s = f->srv.seen;
    struct got g;

    fx_url(f, "/p");
    o = req(f->url, "POST", "first body");
    o.headers = ha;
    o.nheaders = 1;
    do_request(f, &o, &g);
    free(g.body);
    o.body = "";
    o.body_len = 0;
    do_request(f, &o, &g); /* same shape: the handle is reused as is */
    free(g.body);
    o = req(f->url, "GET", NULL);
    do_request(f, &o, &g);
    free(g.body);
    o = req(f->url, "PUT", "put body");
    o.headers = hb;
    o.nheaders = 2;
    do_request(f, &o, &g);
    free(g.body);
    o = req(f->url, "POST", "z");
    o.accept_compressed = true;
    do_request(f, &o, &g);
    free(g.body);
    o.accept_compressed = false;
    do_request(f, &o, &g);
    free(g.body);
    o = req(f->url, "HEAD", NULL);
    do_request(f, &o, &g);
    assert_int_equal(g.len, 0);
    free(g.body);
    o = req(f->url, "POST", "first body");
    o.headers = ha;
    o.nheaders = 1;
    do_request(f, &o, &g);
    assert_string_equal(g.body, "ok");
    free(g.body);

    assert_int_equal(f->srv.nseen, 8);
    assert_string_equal(s[0].method, "POST");
    assert_string_equal(s[0].body, "first body");
    assert_string_equal(s[0].xa, "one");
    assert_false(s[0].accept_encoding);
    assert_string_equal(s[1].method, "POST");
    assert_true(s[1].has_length);
    assert_int_equal(s[1].body_len, 0);
    assert_string_equal(s[1].xa, "one");
    assert_string_equal(s[2].method, "GET");
    assert_int_equal(s[2].body_len, 0);
    assert_string_equal(s[2].xa, "");
    assert_string_equal(s[3].method, "PUT");
    assert_string_equal(s[3].body, "put body");
    assert_string_equal(s[3].xa, "");
    assert_string_equal(s[3].xb, "two");
    assert_string_equal(s[4].method, "POST");
    assert_true(s[4].accept_encoding);
    assert_string_equal(s[4].xb, "");
    assert_string_equal(s[5].method, "POST");
    assert_false(s[5].accept_encoding);
    assert_string_equal(s[6].method, "HEAD");
    assert_string_equal(s[7].method, "POST");
    assert_string_equal(s[7].body, "first body");
    assert_string_equal(s[7].xa, "one");
}

/* Reply and body buffers are kept between requests: a short reply after
 * a long one is exactly the short one, and bodies above the kept size
 * work too. */
static void
test_http_buffers_reused(void **state)
{
    struct fx *f = *state;
    static const size_t sizes[] = {100000, 3, 70000, 0, 5000, 1};
    char *big = malloc(100001);
    struct http_req_opts o;
    struct got g;

    memset(big, 'b', 100000);
    big[100000] = '\0';
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int nth = f->srv.nseen;

        snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/size/%zu",
                 f->srv.net.port, sizes[i]);
        o = req(f->url, "POST", i % 2 ? "tiny" : big);
        do_request(f, &o, &g);
        assert_int_equal(g.len, sizes[i]);
        for (size_t j = 0; j < sizes[i]; j++)
            if (g.body[j] != (char)('a' + (j + (size_t)nth) % 26))
                fail_msg("reply %zu differs at byte %zu", i, j);
        assert_int_equal(g.body[g.len], '\0');
        free(g.body);
        assert_int_equal(f->srv.seen[nth].body_len, i % 2 ? 4 : 100000);
    }
    free(big);
}

/* Requests in flight together each get a handle of their own, and every
 * reply reaches its own callback. */
static void
test_http_concurrent_same_url(void **state)
{
    struct fx *f = *state;
    struct got g[5];
    char urls[5][96];

    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5; i++) {
            struct http_req_opts o;

            snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d/size/%d",
                     f->srv.net.port, 10 + i);
            o = req(urls[i], "POST", "x");
            memset(&g[i], 0, sizeof(g[i]));
            assert_int_equal(http_request_start(f->c, &o, got_cb, &g[i], NULL),
                             0);
        }
        assert_int_equal(http_client_pending(f->c), 5);
        for (int i = 0; i < 5; i++) {
            assert_true(ts_run_until(&f->loop, got_done, &g[i], WAIT_MS));
            assert_int_equal(g[i].status, 200);
            assert_int_equal(g[i].len, (size_t)(10 + i));
            free(g[i].body);
        }
        assert_int_equal(http_client_pending(f->c), 0);
    }
}

/* A cancelled request's handle goes back to the pool in a usable state. */
static void
test_http_cancel_then_reuse(void **state)
{
    struct fx *f = *state;
    struct http_request *r = NULL;
    struct http_req_opts o;
    struct got g = {0}, never = {0};

    fx_url(f, "/p");
    o = req(f->url, "POST", "cancelled");
    assert_int_equal(http_request_start(f->c, &o, got_cb, &never, &r), 0);
    assert_non_null(r);
    http_request_cancel(r);
    o.body = "after";
    o.body_len = 5;
    do_request(f, &o, &g);
    assert_string_equal(g.body, "ok");
    free(g.body);
    assert_int_equal(never.done, 0);
    assert_string_equal(f->srv.seen[f->srv.nseen - 1].body, "after");
}

/* Connections that end - closed by the client after "Connection:
 * close", or by the server while idle between requests - are replaced,
 * and every request is still answered. */
static void
test_http_connections_end(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;

    fx_url(f, "/close");
    o = req(f->url, "POST", "a");
    for (int i = 0; i < 3; i++) {
        do_request(f, &o, &g);
        free(g.body);
    }
    assert_int_equal(f->srv.net.accepted, 3);
    post_ok(f, "/p", "b");
    do_request(f, &o, &g); /* kept alive */
    free(g.body);
    assert_int_equal(f->srv.net.accepted, 4);
    /* The server drops the idle connection; the client sees it while
     * not watching for a reply, then needs a new one. */
    ts_tcpsrv_close_conns(&f->srv.net);
    ts_run_for(&f->loop, 50);
    do_request(f, &o, &g);
    assert_string_equal(g.body, "ok");
    free(g.body);
    assert_int_equal(f->srv.net.accepted, 5);
    assert_int_equal(f->srv.nseen, 6);
}

/* A URL that passes the scheme check but does not parse fails from the
 * loop as a transport error that certainly never left, and the handle it
 * was tried on serves the next request. */
static void
test_http_bad_url(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o = req("http://bad host/", "POST", "x");
    struct got g = {0};

    assert_int_equal(http_request_start(f->c, &o, got_cb, &g, NULL), 0);
    assert_int_equal(g.done, 0);
    assert_true(ts_run_until(&f->loop, got_done, &g, WAIT_MS));
    assert_int_equal(g.err, KP_ETRANSPORT);
    assert_false(g.sent);
    assert_int_equal(g.status, 0);
    free(g.body);
    post_ok(f, "/p", "y");
}


/* Make one request and wait for its callback, whatever it reports. */
static void
do_any(struct fx *f, const struct http_req_opts *o, struct got *g)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(http_request_start(f->c, o, got_cb, g, NULL), 0);
    assert_int_equal(g->done, 0); /* never from inside the start */
    assert_true(ts_run_until(&f->loop, got_done, g, WAIT_MS));
    assert_int_equal(g->done, 1);
}

/* A chunked reply is put back together; the Host header names host and
 * port. */
static void
test_http_chunked_and_host(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;
    char host[64];

    fx_url(f, "/chunked");
    o = req(f->url, "POST", "{}");
    for (int i = 0; i < 2; i++) { /* the second on the kept connection */
        do_request(f, &o, &g);
        assert_int_equal(g.len, 11);
        assert_string_equal(g.body, "hello world");
        free(g.body);
    }
    assert_int_equal(f->srv.net.accepted, 1);
    snprintf(host, sizeof(host), "127.0.0.1:%d", f->srv.net.port);
    assert_string_equal(f->srv.seen[0].host, host);
    assert_true(f->srv.seen[0].has_length);
    assert_int_equal(f->srv.seen[0].body_len, 2);
}

/* A name that resolves (localhost may give ::1 first while the server
 * listens on 127.0.0.1 only: every address is tried). */
static void
test_http_resolves_name(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;

    snprintf(f->url, sizeof(f->url), "http://localhost:%d/p", f->srv.net.port);
    o = req(f->url, "POST", "x");
    do_request(f, &o, &g);
    assert_string_equal(g.body, "ok");
    free(g.body);
}

/* Nobody listens: a transport error that certainly never left, naming
 * the host and port but not the path. */
static void
test_http_connect_refused(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;
    int port = ts_free_port();

    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/secret-path", port);
    o = req(f->url, "POST", "x");
    do_any(f, &o, &g);
    assert_int_equal(g.err, KP_ETRANSPORT);
    assert_false(g.sent);
    assert_int_equal(g.status, 0);
    free(g.body);
}

/* A server that never answers: a timeout after the request was sent;
 * the next request works on a new connection. */
static void
test_http_timeout(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;

    fx_url(f, "/hang");
    o = req(f->url, "POST", "x");
    o.timeout_ms = 200;
    do_any(f, &o, &g);
    assert_int_equal(g.err, KP_ETIMEOUT);
    assert_true(g.sent);
    free(g.body);
    post_ok(f, "/p", "y");
    assert_int_equal(f->srv.net.accepted, 2);
}

/* A reply above the cap is refused; the cap is exact. */
static void
test_http_reply_cap(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;

    fx_url(f, "/size/5000");
    o = req(f->url, "POST", "x");
    o.max_reply = 4999;
    do_any(f, &o, &g);
    assert_int_equal(g.err, KP_ELIMIT);
    free(g.body);
    o.max_reply = 5000;
    do_request(f, &o, &g);
    assert_int_equal(g.len, 5000);
    free(g.body);
}

/* The server closes a kept-alive connection as the next request arrives
 * on it (the race with an idle timeout): the request is sent again on a
 * fresh connection, once. On a fresh connection the same close is an
 * error: the server may have acted on the request. */
static void
test_http_stale_connection_retried(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;

    post_ok(f, "/p", "warm");
    f->srv.vanish = 1;
    post_ok(f, "/vanish", "again");
    assert_int_equal(f->srv.net.accepted, 2);
    assert_int_equal(f->srv.nseen, 3); /* warm, vanished, repeated */

    /* Now on a fresh connection: no second try. */
    ts_tcpsrv_close_conns(&f->srv.net);
    ts_run_for(&f->loop, 50);
    f->srv.vanish = 2;
    fx_url(f, "/vanish");
    o = req(f->url, "POST", "again");
    do_any(f, &o, &g);
    assert_int_equal(g.err, KP_ETRANSPORT);
    assert_true(g.sent);
    free(g.body);
    assert_int_equal(f->srv.nseen, 4);
}

/* A reply that comes before the request is all written (a server refusing
 * a large body early): the reply is delivered, the connection - still
 * writing - is not kept, and the next request goes out whole. */
static void
test_http_early_reply(void **state)
{
    struct fx *f = *state;
    size_t n = 32u << 20;
    char *big = malloc(n + 1);
    struct http_req_opts o;
    struct got g;

    memset(big, 'e', n);
    big[n] = '\0';
    fx_url(f, "/early");
    o = req(f->url, "POST", big);
    o.body_len = n;
    do_request(f, &o, &g);
    assert_string_equal(g.body, "ok");
    free(g.body);
    post_ok(f, "/p", "after");
    assert_string_equal(f->srv.seen[f->srv.nseen - 1].body, "after");
    free(big);
}

/* A request lost with a kept-alive connection and then not sent again
 * (the server is gone) may still have been acted on: sent is true. */
static void
test_http_retry_keeps_sent(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;

    post_ok(f, "/p", "warm");
    f->srv.vanish = 1;
    f->srv.vanish_all = true;
    fx_url(f, "/vanish");
    o = req(f->url, "POST", "lost");
    do_any(f, &o, &g);
    assert_int_equal(g.err, KP_ETRANSPORT);
    assert_true(g.sent);
    assert_string_equal(f->srv.seen[f->srv.nseen - 1].body, "lost");
    free(g.body);
}

/* Retry-After reaches the caller from both engines; a reply without it
 * reads -1, also on the connection that carried one before. */
static void
test_http_retry_after(void **state)
{
    struct fx *f = *state;
    struct http_req_opts o;
    struct got g;

    fx_url(f, "/429");
    o = req(f->url, "POST", "x");
    do_any(f, &o, &g);
    assert_int_equal(g.err, 0);
    assert_int_equal(g.status, 429);
    assert_int_equal(g.retry_after_s, 7);
    assert_string_equal(g.body, "slow");
    free(g.body);
    fx_url(f, "/p");
    o = req(f->url, "POST", "y");
    do_request(f, &o, &g);
    assert_int_equal(g.retry_after_s, -1);
    free(g.body);
    assert_int_equal(f->srv.net.accepted, 1);
}

int
main(void)
{
#define T(fn)                                                                  \
    cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown),                \
        {#fn "_curl", fn, fx_setup_curl, fx_teardown, NULL}
    const struct CMUnitTest tests[] = {
        T(test_http_options_do_not_leak),
        T(test_http_buffers_reused),
        T(test_http_concurrent_same_url),
        T(test_http_cancel_then_reuse),
        T(test_http_connections_end),
        T(test_http_bad_url),
        T(test_http_chunked_and_host),
        T(test_http_resolves_name),
        T(test_http_connect_refused),
        T(test_http_timeout),
        T(test_http_reply_cap),
        T(test_http_stale_connection_retried),
        T(test_http_early_reply),
        T(test_http_retry_keeps_sent),
        T(test_http_retry_after),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
