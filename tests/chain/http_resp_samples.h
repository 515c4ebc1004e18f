/*
 * http_resp_samples.h - raw HTTP replies shared by the response parser's
 * test (tests/chain/test_http_resp.c) and its benchmark
 * (bench/bench_http_resp.c), so that what is timed is what is checked.
 */
#ifndef KP_TESTS_HTTP_RESP_SAMPLES_H
#define KP_TESTS_HTTP_RESP_SAMPLES_H

/* A typical anvil JSON-RPC reply (eth_chainId): six headers, a 42-byte
 * body framed by Content-Length. */
#define ANVIL_REPLY_HEAD                                                       \
    "HTTP/1.1 200 OK\r\n"                                                      \
    "content-type: application/json\r\n"                                       \
    "vary: origin, access-control-request-method, "                            \
    "access-control-request-headers\r\n"                                       \
    "access-control-allow-origin: *\r\n"                                       \
    "content-length: 42\r\n"                                                   \
    "date: Tue, 24 Nov 2026 07:37:20 GMT\r\n"                                  \
    "\r\n"
#define ANVIL_REPLY_BODY "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}"
#define ANVIL_REPLY ANVIL_REPLY_HEAD ANVIL_REPLY_BODY

/* The same body in one chunk (0x2a = 42 bytes). */
#define ANVIL_REPLY_CHUNKED                                                    \
    "HTTP/1.1 200 OK\r\n"                                                      \
    "content-type: application/json\r\n"                                       \
    "transfer-encoding: chunked\r\n"                                           \
    "date: Tue, 24 Nov 2026 07:37:20 GMT\r\n"                                  \
    "\r\n"                                                                     \
    "2a\r\n" ANVIL_REPLY_BODY "\r\n"                                           \
    "0\r\n\r\n"

#endif
