/* The event stream against anvil: WebSocket subscriptions deliver heads
 * and logs (once, in order, with the filters they match); a WebSocket
 * dropped through a TCP proxy loses no log (backfill on reconnect);
 * anvil_reorg produces the removal of the orphaned logs, newest first,
 * and the new branch's logs, with WebSocket and with HTTP polling; a start
 * from a past block reads deep ranges in chunks and shrinks them when a
 * reply is over the size cap; misuse of the API. */
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
#include "tests/chain/tcpproxy.h"

/* ---- what the stream delivered ---- */

#define MAX_REC 256

enum rec_kind { R_LOG, R_REMOVED };

struct rec {
    enum rec_kind kind;
    uint64_t tag, number, index;
    uint8_t block_hash[32];
    uint32_t filters;
};

struct fx {
    uv_loop_t loop;
    struct rpc_client *rpc;
    struct ws_client *ws;
    struct events *ev;
    struct tcpproxy px;
    bool px_on;
    struct rec rec[MAX_REC];
    int nrec, nlogs, nremoved, nheads, nerrors;
    uint64_t last_head;
    uint64_t head_numbers[MAX_REC];
};

static void
on_head(void *arg, uint64_t number, const uint8_t hash[32], uint64_t ts)
{
    struct fx *f = arg;

    (void)hash;
    assert_true(ts > 0);
    if (f->nheads < MAX_REC)
        f->head_numbers[f->nheads] = number;
    f->nheads++;
    f->last_head = number;
}

static void
on_log(void *arg, const struct evlog *l, bool removed)
{
    struct fx *f = arg;
    struct rec *r;

    assert_true(f->nrec < MAX_REC);
    r = &f->rec[f->nrec++];
    r->kind = removed ? R_REMOVED : R_LOG;
    r->tag = evt_tag(l->data, l->data_len);
    r->number = l->block_number;
    r->index = l->log_index;
    r->filters = l->filters;
    memcpy(r->block_hash, l->block_hash, 32);
    if (removed)
        f->nremoved++;
    else
        f->nlogs++;
}

static void
on_error(void *arg, int err, const char *text)
{
    struct fx *f = arg;

    assert_non_null(text);
    if (getenv("EVT_DEBUG"))
        fprintf(stderr, "events error %d: %s\n", err, text);
    f->nerrors++;
}

static const struct events_callbacks cbs = {on_head, on_log, on_error};

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct rpc_endpoint_cfg ep = {.url = evt_node.http};
    struct rpc_opts o;

    if (f == NULL || uv_loop_init(&f->loop) != 0)
        return -1;
    ts_rpc_opts_init(&o);
    o.seed = 5;
    if (rpc_client_new(&f->rpc, &f->loop, NULL, &ep, 1, &o) != 0)
        return -1;
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
    if (f->px_on)
        tcpproxy_stop(&f->px);
    rc = ts_loop_close(&f->loop);
    free(f);
    return rc == 0 ? 0 : -1;
}

enum ws_mode { WS_NONE, WS_DIRECT, WS_PROXY };

/* Filters: 0 = contract + our topic, 1 = contract + a topic never logged,
 * 2 = evt_contract, any topic. Our logs match 0 and 2. */
static void
filters_init(struct evlog_filter fl[3])
{
    memset(fl, 0, 3 * sizeof(*fl));
    for (int i = 0; i < 3; i++) {
        fl[i].naddrs = 1;
        assert_int_equal(
            hex_decode_exact(fl[i].addrs[0].b, 20, evt_contract, 42), 0);
    }
    fl[0].nalts[0] = 1;
    memset(fl[0].topics[0][0], 0x11, 32);
    fl[1].nalts[0] = 1;
    memset(fl[1].topics[0][0], 0x22, 32);
}

static struct events_opts
test_opts(void)
{
    struct events_opts o;

    events_opts_init(&o);
    o.poll_ms = 50;
    o.retry_base_ms = 20;
    o.retry_max_ms = 200;
    return o;
}

/* Start the stream from the next block on. */
static void
fx_start(struct fx *f, enum ws_mode mode, struct events_opts *o)
{
    struct evlog_filter fl[3];
    uint64_t head = evt_block_number(&f->loop, f->rpc);

    assert_true(head != UINT64_MAX);
    filters_init(fl);
    if (!o->from_set) {
        o->from_set = true;
        o->from_block = head + 1;
    }
    if (mode != WS_NONE) {
        struct ws_opts wo;
        char url[96];

        ws_opts_init(&wo);
        wo.backoff_base_ms = 20;
        wo.backoff_max_ms = 100;
        wo.seed = 3;
        snprintf(url, sizeof(url), "%s", evt_node.ws);
        if (mode == WS_PROXY) {
            assert_int_equal(tcpproxy_start(&f->px, &f->loop, evt_node.port),
                             0);
            f->px_on = true;
            snprintf(url, sizeof(url), "ws://127.0.0.1:%d", f->px.port);
        }
        assert_int_equal(
            ws_client_new(&f->ws, &f->loop, &(const char *){url}, 1, &wo), 0);
    }
    assert_int_equal(
        events_new(&f->ev, &f->loop, f->rpc, f->ws, fl, 3, o, &cbs, f), 0);
}

static bool
is_live(void *arg)
{
    struct fx *f = arg;

    return events_stats(f->ev)->live;
}

static bool
is_down(void *arg)
{
    return !is_live(arg);
}

static void
wait_live(struct fx *f)
{
    assert_true(ts_run_until(&f->loop, is_live, f, 10000));
}

static void
emit(struct fx *f, uint64_t tag)
{
    assert_int_equal(evt_emit(&f->loop, f->rpc, evt_contract, tag), 0);
}

static void
wait_records(struct fx *f, int n)
{
    assert_true(ts_run_count(&f->loop, &f->nrec, n, 15000));
}

static void
assert_rec(const struct fx *f, int i, enum rec_kind kind, uint64_t tag)
{
    assert_true(i < f->nrec);
    assert_int_equal(f->rec[i].kind, kind);
    assert_int_equal(f->rec[i].tag, tag);
}

/* Every delivered (block hash, index) once, unless removed in between. */
static void
assert_no_duplicates(const struct fx *f)
{
    for (int i = 0; i < f->nrec; i++)
        for (int j = i + 1; j < f->nrec; j++) {
            if (f->rec[j].index != f->rec[i].index ||
                memcmp(f->rec[j].block_hash, f->rec[i].block_hash, 32) != 0)
                continue;
            /* The same log again: only as a removal of a delivery. */
            assert_int_not_equal(f->rec[j].kind, f->rec[i].kind);
            break;
        }
}

/* ---- tests ---- */

static void
test_live_subscriptions(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();
    const struct events_stats *st;

    fx_start(f, WS_DIRECT, &o);
    wait_live(f);
    for (uint64_t t = 1; t <= 3; t++)
        emit(f, t);
    wait_records(f, 3);
    for (int i = 0; i < 3; i++) {
        assert_rec(f, i, R_LOG, (uint64_t)i + 1);
        /* Filters 0 and 2 match, 1 does not: delivered once, both bits. */
        assert_int_equal(f->rec[i].filters, 0x5);
        if (i > 0)
            assert_true(f->rec[i].number > f->rec[i - 1].number);
    }
    assert_no_duplicates(f);
    st = events_stats(f->ev);
    /* Under load a head can overtake its logs and send the block through
     * the catch-up path; either way each log arrives once. */
    assert_int_equal(st->live_logs + st->backfilled_logs, 3);
    assert_true(st->live_logs >= 1);
    assert_int_equal(st->removed_logs, 0);
    assert_int_equal(st->reorgs, 0);
    /* Heads: the block of every log, in ascending order. */
    assert_true(ts_run_count(&f->loop, (const int *)&f->nheads, 4, 5000));
    for (int i = 1; i < f->nheads; i++)
        assert_int_equal(f->head_numbers[i], f->head_numbers[i - 1] + 1);
    assert_int_equal(f->last_head, f->rec[2].number);
    assert_true(st->head_known);
    assert_int_equal(st->head_number, f->rec[2].number);
    assert_int_equal(blocktrack_tip(events_chain(f->ev))->number,
                     f->rec[2].number);
}

static void
test_ws_drop_loses_nothing(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();
    const struct events_stats *st;

    /* No polling while down: what was missed can only come from the
     * backfill after the reconnect. */
    o.poll_when_ws_down = false;
    fx_start(f, WS_PROXY, &o);
    wait_live(f);
    emit(f, 1);
    emit(f, 2);
    wait_records(f, 2);

    tcpproxy_set_mode(&f->px, TP_REFUSE);
    tcpproxy_drop_all(&f->px);
    assert_true(ts_run_until(&f->loop, is_down, f, 5000));
    for (uint64_t t = 3; t <= 5; t++)
        emit(f, t); /* mined while the stream is away */
    assert_int_equal(f->nrec, 2);

    tcpproxy_set_mode(&f->px, TP_FORWARD);
    wait_records(f, 5);
    for (int i = 0; i < 5; i++)
        assert_rec(f, i, R_LOG, (uint64_t)i + 1);
    st = events_stats(f->ev);
    assert_true(st->reconnects >= 1);
    assert_true(st->backfilled_logs >= 3);

    /* And live again afterwards, still once each. */
    wait_live(f);
    emit(f, 6);
    wait_records(f, 6);
    assert_rec(f, 5, R_LOG, 6);
    assert_no_duplicates(f);
    assert_int_equal(f->nremoved, 0);
}

/* anvil_reorg: replace the last `depth` blocks; the new branch gets one
 * transaction logging `tag` in its block `offset`. */
static void
reorg(struct fx *f, int depth, uint64_t tag, int offset)
{
    char params[512];

    snprintf(params, sizeof(params),
             "[%d,[[{\"from\":\"" EVT_DEV "\",\"to\":\"%s\","
             "\"data\":\"0x%064llx\"},%d]]]",
             depth, evt_contract, (unsigned long long)tag, offset);
    assert_int_equal(evt_rpc(&f->loop, f->rpc, "anvil_reorg", params, NULL, 0),
                     0);
}

struct tip_wait {
    struct fx *f;
    uint8_t hash[32];
};

static bool
tip_is(void *arg)
{
    struct tip_wait *w = arg;
    const struct blocktrack_hdr *tip = blocktrack_tip(events_chain(w->f->ev));

    return tip != NULL && memcmp(tip->hash, w->hash, 32) == 0;
}

/* Wait until the processed tip is the node's latest block. */
static void
wait_tip_is_latest(struct fx *f)
{
    struct tip_wait w = {.f = f};
    char out[4096];
    cJSON *b, *h;

    assert_int_equal(evt_rpc(&f->loop, f->rpc, "eth_getBlockByNumber",
                             "[\"latest\",false]", out, sizeof(out)),
                     0);
    b = cJSON_Parse(out);
    h = cJSON_GetObjectItem(b, "hash");
    assert_non_null(h);
    assert_int_equal(hex_decode_exact(w.hash, 32, h->valuestring, 66), 0);
    cJSON_Delete(b);
    assert_true(ts_run_until(&f->loop, tip_is, &w, 10000));
}

static void
check_reorg_outcome(struct fx *f, uint64_t gone_newest, uint64_t gone_oldest,
                    uint64_t added)
{
    const struct events_stats *st = events_stats(f->ev);

    wait_records(f, 5);
    /* Orphaned logs withdrawn newest first, then the new branch. */
    assert_rec(f, 2, R_REMOVED, gone_newest);
    assert_rec(f, 3, R_REMOVED, gone_oldest);
    assert_rec(f, 4, R_LOG, added);
    /* A removal names the very log delivered before. */
    assert_memory_equal(f->rec[2].block_hash, f->rec[1].block_hash, 32);
    assert_memory_equal(f->rec[3].block_hash, f->rec[0].block_hash, 32);
    assert_memory_not_equal(f->rec[4].block_hash, f->rec[0].block_hash, 32);
    assert_true(st->reorgs >= 1);
    assert_int_equal(st->removed_logs, 2);
    assert_int_equal(st->deep_reorgs, 0);
    wait_tip_is_latest(f);
    assert_int_equal(f->nrec, 5);
    assert_no_duplicates(f);
}

static void
test_reorg_ws(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();

    fx_start(f, WS_DIRECT, &o);
    wait_live(f);
    emit(f, 11);
    emit(f, 12);
    wait_records(f, 2);
    reorg(f, 2, 13, 0);
    check_reorg_outcome(f, 12, 11, 13);
}

static void
test_http_polling(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();
    const struct events_stats *st;

    fx_start(f, WS_NONE, &o);
    emit(f, 21);
    emit(f, 22);
    wait_records(f, 2);
    assert_rec(f, 0, R_LOG, 21);
    assert_rec(f, 1, R_LOG, 22);
    st = events_stats(f->ev);
    assert_int_equal(st->backfilled_logs, 2);
    assert_int_equal(st->live_logs, 0);
    assert_false(st->live);
    /* The same reorg machinery on polled heads; the new log in the second
     * new block this time. */
    reorg(f, 2, 23, 1);
    check_reorg_outcome(f, 22, 21, 23);
}

static void
mine(struct fx *f, int n)
{
    char params[32];

    snprintf(params, sizeof(params), "[\"0x%x\"]", n);
    assert_int_equal(evt_rpc(&f->loop, f->rpc, "anvil_mine", params, NULL, 0),
                     0);
}

static void
test_backfill_from_past_block(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();
    uint64_t start = evt_block_number(&f->loop, f->rpc) + 1;

    for (uint64_t t = 31; t <= 35; t++)
        emit(f, t);
    mine(f, 20);
    /* A window of 4 and ranges of 3: the first 20-odd blocks are read
     * deep (bulk), the last ones block by block. */
    o.window = 4;
    o.chunk_blocks = 3;
    o.from_set = true;
    o.from_block = start;
    fx_start(f, WS_NONE, &o);
    wait_records(f, 5);
    for (int i = 0; i < 5; i++)
        assert_rec(f, i, R_LOG, 31 + (uint64_t)i);
    wait_tip_is_latest(f);
    assert_int_equal(events_stats(f->ev)->chunk_blocks, 3);
    assert_int_equal(events_stats(f->ev)->backfilled_logs, 5);
    assert_no_duplicates(f);
}

static void
test_chunk_shrinks_on_reply_cap(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();
    struct rpc_endpoint_cfg ep = {.url = evt_node.http};
    struct rpc_opts ro;
    uint64_t start = evt_block_number(&f->loop, f->rpc) + 1;

    for (uint64_t t = 41; t <= 60; t++)
        emit(f, t);
    mine(f, 10);
    /* A reply cap that 20 logs (about 500 bytes each) exceed. */
    rpc_client_free(f->rpc);
    rpc_opts_init(&ro);
    ro.head_poll_ms = 0;
    ro.max_reply = 8192;
    ro.backoff_base_ms = 10;
    ro.backoff_max_ms = 50;
    ro.seed = 11;
    assert_int_equal(rpc_client_new(&f->rpc, &f->loop, NULL, &ep, 1, &ro), 0);
    o.window = 4;
    o.chunk_blocks = 64;
    o.from_set = true;
    o.from_block = start;
    fx_start(f, WS_NONE, &o);
    wait_records(f, 20);
    for (int i = 0; i < 20; i++)
        assert_rec(f, i, R_LOG, 41 + (uint64_t)i);
    assert_true(events_stats(f->ev)->rpc_errors >= 1);
    assert_true(f->nerrors >= 1);
    assert_no_duplicates(f);
}

static void
test_reorg_deeper_than_window(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();
    const struct events_stats *st;

    o.window = 4;
    fx_start(f, WS_NONE, &o);
    for (uint64_t t = 101; t <= 106; t++)
        emit(f, t);
    wait_records(f, 6);
    /* All six blocks replaced; the new log in the last of them. */
    reorg(f, 6, 107, 5);
    wait_records(f, 11);
    /* What the window held is withdrawn, newest first; the two older
     * blocks are beyond what the stream can undo. */
    assert_rec(f, 6, R_REMOVED, 106);
    assert_rec(f, 7, R_REMOVED, 105);
    assert_rec(f, 8, R_REMOVED, 104);
    assert_rec(f, 9, R_REMOVED, 103);
    assert_rec(f, 10, R_LOG, 107);
    st = events_stats(f->ev);
    assert_int_equal(st->deep_reorgs, 1);
    assert_true(f->nerrors >= 1);
    assert_non_null(strstr(events_last_error(f->ev), "deeper than the window"));
    wait_tip_is_latest(f);
    assert_int_equal(f->nrec, 11);
}

static void
test_heads_only(void **state)
{
    struct fx *f = *state;
    struct events_opts o = test_opts();
    struct ws_opts wo;

    ws_opts_init(&wo);
    assert_int_equal(
        ws_client_new(&f->ws, &f->loop, &(const char *){evt_node.ws}, 1, &wo),
        0);
    assert_int_equal(events_new(&f->ev, &f->loop, f->rpc, f->ws, NULL, 0, &o,
                                &(struct events_callbacks){on_head, NULL, NULL},
                                f),
                     0);
    wait_live(f);
    {
        int before = f->nheads;

        mine(f, 3);
        assert_true(ts_run_count(&f->loop, &f->nheads, before + 3, 10000));
    }
    wait_tip_is_latest(f);
    assert_int_equal(f->nrec, 0);
}

static void
test_misuse(void **state)
{
    struct fx *f = *state;
    struct events_opts o;
    struct evlog_filter fl[EVENTS_MAX_FILTERS + 1];
    struct events *ev = NULL;

    memset(fl, 0, sizeof(fl));
    events_opts_init(&o);
    assert_int_equal(o.window, 128);
    assert_int_equal(o.chunk_blocks, 2000);
    assert_true(o.poll_when_ws_down);
    o.window = 1;
    assert_int_equal(
        events_new(&ev, &f->loop, f->rpc, NULL, fl, 1, &o, &cbs, f), KP_ERANGE);
    events_opts_init(&o);
    o.window = EVENTS_MAX_WINDOW + 1;
    assert_int_equal(
        events_new(&ev, &f->loop, f->rpc, NULL, fl, 1, &o, &cbs, f), KP_ERANGE);
    assert_int_equal(events_new(&ev, &f->loop, f->rpc, NULL, fl,
                                EVENTS_MAX_FILTERS + 1, NULL, &cbs, f),
                     KP_ERANGE);
    fl[0].naddrs = EVLOG_MAX_ADDRS + 1;
    assert_int_equal(
        events_new(&ev, &f->loop, f->rpc, NULL, fl, 1, NULL, &cbs, f),
        KP_EINVAL);
    fl[0].naddrs = 0;
    assert_int_equal(events_new(&ev, &f->loop, f->rpc, NULL, fl, 1, NULL,
                                &(struct events_callbacks){on_head, NULL, NULL},
                                f),
                     KP_EINVAL);
    assert_int_equal(
        events_new(&ev, &f->loop, f->rpc, NULL, NULL, 1, NULL, &cbs, f),
        KP_EINVAL);
    assert_null(ev);
    events_free(NULL);
    /* Created and freed at once, reads in flight. */
    assert_int_equal(
        events_new(&ev, &f->loop, f->rpc, NULL, fl, 1, NULL, &cbs, f), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_string_equal(events_last_error(ev), "");
    events_free(ev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_misuse),
        T(test_live_subscriptions),
        T(test_ws_drop_loses_nothing),
        T(test_reorg_ws),
        T(test_http_polling),
        T(test_backfill_from_past_block),
        T(test_chunk_shrinks_on_reply_cap),
        T(test_reorg_deeper_than_window),
        T(test_heads_only),
    };

    return cmocka_run_group_tests(tests, evt_group_setup, evt_group_teardown);
}
