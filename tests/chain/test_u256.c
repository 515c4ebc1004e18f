/* u256: known values at the limb edges, overflow reporting, division
 * (including Knuth's rare add-back step), a fixed-seed differential check
 * against a slow 32-bit reference implemented here, parsing with units,
 * formatting into tight buffers, and misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/u256.h"

#define MAX_DEC                                                                \
    "115792089237316195423570985008687907853269984665640564039457584007913"    \
    "129639935"
#define MAX_PLUS1_DEC                                                          \
    "115792089237316195423570985008687907853269984665640564039457584007913"    \
    "129639936"
#define TWO255_DEC                                                             \
    "57896044618658097711785492504343953926634992332820282019728792003956"     \
    "564819968"
#define MAX_HEX                                                                \
    "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static const struct u256 zero = {{0, 0, 0, 0}};
static const struct u256 one = {{1, 0, 0, 0}};
static const struct u256 max64 = {{UINT64_MAX, 0, 0, 0}};
static const struct u256 two64 = {{0, 1, 0, 0}};
static const struct u256 two128 = {{0, 0, 1, 0}};
static const struct u256 two255 = {{0, 0, 0, 1ULL << 63}};
static const struct u256 umax = {
    {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};

/* Pointers to temporaries: limbs most significant first, and parsed. */
#define MK(w3, w2, w1, w0) (&(struct u256){{(w0), (w1), (w2), (w3)}})
#define NUM(s) ((struct u256[1]){num(s)})

static struct u256
num(const char *s)
{
    struct u256 r;

    assert_int_equal(u256_parse(&r, s, strlen(s)), 0);
    return r;
}

static void
assert_u256_eq(const struct u256 *a, const struct u256 *b)
{
    if (u256_cmp(a, b) != 0) {
        char x[U256_HEX_MAX], y[U256_HEX_MAX];

        u256_fmt_hex(x, sizeof(x), a);
        u256_fmt_hex(y, sizeof(y), b);
        fail_msg("%s != %s", x, y);
    }
}

static void
assert_dec(const struct u256 *a, const char *want)
{
    char buf[U256_DEC_MAX];

    assert_int_equal(u256_fmt_dec(buf, sizeof(buf), a), 0);
    assert_string_equal(buf, want);
}

static void
assert_hex(const struct u256 *a, const char *want)
{
    char buf[U256_HEX_MAX];

    assert_int_equal(u256_fmt_hex(buf, sizeof(buf), a), 0);
    assert_string_equal(buf, want);
}

/* ---- an independent slow reference on 32-bit digits ---- */

#define RD 16 /* digits: room for a 512-bit product */

struct ref {
    uint32_t d[RD]; /* little-endian */
};

static struct ref
ref_from(const struct u256 *a)
{
    struct ref r;

    memset(&r, 0, sizeof(r));
    for (int i = 0; i < 4; i++) {
        r.d[2 * i] = (uint32_t)a->w[i];
        r.d[2 * i + 1] = (uint32_t)(a->w[i] >> 32);
    }
    return r;
}

/* Returns: the low 256 bits; *high = whether anything above was set. */
static struct u256
ref_to(const struct ref *a, bool *high)
{
    struct u256 r;

    for (int i = 0; i < 4; i++)
        r.w[i] = (uint64_t)a->d[2 * i + 1] << 32 | a->d[2 * i];
    *high = false;
    for (int i = 8; i < RD; i++)
        *high |= a->d[i] != 0;
    return r;
}

static struct ref
ref_mul(const struct ref *a, const struct ref *b)
{
    struct ref r;

    memset(&r, 0, sizeof(r));
    for (int i = 0; i < 8; i++) {
        uint64_t c = 0;

        for (int j = 0; j < 8; j++) {
            uint64_t t = (uint64_t)a->d[i] * b->d[j] + r.d[i + j] + c;

            r.d[i + j] = (uint32_t)t;
            c = t >> 32;
        }
        r.d[i + 8] = (uint32_t)c;
    }
    return r;
}

static int
ref_cmp(const struct ref *a, const struct ref *b)
{
    for (int i = RD - 1; i >= 0; i--)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

static void
ref_sub(struct ref *a, const struct ref *b)
{
    uint64_t borrow = 0;

    for (int i = 0; i < RD; i++) {
        uint64_t t = (uint64_t)a->d[i] - b->d[i] - borrow;

        a->d[i] = (uint32_t)t;
        borrow = (t >> 32) & 1;
    }
}

/* Bit-by-bit long division: slow, but too simple to be wrong. */
static void
ref_divmod(struct ref *q, struct ref *r, const struct ref *a,
           const struct ref *b)
{
    int top = RD * 32 - 1;

    memset(q, 0, sizeof(*q));
    memset(r, 0, sizeof(*r));
    while (top >= 0 && ((a->d[top / 32] >> (top % 32)) & 1) == 0)
        top--;
    for (int bit = top; bit >= 0; bit--) {
        for (int i = RD - 1; i > 0; i--)
            r->d[i] = r->d[i] << 1 | r->d[i - 1] >> 31;
        r->d[0] = r->d[0] << 1 | ((a->d[bit / 32] >> (bit % 32)) & 1);
        if (ref_cmp(r, b) >= 0) {
            ref_sub(r, b);
            q->d[bit / 32] |= 1u << (bit % 32);
        }
    }
}

/* ---- fixed-seed random values with many edge-shaped limbs ---- */

static uint64_t rng_state = 0x5eed5eed12345678ULL;

static uint64_t
rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
rand_limb(void)
{
    switch (rng() % 8) {
    case 0:
        return 0;
    case 1:
        return UINT64_MAX;
    case 2:
        return 1ULL << 63;
    case 3:
        return (1ULL << 63) - 1 + (rng() % 3);
    case 4:
        return rng() % 4;
    default:
        return rng();
    }
}

static struct u256
rand_u256(void)
{
    struct u256 r;

    for (int i = 0; i < 4; i++)
        r.w[i] = rand_limb();
    /* Vary the length so every divisor and dividend size occurs. */
    u256_shr(&r, &r, (unsigned)(rng() % 257));
    return r;
}

/* ---- tests ---- */

static void
test_edges_known(void **state)
{
    uint8_t be[32];
    uint64_t v;
    struct u256 t;

    (void)state;
    assert_dec(&zero, "0");
    assert_dec(&one, "1");
    assert_dec(&max64, "18446744073709551615");
    assert_dec(&two64, "18446744073709551616");
    assert_dec(&two128, "340282366920938463463374607431768211456");
    assert_dec(&two255, TWO255_DEC);
    assert_dec(&umax, MAX_DEC);
    assert_hex(&zero, "0x0");
    assert_hex(&one, "0x1");
    assert_hex(&max64, "0xffffffffffffffff");
    assert_hex(&two64, "0x10000000000000000");
    assert_hex(&two128, "0x100000000000000000000000000000000");
    assert_hex(&umax, MAX_HEX);

    assert_int_equal(u256_bit_len(&zero), 0);
    assert_int_equal(u256_bit_len(&one), 1);
    assert_int_equal(u256_bit_len(&max64), 64);
    assert_int_equal(u256_bit_len(&two64), 65);
    assert_int_equal(u256_bit_len(&two128), 129);
    assert_int_equal(u256_bit_len(&umax), 256);
    assert_int_equal(u256_byte_len(&zero), 0);
    assert_int_equal(u256_byte_len(&one), 1);
    assert_int_equal(u256_byte_len(&two64), 9);
    assert_int_equal(u256_byte_len(&umax), 32);

    assert_true(u256_is_zero(&zero));
    assert_false(u256_is_zero(&two128));
    assert_true(u256_is_neg(&umax));
    assert_true(u256_is_neg(&two255));
    assert_false(u256_is_neg(&max64));
    assert_true(u256_cmp(&two64, &max64) > 0);
    assert_true(u256_cmp(&max64, &two64) < 0);
    assert_int_equal(u256_cmp(&umax, &umax), 0);
    /* The top limb decides even when lower limbs say otherwise. */
    t = *MK(1, 0, 0, 0);
    assert_true(u256_cmp(&t, MK(0, UINT64_MAX, UINT64_MAX, UINT64_MAX)) > 0);

    u256_from_u64(&t, 42);
    assert_int_equal(u256_to_u64(&v, &t), 0);
    assert_int_equal(v, 42);
    assert_int_equal(u256_to_u64(&v, &max64), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(u256_to_u64(&v, &two64), KP_ERANGE);

    u256_to_be(be, &two64);
    for (int i = 0; i < 32; i++)
        assert_int_equal(be[i], i == 23 ? 1 : 0);
    assert_int_equal(u256_from_be(&t, be, 32), 0);
    assert_u256_eq(&t, &two64);
    /* Short input is right-aligned. */
    assert_int_equal(u256_from_be(&t, (const uint8_t *)"\x01\x02\x03", 3), 0);
    assert_u256_eq(&t, MK(0, 0, 0, 0x010203));
    assert_int_equal(u256_from_be(&t, NULL, 0), 0);
    assert_true(u256_is_zero(&t));
    u256_to_be(be, &umax);
    assert_int_equal(u256_from_be(&t, be, 32), 0);
    assert_u256_eq(&t, &umax);
}

static void
test_add_sub(void **state)
{
    struct u256 r, a;

    (void)state;
    assert_int_equal(u256_add(&r, &max64, &one), 0);
    assert_u256_eq(&r, &two64);
    assert_int_equal(u256_sub(&r, &two64, &one), 0);
    assert_u256_eq(&r, &max64);
    assert_int_equal(u256_sub(&r, &two128, &one), 0);
    assert_u256_eq(&r, MK(0, 0, UINT64_MAX, UINT64_MAX));

    /* Overflow wraps and says so. */
    assert_int_equal(u256_add(&r, &umax, &one), KP_EOVERFLOW);
    assert_u256_eq(&r, &zero);
    assert_int_equal(u256_add(&r, &umax, &umax), KP_EOVERFLOW);
    assert_u256_eq(&r, MK(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX - 1));
    assert_int_equal(u256_add(&r, &two255, &two255), KP_EOVERFLOW);
    assert_u256_eq(&r, &zero);
    assert_int_equal(u256_sub(&r, &zero, &one), KP_EOVERFLOW);
    assert_u256_eq(&r, &umax);
    assert_int_equal(u256_sub(&r, &two64, &two128), KP_EOVERFLOW);
    assert_int_equal(u256_sub(&r, &umax, &umax), 0);
    assert_u256_eq(&r, &zero);
    assert_int_equal(u256_add_u64(&r, &umax, 1), KP_EOVERFLOW);
    assert_u256_eq(&r, &zero);
    assert_int_equal(u256_add_u64(&r, &max64, UINT64_MAX), 0);
    assert_u256_eq(&r, MK(0, 0, 1, UINT64_MAX - 1));

    /* Aliasing: r is a, r is b, r is both. */
    a = max64;
    assert_int_equal(u256_add(&a, &a, &a), 0);
    assert_u256_eq(&a, MK(0, 0, 1, UINT64_MAX - 1));
    a = one;
    assert_int_equal(u256_sub(&a, &two64, &a), 0);
    assert_u256_eq(&a, &max64);
    a = umax;
    assert_int_equal(u256_add_u64(&a, &a, 2), KP_EOVERFLOW);
    assert_u256_eq(&a, &one);

    u256_neg(&r, &one);
    assert_u256_eq(&r, &umax);
    u256_neg(&r, &zero);
    assert_u256_eq(&r, &zero);
    u256_neg(&r, &two255);
    assert_u256_eq(&r, &two255);
    a = two64;
    u256_neg(&a, &a);
    assert_u256_eq(&a, MK(UINT64_MAX, UINT64_MAX, UINT64_MAX, 0));
}

static void
test_mul(void **state)
{
    struct u256 r, a, b;
    char buf[U256_DEC_MAX];

    (void)state;
    assert_int_equal(u256_mul(&r, &max64, &max64), 0);
    assert_u256_eq(&r, MK(0, 0, UINT64_MAX - 1, 1));
    /* (2^128-1)^2 = 2^256 - 2^129 + 1 just fits. */
    a = *MK(0, 0, UINT64_MAX, UINT64_MAX);
    assert_int_equal(u256_mul(&r, &a, &a), 0);
    assert_u256_eq(&r, MK(UINT64_MAX, UINT64_MAX - 1, 0, 1));
    assert_int_equal(u256_mul(&r, &two128, &two128), KP_EOVERFLOW);
    assert_u256_eq(&r, &zero);
    /* (-1) * (-1) wraps to 1. */
    assert_int_equal(u256_mul(&r, &umax, &umax), KP_EOVERFLOW);
    assert_u256_eq(&r, &one);
    assert_int_equal(u256_mul(&r, &umax, &zero), 0);
    assert_u256_eq(&r, &zero);
    assert_int_equal(u256_mul(&r, &umax, &one), 0);
    assert_u256_eq(&r, &umax);
    /* Overflow only from a high partial product. */
    a = *MK(1, 0, 0, 0);
    assert_int_equal(u256_mul(&r, &a, &two64), KP_EOVERFLOW);
    assert_u256_eq(&r, &zero);
    assert_int_equal(u256_mul_u64(&r, &umax, 2), KP_EOVERFLOW);
    assert_u256_eq(&r, MK(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX - 1));
    assert_int_equal(u256_mul_u64(&r, &two128, UINT64_MAX), 0);
    assert_u256_eq(&r, MK(0, UINT64_MAX, 0, 0));

    a = num("123456789012345678901234567890");
    b = num("987654321098765432109876543210");
    assert_int_equal(u256_mul(&a, &a, &b), 0); /* r aliases a */
    assert_dec(&a,
               "121932631137021795226185032733622923332237463801111263526900");
    b = num("3");
    assert_int_equal(u256_mul(&b, NUM("7"), &b), 0); /* r aliases b */
    assert_dec(&b, "21");

    assert_int_equal(u256_pow10(&r, 0), 0);
    assert_u256_eq(&r, &one);
    assert_int_equal(u256_pow10(&r, 19), 0);
    assert_dec(&r, "10000000000000000000");
    assert_int_equal(u256_pow10(&r, 77), 0);
    memset(buf, '0', 78);
    buf[0] = '1';
    buf[78] = '\0';
    assert_dec(&r, buf);
    assert_int_equal(u256_pow10(&r, 78), KP_EOVERFLOW);
    assert_int_equal(u256_pow10(&r, 100), KP_EOVERFLOW);
    assert_int_equal(u256_pow10(&r, 255), KP_EOVERFLOW);
    assert_int_equal(u256_pow10(&r, 1000), KP_EOVERFLOW);
    assert_int_equal(u256_pow10(&r, UINT32_MAX), KP_EOVERFLOW);
}

static void
check_div(const struct u256 *a, const struct u256 *b, const struct u256 *wq,
          const struct u256 *wr)
{
    struct u256 q, r;

    assert_int_equal(u256_divmod(&q, &r, a, b), 0);
    assert_u256_eq(&q, wq);
    assert_u256_eq(&r, wr);
}

static void
test_divmod_known(void **state)
{
    struct u256 q = one, r = one, a, b;

    (void)state;
    /* Division by zero touches neither output. */
    assert_int_equal(u256_divmod(&q, &r, &umax, &zero), KP_EINVAL);
    assert_u256_eq(&q, &one);
    assert_u256_eq(&r, &one);
    assert_int_equal(u256_divmod(NULL, NULL, &one, &zero), KP_EINVAL);

    check_div(&umax, &one, &umax, &zero);
    check_div(&umax, &umax, &one, &zero);
    check_div(&zero, &umax, &zero, &zero);
    check_div(&max64, &two64, &zero, &max64);
    check_div(&umax, &two64, MK(0, UINT64_MAX, UINT64_MAX, UINT64_MAX), &max64);
    check_div(&umax, &max64, MK(1, 1, 1, 1), &zero);
    check_div(&two128, MK(0, 0, 1, 1), MK(0, 0, 0, UINT64_MAX), &one);
    check_div(NUM("1000000000000000000000000000000"), NUM("7"),
              NUM("142857142857142857142857142857"), &one);
    /* Knuth D's add-back step (qhat one too large after the two-limb
     * test): the 64-bit form of the classic Hacker's Delight case. */
    a = *MK(0x7fffffffffffffffULL, 1ULL << 63, 0, 0);
    b = *MK(0, 1ULL << 63, 0, 1);
    check_div(&a, &b, MK(0, 0, 0, UINT64_MAX - 1),
              MK(0, 0x7fffffffffffffffULL, UINT64_MAX, 2));
    /* Each output may be NULL; outputs may alias inputs. */
    assert_int_equal(u256_divmod(&q, NULL, &umax, &two128), 0);
    assert_u256_eq(&q, MK(0, 0, UINT64_MAX, UINT64_MAX));
    assert_int_equal(u256_divmod(NULL, &r, &umax, &two128), 0);
    assert_u256_eq(&r, MK(0, 0, UINT64_MAX, UINT64_MAX));
    a = num("100");
    b = num("7");
    assert_int_equal(u256_divmod(&a, &b, &a, &b), 0);
    assert_dec(&a, "14");
    assert_dec(&b, "2");
}

static void
test_muldiv(void **state)
{
    struct u256 r = one, a;

    (void)state;
    assert_int_equal(u256_muldiv(&r, &umax, &umax, &zero), KP_EINVAL);
    assert_u256_eq(&r, &one);
    /* The 512-bit intermediate: max * max / max = max. */
    assert_int_equal(u256_muldiv(&r, &umax, &umax, &umax), 0);
    assert_u256_eq(&r, &umax);
    assert_int_equal(u256_muldiv(&r, &umax, &two128, &two128), 0);
    assert_u256_eq(&r, &umax);
    assert_int_equal(u256_muldiv(&r, &umax, &umax, &one), KP_EOVERFLOW);
    assert_int_equal(u256_muldiv(&r, &umax, NUM("2"), &one), KP_EOVERFLOW);
    assert_int_equal(u256_muldiv(&r, NUM("7"), NUM("3"), NUM("2")), 0);
    assert_dec(&r, "10"); /* rounded down */
    assert_int_equal(u256_muldiv(&r, NUM("1000000000000000000000000000000"),
                                 NUM("1000000000000000000000000000000"),
                                 NUM("1000000000000000000")),
                     0);
    assert_dec(&r, "1000000000000000000000000000000000000000000");
    /* Result exactly 2^256 - 1 from a product past 2^256, then one more. */
    assert_int_equal(u256_muldiv(&r, &umax, NUM("3"), NUM("3")), 0);
    assert_u256_eq(&r, &umax);
    a = umax;
    assert_int_equal(u256_muldiv(&a, &a, &two64, &max64), KP_EOVERFLOW);
    assert_int_equal(u256_muldiv(&a, &two255, NUM("2"), NUM("2")), 0);
    assert_u256_eq(&a, &two255);
}

static void
test_shifts(void **state)
{
    struct u256 r, a = *MK(0x0123456789abcdefULL, 0xfedcba9876543210ULL,
                           0x0f0f0f0f0f0f0f0fULL, 0xf0f0f0f0f0f0f0f0ULL);

    (void)state;
    u256_shl(&r, &a, 0);
    assert_u256_eq(&r, &a);
    u256_shr(&r, &a, 0);
    assert_u256_eq(&r, &a);
    u256_shl(&r, &one, 64);
    assert_u256_eq(&r, &two64);
    u256_shl(&r, &one, 255);
    assert_u256_eq(&r, &two255);
    u256_shl(&r, &one, 256);
    assert_u256_eq(&r, &zero);
    u256_shl(&r, &umax, 1000);
    assert_u256_eq(&r, &zero);
    u256_shr(&r, &umax, UINT32_MAX);
    assert_u256_eq(&r, &zero);
    u256_shr(&r, &umax, 256);
    assert_u256_eq(&r, &zero);
    u256_shr(&r, &umax, 192);
    assert_u256_eq(&r, &max64);
    u256_shr(&r, &two128, 64);
    assert_u256_eq(&r, &two64);
    u256_shr(&r, &two255, 255);
    assert_u256_eq(&r, &one);
    u256_shl(&r, &a, 4);
    assert_u256_eq(&r, MK(0x123456789abcdeffULL, 0xedcba98765432100ULL,
                          0xf0f0f0f0f0f0f0ffULL, 0x0f0f0f0f0f0f0f00ULL));
    u256_shr(&r, &a, 68);
    assert_u256_eq(&r, MK(0, 0x00123456789abcdeULL, 0xffedcba987654321ULL,
                          0x00f0f0f0f0f0f0f0ULL));
    u256_shl(&a, &a, 128); /* aliasing */
    assert_u256_eq(&a, MK(0x0f0f0f0f0f0f0f0fULL, 0xf0f0f0f0f0f0f0f0ULL, 0, 0));
}

/* The library against the reference, plus algebraic identities. */
static void
test_random_crosscheck(void **state)
{
    (void)state;
    for (int n = 0; n < 4000; n++) {
        struct u256 a = rand_u256(), b = rand_u256(), d = rand_u256();
        struct ref ra = ref_from(&a), rb = ref_from(&b), rd = ref_from(&d);
        struct ref rp = ref_mul(&ra, &rb), rq, rr;
        struct u256 r, q, m, t, want;
        bool high;
        int rc;

        /* add / sub: flags match, and they undo each other. */
        rc = u256_add(&r, &a, &b);
        assert_int_equal(rc, u256_cmp(&r, &a) < 0 ? KP_EOVERFLOW : 0);
        assert_int_equal(u256_sub(&t, &r, &b), rc);
        assert_u256_eq(&t, &a);
        rc = u256_sub(&r, &a, &b);
        assert_int_equal(rc, u256_cmp(&a, &b) < 0 ? KP_EOVERFLOW : 0);
        assert_int_equal(u256_add(&t, &r, &b), rc);
        assert_u256_eq(&t, &a);

        /* mul against the reference, flag included. */
        want = ref_to(&rp, &high);
        rc = u256_mul(&m, &a, &b);
        assert_u256_eq(&m, &want);
        assert_int_equal(rc, high ? KP_EOVERFLOW : 0);
        rc = u256_mul_u64(&r, &a, b.w[0]);
        assert_int_equal(u256_mul(&t, &a, MK(0, 0, 0, b.w[0])), rc);
        assert_u256_eq(&r, &t);

        /* divmod against the reference and q*b + r == a, r < b. */
        if (!u256_is_zero(&b)) {
            assert_int_equal(u256_divmod(&q, &r, &a, &b), 0);
            ref_divmod(&rq, &rr, &ra, &rb);
            want = ref_to(&rq, &high);
            assert_u256_eq(&q, &want);
            want = ref_to(&rr, &high);
            assert_u256_eq(&r, &want);
            assert_true(u256_cmp(&r, &b) < 0);
            assert_int_equal(u256_mul(&t, &q, &b), 0);
            assert_int_equal(u256_add(&t, &t, &r), 0);
            assert_u256_eq(&t, &a);
            /* (a*b)/b == a when a*b fits. */
            if (u256_mul(&m, &a, &b) == 0) {
                assert_int_equal(u256_divmod(&q, &r, &m, &b), 0);
                assert_u256_eq(&q, &a);
                assert_true(u256_is_zero(&r));
            }
        }

        /* muldiv: the 512-bit product divided by the reference. */
        if (!u256_is_zero(&d)) {
            ref_divmod(&rq, &rr, &rp, &rd);
            want = ref_to(&rq, &high);
            rc = u256_muldiv(&r, &a, &b, &d);
            assert_int_equal(rc, high ? KP_EOVERFLOW : 0);
            assert_u256_eq(&r, &want);
        }
    }
}

/* Shifts against multiplying and dividing by powers of two. */
static void
test_random_shifts(void **state)
{
    (void)state;
    for (int n = 0; n < 2000; n++) {
        struct u256 a = rand_u256(), p, r, t;
        unsigned k = (unsigned)(rng() % 256);
        int rc;

        u256_shl(&p, &one, k);
        u256_shl(&r, &a, k);
        rc = u256_mul(&t, &a, &p);
        assert_u256_eq(&r, &t);
        assert_int_equal(rc, u256_bit_len(&a) + k > 256 ? KP_EOVERFLOW : 0);
        u256_shr(&r, &a, k);
        assert_int_equal(u256_divmod(&t, NULL, &a, &p), 0);
        assert_u256_eq(&r, &t);
    }
}

static void
test_to_double(void **state)
{
    struct u256 a;

    (void)state;
    assert_true(u256_to_double(&zero) == 0.0);
    assert_true(u256_to_double(&one) == 1.0);
    assert_true(u256_to_double(&max64) == 0x1p64);
    assert_true(u256_to_double(&two64) == 0x1p64);
    assert_true(u256_to_double(&two128) == 0x1p128);
    assert_true(u256_to_double(&umax) == 0x1p256);
    assert_true(u256_to_double(NUM("1000000000000000000")) == 1e18);
    /* Ties go to even; anything below the tie point is the sticky bit
     * that makes it round up. */
    a = *MK(0, 0, 0, (1ULL << 53) + 1);
    u256_shl(&a, &a, 100);
    assert_true(u256_to_double(&a) == 0x1p153);
    a.w[0] = 1;
    assert_true(u256_to_double(&a) == 0x1p153 + 0x1p101);
    a = *MK(0, 0, 0, (1ULL << 53) + 3);
    u256_shl(&a, &a, 100);
    assert_true(u256_to_double(&a) == 0x1p153 + 0x1p102);
    assert_true(u256_to_double(&two255) == 0x1p255);
}

static void
check_parse(const char *s, int want_rc, const char *want_dec)
{
    struct u256 r = umax;
    int rc = u256_parse(&r, s, strlen(s));

    if (rc != want_rc)
        fail_msg("parse(\"%s\") = %d, want %d", s, rc, want_rc);
    if (rc == 0)
        assert_dec(&r, want_dec);
    else
        assert_u256_eq(&r, &zero);
}

static void
test_parse(void **state)
{
    struct u256 r;
    char big[200];

    (void)state;
    check_parse("0", 0, "0");
    check_parse("000", 0, "0");
    check_parse("007", 0, "7");
    check_parse("18446744073709551616", 0, "18446744073709551616");
    check_parse(MAX_DEC, 0, MAX_DEC);
    check_parse("0x0", 0, "0");
    check_parse("0x1f", 0, "31");
    check_parse("0X1F", 0, "31");
    check_parse("0xAbC", 0, "2748");
    check_parse(MAX_HEX, 0, MAX_DEC);
    check_parse("0x10000000000000000", 0, "18446744073709551616");
    check_parse(MAX_PLUS1_DEC, KP_EOVERFLOW, NULL);
    check_parse("999999999999999999999999999999999999999999999999999999999999"
                "999999999999999999999999999",
                KP_EOVERFLOW, NULL);
    check_parse(
        "0x1"
        "0000000000000000000000000000000000000000000000000000000000000000",
        KP_EOVERFLOW, NULL);
    /* Leading zeros never count toward overflow. */
    memset(big, '0', sizeof(big));
    memcpy(big + sizeof(big) - sizeof(MAX_DEC), MAX_DEC, sizeof(MAX_DEC));
    check_parse(big, 0, MAX_DEC);
    memset(big, '0', sizeof(big));
    big[1] = 'x';
    memcpy(big + sizeof(big) - 4, "abc", 4);
    check_parse(big, 0, "2748");

    check_parse("", KP_EINVAL, NULL);
    check_parse("0x", KP_EINVAL, NULL);
    check_parse("0X", KP_EINVAL, NULL);
    check_parse("x1", KP_EINVAL, NULL);
    check_parse("-1", KP_EINVAL, NULL);
    check_parse("+1", KP_EINVAL, NULL);
    check_parse(" 1", KP_EINVAL, NULL);
    check_parse("1 ", KP_EINVAL, NULL);
    check_parse("1a", KP_EINVAL, NULL);
    check_parse("0xg", KP_EINVAL, NULL);
    check_parse("0x1 ", KP_EINVAL, NULL);
    check_parse("0x0x1", KP_EINVAL, NULL);
    check_parse("1.0", KP_EINVAL, NULL);
    check_parse("1e3", KP_EINVAL, NULL);
    check_parse("١", KP_EINVAL, NULL);
    /* Syntax errors win over overflow. */
    check_parse(MAX_PLUS1_DEC "z", KP_EINVAL, NULL);

    /* Only len bytes are read; an embedded NUL is a bad digit. */
    assert_int_equal(u256_parse(&r, "12345", 3), 0);
    assert_dec(&r, "123");
    assert_int_equal(u256_parse(&r,
                                "1\0"
                                "2",
                                3),
                     KP_EINVAL);
    assert_int_equal(u256_parse(&r, NULL, 0), KP_EINVAL);
}

static void
check_signed(const char *s, int want_rc, bool want_neg, const char *want_hex)
{
    struct u256 r = one;
    bool neg = !want_neg;
    int rc = u256_parse_signed(&r, &neg, s, strlen(s));

    if (rc != want_rc)
        fail_msg("parse_signed(\"%s\") = %d, want %d", s, rc, want_rc);
    if (rc == 0) {
        assert_int_equal(neg, want_neg);
        assert_hex(&r, want_hex);
    } else {
        assert_u256_eq(&r, &zero);
    }
}

static void
test_parse_signed(void **state)
{
    char buf[U256_DEC_MAX];
    bool neg;
    struct u256 r;

    (void)state;
    check_signed("5", 0, false, "0x5");
    check_signed("-1", 0, true, MAX_HEX);
    check_signed("-0x10", 0, true,
                 "0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                 "ffffff0");
    check_signed("-0", 0, false, "0x0");
    check_signed("-" TWO255_DEC, 0, true,
                 "0x8000000000000000000000000000000000000000000000000000000000"
                 "000000");
    check_signed("-0x8000000000000000000000000000000000000000000000000000000000"
                 "000001",
                 KP_EOVERFLOW, false, NULL);
    check_signed("-" MAX_DEC, KP_EOVERFLOW, false, NULL);
    check_signed(MAX_DEC, 0, false, MAX_HEX); /* the caller checks range */
    check_signed(MAX_PLUS1_DEC, KP_EOVERFLOW, false, NULL);
    check_signed("", KP_EINVAL, false, NULL);
    check_signed("-", KP_EINVAL, false, NULL);
    check_signed("--1", KP_EINVAL, false, NULL);
    check_signed("+1", KP_EINVAL, false, NULL);
    check_signed("- 1", KP_EINVAL, false, NULL);
    check_signed("-0x", KP_EINVAL, false, NULL);
    check_signed("1-", KP_EINVAL, false, NULL);
    assert_int_equal(u256_parse_signed(&r, &neg, NULL, 0), KP_EINVAL);

    /* Round trip through the signed formatter. */
    assert_int_equal(u256_parse_signed(&r, &neg, "-12345", 6), 0);
    assert_int_equal(u256_fmt_dec_signed(buf, sizeof(buf), &r), 0);
    assert_string_equal(buf, "-12345");
}

static void
check_units(const char *s, int want_rc, const char *want_dec)
{
    struct u256 r = one;
    int rc = u256_parse_units(&r, s, strlen(s));

    if (rc != want_rc)
        fail_msg("parse_units(\"%s\") = %d, want %d", s, rc, want_rc);
    if (rc == 0)
        assert_dec(&r, want_dec);
    else
        assert_u256_eq(&r, &zero);
}

static void
test_parse_units(void **state)
{
    (void)state;
    check_units("123", 0, "123");
    check_units("0x1f", 0, "31");
    check_units("30gwei", 0, "30000000000");
    check_units("1.5ether", 0, "1500000000000000000");
    check_units("250000e6", 0, "250000000000");
    check_units("2 gwei", 0, "2000000000");
    check_units("7wei", 0, "7");
    check_units("1.5e6", 0, "1500000");
    check_units("1.5E6", 0, "1500000");
    check_units("1e6ether", 0, "1000000000000000000000000");
    check_units("1e6 ether", 0, "1000000000000000000000000");
    check_units("2GWEI", 0, "2000000000");
    check_units("1Ether", 0, "1000000000000000000");
    check_units("1kwei", 0, "1000");
    check_units("1babbage", 0, "1000");
    check_units("1mwei", 0, "1000000");
    check_units("1lovelace", 0, "1000000");
    check_units("1shannon", 0, "1000000000");
    check_units("1szabo", 0, "1000000000000");
    check_units("1micro", 0, "1000000000000");
    check_units("1finney", 0, "1000000000000000");
    check_units("1milli", 0, "1000000000000000");
    check_units("0.000000000000000001ether", 0, "1");
    check_units("1.000000000000000000000000000000ether", 0,
                "1000000000000000000");
    check_units("1.0wei", 0, "1");
    check_units("0.1e1", 0, "1");
    check_units("1.50e1", 0, "15");
    check_units("0e99999999999999999999999999ether", 0, "0");
    check_units("0.000e5", 0, "0");
    check_units("00012gwei", 0, "12000000000");
    check_units("1e77", 0,
                "100000000000000000000000000000000000000000000000000000000000"
                "000000000000000000");
    check_units(MAX_DEC "wei", 0, MAX_DEC);
    check_units("115792089237316195423570985008687907853269984665640564039457"
                ".584007913129639935ether",
                0, MAX_DEC);

    /* Inexact: never rounded. */
    check_units("0.1wei", KP_EINVAL, NULL);
    check_units("1.0000000000000000001ether", KP_EINVAL, NULL);
    check_units("1.5", KP_EINVAL, NULL);
    check_units("0.05e1", KP_EINVAL, NULL);
    check_units("1.2345678901gwei", KP_EINVAL, NULL);
    /* Syntax and unknown units. */
    check_units("", KP_EINVAL, NULL);
    check_units("gwei", KP_EINVAL, NULL);
    check_units("1xyz", KP_EINVAL, NULL);
    check_units("1gweix", KP_EINVAL, NULL);
    check_units("1gwe", KP_EINVAL, NULL);
    check_units("1 ", KP_EINVAL, NULL);
    check_units("1  gwei", KP_EINVAL, NULL);
    check_units(" 1gwei", KP_EINVAL, NULL);
    check_units("1gwei ", KP_EINVAL, NULL);
    check_units("1.", KP_EINVAL, NULL);
    check_units(".5ether", KP_EINVAL, NULL);
    check_units("1..5", KP_EINVAL, NULL);
    check_units("1.5.2", KP_EINVAL, NULL);
    check_units("1e", KP_EINVAL, NULL);
    check_units("1e-3ether", KP_EINVAL, NULL);
    check_units("1eether", KP_EINVAL, NULL);
    check_units("1e6e6", KP_EINVAL, NULL);
    check_units("-1", KP_EINVAL, NULL);
    check_units("+1", KP_EINVAL, NULL);
    check_units("0x", KP_EINVAL, NULL);
    check_units("0x1f gwei", KP_EINVAL, NULL);
    check_units("0x1gwei", KP_EINVAL, NULL);
    check_units("1,5ether", KP_EINVAL, NULL);
    /* Overflow. */
    check_units(MAX_PLUS1_DEC, KP_EOVERFLOW, NULL);
    check_units(MAX_PLUS1_DEC "wei", KP_EOVERFLOW, NULL);
    check_units("115792089237316195423570985008687907853269984665640564039457"
                ".584007913129639936ether",
                KP_EOVERFLOW, NULL);
    check_units("1e78", KP_EOVERFLOW, NULL);
    check_units("1e60ether", KP_EOVERFLOW, NULL);
    check_units("116e57ether", KP_EOVERFLOW, NULL);
    check_units("1e99999999999999999999999999", KP_EOVERFLOW, NULL);
    check_units("115792089237316195423570985008687907853269984665640564039458"
                "ether",
                KP_EOVERFLOW, NULL);
}

static void
check_units_fmt(const char *dec, unsigned decimals, const char *want)
{
    char buf[U256_DEC_MAX];
    struct u256 a = num(dec);

    assert_int_equal(u256_fmt_units(buf, sizeof(buf), &a, decimals), 0);
    assert_string_equal(buf, want);
}

/* Every cap below the needed size fails without writing past it; the
 * exact size succeeds. */
static void
check_caps(int (*fmt)(char *, size_t, const struct u256 *),
           const struct u256 *a, const char *want)
{
    char buf[U256_DEC_MAX + 8];
    size_t need = strlen(want) + 1;

    for (size_t cap = 0; cap < need; cap++) {
        memset(buf, '#', sizeof(buf));
        assert_int_equal(fmt(buf, cap, a), KP_ERANGE);
        if (cap > 0)
            assert_int_equal(buf[0], '\0');
        for (size_t i = cap; i < sizeof(buf); i++)
            assert_int_equal(buf[i], '#');
    }
    memset(buf, '#', sizeof(buf));
    assert_int_equal(fmt(buf, need, a), 0);
    assert_string_equal(buf, want);
    assert_int_equal(buf[need], '#');
}

static int
fmt_units18(char *out, size_t cap, const struct u256 *a)
{
    return u256_fmt_units(out, cap, a, 18);
}

static void
test_format(void **state)
{
    char buf[U256_DEC_MAX + 8], want[U256_DEC_MAX];
    struct u256 a;

    (void)state;
    assert_int_equal(u256_fmt_dec(NULL, 0, &one), KP_ERANGE);
    check_caps(u256_fmt_dec, &umax, MAX_DEC);
    check_caps(u256_fmt_dec, &zero, "0");
    check_caps(u256_fmt_hex, &umax, MAX_HEX);
    check_caps(u256_fmt_hex, &zero, "0x0");
    check_caps(u256_fmt_dec_signed, &umax, "-1");
    check_caps(u256_fmt_dec_signed, &two255, "-" TWO255_DEC);
    check_caps(u256_fmt_dec_signed, &max64, "18446744073709551615");
    check_caps(fmt_units18, NUM("1500000000000000000"), "1.5");
    check_caps(fmt_units18, NUM("1"), "0.000000000000000001");

    a = two255;
    a.w[0] = 1;
    assert_int_equal(u256_fmt_dec_signed(buf, sizeof(buf), &a), 0);
    assert_string_equal(buf, "-5789604461865809771178549250434395392663499233"
                             "2820282019728792003956564819967");
    a = *MK(0, 0, 0, 0xdeadbeef);
    assert_hex(&a, "0xdeadbeef");

    check_units_fmt("1500000000000000000", 18, "1.5");
    check_units_fmt("1000000000000000000", 18, "1");
    check_units_fmt("1000000000000000001", 18, "1.000000000000000001");
    check_units_fmt("1", 6, "0.000001");
    check_units_fmt("42", 0, "42");
    check_units_fmt("0", 18, "0");
    check_units_fmt("0", 0, "0");
    check_units_fmt("120", 1, "12");
    check_units_fmt("120", 3, "0.12");
    check_units_fmt("30000000000", 9, "30");
    check_units_fmt(MAX_DEC, 77,
                    "1.15792089237316195423570985008687907853269984665640564"
                    "039457584007913129639935");
    check_units_fmt(MAX_DEC, 0, MAX_DEC);
    /* The longest fraction: 0. then 76 zeros then 5. */
    memset(want, '0', sizeof(want));
    want[1] = '.';
    want[78] = '5';
    want[79] = '\0';
    check_units_fmt("5", 77, want);
    assert_int_equal(strlen(want) + 1, U256_DEC_MAX);
    assert_int_equal(u256_fmt_units(buf, sizeof(buf), &one, 78), KP_EINVAL);
    assert_int_equal(u256_fmt_units(buf, sizeof(buf), &one, UINT32_MAX),
                     KP_EINVAL);
    assert_int_equal(u256_fmt_units(NULL, 0, &one, 78), KP_EINVAL);
}

/* Random values survive format -> parse in every notation. */
static void
test_roundtrip(void **state)
{
    (void)state;
    for (int n = 0; n < 2000; n++) {
        struct u256 a = rand_u256(), r;
        char buf[U256_DEC_MAX + 24];
        unsigned k = (unsigned)(rng() % 78);
        bool neg;
        size_t len;

        assert_int_equal(u256_fmt_dec(buf, sizeof(buf), &a), 0);
        assert_int_equal(u256_parse(&r, buf, strlen(buf)), 0);
        assert_u256_eq(&r, &a);
        assert_int_equal(u256_fmt_hex(buf, sizeof(buf), &a), 0);
        assert_int_equal(u256_parse(&r, buf, strlen(buf)), 0);
        assert_u256_eq(&r, &a);
        assert_int_equal(u256_fmt_dec_signed(buf, sizeof(buf), &a), 0);
        assert_int_equal(u256_parse_signed(&r, &neg, buf, strlen(buf)), 0);
        assert_u256_eq(&r, &a);
        assert_int_equal(neg, u256_is_neg(&a));
        /* "x.yz" with k decimals, read back as "x.yze<k>" and as units. */
        assert_int_equal(u256_fmt_units(buf, sizeof(buf), &a, k), 0);
        len = strlen(buf);
        snprintf(buf + len, sizeof(buf) - len, "e%u", k);
        assert_int_equal(u256_parse_units(&r, buf, strlen(buf)), 0);
        assert_u256_eq(&r, &a);
        assert_int_equal(u256_fmt_units(buf, sizeof(buf), &a, 18), 0);
        len = strlen(buf);
        snprintf(buf + len, sizeof(buf) - len, " ether");
        assert_int_equal(u256_parse_units(&r, buf, strlen(buf)), 0);
        assert_u256_eq(&r, &a);
    }
}

static void
test_misuse(void **state)
{
    uint8_t be[33] = {0};
    struct u256 r = one;
    uint64_t v = 7;

    (void)state;
    assert_int_equal(u256_from_be(&r, be, 33), KP_ERANGE);
    assert_u256_eq(&r, &one);
    assert_int_equal(u256_to_u64(&v, &umax), KP_ERANGE);
    assert_int_equal(v, 7);
    assert_int_equal(u256_parse(&r, "garbage", 7), KP_EINVAL);
    assert_int_equal(u256_parse_units(&r, "\xff\xfe", 2), KP_EINVAL);
    assert_int_equal(u256_parse_units(&r, NULL, 0), KP_EINVAL);
    assert_int_equal(u256_parse_units(&r, "1gwei", 0), KP_EINVAL);
    assert_int_equal(u256_fmt_hex(NULL, 0, &umax), KP_ERANGE);
    assert_int_equal(u256_fmt_dec_signed(NULL, 0, &umax), KP_ERANGE);
    assert_int_equal(u256_fmt_units(NULL, 0, &umax, 18), KP_ERANGE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges_known),
        cmocka_unit_test(test_add_sub),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_divmod_known),
        cmocka_unit_test(test_muldiv),
        cmocka_unit_test(test_shifts),
        cmocka_unit_test(test_random_crosscheck),
        cmocka_unit_test(test_random_shifts),
        cmocka_unit_test(test_to_double),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_signed),
        cmocka_unit_test(test_parse_units),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
