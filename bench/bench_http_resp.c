/* HTTP/1.x response parsing: a typical anvil JSON-RPC reply (six headers,
 * 42-byte body) as one read, as two reads cut inside a header line, and
 * the same body chunked; each includes the http_resp_reset that readies
 * the parser for the next reply on a kept-alive connection. The replies
 * are the ones tests/chain/test_http_resp.c checks. */
#include <string.h>

#include "bench/bench.h"
#include "chain/http_resp.h"
#include "tests/chain/http_resp_samples.h"

static int
parse(struct http_resp *p, const char *s, size_t n, size_t cut)
{
    size_t used;
    int rc;

    http_resp_reset(p, 1u << 20, false);
    rc = http_resp_feed(p, s, cut, &used);
    if (rc == HTTP_RESP_MORE)
        rc = http_resp_feed(p, s + cut, n - cut, &used);
    return rc;
}

int
main(void)
{
    static const char reply[] = ANVIL_REPLY, chunked[] = ANVIL_REPLY_CHUNKED;
    size_t n = sizeof(reply) - 1, nc = sizeof(chunked) - 1;
    struct http_resp p;

    http_resp_init(&p, 1u << 20, false);
    if (parse(&p, reply, n, n) != HTTP_RESP_DONE || p.body_len != 42 ||
        parse(&p, chunked, nc, nc) != HTTP_RESP_DONE || p.body_len != 42) {
        fprintf(stderr, "bench_http_resp: replies do not parse\n");
        return 1;
    }
    printf("# anvil reply %zu bytes\n", n);
    BENCH_RUN("http_resp_anvil_1read", 1000000,
              bench_sink(&p); parse(&p, reply, n, n); bench_sink(p.body));
    BENCH_RUN("http_resp_anvil_2reads", 1000000,
              bench_sink(&p); parse(&p, reply, n, 100); bench_sink(p.body));
    BENCH_RUN("http_resp_chunked_1read", 1000000,
              bench_sink(&p); parse(&p, chunked, nc, nc); bench_sink(p.body));
    http_resp_free(&p);
    return 0;
}
