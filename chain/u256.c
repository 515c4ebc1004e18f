#include "chain/u256.h"

#include <assert.h>
#include <string.h>

#include "chain/err.h"
#include "chain/hex.h"

/* Products and carries of 64-bit limbs need 128 bits. */
typedef unsigned __int128 u128;

/* The largest power of ten in a limb: decimal work goes 19 digits at a
 * time instead of one. */
#define TEN19 10000000000000000000ULL

static const uint64_t pow10_u64[20] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

static const struct u256 u256_zero;

/* ---- conversions and predicates ---- */

void
u256_from_u64(struct u256 *r, uint64_t v)
{
    assert(r != NULL);
    r->w[0] = v;
    r->w[1] = 0;
    r->w[2] = 0;
    r->w[3] = 0;
}

int
u256_to_u64(uint64_t *v, const struct u256 *a)
{
    assert(v != NULL && a != NULL);
    if ((a->w[1] | a->w[2] | a->w[3]) != 0)
        return KP_ERANGE;
    *v = a->w[0];
    return 0;
}

int
u256_from_be(struct u256 *r, const uint8_t *be, size_t len)
{
    struct u256 t = u256_zero;

    assert(r != NULL && (be != NULL || len == 0));
    if (len > 32)
        return KP_ERANGE;
    for (size_t i = 0; i < len; i++) {
        size_t bit = (len - 1 - i) * 8; /* position above the last byte */

        t.w[bit / 64] |= (uint64_t)be[i] << (bit % 64);
    }
    *r = t;
    return 0;
}

void
u256_to_be(uint8_t be[32], const struct u256 *a)
{
    assert(be != NULL && a != NULL);
    for (size_t i = 0; i < 32; i++) {
        size_t bit = (31 - i) * 8;

        be[i] = (uint8_t)(a->w[bit / 64] >> (bit % 64));
    }
}

unsigned
u256_bit_len(const struct u256 *a)
{
    assert(a != NULL);
    for (unsigned i = 4; i-- > 0;)
        if (a->w[i] != 0)
            return 64 * i + 64 - (unsigned)__builtin_clzll(a->w[i]);
    return 0;
}

size_t
u256_byte_len(const struct u256 *a)
{
    return (u256_bit_len(a) + 7) / 8;
}

bool
u256_is_zero(const struct u256 *a)
{
    assert(a != NULL);
    return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

int
u256_cmp(const struct u256 *a, const struct u256 *b)
{
    assert(a != NULL && b != NULL);
    for (size_t i = 4; i-- > 0;)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

bool
u256_is_neg(const struct u256 *a)
{
    assert(a != NULL);
    return (a->w[3] >> 63) != 0;
}

/* ---- add, subtract, multiply ---- */

int
u256_add(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
    struct u256 t;
    uint64_t carry = 0;

    assert(r != NULL && a != NULL && b != NULL);
    for (size_t i = 0; i < 4; i++) {
        u128 s = (u128)a->w[i] + b->w[i] + carry;

        t.w[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    *r = t;
    return carry ? KP_EOVERFLOW : 0;
}

int
u256_sub(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
    struct u256 t;
    uint64_t borrow = 0;

    assert(r != NULL && a != NULL && b != NULL);
    for (size_t i = 0; i < 4; i++) {
        /* A borrow wraps the 128-bit difference, setting its high half. */
        u128 d = (u128)a->w[i] - b->w[i] - borrow;

        t.w[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    *r = t;
    return borrow ? KP_EOVERFLOW : 0;
}

int
u256_add_u64(struct u256 *r, const struct u256 *a, uint64_t b)
{
    struct u256 t;
    uint64_t carry = b;

    assert(r != NULL && a != NULL);
    for (size_t i = 0; i < 4; i++) {
        u128 s = (u128)a->w[i] + carry;

        t.w[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    *r = t;
    return carry ? KP_EOVERFLOW : 0;
}

int
u256_mul_u64(struct u256 *r, const struct u256 *a, uint64_t b)
{
    struct u256 t;
    uint64_t carry = 0;

    assert(r != NULL && a != NULL);
    for (size_t i = 0; i < 4; i++) {
        u128 p = (u128)a->w[i] * b + carry;

        t.w[i] = (uint64_t)p;
        carry = (uint64_t)(p >> 64);
    }
    *r = t;
    return carry ? KP_EOVERFLOW : 0;
}

/* Full 512-bit product, schoolbook. (2^64-1)^2 + 2*(2^64-1) = 2^128-1,
 * so product plus partial sum plus carry always fits in 128 bits. */
static void
mul_512(uint64_t p[8], const struct u256 *a, const struct u256 *b)
{
    memset(p, 0, 8 * sizeof(p[0]));
    for (size_t i = 0; i < 4; i++) {
        uint64_t carry = 0;

        if (a->w[i] == 0)
            continue;
        for (size_t j = 0; j < 4; j++) {
            u128 t = (u128)a->w[i] * b->w[j] + p[i + j] + carry;

            p[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        p[i + 4] = carry;
    }
}

int
u256_mul(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
    uint64_t p[8];

    assert(r != NULL && a != NULL && b != NULL);
    mul_512(p, a, b);
    memcpy(r->w, p, sizeof(r->w));
    return (p[4] | p[5] | p[6] | p[7]) != 0 ? KP_EOVERFLOW : 0;
}

int
u256_pow10(struct u256 *r, unsigned e)
{
    int rc = 0;

    assert(r != NULL);
    /* 10^e = 2^e * 5^e, so from e = 256 on it wraps to exactly zero; this
     * also bounds the loop below. */
    if (e >= 256) {
        *r = u256_zero;
        return KP_EOVERFLOW;
    }
    u256_from_u64(r, 1);
    for (; e >= 19; e -= 19)
        if (u256_mul_u64(r, r, TEN19) != 0)
            rc = KP_EOVERFLOW;
    if (u256_mul_u64(r, r, pow10_u64[e]) != 0)
        rc = KP_EOVERFLOW;
    return rc;
}

/* ---- division ---- */

/* Returns: the number of limbs of x[0..n-1] up to the top nonzero one. */
static size_t
limbs_used(const uint64_t *x, size_t n)
{
    while (n > 0 && x[n - 1] == 0)
        n--;
    return n;
}

/* q[0..n-1] = u / d. q may equal u.  Returns: u % d. */
static uint64_t
div_by_limb(uint64_t *q, const uint64_t *u, size_t n, uint64_t d)
{
    uint64_t rem = 0;

    for (size_t i = n; i-- > 0;) {
        u128 cur = (u128)rem << 64 | u[i];

        q[i] = (uint64_t)(cur / d);
        rem = (uint64_t)(cur % d);
    }
    return rem;
}

/* Knuth D3: estimate the next quotient limb from the top two limbs of the
 * remainder window un[0..n] and the top two of the normalized divisor.
 * The estimate is then at most one too large. */
static uint64_t
estimate_qhat(const uint64_t *un, const uint64_t *vn, size_t n)
{
    u128 num = (u128)un[n] << 64 | un[n - 1];
    u128 qhat = num / vn[n - 1];
    u128 rhat = num % vn[n - 1];

    while ((qhat >> 64) != 0 || qhat * vn[n - 2] > (rhat << 64 | un[n - 2])) {
        qhat--;
        rhat += vn[n - 1];
        if ((rhat >> 64) != 0)
            break;
    }
    return (uint64_t)qhat;
}

/* Knuth D4-D6: un[0..n] -= qhat * vn[0..n-1]; if that went negative,
 * add vn back once. Returns: 1 if it added back (qhat was too large). */
static uint64_t
sub_mul(uint64_t *un, const uint64_t *vn, size_t n, uint64_t qhat)
{
    uint64_t carry = 0, borrow;

    for (size_t i = 0; i < n; i++) {
        /* p >> 64 can reach 2^64-1 only when p's low half is 0, so the
         * borrow added to carry below never wraps. */
        u128 p = (u128)qhat * vn[i] + carry;
        uint64_t lo = (uint64_t)p, x = un[i];

        carry = (uint64_t)(p >> 64);
        un[i] = x - lo;
        carry += x < lo;
    }
    borrow = un[n] < carry;
    un[n] -= carry;
    if (!borrow)
        return 0;
    carry = 0;
    for (size_t i = 0; i < n; i++) {
        u128 s = (u128)un[i] + vn[i] + carry;

        un[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    un[n] += carry;
    return 1;
}

/* dst[0..n-1] = src << s, for s < 64; returns the bits shifted out. */
static uint64_t
shl_limbs(uint64_t *dst, const uint64_t *src, size_t n, unsigned s)
{
    uint64_t out = 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t v = src[i];

        dst[i] = v << s | out;
        out = s ? v >> (64 - s) : 0;
    }
    return out;
}

/* Knuth's algorithm D for m >= n >= 2 limbs, v[n-1] != 0.
 * Out: q[0..m-n], r[0..n-1]. */
static void
div_knuth(uint64_t *q, uint64_t *r, const uint64_t *u, size_t m,
          const uint64_t *v, size_t n)
{
    uint64_t un[9], vn[4];
    unsigned s = (unsigned)__builtin_clzll(v[n - 1]);

    /* Normalize so the divisor's top bit is set: that is what keeps the
     * quotient estimate within one of the truth. */
    shl_limbs(vn, v, n, s);
    un[m] = shl_limbs(un, u, m, s);
    for (size_t j = m - n + 1; j-- > 0;) {
        uint64_t qhat = estimate_qhat(un + j, vn, n);

        q[j] = qhat - sub_mul(un + j, vn, n, qhat);
    }
    for (size_t i = 0; i < n; i++)
        r[i] = s ? un[i] >> s | un[i + 1] << (64 - s) : un[i];
}

/* q[0..ul-1] = u / v, r[0..3] = u % v, for ul <= 8 and v != 0. */
static void
div_limbs(uint64_t *q, uint64_t r[4], const uint64_t *u, size_t ul,
          const uint64_t v[4])
{
    size_t m = limbs_used(u, ul), n = limbs_used(v, 4);

    assert(n > 0 && ul <= 8);
    memset(q, 0, ul * sizeof(q[0]));
    memset(r, 0, 4 * sizeof(r[0]));
    if (m < n)
        memcpy(r, u, m * sizeof(u[0]));
    else if (n == 1)
        r[0] = div_by_limb(q, u, m, v[0]);
    else
        div_knuth(q, r, u, m, v, n);
}

int
u256_divmod(struct u256 *q, struct u256 *rem, const struct u256 *a,
            const struct u256 *b)
{
    uint64_t qq[4], rr[4];

    assert(a != NULL && b != NULL);
    if (u256_is_zero(b))
        return KP_EINVAL;
    div_limbs(qq, rr, a->w, 4, b->w);
    if (q != NULL)
        memcpy(q->w, qq, sizeof(q->w));
    if (rem != NULL)
        memcpy(rem->w, rr, sizeof(rem->w));
    return 0;
}

int
u256_muldiv(struct u256 *r, const struct u256 *a, const struct u256 *b,
            const struct u256 *d)
{
    uint64_t p[8], q[8], rem[4];

    assert(r != NULL && a != NULL && b != NULL && d != NULL);
    if (u256_is_zero(d))
        return KP_EINVAL;
    mul_512(p, a, b);
    div_limbs(q, rem, p, 8, d->w);
    memcpy(r->w, q, sizeof(r->w));
    return (q[4] | q[5] | q[6] | q[7]) != 0 ? KP_EOVERFLOW : 0;
}

/* ---- sign and shifts ---- */

void
u256_neg(struct u256 *r, const struct u256 *a)
{
    struct u256 t;

    assert(r != NULL && a != NULL);
    for (size_t i = 0; i < 4; i++)
        t.w[i] = ~a->w[i];
    u256_add_u64(r, &t, 1);
}

void
u256_shl(struct u256 *r, const struct u256 *a, unsigned n)
{
    struct u256 t = u256_zero;
    unsigned limbs = n / 64, bits = n % 64;

    assert(r != NULL && a != NULL);
    for (unsigned i = limbs; i < 4; i++) {
        unsigned k = i - limbs; /* source limb */

        t.w[i] = a->w[k] << bits;
        if (bits != 0 && k > 0)
            t.w[i] |= a->w[k - 1] >> (64 - bits);
    }
    *r = t;
}

void
u256_shr(struct u256 *r, const struct u256 *a, unsigned n)
{
    struct u256 t = u256_zero;
    unsigned limbs = n / 64, bits = n % 64;

    assert(r != NULL && a != NULL);
    for (unsigned i = 0; i + limbs < 4; i++) {
        unsigned k = i + limbs;

        t.w[i] = a->w[k] >> bits;
        if (bits != 0 && k + 1 < 4)
            t.w[i] |= a->w[k + 1] << (64 - bits);
    }
    *r = t;
}

/* ---- parsing ---- */

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* acc = acc * 10^len + the decimal value of s[0..len-1] (digits only).
 * Returns: 0 or KP_EOVERFLOW (acc is then meaningless). */
static int
dec_accum(struct u256 *acc, const char *s, size_t len)
{
    if (u256_is_zero(acc))
        for (; len > 0 && *s == '0'; len--)
            s++;
    while (len > 0) {
        size_t k = len < 19 ? len : 19;
        uint64_t chunk = 0;

        for (size_t i = 0; i < k; i++)
            chunk = chunk * 10 + (uint64_t)(s[i] - '0');
        if (u256_mul_u64(acc, acc, pow10_u64[k]) != 0 ||
            u256_add_u64(acc, acc, chunk) != 0)
            return KP_EOVERFLOW;
        s += k;
        len -= k;
    }
    return 0;
}

static int
parse_dec(struct u256 *r, const char *s, size_t len)
{
    *r = u256_zero;
    if (len == 0 || !all_digits(s, len))
        return KP_EINVAL;
    return dec_accum(r, s, len);
}

/* Hex digits (no prefix): each one lands at a fixed bit position. */
static int
parse_hex(struct u256 *r, const char *s, size_t len)
{
    *r = u256_zero;
    if (len == 0)
        return KP_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (hex_digit((unsigned char)s[i]) < 0)
            return KP_EINVAL;
    for (; len > 0 && *s == '0'; len--)
        s++;
    if (len > 64)
        return KP_EOVERFLOW;
    for (size_t i = 0; i < len; i++) {
        size_t pos = 4 * (len - 1 - i);

        r->w[pos / 64] |= (uint64_t)hex_digit((unsigned char)s[i])
                          << (pos % 64);
    }
    return 0;
}

int
u256_parse(struct u256 *r, const char *s, size_t len)
{
    struct u256 t;
    int rc;

    assert(r != NULL && (s != NULL || len == 0));
    if (hex_has_prefix(s, len))
        rc = parse_hex(&t, s + 2, len - 2);
    else
        rc = parse_dec(&t, s, len);
    *r = rc == 0 ? t : u256_zero;
    return rc;
}

int
u256_parse_signed(struct u256 *r, bool *neg, const char *s, size_t len)
{
    static const struct u256 two255 = {{0, 0, 0, 1ULL << 63}};
    struct u256 m;
    bool minus = len > 0 && s[0] == '-';
    int rc;

    assert(r != NULL && neg != NULL && (s != NULL || len == 0));
    *neg = false;
    if (minus) {
        s++;
        len--;
    }
    if ((rc = u256_parse(&m, s, len)) != 0) {
        *r = u256_zero;
        return rc;
    }
    if (!minus) {
        *r = m;
        return 0;
    }
    if (u256_cmp(&m, &two255) > 0) {
        *r = u256_zero;
        return KP_EOVERFLOW;
    }
    /* "-0" is zero, not negative. */
    *neg = !u256_is_zero(&m);
    u256_neg(r, &m);
    return 0;
}

struct unit_def {
    const char *name;
    unsigned exp;
};

static const struct unit_def unit_table[] = {
    {"wei", 0},      {"kwei", 3},    {"babbage", 3}, {"mwei", 6},
    {"lovelace", 6}, {"gwei", 9},    {"shannon", 9}, {"szabo", 12},
    {"micro", 12},   {"finney", 15}, {"milli", 15},  {"ether", 18},
};

static char
ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Returns: 0 and *exp = log10 of the unit, or KP_EINVAL if unknown. */
static int
unit_lookup(unsigned *exp, const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(unit_table) / sizeof(unit_table[0]); i++) {
        const char *name = unit_table[i].name;
        size_t k = 0;

        while (k < len && name[k] != '\0' && ascii_lower(s[k]) == name[k])
            k++;
        if (k == len && name[k] == '\0') {
            *exp = unit_table[i].exp;
            return 0;
        }
    }
    return KP_EINVAL;
}

/* A decimal amount split into parts: int "." frac "e" exp [" "] unit. */
struct amount {
    const char *ip, *fp; /* integer and fraction digits */
    size_t il, fl;
    uint64_t exp;  /* the "eK" scale, saturated far above any sane K */
    unsigned uexp; /* log10 of the unit */
};

/* Returns: the index after a run of digits starting at i. */
static size_t
skip_digits(const char *s, size_t len, size_t i)
{
    while (i < len && is_digit(s[i]))
        i++;
    return i;
}

/* Split s into struct amount. Returns: 0 or KP_EINVAL. */
static int
lex_amount(struct amount *x, const char *s, size_t len)
{
    size_t i = skip_digits(s, len, 0);

    memset(x, 0, sizeof(*x));
    x->ip = s;
    x->il = i;
    if (i == 0)
        return KP_EINVAL;
    if (i < len && s[i] == '.') {
        x->fp = s + i + 1;
        i = skip_digits(s, len, i + 1);
        x->fl = (size_t)(s + i - x->fp);
        if (x->fl == 0)
            return KP_EINVAL;
    }
    /* 'e' then a digit is an exponent; 'e' then a letter starts "ether". */
    if (i + 1 < len && (s[i] == 'e' || s[i] == 'E') && is_digit(s[i + 1])) {
        for (i++; i < len && is_digit(s[i]); i++)
            if (x->exp < (1ULL << 58))
                x->exp = x->exp * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == len)
        return 0;
    if (s[i] == ' ')
        i++;
    return unit_lookup(&x->uexp, s + i, len - i);
}

/* value = digits(ip fp) * 10^(exp + uexp - fl). Trailing fraction zeros
 * are dropped first; after that the last fraction digit is nonzero, so
 * the value is a whole number exactly when fl <= exp + uexp. */
static int
amount_value(struct u256 *r, struct amount *x)
{
    struct u256 p;
    uint64_t up;
    int rc;

    while (x->fl > 0 && x->fp[x->fl - 1] == '0')
        x->fl--;
    up = x->exp + x->uexp;
    if (x->fl > up)
        return KP_EINVAL;
    *r = u256_zero;
    if ((rc = dec_accum(r, x->ip, x->il)) != 0 ||
        (rc = dec_accum(r, x->fp, x->fl)) != 0)
        return rc;
    up -= x->fl;
    if (u256_is_zero(r))
        return 0;
    if (up > 77)
        return KP_EOVERFLOW;
    u256_pow10(&p, (unsigned)up);
    return u256_mul(r, r, &p);
}

int
u256_parse_units(struct u256 *r, const char *s, size_t len)
{
    struct amount x;
    struct u256 t;
    int rc;

    assert(r != NULL && (s != NULL || len == 0));
    /* Hex is a plain count of base units: hex digits would make a unit
     * suffix ambiguous ("0x1babbage"). */
    if (hex_has_prefix(s, len))
        return u256_parse(r, s, len);
    if ((rc = lex_amount(&x, s, len)) == 0)
        rc = amount_value(&t, &x);
    *r = rc == 0 ? t : u256_zero;
    return rc;
}

/* ---- formatting ---- */

/* Copy pre and body plus a NUL into out, all or nothing.
 * Returns: 0, or KP_ERANGE (out then holds "" if cap > 0). */
static int
emit(char *out, size_t cap, const char *pre, size_t pl, const char *body,
     size_t bl)
{
    assert(out != NULL || cap == 0);
    if (cap < pl + bl + 1) {
        if (cap > 0)
            out[0] = '\0';
        return KP_ERANGE;
    }
    memcpy(out, pre, pl);
    memcpy(out + pl, body, bl);
    out[pl + bl] = '\0';
    return 0;
}

/* Render a in decimal, right-aligned in buf.
 * Returns: the first digit; *n = digit count (>= 1). */
static const char *
dec_digits(char buf[U256_DEC_MAX], size_t *n, const struct u256 *a)
{
    struct u256 t = *a;
    char *end = buf + U256_DEC_MAX, *p = end;

    for (;;) {
        uint64_t c = div_by_limb(t.w, t.w, 4, TEN19);

        if (u256_is_zero(&t)) {
            do {
                *--p = (char)('0' + c % 10);
                c /= 10;
            } while (c != 0);
            break;
        }
        for (int i = 0; i < 19; i++) {
            *--p = (char)('0' + c % 10);
            c /= 10;
        }
    }
    *n = (size_t)(end - p);
    return p;
}

int
u256_fmt_dec(char *out, size_t cap, const struct u256 *a)
{
    char buf[U256_DEC_MAX];
    const char *d;
    size_t n;

    assert(a != NULL);
    d = dec_digits(buf, &n, a);
    return emit(out, cap, "", 0, d, n);
}

int
u256_fmt_dec_signed(char *out, size_t cap, const struct u256 *a)
{
    char buf[U256_DEC_MAX];
    struct u256 m;
    const char *d;
    size_t n;

    assert(a != NULL);
    if (!u256_is_neg(a))
        return u256_fmt_dec(out, cap, a);
    u256_neg(&m, a);
    d = dec_digits(buf, &n, &m);
    return emit(out, cap, "-", 1, d, n);
}

int
u256_fmt_hex(char *out, size_t cap, const struct u256 *a)
{
    static const char digits[] = "0123456789abcdef";
    char buf[64];
    size_t nd;

    assert(a != NULL);
    nd = (u256_bit_len(a) + 3) / 4;
    if (nd == 0)
        nd = 1;
    for (size_t i = 0; i < nd; i++) {
        size_t pos = 4 * (nd - 1 - i);

        buf[i] = digits[(a->w[pos / 64] >> (pos % 64)) & 15];
    }
    return emit(out, cap, "0x", 2, buf, nd);
}

int
u256_fmt_units(char *out, size_t cap, const struct u256 *a, unsigned decimals)
{
    char dbuf[U256_DEC_MAX], frac[U256_DEC_MAX], res[U256_DEC_MAX + 2];
    const char *d;
    size_t n, il, fl, zeros, k = decimals;

    assert(a != NULL && (out != NULL || cap == 0));
    if (decimals > 77) {
        if (cap > 0)
            out[0] = '\0';
        return KP_EINVAL;
    }
    d = dec_digits(dbuf, &n, a);
    /* Integer part: the digits above the point, or "0". */
    il = n > k ? n - k : 0;
    if (il > 0)
        memcpy(res, d, il);
    else
        res[il++] = '0';
    /* Fraction: the low k digits, zero-padded on the left when n < k,
     * without trailing zeros. */
    zeros = n < k ? k - n : 0;
    memset(frac, '0', zeros);
    memcpy(frac + zeros, d + (n > k ? n - k : 0), k - zeros);
    for (fl = k; fl > 0 && frac[fl - 1] == '0';)
        fl--;
    if (fl > 0) {
        res[il] = '.';
        memcpy(res + il + 1, frac, fl);
        il += 1 + fl;
    }
    return emit(out, cap, "", 0, res, il);
}

double
u256_to_double(const struct u256 *a)
{
    unsigned bl = u256_bit_len(a), sh;
    struct u256 top, back;
    uint64_t m, bits;
    double scale;

    if (bl <= 64)
        return (double)a->w[0];
    /* Keep the top 64 bits and fold everything below into bit 0 as a
     * sticky bit: the one hardware rounding of m to 53 bits is then the
     * correct round-to-nearest-even of the whole value. */
    sh = bl - 64;
    u256_shr(&top, a, sh);
    u256_shl(&back, &top, sh);
    m = top.w[0] | (u256_cmp(&back, a) != 0);
    /* 2^sh exactly (sh <= 192), built from its IEEE-754 bits. */
    bits = (uint64_t)(1023 + sh) << 52;
    memcpy(&scale, &bits, sizeof(scale));
    return (double)m * scale;
}

double
u256_to_units_double(const struct u256 *a, unsigned decimals)
{
    double scale = 1.0;

    /* Powers up to 10^22 are exact; above that the nearest double. */
    while (decimals-- > 0)
        scale *= 10.0;
    return u256_to_double(a) / scale;
}
