/*
 * tx.h - Ethereum transactions: legacy (with EIP-155 replay protection),
 * EIP-2930 (type 1, access list) and EIP-1559 (type 2, fee market),
 * typed ones in the EIP-2718 envelope (type byte || RLP payload).
 *
 * One struct describes all three types; fields a type does not have are
 * ignored. Encoders write into caller buffers; the signing hash streams
 * into Keccak-256 without a copy. The decoder is strict (canonical RLP,
 * exact field counts, low s) and allocation-free: `data` and the access
 * list's storage keys point into the raw buffer, and access-list entries
 * go into a caller array of bounded size.
 */
#ifndef KP_CHAIN_TX_H
#define KP_CHAIN_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/address.h"
#include "chain/ecdsa.h"
#include "chain/u256.h"

/* Largest raw transaction accepted (geth's txpool limit, 4 x 32 KiB). */
#define TX_MAX_SIZE (128u * 1024)
/* Storage keys of a decoded access-list entry are RLP items of 33 bytes
 * (0xa0 + 32), so they lie this far apart in the raw buffer. */
#define TX_RLP_KEY_STRIDE 33

enum tx_type {
    TX_LEGACY = 0,
    TX_2930 = 1,
    TX_1559 = 2,
};

/* One access-list entry: an address and its storage keys. Key i is the
 * 32 bytes at keys + i * key_stride (32 for a packed array of keys,
 * TX_RLP_KEY_STRIDE for a decoded transaction). */
struct tx_access {
    struct eth_addr addr;
    const uint8_t *keys;
    size_t nkeys;
    size_t key_stride;
};

struct tx {
    enum tx_type type;
    uint64_t chain_id; /* legacy: 0 signs without EIP-155 (v = 27/28) */
    uint64_t nonce;
    struct u256 gas_price;        /* legacy, 2930 */
    struct u256 max_priority_fee; /* 1559: max_priority_fee_per_gas */
    struct u256 max_fee;          /* 1559: max_fee_per_gas */
    uint64_t gas_limit;
    bool has_to; /* false: contract creation */
    struct eth_addr to;
    struct u256 value;
    const uint8_t *data; /* calldata or init code, not owned */
    size_t data_len;
    const struct tx_access *access; /* 2930, 1559; not owned */
    size_t naccess;
};

/* Returns: a pointer to storage key i of `e` (i < e->nkeys). */
static inline const uint8_t *
tx_access_key(const struct tx_access *e, size_t i)
{
    return e->keys + i * e->key_stride;
}

/* Check what the encoders need: a known type, data and keys present when
 * counted, key strides of at least 32, counts within TX_MAX_SIZE.
 * (The encoders also refuse an encoding larger than TX_MAX_SIZE.)
 * Returns: 0, KP_EINVAL, KP_ELIMIT. */
int tx_check(const struct tx *tx);

/* Encode the payload that is signed: for typed transactions the type
 * byte and the RLP list without signature; for legacy the 6 fields, plus
 * (chain_id, 0, 0) under EIP-155.
 * Returns: 0; tx_check's errors; KP_ERANGE if `cap` is too small
 *          (*outlen then holds the size needed).
 * Out: out, *outlen   In: cap, tx */
int tx_encode_unsigned(uint8_t *out, size_t cap, size_t *outlen,
                       const struct tx *tx);

/* Keccak-256 of the unsigned payload, streamed without a buffer.
 * Returns: 0 or tx_check's errors.   Out: hash   In: tx */
int tx_signing_hash(uint8_t hash[32], const struct tx *tx);

/* Sign `tx` with `key` (RFC 6979, low s).
 * Returns: 0, tx_check's errors, KP_ECRYPTO (invalid key).
 * Out: sig   In: tx, key */
int tx_sign(struct eth_sig *sig, const struct tx *tx, const uint8_t key[32]);

/* Serialize a signed transaction as sent to eth_sendRawTransaction.
 * Returns: 0; tx_check's errors; KP_EINVAL (y_parity > 1); KP_ERANGE if
 *          `cap` is too small (*outlen then holds the size needed).
 * Out: out, *outlen   In: cap, tx, sig */
int tx_encode_signed(uint8_t *out, size_t cap, size_t *outlen,
                     const struct tx *tx, const struct eth_sig *sig);

/* The transaction hash: Keccak-256 of the raw signed bytes.
 * Out: hash   In: raw, len */
void tx_hash(uint8_t hash[32], const uint8_t *raw, size_t len);

/* Decode a raw signed transaction. `tx->data` and the entries' keys point
 * into `raw`, which must outlive them; entries go to acl[0..acl_cap).
 * Rejected: empty or over TX_MAX_SIZE input (KP_ETRUNC, KP_ELIMIT); an
 * unknown type byte (KP_EUNSUPPORTED); non-RLP or trailing bytes, wrong
 * field counts or shapes, a `to` that is not 0 or 20 bytes, a legacy v
 * other than 27, 28 or >= 37 (chain id 0 has no EIP-155 form here: it
 * means pre-EIP-155), a y parity above 1 (KP_EINVAL and the RLP
 * errors); non-canonical integers (KP_ENONCANON); integers too large
 * (KP_ERANGE, also a legacy chain id beyond 64 bits); r or s out of range or s
 * > n/2 (KP_ECRYPTO); more than `acl_cap` entries (KP_ELIMIT). Out: tx, sig,
 * acl   In: acl_cap, raw, len */
int tx_decode(struct tx *tx, struct eth_sig *sig, struct tx_access *acl,
              size_t acl_cap, const uint8_t *raw, size_t len);

/* Recover the sender of a signed transaction.
 * Returns: 0, tx_check's errors, KP_EINVAL, KP_ECRYPTO.
 * Out: from   In: tx, sig */
int tx_recover_sender(struct eth_addr *from, const struct tx *tx,
                      const struct eth_sig *sig);

/* Legacy v of a signature: 27 + y before EIP-155, else
 * 2 * chain_id + 35 + y (which may exceed 64 bits). Typed transactions
 * carry the y parity itself.   Out: v   In: tx, sig */
void tx_legacy_v(struct u256 *v, const struct tx *tx,
                 const struct eth_sig *sig);

#endif
