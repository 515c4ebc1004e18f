/*
 * keystore_scrypt.c - scrypt for keystores (see keystore_int.h for why a
 * fallback to an in-house ROMix exists). PBKDF2-HMAC-SHA256 comes from
 * OpenSSL in both paths; only BlockMix/ROMix (RFC 7914 sections 3-5) are
 * here.
 */
#include "chain/keystore_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "chain/err.h"

bool
keystore_scrypt_openssl_ok(uint64_t n, uint32_t r)
{
    /* r >= 4 makes 2^(16r) exceed any uint64 n. */
    return r >= 4 || n < (UINT64_C(1) << (16 * r));
}

#define ROTL(v, c) (((v) << (c)) | ((v) >> (32 - (c))))
#define QR(a, b, c, d)                                                         \
    do {                                                                       \
        b ^= ROTL(a + d, 7);                                                   \
        c ^= ROTL(b + a, 9);                                                   \
        d ^= ROTL(c + b, 13);                                                  \
        a ^= ROTL(d + c, 18);                                                  \
    } while (0)

/* x = Salsa20/8(x ^ in), the step BlockMix repeats. The state lives in
 * scalars: this loop is the whole cost of scrypt, and scalars keep it
 * fast even in unoptimised sanitizer builds. */
static void
salsa20_8_xor(uint32_t x[16], const uint32_t in[16])
{
    uint32_t b0 = x[0] ^ in[0], b1 = x[1] ^ in[1], b2 = x[2] ^ in[2],
             b3 = x[3] ^ in[3], b4 = x[4] ^ in[4], b5 = x[5] ^ in[5],
             b6 = x[6] ^ in[6], b7 = x[7] ^ in[7], b8 = x[8] ^ in[8],
             b9 = x[9] ^ in[9], b10 = x[10] ^ in[10], b11 = x[11] ^ in[11],
             b12 = x[12] ^ in[12], b13 = x[13] ^ in[13], b14 = x[14] ^ in[14],
             b15 = x[15] ^ in[15];
    uint32_t y0 = b0, y1 = b1, y2 = b2, y3 = b3, y4 = b4, y5 = b5, y6 = b6,
             y7 = b7, y8 = b8, y9 = b9, y10 = b10, y11 = b11, y12 = b12,
             y13 = b13, y14 = b14, y15 = b15;

    for (int i = 0; i < 8; i += 2) {
        /* columns */
        QR(y0, y4, y8, y12);
        QR(y5, y9, y13, y1);
        QR(y10, y14, y2, y6);
        QR(y15, y3, y7, y11);
        /* rows */
        QR(y0, y1, y2, y3);
        QR(y5, y6, y7, y4);
        QR(y10, y11, y8, y9);
        QR(y15, y12, y13, y14);
    }
    x[0] = b0 + y0, x[1] = b1 + y1, x[2] = b2 + y2, x[3] = b3 + y3;
    x[4] = b4 + y4, x[5] = b5 + y5, x[6] = b6 + y6, x[7] = b7 + y7;
    x[8] = b8 + y8, x[9] = b9 + y9, x[10] = b10 + y10, x[11] = b11 + y11;
    x[12] = b12 + y12, x[13] = b13 + y13, x[14] = b14 + y14;
    x[15] = b15 + y15;
}

/* BlockMix: in and out are 2r 16-word blocks; out must not alias in.
 * Even outputs go to the first half, odd ones to the second. */
static void
blockmix(uint32_t *out, const uint32_t *in, uint32_t r)
{
    uint32_t x[16];
    size_t i;

    memcpy(x, in + (2 * r - 1) * 16, sizeof(x));
    for (i = 0; i < 2 * r; i++) {
        salsa20_8_xor(x, in + i * 16);
        memcpy(out + ((i & 1) * r + i / 2) * 16, x, sizeof(x));
    }
}

static void
load_le(uint32_t *w, const uint8_t *b, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++, b += 4)
        w[i] = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
               (uint32_t)b[3] << 24;
}

static void
store_le(uint8_t *b, const uint32_t *w, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++, b += 4) {
        b[0] = (uint8_t)w[i];
        b[1] = (uint8_t)(w[i] >> 8);
        b[2] = (uint8_t)(w[i] >> 16);
        b[3] = (uint8_t)(w[i] >> 24);
    }
}

/* ROMix on one 128r-byte block `b`, with scratch v (32rn words) and
 * xy (64r words). */
static void
romix(uint8_t *b, uint32_t r, uint64_t n, uint32_t *v, uint32_t *xy)
{
    size_t words = 32 * (size_t)r;
    uint32_t *x = xy, *y = xy + words;
    uint64_t i, j;
    size_t k;

    load_le(x, b, words);
    for (i = 0; i < n; i++) {
        memcpy(v + i * words, x, words * 4);
        blockmix(y, x, r);
        memcpy(x, y, words * 4);
    }
    for (i = 0; i < n; i++) {
        /* Integerify: the first 64 bits of the last 64-byte block; n is
         * a power of two, so the low word(s) suffice for j mod n. */
        j = ((uint64_t)x[words - 16] | (uint64_t)x[words - 15] << 32) & (n - 1);
        for (k = 0; k < words; k++)
            x[k] ^= v[j * words + k];
        blockmix(y, x, r);
        memcpy(x, y, words * 4);
    }
    store_le(b, x, words);
}

int
keystore_scrypt_romix(uint8_t *dk, size_t dklen, const char *pw, size_t pwlen,
                      const uint8_t *salt, size_t saltlen, uint64_t n,
                      uint32_t r, uint32_t p)
{
    size_t blen = (size_t)128 * r * p, vwords = (size_t)32 * r * n;
    uint8_t *b;
    uint32_t *v, *xy;
    int ok;

    assert(n >= 2 && !(n & (n - 1)) && r >= 1 && p >= 1);
    /* keystore_parse's caps keep these far from overflow. */
    assert(r <= 1024 && p <= 1024 && n <= SIZE_MAX / 128 / r);
    b = kp_xmalloc(blen);
    v = kp_xmalloc(vwords * 4);
    xy = kp_xmalloc((size_t)64 * r * 4);
    ok = PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)saltlen, 1, EVP_sha256(),
                           (int)blen, b) == 1;
    for (uint32_t i = 0; ok && i < p; i++)
        romix(b + (size_t)128 * r * i, r, n, v, xy);
    ok = ok && PKCS5_PBKDF2_HMAC(pw, (int)pwlen, b, (int)blen, 1, EVP_sha256(),
                                 (int)dklen, dk) == 1;
    kp_wipe(b, blen);
    kp_wipe(v, vwords * 4);
    kp_wipe(xy, (size_t)64 * r * 4);
    free(b);
    free(v);
    free(xy);
    return ok ? 0 : KP_ECRYPTO;
}

int
keystore_scrypt(uint8_t *dk, size_t dklen, const char *pw, size_t pwlen,
                const uint8_t *salt, size_t saltlen, uint64_t n, uint32_t r,
                uint32_t p)
{
    uint64_t maxmem;

    if (!keystore_scrypt_openssl_ok(n, r))
        return keystore_scrypt_romix(dk, dklen, pw, pwlen, salt, saltlen, n, r,
                                     p);
    /* What OpenSSL allocates: B (128rp) and V (128r(n+2)). Its default
     * limit (32 MiB) is too small for geth's standard n=2^18 r=8. */
    maxmem = UINT64_C(128) * r * (n + p + 2) + (UINT64_C(1) << 20);
    return EVP_PBE_scrypt(pw, pwlen, salt, saltlen, n, r, p, maxmem, dk,
                          dklen) == 1
               ? 0
               : KP_ECRYPTO;
}
