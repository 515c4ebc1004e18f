/*
 * abi_int.h - declarations shared by the abi_*.c units, not part of the
 * public interface.
 */
#ifndef KP_CHAIN_ABI_INT_H
#define KP_CHAIN_ABI_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "chain/abi.h"

/* A text writer over a caller buffer that keeps counting past the end,
 * so a failed format still reports the size needed (as snprintf). */
struct abi_wr {
    char *p;
    size_t cap;
    size_t n;
};

void abi_wr_init(struct abi_wr *w, char *p, size_t cap);
void abi_wr_put(struct abi_wr *w, const char *s, size_t n);
void abi_wr_str(struct abi_wr *w, const char *s);
void abi_wr_chr(struct abi_wr *w, char c);
/* Append `n` bytes as "0x" and lowercase hex. */
void abi_wr_hex(struct abi_wr *w, const uint8_t *p, size_t n);
/* NUL-terminate. Returns: 0, or KP_ERANGE (*outlen, if not NULL, gets
 * the length without NUL either way). */
int abi_wr_finish(struct abi_wr *w, size_t *outlen);

/* Format a value as an element of a list that ends with `list_end`
 * (']' or ')'), or as a top-level argument when list_end is 0. */
void abi_format_value(struct abi_wr *w, const struct abi_value *v,
                      char list_end);

/* Record an error (err may be NULL). Returns: code. */
int abi_fail(struct abi_error *err, int code, size_t pos, const char *fmt,
             ...) __attribute__((format(printf, 4, 5)));

/* Encoded size of the tuple value `v` as tuple type `tuple`, validating
 * kinds, counts and ranges on the way.
 * Returns: 0, KP_EINVAL, KP_ERANGE, KP_EOVERFLOW.  Out: *size */
int abi_encoded_size(size_t *size, const struct abi_sig *sig,
                     uint16_t tuple, const struct abi_value *v);

/* Allocate `n` bytes (unaligned) in the arena.
 * Returns: the bytes, or NULL if the cap would be exceeded. */
uint8_t *abi_arena_bytes(struct abi_arena *a, size_t n);

/* Returns: the length of `s` without trailing Unicode White_Space (as
 * Rust's str::trim_end, which cast applies to bare strings). */
size_t abi_trim_end(const char *s, size_t n);

#endif
