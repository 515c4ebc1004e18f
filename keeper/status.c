/* status.c - readiness (/readyz) and the /status document (daemon_int.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain/hex.h"
#include "keeper/daemon_int.h"

/* ---- readiness ---- */

uint64_t
proto_fresh_ms(const struct cfg_protocol *pc)
{
    uint64_t polls = DAEMON_FRESH_POLLS * pc->chain.poll_interval_ms;

    return polls > DAEMON_FRESH_MIN_MS ? polls : DAEMON_FRESH_MIN_MS;
}

bool
proto_endpoint_healthy(const struct rpc_endpoint_stats *st,
                       uint32_t fail_threshold)
{
    return !st->down && !st->lagging &&
           st->consecutive_failures < fail_threshold;
}

static bool not_ready(char *reason, size_t reasonsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
not_ready(char *reason, size_t reasonsz, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, reasonsz, fmt, ap);
    va_end(ap);
    return false;
}

bool
proto_rt_ready(const struct proto_rt *p, uint64_t now_ns, char *reason,
               size_t reasonsz)
{
    const char *name = p->pc->name;
    const struct rpc_endpoint_stats *st;
    uint64_t age_ms, fresh_ms = proto_fresh_ms(p->pc);

    if (p->chain_id == CHAIN_ID_MISMATCH)
        return not_ready(reason, reasonsz,
                         "%s: chain id mismatch (configured %" PRIu64
                         ", endpoint serves %" PRIu64 ")",
                         name, p->pc->chain.chain_id, p->chain_id_seen);
    if (!p->have_head)
        return not_ready(reason, reasonsz, "%s: no head yet%s%s", name,
                         p->last_error[0] ? ": " : "", p->last_error);
    if (p->chain_id != CHAIN_ID_OK)
        return not_ready(reason, reasonsz, "%s: chain id not verified yet",
                         name);
    /* A caller's clock reading taken before the head arrived: age 0. */
    age_ms =
        now_ns > p->head_seen_ns ? (now_ns - p->head_seen_ns) / 1000000u : 0;
    if (age_ms >= fresh_ms)
        return not_ready(reason, reasonsz,
                         "%s: no head for %" PRIu64 "s (limit %" PRIu64
                         "s)%s%s",
                         name, age_ms / 1000, fresh_ms / 1000,
                         p->last_error[0] ? ": " : "", p->last_error);
    if (proto_any_healthy(p))
        return true;
    /* None is: name the one that gave the head, else the first. */
    st = rpc_endpoint_stats(
        p->rpc,
        p->head.endpoint < rpc_endpoint_count(p->rpc) ? p->head.endpoint : 0);
    return not_ready(reason, reasonsz, "%s: head endpoint %s is %s%s%s", name,
                     st->name, st->lagging ? "lagging" : "failing",
                     st->last_error[0] ? ": " : "", st->last_error);
}

bool
daemon_ready(void *arg, char *reason, size_t reasonsz)
{
    struct daemon *d = arg;
    uint64_t now = uv_hrtime();

    if (d->stopping)
        return not_ready(reason, reasonsz, "shutting down");
    if (d->nprotos == 0)
        return not_ready(reason, reasonsz, "configuration not loaded");
    for (size_t i = 0; i < d->nprotos; i++)
        if (!proto_rt_ready(d->protos[i], now, reason, reasonsz))
            return false;
    return true;
}

/* ---- /status ---- */

static cJSON *
status_head(const struct proto_rt *p, uint64_t now_ns, uint64_t now_s)
{
    char hash[67];
    cJSON *h;

    if (!p->have_head)
        return cJSON_CreateNull();
    h = cJSON_CreateObject();
    hex_encode(hash, sizeof(hash), p->head.hash, sizeof(p->head.hash), true);
    cJSON_AddNumberToObject(h, "number", (double)p->head.number);
    cJSON_AddStringToObject(h, "hash", hash);
    cJSON_AddNumberToObject(h, "timestamp", (double)p->head.timestamp);
    cJSON_AddNumberToObject(
        h, "age_s",
        now_s > p->head.timestamp ? (double)(now_s - p->head.timestamp) : 0.0);
    cJSON_AddNumberToObject(
        h, "received_s_ago",
        now_ns > p->head_seen_ns
            ? (double)((now_ns - p->head_seen_ns) / 1000000u) / 1000.0
            : 0.0);
    cJSON_AddStringToObject(
        h, "endpoint",
        p->head.endpoint < rpc_endpoint_count(p->rpc)
            ? rpc_endpoint_stats(p->rpc, p->head.endpoint)->name
        : p->ws != NULL ? ws_name(p->ws)
                        : "http");
    return h;
}

/* The event stream: transport and counters; null with --once. */
static cJSON *
status_events(const struct proto_rt *p)
{
    const struct events_stats *st;
    cJSON *e;

    if (p->events == NULL)
        return cJSON_CreateNull();
    st = events_stats(p->events);
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "transport", p->ws != NULL ? "ws" : "http");
    cJSON_AddBoolToObject(e, "live", st->live);
    cJSON_AddNumberToObject(e, "reconnects", (double)st->reconnects);
    cJSON_AddNumberToObject(e, "backfilled_logs", (double)st->backfilled_logs);
    cJSON_AddNumberToObject(e, "reorgs", (double)st->reorgs);
    return e;
}

static cJSON *
status_endpoint(const struct rpc_endpoint_stats *st, uint32_t fail_threshold)
{
    cJSON *e = cJSON_CreateObject();
    uint64_t errors = 0;

    for (size_t c = 0; c < RPC_EC_COUNT; c++)
        errors += st->errors[c];
    cJSON_AddStringToObject(e, "name", st->name);
    cJSON_AddBoolToObject(e, "healthy",
                          proto_endpoint_healthy(st, fail_threshold));
    cJSON_AddBoolToObject(e, "lagging", st->lagging);
    cJSON_AddBoolToObject(e, "down", st->down);
    if (st->head_known)
        cJSON_AddNumberToObject(e, "head", (double)st->head);
    else
        cJSON_AddNullToObject(e, "head");
    cJSON_AddNumberToObject(e, "latency_ms", st->latency_ewma_ms);
    cJSON_AddNumberToObject(e, "requests", (double)st->requests);
    cJSON_AddNumberToObject(e, "errors", (double)errors);
    cJSON_AddStringToObject(e, "last_error", st->last_error);
    return e;
}

static const char *
chain_id_state(const struct proto_rt *p)
{
    switch (p->chain_id) {
    case CHAIN_ID_OK:
        return "verified";
    case CHAIN_ID_MISMATCH:
        return "mismatch";
    case CHAIN_ID_UNKNOWN:
        break;
    }
    return "unknown";
}

/* The kept actions, oldest first; those without a report yet (being
 * simulated) are left out. */
static cJSON *
status_actions(const struct proto_rt *p)
{
    const struct eval_rt *ev = &p->ev;
    cJSON *arr = cJSON_CreateArray();
    size_t first = ev->nactions < EVAL_ACTIONS_KEPT ? 0 : ev->next_action;

    for (size_t n = 0; n < ev->nactions; n++) {
        size_t i = (first + n) % EVAL_ACTIONS_KEPT;

        if (!ev->act_hidden[i])
            cJSON_AddItemToArray(arr, eval_action_json(&ev->actions[i]));
    }
    return arr;
}

static cJSON *
status_protocol(const struct proto_rt *p, uint64_t now_ns, uint64_t now_s)
{
    cJSON *o = cJSON_CreateObject(), *signer, *eps;
    char reason[HTTPD_MAX_REASON] = "";
    bool ready = proto_rt_ready(p, now_ns, reason, sizeof(reason));

    cJSON_AddStringToObject(o, "name", p->pc->name);
    cJSON_AddNumberToObject(o, "chain_id", (double)p->pc->chain.chain_id);
    cJSON_AddStringToObject(o, "chain_id_check", chain_id_state(p));
    cJSON_AddBoolToObject(o, "ready", ready);
    cJSON_AddStringToObject(o, "reason", reason);
    signer = cJSON_AddObjectToObject(o, "signer");
    cJSON_AddStringToObject(signer, "address", p->address);
    cJSON_AddStringToObject(signer, "source", proto_signer_source_name(p));
    cJSON_AddItemToObject(o, "head", status_head(p, now_ns, now_s));
    cJSON_AddItemToObject(o, "events", status_events(p));
    eps = cJSON_AddArrayToObject(o, "endpoints");
    for (size_t i = 0; i < rpc_endpoint_count(p->rpc); i++)
        cJSON_AddItemToArray(eps, status_endpoint(rpc_endpoint_stats(p->rpc, i),
                                                  p->fail_threshold));
    if (p->ev.have_last)
        cJSON_AddItemToObject(o, "last_evaluation",
                              eval_record_json(&p->ev.last));
    else
        cJSON_AddNullToObject(o, "last_evaluation");
    cJSON_AddItemToObject(o, "actions", status_actions(p));
    return o;
}

cJSON *
daemon_status(void *arg)
{
    struct daemon *d = arg;
    uint64_t now_ns = uv_hrtime(), now_s = (uint64_t)time(NULL);
    char reason[HTTPD_MAX_REASON] = "";
    cJSON *doc = cJSON_CreateObject(), *protos;
    bool ready = daemon_ready(d, reason, sizeof(reason));

    cJSON_AddStringToObject(doc, "version", d->o.version);
    cJSON_AddNumberToObject(doc, "uptime_s",
                            (double)((now_ns - d->start_ns) / 1000000000u));
    cJSON_AddBoolToObject(doc, "dry_run", d->o.dry_run);
    cJSON_AddBoolToObject(doc, "ready", ready);
    cJSON_AddStringToObject(doc, "reason", reason);
    cJSON_AddNumberToObject(doc, "reloads", (double)d->reloads);
    protos = cJSON_AddArrayToObject(doc, "protocols");
    for (size_t i = 0; i < d->nprotos; i++)
        cJSON_AddItemToArray(protos,
                             status_protocol(d->protos[i], now_ns, now_s));
    return doc;
}
