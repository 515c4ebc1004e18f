#include "chain/ecdsa.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <secp256k1_recovery.h>

#include "chain/err.h"

/* The group order n and n/2, big-endian (SEC 2, secp256k1). */
static const uint8_t secp_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
    0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t secp_half_n[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
    0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

static secp256k1_context *ctx;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void
ctx_create(void)
{
    uint8_t seed[32];
    ssize_t n;

    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == NULL) {
        fprintf(stderr, "ecdsa: cannot create a secp256k1 context\n");
        abort();
    }
    do
        n = getrandom(seed, sizeof(seed), 0);
    while (n < 0 && errno == EINTR);
    /* Randomization only blinds the signing computation; without entropy
     * the context is still correct, so go on unblinded. */
    if (n == (ssize_t)sizeof(seed) && !secp256k1_context_randomize(ctx, seed))
        fprintf(stderr, "ecdsa: context randomization failed\n");
    kp_wipe(seed, sizeof(seed));
}

const secp256k1_context *
ecdsa_ctx(void)
{
    pthread_once(&ctx_once, ctx_create);
    return ctx;
}

int
ecdsa_sign(struct eth_sig *sig, const uint8_t digest[32], const uint8_t key[32])
{
    secp256k1_ecdsa_recoverable_signature rs;
    uint8_t compact[64];
    int recid;

    assert(sig != NULL && digest != NULL && key != NULL);
    /* NULL nonce function: RFC 6979, deterministic like every wallet. */
    if (!secp256k1_ecdsa_sign_recoverable(ecdsa_ctx(), &rs, digest, key, NULL,
                                          NULL))
        return KP_ECRYPTO;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(
        secp256k1_context_static, compact, &recid, &rs);
    /* recid 2 and 3 need r >= n - p: probability ~2^-127, and Ethereum
     * has no way to carry them. */
    if (recid > 1)
        return KP_ECRYPTO;
    memcpy(sig->r, compact, 32);
    memcpy(sig->s, compact + 32, 32);
    sig->y_parity = (uint8_t)recid;
    return 0;
}

static bool
is_zero32(const uint8_t x[32])
{
    uint8_t acc = 0;
    size_t i;

    for (i = 0; i < 32; i++)
        acc |= x[i];
    return acc == 0;
}

bool
ecdsa_is_low_s(const uint8_t s[32])
{
    assert(s != NULL);
    return !is_zero32(s) && memcmp(s, secp_half_n, 32) <= 0;
}

int
ecdsa_sig_check(const struct eth_sig *sig)
{
    assert(sig != NULL);
    if (sig->y_parity > 1)
        return KP_EINVAL;
    if (is_zero32(sig->r) || memcmp(sig->r, secp_n, 32) >= 0)
        return KP_ECRYPTO;
    if (!ecdsa_is_low_s(sig->s))
        return KP_ECRYPTO;
    return 0;
}

int
ecdsa_recover(struct eth_addr *from, const struct eth_sig *sig,
              const uint8_t digest[32])
{
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey pk;
    uint8_t compact[64];
    int rc;

    assert(from != NULL && digest != NULL);
    if ((rc = ecdsa_sig_check(sig)) != 0)
        return rc;
    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(
            secp256k1_context_static, &rs, compact, sig->y_parity))
        return KP_ECRYPTO;
    if (!secp256k1_ecdsa_recover(ecdsa_ctx(), &pk, &rs, digest))
        return KP_ECRYPTO;
    eth_addr_from_secp_pubkey(from, &pk);
    return 0;
}
