/* Arbitrary bytes as an HTTP/1.x response. Byte 0 picks the request kind
 * (bit 0: HEAD) and the body cap (bits 1-2), byte 1 seeds where the rest
 * is cut into pieces. The reply is parsed whole, then in those pieces,
 * then again a byte at a time by a reset parser that keeps the first
 * one's buffer: the three must agree exactly. Every call must keep the
 * invariants of the header (body within the cap and NUL-terminated, MORE
 * consumes everything, DONE and errors stick). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/err.h"
#include "chain/http_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    int rc;
    size_t used;
    int status;
    bool keep_alive;
    long retry_after_s;
    size_t body_len;
    const char *body;
};

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static void
check_state(const struct http_resp *p)
{
    CHECK(p->body_len <= p->max_body);
    CHECK(p->body || p->body_len == 0);
    CHECK(!p->body || p->body[p->body_len] == '\0');
    CHECK(p->body_len < p->body_cap || !p->body);
}

/* After DONE or an error the result sticks and nothing is consumed. */
static void
check_sticky(struct http_resp *p, int rc, const char *d, size_t n)
{
    size_t used = 1;

    CHECK(http_resp_feed(p, d, n, &used) == rc && used == 0);
    CHECK(http_resp_feed(p, NULL, 0, &used) == rc && used == 0);
    CHECK(http_resp_eof(p) == rc);
}

/* One call; the checks every call must pass. */
static int
feed_checked(struct http_resp *p, const char *d, size_t n, size_t *used)
{
    int rc = http_resp_feed(p, d, n, used);

    CHECK(rc == HTTP_RESP_MORE || rc == HTTP_RESP_DONE || rc == KP_EINVAL ||
          rc == KP_ELIMIT);
    CHECK(*used <= n);
    CHECK(rc != HTTP_RESP_MORE || *used == n);
    CHECK(n == 0 || p->got_bytes);
    check_state(p);
    return rc;
}

/* Pieces of 0..63 bytes drawn from a xorshift sequence, or 1 byte each
 * when seed is 0. */
static size_t
next_piece(uint32_t *seed)
{
    if (*seed == 0)
        return 1;
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    return *seed % 64;
}

static void
parse(struct outcome *o, struct http_resp *p, const char *d, size_t n,
      uint32_t seed, bool whole)
{
    size_t pos = 0, piece, used;
    int rc = HTTP_RESP_MORE;

    memset(o, 0, sizeof(*o));
    do {
        piece = whole ? n : next_piece(&seed);
        if (piece > n - pos)
            piece = n - pos;
        rc = feed_checked(p, d + pos, piece, &used);
        o->used += used;
        pos += used;
    } while (rc == HTTP_RESP_MORE && pos < n);
    if (rc == HTTP_RESP_MORE) {
        rc = http_resp_eof(p);
        CHECK(rc == HTTP_RESP_DONE || rc == KP_ETRUNC);
        CHECK(rc == KP_ETRUNC || !p->keep_alive);
    }
    check_sticky(p, rc, d, n);
    o->rc = rc;
    if (rc != HTTP_RESP_DONE)
        return;
    CHECK(p->status >= 200 && p->status <= 599);
    CHECK(!p->head_request || p->body_len == 0);
    CHECK(p->retry_after_s >= -1 &&
          p->retry_after_s <= HTTP_RESP_RETRY_AFTER_MAX);
    o->status = p->status;
    o->keep_alive = p->keep_alive;
    o->retry_after_s = p->retry_after_s;
    o->body_len = p->body_len;
    o->body = p->body;
}

static void
check_same(const struct outcome *a, const struct outcome *b)
{
    CHECK(a->rc == b->rc);
    if (a->rc != HTTP_RESP_DONE)
        return;
    CHECK(a->used == b->used && a->status == b->status &&
          a->keep_alive == b->keep_alive && a->body_len == b->body_len &&
          a->retry_after_s == b->retry_after_s);
    CHECK(a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[] = {1u << 20, 64, 4096, 1};
    struct http_resp p1, p2;
    struct outcome whole, cut, again;
    const char *d = (const char *)data + 2;
    size_t n, max_body;
    bool head;

    if (size < 2)
        return 0;
    head = data[0] & 1;
    max_body = caps[(data[0] >> 1) & 3];
    n = size - 2;

    http_resp_init(&p1, max_body, head);
    parse(&whole, &p1, d, n, 0, true);
    http_resp_init(&p2, max_body, head);
    parse(&cut, &p2, d, n, (uint32_t)data[1] * 2654435761u | 1u, false);
    check_same(&whole, &cut);

    /* p1's buffer, reused and read a byte at a time, gives the same. */
    http_resp_reset(&p1, max_body, head);
    CHECK(!p1.got_bytes && p1.body_len == 0);
    parse(&again, &p1, d, n, 0, false);
    check_same(&cut, &again);

    http_resp_free(&p1);
    http_resp_free(&p2);
    CHECK(p1.body == NULL);
    return 0;
}
