/* daemon.c - the loop, signals, start, reload and stop (daemon.h). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "chain/err.h"
#include "keeper/daemon_int.h"
#include "keeper/log.h"

/* ---- logs ---- */

static void
log_apply(const struct daemon *d, const struct cfg *cfg)
{
    enum log_level level = (enum log_level)cfg->log.level;
    enum log_format format = (enum log_format)cfg->log.format;

    if (d->o.log_level_set)
        level = d->o.log_level;
    if (d->o.log_format_set)
        format = d->o.log_format;
    log_init(level, format, NULL);
}

static void
log_cfg_errors(const struct cfg_errors *errs)
{
    char line[1024];

    for (size_t i = 0; i < errs->n; i++) {
        cfg_error_format(line, sizeof(line), &errs->v[i]);
        log_error("config", "configuration error", "error", line);
    }
    if (errs->dropped > 0)
        log_error("config", "more configuration errors",
                  LOG_U64("count", errs->dropped));
}

/* ---- protocol runtimes ---- */

static struct proto_rt *
find_proto(struct proto_rt **v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i]->pc->name, name))
            return v[i];
    return NULL;
}

static void
protos_free(struct proto_rt **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        proto_rt_free(v[i]);
    free(v);
}

/* Two protocols on one chain with one signing key would take the same
 * nonces: each transaction manager counts its key's nonces alone, so
 * their transactions would replace each other. Refused at start and on
 * reload, unless nothing is sent (--once, --dry-run).
 * Returns: 0, or KP_ECONFIG (err names both protocols). */
static int
protos_check_signers(char *err, size_t errcap, struct proto_rt **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const struct proto_rt *a = v[i], *b = v[j];

            if (a->pc->chain.chain_id != b->pc->chain.chain_id ||
                strcasecmp(a->address, b->address) != 0)
                continue;
            snprintf(err, errcap,
                     "protocols %s and %s sign with the same key (%s) on "
                     "chain %" PRIu64 ": their transactions would take the "
                     "same nonces; give each protocol its own key",
                     a->pc->name, b->pc->name, a->address,
                     a->pc->chain.chain_id);
            return KP_ECONFIG;
        }
    return 0;
}

/* Build one runtime per protocol of `cfg`; `old` (may be empty) are the
 * runtimes being replaced, whose signers may be taken over.
 * Returns: 0 with *out filled, or an error (err says which protocol). */
static int
protos_build(struct proto_rt ***out, char *err, size_t errcap, struct daemon *d,
             const struct cfg *cfg, struct proto_rt **old, size_t nold)
{
    struct proto_rt **v = kp_xcalloc(cfg->n_protocols, sizeof(*v));
    int rc;

    for (size_t i = 0; i < cfg->n_protocols; i++) {
        const struct cfg_protocol *pc = &cfg->protocols[i];

        rc = proto_rt_new(&v[i], err, errcap, d, pc,
                          find_proto(old, nold, pc->name));
        if (rc != 0) {
            protos_free(v, i);
            return rc;
        }
    }
    /* Only where transactions go out: --once simulates, --dry-run logs. */
    if (!d->o.once && !d->o.dry_run &&
        (rc = protos_check_signers(err, errcap, v, cfg->n_protocols)) != 0) {
        protos_free(v, cfg->n_protocols);
        return rc;
    }
    *out = v;
    return 0;
}

static void
protos_start(struct proto_rt **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        proto_rt_start(v[i]);
}

/* ---- HTTP server ---- */

static char *
listen_of(const struct cfg *cfg)
{
    char buf[DAEMON_LISTEN_MAX];

    snprintf(buf, sizeof(buf), "%s:%u", cfg->metrics.host,
             (unsigned)cfg->metrics.port);
    return kp_xstrdup(buf);
}

/* Returns: 0 with *out listening on `listen` (kept by the caller until
 * the server is freed), or KP_E* (logged by httpd). */
static int
server_new(struct httpd **out, struct daemon *d, const char *listen)
{
    struct httpd_config hc = {
        .listen = listen,
        .metrics = d->metrics,
        .ready = daemon_ready,
        .status = daemon_status,
        .arg = d,
    };

    return httpd_new(out, &d->loop, &hc);
}

/* ---- stop ---- */

static void
on_stop_timeout(uv_timer_t *t)
{
    log_error("keeper", "stop did not finish in time; exiting",
              LOG_U64("grace_ms", DAEMON_STOP_GRACE_MS));
    _exit(1);
}

/* Release everything on the loop; uv_run returns once it has closed. */
static void
daemon_stop(struct daemon *d, int exit_code)
{
    if (d->stopping)
        return;
    d->stopping = true;
    d->exit_code = exit_code;
    if (!d->o.once)
        log_info("keeper", "stopping");
    uv_timer_stop(&d->obs_timer);
    protos_free(d->protos, d->nprotos);
    d->protos = NULL;
    d->nprotos = 0;
    httpd_free(d->httpd);
    d->httpd = NULL;
    uv_signal_stop(&d->sig_hup);
    /* Still armed, but no longer keeping the loop alive: a second
     * SIGTERM/SIGINT during the stop exits at once. */
    uv_unref((uv_handle_t *)&d->sig_term);
    uv_unref((uv_handle_t *)&d->sig_int);
    uv_timer_start(&d->stop_timer, on_stop_timeout, DAEMON_STOP_GRACE_MS, 0);
    uv_unref((uv_handle_t *)&d->stop_timer);
}

void
daemon_once_done(struct daemon *d, struct proto_rt *p, bool ok)
{
    (void)p;
    if (!ok)
        d->once_failed = true;
    if (d->once_left > 0 && --d->once_left == 0)
        daemon_stop(d, d->once_failed ? 1 : 0);
}

/* ---- reload ---- */

/* Swap in a built configuration: start the new runtimes (taking signers
 * over), free the old ones and, when the address changed, the old
 * server. */
static void
reload_commit(struct daemon *d, struct cfg *ncfg, struct proto_rt **nprotos,
              struct httpd *nhttpd, char *nlisten)
{
    protos_start(nprotos, ncfg->n_protocols);
    protos_free(d->protos, d->nprotos);
    d->protos = nprotos;
    d->nprotos = ncfg->n_protocols;
    if (nhttpd != NULL) {
        httpd_free(d->httpd);
        free(d->listen_str);
        d->httpd = nhttpd;
        d->listen_str = nlisten;
    } else
        free(nlisten);
    cfg_cleanup(&d->cfg);
    d->cfg = *ncfg;
    d->reloads++;
    log_apply(d, &d->cfg);
}

static void
daemon_reload(struct daemon *d)
{
    struct cfg ncfg;
    struct cfg_errors errs;
    struct proto_rt **nprotos = NULL;
    struct httpd *nhttpd = NULL;
    char err[DAEMON_ERR_MAX] = "", *nlisten;
    int rc;

    log_info("config", "reloading", "path", d->o.config_path);
    cfg_errors_init(&errs);
    rc = cfg_load(&ncfg, d->o.config_path, 0, &errs);
    if (rc != 0) {
        log_cfg_errors(&errs);
        cfg_errors_cleanup(&errs);
        cfg_cleanup(&ncfg);
        log_error("config", "reload failed; keeping the current configuration");
        return;
    }
    cfg_errors_cleanup(&errs);
    if ((rc = protos_build(&nprotos, err, sizeof(err), d, &ncfg, d->protos,
                           d->nprotos)) != 0) {
        cfg_cleanup(&ncfg);
        log_error("config", "reload failed; keeping the current configuration",
                  "error", err);
        return;
    }
    nlisten = listen_of(&ncfg);
    if (strcmp(nlisten, d->listen_str) != 0 &&
        server_new(&nhttpd, d, nlisten) != 0) {
        protos_free(nprotos, ncfg.n_protocols);
        cfg_cleanup(&ncfg);
        free(nlisten);
        log_error("config", "reload failed; keeping the current configuration",
                  "error", "cannot listen on the new metrics address");
        return;
    }
    reload_commit(d, &ncfg, nprotos, nhttpd, nlisten);
    log_info("config", "configuration reloaded",
             LOG_U64("protocols", d->nprotos), "listen", d->listen_str);
}

/* ---- signals and timers ---- */

static const char *
signal_name(int signum)
{
    switch (signum) {
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    }
    return "?";
}

static void
on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;

    if (signum == SIGHUP) {
        /* --once has nothing to reload: it is about to exit anyway. */
        if (!d->stopping && !d->o.once)
            daemon_reload(d);
        return;
    }
    if (d->stopping) {
        log_warn("keeper", "second signal; exiting now", "signal",
                 signal_name(signum));
        _exit(1);
    }
    log_info("keeper", "signal received", "signal", signal_name(signum));
    daemon_stop(d, d->o.once ? 1 : 0);
}

/* Log readiness when it changes, so the log tells when and why the
 * keeper stopped being ready without anyone polling /readyz. */
static void
log_readiness(struct daemon *d)
{
    char reason[HTTPD_MAX_REASON] = "";
    bool ready = daemon_ready(d, reason, sizeof(reason));

    if (ready == d->was_ready)
        return;
    d->was_ready = ready;
    if (ready)
        log_info("keeper", "ready");
    else
        log_warn("keeper", "not ready", "reason", reason);
}

static void
on_obs_timer(uv_timer_t *t)
{
    struct daemon *d = t->data;
    uint64_t now_s = (uint64_t)time(NULL), now_ns = uv_hrtime();

    for (size_t i = 0; i < d->nprotos; i++) {
        proto_rt_tick(d->protos[i], now_ns);
        obs_sync(d->protos[i]);
        obs_head_age(d->protos[i], now_s);
    }
    log_readiness(d);
}

static void
handles_init(struct daemon *d)
{
    uv_signal_t *sigs[3] = {&d->sig_term, &d->sig_int, &d->sig_hup};
    const int nums[3] = {SIGTERM, SIGINT, SIGHUP};

    for (size_t i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, sigs[i]);
        sigs[i]->data = d;
        uv_signal_start(sigs[i], on_signal, nums[i]);
    }
    uv_timer_init(&d->loop, &d->obs_timer);
    d->obs_timer.data = d;
    uv_timer_init(&d->loop, &d->stop_timer);
    d->stop_timer.data = d;
}

static void
handles_close(struct daemon *d)
{
    uv_handle_t *hs[5] = {
        (uv_handle_t *)&d->sig_term,   (uv_handle_t *)&d->sig_int,
        (uv_handle_t *)&d->sig_hup,    (uv_handle_t *)&d->obs_timer,
        (uv_handle_t *)&d->stop_timer,
    };

    for (size_t i = 0; i < 5; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], NULL);
}

/* ---- start ---- */

static int
daemon_start(struct daemon *d)
{
    char err[DAEMON_ERR_MAX] = "";
    int rc;

    if (!d->o.once) {
        d->metrics = metrics_new(0);
        metrics_register_keeper(d->metrics, d->o.version);
    }
    /* Keys and clients first: a key that cannot be opened is the likelier
     * failure, and nothing should have listened by then. */
    rc = protos_build(&d->protos, err, sizeof(err), d, &d->cfg, NULL, 0);
    if (rc != 0) {
        log_error("keeper", "cannot start", "error", err);
        return rc;
    }
    d->nprotos = d->cfg.n_protocols;
    d->once_left = d->nprotos;
    if (!d->o.once) {
        d->listen_str = listen_of(&d->cfg);
        if ((rc = server_new(&d->httpd, d, d->listen_str)) != 0) {
            log_error("keeper", "cannot start the metrics server", "listen",
                      d->listen_str, LOG_RC(rc));
            return rc;
        }
        uv_timer_start(&d->obs_timer, on_obs_timer, DAEMON_OBS_MS,
                       DAEMON_OBS_MS);
    }
    protos_start(d->protos, d->nprotos);
    return 0;
}

static void
log_start(const struct daemon *d)
{
    log_info("keeper", d->o.once ? "evaluating once" : "starting", "version",
             d->o.version, "config", d->o.config_path,
             LOG_U64("protocols", d->cfg.n_protocols),
             LOG_U64("pid", (uint64_t)getpid()));
    if (d->o.dry_run)
        log_info("keeper", "dry run: no transaction will be sent");
}

/* Close what is left and let the loop finish closing it. */
static void
daemon_finish(struct daemon *d)
{
    handles_close(d);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d->loop) != 0)
        log_warn("keeper", "event loop still had open handles at exit");
    metrics_free(d->metrics);
    free(d->listen_str);
    cfg_cleanup(&d->cfg);
}

int
daemon_run(const struct daemon_opts *o)
{
    struct daemon *d = kp_xcalloc(1, sizeof(*d));
    struct cfg_errors errs;
    int rc;

    d->o = *o;
    /* A peer that closes early must cost a write error, not the process. */
    signal(SIGPIPE, SIG_IGN);
    if (d->o.version == NULL)
        d->o.version = "unknown";
    /* Until the config says otherwise: info, text, or the overrides. */
    log_init(o->log_level_set ? o->log_level : LOG_LEVEL_INFO,
             o->log_format_set ? o->log_format : LOG_FORMAT_TEXT, NULL);
    cfg_errors_init(&errs);
    if (cfg_load(&d->cfg, o->config_path, 0, &errs) != 0) {
        cfg_errors_print(stderr, &errs);
        cfg_errors_cleanup(&errs);
        cfg_cleanup(&d->cfg);
        free(d);
        return 1;
    }
    cfg_errors_cleanup(&errs);
    log_apply(d, &d->cfg);
    uv_loop_init(&d->loop);
    d->start_ns = uv_hrtime();
    handles_init(d);
    log_start(d);
    if (daemon_start(d) != 0)
        daemon_stop(d, 1);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (!d->o.once)
        log_info("keeper", "stopped", LOG_U64("exit", d->exit_code));
    daemon_finish(d);
    rc = d->exit_code;
    free(d);
    return rc;
}
