/*
 * hex.h - hexadecimal encoding of byte strings.
 *
 * Encoders never allocate: the caller passes the buffer. Output is
 * lowercase; input may be either case and may carry a "0x"/"0X" prefix.
 */
#ifndef KP_CHAIN_HEX_H
#define KP_CHAIN_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encode `inlen` bytes as 2*inlen lowercase hex digits plus a NUL.
 * With `prefix`, "0x" is written first.
 * Returns: 0, or KP_ERANGE if `outcap` is too small (needs
 *          2*inlen + 1, plus 2 with prefix).
 * Out: out   In: in, inlen, prefix */
int hex_encode(char *out, size_t outcap, const uint8_t *in, size_t inlen,
               bool prefix);

/* Decode hex digits (optional 0x prefix, even count) into bytes.
 * Returns: 0; KP_EINVAL on a non-hex digit or an odd digit count;
 *          KP_ERANGE if more than `outcap` bytes would be written.
 * Out: out, *outlen (bytes written)   In: in, inlen, outcap */
int hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
               size_t inlen);

/* Decode exactly `n` bytes; anything else is an error.
 * Returns: 0, KP_EINVAL (bad digit or wrong length). */
int hex_decode_exact(uint8_t *out, size_t n, const char *in, size_t inlen);

/* Returns: the value 0-15 of hex digit `c`, or -1. */
int hex_digit(int c);

/* Returns: whether `s` starts with "0x" or "0X". */
bool hex_has_prefix(const char *s, size_t len);

#endif
