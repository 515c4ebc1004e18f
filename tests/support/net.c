/* Socket plumbing for test servers: see net.h. */
#include "tests/support/net.h"

#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#define READ_BUF 65536

int
ts_listen(uv_tcp_t *l, uv_loop_t *loop, int backlog, uv_connection_cb cb,
          int *port)
{
    struct sockaddr_in a;
    int len = sizeof(a);

    uv_tcp_init(loop, l);
    uv_ip4_addr("127.0.0.1", 0, &a);
    if (uv_tcp_bind(l, (const struct sockaddr *)&a, 0) != 0 ||
        uv_listen((uv_stream_t *)l, backlog, cb) != 0 ||
        uv_tcp_getsockname(l, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return 0;
}

void
ts_alloc_64k(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = malloc(READ_BUF);
    buf->len = buf->base ? READ_BUF : 0;
}

/* The request and the copy in one block: one free when done. */
struct write_copy {
    uv_write_t req;
    char data[];
};

static void
write_done(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

int
ts_write_copy(uv_stream_t *s, const void *data, size_t len)
{
    struct write_copy *w = malloc(sizeof(*w) + len);
    uv_buf_t b;
    int rc;

    if (w == NULL)
        return UV_ENOMEM;
    memcpy(w->data, data, len);
    b = uv_buf_init(w->data, (unsigned)len);
    if ((rc = uv_write(&w->req, s, &b, 1, write_done)) != 0)
        free(w);
    return rc;
}

/* ---- ts_tcpsrv ---- */

static void
tcpsrv_closed(uv_handle_t *h)
{
    struct ts_tcpsrv *s = h->data;

    if (h != (uv_handle_t *)&s->listener) {
        struct ts_tcpconn *k = (struct ts_tcpconn *)h;

        free(k->buf);
        free(k);
    }
    s->open--;
}

void
ts_tcpconn_consume(struct ts_tcpconn *k, size_t n)
{
    memmove(k->buf, k->buf + n, k->len - n);
    k->len -= n;
}

void
ts_tcpconn_close(struct ts_tcpconn *k)
{
    for (struct ts_tcpconn **p = &k->srv->conns; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            break;
        }
    }
    if (!uv_is_closing((uv_handle_t *)&k->tcp))
        uv_close((uv_handle_t *)&k->tcp, tcpsrv_closed);
}

void
ts_tcpsrv_close_conns(struct ts_tcpsrv *s)
{
    while (s->conns)
        ts_tcpconn_close(s->conns);
}

static void
tcpsrv_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct ts_tcpconn *k = (struct ts_tcpconn *)h;

    (void)hint;
    if (k->cap - k->len < READ_BUF) {
        k->cap = k->cap * 2 + READ_BUF;
        k->buf = realloc(k->buf, k->cap);
    }
    *b = uv_buf_init(k->buf + k->len, (unsigned)(k->cap - k->len - 1));
}

static void
tcpsrv_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct ts_tcpconn *k = (struct ts_tcpconn *)st;
    size_t drop;

    (void)b;
    if (n < 0) {
        ts_tcpconn_close(k);
        return;
    }
    k->len += (size_t)n;
    drop = k->discard < k->len ? k->discard : k->len;
    ts_tcpconn_consume(k, drop);
    k->discard -= drop;
    k->srv->on_data(k);
}

static void
tcpsrv_accept(uv_stream_t *l, int status)
{
    struct ts_tcpsrv *s = l->data;
    struct ts_tcpconn *k;

    if (status < 0 || !(k = calloc(1, sizeof(*k))))
        return;
    k->srv = s;
    uv_tcp_init(s->loop, &k->tcp);
    k->tcp.data = s;
    s->open++;
    if (uv_accept(l, (uv_stream_t *)&k->tcp) != 0) {
        uv_close((uv_handle_t *)&k->tcp, tcpsrv_closed);
        return;
    }
    s->accepted++;
    k->next = s->conns;
    s->conns = k;
    uv_read_start((uv_stream_t *)&k->tcp, tcpsrv_alloc, tcpsrv_read);
}

int
ts_tcpsrv_start(struct ts_tcpsrv *s, uv_loop_t *loop,
                void (*on_data)(struct ts_tcpconn *k), void *arg)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->on_data = on_data;
    s->arg = arg;
    s->open = 1;
    s->listening = true;
    rc = ts_listen(&s->listener, loop, 64, tcpsrv_accept, &s->port);
    s->listener.data = s; /* for the close callback, even on failure */
    return rc;
}

void
ts_tcpsrv_stop_listening(struct ts_tcpsrv *s)
{
    if (s->listening) {
        s->listening = false;
        uv_close((uv_handle_t *)&s->listener, tcpsrv_closed);
    }
}

void
ts_tcpsrv_stop(struct ts_tcpsrv *s)
{
    ts_tcpsrv_close_conns(s);
    if (s->loop)
        ts_tcpsrv_stop_listening(s);
}
