#include "chain/rlp.h"

#include <assert.h>
#include <string.h>

#include "chain/err.h"

/* Short forms cover payloads up to 55 bytes; longer ones carry a length
 * of their own (Yellow Paper, appendix B). */
#define RLP_SHORT_MAX 55
#define RLP_STRING 0x80
#define RLP_LIST 0xc0

/* ---- encoding ------------------------------------------------------- */

void
rlp_enc_init(struct rlp_enc *e, uint8_t *buf, size_t cap)
{
    assert(e != NULL && (buf != NULL || cap == 0));
    e->buf = buf;
    e->cap = cap;
    e->len = 0;
    e->err = 0;
    e->hash = NULL;
}

void
rlp_enc_init_hash(struct rlp_enc *e, struct keccak256_ctx *hash)
{
    assert(e != NULL && hash != NULL);
    rlp_enc_init(e, NULL, 0);
    e->hash = hash;
}

int
rlp_enc_finish(const struct rlp_enc *e, size_t *outlen)
{
    assert(e != NULL && outlen != NULL);
    *outlen = e->len;
    return e->err;
}

static void
enc_write(struct rlp_enc *e, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (e->hash)
        keccak256_update(e->hash, p, n);
    else if (e->err == 0 && n <= e->cap - e->len)
        memcpy(e->buf + e->len, p, n);
    else
        e->err = KP_ERANGE;
    e->len += n;
}

/* The fast path: room for n more bytes in the buffer, claimed.
 * Returns: where they go, or NULL (hashing mode, an earlier error, or no
 * room) and the caller takes enc_write's path. */
static inline uint8_t *
enc_room(struct rlp_enc *e, size_t n)
{
    uint8_t *p;

    if (e->hash != NULL || e->err != 0 || n > e->cap - e->len)
        return NULL;
    p = e->buf + e->len;
    e->len += n;
    return p;
}

static inline void
enc_byte(struct rlp_enc *e, uint8_t b)
{
    uint8_t *p = enc_room(e, 1);

    if (p != NULL)
        *p = b;
    else
        enc_write(e, &b, 1);
}

/* Returns: the number of bytes in the minimal big-endian form of n. */
static inline size_t
be_len(uint64_t n)
{
    return n ? 8 - (size_t)(__builtin_clzll(n) >> 3) : 0;
}

/* Out: p[0..k) = the low k bytes of v, big-endian */
static inline void
store_be(uint8_t *p, uint64_t v, size_t k)
{
    size_t i;

    for (i = 0; i < k; i++)
        p[k - 1 - i] = (uint8_t)(v >> (8 * i));
}

static size_t
header_size(size_t payload_len)
{
    return payload_len <= RLP_SHORT_MAX ? 1 : 1 + be_len(payload_len);
}

/* Out: h (header_size(n) bytes)   In: base (RLP_STRING or RLP_LIST) */
static size_t
header_fill(uint8_t h[RLP_HEADER_MAX], uint8_t base, size_t n)
{
    size_t k;

    if (n <= RLP_SHORT_MAX) {
        h[0] = (uint8_t)(base + n);
        return 1;
    }
    k = be_len(n);
    h[0] = (uint8_t)(base + RLP_SHORT_MAX + k);
    store_be(h + 1, n, k);
    return k + 1;
}

static void
put_header(struct rlp_enc *e, uint8_t base, size_t n)
{
    uint8_t h[RLP_HEADER_MAX];

    if (n <= RLP_SHORT_MAX)
        enc_byte(e, (uint8_t)(base + n));
    else
        enc_write(e, h, header_fill(h, base, n));
}

void
rlp_put_bytes(struct rlp_enc *e, const uint8_t *p, size_t n)
{
    uint8_t *q;

    assert(e != NULL && (p != NULL || n == 0));
    if (n == 1 && p[0] < RLP_STRING) {
        enc_byte(e, p[0]);
        return;
    }
    if (n <= RLP_SHORT_MAX && (q = enc_room(e, 1 + n)) != NULL) {
        q[0] = (uint8_t)(RLP_STRING + n);
        if (n > 0)
            memcpy(q + 1, p, n);
        return;
    }
    put_header(e, RLP_STRING, n);
    enc_write(e, p, n);
}

void
rlp_put_u64(struct rlp_enc *e, uint64_t v)
{
    uint8_t be[8], *q;
    size_t k;

    assert(e != NULL);
    if (v < RLP_STRING) {
        enc_byte(e, v ? (uint8_t)v : RLP_STRING);
        return;
    }
    k = be_len(v);
    if ((q = enc_room(e, 1 + k)) != NULL) {
        q[0] = (uint8_t)(RLP_STRING + k);
        store_be(q + 1, v, k);
        return;
    }
    store_be(be, v, k);
    rlp_put_bytes(e, be, k);
}

/* Returns: the minimal big-endian byte length of v. */
static size_t
u256_len(const struct u256 *v)
{
    int i;

    for (i = 3; i > 0 && v->w[i] == 0; i--)
        ;
    return 8 * (size_t)i + be_len(v->w[i]);
}

/* Out: p[0..n) = the low n bytes of v, big-endian (n <= 32) */
static void
store_u256(uint8_t *p, const struct u256 *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[n - 1 - i] = (uint8_t)(v->w[i / 8] >> (8 * (i % 8)));
}

void
rlp_put_u256(struct rlp_enc *e, const struct u256 *v)
{
    uint8_t be[32], *q;
    size_t n;

    assert(v != NULL);
    n = u256_len(v);
    if (n <= 8) {
        rlp_put_u64(e, v->w[0]);
        return;
    }
    if ((q = enc_room(e, 1 + n)) != NULL) {
        q[0] = (uint8_t)(RLP_STRING + n);
        store_u256(q + 1, v, n);
        return;
    }
    store_u256(be, v, n);
    rlp_put_bytes(e, be, n);
}

void
rlp_put_be_int(struct rlp_enc *e, const uint8_t *be, size_t n)
{
    assert(be != NULL || n == 0);
    while (n && be[0] == 0)
        be++, n--;
    rlp_put_bytes(e, be, n);
}

void
rlp_put_raw(struct rlp_enc *e, const uint8_t *p, size_t n)
{
    assert(e != NULL && (p != NULL || n == 0));
    enc_write(e, p, n);
}

void
rlp_put_list_header(struct rlp_enc *e, size_t payload_len)
{
    assert(e != NULL);
    put_header(e, RLP_LIST, payload_len);
}

size_t
rlp_list_begin(struct rlp_enc *e)
{
    assert(e != NULL && e->hash == NULL);
    return e->len;
}

void
rlp_list_end(struct rlp_enc *e, size_t mark)
{
    uint8_t h[RLP_HEADER_MAX];
    size_t payload, hl;

    assert(e != NULL && e->hash == NULL && mark <= e->len);
    payload = e->len - mark;
    hl = header_fill(h, RLP_LIST, payload);
    if (e->err == 0 && hl <= e->cap - e->len) {
        memmove(e->buf + mark + hl, e->buf + mark, payload);
        memcpy(e->buf + mark, h, hl);
    } else {
        e->err = KP_ERANGE;
    }
    e->len += hl;
}

size_t
rlp_bytes_size(const uint8_t *p, size_t n)
{
    assert(p != NULL || n == 0);
    if (n == 1 && p[0] < RLP_STRING)
        return 1;
    return header_size(n) + n;
}

size_t
rlp_u64_size(uint64_t v)
{
    return v < RLP_STRING ? 1 : 1 + be_len(v);
}

size_t
rlp_u256_size(const struct u256 *v)
{
    size_t n;

    assert(v != NULL);
    n = u256_len(v);
    return n == 1 && v->w[0] < RLP_STRING ? 1 : 1 + n;
}

size_t
rlp_be_int_size(const uint8_t *be, size_t n)
{
    assert(be != NULL || n == 0);
    while (n && be[0] == 0)
        be++, n--;
    return rlp_bytes_size(be, n);
}

size_t
rlp_list_size(size_t payload_len)
{
    return header_size(payload_len) + payload_len;
}

/* ---- decoding ------------------------------------------------------- */

/* Read the long-form length of `ll` bytes at p (ll <= 8, p has them).
 * Returns: 0, or KP_ENONCANON (leading zero, or a length that fits the
 *          short form). */
static int
long_len(size_t *n, const uint8_t *p, size_t ll)
{
    uint64_t v = 0;
    size_t i;

    if (p[0] == 0)
        return KP_ENONCANON;
    for (i = 0; i < ll; i++)
        v = v << 8 | p[i];
    if (v <= RLP_SHORT_MAX)
        return KP_ENONCANON;
    *n = (size_t)v;
    return 0;
}

/* Decode a header whose first byte b is >= `base` (RLP_STRING/RLP_LIST).
 * Out: *hl (header bytes), *n (payload bytes) */
static int
decode_header(size_t *hl, size_t *n, const uint8_t *buf, size_t len,
              uint8_t base)
{
    size_t ll, b = buf[0];
    int rc;

    if (b - base <= RLP_SHORT_MAX) {
        *hl = 1;
        *n = b - base;
    } else {
        ll = b - base - RLP_SHORT_MAX;
        if (ll > len - 1)
            return KP_ETRUNC;
        if ((rc = long_len(n, buf + 1, ll)) != 0)
            return rc;
        *hl = 1 + ll;
    }
    if (*n > len - *hl)
        return KP_ETRUNC;
    return 0;
}

int
rlp_decode_next(struct rlp_item *it, size_t *used, const uint8_t *buf,
                size_t len)
{
    size_t hl, n;
    int rc;

    assert(it != NULL && used != NULL && (buf != NULL || len == 0));
    if (len > RLP_MAX_INPUT)
        return KP_ELIMIT;
    if (len == 0)
        return KP_ETRUNC;
    if (buf[0] < RLP_STRING) {
        *it = (struct rlp_item){.p = buf, .len = 1, .is_list = false};
        *used = 1;
        return 0;
    }
    rc = decode_header(&hl, &n, buf, len,
                       buf[0] < RLP_LIST ? RLP_STRING : RLP_LIST);
    if (rc != 0)
        return rc;
    /* A lone byte below 0x80 is its own encoding. */
    if (buf[0] == RLP_STRING + 1 && buf[1] < RLP_STRING)
        return KP_ENONCANON;
    *it = (struct rlp_item){
        .p = buf + hl, .len = n, .is_list = buf[0] >= RLP_LIST};
    *used = hl + n;
    return 0;
}

int
rlp_decode(struct rlp_item *it, const uint8_t *buf, size_t len)
{
    size_t used;
    int rc;

    if ((rc = rlp_decode_next(it, &used, buf, len)) != 0)
        return rc;
    return used == len ? 0 : KP_ETRAILING;
}

void
rlp_iter_init(struct rlp_iter *iter, const struct rlp_item *list)
{
    assert(iter != NULL && list != NULL && list->is_list);
    iter->p = list->p;
    iter->left = list->len;
}

bool
rlp_iter_done(const struct rlp_iter *iter)
{
    assert(iter != NULL);
    return iter->left == 0;
}

int
rlp_iter_next(struct rlp_iter *iter, struct rlp_item *it)
{
    size_t used;
    int rc;

    assert(iter != NULL && iter->left > 0);
    if ((rc = rlp_decode_next(it, &used, iter->p, iter->left)) != 0) {
        iter->left = 0; /* a broken list ends here */
        return rc;
    }
    iter->p += used;
    iter->left -= used;
    return 0;
}

static int
validate(const struct rlp_item *it, unsigned depth)
{
    struct rlp_iter iter;
    struct rlp_item child;
    int rc;

    if (!it->is_list)
        return 0;
    if (depth >= RLP_MAX_DEPTH)
        return KP_ELIMIT;
    rlp_iter_init(&iter, it);
    while (!rlp_iter_done(&iter)) {
        if ((rc = rlp_iter_next(&iter, &child)) != 0)
            return rc;
        if ((rc = validate(&child, depth + 1)) != 0)
            return rc;
    }
    return 0;
}

int
rlp_validate(const struct rlp_item *it)
{
    assert(it != NULL);
    return validate(it, 0);
}

int
rlp_list_items(struct rlp_item *items, size_t cap, size_t *count,
               const struct rlp_item *list)
{
    struct rlp_iter iter;
    size_t n = 0;
    int rc;

    assert(items != NULL || cap == 0);
    assert(count != NULL && list != NULL);
    *count = 0;
    if (!list->is_list)
        return KP_EINVAL;
    rlp_iter_init(&iter, list);
    while (!rlp_iter_done(&iter)) {
        if (n == cap)
            return KP_ELIMIT;
        if ((rc = rlp_iter_next(&iter, &items[n])) != 0)
            return rc;
        n++;
    }
    *count = n;
    return 0;
}

/* Shared checks of an integer item of at most `max` bytes. */
static int
int_check(const struct rlp_item *it, size_t max)
{
    assert(it != NULL);
    if (it->is_list)
        return KP_EINVAL;
    if (it->len > 0 && it->p[0] == 0)
        return KP_ENONCANON;
    if (it->len > max)
        return KP_ERANGE;
    return 0;
}

int
rlp_get_u64(uint64_t *v, const struct rlp_item *it)
{
    uint64_t x = 0;
    size_t i;
    int rc;

    assert(v != NULL);
    if ((rc = int_check(it, 8)) != 0)
        return rc;
    for (i = 0; i < it->len; i++)
        x = x << 8 | it->p[i];
    *v = x;
    return 0;
}

int
rlp_get_be32(uint8_t be[32], const struct rlp_item *it)
{
    int rc;

    assert(be != NULL);
    if ((rc = int_check(it, 32)) != 0)
        return rc;
    memset(be, 0, 32 - it->len);
    memcpy(be + 32 - it->len, it->p, it->len);
    return 0;
}

int
rlp_get_u256(struct u256 *v, const struct rlp_item *it)
{
    uint8_t be[32];
    size_t i;
    int rc;

    assert(v != NULL);
    if ((rc = rlp_get_be32(be, it)) != 0)
        return rc;
    memset(v, 0, sizeof(*v));
    for (i = 0; i < 32; i++)
        v->w[i / 8] |= (uint64_t)be[31 - i] << (8 * (i % 8));
    return 0;
}

int
rlp_get_fixed(uint8_t *out, size_t n, const struct rlp_item *it)
{
    assert(out != NULL && it != NULL);
    if (it->is_list || it->len != n)
        return KP_EINVAL;
    memcpy(out, it->p, n);
    return 0;
}
