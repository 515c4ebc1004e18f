/* ABI codec: the calls the keeper makes on its hot path (inject(uint256)
 * calldata, a balance() return value) and heavier shapes for scale. */
#include <string.h>

#include "bench/bench.h"
#include "chain/abi.h"

static unsigned char arena_buf[64 * 1024];

int
main(void)
{
    static const char inject_text[] = "inject(uint256)";
    static const char g_text[] = "g(uint256[][],string[])";
    const char *inject_args[] = {"250000000000"};
    const char *g_args[] = {"[[1,2],[3]]", "[one,two,three]"};
    struct abi_sig inject, bal, g;
    struct abi_value arg, args, v;
    struct abi_arena a;
    uint8_t out[1024], gdata[1024], word[32] = {0};
    size_t n, glen;

    abi_sig_parse(&inject, inject_text, strlen(inject_text), NULL);
    abi_sig_parse(&bal, "balance()(uint256)", 18, NULL);
    abi_sig_parse(&g, g_text, strlen(g_text), NULL);
    abi_value_uint64(&arg, 250000000000u);
    abi_value_list(&args, ABI_TUPLE, &arg, 1);
    word[30] = 0x12;
    word[31] = 0x34;
    abi_encode_call_text(gdata, sizeof(gdata), &glen, &g, g_args, 2, NULL);
    abi_arena_init(&a, arena_buf, sizeof(arena_buf));

    BENCH_RUN("abi_sig_parse_transfer", 100000,
              abi_sig_parse(&g, "transfer(address,uint256)", 25, NULL);
              bench_sink(&g));
    abi_sig_parse(&g, g_text, strlen(g_text), NULL);
    BENCH_RUN("abi_encode_call_inject", 1000000,
              abi_encode_call(out, sizeof(out), &n, &inject, &args);
              bench_sink(out));
    BENCH_RUN("abi_encode_call_text_inject", 200000,
              abi_encode_call_text(out, sizeof(out), &n, &inject,
                                   inject_args, 1, NULL);
              bench_sink(out));
    BENCH_RUN("abi_decode_output_balance", 1000000,
              abi_arena_reset(&a);
              abi_decode_output(&v, &a, &bal, word, 32, NULL);
              bench_sink(&v));
    BENCH_RUN("abi_decode_call_spec_g", 200000,
              abi_arena_reset(&a);
              abi_decode_call(&v, &a, &g, gdata, glen, NULL);
              bench_sink(&v));
    return 0;
}
