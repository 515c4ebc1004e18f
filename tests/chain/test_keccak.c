/* Keccak-256 known answers (empty string, "abc", multi-block inputs),
 * incremental updates across the rate boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain/hex.h"
#include "chain/keccak.h"

static void
check(const char *msg, size_t len, const char *want_hex)
{
    uint8_t got[32], want[32];
    char buf[67];

    keccak256(got, (const uint8_t *)msg, len);
    assert_int_equal(hex_decode_exact(want, 32, want_hex, strlen(want_hex)), 0);
    hex_encode(buf, sizeof(buf), got, 32, true);
    assert_memory_equal(got, want, 32);
}

static void
test_known_answers(void **state)
{
    (void)state;
    check("", 0,
          "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    check("abc", 3,
          "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    check("transfer(address,uint256)", 25,
          "a9059cbb2ab09eb219583f4a59a5d0623ade346d962bcd4e46b11da047c9049b");
}

static void
test_incremental_matches_oneshot(void **state)
{
    uint8_t data[1000], a[32], b[32];
    size_t len, split;

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (len = 0; len <= sizeof(data); len += 17) {
        keccak256(a, data, len);
        for (split = 0; split <= len; split += 45) {
            struct keccak256_ctx ctx;

            keccak256_init(&ctx);
            keccak256_update(&ctx, data, split);
            keccak256_update(&ctx, data + split, 0);
            keccak256_update(&ctx, data + split, len - split);
            keccak256_final(&ctx, b);
            assert_memory_equal(a, b, 32);
        }
    }
}

static void
test_rate_boundaries(void **state)
{
    /* 135, 136 and 137 bytes exercise padding in one byte, a full extra
     * block, and a block spill. Values from cast keccak. */
    uint8_t buf[137], out[32], want[32];
    static const char *const want_hex[] = {
        "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446",
        "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e",
        "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39",
    };

    (void)state;
    memset(buf, 'a', sizeof(buf));
    for (int i = 0; i < 3; i++) {
        keccak256(out, buf, (size_t)(135 + i));
        assert_int_equal(hex_decode_exact(want, 32, want_hex[i], 64), 0);
        assert_memory_equal(out, want, 32);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_incremental_matches_oneshot),
        cmocka_unit_test(test_rate_boundaries),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
