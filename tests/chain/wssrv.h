/*
 * wssrv.h - a scripted WebSocket server on a libuv loop, for tests that
 * need a node to say exactly what they want (header only).
 *
 * It accepts connections on a free port of 127.0.0.1, answers the
 * handshake (RFC 6455: Sec-WebSocket-Accept = base64(sha1(key + GUID))),
 * answers pings, and hands every text message from the client to the
 * test's callback; wssrv_send sends a text frame to the newest connection.
 * One connection at a time matters to the tests; older ones are kept
 * until they close.
 */
#ifndef KP_TESTS_WSSRV_H
#define KP_TESTS_WSSRV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <uv.h>

#include "tests/support/net.h"

#define WSSRV_MAX_IN (1u << 20)

struct wssrv;

struct wssrv_conn {
    uv_tcp_t tcp;
    struct wssrv *s;
    char *in;
    size_t len, cap;
    bool upgraded, closing;
    struct wssrv_conn *next;
};

struct wssrv {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    int open;                 /* handles not yet closed */
    int upgrades;             /* handshakes answered */
    struct wssrv_conn *conns; /* newest first */
    void (*on_text)(struct wssrv *s, const char *text, size_t len);
    void *arg;
};

static __attribute__((unused)) void
wss_write(struct wssrv_conn *c, const void *data, size_t len)
{
    if (!c->closing)
        ts_write_copy((uv_stream_t *)&c->tcp, data, len);
}

/* An unmasked frame from the server. */
static __attribute__((unused)) void
wss_frame(struct wssrv_conn *c, int opcode, const void *p, size_t len)
{
    uint8_t hdr[10];
    size_t n = 2;
    char *buf;

    hdr[0] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        hdr[1] = (uint8_t)len;
    } else if (len < 65536) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        n = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    buf = malloc(n + len);
    memcpy(buf, hdr, n);
    memcpy(buf + n, p, len);
    wss_write(c, buf, n + len);
    free(buf);
}

static __attribute__((unused)) void
wss_conn_closed(uv_handle_t *h)
{
    struct wssrv_conn *c = h->data, **pp;
    struct wssrv *s = c->s;

    for (pp = &s->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    free(c->in);
    free(c);
    s->open--;
}

static __attribute__((unused)) void
wss_close(struct wssrv_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, wss_conn_closed);
}

static __attribute__((unused)) bool
wss_handshake(struct wssrv_conn *c)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char *end = memmem(c->in, c->len, "\r\n\r\n", 4), *k;
    char key[128], accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    char reply[256];
    uint8_t dig[SHA1_DIGEST_SIZE];
    struct sha1_ctx h;
    size_t klen, hlen;
    int n;

    if (end == NULL)
        return false;
    hlen = (size_t)(end - c->in) + 4;
    c->in[hlen - 1] = '\0';
    k = strcasestr(c->in, "Sec-WebSocket-Key:");
    if (k == NULL) {
        wss_close(c);
        return false;
    }
    k += 18;
    while (*k == ' ')
        k++;
    klen = strcspn(k, "\r\n");
    if (klen >= sizeof(key) - sizeof(guid)) {
        wss_close(c);
        return false;
    }
    memcpy(key, k, klen);
    memcpy(key + klen, guid, sizeof(guid));
    sha1_init(&h);
    sha1_update(&h, strlen(key), (const uint8_t *)key);
    sha1_digest(&h, SHA1_DIGEST_SIZE, dig);
    base64_encode_raw(accept, SHA1_DIGEST_SIZE, dig);
    accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = '\0';
    n = snprintf(reply, sizeof(reply),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
    wss_write(c, reply, (size_t)n);
    memmove(c->in, c->in + hlen, c->len - hlen);
    c->len -= hlen;
    c->upgraded = true;
    c->s->upgrades++;
    return true;
}

/* Take one complete client frame off the buffer, if there is one.
 * Returns: whether one was taken. */
static __attribute__((unused)) bool
wss_one_frame(struct wssrv_conn *c)
{
    uint8_t *b = (uint8_t *)c->in;
    size_t need = 2, plen, off;
    int opcode;

    if (c->len < 2)
        return false;
    opcode = b[0] & 0x0f;
    plen = b[1] & 0x7f;
    if (plen == 126)
        need += 2;
    else if (plen == 127)
        need += 8;
    need += 4; /* client frames are masked */
    if (c->len < need)
        return false;
    if (plen == 126) {
        plen = ((size_t)b[2] << 8) | b[3];
    } else if (plen == 127) {
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = (plen << 8) | b[2 + i];
    }
    if (plen > WSSRV_MAX_IN || c->len < need + plen)
        return false;
    off = need;
    for (size_t i = 0; i < plen; i++)
        b[off + i] ^= b[need - 4 + (i & 3)];
    if (opcode == 0x1 && c->s->on_text != NULL) {
        char *t = malloc(plen + 1);

        memcpy(t, b + off, plen);
        t[plen] = '\0';
        c->s->on_text(c->s, t, plen);
        free(t);
    } else if (opcode == 0x9) {
        wss_frame(c, 0xA, b + off, plen);
    } else if (opcode == 0x8) {
        wss_close(c);
        return false;
    }
    memmove(c->in, c->in + off + plen, c->len - off - plen);
    c->len -= off + plen;
    return true;
}

static __attribute__((unused)) void
wss_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct wssrv_conn *c = st->data;

    if (n < 0 || c->closing) {
        wss_close(c);
        free(buf->base);
        return;
    }
    if (c->len + (size_t)n > c->cap) {
        c->cap = (c->len + (size_t)n) * 2;
        c->in = realloc(c->in, c->cap + 1);
    }
    memcpy(c->in + c->len, buf->base, (size_t)n);
    c->len += (size_t)n;
    free(buf->base);
    if (!c->upgraded && !wss_handshake(c))
        return;
    while (!c->closing && wss_one_frame(c))
        ;
    if (c->len > WSSRV_MAX_IN)
        wss_close(c);
}

static __attribute__((unused)) void
wss_on_accept(uv_stream_t *server, int status)
{
    struct wssrv *s = server->data;
    struct wssrv_conn *c;

    if (status != 0)
        return;
    c = calloc(1, sizeof(*c));
    c->s = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    s->open++;
    c->next = s->conns;
    s->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        wss_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, ts_alloc_64k, wss_on_read);
}

static __attribute__((unused)) void
wss_listener_closed(uv_handle_t *h)
{
    ((struct wssrv *)h->data)->open--;
}

/* Returns: 0, or -1 if it cannot listen. */
static __attribute__((unused)) int
wssrv_start(struct wssrv *s, uv_loop_t *loop)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->open = 1;
    rc = ts_listen(&s->listener, loop, 16, wss_on_accept, &s->port);
    s->listener.data = s;
    if (rc != 0)
        uv_close((uv_handle_t *)&s->listener, wss_listener_closed);
    return rc;
}

/* Send a text message on the newest open, upgraded connection.
 * Returns: 0, or -1 if there is none. */
static __attribute__((unused)) int
wssrv_send(struct wssrv *s, const char *text)
{
    for (struct wssrv_conn *c = s->conns; c != NULL; c = c->next)
        if (c->upgraded && !c->closing) {
            wss_frame(c, 0x1, text, strlen(text));
            return 0;
        }
    return -1;
}

static __attribute__((unused)) void
wssrv_stop(struct wssrv *s)
{
    for (struct wssrv_conn *c = s->conns; c != NULL; c = c->next)
        wss_close(c);
    if (!uv_is_closing((uv_handle_t *)&s->listener))
        uv_close((uv_handle_t *)&s->listener, wss_listener_closed);
}

#endif
