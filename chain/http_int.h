/*
 * http_int.h - what chain/http.c shares with its plain-HTTP engine
 * (chain/http_plain.c). Not for other modules.
 *
 * A request runs on one of two engines. libcurl's multi interface takes
 * everything by default: TLS, proxies, compression, credentials in the
 * URL. A plain http:// request with none of those - JSON-RPC to a node on
 * the same host or network, the keeper's hot path - goes to the plain
 * engine instead: HTTP/1.1 over kept-alive libuv TCP connections, a
 * request written with one send and the reply parsed as it arrives
 * (chain/http_resp.h). curl 7.88 spends ~25 us of CPU on a request on a
 * kept-alive connection; the plain engine, ~2 us.
 */
#ifndef KP_CHAIN_HTTP_INT_H
#define KP_CHAIN_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/http.h"

struct http_easy;
struct http_pconn;
struct http_plain;

/* Where a plain request goes: borrowed from the request's URL. */
struct http_target {
    const char *host; /* without brackets for IPv6 literals */
    size_t host_len;
    uint16_t port;
    bool ipv6; /* host is an IPv6 literal (bracketed in Host:) */
    const char *path; /* path and query; "" stands for "/" */
    size_t path_len;
};

struct http_request {
    struct http_client *c;
    http_done_fn cb;
    void *arg;
    uint64_t t0;
    size_t max;
    bool finishing; /* callback running: cancel is a no-op */
    struct http_request *prev, *next;

    /* curl engine */
    struct http_easy *h;
    size_t len;
    bool over_limit;

    /* plain engine */
    bool plain;
    struct http_pconn *pc; /* the connection carrying it, if any */
    char *wire;            /* the request as sent (wiped when done) */
    size_t wire_len;
    uint64_t deadline_ms;         /* uv_now() time the request expires */
    uint32_t connect_timeout_ms;  /* per connection attempt */
    bool head;                    /* HEAD: no reply body */
    bool retried;                 /* already moved to a fresh connection */
    bool sent_before;             /* the first attempt may have left */
    char errtext[160];
};

/* Whether the plain engine takes this request; if so, where it goes.
 * Out: *t   In: o */
bool http_plain_takes(const struct http_req_opts *o, struct http_target *t);

/* Returns: a plain engine on `loop` (no handles until a request). */
struct http_plain *http_plain_new(uv_loop_t *loop);

/* Close every connection (requests must have been cancelled first); the
 * memory goes once the loop has closed their handles. */
void http_plain_free(struct http_plain *p);

/* Build the request and send it on a kept-alive connection to the
 * target, or on a new one. Never completes from inside the call.
 * In: p, o, method, t, r (linked by the caller) */
void http_plain_start(struct http_plain *p, const struct http_req_opts *o,
                      const char *method, const struct http_target *t,
                      struct http_request *r);

/* Detach `r` from its connection (which closes: its reply would arrive
 * for nobody) and release what the engine holds for it. */
void http_plain_cancel(struct http_request *r);

/* Complete `r` (implemented by chain/http.c): unlink it, run its
 * callback, free it. The engine must be done with `r` before. */
void http_deliver(struct http_request *r, const struct http_reply *rep);

#endif
