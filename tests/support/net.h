/*
 * net.h - the socket plumbing shared by the small servers and proxies
 * that tests run on their own libuv loop (tests/chain/rpc_testsrv.h,
 * wssrv.h, tcpproxy.h).
 */
#ifndef KP_TESTS_SUPPORT_NET_H
#define KP_TESTS_SUPPORT_NET_H

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

#endif
