/*
 * ws.h - WebSocket client on a caller's libuv loop (libwebsockets).
 *
 * One client keeps one connection up to one of an ordered list of ws://
 * or wss:// URLs (the same stream from several nodes): it connects to the
 * first, and whenever an attempt fails or an open connection drops it
 * tries the next URL in the list (round robin, back to the first after
 * the last) after an exponential backoff with jitter. The backoff grows
 * with the failures in a row over the whole list, so a list of dead nodes
 * is not hammered, and resets once a message arrives on a connection.
 * Host names are resolved with uv_getaddrinfo (on libuv's thread pool),
 * so nothing blocks the loop.
 *
 * Liveness: a ping goes out every ping_ms; a connection on which nothing
 * (message, pong) arrived for idle_timeout_ms is dropped and replaced.
 * Messages in are capped (max_message bytes, over the cap the connection
 * is dropped: the stream is incomplete from there on); messages out are
 * queued up to max_queue bytes and dropped with the connection (a caller
 * re-sends what it needs - subscriptions - from on_open).
 *
 * Handler calls come from the loop. From inside any of them the caller
 * may send, or free the client.
 *
 * URLs may hold API keys (in the path or query): the display names and
 * every error text show "scheme://host:port" only.
 */
#ifndef KP_CHAIN_WS_H
#define KP_CHAIN_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct ws_client;

#define WS_MAX_HOST 256  /* bytes of a host name, with the NUL */
#define WS_MAX_PATH 2048 /* bytes of path + query, with the NUL */
#define WS_MAX_HEADERS 16
#define WS_MAX_URLS 16                  /* URLs per client */
#define WS_NAME_MAX 300                 /* display name, with the NUL */
#define WS_MAX_MESSAGE_CAP (256u << 20) /* largest max_message accepted */

struct ws_opts {
    uint32_t connect_timeout_ms; /* resolve + connect + handshake
                                    (default 10000) */
    uint32_t ping_ms;            /* 0: no pings (default 15000) */
    uint32_t idle_timeout_ms;    /* 0: never (default 45000) */
    uint32_t backoff_base_ms;    /* first reconnect delay (default 250) */
    uint32_t backoff_max_ms;     /* cap on the delay (default 30000) */
    size_t max_message;          /* bytes per message in (default 4 MiB) */
    size_t max_queue;            /* bytes waiting to go out (default 1 MiB) */
    const char *const *headers;  /* extra handshake "Name: value" lines
                                    (e.g. auth), sent to every URL;
                                    copied, never shown */
    size_t nheaders;
    uint64_t seed;       /* jitter PRNG seed; 0: from the clock */
    const char *ca_file; /* wss://: PEM file of the CA certificates to
                            trust instead of the system store, for every
                            URL of the client (one TLS context); NULL:
                            the system store. Copied */
};

/* Called from the loop. Any member may be NULL. */
struct ws_handler {
    /* The connection is open (after every reconnect, too); ws_name and
     * ws_url_index tell to which URL. */
    void (*on_open)(void *arg);
    /* A complete message, NUL-terminated for convenience (text may still
     * hold NULs; use len). Borrowed for the call. */
    void (*on_message)(void *arg, const char *msg, size_t len);
    /* An open connection was lost: `err` is KP_ETRANSPORT (closed or
     * reset), KP_ETIMEOUT (idle), KP_ELIMIT (message over the cap) or
     * KP_EINVAL (protocol error); `text` one line. ws_name still names
     * the URL lost; a reconnect to the next URL follows. */
    void (*on_close)(void *arg, int err, const char *text);
};

/* Counters, for metrics. Plain values, updated by the client. */
struct ws_stats {
    uint64_t attempts;    /* connection attempts started */
    uint64_t connects;    /* handshakes completed */
    uint64_t failures;    /* attempts that never opened */
    uint64_t disconnects; /* open connections lost */
    uint64_t messages_in;
    uint64_t bytes_in;
    uint64_t messages_out;
    uint64_t oversized; /* messages over max_message */
    uint64_t pings;
    uint64_t dropped_out; /* messages not queued: queue full or closed */
    uint64_t reconnects[WS_MAX_URLS]; /* handshakes completed per URL
                                         index, the client's first one
                                         not counted */
};

/* Parts of a WebSocket URL. */
struct ws_url {
    bool tls;               /* wss */
    char host[WS_MAX_HOST]; /* without brackets for IPv6 literals */
    uint16_t port;          /* explicit, or 80 / 443 */
    bool port_given;
    char path[WS_MAX_PATH]; /* "/" when empty; with the query */
};

/* Fill `o` with the defaults listed in struct ws_opts. */
void ws_opts_init(struct ws_opts *o);

/* Split a ws:// or wss:// URL. User info ("user:pass@") is refused.
 * Returns: 0; KP_EINVAL (another scheme, syntax, bad port); KP_ERANGE
 *          (host or path too long).
 * Out: u   In: url */
int ws_url_parse(struct ws_url *u, const char *url);

/* Check a list of URLs as ws_client_new does: each must pass
 * ws_url_parse.
 * Returns: 0; KP_ERANGE if nurls is 0 or over WS_MAX_URLS (*bad = nurls);
 *          otherwise ws_url_parse's error for the first bad URL, whose
 *          index is in *bad (a NULL entry is KP_EINVAL).
 * Out: *bad (untouched on success)   In: urls, nurls */
int ws_urls_check(size_t *bad, const char *const *urls, size_t nurls);

/* Create a client for the `nurls` URLs at `urls`, in order of preference,
 * on `loop`; it does not connect before ws_start. `o` NULL: defaults. The
 * URLs and the strings in `o` are copied.
 * Returns: 0; KP_EINVAL (a bad URL - ws_urls_check tells which -, a bad
 *          header line); KP_ERANGE (a URL count or an option out of
 *          range: zero or over WS_MAX_MESSAGE_CAP max_message, more than
 *          WS_MAX_HEADERS headers, base > max backoff, host or path too
 *          long); KP_EIO (lws cannot start on the loop, ca_file cannot
 *          be read, or - with a wss:// URL - holds no certificate).
 * Out: *out   In: loop, urls, nurls, o */
int ws_client_new(struct ws_client **out, uv_loop_t *loop,
                  const char *const *urls, size_t nurls,
                  const struct ws_opts *o);

/* Set who hears about the connection (copied; NULL: nobody). May be
 * called at any time; it takes effect for the next event. */
void ws_set_handler(struct ws_client *w, const struct ws_handler *h, void *arg);

/* Start connecting (and keep reconnecting until ws_client_free).
 * Returns: 0, or KP_ESTATE if already started. */
int ws_start(struct ws_client *w);

/* Queue a text message for the open connection.
 * Returns: 0; KP_ESTATE if the connection is not open; KP_ELIMIT if the
 *          queue would go over max_queue bytes.
 * In: w, text, len */
int ws_send_text(struct ws_client *w, const char *text, size_t len);

/* Returns: whether the connection is open. */
bool ws_is_open(const struct ws_client *w);

/* Returns: the counters, valid until the client is freed. */
const struct ws_stats *ws_stats(const struct ws_client *w);

/* Returns: "ws[s]://host:port" of the current URL (open, being tried, or,
 * between attempts, the one that failed last), never the path or a
 * secret. Valid until the client is freed (a later failover does not
 * change the text returned before). */
const char *ws_name(const struct ws_client *w);

/* Returns: the index in the creation list of the URL ws_name names. */
size_t ws_url_index(const struct ws_client *w);

/* Returns: the text of the last failure ("" if none). */
const char *ws_last_error(const struct ws_client *w);

/* Close the connection and release the client: no handler call after
 * this. The memory goes while the loop runs afterwards. NULL: no-op. */
void ws_client_free(struct ws_client *w);

#endif
