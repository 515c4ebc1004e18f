/* Values and assertions that cmocka lacks: see check.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "tests/support/check.h"

size_t
ts_unhex_at(const char *file, int line, uint8_t *out, size_t cap,
            const char *hex)
{
    size_t n = 0;
    int rc = hex_decode(out, cap, &n, hex, strlen(hex));

    if (rc != 0) {
        print_error("cannot decode %zu hex digits into %zu bytes: %s\n",
                    strlen(hex), cap, kp_strerror(rc));
        _fail(file, line);
    }
    return n;
}

struct u256
ts_u256(uint64_t v)
{
    struct u256 r;

    u256_from_u64(&r, v);
    return r;
}

struct u256
ts_u256_max(void)
{
    struct u256 r;

    memset(&r, 0xff, sizeof(r));
    return r;
}

struct u256
ts_u256_parse_at(const char *file, int line, const char *s)
{
    struct u256 r;

    if (u256_parse(&r, s, strlen(s)) != 0) {
        print_error("not a u256: \"%s\"\n", s);
        _fail(file, line);
    }
    return r;
}

uint64_t
ts_xorshift64(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

void
ts_assert_u256_equal_at(const char *file, int line, const struct u256 *a,
                        const struct u256 *b)
{
    char x[U256_DEC_MAX], y[U256_DEC_MAX];

    if (u256_cmp(a, b) == 0)
        return;
    u256_fmt_dec(x, sizeof(x), a);
    u256_fmt_dec(y, sizeof(y), b);
    print_error("got %s want %s\n", x, y);
    _fail(file, line);
}

void
ts_assert_u256_is_at(const char *file, int line, const struct u256 *a,
                     uint64_t v)
{
    struct u256 b = ts_u256(v);

    ts_assert_u256_equal_at(file, line, a, &b);
}

void
ts_assert_close_at(const char *file, int line, double got, double want,
                   double rel)
{
    if (fabs(got - want) <= rel * fabs(want))
        return;
    print_error("got %.17g want %.17g\n", got, want);
    _fail(file, line);
}
