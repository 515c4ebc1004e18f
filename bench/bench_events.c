/* Log decoding: one eth_subscription "logs" notification as a node sends
 * it over WebSocket (3 topics, 64 bytes of data, ~780 bytes in all) into
 * a typed struct evlog, the way the event stream receives every log.
 * Reports ns per message and the throughput in logs per second on one
 * core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "chain/evlog.h"

/* AnswerUpdated-like shape with a wider data section; hashes and ids of
 * realistic length, as anvil and geth print them. */
static const char bench_msg[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{"
    "\"subscription\":\"0x9ce59a13059e417087c02d3236a0b1cc\",\"result\":{"
    "\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
    "\"topics\":["
    "\"0x0559884fd3a460db3073b7fc896cc77986f16e378210ded43186175bf646fc5f\","
    "\"0x0000000000000000000000000000000000000000000000000000000005f5e100\","
    "\"0x000000000000000000000000000000000000000000000000000000000000002a\"],"
    "\"data\":\"0x"
    "0000000000000000000000000000000000000000000000000000000066f2a1b3"
    "0000000000000000000000000000000000000000000000000de0b6b3a7640000\","
    "\"blockHash\":"
    "\"0x8e2a7f6c4b5d3e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f\","
    "\"blockNumber\":\"0x1b4\","
    "\"transactionHash\":"
    "\"0x3c1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7\","
    "\"transactionIndex\":\"0x0\",\"logIndex\":\"0x2\",\"removed\":false}}}";

static struct evlog_msg bench_m;
static uint8_t bench_buf[4096];

static void
bench_decode_once(void)
{
    if (evlog_msg_parse(&bench_m, bench_buf, sizeof(bench_buf), bench_msg,
                        sizeof(bench_msg) - 1) != 0 ||
        bench_m.kind != EVLOG_MSG_LOG)
        abort();
    bench_sink(&bench_m);
}

int
main(void)
{
    double per_op[BENCH_BATCHES];
    const long iters = 20000;

    /* Check the message once: a bench of a failing parse means nothing. */
    bench_decode_once();
    if (bench_m.log.ntopics != 3 || bench_m.log.data_len != 64 ||
        bench_m.log.block_number != 0x1b4 || bench_m.log.log_index != 2) {
        fprintf(stderr, "bench_events: sample message decoded wrongly\n");
        return 1;
    }
    printf("evlog_msg_bytes %zu bytes\n", sizeof(bench_msg) - 1);
    for (int b = 0; b < BENCH_BATCHES; b++) {
        uint64_t t0 = bench_now_ns();

        for (long i = 0; i < iters; i++)
            bench_decode_once();
        per_op[b] = (double)(bench_now_ns() - t0) / (double)iters;
    }
    qsort(per_op, BENCH_BATCHES, sizeof(*per_op), bench_cmp_double);
    printf("evlog_msg_parse_log %.1f ns/op\n", per_op[BENCH_BATCHES / 2]);
    printf("evlog_decode_throughput %.0f logs/s (target >= 200000)\n",
           1e9 / per_op[BENCH_BATCHES / 2]);
    return 0;
}
