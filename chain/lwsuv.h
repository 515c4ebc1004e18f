/*
 * lwsuv.h - libwebsockets contexts on a caller's libuv loop.
 *
 * libwebsockets 4.1 runs on a foreign libuv loop through its event-lib
 * plugin (LWS_SERVER_OPTION_LIBUV with info.foreign_loops). Creating such
 * a context is one call; destroying it is not: the first
 * lws_context_destroy only starts closing the context's libuv handles
 * (that completes on the loop), and only a second call, once they are
 * all closed, frees the context. Nothing in lws makes that second call
 * for a foreign loop, so lwsuv_context_destroy arranges it on a timer:
 * the context's memory is released while the loop keeps running (e.g. the
 * caller's final uv_run before uv_loop_close).
 *
 * Log routing is process-wide in lws (lws_set_log_level) and belongs to
 * whoever owns the logs; nothing here touches it.
 */
#ifndef KP_CHAIN_LWSUV_H
#define KP_CHAIN_LWSUV_H

#include <stdint.h>

#include <libwebsockets.h>
#include <uv.h>

/* Create a context on `loop` from `info`, adding LWS_SERVER_OPTION_LIBUV
 * and the foreign loop to it (anything else in `info` is the caller's:
 * protocols, port - CONTEXT_PORT_NO_LISTEN for clients -, vhost options).
 * Returns: 0, or KP_EIO if lws cannot start on the loop.
 * Out: *out   In: loop, info (modified: options, foreign_loops) */
int lwsuv_context_new(struct lws_context **out, uv_loop_t *loop,
                      struct lws_context_creation_info *info);

/* Start destroying `ctx`, which runs on `loop`; the memory goes while the
 * loop runs. Safe to call from inside one of the context's own callbacks
 * (the first lws_context_destroy is deferred to the loop as well). NULL is
 * a no-op. */
void lwsuv_context_destroy(uv_loop_t *loop, struct lws_context *ctx);

/* What lwsuv_context_destroy does, then done(arg) from the loop once the
 * context is freed: for what the context used without owning it (e.g. a
 * provided client SSL_CTX), which must outlive it. Never called for a
 * context given up on (lwsuv_leaked): lws may still touch it, so what
 * done would release stays too. ctx NULL: done(arg) at once, from here.
 * In: loop, ctx, done (not NULL), arg */
void lwsuv_context_destroy_then(uv_loop_t *loop, struct lws_context *ctx,
                                void (*done)(void *arg), void *arg);

/* Call from LWS_CALLBACK_CLIENT_CONNECTION_ERROR of a context on `loop`.
 * lws 4.1 leaks the libuv poll handle of a client connection that fails
 * after its socket was created (connection refused or reset reported by
 * SO_ERROR: lws closes the socket itself, and then skips closing the
 * handle because the socket is gone). Such a handle stays in the loop -
 * memory per failed attempt, and uv_loop_close fails. This finds it (the
 * poll handle lws tagged with this wsi, when the wsi's socket is already
 * closed) and closes it on the next loop turn if lws has not. */
void lwsuv_client_failed(uv_loop_t *loop, struct lws *wsi);

/* Returns: how many contexts were given up on (their handles never
 * closed within 10 s, so they were leaked rather than freed while lws
 * might still touch them). For a warning in the owner's logs. */
uint64_t lwsuv_leaked(void);

#endif
