/*
 * u256.h - exact 256-bit unsigned integers, the type of every on-chain
 * amount. Four little-endian 64-bit limbs (w[0] least significant).
 *
 * Arithmetic reports overflow instead of hiding it: a function that can
 * overflow returns KP_EOVERFLOW and leaves the wrapped result in *r.
 * Signed values (ABI intN) are two's complement in the same type.
 * Nothing here allocates.
 */
#ifndef KP_CHAIN_U256_H
#define KP_CHAIN_U256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u256 {
    uint64_t w[4];
};

/* Longest decimal rendering of a u256 (78 digits), plus sign and NUL. */
#define U256_DEC_MAX 80
/* "0x" + 64 hex digits + NUL. */
#define U256_HEX_MAX 67

/* Out: r   In: v */
void u256_from_u64(struct u256 *r, uint64_t v);
/* Returns: 0, or KP_ERANGE if `a` does not fit in 64 bits. Out: *v */
int u256_to_u64(uint64_t *v, const struct u256 *a);

/* Big-endian conversions. `len` <= 32 bytes; shorter input is
 * right-aligned (leading zeros implied).
 * Returns: 0, or KP_ERANGE if len > 32.   Out: r   In: be, len */
int u256_from_be(struct u256 *r, const uint8_t *be, size_t len);
/* Out: be (32 bytes)   In: a */
void u256_to_be(uint8_t be[32], const struct u256 *a);
/* Returns: the minimal big-endian byte length of `a` (0 for zero). */
size_t u256_byte_len(const struct u256 *a);
/* Returns: the number of significant bits (0 for zero). */
unsigned u256_bit_len(const struct u256 *a);

bool u256_is_zero(const struct u256 *a);
/* Returns: <0, 0, >0 as a <, ==, > b (unsigned). */
int u256_cmp(const struct u256 *a, const struct u256 *b);
/* Returns: whether the top bit is set (negative as two's complement). */
bool u256_is_neg(const struct u256 *a);

/* Each returns 0 or KP_EOVERFLOW (r then holds the wrapped value).
 * `r` may alias `a` or `b`. */
int u256_add(struct u256 *r, const struct u256 *a, const struct u256 *b);
int u256_sub(struct u256 *r, const struct u256 *a, const struct u256 *b);
int u256_mul(struct u256 *r, const struct u256 *a, const struct u256 *b);
int u256_mul_u64(struct u256 *r, const struct u256 *a, uint64_t b);
int u256_add_u64(struct u256 *r, const struct u256 *a, uint64_t b);
/* 10^e; Returns: 0 or KP_EOVERFLOW (e > 77). */
int u256_pow10(struct u256 *r, unsigned e);

/* Quotient and remainder; either output may be NULL.
 * Returns: 0, or KP_EINVAL on division by zero. */
int u256_divmod(struct u256 *q, struct u256 *rem, const struct u256 *a,
                const struct u256 *b);
/* a * b / d without intermediate overflow (512-bit product), rounded
 * down. Returns: 0, KP_EINVAL (d == 0), KP_EOVERFLOW (result > 2^256-1). */
int u256_muldiv(struct u256 *r, const struct u256 *a, const struct u256 *b,
                const struct u256 *d);

/* Two's complement negation (wraps). */
void u256_neg(struct u256 *r, const struct u256 *a);
void u256_shl(struct u256 *r, const struct u256 *a, unsigned n);
void u256_shr(struct u256 *r, const struct u256 *a, unsigned n);

/* Parse an unsigned integer: decimal digits, or 0x/0X hex digits.
 * No sign, no whitespace, no empty input.
 * Returns: 0, KP_EINVAL (syntax), KP_EOVERFLOW (>= 2^256). */
int u256_parse(struct u256 *r, const char *s, size_t len);

/* Parse a signed integer ("-" allowed before decimal or hex) into two's
 * complement. *neg tells the sign (for range checks by the caller).
 * Returns: 0, KP_EINVAL, KP_EOVERFLOW (magnitude >= 2^256, or a
 * negative magnitude > 2^255). */
int u256_parse_signed(struct u256 *r, bool *neg, const char *s, size_t len);

/* Parse an amount with an optional unit, exact or not at all:
 *   "123", "0x1f", "30gwei", "1.5ether", "250000e6", "2 gwei", "7wei".
 * Units: wei (1), kwei/babbage (1e3), mwei/lovelace (1e6), gwei/shannon
 * (1e9), szabo/micro (1e12), finney/milli (1e15), ether (1e18).
 * "Ne K" scales by 10^K. A fraction that does not resolve to a whole
 * number of base units is an error, never silently rounded.
 * Returns: 0, KP_EINVAL (syntax, unknown unit, inexact fraction),
 *          KP_EOVERFLOW. */
int u256_parse_units(struct u256 *r, const char *s, size_t len);

/* Format as decimal. Returns: 0, or KP_ERANGE (cap too small; at most
 * U256_DEC_MAX needed).   Out: out (NUL-terminated) */
int u256_fmt_dec(char *out, size_t cap, const struct u256 *a);
/* Format two's complement `a` as signed decimal ("-5"). */
int u256_fmt_dec_signed(char *out, size_t cap, const struct u256 *a);
/* Format as minimal "0x…" hex ("0x0" for zero). */
int u256_fmt_hex(char *out, size_t cap, const struct u256 *a);
/* Format a / 10^decimals as a decimal fraction without trailing zeros
 * ("1.5", "0.000001", "42"). Returns: 0, KP_ERANGE, KP_EINVAL
 * (decimals > 77). */
int u256_fmt_units(char *out, size_t cap, const struct u256 *a,
                   unsigned decimals);

/* Convert to double (rounded to nearest), for risk estimates only. */
double u256_to_double(const struct u256 *a);
/* a / 10^decimals as a double (a token amount in whole units), for risk
 * estimates only. */
double u256_to_units_double(const struct u256 *a, unsigned decimals);

#endif
