/*
 * abi.c - ABI values, the arena they live in, and the head/tail
 * encoding and strict decoding of parameter lists, calldata, return data
 * and event logs.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/abi_int.h"
#include "chain/err.h"

/* ---- errors and the text writer ---- */

int
abi_fail(struct abi_error *err, int code, size_t pos, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        err->code = code;
        err->pos = pos;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

static void
error_init(struct abi_error *err)
{
    if (err != NULL) {
        err->code = 0;
        err->arg = -1;
        err->pos = 0;
        err->msg[0] = '\0';
    }
}

void
abi_wr_init(struct abi_wr *w, char *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->n = 0;
}

void
abi_wr_put(struct abi_wr *w, const char *s, size_t n)
{
    if (w->n < w->cap) {
        size_t room = w->cap - w->n;

        memcpy(w->p + w->n, s, n < room ? n : room);
    }
    w->n += n;
}

void
abi_wr_str(struct abi_wr *w, const char *s)
{
    abi_wr_put(w, s, strlen(s));
}

void
abi_wr_chr(struct abi_wr *w, char c)
{
    abi_wr_put(w, &c, 1);
}

void
abi_wr_hex(struct abi_wr *w, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char pair[2];

    abi_wr_put(w, "0x", 2);
    for (size_t i = 0; i < n; i++) {
        pair[0] = digits[p[i] >> 4];
        pair[1] = digits[p[i] & 15];
        abi_wr_put(w, pair, 2);
    }
}

int
abi_wr_finish(struct abi_wr *w, size_t *outlen)
{
    if (outlen != NULL)
        *outlen = w->n;
    if (w->n >= w->cap) {
        if (w->cap > 0)
            w->p[w->cap - 1] = '\0';
        return KP_ERANGE;
    }
    w->p[w->n] = '\0';
    return 0;
}

/* ---- arena and values ---- */

/* What an empty list or byte string points to: valid, never written. */
static struct abi_value empty;

void
abi_arena_init(struct abi_arena *a, void *buf, size_t cap)
{
    assert(a != NULL && (buf != NULL || cap == 0));
    a->base = buf;
    a->cap = cap;
    a->used = 0;
}

void
abi_arena_reset(struct abi_arena *a)
{
    assert(a != NULL);
    a->used = 0;
}

struct abi_value *
abi_arena_values(struct abi_arena *a, size_t n)
{
    const size_t align = _Alignof(struct abi_value);
    uintptr_t at;
    size_t pad, size;
    struct abi_value *v;

    assert(a != NULL);
    if (n == 0)
        return &empty;
    if (n > SIZE_MAX / sizeof(struct abi_value))
        return NULL;
    at = (uintptr_t)a->base + a->used;
    pad = (align - at % align) % align;
    size = n * sizeof(struct abi_value);
    if (pad > a->cap - a->used || size > a->cap - a->used - pad)
        return NULL;
    v = (struct abi_value *)(a->base + a->used + pad);
    a->used += pad + size;
    memset(v, 0, size);
    return v;
}

uint8_t *
abi_arena_bytes(struct abi_arena *a, size_t n)
{
    uint8_t *p;

    assert(a != NULL);
    if (n == 0)
        return (uint8_t *)&empty; /* never written through */
    if (n > a->cap - a->used)
        return NULL;
    p = a->base + a->used;
    a->used += n;
    return p;
}

void
abi_value_uint(struct abi_value *v, const struct u256 *x)
{
    assert(v != NULL && x != NULL);
    memset(v, 0, sizeof(*v));
    v->kind = ABI_UINT;
    v->u.num = *x;
}

void
abi_value_uint64(struct abi_value *v, uint64_t x)
{
    struct u256 t;

    u256_from_u64(&t, x);
    abi_value_uint(v, &t);
}

void
abi_value_int(struct abi_value *v, const struct u256 *twos)
{
    abi_value_uint(v, twos);
    v->kind = ABI_INT;
}

void
abi_value_bool(struct abi_value *v, bool b)
{
    assert(v != NULL);
    memset(v, 0, sizeof(*v));
    v->kind = ABI_BOOL;
    v->u.b = b;
}

void
abi_value_address(struct abi_value *v, const struct eth_addr *a)
{
    assert(v != NULL && a != NULL);
    memset(v, 0, sizeof(*v));
    v->kind = ABI_ADDRESS;
    v->u.addr = *a;
}

void
abi_value_fixed_bytes(struct abi_value *v, const uint8_t *p, size_t n)
{
    assert(v != NULL && n <= 32 && (p != NULL || n == 0));
    memset(v, 0, sizeof(*v));
    v->kind = ABI_FIXED_BYTES;
    if (n > 0)
        memcpy(v->u.fixed.b, p, n);
    v->u.fixed.len = (uint8_t)n;
}

void
abi_value_bytes(struct abi_value *v, const uint8_t *p, size_t n)
{
    assert(v != NULL && (p != NULL || n == 0));
    memset(v, 0, sizeof(*v));
    v->kind = ABI_BYTES;
    v->u.bytes.p = p;
    v->u.bytes.len = n;
}

void
abi_value_string(struct abi_value *v, const char *s, size_t n)
{
    abi_value_bytes(v, (const uint8_t *)s, n);
    v->kind = ABI_STRING;
}

void
abi_value_list(struct abi_value *v, enum abi_kind kind,
               struct abi_value *items, size_t n)
{
    assert(v != NULL && (items != NULL || n == 0));
    assert(kind == ABI_ARRAY || kind == ABI_FIXED_ARRAY || kind == ABI_TUPLE);
    memset(v, 0, sizeof(*v));
    v->kind = (uint8_t)kind;
    v->u.list.v = items;
    v->u.list.n = n;
}

/* ---- encoding ---- */

/* Whether two's complement `x` is representable in `bits` bits. */
static bool
int_fits(const struct u256 *x, unsigned bits)
{
    struct u256 m;

    if (!u256_is_neg(x))
        return u256_bit_len(x) <= bits - 1;
    u256_neg(&m, x); /* |x|, as 2^256 - x */
    u256_sub(&m, &m, &(struct u256){{1, 0, 0, 0}}); /* |x| - 1 = ~x */
    return u256_bit_len(&m) <= bits - 1;
}

static int
check_static(const struct abi_type *t, const struct abi_value *v)
{
    if (v->kind != t->kind)
        return KP_EINVAL;
    switch (t->kind) {
    case ABI_UINT:
        return u256_bit_len(&v->u.num) <= t->size ? 0 : KP_ERANGE;
    case ABI_INT:
        return int_fits(&v->u.num, t->size) ? 0 : KP_ERANGE;
    case ABI_FIXED_BYTES:
        return v->u.fixed.len == t->size ? 0 : KP_ERANGE;
    default:
        return 0;
    }
}

static size_t
pad32(size_t n)
{
    return (n + 31) / 32 * 32;
}

static int enc_size(size_t *size, const struct abi_sig *sig, uint16_t ti,
                    const struct abi_value *v);

/* The encoding of `n` values as one head/tail block: the members of a
 * tuple (types chained by `next`) or `n` elements of one type. */
static int
enc_seq_size(size_t *size, const struct abi_sig *sig, uint16_t ti,
             bool same, const struct abi_value *items, size_t n)
{
    size_t total = 0, sz;
    int rc;

    for (size_t i = 0; i < n; i++) {
        const struct abi_type *t = &sig->nodes[ti];

        if ((rc = enc_size(&sz, sig, ti, &items[i])) != 0)
            return rc;
        if (t->dynamic && sz > SIZE_MAX - 32)
            return KP_EOVERFLOW;
        sz += t->dynamic ? 32 : 0;
        if (sz > SIZE_MAX - total)
            return KP_EOVERFLOW;
        total += sz;
        if (!same)
            ti = t->next;
    }
    *size = total;
    return 0;
}

/* Size of the encoding of `v` as type `ti`: its head size if static,
 * its tail size if dynamic. Validates the value on the way. */
static int
enc_size(size_t *size, const struct abi_sig *sig, uint16_t ti,
         const struct abi_value *v)
{
    const struct abi_type *t = &sig->nodes[ti];
    int rc;

    switch (t->kind) {
    case ABI_BYTES:
    case ABI_STRING:
        if (v->kind != t->kind)
            return KP_EINVAL;
        if (v->u.bytes.len > SIZE_MAX - 64)
            return KP_EOVERFLOW;
        *size = 32 + pad32(v->u.bytes.len);
        return 0;
    case ABI_TUPLE:
        if (v->kind != ABI_TUPLE || v->u.list.n != t->count)
            return KP_EINVAL;
        return enc_seq_size(size, sig, t->child, false, v->u.list.v,
                            v->u.list.n);
    case ABI_FIXED_ARRAY:
        if (v->kind != ABI_FIXED_ARRAY || v->u.list.n != t->len)
            return KP_EINVAL;
        return enc_seq_size(size, sig, t->child, true, v->u.list.v,
                            v->u.list.n);
    case ABI_ARRAY:
        if (v->kind != ABI_ARRAY)
            return KP_EINVAL;
        rc = enc_seq_size(size, sig, t->child, true, v->u.list.v,
                          v->u.list.n);
        if (rc == 0 && *size > SIZE_MAX - 32)
            rc = KP_EOVERFLOW;
        *size += 32;
        return rc;
    default:
        *size = 32;
        return check_static(t, v);
    }
}

int
abi_encoded_size(size_t *size, const struct abi_sig *sig, uint16_t tuple,
                 const struct abi_value *v)
{
    assert(size != NULL && sig != NULL && v != NULL);
    assert(tuple < sig->nnodes && sig->nodes[tuple].kind == ABI_TUPLE);
    return enc_size(size, sig, tuple, v);
}

static void
put_word_u64(uint8_t *out, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        out[31 - i] = (uint8_t)(x >> (8 * i));
}

static size_t enc_write(uint8_t *out, const struct abi_sig *sig, uint16_t ti,
                        const struct abi_value *v);

static size_t
enc_seq_write(uint8_t *out, const struct abi_sig *sig, uint16_t ti,
              bool same, const struct abi_value *items, size_t n)
{
    size_t head = 0, tail = 0;
    uint16_t t = ti;

    for (size_t i = 0; i < n; i++) {
        tail += sig->nodes[t].head;
        if (!same)
            t = sig->nodes[t].next;
    }
    for (size_t i = 0; i < n; i++) {
        const struct abi_type *ty = &sig->nodes[ti];

        if (ty->dynamic) {
            put_word_u64(out + head, tail);
            tail += enc_write(out + tail, sig, ti, &items[i]);
        } else {
            enc_write(out + head, sig, ti, &items[i]);
        }
        head += ty->head;
        if (!same)
            ti = ty->next;
    }
    return tail;
}

/* Write the encoding of an already validated value into zeroed `out`.
 * Returns: the bytes written (head if static, tail if dynamic). */
static size_t
enc_write(uint8_t *out, const struct abi_sig *sig, uint16_t ti,
          const struct abi_value *v)
{
    const struct abi_type *t = &sig->nodes[ti];

    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
        u256_to_be(out, &v->u.num);
        return 32;
    case ABI_ADDRESS:
        memcpy(out + 12, v->u.addr.b, 20);
        return 32;
    case ABI_BOOL:
        out[31] = v->u.b ? 1 : 0;
        return 32;
    case ABI_FIXED_BYTES:
        memcpy(out, v->u.fixed.b, t->size);
        return 32;
    case ABI_BYTES:
    case ABI_STRING:
        put_word_u64(out, v->u.bytes.len);
        if (v->u.bytes.len > 0)
            memcpy(out + 32, v->u.bytes.p, v->u.bytes.len);
        return 32 + pad32(v->u.bytes.len);
    case ABI_ARRAY:
        put_word_u64(out, v->u.list.n);
        return 32 + enc_seq_write(out + 32, sig, t->child, true,
                                  v->u.list.v, v->u.list.n);
    case ABI_FIXED_ARRAY:
        return enc_seq_write(out, sig, t->child, true, v->u.list.v,
                             v->u.list.n);
    default:
        return enc_seq_write(out, sig, t->child, false, v->u.list.v,
                             v->u.list.n);
    }
}

static int
encode_at(uint8_t *out, size_t cap, size_t *outlen, size_t skip,
          const struct abi_sig *sig, uint16_t tuple,
          const struct abi_value *v)
{
    size_t size;
    int rc;

    *outlen = 0;
    if ((rc = abi_encoded_size(&size, sig, tuple, v)) != 0)
        return rc;
    if (size > SIZE_MAX - skip)
        return KP_EOVERFLOW;
    *outlen = skip + size;
    if (*outlen > cap)
        return KP_ERANGE;
    if (size > 0) {
        memset(out + skip, 0, size);
        enc_write(out + skip, sig, tuple, v);
    }
    return 0;
}

int
abi_encode(uint8_t *out, size_t cap, size_t *outlen,
           const struct abi_sig *sig, uint16_t tuple,
           const struct abi_value *v)
{
    assert(outlen != NULL && (out != NULL || cap == 0));
    return encode_at(out, cap, outlen, 0, sig, tuple, v);
}

int
abi_encode_call(uint8_t *out, size_t cap, size_t *outlen,
                const struct abi_sig *sig, const struct abi_value *args)
{
    int rc;

    assert(outlen != NULL && (out != NULL || cap == 0) && sig != NULL);
    rc = encode_at(out, cap, outlen, 4, sig, sig->inputs, args);
    if (rc == 0)
        memcpy(out, sig->hash, 4);
    return rc;
}

/* ---- decoding ---- */

struct dec {
    const uint8_t *data;
    size_t len;
    size_t bias; /* added to offsets in error reports (a selector) */
    struct abi_arena *a;
    /* Bytes that bytes/string values may still reference, counting each
     * reference: offsets can make many values share one tail, and
     * whoever prints or re-encodes the values pays for every copy. */
    size_t budget;
    const struct abi_sig *sig;
    struct abi_error *err;
};

static int
dec_fail(struct dec *d, int code, size_t pos, const char *what)
{
    return abi_fail(d->err, code, d->bias + pos, "%s at byte %zu", what,
                    d->bias + pos);
}

static bool
all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Read a word that must be a size or offset no larger than the data. */
static int
dec_size(struct dec *d, size_t pos, size_t *out, const char *what)
{
    uint64_t x = 0;

    if (pos > d->len || d->len - pos < 32)
        return dec_fail(d, KP_ETRUNC, pos, "data ends before a word");
    if (!all_zero(d->data + pos, 24))
        return dec_fail(d, KP_ETRUNC, pos, what);
    for (int i = 24; i < 32; i++)
        x = x << 8 | d->data[pos + i];
    if (x > d->len)
        return dec_fail(d, KP_ETRUNC, pos, what);
    *out = (size_t)x;
    return 0;
}

/* Check the padding of a static word against its type. */
static int
check_word(const struct abi_type *t, const uint8_t *w)
{
    size_t n;

    switch (t->kind) {
    case ABI_UINT:
        return all_zero(w, 32 - t->size / 8u) ? 0 : KP_ENONCANON;
    case ABI_INT: {
        uint8_t fill;

        n = 32 - t->size / 8u;
        fill = (w[n] & 0x80) ? 0xff : 0x00;
        for (size_t i = 0; i < n; i++)
            if (w[i] != fill)
                return KP_ENONCANON;
        return 0;
    }
    case ABI_ADDRESS:
        return all_zero(w, 12) ? 0 : KP_ENONCANON;
    case ABI_BOOL:
        return all_zero(w, 31) && w[31] <= 1 ? 0 : KP_ENONCANON;
    case ABI_FIXED_BYTES:
        return all_zero(w + t->size, 32 - t->size) ? 0 : KP_ENONCANON;
    default:
        return KP_EINVAL;
    }
}

/* A value-type word (from data or an event topic) into *v. */
static void
word_value(const struct abi_type *t, const uint8_t *w, struct abi_value *v)
{
    v->kind = t->kind;
    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
        u256_from_be(&v->u.num, w, 32);
        break;
    case ABI_ADDRESS:
        memcpy(v->u.addr.b, w + 12, 20);
        break;
    case ABI_BOOL:
        v->u.b = w[31] != 0;
        break;
    default:
        memcpy(v->u.fixed.b, w, t->size);
        v->u.fixed.len = (uint8_t)t->size;
        break;
    }
}

static int dec_value(struct dec *d, uint16_t ti, size_t pos,
                     struct abi_value *v);

/* One member of a head/tail block that starts at `base`, its head at
 * base + head_off. */
static int
dec_member(struct dec *d, uint16_t ti, size_t base, size_t head_off,
           struct abi_value *v)
{
    size_t off;
    int rc;

    if (!d->sig->nodes[ti].dynamic)
        return dec_value(d, ti, base + head_off, v);
    if ((rc = dec_size(d, base + head_off, &off, "offset out of range")))
        return rc;
    if (off > d->len - base)
        return dec_fail(d, KP_ETRUNC, base + head_off, "offset out of range");
    return dec_value(d, ti, base + off, v);
}

static int
dec_seq(struct dec *d, uint16_t ti, bool same, size_t n, size_t base,
        struct abi_value *out)
{
    struct abi_value *items = abi_arena_values(d->a, n);
    size_t head_off = 0;
    int rc;

    if (items == NULL)
        return dec_fail(d, KP_ELIMIT, base, "decoded value too large");
    out->u.list.v = items;
    out->u.list.n = n;
    for (size_t i = 0; i < n; i++) {
        if ((rc = dec_member(d, ti, base, head_off, &items[i])) != 0)
            return rc;
        head_off += d->sig->nodes[ti].head;
        if (!same)
            ti = d->sig->nodes[ti].next;
    }
    return 0;
}

static int
dec_bytes(struct dec *d, const struct abi_type *t, size_t pos,
          struct abi_value *v)
{
    size_t n;
    int rc;

    if ((rc = dec_size(d, pos, &n, "length out of range")) != 0)
        return rc;
    pos += 32;
    if (n > d->len - pos || pad32(n) > d->len - pos)
        return dec_fail(d, KP_ETRUNC, pos - 32, "length out of range");
    if (!all_zero(d->data + pos + n, pad32(n) - n))
        return dec_fail(d, KP_ENONCANON, pos + n, "non-zero padding");
    if (n > d->budget)
        return dec_fail(d, KP_ELIMIT, pos - 32, "decoded value too large");
    d->budget -= n;
    v->kind = t->kind;
    v->u.bytes.p = d->data + pos;
    v->u.bytes.len = n;
    return 0;
}

static int
dec_array(struct dec *d, const struct abi_type *t, size_t pos,
          struct abi_value *v)
{
    size_t n, elem = d->sig->nodes[t->child].head;
    int rc;

    assert(elem >= 32); /* no empty tuples below the top level */
    if ((rc = dec_size(d, pos, &n, "array length out of range")) != 0)
        return rc;
    if (n > (d->len - pos - 32) / elem)
        return dec_fail(d, KP_ETRUNC, pos, "array length out of range");
    v->kind = ABI_ARRAY;
    return dec_seq(d, t->child, true, n, pos + 32, v);
}

static int
dec_value(struct dec *d, uint16_t ti, size_t pos, struct abi_value *v)
{
    const struct abi_type *t = &d->sig->nodes[ti];

    if (!t->dynamic && (pos > d->len || d->len - pos < t->head))
        return dec_fail(d, KP_ETRUNC, pos, "data too short");
    switch (t->kind) {
    case ABI_BYTES:
    case ABI_STRING:
        return dec_bytes(d, t, pos, v);
    case ABI_ARRAY:
        return dec_array(d, t, pos, v);
    case ABI_FIXED_ARRAY:
        v->kind = ABI_FIXED_ARRAY;
        return dec_seq(d, t->child, true, t->len, pos, v);
    case ABI_TUPLE:
        v->kind = ABI_TUPLE;
        return dec_seq(d, t->child, false, t->count, pos, v);
    default:
        if (check_word(t, d->data + pos) != 0)
            return dec_fail(d, KP_ENONCANON, pos, "value out of range");
        word_value(t, d->data + pos, v);
        return 0;
    }
}

static int
decode_at(struct abi_value *out, struct abi_arena *a,
          const struct abi_sig *sig, uint16_t tuple, const uint8_t *data,
          size_t len, size_t bias, struct abi_error *err)
{
    struct dec d = {data, len, bias, a, 0, sig, err};

    assert(out != NULL && a != NULL && sig != NULL);
    assert(data != NULL || len == 0);
    assert(tuple < sig->nnodes && sig->nodes[tuple].kind == ABI_TUPLE);
    d.budget = a->cap;
    memset(out, 0, sizeof(*out));
    return dec_value(&d, tuple, 0, out);
}

int
abi_decode(struct abi_value *out, struct abi_arena *a,
           const struct abi_sig *sig, uint16_t tuple, const uint8_t *data,
           size_t len, struct abi_error *err)
{
    error_init(err);
    return decode_at(out, a, sig, tuple, data, len, 0, err);
}

int
abi_decode_call(struct abi_value *out, struct abi_arena *a,
                const struct abi_sig *sig, const uint8_t *data, size_t len,
                struct abi_error *err)
{
    assert(sig != NULL && out != NULL);
    error_init(err);
    memset(out, 0, sizeof(*out));
    if (len < 4)
        return abi_fail(err, KP_EINVAL, 0, "calldata shorter than a selector");
    if (memcmp(data, sig->hash, 4) != 0)
        return abi_fail(err, KP_EINVAL, 0,
                        "selector 0x%02x%02x%02x%02x is not %s's "
                        "0x%02x%02x%02x%02x",
                        data[0], data[1], data[2], data[3],
                        sig->name[0] ? sig->name : "the signature",
                        sig->hash[0], sig->hash[1], sig->hash[2],
                        sig->hash[3]);
    return decode_at(out, a, sig, sig->inputs, data + 4, len - 4, 4, err);
}

int
abi_decode_output(struct abi_value *out, struct abi_arena *a,
                  const struct abi_sig *sig, const uint8_t *data, size_t len,
                  struct abi_error *err)
{
    assert(sig != NULL && out != NULL);
    error_init(err);
    memset(out, 0, sizeof(*out));
    if (sig->outputs == ABI_NONE)
        return abi_fail(err, KP_EINVAL, 0, "the signature has no outputs");
    return decode_at(out, a, sig, sig->outputs, data, len, 0, err);
}

/* ---- event logs ---- */

static bool
is_value_type(const struct abi_type *t)
{
    return t->kind == ABI_UINT || t->kind == ABI_INT ||
           t->kind == ABI_ADDRESS || t->kind == ABI_BOOL ||
           t->kind == ABI_FIXED_BYTES;
}

static int
check_topics(const struct abi_sig *sig, const uint8_t (*topics)[32],
             size_t ntopics, struct abi_error *err)
{
    size_t want = sig->nindexed + (sig->anonymous ? 0u : 1u);

    if (ntopics != want)
        return abi_fail(err, KP_EINVAL, 0, "expected %zu topics, got %zu",
                        want, ntopics);
    if (!sig->anonymous && memcmp(topics[0], sig->hash, 32) != 0)
        return abi_fail(err, KP_EINVAL, 0, "topic 0 is not the event's hash");
    return 0;
}

static int
dec_indexed(const struct abi_type *t, const uint8_t topic[32], size_t i,
            struct abi_value *v, struct abi_error *err)
{
    if (!is_value_type(t)) {
        v->kind = ABI_TOPIC;
        memcpy(v->u.fixed.b, topic, 32);
        v->u.fixed.len = 32;
        return 0;
    }
    if (check_word(t, topic) != 0)
        return abi_fail(err, KP_ENONCANON, 0, "topic %zu out of range", i);
    word_value(t, topic, v);
    return 0;
}

int
abi_decode_log(struct abi_value *out, struct abi_arena *a,
               const struct abi_sig *sig, const uint8_t (*topics)[32],
               size_t ntopics, const uint8_t *data, size_t len,
               struct abi_error *err)
{
    struct dec d = {data, len, 0, a, 0, sig, err};
    const struct abi_type *in;
    size_t topic, head_off = 0, i = 0;
    int rc;

    assert(out != NULL && a != NULL && sig != NULL);
    d.budget = a->cap;
    assert((topics != NULL || ntopics == 0) && (data != NULL || len == 0));
    error_init(err);
    memset(out, 0, sizeof(*out));
    if ((rc = check_topics(sig, topics, ntopics, err)) != 0)
        return rc;
    in = &sig->nodes[sig->inputs];
    out->kind = ABI_TUPLE;
    out->u.list.n = in->count;
    if ((out->u.list.v = abi_arena_values(a, in->count)) == NULL)
        return abi_fail(err, KP_ELIMIT, 0, "decoded value too large");
    topic = sig->anonymous ? 0 : 1;
    for (uint16_t m = in->child; m != ABI_NONE; m = sig->nodes[m].next, i++) {
        const struct abi_type *t = &sig->nodes[m];

        if (t->indexed) {
            rc = dec_indexed(t, topics[topic], topic, &out->u.list.v[i], err);
            topic++;
        } else {
            rc = dec_member(&d, m, 0, head_off, &out->u.list.v[i]);
            head_off += t->head;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}
