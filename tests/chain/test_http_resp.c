/* HTTP/1.x response parser: every framing (Content-Length, chunked with
 * extensions and trailers, until close, no body) fed whole, cut in two at
 * every position and fed a few bytes at a time, with identical results;
 * pipelined bytes left alone; the keep-alive rules; every refusal of the
 * header with its code; the caps at and one past their limits; the end of
 * stream; sticky results; reuse of the body buffer across responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/http_resp.h"

#define ANVIL_HEAD                                                             \
    "HTTP/1.1 200 OK\r\n"                                                      \
    "content-type: application/json\r\n"                                       \
    "vary: origin, access-control-request-method, "                            \
    "access-control-request-headers\r\n"                                       \
    "access-control-allow-origin: *\r\n"                                       \
    "content-length: 42\r\n"                                                   \
    "date: Tue, 24 Nov 2026 07:37:20 GMT\r\n"                                  \
    "\r\n"
#define ANVIL_BODY "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}"

#define BODY_MAX_TEST 4096

/* What one parse ended with. */
struct outcome {
    int rc;
    size_t used; /* bytes consumed over all calls */
    int status;
    bool keep_alive, got_bytes, body_null;
    size_t body_len;
    char body[BODY_MAX_TEST + 1];
};

/* A response and what parsing it must give. */
struct expect {
    const char *name;
    const char *raw;
    size_t max_body; /* 0: 1 MiB */
    bool head;       /* the request was HEAD */
    int rc;          /* after http_resp_eof when the feed wants more */
    int status;
    bool keep_alive;
    const char *body;
    size_t used; /* 0: all of raw */
};

/* Feed raw[0..len): first `cut` bytes, then pieces of `step` bytes, until
 * the parser is done or fails; then the end of stream if it wants more.
 * Out: *o */
static void
parse_pieces(struct outcome *o, struct http_resp *p, const char *raw,
             size_t len, size_t cut, size_t step)
{
    size_t pos = 0, piece = cut, used;
    int rc = HTTP_RESP_MORE;

    memset(o, 0, sizeof(*o));
    for (;;) {
        if (piece > len - pos)
            piece = len - pos;
        rc = http_resp_feed(p, raw + pos, piece, &used);
        o->used += used;
        if (rc != HTTP_RESP_MORE)
            break;
        assert_int_equal(used, piece); /* MORE consumes everything */
        pos += piece;
        if (pos == len)
            break;
        piece = step;
    }
    if (rc == HTTP_RESP_MORE)
        rc = http_resp_eof(p);
    o->rc = rc;
    o->got_bytes = p->got_bytes;
    if (rc != HTTP_RESP_DONE)
        return;
    o->status = p->status;
    o->keep_alive = p->keep_alive;
    o->body_null = p->body == NULL;
    o->body_len = p->body_len;
    if (p->body) {
        assert_true(p->body_len <= p->max_body);
        assert_int_equal(p->body[p->body_len], '\0');
        assert_true(p->body_cap <= p->max_body + 1);
        assert_true(p->body_len < sizeof(o->body));
        memcpy(o->body, p->body, p->body_len + 1);
    }
}

static void
parse_once(struct outcome *o, const struct expect *e, size_t cut, size_t step)
{
    struct http_resp p;
    size_t max = e->max_body ? e->max_body : 1u << 20;

    http_resp_init(&p, max, e->head);
    parse_pieces(o, &p, e->raw, strlen(e->raw), cut, step);
    http_resp_free(&p);
}

static void
assert_same(const struct outcome *a, const struct outcome *b, const char *name,
            size_t cut, size_t step)
{
    if (a->rc != b->rc || a->status != b->status ||
        a->keep_alive != b->keep_alive || a->body_len != b->body_len ||
        (a->rc == HTTP_RESP_DONE &&
         (a->used != b->used || memcmp(a->body, b->body, a->body_len)))) {
        print_error("%s: cut %zu step %zu: rc %d/%d status %d/%d used "
                    "%zu/%zu\n",
                    name, cut, step, a->rc, b->rc, a->status, b->status,
                    a->used, b->used);
        fail();
    }
}

/* Parse e whole, check the result, then every other way of cutting it. */
static void
check_expect(const struct expect *e)
{
    static const size_t steps[] = {1, 2, 3, 7, 64};
    struct outcome whole, o;
    size_t len = strlen(e->raw);

    parse_once(&whole, e, len, len);
    if (whole.rc != e->rc) {
        print_error("%s: rc %d, want %d\n", e->name, whole.rc, e->rc);
        fail();
    }
    assert_true(whole.got_bytes);
    if (e->rc == HTTP_RESP_DONE) {
        assert_int_equal(whole.status, e->status);
        assert_int_equal(whole.keep_alive, e->keep_alive);
        assert_int_equal(whole.used, e->used ? e->used : len);
        assert_int_equal(whole.body_len, strlen(e->body));
        assert_string_equal(whole.body_null ? "" : whole.body, e->body);
    }
    for (size_t cut = 0; cut <= len; cut++) {
        parse_once(&o, e, cut, len);
        assert_same(&whole, &o, e->name, cut, len);
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        parse_once(&o, e, 0, steps[i]);
        assert_same(&whole, &o, e->name, 0, steps[i]);
    }
}

static void
check_table(const struct expect *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_expect(&t[i]);
}

static void
test_framings(void **state)
{
    static const struct expect t[] = {
        {"anvil", ANVIL_HEAD ANVIL_BODY, 0, false, HTTP_RESP_DONE, 200, true,
         ANVIL_BODY, 0},
        {"chunked ext trailers",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5;name=val\r\nhello\r\n6 ; a=\"b;c\"\r\n world\r\n"
         "000A\r\n0123456789\r\n"
         "0;last\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, true, "hello world0123456789", 0},
        {"chunked no trailers",
         "HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n"
         "3\r\nabc\r\n0\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, true, "abc", 0},
        {"chunked bare LF",
         "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n1\t;x\nd\n"
         "0\nT: 1\n\n",
         0, false, HTTP_RESP_DONE, 200, true, "abcd", 0},
        {"chunked zero only",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0,
         false, HTTP_RESP_DONE, 200, true, "", 0},
        {"until close",
         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\r\n", 0,
         false, HTTP_RESP_DONE, 200, false, "all of it\r\n", 0},
        {"until close empty", "HTTP/1.1 200 OK\r\n\r\n", 0, false,
         HTTP_RESP_DONE, 200, false, "", 0},
        {"100 then 200",
         "HTTP/1.1 100 Continue\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         0, false, HTTP_RESP_DONE, 200, true, "ok", 0},
        {"103 102 then 201",
         "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n"
         "Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
         "HTTP/1.1 102 Processing\r\n\r\n"
         "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew",
         0, false, HTTP_RESP_DONE, 201, true, "new", 0},
        {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", 10,
         true, HTTP_RESP_DONE, 200, true, "", 0},
        {"HEAD chunked",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, true,
         HTTP_RESP_DONE, 200, true, "", 0},
        {"204", "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", 0, false,
         HTTP_RESP_DONE, 204, true, "", 0},
        {"304 with length",
         "HTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\n\r\n", 10, false,
         HTTP_RESP_DONE, 304, true, "", 0},
        {"length 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, false,
         HTTP_RESP_DONE, 200, true, "", 0},
        {"length OWS and dup",
         "HTTP/1.1 500 Internal Server Error\r\nContent-Length: \t 5 \t\r\n"
         "content-length:5\r\n\r\nerror",
         0, false, HTTP_RESP_DONE, 500, true, "error", 0},
        {"no reason phrase", "HTTP/1.1 599\r\nContent-Length: 1\r\n\r\nx", 0,
         false, HTTP_RESP_DONE, 599, true, "x", 0},
        {"empty reason phrase", "HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\nx",
         0, false, HTTP_RESP_DONE, 404, true, "x", 0},
        {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 3\nX: y\n\nabc", 0, false,
         HTTP_RESP_DONE, 200, true, "abc", 0},
        {"TE gzip, chunked",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip , chunked\r\n\r\n"
         "1\r\nz\r\n0\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, true, "z", 0},
        {"TE on two lines",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
         "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, true, "z", 0},
        {"TE chunked, gzip",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw", 0,
         false, HTTP_RESP_DONE, 200, false, "raw", 0},
        {"TE gzip beats length",
         "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
         "Transfer-Encoding: gzip\r\n\r\nabc",
         0, false, HTTP_RESP_DONE, 200, false, "abc", 0},
        {"TE empty list ignored",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: , \r\nContent-Length: 1\r\n"
         "\r\na",
         0, false, HTTP_RESP_DONE, 200, true, "a", 0},
        {"chunked beats length",
         "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, false, "ab", 0},
        {"long other header",
         "HTTP/1.1 200 OK\r\nX-Long: "
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "0123456789012345678901234567890123456789012345678901234567890123"
         "\r\nContent-Length: 1\r\n\r\nq",
         0, false, HTTP_RESP_DONE, 200, true, "q", 0},
        {"chunk size leading zeros",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "00000000000000000000000000000003\r\nabc\r\n00\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, true, "abc", 0},
        {"body of NUL-free binary",
         "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\r\n\r\n", 0, false,
         HTTP_RESP_DONE, 200, true, "\r\n\r\n", 0},
    };

    (void)state;
    check_table(t, sizeof(t) / sizeof(t[0]));
}

static void
test_keep_alive(void **state)
{
    static const struct expect t[] = {
        {"1.1 default", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0,
         false, HTTP_RESP_DONE, 200, true, "", 0},
        {"1.1 close",
         "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0,
         false, HTTP_RESP_DONE, 200, false, "", 0},
        {"1.1 close in a list",
         "HTTP/1.1 200 OK\r\nConnection: Upgrade ,CLOSE\r\n"
         "Content-Length: 0\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, false, "", 0},
        {"1.1 closed is not close",
         "HTTP/1.1 200 OK\r\nConnection: closed, x-close\r\n"
         "Content-Length: 0\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, true, "", 0},
        {"1.0 default", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nz", 0,
         false, HTTP_RESP_DONE, 200, false, "z", 0},
        {"1.0 keep-alive",
         "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
         "Content-Length: 1\r\n\r\nz",
         0, false, HTTP_RESP_DONE, 200, true, "z", 0},
        {"1.0 keep-alive and close",
         "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"
         "Content-Length: 1\r\n\r\nz",
         0, false, HTTP_RESP_DONE, 200, false, "z", 0},
        {"1.0 keep-alive until close",
         "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nz", 0, false,
         HTTP_RESP_DONE, 200, false, "z", 0},
        {"1.1 until close", "HTTP/1.1 200 OK\r\n\r\nz", 0, false,
         HTTP_RESP_DONE, 200, false, "z", 0},
        {"interim close does not count",
         "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
         0, false, HTTP_RESP_DONE, 200, true, "", 0},
        {"1.0 204", "HTTP/1.0 204 No Content\r\n\r\n", 0, false, HTTP_RESP_DONE,
         204, false, "", 0},
    };

    (void)state;
    check_table(t, sizeof(t) / sizeof(t[0]));
}

/* One malformed or over-cap response per line: {raw, rc}. */
/* clang-format off */
#define BAD(raw, rc) {#rc ": " raw, raw, 16, false, rc, 0, false, "", 0}
/* clang-format on */

static void
test_refusals(void **state)
{
    static const struct expect t[] = {
        /* status line */
        BAD("HTTP/2 200 OK\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.2 200 OK\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1  200 OK\r\n\r\n", KP_EINVAL),
        BAD("http/1.1 200 OK\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 20 OK\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 2000 OK\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200OK\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 099 Low\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 600 High\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 2x0 OK\r\n\r\n", KP_EINVAL),
        BAD("\r\nHTTP/1.1 200 OK\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
            KP_EINVAL),
        BAD("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n",
            KP_EINVAL),
        /* header lines */
        BAD("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nName : v\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nName\t: v\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nA: b\r\n folded: c\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nBad(name): v\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 100 Continue\r\nno colon\r\n\r\n", KP_EINVAL),
        /* Content-Length */
        BAD("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nContent-Length: 1 1\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nContent-Length: 0x1\r\n\r\n", KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
            "\r\nabc",
            KP_EINVAL),
        BAD("HTTP/1.1 204 No\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
            "\r\n",
            KP_EINVAL),
        /* chunk framing */
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 1\r\nx",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\nx",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "1\r\nxy\r\n0\r\n\r\n",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "1\r\nx\rX0\r\n\r\n",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "1\r\nx\r\r\n0\r\n\r\n",
            KP_EINVAL),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "0\r\nbad trailer\r\n\r\n",
            KP_EINVAL),
        /* caps (max_body 16) */
        BAD("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n", KP_ELIMIT),
        BAD("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n"
            "\r\n",
            KP_ELIMIT),
        BAD("HTTP/1.1 304 OK\r\nContent-Length: 99999999999999999999999\r\n"
            "\r\n",
            KP_ELIMIT),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n",
            KP_ELIMIT),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "8\r\n01234567\r\n9\r\n",
            KP_ELIMIT),
        BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "1000000000000000\r\n",
            KP_ELIMIT),
        BAD("HTTP/1.1 200 OK\r\n\r\n0123456789abcdefg", KP_ELIMIT),
    };

    (void)state;
    check_table(t, sizeof(t) / sizeof(t[0]));
}

/* Bodies exactly at the cap are taken whole. */
static void
test_caps_exact(void **state)
{
    static const struct expect t[] = {
        {"length at cap",
         "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n0123456789abcdef", 16,
         false, HTTP_RESP_DONE, 200, true, "0123456789abcdef", 0},
        {"chunked at cap",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n",
         16, false, HTTP_RESP_DONE, 200, true, "0123456789abcdef", 0},
        {"until close at cap", "HTTP/1.1 200 OK\r\n\r\n0123456789abcdef", 16,
         false, HTTP_RESP_DONE, 200, false, "0123456789abcdef", 0},
        /* With no body cap to speak of, 15 significant hex digits are
         * read (and the stream then ends early), 16 are refused. */
        {"15 significant digits",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "000fffffffffffffff\r\n",
         SIZE_MAX - 1, false, KP_ETRUNC, 0, false, "", 0},
        {"16 significant digits",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "1000000000000000\r\n",
         SIZE_MAX - 1, false, KP_ELIMIT, 0, false, "", 0},
        {"cap 1", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 1, false,
         HTTP_RESP_DONE, 200, true, "x", 0},
    };

    (void)state;
    check_table(t, sizeof(t) / sizeof(t[0]));
}

/* A long line: "<prefix><fill x n><suffix>". Returns: heap string. */
static char *
long_line(const char *prefix, size_t n, const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    char *s = malloc(a + n + b + 1);

    assert_non_null(s);
    memcpy(s, prefix, a);
    memset(s + a, 'x', n);
    memcpy(s + a + n, suffix, b + 1);
    return s;
}

/* Parse s whole, in 1-byte pieces and cut at a few places. */
static int
parse_ways(const char *s, size_t max_body)
{
    struct expect e = {"generated", s, max_body, false, 0, 0, false, "", 0};
    struct outcome whole, o;
    size_t len = strlen(s);
    const size_t cuts[] = {1, 17, len / 3, len / 2, len - 1};

    parse_once(&whole, &e, len, len);
    parse_once(&o, &e, 0, 1);
    assert_same(&whole, &o, "generated", 0, 1);
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        parse_once(&o, &e, cuts[i], len);
        assert_same(&whole, &o, "generated", cuts[i], len);
        parse_once(&o, &e, cuts[i], 1000);
        assert_same(&whole, &o, "generated", cuts[i], 1000);
    }
    return whole.rc;
}

static void
test_line_caps(void **state)
{
    struct http_resp p;
    char *s;

    (void)state;
    http_resp_init(&p, 16, false);
    /* The status line with its "\r" fills p.line exactly... */
    s = long_line("HTTP/1.1 200 ", sizeof(p.line) - 14,
                  "\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(parse_ways(s, 16), HTTP_RESP_DONE);
    free(s);
    /* ... and is refused one byte longer. */
    s = long_line("HTTP/1.1 200 ", sizeof(p.line) - 13,
                  "\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(parse_ways(s, 16), KP_ELIMIT);
    free(s);
    /* A refused status line fails before its end arrives. */
    s = long_line("HTTP/1.1 200 ", 2000, "");
    assert_int_equal(parse_ways(s, 16), KP_ELIMIT);
    free(s);
    /* Chunk size lines: long extensions up to the line size. */
    s = long_line("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;",
                  sizeof(p.line) - 3, "\r\nx\r\n0\r\n\r\n");
    assert_int_equal(parse_ways(s, 16), HTTP_RESP_DONE);
    free(s);
    s = long_line("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;",
                  sizeof(p.line) - 2, "\r\nx\r\n0\r\n\r\n");
    assert_int_equal(parse_ways(s, 16), KP_ELIMIT);
    free(s);
    /* A long framing header is refused; a long name with no colon in
     * the part kept too; a long trailer is skipped. */
    s = long_line("HTTP/1.1 200 OK\r\nConnection: close", 2000, "\r\n\r\n");
    assert_int_equal(parse_ways(s, 16), KP_ELIMIT);
    free(s);
    s = long_line("HTTP/1.1 200 OK\r\nX-", 2000, ": v\r\n\r\n");
    assert_int_equal(parse_ways(s, 16), KP_ELIMIT);
    free(s);
    s = long_line("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "1\r\nz\r\n0\r\nT: ",
                  3000, "\r\n\r\n");
    assert_int_equal(parse_ways(s, 16), HTTP_RESP_DONE);
    free(s);
    http_resp_free(&p);
}

/* "HTTP/1.1 200 OK\r\n" + `n` header bytes in lines + "\r\n" + "CL: 0". */
static char *
big_head(size_t head_total)
{
    const char *status = "HTTP/1.1 200 OK\r\n",
               *tail = "Content-Length: 0\r\n\r\n";
    size_t fixed = strlen(status) + strlen(tail), left = head_total - fixed;
    char *s = malloc(head_total + 1), *w = s;

    assert_non_null(s);
    w += sprintf(w, "%s", status);
    while (left > 0) {
        /* "X: <fill>\r\n", at most 1000 bytes, at least 5 */
        size_t n = left > 1000 ? 1000 : left;

        if (left - n > 0 && left - n < 5)
            n -= 5;
        memcpy(w, "X: ", 3);
        memset(w + 3, 'h', n - 5);
        memcpy(w + n - 2, "\r\n", 2);
        w += n;
        left -= n;
    }
    strcpy(w, tail);
    assert_int_equal(strlen(s), head_total);
    return s;
}

static void
test_head_cap(void **state)
{
    char *s;

    (void)state;
    s = big_head(HTTP_RESP_MAX_HEAD);
    assert_int_equal(parse_ways(s, 16), HTTP_RESP_DONE);
    free(s);
    s = big_head(HTTP_RESP_MAX_HEAD + 1);
    assert_int_equal(parse_ways(s, 16), KP_ELIMIT);
    free(s);
    /* Counted afresh after an interim response. */
    s = big_head(HTTP_RESP_MAX_HEAD);
    {
        const char *interim = "HTTP/1.1 100 Continue\r\nA: b\r\n\r\n";
        char *both = malloc(strlen(interim) + strlen(s) + 1);

        assert_non_null(both);
        strcpy(both, interim);
        strcat(both, s);
        assert_int_equal(parse_ways(both, 16), HTTP_RESP_DONE);
        free(both);
    }
    free(s);
}

static void
test_interim_cap(void **state)
{
    char buf[1024];
    size_t n = 0;

    (void)state;
    for (int i = 0; i < HTTP_RESP_MAX_INTERIM; i++)
        n +=
            (size_t)sprintf(buf + n, "HTTP/1.1 1%02d X\r\n\r\n", i % 2 ? 2 : 3);
    strcpy(buf + n, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk");
    assert_int_equal(parse_ways(buf, 16), HTTP_RESP_DONE);
    n += (size_t)sprintf(buf + n, "HTTP/1.1 103 Hints\r\n\r\n");
    strcpy(buf + n, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk");
    assert_int_equal(parse_ways(buf, 16), KP_ELIMIT);
}

static void
test_pipelined(void **state)
{
    const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\ntwo\r\n0\r\n\r\n"
                      "HTTP/1.1 204 No\r\n\r\nHTTP/1.1";
    size_t first = strlen("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
    size_t second = strlen("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                           "\r\n\r\n3\r\ntwo\r\n0\r\n\r\n");
    size_t third = strlen("HTTP/1.1 204 No\r\n\r\n"), len = strlen(two);
    struct http_resp p;
    size_t used;

    (void)state;
    /* Fed whole: each response stops exactly at its end. */
    http_resp_init(&p, 64, false);
    assert_int_equal(http_resp_feed(&p, two, len, &used), HTTP_RESP_DONE);
    assert_int_equal(used, first);
    assert_string_equal(p.body, "one");
    http_resp_reset(&p, 64, false);
    assert_int_equal(http_resp_feed(&p, two + first, len - first, &used),
                     HTTP_RESP_DONE);
    assert_int_equal(used, second);
    assert_string_equal(p.body, "two");
    http_resp_reset(&p, 64, false);
    assert_int_equal(
        http_resp_feed(&p, two + first + second, len - first - second, &used),
        HTTP_RESP_DONE);
    assert_int_equal(used, third);
    assert_int_equal(p.status, 204);
    assert_int_equal(p.body_len, 0);
    http_resp_reset(&p, 64, false);
    assert_int_equal(http_resp_feed(&p, two + first + second + third, 8, &used),
                     HTTP_RESP_MORE);
    assert_int_equal(used, 8);
    assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
    http_resp_free(&p);

    /* Cut anywhere: the first response still ends at `first`. */
    for (size_t cut = 0; cut <= len; cut++) {
        struct outcome o;

        http_resp_init(&p, 64, false);
        parse_pieces(&o, &p, two, len, cut, len);
        assert_int_equal(o.rc, HTTP_RESP_DONE);
        assert_int_equal(o.used, first);
        assert_string_equal(o.body, "one");
        http_resp_free(&p);
    }
}

static void
test_eof(void **state)
{
    static const char *const partial[] = {
        "H",
        "HTTP/1.1 200 OK",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcd",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
    };
    struct http_resp p;
    size_t used;

    (void)state;
    /* Nothing at all: truncated, and got_bytes says nothing came. */
    http_resp_init(&p, 64, false);
    assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
    assert_false(p.got_bytes);
    assert_int_equal(http_resp_feed(&p, "HTTP/1.1 200 OK\r\n", 17, &used),
                     KP_ETRUNC); /* sticks */
    assert_int_equal(used, 0);
    assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
    http_resp_free(&p);

    for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
        http_resp_init(&p, 64, false);
        assert_int_equal(
            http_resp_feed(&p, partial[i], strlen(partial[i]), &used),
            HTTP_RESP_MORE);
        assert_true(p.got_bytes);
        assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
        http_resp_free(&p);
    }

    /* Until close: the end completes it, once and for all. */
    http_resp_init(&p, 64, false);
    assert_int_equal(http_resp_feed(&p, "HTTP/1.1 200 OK\r\n\r\nab", 21, &used),
                     HTTP_RESP_MORE);
    assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
    assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
    assert_false(p.keep_alive);
    assert_string_equal(p.body, "ab");
    assert_int_equal(http_resp_feed(&p, "cd", 2, &used), HTTP_RESP_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(p.body_len, 2);
    http_resp_free(&p);

    /* Already done, or already failed: eof changes nothing. */
    http_resp_init(&p, 64, false);
    assert_int_equal(http_resp_feed(&p, "HTTP/1.1 204 No\r\n\r\n", 19, &used),
                     HTTP_RESP_DONE);
    assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
    assert_true(p.keep_alive);
    http_resp_free(&p);
    http_resp_init(&p, 64, false);
    assert_int_equal(http_resp_feed(&p, "HTTP/9", 6, &used), HTTP_RESP_MORE);
    assert_int_equal(http_resp_feed(&p, "\r\n", 2, &used), KP_EINVAL);
    assert_int_equal(http_resp_eof(&p), KP_EINVAL);
    http_resp_free(&p);
}

static void
test_sticky(void **state)
{
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz";
    struct http_resp p;
    size_t used;

    (void)state;
    http_resp_init(&p, 64, false);
    assert_int_equal(http_resp_feed(&p, ok, strlen(ok), &used), HTTP_RESP_DONE);
    assert_int_equal(http_resp_feed(&p, ok, strlen(ok), &used), HTTP_RESP_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(http_resp_feed(&p, NULL, 0, &used), HTTP_RESP_DONE);
    assert_int_equal(used, 0);
    assert_string_equal(p.body, "z");
    http_resp_free(&p);

    http_resp_init(&p, 64, false);
    assert_int_equal(
        http_resp_feed(&p, "HTTP/1.1 200 OK\r\nbad\r\n", 22, &used), KP_EINVAL);
    assert_int_equal(http_resp_feed(&p, ok, strlen(ok), &used), KP_EINVAL);
    assert_int_equal(used, 0);
    http_resp_reset(&p, 64, false); /* a reset clears the failure */
    assert_int_equal(http_resp_feed(&p, ok, strlen(ok), &used), HTTP_RESP_DONE);
    assert_int_equal(used, strlen(ok));
    http_resp_free(&p);

    http_resp_init(&p, 4, false);
    assert_int_equal(
        http_resp_feed(&p, "HTTP/1.1 200 OK\r\n\r\n12345", 24, &used),
        KP_ELIMIT);
    assert_int_equal(http_resp_feed(&p, "", 0, &used), KP_ELIMIT);
    assert_int_equal(http_resp_eof(&p), KP_ELIMIT);
    http_resp_free(&p);
}

static void
test_reset_reuses_buffer(void **state)
{
    char *raw, *body_mem;
    size_t big = 10000, used, n;
    struct http_resp p;

    (void)state;
    raw = malloc(big + 64);
    assert_non_null(raw);
    n = (size_t)sprintf(raw, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                        big);
    memset(raw + n, 'B', big);
    http_resp_init(&p, 1u << 20, false);
    assert_null(p.body);
    assert_int_equal(http_resp_feed(&p, raw, n + big, &used), HTTP_RESP_DONE);
    assert_int_equal(p.body_len, big);
    assert_int_equal(p.body[big], '\0');
    assert_int_equal(p.body_cap, 16384); /* 4096 doubled twice */
    body_mem = p.body;

    http_resp_reset(&p, 1u << 20, false);
    assert_ptr_equal(p.body, body_mem);
    assert_int_equal(p.body_len, 0);
    assert_string_equal(p.body, "");
    assert_false(p.got_bytes);
    assert_int_equal(p.status, 0);
    assert_int_equal(
        http_resp_feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 40,
                       &used),
        HTTP_RESP_DONE);
    assert_ptr_equal(p.body, body_mem);
    assert_int_equal(p.body_len, 2);
    assert_memory_equal(p.body, "hi", 3);
    assert_int_equal(p.body_cap, 16384);

    /* A reset to a smaller cap keeps the memory but applies the cap. */
    http_resp_reset(&p, 3, false);
    assert_int_equal(
        http_resp_feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", 38,
                       &used),
        KP_ELIMIT);
    http_resp_free(&p);
    assert_null(p.body);
    assert_int_equal(p.body_cap, 0);
    http_resp_free(&p); /* twice is harmless */
    free(raw);
}

/* Growth stops at max_body + 1, whatever the framing. */
static void
test_growth_cap(void **state)
{
    static const size_t caps[] = {1, 100, 4095, 4096, 5000, 9000};
    char *raw;
    struct http_resp p;
    size_t used, n;

    (void)state;
    raw = malloc(10000);
    assert_non_null(raw);
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        size_t cap = caps[i];

        n = (size_t)sprintf(raw, "HTTP/1.1 200 OK\r\n\r\n");
        memset(raw + n, 'g', cap);
        http_resp_init(&p, cap, false);
        /* Until close, in two pieces to make it grow from a used buffer. */
        assert_int_equal(http_resp_feed(&p, raw, n + cap / 2, &used),
                         HTTP_RESP_MORE);
        assert_int_equal(
            http_resp_feed(&p, raw + n + cap / 2, cap - cap / 2, &used),
            HTTP_RESP_MORE);
        assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
        assert_int_equal(p.body_len, cap);
        assert_true(p.body_cap <= cap + 1);
        assert_true(p.body_cap >= cap + 1);
        assert_int_equal(p.body[cap], '\0');
        http_resp_free(&p);
    }
    free(raw);
}

/* Every public function on odd but legal input: codes, never a crash. */
static void
test_misuse(void **state)
{
    struct http_resp p;
    size_t used = 99;

    (void)state;
    http_resp_init(&p, 8, false);
    assert_int_equal(http_resp_feed(&p, NULL, 0, &used), HTTP_RESP_MORE);
    assert_int_equal(used, 0);
    assert_false(p.got_bytes);
    http_resp_free(&p); /* no body yet */
    http_resp_free(&p);
    http_resp_free(NULL);

    http_resp_init(&p, 8, false);
    http_resp_reset(&p, 8, true); /* reset with no buffer yet */
    assert_null(p.body);
    assert_int_equal(http_resp_feed(&p, "\0\0\0\n", 4, &used), KP_EINVAL);
    http_resp_reset(&p, 8, false);
    assert_int_equal(http_resp_feed(&p, "\xff\xfe\n", 3, &used), KP_EINVAL);
    http_resp_reset(&p, 8, false);
    assert_int_equal(
        http_resp_feed(&p, "HTTP/1.1 200 OK\r\nA\0: b\r\n\r\n", 26, &used),
        KP_EINVAL);
    http_resp_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framings),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_caps_exact),
        cmocka_unit_test(test_line_caps),
        cmocka_unit_test(test_head_cap),
        cmocka_unit_test(test_interim_cap),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_reset_reuses_buffer),
        cmocka_unit_test(test_growth_cap),
        cmocka_unit_test(test_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
