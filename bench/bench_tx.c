/* Transaction codec and signing: a typical EIP-1559 transfer-style call
 * (ERC-20 transfer calldata, empty access list) encoded, hashed, signed,
 * serialized, and decoded with sender recovery. */
#include <string.h>

#include "bench/bench.h"
#include "chain/ecdsa.h"
#include "chain/tx.h"

static void
example_tx(struct tx *tx, uint8_t data[68])
{
    memset(tx, 0, sizeof(*tx));
    tx->type = TX_1559;
    tx->chain_id = 1;
    tx->nonce = 1234;
    tx->max_priority_fee.w[0] = 1500000000; /* 1.5 gwei */
    tx->max_fee.w[0] = 42000000000;         /* 42 gwei */
    tx->gas_limit = 120000;
    tx->has_to = true;
    memset(tx->to.b, 0xa5, 20);
    /* transfer(address,uint256) */
    memset(data, 0, 68);
    memcpy(data, "\xa9\x05\x9c\xbb", 4);
    memset(data + 16, 0x35, 20);
    data[67] = 100;
    tx->data = data;
    tx->data_len = 68;
}

int
main(void)
{
    static const uint8_t key[32] = {
        0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6,
        0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed,
        0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80};
    struct tx_access acl[4];
    struct tx tx, dec;
    struct eth_sig sig, dsig;
    struct eth_addr from;
    uint8_t data[68], raw[512], digest[32], hash[32];
    size_t n;

    example_tx(&tx, data);
    if (tx_sign(&sig, &tx, key) != 0 ||
        tx_encode_signed(raw, sizeof(raw), &n, &tx, &sig) != 0)
        return 1;
    tx_signing_hash(digest, &tx);

    BENCH_RUN("rlp_encode_1559", 500000,
              tx_encode_signed(raw, sizeof(raw), &n, &tx, &sig);
              bench_sink(raw));
    BENCH_RUN("tx1559_signing_hash", 200000, tx_signing_hash(digest, &tx);
              bench_sink(digest));
    BENCH_RUN("tx1559_encode_hash_sign_serialize", 2000,
              tx_sign(&sig, &tx, key);
              tx_encode_signed(raw, sizeof(raw), &n, &tx, &sig);
              tx_hash(hash, raw, n); bench_sink(hash));
    BENCH_RUN("secp256k1_sign", 2000, ecdsa_sign(&sig, digest, key);
              bench_sink(&sig));
    BENCH_RUN("tx_decode_recover", 2000, tx_decode(&dec, &dsig, acl, 4, raw, n);
              tx_recover_sender(&from, &dec, &dsig); bench_sink(&from));
    return 0;
}
