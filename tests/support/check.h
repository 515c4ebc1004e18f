/*
 * check.h - values and assertions that cmocka lacks: bytes from hex,
 * u256 values, reproducible pseudo-random numbers, u256 and floating-point
 * comparisons. A failing check prints both values and fails the test at
 * the caller's line.
 *
 * Include after <cmocka.h>.
 */
#ifndef KP_TESTS_SUPPORT_CHECK_H
#define KP_TESTS_SUPPORT_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "chain/u256.h"

/* Decode hex digits (optional 0x) into out (cap bytes); bad digits or too
 * little room fail the test.
 * Returns: the number of bytes. */
#define ts_unhex(out, cap, hex) ts_unhex_at(__FILE__, __LINE__, out, cap, hex)
size_t ts_unhex_at(const char *file, int line, uint8_t *out, size_t cap,
                   const char *hex);

/* Returns: v as a u256. */
struct u256 ts_u256(uint64_t v);

/* Returns: 2^256 - 1. */
struct u256 ts_u256_max(void);

/* Returns: the u256 that `s` reads as (u256_parse); a bad string fails the
 * test. */
#define ts_u256_parse(s) ts_u256_parse_at(__FILE__, __LINE__, s)
struct u256 ts_u256_parse_at(const char *file, int line, const char *s);

/* The next number of a xorshift64 sequence: reproducible pseudo-random
 * test input from a fixed nonzero seed (never for keys).
 * Returns: the new *state.   In/Out: *state */
uint64_t ts_xorshift64(uint64_t *state);

/* Fail unless *a == *b; both are printed in decimal. */
#define ts_assert_u256_equal(a, b)                                             \
    ts_assert_u256_equal_at(__FILE__, __LINE__, a, b)
void ts_assert_u256_equal_at(const char *file, int line, const struct u256 *a,
                             const struct u256 *b);

/* Fail unless *a == v; both are printed in decimal. */
#define ts_assert_u256_is(a, v) ts_assert_u256_is_at(__FILE__, __LINE__, a, v)
void ts_assert_u256_is_at(const char *file, int line, const struct u256 *a,
                          uint64_t v);

/* Fail unless |got - want| <= rel * |want| (so want == 0 needs got == 0;
 * NaN never passes). */
#define ts_assert_close(got, want, rel)                                        \
    ts_assert_close_at(__FILE__, __LINE__, got, want, rel)
void ts_assert_close_at(const char *file, int line, double got, double want,
                        double rel);

#endif
