/*
 * rlp.h - Recursive Length Prefix, the serialization of Ethereum
 * transactions (Yellow Paper, appendix B).
 *
 * Encoding never allocates: an encoder writes into a caller buffer, or
 * streams into a Keccak-256 context so that a signing hash needs no copy
 * of the payload. A list is closed either by rlp_list_end (the header is
 * inserted in front of the payload with memmove) or, when the caller
 * knows the payload length, by writing the header up front with
 * rlp_put_list_header (the only way in hashing mode).
 *
 * Decoding is strict: exactly the canonical encoding is accepted, so one
 * value has one byte string (a transaction hash cannot be malleated by
 * re-encoding). Decoded items point into the input buffer.
 */
#ifndef KP_CHAIN_RLP_H
#define KP_CHAIN_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/keccak.h"
#include "chain/u256.h"

/* Largest buffer the decoder accepts (inputs come from the network). */
#define RLP_MAX_INPUT (16u * 1024 * 1024)
/* Deepest list nesting rlp_validate walks. */
#define RLP_MAX_DEPTH 32
/* Longest header: one prefix byte plus up to 8 length bytes. */
#define RLP_HEADER_MAX 9

/* ---- encoding ------------------------------------------------------- */

struct rlp_enc {
    uint8_t *buf; /* NULL in hashing mode */
    size_t cap;
    size_t len;                 /* bytes produced so far (also when full) */
    int err;                    /* sticky: 0 or KP_ERANGE */
    struct keccak256_ctx *hash; /* hashing mode when set */
};

/* Write into buf[0..cap). When the buffer is too small the encoder stops
 * writing, sets err = KP_ERANGE and keeps counting, so that `len` tells
 * the size needed.   Out: e   In: buf, cap */
void rlp_enc_init(struct rlp_enc *e, uint8_t *buf, size_t cap);
/* Stream every byte into `hash` (which the caller initialised) instead
 * of a buffer. rlp_list_begin/rlp_list_end are not available in this
 * mode.   Out: e   In: hash */
void rlp_enc_init_hash(struct rlp_enc *e, struct keccak256_ctx *hash);
/* Returns: 0, or KP_ERANGE if the buffer was too small.
 * Out: *outlen (bytes written, or needed on KP_ERANGE) */
int rlp_enc_finish(const struct rlp_enc *e, size_t *outlen);

/* A byte string. */
void rlp_put_bytes(struct rlp_enc *e, const uint8_t *p, size_t n);
/* An unsigned integer as its minimal big-endian bytes (0 is "0x80"). */
void rlp_put_u64(struct rlp_enc *e, uint64_t v);
void rlp_put_u256(struct rlp_enc *e, const struct u256 *v);
/* A 32-byte big-endian integer (e.g. a signature's r), minimal form. */
void rlp_put_be_int(struct rlp_enc *e, const uint8_t *be, size_t n);
/* Already-encoded RLP, copied as is. */
void rlp_put_raw(struct rlp_enc *e, const uint8_t *p, size_t n);
/* The header of a list whose payload of `payload_len` bytes follows. */
void rlp_put_list_header(struct rlp_enc *e, size_t payload_len);

/* Open a list; close it with rlp_list_end(e, mark). Lists nest.
 * Returns: the mark. */
size_t rlp_list_begin(struct rlp_enc *e);
void rlp_list_end(struct rlp_enc *e, size_t mark);

/* Sizes of encodings, for callers that write headers up front. */
size_t rlp_bytes_size(const uint8_t *p, size_t n);
size_t rlp_u64_size(uint64_t v);
size_t rlp_u256_size(const struct u256 *v);
size_t rlp_be_int_size(const uint8_t *be, size_t n);
/* Size of a list header plus its payload. */
size_t rlp_list_size(size_t payload_len);

/* ---- decoding ------------------------------------------------------- */

struct rlp_item {
    const uint8_t *p; /* payload (string bytes, or the list's items) */
    size_t len;       /* payload length */
    bool is_list;
};

/* Decode the one item at the start of buf; more may follow.
 * Returns: 0; KP_ETRUNC (empty input or a length past the end);
 *          KP_ENONCANON (a non-minimal form); KP_ELIMIT (len >
 *          RLP_MAX_INPUT).
 * Out: it, *used (header + payload bytes)   In: buf, len */
int rlp_decode_next(struct rlp_item *it, size_t *used, const uint8_t *buf,
                    size_t len);
/* Decode exactly one item spanning all of buf.
 * Returns: as rlp_decode_next, or KP_ETRAILING if bytes are left over. */
int rlp_decode(struct rlp_item *it, const uint8_t *buf, size_t len);

/* Walk every item under `it` (to RLP_MAX_DEPTH levels), checking that
 * each is canonical and that list payloads hold whole items.
 * Returns: 0, a decode error, or KP_ELIMIT (nested too deep). */
int rlp_validate(const struct rlp_item *it);

/* Iteration over the items of a list. */
struct rlp_iter {
    const uint8_t *p;
    size_t left;
};

/* Out: iter   In: list (must be a list) */
void rlp_iter_init(struct rlp_iter *iter, const struct rlp_item *list);
/* Returns: whether the list has no more items. */
bool rlp_iter_done(const struct rlp_iter *iter);
/* Decode the next item (the list must not be done).
 * Returns: 0 or a decode error.   Out: it */
int rlp_iter_next(struct rlp_iter *iter, struct rlp_item *it);

/* Split a list into its items.
 * Returns: 0; a decode error; KP_EINVAL if `list` is not a list;
 *          KP_ELIMIT if it has more than `cap` items.
 * Out: items, *count   In: cap, list */
int rlp_list_items(struct rlp_item *items, size_t cap, size_t *count,
                   const struct rlp_item *list);

/* Read a canonical integer (a string without leading zero bytes; zero is
 * the empty string).
 * Returns: 0; KP_EINVAL (a list); KP_ENONCANON (leading zero);
 *          KP_ERANGE (too large for the type).   Out: *v */
int rlp_get_u64(uint64_t *v, const struct rlp_item *it);
int rlp_get_u256(struct u256 *v, const struct rlp_item *it);
/* As rlp_get_u256, as 32 big-endian bytes.   Out: be */
int rlp_get_be32(uint8_t be[32], const struct rlp_item *it);
/* Read a string of exactly `n` bytes.
 * Returns: 0, or KP_EINVAL (a list or another length).   Out: out */
int rlp_get_fixed(uint8_t *out, size_t n, const struct rlp_item *it);

#endif
