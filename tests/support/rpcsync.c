/* One JSON-RPC call made and waited for: see rpcsync.h. */
#include "tests/support/rpcsync.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chain/err.h"
#include "tests/support/uvrun.h"

/* What the callback fills; on the caller's stack, so a call that times
 * out is cancelled before it returns. */
struct pending {
    struct ts_rpc_reply *r;
    bool done;
};

static void
reply_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct pending *p = arg;

    p->done = true;
    p->r->err = st->err;
    snprintf(p->r->text, sizeof(p->r->text), "%s", st->text);
    p->r->result = result ? cJSON_Duplicate(result, true) : NULL;
}

static bool
is_done(void *arg)
{
    return ((const struct pending *)arg)->done;
}

int
ts_rpc_call(struct ts_rpc_reply *r, uv_loop_t *loop, struct rpc_client *c,
            const char *method, const char *params, uint64_t ms)
{
    struct pending p = {.r = r};
    uint64_t id = 0;
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = rpc_call(c, method, params, NULL, reply_cb, &p, &id)) != 0) {
        r->err = rc;
        snprintf(r->text, sizeof(r->text), "rpc_call: %s", kp_strerror(rc));
        return rc;
    }
    if (!ts_run_until(loop, is_done, &p, ms)) {
        rpc_cancel(c, id);
        r->err = KP_ETIMEOUT;
        snprintf(r->text, sizeof(r->text), "no answer in %llu ms",
                 (unsigned long long)ms);
    }
    return r->err;
}

void
ts_rpc_reply_cleanup(struct ts_rpc_reply *r)
{
    cJSON_Delete(r->result);
    r->result = NULL;
}

cJSON *
ts_rpc_must_at(const char *file, int line, uv_loop_t *loop,
               struct rpc_client *c, const char *method, const char *params,
               uint64_t ms)
{
    struct ts_rpc_reply r;

    if (ts_rpc_call(&r, loop, c, method, params, ms) != 0) {
        print_error("%s failed: %s\n", method, r.text);
        _fail(file, line);
    }
    return r.result;
}

void
ts_rpc_opts_init(struct rpc_opts *o)
{
    rpc_opts_init(o);
    o->head_poll_ms = 0;
    o->timeout_ms = 5000;
    o->backoff_base_ms = 20;
    o->backoff_max_ms = 100;
    o->seed = 7;
}

int
ts_rpc_client_new(struct rpc_client **c, uv_loop_t *loop, const char *url,
                  uint32_t attempts)
{
    struct rpc_endpoint_cfg ep = {.url = url};
    struct rpc_opts o;

    ts_rpc_opts_init(&o);
    if (attempts > 0)
        o.max_attempts = attempts;
    return rpc_client_new(c, loop, NULL, &ep, 1, &o);
}
