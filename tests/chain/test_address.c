/* Addresses: EIP-55's published checksum examples, parsing rules (case,
 * prefix, length, digits), derivation from well-known private keys and
 * from the generator point in every serialization, and refusal of
 * invalid keys and points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chain/address.h"
#include "chain/err.h"
#include "chain/hex.h"

/* From EIP-55. */
static const char *const eip55_mixed[] = {
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};
static const char *const eip55_upper[] = {
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
};
static const char *const eip55_lower[] = {
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
};

/* The generator point G (the public key of private key 1). */
static const char g_uncompressed[] =
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
static const char g_compressed[] =
    "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

static int
parse(struct eth_addr *a, const char *s)
{
    return eth_addr_parse(a, s, strlen(s));
}

static void
assert_addr(const struct eth_addr *a, const char *want)
{
    char got[ETH_ADDR_STR_LEN];

    eth_addr_to_checksum(got, a);
    assert_string_equal(got, want);
}

static void
test_eip55_examples(void **state)
{
    struct eth_addr a;
    char out[ETH_ADDR_STR_LEN];

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(parse(&a, eip55_mixed[i]), 0);
        eth_addr_to_checksum(out, &a);
        assert_string_equal(out, eip55_mixed[i]);
        assert_true(eth_addr_is_checksum_valid(eip55_mixed[i], 42));
    }
    /* All-caps and all-lowercase examples are what EIP-55 itself gives
     * for addresses whose checksum is all one case. */
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(parse(&a, eip55_upper[i]), 0);
        eth_addr_to_checksum(out, &a);
        assert_string_equal(out, eip55_upper[i]);
        assert_true(eth_addr_is_checksum_valid(eip55_upper[i], 42));
        assert_int_equal(parse(&a, eip55_lower[i]), 0);
        eth_addr_to_checksum(out, &a);
        assert_string_equal(out, eip55_lower[i]);
    }
}

static void
test_parse_case_rules(void **state)
{
    struct eth_addr a, b;
    char s[ETH_ADDR_STR_LEN];
    size_t i;

    (void)state;
    assert_int_equal(parse(&a, eip55_mixed[0]), 0);
    /* all lowercase and all uppercase skip the checksum */
    strcpy(s, eip55_mixed[0]);
    for (i = 2; i < 42; i++)
        s[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
    assert_int_equal(parse(&b, s), 0);
    assert_memory_equal(a.b, b.b, 20);
    assert_false(eth_addr_is_checksum_valid(s, 42));
    for (i = 2; i < 42; i++)
        s[i] = (char)(s[i] >= 'a' && s[i] <= 'f' ? s[i] - 32 : s[i]);
    assert_int_equal(parse(&b, s), 0);
    assert_memory_equal(a.b, b.b, 20);
    /* one letter's case flipped: mixed case with a bad checksum */
    strcpy(s, eip55_mixed[0]);
    s[4] = 'a'; /* "0x5aA..." -> "0x5aa..." */
    assert_int_equal(parse(&b, s), KP_ECHECKSUM);
    assert_false(eth_addr_is_checksum_valid(s, 42));
    /* without prefix, and with 0X */
    assert_int_equal(eth_addr_parse(&b, eip55_mixed[1] + 2, 40), 0);
    strcpy(s, eip55_mixed[1]);
    s[1] = 'X';
    assert_int_equal(parse(&b, s), 0);
    assert_true(eth_addr_is_checksum_valid(eip55_mixed[1] + 2, 40));
}

static void
test_parse_rejects(void **state)
{
    struct eth_addr a;
    char s[64];

    (void)state;
    assert_int_equal(parse(&a, ""), KP_EINVAL);
    assert_int_equal(parse(&a, "0x"), KP_EINVAL);
    assert_int_equal(eth_addr_parse(&a, NULL, 0), KP_EINVAL);
    /* 39 and 41 digits */
    assert_int_equal(eth_addr_parse(&a, eip55_lower[0], 41), KP_EINVAL);
    snprintf(s, sizeof(s), "%s0", eip55_lower[0]);
    assert_int_equal(parse(&a, s), KP_EINVAL);
    /* a non-hex digit */
    strcpy(s, eip55_lower[0]);
    s[10] = 'g';
    assert_int_equal(parse(&a, s), KP_EINVAL);
    s[10] = ' ';
    assert_int_equal(parse(&a, s), KP_EINVAL);
    /* an embedded NUL inside the given length */
    strcpy(s, eip55_lower[0]);
    s[20] = '\0';
    assert_int_equal(eth_addr_parse(&a, s, 42), KP_EINVAL);
    assert_false(eth_addr_is_checksum_valid(s, 42));
    assert_false(eth_addr_is_checksum_valid("", 0));
    assert_false(eth_addr_is_checksum_valid("0xzz", 4));
}

static void
key_addr(const char *key_hex, const char *want)
{
    uint8_t key[32];
    struct eth_addr a;

    assert_int_equal(hex_decode_exact(key, 32, key_hex, strlen(key_hex)), 0);
    assert_int_equal(eth_addr_from_privkey(&a, key), 0);
    assert_addr(&a, want);
}

static void
test_from_privkey(void **state)
{
    uint8_t key[32];
    struct eth_addr a;

    (void)state;
    /* anvil's first dev account */
    key_addr("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
             "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    /* EIP-155's example key */
    key_addr("4646464646464646464646464646464646464646464646464646464646464646",
             "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
    key_addr("0000000000000000000000000000000000000000000000000000000000000001",
             "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");

    memset(key, 0, sizeof(key));
    assert_int_equal(eth_addr_from_privkey(&a, key), KP_ECRYPTO);
    /* the group order n itself */
    assert_int_equal(
        hex_decode_exact(
            key, 32,
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e"
            "8cd0364141",
            64),
        0);
    assert_int_equal(eth_addr_from_privkey(&a, key), KP_ECRYPTO);
    memset(key, 0xff, sizeof(key));
    assert_int_equal(eth_addr_from_privkey(&a, key), KP_ECRYPTO);
}

static void
test_from_pubkey(void **state)
{
    uint8_t pub[65];
    struct eth_addr a;
    const char *want = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf";

    (void)state;
    assert_int_equal(hex_decode_exact(pub, 65, g_uncompressed, 130), 0);
    assert_int_equal(eth_addr_from_pubkey(&a, pub, 65), 0);
    assert_addr(&a, want);
    memset(&a, 0, sizeof(a));
    assert_int_equal(eth_addr_from_pubkey(&a, pub + 1, 64), 0);
    assert_addr(&a, want);
    assert_int_equal(hex_decode_exact(pub, 33, g_compressed, 66), 0);
    memset(&a, 0, sizeof(a));
    assert_int_equal(eth_addr_from_pubkey(&a, pub, 33), 0);
    assert_addr(&a, want);

    /* lengths other than 33, 64, 65 */
    assert_int_equal(eth_addr_from_pubkey(&a, pub, 32), KP_EINVAL);
    assert_int_equal(eth_addr_from_pubkey(&a, pub, 0), KP_EINVAL);
    assert_int_equal(eth_addr_from_pubkey(&a, NULL, 0), KP_EINVAL);
    /* a point off the curve: G with y + 1 */
    assert_int_equal(hex_decode_exact(pub, 65, g_uncompressed, 130), 0);
    pub[64] ^= 1;
    assert_int_equal(eth_addr_from_pubkey(&a, pub, 65), KP_ECRYPTO);
    assert_int_equal(eth_addr_from_pubkey(&a, pub + 1, 64), KP_ECRYPTO);
    /* a bad prefix byte */
    assert_int_equal(hex_decode_exact(pub, 65, g_uncompressed, 130), 0);
    pub[0] = 0x05;
    assert_int_equal(eth_addr_from_pubkey(&a, pub, 65), KP_ECRYPTO);
    assert_int_equal(hex_decode_exact(pub, 33, g_compressed, 66), 0);
    pub[0] = 0x04;
    assert_int_equal(eth_addr_from_pubkey(&a, pub, 33), KP_ECRYPTO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eip55_examples),
        cmocka_unit_test(test_parse_case_rules),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_from_privkey),
        cmocka_unit_test(test_from_pubkey),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
