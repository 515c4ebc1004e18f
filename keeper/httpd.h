/*
 * httpd.h - the metrics and health HTTP server, on the daemon's libuv loop.
 *
 * libwebsockets serves HTTP/1.1 on the caller's loop (its libuv event-lib
 * plugin with a foreign loop): nothing here runs a loop of its own or
 * blocks. Routes, all GET only (anything else: 405 and the connection is
 * closed):
 *
 *   /metrics  200 text/plain; version=0.0.4 - the registry, rendered
 *   /healthz  200 "ok" while a heartbeat timer on the loop keeps firing;
 *             503 "loop stalled" once the heartbeat is older than
 *             stall_ms (the loop is alive but starved)
 *   /readyz   200 "ok", or 503 with the one-line reason from `ready`
 *   /status   200 application/json from `status`
 *   other     404
 *
 * Request headers are capped (max_header bytes; more is refused by lws
 * with 431 or a closed connection), a response body by the registry's
 * render cap, and idle connections are timed out by lws.
 */
#ifndef KP_KEEPER_HTTPD_H
#define KP_KEEPER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "keeper/metrics.h"

#define HTTPD_DEFAULT_LISTEN "127.0.0.1:9464"
#define HTTPD_MAX_HOST 64 /* bytes of the host part of "host:port" */
#define HTTPD_DEFAULT_HEARTBEAT_MS 1000
#define HTTPD_DEFAULT_STALL_MS 10000
#define HTTPD_DEFAULT_MAX_HEADER 4096
#define HTTPD_MAX_REASON 256 /* /readyz reason, bytes with the NUL */

struct httpd_config {
    const char *listen;      /* "host:port"; NULL: HTTPD_DEFAULT_LISTEN */
    struct metrics *metrics; /* NULL: /metrics is empty */
    /* Readiness (NULL: always ready): return true if ready; otherwise
     * write a one-line reason (NUL-terminated, at most reasonsz bytes)
     * and return false. */
    bool (*ready)(void *arg, char *reason, size_t reasonsz);
    /* Status (NULL: {}): return a new cJSON value describing the daemon
     * (httpd prints and deletes it), or NULL (then 500). */
    cJSON *(*status)(void *arg);
    void *arg;             /* passed to ready and status */
    uint32_t heartbeat_ms; /* 0: HTTPD_DEFAULT_HEARTBEAT_MS */
    uint32_t stall_ms;     /* 0: HTTPD_DEFAULT_STALL_MS; keep it several
                              heartbeats long */
    uint32_t max_header;   /* 0: HTTPD_DEFAULT_MAX_HEADER */
};

struct httpd;

/* Split "host:port" (IPv4 literal or "localhost"; port 0-65535, 0 meaning
 * an ephemeral port). Useful to validate the config without binding.
 * Returns: 0, or KP_EINVAL (syntax, not an IPv4 address), KP_ERANGE (port
 * out of range, host too long).
 * Out: host (hostsz bytes; "localhost" becomes "127.0.0.1"), *port
 * In: s */
int httpd_parse_listen(char *host, size_t hostsz, uint16_t *port,
                       const char *s);

/* Start listening on `loop`. The config's strings and callbacks must stay
 * valid until httpd_free; the loop must be running (or be run) for
 * requests to be served.
 * Returns: 0; KP_EINVAL/KP_ERANGE for a bad listen address; KP_EIO if the
 * address cannot be bound or lws cannot start on the loop (the reason is
 * logged, module "httpd").
 * Out: *out   In: loop, cfg */
int httpd_new(struct httpd **out, uv_loop_t *loop,
              const struct httpd_config *cfg);

/* Route libwebsockets' own error and warning lines into log.h (module
 * "lws") and silence its notices. lws has one process-wide log sink, so
 * this covers every lws context (WebSocket clients too); httpd_new calls
 * it. */
void httpd_lws_logs_init(void);

/* Returns: the TCP port actually bound (useful after port 0). */
uint16_t httpd_port(const struct httpd *h);

/* Stop listening, close connections and free everything. Closing a libuv
 * handle completes on the loop, so the last memory is released while the
 * loop runs afterwards (e.g. the caller's final uv_run before
 * uv_loop_close). NULL is a no-op. */
void httpd_free(struct httpd *h);

#endif
