/*
 * units.h - the unit syntaxes of configuration values, usable on their
 * own (e.g. for command-line flags): durations, percentages and byte
 * sizes. Each parser takes the whole text; nothing may follow the unit.
 * A value must come out exact in the stored unit: "1.5s" is 1500 ms, but
 * "0.5ms" is an error, never rounded.
 */
#ifndef KP_CONFIG_UNITS_H
#define KP_CONFIG_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Longest rendering of a duration, percentage or size, with NUL. */
#define CFG_UNIT_STR_MAX 32

/* Parse "<number><unit>", unit one of ms, s, m, h, d; the number is
 * decimal, with an optional fraction ("1.5h"). A bare number is refused:
 * the unit is what says whether 30 means seconds or days.
 * Returns: 0, KP_EINVAL (syntax, missing or unknown unit, not a whole
 *          number of milliseconds), KP_EOVERFLOW (> 2^64-1 ms).
 * Out: *ms   In: s, len */
int cfg_parse_duration(uint64_t *ms, const char *s, size_t len);

/* Format with the largest unit that keeps the value exact ("1d", "90s",
 * "1500ms").   Out: out   In: cap (>= CFG_UNIT_STR_MAX is enough), ms */
void cfg_fmt_duration(char *out, size_t cap, uint64_t ms);

/* Parse "<number>%" with at most two decimals ("2%", "0.5%", "12.25%")
 * into basis points (1% = 100 bps).
 * Returns: 0, KP_EINVAL (syntax, no '%', more than two decimals),
 *          KP_EOVERFLOW (> 2^32-1 bps).   Out: *bps   In: s, len */
int cfg_parse_percent(uint32_t *bps, const char *s, size_t len);

/* Format basis points as a percentage ("12.5%", "20%", "0.01%"). */
void cfg_fmt_percent(char *out, size_t cap, uint32_t bps);

/* Parse a byte size: a whole number with an optional unit B, KiB, MiB or
 * GiB ("8MiB", "65536", "64KiB").
 * Returns: 0, KP_EINVAL, KP_EOVERFLOW.   Out: *bytes   In: s, len */
int cfg_parse_size(uint64_t *bytes, const char *s, size_t len);

/* Format with the largest binary unit that keeps the value exact. */
void cfg_fmt_size(char *out, size_t cap, uint64_t bytes);

#endif
