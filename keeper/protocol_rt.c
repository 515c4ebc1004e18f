/* protocol_rt.c - one protocol's runtime: its rpc client, event stream
 * (heads and oracle logs, over WebSocket or HTTP polling), signer and
 * metric handles (daemon_int.h). */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "keeper/daemon_int.h"
#include "keeper/log.h"

static uint32_t
clamp_u32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* ---- signer ---- */

bool
proto_signer_cfg_equal(const struct cfg_signer *a, const struct cfg_signer *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CFG_SIGNER_KEYSTORE:
        return !strcmp(a->keystore.path, b->keystore.path) &&
               !strcmp(a->keystore.password.ref, b->keystore.password.ref);
    case CFG_SIGNER_KEY_FILE:
        return !strcmp(a->key_file, b->key_file);
    case CFG_SIGNER_KEY_ENV:
        return !strcmp(a->key_env, b->key_env);
    case CFG_SIGNER_NONE:
        break;
    }
    return false;
}

const char *
proto_signer_source_name(const struct proto_rt *p)
{
    switch (p->pc->signer.kind) {
    case CFG_SIGNER_KEYSTORE:
        return "keystore";
    case CFG_SIGNER_KEY_FILE:
        return "key_file";
    case CFG_SIGNER_KEY_ENV:
        return "env";
    case CFG_SIGNER_NONE:
        break;
    }
    return "none";
}

/* A "${file:PATH}" reference is relative to the config file's directory,
 * as the config loader resolved it. */
static int
password_file_path(char *out, size_t cap, const struct cfg_protocol *pc,
                   const char *rel)
{
    char dir[CFG_PATH_MAX];
    int n;

    if (rel[0] == '/')
        n = snprintf(out, cap, "%s", rel);
    else {
        snprintf(dir, sizeof(dir), "%s", pc->path);
        n = snprintf(out, cap, "%s/%s", dirname(dir), rel);
    }
    return n < 0 || (size_t)n >= cap ? KP_ERANGE : 0;
}

/* Fill `so` from the keystore section. `pwpath` holds a joined path. */
static int
keystore_opts(struct signer_opts *so, char *pwpath, size_t pwcap, char *err,
              size_t errcap, const struct cfg_protocol *pc)
{
    const char *ref = pc->signer.keystore.password.ref;

    so->source = SIGNER_SRC_KEYSTORE;
    so->path = pc->signer.keystore.path;
    if (!strncmp(ref, "env:", 4)) {
        so->pw_source = SIGNER_PW_ENV;
        so->pw_ref = ref + 4;
        return 0;
    }
    if (!strncmp(ref, "file:", 5) &&
        password_file_path(pwpath, pwcap, pc, ref + 5) == 0) {
        so->pw_source = SIGNER_PW_FILE;
        so->pw_ref = pwpath;
        return 0;
    }
    snprintf(err, errcap, "keystore password must be ${env:..} or ${file:..}");
    return KP_EINVAL;
}

static void
signer_log(const struct proto_rt *p, unsigned warnings)
{
    log_info("signer", "signing key loaded", "protocol", p->pc->name, "address",
             p->address, "source", proto_signer_source_name(p));
    if (warnings & SIGNER_WARN_ENV_KEY)
        log_warn("signer",
                 "signing key taken from the environment; prefer a "
                 "keystore or a key file",
                 "protocol", p->pc->name, "variable", p->pc->signer.key_env);
    if (warnings & SIGNER_WARN_NO_MLOCK)
        log_warn("signer", "cannot lock key memory; it may be swapped out");
}

static void
signer_set(struct proto_rt *p, struct signer *s)
{
    struct eth_addr a;

    p->signer = s;
    a = signer_address(s);
    eth_addr_to_checksum(p->address, &a);
}

static int
signer_load(struct proto_rt *p, char *err, size_t errcap)
{
    const struct cfg_signer *sc = &p->pc->signer;
    struct signer_opts so = {0};
    char pwpath[CFG_PATH_MAX];
    char why[DAEMON_ERR_MAX] = "";
    struct signer *s;
    unsigned warnings = 0;
    int rc;

    if (sc->kind == CFG_SIGNER_KEYSTORE) {
        rc = keystore_opts(&so, pwpath, sizeof(pwpath), err, errcap, p->pc);
        if (rc != 0)
            return rc;
    } else if (sc->kind == CFG_SIGNER_KEY_FILE) {
        so.source = SIGNER_SRC_KEY_FILE;
        so.path = sc->key_file;
    } else {
        so.source = SIGNER_SRC_ENV;
        so.env_name = sc->key_env;
    }
    if ((rc = signer_open(&s, &warnings, why, sizeof(why), &so)) != 0) {
        snprintf(err, errcap, "%s: signer: %s", p->pc->name, why);
        return rc;
    }
    signer_set(p, s);
    signer_log(p, warnings);
    return 0;
}

/* ---- rpc ---- */

static int
rpc_build(struct proto_rt *p, char *err, size_t errcap)
{
    const struct cfg_chain *ch = &p->pc->chain;
    struct rpc_endpoint_cfg eps[CFG_MAX_RPC];
    struct rpc_opts o;
    int rc;

    for (size_t i = 0; i < ch->n_rpc; i++)
        eps[i] = (struct rpc_endpoint_cfg){
            .url = ch->rpc[i].url.value,
            .name = ch->rpc[i].name,
            .ca_file =
                ch->rpc[i].tls_ca_file[0] ? ch->rpc[i].tls_ca_file : NULL,
        };
    rpc_opts_init(&o);
    o.timeout_ms = clamp_u32(ch->request_timeout_ms);
    if (ch->max_reply_bytes != 0)
        o.max_reply = (size_t)ch->max_reply_bytes;
    o.max_lag_blocks = ch->max_lag_blocks;
    o.head_poll_ms = clamp_u32(ch->poll_interval_ms);
    o.fail_threshold = DAEMON_FAIL_THRESHOLD;
    p->fail_threshold = o.fail_threshold;
    rc = rpc_client_new(&p->rpc, &p->d->loop, NULL, eps, ch->n_rpc, &o);
    if (rc != 0)
        snprintf(err, errcap, "%s: rpc client: %s", p->pc->name,
                 kp_strerror(rc));
    return rc;
}

/* ---- chain id ---- */

static void proto_once_check(struct proto_rt *p);

static void
on_chain_id(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct proto_rt *p = arg;
    char want[24], got[24];

    p->chain_id_inflight = false;
    if (st->err != 0 || rpc_quantity_u64(result, &p->chain_id_seen) != 0) {
        snprintf(p->last_error, sizeof(p->last_error), "eth_chainId: %s",
                 st->err != 0 ? st->text : "malformed reply");
        log_warn("chain", "cannot read the chain id", "protocol", p->pc->name,
                 "error", p->last_error);
        proto_once_check(p);
        return;
    }
    snprintf(want, sizeof(want), "%" PRIu64, p->pc->chain.chain_id);
    snprintf(got, sizeof(got), "%" PRIu64, p->chain_id_seen);
    if (p->chain_id_seen == p->pc->chain.chain_id) {
        p->chain_id = CHAIN_ID_OK;
        log_info("chain", "chain id verified", "protocol", p->pc->name,
                 "chain_id", got, "endpoint", st->endpoint_name);
        eval_trigger(p, "head");
    } else {
        p->chain_id = CHAIN_ID_MISMATCH;
        log_error("chain", "chain id mismatch: endpoint serves another chain",
                  "protocol", p->pc->name, "configured", want, "endpoint_id",
                  got, "endpoint", st->endpoint_name);
    }
    proto_once_check(p);
}

static void
ask_chain_id(struct proto_rt *p)
{
    if (p->chain_id != CHAIN_ID_UNKNOWN || p->chain_id_inflight)
        return;
    if (rpc_call(p->rpc, "eth_chainId", NULL, NULL, on_chain_id, p,
                 &p->chain_id_call) == 0)
        p->chain_id_inflight = true;
}

/* ---- heads ---- */

/* The name of the source of head `h`: its rpc endpoint, or the stream's
 * transport. */
static const char *
head_source(const struct proto_rt *p, const struct head *h)
{
    if (h->endpoint < rpc_endpoint_count(p->rpc))
        return rpc_endpoint_stats(p->rpc, h->endpoint)->name;
    return p->ws != NULL ? ws_name(p->ws) : "http";
}

static void
on_head(void *arg, const struct head *h)
{
    struct proto_rt *p = arg;
    bool moved = !p->have_head || h->number != p->head.number ||
                 memcmp(h->hash, p->head.hash, sizeof(h->hash)) != 0;

    if (p->head_failures > 0)
        log_info("chain", "heads are back", "protocol", p->pc->name,
                 LOG_U64("failed_polls", p->head_failures));
    p->head_failures = 0;
    p->last_error[0] = '\0';
    p->head = *h;
    p->have_head = true;
    p->head_seen_ns = uv_hrtime();
    /* Only a head read from a known endpoint (--once) is reported: the
     * client judges lag among its endpoints by polling them at one rate,
     * and a head pushed over a WebSocket (or read at another moment) would
     * make every endpoint look a poll interval behind on a fast chain. */
    if (h->endpoint != RPC_ENDPOINT_NONE)
        rpc_report_head(p->rpc, h->endpoint, h->number);
    metric_set(p->m_head_block, (double)h->number);
    obs_head_age(p, (uint64_t)time(NULL));
    if (moved && log_enabled(LOG_LEVEL_DEBUG))
        log_debug("chain", "new head", "protocol", p->pc->name,
                  LOG_U64("number", h->number), "endpoint", head_source(p, h));
    ask_chain_id(p);
    if (p->events == NULL)
        actions_on_head(p, moved);
    else if (moved && p->txm != NULL)
        /* Endpoint health is judged on the obs tick (proto_rt_tick): heads
         * pushed in a burst would otherwise count a poll interval of lag
         * as several bad polls. */
        txm_on_head(p->txm, h->number);
    if (moved) {
        oracles_rt_on_head(p->orc, h->number, h->timestamp);
        eval_trigger(p, "head");
    }
    proto_once_check(p);
}

static void
on_head_error(void *arg, int err, const char *text)
{
    struct proto_rt *p = arg;

    snprintf(p->last_error, sizeof(p->last_error), "%s",
             text && *text ? text : kp_strerror(err));
    /* Once per streak: a dead node must not flood the log. */
    if (p->head_failures++ == 0)
        log_warn("chain", "cannot get the latest head", "protocol", p->pc->name,
                 "error", p->last_error);
    actions_on_head_error(p);
    proto_once_check(p);
}

/* ---- the event stream ---- */

static void
on_stream_head(void *arg, uint64_t number, const uint8_t hash[32],
               uint64_t timestamp)
{
    struct head h = {
        .number = number,
        .timestamp = timestamp,
        .endpoint = RPC_ENDPOINT_NONE,
    };

    memcpy(h.hash, hash, sizeof(h.hash));
    on_head(arg, &h);
}

static void
on_stream_log(void *arg, const struct evlog *log, bool removed)
{
    struct proto_rt *p = arg;

    oracles_rt_on_log(p->orc, log, removed);
}

static void
on_stream_error(void *arg, int err, const char *text)
{
    on_head_error(arg, err, text);
}

bool
proto_any_healthy(const struct proto_rt *p)
{
    for (size_t i = 0; i < rpc_endpoint_count(p->rpc); i++)
        if (proto_endpoint_healthy(rpc_endpoint_stats(p->rpc, i),
                                   p->fail_threshold))
            return true;
    return false;
}

void
proto_rt_tick(struct proto_rt *p, uint64_t now_ns)
{
    const struct events_stats *st;

    if (p->events == NULL)
        return;
    st = events_stats(p->events);
    if (p->have_head && st->head_known &&
        st->head_number >= rpc_best_head(p->rpc) && proto_any_healthy(p))
        p->head_seen_ns = now_ns;
    actions_on_head(p, false);
}

/* The client keeps a list at least as long as the config allows. */
_Static_assert(CFG_MAX_WS <= WS_MAX_URLS, "chain.ws longer than a ws list");

/* A WebSocket client for the chain.ws endpoints, if any, tried in the
 * order configured (a failed or lost connection moves it to the next);
 * the event stream starts it. */
static int
ws_build(struct proto_rt *p, char *err, size_t errcap)
{
    const struct cfg_chain *ch = &p->pc->chain;
    const char *urls[CFG_MAX_WS];
    struct ws_opts o;
    size_t bad = 0;
    int rc;

    if (ch->n_ws == 0 || p->d->o.once)
        return 0;
    for (size_t i = 0; i < ch->n_ws; i++)
        urls[i] = ch->ws[i].url.value;
    if ((rc = ws_urls_check(&bad, urls, ch->n_ws)) != 0) {
        snprintf(err, errcap, "%s: WebSocket %s: %s", p->pc->name,
                 bad < ch->n_ws ? ch->ws[bad].name : "endpoints",
                 kp_strerror(rc));
        return rc;
    }
    ws_opts_init(&o);
    o.backoff_max_ms = DAEMON_WS_BACKOFF_MAX_MS;
    o.connect_timeout_ms = clamp_u32(ch->request_timeout_ms);
    if (ch->max_reply_bytes != 0)
        o.max_message = (size_t)ch->max_reply_bytes;
    /* The config makes every wss endpoint name the same file. */
    for (size_t i = 0; i < ch->n_ws && !o.ca_file; i++)
        if (ch->ws[i].tls_ca_file[0])
            o.ca_file = ch->ws[i].tls_ca_file;
    rc = ws_client_new(&p->ws, &p->d->loop, urls, ch->n_ws, &o);
    if (rc != 0)
        snprintf(err, errcap, "%s: WebSocket client: %s", p->pc->name,
                 kp_strerror(rc));
    return rc;
}

static int
stream_start(struct proto_rt *p)
{
    struct evlog_filter f[CFG_MAX_ORACLES];
    struct events_opts eo;
    const struct events_callbacks cb = {
        .on_head = on_stream_head,
        .on_log = on_stream_log,
        .on_error = on_stream_error,
    };
    uint64_t poll = p->pc->chain.poll_interval_ms;
    size_t nf = oracles_rt_filters(p->orc, f);

    events_opts_init(&eo);
    eo.poll_ms = poll > 0 && poll <= UINT32_MAX ? (uint32_t)poll : eo.poll_ms;
    eo.max_log_data = ORACLES_LOG_DATA_MAX;
    /* With a WebSocket, `endpoint` is the first of ws_endpoints to be
     * tried; the client moves down the list on failures, and /status
     * names the one in use. */
    log_info("chain", "following heads and logs", "protocol", p->pc->name,
             "transport", p->ws != NULL ? "ws" : "http", "endpoint",
             p->ws != NULL ? ws_name(p->ws) : "rpc",
             LOG_U64("ws_endpoints", p->ws != NULL ? p->pc->chain.n_ws : 0),
             LOG_U64("filters", nf));
    return events_new(&p->events, &p->d->loop, p->rpc, p->ws, f, nf, &eo, &cb,
                      p);
}

uint64_t
proto_clock(const struct proto_rt *p)
{
    uint64_t now = (uint64_t)time(NULL);

    return p->clock_ts > now ? p->clock_ts : now;
}

/* ---- --once ---- */

static void
once_print_ok(const struct proto_rt *p)
{
    char hash[67];
    uint64_t now = (uint64_t)time(NULL);
    uint64_t age = now > p->head.timestamp ? now - p->head.timestamp : 0;

    hex_encode(hash, sizeof(hash), p->head.hash, sizeof(p->head.hash), true);
    printf("%s: ok chain_id=%" PRIu64 " head=%" PRIu64 " hash=%s age=%" PRIu64
           "s endpoint=%s signer=%s\n",
           p->pc->name, p->pc->chain.chain_id, p->head.number, hash, age,
           head_source(p, &p->head), p->address);
    fflush(stdout);
}

void
proto_once_finish(struct proto_rt *p)
{
    once_print_ok(p);
    fputs(p->ev.once_lines, stdout);
    fflush(stdout);
    daemon_once_done(p->d, p, p->once_ok);
}

/* --once: when the chain id and one head are known, evaluate (the
 * summary is printed with the decision); when either has failed, report
 * now. */
static void
proto_once_check(struct proto_rt *p)
{
    const char *why = NULL;
    char mismatch[96];

    if (!p->d->o.once || p->once_reported)
        return;
    if (p->chain_id == CHAIN_ID_MISMATCH) {
        snprintf(mismatch, sizeof(mismatch),
                 "chain id mismatch (configured %" PRIu64
                 ", endpoint serves %" PRIu64 ")",
                 p->pc->chain.chain_id, p->chain_id_seen);
        why = mismatch;
    } else if (p->head_failures > 0 || (p->chain_id == CHAIN_ID_UNKNOWN &&
                                        !p->chain_id_inflight && p->have_head))
        why = p->last_error;
    else if (p->chain_id != CHAIN_ID_OK || !p->have_head)
        return;
    p->once_reported = true;
    p->once_ok = why == NULL;
    if (why == NULL) {
        eval_once_begin(p);
        return;
    }
    printf("%s: failed: %s\n", p->pc->name, why);
    fflush(stdout);
    daemon_once_done(p->d, p, p->once_ok);
}

/* ---- lifecycle ---- */

static int
heads_build(struct proto_rt *p)
{
    struct heads_opts ho = {
        .interval_ms = clamp_u32(p->pc->chain.poll_interval_ms),
        .on_head = on_head,
        .on_error = on_head_error,
        .arg = p,
    };

    return heads_new(&p->heads, &p->d->loop, p->rpc, &ho);
}

static void
metrics_attach(struct proto_rt *p)
{
    struct metrics *reg = p->d->metrics;

    if (reg == NULL)
        return;
    metrics_series(reg, &p->m_head_block, METRIC_HEAD_BLOCK,
                   METRIC_LABELS(p->chain_label));
    metrics_series(reg, &p->m_head_age, METRIC_HEAD_AGE_SECONDS,
                   METRIC_LABELS(p->chain_label));
    obs_attach(p);
}

int
proto_rt_new(struct proto_rt **out, char *err, size_t errcap, struct daemon *d,
             const struct cfg_protocol *pc, struct proto_rt *prev)
{
    struct proto_rt *p = kp_xcalloc(1, sizeof(*p));
    int rc;

    *out = NULL;
    p->d = d;
    p->pc = pc;
    snprintf(p->chain_label, sizeof(p->chain_label), "%" PRIu64,
             pc->chain.chain_id);
    if ((rc = rpc_build(p, err, errcap)) != 0)
        goto fail;
    if ((rc = ws_build(p, err, errcap)) != 0)
        goto fail;
    if (d->o.once && (rc = heads_build(p)) != 0) {
        snprintf(err, errcap, "%s: heads: %s", pc->name, kp_strerror(rc));
        goto fail;
    }
    if (prev != NULL && prev->signer != NULL &&
        proto_signer_cfg_equal(&prev->pc->signer, &pc->signer)) {
        /* Same key: keep it (a keystore's KDF would stall the loop). */
        p->signer_from = prev;
        snprintf(p->address, sizeof(p->address), "%s", prev->address);
    } else if ((rc = signer_load(p, err, errcap)) != 0)
        goto fail;
    metrics_attach(p);
    if ((rc = eval_rt_init(p, err, errcap)) != 0 ||
        (rc = oracles_rt_new(&p->orc, err, errcap, p)) != 0 ||
        (rc = actions_init(p, err, errcap, prev)) != 0)
        goto fail;
    p->eval_from = prev;
    *out = p;
    return 0;
fail:
    proto_rt_free(p);
    return rc;
}

void
proto_rt_start(struct proto_rt *p)
{
    int rc;

    if (p->signer_from != NULL) {
        p->signer = p->signer_from->signer;
        p->signer_from->signer = NULL;
        p->signer_from = NULL;
        log_info("signer", "signer unchanged; key kept", "protocol",
                 p->pc->name, "address", p->address);
    }
    actions_start(p);
    if (p->eval_from != NULL) {
        eval_rt_adopt(p, p->eval_from);
        p->eval_from = NULL;
    }
    oracles_rt_start(p->orc);
    ask_chain_id(p);
    if (!p->d->o.once) {
        if ((rc = stream_start(p)) != 0)
            on_head_error(p, rc, "cannot start the event stream");
    } else if ((rc = heads_poll_now(p->heads)) != 0)
        on_head_error(p, rc, "cannot send eth_getBlockByNumber");
}

void
proto_rt_free(struct proto_rt *p)
{
    if (p == NULL)
        return;
    if (p->rpc != NULL)
        obs_sync(p);
    /* The stream calls into the oracles and the clients: it goes first. */
    events_free(p->events);
    ws_client_free(p->ws);
    /* Everything that calls through the client goes before it. */
    eval_rt_cleanup(p);
    oracles_rt_free(p->orc);
    actions_cleanup(p);
    heads_free(p->heads);
    if (p->chain_id_inflight)
        rpc_cancel(p->rpc, p->chain_id_call);
    rpc_client_free(p->rpc);
    signer_free(p->signer);
    free(p);
}
