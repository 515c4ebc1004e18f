#include "keeper/heads.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "chain/hex.h"

struct heads {
    uv_timer_t timer;
    struct rpc_client *rpc;
    struct heads_opts o;
    uint64_t call_id;
    bool inflight;
};

static int
parse_quantity(uint64_t *out, const cJSON *obj, const char *key)
{
    return rpc_quantity_u64(cJSON_GetObjectItemCaseSensitive(obj, key), out);
}

int
heads_parse_block(struct head *out, const cJSON *block)
{
    const cJSON *hash;
    struct head h;

    assert(out != NULL);
    if (!cJSON_IsObject(block))
        return KP_EINVAL;
    memset(&h, 0, sizeof(h));
    h.endpoint = out->endpoint;
    if (parse_quantity(&h.number, block, "number") != 0 ||
        parse_quantity(&h.timestamp, block, "timestamp") != 0)
        return KP_EINVAL;
    hash = cJSON_GetObjectItemCaseSensitive(block, "hash");
    if (!cJSON_IsString(hash) || !hex_has_prefix(hash->valuestring, 2) ||
        hex_decode_exact(h.hash, sizeof(h.hash), hash->valuestring + 2,
                         strlen(hash->valuestring + 2)) != 0)
        return KP_EINVAL;
    *out = h;
    return 0;
}

static void
heads_on_reply(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct heads *h = arg;
    struct head head = {.endpoint = st->endpoint};

    /* Cleared first: the callbacks below may free the poller. */
    h->inflight = false;
    if (st->err != 0) {
        if (h->o.on_error != NULL)
            h->o.on_error(h->o.arg, st->err, st->text);
        return;
    }
    if (heads_parse_block(&head, result) != 0) {
        if (h->o.on_error != NULL)
            h->o.on_error(
                h->o.arg, KP_EINVAL,
                cJSON_IsNull(result)
                    ? "no latest block"
                    : "malformed block in eth_getBlockByNumber reply");
        return;
    }
    h->o.on_head(h->o.arg, &head);
}

int
heads_poll_now(struct heads *h)
{
    struct rpc_call_opts co = {.deadline_ms = h->o.timeout_ms};
    int rc;

    assert(h != NULL);
    if (h->inflight)
        return 0;
    rc = rpc_call(h->rpc, "eth_getBlockByNumber", "[\"latest\",false]", &co,
                  heads_on_reply, h, &h->call_id);
    if (rc == 0)
        h->inflight = true;
    return rc;
}

static void
heads_on_timer(uv_timer_t *t)
{
    struct heads *h = t->data;
    int rc = heads_poll_now(h);

    if (rc != 0 && h->o.on_error != NULL)
        h->o.on_error(h->o.arg, rc, "cannot send eth_getBlockByNumber");
}

int
heads_new(struct heads **out, uv_loop_t *loop, struct rpc_client *rpc,
          const struct heads_opts *o)
{
    struct heads *h;

    assert(out != NULL && loop != NULL && rpc != NULL && o != NULL &&
           o->on_head != NULL);
    *out = NULL;
    if (o->interval_ms < 10)
        return KP_ERANGE;
    h = kp_xcalloc(1, sizeof(*h));
    h->rpc = rpc;
    h->o = *o;
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    *out = h;
    return 0;
}

void
heads_start(struct heads *h)
{
    assert(h != NULL);
    uv_timer_start(&h->timer, heads_on_timer, 0, h->o.interval_ms);
}

static void
heads_closed(uv_handle_t *handle)
{
    free(handle->data);
}

void
heads_free(struct heads *h)
{
    if (h == NULL)
        return;
    if (h->inflight)
        rpc_cancel(h->rpc, h->call_id);
    h->inflight = false;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, heads_closed);
}
