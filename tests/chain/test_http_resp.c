/* HTTP/1.x response parser: every framing (Content-Length, chunked with
 * extensions and trailers, until close, no body) fed whole, cut in two at
 * every position and fed a few bytes at a time, with identical results;
 * pipelined bytes left alone; the keep-alive rules; Retry-After; every refusal
 * of the header with its code; the caps at and one past their limits; the end
 * of stream; sticky results; reuse of the body buffer across responses. */
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
#include "tests/chain/http_resp_samples.h"

#define BODY_MAX_TEST 4096

/* What one parse ended with. */
struct outcome {
    int rc;
    size_t used; /* bytes consumed over all calls */
    int status;
    bool keep_alive, got_bytes, body_null;
    long retry_after;
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
    const char *body; /* when rc is HTTP_RESP_DONE, which takes all of raw */
    long retry_after; /* when rc is HTTP_RESP_DONE */
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
    o->retry_after = p->retry_after_s;
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
        a->retry_after != b->retry_after ||
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
        assert_int_equal(whole.retry_after, e->retry_after);
        assert_int_equal(whole.used, len);
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

/* Pieces of replies that many cases share. */
#define OK_LINE "HTTP/1.1 200 OK\r\n"
#define CHUNKED_HEAD OK_LINE "Transfer-Encoding: chunked\r\n\r\n"
#define LEN0 "Content-Length: 0\r\n\r\n"
#define DIGITS64                                                               \
    "0123456789012345678901234567890123456789012345678901234567890123"
#define TIMES4(s) s s s s

/* clang-format off */
/* A response that parses to its end: with the default body cap and a
 * request other than HEAD, or with the cap and HEAD flag given. */
#define DONE(name, raw, status, ka, body)                                      \
    DONE_AS(name, raw, 0, false, status, ka, body)
#define DONE_AS(name, raw, max, head, status, ka, body)                        \
    {name, raw, max, head, HTTP_RESP_DONE, status, ka, body, -1}
/* A response that parses to its end with Retry-After `ra` (-1: absent). */
#define DONE_RA(name, raw, status, ra)                                         \
    {name, raw, 0, false, HTTP_RESP_DONE, status, true, "", ra}
/* A response that ends in the code rc under body cap max. */
#define STOPS(name, raw, max, rc) {name, raw, max, false, rc, 0, false, "", -1}
/* clang-format on */

#define CHECK_TABLE(t) check_table(t, sizeof(t) / sizeof(t[0]))

static void
test_framings(void **state)
{
    static const struct expect t[] = {
        DONE("anvil", ANVIL_REPLY, 200, true, ANVIL_REPLY_BODY),
        DONE("anvil chunked", ANVIL_REPLY_CHUNKED, 200, true, ANVIL_REPLY_BODY),
        DONE("chunked ext trailers",
             CHUNKED_HEAD "5;name=val\r\nhello\r\n6 ; a=\"b;c\"\r\n world\r\n"
                          "000A\r\n0123456789\r\n"
                          "0;last\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n",
             200, true, "hello world0123456789"),
        DONE("chunked no trailers",
             OK_LINE "transfer-encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
             200, true, "abc"),
        DONE("chunked bare LF",
             "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n1\t;x\nd\n"
             "0\nT: 1\n\n",
             200, true, "abcd"),
        DONE("chunked zero only", CHUNKED_HEAD "0\r\n\r\n", 200, true, ""),
        DONE("until close",
             OK_LINE "Content-Type: text/plain\r\n\r\nall of it\r\n", 200,
             false, "all of it\r\n"),
        DONE("until close empty", OK_LINE "\r\n", 200, false, ""),
        DONE("100 then 200",
             "HTTP/1.1 100 Continue\r\n\r\n" OK_LINE
             "Content-Length: 2\r\n\r\nok",
             200, true, "ok"),
        DONE("103 102 then 201",
             "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n"
             "Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
             "HTTP/1.1 102 Processing\r\n\r\n"
             "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew",
             201, true, "new"),
        DONE_AS("HEAD", OK_LINE "Content-Length: 99999999999\r\n\r\n", 10, true,
                200, true, ""),
        DONE_AS("HEAD chunked", CHUNKED_HEAD, 0, true, 200, true, ""),
        DONE("204", "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", 204, true,
             ""),
        DONE_AS("304 with length",
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\n\r\n", 10,
                false, 304, true, ""),
        DONE("length 0", OK_LINE LEN0, 200, true, ""),
        DONE("length OWS and dup",
             "HTTP/1.1 500 Internal Server Error\r\nContent-Length: \t 5 \t\r\n"
             "content-length:5\r\n\r\nerror",
             500, true, "error"),
        DONE("no reason phrase", "HTTP/1.1 599\r\nContent-Length: 1\r\n\r\nx",
             599, true, "x"),
        DONE("empty reason phrase",
             "HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\nx", 404, true, "x"),
        DONE("bare LF", "HTTP/1.1 200 OK\nContent-Length: 3\nX: y\n\nabc", 200,
             true, "abc"),
        DONE("TE gzip, chunked",
             OK_LINE "Transfer-Encoding: gzip , chunked\r\n\r\n"
                     "1\r\nz\r\n0\r\n\r\n",
             200, true, "z"),
        DONE("TE on two lines",
             OK_LINE "Transfer-Encoding: gzip\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
             200, true, "z"),
        DONE("TE chunked, gzip",
             OK_LINE "Transfer-Encoding: chunked, gzip\r\n\r\nraw", 200, false,
             "raw"),
        DONE("TE gzip beats length",
             OK_LINE "Content-Length: 1\r\nTransfer-Encoding: gzip\r\n\r\nabc",
             200, false, "abc"),
        DONE("TE empty list ignored",
             OK_LINE "Transfer-Encoding: , \r\nContent-Length: 1\r\n\r\na", 200,
             true, "a"),
        DONE("chunked beats length",
             OK_LINE "Content-Length: 100\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
             200, false, "ab"),
        DONE("long other header",
             OK_LINE "X-Long: " TIMES4(TIMES4(DIGITS64)) DIGITS64
             "\r\nContent-Length: 1\r\n\r\nq",
             200, true, "q"),
        DONE("chunk size leading zeros",
             CHUNKED_HEAD
             "00000000000000000000000000000003\r\nabc\r\n00\r\n\r\n",
             200, true, "abc"),
        DONE("body of NUL-free binary",
             OK_LINE "Content-Length: 4\r\n\r\n\r\n\r\n", 200, true,
             "\r\n\r\n"),
    };

    (void)state;
    CHECK_TABLE(t);
}

static void
test_keep_alive(void **state)
{
    static const struct expect t[] = {
        DONE("1.1 default", OK_LINE LEN0, 200, true, ""),
        DONE("1.1 close", OK_LINE "Connection: close\r\n" LEN0, 200, false, ""),
        DONE("1.1 close in a list",
             OK_LINE "Connection: Upgrade ,CLOSE\r\n" LEN0, 200, false, ""),
        DONE("1.1 closed is not close",
             OK_LINE "Connection: closed, x-close\r\n" LEN0, 200, true, ""),
        DONE("1.0 default", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nz",
             200, false, "z"),
        DONE("1.0 keep-alive",
             "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
             "Content-Length: 1\r\n\r\nz",
             200, true, "z"),
        DONE(
            "1.0 keep-alive and close",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"
            "Content-Length: 1\r\n\r\nz",
            200, false, "z"),
        DONE("1.0 keep-alive until close",
             "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nz", 200, false,
             "z"),
        DONE("1.1 until close", OK_LINE "\r\nz", 200, false, "z"),
        DONE("interim close does not count",
             "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n" OK_LINE LEN0,
             200, true, ""),
        DONE("1.0 204", "HTTP/1.0 204 No Content\r\n\r\n", 204, false, ""),
    };

    (void)state;
    CHECK_TABLE(t);
}

/* Refused as malformed (KP_EINVAL), body cap 16. */
static const char *const malformed[] = {
    /* status line */
    "HTTP/2 200 OK\r\n\r\n",
    "HTTP/1.2 200 OK\r\n\r\n",
    "HTTP/1.1  200 OK\r\n\r\n",
    "http/1.1 200 OK\r\n\r\n",
    "HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/1.1 200OK\r\n\r\n",
    "HTTP/1.1 099 Low\r\n\r\n",
    "HTTP/1.1 600 High\r\n\r\n",
    "HTTP/1.1 2x0 OK\r\n\r\n",
    "\r\n" OK_LINE "\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n",
    /* header lines */
    OK_LINE "No colon here\r\n\r\n",
    OK_LINE "Name : v\r\n\r\n",
    OK_LINE "Name\t: v\r\n\r\n",
    OK_LINE "A: b\r\n folded: c\r\n\r\n",
    OK_LINE ": empty name\r\n\r\n",
    OK_LINE "Bad(name): v\r\n\r\n",
    "HTTP/1.1 100 Continue\r\nno colon\r\n\r\n",
    /* Content-Length */
    OK_LINE "Content-Length: 12a\r\n\r\n",
    OK_LINE "Content-Length: -1\r\n\r\n",
    OK_LINE "Content-Length: +1\r\n\r\n",
    OK_LINE "Content-Length:\r\n\r\n",
    OK_LINE "Content-Length: 1 1\r\n\r\n",
    OK_LINE "Content-Length: 1,1\r\n\r\n",
    OK_LINE "Content-Length: 0x1\r\n\r\n",
    OK_LINE "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
    "HTTP/1.1 204 No\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
    /* chunk framing */
    CHUNKED_HEAD "g\r\n",
    CHUNKED_HEAD "\r\n",
    CHUNKED_HEAD " 1\r\nx",
    CHUNKED_HEAD "1x\r\nx",
    CHUNKED_HEAD "-1\r\nx",
    CHUNKED_HEAD "1\r\nxy\r\n0\r\n\r\n",
    CHUNKED_HEAD "1\r\nx\rX0\r\n\r\n",
    CHUNKED_HEAD "1\r\nx\r\r\n0\r\n\r\n",
    CHUNKED_HEAD "0\r\nbad trailer\r\n\r\n",
};

/* Refused at a cap (KP_ELIMIT), body cap 16. */
static const char *const over_cap[] = {
    OK_LINE "Content-Length: 17\r\n\r\n",
    OK_LINE "Content-Length: 99999999999999999999999\r\n\r\n",
    "HTTP/1.1 304 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    CHUNKED_HEAD "11\r\n",
    CHUNKED_HEAD "8\r\n01234567\r\n9\r\n",
    CHUNKED_HEAD "1000000000000000\r\n",
    OK_LINE "\r\n0123456789abcdefg",
};

/* Each of raw[0..n) ends in rc, however it is cut. */
static void
check_refused(const char *const *raw, size_t n, int rc)
{
    for (size_t i = 0; i < n; i++) {
        const struct expect e = STOPS(raw[i], raw[i], 16, rc);

        check_expect(&e);
    }
}

static void
test_refusals(void **state)
{
    (void)state;
    check_refused(malformed, sizeof(malformed) / sizeof(malformed[0]),
                  KP_EINVAL);
    check_refused(over_cap, sizeof(over_cap) / sizeof(over_cap[0]), KP_ELIMIT);
}

/* Bodies exactly at the cap are taken whole. */
static void
test_caps_exact(void **state)
{
    static const struct expect t[] = {
        DONE_AS("length at cap",
                OK_LINE "Content-Length: 16\r\n\r\n0123456789abcdef", 16, false,
                200, true, "0123456789abcdef"),
        DONE_AS("chunked at cap",
                CHUNKED_HEAD "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n", 16,
                false, 200, true, "0123456789abcdef"),
        DONE_AS("until close at cap", OK_LINE "\r\n0123456789abcdef", 16, false,
                200, false, "0123456789abcdef"),
        /* With no body cap to speak of, 15 significant hex digits are
         * read (and the stream then ends early), 16 are refused. */
        STOPS("15 significant digits", CHUNKED_HEAD "000fffffffffffffff\r\n",
              SIZE_MAX - 1, KP_ETRUNC),
        STOPS("16 significant digits", CHUNKED_HEAD "1000000000000000\r\n",
              SIZE_MAX - 1, KP_ELIMIT),
        DONE_AS("cap 1", OK_LINE "Content-Length: 1\r\n\r\nx", 1, false, 200,
                true, "x"),
    };

    (void)state;
    CHECK_TABLE(t);
}

/* Parse s whole, in 1-byte pieces and cut at a few places. */
static int
parse_ways(const char *s, size_t max_body)
{
    struct expect e = {"generated", s, max_body, false, 0, 0, false, "", -1};
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

/* A reply with one long line: "<prefix><fill bytes 'x'><suffix>", and
 * what parsing it with a 16-byte body cap gives. */
struct long_case {
    const char *prefix;
    size_t fill;
    const char *suffix;
    int rc;
};

#define LINE_SIZE sizeof(((struct http_resp *)NULL)->line)

static void
check_long_case(const struct long_case *c)
{
    size_t a = strlen(c->prefix), b = strlen(c->suffix);
    char *s = malloc(a + c->fill + b + 1);

    assert_non_null(s);
    memcpy(s, c->prefix, a);
    memset(s + a, 'x', c->fill);
    memcpy(s + a + c->fill, c->suffix, b + 1);
    if (parse_ways(s, 16) != c->rc) {
        print_error("%s<%zu x>%s: want %d\n", c->prefix, c->fill, c->suffix,
                    c->rc);
        fail();
    }
    free(s);
}

static void
test_line_caps(void **state)
{
    static const struct long_case t[] = {
        /* The status line with its "\r" fills p->line exactly... */
        {"HTTP/1.1 200 ", LINE_SIZE - 14, "\r\n" LEN0, HTTP_RESP_DONE},
        /* ... and is refused one byte longer. */
        {"HTTP/1.1 200 ", LINE_SIZE - 13, "\r\n" LEN0, KP_ELIMIT},
        /* A refused status line fails before its end arrives. */
        {"HTTP/1.1 200 ", 2000, "", KP_ELIMIT},
        /* Chunk size lines: long extensions up to the line size. */
        {CHUNKED_HEAD "1;", LINE_SIZE - 3, "\r\nx\r\n0\r\n\r\n",
         HTTP_RESP_DONE},
        {CHUNKED_HEAD "1;", LINE_SIZE - 2, "\r\nx\r\n0\r\n\r\n", KP_ELIMIT},
        /* A long framing header is refused; a long name with no colon in
         * the part kept too; a long trailer is skipped. */
        {OK_LINE "Connection: close", 2000, "\r\n\r\n", KP_ELIMIT},
        {OK_LINE "X-", 2000, ": v\r\n\r\n", KP_ELIMIT},
        {CHUNKED_HEAD "1\r\nz\r\n0\r\nT: ", 3000, "\r\n\r\n", HTTP_RESP_DONE},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        check_long_case(&t[i]);
}

/* `before`, then a response whose head ("HTTP/1.1 200 OK\r\n", header
 * lines, "Content-Length: 0\r\n\r\n") is exactly head_total bytes; parsed
 * every way. Returns: what parsing gives. */
static int
parse_big_head(const char *before, size_t head_total)
{
    const char *tail = LEN0;
    size_t fixed = strlen(OK_LINE) + strlen(tail), left = head_total - fixed;
    char *s = malloc(strlen(before) + head_total + 1), *w = s;
    int rc;

    assert_non_null(s);
    w += sprintf(w, "%s%s", before, OK_LINE);
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
    assert_int_equal(strlen(s), strlen(before) + head_total);
    rc = parse_ways(s, 16);
    free(s);
    return rc;
}

static void
test_head_cap(void **state)
{
    (void)state;
    assert_int_equal(parse_big_head("", HTTP_RESP_MAX_HEAD), HTTP_RESP_DONE);
    assert_int_equal(parse_big_head("", HTTP_RESP_MAX_HEAD + 1), KP_ELIMIT);
    /* Counted afresh after an interim response. */
    assert_int_equal(parse_big_head("HTTP/1.1 100 Continue\r\nA: b\r\n\r\n",
                                    HTTP_RESP_MAX_HEAD),
                     HTTP_RESP_DONE);
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
    strcpy(buf + n, OK_LINE "Content-Length: 1\r\n\r\nk");
    assert_int_equal(parse_ways(buf, 16), HTTP_RESP_DONE);
    n += (size_t)sprintf(buf + n, "HTTP/1.1 103 Hints\r\n\r\n");
    strcpy(buf + n, OK_LINE "Content-Length: 1\r\n\r\nk");
    assert_int_equal(parse_ways(buf, 16), KP_ELIMIT);
}

/* Any `used` will do: after an error it is of no use. */
#define ANY_USED SIZE_MAX

/* One http_resp_feed of data[0..len): its result, and the bytes it
 * consumed unless `used` is ANY_USED. */
static void
feed_is(struct http_resp *p, const char *data, size_t len, int rc, size_t used)
{
    size_t got = 99;

    assert_int_equal(http_resp_feed(p, data, len, &got), rc);
    if (used != ANY_USED)
        assert_int_equal(got, used);
}

/* Three responses back to back, then the start of a fourth. */
#define PIPE_1 OK_LINE "Content-Length: 3\r\n\r\none"
#define PIPE_2 CHUNKED_HEAD "3\r\ntwo\r\n0\r\n\r\n"
#define PIPE_3 "HTTP/1.1 204 No\r\n\r\n"

static void
test_pipelined(void **state)
{
    static const struct {
        size_t len;
        int status;
        const char *body;
    } part[] = {
        {sizeof(PIPE_1) - 1, 200, "one"},
        {sizeof(PIPE_2) - 1, 200, "two"},
        {sizeof(PIPE_3) - 1, 204, ""},
    };
    const char *all = PIPE_1 PIPE_2 PIPE_3 "HTTP/1.1";
    size_t len = strlen(all), off = 0;
    struct http_resp p;

    (void)state;
    /* Fed whole: each response stops exactly at its end. */
    http_resp_init(&p, 64, false);
    for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
        feed_is(&p, all + off, len - off, HTTP_RESP_DONE, part[i].len);
        assert_int_equal(p.status, part[i].status);
        assert_int_equal(p.body_len, strlen(part[i].body));
        assert_string_equal(p.body, part[i].body);
        off += part[i].len;
        http_resp_reset(&p, 64, false);
    }
    assert_int_equal(len - off, 8);
    feed_is(&p, all + off, 8, HTTP_RESP_MORE, 8);
    assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
    http_resp_free(&p);

    /* Cut anywhere: the first response still ends at its end. */
    for (size_t cut = 0; cut <= len; cut++) {
        struct outcome o;

        http_resp_init(&p, 64, false);
        parse_pieces(&o, &p, all, len, cut, len);
        assert_int_equal(o.rc, HTTP_RESP_DONE);
        assert_int_equal(o.used, part[0].len);
        assert_string_equal(o.body, "one");
        http_resp_free(&p);
    }
}

/* Retry-After of the final response: delta-seconds only, capped at a
 * day; everything else reads as absent and never fails the parse. */
#define R429 "HTTP/1.1 429 Too Many Requests\r\n"
#define R503 "HTTP/1.1 503 Service Unavailable\r\n"
static void
test_retry_after(void **state)
{
    static const struct expect t[] = {
        DONE_RA("absent", R429 LEN0, 429, -1),
        DONE_RA("seconds", R429 "Retry-After: 7\r\n" LEN0, 429, 7),
        DONE_RA("zero", R429 "Retry-After: 0\r\n" LEN0, 429, 0),
        DONE_RA("case and OWS", R503 "rEtRy-AfTeR:\t 120 \t\r\n" LEN0, 503,
                120),
        DONE_RA("leading zeros",
                R503 "Retry-After: 0000000000000000000042\r\n" LEN0, 503, 42),
        DONE_RA("at cap", R429 "Retry-After: 86400\r\n" LEN0, 429, 86400),
        DONE_RA("over cap", R429 "Retry-After: 86401\r\n" LEN0, 429, 86400),
        DONE_RA("huge", R429 "Retry-After: " DIGITS64 DIGITS64 "\r\n" LEN0, 429,
                86400),
        DONE_RA("on a 200", OK_LINE "Retry-After: 3\r\n" LEN0, 200, 3),
        DONE_RA("bare LF", "HTTP/1.1 429 X\nRetry-After: 5\n" LEN0, 429, 5),
        DONE_RA("last one counts",
                R429 "Retry-After: 5\r\nRetry-After: 9\r\n" LEN0, 429, 9),
        DONE_RA("bad after good",
                R429 "Retry-After: 5\r\nRetry-After: x\r\n" LEN0, 429, -1),
        DONE_RA("HTTP-date",
                R503 "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n" LEN0, 503,
                -1),
        DONE_RA("empty", R429 "Retry-After:\r\n" LEN0, 429, -1),
        DONE_RA("negative", R429 "Retry-After: -1\r\n" LEN0, 429, -1),
        DONE_RA("plus", R429 "Retry-After: +1\r\n" LEN0, 429, -1),
        DONE_RA("fraction", R429 "Retry-After: 1.5\r\n" LEN0, 429, -1),
        DONE_RA("two numbers", R429 "Retry-After: 1 2\r\n" LEN0, 429, -1),
        DONE_RA("list", R429 "Retry-After: 1,2\r\n" LEN0, 429, -1),
        DONE_RA("too long to keep",
                R429 "Retry-After: " TIMES4(TIMES4(DIGITS64)) "\r\n" LEN0, 429,
                -1),
        DONE_RA("other name",
                R429 "Retry-Afterx: 3\r\nXRetry-After: 4\r\n" LEN0, 429, -1),
        DONE_RA("interim one ignored",
                "HTTP/1.1 100 Continue\r\nRetry-After: 3\r\n\r\n" R503 LEN0,
                503, -1),
        DONE_RA("after interim",
                "HTTP/1.1 103 Hints\r\n\r\n" R503 "Retry-After: 2\r\n" LEN0,
                503, 2),
        DONE_RA("in a trailer ignored",
                "HTTP/1.1 429 X\r\nTransfer-Encoding: chunked\r\n\r\n"
                "0\r\nRetry-After: 8\r\n\r\n",
                429, -1),
    };
    const char *ra7 = R429 "Retry-After: 7\r\n" LEN0;
    struct http_resp p;

    (void)state;
    CHECK_TABLE(t);
    /* Fresh and reset parsers start at -1; a reset forgets the last. */
    http_resp_init(&p, 64, false);
    assert_int_equal(p.retry_after_s, -1);
    feed_is(&p, ra7, strlen(ra7), HTTP_RESP_DONE, strlen(ra7));
    assert_int_equal(p.retry_after_s, 7);
    http_resp_reset(&p, 64, false);
    assert_int_equal(p.retry_after_s, -1);
    feed_is(&p, OK_LINE LEN0, 38, HTTP_RESP_DONE, 38);
    assert_int_equal(p.retry_after_s, -1);
    http_resp_free(&p);
}

static void
test_eof(void **state)
{
    static const char *const partial[] = {
        "H",
        "HTTP/1.1 200 OK",
        OK_LINE,
        OK_LINE "Content-Length: 5\r",
        OK_LINE "Content-Length: 5\r\n\r\n",
        OK_LINE "Content-Length: 5\r\n\r\nabcd",
        CHUNKED_HEAD,
        CHUNKED_HEAD "5\r\nabc",
        CHUNKED_HEAD "1\r\na\r",
        CHUNKED_HEAD "0\r\n",
        CHUNKED_HEAD "0\r\nT: 1\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
    };
    struct http_resp p;

    (void)state;
    /* Nothing at all: truncated, and got_bytes says nothing came. */
    http_resp_init(&p, 64, false);
    assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
    assert_false(p.got_bytes);
    feed_is(&p, OK_LINE, 17, KP_ETRUNC, 0); /* sticks */
    assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
    http_resp_free(&p);

    for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
        size_t n = strlen(partial[i]);

        http_resp_init(&p, 64, false);
        feed_is(&p, partial[i], n, HTTP_RESP_MORE, n);
        assert_true(p.got_bytes);
        assert_int_equal(http_resp_eof(&p), KP_ETRUNC);
        http_resp_free(&p);
    }

    /* Until close: the end completes it, once and for all. */
    http_resp_init(&p, 64, false);
    feed_is(&p, OK_LINE "\r\nab", 21, HTTP_RESP_MORE, 21);
    assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
    assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
    assert_false(p.keep_alive);
    assert_string_equal(p.body, "ab");
    feed_is(&p, "cd", 2, HTTP_RESP_DONE, 0);
    assert_int_equal(p.body_len, 2);
    http_resp_free(&p);

    /* Already done, or already failed: eof changes nothing. */
    http_resp_init(&p, 64, false);
    feed_is(&p, "HTTP/1.1 204 No\r\n\r\n", 19, HTTP_RESP_DONE, 19);
    assert_int_equal(http_resp_eof(&p), HTTP_RESP_DONE);
    assert_true(p.keep_alive);
    http_resp_free(&p);
    http_resp_init(&p, 64, false);
    feed_is(&p, "HTTP/9", 6, HTTP_RESP_MORE, 6);
    feed_is(&p, "\r\n", 2, KP_EINVAL, ANY_USED);
    assert_int_equal(http_resp_eof(&p), KP_EINVAL);
    http_resp_free(&p);
}

static void
test_sticky(void **state)
{
    const char *ok = OK_LINE "Content-Length: 1\r\n\r\nz";
    size_t n = strlen(ok);
    struct http_resp p;

    (void)state;
    http_resp_init(&p, 64, false);
    feed_is(&p, ok, n, HTTP_RESP_DONE, n);
    feed_is(&p, ok, n, HTTP_RESP_DONE, 0);
    feed_is(&p, NULL, 0, HTTP_RESP_DONE, 0);
    assert_string_equal(p.body, "z");
    http_resp_free(&p);

    http_resp_init(&p, 64, false);
    feed_is(&p, OK_LINE "bad\r\n", 22, KP_EINVAL, ANY_USED);
    feed_is(&p, ok, n, KP_EINVAL, 0);
    http_resp_reset(&p, 64, false); /* a reset clears the failure */
    feed_is(&p, ok, n, HTTP_RESP_DONE, n);
    http_resp_free(&p);

    http_resp_init(&p, 4, false);
    feed_is(&p, OK_LINE "\r\n12345", 24, KP_ELIMIT, ANY_USED);
    feed_is(&p, "", 0, KP_ELIMIT, 0);
    assert_int_equal(http_resp_eof(&p), KP_ELIMIT);
    http_resp_free(&p);
}

static void
test_reset_reuses_buffer(void **state)
{
    char *raw, *body_mem;
    size_t big = 10000, n;
    struct http_resp p;

    (void)state;
    raw = malloc(big + 64);
    assert_non_null(raw);
    n = (size_t)sprintf(raw, OK_LINE "Content-Length: %zu\r\n\r\n", big);
    memset(raw + n, 'B', big);
    http_resp_init(&p, 1u << 20, false);
    assert_null(p.body);
    feed_is(&p, raw, n + big, HTTP_RESP_DONE, n + big);
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
    feed_is(&p, OK_LINE "Content-Length: 2\r\n\r\nhi", 40, HTTP_RESP_DONE, 40);
    assert_ptr_equal(p.body, body_mem);
    assert_int_equal(p.body_len, 2);
    assert_memory_equal(p.body, "hi", 3);
    assert_int_equal(p.body_cap, 16384);

    /* A reset to a smaller cap keeps the memory but applies the cap. */
    http_resp_reset(&p, 3, false);
    feed_is(&p, OK_LINE "Content-Length: 4\r\n\r\n", 38, KP_ELIMIT, ANY_USED);
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
    size_t n;

    (void)state;
    raw = malloc(10000);
    assert_non_null(raw);
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        size_t cap = caps[i], half = cap / 2;

        n = (size_t)sprintf(raw, OK_LINE "\r\n");
        memset(raw + n, 'g', cap);
        http_resp_init(&p, cap, false);
        /* Until close, in two pieces to make it grow from a used buffer. */
        feed_is(&p, raw, n + half, HTTP_RESP_MORE, n + half);
        feed_is(&p, raw + n + half, cap - half, HTTP_RESP_MORE, cap - half);
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

    (void)state;
    http_resp_init(&p, 8, false);
    feed_is(&p, NULL, 0, HTTP_RESP_MORE, 0);
    assert_false(p.got_bytes);
    http_resp_free(&p); /* no body yet */
    http_resp_free(&p);
    http_resp_free(NULL);

    http_resp_init(&p, 8, false);
    http_resp_reset(&p, 8, true); /* reset with no buffer yet */
    assert_null(p.body);
    feed_is(&p, "\0\0\0\n", 4, KP_EINVAL, ANY_USED);
    http_resp_reset(&p, 8, false);
    feed_is(&p, "\xff\xfe\n", 3, KP_EINVAL, ANY_USED);
    http_resp_reset(&p, 8, false);
    feed_is(&p, OK_LINE "A\0: b\r\n\r\n", 26, KP_EINVAL, ANY_USED);
    http_resp_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framings),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_retry_after),
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
