/*
 * keystore_int.h - keystore internals shared with the tests.
 *
 * scrypt: OpenSSL's scrypt (like RFC 7914 and the Rust scrypt crate cast
 * uses) refuses n >= 2^(16r). geth (Go's x/crypto/scrypt) does not check
 * that rule, and the Web3 Secret Storage definition's own scrypt test
 * vector breaks it (n=2^18 with r=1). keystore_scrypt therefore runs
 * OpenSSL for every parameter set it accepts (all files geth, cast,
 * ethers write: r=8) and its own ROMix (same algorithm, RFC 7914 section
 * 5, without that rule) for the rest. With the parse caps (n <= 2^20)
 * the fallback only ever sees r = 1.
 */
#ifndef KP_CHAIN_KEYSTORE_INT_H
#define KP_CHAIN_KEYSTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether OpenSSL accepts (n, r): n < 2^(16r). */
bool keystore_scrypt_openssl_ok(uint64_t n, uint32_t r);

/* scrypt(pw, salt, n, r, p) -> dk[dklen], by OpenSSL when it accepts the
 * parameters, by keystore_scrypt_romix otherwise. The caller has capped
 * n, r, p (keystore_parse). Scratch memory is wiped and freed.
 * Returns: 0, KP_ECRYPTO.
 * Out: dk   In: dklen, pw, pwlen, salt, saltlen, n (power of 2 >= 2), r, p */
int keystore_scrypt(uint8_t *dk, size_t dklen, const char *pw, size_t pwlen,
                    const uint8_t *salt, size_t saltlen, uint64_t n, uint32_t r,
                    uint32_t p);

/* The same through the in-house ROMix only (for differential tests).
 * Returns: 0, KP_ECRYPTO. */
int keystore_scrypt_romix(uint8_t *dk, size_t dklen, const char *pw,
                          size_t pwlen, const uint8_t *salt, size_t saltlen,
                          uint64_t n, uint32_t r, uint32_t p);

#endif
