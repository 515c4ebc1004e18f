/*
 * net.h - the socket plumbing shared by the small servers and proxies
 * that tests run on their own libuv loop (tests/chain/rpc_testsrv.h,
 * wssrv.h, tcpproxy.h).
 */
#ifndef KP_TESTS_SUPPORT_NET_H
#define KP_TESTS_SUPPORT_NET_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

/* Initialise `l` on `loop`, bind it to a free port of 127.0.0.1 and
 * listen with `cb`.
 * Returns: 0, or -1; `l` is initialised either way (uv_close it).
 * Out: *port */
int ts_listen(uv_tcp_t *l, uv_loop_t *loop, int backlog, uv_connection_cb cb,
              int *port);

/* A uv_alloc_cb: a fresh 64 KiB malloc'd buffer for every read (none if
 * out of memory); the read callback frees buf->base. */
void ts_alloc_64k(uv_handle_t *h, size_t hint, uv_buf_t *buf);

/* Queue a copy of `data` for writing on `s`; the copy is freed when the
 * write completes or fails.
 * Returns: 0, or libuv's error (nothing queued). */
int ts_write_copy(uv_stream_t *s, const void *data, size_t len);

/* A TCP server for tests: listens on a free port of 127.0.0.1, keeps
 * every accepted connection in a list, reads each into a growing buffer
 * and calls on_data after every read. What the bytes mean is the
 * caller's (an HTTP server, a WebSocket server...). */
struct ts_tcpsrv;

struct ts_tcpconn {
    uv_tcp_t tcp; /* first: the close callback gets the connection */
    struct ts_tcpsrv *srv;
    char *buf;      /* bytes read and not consumed; room for a NUL */
    size_t len, cap;
    size_t discard; /* bytes still to drop as they arrive */
    struct ts_tcpconn *next;
};

struct ts_tcpsrv {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    int open;     /* handles not yet closed (listener included) */
    int accepted; /* connections accepted */
    bool listening;
    struct ts_tcpconn *conns;
    void (*on_data)(struct ts_tcpconn *k); /* may close k */
    void *arg;
};

/* Start listening. Returns: 0, or -1 (stop it all the same). */
int ts_tcpsrv_start(struct ts_tcpsrv *s, uv_loop_t *loop,
                    void (*on_data)(struct ts_tcpconn *k), void *arg);

/* Drop the first n bytes of k->buf. */
void ts_tcpconn_consume(struct ts_tcpconn *k, size_t n);

/* Close one connection (off the list at once, freed once closed). */
void ts_tcpconn_close(struct ts_tcpconn *k);

/* Close every connection. */
void ts_tcpsrv_close_conns(struct ts_tcpsrv *s);

/* Stop accepting (the connections stay). */
void ts_tcpsrv_stop_listening(struct ts_tcpsrv *s);

/* Close everything; the loop must then run until s->open is 0. */
void ts_tcpsrv_stop(struct ts_tcpsrv *s);

#endif
