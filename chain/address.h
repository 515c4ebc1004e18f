/*
 * address.h - Ethereum account addresses: the last 20 bytes of the
 * Keccak-256 of the uncompressed public key (without its 0x04 prefix),
 * and their EIP-55 mixed-case checksum text form.
 */
#ifndef KP_CHAIN_ADDRESS_H
#define KP_CHAIN_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>

struct eth_addr {
    uint8_t b[20];
};

/* "0x" + 40 hex digits + NUL. */
#define ETH_ADDR_STR_LEN 43

/* Derive the address of a private key.
 * Returns: 0, or KP_ECRYPTO (zero or >= the curve order).
 * Out: a   In: key */
int eth_addr_from_privkey(struct eth_addr *a, const uint8_t key[32]);

/* Derive the address of a serialized public key: 65 bytes (0x04 X Y),
 * 33 bytes (compressed) or 64 bytes (X Y without prefix).
 * Returns: 0, KP_EINVAL (another length), KP_ECRYPTO (not on the curve).
 * Out: a   In: pub, len */
int eth_addr_from_pubkey(struct eth_addr *a, const uint8_t *pub, size_t len);

/* Derive the address of a parsed public key.   Out: a   In: pk */
void eth_addr_from_secp_pubkey(struct eth_addr *a, const secp256k1_pubkey *pk);

/* Write the EIP-55 checksum form "0x..." (42 characters and a NUL).
 * Out: out   In: a */
void eth_addr_to_checksum(char out[ETH_ADDR_STR_LEN], const struct eth_addr *a);

/* Parse 40 hex digits with an optional 0x prefix. All-lowercase and
 * all-uppercase digits are taken as they are; mixed case must be the
 * EIP-55 checksum form.
 * Returns: 0, KP_EINVAL (syntax or length), KP_ECHECKSUM (mixed case
 *          that is not the checksum form).   Out: a   In: s, len */
int eth_addr_parse(struct eth_addr *a, const char *s, size_t len);

/* Returns: whether `s` (40 hex digits, optional 0x prefix) is exactly
 * the EIP-55 checksum form of its address. An address without letters
 * qualifies; an all-lowercase one with letters does not. */
bool eth_addr_is_checksum_valid(const char *s, size_t len);

#endif
