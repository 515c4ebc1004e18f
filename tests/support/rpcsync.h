/*
 * rpcsync.h - one JSON-RPC call made and waited for, for a test's own
 * steps (deploy, mine, read a receipt) between the asynchronous parts it
 * is testing.
 */
#ifndef KP_TESTS_SUPPORT_RPCSYNC_H
#define KP_TESTS_SUPPORT_RPCSYNC_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "chain/rpc.h"

struct ts_rpc_reply {
    int err;        /* 0, the call's KP_E* code, or KP_ETIMEOUT */
    char text[256]; /* the call's one-line error text; "" on success */
    cJSON *result;  /* a copy of the result; NULL exactly when err != 0 */
};

/* Call `method` with `params` (a JSON array or object, or NULL) on `c`,
 * and run `loop` until it is answered or `ms` pass; a call not answered
 * in time is cancelled.
 * Returns: r->err.   Out: *r (ts_rpc_reply_cleanup frees it) */
int ts_rpc_call(struct ts_rpc_reply *r, uv_loop_t *loop, struct rpc_client *c,
                const char *method, const char *params, uint64_t ms);

/* Free r->result. */
void ts_rpc_reply_cleanup(struct ts_rpc_reply *r);

/* ts_rpc_call for a step that must work: on an error the test fails (at
 * the caller's line) with the method and the error text.
 * Returns: the result (cJSON_Delete it). */
#define ts_rpc_must(loop, c, method, params, ms)                               \
    ts_rpc_must_at(__FILE__, __LINE__, loop, c, method, params, ms)
cJSON *ts_rpc_must_at(const char *file, int line, uv_loop_t *loop,
                      struct rpc_client *c, const char *method,
                      const char *params, uint64_t ms);

/* Client options for tests: no head polling (nothing happens that the
 * test did not ask for), a 5 s timeout, quick backoffs (20-100 ms), a
 * fixed jitter seed (7); tests adjust from there.   Out: *o */
void ts_rpc_opts_init(struct rpc_opts *o);

/* A client on `url` for a test's own steps: ts_rpc_opts_init's options,
 * `attempts` tries for safe calls (0: the client's default).
 * Returns: 0 or rpc_client_new's error.   Out: *c */
int ts_rpc_client_new(struct rpc_client **c, uv_loop_t *loop, const char *url,
                      uint32_t attempts);

#endif
