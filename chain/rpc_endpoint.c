/*
 * rpc_endpoint.c - endpoint health, selection and counters for rpc.c.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "chain/err.h"
#include "chain/rpc_int.h"

const double rpc_latency_bounds_ms[RPC_LAT_BUCKETS - 1] = {
    1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

/* Weight of a new latency sample in the moving average. */
#define RPC_EWMA_ALPHA 0.2

/* ---- setup ---- */

static bool
rpc_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= RPC_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
            return false;
    return true;
}

static bool
rpc_header_ok(const char *h)
{
    const char *colon = h ? strchr(h, ':') : NULL;

    return colon && colon != h && !strpbrk(h, "\r\n") && strlen(h) < 8192;
}

/* Keep the parts of the URL that may hold credentials, to scrub them from
 * any text that might echo them (error pages, curl messages). */
static void
rpc_collect_secrets(struct rpc_endpoint *e)
{
    static const CURLUPart parts[RPC_MAX_SECRETS] = {
        CURLUPART_USER,
        CURLUPART_PASSWORD,
        CURLUPART_PATH,
        CURLUPART_QUERY,
    };
    CURLU *u = curl_url();
    size_t n = 0;

    if (!u)
        abort(); /* allocation failure */
    if (curl_url_set(u, CURLUPART_URL, e->url, 0) == CURLUE_OK) {
        for (size_t i = 0; i < RPC_MAX_SECRETS; i++) {
            char *v = NULL;

            if (curl_url_get(u, parts[i], &v, 0) == CURLUE_OK && v &&
                strlen(v) >= 2)
                e->secrets[n++] = kp_xstrdup(v);
            curl_free(v);
        }
    }
    curl_url_cleanup(u);
}

static int
rpc_copy_headers(struct rpc_endpoint *e, const struct rpc_endpoint_cfg *cfg)
{
    if (cfg->nheaders >= HTTP_MAX_HEADERS || (cfg->nheaders && !cfg->headers))
        return KP_EINVAL;
    for (size_t i = 0; i < cfg->nheaders; i++)
        if (!rpc_header_ok(cfg->headers[i]))
            return KP_EINVAL;
    e->hdrs = kp_xcalloc(cfg->nheaders + 1, sizeof(char *));
    for (size_t i = 0; i < cfg->nheaders; i++)
        e->hdrs[i] = kp_xstrdup(cfg->headers[i]);
    e->hdrs[cfg->nheaders] = kp_xstrdup("Content-Type: application/json");
    e->nhdrs = cfg->nheaders + 1;
    return 0;
}

int
rpc_endpoint_setup(struct rpc_endpoint *e, const struct rpc_endpoint_cfg *cfg)
{
    int rc;

    memset(e, 0, sizeof(*e));
    if (!cfg->url)
        return KP_EINVAL;
    rc = http_url_display(e->st.name, sizeof(e->st.name), cfg->url);
    if (rc == KP_ERANGE)
        rc = KP_EINVAL; /* a host name too long to show */
    if (rc != 0)
        return rc;
    if (cfg->name) {
        if (!rpc_name_ok(cfg->name))
            return KP_EINVAL;
        snprintf(e->st.name, sizeof(e->st.name), "%s", cfg->name);
    }
    if ((rc = rpc_copy_headers(e, cfg)) != 0)
        return rc;
    e->url = kp_xstrdup(cfg->url);
    if (cfg->ca_file)
        e->ca_file = kp_xstrdup(cfg->ca_file);
    rpc_collect_secrets(e);
    return 0;
}

void
rpc_endpoint_cleanup(struct rpc_endpoint *e)
{
    if (e->url)
        kp_wipe(e->url, strlen(e->url));
    free(e->url);
    free(e->ca_file);
    for (size_t i = 0; i < e->nhdrs; i++) {
        kp_wipe(e->hdrs[i], strlen(e->hdrs[i]));
        free(e->hdrs[i]);
    }
    free(e->hdrs);
    for (size_t i = 0; i < RPC_MAX_SECRETS; i++) {
        if (e->secrets[i])
            kp_wipe(e->secrets[i], strlen(e->secrets[i]));
        free(e->secrets[i]);
    }
    memset(e, 0, sizeof(*e));
}

/* Replace every occurrence of `s` in `text` with "***". */
static void
rpc_scrub_one(char *text, size_t cap, const char *s)
{
    char out[1024];
    size_t o = 0, slen = strlen(s);
    const char *p = text;

    if (!strstr(text, s))
        return;
    while (*p && o + 4 < sizeof(out)) {
        if (!strncmp(p, s, slen)) {
            memcpy(out + o, "***", 3);
            o += 3;
            p += slen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    snprintf(text, cap, "%s", out);
}

void
rpc_scrub(const struct rpc_endpoint *e, char *text, size_t cap)
{
    for (size_t i = 0; i < RPC_MAX_SECRETS; i++)
        if (e->secrets[i])
            rpc_scrub_one(text, cap, e->secrets[i]);
}

/* ---- heads and flags ---- */

uint64_t
rpc_best_head(const struct rpc_client *c)
{
    uint64_t best = c->ext_head_known ? c->ext_head : 0;

    assert(c);
    for (size_t i = 0; i < c->neps; i++)
        if (c->eps[i].st.head_known && c->eps[i].st.head > best)
            best = c->eps[i].st.head;
    return best;
}

static bool
rpc_is_lagging(const struct rpc_client *c, const struct rpc_endpoint *e)
{
    return e->st.head_known && e->lag_ref > e->st.head &&
           e->lag_ref - e->st.head > c->o.max_lag_blocks;
}

static bool
rpc_is_down(const struct rpc_client *c, const struct rpc_endpoint *e,
            uint64_t now)
{
    return e->st.consecutive_failures >= c->o.fail_threshold &&
           now < e->down_until;
}

void
rpc_refresh_flags(struct rpc_client *c)
{
    uint64_t now = uv_now(c->loop);

    for (size_t i = 0; i < c->neps; i++) {
        c->eps[i].st.lagging = rpc_is_lagging(c, &c->eps[i]);
        c->eps[i].st.down = rpc_is_down(c, &c->eps[i], now);
    }
}

void
rpc_endpoint_set_head(struct rpc_client *c, size_t idx, uint64_t head,
                      uint64_t ref)
{
    assert(idx < c->neps);
    /* The latest value, not the maximum: a node that was reset or
     * reorganised to a lower height must not keep an old claim. */
    c->eps[idx].st.head = head;
    c->eps[idx].lag_ref = ref;
    c->eps[idx].st.head_known = true;
    rpc_refresh_flags(c);
}

int
rpc_report_head(struct rpc_client *c, size_t idx, uint64_t head)
{
    assert(c);
    if (idx == RPC_ENDPOINT_NONE) {
        c->ext_head = head;
        c->ext_head_known = true;
        rpc_refresh_flags(c);
        return 0;
    }
    if (idx >= c->neps)
        return KP_ERANGE;
    rpc_endpoint_set_head(c, idx, head, rpc_best_head(c));
    return 0;
}

/* ---- selection ---- */

/* 0: healthy; 1: failed recently, or rested and due for a probe;
 * 2: out of rotation (resting or lagging), last resort only. */
static int
rpc_tier(const struct rpc_client *c, const struct rpc_endpoint *e, uint64_t now)
{
    if (rpc_is_lagging(c, e) || rpc_is_down(c, e, now))
        return 2;
    return e->st.consecutive_failures > 0 ? 1 : 0;
}

size_t
rpc_pick_endpoint(struct rpc_client *c, const struct rpc_call *k)
{
    uint64_t now = uv_now(c->loop);
    int tiers[RPC_MAX_ENDPOINTS], top = 3;
    double fastest = 0;
    bool have = false;

    rpc_refresh_flags(c);
    if (k->pin != RPC_ENDPOINT_NONE)
        return k->pin;
    for (size_t i = 0; i < c->neps; i++) {
        tiers[i] =
            (k->tried & (1u << i)) ? 3 : rpc_tier(c, &c->eps[i], now);
        if (tiers[i] < top)
            top = tiers[i];
    }
    if (top == 3)
        return RPC_ENDPOINT_NONE;
    for (size_t i = 0; i < c->neps; i++) {
        double l = c->eps[i].st.latency_ewma_ms;

        if (tiers[i] == top && (!have || l < fastest)) {
            fastest = l;
            have = true;
        }
    }
    for (size_t i = 0; i < c->neps; i++)
        if (tiers[i] == top &&
            c->eps[i].st.latency_ewma_ms <= fastest + c->o.latency_tolerance_ms)
            return i;
    return RPC_ENDPOINT_NONE; /* not reached */
}

/* ---- counters ---- */

static void
rpc_record_latency(struct rpc_endpoint_stats *st, uint64_t us)
{
    double ms = (double)us / 1000.0;
    size_t b = 0;

    while (b < RPC_LAT_BUCKETS - 1 && ms > rpc_latency_bounds_ms[b])
        b++;
    st->latency_buckets[b]++;
    st->latency_sum_us += us;
    st->latency_count++;
    if (st->latency_count == 1)
        st->latency_ewma_ms = ms;
    else
        st->latency_ewma_ms += RPC_EWMA_ALPHA * (ms - st->latency_ewma_ms);
}

void
rpc_endpoint_answered(struct rpc_client *c, size_t idx, uint64_t us)
{
    struct rpc_endpoint *e = &c->eps[idx];

    e->st.successes++;
    e->st.consecutive_failures = 0;
    e->down_until = 0;
    e->st.down = false;
    rpc_record_latency(&e->st, us);
}

void
rpc_endpoint_count_error(struct rpc_client *c, size_t idx, enum rpc_errclass ec)
{
    assert(idx < c->neps && (unsigned)ec < RPC_EC_COUNT);
    c->eps[idx].st.errors[ec]++;
}

void
rpc_endpoint_failed(struct rpc_client *c, size_t idx, enum rpc_errclass ec,
                    const char *text)
{
    struct rpc_endpoint *e = &c->eps[idx];

    rpc_endpoint_count_error(c, idx, ec);
    snprintf(e->st.last_error, sizeof(e->st.last_error), "%s", text);
    if (e->st.consecutive_failures < UINT32_MAX)
        e->st.consecutive_failures++;
    if (e->st.consecutive_failures >= c->o.fail_threshold) {
        e->down_until = uv_now(c->loop) + c->o.down_ms;
        e->st.down = true;
    }
}

/* ---- public read access ---- */

size_t
rpc_endpoint_count(const struct rpc_client *c)
{
    assert(c);
    return c->neps;
}

const struct rpc_endpoint_stats *
rpc_endpoint_stats(const struct rpc_client *c, size_t idx)
{
    assert(c && idx < c->neps);
    return &c->eps[idx].st;
}

void
rpc_endpoint_foreach(const struct rpc_client *c,
                     void (*fn)(void *arg, size_t idx,
                                const struct rpc_endpoint_stats *st),
                     void *arg)
{
    assert(c && fn);
    for (size_t i = 0; i < c->neps; i++)
        fn(arg, i, &c->eps[i].st);
}
