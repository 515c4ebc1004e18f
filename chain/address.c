#include "chain/address.h"

#include <assert.h>
#include <string.h>

#include "chain/ecdsa.h"
#include "chain/err.h"
#include "chain/hex.h"
#include "chain/keccak.h"

void
eth_addr_from_secp_pubkey(struct eth_addr *a, const secp256k1_pubkey *pk)
{
    uint8_t ser[65], digest[32];
    size_t n = sizeof(ser);

    assert(a != NULL && pk != NULL);
    secp256k1_ec_pubkey_serialize(secp256k1_context_static, ser, &n, pk,
                                  SECP256K1_EC_UNCOMPRESSED);
    keccak256(digest, ser + 1, 64);
    memcpy(a->b, digest + 12, 20);
}

int
eth_addr_from_privkey(struct eth_addr *a, const uint8_t key[32])
{
    secp256k1_pubkey pk;

    assert(a != NULL && key != NULL);
    if (!secp256k1_ec_pubkey_create(ecdsa_ctx(), &pk, key))
        return KP_ECRYPTO;
    eth_addr_from_secp_pubkey(a, &pk);
    return 0;
}

int
eth_addr_from_pubkey(struct eth_addr *a, const uint8_t *pub, size_t len)
{
    secp256k1_pubkey pk;
    uint8_t full[65];
    int ok;

    assert(a != NULL && (pub != NULL || len == 0));
    if (len == 64) {
        full[0] = 0x04;
        memcpy(full + 1, pub, 64);
        pub = full;
        len = 65;
    } else if (len != 33 && len != 65) {
        return KP_EINVAL;
    }
    ok = secp256k1_ec_pubkey_parse(secp256k1_context_static, &pk, pub, len);
    if (!ok)
        return KP_ECRYPTO;
    eth_addr_from_secp_pubkey(a, &pk);
    return 0;
}

/* EIP-55: a letter is uppercase when the matching nibble of the
 * Keccak-256 of the lowercase hex text is 8 or more. */
static void
checksum_case(char hex[40])
{
    uint8_t digest[32];
    size_t i;

    keccak256(digest, (const uint8_t *)hex, 40);
    for (i = 0; i < 40; i++) {
        unsigned nib = (digest[i / 2] >> (i % 2 ? 0 : 4)) & 15;

        if (hex[i] >= 'a' && hex[i] <= 'f' && nib >= 8)
            hex[i] = (char)(hex[i] - 'a' + 'A');
    }
}

void
eth_addr_to_checksum(char out[ETH_ADDR_STR_LEN], const struct eth_addr *a)
{
    assert(out != NULL && a != NULL);
    hex_encode(out, ETH_ADDR_STR_LEN, a->b, 20, true);
    checksum_case(out + 2);
}

/* Strip an optional 0x prefix; require 40 hex digits.
 * Returns: the digits, or NULL. */
static const char *
addr_digits(const char *s, size_t len)
{
    size_t i;

    if (hex_has_prefix(s, len))
        s += 2, len -= 2;
    if (len != 40)
        return NULL;
    for (i = 0; i < 40; i++)
        if (hex_digit((unsigned char)s[i]) < 0)
            return NULL;
    return s;
}

bool
eth_addr_is_checksum_valid(const char *s, size_t len)
{
    struct eth_addr a;
    char want[ETH_ADDR_STR_LEN];
    const char *d;

    assert(s != NULL || len == 0);
    if ((d = addr_digits(s, len)) == NULL)
        return false;
    hex_decode_exact(a.b, 20, d, 40);
    eth_addr_to_checksum(want, &a);
    return memcmp(want + 2, d, 40) == 0;
}

int
eth_addr_parse(struct eth_addr *a, const char *s, size_t len)
{
    bool lower = false, upper = false;
    const char *d;
    size_t i;

    assert(a != NULL && (s != NULL || len == 0));
    if ((d = addr_digits(s, len)) == NULL)
        return KP_EINVAL;
    for (i = 0; i < 40; i++) {
        lower |= d[i] >= 'a' && d[i] <= 'f';
        upper |= d[i] >= 'A' && d[i] <= 'F';
    }
    if (lower && upper && !eth_addr_is_checksum_valid(d, 40))
        return KP_ECHECKSUM;
    hex_decode_exact(a->b, 20, d, 40);
    return 0;
}
