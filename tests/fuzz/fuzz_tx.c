/* Arbitrary bytes into the raw transaction decoder and sender recovery.
 * The decoder is strict, so an accepted transaction must serialize back
 * to exactly the input, and its signature must be in Ethereum's ranges. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/ecdsa.h"
#include "chain/err.h"
#include "chain/tx.h"

#define FUZZ_ACL 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[TX_MAX_SIZE];
static volatile uint8_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tx_access acl[FUZZ_ACL];
    struct tx tx;
    struct eth_sig sig;
    struct eth_addr from;
    uint8_t hash[32], acc;
    size_t n;

    if (tx_decode(&tx, &sig, acl, FUZZ_ACL, data, size) != 0)
        return 0;
    if (ecdsa_sig_check(&sig) != 0 || tx_check(&tx) != 0)
        __builtin_trap();
    if (tx_encode_signed(out, sizeof(out), &n, &tx, &sig) != 0 || n != size ||
        memcmp(out, data, n) != 0)
        __builtin_trap();
    /* Touch what a caller reads: data and every access-list key. */
    acc = tx.data_len ? tx.data[0] ^ tx.data[tx.data_len - 1] : 0;
    for (size_t i = 0; i < tx.naccess; i++)
        for (size_t k = 0; k < tx.access[i].nkeys; k++)
            acc ^= tx_access_key(&tx.access[i], k)[0] ^
                   tx_access_key(&tx.access[i], k)[31];
    sink = acc;
    if (tx_signing_hash(hash, &tx) != 0)
        __builtin_trap();
    (void)tx_recover_sender(&from, &tx, &sig);
    return 0;
}
