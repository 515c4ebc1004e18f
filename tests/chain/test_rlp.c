/* RLP: the Yellow Paper / Ethereum wiki examples both ways, the 55/56
 * byte boundary of strings and lists, strict rejection of non-canonical
 * and truncated input, nesting and count caps, the encoder's buffer
 * handling and hashing mode, and a seeded random round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/keccak.h"
#include "chain/rlp.h"
#include "tests/support/check.h"

/* Compare the encoder's output with expected hex, then decode it back
 * and check it is one valid item spanning the buffer. */
static void
expect_enc(struct rlp_enc *e, const char *want_hex)
{
    uint8_t want[2048];
    struct rlp_item it;
    size_t n, wn = ts_unhex(want, sizeof(want), want_hex);

    assert_int_equal(rlp_enc_finish(e, &n), 0);
    assert_int_equal(n, wn);
    assert_memory_equal(e->buf, want, n);
    assert_int_equal(rlp_decode(&it, e->buf, n), 0);
    assert_int_equal(rlp_validate(&it), 0);
}

/* A lone integer encodes as `want_hex`. */
static void
expect_u64(uint64_t v, const char *want_hex)
{
    uint8_t buf[16];
    struct rlp_enc e;

    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_u64(&e, v);
    expect_enc(&e, want_hex);
}

/* A lone string of `len` bytes at `p` encodes as `want_hex`. */
static void
expect_bytes(const char *p, size_t len, const char *want_hex)
{
    uint8_t buf[256];
    struct rlp_enc e;

    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_bytes(&e, (const uint8_t *)p, len);
    expect_enc(&e, want_hex);
}

static void
test_wiki_examples(void **state)
{
    uint8_t buf[256];
    struct rlp_enc e;
    size_t m, m2, m3;

    (void)state;
    expect_bytes("dog", 3, "83646f67");

    rlp_enc_init(&e, buf, sizeof(buf));
    m = rlp_list_begin(&e);
    rlp_put_bytes(&e, (const uint8_t *)"cat", 3);
    rlp_put_bytes(&e, (const uint8_t *)"dog", 3);
    rlp_list_end(&e, m);
    expect_enc(&e, "c88363617483646f67");

    expect_bytes(NULL, 0, "80");

    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_list_end(&e, rlp_list_begin(&e));
    expect_enc(&e, "c0");

    expect_u64(0, "80");
    expect_bytes("\0", 1, "00");
    expect_u64(15, "0f");
    expect_u64(1024, "820400");

    /* [ [], [[]], [ [], [[]] ] ] */
    rlp_enc_init(&e, buf, sizeof(buf));
    m = rlp_list_begin(&e);
    rlp_list_end(&e, rlp_list_begin(&e));
    m2 = rlp_list_begin(&e);
    rlp_list_end(&e, rlp_list_begin(&e));
    rlp_list_end(&e, m2);
    m2 = rlp_list_begin(&e);
    rlp_list_end(&e, rlp_list_begin(&e));
    m3 = rlp_list_begin(&e);
    rlp_list_end(&e, rlp_list_begin(&e));
    rlp_list_end(&e, m3);
    rlp_list_end(&e, m2);
    rlp_list_end(&e, m);
    expect_enc(&e, "c7c0c1c0c3c0c1c0");

    expect_bytes("Lorem ipsum dolor sit amet, consectetur adipisicing elit", 56,
                 "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c"
                 "20636f6e7365637465747572206164697069736963696e6720656c6974");
}

static void
test_integers(void **state)
{
    uint8_t buf[64];
    struct rlp_enc e;
    struct u256 v;

    (void)state;
    expect_u64(0x7f, "7f");
    expect_u64(0x80, "8180");
    expect_u64(UINT64_MAX, "88ffffffffffffffff");

    memset(&v, 0xff, sizeof(v));
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_u256(&e, &v);
    expect_enc(&e, "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                   "ffffffff");
    memset(&v, 0, sizeof(v));
    v.w[1] = 1; /* 2^64 */
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_u256(&e, &v);
    expect_enc(&e, "89010000000000000000");
    v.w[1] = 0;
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_u256(&e, &v);
    expect_enc(&e, "80");

    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_be_int(&e, (const uint8_t *)"\0\0\x01\x00", 4);
    expect_enc(&e, "820100");
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_be_int(&e, (const uint8_t *)"\0\0\0", 3);
    expect_enc(&e, "80");
}

/* Strings and lists of 55 and 56 bytes sit on the short/long boundary. */
static void
test_length_boundaries(void **state)
{
    uint8_t buf[2048], data[1100];
    struct rlp_enc e;
    struct rlp_item it;
    size_t n, m, lens[] = {0, 1, 55, 56, 255, 256, 1024, 1100};

    (void)state;
    memset(data, 'a', sizeof(data));
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i];

        rlp_enc_init(&e, buf, sizeof(buf));
        rlp_put_bytes(&e, data, len);
        assert_int_equal(rlp_enc_finish(&e, &n), 0);
        assert_int_equal(n, rlp_bytes_size(data, len));
        assert_int_equal(rlp_decode(&it, buf, n), 0);
        assert_false(it.is_list);
        assert_int_equal(it.len, len);
        assert_ptr_equal(it.p, buf + n - len);

        /* A list whose payload is `len` bytes of single-byte items. */
        rlp_enc_init(&e, buf, sizeof(buf));
        m = rlp_list_begin(&e);
        for (size_t k = 0; k < len; k++)
            rlp_put_u64(&e, 1);
        rlp_list_end(&e, m);
        assert_int_equal(rlp_enc_finish(&e, &n), 0);
        assert_int_equal(n, rlp_list_size(len));
        assert_int_equal(rlp_decode(&it, buf, n), 0);
        assert_true(it.is_list);
        assert_int_equal(it.len, len);
        assert_int_equal(rlp_validate(&it), 0);
    }
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_bytes(&e, data, 55);
    assert_int_equal(buf[0], 0xb7);
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_bytes(&e, data, 56);
    assert_int_equal(buf[0], 0xb8);
    assert_int_equal(buf[1], 56);
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_bytes(&e, data, 1024);
    assert_int_equal(buf[0], 0xb9);
    assert_int_equal(buf[1], 0x04);
    assert_int_equal(buf[2], 0x00);
}

static int
decode_hex(struct rlp_item *it, const char *h)
{
    static uint8_t buf[256];
    size_t n = ts_unhex(buf, sizeof(buf), h);

    return rlp_decode(it, buf, n);
}

static void
test_decode_rejects(void **state)
{
    struct rlp_item it;

    (void)state;
    assert_int_equal(decode_hex(&it, "83646f67"), 0);
    assert_int_equal(it.len, 3);
    assert_memory_equal(it.p, "dog", 3);
    assert_int_equal(decode_hex(&it, "8180"), 0);

    /* single byte below 0x80 wrapped in a header */
    assert_int_equal(decode_hex(&it, "8100"), KP_ENONCANON);
    assert_int_equal(decode_hex(&it, "817f"), KP_ENONCANON);
    /* long form for short payloads */
    assert_int_equal(decode_hex(&it, "b803646f67"), KP_ENONCANON);
    assert_int_equal(decode_hex(&it, "b837"
                                     "00"),
                     KP_ENONCANON);
    assert_int_equal(decode_hex(&it, "f80100"), KP_ENONCANON);
    /* length with leading zero bytes */
    assert_int_equal(decode_hex(&it, "b90038"), KP_ENONCANON);
    assert_int_equal(decode_hex(&it, "f90038"), KP_ENONCANON);
    /* truncation */
    assert_int_equal(decode_hex(&it, ""), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "83646f"), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "b8"), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "b938"), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "b838"), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "c3"), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "bfffffffffffffffff"), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "ffffffffffffffffff"), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "bf0100000000000000"), KP_ETRUNC);
    /* trailing bytes */
    assert_int_equal(decode_hex(&it, "c88363617483646f6700"), KP_ETRAILING);
    assert_int_equal(decode_hex(&it, "8080"), KP_ETRAILING);
    /* the outer list is fine, an inner item is not */
    assert_int_equal(decode_hex(&it, "c28361"), 0);
    assert_int_equal(rlp_validate(&it), KP_ETRUNC);
    assert_int_equal(decode_hex(&it, "c28100"), 0);
    assert_int_equal(rlp_validate(&it), KP_ENONCANON);
}

static void
test_input_cap(void **state)
{
    uint8_t *big = calloc(1, RLP_MAX_INPUT + 1);
    struct rlp_item it;
    size_t used;

    (void)state;
    assert_non_null(big);
    assert_int_equal(rlp_decode_next(&it, &used, big, RLP_MAX_INPUT + 1),
                     KP_ELIMIT);
    assert_int_equal(rlp_decode_next(&it, &used, big, RLP_MAX_INPUT), 0);
    assert_int_equal(used, 1);
    free(big);
}

static void
test_nesting_cap(void **state)
{
    uint8_t buf[128];
    struct rlp_enc e;
    struct rlp_item it;
    size_t marks[RLP_MAX_DEPTH + 1], n;
    int depth;

    (void)state;
    for (depth = RLP_MAX_DEPTH; depth <= RLP_MAX_DEPTH + 1; depth++) {
        rlp_enc_init(&e, buf, sizeof(buf));
        for (int i = 0; i < depth; i++)
            marks[i] = rlp_list_begin(&e);
        for (int i = depth - 1; i >= 0; i--)
            rlp_list_end(&e, marks[i]);
        assert_int_equal(rlp_enc_finish(&e, &n), 0);
        assert_int_equal(rlp_decode(&it, buf, n), 0);
        assert_int_equal(rlp_validate(&it),
                         depth <= RLP_MAX_DEPTH ? 0 : KP_ELIMIT);
    }
}

static void
test_iteration(void **state)
{
    uint8_t buf[64];
    struct rlp_item it, items[4], list;
    struct rlp_iter iter;
    size_t n = ts_unhex(buf, sizeof(buf), "c88363617483646f67"), count;

    (void)state;
    assert_int_equal(rlp_decode(&list, buf, n), 0);
    rlp_iter_init(&iter, &list);
    assert_false(rlp_iter_done(&iter));
    assert_int_equal(rlp_iter_next(&iter, &it), 0);
    assert_memory_equal(it.p, "cat", 3);
    assert_int_equal(rlp_iter_next(&iter, &it), 0);
    assert_memory_equal(it.p, "dog", 3);
    assert_true(rlp_iter_done(&iter));

    assert_int_equal(rlp_list_items(items, 4, &count, &list), 0);
    assert_int_equal(count, 2);
    assert_int_equal(rlp_list_items(items, 1, &count, &list), KP_ELIMIT);
    assert_int_equal(rlp_list_items(items, 4, &count, &items[0]), KP_EINVAL);

    /* A broken item ends the iteration with its error. */
    n = ts_unhex(buf, sizeof(buf), "c3018200");
    assert_int_equal(rlp_decode(&list, buf, n), 0);
    rlp_iter_init(&iter, &list);
    assert_int_equal(rlp_iter_next(&iter, &it), 0);
    assert_int_equal(rlp_iter_next(&iter, &it), KP_ETRUNC);
    assert_true(rlp_iter_done(&iter));
    assert_int_equal(rlp_list_items(items, 4, &count, &list), KP_ETRUNC);
}

static void
test_get_integers(void **state)
{
    struct rlp_item it;
    uint64_t v;
    struct u256 u;
    uint8_t be[32], fixed[3];

    (void)state;
    assert_int_equal(decode_hex(&it, "80"), 0);
    assert_int_equal(rlp_get_u64(&v, &it), 0);
    assert_int_equal(v, 0);
    assert_int_equal(decode_hex(&it, "820400"), 0);
    assert_int_equal(rlp_get_u64(&v, &it), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(decode_hex(&it, "88ffffffffffffffff"), 0);
    assert_int_equal(rlp_get_u64(&v, &it), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(decode_hex(&it, "89010000000000000000"), 0);
    assert_int_equal(rlp_get_u64(&v, &it), KP_ERANGE);
    assert_int_equal(rlp_get_u256(&u, &it), 0);
    assert_true(u.w[0] == 0 && u.w[1] == 1 && u.w[2] == 0 && u.w[3] == 0);
    assert_int_equal(rlp_get_be32(be, &it), 0);
    assert_int_equal(be[23], 1);

    /* zero as a 0x00 byte, and leading zeros, are not canonical */
    assert_int_equal(decode_hex(&it, "00"), 0);
    assert_int_equal(rlp_get_u64(&v, &it), KP_ENONCANON);
    assert_int_equal(decode_hex(&it, "820001"), 0);
    assert_int_equal(rlp_get_u64(&v, &it), KP_ENONCANON);
    assert_int_equal(rlp_get_u256(&u, &it), KP_ENONCANON);
    assert_int_equal(rlp_get_be32(be, &it), KP_ENONCANON);
    assert_int_equal(decode_hex(&it, "c0"), 0);
    assert_int_equal(rlp_get_u64(&v, &it), KP_EINVAL);
    assert_int_equal(rlp_get_u256(&u, &it), KP_EINVAL);
    assert_int_equal(rlp_get_fixed(fixed, 3, &it), KP_EINVAL);
    assert_int_equal(
        decode_hex(&it, "a1010000000000000000000000000000000000000000000000"
                        "000000000000000000"),
        0);
    assert_int_equal(rlp_get_u256(&u, &it), KP_ERANGE);

    assert_int_equal(decode_hex(&it, "83646f67"), 0);
    assert_int_equal(rlp_get_fixed(fixed, 3, &it), 0);
    assert_memory_equal(fixed, "dog", 3);
    assert_int_equal(rlp_get_fixed(fixed, 2, &it), KP_EINVAL);
}

static void
test_encoder_buffer_too_small(void **state)
{
    uint8_t buf[16];
    struct rlp_enc e;
    size_t n, m, need;

    (void)state;
    /* Needed size: the full ["cat","dog", 56 x 'a'] list. */
    uint8_t big[56];
    memset(big, 'a', sizeof(big));
    need = rlp_list_size(4 + 4 + rlp_bytes_size(big, 56));
    for (size_t cap = 0; cap <= sizeof(buf); cap++) {
        rlp_enc_init(&e, buf, cap);
        m = rlp_list_begin(&e);
        rlp_put_bytes(&e, (const uint8_t *)"cat", 3);
        rlp_put_bytes(&e, (const uint8_t *)"dog", 3);
        rlp_put_bytes(&e, big, 56);
        rlp_list_end(&e, m);
        assert_int_equal(rlp_enc_finish(&e, &n), KP_ERANGE);
        assert_int_equal(n, need);
    }
    /* Exactly enough room: the list header moves in front. */
    uint8_t exact[9];
    rlp_enc_init(&e, exact, sizeof(exact));
    m = rlp_list_begin(&e);
    rlp_put_bytes(&e, (const uint8_t *)"cat", 3);
    rlp_put_bytes(&e, (const uint8_t *)"dog", 3);
    assert_int_equal(e.err, 0);
    rlp_list_end(&e, m);
    expect_enc(&e, "c88363617483646f67");
    /* One byte short only at the header. */
    rlp_enc_init(&e, exact, 8);
    m = rlp_list_begin(&e);
    rlp_put_bytes(&e, (const uint8_t *)"cat", 3);
    rlp_put_bytes(&e, (const uint8_t *)"dog", 3);
    rlp_list_end(&e, m);
    assert_int_equal(rlp_enc_finish(&e, &n), KP_ERANGE);
    assert_int_equal(n, 9);
}

static void
test_hash_mode_matches_buffer(void **state)
{
    uint8_t buf[512], data[300], h1[32], h2[32];
    struct keccak256_ctx k;
    struct rlp_enc e;
    size_t n, payload;

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    payload =
        rlp_u64_size(123456) + rlp_bytes_size(data, 300) + rlp_list_size(0);
    rlp_enc_init(&e, buf, sizeof(buf));
    rlp_put_list_header(&e, payload);
    rlp_put_u64(&e, 123456);
    rlp_put_bytes(&e, data, 300);
    rlp_put_raw(&e, (const uint8_t *)"\xc0", 1);
    assert_int_equal(rlp_enc_finish(&e, &n), 0);
    assert_int_equal(n, rlp_list_size(payload));
    keccak256(h1, buf, n);

    keccak256_init(&k);
    rlp_enc_init_hash(&e, &k);
    rlp_put_list_header(&e, payload);
    rlp_put_u64(&e, 123456);
    rlp_put_bytes(&e, data, 300);
    rlp_put_raw(&e, (const uint8_t *)"\xc0", 1);
    assert_int_equal(rlp_enc_finish(&e, &n), 0);
    assert_int_equal(n, rlp_list_size(payload));
    keccak256_final(&k, h2);
    assert_memory_equal(h1, h2, 32);
}

/* ---- seeded random round trip --------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static void
random_item(struct rlp_enc *e, int depth)
{
    uint8_t data[80];
    uint64_t r = ts_xorshift64(&rng);
    size_t n, m;

    if (depth < 4 && r % 4 == 0) {
        m = rlp_list_begin(e);
        n = ts_xorshift64(&rng) % 6;
        for (size_t i = 0; i < n; i++)
            random_item(e, depth + 1);
        rlp_list_end(e, m);
    } else if (r % 4 == 1) {
        rlp_put_u64(e, ts_xorshift64(&rng) >> (ts_xorshift64(&rng) % 64));
    } else {
        n = ts_xorshift64(&rng) % sizeof(data);
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)ts_xorshift64(&rng);
        rlp_put_bytes(e, data, n);
    }
}

/* Re-encode a decoded tree item by item. */
static void
reencode(struct rlp_enc *e, const struct rlp_item *it)
{
    struct rlp_iter iter;
    struct rlp_item child;
    size_t m;

    if (!it->is_list) {
        rlp_put_bytes(e, it->p, it->len);
        return;
    }
    m = rlp_list_begin(e);
    rlp_iter_init(&iter, it);
    while (!rlp_iter_done(&iter)) {
        assert_int_equal(rlp_iter_next(&iter, &child), 0);
        reencode(e, &child);
    }
    rlp_list_end(e, m);
}

static void
test_random_round_trip(void **state)
{
    static uint8_t a[1 << 16], b[1 << 16];
    struct rlp_enc e;
    struct rlp_item it;
    size_t na, nb, m;

    (void)state;
    for (int round = 0; round < 500; round++) {
        rlp_enc_init(&e, a, sizeof(a));
        m = rlp_list_begin(&e);
        random_item(&e, 0);
        random_item(&e, 0);
        rlp_list_end(&e, m);
        assert_int_equal(rlp_enc_finish(&e, &na), 0);
        assert_int_equal(rlp_decode(&it, a, na), 0);
        assert_int_equal(rlp_validate(&it), 0);
        rlp_enc_init(&e, b, sizeof(b));
        reencode(&e, &it);
        assert_int_equal(rlp_enc_finish(&e, &nb), 0);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        /* Every strict prefix is truncated. */
        for (size_t cut = 0; cut < na; cut += 1 + na / 16)
            assert_int_equal(rlp_decode(&it, a, cut), KP_ETRUNC);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wiki_examples),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_length_boundaries),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_input_cap),
        cmocka_unit_test(test_nesting_cap),
        cmocka_unit_test(test_iteration),
        cmocka_unit_test(test_get_integers),
        cmocka_unit_test(test_encoder_buffer_too_small),
        cmocka_unit_test(test_hash_mode_matches_buffer),
        cmocka_unit_test(test_random_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
