/* Metrics hot path (updates through a handle), series lookup, rendering a
 * scrape, and one log line. */
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "keeper/log.h"
#include "keeper/metrics.h"

int
main(void)
{
    struct metrics *reg = metrics_new(0);
    struct metric *req, *lat, *h;
    char ep[32], *text;
    size_t len;
    FILE *devnull = fopen("/dev/null", "w");

    metrics_register_keeper(reg, "bench");
    metrics_series(reg, &req, METRIC_RPC_REQUESTS_TOTAL,
                   METRIC_LABELS("main", "eth_call"));
    metrics_series(reg, &lat, METRIC_RPC_LATENCY_SECONDS,
                   METRIC_LABELS("main"));
    /* A registry the size of a busy daemon: 20 endpoints x 4 methods. */
    for (int i = 0; i < 20; i++) {
        snprintf(ep, sizeof(ep), "endpoint-%02d", i);
        metrics_series(reg, &h, METRIC_RPC_LATENCY_SECONDS, METRIC_LABELS(ep));
        metric_observe(h, 0.01 * i);
        for (int m = 0; m < 4; m++) {
            const char *meth[] = {"eth_call", "eth_getLogs", "eth_blockNumber",
                                  "eth_sendRawTransaction"};
            metrics_series(reg, &h, METRIC_RPC_REQUESTS_TOTAL,
                           METRIC_LABELS(ep, meth[m]));
            metric_add(h, i * m);
        }
    }

    BENCH_RUN("metric_inc", 1000000, metric_inc(req); bench_sink(req));
    BENCH_RUN("metric_observe", 1000000,
              metric_observe(lat, (double)(i_ & 1023) * 1e-4);
              bench_sink(lat));
    BENCH_RUN("metrics_series_lookup", 200000,
              metrics_series(reg, &h, METRIC_RPC_REQUESTS_TOTAL,
                             METRIC_LABELS("endpoint-19", "eth_getLogs"));
              bench_sink(h));
    BENCH_RUN("metrics_render_100_series", 2000,
              metrics_render(reg, &text, &len);
              bench_sink(text); free(text));
    if (devnull != NULL) {
        log_init(LOG_LEVEL_INFO, LOG_FORMAT_JSON, devnull);
        BENCH_RUN("log_info_json_3_fields", 100000,
                  log_info("rpc", "endpoint failed over", "from", "a", "to",
                           "b", LOG_U64("block", i_)));
        log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, NULL);
        fclose(devnull);
    }
    metrics_free(reg);
    return 0;
}
