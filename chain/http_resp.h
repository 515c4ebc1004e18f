/*
 * http_resp.h - incremental parser for one HTTP/1.x response.
 *
 * The plain-HTTP engine of chain/http.c reads replies off a kept-alive
 * connection in whatever pieces the socket hands over; this parser takes
 * those pieces, one call per read, and says when the response is
 * complete and whether the connection may carry the next request. It
 * never touches a socket and allocates only the body buffer, so it is
 * fuzzed on its own (tests/fuzz/fuzz_http_resp.c).
 *
 * Understood: a status line "HTTP/1.0" or "HTTP/1.1" with a three-digit
 * status 100..599; header lines (names case-insensitive, "\r\n" or a bare
 * "\n" as line end, optional whitespace around values); interim 1xx
 * responses (except 101), which are skipped; bodies framed by
 * Content-Length, by "Transfer-Encoding: chunked" (chunk extensions and
 * trailer fields ignored) or by the end of the connection; no body for
 * 1xx/204/304 or a reply to HEAD. Keep-alive: HTTP/1.1 unless
 * "Connection: close", HTTP/1.0 only with "Connection: keep-alive"; never
 * for a body framed by the end of the connection.
 *
 * Retry-After of the final response (a rate-limited or overloaded server
 * says when to come back): delta-seconds only, all digits, capped at
 * HTTP_RESP_RETRY_AFTER_MAX. An HTTP-date, any other value, a line too
 * long to keep or no such header reads as absent (-1): a date would need
 * the server's clock to agree with ours, and the callers have a backoff
 * of their own to fall back on. Of several such headers the last counts.
 * Never a reason to refuse a response.
 *
 * Refused (KP_EINVAL): anything else in the status line (an empty line
 * before it too), a header line without a colon or whose name is not an
 * RFC 9110 token (whitespace before the colon, an obs-fold continuation
 * line), a Content-Length that is
 * not all digits or differs from an earlier one, a malformed chunk size
 * line, a missing CRLF after chunk data, a 101 response.
 * Caps (KP_ELIMIT): the status line, headers and trailer fields of one
 * response together HTTP_RESP_MAX_HEAD bytes (counted afresh after each
 * interim response), at most HTTP_RESP_MAX_INTERIM interim responses,
 * the body `max_body` bytes; a Content-Length or chunk size above the
 * cap is refused as soon as it is read (a Content-Length only when a body
 * follows: not for HEAD, 204 or 304), and so is a chunk size of more than
 * 15 significant hex digits. A status line or chunk size line longer than
 * `line` below, or a Content-Length, Transfer-Encoding or Connection
 * header that long, is refused as a cap too.
 *
 * The outcome never depends on how the bytes are split between calls.
 */
#ifndef KP_CHAIN_HTTP_RESP_H
#define KP_CHAIN_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_RESP_MAX_HEAD (64u * 1024u)
#define HTTP_RESP_MAX_INTERIM 8
#define HTTP_RESP_RETRY_AFTER_MAX 86400L /* one day, in seconds */

/* Result of http_resp_feed / http_resp_eof besides KP_E* codes. */
#define HTTP_RESP_MORE 0 /* complete so far; feed more */
#define HTTP_RESP_DONE 1 /* the response is complete */

struct http_resp {
    /* Results, valid once http_resp_feed returned HTTP_RESP_DONE (status
     * from when the headers are complete). */
    int status;      /* final status, 200..599 or 1xx never */
    bool keep_alive; /* the connection may carry another request */
    char *body;      /* body bytes, NUL-terminated; owned by the parser,
                        kept across http_resp_reset; NULL until the first
                        body byte */
    size_t body_len;
    bool got_bytes;     /* any byte of a response was fed */
    long retry_after_s; /* Retry-After in seconds, 0..86400; -1 absent or
                           not delta-seconds (set with the headers) */

    /* Parser state (private). */
    size_t body_cap, max_body;
    bool head_request;
    int state;
    int minor;       /* HTTP/1.minor */
    int interim;     /* interim responses skipped */
    size_t head_len; /* head bytes of the current response so far */
    char line[1024]; /* the line being assembled, "\r" included; a
                        longer header line is consumed without keeping
                        more than this, a longer status or framing line
                        is refused */
    size_t line_len;
    bool line_long; /* the current line overflowed `line` */
    bool chunked, has_length, conn_close, conn_keep_alive;
    bool has_te;               /* a Transfer-Encoding header was seen */
    unsigned long long length; /* Content-Length, or the current chunk's
                                  remaining bytes */
};

/* Prepare `p` for a response (zeroes everything but retry_after_s,
 * which starts at -1; the body buffer starts empty). `max_body` > 0 caps
 * the body; `head_request`: the request was HEAD, so no body follows
 * whatever the headers say.
 * Out: *p   In: max_body, head_request */
void http_resp_init(struct http_resp *p, size_t max_body, bool head_request);

/* Prepare `p` for the next response on the same connection, keeping the
 * body buffer's memory. Same inputs as http_resp_init. */
void http_resp_reset(struct http_resp *p, size_t max_body, bool head_request);

/* Release the body buffer (wiped first: it may have held secrets). */
void http_resp_free(struct http_resp *p);

/* Consume up to `len` bytes of the reply.
 * Returns: HTTP_RESP_MORE (all `len` bytes consumed, *used == len);
 *          HTTP_RESP_DONE (the response ended after *used bytes; bytes
 *          after it belong to no request we sent);
 *          KP_EINVAL (malformed), KP_ELIMIT (a cap was reached); after
 *          an error *used is of no use. After an error or DONE, further
 *          calls return the same result without consuming anything
 *          (*used == 0).
 * Out: *used   In: p, data (may be NULL when len is 0), len */
int http_resp_feed(struct http_resp *p, const char *data, size_t len,
                   size_t *used);

/* The peer closed the connection (end of stream).
 * Returns: HTTP_RESP_DONE if that completes the response (a body framed
 *          by the end of the connection, or a response already done);
 *          KP_ETRUNC otherwise (nothing or part of a response arrived;
 *          got_bytes tells which), or the error http_resp_feed already
 *          returned. The result sticks: a later feed returns it too. */
int http_resp_eof(struct http_resp *p);

#endif
