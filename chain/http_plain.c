/*
 * http_plain.c - the plain-HTTP engine of chain/http.c (see http_int.h).
 *
 * One struct http_pconn per TCP connection, carrying one request at a
 * time (no pipelining). A connection is found idle by host and port, or
 * made: the name resolved with uv_getaddrinfo (numeric hosts skip it),
 * each address tried in turn. The request goes out with uv_try_write -
 * one send(2) on the hot path - and uv_write for whatever did not fit.
 * Reading stays on while a connection idles, so a peer that closes it is
 * seen at once rather than on the next request.
 *
 * Each connection has one timer: the request's deadline while it carries
 * one, a zero delay to report a failure from the loop rather than from
 * inside http_plain_start, and its idle age while it waits to be reused.
 *
 * A request that fails on a reused connection before any byte of reply
 * arrived is sent once more on a fresh connection, as curl does: the
 * peer may have closed the idle connection while the request was on its
 * way, and a peer that closes a connection answers nothing on it.
 */
#include "chain/http_int.h"

#include <assert.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "chain/err.h"
#include "chain/http_resp.h"

/* Idle connections kept for reuse, over all hosts. */
#define PLAIN_IDLE_MAX 16
/* An idle connection older than this is closed (curl's default too):
 * servers drop idle connections after a while, and a request should not
 * be the one to find out. */
#define PLAIN_IDLE_MS 118000u
#define PLAIN_RBUF (64u * 1024u)
/* Reply buffers above this size are not kept by idle connections. */
#define PLAIN_KEEP_BUF (64u * 1024u)
#define PLAIN_HOST_MAX 255

enum pconn_state {
    PC_RESOLVING,
    PC_CONNECTING,
    PC_BUSY,    /* carrying a request */
    PC_IDLE,    /* kept alive, waiting for a request */
    PC_CLOSING, /* handles closing; off the list */
};

struct http_pconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect;
    uv_getaddrinfo_t gai;
    uv_write_t wr;
    struct http_plain *p;
    struct http_pconn *prev, *next;
    enum pconn_state state;
    char host[PLAIN_HOST_MAX + 1];
    uint16_t port;
    int open;         /* handles and requests the loop still holds */
    bool tcp_init;    /* tcp initialised (closes with the connection) */
    bool reused;      /* a reply was read on it before this request */
    bool failing;     /* timer armed to report `fail_*` */
    bool writing;     /* uv_write of the request in flight */
    int fail_err;     /* KP_E* to report */
    bool fail_sent;
    struct addrinfo *ai, *ai_next; /* addresses to try, owned */
    struct http_request *r;
    struct http_resp resp;
    char *rbuf;
};

struct http_plain {
    uv_loop_t *loop;
    struct http_pconn *conns; /* every connection not closing */
    size_t nidle;
    size_t nalive; /* connections not yet freed */
    bool dead;
};

static void pconn_send(struct http_pconn *k);
static void pconn_on_timer(uv_timer_t *t);

/* ---- targets ---- */

static bool
plain_host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
           ch == '~';
}

/* Parse "host[:port]" or "[v6][:port]" ending at `end`. */
static bool
plain_authority(const char *s, const char *end, struct http_target *t)
{
    const char *h = s, *hend, *colon;
    unsigned long port = 80;

    if (*s == '[') {
        if (!(hend = memchr(s, ']', (size_t)(end - s))))
            return false;
        h = s + 1;
        t->ipv6 = true;
        colon = hend + 1 < end ? hend + 1 : NULL;
        if (colon && *colon != ':')
            return false;
        for (const char *q = h; q < hend; q++)
            if (!(plain_host_char(*q) || *q == ':') || *q == '%')
                return false;
    } else {
        colon = memchr(s, ':', (size_t)(end - s));
        hend = colon ? colon : end;
        for (const char *q = h; q < hend; q++)
            if (!plain_host_char(*q))
                return false;
    }
    if (hend == h || (size_t)(hend - h) > PLAIN_HOST_MAX)
        return false;
    if (colon) {
        const char *q = colon + 1;

        if (q == end || end - q > 5)
            return false;
        port = 0;
        for (; q < end; q++) {
            if (*q < '0' || *q > '9')
                return false;
            port = port * 10 + (unsigned long)(*q - '0');
        }
        if (port == 0 || port > 65535)
            return false;
    }
    t->host = h;
    t->host_len = (size_t)(hend - h);
    t->port = (uint16_t)port;
    return true;
}

bool
http_plain_takes(const struct http_req_opts *o, struct http_target *t)
{
    const char *s, *auth_end, *p;

    memset(t, 0, sizeof(*t));
    if (o->via_curl || o->accept_compressed ||
        strncasecmp(o->url, "http://", 7) != 0)
        return false;
    for (size_t i = 0; i < o->nheaders; i++) {
        static const char *const own[] = {"content-length:", "connection:",
                                           "transfer-encoding:", "expect:"};

        for (size_t j = 0; j < sizeof(own) / sizeof(own[0]); j++)
            if (strncasecmp(o->headers[i], own[j], strlen(own[j])) == 0)
                return false;
    }
    s = o->url + 7;
    auth_end = s + strcspn(s, "/?#");
    if (memchr(s, '@', (size_t)(auth_end - s)) ||
        !plain_authority(s, auth_end, t))
        return false;
    p = auth_end;
    t->path = p;
    t->path_len = strcspn(p, "#");
    for (size_t i = 0; i < t->path_len; i++)
        if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
            return false; /* curl's to encode or refuse */
    return true;
}

/* ---- the request on the wire ---- */

static bool
plain_has_header(const struct http_req_opts *o, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < o->nheaders; i++)
        if (strncasecmp(o->headers[i], name, n) == 0)
            return true;
    return false;
}

/* A header "Name:" with nothing after the colon removes the header, as
 * with curl: it is not sent. */
static bool
plain_header_empty(const char *h)
{
    const char *v = strchr(h, ':') + 1;

    return v[strspn(v, " \t")] == '\0';
}

static void
plain_put(char **w, const char *s, size_t n)
{
    memcpy(*w, s, n);
    *w += n;
}

/* Write the whole request into r->wire. */
static void
plain_build(struct http_request *r, const struct http_req_opts *o,
            const char *method, const struct http_target *t)
{
    char hostline[PLAIN_HOST_MAX + 32], lenline[48];
    size_t hl = 0, ll = 0, need, mlen = strlen(method);
    bool body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
    char *w;

    if (!plain_has_header(o, "host:")) {
        int n = snprintf(hostline, sizeof(hostline), "Host: %s%.*s%s",
                         t->ipv6 ? "[" : "", (int)t->host_len, t->host,
                         t->ipv6 ? "]" : "");

        if (t->port != 80)
            n += snprintf(hostline + n, sizeof(hostline) - (size_t)n, ":%u",
                          (unsigned)t->port);
        hl = (size_t)n;
    }
    if (body)
        ll = (size_t)snprintf(lenline, sizeof(lenline),
                              "Content-Length: %zu", o->body_len);
    need = mlen + 1 + (t->path_len ? t->path_len : 1) +
           (t->path_len && t->path[0] == '?' ? 1 : 0) + 11 + hl + 2 + ll + 2 +
           2 + o->body_len;
    for (size_t i = 0; i < o->nheaders; i++)
        need += strlen(o->headers[i]) + 2;
    r->wire = w = kp_xmalloc(need);
    plain_put(&w, method, mlen);
    plain_put(&w, " ", 1);
    if (!t->path_len || t->path[0] == '?')
        plain_put(&w, "/", 1);
    plain_put(&w, t->path, t->path_len);
    plain_put(&w, " HTTP/1.1\r\n", 11);
    if (hl) {
        plain_put(&w, hostline, hl);
        plain_put(&w, "\r\n", 2);
    }
    for (size_t i = 0; i < o->nheaders; i++) {
        if (plain_header_empty(o->headers[i]))
            continue;
        plain_put(&w, o->headers[i], strlen(o->headers[i]));
        plain_put(&w, "\r\n", 2);
    }
    if (ll) {
        plain_put(&w, lenline, ll);
        plain_put(&w, "\r\n", 2);
    }
    plain_put(&w, "\r\n", 2);
    if (body && o->body_len)
        plain_put(&w, o->body, o->body_len);
    r->wire_len = (size_t)(w - r->wire);
    assert(r->wire_len <= need);
}

static void
plain_wire_free(struct http_request *r)
{
    if (r->wire) {
        kp_wipe(r->wire, r->wire_len); /* bodies may hold secrets */
        free(r->wire);
    }
    r->wire = NULL;
    r->wire_len = 0;
}

/* ---- connection list ---- */

static void
pconn_link(struct http_plain *p, struct http_pconn *k)
{
    k->prev = NULL;
    k->next = p->conns;
    if (p->conns)
        p->conns->prev = k;
    p->conns = k;
}

static void
pconn_unlink(struct http_plain *p, struct http_pconn *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        p->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->prev = k->next = NULL;
}

static void
pconn_release(struct http_pconn *k)
{
    struct http_plain *p = k->p;

    if (--k->open > 0)
        return;
    http_resp_free(&k->resp);
    if (k->ai)
        uv_freeaddrinfo(k->ai);
    free(k->rbuf);
    free(k);
    if (--p->nalive == 0 && p->dead)
        free(p);
}

static void
pconn_closed(uv_handle_t *h)
{
    pconn_release(h->data);
}

/* Take `k` out of use and close its handles; it is freed once they have
 * closed (and any resolution in flight has returned). */
static void
pconn_close(struct http_pconn *k)
{
    if (k->state == PC_CLOSING)
        return;
    if (k->state == PC_IDLE)
        k->p->nidle--;
    if (k->state == PC_RESOLVING)
        uv_cancel((uv_req_t *)&k->gai); /* its callback still runs */
    k->state = PC_CLOSING;
    pconn_unlink(k->p, k);
    uv_close((uv_handle_t *)&k->timer, pconn_closed);
    if (k->tcp_init)
        uv_close((uv_handle_t *)&k->tcp, pconn_closed);
}

static struct http_pconn *
pconn_new(struct http_plain *p, const struct http_target *t)
{
    struct http_pconn *k = kp_xcalloc(1, sizeof(*k));

    k->p = p;
    memcpy(k->host, t->host, t->host_len);
    k->port = t->port;
    uv_timer_init(p->loop, &k->timer);
    k->timer.data = k;
    k->open = 1;
    http_resp_init(&k->resp, 1, false);
    p->nalive++;
    pconn_link(p, k);
    return k;
}

static struct http_pconn *
pconn_find_idle(struct http_plain *p, const struct http_target *t)
{
    for (struct http_pconn *k = p->conns; k; k = k->next)
        if (k->state == PC_IDLE && k->port == t->port &&
            strlen(k->host) == t->host_len &&
            memcmp(k->host, t->host, t->host_len) == 0)
            return k;
    return NULL;
}

/* A fresh connection to the host and port of `k`. */
static struct http_pconn *
pconn_sibling(struct http_pconn *k)
{
    struct http_target t = {
        .host = k->host, .host_len = strlen(k->host), .port = k->port};

    return pconn_new(k->p, &t);
}

/* Put request `r` on connection `k`, its parser ready for the reply. */
static void
pconn_attach(struct http_pconn *k, struct http_request *r)
{
    k->r = r;
    r->pc = k;
    http_resp_reset(&k->resp, r->max, r->head);
}

/* ---- completion ---- */

static uint32_t
plain_remaining(const struct http_pconn *k, const struct http_request *r)
{
    uint64_t now = uv_now(k->p->loop);

    return r->deadline_ms > now ? (uint32_t)(r->deadline_ms - now) : 0;
}

/* Detach the request from `k` and hand the reply over. */
static void
pconn_deliver(struct http_pconn *k, int err, bool sent)
{
    struct http_request *r = k->r;
    struct http_reply rep = {
        .err = err,
        .status = k->resp.status,
        .body = k->resp.body && k->resp.body_len ? k->resp.body : "",
        .body_len = k->resp.body_len,
        .elapsed_us = (uv_hrtime() - r->t0) / 1000u,
        .errtext = err ? r->errtext : "",
        .sent = sent || r->sent_before,
        .retry_after_s = k->resp.retry_after_s,
    };

    k->r = NULL;
    r->pc = NULL;
    plain_wire_free(r);
    http_deliver(r, &rep);
}

static void
pconn_set_error(struct http_request *r, const char *what,
                const struct http_pconn *k, const char *why)
{
    snprintf(r->errtext, sizeof(r->errtext), "%s %s%s%s:%u: %s", what,
             strchr(k->host, ':') ? "[" : "", k->host,
             strchr(k->host, ':') ? "]" : "", (unsigned)k->port, why);
}

/* The request on `k` failed: close the connection and report, or send
 * the request again on a fresh connection when the failure is that of a
 * kept-alive connection the peer closed. */
static void
pconn_fail(struct http_pconn *k, int err, bool sent)
{
    struct http_request *r = k->r;
    struct http_plain *p = k->p;

    k->r = NULL;
    pconn_close(k);
    if (!r)
        return;
    r->pc = NULL;
    if (err == KP_ETRANSPORT && k->reused && !k->resp.got_bytes &&
        !r->retried && !p->dead) {
        struct http_pconn *n = pconn_sibling(k);

        r->retried = true;
        r->sent_before = sent;
        /* The new connection resolves and connects like any other. */
        pconn_attach(n, r);
        pconn_send(n);
        return;
    }
    k->r = r; /* for pconn_deliver */
    r->pc = k;
    pconn_deliver(k, err, sent);
}

/* Report a failure from the loop: callers of http_plain_start must not
 * see their callback run inside it. */
static void
pconn_fail_later(struct http_pconn *k, int err, bool sent)
{
    k->failing = true;
    k->fail_err = err;
    k->fail_sent = sent;
    uv_timer_start(&k->timer, pconn_on_timer, 0, 0);
}

/* ---- reading ---- */

static void
pconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct http_pconn *k = h->data;

    (void)hint;
    if (!k->rbuf)
        k->rbuf = kp_xmalloc(PLAIN_RBUF);
    *buf = uv_buf_init(k->rbuf, PLAIN_RBUF);
}

static void
pconn_idle(struct http_pconn *k)
{
    struct http_plain *p = k->p;

    if (p->dead || k->state != PC_BUSY) {
        pconn_close(k);
        return;
    }
    if (p->nidle >= PLAIN_IDLE_MAX) {
        /* Keep the most recently used ones. */
        struct http_pconn *old = NULL;

        for (struct http_pconn *q = p->conns; q; q = q->next)
            if (q->state == PC_IDLE)
                old = q; /* the list is newest first */
        if (old)
            pconn_close(old);
    }
    if (k->resp.body_cap > PLAIN_KEEP_BUF) {
        /* Like the curl engine: big buffers are not kept idle. */
        http_resp_free(&k->resp);
        http_resp_init(&k->resp, 1, false);
    }
    k->state = PC_IDLE;
    k->reused = true;
    p->nidle++;
    uv_timer_start(&k->timer, pconn_on_timer, PLAIN_IDLE_MS, 0);
    uv_unref((uv_handle_t *)&k->tcp);
    uv_unref((uv_handle_t *)&k->timer);
    /* Newest first, for pconn_find_idle and the trimming above. */
    pconn_unlink(p, k);
    pconn_link(p, k);
}

/* The reply is complete: hand it over, then keep the connection. */
static void
pconn_reply_done(struct http_pconn *k, bool leftover)
{
    /* A reply before the request is all written (an early error): libuv
     * still writes from r->wire, freed below; closing the connection
     * cancels that write. */
    bool keep = k->resp.keep_alive && !leftover && !k->writing;

    uv_timer_stop(&k->timer);
    k->failing = false;
    /* Still busy while the callback runs: a request it starts must not
     * take `k` and overwrite the reply being read. The callback may free
     * the client, which closes `k`. */
    pconn_deliver(k, 0, true);
    if (k->state == PC_CLOSING)
        return;
    if (keep)
        pconn_idle(k);
    else
        pconn_close(k);
}

static void
pconn_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct http_pconn *k = s->data;
    size_t used = 0;
    int rc;

    (void)buf;
    if (n == 0 || k->state == PC_CLOSING)
        return;
    if (k->state != PC_BUSY || !k->r) {
        /* Closed by the peer while idle, or bytes nobody asked for. */
        pconn_close(k);
        return;
    }
    if (n < 0) {
        if (n == UV_EOF && (rc = http_resp_eof(&k->resp)) == HTTP_RESP_DONE) {
            pconn_reply_done(k, true);
            return;
        }
        pconn_set_error(k->r, "reply from", k,
                        n == UV_EOF ? "connection closed before the reply "
                                      "was complete"
                                    : uv_strerror((int)n));
        pconn_fail(k, KP_ETRANSPORT, true);
        return;
    }
    rc = http_resp_feed(&k->resp, k->rbuf, (size_t)n, &used);
    if (rc == HTTP_RESP_MORE)
        return;
    if (rc == HTTP_RESP_DONE) {
        pconn_reply_done(k, used < (size_t)n);
        return;
    }
    if (rc == KP_ELIMIT) {
        snprintf(k->r->errtext, sizeof(k->r->errtext),
                 "reply exceeds the size cap");
        pconn_fail(k, KP_ELIMIT, true);
        return;
    }
    pconn_set_error(k->r, "reply from", k, "malformed HTTP reply");
    pconn_fail(k, KP_ETRANSPORT, true);
}

/* ---- writing ---- */

static void
pconn_on_write(uv_write_t *w, int status)
{
    struct http_pconn *k = w->data;

    if (k->state == PC_CLOSING) {
        pconn_release(k); /* the write request was counted */
        return;
    }
    k->open--;
    k->writing = false;
    if (status < 0 && k->r) {
        pconn_set_error(k->r, "send to", k, uv_strerror(status));
        pconn_fail(k, KP_ETRANSPORT, true);
    }
}

/* The connection is up: send the request, arm the deadline. */
static void
pconn_write(struct http_pconn *k)
{
    struct http_request *r = k->r;
    uv_buf_t b = uv_buf_init(r->wire, (unsigned)r->wire_len);
    int n;

    k->state = PC_BUSY;
    uv_ref((uv_handle_t *)&k->tcp);
    uv_ref((uv_handle_t *)&k->timer);
    uv_timer_start(&k->timer, pconn_on_timer, plain_remaining(k, r), 0);
    n = uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
    if (n == (int)r->wire_len)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        pconn_set_error(r, "send to", k, uv_strerror(n));
        pconn_fail_later(k, KP_ETRANSPORT, false);
        return;
    }
    if (n > 0) {
        b.base += n;
        b.len -= (size_t)n;
    }
    k->wr.data = k;
    if ((n = uv_write(&k->wr, (uv_stream_t *)&k->tcp, &b, 1,
                      pconn_on_write)) != 0) {
        pconn_set_error(r, "send to", k, uv_strerror(n));
        pconn_fail_later(k, KP_ETRANSPORT, true);
        return;
    }
    k->writing = true;
    k->open++;
}

/* ---- connecting ---- */

static void pconn_try_next(struct http_pconn *k);

/* The attempt on `k` failed: move its request to a fresh socket for the
 * next resolved address (a socket whose connect failed cannot be reused).
 * Returns: whether there was one. */
static bool
pconn_next_address(struct http_pconn *k)
{
    struct http_pconn *n;

    if (!k->ai_next || k->p->dead)
        return false;
    n = pconn_sibling(k);
    n->ai = k->ai;
    n->ai_next = k->ai_next;
    k->ai = k->ai_next = NULL;
    pconn_attach(n, k->r);
    k->r = NULL;
    pconn_close(k);
    pconn_try_next(n);
    return true;
}

static void
pconn_on_connect(uv_connect_t *req, int status)
{
    struct http_pconn *k = req->data;

    if (k->state == PC_CLOSING)
        return;
    if (status < 0) {
        pconn_set_error(k->r, "connect to", k, uv_strerror(status));
        if (pconn_next_address(k))
            return;
        pconn_fail(k, KP_ETRANSPORT, false);
        return;
    }
    uv_tcp_nodelay(&k->tcp, 1);
    uv_tcp_keepalive(&k->tcp, 1, 60);
    if (k->ai) {
        uv_freeaddrinfo(k->ai);
        k->ai = k->ai_next = NULL;
    }
    if (uv_read_start((uv_stream_t *)&k->tcp, pconn_alloc, pconn_on_read)) {
        pconn_set_error(k->r, "connect to", k, "cannot read");
        pconn_fail(k, KP_ETRANSPORT, false);
        return;
    }
    pconn_write(k);
}

static void
pconn_connect(struct http_pconn *k, const struct sockaddr *sa)
{
    struct http_request *r = k->r;
    uint32_t left = plain_remaining(k, r), cto = r->connect_timeout_ms;
    int rc;

    k->state = PC_CONNECTING;
    uv_timer_start(&k->timer, pconn_on_timer, cto && cto < left ? cto : left,
                   0);
    if ((rc = uv_tcp_init(k->p->loop, &k->tcp)) != 0) {
        pconn_set_error(r, "connect to", k, uv_strerror(rc));
        pconn_fail_later(k, KP_ETRANSPORT, false);
        return;
    }
    k->tcp.data = k;
    k->tcp_init = true;
    k->open++;
    k->connect.data = k;
    if ((rc = uv_tcp_connect(&k->connect, &k->tcp, sa, pconn_on_connect))) {
        pconn_set_error(r, "connect to", k, uv_strerror(rc));
        if (pconn_next_address(k)) /* names only: never inside a start */
            return;
        pconn_fail_later(k, KP_ETRANSPORT, false);
    }
}

/* Connect to the next resolved address. */
static void
pconn_try_next(struct http_pconn *k)
{
    struct addrinfo *a = k->ai_next;

    k->ai_next = a->ai_next;
    pconn_connect(k, a->ai_addr);
}

static void
pconn_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct http_pconn *k = req->data;

    if (k->state == PC_CLOSING) {
        if (res)
            uv_freeaddrinfo(res);
        pconn_release(k);
        return;
    }
    k->open--;
    if (status < 0 || !res) {
        if (res)
            uv_freeaddrinfo(res);
        pconn_set_error(k->r, "resolve", k, uv_strerror(status));
        pconn_fail(k, KP_ETRANSPORT, false);
        return;
    }
    k->ai = k->ai_next = res;
    pconn_try_next(k);
}

/* Resolve (numeric hosts need not), then connect. */
static void
pconn_open(struct http_pconn *k)
{
    struct sockaddr_storage ss;
    char port[8];
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    int rc;

    if (uv_ip4_addr(k->host, k->port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(k->host, k->port, (struct sockaddr_in6 *)&ss) == 0) {
        pconn_connect(k, (const struct sockaddr *)&ss);
        return;
    }
    k->state = PC_RESOLVING;
    uv_timer_start(&k->timer, pconn_on_timer, plain_remaining(k, k->r), 0);
    snprintf(port, sizeof(port), "%u", (unsigned)k->port);
    k->gai.data = k;
    if ((rc = uv_getaddrinfo(k->p->loop, &k->gai, pconn_on_resolved, k->host,
                             port, &hints)) != 0) {
        k->state = PC_CONNECTING; /* nothing in flight to cancel */
        pconn_set_error(k->r, "resolve", k, uv_strerror(rc));
        pconn_fail_later(k, KP_ETRANSPORT, false);
        return;
    }
    k->open++;
}

/* Send k->r on `k`: at once if it is connected, else once it is. */
static void
pconn_send(struct http_pconn *k)
{
    if (k->tcp_init)
        pconn_write(k);
    else
        pconn_open(k);
}

/* ---- timer ---- */

static void
pconn_on_timer(uv_timer_t *t)
{
    struct http_pconn *k = t->data;
    struct http_request *r = k->r;

    if (k->failing) {
        k->failing = false;
        pconn_fail(k, k->fail_err, k->fail_sent);
        return;
    }
    if (!r) { /* idle too long */
        pconn_close(k);
        return;
    }
    if (k->state == PC_CONNECTING && plain_remaining(k, r) > 0) {
        pconn_set_error(r, "connect to", k, "connection timed out");
        if (pconn_next_address(k))
            return;
        r->retried = true; /* no second try on a dead host */
        pconn_fail(k, KP_ETIMEOUT, false);
        return;
    }
    pconn_set_error(r, "reply from", k, "timed out");
    r->retried = true;
    pconn_fail(k, KP_ETIMEOUT, k->state == PC_BUSY);
}

/* ---- engine ---- */

struct http_plain *
http_plain_new(uv_loop_t *loop)
{
    struct http_plain *p = kp_xcalloc(1, sizeof(*p));

    p->loop = loop;
    return p;
}

void
http_plain_free(struct http_plain *p)
{
    if (!p)
        return;
    p->dead = true;
    while (p->conns)
        pconn_close(p->conns);
    if (p->nalive == 0)
        free(p);
}

void
http_plain_start(struct http_plain *p, const struct http_req_opts *o,
                 const char *method, const struct http_target *t,
                 struct http_request *r)
{
    struct http_pconn *k;

    assert(p && !p->dead && r);
    r->plain = true;
    r->head = strcmp(method, "HEAD") == 0;
    /* The loop's clock is as old as its last wake-up: work done since
     * (a keystore decrypted at start) must not shorten the deadline. */
    uv_update_time(p->loop);
    r->deadline_ms = uv_now(p->loop) + o->timeout_ms;
    r->connect_timeout_ms = o->connect_timeout_ms;
    plain_build(r, o, method, t);
    if ((k = pconn_find_idle(p, t)) != NULL) {
        p->nidle--;
        k->state = PC_BUSY;
    } else {
        k = pconn_new(p, t);
    }
    pconn_attach(k, r);
    pconn_send(k);
}

void
http_plain_cancel(struct http_request *r)
{
    struct http_pconn *k = r->pc;

    if (k) {
        k->r = NULL;
        r->pc = NULL;
        pconn_close(k);
    }
    plain_wire_free(r);
}
