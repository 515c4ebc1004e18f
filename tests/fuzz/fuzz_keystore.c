/* Arbitrary bytes into the keystore parser, and cheap keystores on into
 * decryption. Input: an optional password, a NUL, then the JSON (no NUL:
 * all JSON, empty password). Invariants: no crash, no leak; a parse
 * failure leaves an error text of one line; the parsed fields respect
 * the limits; decryption runs only under tight fuzz caps (so each input
 * takes microseconds) and never "succeeds" with an invalid key. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <secp256k1.h>

#include "chain/err.h"
#include "chain/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Far below the daemon's defaults: the fuzzer explores the parser, the
 * MAC check and the cipher, not the cost of scrypt. */
static const struct keystore_limits fuzz_limits = {
    .scrypt_max_n = 1024,
    .scrypt_max_r = 8,
    .scrypt_max_p = 16,
    .scrypt_max_mem = 256 * 1024,
    .scrypt_max_work = 4096,
    .pbkdf2_max_c = 4096,
};

static void
check_parsed(const struct keystore *ks)
{
    if (ks->kdf == KEYSTORE_KDF_SCRYPT) {
        if (ks->n < 2 || (ks->n & (ks->n - 1)) ||
            ks->n > fuzz_limits.scrypt_max_n || ks->r < 1 ||
            ks->r > fuzz_limits.scrypt_max_r || ks->p < 1 ||
            ks->p > fuzz_limits.scrypt_max_p ||
            ks->n * ks->r * ks->p > fuzz_limits.scrypt_max_work)
            __builtin_trap();
    } else if (ks->kdf == KEYSTORE_KDF_PBKDF2) {
        if (ks->c < 1 || ks->c > fuzz_limits.pbkdf2_max_c)
            __builtin_trap();
    } else {
        __builtin_trap();
    }
    if (ks->saltlen < 1 || ks->saltlen > KEYSTORE_SALT_MAX || ks->ctlen < 1 ||
        ks->ctlen > 32)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const char *pw = "", *json = (const char *)data;
    size_t pwlen = 0, len = size;
    struct keystore ks;
    uint8_t key[32];
    char err[256];
    int rc;

    if (nul) {
        pw = (const char *)data;
        pwlen = (size_t)(nul - data);
        json = (const char *)nul + 1;
        len = size - pwlen - 1;
    }
    err[0] = 0;
    rc = keystore_parse(&ks, err, sizeof(err), json, len, &fuzz_limits);
    if (rc != 0) {
        if (rc > 0 || !err[0] || strchr(err, '\n'))
            __builtin_trap();
        return 0;
    }
    check_parsed(&ks);
    rc = keystore_decrypt(key, err, sizeof(err), &ks, pw, pwlen);
    if (rc == 0 && !secp256k1_ec_seckey_verify(secp256k1_context_static, key))
        __builtin_trap();
    if (rc != 0 && rc != KP_ECHECKSUM && rc != KP_ECRYPTO)
        __builtin_trap();
    return 0;
}
