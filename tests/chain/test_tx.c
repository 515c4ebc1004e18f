/* Transactions: the EIP-155 example (signing payload, signing hash,
 * signature, raw bytes), a pre-EIP-155 transaction from the wild (the
 * deterministic deployment proxy), EIP-2930 and EIP-1559 vectors made by
 * cast (an independent implementation), decode -> encode round trips,
 * seeded random sign/decode/recover round trips, and strict rejection of
 * malformed raw transactions and of bad arguments to every function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/address.h"
#include "chain/ecdsa.h"
#include "chain/err.h"
#include "chain/hex.h"
#include "chain/rlp.h"
#include "chain/tx.h"
#include "chain/u256.h"
#include "tests/support/check.h"

#define ACL_CAP 8

/* EIP-155's example. */
static const char eip155_key[] =
    "4646464646464646464646464646464646464646464646464646464646464646";
static const char eip155_signing_data[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0"
    "b6b3a764000080018080";
static const char eip155_signing_hash[] =
    "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53";
static const char eip155_raw[] =
    "f86c098504a817c800825208943535353535353535353535353535353535353535880d"
    "e0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1"
    "590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1"
    "966a3b6d83";
static const char eip155_sender[] =
    "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";

/* Nick's method deployment of the deterministic deployment proxy: a
 * pre-EIP-155 contract creation with r = s = 0x22..22, v = 27. */
static const char proxy_raw[] =
    "f8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0360160008160"
    "2082378035828234f58015156039578182fd5b8082525050506014600cf31ba0222222"
    "2222222222222222222222222222222222222222222222222222222222a02222222222"
    "222222222222222222222222222222222222222222222222222222";
static const char proxy_sender[] = "0x3fAB184622Dc19b6109349B94811493BF2a45362";
static const char proxy_hash[] =
    "eddf9e61fb9d8f5111840daef55e5fde0041f5702856532cdbb5a02998033d26";

/* cast mktx --chain 1 --nonce 9 --gas-limit 21000 --gas-price 20gwei
 *   --priority-gas-price 1gwei --value 1ether, key and to as EIP-155. */
static const char t1559_raw[] =
    "02f8730109843b9aca008504a817c800825208943535353535353535353535353535353535"
    "353535880de0b6b3a764000080c080a04e87ced8b47d801c979c6baa52bbd78b42c9db2515"
    "c9d1f473e06f65d49aaa90a02357671517c59544ebd95012d1988c102292eb570cc840ac9a"
    "f72bb4c52e5edd";
/* cast mktx --legacy --access-list '[{"address":"0x3535..35",
 *   "storageKeys":["0x00..01"]}]', chain 1, nonce 9, gas 21000, 20 gwei. */
static const char t2930_raw[] =
    "01f89f01098504a817c800825208943535353535353535353535353535353535353535"
    "8080f838f7943535353535353535353535353535353535353535e1a000000000000000"
    "0000000000000000000000000000000000000000000000000101a0e9ad163a637de9e5"
    "7f5b181472275e9657e640633c337f4590af192e4a331b42a02bc98195464f65d7da64"
    "acc82fad7ce8cc6df33bed21dca8c71006379d3da69e";
/* cast mktx --legacy --chain 18446744073709551615: v needs 65 bits. */
static const char big_chain_raw[] =
    "f86d098504a817c800825208943535353535353535353535353535353535353535808089"
    "020000000000000022a02b7035e3ac2cdde56ff0eb627666b0521b60968eddeef3fb5940"
    "5f0b4bf57109a0161b9e96a46447ef3fe5fa59808efa405653f910340e912a8080553e05"
    "067335";

static void
u256_set(struct u256 *v, const char *s)
{
    assert_int_equal(u256_parse_units(v, s, strlen(s)), 0);
}

static void
eip155_tx(struct tx *tx)
{
    memset(tx, 0, sizeof(*tx));
    tx->type = TX_LEGACY;
    tx->chain_id = 1;
    tx->nonce = 9;
    u256_set(&tx->gas_price, "20gwei");
    tx->gas_limit = 21000;
    tx->has_to = true;
    memset(tx->to.b, 0x35, 20);
    u256_set(&tx->value, "1ether");
}

static void
assert_sender(const struct tx *tx, const struct eth_sig *sig, const char *want)
{
    struct eth_addr from;
    char got[ETH_ADDR_STR_LEN];

    assert_int_equal(tx_recover_sender(&from, tx, sig), 0);
    eth_addr_to_checksum(got, &from);
    assert_string_equal(got, want);
}

static void
test_eip155_example(void **state)
{
    uint8_t key[32], buf[256], want[256], hash[32];
    struct tx tx;
    struct eth_sig sig;
    size_t n, wn;

    (void)state;
    eip155_tx(&tx);
    assert_int_equal(tx_encode_unsigned(buf, sizeof(buf), &n, &tx), 0);
    wn = ts_unhex(want, sizeof(want), eip155_signing_data);
    assert_int_equal(n, wn);
    assert_memory_equal(buf, want, n);

    assert_int_equal(tx_signing_hash(hash, &tx), 0);
    ts_unhex(want, sizeof(want), eip155_signing_hash);
    assert_memory_equal(hash, want, 32);

    ts_unhex(key, sizeof(key), eip155_key);
    assert_int_equal(tx_sign(&sig, &tx, key), 0);
    assert_int_equal(tx_encode_signed(buf, sizeof(buf), &n, &tx, &sig), 0);
    wn = ts_unhex(want, sizeof(want), eip155_raw);
    assert_int_equal(n, wn);
    assert_memory_equal(buf, want, n);
    assert_sender(&tx, &sig, eip155_sender);
}

/* Decode `raw_hex`, re-encode it byte for byte, recover the sender. */
static void
round_trip(const char *raw_hex, const char *sender, struct tx *tx,
           struct eth_sig *sig, struct tx_access *acl)
{
    static uint8_t raw[1024], again[1024];
    size_t n = ts_unhex(raw, sizeof(raw), raw_hex), m;

    assert_int_equal(tx_decode(tx, sig, acl, ACL_CAP, raw, n), 0);
    assert_int_equal(tx_encode_signed(again, sizeof(again), &m, tx, sig), 0);
    assert_int_equal(m, n);
    assert_memory_equal(again, raw, n);
    assert_sender(tx, sig, sender);
}

static void
test_decode_vectors(void **state)
{
    struct tx tx, want;
    struct eth_sig sig;
    struct tx_access acl[ACL_CAP];
    uint8_t raw[512], hash[32], h[32];
    size_t n;

    (void)state;
    round_trip(eip155_raw, eip155_sender, &tx, &sig, acl);
    eip155_tx(&want);
    assert_int_equal(tx.type, TX_LEGACY);
    assert_true(tx.chain_id == 1 && tx.nonce == 9 && tx.gas_limit == 21000);
    assert_int_equal(u256_cmp(&tx.gas_price, &want.gas_price), 0);
    assert_int_equal(u256_cmp(&tx.value, &want.value), 0);
    assert_true(tx.has_to);
    assert_memory_equal(tx.to.b, want.to.b, 20);
    assert_int_equal(tx.data_len, 0);
    assert_int_equal(sig.y_parity, 0);

    round_trip(proxy_raw, proxy_sender, &tx, &sig, acl);
    assert_int_equal(tx.chain_id, 0);
    assert_false(tx.has_to);
    assert_int_equal(tx.data_len, 83);
    assert_int_equal(tx.data[0], 0x60);
    n = ts_unhex(raw, sizeof(raw), proxy_raw);
    tx_hash(hash, raw, n);
    ts_unhex(h, sizeof(h), proxy_hash);
    assert_memory_equal(hash, h, 32);

    round_trip(t1559_raw, eip155_sender, &tx, &sig, acl);
    assert_int_equal(tx.type, TX_1559);
    assert_int_equal(tx.max_priority_fee.w[0], 1000000000);
    assert_int_equal(tx.max_fee.w[0], 20000000000);
    assert_int_equal(tx.naccess, 0);

    round_trip(t2930_raw, eip155_sender, &tx, &sig, acl);
    assert_int_equal(tx.type, TX_2930);
    assert_int_equal(tx.naccess, 1);
    assert_ptr_equal(tx.access, acl);
    assert_int_equal(acl[0].nkeys, 1);
    assert_int_equal(acl[0].key_stride, TX_RLP_KEY_STRIDE);
    assert_int_equal(tx_access_key(&acl[0], 0)[31], 1);
    assert_int_equal(acl[0].addr.b[0], 0x35);

    round_trip(big_chain_raw, eip155_sender, &tx, &sig, acl);
    assert_true(tx.chain_id == UINT64_MAX);
    assert_int_equal(sig.y_parity, 1);
}

/* Re-sign the decoded typed vectors from scratch (RFC 6979 makes the
 * signature deterministic), so our encoder matches cast's. */
static void
test_sign_typed_like_cast(void **state)
{
    const char *vecs[] = {t1559_raw, t2930_raw, big_chain_raw};
    struct tx tx;
    struct eth_sig sig, sig2;
    struct tx_access acl[ACL_CAP];
    uint8_t key[32], raw[512], out[512];
    size_t n, m;

    (void)state;
    ts_unhex(key, sizeof(key), eip155_key);
    for (size_t i = 0; i < 3; i++) {
        n = ts_unhex(raw, sizeof(raw), vecs[i]);
        assert_int_equal(tx_decode(&tx, &sig, acl, ACL_CAP, raw, n), 0);
        assert_int_equal(tx_sign(&sig2, &tx, key), 0);
        assert_memory_equal(&sig, &sig2, sizeof(sig));
        assert_int_equal(tx_encode_signed(out, sizeof(out), &m, &tx, &sig2), 0);
        assert_int_equal(m, n);
        assert_memory_equal(out, raw, n);
    }
}

/* ---- seeded random round trips -------------------------------------- */

static uint64_t rng = 0x0123456789abcdefu;

static void
rand_u256(struct u256 *v)
{
    unsigned bits = (unsigned)(ts_xorshift64(&rng) % 257);

    for (int i = 0; i < 4; i++)
        v->w[i] = ts_xorshift64(&rng);
    if (bits < 256)
        u256_shr(v, v, 256 - bits);
}

static void
random_tx(struct tx *tx, uint8_t *data, struct tx_access *acl,
          uint8_t keys[][32])
{
    memset(tx, 0, sizeof(*tx));
    tx->type = (enum tx_type)(ts_xorshift64(&rng) % 3);
    tx->chain_id = ts_xorshift64(&rng) >> (ts_xorshift64(&rng) % 64);
    tx->nonce = ts_xorshift64(&rng) >> (ts_xorshift64(&rng) % 64);
    rand_u256(&tx->gas_price);
    rand_u256(&tx->max_fee);
    rand_u256(&tx->max_priority_fee);
    rand_u256(&tx->value);
    tx->gas_limit = ts_xorshift64(&rng) >> (ts_xorshift64(&rng) % 64);
    tx->has_to = ts_xorshift64(&rng) % 4 != 0;
    for (int i = 0; i < 20; i++)
        tx->to.b[i] = (uint8_t)ts_xorshift64(&rng);
    tx->data_len = ts_xorshift64(&rng) % 3 ? ts_xorshift64(&rng) % 300 : 0;
    for (size_t i = 0; i < tx->data_len; i++)
        data[i] = (uint8_t)ts_xorshift64(&rng);
    tx->data = data;
    tx->naccess = ts_xorshift64(&rng) % 4;
    for (size_t i = 0; i < tx->naccess; i++) {
        acl[i].addr.b[0] = (uint8_t)ts_xorshift64(&rng);
        acl[i].nkeys = ts_xorshift64(&rng) % 3;
        acl[i].keys = keys[i * 2];
        acl[i].key_stride = 32;
        for (size_t k = 0; k < 2; k++)
            for (int b = 0; b < 32; b++)
                keys[i * 2 + k][b] = (uint8_t)ts_xorshift64(&rng);
    }
    tx->access = acl;
}

static void
assert_same_tx(const struct tx *a, const struct tx *b)
{
    assert_int_equal(a->type, b->type);
    assert_true(a->chain_id == b->chain_id && a->nonce == b->nonce);
    assert_true(a->gas_limit == b->gas_limit);
    assert_int_equal(u256_cmp(&a->value, &b->value), 0);
    if (a->type == TX_1559) {
        assert_int_equal(u256_cmp(&a->max_fee, &b->max_fee), 0);
        assert_int_equal(u256_cmp(&a->max_priority_fee, &b->max_priority_fee),
                         0);
    } else {
        assert_int_equal(u256_cmp(&a->gas_price, &b->gas_price), 0);
    }
    assert_int_equal(a->has_to, b->has_to);
    if (a->has_to)
        assert_memory_equal(a->to.b, b->to.b, 20);
    assert_int_equal(a->data_len, b->data_len);
    if (a->data_len)
        assert_memory_equal(a->data, b->data, a->data_len);
    if (a->type == TX_LEGACY)
        return;
    assert_int_equal(a->naccess, b->naccess);
    for (size_t i = 0; i < a->naccess; i++) {
        assert_memory_equal(a->access[i].addr.b, b->access[i].addr.b, 20);
        assert_int_equal(a->access[i].nkeys, b->access[i].nkeys);
        for (size_t k = 0; k < a->access[i].nkeys; k++)
            assert_memory_equal(tx_access_key(&a->access[i], k),
                                tx_access_key(&b->access[i], k), 32);
    }
}

static void
test_random_round_trips(void **state)
{
    static uint8_t data[300], keys[8][32], raw[2048];
    struct tx_access acl[4], dacl[ACL_CAP];
    struct tx tx, dec;
    struct eth_sig sig, dsig;
    struct eth_addr who, from;
    uint8_t key[32];
    size_t n;

    (void)state;
    for (int round = 0; round < 300; round++) {
        random_tx(&tx, data, acl, keys);
        do
            for (int i = 0; i < 32; i++)
                key[i] = (uint8_t)ts_xorshift64(&rng);
        while (eth_addr_from_privkey(&who, key) != 0);
        assert_int_equal(tx_sign(&sig, &tx, key), 0);
        assert_true(ecdsa_is_low_s(sig.s));
        assert_int_equal(tx_encode_signed(raw, sizeof(raw), &n, &tx, &sig), 0);
        assert_int_equal(tx_decode(&dec, &dsig, dacl, ACL_CAP, raw, n), 0);
        assert_same_tx(&tx, &dec);
        assert_memory_equal(&sig, &dsig, sizeof(sig));
        assert_int_equal(tx_recover_sender(&from, &dec, &dsig), 0);
        assert_memory_equal(from.b, who.b, 20);
        /* Every strict prefix is refused. */
        for (size_t cut = 0; cut < n; cut += 1 + n / 8)
            assert_int_not_equal(
                tx_decode(&dec, &dsig, dacl, ACL_CAP, raw, cut), 0);
    }
}

/* ---- malformed raw transactions ------------------------------------- */

/* The fields of t1559_raw, each as its own RLP encoding. */
static const char *const f1559[] = {
    "01",
    "09",
    "843b9aca00",
    "8504a817c800",
    "825208",
    "943535353535353535353535353535353535353535",
    "880de0b6b3a7640000",
    "80",
    "c0",
    "80",
    "a04e87ced8b47d801c979c6baa52bbd78b42c9db2515c9d1f473e06f65d49aaa90",
    "a02357671517c59544ebd95012d1988c102292eb570cc840ac9af72bb4c52e5edd",
};
#define NF1559 12

/* Build "type || list(fields)" with field `at` replaced by `repl` (NULL:
 * dropped; at < 0: none replaced) and `extra` appended to the list. */
static size_t
build(uint8_t *out, size_t cap, int type, const char *const *fields, size_t nf,
      int at, const char *repl, const char *extra)
{
    uint8_t tmp[1024];
    size_t len = 0, n;
    struct rlp_enc e;

    for (size_t i = 0; i < nf; i++) {
        const char *f = (int)i == at ? repl : fields[i];

        if (f == NULL)
            continue;
        assert_int_equal(
            hex_decode(tmp + len, sizeof(tmp) - len, &n, f, strlen(f)), 0);
        len += n;
    }
    if (extra) {
        assert_int_equal(
            hex_decode(tmp + len, sizeof(tmp) - len, &n, extra, strlen(extra)),
            0);
        len += n;
    }
    rlp_enc_init(&e, out, cap);
    if (type >= 0) {
        uint8_t t = (uint8_t)type;
        rlp_put_raw(&e, &t, 1);
    }
    rlp_put_list_header(&e, len);
    rlp_put_raw(&e, tmp, len);
    assert_int_equal(rlp_enc_finish(&e, &n), 0);
    return n;
}

static int
decode_mod(int at, const char *repl)
{
    uint8_t raw[1024];
    struct tx tx;
    struct eth_sig sig;
    struct tx_access acl[ACL_CAP];
    size_t n = build(raw, sizeof(raw), 2, f1559, NF1559, at, repl, NULL);

    return tx_decode(&tx, &sig, acl, ACL_CAP, raw, n);
}

/* s' = n - s (big-endian), the high-s twin of a signature. */
static void
negate_s(uint8_t s[32])
{
    static const uint8_t n[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
        0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    int borrow = 0;

    for (int i = 31; i >= 0; i--) {
        int d = n[i] - s[i] - borrow;

        borrow = d < 0;
        s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

static void
test_decode_rejects_fields(void **state)
{
    char hi_s[67];
    uint8_t s[32];

    (void)state;
    assert_int_equal(decode_mod(-1, NULL), 0);
    /* field counts */
    assert_int_equal(decode_mod(11, NULL), KP_EINVAL);
    {
        uint8_t raw[1024];
        struct tx tx;
        struct eth_sig sig;
        struct tx_access acl[ACL_CAP];
        size_t n = build(raw, sizeof(raw), 2, f1559, NF1559, -1, NULL, "80");

        assert_int_equal(tx_decode(&tx, &sig, acl, ACL_CAP, raw, n), KP_EINVAL);
        n = build(raw, sizeof(raw), 1, f1559, NF1559, -1, NULL, NULL);
        assert_int_equal(tx_decode(&tx, &sig, acl, ACL_CAP, raw, n), KP_EINVAL);
        /* the 1559 field list without a type byte is no legacy tx */
        n = build(raw, sizeof(raw), -1, f1559, NF1559, -1, NULL, NULL);
        assert_int_equal(tx_decode(&tx, &sig, acl, ACL_CAP, raw, n), KP_EINVAL);
    }
    /* non-canonical integers */
    assert_int_equal(decode_mod(1, "00"), KP_ENONCANON);
    assert_int_equal(decode_mod(1, "820009"), KP_ENONCANON);
    assert_int_equal(decode_mod(1, "8109"), KP_ENONCANON);
    assert_int_equal(decode_mod(0, "b80101"), KP_ENONCANON);
    assert_int_equal(decode_mod(6, "89000de0b6b3a7640000"), KP_ENONCANON);
    assert_int_equal(
        decode_mod(10,
                   "a1004e87ced8b47d801c979c6baa52bbd78b42c9db2515c9d1f473e0"
                   "6f65d49aaa90"),
        KP_ENONCANON);
    /* too large */
    assert_int_equal(decode_mod(4, "89010000000000000000"), KP_ERANGE);
    assert_int_equal(decode_mod(1, "89010000000000000000"), KP_ERANGE);
    assert_int_equal(decode_mod(0, "89010000000000000000"), KP_ERANGE);
    assert_int_equal(
        decode_mod(10,
                   "a1014e87ced8b47d801c979c6baa52bbd78b42c9db2515c9d1f473e0"
                   "6f65d49aaa90"),
        KP_ERANGE);
    /* shapes */
    assert_int_equal(decode_mod(5, "9335353535353535353535353535353535353535"),
                     KP_EINVAL);
    assert_int_equal(decode_mod(5, "c0"), KP_EINVAL);
    assert_int_equal(decode_mod(7, "c0"), KP_EINVAL);
    assert_int_equal(decode_mod(8, "80"), KP_EINVAL);
    assert_int_equal(decode_mod(1, "c0"), KP_EINVAL);
    /* access lists: entry shape, address length, key length */
    assert_int_equal(decode_mod(8, "c1c0"), KP_EINVAL);
    assert_int_equal(decode_mod(8, "c2c0c0"), KP_EINVAL);
    assert_int_equal(
        decode_mod(8, "d8d7943535353535353535353535353535353535353535c0c0"),
        KP_EINVAL);
    assert_int_equal(
        decode_mod(8, "d6d59335353535353535353535353535353535353535c0"),
        KP_EINVAL);
    assert_int_equal(
        decode_mod(8, "f838f7943535353535353535353535353535353535353535e1a0"
                      "0000000000000000000000000000000000000000000000000000"
                      "000000000001"),
        0);
    assert_int_equal(
        decode_mod(8, "f7f6943535353535353535353535353535353535353535e09f"
                      "0000000000000000000000000000000000000000000000000000"
                      "0000000001"),
        KP_EINVAL);
    assert_int_equal(
        decode_mod(8, "d9d8943535353535353535353535353535353535353535c2c0"
                      "c0"),
        KP_EINVAL);
    /* y parity */
    assert_int_equal(decode_mod(9, "02"), KP_EINVAL);
    assert_int_equal(decode_mod(9, "00"), KP_ENONCANON);
    /* r, s: zero, >= n, high s */
    assert_int_equal(decode_mod(10, "80"), KP_ECRYPTO);
    assert_int_equal(decode_mod(11, "80"), KP_ECRYPTO);
    assert_int_equal(
        decode_mod(10, "a0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd2"
                       "5e8cd0364141"),
        KP_ECRYPTO);
    ts_unhex(s, sizeof(s), f1559[11] + 2);
    negate_s(s);
    hi_s[0] = 'a';
    hi_s[1] = '0';
    hex_encode(hi_s + 2, sizeof(hi_s) - 2, s, 32, false);
    assert_int_equal(decode_mod(11, hi_s), KP_ECRYPTO);
}

static int
decode_hex(const char *h)
{
    static uint8_t raw[1024];
    struct tx tx;
    struct eth_sig sig;
    struct tx_access acl[ACL_CAP];
    size_t n = ts_unhex(raw, sizeof(raw), h);

    return tx_decode(&tx, &sig, acl, ACL_CAP, raw, n);
}

/* The legacy vector with v replaced by the RLP integer `v_hex`. */
static int
decode_legacy_v(const char *v_hex)
{
    static const char *const f[] = {
        "09",
        "8504a817c800",
        "825208",
        "943535353535353535353535353535353535353535",
        "880de0b6b3a7640000",
        "80",
        "25",
        "a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276",
        "a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83",
    };
    uint8_t raw[512];
    struct tx tx;
    struct eth_sig sig;
    size_t n = build(raw, sizeof(raw), -1, f, 9, 6, v_hex, NULL);

    return tx_decode(&tx, &sig, NULL, 0, raw, n);
}

static void
test_decode_rejects_envelope(void **state)
{
    char h[1200];
    uint8_t *big;
    struct tx tx;
    struct eth_sig sig;
    struct tx_access acl[1];
    uint8_t raw[1024];
    size_t n;

    (void)state;
    assert_int_equal(decode_hex(""), KP_ETRUNC);
    assert_int_equal(decode_hex("03c0"), KP_EUNSUPPORTED);
    assert_int_equal(decode_hex("04c0"), KP_EUNSUPPORTED);
    assert_int_equal(decode_hex("7f"), KP_EUNSUPPORTED);
    assert_int_equal(decode_hex("00c0"), KP_EUNSUPPORTED);
    assert_int_equal(decode_hex("80"), KP_EINVAL);
    assert_int_equal(decode_hex("b8"), KP_EINVAL);
    assert_int_equal(decode_hex("02"), KP_ETRUNC);
    assert_int_equal(decode_hex("0280"), KP_EINVAL);
    assert_int_equal(decode_hex("c0"), KP_EINVAL);
    assert_int_equal(decode_hex("02c0"), KP_EINVAL);
    /* trailing bytes after a valid transaction */
    snprintf(h, sizeof(h), "%s00", t1559_raw);
    assert_int_equal(decode_hex(h), KP_ETRAILING);
    snprintf(h, sizeof(h), "%s00", eip155_raw);
    assert_int_equal(decode_hex(h), KP_ETRAILING);
    /* legacy v values */
    assert_int_equal(decode_legacy_v("25"), 0);
    assert_int_equal(decode_legacy_v("1b"), 0); /* parses; recovers another */
    assert_int_equal(decode_legacy_v("1d"), KP_EINVAL);
    assert_int_equal(decode_legacy_v("23"), KP_EINVAL);
    assert_int_equal(decode_legacy_v("24"), KP_EINVAL);
    assert_int_equal(decode_legacy_v("80"), KP_EINVAL);
    assert_int_equal(decode_legacy_v("00"), KP_ENONCANON);
    assert_int_equal(decode_legacy_v("c0"), KP_EINVAL);
    /* v = 2^65 + 35: chain id 2^64, beyond uint64 */
    assert_int_equal(decode_legacy_v("89020000000000000023"), KP_ERANGE);
    assert_int_equal(decode_legacy_v("8a01000000000000000023"), KP_ERANGE);

    /* access-list cap */
    n = build(raw, sizeof(raw), 2, f1559, NF1559, 8,
              "eed6943535353535353535353535353535353535353535c0d694353535353535"
              "3535353535353535353535353535c0",
              NULL);
    assert_int_equal(tx_decode(&tx, &sig, acl, 1, raw, n), KP_ELIMIT);
    assert_int_equal(tx_decode(&tx, &sig, acl, 0, raw, n), KP_ELIMIT);
    assert_int_equal(tx_decode(&tx, &sig, NULL, 0, raw, n), KP_ELIMIT);

    /* input size cap */
    big = calloc(1, TX_MAX_SIZE + 1);
    assert_non_null(big);
    big[0] = 0x02;
    assert_int_equal(tx_decode(&tx, &sig, NULL, 0, big, TX_MAX_SIZE + 1),
                     KP_ELIMIT);
    free(big);
}

/* ---- encoder and signer misuse -------------------------------------- */

static void
test_encode_errors(void **state)
{
    uint8_t buf[256], key[32], hash[32], *huge;
    struct tx tx;
    struct eth_sig sig;
    struct eth_addr from;
    struct tx_access acl[1];
    size_t n, need;

    (void)state;
    eip155_tx(&tx);
    ts_unhex(key, sizeof(key), eip155_key);
    assert_int_equal(tx_sign(&sig, &tx, key), 0);
    assert_int_equal(tx_encode_signed(buf, sizeof(buf), &need, &tx, &sig), 0);
    /* too small: nothing usable, size needed reported */
    for (size_t cap = 0; cap < need; cap += 7) {
        assert_int_equal(tx_encode_signed(buf, cap, &n, &tx, &sig), KP_ERANGE);
        assert_int_equal(n, need);
    }
    assert_int_equal(tx_encode_signed(NULL, 0, &n, &tx, &sig), KP_ERANGE);
    assert_int_equal(n, need);
    assert_int_equal(tx_encode_signed(buf, need, &n, &tx, &sig), 0);
    assert_int_equal(tx_encode_unsigned(buf, 3, &n, &tx), KP_ERANGE);
    assert_int_equal(n, 45); /* the EIP-155 signing payload */

    /* bad y parity */
    sig.y_parity = 2;
    assert_int_equal(tx_encode_signed(buf, sizeof(buf), &n, &tx, &sig),
                     KP_EINVAL);
    assert_int_equal(tx_recover_sender(&from, &tx, &sig), KP_EINVAL);
    sig.y_parity = 0;
    /* a signature that does not recover: r = 5, s = 1 are in range but
     * no point has x = 5 (5^3 + 7 is not a square mod p) */
    memset(&sig, 0, sizeof(sig));
    sig.r[31] = 5;
    sig.s[31] = 1;
    assert_int_equal(tx_recover_sender(&from, &tx, &sig), KP_ECRYPTO);
    memset(sig.s, 0xff, 32);
    assert_int_equal(tx_recover_sender(&from, &tx, &sig), KP_ECRYPTO);

    /* invalid keys */
    memset(key, 0, sizeof(key));
    assert_int_equal(tx_sign(&sig, &tx, key), KP_ECRYPTO);
    memset(key, 0xff, sizeof(key));
    assert_int_equal(tx_sign(&sig, &tx, key), KP_ECRYPTO);

    /* tx_check failures through every entry point */
    tx.type = (enum tx_type)3;
    assert_int_equal(tx_check(&tx), KP_EINVAL);
    assert_int_equal(tx_encode_unsigned(buf, sizeof(buf), &n, &tx), KP_EINVAL);
    assert_int_equal(tx_signing_hash(hash, &tx), KP_EINVAL);
    assert_int_equal(tx_sign(&sig, &tx, key), KP_EINVAL);
    assert_int_equal(tx_encode_signed(buf, sizeof(buf), &n, &tx, &sig),
                     KP_EINVAL);
    assert_int_equal(tx_recover_sender(&from, &tx, &sig), KP_EINVAL);
    eip155_tx(&tx);
    tx.data_len = 4; /* data NULL */
    assert_int_equal(tx_check(&tx), KP_EINVAL);
    eip155_tx(&tx);
    tx.type = TX_1559;
    tx.naccess = 1; /* access NULL */
    assert_int_equal(tx_check(&tx), KP_EINVAL);
    tx.access = acl;
    memset(acl, 0, sizeof(acl));
    assert_int_equal(tx_check(&tx), 0);
    acl[0].nkeys = 1; /* keys NULL */
    assert_int_equal(tx_check(&tx), KP_EINVAL);
    acl[0].keys = key;
    assert_int_equal(tx_check(&tx), KP_EINVAL); /* stride 0 */
    acl[0].key_stride = 32;
    assert_int_equal(tx_check(&tx), 0);
    acl[0].nkeys = TX_MAX_SIZE;
    assert_int_equal(tx_check(&tx), KP_ELIMIT);
    acl[0].nkeys = 1;
    tx.naccess = TX_MAX_SIZE;
    assert_int_equal(tx_check(&tx), KP_ELIMIT);
    /* the legacy type ignores a broken access list */
    tx.type = TX_LEGACY;
    assert_int_equal(tx_check(&tx), 0);

    /* size caps: data alone, and data plus fields */
    eip155_tx(&tx);
    huge = calloc(1, TX_MAX_SIZE + 1);
    assert_non_null(huge);
    tx.data = huge;
    tx.data_len = TX_MAX_SIZE + 1;
    assert_int_equal(tx_check(&tx), KP_ELIMIT);
    tx.data_len = TX_MAX_SIZE;
    assert_int_equal(tx_check(&tx), 0);
    assert_int_equal(tx_signing_hash(hash, &tx), KP_ELIMIT);
    assert_int_equal(tx_encode_unsigned(buf, sizeof(buf), &n, &tx), KP_ELIMIT);
    tx.data_len = TX_MAX_SIZE - 200;
    assert_int_equal(tx_signing_hash(hash, &tx), 0);
    free(huge);
}

static void
test_ecdsa_ranges(void **state)
{
    uint8_t s[32];
    struct eth_sig sig;
    struct eth_addr from;
    uint8_t digest[32] = {1};

    (void)state;
    assert_non_null(ecdsa_ctx());
    assert_ptr_equal(ecdsa_ctx(), ecdsa_ctx());
    memset(s, 0, sizeof(s));
    assert_false(ecdsa_is_low_s(s));
    s[31] = 1;
    assert_true(ecdsa_is_low_s(s));
    ts_unhex(
        s, sizeof(s),
        "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
    assert_true(ecdsa_is_low_s(s));
    s[31]++;
    assert_false(ecdsa_is_low_s(s));

    memset(&sig, 0, sizeof(sig));
    sig.r[31] = 1;
    sig.s[31] = 1;
    assert_int_equal(ecdsa_sig_check(&sig), 0);
    sig.y_parity = 2;
    assert_int_equal(ecdsa_sig_check(&sig), KP_EINVAL);
    assert_int_equal(ecdsa_recover(&from, &sig, digest), KP_EINVAL);
    sig.y_parity = 1;
    memset(sig.r, 0, 32);
    assert_int_equal(ecdsa_sig_check(&sig), KP_ECRYPTO);
    memset(sig.r, 0xff, 32);
    assert_int_equal(ecdsa_sig_check(&sig), KP_ECRYPTO);
    assert_int_equal(ecdsa_recover(&from, &sig, digest), KP_ECRYPTO);
    memset(digest, 0, 32);
    assert_int_equal(ecdsa_sign(&sig, digest, s), 0); /* key = n/2 + 1 */
    memset(s, 0, 32);
    assert_int_equal(ecdsa_sign(&sig, digest, s), KP_ECRYPTO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eip155_example),
        cmocka_unit_test(test_decode_vectors),
        cmocka_unit_test(test_sign_typed_like_cast),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_decode_rejects_fields),
        cmocka_unit_test(test_decode_rejects_envelope),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_ecdsa_ranges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
