#include "chain/keccak.h"

#include <string.h>

/* Lanes are little-endian: byte i of the block goes into lane i/8. */
static inline uint64_t
load_le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
#else
    uint64_t v = 0;

    for (int b = 7; b >= 0; b--)
        v = v << 8 | p[b];
    return v;
#endif
}

static void
keccak_absorb(struct sha3_state *st, const uint8_t *block)
{
    size_t i;

    for (i = 0; i < KECCAK256_RATE / 8; i++)
        st->a[i] ^= load_le64(block + 8 * i);
    sha3_permute(st);
}

void
keccak256_init(struct keccak256_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
}

void
keccak256_update(struct keccak256_ctx *ctx, const uint8_t *data, size_t len)
{
    if (ctx->n) {
        size_t take = KECCAK256_RATE - ctx->n;

        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->n, data, take);
        ctx->n += take;
        data += take;
        len -= take;
        if (ctx->n < KECCAK256_RATE)
            return;
        keccak_absorb(&ctx->st, ctx->block);
        ctx->n = 0;
    }
    for (; len >= KECCAK256_RATE; data += KECCAK256_RATE, len -= KECCAK256_RATE)
        keccak_absorb(&ctx->st, data);
    memcpy(ctx->block, data, len);
    ctx->n = len;
}

void
keccak256_final(struct keccak256_ctx *ctx, uint8_t out[32])
{
    size_t i;

    memset(ctx->block + ctx->n, 0, KECCAK256_RATE - ctx->n);
    ctx->block[ctx->n] ^= 0x01;
    ctx->block[KECCAK256_RATE - 1] ^= 0x80;
    keccak_absorb(&ctx->st, ctx->block);
    for (i = 0; i < 32; i++)
        out[i] = (uint8_t)(ctx->st.a[i / 8] >> (8 * (i % 8)));
    memset(ctx, 0, sizeof(*ctx));
}

void
keccak256(uint8_t out[32], const uint8_t *data, size_t len)
{
    struct keccak256_ctx ctx;

    keccak256_init(&ctx);
    keccak256_update(&ctx, data, len);
    keccak256_final(&ctx, out);
}
