/* Keccak-256 and hex throughput. */
#include <string.h>

#include "bench/bench.h"
#include "chain/hex.h"
#include "chain/keccak.h"

int
main(void)
{
    uint8_t in[1024], out[32];
    char hex[2 * 32 + 3];

    memset(in, 0xa5, sizeof(in));
    BENCH_RUN("keccak256_32B", 200000, keccak256(out, in, 32); bench_sink(out));
    /* 135 bytes fit one block with padding; 136 need a second block. */
    BENCH_RUN("keccak256_135B", 200000, keccak256(out, in, 135); bench_sink(out));
    BENCH_RUN("keccak256_136B", 200000, keccak256(out, in, 136); bench_sink(out));
    BENCH_RUN("keccak256_1KiB", 50000, keccak256(out, in, 1024); bench_sink(out));
    BENCH_RUN("hex_encode_32B", 1000000,
              hex_encode(hex, sizeof(hex), out, 32, true); bench_sink(hex));
    return 0;
}
