/*
 * http_resp.c - incremental parser for one HTTP/1.x response.
 *
 * One state per position in the framing. Lines (status, header, chunk
 * size, trailer) are found with memchr: a line that lies whole in the
 * piece being fed is parsed where it lies, and only a line split across
 * pieces is gathered in p->line first. Body runs are copied with memcpy.
 * Every decision depends on the bytes alone, never on where the pieces
 * were cut, so feeding a reply whole or a byte at a time gives the same
 * result (the tests and the fuzz target check this).
 */
#include "chain/http_resp.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/err.h"

/* p->state; a negative p->state is the KP_E* code that stopped it. */
enum {
    ST_STATUS,     /* the status line */
    ST_HEADER,     /* header lines up to the empty line */
    ST_BODY_LEN,   /* p->length body bytes left (Content-Length) */
    ST_BODY_CLOSE, /* body bytes until the peer closes */
    ST_CHUNK_SIZE, /* a chunk size line */
    ST_CHUNK_DATA, /* p->length bytes of the current chunk left */
    ST_CHUNK_CR,   /* CRLF (or a bare LF) after chunk data */
    ST_CHUNK_LF,   /* the LF after that CR */
    ST_TRAILER,    /* trailer lines up to the empty line */
    ST_DONE,
};

#define BODY_FIRST_CAP 4096u
/* 15 hex digits stay below 2^60: far above any body cap, and no
 * arithmetic on them can overflow. */
#define CHUNK_MAX_DIGITS 15

/* One complete line, without its "\n" (and without a "\r" before it). */
struct line {
    const char *s;
    size_t n;
    bool cut; /* longer than p->line: s holds only its first bytes, and
                 the line end is not among them */
};

/* Header fields that decide the framing. */
enum field { F_OTHER, F_LENGTH, F_TE, F_CONNECTION, F_RETRY_AFTER };

static bool
ieq(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && strncasecmp(s, lit, n) == 0;
}

static bool
is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 token character. */
static bool
is_tchar(unsigned char c)
{
    if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* A body follows the headers of the current (final) response. */
static bool
expects_body(const struct http_resp *p)
{
    return !p->head_request && p->status >= 200 && p->status != 204 &&
           p->status != 304;
}

/* Forget what the headers of the previous (interim) response said. */
static void
clear_head(struct http_resp *p)
{
    p->head_len = 0;
    p->chunked = p->has_length = p->has_te = false;
    p->conn_close = p->conn_keep_alive = false;
    p->length = 0;
}

/* Make room for `need` bytes; geometric growth, never above the cap. */
static void
body_reserve(struct http_resp *p, size_t need)
{
    size_t cap, lim = p->max_body + 1;

    if (need <= p->body_cap)
        return;
    assert(need <= lim);
    cap = p->body_cap ? p->body_cap : BODY_FIRST_CAP;
    while (cap < need)
        cap = cap > lim / 2 ? lim : cap * 2;
    if (cap > lim)
        cap = lim;
    p->body = kp_xrealloc(p->body, cap);
    p->body_cap = cap;
}

/* Append k body bytes; the callers have checked them against the cap. */
static void
body_put(struct http_resp *p, const char *d, size_t k)
{
    if (k == 0)
        return;
    body_reserve(p, p->body_len + k + 1);
    memcpy(p->body + p->body_len, d, k);
    p->body_len += k;
    p->body[p->body_len] = '\0';
}

/* Keep up to the room left in p->line; note when the line outgrows it. */
static void
line_keep(struct http_resp *p, const char *d, size_t k)
{
    size_t room = sizeof(p->line) - p->line_len;

    if (k > room) {
        k = room;
        p->line_long = true;
    }
    memcpy(p->line + p->line_len, d, k);
    p->line_len += k;
}

/* Gather one line from d[0..n). `head`: its bytes count toward
 * HTTP_RESP_MAX_HEAD; `long_ok`: a line longer than p->line is passed on
 * cut rather than refused.
 * Returns: 1 with *ln set when a line is complete, 0 when all n bytes went
 *          into a line still open, KP_ELIMIT.
 * Out: *took (bytes consumed), *ln */
static int
take_line(struct http_resp *p, const char *d, size_t n, size_t *took,
          struct line *ln, bool head, bool long_ok)
{
    const char *nl = memchr(d, '\n', n);
    size_t k = nl ? (size_t)(nl - d) : n;

    *took = nl ? k + 1 : n;
    if (head) {
        if (*took > HTTP_RESP_MAX_HEAD - p->head_len)
            return KP_ELIMIT;
        p->head_len += *took;
    }
    if (nl && p->line_len == 0 && !p->line_long) {
        ln->s = d; /* the usual case: the line lies whole in this piece */
        ln->cut = k > sizeof(p->line);
        ln->n = ln->cut ? sizeof(p->line) : k;
    } else {
        line_keep(p, d, k);
        if (!nl)
            return p->line_long && !long_ok ? KP_ELIMIT : 0;
        ln->s = p->line;
        ln->n = p->line_len;
        ln->cut = p->line_long;
        p->line_len = 0;
        p->line_long = false;
    }
    if (ln->cut && !long_ok)
        return KP_ELIMIT;
    if (!ln->cut && ln->n > 0 && ln->s[ln->n - 1] == '\r')
        ln->n--;
    return 1;
}

/* "HTTP/1.x NNN[ reason]". */
static int
parse_status(struct http_resp *p, const char *s, size_t n)
{
    int status;

    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
        (s[7] != '0' && s[7] != '1') || s[8] != ' ')
        return KP_EINVAL;
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return KP_EINVAL;
    if (n > 12 && s[12] != ' ')
        return KP_EINVAL;
    status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    /* 101 would hand the connection to another protocol: never asked for. */
    if (status < 100 || status > 599 || status == 101)
        return KP_EINVAL;
    if (status < 200 && p->interim >= HTTP_RESP_MAX_INTERIM)
        return KP_ELIMIT;
    p->status = status;
    p->minor = s[7] - '0';
    p->state = ST_HEADER;
    return 0;
}

/* Split "name: value" and check the name. A cut line must show its colon
 * within the part kept.
 * Out: *name, *nn, *val, *vn (value without surrounding whitespace) */
static int
split_field(const struct line *ln, const char **name, size_t *nn,
            const char **val, size_t *vn)
{
    const char *colon = memchr(ln->s, ':', ln->n), *v, *end = ln->s + ln->n;

    if (!colon)
        return ln->cut ? KP_ELIMIT : KP_EINVAL;
    *name = ln->s;
    *nn = (size_t)(colon - ln->s);
    /* An empty name covers a folded line; whitespace before the colon is
     * refused because intermediaries disagree on what it means. */
    if (*nn == 0)
        return KP_EINVAL;
    for (size_t i = 0; i < *nn; i++)
        if (!is_tchar((unsigned char)ln->s[i]))
            return KP_EINVAL;
    for (v = colon + 1; v < end && is_ows(*v); v++)
        ;
    while (end > v && is_ows(end[-1]))
        end--;
    *val = v;
    *vn = (size_t)(end - v);
    return 0;
}

static enum field
field_of(const char *name, size_t nn)
{
    switch (nn) {
    case 10:
        return ieq(name, nn, "connection") ? F_CONNECTION : F_OTHER;
    case 11:
        return ieq(name, nn, "retry-after") ? F_RETRY_AFTER : F_OTHER;
    case 14:
        return ieq(name, nn, "content-length") ? F_LENGTH : F_OTHER;
    case 17:
        return ieq(name, nn, "transfer-encoding") ? F_TE : F_OTHER;
    default:
        return F_OTHER;
    }
}

/* The next element of a comma-separated list in [*s, end), whitespace
 * trimmed (possibly empty).
 * Returns: false when the list is used up.   In/Out: *s   Out: *e, *en */
static bool
next_elem(const char **s, const char *end, const char **e, size_t *en)
{
    const char *a = *s, *b, *comma;

    if (a > end)
        return false;
    comma = memchr(a, ',', (size_t)(end - a));
    b = comma ? comma : end;
    *s = b + 1; /* one past end once the last element is taken */
    while (a < b && is_ows(*a))
        a++;
    while (b > a && is_ows(b[-1]))
        b--;
    *e = a;
    *en = (size_t)(b - a);
    return true;
}

static int
on_length(struct http_resp *p, const char *v, size_t vn)
{
    unsigned long long x = 0;
    bool over = false;

    if (vn == 0)
        return KP_EINVAL;
    for (size_t i = 0; i < vn; i++) {
        unsigned d = (unsigned)(unsigned char)v[i] - '0';

        if (d > 9)
            return KP_EINVAL;
        if (x > (ULLONG_MAX - d) / 10)
            over = true;
        else
            x = x * 10 + d;
    }
    if (over)
        return KP_ELIMIT;
    if (p->has_length && x != p->length)
        return KP_EINVAL;
    if (expects_body(p) && x > p->max_body)
        return KP_ELIMIT;
    p->has_length = true;
    p->length = x;
    return 0;
}

/* Several Transfer-Encoding lines form one list; only its last coding
 * matters to a client: chunked, or else the body runs to the close. */
static void
on_te(struct http_resp *p, const char *v, size_t vn)
{
    const char *s = v, *e, *last = NULL;
    size_t en, lastn = 0;

    while (next_elem(&s, v + vn, &e, &en))
        if (en > 0) {
            last = e;
            lastn = en;
        }
    if (!last)
        return; /* an empty list adds nothing */
    p->has_te = true;
    p->chunked = ieq(last, lastn, "chunked");
}

static void
on_connection(struct http_resp *p, const char *v, size_t vn)
{
    const char *s = v, *e;
    size_t en;

    while (next_elem(&s, v + vn, &e, &en)) {
        if (ieq(e, en, "close"))
            p->conn_close = true;
        else if (ieq(e, en, "keep-alive"))
            p->conn_keep_alive = true;
    }
}

/* Retry-After: delta-seconds, capped; anything else (an HTTP-date
 * included, see the header) reads as absent. Kept out of line: inlined,
 * its loop made every reply's header path about 12% slower on
 * bench_http_resp, though few replies carry the field. */
__attribute__((noinline)) static long
retry_after_of(const char *v, size_t vn)
{
    long x = 0;

    if (vn == 0)
        return -1;
    for (size_t i = 0; i < vn; i++) {
        unsigned d = (unsigned)(unsigned char)v[i] - '0';

        if (d > 9)
            return -1;
        /* Saturate: more digits can only stay at the cap. */
        x = x * 10 + (long)d;
        if (x > HTTP_RESP_RETRY_AFTER_MAX)
            x = HTTP_RESP_RETRY_AFTER_MAX;
    }
    return x;
}

/* The empty line after the headers: choose the framing. */
static int
end_head(struct http_resp *p)
{
    bool ka;

    if (p->status < 200) {
        p->interim++;
        clear_head(p);
        p->state = ST_STATUS;
        return 0;
    }
    ka = p->minor == 1 ? !p->conn_close : p->conn_keep_alive && !p->conn_close;
    if (!expects_body(p)) {
        p->state = ST_DONE;
    } else if (p->has_te && p->chunked) {
        /* Both framings at once smells of smuggling: use chunked as
         * RFC 9112 says, but do not trust the connection afterwards. */
        ka = ka && !p->has_length;
        p->state = ST_CHUNK_SIZE;
    } else if (p->has_te || !p->has_length) {
        ka = false;
        p->state = ST_BODY_CLOSE;
    } else {
        p->state = p->length > 0 ? ST_BODY_LEN : ST_DONE;
    }
    p->keep_alive = ka;
    return 0;
}

static int
on_header(struct http_resp *p, const struct line *ln)
{
    const char *name, *v;
    size_t nn, vn;
    enum field f;
    int rc;

    if (ln->n == 0 && !ln->cut)
        return end_head(p);
    if ((rc = split_field(ln, &name, &nn, &v, &vn)) != 0)
        return rc;
    if (p->status < 200)
        return 0; /* an interim response's fields frame nothing */
    if ((f = field_of(name, nn)) == F_OTHER)
        return 0;
    if (f == F_RETRY_AFTER) {
        /* Advice, not framing: a value too long to keep is no value. */
        p->retry_after_s = ln->cut ? -1 : retry_after_of(v, vn);
        return 0;
    }
    if (ln->cut)
        return KP_ELIMIT; /* a framing value we could not keep whole */
    switch (f) {
    case F_LENGTH:
        return on_length(p, v, vn);
    case F_TE:
        on_te(p, v, vn);
        return 0;
    case F_CONNECTION:
        on_connection(p, v, vn);
        return 0;
    default:
        return 0;
    }
}

/* "HEX[ws][;extensions]" */
static int
parse_chunk_size(struct http_resp *p, const char *s, size_t n)
{
    unsigned long long v = 0;
    size_t i, digits = 0;
    int d = 0;

    for (i = 0; i < n && (d = hex_digit(s[i])) >= 0; i++) {
        if (v == 0 && d == 0)
            continue; /* leading zeros: bounded by the line length */
        if (++digits > CHUNK_MAX_DIGITS)
            return KP_ELIMIT;
        v = v * 16 + (unsigned)d;
    }
    if (i == 0)
        return KP_EINVAL;
    while (i < n && is_ows(s[i]))
        i++;
    if (i < n && s[i] != ';')
        return KP_EINVAL;
    if (v == 0) {
        p->state = ST_TRAILER;
        return 0;
    }
    if (v > p->max_body - p->body_len)
        return KP_ELIMIT;
    p->length = v;
    p->state = ST_CHUNK_DATA;
    return 0;
}

/* A trailer field is checked like a header and then ignored. */
static int
on_trailer(struct http_resp *p, const struct line *ln)
{
    const char *name, *v;
    size_t nn, vn;

    if (ln->n == 0 && !ln->cut) {
        p->state = ST_DONE;
        return 0;
    }
    return split_field(ln, &name, &nn, &v, &vn);
}

/* A line-oriented state: gather a line, then read it as the state says.
 * Chunk size lines are body framing, not head; header and trailer lines
 * may be too long to keep whole, since most fields are skipped. */
static int
step_line(struct http_resp *p, const char *d, size_t n, size_t *took)
{
    /* The state in a local, not re-read after take_line writes *p: the
     * compiler then folds the switch below into step's (about 10% on
     * bench_http_resp). */
    int st = p->state;
    struct line ln;
    int rc = take_line(p, d, n, took, &ln, st != ST_CHUNK_SIZE,
                       st == ST_HEADER || st == ST_TRAILER);

    if (rc <= 0)
        return rc;
    switch (st) {
    case ST_STATUS:
        return parse_status(p, ln.s, ln.n);
    case ST_HEADER:
        return on_header(p, &ln);
    case ST_CHUNK_SIZE:
        return parse_chunk_size(p, ln.s, ln.n);
    default:
        return on_trailer(p, &ln);
    }
}

/* Content-Length body, or the data of one chunk. */
static int
step_counted(struct http_resp *p, const char *d, size_t n, size_t *took)
{
    size_t k = n < p->length ? n : (size_t)p->length;

    body_put(p, d, k);
    p->length -= k;
    *took = k;
    if (p->length == 0)
        p->state = p->state == ST_BODY_LEN ? ST_DONE : ST_CHUNK_CR;
    return 0;
}

static int
step_until_close(struct http_resp *p, const char *d, size_t n, size_t *took)
{
    if (n > p->max_body - p->body_len)
        return KP_ELIMIT;
    body_put(p, d, n);
    *took = n;
    return 0;
}

static int
step_chunk_end(struct http_resp *p, const char *d, size_t n, size_t *took)
{
    (void)n;
    *took = 1;
    if (d[0] == '\n') {
        p->state = ST_CHUNK_SIZE;
        return 0;
    }
    if (d[0] == '\r' && p->state == ST_CHUNK_CR) {
        p->state = ST_CHUNK_LF;
        return 0;
    }
    return KP_EINVAL;
}

/* One step from the current state over d[0..n), n > 0.
 * Returns: 0 or a KP_E* code.   Out: *took (bytes consumed) */
static int
step(struct http_resp *p, const char *d, size_t n, size_t *took)
{
    switch (p->state) {
    case ST_STATUS:
    case ST_HEADER:
    case ST_CHUNK_SIZE:
    case ST_TRAILER:
        return step_line(p, d, n, took);
    case ST_BODY_LEN:
    case ST_CHUNK_DATA:
        return step_counted(p, d, n, took);
    case ST_BODY_CLOSE:
        return step_until_close(p, d, n, took);
    case ST_CHUNK_CR:
    case ST_CHUNK_LF:
        return step_chunk_end(p, d, n, took);
    default:
        assert(0 && "http_resp: no step in this state");
        return KP_ESTATE;
    }
}

void
http_resp_init(struct http_resp *p, size_t max_body, bool head_request)
{
    assert(p);
    assert(max_body > 0 && max_body < SIZE_MAX);
    memset(p, 0, sizeof(*p));
    p->max_body = max_body;
    p->head_request = head_request;
    p->retry_after_s = -1;
}

void
http_resp_reset(struct http_resp *p, size_t max_body, bool head_request)
{
    char *body;
    size_t cap;

    assert(p);
    assert(max_body > 0 && max_body < SIZE_MAX);
    body = p->body;
    cap = p->body_cap;
    /* Field by field: clearing p->line (1 KiB) would cost more than the
     * parse of a small reply. */
    p->status = 0;
    p->keep_alive = false;
    p->body_len = 0;
    p->got_bytes = false;
    p->retry_after_s = -1;
    p->max_body = max_body;
    p->head_request = head_request;
    p->state = ST_STATUS;
    p->minor = 0;
    p->interim = 0;
    p->line_len = 0;
    p->line_long = false;
    clear_head(p);
    p->body = body;
    p->body_cap = cap;
    if (body)
        body[0] = '\0';
}

void
http_resp_free(struct http_resp *p)
{
    if (!p)
        return;
    if (p->body) {
        kp_wipe(p->body, p->body_cap);
        free(p->body);
    }
    p->body = NULL;
    p->body_cap = p->body_len = 0;
}

int
http_resp_feed(struct http_resp *p, const char *data, size_t len, size_t *used)
{
    size_t off = 0, took;
    int rc;

    assert(p && used && (data || len == 0));
    *used = 0;
    if (p->state == ST_DONE)
        return HTTP_RESP_DONE;
    if (p->state < 0)
        return p->state;
    if (len > 0)
        p->got_bytes = true;
    while (off < len && p->state != ST_DONE) {
        took = 0;
        if ((rc = step(p, data + off, len - off, &took)) < 0) {
            p->state = rc;
            *used = off;
            return rc;
        }
        off += took;
    }
    *used = off;
    return p->state == ST_DONE ? HTTP_RESP_DONE : HTTP_RESP_MORE;
}

int
http_resp_eof(struct http_resp *p)
{
    assert(p);
    if (p->state == ST_BODY_CLOSE) {
        p->keep_alive = false;
        p->state = ST_DONE;
    } else if (p->state >= 0 && p->state != ST_DONE) {
        p->state = KP_ETRUNC;
    }
    return p->state == ST_DONE ? HTTP_RESP_DONE : p->state;
}
