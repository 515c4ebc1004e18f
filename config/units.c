#include "config/units.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chain/err.h"

struct unit {
    const char *name;
    uint64_t scale;
};

/* Longest first is not needed: names are matched whole. */
static const struct unit duration_units[] = {
    {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
};

static const struct unit size_units[] = {
    {"GiB", 1ULL << 30},
    {"MiB", 1ULL << 20},
    {"KiB", 1ULL << 10},
    {"B", 1},
};

#define NUNITS(t) (sizeof(t) / sizeof((t)[0]))

/* A decimal number "int[.frac]" at the start of a string. */
struct decimal {
    uint64_t ip; /* integer part */
    uint64_t fp; /* fraction digits as an integer, trailing zeros gone */
    unsigned fl; /* number of fraction digits in fp */
    size_t end;  /* index after the number */
};

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Returns: 0, KP_EINVAL (no digits, "1.", more than max_frac significant
 * fraction digits), KP_EOVERFLOW (integer part > 2^64-1). */
static int
lex_decimal(struct decimal *d, const char *s, size_t len, unsigned max_frac)
{
    size_t i = 0;
    unsigned nz = 0; /* fraction digits up to the last nonzero one */

    memset(d, 0, sizeof(*d));
    for (; i < len && is_digit(s[i]); i++) {
        uint64_t v = (uint64_t)(s[i] - '0');

        if (d->ip > (UINT64_MAX - v) / 10)
            return KP_EOVERFLOW;
        d->ip = d->ip * 10 + v;
    }
    if (i == 0)
        return KP_EINVAL;
    if (i < len && s[i] == '.') {
        size_t start = ++i;

        for (; i < len && is_digit(s[i]); i++)
            if (s[i] != '0')
                nz = (unsigned)(i - start + 1);
        if (i == start || nz > max_frac)
            return KP_EINVAL;
        for (size_t k = start; k < start + nz; k++)
            d->fp = d->fp * 10 + (uint64_t)(s[k] - '0');
        d->fl = nz;
    }
    d->end = i;
    return 0;
}

static uint64_t
pow10_u64(unsigned e)
{
    uint64_t p = 1;

    while (e-- > 0)
        p *= 10;
    return p;
}

/* Returns: the unit named by s[0..len), or NULL. */
static const struct unit *
find_unit(const struct unit *t, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && memcmp(t[i].name, s, len) == 0)
            return &t[i];
    return NULL;
}

/* value = d * scale, exact. Returns: 0, KP_EINVAL (inexact), KP_EOVERFLOW. */
static int
scale_decimal(uint64_t *out, const struct decimal *d, uint64_t scale)
{
    uint64_t p = pow10_u64(d->fl), frac;

    /* fp < 10^9 and scale < 10^11 here, so fp * scale fits. */
    if ((d->fp * scale) % p != 0)
        return KP_EINVAL;
    frac = d->fp * scale / p;
    if (d->ip > (UINT64_MAX - frac) / scale)
        return KP_EOVERFLOW;
    *out = d->ip * scale + frac;
    return 0;
}

int
cfg_parse_duration(uint64_t *ms, const char *s, size_t len)
{
    const struct unit *u;
    struct decimal d;
    int rc;

    assert(ms != NULL && (s != NULL || len == 0));
    *ms = 0;
    if ((rc = lex_decimal(&d, s, len, 9)) != 0)
        return rc;
    u = find_unit(duration_units, NUNITS(duration_units), s + d.end,
                  len - d.end);
    if (u == NULL)
        return KP_EINVAL;
    return scale_decimal(ms, &d, u->scale);
}

void
cfg_fmt_duration(char *out, size_t cap, uint64_t ms)
{
    assert(out != NULL && cap > 0);
    for (size_t i = 0; i < NUNITS(duration_units); i++) {
        const struct unit *u = &duration_units[i];

        if (ms != 0 && ms % u->scale == 0) {
            snprintf(out, cap, "%" PRIu64 "%s", ms / u->scale, u->name);
            return;
        }
    }
    snprintf(out, cap, ms == 0 ? "0s" : "%" PRIu64 "ms", ms);
}

int
cfg_parse_percent(uint32_t *bps, const char *s, size_t len)
{
    struct decimal d;
    uint64_t v;
    int rc;

    assert(bps != NULL && (s != NULL || len == 0));
    *bps = 0;
    if ((rc = lex_decimal(&d, s, len, 2)) != 0)
        return rc;
    if (d.end + 1 != len || s[d.end] != '%')
        return KP_EINVAL;
    if ((rc = scale_decimal(&v, &d, 100)) != 0)
        return rc;
    if (v > UINT32_MAX)
        return KP_EOVERFLOW;
    *bps = (uint32_t)v;
    return 0;
}

void
cfg_fmt_percent(char *out, size_t cap, uint32_t bps)
{
    assert(out != NULL && cap > 0);
    if (bps % 100 == 0)
        snprintf(out, cap, "%" PRIu32 "%%", bps / 100);
    else if (bps % 10 == 0)
        snprintf(out, cap, "%" PRIu32 ".%" PRIu32 "%%", bps / 100,
                 bps % 100 / 10);
    else
        snprintf(out, cap, "%" PRIu32 ".%02" PRIu32 "%%", bps / 100, bps % 100);
}

int
cfg_parse_size(uint64_t *bytes, const char *s, size_t len)
{
    const struct unit *u = &size_units[NUNITS(size_units) - 1];
    struct decimal d;
    int rc;

    assert(bytes != NULL && (s != NULL || len == 0));
    *bytes = 0;
    if ((rc = lex_decimal(&d, s, len, 0)) != 0)
        return rc;
    if (d.end < len && !(u = find_unit(size_units, NUNITS(size_units),
                                       s + d.end, len - d.end)))
        return KP_EINVAL;
    return scale_decimal(bytes, &d, u->scale);
}

void
cfg_fmt_size(char *out, size_t cap, uint64_t bytes)
{
    assert(out != NULL && cap > 0);
    for (size_t i = 0; i + 1 < NUNITS(size_units); i++) {
        const struct unit *u = &size_units[i];

        if (bytes != 0 && bytes % u->scale == 0) {
            snprintf(out, cap, "%" PRIu64 "%s", bytes / u->scale, u->name);
            return;
        }
    }
    snprintf(out, cap, "%" PRIu64, bytes);
}
