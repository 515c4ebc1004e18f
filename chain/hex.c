#include "chain/hex.h"

#include "chain/err.h"

static const char hex_chars[] = "0123456789abcdef";

int
hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
hex_has_prefix(const char *s, size_t len)
{
    return len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int
hex_encode(char *out, size_t outcap, const uint8_t *in, size_t inlen,
           bool prefix)
{
    size_t need = inlen * 2 + 1 + (prefix ? 2 : 0);
    size_t i;

    if (inlen > (SIZE_MAX - 3) / 2 || outcap < need)
        return KP_ERANGE;
    if (prefix) {
        *out++ = '0';
        *out++ = 'x';
    }
    for (i = 0; i < inlen; i++) {
        *out++ = hex_chars[in[i] >> 4];
        *out++ = hex_chars[in[i] & 15];
    }
    *out = '\0';
    return 0;
}

int
hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
           size_t inlen)
{
    size_t i, n;

    if (hex_has_prefix(in, inlen)) {
        in += 2;
        inlen -= 2;
    }
    if (inlen % 2)
        return KP_EINVAL;
    n = inlen / 2;
    for (i = 0; i < n; i++) {
        int hi = hex_digit((unsigned char)in[2 * i]);
        int lo = hex_digit((unsigned char)in[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return KP_EINVAL;
        if (i >= outcap)
            return KP_ERANGE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = n;
    return 0;
}

int
hex_decode_exact(uint8_t *out, size_t n, const char *in, size_t inlen)
{
    size_t got;
    size_t digits = inlen - (hex_has_prefix(in, inlen) ? 2 : 0);

    if (digits != 2 * n)
        return KP_EINVAL;
    if (hex_decode(out, n, &got, in, inlen) != 0)
        return KP_EINVAL;
    return 0;
}
