/*
 * events.c - the chain event stream: lifecycle, WebSocket subscriptions,
 * the head queue, delivery (see events.h; reading the chain is in
 * events_sync.c).
 */
#include "chain/events.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "chain/events_int.h"
#include "chain/hex.h"

/* Caps on the bytes of log data held for dedupe and removal, and for
 * live logs waiting for their head. */
#define EV_WIN_BYTES (64u << 20)
#define EV_PEND_BYTES (16u << 20)

/* ---- options ----------------------------------------------------------- */

void
events_opts_init(struct events_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->window = 128;
    o->chunk_blocks = 2000;
    o->poll_ms = 2000;
    o->poll_when_ws_down = true;
    o->recheck_blocks = 2;
    o->retry_base_ms = 250;
    o->retry_max_ms = 10000;
    o->max_log_data = 64u << 10;
    o->max_window_logs = 100000;
    o->max_pending_logs = 10000;
    o->max_heads_queued = 256;
}

static int
ev_check_opts(const struct events_opts *o)
{
    if (o->window < 2 || o->window > EVENTS_MAX_WINDOW ||
        o->chunk_blocks == 0 || o->poll_ms == 0 || o->retry_base_ms == 0 ||
        o->retry_base_ms > o->retry_max_ms || o->max_log_data > (16u << 20) ||
        o->max_window_logs == 0 || o->max_pending_logs == 0 ||
        o->max_heads_queued == 0 || o->max_heads_queued > 65536 ||
        o->recheck_blocks > o->window)
        return KP_ERANGE;
    return 0;
}

/* ---- small helpers ----------------------------------------------------- */

void
events_set_error(struct events *ev, int err, const char *text)
{
    snprintf(ev->last_error, sizeof(ev->last_error), "%s", text);
    if (ev->cb.on_error != NULL) {
        ev->in_cb++;
        ev->cb.on_error(ev->arg, err, ev->last_error);
        ev->in_cb--;
    }
}

static void
ev_on_retry(uv_timer_t *t)
{
    struct events *ev = t->data;

    ev->waiting = false;
    events_step(ev);
}

void
events_wait(struct events *ev, uint32_t ms)
{
    ev->waiting = true;
    uv_timer_start(&ev->retry_timer, ev_on_retry, ms, 0);
}

/* Wait the current retry delay, and double it for next time. */
void
events_backoff(struct events *ev)
{
    events_wait(ev, ev->retry_ms);
    ev->retry_ms = ev->retry_ms > ev->o.retry_max_ms / 2 ? ev->o.retry_max_ms
                                                         : ev->retry_ms * 2;
}

void
events_fail(struct events *ev, int err, const char *text)
{
    ev->st.rpc_errors++;
    events_set_error(ev, err, text);
    events_backoff(ev);
}

static void
ev_on_kick(uv_timer_t *t)
{
    events_step(t->data);
}

/* Run the stream's next step from the loop, not from inside the caller. */
void
events_kick(struct events *ev)
{
    if (!ev->dead && !ev->waiting)
        uv_timer_start(&ev->kick_timer, ev_on_kick, 0, 0);
}

/* ---- owned logs -------------------------------------------------------- */

struct logwin_entry *
events_entry_new(const struct evlog *l)
{
    struct logwin_entry *e = kp_xcalloc(1, sizeof(*e) + l->data_len);

    e->log = *l;
    if (l->data_len > 0)
        memcpy(e + 1, l->data, l->data_len);
    e->log.data = (const uint8_t *)(e + 1);
    return e;
}

void
events_logvec_push(struct ev_logvec *v, struct logwin_entry *e)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = kp_xrealloc(v->v, v->cap * sizeof(*v->v));
    }
    v->v[v->n++] = e;
}

void
events_logvec_free(struct ev_logvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    memset(v, 0, sizeof(*v));
}

/* ---- delivery ---------------------------------------------------------- */

static uint32_t
ev_match(const struct events *ev, const struct evlog *l)
{
    uint32_t m = 0;

    for (size_t i = 0; i < ev->nfilters; i++)
        if (evlog_filter_match(&ev->filters[i], l))
            m |= 1u << i;
    return m;
}

void
events_deliver(struct events *ev, const struct evlog *l, bool live)
{
    struct evlog copy = *l;
    const struct evlog *kept;

    if (l->block_number < ev->first_number)
        return;
    if (logwin_find(&ev->win, l->block_hash, l->log_index) != NULL) {
        ev->st.duplicates++;
        return;
    }
    copy.filters = ev_match(ev, l);
    /* A log no filter asked for: the node is confused; not ours. */
    if (copy.filters == 0 || logwin_add(&ev->win, &copy) != 0) {
        ev->st.dropped_logs++;
        return;
    }
    kept = logwin_find(&ev->win, l->block_hash, l->log_index);
    if (live)
        ev->st.live_logs++;
    else
        ev->st.backfilled_logs++;
    ev->in_cb++;
    ev->cb.on_log(ev->arg, kept, false);
    ev->in_cb--;
}

void
events_remove(struct events *ev, const struct evlog *l)
{
    ev->st.removed_logs++;
    ev->in_cb++;
    ev->cb.on_log(ev->arg, l, true);
    ev->in_cb--;
}

void
events_head_done(struct events *ev, const struct blocktrack_hdr *h)
{
    ev->st.heads++;
    ev->st.head_known = true;
    ev->st.head_number = h->number;
    ev->st.head_timestamp = h->timestamp;
    if (ev->cb.on_head != NULL) {
        ev->in_cb++;
        ev->cb.on_head(ev->arg, h->number, h->hash, h->timestamp);
        ev->in_cb--;
    }
}

/* Forget what is below the window: those blocks are final for us. */
void
events_prune(struct events *ev)
{
    uint64_t low = blocktrack_low(&ev->bt);

    logwin_prune_below(&ev->win, low);
    logwin_prune_below(&ev->pend, low);
}

/* ---- head queue -------------------------------------------------------- */

static struct ev_head *
ev_hq_at(const struct events *ev, size_t i)
{
    return &ev->hq[(ev->hq_start + i) % ev->hq_cap];
}

const struct ev_head *
events_hq_front(const struct events *ev)
{
    return ev->hq_len > 0 ? ev_hq_at(ev, 0) : NULL;
}

const struct ev_head *
events_hq_back(const struct events *ev)
{
    return ev->hq_len > 0 ? ev_hq_at(ev, ev->hq_len - 1) : NULL;
}

void
events_hq_pop(struct events *ev)
{
    if (ev->hq_len == 0)
        return;
    ev->hq_start = (ev->hq_start + 1) % ev->hq_cap;
    ev->hq_len--;
}

void
events_hq_push(struct events *ev, const struct blocktrack_hdr *h, uint64_t gen)
{
    const struct ev_head *last = events_hq_back(ev);

    if (last != NULL && last->h.number == h->number &&
        memcmp(last->h.hash, h->hash, 32) == 0)
        return;
    if (ev->hq_len == ev->hq_cap)
        events_hq_pop(ev); /* its block gets read by number instead */
    *ev_hq_at(ev, ev->hq_len) =
        (struct ev_head){.h = *h, .gen = gen, .seq = ++ev->hq_seq};
    ev->hq_len++;
}

/* Drop the heads that arrived up to `seq` for blocks up to `upto`: the
 * chain was read at their heights after they came, so they are either
 * processed or no longer canonical. */
void
events_hq_drop_covered(struct events *ev, uint64_t seq, uint64_t upto)
{
    size_t keep = 0;

    for (size_t i = 0; i < ev->hq_len; i++) {
        struct ev_head *e = ev_hq_at(ev, i);

        if (e->seq <= seq && e->h.number <= upto)
            continue;
        *ev_hq_at(ev, keep++) = *e;
    }
    ev->hq_len = keep;
}

/* ---- WebSocket --------------------------------------------------------- */

static void
ev_ws_send_sub(struct events *ev, uint64_t id, const char *params)
{
    char *req;
    size_t n = strlen(params) + 96;
    int len;

    req = kp_xmalloc(n);
    len = snprintf(req, n,
                   "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":"
                   "\"eth_subscribe\",\"params\":%s}",
                   (unsigned long long)id, params);
    if (ws_send_text(ev->ws, req, (size_t)len) != 0)
        events_set_error(ev, KP_ESTATE, "events: cannot send eth_subscribe");
    free(req);
}

/* Logs first, newHeads once every logs subscription is confirmed: then
 * every head that comes on this connection is of a block whose logs were
 * announced to us as well. */
static void
ev_ws_subscribe_logs(struct events *ev)
{
    char params[EVLOG_FILTER_JSON_MAX + 16];

    for (size_t i = 0; i < ev->nfilters; i++) {
        int n = snprintf(params, sizeof(params), "[\"logs\",");

        /* Filters were checked in events_new: they fit. */
        evlog_filter_json(params + n, sizeof(params) - (size_t)n - 1,
                          &ev->filters[i], NULL);
        strcat(params, "]");
        ev_ws_send_sub(ev, ev->sub_base + i, params);
    }
}

static void
ev_ws_subscribe_heads(struct events *ev)
{
    ev->heads_sent = true;
    ev_ws_send_sub(ev, ev->sub_base + ev->nfilters, "[\"newHeads\"]");
}

static void
ev_ws_reset(struct events *ev)
{
    ev->gen++;
    ev->live = false;
    ev->st.live = false;
    ev->subs_ok = 0;
    ev->heads_sent = false;
    memset(ev->subs, 0, (ev->nfilters + 1) * sizeof(*ev->subs));
}

static void
ev_ws_open(void *arg)
{
    struct events *ev = arg;

    if (++ev->opens > 1)
        ev->st.reconnects++;
    ev_ws_reset(ev);
    ev->sub_base = ev->next_id;
    ev->next_id += ev->nfilters + 1;
    if (ev->nfilters > 0)
        ev_ws_subscribe_logs(ev);
    else
        ev_ws_subscribe_heads(ev);
}

static void
ev_ws_close(void *arg, int err, const char *text)
{
    struct events *ev = arg;
    char buf[EV_TEXT_MAX];

    ev_ws_reset(ev);
    /* A live log of a processed block may have been lost with the
     * connection: read the last blocks again. */
    ev->recheck = blocktrack_tip(&ev->bt) != NULL;
    snprintf(buf, sizeof(buf), "events: subscription connection lost: %s",
             text);
    events_set_error(ev, err, buf);
    events_kick(ev);
}

static void
ev_ws_reply(struct events *ev, const struct evlog_msg *m)
{
    char buf[EV_TEXT_MAX];
    size_t i;

    if (m->id < ev->sub_base || m->id > ev->sub_base + ev->nfilters)
        return; /* not of this connection */
    i = (size_t)(m->id - ev->sub_base);
    if (m->is_error || m->text[0] == '\0') {
        snprintf(buf, sizeof(buf),
                 "events: eth_subscribe refused (%lld): %s; polling",
                 (long long)m->err_code, m->text);
        events_set_error(ev, KP_ERPC, buf);
        return;
    }
    if (ev->subs[i][0] != '\0')
        return;
    snprintf(ev->subs[i], sizeof(ev->subs[i]), "%s", m->text);
    ev->subs_ok++;
    if (i < ev->nfilters && ev->subs_ok == ev->nfilters && !ev->heads_sent)
        ev_ws_subscribe_heads(ev);
    if (i == ev->nfilters) {
        ev->live = true;
        ev->st.live = true;
        /* The next head may be long in coming: learn the current one now,
         * so that what was missed while away is read at once. */
        if (ev->poll == NULL)
            events_poll_start(ev);
    }
}

static void
ev_live_log(struct events *ev, const struct evlog *l)
{
    uint64_t evicted = ev->pend.evicted;

    if (l->block_number < ev->first_number)
        return;
    if (blocktrack_contains(&ev->bt, l->block_number, l->block_hash)) {
        events_deliver(ev, l, true); /* came after its head */
        return;
    }
    if (l->block_number < blocktrack_low(&ev->bt) &&
        blocktrack_tip(&ev->bt) != NULL)
        return;
    if (logwin_add(&ev->pend, l) == KP_ELIMIT)
        ev->st.dropped_logs++;
    if (l->block_number > ev->pend_max)
        ev->pend_max = l->block_number;
    /* A dropped waiting log would be missed by the live path: blocks up
     * to the newest one seen are read by number instead. */
    if (ev->pend.evicted != evicted && ev->fast_min <= ev->pend_max)
        ev->fast_min = ev->pend_max + 1;
}

static void
ev_live_removed(struct events *ev, const struct evlog *l)
{
    const struct evlog *had =
        logwin_find(&ev->win, l->block_hash, l->log_index);

    if (had != NULL) {
        events_remove(ev, had);
        logwin_remove(&ev->win, l->block_hash, l->log_index);
        return;
    }
    logwin_remove(&ev->pend, l->block_hash, l->log_index);
}

static void
ev_ws_notification(struct events *ev, const struct evlog_msg *m)
{
    const char *heads = ev->subs[ev->nfilters];

    if (m->kind == EVLOG_MSG_HEAD) {
        if (heads[0] == '\0' || strcmp(m->sub, heads) != 0)
            return;
        rpc_report_head(ev->rpc, RPC_ENDPOINT_NONE, m->head.number);
        events_hq_push(ev, &m->head, ev->gen);
        events_kick(ev);
        return;
    }
    for (size_t i = 0; i < ev->nfilters; i++) {
        if (ev->subs[i][0] == '\0' || strcmp(m->sub, ev->subs[i]) != 0)
            continue;
        if (m->removed)
            ev_live_removed(ev, &m->log);
        else
            ev_live_log(ev, &m->log);
        return;
    }
}

static void
ev_ws_message(void *arg, const char *msg, size_t len)
{
    struct events *ev = arg;
    struct evlog_msg m;
    int rc;

    rc = evlog_msg_parse(&m, ev->msgbuf, ev->o.max_log_data, msg, len);
    if (rc != 0) {
        /* A notification we cannot take is a log we would lose. */
        if (rc == KP_ELIMIT || strstr(msg, "eth_subscription") != NULL) {
            ev->st.dropped_logs++;
            events_set_error(ev, rc,
                             "events: notification dropped (malformed "
                             "or over the data cap)");
        }
        return;
    }
    if (m.kind == EVLOG_MSG_REPLY)
        ev_ws_reply(ev, &m);
    else
        ev_ws_notification(ev, &m);
}

/* ---- polling ----------------------------------------------------------- */

static bool
ev_should_poll(const struct events *ev)
{
    return ev->ws == NULL || (!ev->live && ev->o.poll_when_ws_down);
}

static void
ev_on_poll_timer(uv_timer_t *t)
{
    struct events *ev = t->data;

    if (ev_should_poll(ev) && ev->poll == NULL)
        events_poll_start(ev);
}

/* ---- lifecycle --------------------------------------------------------- */

static int
ev_check_args(const struct evlog_filter *filters, size_t nfilters,
              const struct events_callbacks *cb)
{
    if (nfilters > EVENTS_MAX_FILTERS)
        return KP_ERANGE;
    if (nfilters > 0 && (filters == NULL || cb->on_log == NULL))
        return KP_EINVAL;
    for (size_t i = 0; i < nfilters; i++) {
        char buf[EVLOG_FILTER_JSON_MAX];

        if (!evlog_filter_is_valid(&filters[i]) ||
            evlog_filter_json(buf, sizeof(buf), &filters[i], NULL) != 0)
            return KP_EINVAL;
    }
    return 0;
}

static void
ev_timers_init(struct events *ev)
{
    uv_timer_init(ev->loop, &ev->poll_timer);
    uv_timer_init(ev->loop, &ev->retry_timer);
    uv_timer_init(ev->loop, &ev->kick_timer);
    ev->poll_timer.data = ev->retry_timer.data = ev->kick_timer.data = ev;
    ev->handles = 3;
}

/* The stream's memory, sized by the (checked) options. */
static struct events *
ev_alloc(const struct evlog_filter *filters, size_t nfilters,
         const struct events_opts *o)
{
    struct events *ev = kp_xcalloc(1, sizeof(*ev));

    ev->o = *o;
    ev->nfilters = nfilters;
    if (nfilters > 0) {
        ev->filters = kp_xcalloc(nfilters, sizeof(*filters));
        memcpy(ev->filters, filters, nfilters * sizeof(*filters));
    }
    ev->subs = kp_xcalloc(nfilters + 1, sizeof(*ev->subs));
    ev->msgbuf = kp_xmalloc(o->max_log_data + 1);
    blocktrack_init(&ev->bt, o->window);
    logwin_init(&ev->win, o->max_window_logs,
                o->max_log_data > EV_WIN_BYTES ? o->max_log_data
                                               : EV_WIN_BYTES);
    logwin_init(&ev->pend, o->max_pending_logs,
                o->max_log_data > EV_PEND_BYTES ? o->max_log_data
                                                : EV_PEND_BYTES);
    ev->hq_cap = o->max_heads_queued;
    ev->hq = kp_xcalloc(ev->hq_cap, sizeof(*ev->hq));
    ev->retry_ms = o->retry_base_ms;
    ev->chunk = o->chunk_blocks;
    ev->hspan = o->window;
    ev->st.chunk_blocks = ev->chunk;
    ev->next_id = 1;
    return ev;
}

static void
ev_ws_attach(struct events *ev)
{
    struct ws_handler h = {ev_ws_open, ev_ws_message, ev_ws_close};

    ws_set_handler(ev->ws, &h, ev);
    /* KP_ESTATE if the owner started it; if it is open already, its
     * on_open went to someone else: subscribe now. */
    if (ws_start(ev->ws) != 0 && ws_is_open(ev->ws))
        ev_ws_open(ev);
}

int
events_new(struct events **out, uv_loop_t *loop, struct rpc_client *rpc,
           struct ws_client *ws, const struct evlog_filter *filters,
           size_t nfilters, const struct events_opts *o,
           const struct events_callbacks *cb, void *arg)
{
    struct events_opts def;
    struct events *ev;
    int rc;

    assert(out != NULL && loop != NULL && rpc != NULL && cb != NULL);
    *out = NULL;
    if (o == NULL) {
        events_opts_init(&def);
        o = &def;
    }
    if ((rc = ev_check_opts(o)) != 0 ||
        (rc = ev_check_args(filters, nfilters, cb)) != 0)
        return rc;
    ev = ev_alloc(filters, nfilters, o);
    ev->loop = loop;
    ev->rpc = rpc;
    ev->ws = ws;
    ev->cb = *cb;
    ev->arg = arg;
    ev_timers_init(ev);
    uv_timer_start(&ev->poll_timer, ev_on_poll_timer, 0, o->poll_ms);
    if (ws != NULL)
        ev_ws_attach(ev);
    events_kick(ev);
    *out = ev;
    return 0;
}

static void
ev_handle_closed(uv_handle_t *h)
{
    struct events *ev = h->data;

    if (--ev->handles > 0)
        return;
    free(ev);
}

void
events_free(struct events *ev)
{
    if (ev == NULL || ev->dead)
        return;
    assert(ev->in_cb == 0 && "events_free from an events callback");
    ev->dead = true;
    if (ev->ws != NULL)
        ws_set_handler(ev->ws, NULL, NULL);
    if (ev->round != NULL) {
        rpc_cancel(ev->rpc, ev->round_id);
        events_round_free(ev->round);
        ev->round = NULL;
    }
    if (ev->poll != NULL) {
        rpc_cancel(ev->rpc, ev->poll_id);
        events_round_free(ev->poll);
        ev->poll = NULL;
    }
    blocktrack_cleanup(&ev->bt);
    logwin_cleanup(&ev->win);
    logwin_cleanup(&ev->pend);
    free(ev->filters);
    free(ev->subs);
    free(ev->msgbuf);
    free(ev->hq);
    uv_close((uv_handle_t *)&ev->poll_timer, ev_handle_closed);
    uv_close((uv_handle_t *)&ev->retry_timer, ev_handle_closed);
    uv_close((uv_handle_t *)&ev->kick_timer, ev_handle_closed);
}

const struct events_stats *
events_stats(const struct events *ev)
{
    assert(ev != NULL);
    return &ev->st;
}

const struct blocktrack *
events_chain(const struct events *ev)
{
    assert(ev != NULL);
    return &ev->bt;
}

const char *
events_last_error(const struct events *ev)
{
    assert(ev != NULL);
    return ev->last_error;
}
