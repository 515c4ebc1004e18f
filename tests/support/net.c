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
