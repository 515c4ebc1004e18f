/*
 * ecdsa.h - secp256k1 signatures as Ethereum uses them: recoverable
 * ECDSA over a 32-byte digest, RFC 6979 nonces, low s (EIP-2), the
 * recovery id carried as y parity.
 *
 * One libsecp256k1 context serves the process. It is created on first
 * use, randomized from getrandom(2) (blinding against side channels) and
 * kept until exit; libsecp256k1 allows concurrent use of a context that
 * is only read.
 */
#ifndef KP_CHAIN_ECDSA_H
#define KP_CHAIN_ECDSA_H

#include <stdbool.h>
#include <stdint.h>

#include <secp256k1.h>

#include "chain/address.h"

/* A signature: r and s as 32 big-endian bytes, and the parity of the
 * y coordinate of R (0 or 1). */
struct eth_sig {
    uint8_t r[32];
    uint8_t s[32];
    uint8_t y_parity;
};

/* Returns: the process-wide signing context (never NULL; aborts if
 * libsecp256k1 cannot create one). */
const secp256k1_context *ecdsa_ctx(void);

/* Sign `digest` with `key`. libsecp256k1 produces low s.
 * Returns: 0, or KP_ECRYPTO (invalid key).
 * Out: sig   In: digest, key */
int ecdsa_sign(struct eth_sig *sig, const uint8_t digest[32],
               const uint8_t key[32]);

/* Check the ranges Ethereum transactions require: 0 < r < n,
 * 0 < s <= n/2, y_parity in {0, 1}.
 * Returns: 0, KP_EINVAL (bad y parity), KP_ECRYPTO (r or s). */
int ecdsa_sig_check(const struct eth_sig *sig);

/* Returns: whether 0 < s <= n/2 (s as 32 big-endian bytes). */
bool ecdsa_is_low_s(const uint8_t s[32]);

/* Recover the signer's address; the signature must pass
 * ecdsa_sig_check.
 * Returns: 0, KP_EINVAL, KP_ECRYPTO (no key recovers).
 * Out: from   In: sig, digest */
int ecdsa_recover(struct eth_addr *from, const struct eth_sig *sig,
                  const uint8_t digest[32]);

#endif
