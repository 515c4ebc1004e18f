/*
 * http.h - asynchronous HTTP client on a caller's libuv loop.
 *
 * Two engines behind one interface (chain/http_int.h). Plain http://
 * requests - JSON-RPC to a node nearby, the hot path - go over HTTP/1.1
 * connections of the client's own, kept alive on libuv TCP handles.
 * Everything else - https://, a proxy named in the environment,
 * compressed replies, credentials in the URL, or via_curl - goes through
 * one libcurl multi handle, driven through curl_multi_socket_action by a
 * uv_poll_t per socket and one uv_timer_t for curl's timeouts. Both keep
 * connections to the same host alive between requests, and nothing
 * blocks the loop: no curl_easy_perform, names resolve on libuv's or
 * curl's threads.
 *
 * Completion callbacks run from the loop, never from inside
 * http_request_start. A callback may start or cancel requests and may free
 * the client.
 *
 * Closing uv handles is asynchronous: after http_client_free, let the loop
 * run (uv_run) until its handles are closed before uv_loop_close.
 */
#ifndef KP_CHAIN_HTTP_H
#define KP_CHAIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct http_client;
struct http_request;

/* Caps on what a caller may ask for (programmer-facing limits). */
#define HTTP_MAX_HEADERS 32
#define HTTP_MAX_TIMEOUT_MS (24u * 3600u * 1000u)

struct http_req_opts {
    const char *method;         /* "GET", "POST", ...; NULL: POST if a
                                   body is given, else GET */
    const char *url;            /* http:// or https:// only */
    const char *const *headers; /* "Name: value" lines, copied */
    size_t nheaders;
    const void *body; /* copied; may be NULL when body_len 0 */
    size_t body_len;
    uint32_t timeout_ms;         /* whole request, 1..HTTP_MAX_TIMEOUT_MS */
    uint32_t connect_timeout_ms; /* 0: same as timeout_ms */
    size_t max_reply;            /* reply body cap in bytes, > 0 */
    bool accept_compressed;      /* ask for gzip/deflate/br replies and
                                    inflate them (the cap applies to the
                                    inflated body): fewer bytes for big
                                    replies over a WAN, but ~10% more CPU
                                    per request even when the server
                                    does not compress */
    bool via_curl;               /* libcurl even where the plain engine
                                    would do (tests of both engines) */
    const char *ca_file;         /* https://: PEM file of the CA
                                    certificates to trust instead of the
                                    system store (a node behind a private
                                    CA); NULL: the system store. Read when
                                    the connection is made: a file that
                                    cannot be read fails the request */
};

/* What a finished request reports. Everything is borrowed for the
 * duration of the callback only. */
struct http_reply {
    int err;          /* 0, KP_ETRANSPORT, KP_ETIMEOUT or KP_ELIMIT */
    long status;      /* HTTP status, 0 if none was received */
    const char *body; /* reply body, NUL-terminated ("" if none) */
    size_t body_len;
    uint64_t elapsed_us; /* from http_request_start to completion */
    const char *errtext; /* one line ("" when err == 0); names host and
                            port at most, never the URL path */
    bool sent;           /* false only when the request certainly never
                            left (connection or name resolution failed),
                            so repeating it elsewhere cannot duplicate */
    long retry_after_s;  /* the reply's Retry-After in seconds, capped
                            at a day; -1 when absent or unparsable. The
                            plain engine reads delta-seconds only (a date
                            is absent); libcurl also turns a date into
                            seconds from now, and reads 0 as absent */
};

typedef void (*http_done_fn)(void *arg, const struct http_reply *rep);

/* Create a client on `loop`.
 * Returns: 0 (the client is in *out). Out of memory is fatal.
 * Out: *out   In: loop */
int http_client_new(struct http_client **out, uv_loop_t *loop);

/* Cancel every pending request (their callbacks are not called) and
 * release the client; the memory goes once the loop has closed its
 * handles. NULL is a no-op. */
void http_client_free(struct http_client *c);

/* Start a request. `cb` runs exactly once, from the loop, unless the
 * request is cancelled first.
 * Returns: 0; KP_EINVAL on a bad method, URL scheme, header or option
 *          (nothing started, cb never called); KP_ESTATE if the client is
 *          being freed.
 * Out: *out (optional handle, valid until cb runs or cancel)
 * In: c, o, cb, arg */
int http_request_start(struct http_client *c, const struct http_req_opts *o,
                       http_done_fn cb, void *arg, struct http_request **out);

/* Abort a pending request; its callback is not called. */
void http_request_cancel(struct http_request *r);

/* Returns: the number of requests started and not yet finished. */
size_t http_client_pending(const struct http_client *c);

/* Write a display form of `url` without credentials, path or query:
 * "scheme://host[:port]" (port only when given in the URL).
 * Returns: 0; KP_EINVAL if `url` does not parse as an http(s) URL;
 *          KP_ERANGE if `outcap` is too small.
 * Out: out   In: outcap, url */
int http_url_display(char *out, size_t outcap, const char *url);

#endif
