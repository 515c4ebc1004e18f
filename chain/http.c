/*
 * http.c - the client, its requests, and the libcurl engine: libcurl
 * multi driven by libuv (see http.h; the plain engine is http_plain.c).
 *
 * curl tells us which sockets to watch (socket callback) and when to wake
 * it (timer callback); we watch with uv_poll_t / uv_timer_t and hand the
 * events back through curl_multi_socket_action. Finished transfers are
 * collected with curl_multi_info_read after every action.
 *
 * A request on a kept-alive connection is the hot path (every RPC call):
 * its easy handle comes configured from the pool, its buffers are reused,
 * and its connection's poll handle stays registered with the loop, so
 * that beyond curl's own work a request sets a handful of options and
 * makes no epoll_ctl.
 */
#include "chain/http.h"
#include "chain/http_int.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "chain/err.h"

/* Idle easy handles kept for reuse. A handle keeps the options it was
 * last configured with (URL, headers, method and the fixed options), so a
 * request like the previous one on that handle - every RPC call to one
 * endpoint - only sets what differs per request: curl_easy_reset and
 * setting every option again cost as much as a tenth of a keep-alive
 * round trip. */
#define HTTP_POOL_MAX 16
#define HTTP_BUF_MIN 4096
/* Reply and body buffers above this size are not kept between requests. */
#define HTTP_KEEP_BUF (64u * 1024u)

/* A socket curl asked us to watch, or one of its connections. A
 * connection socket (opened through http_open_socket) outlives the
 * transfers on it: when curl stops watching it between requests, its
 * poll handle is parked - left as it is, unreferenced - rather than
 * closed, because closing and making a new one costs five epoll_ctl and
 * an ioctl per request on a kept-alive connection. curl closes such
 * sockets through http_close_socket, so a parked handle never outlives
 * its descriptor. Other sockets (the resolver's) get no such call and are
 * closed when curl stops watching them. */
struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http_client *c;
    struct http_sock *prev, *next;
    int events;   /* what the poll handle watches while active */
    bool polling; /* poll initialised */
    bool active;  /* poll started */
    bool owned;   /* a connection: curl calls http_close_socket */
    bool parked;  /* curl does not watch it now */
};

/* An easy handle and what it was configured for (copies, wiped when
 * freed: URLs and headers may hold API keys). */
struct http_easy {
    CURL *e;
    char *url;
    char *ca_file; /* CURLOPT_CAINFO, or NULL: the system store */
    char method[17];
    bool compressed; /* CURLOPT_ACCEPT_ENCODING set */
    bool big_body;   /* configured for a body above HTTP_EXPECT_MIN */
    char **hdrs;
    size_t nhdrs;
    struct curl_slist *slist; /* hdrs (+ "Expect:"), set on the handle */
    CURLU *uh;                /* url, parsed once (CURLOPT_CURLU) */
    char *body;               /* request body copy, reused */
    size_t body_len, body_cap;
    char *buf; /* reply body, reused */
    size_t cap;
    char errbuf[CURL_ERROR_SIZE];
};

struct http_client {
    uv_loop_t *loop;
    struct http_plain *plain;
    CURLM *multi;
    uv_timer_t timer;
    struct http_request *reqs;
    struct http_sock *socks;
    struct http_easy *pool[HTTP_POOL_MAX];
    size_t npool;
    size_t npending;
    int depth; /* > 0 while callbacks run: free is deferred */
    bool dead; /* http_client_free was called */
};

static void http_check_done(struct http_client *c);

/* curl reports allocation failure as NULL; like kp_xmalloc, that is fatal. */
static _Noreturn void
http_oom(void)
{
    fputs("keeper: fatal: out of memory in libcurl\n", stderr);
    abort();
}

/* ---- easy handle pool ---- */

static void
http_wipe_free(char *p)
{
    if (p)
        kp_wipe(p, strlen(p));
    free(p);
}

/* Forget what `h` was configured for (the handle keeps its options until
 * reset). */
static void
http_easy_forget(struct http_easy *h)
{
    http_wipe_free(h->url);
    h->url = NULL;
    free(h->ca_file);
    h->ca_file = NULL;
    for (size_t i = 0; i < h->nhdrs; i++)
        http_wipe_free(h->hdrs[i]);
    free(h->hdrs);
    h->hdrs = NULL;
    h->nhdrs = 0;
    h->method[0] = '\0';
}

static void
http_easy_free(struct http_easy *h)
{
    curl_easy_cleanup(h->e);
    /* After the handle: curl may point at these until then. */
    curl_slist_free_all(h->slist);
    curl_url_cleanup(h->uh);
    http_easy_forget(h);
    if (h->body)
        kp_wipe(h->body, h->body_cap);
    free(h->body);
    free(h->buf);
    free(h);
}

/* Bodies up to this size never get "Expect: 100-continue" from curl
 * (its threshold is 1 KiB in old versions, 1 MiB since). */
#define HTTP_EXPECT_MIN 1024u

static bool
http_big_body(const struct http_req_opts *o)
{
    return o->body_len > HTTP_EXPECT_MIN;
}

/* Returns: whether a and b are both NULL or the same text. */
static bool
http_same_opt(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Returns: whether `h` is configured for exactly this URL, method,
 * header list and CA file. */
static bool
http_easy_fits(const struct http_easy *h, const struct http_req_opts *o,
               const char *method)
{
    if (!h->url || strcmp(h->url, o->url) != 0 ||
        strcmp(h->method, method) != 0 || h->nhdrs != o->nheaders ||
        h->compressed != o->accept_compressed ||
        h->big_body != http_big_body(o) ||
        !http_same_opt(h->ca_file, o->ca_file))
        return false;
    for (size_t i = 0; i < o->nheaders; i++)
        if (strcmp(h->hdrs[i], o->headers[i]) != 0)
            return false;
    return true;
}

/* Take an idle handle, preferring one configured like `o`.
 * Out: *fits (whether it is)   Returns: the handle. */
static struct http_easy *
http_easy_get(struct http_client *c, const struct http_req_opts *o,
              const char *method, bool *fits)
{
    struct http_easy *h;

    /* pool[0] is the least recently used, pool[npool - 1] the most. */
    for (size_t i = c->npool; i-- > 0;) {
        if (http_easy_fits(c->pool[i], o, method)) {
            h = c->pool[i];
            memmove(c->pool + i, c->pool + i + 1,
                    (--c->npool - i) * sizeof(*c->pool));
            *fits = true;
            return h;
        }
    }
    *fits = false;
    if (c->npool > 0) {
        /* The least recently used one: its configuration is the least
         * likely to be asked for again soon. */
        h = c->pool[0];
        memmove(c->pool, c->pool + 1, --c->npool * sizeof(*c->pool));
        return h;
    }
    h = kp_xcalloc(1, sizeof(*h));
    /* curl_easy_init only fails on allocation failure. */
    if (!(h->e = curl_easy_init()))
        http_oom();
    return h;
}

static void
http_easy_put(struct http_client *c, struct http_easy *h)
{
    /* Bodies may hold secrets (alert routing keys). */
    if (h->body)
        kp_wipe(h->body, h->body_len);
    if (h->body_cap > HTTP_KEEP_BUF) {
        kp_wipe(h->body, h->body_cap);
        free(h->body);
        h->body = NULL;
        h->body_cap = 0;
    }
    if (h->cap > HTTP_KEEP_BUF) {
        free(h->buf);
        h->buf = NULL;
        h->cap = 0;
    }
    if (c->npool < HTTP_POOL_MAX && !c->dead)
        c->pool[c->npool++] = h;
    else
        http_easy_free(h);
}

/* ---- request list ---- */

static void
http_req_link(struct http_client *c, struct http_request *r)
{
    r->prev = NULL;
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->npending++;
}

static void
http_req_unlink(struct http_client *c, struct http_request *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    c->npending--;
}

/* Take the request off its engine and release everything it holds. */
static void
http_req_destroy(struct http_request *r)
{
    struct http_client *c = r->c;

    if (r->plain) {
        http_plain_cancel(r);
    } else {
        curl_multi_remove_handle(c->multi, r->h->e);
        http_easy_put(c, r->h);
    }
    free(r);
}

/* ---- sockets ---- */

static void
http_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void
http_sock_link(struct http_client *c, struct http_sock *k)
{
    k->prev = NULL;
    k->next = c->socks;
    if (c->socks)
        c->socks->prev = k;
    c->socks = k;
}

static void
http_sock_close(struct http_client *c, struct http_sock *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        c->socks = k->next;
    if (k->next)
        k->next->prev = k->prev;
    if (!k->polling) {
        free(k);
        return;
    }
    uv_poll_stop(&k->poll);
    uv_close((uv_handle_t *)&k->poll, http_sock_closed);
}

static struct http_sock *
http_sock_find(struct http_client *c, curl_socket_t s)
{
    for (struct http_sock *k = c->socks; k; k = k->next)
        if (k->fd == s)
            return k;
    return NULL;
}

static void
http_on_poll(uv_poll_t *h, int status, int events)
{
    struct http_sock *k = h->data;
    struct http_client *c = k->c;
    int flags = 0, running;

    if (k->parked) {
        /* The peer closed an idle connection, or wrote to it: curl finds
         * out when it next uses it. Stop watching until then. */
        uv_poll_stop(&k->poll);
        k->active = false;
        return;
    }
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, k->fd, flags, &running);
    http_check_done(c);
}

static struct http_sock *
http_sock_new(struct http_client *c, curl_socket_t s)
{
    struct http_sock *k = kp_xcalloc(1, sizeof(*k));

    k->fd = s;
    k->c = c;
    http_sock_link(c, k);
    return k;
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection's socket, known from birth so
 * that its poll handle can be parked between requests. */
static curl_socket_t
http_open_socket(void *clientp, curlsocktype purpose,
                 struct curl_sockaddr *addr)
{
    struct http_client *c = clientp;
    struct http_sock *stale;
    curl_socket_t s;

    (void)purpose;
    s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (s == CURL_SOCKET_BAD)
        return s;
    /* A listed socket with this number was closed behind our back (curl
     * documents that it never does that): drop its handle rather than
     * watch the new socket through it. */
    if ((stale = http_sock_find(c, s)) != NULL)
        http_sock_close(c, stale);
    http_sock_new(c, s)->owned = true;
    return s;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the poll handle goes before the
 * descriptor, as libuv requires. After http_teardown the socket is no
 * longer listed. */
static int
http_close_socket(void *clientp, curl_socket_t s)
{
    struct http_client *c = clientp;
    struct http_sock *k = http_sock_find(c, s);

    if (k)
        http_sock_close(c, k);
    return close(s);
}

static int
http_sock_watch(struct http_client *c, struct http_sock *k, int what)
{
    int events = 0;

    if (!k->polling) {
        if (uv_poll_init_socket(c->loop, &k->poll, k->fd) != 0)
            return -1;
        k->poll.data = k;
        k->polling = true;
    }
    if (k->parked) {
        k->parked = false;
        uv_ref((uv_handle_t *)&k->poll);
    }
    curl_multi_assign(c->multi, k->fd, k);
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    /* uv_poll_start always re-registers the descriptor (two syscalls):
     * skip it when nothing changes. */
    if (k->active && k->events == events)
        return 0;
    if (uv_poll_start(&k->poll, events, http_on_poll) != 0)
        return -1;
    k->active = true;
    k->events = events;
    return 0;
}

static int
http_on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
    struct http_client *c = userp;
    struct http_sock *k = sockp;

    (void)e;
    if (!k)
        k = http_sock_find(c, s);
    if (what == CURL_POLL_REMOVE) {
        if (!k)
            return 0;
        curl_multi_assign(c->multi, s, NULL);
        if (!k->owned) {
            http_sock_close(c, k);
        } else if (k->polling && !k->parked) {
            /* Stays registered: the next request on this connection
             * usually watches the same events. Unreferenced, so that an
             * idle connection does not keep the loop alive. */
            k->parked = true;
            uv_unref((uv_handle_t *)&k->poll);
        }
        return 0;
    }
    if (!k)
        k = http_sock_new(c, s);
    return http_sock_watch(c, k, what);
}

/* ---- timer ---- */

static void
http_on_timer(uv_timer_t *t)
{
    struct http_client *c = t->data;
    int running;

    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_check_done(c);
}

static int
http_on_timer_set(CURLM *m, long timeout_ms, void *userp)
{
    struct http_client *c = userp;

    (void)m;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, http_on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- completion ---- */

static int
http_map_error(const struct http_request *r, CURLcode rc)
{
    if (rc == CURLE_OK)
        return 0;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return KP_ETIMEOUT;
    if (rc == CURLE_FILESIZE_EXCEEDED ||
        (rc == CURLE_WRITE_ERROR && r->over_limit))
        return KP_ELIMIT;
    return KP_ETRANSPORT;
}

static bool
http_was_sent(CURL *e, CURLcode rc)
{
    long reqsize = 0;

    if (rc == CURLE_OK)
        return true;
    /* Counted over the whole transfer: a request curl sent on a kept-alive
     * connection that died, then failed to connect again for, has left. */
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &reqsize);
    return reqsize > 0;
}

static void
http_fill_reply(struct http_request *r, CURLcode rc, struct http_reply *rep)
{
    struct http_easy *h = r->h;
    curl_off_t ra = 0;

    memset(rep, 0, sizeof(*rep));
    rep->err = http_map_error(r, rc);
    curl_easy_getinfo(h->e, CURLINFO_RESPONSE_CODE, &rep->status);
    rep->body = r->len ? h->buf : "";
    rep->body_len = r->len;
    if (r->len)
        h->buf[r->len] = '\0';
    rep->elapsed_us = (uv_hrtime() - r->t0) / 1000u;
    rep->sent = http_was_sent(h->e, rc);
    /* curl reads a date too, as seconds from now; 0 is also what it says
     * when there is no Retry-After, so a literal 0 reads as absent here. */
    rep->retry_after_s = -1;
    if (curl_easy_getinfo(h->e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
        ra > 0)
        rep->retry_after_s = ra < 86400 ? (long)ra : 86400;
    if (rep->err == KP_ELIMIT)
        rep->errtext = "reply exceeds the size cap";
    else if (rep->err != 0)
        rep->errtext = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
    else
        rep->errtext = "";
}

static void
http_finish(struct http_client *c, struct http_request *r, CURLcode rc)
{
    struct http_reply rep;

    http_req_unlink(c, r);
    http_fill_reply(r, rc, &rep);
    r->finishing = true;
    r->cb(r->arg, &rep);
    http_req_destroy(r);
}

static void http_teardown(struct http_client *c);

void
http_deliver(struct http_request *r, const struct http_reply *rep)
{
    struct http_client *c = r->c;

    http_req_unlink(c, r);
    r->finishing = true;
    c->depth++;
    r->cb(r->arg, rep);
    free(r);
    if (--c->depth == 0 && c->dead)
        http_teardown(c);
}

static void
http_check_done(struct http_client *c)
{
    CURLMsg *msg;
    int left;

    c->depth++;
    while (!c->dead && (msg = curl_multi_info_read(c->multi, &left))) {
        struct http_request *r = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        assert(r != NULL);
        http_finish(c, r, msg->data.result);
    }
    if (--c->depth == 0 && c->dead)
        http_teardown(c);
}

/* ---- client ---- */

int
http_client_new(struct http_client **out, uv_loop_t *loop)
{
    static bool global_done;
    struct http_client *c;

    assert(out && loop);
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
    }
    c = kp_xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->plain = http_plain_new(loop);
    c->multi = curl_multi_init();
    if (!c->multi)
        http_oom();
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, http_on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, http_on_timer_set);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    *out = c;
    return 0;
}

static void
http_client_closed(uv_handle_t *h)
{
    free(h->data);
}

static void
http_teardown(struct http_client *c)
{
    http_plain_free(c->plain);
    c->plain = NULL;
    while (c->npool > 0)
        http_easy_free(c->pool[--c->npool]);
    /* Stop curl from calling back into a client that is going away; the
     * poll handles are closed here, before curl closes the sockets. */
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
    while (c->socks)
        http_sock_close(c, c->socks);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, http_client_closed);
}

void
http_client_free(struct http_client *c)
{
    if (!c || c->dead)
        return;
    c->dead = true;
    while (c->reqs) {
        struct http_request *r = c->reqs;

        http_req_unlink(c, r);
        http_req_destroy(r);
    }
    if (c->depth == 0)
        http_teardown(c);
}

size_t
http_client_pending(const struct http_client *c)
{
    assert(c);
    return c->npending;
}

/* ---- request setup ---- */

static bool
http_method_ok(const char *m)
{
    size_t n = strlen(m);

    if (n == 0 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)m[i]))
            return false;
    return true;
}

static bool
http_header_ok(const char *h)
{
    const char *colon = strchr(h, ':');

    return colon && colon != h && !strpbrk(h, "\r\n") && strlen(h) < 8192;
}

static bool
http_url_scheme_ok(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 ||
           strncasecmp(url, "https://", 8) == 0;
}

static int
http_opts_check(const struct http_req_opts *o, const char **method)
{
    if (!o->url || !http_url_scheme_ok(o->url))
        return KP_EINVAL;
    if (o->timeout_ms == 0 || o->timeout_ms > HTTP_MAX_TIMEOUT_MS ||
        o->connect_timeout_ms > HTTP_MAX_TIMEOUT_MS || o->max_reply == 0 ||
        o->max_reply > SIZE_MAX / 2)
        return KP_EINVAL;
    if (o->nheaders > HTTP_MAX_HEADERS || (o->nheaders && !o->headers) ||
        (o->body_len && !o->body))
        return KP_EINVAL;
    for (size_t i = 0; i < o->nheaders; i++)
        if (!o->headers[i] || !http_header_ok(o->headers[i]))
            return KP_EINVAL;
    *method = o->method ? o->method : (o->body ? "POST" : "GET");
    if (!http_method_ok(*method))
        return KP_EINVAL;
    if ((!strcmp(*method, "GET") || !strcmp(*method, "HEAD")) && o->body_len)
        return KP_EINVAL;
    return 0;
}

static size_t
http_on_write(char *p, size_t size, size_t n, void *ud)
{
    struct http_request *r = ud;
    struct http_easy *h = r->h;
    size_t len = size * n;

    if (len > r->max - r->len) {
        r->over_limit = true;
        return 0; /* curl aborts with CURLE_WRITE_ERROR */
    }
    if (r->len + len + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : HTTP_BUF_MIN;

        while (cap < r->len + len + 1)
            cap *= 2;
        if (cap > r->max + 1)
            cap = r->max + 1;
        h->buf = kp_xrealloc(h->buf, cap);
        h->cap = cap;
    }
    memcpy(h->buf + r->len, p, len);
    r->len += len;
    return len;
}

/* Hand curl the URL already parsed: given as text, it is parsed again
 * (and taken apart into a dozen allocated parts) on every transfer, an
 * eighth of curl's work per request on a kept-alive connection. A URL
 * that does not parse goes in as text, for curl to report when the
 * request starts. */
static void
http_set_url(struct http_easy *h, const char *url)
{
    if (!(h->uh = curl_url()))
        http_oom();
    if (curl_url_set(h->uh, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_easy_setopt(h->e, CURLOPT_CURLU, h->uh);
        return;
    }
    curl_url_cleanup(h->uh);
    h->uh = NULL;
    curl_easy_setopt(h->e, CURLOPT_URL, url);
}

/* Returns: whether the environment names a proxy for http(s) URLs
 * (the variables curl reads when no proxy is set on the handle). */
static bool
http_proxy_env(void)
{
    static const char *const vars[] = {"http_proxy", "https_proxy",
                                       "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);

        if (v && *v)
            return true;
    }
    return false;
}

/* No proxy, said on the handle: curl otherwise reads five environment
 * variables on every transfer to find that out (a fortieth of its work
 * per request on a kept-alive connection). Only used when the
 * environment names no proxy, so nothing changes but the cost. */
static void
http_no_proxy(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "");
}

/* Options that stay with the handle while requests look alike. */
static void
http_configure(struct http_client *c, struct http_easy *h,
               const struct http_req_opts *o, const char *method)
{
    CURL *e = h->e;

    curl_easy_reset(e);
    curl_slist_free_all(h->slist);
    h->slist = NULL;
    curl_url_cleanup(h->uh);
    h->uh = NULL;
    http_easy_forget(h);
    h->url = kp_xstrdup(o->url);
    snprintf(h->method, sizeof(h->method), "%s", method);
    h->hdrs = kp_xcalloc(o->nheaders + 1, sizeof(*h->hdrs));
    for (size_t i = 0; i < o->nheaders; i++) {
        h->hdrs[i] = kp_xstrdup(o->headers[i]);
        h->slist = curl_slist_append(h->slist, o->headers[i]);
    }
    h->nhdrs = o->nheaders;
    /* No "Expect: 100-continue" round trip on large bodies. curl never
     * sends it for small ones, and each listed header costs a scan of
     * the list for every header curl might add, so small bodies go
     * without. */
    h->big_body = http_big_body(o);
    if (h->big_body)
        h->slist = curl_slist_append(h->slist, "Expect:");
    if (!h->slist && (h->big_body || o->nheaders))
        http_oom();
    http_set_url(h, o->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->slist);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_write);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, http_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, http_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!http_proxy_env())
        http_no_proxy(e);
    h->compressed = o->accept_compressed;
    if (o->accept_compressed)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (o->ca_file) {
        /* Instead of the system store: curl would otherwise still trust
         * its built-in CA directory beside the file. */
        h->ca_file = kp_xstrdup(o->ca_file);
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
        curl_easy_setopt(e, CURLOPT_CAPATH, (char *)NULL);
    }
    if (!strcmp(method, "GET"))
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (!strcmp(method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

/* Copy the body into the handle's buffer and point curl at it (curl does
 * not copy CURLOPT_POSTFIELDS). */
static void
http_set_body(struct http_easy *h, const struct http_req_opts *o)
{
    if (o->body_len + 1 > h->body_cap) {
        if (h->body)
            kp_wipe(h->body, h->body_cap);
        free(h->body);
        h->body_cap = o->body_len + 1 > 256 ? o->body_len + 1 : 256;
        h->body = kp_xmalloc(h->body_cap);
    }
    if (o->body_len)
        memcpy(h->body, o->body, o->body_len);
    h->body[o->body_len] = '\0';
    h->body_len = o->body_len;
    curl_easy_setopt(h->e, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)o->body_len);
    curl_easy_setopt(h->e, CURLOPT_POSTFIELDS, h->body);
}

/* Options that change with every request. */
static void
http_setup_easy(struct http_request *r, const struct http_req_opts *o,
                const char *method, bool fits)
{
    struct http_easy *h = r->h;
    CURL *e = h->e;
    uint32_t cto =
        o->connect_timeout_ms ? o->connect_timeout_ms : o->timeout_ms;

    if (!fits)
        http_configure(r->c, h, o, method);
    h->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cto);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_reply);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        http_set_body(h, o);
}

int
http_request_start(struct http_client *c, const struct http_req_opts *o,
                   http_done_fn cb, void *arg, struct http_request **out)
{
    struct http_request *r;
    struct http_target t;
    const char *method;
    bool fits;
    int rc;

    assert(c && o && cb);
    if (out)
        *out = NULL;
    if (c->dead)
        return KP_ESTATE;
    if ((rc = http_opts_check(o, &method)) != 0)
        return rc;
    r = kp_xcalloc(1, sizeof(*r));
    r->c = c;
    r->cb = cb;
    r->arg = arg;
    r->max = o->max_reply;
    if (!http_proxy_env() && http_plain_takes(o, &t)) {
        r->t0 = uv_hrtime();
        http_req_link(c, r);
        http_plain_start(c->plain, o, method, &t, r);
        if (out)
            *out = r;
        return 0;
    }
    r->h = http_easy_get(c, o, method, &fits);
    http_setup_easy(r, o, method, fits);
    r->t0 = uv_hrtime();
    if (curl_multi_add_handle(c->multi, r->h->e) != CURLM_OK) {
        http_easy_put(c, r->h);
        free(r);
        return KP_ESTATE;
    }
    http_req_link(c, r);
    if (out)
        *out = r;
    return 0;
}

void
http_request_cancel(struct http_request *r)
{
    if (!r || r->finishing)
        return;
    http_req_unlink(r->c, r);
    http_req_destroy(r);
}

/* ---- URL display ---- */

static int
http_url_parts(CURLU *u, char **scheme, char **host, char **port)
{
    *scheme = *host = *port = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
        return KP_EINVAL;
    if (strcasecmp(*scheme, "http") != 0 && strcasecmp(*scheme, "https") != 0)
        return KP_EINVAL;
    curl_url_get(u, CURLUPART_PORT, port, 0); /* absent unless explicit */
    return 0;
}

int
http_url_display(char *out, size_t outcap, const char *url)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc, n;

    assert(out && url);
    if (outcap)
        out[0] = '\0';
    if (!(u = curl_url()))
        http_oom();
    rc = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK ? 0 : KP_EINVAL;
    if (rc == 0)
        rc = http_url_parts(u, &scheme, &host, &port);
    if (rc == 0) {
        n = snprintf(out, outcap, "%s://%s%s%s", scheme, host, port ? ":" : "",
                     port ? port : "");
        if (n < 0 || (size_t)n >= outcap) {
            rc = KP_ERANGE;
            if (outcap)
                out[0] = '\0';
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}
