/* The event stream with a scripted WebSocket node in front of anvil (which
 * still answers JSON-RPC over HTTP): what anvil never sends. A log
 * withdrawn with "removed": true; a notification over the data cap; a
 * node that refuses eth_subscribe (the stream polls instead); a head
 * announced by a node ahead of the one read over HTTP (the stream waits
 * for it with a growing delay instead of asking in a tight loop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <libwebsockets.h>

#include "chain/err.h"
#include "chain/events.h"
#include "chain/hex.h"
#include "chain/ws.h"
#include "tests/chain/evtest.h"
#include "tests/chain/wssrv.h"

struct fx {
    uv_loop_t loop;
    struct rpc_client *rpc;
    struct ws_client *ws;
    struct events *ev;
    struct wssrv srv;
    bool refuse; /* answer eth_subscribe with an error */
    int subs;    /* eth_subscribe requests seen */
    int nlogs, nremoved, nheads;
    struct evlog last; /* data not kept */
    bool last_removed;
};

static void
on_head(void *arg, uint64_t number, const uint8_t hash[32], uint64_t ts)
{
    struct fx *f = arg;

    (void)number;
    (void)hash;
    (void)ts;
    f->nheads++;
}

static void
on_log(void *arg, const struct evlog *l, bool removed)
{
    struct fx *f = arg;

    f->last = *l;
    f->last.data = NULL;
    f->last_removed = removed;
    if (removed)
        f->nremoved++;
    else
        f->nlogs++;
}

static const struct events_callbacks cbs = {on_head, on_log, NULL};

/* The scripted node: subscription ids "0xL<n>" for logs (n: order of the
 * request) and "0xHH" for newHeads. */
static void
srv_text(struct wssrv *s, const char *text, size_t len)
{
    struct fx *f = s->arg;
    cJSON *req = cJSON_ParseWithLength(text, len);
    cJSON *id = cJSON_GetObjectItem(req, "id");
    cJSON *params = cJSON_GetObjectItem(req, "params");
    const char *kind = cJSON_GetStringValue(cJSON_GetArrayItem(params, 0));
    char reply[256];

    assert_non_null(kind);
    if (f->refuse) {
        snprintf(reply, sizeof(reply),
                 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"error\":{\"code\":-32601,"
                 "\"message\":\"notifications not supported\"}}",
                 id->valueint);
    } else if (strcmp(kind, "logs") == 0) {
        snprintf(reply, sizeof(reply),
                 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":\"0xL%d\"}",
                 id->valueint, f->subs);
    } else {
        snprintf(reply, sizeof(reply),
                 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":\"0xHH\"}",
                 id->valueint);
    }
    f->subs++;
    wssrv_send(s, reply);
    cJSON_Delete(req);
}

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct rpc_endpoint_cfg ep = {.url = evt_node.http};
    struct rpc_opts o;

    if (f == NULL || uv_loop_init(&f->loop) != 0)
        return -1;
    ts_rpc_opts_init(&o);
    o.timeout_ms = 10000; /* the client's default */
    o.seed = 5;
    if (rpc_client_new(&f->rpc, &f->loop, NULL, &ep, 1, &o) != 0 ||
        wssrv_start(&f->srv, &f->loop) != 0)
        return -1;
    f->srv.on_text = srv_text;
    f->srv.arg = f;
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    events_free(f->ev);
    ws_client_free(f->ws);
    rpc_client_free(f->rpc);
    wssrv_stop(&f->srv);
    rc = ts_loop_close(&f->loop);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void
fx_start(struct fx *f, struct events_opts *o)
{
    struct evlog_filter fl;
    struct ws_opts wo;
    char url[64];

    memset(&fl, 0, sizeof(fl));
    fl.naddrs = 1;
    assert_int_equal(hex_decode_exact(fl.addrs[0].b, 20, evt_contract, 42), 0);
    o->from_set = true;
    o->from_block = evt_block_number(&f->loop, f->rpc) + 1;
    o->retry_base_ms = 20;
    o->retry_max_ms = 200;
    o->poll_ms = 50;
    ws_opts_init(&wo);
    wo.backoff_base_ms = 20;
    wo.backoff_max_ms = 100;
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", f->srv.port);
    assert_int_equal(
        ws_client_new(&f->ws, &f->loop, &(const char *){url}, 1, &wo), 0);
    assert_int_equal(
        events_new(&f->ev, &f->loop, f->rpc, f->ws, &fl, 1, o, &cbs, f), 0);
}

static bool
is_live(void *arg)
{
    return events_stats(((struct fx *)arg)->ev)->live;
}

/* Emit a log on anvil; Out: the block header and the log as JSON text,
 * as a node would put them in notifications. */
static void
emit_and_read(struct fx *f, uint64_t tag, char *hdr, size_t hcap, char *log,
              size_t lcap)
{
    char out[8192], params[256];
    cJSON *arr, *one;
    char *s;

    assert_int_equal(evt_emit(&f->loop, f->rpc, evt_contract, tag), 0);
    assert_int_equal(evt_rpc(&f->loop, f->rpc, "eth_getBlockByNumber",
                             "[\"latest\",false]", hdr, hcap),
                     0);
    snprintf(params, sizeof(params),
             "[{\"address\":\"%s\",\"fromBlock\":"
             "\"latest\",\"toBlock\":\"latest\"}]",
             evt_contract);
    assert_int_equal(
        evt_rpc(&f->loop, f->rpc, "eth_getLogs", params, out, sizeof(out)), 0);
    arr = cJSON_Parse(out);
    one = cJSON_GetArrayItem(arr, 0);
    assert_non_null(one);
    s = cJSON_PrintUnformatted(one);
    snprintf(log, lcap, "%s", s);
    free(s);
    cJSON_Delete(arr);
}

static void
notify(struct fx *f, const char *sub, const char *result)
{
    char *msg = malloc(strlen(result) + 256);

    sprintf(msg,
            "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":"
            "{\"subscription\":\"%s\",\"result\":%s}}",
            sub, result);
    assert_int_equal(wssrv_send(&f->srv, msg), 0);
    free(msg);
}

static void
test_removed_notification(void **state)
{
    struct fx *f = *state;
    struct events_opts o;
    char hdr[8192], log[4096], removed[4096], *p;
    const struct events_stats *st;

    events_opts_init(&o);
    fx_start(f, &o);
    assert_true(ts_run_until(&f->loop, is_live, f, 10000));
    emit_and_read(f, 91, hdr, sizeof(hdr), log, sizeof(log));
    notify(f, "0xHH", hdr);
    notify(f, "0xL0", log);
    assert_true(ts_run_count(&f->loop, &f->nlogs, 1, 10000));
    assert_false(f->last_removed);
    st = events_stats(f->ev);
    assert_int_equal(st->live_logs, 1);

    /* The node withdraws it. */
    snprintf(removed, sizeof(removed), "%s", log);
    p = strstr(removed, "\"removed\":false");
    assert_non_null(p);
    memcpy(p, "\"removed\":true ", 15);
    notify(f, "0xL0", removed);
    assert_true(ts_run_count(&f->loop, &f->nremoved, 1, 10000));
    assert_true(f->last_removed);
    assert_int_equal(st->removed_logs, 1);
    /* Withdrawn twice: announced once. */
    notify(f, "0xL0", removed);
    notify(f, "0xL9", log); /* unknown subscription: ignored */
    notify(f, "0xHH", hdr); /* known head: nothing */
    /* A new head after them: once it is processed, so were they (one
     * connection, in order). */
    assert_int_equal(
        evt_rpc(&f->loop, f->rpc, "anvil_mine", "[\"0x1\"]", NULL, 0), 0);
    assert_int_equal(evt_rpc(&f->loop, f->rpc, "eth_getBlockByNumber",
                             "[\"latest\",false]", hdr, sizeof(hdr)),
                     0);
    notify(f, "0xHH", hdr);
    assert_true(ts_run_count(&f->loop, &f->nheads, 3, 5000));
    assert_int_equal(f->nheads, 3);
    assert_int_equal(f->nremoved, 1);
    assert_int_equal(f->nlogs, 1);
    assert_int_equal(st->live_logs, 1);
}

static void
test_oversized_notification(void **state)
{
    struct fx *f = *state;
    struct events_opts o;
    char hdr[8192], log[4096], big[8192], *p, *q;

    events_opts_init(&o);
    o.max_log_data = 40; /* our logs carry 32 bytes */
    fx_start(f, &o);
    assert_true(ts_run_until(&f->loop, is_live, f, 10000));
    emit_and_read(f, 92, hdr, sizeof(hdr), log, sizeof(log));
    /* The same log with 100 bytes of data. */
    p = strstr(log, "\"data\":\"0x");
    assert_non_null(p);
    q = strchr(p + 10, '"');
    snprintf(big, sizeof(big), "%.*s\"data\":\"0x", (int)(p - log), log);
    for (int i = 0; i < 100; i++)
        strcat(big, "ab");
    strcat(big, q);
    notify(f, "0xHH", hdr);
    notify(f, "0xL0", big);
    notify(f, "0xL0", log);
    assert_true(ts_run_count(&f->loop, &f->nlogs, 1, 10000));
    assert_int_equal(events_stats(f->ev)->dropped_logs, 1);
    assert_int_equal(f->last.data_len, 32);
}

static void
test_subscribe_refused_polls(void **state)
{
    struct fx *f = *state;
    struct events_opts o;

    f->refuse = true;
    events_opts_init(&o);
    fx_start(f, &o);
    assert_int_equal(evt_emit(&f->loop, f->rpc, evt_contract, 93), 0);
    assert_int_equal(evt_emit(&f->loop, f->rpc, evt_contract, 94), 0);
    assert_true(ts_run_count(&f->loop, &f->nlogs, 2, 10000));
    assert_false(events_stats(f->ev)->live);
    assert_int_equal(events_stats(f->ev)->backfilled_logs, 2);
    assert_non_null(strstr(events_last_error(f->ev), "refused"));
    assert_true(f->subs >= 1);
}

static void
test_head_from_node_ahead(void **state)
{
    struct fx *f = *state;
    struct events_opts o;
    char hdr[1024];
    uint64_t head, before;

    events_opts_init(&o);
    fx_start(f, &o);
    assert_true(ts_run_until(&f->loop, is_live, f, 10000));
    assert_true(ts_run_count(&f->loop, &f->nheads, 1, 10000)); /* anchor */
    head = evt_block_number(&f->loop, f->rpc);
    /* A head the HTTP node does not have. */
    snprintf(hdr, sizeof(hdr),
             "{\"number\":\"0x%llx\",\"hash\":\"0x%064x\",\"parentHash\":"
             "\"0x%064x\",\"timestamp\":\"0x1\"}",
             (unsigned long long)head + 1, 0xabc, 0xdef);
    before = rpc_endpoint_stats(f->rpc, 0)->requests;
    notify(f, "0xHH", hdr);
    ts_run_for(&f->loop, 1000);
    /* Reads every 20, 40, 80, 160, 200, 200... ms: a handful, not
     * hundreds. */
    assert_true(rpc_endpoint_stats(f->rpc, 0)->requests - before <= 15);
    assert_true(rpc_endpoint_stats(f->rpc, 0)->requests - before >= 3);
    /* When the block does come, the stream moves on. */
    assert_int_equal(evt_emit(&f->loop, f->rpc, evt_contract, 95), 0);
    assert_true(ts_run_count(&f->loop, &f->nlogs, 1, 10000));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_removed_notification),
        T(test_oversized_notification),
        T(test_subscribe_refused_polls),
        T(test_head_from_node_ahead),
    };

    return cmocka_run_group_tests(tests, evt_group_setup, evt_group_teardown);
}
