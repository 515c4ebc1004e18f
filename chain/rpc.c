/*
 * rpc.c - JSON-RPC calls, batches, failover and retries (see rpc.h).
 *
 * A call (single or batch) lives in the client's list from rpc_call until
 * its callbacks have run. Each attempt is one HTTP request to the endpoint
 * rpc_pick_endpoint chooses. Calls waiting for a backoff delay, or for an
 * error to be reported from the loop rather than from inside rpc_call,
 * are parked with a due time and woken by one shared timer.
 */
#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/err.h"
#include "chain/rpc_int.h"

struct rpc_batch {
    struct rpc_client *c;
    struct rpc_item *items;
    size_t n, cap;
    size_t bytes;
};

/* JSON text around each call in a request body: 45 bytes of envelope,
 * up to 20 digits of id and a separating comma, rounded up. */
#define RPC_ENVELOPE 72

static void rpc_attempt(struct rpc_call *k);

/* The start of every call object we send, and of most replies. */
#define RPC_HEAD "{\"jsonrpc\":\"2.0\",\"id\":"

/* Write `v` in decimal (no NUL). Returns: the number of digits. */
static size_t
rpc_u64_dec(char out[20], uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, tmp + sizeof(tmp) - n, n);
    return n;
}

/* ---- options ---- */

void
rpc_opts_init(struct rpc_opts *o)
{
    assert(o);
    memset(o, 0, sizeof(*o));
    o->timeout_ms = 10000;
    o->max_reply = 8u << 20;
    o->max_attempts = 4;
    o->backoff_base_ms = 100;
    o->backoff_max_ms = 5000;
    o->fail_threshold = 3;
    o->down_ms = 5000;
    o->max_lag_blocks = 5;
    o->head_poll_ms = 4000;
    o->latency_tolerance_ms = 20;
    o->max_pending = 4096;
}

static int
rpc_opts_check(const struct rpc_opts *o)
{
    const uint32_t day = HTTP_MAX_TIMEOUT_MS;

    if (o->timeout_ms < 1 || o->timeout_ms > day)
        return KP_ERANGE;
    if (o->max_reply < 1024 || o->max_reply > (1u << 30))
        return KP_ERANGE;
    if (o->max_attempts < 1 || o->max_attempts > 100)
        return KP_ERANGE;
    if (o->backoff_base_ms < 1 || o->backoff_max_ms < o->backoff_base_ms ||
        o->backoff_max_ms > day)
        return KP_ERANGE;
    if (o->fail_threshold < 1 || o->fail_threshold > 1000 || o->down_ms > day)
        return KP_ERANGE;
    if ((o->head_poll_ms != 0 && o->head_poll_ms < 10) || o->head_poll_ms > day)
        return KP_ERANGE;
    if (o->latency_tolerance_ms > 60000 || o->max_pending < 1 ||
        o->max_pending > 1000000)
        return KP_ERANGE;
    return 0;
}

static int
rpc_call_opts_check(const struct rpc_call_opts *o)
{
    if (!o)
        return 0;
    if (o->timeout_ms > HTTP_MAX_TIMEOUT_MS ||
        o->deadline_ms > HTTP_MAX_TIMEOUT_MS)
        return KP_ERANGE;
    if (o->repeat != RPC_REPEAT_DEFAULT && o->repeat != RPC_REPEAT_SAFE &&
        o->repeat != RPC_REPEAT_UNSAFE)
        return KP_ERANGE;
    return 0;
}

static int
rpc_check_method(const char *m)
{
    size_t n = strlen(m);

    if (n == 0 || n > RPC_MAX_METHOD)
        return KP_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)m[i]) && m[i] != '_')
            return KP_EINVAL;
    return 0;
}

/* Params go out verbatim; check only that they are an array or object so
 * that a slip cannot splice other members into the envelope. */
static int
rpc_check_params(const char *p)
{
    if (!p)
        return 0;
    while (isspace((unsigned char)*p))
        p++;
    return *p == '[' || *p == '{' ? 0 : KP_EINVAL;
}

/* ---- PRNG for jitter (splitmix64) ---- */

static uint64_t
rpc_rand(struct rpc_client *c)
{
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Exponential backoff with "equal jitter": half fixed, half random. */
static uint64_t
rpc_backoff_ms(struct rpc_client *c, unsigned round)
{
    uint64_t d = c->o.backoff_base_ms;

    for (unsigned i = 0; i < round && d < c->o.backoff_max_ms; i++)
        d *= 2;
    if (d > c->o.backoff_max_ms)
        d = c->o.backoff_max_ms;
    return d / 2 + rpc_rand(c) % (d - d / 2 + 1);
}

/* ---- call list ---- */

static uint64_t
rpc_now(struct rpc_client *c)
{
    uv_update_time(c->loop);
    return uv_now(c->loop);
}

static void
rpc_call_link(struct rpc_client *c, struct rpc_call *k)
{
    k->next = c->calls;
    if (c->calls)
        c->calls->prev = k;
    c->calls = k;
    if (!k->internal)
        c->nuser++;
}

static void
rpc_call_unlink(struct rpc_client *c, struct rpc_call *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        c->calls = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->prev = k->next = NULL;
    if (!k->internal)
        c->nuser--;
}

static void
rpc_items_free(struct rpc_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].params);
    free(items);
}

static void
rpc_call_free(struct rpc_call *k)
{
    if (k->req)
        http_request_cancel(k->req);
    if (k->items != &k->one)
        rpc_items_free(k->items, k->n);
    free(k->body);
    free(k);
}

/* ---- texts ---- */

static size_t
rpc_item_bytes(const char *method, const char *params)
{
    return RPC_ENVELOPE + strlen(method) + (params ? strlen(params) : 2);
}

/* Copy `src` into `dst`, cut to fit (texts are cut, never refused). */
static void
rpc_copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Set the call's error text: "rpc: ENDPOINT: METHOD: detail", with URL
 * secrets scrubbed before the text is cut to size. */
static void
rpc_set_text(struct rpc_call *k, const char *fmt, ...)
{
    char detail[768], full[1024];
    const char *name = k->ep < k->c->neps ? k->c->eps[k->ep].st.name : "-";
    char label[RPC_MAX_METHOD + 32];
    va_list ap;

    if (k->batch)
        snprintf(label, sizeof(label), "batch of %zu", k->n);
    else
        snprintf(label, sizeof(label), "%s", k->items[0].method);
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "rpc: %s: %s: %s", name, label, detail);
    if (k->ep < k->c->neps)
        rpc_scrub(&k->c->eps[k->ep], full, sizeof(full));
    rpc_copy_text(k->text, sizeof(k->text), full);
}

/* A printable excerpt of a reply body for error texts. */
static void
rpc_excerpt(char *out, size_t cap, const char *body, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[i];

        out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
    }
    out[n] = '\0';
}

/* ---- finishing ---- */

static void
rpc_status_fill(const struct rpc_call *k, struct rpc_status *st)
{
    const struct rpc_client *c = k->c;

    memset(st, 0, sizeof(*st));
    st->err = k->err;
    st->http_status = k->http_status;
    st->text = k->err ? k->text : "";
    st->endpoint = k->attempts ? k->ep : RPC_ENDPOINT_NONE;
    st->endpoint_name = k->attempts ? c->eps[k->ep].st.name : "";
    st->attempts = k->attempts;
    st->elapsed_us = (uv_hrtime() - k->t0_ns) / 1000u;
}

static void
rpc_note_error(struct rpc_client *c, const struct rpc_call *k, const char *text)
{
    if (!k->internal)
        rpc_copy_text(c->last_error, sizeof(c->last_error), text);
}

/* Report the call's error to every item, then free it. */
static void
rpc_finish_error(struct rpc_call *k)
{
    struct rpc_client *c = k->c;
    struct rpc_status st;

    rpc_call_unlink(c, k);
    rpc_note_error(c, k, k->text);
    rpc_status_fill(k, &st);
    for (size_t i = 0; i < k->n && !c->dead; i++)
        k->items[i].cb(k->items[i].arg, NULL, &st);
    rpc_call_free(k);
}

static void
rpc_learn_head(struct rpc_call *k, const struct rpc_item *it,
               const cJSON *result)
{
    uint64_t h;

    if (!strcmp(it->method, "eth_blockNumber") &&
        rpc_quantity_u64(result, &h) == 0)
        rpc_endpoint_set_head(k->c, k->ep, h, k->best_at_send);
}

/* Deliver item `i` of a parsed reply. */
static void
rpc_deliver_item(struct rpc_call *k, size_t i, const struct rpc_reply_item *ri,
                 const char *why)
{
    struct rpc_client *c = k->c;
    struct rpc_status st;
    char text[RPC_TEXT_MAX];

    rpc_status_fill(k, &st);
    st.err = ri->err;
    if (ri->err == 0) {
        rpc_learn_head(k, &k->items[i], ri->result);
        k->items[i].cb(k->items[i].arg, ri->result, &st);
        return;
    }
    if (ri->err == KP_ERPC) {
        snprintf(text, sizeof(text), "rpc: %s: %s: RPC error %lld: %s",
                 c->eps[k->ep].st.name, k->items[i].method, (long long)ri->code,
                 ri->message);
        st.rpc_code = ri->code;
        st.rpc_message = ri->message;
        st.rpc_data = ri->data;
        rpc_endpoint_count_error(c, k->ep, RPC_EC_RPC);
    } else {
        snprintf(text, sizeof(text), "rpc: %s: %s: malformed reply: %s",
                 c->eps[k->ep].st.name, k->items[i].method,
                 why[0] ? why : "no reply");
        rpc_endpoint_count_error(c, k->ep, RPC_EC_MALFORMED);
    }
    rpc_scrub(&c->eps[k->ep], text, sizeof(text));
    rpc_note_error(c, k, text);
    st.text = text;
    k->items[i].cb(k->items[i].arg, NULL, &st);
}

static void
rpc_deliver(struct rpc_call *k, const struct rpc_reply_item *items,
            const char *why)
{
    struct rpc_client *c = k->c;

    rpc_call_unlink(c, k);
    k->err = 0;
    for (size_t i = 0; i < k->n && !c->dead; i++)
        rpc_deliver_item(k, i, &items[i], why);
    rpc_call_free(k);
}

/* ---- parking (backoff, deferred errors) ---- */

static void rpc_on_retry_timer(uv_timer_t *t);

static void
rpc_arm_retry_timer(struct rpc_client *c)
{
    uint64_t now = uv_now(c->loop), due = UINT64_MAX;

    for (struct rpc_call *k = c->calls; k; k = k->next)
        if (k->waiting && k->due < due)
            due = k->due;
    if (due == UINT64_MAX)
        uv_timer_stop(&c->retry_timer);
    else
        uv_timer_start(&c->retry_timer, rpc_on_retry_timer,
                       due > now ? due - now : 0, 0);
}

static void
rpc_park(struct rpc_call *k, uint64_t due)
{
    k->waiting = true;
    k->due = due;
    rpc_arm_retry_timer(k->c);
}

/* Report the error from the loop, not from the caller's stack. */
static void
rpc_finish_later(struct rpc_call *k)
{
    k->finish_pending = true;
    rpc_park(k, uv_now(k->c->loop));
}

static void rpc_teardown(struct rpc_client *c);

static void
rpc_enter(struct rpc_client *c)
{
    c->depth++;
}

static void
rpc_leave(struct rpc_client *c)
{
    if (--c->depth == 0 && c->dead)
        rpc_teardown(c);
}

static struct rpc_call *
rpc_first_due(struct rpc_client *c, uint64_t now)
{
    for (struct rpc_call *k = c->calls; k; k = k->next)
        if (k->waiting && k->due <= now)
            return k;
    return NULL;
}

static void
rpc_on_retry_timer(uv_timer_t *t)
{
    struct rpc_client *c = t->data;
    struct rpc_call *k;

    rpc_enter(c);
    /* Rescan from the head each time: callbacks may change the list. */
    while (!c->dead && (k = rpc_first_due(c, uv_now(c->loop))) != NULL) {
        k->waiting = false;
        if (k->finish_pending)
            rpc_finish_error(k);
        else
            rpc_attempt(k);
    }
    if (!c->dead)
        rpc_arm_retry_timer(c);
    rpc_leave(c);
}

/* ---- attempts ---- */

static uint32_t
rpc_attempt_timeout(const struct rpc_call *k, uint64_t now)
{
    uint32_t t = k->timeout_ms;

    if (k->deadline && k->deadline - now < t)
        t = (uint32_t)(k->deadline - now);
    return t ? t : 1;
}

static void rpc_on_http_done(void *arg, const struct http_reply *rep);

static void
rpc_attempt(struct rpc_call *k)
{
    struct rpc_client *c = k->c;
    uint64_t now = rpc_now(c);
    size_t ep;
    int rc;

    if (k->deadline && now >= k->deadline) {
        if (!k->err) {
            k->err = KP_ETIMEOUT;
            rpc_set_text(k, "deadline passed");
        }
        rpc_finish_later(k);
        return;
    }
    if ((ep = rpc_pick_endpoint(c, k)) == RPC_ENDPOINT_NONE) {
        k->err = KP_ESTATE;
        rpc_set_text(k, "no endpoint left to try");
        rpc_finish_later(k);
        return;
    }
    k->ep = ep;
    k->best_at_send = rpc_best_head(c);
    k->tried |= 1u << ep;
    k->attempts++;
    rc = http_request_start(c->http,
                            &(struct http_req_opts){
                                .method = "POST",
                                .url = c->eps[ep].url,
                                .headers = (const char *const *)c->eps[ep].hdrs,
                                .nheaders = c->eps[ep].nhdrs,
                                .body = k->body,
                                .body_len = k->body_len,
                                .timeout_ms = rpc_attempt_timeout(k, now),
                                .max_reply = c->o.max_reply,
                                .ca_file = c->eps[ep].ca_file,
                            },
                            rpc_on_http_done, k, &k->req);
    if (rc != 0) {
        k->err = KP_ESTATE;
        rpc_set_text(k, "cannot start request: %s", kp_strerror(rc));
        rpc_finish_later(k);
        return;
    }
    c->eps[ep].st.requests++;
}

/* After an attempt failed in a way another attempt may cure. */
static void
rpc_after_failure(struct rpc_call *k, bool sent)
{
    struct rpc_client *c = k->c;
    uint64_t now = uv_now(c->loop), due;

    /* An unsafe call is repeated only if it certainly never left. */
    if (sent && !k->safe)
        goto finish;
    if (k->safe && k->attempts >= k->max_attempts)
        goto finish;
    if (k->deadline && now >= k->deadline)
        goto finish;
    if (k->pin == RPC_ENDPOINT_NONE &&
        rpc_pick_endpoint(c, k) != RPC_ENDPOINT_NONE) {
        rpc_attempt(k);
        return;
    }
    if (!k->safe)
        goto finish;
    due = now + rpc_backoff_ms(c, k->round++);
    if (k->deadline && due >= k->deadline)
        goto finish;
    k->tried = 0;
    rpc_park(k, due);
    return;
finish:
    rpc_finish_error(k);
}

static enum rpc_errclass
rpc_class_of(int err)
{
    if (err == KP_ETIMEOUT)
        return RPC_EC_TIMEOUT;
    if (err == KP_ELIMIT)
        return RPC_EC_LIMIT;
    return RPC_EC_TRANSPORT;
}

static void
rpc_on_transport_error(struct rpc_call *k, const struct http_reply *rep)
{
    struct rpc_client *c = k->c;
    enum rpc_errclass ec = rpc_class_of(rep->err);

    k->err = rep->err;
    if (ec == RPC_EC_LIMIT) {
        /* The endpoint works; the answer is too big anywhere. */
        rpc_set_text(k, "reply over %zu bytes", c->o.max_reply);
        rpc_endpoint_count_error(c, k->ep, ec);
        rpc_finish_error(k);
        return;
    }
    rpc_set_text(k, "%s: %s", rpc_errclass_name(ec), rep->errtext);
    rpc_endpoint_failed(c, k->ep, ec, k->text);
    rpc_after_failure(k, rep->sent);
}

static void
rpc_on_http_status(struct rpc_call *k, const struct http_reply *rep)
{
    struct rpc_client *c = k->c;
    struct rpc_reply_item ri;
    cJSON *doc = NULL;
    char ex[512];
    bool failover =
        rep->status >= 500 || rep->status == 429 || rep->status == 408;

    k->err = KP_EHTTP;
    /* Providers often explain a refusal in a JSON-RPC error body. */
    if (rpc_reply_parse(&doc, &ri, NULL, 0, rep->body, rep->body_len, k->id, 1,
                        false) == 0 &&
        ri.err == KP_ERPC) {
        rpc_set_text(k, "HTTP %ld: RPC error %lld: %s", rep->status,
                     (long long)ri.code, ri.message);
    } else {
        rpc_excerpt(ex, sizeof(ex), rep->body, rep->body_len);
        rpc_set_text(k, "HTTP %ld: %.120s", rep->status, ex);
    }
    cJSON_Delete(doc);
    if (failover) {
        rpc_endpoint_failed(c, k->ep, RPC_EC_HTTP, k->text);
        rpc_after_failure(k, true);
        return;
    }
    rpc_endpoint_count_error(c, k->ep, RPC_EC_HTTP);
    rpc_endpoint_answered(c, k->ep, rep->elapsed_us);
    rpc_finish_error(k);
}

/* The usual answer to a single call, {"jsonrpc":"2.0","id":ID,"result":R}
 * byte for byte as nodes print it, read without building cJSON objects
 * for the envelope: only R is parsed. Anything else - members in another
 * order, spaces, an error object - is left to rpc_reply_parse, which
 * accepts all that this accepts, with the same result.
 * Returns: R (free with cJSON_Delete), or NULL. */
static cJSON *
rpc_reply_fast(const char *body, size_t len, uint64_t id)
{
    static const char mid[] = ",\"result\":";
    const char *p = body, *end = body + len, *vend = NULL;
    char digits[20];
    size_t nd = rpc_u64_dec(digits, id);
    cJSON *v;

    if (len < sizeof(RPC_HEAD) - 1 + nd + sizeof(mid) - 1 + 2 ||
        memcmp(p, RPC_HEAD, sizeof(RPC_HEAD) - 1) != 0)
        return NULL;
    p += sizeof(RPC_HEAD) - 1;
    if (memcmp(p, digits, nd) != 0 || memcmp(p + nd, mid, sizeof(mid) - 1) != 0)
        return NULL;
    p += nd + sizeof(mid) - 1;
    v = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &vend, false);
    if (v && vend && vend > p && vend < end && *vend == '}' &&
        rpc_only_space(vend + 1, end))
        return v;
    cJSON_Delete(v);
    return NULL;
}

static void
rpc_on_http_body(struct rpc_call *k, const struct http_reply *rep)
{
    struct rpc_client *c = k->c;
    struct rpc_reply_item one = {0}, *items = k->n > 1 ? NULL : &one;
    cJSON *doc = NULL;
    char why[160] = "";

    if (!k->batch && (doc = rpc_reply_fast(rep->body, rep->body_len, k->id))) {
        one.result = doc;
        rpc_endpoint_answered(c, k->ep, rep->elapsed_us);
        rpc_deliver(k, items, why);
        cJSON_Delete(doc);
        return;
    }
    if (!items)
        items = kp_xcalloc(k->n, sizeof(*items));
    if (rpc_reply_parse(&doc, items, why, sizeof(why), rep->body, rep->body_len,
                        k->id, k->n, k->batch) != 0) {
        k->err = KP_EINVAL;
        rpc_set_text(k, "malformed reply: %s", why);
        rpc_endpoint_failed(c, k->ep, RPC_EC_MALFORMED, k->text);
        rpc_after_failure(k, true);
    } else {
        rpc_endpoint_answered(c, k->ep, rep->elapsed_us);
        rpc_deliver(k, items, why);
    }
    cJSON_Delete(doc);
    if (items != &one)
        free(items);
}

static void
rpc_on_http_done(void *arg, const struct http_reply *rep)
{
    struct rpc_call *k = arg;
    struct rpc_client *c = k->c;

    k->req = NULL;
    k->http_status = rep->status;
    rpc_enter(c);
    if (rep->err != 0)
        rpc_on_transport_error(k, rep);
    else if (rep->status < 200 || rep->status > 299)
        rpc_on_http_status(k, rep);
    else
        rpc_on_http_body(k, rep);
    rpc_leave(c);
}

/* ---- building calls ---- */

/* Append `n` bytes at `src` to `dst` + *off. */
static void
rpc_put(char *dst, size_t *off, const char *src, size_t n)
{
    memcpy(dst + *off, src, n);
    *off += n;
}

/* Append one call object. The caller sized `dst` with rpc_item_bytes,
 * which leaves room for the envelope and a 20-digit id. A hand-written
 * writer: snprintf alone cost more than the rest of building a call. */
static void
rpc_put_call(char *dst, size_t *off, uint64_t id, const char *method,
             const char *params)
{
    char digits[20];
    size_t nd = rpc_u64_dec(digits, id);

    rpc_put(dst, off, RPC_HEAD, sizeof(RPC_HEAD) - 1);
    rpc_put(dst, off, digits, nd);
    rpc_put(dst, off, ",\"method\":\"", 11);
    rpc_put(dst, off, method, strlen(method));
    rpc_put(dst, off, "\",\"params\":", 11);
    if (params)
        rpc_put(dst, off, params, strlen(params));
    else
        rpc_put(dst, off, "[]", 2);
    dst[(*off)++] = '}';
}

/* Build the body of a single call from the caller's params. */
static void
rpc_build_one(struct rpc_call *k, size_t bytes, const char *params)
{
    size_t off = 0;

    k->body = kp_xmalloc(bytes + 1);
    rpc_put_call(k->body, &off, k->id, k->one.method, params);
    assert(off <= bytes);
    k->body[off] = '\0';
    k->body_len = off;
}

/* Build a batch body from the items' params, then drop them. */
static void
rpc_build_batch(struct rpc_call *k, size_t bytes)
{
    size_t off = 0;

    k->body = kp_xmalloc(bytes + 3);
    k->body[off++] = '[';
    for (size_t i = 0; i < k->n; i++) {
        if (i)
            k->body[off++] = ',';
        rpc_put_call(k->body, &off, k->id + i, k->items[i].method,
                     k->items[i].params);
        free(k->items[i].params);
        k->items[i].params = NULL;
    }
    k->body[off++] = ']';
    assert(off <= bytes + 2);
    k->body[off] = '\0';
    k->body_len = off;
}

static bool
rpc_items_safe(const struct rpc_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!rpc_method_is_safe(items[i].method))
            return false;
    return true;
}

/* Fill in a new call `k` (items already set) and start its first
 * attempt; `params` is the body source of a single call, NULL for a
 * batch. */
static void
rpc_submit(struct rpc_client *c, struct rpc_call *k, size_t bytes,
           const char *params, const struct rpc_call_opts *o, size_t pin,
           bool internal)
{
    enum rpc_repeat rep = o ? o->repeat : RPC_REPEAT_DEFAULT;
    uint64_t now = rpc_now(c);

    k->c = c;
    k->id = c->next_id;
    c->next_id += k->n;
    k->pin = pin;
    k->internal = internal;
    k->safe = rep == RPC_REPEAT_SAFE ||
              (rep == RPC_REPEAT_DEFAULT && rpc_items_safe(k->items, k->n));
    k->max_attempts = k->safe ? c->o.max_attempts : 1;
    k->timeout_ms = o && o->timeout_ms ? o->timeout_ms : c->o.timeout_ms;
    k->deadline = o && o->deadline_ms ? now + o->deadline_ms : 0;
    k->t0_ns = uv_hrtime();
    k->ep = RPC_ENDPOINT_NONE;
    if (k->batch)
        rpc_build_batch(k, bytes);
    else
        rpc_build_one(k, bytes, params);
    rpc_call_link(c, k);
    rpc_attempt(k);
}

static int
rpc_check_submit(struct rpc_client *c, const struct rpc_call_opts *o,
                 bool internal)
{
    int rc;

    if (c->dead)
        return KP_ESTATE;
    if ((rc = rpc_call_opts_check(o)) != 0)
        return rc;
    if (!internal && c->nuser >= c->o.max_pending)
        return KP_ELIMIT;
    return 0;
}

static int
rpc_call_one(struct rpc_client *c, size_t pin, const char *method,
             const char *params, const struct rpc_call_opts *o, rpc_cb cb,
             void *arg, uint64_t *id, bool internal)
{
    struct rpc_call *k;
    size_t bytes;
    int rc;

    if (id)
        *id = 0;
    if ((rc = rpc_check_method(method)) != 0 ||
        (rc = rpc_check_params(params)) != 0 ||
        (rc = rpc_check_submit(c, o, internal)) != 0)
        return rc;
    if ((bytes = rpc_item_bytes(method, params)) > RPC_MAX_REQUEST)
        return KP_ELIMIT;
    k = kp_xcalloc(1, sizeof(*k));
    memcpy(k->one.method, method, strlen(method) + 1);
    k->one.cb = cb;
    k->one.arg = arg;
    k->items = &k->one;
    k->n = 1;
    rpc_submit(c, k, bytes, params, o, pin, internal);
    if (id)
        *id = k->id;
    return 0;
}

int
rpc_call(struct rpc_client *c, const char *method, const char *params_json,
         const struct rpc_call_opts *o, rpc_cb cb, void *arg, uint64_t *id)
{
    assert(c && method && cb);
    return rpc_call_one(c, RPC_ENDPOINT_NONE, method, params_json, o, cb, arg,
                        id, false);
}

int
rpc_call_at(struct rpc_client *c, size_t idx, const char *method,
            const char *params_json, const struct rpc_call_opts *o, rpc_cb cb,
            void *arg, uint64_t *id)
{
    assert(c && method && cb);
    if (id)
        *id = 0;
    if (idx >= c->neps)
        return KP_ERANGE;
    return rpc_call_one(c, idx, method, params_json, o, cb, arg, id, false);
}

int
rpc_cancel(struct rpc_client *c, uint64_t id)
{
    assert(c);
    for (struct rpc_call *k = c->calls; k; k = k->next) {
        if (k->id == id && !k->internal) {
            rpc_call_unlink(c, k);
            rpc_call_free(k);
            return 0;
        }
    }
    return KP_ENOTFOUND;
}

/* ---- batches ---- */

struct rpc_batch *
rpc_batch_new(struct rpc_client *c)
{
    struct rpc_batch *b = kp_xcalloc(1, sizeof(*b));

    assert(c);
    b->c = c;
    return b;
}

int
rpc_batch_add(struct rpc_batch *b, const char *method, const char *params_json,
              rpc_cb cb, void *arg)
{
    size_t bytes;
    int rc;

    assert(b && method && cb);
    if ((rc = rpc_check_method(method)) != 0 ||
        (rc = rpc_check_params(params_json)) != 0)
        return rc;
    bytes = rpc_item_bytes(method, params_json);
    if (b->n >= RPC_MAX_BATCH || bytes > RPC_MAX_REQUEST - b->bytes)
        return KP_ELIMIT;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->items = kp_xrealloc(b->items, b->cap * sizeof(*b->items));
    }
    b->items[b->n] = (struct rpc_item){
        .params = params_json ? kp_xstrdup(params_json) : NULL,
        .cb = cb,
        .arg = arg,
    };
    memcpy(b->items[b->n].method, method, strlen(method) + 1);
    b->n++;
    b->bytes += bytes;
    return 0;
}

void
rpc_batch_free(struct rpc_batch *b)
{
    if (!b)
        return;
    rpc_items_free(b->items, b->n);
    free(b);
}

int
rpc_batch_send(struct rpc_batch *b, const struct rpc_call_opts *o, uint64_t *id)
{
    struct rpc_call *k;
    int rc;

    assert(b);
    if (id)
        *id = 0;
    if (b->n == 0)
        rc = KP_EINVAL;
    else
        rc = rpc_check_submit(b->c, o, false);
    if (rc != 0) {
        rpc_batch_free(b);
        return rc;
    }
    k = kp_xcalloc(1, sizeof(*k));
    k->items = b->items;
    k->n = b->n;
    k->batch = true;
    rpc_submit(b->c, k, b->bytes, NULL, o, RPC_ENDPOINT_NONE, false);
    if (id)
        *id = k->id;
    free(b);
    return 0;
}

/* ---- head polling ---- */

static void
rpc_on_poll_reply(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct rpc_endpoint *e = arg;

    /* The head itself was learned in rpc_learn_head. */
    (void)result;
    (void)st;
    e->poll_inflight = false;
}

static void
rpc_on_poll_timer(uv_timer_t *t)
{
    struct rpc_client *c = t->data;

    rpc_refresh_flags(c);
    for (size_t i = 0; i < c->neps; i++) {
        struct rpc_endpoint *e = &c->eps[i];

        if (e->poll_inflight)
            continue;
        /* One try per tick: the next tick is the retry. */
        if (rpc_call_one(c, i, "eth_blockNumber", NULL,
                         &(struct rpc_call_opts){.repeat = RPC_REPEAT_UNSAFE},
                         rpc_on_poll_reply, e, NULL, true) == 0)
            e->poll_inflight = true;
    }
}

/* ---- client ---- */

int
rpc_client_new(struct rpc_client **out, uv_loop_t *loop,
               struct http_client *http, const struct rpc_endpoint_cfg *eps,
               size_t neps, const struct rpc_opts *o)
{
    struct rpc_client *c;
    struct rpc_opts opts;
    int rc;

    assert(out && loop && (eps || neps == 0));
    *out = NULL;
    if (neps == 0 || neps > RPC_MAX_ENDPOINTS)
        return KP_ERANGE;
    if (o)
        opts = *o;
    else
        rpc_opts_init(&opts);
    if ((rc = rpc_opts_check(&opts)) != 0)
        return rc;
    c = kp_xcalloc(1, sizeof(*c));
    c->o = opts;
    for (c->neps = 0; c->neps < neps; c->neps++) {
        if ((rc = rpc_endpoint_setup(&c->eps[c->neps], &eps[c->neps])) != 0) {
            while (c->neps > 0)
                rpc_endpoint_cleanup(&c->eps[--c->neps]);
            free(c);
            return rc;
        }
    }
    c->loop = loop;
    c->next_id = 1;
    c->rng = opts.seed ? opts.seed : uv_hrtime() ^ ((uint64_t)getpid() << 32);
    c->own_http = !http;
    if (c->own_http)
        http_client_new(&c->http, loop);
    else
        c->http = http;
    uv_timer_init(loop, &c->retry_timer);
    uv_timer_init(loop, &c->poll_timer);
    c->retry_timer.data = c->poll_timer.data = c;
    c->open_handles = 2;
    if (opts.head_poll_ms)
        uv_timer_start(&c->poll_timer, rpc_on_poll_timer, 0, opts.head_poll_ms);
    *out = c;
    return 0;
}

static void
rpc_handle_closed(uv_handle_t *h)
{
    struct rpc_client *c = h->data;

    if (--c->open_handles > 0)
        return;
    for (size_t i = 0; i < c->neps; i++)
        rpc_endpoint_cleanup(&c->eps[i]);
    free(c);
}

static void
rpc_teardown(struct rpc_client *c)
{
    uv_close((uv_handle_t *)&c->retry_timer, rpc_handle_closed);
    uv_close((uv_handle_t *)&c->poll_timer, rpc_handle_closed);
}

void
rpc_client_free(struct rpc_client *c)
{
    if (!c || c->dead)
        return;
    c->dead = true;
    while (c->calls) {
        struct rpc_call *k = c->calls;

        rpc_call_unlink(c, k);
        rpc_call_free(k);
    }
    if (c->own_http)
        http_client_free(c->http);
    c->http = NULL;
    if (c->depth == 0)
        rpc_teardown(c);
}

const char *
rpc_last_error(const struct rpc_client *c)
{
    assert(c);
    return c->last_error;
}
