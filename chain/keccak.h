/*
 * keccak.h - Keccak-256 as Ethereum uses it (the original Keccak padding
 * 0x01, not SHA3's 0x06), over nettle's sha3_permute. Rate 136 bytes.
 */
#ifndef KP_CHAIN_KECCAK_H
#define KP_CHAIN_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha3.h>

#define KECCAK256_RATE 136

struct keccak256_ctx {
    struct sha3_state st;
    uint8_t block[KECCAK256_RATE];
    size_t n; /* bytes buffered in block */
};

/* Out: ctx */
void keccak256_init(struct keccak256_ctx *ctx);
/* In: data, len */
void keccak256_update(struct keccak256_ctx *ctx, const uint8_t *data,
                      size_t len);
/* Finish and write the digest; ctx must be re-initialised to reuse.
 * Out: out */
void keccak256_final(struct keccak256_ctx *ctx, uint8_t out[32]);

/* One-shot Keccak-256. Out: out   In: data, len */
void keccak256(uint8_t out[32], const uint8_t *data, size_t len);

#endif
