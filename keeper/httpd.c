#include "keeper/httpd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "chain/err.h"
#include "chain/lwsuv.h"
#include "keeper/log.h"

/* Bytes written per writable callback: big enough that a typical scrape
 * goes out in a few writes, small enough not to hog the loop. */
#define HTTPD_CHUNK 16384
/* A refused request's body is read and dropped (closing with unread
 * input would reset the connection before the client reads the 405),
 * up to this much; beyond it the connection is simply closed. */
#define HTTPD_MAX_DISCARD 65536

struct httpd {
    struct lws_context *ctx;
    uv_loop_t *loop;
    uv_timer_t heartbeat;
    uint64_t beat_ns; /* uv_hrtime() of the last heartbeat */
    struct httpd_config cfg;
    uint16_t port;
};

/* Per connection, allocated and zeroed by lws. One response at a time. */
struct session {
    char *body;
    size_t len, off;
    size_t discarded; /* request body bytes read and dropped */
    bool refused;     /* not a GET: answer 405 once its body is read */
    bool close_after; /* do not reuse the connection */
};

/* ---- listen address ---------------------------------------------------- */

static int
parse_port(uint16_t *port, const char *s)
{
    unsigned long v = 0;

    if (*s == '\0' || strlen(s) > 5)
        return *s == '\0' ? KP_EINVAL : KP_ERANGE;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return KP_EINVAL;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535)
        return KP_ERANGE;
    *port = (uint16_t)v;
    return 0;
}

int
httpd_parse_listen(char *host, size_t hostsz, uint16_t *port, const char *s)
{
    const char *colon;
    char tmp[HTTPD_MAX_HOST];
    struct in_addr addr;
    size_t hlen;
    int rc;

    if (s == NULL || host == NULL || port == NULL || hostsz == 0)
        return KP_EINVAL;
    if ((colon = strrchr(s, ':')) == NULL)
        return KP_EINVAL;
    hlen = (size_t)(colon - s);
    if (hlen == 0)
        return KP_EINVAL;
    if (hlen >= sizeof(tmp))
        return KP_ERANGE;
    memcpy(tmp, s, hlen);
    tmp[hlen] = '\0';
    if ((rc = parse_port(port, colon + 1)) != 0)
        return rc;
    if (strcmp(tmp, "localhost") == 0)
        snprintf(tmp, sizeof(tmp), "127.0.0.1");
    if (inet_pton(AF_INET, tmp, &addr) != 1)
        return KP_EINVAL;
    if (strlen(tmp) >= hostsz)
        return KP_ERANGE;
    memcpy(host, tmp, strlen(tmp) + 1);
    return 0;
}

/* ---- lws logs ---------------------------------------------------------- */

static void
lws_log_bridge(int level, const char *line)
{
    char buf[512];
    size_t n;

    snprintf(buf, sizeof(buf), "%s", line != NULL ? line : "");
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (level & LLL_ERR)
        log_error("lws", buf);
    else
        log_warn("lws", buf);
}

void
httpd_lws_logs_init(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
}

/* ---- responses --------------------------------------------------------- */

static void
session_reset(struct session *s)
{
    free(s->body);
    s->body = NULL;
    s->len = s->off = 0;
    s->discarded = 0;
    s->refused = false;
}

/* Send the status line and headers, keep the body for the writable
 * callbacks. Takes ownership of body (malloc'd). Returns: 0 or -1 (close). */
static int
respond_take(struct lws *wsi, struct session *s, unsigned status,
             const char *ctype, char *body, size_t len)
{
    unsigned char buf[LWS_PRE + 512];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);

    session_reset(s);
    s->body = body;
    s->len = len;
    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p,
                                     end))
        return -1;
    if (status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                    (const unsigned char *)"GET", 3, &p, end))
        return -1;
    if (s->close_after && lws_add_http_header_by_token(
                              wsi, WSI_TOKEN_CONNECTION,
                              (const unsigned char *)"close", 5, &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int
respond_text(struct lws *wsi, struct session *s, unsigned status,
             const char *text)
{
    size_t n = strlen(text);
    char *body = kp_xmalloc(n + 2);

    memcpy(body, text, n);
    body[n++] = '\n';
    body[n] = '\0';
    return respond_take(wsi, s, status, "text/plain; charset=utf-8", body, n);
}

static int
on_writable(struct lws *wsi, struct session *s)
{
    unsigned char buf[LWS_PRE + HTTPD_CHUNK];
    size_t n = s->len - s->off;
    bool last = n <= HTTPD_CHUNK;

    if (s->body == NULL)
        return 0;
    if (!last)
        n = HTTPD_CHUNK;
    memcpy(buf + LWS_PRE, s->body + s->off, n);
    if (lws_write(wsi, buf + LWS_PRE, n,
                  last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    s->off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    session_reset(s);
    if (s->close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- routes ------------------------------------------------------------ */

static int
route_metrics(struct httpd *h, struct lws *wsi, struct session *s)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (h->cfg.metrics == NULL)
        return respond_take(wsi, s, HTTP_STATUS_OK, "text/plain; version=0.0.4",
                            kp_xstrdup(""), 0);
    if ((rc = metrics_render(h->cfg.metrics, &text, &len)) != 0) {
        log_error("httpd", "cannot render metrics", LOG_RC(rc));
        return respond_text(wsi, s, HTTP_STATUS_INTERNAL_SERVER_ERROR,
                            "metrics too large");
    }
    return respond_take(wsi, s, HTTP_STATUS_OK,
                        "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static int
route_healthz(struct httpd *h, struct lws *wsi, struct session *s)
{
    uint64_t age_ms = (uv_hrtime() - h->beat_ns) / 1000000u;

    if (age_ms > h->cfg.stall_ms)
        return respond_text(wsi, s, HTTP_STATUS_SERVICE_UNAVAILABLE,
                            "loop stalled");
    return respond_text(wsi, s, HTTP_STATUS_OK, "ok");
}

static int
route_readyz(struct httpd *h, struct lws *wsi, struct session *s)
{
    char reason[HTTPD_MAX_REASON] = "";

    if (h->cfg.ready == NULL ||
        h->cfg.ready(h->cfg.arg, reason, sizeof(reason)))
        return respond_text(wsi, s, HTTP_STATUS_OK, "ok");
    reason[sizeof(reason) - 1] = '\0';
    /* One line: a reason with a newline in it would end the body early
     * for line-oriented probes. */
    for (char *p = reason; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    return respond_text(wsi, s, HTTP_STATUS_SERVICE_UNAVAILABLE,
                        reason[0] ? reason : "not ready");
}

static int
route_status(struct httpd *h, struct lws *wsi, struct session *s)
{
    cJSON *doc =
        h->cfg.status ? h->cfg.status(h->cfg.arg) : cJSON_CreateObject();
    char *text;

    if (doc == NULL)
        return respond_text(wsi, s, HTTP_STATUS_INTERNAL_SERVER_ERROR,
                            "status unavailable");
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text == NULL)
        return respond_text(wsi, s, HTTP_STATUS_INTERNAL_SERVER_ERROR,
                            "status unavailable");
    /* cJSON allocates with malloc by default, so free() releases it. */
    return respond_take(wsi, s, HTTP_STATUS_OK, "application/json", text,
                        strlen(text));
}

static int
refuse(struct lws *wsi, struct session *s)
{
    return respond_text(wsi, s, HTTP_STATUS_METHOD_NOT_ALLOWED,
                        "method not allowed");
}

static int
on_body(struct session *s, size_t len)
{
    if (!s->refused)
        return -1; /* a GET with a body: not ours to read */
    s->discarded += len;
    return s->discarded > HTTPD_MAX_DISCARD ? -1 : 0;
}

static int
on_request(struct lws *wsi, struct session *s, const char *path)
{
    struct httpd *h = lws_context_user(lws_get_context(wsi));

    session_reset(s);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        s->close_after = true;
        /* With a body, lws delivers it first; answer at its end. */
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
            s->refused = true;
            return 0;
        }
        return refuse(wsi, s);
    }
    if (path == NULL)
        path = "";
    if (strcmp(path, "/metrics") == 0)
        return route_metrics(h, wsi, s);
    if (strcmp(path, "/healthz") == 0)
        return route_healthz(h, wsi, s);
    if (strcmp(path, "/readyz") == 0)
        return route_readyz(h, wsi, s);
    if (strcmp(path, "/status") == 0)
        return route_status(h, wsi, s);
    return respond_text(wsi, s, HTTP_STATUS_NOT_FOUND, "not found");
}

/* After httpd_free the context user pointer dangles: only LWS_CALLBACK_HTTP
 * (a new request, impossible once the listener is gone) dereferences it. */
static int
httpd_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
         void *in, size_t len)
{
    struct session *s = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return s != NULL ? on_request(wsi, s, in) : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return s != NULL ? on_body(s, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return s != NULL && s->refused ? refuse(wsi, s) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return s != NULL ? on_writable(wsi, s) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (s != NULL)
            session_reset(s);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols httpd_protocols[] = {
    {"http", httpd_cb, sizeof(struct session), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- lifecycle --------------------------------------------------------- */

static void
on_heartbeat(uv_timer_t *t)
{
    struct httpd *h = t->data;

    h->beat_ns = uv_hrtime();
}

static void
config_defaults(struct httpd_config *c)
{
    if (c->listen == NULL)
        c->listen = HTTPD_DEFAULT_LISTEN;
    if (c->heartbeat_ms == 0)
        c->heartbeat_ms = HTTPD_DEFAULT_HEARTBEAT_MS;
    if (c->stall_ms == 0)
        c->stall_ms = HTTPD_DEFAULT_STALL_MS;
    if (c->max_header == 0)
        c->max_header = HTTPD_DEFAULT_MAX_HEADER;
    if (c->max_header > 65535)
        c->max_header = 65535;
}

/* ---- lws context ------------------------------------------------------- */

/* lwsuv gives up on a context whose handles never close (and leaks it
 * rather than free memory lws may touch); that happens after a destroy,
 * on the loop, so it is reported at the next start or stop. */
static void
httpd_note_leaks(void)
{
    static uint64_t seen;
    uint64_t n = lwsuv_leaked();

    if (n > seen) {
        seen = n;
        log_warn("httpd", "libwebsockets did not close; context leaked",
                 LOG_U64("contexts", n));
    }
}

static void
lws_info_fill(struct lws_context_creation_info *info, struct httpd *h,
              char *iface, uint16_t port)
{
    memset(info, 0, sizeof(*info));
    /* lwsuv_context_new adds the libuv event lib and the loop. */
    info->options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                    LWS_SERVER_OPTION_DISABLE_IPV6 |
                    LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    info->port = port;
    info->iface = iface;
    info->external_baggage_free_on_destroy = iface;
    info->protocols = httpd_protocols;
    info->user = h;
    info->gid = -1;
    info->uid = -1;
    info->max_http_header_data = (unsigned short)h->cfg.max_header;
    info->timeout_secs = 10;
    info->keepalive_timeout = 30;
    info->vhost_name = "keeper-httpd";
    info->server_string = "keeper";
}

/* The vhost is created explicitly so that a failed bind is seen here:
 * lws 4.1 on a foreign loop returns a context even when its implicit
 * default vhost could not listen. */
static int
start_lws(struct httpd *h, const char *host, uint16_t port)
{
    struct lws_context_creation_info info;
    /* lws keeps the iface pointer for the vhost's life; it frees this
     * copy itself when the context is gone. */
    char *iface = kp_xstrdup(host);
    struct lws_vhost *vh;

    lws_info_fill(&info, h, iface, port);
    if (lwsuv_context_new(&h->ctx, h->loop, &info) != 0) {
        free(iface);
        log_error("httpd", "cannot start libwebsockets on the loop");
        return KP_EIO;
    }
    if ((vh = lws_create_vhost(h->ctx, &info)) == NULL) {
        lwsuv_context_destroy(h->loop, h->ctx); /* frees iface too */
        h->ctx = NULL;
        log_error("httpd", "cannot listen", "address", h->cfg.listen);
        return KP_EIO;
    }
    h->port = (uint16_t)lws_get_vhost_listen_port(vh);
    return 0;
}

int
httpd_new(struct httpd **out, uv_loop_t *loop, const struct httpd_config *cfg)
{
    char host[HTTPD_MAX_HOST];
    uint16_t port;
    struct httpd *h;
    int rc;

    if (out == NULL || loop == NULL || cfg == NULL)
        return KP_EINVAL;
    *out = NULL;
    h = kp_xcalloc(1, sizeof(*h));
    h->cfg = *cfg;
    config_defaults(&h->cfg);
    h->loop = loop;
    if ((rc = httpd_parse_listen(host, sizeof(host), &port, h->cfg.listen)) !=
        0) {
        free(h);
        return rc;
    }
    httpd_lws_logs_init();
    httpd_note_leaks();
    if ((rc = start_lws(h, host, port)) != 0) {
        free(h);
        return rc;
    }
    h->beat_ns = uv_hrtime();
    uv_timer_init(loop, &h->heartbeat);
    h->heartbeat.data = h;
    uv_timer_start(&h->heartbeat, on_heartbeat, h->cfg.heartbeat_ms,
                   h->cfg.heartbeat_ms);
    log_info("httpd", "listening", "address", host, LOG_U64("port", h->port));
    *out = h;
    return 0;
}

uint16_t
httpd_port(const struct httpd *h)
{
    return h != NULL ? h->port : 0;
}

static void
on_heartbeat_closed(uv_handle_t *handle)
{
    free(handle->data);
}

void
httpd_free(struct httpd *h)
{
    if (h == NULL)
        return;
    httpd_note_leaks();
    lwsuv_context_destroy(h->loop, h->ctx);
    h->ctx = NULL;
    uv_timer_stop(&h->heartbeat);
    uv_close((uv_handle_t *)&h->heartbeat, on_heartbeat_closed);
}
