/*
 * alert.c - conditions, channels and delivery: one FIFO per channel, one
 * request in flight per channel, retries on a per-channel uv timer.
 */
#include "keeper/alert.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/http.h"
#include "chain/keccak.h"
#include "keeper/alert_int.h"
#include "keeper/log.h"
#include "keeper/metrics.h"

#define MOD "alert"

#define DEF_MAX_ATTEMPTS 6u
#define DEF_BACKOFF_BASE_MS 2000u
#define DEF_BACKOFF_MAX_MS 60000u
#define DEF_GIVE_UP_MS 300000u
#define DEF_RATE_LIMITED_MS 30000u
#define DEF_TIMEOUT_MS 10000u
#define DEF_QUEUE_CAP 128u
#define MAX_ATTEMPTS_CAP 100u
#define QUEUE_CAP_MAX 100000u

#define REPLY_MAX (16u * 1024u) /* reply bodies are only quoted in logs */
#define REPLY_QUOTE_MAX 200     /* bytes of a reply quoted in a log line */
#define SOURCE_MAX 255

/* One delivery of one message to one channel. */
struct alert_item {
    struct alert_item *next;
    char *body; /* may hold a routing key: wiped when freed */
    size_t len;
    char *key;
    enum alert_status status;
    enum alert_severity sev;
    unsigned attempts;
    uint64_t first_ms; /* loop time of the first attempt */
};

struct alert_chan {
    struct alert_mgr *m;
    char name[CFG_NAME_MAX];
    enum cfg_channel_type type;
    char *url;         /* secret */
    char *routing_key; /* secret; PagerDuty only */
    enum alert_severity min;
    struct alert_item *head, *tail; /* head: the one being delivered */
    size_t n;
    struct http_request *req; /* in flight */
    bool waiting;             /* the timer runs until the next attempt */
    uv_timer_t timer;
    struct metric *sent[3]; /* by enum alert_status */
    struct metric *failures, *dropped;
};

struct alert_cond {
    char *key;
    char *summary; /* cleaned; the resolve repeats it */
    enum alert_severity sev;
    uint32_t open; /* bit i: open on channel i */
};

struct alert_mgr {
    uv_loop_t *loop;
    struct http_client *http;
    char protocol[CFG_NAME_MAX];
    char source[SOURCE_MAX + 1];
    struct alert_opts o; /* defaults filled in */
    uint64_t rng;
    struct alert_chan *ch;
    size_t nch;
    struct alert_cond *conds;
    size_t ncond, capcond;
    struct alert_stats st;
    int handles; /* timers not yet closed after free */
};

/* ---- small helpers ----------------------------------------------------- */

const char *
alert_severity_name(enum alert_severity s)
{
    switch (s) {
    case ALERT_INFO:
        return "info";
    case ALERT_WARNING:
        return "warning";
    case ALERT_ERROR:
        return "error";
    case ALERT_CRITICAL:
        return "critical";
    }
    return "unknown";
}

enum alert_severity
alert_severity_from_cfg(enum cfg_severity s)
{
    switch (s) {
    case CFG_SEVERITY_INFO:
        return ALERT_INFO;
    case CFG_SEVERITY_WARNING:
        return ALERT_WARNING;
    case CFG_SEVERITY_CRITICAL:
        return ALERT_CRITICAL;
    }
    return ALERT_CRITICAL;
}

static int64_t
real_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
free_secret(char *s)
{
    if (s) {
        kp_wipe(s, strlen(s));
        free(s);
    }
}

int
alert_dedup_key(char *out, size_t outcap, const char *protocol, const char *key)
{
    /* 238 + '~' + 16 hex = 255 */
    enum { HASH_HEX = 16, KEEP = ALERT_DEDUP_KEY_MAX - 1 - HASH_HEX };
    size_t pl, kl;
    uint8_t h[32];
    struct keccak256_ctx kc;

    assert(out && protocol && key);
    if (outcap < ALERT_DEDUP_KEY_MAX + 1)
        return KP_ERANGE;
    pl = strlen(protocol);
    kl = strlen(key);
    if (pl + 1 + kl <= ALERT_DEDUP_KEY_MAX) {
        snprintf(out, outcap, "%s/%s", protocol, key);
        return 0;
    }
    keccak256_init(&kc);
    keccak256_update(&kc, (const uint8_t *)protocol, pl);
    keccak256_update(&kc, (const uint8_t *)"/", 1);
    keccak256_update(&kc, (const uint8_t *)key, kl);
    keccak256_final(&kc, h);
    snprintf(out, outcap, "%s/%s", protocol, key);
    out[KEEP] = '~';
    for (size_t i = 0; i < HASH_HEX / 2; i++)
        snprintf(out + KEEP + 1 + 2 * i, 3, "%02x", h[i]);
    return 0;
}

/* ---- retry policy ------------------------------------------------------ */

static uint64_t
splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t
alert_backoff_ms(uint64_t *rng, uint32_t base_ms, uint32_t max_ms,
                 unsigned attempt)
{
    uint64_t d = base_ms, half;

    assert(rng && attempt >= 1);
    for (unsigned i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    half = d / 2;
    /* Jitter spreads the retries of many keepers after a shared outage. */
    return d - half + (half ? splitmix64(rng) % (half + 1) : 0);
}

enum alert_outcome
alert_classify(const struct http_reply *rep)
{
    assert(rep);
    if (rep->err != 0 || rep->status == 0)
        return ALERT_OUT_RETRY;
    if (rep->status >= 200 && rep->status < 300)
        return ALERT_OUT_DELIVERED;
    if (rep->status == 429)
        return ALERT_OUT_RATE_LIMITED;
    if (rep->status == 408 || rep->status >= 500)
        return ALERT_OUT_RETRY;
    return ALERT_OUT_PERMANENT;
}

/* ---- input checks ------------------------------------------------------ */

static int
check_key(const char *key)
{
    size_t n;

    if (!key || !*key)
        return KP_EINVAL;
    n = strnlen(key, ALERT_KEY_MAX + 1);
    if (n > ALERT_KEY_MAX)
        return KP_ERANGE;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
            return KP_EINVAL;
    return 0;
}

static int
check_details(const char *const *kv, size_t nkv)
{
    if (nkv % 2 != 0 || (nkv > 0 && !kv))
        return KP_EINVAL;
    if (nkv / 2 > ALERT_MAX_DETAILS)
        return KP_ERANGE;
    for (size_t i = 0; i < nkv; i += 2) {
        if (!kv[i] || !*kv[i] ||
            strnlen(kv[i], ALERT_DETAIL_KEY_MAX + 1) > ALERT_DETAIL_KEY_MAX)
            return KP_EINVAL;
        for (size_t j = 0; j < i; j += 2)
            if (strcmp(kv[i], kv[j]) == 0)
                return KP_EINVAL;
    }
    return 0;
}

static int
check_alert(const char *key, enum alert_severity sev, const char *summary,
            const char *const *kv, size_t nkv)
{
    int rc;

    if ((rc = check_key(key)) != 0)
        return rc;
    if (!summary || (unsigned)sev > ALERT_CRITICAL)
        return KP_EINVAL;
    return check_details(kv, nkv);
}

static bool
protocol_ok(const char *p)
{
    size_t n = p ? strnlen(p, ALERT_PROTOCOL_MAX + 1) : 0;

    if (n == 0 || n > ALERT_PROTOCOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
              p[i] == '_' || p[i] == '-'))
            return false;
    return true;
}

/* ---- queue ------------------------------------------------------------- */

static void
item_free(struct alert_item *it)
{
    if (!it)
        return;
    kp_wipe(it->body, it->len);
    free(it->body);
    free(it->key);
    free(it);
}

/* Who goes first when a queue is full: non-critical firing and notices,
 * then resolves (an incident left open pages again), critical last. */
static int
item_rank(const struct alert_item *it)
{
    if (it->sev == ALERT_CRITICAL && it->status != ALERT_RESOLVED)
        return 2;
    return it->status == ALERT_RESOLVED ? 1 : 0;
}

static void
count_dropped(struct alert_chan *c, const struct alert_item *it)
{
    c->m->st.dropped++;
    metric_inc(c->dropped);
    log_warn(MOD, "queue full, alert dropped", "channel", c->name, "key",
             it->key, "status", alert_status_name(it->status), "severity",
             alert_severity_name(it->sev));
}

/* Make room for `it` in a full queue: drop the oldest waiting item of
 * the lowest rank, `it` included (the head is being delivered and
 * stays). Returns: false if `it` itself was dropped (and freed). */
static bool
queue_make_room(struct alert_chan *c, struct alert_item *it)
{
    struct alert_item **victim = NULL, *v;

    for (struct alert_item **p = &c->head->next; *p; p = &(*p)->next)
        if (!victim || item_rank(*p) < item_rank(*victim))
            victim = p;
    if (!victim || item_rank(it) < item_rank(*victim)) {
        count_dropped(c, it);
        item_free(it);
        return false;
    }
    v = *victim;
    *victim = v->next;
    if (c->tail == v) {
        c->tail = c->head;
        while (c->tail->next)
            c->tail = c->tail->next;
    }
    c->n--;
    count_dropped(c, v);
    item_free(v);
    return true;
}

/* Remove the head (delivered, or given up on). */
static void
queue_pop(struct alert_chan *c)
{
    struct alert_item *it = c->head;

    c->head = it->next;
    if (!c->head)
        c->tail = NULL;
    c->n--;
    item_free(it);
}

/* ---- delivery ---------------------------------------------------------- */

static void chan_kick(struct alert_chan *c);
static void on_timer(uv_timer_t *t);

/* Copy `s` into a new string with each non-empty secret replaced. */
static char *
redact(const char *s, const char *const *secrets, size_t nsecrets)
{
    char *cur = kp_xstrdup(s);

    for (size_t i = 0; i < nsecrets; i++) {
        const char *sec = secrets[i], *p, *hit;
        size_t sl = sec ? strlen(sec) : 0, cl = strlen(cur), n = 0;
        char *next;

        if (sl == 0 || !strstr(cur, sec))
            continue;
        /* At most cl / sl hits, each replaced by 10 bytes. */
        next = kp_xmalloc(cl + (cl / sl) * 10 + 1);
        for (p = cur; (hit = strstr(p, sec)) != NULL; p = hit + sl) {
            memcpy(next + n, p, (size_t)(hit - p));
            n += (size_t)(hit - p);
            memcpy(next + n, "[redacted]", 10);
            n += 10;
        }
        strcpy(next + n, p);
        kp_wipe(cur, cl);
        free(cur);
        cur = next;
    }
    return cur;
}

/* A short, printable, secret-free quote of a reply body for a log line
 * (a server may echo the request, routing key included). */
static void
quote_reply(const struct alert_chan *c, const struct http_reply *rep, char *out,
            size_t cap)
{
    const char *path = c->url ? strstr(c->url, "://") : NULL;
    const char *secrets[3];
    char *clean, *red;
    size_t n = rep->body_len < REPLY_MAX ? rep->body_len : REPLY_MAX;

    path = path ? strchr(path + 3, '/') : NULL;
    secrets[0] = c->url;
    secrets[1] = c->routing_key;
    /* A bare "/" names nothing; a longer path carries the webhook token. */
    secrets[2] = path && strlen(path) > 1 ? path : NULL;
    clean = kp_xmalloc(3 * n + 1);
    alert_fmt_clean(clean, 3 * n + 1, rep->body ? rep->body : "", 3 * n, false);
    red = redact(clean, secrets, 3);
    alert_fmt_clean(out, cap, red,
                    cap - 1 < REPLY_QUOTE_MAX ? cap - 1 : REPLY_QUOTE_MAX,
                    false);
    kp_wipe(clean, strlen(clean));
    free(clean);
    free(red);
}

static void
deliver_done(struct alert_chan *c)
{
    struct alert_item *it = c->head;

    c->m->st.delivered++;
    metric_inc(c->sent[it->status]);
    log_debug(MOD, "alert delivered", "channel", c->name, "key", it->key,
              "status", alert_status_name(it->status),
              LOG_U64("attempts", it->attempts));
    queue_pop(c);
}

static void
deliver_failed(struct alert_chan *c, const char *why, long status,
               const char *detail)
{
    struct alert_item *it = c->head;

    c->m->st.failed++;
    metric_inc(c->failures);
    log_error(MOD, why, "channel", c->name, "key", it->key, "status",
              alert_status_name(it->status), LOG_I64("http_status", status),
              LOG_U64("attempts", it->attempts), "detail", detail);
    queue_pop(c);
}

/* The service's own Retry-After on a 429 or 503, in ms, kept within
 * [backoff_base_ms, backoff_max_ms]: a service that says when to come
 * back knows better than our guess, but "0" must not make us hammer it
 * and an hour must not stall the channel.
 * Returns: true when the reply carries one (*wait set). */
static bool
retry_after_wait(const struct alert_mgr *m, const struct http_reply *rep,
                 uint64_t *wait)
{
    uint64_t w;

    if (rep->err != 0 || (rep->status != 429 && rep->status != 503) ||
        rep->retry_after_s < 0)
        return false;
    w = (uint64_t)rep->retry_after_s * 1000u;
    if (w < m->o.backoff_base_ms)
        w = m->o.backoff_base_ms;
    if (w > m->o.backoff_max_ms)
        w = m->o.backoff_max_ms;
    *wait = w;
    return true;
}

/* Schedule the next attempt, or give up when the budget is spent.
 * Returns: true if a retry was scheduled. */
static bool
deliver_retry(struct alert_chan *c, bool rate_limited,
              const struct http_reply *rep, const char *detail)
{
    struct alert_mgr *m = c->m;
    struct alert_item *it = c->head;
    uint64_t wait, elapsed = uv_now(m->loop) - it->first_ms;
    bool told = retry_after_wait(m, rep, &wait);

    if (!told) {
        wait = alert_backoff_ms(&m->rng, m->o.backoff_base_ms,
                                m->o.backoff_max_ms, it->attempts);
        if (rate_limited && wait < m->o.rate_limited_ms)
            wait = m->o.rate_limited_ms;
    }
    if (it->attempts >= m->o.max_attempts || elapsed + wait > m->o.give_up_ms)
        return false;
    m->st.retries++;
    if (told)
        log_info(MOD, "alert service asked to retry later", "channel", c->name,
                 "key", it->key, LOG_I64("http_status", rep->status),
                 LOG_I64("retry_after_s", rep->retry_after_s),
                 LOG_U64("retry_in_ms", wait));
    log_warn(MOD, "alert delivery failed, will retry", "channel", c->name,
             "key", it->key, LOG_I64("http_status", rep->status),
             LOG_U64("attempt", it->attempts), LOG_U64("retry_in_ms", wait),
             "detail", detail);
    c->waiting = true;
    uv_timer_start(&c->timer, on_timer, wait, 0);
    return true;
}

static void
on_reply(void *arg, const struct http_reply *rep)
{
    struct alert_chan *c = arg;
    enum alert_outcome out = alert_classify(rep);
    char quote[REPLY_QUOTE_MAX + 1];
    const char *detail = rep->errtext;

    c->req = NULL;
    if (rep->err == 0) {
        quote_reply(c, rep, quote, sizeof(quote));
        detail = quote;
    }
    switch (out) {
    case ALERT_OUT_DELIVERED:
        deliver_done(c);
        break;
    case ALERT_OUT_PERMANENT:
        deliver_failed(c, "alert rejected, not retried", rep->status, detail);
        break;
    case ALERT_OUT_RETRY:
    case ALERT_OUT_RATE_LIMITED:
        if (deliver_retry(c, out == ALERT_OUT_RATE_LIMITED, rep, detail))
            return;
        deliver_failed(c, "alert delivery abandoned after retries", rep->status,
                       detail);
        break;
    }
    chan_kick(c);
}

static void
on_timer(uv_timer_t *t)
{
    struct alert_chan *c = t->data;

    c->waiting = false;
    chan_kick(c);
}

/* Start delivering the head of the queue unless busy. */
static void
chan_kick(struct alert_chan *c)
{
    static const char *const hdrs[] = {"Content-Type: application/json",
                                       "User-Agent: backstop-keeper"};
    struct alert_mgr *m = c->m;

    while (c->head && !c->req && !c->waiting) {
        struct alert_item *it = c->head;
        struct http_req_opts o = {
            .method = "POST",
            .url = c->url,
            .headers = hdrs,
            .nheaders = 2,
            .body = it->body,
            .body_len = it->len,
            .timeout_ms = m->o.timeout_ms,
            .max_reply = REPLY_MAX,
        };
        int rc;

        if (it->attempts++ == 0)
            it->first_ms = uv_now(m->loop);
        rc = http_request_start(m->http, &o, on_reply, c, &c->req);
        if (rc == 0)
            return;
        c->req = NULL;
        deliver_failed(c, "alert request not started", 0, kp_strerror(rc));
    }
}

/* ---- building and queueing messages ------------------------------------ */

static int
build_body(const struct alert_chan *c, const struct alert_event *ev,
           char **body, size_t *len)
{
    switch (c->type) {
    case CFG_CHANNEL_WEBHOOK:
        return alert_fmt_webhook(body, len, ev);
    case CFG_CHANNEL_SLACK:
        return alert_fmt_slack(body, len, ev);
    case CFG_CHANNEL_PAGERDUTY:
        return alert_fmt_pagerduty(body, len, ev, c->routing_key);
    }
    return KP_EINVAL;
}

static void
chan_enqueue(struct alert_chan *c, const struct alert_event *ev)
{
    struct alert_item *it = kp_xcalloc(1, sizeof(*it));

    if (build_body(c, ev, &it->body, &it->len) != 0) {
        free(it);
        return;
    }
    it->key = kp_xstrdup(ev->key);
    it->status = ev->status;
    it->sev = ev->sev;
    c->m->st.queued++;
    if (c->n >= c->m->o.queue_cap && !queue_make_room(c, it))
        return;
    if (c->tail)
        c->tail->next = it;
    else
        c->head = it;
    c->tail = it;
    c->n++;
    chan_kick(c);
}

static void
event_init(struct alert_mgr *m, struct alert_event *ev, char *dedup,
           enum alert_status st, const char *key, enum alert_severity sev,
           const char *summary)
{
    alert_dedup_key(dedup, ALERT_DEDUP_KEY_MAX + 1, m->protocol, key);
    *ev = (struct alert_event){
        .status = st,
        .sev = sev,
        .protocol = m->protocol,
        .source = m->source,
        .key = key,
        .dedup_key = dedup,
        .summary = summary,
        .ts_ms = m->o.now_ms(),
    };
}

/* ---- conditions -------------------------------------------------------- */

static struct alert_cond *
cond_find(const struct alert_mgr *m, const char *key)
{
    for (size_t i = 0; i < m->ncond; i++)
        if (strcmp(m->conds[i].key, key) == 0)
            return &m->conds[i];
    return NULL;
}

static struct alert_cond *
cond_add(struct alert_mgr *m, const char *key)
{
    struct alert_cond *k;

    if (m->ncond == m->capcond) {
        m->capcond = m->capcond ? 2 * m->capcond : 16;
        m->conds = kp_xrealloc(m->conds, m->capcond * sizeof(*m->conds));
    }
    k = &m->conds[m->ncond++];
    *k = (struct alert_cond){.key = kp_xstrdup(key)};
    return k;
}

static void
cond_remove(struct alert_mgr *m, struct alert_cond *k)
{
    free(k->key);
    free(k->summary);
    *k = m->conds[--m->ncond];
}

/* After a raise or a severity change, bring every channel in line with
 * the condition: open or update it where the severity passes the
 * channel's minimum, close it where it no longer does (see the header). */
static void
cond_sync(struct alert_mgr *m, struct alert_cond *k, const char *const *kv,
          size_t nkv)
{
    char dedup[ALERT_DEDUP_KEY_MAX + 1];
    struct alert_event fire, res;

    event_init(m, &fire, dedup, ALERT_FIRING, k->key, k->sev, k->summary);
    fire.kv = kv;
    fire.nkv = nkv;
    res = fire;
    res.status = ALERT_RESOLVED;
    for (size_t i = 0; i < m->nch; i++) {
        struct alert_chan *c = &m->ch[i];
        uint32_t bit = 1u << i;
        bool was = (k->open & bit) != 0;

        if (k->sev >= c->min) {
            chan_enqueue(c, &fire);
            k->open |= bit;
        } else if (was) {
            chan_enqueue(c, &res);
            k->open &= ~bit;
        }
    }
}

int
alert_raise(struct alert_mgr *m, const char *key, enum alert_severity sev,
            const char *summary, const char *const *kv, size_t nkv)
{
    struct alert_cond *k;
    int rc;

    assert(m);
    if ((rc = check_alert(key, sev, summary, kv, nkv)) != 0)
        return rc;
    k = cond_find(m, key);
    if (k && k->sev == sev)
        return 0;
    if (!k) {
        if (m->ncond >= ALERT_MAX_CONDITIONS) {
            log_error(MOD, "too many active conditions, alert not raised",
                      "key", key);
            return KP_ELIMIT;
        }
        k = cond_add(m, key);
        log_info(MOD, "condition raised", "key", key, "severity",
                 alert_severity_name(sev));
    } else {
        log_info(MOD, "condition severity changed", "key", key, "from",
                 alert_severity_name(k->sev), "to", alert_severity_name(sev));
    }
    k->sev = sev;
    free(k->summary);
    k->summary = kp_xmalloc(ALERT_SUMMARY_MAX + 1);
    alert_fmt_clean(k->summary, ALERT_SUMMARY_MAX + 1, summary,
                    ALERT_SUMMARY_MAX, false);
    cond_sync(m, k, kv, nkv);
    return 0;
}

int
alert_clear(struct alert_mgr *m, const char *key)
{
    char dedup[ALERT_DEDUP_KEY_MAX + 1];
    struct alert_event res;
    struct alert_cond *k;
    int rc;

    assert(m);
    if ((rc = check_key(key)) != 0)
        return rc;
    if ((k = cond_find(m, key)) == NULL)
        return 0;
    log_info(MOD, "condition cleared", "key", key);
    event_init(m, &res, dedup, ALERT_RESOLVED, k->key, k->sev, k->summary);
    for (size_t i = 0; i < m->nch; i++)
        if (k->open & (1u << i))
            chan_enqueue(&m->ch[i], &res);
    cond_remove(m, k);
    return 0;
}

int
alert_notify(struct alert_mgr *m, const char *key, enum alert_severity sev,
             const char *summary, const char *const *kv, size_t nkv)
{
    char dedup[ALERT_DEDUP_KEY_MAX + 1];
    struct alert_event ev;
    int rc;

    assert(m);
    if ((rc = check_alert(key, sev, summary, kv, nkv)) != 0)
        return rc;
    event_init(m, &ev, dedup, ALERT_EVENT, key, sev, summary);
    ev.kv = kv;
    ev.nkv = nkv;
    for (size_t i = 0; i < m->nch; i++)
        if (sev >= m->ch[i].min)
            chan_enqueue(&m->ch[i], &ev);
    return 0;
}

bool
alert_is_active(const struct alert_mgr *m, const char *key)
{
    assert(m);
    return check_key(key) == 0 && cond_find(m, key) != NULL;
}

size_t
alert_mgr_pending(const struct alert_mgr *m)
{
    size_t n = 0;

    assert(m);
    for (size_t i = 0; i < m->nch; i++)
        n += m->ch[i].n;
    return n;
}

void
alert_mgr_stats(const struct alert_mgr *m, struct alert_stats *st)
{
    assert(m && st);
    *st = m->st;
    st->active = m->ncond;
}

/* ---- construction ------------------------------------------------------ */

static int
opts_fill(struct alert_opts *o, const struct alert_opts *in)
{
    *o = *in;
    if (!o->max_attempts)
        o->max_attempts = DEF_MAX_ATTEMPTS;
    if (!o->backoff_base_ms)
        o->backoff_base_ms = DEF_BACKOFF_BASE_MS;
    if (!o->backoff_max_ms)
        o->backoff_max_ms = DEF_BACKOFF_MAX_MS;
    if (!o->give_up_ms)
        o->give_up_ms = DEF_GIVE_UP_MS;
    if (!o->rate_limited_ms)
        o->rate_limited_ms = DEF_RATE_LIMITED_MS;
    if (!o->timeout_ms)
        o->timeout_ms = DEF_TIMEOUT_MS;
    if (!o->queue_cap)
        o->queue_cap = DEF_QUEUE_CAP;
    if (!o->now_ms)
        o->now_ms = real_now_ms;
    if (o->max_attempts > MAX_ATTEMPTS_CAP || o->queue_cap < 2 ||
        o->queue_cap > QUEUE_CAP_MAX ||
        o->backoff_max_ms < o->backoff_base_ms ||
        o->timeout_ms > HTTP_MAX_TIMEOUT_MS)
        return KP_EINVAL;
    return 0;
}

static int
channel_check(const struct cfg_channel *ch)
{
    char disp[256];
    const char *url = ch->url.value;
    int rc = 0;

    if (!ch->name[0] || memchr(ch->name, '\0', CFG_NAME_MAX) == NULL)
        return KP_EINVAL;
    if (ch->type == CFG_CHANNEL_PAGERDUTY && !url[0])
        url = ALERT_PAGERDUTY_URL;
    if ((unsigned)ch->type > CFG_CHANNEL_PAGERDUTY || !url[0] ||
        http_url_display(disp, sizeof(disp), url) == KP_EINVAL)
        rc = KP_EINVAL;
    else if (ch->type == CFG_CHANNEL_PAGERDUTY && !ch->routing_key.value[0])
        rc = KP_EINVAL;
    if (rc != 0)
        log_error(MOD,
                  "alert channel unusable (URL or routing key missing "
                  "or malformed)",
                  "channel", ch->name);
    return rc;
}

static int
chan_metrics(struct alert_chan *c, struct metrics *reg)
{
    static const enum alert_status sts[] = {ALERT_FIRING, ALERT_RESOLVED,
                                            ALERT_EVENT};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < 3; i++)
        rc = metrics_series(reg, &c->sent[sts[i]], ALERT_METRIC_SENT_TOTAL,
                            METRIC_LABELS(c->name, alert_status_name(sts[i])));
    if (rc == 0)
        rc = metrics_series(reg, &c->failures, ALERT_METRIC_FAILURES_TOTAL,
                            METRIC_LABELS(c->name));
    if (rc == 0)
        rc = metrics_series(reg, &c->dropped, ALERT_METRIC_DROPPED_TOTAL,
                            METRIC_LABELS(c->name));
    return rc;
}

static int
define_metrics(struct metrics *reg)
{
    static const struct metric_desc d[] = {
        {.name = ALERT_METRIC_SENT_TOTAL,
         .help = "Alert messages delivered, by channel and status (firing, "
                 "resolved, event).",
         .type = METRIC_TYPE_COUNTER,
         .label_names = {"channel", "status"},
         .nlabels = 2},
        {.name = ALERT_METRIC_FAILURES_TOTAL,
         .help = "Alert deliveries abandoned (permanent error or retries "
                 "exhausted), by channel.",
         .type = METRIC_TYPE_COUNTER,
         .label_names = {"channel"},
         .nlabels = 1},
        {.name = ALERT_METRIC_DROPPED_TOTAL,
         .help = "Alert messages dropped because the channel queue was "
                 "full, by channel.",
         .type = METRIC_TYPE_COUNTER,
         .label_names = {"channel"},
         .nlabels = 1},
    };
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(d) / sizeof(d[0]); i++)
        rc = metrics_define(reg, &d[i]);
    return rc;
}

static void
source_default(char *out, const char *given)
{
    char host[256] = "";

    if (!given) {
        if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
            strcpy(host, "backstop-keeper");
        given = host;
    }
    alert_fmt_clean(out, SOURCE_MAX + 1, given, SOURCE_MAX, false);
}

static void
chan_init(struct alert_mgr *m, struct alert_chan *c,
          const struct cfg_channel *ch)
{
    c->m = m;
    memcpy(c->name, ch->name, sizeof(c->name));
    c->type = ch->type;
    c->url = kp_xstrdup(ch->url.value[0] ? ch->url.value : ALERT_PAGERDUTY_URL);
    if (ch->type == CFG_CHANNEL_PAGERDUTY)
        c->routing_key = kp_xstrdup(ch->routing_key.value);
    c->min = alert_severity_from_cfg(ch->min_severity);
}

static void mgr_release(struct alert_mgr *m);

int
alert_mgr_new(struct alert_mgr **out, uv_loop_t *loop, struct metrics *reg,
              const struct alert_opts *o, const struct cfg_channel *ch,
              size_t nch)
{
    struct alert_mgr *m;
    struct alert_opts op;
    int rc;

    assert(out && loop && o && (ch || nch == 0));
    *out = NULL;
    if (!protocol_ok(o->protocol) || opts_fill(&op, o) != 0)
        return KP_EINVAL;
    if (nch > ALERT_MAX_CHANNELS)
        return KP_ERANGE;
    for (size_t i = 0; i < nch; i++)
        if ((rc = channel_check(&ch[i])) != 0)
            return rc;
    if (reg && (rc = define_metrics(reg)) != 0)
        return rc;
    m = kp_xcalloc(1, sizeof(*m));
    m->loop = loop;
    m->o = op;
    snprintf(m->protocol, sizeof(m->protocol), "%s", o->protocol);
    source_default(m->source, o->source);
    m->rng = op.seed ? op.seed : uv_hrtime() ^ ((uint64_t)getpid() << 32);
    m->ch = kp_xcalloc(nch ? nch : 1, sizeof(*m->ch));
    m->nch = nch;
    for (size_t i = 0; i < nch; i++) {
        chan_init(m, &m->ch[i], &ch[i]);
        if (reg && (rc = chan_metrics(&m->ch[i], reg)) != 0) {
            mgr_release(m);
            free(m->ch);
            free(m);
            return rc;
        }
    }
    http_client_new(&m->http, loop);
    for (size_t i = 0; i < nch; i++) {
        uv_timer_init(loop, &m->ch[i].timer);
        m->ch[i].timer.data = &m->ch[i];
    }
    *out = m;
    return 0;
}

/* ---- teardown ---------------------------------------------------------- */

/* Wipe the secrets and free everything but the uv handles. */
static void
mgr_release(struct alert_mgr *m)
{
    for (size_t i = 0; i < m->nch; i++) {
        struct alert_chan *c = &m->ch[i];

        while (c->head)
            queue_pop(c);
        free_secret(c->url);
        free_secret(c->routing_key);
        c->url = c->routing_key = NULL;
    }
    while (m->ncond > 0)
        cond_remove(m, &m->conds[m->ncond - 1]);
    free(m->conds);
    m->conds = NULL;
}

static void
on_timer_closed(uv_handle_t *h)
{
    struct alert_chan *c = h->data;
    struct alert_mgr *m = c->m;

    if (--m->handles == 0) {
        free(m->ch);
        free(m);
    }
}

void
alert_mgr_free(struct alert_mgr *m)
{
    if (!m)
        return;
    /* Cancels the requests in flight; their callbacks never run. */
    http_client_free(m->http);
    m->http = NULL;
    mgr_release(m);
    if (m->nch == 0) {
        free(m->ch);
        free(m);
        return;
    }
    m->handles = (int)m->nch;
    for (size_t i = 0; i < m->nch; i++) {
        uv_timer_stop(&m->ch[i].timer);
        uv_close((uv_handle_t *)&m->ch[i].timer, on_timer_closed);
    }
}
