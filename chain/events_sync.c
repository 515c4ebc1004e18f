/*
 * events_sync.c - reading the chain for the event stream (see events.h).
 *
 * One read ("round", a JSON-RPC batch) is in flight at a time, besides the
 * head poll. events_step looks at the processed chain and the waiting
 * heads and either handles the next head at once (the live path: a child
 * of the tip with its logs from the subscription) or starts the round
 * that brings the chain closer to the newest head:
 *
 *   anchor   header of from_block - 1, to start from a configured block
 *   headers  the node's blocks by number from a little below our tip (more
 *            when looking for a fork point) up to the target: common
 *            ancestor, rewind, the new blocks' headers
 *   logs     eth_getLogs over the new blocks, every log checked against
 *            the header read for its number; then logs and heads go out
 *            block by block
 *   bulk     far behind: one eth_getLogs range of blocks deeper than the
 *            window, with a check that our tip is still canonical and the
 *            range's last header as the new anchor
 *   recheck  after a WebSocket drop: the last blocks' logs again
 *
 * A read that fails is retried after a backoff; a read that raced a
 * change of the chain (a gap in the headers, headers that do not link, a
 * log whose block hash is not the header's) is simply made again.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "chain/events_int.h"

#define EV_BACK_FIRST 4

static void ev_round_done(struct ev_round *r);

/* ---- rounds ------------------------------------------------------------ */

static struct ev_round *
ev_round_new(struct events *ev, enum ev_round_kind kind, size_t nitems,
             size_t nhdrs)
{
    struct ev_round *r = kp_xcalloc(1, sizeof(*r));

    r->ev = ev;
    r->kind = kind;
    r->items = kp_xcalloc(nitems, sizeof(*r->items));
    if (nhdrs > 0) {
        r->hdrs = kp_xcalloc(nhdrs, sizeof(*r->hdrs));
        r->want = kp_xcalloc(nhdrs, sizeof(*r->want));
        r->have = kp_xcalloc(nhdrs, sizeof(*r->have));
    }
    r->nhdrs = nhdrs;
    return r;
}

void
events_round_free(struct ev_round *r)
{
    if (r == NULL)
        return;
    events_logvec_free(&r->logs);
    free(r->items);
    free(r->hdrs);
    free(r->want);
    free(r->have);
    free(r);
}

static void
ev_round_error(struct ev_round *r, int err, const char *text)
{
    if (r->err != 0)
        return;
    r->err = err;
    snprintf(r->text, sizeof(r->text), "events: %s", text);
}

static void
ev_item_header(struct ev_item *it, const cJSON *result)
{
    struct ev_round *r = it->r;
    struct blocktrack_hdr *h = &r->hdrs[it->idx];
    uint64_t want = r->want[it->idx];

    if (cJSON_IsNull(result))
        return; /* the node has no such block (yet) */
    if (evlog_parse_header(h, result) != 0 ||
        (want != UINT64_MAX && h->number != want)) {
        ev_round_error(r, KP_EINVAL, "malformed block header from the node");
        return;
    }
    r->have[it->idx] = true;
}

static void
ev_item_logs(struct ev_item *it, const cJSON *result)
{
    struct ev_round *r = it->r;
    struct events *ev = r->ev;
    const cJSON *o;

    if (!cJSON_IsArray(result)) {
        ev_round_error(r, KP_EINVAL, "eth_getLogs did not return a list");
        return;
    }
    cJSON_ArrayForEach(o, result)
    {
        struct evlog l;

        if (evlog_parse(&l, ev->msgbuf, ev->o.max_log_data, NULL, o) != 0) {
            /* Over the data cap or malformed: no way to deliver it. */
            ev->st.dropped_logs++;
            continue;
        }
        events_logvec_push(&r->logs, events_entry_new(&l));
    }
}

static void
ev_item_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct ev_item *it = arg;
    struct ev_round *r = it->r;

    if (st->err != 0) {
        /* A reply over the cap fails every call of the batch: what counts
         * is whether a log range was among them. */
        if (it->kind == EV_I_LOGS)
            r->logs_failed = true;
        ev_round_error(r, st->err, st->text);
    } else if (it->kind == EV_I_HEADER) {
        ev_item_header(it, result);
    } else {
        ev_item_logs(it, result);
    }
    if (++r->ndone == r->nitems)
        ev_round_done(r);
}

static int
ev_add_header(struct rpc_batch *b, struct ev_round *r, size_t slot,
              uint64_t number)
{
    struct ev_item *it = &r->items[r->nitems++];
    char params[48];

    it->r = r;
    it->kind = EV_I_HEADER;
    it->idx = slot;
    r->want[slot] = number;
    snprintf(params, sizeof(params), "[\"0x%llx\",false]",
             (unsigned long long)number);
    return rpc_batch_add(b, "eth_getBlockByNumber", params, ev_item_cb, it);
}

static int
ev_add_logs(struct rpc_batch *b, struct ev_round *r, size_t f)
{
    struct events *ev = r->ev;
    struct ev_item *it = &r->items[r->nitems++];
    char extra[96], params[EVLOG_FILTER_JSON_MAX + 100];
    int rc;

    it->r = r;
    it->kind = EV_I_LOGS;
    it->idx = f;
    snprintf(extra, sizeof(extra),
             "\"fromBlock\":\"0x%llx\",\"toBlock\":\"0x%llx\"",
             (unsigned long long)r->from, (unsigned long long)r->to);
    params[0] = '[';
    rc = evlog_filter_json(params + 1, sizeof(params) - 2, &ev->filters[f],
                           extra);
    if (rc != 0)
        return rc;
    strcat(params, "]");
    return rpc_batch_add(b, "eth_getLogs", params, ev_item_cb, it);
}

static int
ev_add_all_logs(struct rpc_batch *b, struct ev_round *r)
{
    int rc = 0;

    for (size_t f = 0; f < r->ev->nfilters && rc == 0; f++)
        rc = ev_add_logs(b, r, f);
    return rc;
}

/* Send the batch for `r` (built with `rc` so far). Returns: false (the
 * step waits for the round, or for the retry after a failure). */
static bool
ev_round_send(struct events *ev, struct ev_round *r, struct rpc_batch *b,
              int rc)
{
    uint64_t id = 0;

    if (rc == 0)
        rc = rpc_batch_send(b, NULL, &id);
    else
        rpc_batch_free(b);
    if (rc != 0) {
        events_round_free(r);
        events_fail(ev, rc, "events: cannot send a read to the node");
        return false;
    }
    ev->round = r;
    ev->round_id = id;
    return false;
}

/* ---- shared pieces ----------------------------------------------------- */

static int
ev_cmp_log(const void *a, const void *b)
{
    const struct evlog *x = &(*(struct logwin_entry *const *)a)->log;
    const struct evlog *y = &(*(struct logwin_entry *const *)b)->log;

    if (x->block_number != y->block_number)
        return x->block_number < y->block_number ? -1 : 1;
    if (x->log_index != y->log_index)
        return x->log_index < y->log_index ? -1 : 1;
    return 0;
}

static void
ev_sort_logs(struct ev_logvec *v)
{
    if (v->n > 1)
        qsort(v->v, v->n, sizeof(*v->v), ev_cmp_log);
}

static void
ev_succeeded(struct events *ev)
{
    ev->retry_ms = ev->o.retry_base_ms;
    if (ev->chunk < ev->o.chunk_blocks) {
        ev->chunk = ev->chunk * 2 > ev->o.chunk_blocks ? ev->o.chunk_blocks
                                                       : ev->chunk * 2;
        ev->st.chunk_blocks = ev->chunk;
    }
}

/* The read raced a change of the chain: read again shortly. */
static void
ev_raced(struct events *ev)
{
    ev->retry_ms = ev->o.retry_base_ms;
    events_wait(ev, ev->o.retry_base_ms);
}

/* Withdraw every delivered log of the blocks above `keep` and forget those
 * blocks. */
static void
ev_rewind(struct events *ev, uint64_t keep)
{
    struct logwin_list l;

    logwin_take_above(&ev->win, &l, keep);
    for (size_t i = 0; i < l.n; i++)
        events_remove(ev, &l.v[i]->log);
    logwin_list_free(&l);
    blocktrack_truncate(&ev->bt, keep);
    ev->st.reorgs++;
}

/* No block of the window is canonical any more: withdraw them all and go
 * on from the bottom of the window without a parent check. */
static void
ev_deep_reorg(struct events *ev)
{
    uint64_t low = blocktrack_low(&ev->bt);
    struct logwin_list l;
    char text[EV_TEXT_MAX];

    logwin_take_above(&ev->win, &l, low > 0 ? low - 1 : 0);
    for (size_t i = 0; i < l.n; i++)
        events_remove(ev, &l.v[i]->log);
    logwin_list_free(&l);
    blocktrack_set_base(&ev->bt, low);
    ev->st.reorgs++;
    ev->st.deep_reorgs++;
    ev->back = 0;
    ev->check_tip = false;
    snprintf(text, sizeof(text),
             "events: reorg deeper than the window of %u blocks below block "
             "%llu",
             ev->o.window, (unsigned long long)low);
    events_set_error(ev, KP_ESTATE, text);
}

/* ---- anchor ------------------------------------------------------------ */

static bool
ev_anchor_start(struct events *ev)
{
    const struct ev_head *f;
    struct ev_round *r;
    struct rpc_batch *b;

    if (ev->o.from_set && ev->o.from_block == 0) {
        blocktrack_set_base(&ev->bt, 0);
        ev->first_number = 0;
        return true;
    }
    if (ev->o.from_set) {
        r = ev_round_new(ev, EV_R_ANCHOR, 1, 1);
        b = rpc_batch_new(ev->rpc);
        return ev_round_send(ev, r, b,
                             ev_add_header(b, r, 0, ev->o.from_block - 1));
    }
    if ((f = events_hq_front(ev)) == NULL)
        return false;
    blocktrack_set_base(&ev->bt, f->h.number);
    blocktrack_append(&ev->bt, &f->h);
    ev->first_number = f->h.number + 1;
    events_head_done(ev, &f->h);
    events_hq_pop(ev);
    return true;
}

static void
ev_anchor_done(struct events *ev, struct ev_round *r)
{
    if (!r->have[0]) {
        events_fail(ev, KP_ENOTFOUND,
                    "events: the start block is not on "
                    "the chain yet");
        return;
    }
    blocktrack_set_base(&ev->bt, r->hdrs[0].number);
    blocktrack_append(&ev->bt, &r->hdrs[0]);
    ev->first_number = ev->o.from_block;
    events_head_done(ev, &r->hdrs[0]);
    ev_succeeded(ev);
    events_kick(ev);
}

/* ---- headers ----------------------------------------------------------- */

static uint64_t
ev_span(const struct events *ev)
{
    uint64_t s = ev->o.window;

    if (ev->chunk < s)
        s = ev->chunk;
    if (ev->hspan < s)
        s = ev->hspan;
    return s > 0 ? s : 1;
}

/* Read the node's blocks from a little below our tip up to `target`. */
static bool
ev_headers_start(struct events *ev, uint64_t target, bool fork)
{
    const struct blocktrack_hdr *tip = blocktrack_tip(&ev->bt);
    uint64_t next = blocktrack_next(&ev->bt), lo, hi, back;
    struct ev_round *r;
    struct rpc_batch *b;
    int rc = 0;

    if (fork && ev->back < EV_BACK_FIRST)
        ev->back = EV_BACK_FIRST;
    if (tip == NULL) {
        lo = next;
        hi = target < next ? next : target;
        if (hi - lo + 1 > ev_span(ev))
            hi = lo + ev_span(ev) - 1;
    } else {
        uint64_t top = target < tip->number ? target : tip->number;

        back = ev->back < EV_MAX_BACK ? ev->back : EV_MAX_BACK;
        lo = top > back ? top - back : 0;
        if (lo < blocktrack_low(&ev->bt))
            lo = blocktrack_low(&ev->bt);
        hi = target;
        if (hi > tip->number + ev_span(ev))
            hi = tip->number + ev_span(ev);
    }
    r = ev_round_new(ev, EV_R_HEADERS, (size_t)(hi - lo + 1),
                     (size_t)(hi - lo + 1));
    r->seq = ev->hq_seq;
    b = rpc_batch_new(ev->rpc);
    for (uint64_t k = lo; k <= hi && rc == 0; k++)
        rc = ev_add_header(b, r, (size_t)(k - lo), k);
    return ev_round_send(ev, r, b, rc);
}

/* Returns: how many slots from the first are answered, or SIZE_MAX if an
 * answered slot follows an empty one (read across a change). */
static size_t
ev_headers_prefix(const struct ev_round *r)
{
    size_t n = 0;

    while (n < r->nhdrs && r->have[n])
        n++;
    for (size_t i = n; i < r->nhdrs; i++)
        if (r->have[i])
            return SIZE_MAX;
    return n;
}

/* Apply the new blocks of a round that needs no logs (no filters). */
static void
ev_apply_blocks(struct events *ev, const struct blocktrack_hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (blocktrack_append(&ev->bt, &h[i]) != 0)
            break;
        events_head_done(ev, &h[i]);
    }
    events_prune(ev);
}

static void
ev_logs_start(struct events *ev, const struct ev_round *hr, size_t s, size_t n)
{
    struct ev_round *r = ev_round_new(ev, EV_R_LOGS, ev->nfilters, n - s);
    struct rpc_batch *b;

    memcpy(r->hdrs, hr->hdrs + s, (n - s) * sizeof(*r->hdrs));
    r->from = hr->hdrs[s].number;
    r->to = hr->hdrs[n - 1].number;
    r->seq = hr->seq;
    b = rpc_batch_new(ev->rpc);
    ev_round_send(ev, r, b, ev_add_all_logs(b, r));
}

/* Find the fork point in the blocks read; Returns: the first new slot, or
 * SIZE_MAX if the step must start over (search wider, raced). */
static size_t
ev_headers_ancestor(struct events *ev, const struct ev_round *r, size_t n)
{
    const struct blocktrack_hdr *tip = blocktrack_tip(&ev->bt);
    uint64_t a;
    int rc;

    if (tip == NULL)
        return 0; /* based, nothing held: no parent to check */
    rc = blocktrack_find_ancestor(&ev->bt, r->hdrs, n, &a);
    if (rc == KP_ENOTFOUND) {
        if (r->hdrs[0].number > blocktrack_low(&ev->bt))
            ev->back = ev->back ? ev->back * 4 : EV_BACK_FIRST;
        else
            ev_deep_reorg(ev);
        events_kick(ev);
        return SIZE_MAX;
    }
    if (rc != 0) {
        ev_raced(ev);
        return SIZE_MAX;
    }
    if (a < tip->number)
        ev_rewind(ev, a);
    return (size_t)(a + 1 - r->hdrs[0].number);
}

static void
ev_headers_done(struct events *ev, struct ev_round *r)
{
    size_t n = ev_headers_prefix(r), s;
    uint64_t before = ev->st.heads + ev->st.reorgs;

    if (n == SIZE_MAX) {
        ev_raced(ev);
        return;
    }
    if (n == 0) {
        events_fail(ev, KP_ENOTFOUND,
                    "events: the node does not have the "
                    "blocks asked for yet");
        return;
    }
    if ((s = ev_headers_ancestor(ev, r, n)) == SIZE_MAX)
        return;
    ev->check_tip = false;
    if (s < n && ev->nfilters > 0) {
        ev_logs_start(ev, r, s, n);
        return;
    }
    ev_apply_blocks(ev, r->hdrs + s, n - s);
    events_hq_drop_covered(ev, r->seq, r->hdrs[n - 1].number);
    ev->back = 0;
    /* Nothing changed but a head is still waiting (announced by a node
     * ahead of the one read): ask again later, and less and less often. */
    if (ev->st.heads + ev->st.reorgs == before && events_hq_front(ev) != NULL) {
        events_backoff(ev);
        return;
    }
    ev_succeeded(ev);
    events_kick(ev);
}

/* ---- logs -------------------------------------------------------------- */

/* Returns: whether every log read belongs to a block read for its
 * number. */
static bool
ev_logs_consistent(const struct ev_round *r)
{
    for (size_t i = 0; i < r->logs.n; i++) {
        const struct evlog *l = &r->logs.v[i]->log;

        if (l->block_number < r->from || l->block_number > r->to ||
            memcmp(l->block_hash, r->hdrs[l->block_number - r->from].hash,
                   32) != 0)
            return false;
    }
    return true;
}

static void
ev_drop_pending(struct events *ev, const uint8_t hash[32])
{
    struct logwin_list l;

    logwin_take_block(&ev->pend, &l, hash);
    logwin_list_free(&l);
}

static void
ev_logs_done(struct events *ev, struct ev_round *r)
{
    size_t j = 0;

    ev_sort_logs(&r->logs);
    if (!ev_logs_consistent(r)) {
        ev_raced(ev);
        return;
    }
    for (size_t k = 0; k < r->nhdrs; k++) {
        const struct blocktrack_hdr *h = &r->hdrs[k];

        for (; j < r->logs.n && r->logs.v[j]->log.block_number == h->number;
             j++)
            events_deliver(ev, &r->logs.v[j]->log, false);
        ev_drop_pending(ev, h->hash);
        if (blocktrack_append(&ev->bt, h) != 0) {
            ev_raced(ev);
            return;
        }
        events_head_done(ev, h);
    }
    events_prune(ev);
    events_hq_drop_covered(ev, r->seq, r->to);
    ev->back = 0;
    ev_succeeded(ev);
    events_kick(ev);
}

/* ---- bulk -------------------------------------------------------------- */

static bool
ev_bulk_start(struct events *ev, uint64_t target)
{
    const struct blocktrack_hdr *tip = blocktrack_tip(&ev->bt);
    uint64_t next = blocktrack_next(&ev->bt);
    struct ev_round *r;
    struct rpc_batch *b;
    int rc;

    r = ev_round_new(ev, EV_R_BULK, 2 + ev->nfilters, 2);
    r->from = next;
    r->to = target - ev->o.window;
    if (r->to - next + 1 > ev->chunk)
        r->to = next + ev->chunk - 1;
    b = rpc_batch_new(ev->rpc);
    rc = ev_add_header(b, r, 0, r->to);
    if (rc == 0 && tip != NULL)
        rc = ev_add_header(b, r, 1, tip->number);
    if (rc == 0)
        rc = ev_add_all_logs(b, r);
    return ev_round_send(ev, r, b, rc);
}

static void
ev_bulk_done(struct events *ev, struct ev_round *r)
{
    const struct blocktrack_hdr *tip = blocktrack_tip(&ev->bt);
    const struct blocktrack_hdr *end = &r->hdrs[0];

    if (tip != NULL &&
        (!r->have[1] || memcmp(r->hdrs[1].hash, tip->hash, 32) != 0)) {
        /* Our tip left the chain: find the fork point first. */
        ev->check_tip = true;
        events_kick(ev);
        return;
    }
    if (!r->have[0]) {
        events_fail(ev, KP_ENOTFOUND,
                    "events: the node does not have the "
                    "blocks asked for yet");
        return;
    }
    ev_sort_logs(&r->logs);
    for (size_t i = 0; i < r->logs.n; i++) {
        const struct evlog *l = &r->logs.v[i]->log;

        if (l->block_number < r->from || l->block_number > r->to ||
            (l->block_number == r->to &&
             memcmp(l->block_hash, end->hash, 32) != 0)) {
            ev_raced(ev);
            return;
        }
    }
    for (size_t i = 0; i < r->logs.n; i++)
        events_deliver(ev, &r->logs.v[i]->log, false);
    blocktrack_set_base(&ev->bt, end->number);
    blocktrack_append(&ev->bt, end);
    events_head_done(ev, end);
    events_prune(ev);
    ev_succeeded(ev);
    events_kick(ev);
}

/* ---- recheck ----------------------------------------------------------- */

static bool
ev_recheck_start(struct events *ev)
{
    const struct blocktrack_hdr *tip = blocktrack_tip(&ev->bt);
    struct ev_round *r;
    struct rpc_batch *b;
    uint64_t from;

    if (tip == NULL || ev->nfilters == 0 || ev->o.recheck_blocks == 0)
        return true;
    from = blocktrack_low(&ev->bt);
    if (from < ev->first_number)
        from = ev->first_number;
    if (tip->number + 1 >= ev->o.recheck_blocks &&
        from < tip->number + 1 - ev->o.recheck_blocks)
        from = tip->number + 1 - ev->o.recheck_blocks;
    if (from > tip->number)
        return true;
    r = ev_round_new(ev, EV_R_RECHECK, ev->nfilters, 0);
    r->from = from;
    r->to = tip->number;
    b = rpc_batch_new(ev->rpc);
    return ev_round_send(ev, r, b, ev_add_all_logs(b, r));
}

static void
ev_recheck_done(struct events *ev, struct ev_round *r)
{
    ev_sort_logs(&r->logs);
    for (size_t i = 0; i < r->logs.n; i++) {
        const struct evlog *l = &r->logs.v[i]->log;

        /* Only what belongs to the chain we processed; anything else is
         * for the fork handling to find. */
        if (blocktrack_contains(&ev->bt, l->block_number, l->block_hash))
            events_deliver(ev, l, false);
    }
    ev_succeeded(ev);
    events_kick(ev);
}

/* ---- poll -------------------------------------------------------------- */

int
events_poll_start(struct events *ev)
{
    struct ev_round *r = ev_round_new(ev, EV_R_POLL, 1, 1);
    struct ev_item *it = &r->items[r->nitems++];
    int rc;

    it->r = r;
    it->kind = EV_I_HEADER;
    r->want[0] = UINT64_MAX;
    rc = rpc_call(ev->rpc, "eth_getBlockByNumber", "[\"latest\",false]", NULL,
                  ev_item_cb, it, &ev->poll_id);
    if (rc != 0) {
        events_round_free(r);
        return rc;
    }
    ev->poll = r;
    return 0;
}

static void
ev_poll_done(struct events *ev, struct ev_round *r)
{
    if (r->err != 0) {
        /* The next tick polls again. */
        ev->st.rpc_errors++;
        events_set_error(ev, r->err, r->text);
        return;
    }
    if (r->have[0]) {
        events_hq_push(ev, &r->hdrs[0], 0);
        events_kick(ev);
    }
}

/* ---- completion -------------------------------------------------------- */

static void
ev_round_failed(struct events *ev, struct ev_round *r)
{
    uint64_t range = r->to - r->from + 1;

    if (r->logs_failed && (r->err == KP_ERPC || r->err == KP_ELIMIT) &&
        range > 1) {
        /* Too many logs for one reply: smaller ranges. */
        ev->chunk = range / 2;
        ev->st.chunk_blocks = ev->chunk;
        ev->retry_ms = ev->o.retry_base_ms;
    } else if (r->kind == EV_R_HEADERS && r->err == KP_ELIMIT && r->nhdrs > 1) {
        ev->hspan = r->nhdrs / 2;
    }
    events_fail(ev, r->err, r->text);
}

static void
ev_round_done(struct ev_round *r)
{
    struct events *ev = r->ev;

    if (r->kind == EV_R_POLL) {
        ev->poll = NULL;
        ev_poll_done(ev, r);
        events_round_free(r);
        return;
    }
    ev->round = NULL;
    if (r->err != 0) {
        ev_round_failed(ev, r);
        events_round_free(r);
        return;
    }
    switch (r->kind) {
    case EV_R_ANCHOR:
        ev_anchor_done(ev, r);
        break;
    case EV_R_HEADERS:
        ev_headers_done(ev, r);
        break;
    case EV_R_LOGS:
        ev_logs_done(ev, r);
        break;
    case EV_R_BULK:
        ev_bulk_done(ev, r);
        break;
    case EV_R_RECHECK:
        ev_recheck_done(ev, r);
        break;
    case EV_R_POLL:
        break;
    }
    events_round_free(r);
}

/* ---- the step ---------------------------------------------------------- */

static bool
ev_live_ok(const struct events *ev, const struct ev_head *f)
{
    return ev->live && f->gen == ev->gen && f->h.number >= ev->fast_min;
}

/* The head is the tip's child and came on the current subscription: its
 * logs are the live ones waiting for it. */
static void
ev_take_live(struct events *ev, const struct ev_head *f)
{
    struct blocktrack_hdr h = f->h;
    struct logwin_list l;

    events_hq_pop(ev);
    logwin_take_block(&ev->pend, &l, h.hash);
    for (size_t i = 0; i < l.n; i++)
        events_deliver(ev, &l.v[i]->log, true);
    logwin_list_free(&l);
    blocktrack_append(&ev->bt, &h);
    events_head_done(ev, &h);
    events_prune(ev);
}

/* Returns: true to look again at once, false to wait (a round in flight,
 * a retry pending, or nothing to do). */
static bool
ev_step_once(struct events *ev)
{
    const struct ev_head *f, *b;
    enum blocktrack_rel rel = BLOCKTRACK_UNBASED;
    uint64_t next = blocktrack_next(&ev->bt), target;

    if (!blocktrack_is_based(&ev->bt))
        return ev_anchor_start(ev);
    if (ev->recheck) {
        ev->recheck = false;
        return ev_recheck_start(ev);
    }
    if (ev->check_tip && blocktrack_tip(&ev->bt) != NULL)
        return ev_headers_start(ev, blocktrack_tip(&ev->bt)->number, true);
    while ((f = events_hq_front(ev)) != NULL &&
           ((rel = blocktrack_classify(&ev->bt, &f->h)) == BLOCKTRACK_KNOWN ||
            rel == BLOCKTRACK_STALE))
        events_hq_pop(ev);
    if (f == NULL)
        return false;
    if (rel == BLOCKTRACK_CHILD && ev_live_ok(ev, f)) {
        ev_take_live(ev, f);
        return true;
    }
    /* The newest head says how far to read; the front one is within the
     * window (not stale), which keeps the read range sane if the newest
     * is lower (the chain got shorter). */
    b = events_hq_back(ev);
    target = b->h.number > f->h.number ? b->h.number : f->h.number;
    if (target >= next + ev->o.window)
        return ev_bulk_start(ev, target);
    return ev_headers_start(ev, target, rel == BLOCKTRACK_FORK);
}

void
events_step(struct events *ev)
{
    while (!ev->dead && ev->round == NULL && !ev->waiting && ev_step_once(ev))
        ;
}
