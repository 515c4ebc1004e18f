/*
 * ws.c - WebSocket client on libwebsockets, on a caller's libuv loop
 * (see ws.h).
 *
 * One lws context per client (client only, no listener). A connection
 * attempt is: resolve (uv_getaddrinfo), then lws_client_connect_via_info
 * to the numeric address with the original host in the Host header (and
 * SNI). The wsi carries the client as its opaque user data; a wsi we give
 * up on is detached (opaque data NULL) before it is killed, so whatever
 * lws still reports about it is ignored and can never be taken for the
 * current connection.
 *
 * One uv timer serves the connection attempt (its deadline) and the wait
 * between attempts (backoff); a second one ticks while the connection is
 * open (pings, idle check).
 *
 * Failover: the client holds its URLs as targets (parsed URL, Host
 * header, display name) and an index to the current one. The index moves
 * on when the backoff timer starts the next attempt, not when the failure
 * happens, so that on_close, ws_name and ws_last_error agree on the URL
 * that was lost until the next one is tried.
 *
 * TLS: a client with a wss:// URL makes its own OpenSSL client context
 * (peer verification against ca_file or the system store, TLS 1.2 at
 * least) and lends it to its lws context, which then neither makes nor
 * frees one. lws 4.1 loses a client context of its own making: every
 * lws context takes new OpenSSL ex-data indexes, and on destroy lws
 * looks its SSL_CTX up under the newest ones, so a context destroyed
 * after another was made (each reload, each client but the last) leaked
 * its SSL_CTX and the whole certificate store. Ours is freed once lws is
 * done with the context (lwsuv_context_destroy_then). lws still sets SNI
 * and the name to check (X509_VERIFY_PARAM, per connection) from the
 * Host header, so a certificate for another host is refused as before.
 */
#include "chain/ws.h"

#include <assert.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "chain/err.h"
#include "chain/lwsuv.h"

#define WS_RX_KEEP 65536 /* receive buffer kept between messages */
#define WS_HDR_MAX 1024  /* bytes of one extra header line */
#define WS_TICK_MIN_MS 10
#define WS_TEXT_MAX 160

enum ws_state {
    WS_IDLE, /* not started */
    WS_RESOLVING,
    WS_CONNECTING, /* lws connecting / handshaking */
    WS_OPEN,
    WS_WAITING, /* backoff before the next attempt */
};

struct ws_out {
    struct ws_out *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of room, then the message */
};

/* A name resolution in flight; outlives the client if freed meanwhile. */
struct ws_resolve {
    uv_getaddrinfo_t req;
    struct ws_client *w; /* NULL once abandoned */
};

/* One URL of the list. */
struct ws_target {
    struct ws_url url;
    char hosthdr[WS_MAX_HOST + 8];
    char name[WS_NAME_MAX];
};

struct ws_client {
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct lws *wsi; /* attached connection, or NULL */
    struct ws_target *t;
    size_t nt;
    size_t cur; /* index of the target in use or being tried */
    struct ws_opts o;
    char **hdrs;
    size_t nhdrs;
    char *ca_file; /* o.ca_file copied; NULL: the system store */
    SSL_CTX *ssl;  /* wss:// client TLS context, lent to ctx; or NULL */
    struct ws_handler h;
    void *arg;
    enum ws_state st;
    uv_timer_t timer; /* attempt deadline or backoff */
    uv_timer_t tick;  /* pings and idle check while open */
    struct ws_resolve *res;
    unsigned failures; /* consecutive, for the backoff */
    uint64_t rng;
    char *rx;
    size_t rxlen, rxcap;
    struct ws_out *outq, *outq_tail;
    size_t outq_bytes;
    bool want_ping;
    uint64_t last_rx_ms, last_ping_ms;
    int handles; /* open uv handles, for the final free */
    bool dead;
    struct ws_stats stats;
    char last_error[WS_TEXT_MAX];
};

static void ws_attempt(struct ws_client *w);

/* ---- options and URL --------------------------------------------------- */

void
ws_opts_init(struct ws_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 10000;
    o->ping_ms = 15000;
    o->idle_timeout_ms = 45000;
    o->backoff_base_ms = 250;
    o->backoff_max_ms = 30000;
    o->max_message = 4u << 20;
    o->max_queue = 1u << 20;
}

static int
ws_parse_port(uint16_t *port, const char *s, size_t n)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return KP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return KP_EINVAL;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return KP_EINVAL;
    *port = (uint16_t)v;
    return 0;
}

/* Split "host[:port]" or "[v6]:port" (n bytes at s) into u. */
static int
ws_parse_authority(struct ws_url *u, const char *s, size_t n)
{
    const char *hs = s, *colon = NULL;
    size_t hn;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);

        if (close == NULL)
            return KP_EINVAL;
        hs = s + 1;
        hn = (size_t)(close - hs);
        if ((size_t)(close + 1 - s) < n) {
            if (close[1] != ':')
                return KP_EINVAL;
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', n);
        hn = colon ? (size_t)(colon - s) : n;
    }
    if (hn == 0)
        return KP_EINVAL;
    if (hn >= sizeof(u->host))
        return KP_ERANGE;
    for (size_t i = 0; i < hn; i++)
        if (hs[i] <= ' ' || hs[i] == '/' || hs[i] == '@' || hs[i] == 0x7f)
            return KP_EINVAL;
    memcpy(u->host, hs, hn);
    u->host[hn] = '\0';
    if (colon != NULL) {
        u->port_given = true;
        return ws_parse_port(&u->port, colon + 1,
                             (size_t)(s + n - (colon + 1)));
    }
    return 0;
}

int
ws_url_parse(struct ws_url *u, const char *url)
{
    const char *p, *end;
    size_t plen;
    int rc;

    if (u == NULL || url == NULL)
        return KP_EINVAL;
    memset(u, 0, sizeof(*u));
    if (strncasecmp(url, "ws://", 5) == 0) {
        p = url + 5;
    } else if (strncasecmp(url, "wss://", 6) == 0) {
        p = url + 6;
        u->tls = true;
    } else {
        return KP_EINVAL;
    }
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)) != NULL)
        return KP_EINVAL; /* credentials belong in headers */
    if ((rc = ws_parse_authority(u, p, (size_t)(end - p))) != 0)
        return rc;
    if (!u->port_given)
        u->port = u->tls ? 443 : 80;
    plen = strcspn(end, "#");
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)end[i] <= ' ' || end[i] == 0x7f)
            return KP_EINVAL;
    if (plen + 2 > sizeof(u->path))
        return KP_ERANGE;
    if (plen == 0 || end[0] != '/')
        u->path[0] = '/';
    memcpy(u->path + strlen(u->path), end, plen);
    return 0;
}

static int
ws_check_opts(const struct ws_opts *o)
{
    if (o->max_message == 0 || o->max_message > WS_MAX_MESSAGE_CAP ||
        o->max_queue == 0 || o->nheaders > WS_MAX_HEADERS ||
        o->connect_timeout_ms == 0 || o->backoff_base_ms == 0 ||
        o->backoff_base_ms > o->backoff_max_ms)
        return KP_ERANGE;
    if (o->nheaders > 0 && o->headers == NULL)
        return KP_EINVAL;
    for (size_t i = 0; i < o->nheaders; i++) {
        const char *hl = o->headers[i], *colon;

        if (hl == NULL || (colon = strchr(hl, ':')) == NULL || colon == hl ||
            strlen(hl) >= WS_HDR_MAX || strpbrk(hl, "\r\n") != NULL)
            return KP_EINVAL;
    }
    return 0;
}

/* ---- small helpers ----------------------------------------------------- */

/* Returns: whether `path` opens for reading. */
static bool
ws_is_readable(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static uint64_t
ws_rand(struct ws_client *w)
{
    /* xorshift64*: jitter only, not secrets. */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 0x2545F4914F6CDD1DULL;
}

/* Delay before attempt number `failures` (>= 1): base * 2^(n-1), capped,
 * then uniformly jittered down to half so that many clients dropped at
 * once do not come back in step. */
static uint64_t
ws_backoff_ms(struct ws_client *w)
{
    uint64_t d = w->o.backoff_base_ms;
    unsigned n = w->failures > 0 ? w->failures - 1 : 0;

    while (n-- > 0 && d < w->o.backoff_max_ms)
        d *= 2;
    if (d > w->o.backoff_max_ms)
        d = w->o.backoff_max_ms;
    return d / 2 + ws_rand(w) % (d / 2 + 1);
}

static void
ws_set_error(struct ws_client *w, const char *fmt, const char *detail)
{
    char text[WS_TEXT_MAX];

    snprintf(text, sizeof(text), fmt, detail != NULL ? detail : "");
    snprintf(w->last_error, sizeof(w->last_error), "ws: %s: %s",
             w->t[w->cur].name, text);
}

static void
ws_outq_clear(struct ws_client *w)
{
    struct ws_out *m = w->outq, *next;

    for (; m != NULL; m = next) {
        next = m->next;
        free(m);
    }
    w->outq = w->outq_tail = NULL;
    w->outq_bytes = 0;
}

static void
ws_rx_reset(struct ws_client *w)
{
    w->rxlen = 0;
    if (w->rxcap > WS_RX_KEEP) {
        free(w->rx);
        w->rx = NULL;
        w->rxcap = 0;
    }
}

/* Forget the attached connection: lws may still report about it, but with
 * no opaque data those reports are ignored; kill it unless lws is already
 * closing it. */
static void
ws_detach(struct ws_client *w, bool kill)
{
    if (w->wsi == NULL)
        return;
    lws_set_opaque_user_data(w->wsi, NULL);
    if (kill)
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    w->wsi = NULL;
}

/* ---- connection lifecycle ---------------------------------------------- */

static void
ws_on_timer(uv_timer_t *t)
{
    struct ws_client *w = t->data;
    bool resolving = w->st == WS_RESOLVING;

    if (w->st == WS_WAITING) {
        /* Every wait follows a failed attempt or a lost connection: the
         * next attempt goes to the next URL. */
        w->cur = (w->cur + 1) % w->nt;
        ws_attempt(w);
        return;
    }
    if (!resolving && w->st != WS_CONNECTING)
        return;
    ws_set_error(w, "connect timed out%s", "");
    if (resolving && w->res != NULL) {
        w->res->w = NULL;
        w->res = NULL;
    }
    ws_detach(w, true);
    w->stats.failures++;
    w->failures++;
    w->st = WS_WAITING;
    uv_timer_start(&w->timer, ws_on_timer, ws_backoff_ms(w), 0);
}

/* The current attempt or connection is over (err, text): schedule the
 * next attempt and tell the handler if a connection was open. */
static void
ws_lost(struct ws_client *w, bool kill, int err, const char *text)
{
    bool was_open = w->st == WS_OPEN;

    if (w->st != WS_OPEN && w->st != WS_CONNECTING)
        return;
    ws_detach(w, kill);
    uv_timer_stop(&w->tick);
    ws_outq_clear(w);
    ws_rx_reset(w);
    w->want_ping = false;
    ws_set_error(w, "%s", text);
    if (was_open) {
        w->stats.disconnects++;
    } else {
        w->stats.failures++;
    }
    w->failures++;
    w->st = WS_WAITING;
    uv_timer_start(&w->timer, ws_on_timer, ws_backoff_ms(w), 0);
    if (was_open && w->h.on_close != NULL)
        w->h.on_close(w->arg, err, text);
}

static void
ws_on_tick(uv_timer_t *t)
{
    struct ws_client *w = t->data;
    uint64_t now = uv_now(w->loop);

    if (w->st != WS_OPEN)
        return;
    if (w->o.idle_timeout_ms > 0 &&
        now - w->last_rx_ms >= w->o.idle_timeout_ms) {
        ws_lost(w, true, KP_ETIMEOUT, "no data from the server in time");
        return;
    }
    if (w->o.ping_ms > 0 && now - w->last_ping_ms >= w->o.ping_ms &&
        w->wsi != NULL) {
        w->last_ping_ms = now;
        w->want_ping = true;
        lws_callback_on_writable(w->wsi);
    }
}

static uint64_t
ws_tick_ms(const struct ws_client *w)
{
    uint64_t t = UINT64_MAX;

    if (w->o.ping_ms > 0)
        t = w->o.ping_ms / 2;
    if (w->o.idle_timeout_ms > 0 && w->o.idle_timeout_ms / 4 < t)
        t = w->o.idle_timeout_ms / 4;
    return t < WS_TICK_MIN_MS ? WS_TICK_MIN_MS : t;
}

static void
ws_connect_resolved(struct ws_client *w, const struct addrinfo *ai)
{
    const struct ws_target *tg = &w->t[w->cur];
    struct lws_client_connect_info ci;
    char addr[64] = "";
    struct lws *wsi;

    if (ai->ai_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)ai->ai_addr, addr,
                    sizeof(addr));
    else
        uv_ip4_name((const struct sockaddr_in *)ai->ai_addr, addr,
                    sizeof(addr));
    memset(&ci, 0, sizeof(ci));
    ci.context = w->ctx;
    ci.address = addr;
    ci.port = tg->url.port;
    ci.path = tg->url.path;
    ci.host = tg->hosthdr;
    ci.origin = tg->hosthdr;
    ci.ssl_connection = tg->url.tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = "kp-ws";
    ci.opaque_user_data = w;
    w->st = WS_CONNECTING;
    wsi = lws_client_connect_via_info(&ci);
    /* A synchronous failure may already have been reported through the
     * callback (then the state moved on). */
    if (wsi == NULL) {
        if (w->st == WS_CONNECTING)
            ws_lost(w, false, KP_ETRANSPORT, "cannot start the connection");
        return;
    }
    if (w->st == WS_CONNECTING || w->st == WS_OPEN)
        w->wsi = wsi;
}

static void
ws_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
    struct ws_resolve *r = req->data;
    struct ws_client *w = r->w;

    free(r);
    if (w == NULL) {
        uv_freeaddrinfo(ai);
        return;
    }
    w->res = NULL;
    if (status != 0 || ai == NULL) {
        /* Counted like a failed connect: same backoff. */
        w->st = WS_CONNECTING;
        ws_lost(w, false, KP_ETRANSPORT, "cannot resolve the host name");
        uv_freeaddrinfo(ai);
        return;
    }
    ws_connect_resolved(w, ai);
    uv_freeaddrinfo(ai);
}

static void
ws_attempt(struct ws_client *w)
{
    const struct ws_url *u = &w->t[w->cur].url;
    struct addrinfo hints;
    struct ws_resolve *r = kp_xcalloc(1, sizeof(*r));
    char port[8];

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", (unsigned)u->port);
    w->stats.attempts++;
    w->st = WS_RESOLVING;
    uv_timer_start(&w->timer, ws_on_timer, w->o.connect_timeout_ms, 0);
    r->w = w;
    r->req.data = r;
    w->res = r;
    if (uv_getaddrinfo(w->loop, &r->req, ws_on_resolved, u->host, port,
                       &hints) != 0) {
        w->res = NULL;
        free(r);
        w->st = WS_CONNECTING;
        ws_lost(w, false, KP_ETRANSPORT, "cannot resolve the host name");
    }
}

/* ---- lws callbacks ----------------------------------------------------- */

static int
ws_append_headers(struct ws_client *w, struct lws *wsi, void *in, size_t len)
{
    unsigned char **p = in, *end = *p + len;
    char name[WS_HDR_MAX];

    for (size_t i = 0; i < w->nhdrs; i++) {
        const char *hl = w->hdrs[i], *colon = strchr(hl, ':');
        const char *v = colon + 1;
        size_t nlen = (size_t)(colon - hl) + 1; /* with the colon */

        while (*v == ' ' || *v == '\t')
            v++;
        memcpy(name, hl, nlen);
        name[nlen] = '\0';
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)v,
                                        (int)strlen(v), p, end))
            return -1;
    }
    return 0;
}

static void
ws_on_established(struct ws_client *w)
{
    uint64_t now = uv_now(w->loop);

    uv_timer_stop(&w->timer);
    w->st = WS_OPEN;
    if (w->stats.connects++ > 0)
        w->stats.reconnects[w->cur]++;
    w->last_rx_ms = w->last_ping_ms = now;
    if (w->o.ping_ms > 0 || w->o.idle_timeout_ms > 0)
        uv_timer_start(&w->tick, ws_on_tick, ws_tick_ms(w), ws_tick_ms(w));
    if (w->h.on_open != NULL)
        w->h.on_open(w->arg);
}

/* Returns: 0 to go on, -1 to close the wsi. */
static int
ws_on_receive(struct ws_client *w, struct lws *wsi, const void *in, size_t len)
{
    w->last_rx_ms = uv_now(w->loop);
    if (w->rxlen + len > w->o.max_message) {
        w->stats.oversized++;
        ws_lost(w, false, KP_ELIMIT, "message over the size cap");
        return -1;
    }
    if (w->rxlen + len + 1 > w->rxcap) {
        size_t cap = w->rxcap ? w->rxcap : 4096;

        while (cap < w->rxlen + len + 1)
            cap *= 2;
        w->rx = kp_xrealloc(w->rx, cap);
        w->rxcap = cap;
    }
    memcpy(w->rx + w->rxlen, in, len);
    w->rxlen += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return 0;
    w->rx[w->rxlen] = '\0';
    w->stats.messages_in++;
    w->stats.bytes_in += w->rxlen;
    w->failures = 0; /* the server talks: this connection is good */
    if (w->h.on_message != NULL)
        w->h.on_message(w->arg, w->rx, w->rxlen);
    if (w->dead || w->wsi != wsi)
        return -1; /* freed or dropped from the handler */
    ws_rx_reset(w);
    return 0;
}

static int
ws_on_writable(struct ws_client *w, struct lws *wsi)
{
    struct ws_out *m = w->outq;
    unsigned char ping[LWS_PRE + 1];

    if (w->want_ping) {
        w->want_ping = false;
        w->stats.pings++;
        if (lws_write(wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
        if (m != NULL)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (m == NULL)
        return 0;
    w->outq = m->next;
    if (w->outq == NULL)
        w->outq_tail = NULL;
    w->outq_bytes -= m->len;
    if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) <
        (int)m->len) {
        free(m);
        return -1;
    }
    free(m);
    w->stats.messages_out++;
    if (w->outq != NULL)
        lws_callback_on_writable(wsi);
    return 0;
}

static int
ws_lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
          void *in, size_t len)
{
    struct ws_client *w = wsi != NULL ? lws_get_opaque_user_data(wsi) : NULL;

    (void)user;
    if (w == NULL || w->dead) {
        /* A detached connection: let it go. */
        if (reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR && wsi != NULL)
            lwsuv_client_failed(lws_context_user(lws_get_context(wsi)), wsi);
        if (reason == LWS_CALLBACK_CLIENT_RECEIVE ||
            reason == LWS_CALLBACK_CLIENT_WRITEABLE)
            return -1;
        return 0;
    }
    w->wsi = wsi;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return ws_append_headers(w, wsi, in, len);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        ws_on_established(w);
        if (w->outq != NULL && w->wsi == wsi)
            lws_callback_on_writable(wsi);
        return w->dead || w->wsi != wsi ? -1 : 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return ws_on_receive(w, wsi, in, len);
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        w->last_rx_ms = uv_now(w->loop);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return ws_on_writable(w, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char text[WS_TEXT_MAX];

        lwsuv_client_failed(w->loop, wsi);

        snprintf(text, sizeof(text), "connection failed: %.100s",
                 in != NULL ? (const char *)in : "unknown reason");
        ws_lost(w, false, KP_ETRANSPORT, text);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        ws_lost(w, false, KP_ETRANSPORT, "connection closed");
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* Backstop: whatever ended the wsi, it is gone. */
        ws_lost(w, false, KP_ETRANSPORT, "connection ended");
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols ws_protocols[] = {
    {"kp-ws", ws_lws_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- public ------------------------------------------------------------ */

/* The client TLS context: the server's chain must verify against
 * `ca_file` (NULL: the system store); the host name check is set per
 * connection by lws.
 * Returns: 0, or KP_EIO (no context, or ca_file holds no certificate).
 * Out: *out   In: ca_file */
static int
ws_ssl_new(SSL_CTX **out, const char *ca_file)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    int ok;

    *out = NULL;
    ok = c != NULL && SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) == 1;
    if (ok) {
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
        ok = ca_file != NULL
                 ? SSL_CTX_load_verify_locations(c, ca_file, NULL) == 1
                 : SSL_CTX_set_default_verify_paths(c) == 1;
    }
    /* Failures queue errors on the thread; nothing else here reads them. */
    ERR_clear_error();
    if (!ok) {
        SSL_CTX_free(c);
        return KP_EIO;
    }
    *out = c;
    return 0;
}

/* lws is done with the context that borrowed it. */
static void
ws_ssl_free(void *ssl)
{
    SSL_CTX_free(ssl);
}

static int
ws_start_lws(struct ws_client *w)
{
    struct lws_context_creation_info info;
    bool tls = false;
    int rc;

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ws_protocols;
    info.user = w->loop; /* for connections detached from the client */
    info.gid = -1;
    info.uid = -1;
    /* lws sizes its fd table by the process limit unless told; a client
     * context holds one connection. */
    info.fd_limit_per_thread = 16;
    info.timeout_secs = (w->o.connect_timeout_ms + 999) / 1000;
    for (size_t i = 0; i < w->nt; i++)
        tls = tls || w->t[i].url.tls;
    if (tls) {
        if ((rc = ws_ssl_new(&w->ssl, w->ca_file)) != 0)
            return rc;
        /* lws 4.1 takes a provided client context only with its global
         * TLS init asked for (which OpenSSL 3 makes a no-op, bar the
         * ex-data indexes); it never frees a provided one. */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.provided_client_ssl_ctx = w->ssl;
    }
    if ((rc = lwsuv_context_new(&w->ctx, w->loop, &info)) != 0) {
        SSL_CTX_free(w->ssl);
        w->ssl = NULL;
    }
    return rc;
}

static void
ws_copy_opts(struct ws_client *w, const struct ws_opts *o)
{
    w->o = *o;
    w->o.headers = NULL;
    w->o.ca_file = NULL;
    if (o->ca_file != NULL)
        w->ca_file = kp_xstrdup(o->ca_file);
    w->nhdrs = o->nheaders;
    if (w->nhdrs > 0) {
        w->hdrs = kp_xcalloc(w->nhdrs, sizeof(*w->hdrs));
        for (size_t i = 0; i < w->nhdrs; i++)
            w->hdrs[i] = kp_xstrdup(o->headers[i]);
    }
}

/* Free what ws_copy_opts copied (headers may hold secrets). */
static void
ws_free_opts(struct ws_client *w)
{
    for (size_t i = 0; i < w->nhdrs; i++) {
        kp_wipe(w->hdrs[i], strlen(w->hdrs[i]));
        free(w->hdrs[i]);
    }
    free(w->hdrs);
    w->hdrs = NULL;
    w->nhdrs = 0;
    free(w->ca_file);
    w->ca_file = NULL;
}

static void
ws_target_names(struct ws_target *tg)
{
    const struct ws_url *u = &tg->url;
    bool v6 = strchr(u->host, ':') != NULL;
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";

    snprintf(tg->name, sizeof(tg->name), "%s://%s%s%s:%u",
             u->tls ? "wss" : "ws", lb, u->host, rb, (unsigned)u->port);
    if (u->port_given)
        snprintf(tg->hosthdr, sizeof(tg->hosthdr), "%s%s%s:%u", lb, u->host, rb,
                 (unsigned)u->port);
    else
        snprintf(tg->hosthdr, sizeof(tg->hosthdr), "%s%s%s", lb, u->host, rb);
}

/* Parse every URL (nurls in range) into a target.
 * Returns: 0, or the error of the first bad URL (its index in *bad). */
static int
ws_targets_parse(struct ws_target *t, size_t *bad, const char *const *urls,
                 size_t nurls)
{
    int rc;

    for (size_t i = 0; i < nurls; i++) {
        if ((rc = ws_url_parse(&t[i].url, urls != NULL ? urls[i] : NULL))) {
            *bad = i;
            return rc;
        }
        ws_target_names(&t[i]);
    }
    return 0;
}

int
ws_urls_check(size_t *bad, const char *const *urls, size_t nurls)
{
    struct ws_target *t;
    int rc;

    assert(bad != NULL);
    if (nurls == 0 || nurls > WS_MAX_URLS) {
        *bad = nurls;
        return KP_ERANGE;
    }
    t = kp_xcalloc(nurls, sizeof(*t));
    rc = ws_targets_parse(t, bad, urls, nurls);
    kp_wipe(t, nurls * sizeof(*t)); /* the paths may hold API keys */
    free(t);
    return rc;
}

/* URLs may carry API keys. */
static void
ws_free_targets(struct ws_client *w)
{
    if (w->t != NULL)
        kp_wipe(w->t, w->nt * sizeof(*w->t));
    free(w->t);
    w->t = NULL;
    w->nt = 0;
}

int
ws_client_new(struct ws_client **out, uv_loop_t *loop, const char *const *urls,
              size_t nurls, const struct ws_opts *o)
{
    struct ws_opts def;
    struct ws_client *w;
    size_t bad;
    int rc;

    assert(out != NULL && loop != NULL);
    *out = NULL;
    if (o == NULL) {
        ws_opts_init(&def);
        o = &def;
    }
    if ((rc = ws_check_opts(o)) != 0)
        return rc;
    if (nurls == 0 || nurls > WS_MAX_URLS)
        return KP_ERANGE;
    if (o->ca_file != NULL && !ws_is_readable(o->ca_file))
        return KP_EIO;
    w = kp_xcalloc(1, sizeof(*w));
    w->t = kp_xcalloc(nurls, sizeof(*w->t));
    w->nt = nurls;
    if ((rc = ws_targets_parse(w->t, &bad, urls, nurls)) != 0) {
        ws_free_targets(w);
        free(w);
        return rc;
    }
    w->loop = loop;
    ws_copy_opts(w, o);
    w->rng = o->seed ? o->seed : (uv_hrtime() | 1);
    if ((rc = ws_start_lws(w)) != 0) {
        ws_free_opts(w);
        ws_free_targets(w);
        free(w);
        return rc;
    }
    uv_timer_init(loop, &w->timer);
    uv_timer_init(loop, &w->tick);
    w->timer.data = w->tick.data = w;
    w->handles = 2;
    *out = w;
    return 0;
}

void
ws_set_handler(struct ws_client *w, const struct ws_handler *h, void *arg)
{
    assert(w != NULL);
    if (h != NULL)
        w->h = *h;
    else
        memset(&w->h, 0, sizeof(w->h));
    w->arg = arg;
}

int
ws_start(struct ws_client *w)
{
    assert(w != NULL);
    if (w->st != WS_IDLE)
        return KP_ESTATE;
    ws_attempt(w);
    return 0;
}

int
ws_send_text(struct ws_client *w, const char *text, size_t len)
{
    struct ws_out *m;

    assert(w != NULL && (text != NULL || len == 0));
    if (w->st != WS_OPEN || w->wsi == NULL) {
        w->stats.dropped_out++;
        return KP_ESTATE;
    }
    if (len > w->o.max_queue - w->outq_bytes) {
        w->stats.dropped_out++;
        return KP_ELIMIT;
    }
    m = kp_xmalloc(sizeof(*m) + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (w->outq_tail != NULL)
        w->outq_tail->next = m;
    else
        w->outq = m;
    w->outq_tail = m;
    w->outq_bytes += len;
    lws_callback_on_writable(w->wsi);
    return 0;
}

bool
ws_is_open(const struct ws_client *w)
{
    return w != NULL && w->st == WS_OPEN;
}

const struct ws_stats *
ws_stats(const struct ws_client *w)
{
    assert(w != NULL);
    return &w->stats;
}

const char *
ws_name(const struct ws_client *w)
{
    assert(w != NULL);
    return w->t[w->cur].name;
}

size_t
ws_url_index(const struct ws_client *w)
{
    assert(w != NULL);
    return w->cur;
}

const char *
ws_last_error(const struct ws_client *w)
{
    assert(w != NULL);
    return w->last_error;
}

static void
ws_handle_closed(uv_handle_t *hd)
{
    struct ws_client *w = hd->data;

    if (--w->handles > 0)
        return;
    free(w);
}

void
ws_client_free(struct ws_client *w)
{
    if (w == NULL || w->dead)
        return;
    w->dead = true;
    memset(&w->h, 0, sizeof(w->h));
    if (w->res != NULL) {
        w->res->w = NULL;
        w->res = NULL;
    }
    /* The context takes the connection down with it. */
    ws_detach(w, false);
    lwsuv_context_destroy_then(w->loop, w->ctx, ws_ssl_free, w->ssl);
    w->ctx = NULL;
    w->ssl = NULL;
    ws_outq_clear(w);
    free(w->rx);
    w->rx = NULL;
    ws_free_opts(w);
    ws_free_targets(w);
    uv_timer_stop(&w->timer);
    uv_timer_stop(&w->tick);
    uv_close((uv_handle_t *)&w->timer, ws_handle_closed);
    uv_close((uv_handle_t *)&w->tick, ws_handle_closed);
}
