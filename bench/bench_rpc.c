/* RPC client overhead: eth_chainId through rpc_call on a libuv loop versus
 * the same request written by hand on a raw keep-alive socket, both to a
 * local anvil. The two alternate batch by batch; the overhead is the
 * median of the per-batch differences. Needs anvil (started as the
 * tests start it, tests/support/anvil.h); without it the benchmark says
 * so and exits 0. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "chain/rpc.h"
#include "tests/support/anvil.h"

#define REQ_BODY                                                               \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}"

/* Connect, retrying until anvil listens (bounded). Returns: fd or -1. */
static int
bench_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    uint64_t until = bench_now_ns() + 20000000000ull;
    int one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (bench_now_ns() < until) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            return fd;
        }
        close(fd);
        usleep(20000); /* startup only, not measured */
    }
    return -1;
}

/* One request/response on a keep-alive socket. Returns: 0 or -1. */
static int
bench_raw_roundtrip(int fd, const char *req, size_t reqlen)
{
    char buf[4096];
    size_t have = 0;
    char *end;

    if (write(fd, req, reqlen) != (ssize_t)reqlen)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
            char *cl = strcasestr(buf, "content-length:");
            size_t want =
                (size_t)(end - buf) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);

            if (have >= want)
                return 0;
        }
    }
}

static void
bench_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    uv_loop_t *loop = arg;

    if (!result || st->err)
        abort();
    uv_stop(loop);
}

/* Process CPU time (user + system), ns. */
static uint64_t
bench_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define BENCH_ITERS 200

/* Per-op wall and CPU time of one batch. */
struct bench_batch {
    double wall, cpu;
};

static double
bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    return v[n / 2];
}

static void
bench_raw_batch(struct bench_batch *out, int fd, const char *req, size_t reqlen)
{
    uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();

    for (int i = 0; i < BENCH_ITERS; i++)
        if (bench_raw_roundtrip(fd, req, reqlen))
            abort();
    out->wall = (double)(bench_now_ns() - t0) / BENCH_ITERS;
    out->cpu = (double)(bench_cpu_ns() - c0) / BENCH_ITERS;
}

static void
bench_rpc_batch(struct bench_batch *out, struct rpc_client *c, uv_loop_t *loop)
{
    uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();

    for (int i = 0; i < BENCH_ITERS; i++) {
        if (rpc_call(c, "eth_chainId", NULL, NULL, bench_cb, loop, NULL))
            abort();
        uv_run(loop, UV_RUN_DEFAULT);
    }
    out->wall = (double)(bench_now_ns() - t0) / BENCH_ITERS;
    out->cpu = (double)(bench_cpu_ns() - c0) / BENCH_ITERS;
}

/* Raw and rpc_call batches alternate, so that both see the same machine
 * (other processes, idle CPUs waking up); the overhead is the median of
 * the per-pair differences. CPU time per call is reported as well: it
 * does not count time spent waiting for anvil or for a CPU to wake. */
static void
bench_measure(int fd, const char *req, size_t reqlen, struct rpc_client *c,
              uv_loop_t *loop)
{
    struct bench_batch raw[BENCH_BATCHES], rpc[BENCH_BATCHES];
    double v[4][BENCH_BATCHES];

    bench_raw_batch(&raw[0], fd, req, reqlen); /* warm both paths */
    bench_rpc_batch(&rpc[0], c, loop);
    for (int b = 0; b < BENCH_BATCHES; b++) {
        bench_raw_batch(&raw[b], fd, req, reqlen);
        bench_rpc_batch(&rpc[b], c, loop);
        v[0][b] = raw[b].wall;
        v[1][b] = rpc[b].wall;
        v[2][b] = rpc[b].wall - raw[b].wall;
        v[3][b] = rpc[b].cpu - raw[b].cpu;
    }
    printf("rpc_raw_keepalive_roundtrip %.1f ns/op\n",
           bench_median(v[0], BENCH_BATCHES));
    printf("rpc_call_roundtrip %.1f ns/op\n",
           bench_median(v[1], BENCH_BATCHES));
    printf("rpc_client_overhead %.1f ns/op (target <= 20000)\n",
           bench_median(v[2], BENCH_BATCHES));
    for (int b = 0; b < BENCH_BATCHES; b++)
        v[0][b] = rpc[b].cpu;
    printf("rpc_call_client_cpu %.1f ns/op\n",
           bench_median(v[0], BENCH_BATCHES));
    printf("rpc_client_cpu_overhead %.1f ns/op\n",
           bench_median(v[3], BENCH_BATCHES));
    fflush(stdout);
}

static void
bench_run(int port)
{
    char req[512], url[64];
    int reqlen, fd;
    uv_loop_t loop;
    struct rpc_client *c;
    struct rpc_opts o;
    struct rpc_endpoint_cfg ep = {.url = url};

    reqlen =
        snprintf(req, sizeof(req),
                 "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                 "\r\n%s",
                 port, strlen(REQ_BODY), REQ_BODY);
    if ((fd = bench_connect(port)) < 0) {
        printf("bench_rpc skipped: anvil did not start\n");
        return;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    uv_loop_init(&loop);
    rpc_opts_init(&o);
    o.head_poll_ms = 0;
    if (rpc_client_new(&c, &loop, NULL, &ep, 1, &o) != 0)
        abort();
    bench_measure(fd, req, (size_t)reqlen, c, &loop);
    close(fd);
    rpc_client_free(c);
    while (uv_loop_alive(&loop))
        uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
}

int
main(void)
{
    struct ts_anvil node;

    if (ts_anvil_start(&node, NULL) != 0) {
        printf("bench_rpc skipped: anvil did not start\n");
        return 0;
    }
    bench_run(node.port);
    ts_anvil_stop(&node);
    return 0;
}
