/*
 * tcpproxy.h - a loopback TCP proxy on a libuv loop, for tests that need
 * to break a connection on command (header only, like rpc_testsrv.h).
 *
 * It listens on a free port of 127.0.0.1 and forwards every connection to
 * 127.0.0.1:<target>. The test controls it:
 *   tcpproxy_drop_all    reset every open connection now
 *   TP_FORWARD           pass bytes both ways (the default)
 *   TP_REFUSE            accept new connections and reset them at once
 *                        (the server looks down)
 *   TP_BLACKHOLE         keep connections open, pass nothing either way
 *                        (a silent, half-dead path)
 */
#ifndef KP_TESTS_TCPPROXY_H
#define KP_TESTS_TCPPROXY_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "tests/support/net.h"

enum tcpproxy_mode { TP_FORWARD, TP_REFUSE, TP_BLACKHOLE };

struct tcpproxy;

struct tcpproxy_pair {
    uv_tcp_t down; /* the client's side */
    uv_tcp_t up;   /* towards the target */
    uv_connect_t conn;
    struct tcpproxy *p;
    int open; /* handles not yet closed */
    bool closing;
    struct tcpproxy_pair *prev, *next;
};

struct tcpproxy {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port, target;
    enum tcpproxy_mode mode;
    int accepted; /* connections accepted */
    int open;     /* handles not yet closed (pairs + listener) */
    struct tcpproxy_pair *pairs;
};

static __attribute__((unused)) void tp_pair_close(struct tcpproxy_pair *c);

static __attribute__((unused)) void
tp_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct tcpproxy_pair *c = s->data;
    uv_stream_t *other = s == (uv_stream_t *)&c->down ? (uv_stream_t *)&c->up
                                                      : (uv_stream_t *)&c->down;

    if (n < 0) {
        tp_pair_close(c);
    } else if (n > 0 && c->p->mode == TP_FORWARD && !c->closing) {
        ts_write_copy(other, buf->base, (size_t)n);
    }
    free(buf->base);
}

static __attribute__((unused)) void
tp_handle_closed(uv_handle_t *h)
{
    struct tcpproxy_pair *c = h->data;
    struct tcpproxy *p = c->p;

    if (--c->open > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->pairs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    p->open--;
}

static __attribute__((unused)) void
tp_pair_close(struct tcpproxy_pair *c)
{
    if (c->closing)
        return;
    c->closing = true;
    /* A reset, not a polite FIN: what a dying path looks like. */
    if (uv_tcp_close_reset(&c->down, tp_handle_closed) != 0)
        uv_close((uv_handle_t *)&c->down, tp_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&c->up))
        uv_close((uv_handle_t *)&c->up, tp_handle_closed);
}

static __attribute__((unused)) void
tp_on_up_connected(uv_connect_t *req, int status)
{
    struct tcpproxy_pair *c = req->data;

    if (c->closing)
        return;
    if (status != 0) {
        tp_pair_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->down, ts_alloc_64k, tp_on_read);
    uv_read_start((uv_stream_t *)&c->up, ts_alloc_64k, tp_on_read);
}

static __attribute__((unused)) void
tp_on_accept(uv_stream_t *server, int status)
{
    struct tcpproxy *p = server->data;
    struct tcpproxy_pair *c;
    struct sockaddr_in to;

    if (status != 0)
        return;
    c = calloc(1, sizeof(*c));
    c->p = p;
    uv_tcp_init(p->loop, &c->down);
    uv_tcp_init(p->loop, &c->up);
    c->down.data = c->up.data = c->conn.data = c;
    c->open = 2;
    p->open++;
    c->next = p->pairs;
    if (p->pairs)
        p->pairs->prev = c;
    p->pairs = c;
    if (uv_accept(server, (uv_stream_t *)&c->down) != 0) {
        tp_pair_close(c);
        return;
    }
    p->accepted++;
    if (p->mode == TP_REFUSE) {
        tp_pair_close(c);
        return;
    }
    uv_ip4_addr("127.0.0.1", p->target, &to);
    if (uv_tcp_connect(&c->conn, &c->up, (const struct sockaddr *)&to,
                       tp_on_up_connected) != 0)
        tp_pair_close(c);
}

static __attribute__((unused)) void
tp_listener_closed(uv_handle_t *h)
{
    struct tcpproxy *p = h->data;

    p->open--;
}

/* Returns: 0, or -1 if it cannot listen. */
static __attribute__((unused)) int
tcpproxy_start(struct tcpproxy *p, uv_loop_t *loop, int target)
{
    int rc;

    memset(p, 0, sizeof(*p));
    p->loop = loop;
    p->target = target;
    p->open = 1;
    rc = ts_listen(&p->listener, loop, 64, tp_on_accept, &p->port);
    p->listener.data = p;
    if (rc != 0)
        uv_close((uv_handle_t *)&p->listener, tp_listener_closed);
    return rc;
}

static __attribute__((unused)) void
tcpproxy_set_mode(struct tcpproxy *p, enum tcpproxy_mode mode)
{
    p->mode = mode;
}

static __attribute__((unused)) void
tcpproxy_drop_all(struct tcpproxy *p)
{
    for (struct tcpproxy_pair *c = p->pairs; c != NULL; c = c->next)
        tp_pair_close(c);
}

/* Returns: connections open now. */
static __attribute__((unused)) int
tcpproxy_live(const struct tcpproxy *p)
{
    int n = 0;

    for (const struct tcpproxy_pair *c = p->pairs; c != NULL; c = c->next)
        n += !c->closing;
    return n;
}

/* Close everything; run the loop afterwards until p->open is 0. */
static __attribute__((unused)) void
tcpproxy_stop(struct tcpproxy *p)
{
    tcpproxy_drop_all(p);
    if (!uv_is_closing((uv_handle_t *)&p->listener))
        uv_close((uv_handle_t *)&p->listener, tp_listener_closed);
}

#endif
