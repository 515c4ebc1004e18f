/*
 * evlog.c - event logs, filters and their JSON (see evlog.h).
 */
#include "chain/evlog.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/rpc.h"

/* ---- members ----------------------------------------------------------- */

static int
ev_get_bytes(uint8_t *out, size_t n, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    size_t len;

    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return KP_EINVAL;
    len = strlen(v->valuestring);
    if (!hex_has_prefix(v->valuestring, len))
        return KP_EINVAL;
    return hex_decode_exact(out, n, v->valuestring, len);
}

static int
ev_get_u64(uint64_t *out, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (v == NULL)
        return KP_EINVAL;
    return rpc_quantity_u64(v, out);
}

static int
ev_get_topics(struct evlog *l, const cJSON *o)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "topics");
    const cJSON *t;
    size_t n = 0;
    int rc;

    if (!cJSON_IsArray(arr))
        return KP_EINVAL;
    cJSON_ArrayForEach(t, arr)
    {
        size_t len;

        if (n == EVLOG_MAX_TOPICS)
            return KP_ELIMIT;
        if (!cJSON_IsString(t) || t->valuestring == NULL)
            return KP_EINVAL;
        len = strlen(t->valuestring);
        if (!hex_has_prefix(t->valuestring, len))
            return KP_EINVAL;
        if ((rc = hex_decode_exact(l->topics[n], 32, t->valuestring, len)) != 0)
            return rc;
        n++;
    }
    l->ntopics = (uint8_t)n;
    return 0;
}

static int
ev_get_data(struct evlog *l, uint8_t *buf, size_t cap, const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "data");
    size_t len, n;
    int rc;

    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return KP_EINVAL;
    len = strlen(v->valuestring);
    if (!hex_has_prefix(v->valuestring, len) || len % 2 != 0)
        return KP_EINVAL;
    if ((len - 2) / 2 > cap)
        return KP_ELIMIT;
    if ((rc = hex_decode(buf, cap, &n, v->valuestring, len)) != 0)
        return rc;
    l->data = buf;
    l->data_len = n;
    return 0;
}

int
evlog_parse(struct evlog *out, uint8_t *buf, size_t cap, bool *removed,
            const cJSON *o)
{
    const cJSON *rm;
    int rc;

    assert(out != NULL && (buf != NULL || cap == 0));
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(o))
        return KP_EINVAL;
    if ((rc = ev_get_bytes(out->address.b, 20, o, "address")) != 0 ||
        (rc = ev_get_topics(out, o)) != 0 ||
        (rc = ev_get_data(out, buf, cap, o)) != 0 ||
        (rc = ev_get_u64(&out->block_number, o, "blockNumber")) != 0 ||
        (rc = ev_get_bytes(out->block_hash, 32, o, "blockHash")) != 0 ||
        (rc = ev_get_bytes(out->tx_hash, 32, o, "transactionHash")) != 0 ||
        (rc = ev_get_u64(&out->tx_index, o, "transactionIndex")) != 0 ||
        (rc = ev_get_u64(&out->log_index, o, "logIndex")) != 0)
        return rc;
    rm = cJSON_GetObjectItemCaseSensitive(o, "removed");
    if (rm != NULL && !cJSON_IsBool(rm))
        return KP_EINVAL;
    if (removed != NULL)
        *removed = cJSON_IsTrue(rm);
    return 0;
}

int
evlog_parse_header(struct blocktrack_hdr *out, const cJSON *o)
{
    int rc;

    assert(out != NULL);
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(o))
        return KP_EINVAL;
    if ((rc = ev_get_u64(&out->number, o, "number")) != 0 ||
        (rc = ev_get_bytes(out->hash, 32, o, "hash")) != 0 ||
        (rc = ev_get_bytes(out->parent, 32, o, "parentHash")) != 0 ||
        (rc = ev_get_u64(&out->timestamp, o, "timestamp")) != 0)
        return rc;
    return 0;
}

/* ---- WebSocket messages ------------------------------------------------ */

static int
ev_copy_str(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (n >= cap)
        return KP_ELIMIT;
    memcpy(out, s, n + 1);
    return 0;
}

static int
ev_msg_reply(struct evlog_msg *m, const cJSON *doc, const cJSON *id)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");

    /* Our ids are small integers; anything else is not ours. */
    if (!cJSON_IsNumber(id) || id->valuedouble < 0 ||
        id->valuedouble > 9007199254740992.0 ||
        (double)(uint64_t)id->valuedouble != id->valuedouble)
        return KP_EINVAL;
    m->kind = EVLOG_MSG_REPLY;
    m->id = (uint64_t)id->valuedouble;
    if (err != NULL) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");

        if (!cJSON_IsObject(err))
            return KP_EINVAL;
        m->is_error = true;
        if (cJSON_IsNumber(code) && code->valuedouble > -9.2e18 &&
            code->valuedouble < 9.2e18)
            m->err_code = (int64_t)code->valuedouble;
        if (cJSON_IsString(msg) && msg->valuestring != NULL)
            snprintf(m->text, sizeof(m->text), "%s", msg->valuestring);
        return 0;
    }
    if (res == NULL)
        return KP_EINVAL;
    if (cJSON_IsString(res) && res->valuestring != NULL)
        return ev_copy_str(m->text, sizeof(m->text), res->valuestring);
    return 0;
}

static int
ev_msg_notification(struct evlog_msg *m, uint8_t *buf, size_t cap,
                    const cJSON *doc)
{
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "params");
    const cJSON *sub, *res;
    int rc;

    if (!cJSON_IsObject(params))
        return KP_EINVAL;
    sub = cJSON_GetObjectItemCaseSensitive(params, "subscription");
    res = cJSON_GetObjectItemCaseSensitive(params, "result");
    if (!cJSON_IsString(sub) || sub->valuestring == NULL ||
        !cJSON_IsObject(res))
        return KP_EINVAL;
    if ((rc = ev_copy_str(m->sub, sizeof(m->sub), sub->valuestring)) != 0)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(res, "logIndex") != NULL) {
        m->kind = EVLOG_MSG_LOG;
        return evlog_parse(&m->log, buf, cap, &m->removed, res);
    }
    m->kind = EVLOG_MSG_HEAD;
    return evlog_parse_header(&m->head, res);
}

int
evlog_msg_parse(struct evlog_msg *m, uint8_t *buf, size_t cap, const char *text,
                size_t len)
{
    cJSON *doc;
    const cJSON *method, *id;
    int rc = KP_EINVAL;

    assert(m != NULL && (text != NULL || len == 0));
    memset(m, 0, sizeof(*m));
    if (len == 0 || (doc = cJSON_ParseWithLength(text, len)) == NULL)
        return KP_EINVAL;
    method = cJSON_GetObjectItemCaseSensitive(doc, "method");
    id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (!cJSON_IsObject(doc)) {
        rc = KP_EINVAL;
    } else if (cJSON_IsString(method) && method->valuestring != NULL &&
               strcmp(method->valuestring, "eth_subscription") == 0) {
        rc = ev_msg_notification(m, buf, cap, doc);
    } else if (method == NULL && id != NULL) {
        rc = ev_msg_reply(m, doc, id);
    }
    cJSON_Delete(doc);
    return rc;
}

/* ---- filters ----------------------------------------------------------- */

bool
evlog_filter_is_valid(const struct evlog_filter *f)
{
    if (f == NULL || f->naddrs > EVLOG_MAX_ADDRS)
        return false;
    for (size_t i = 0; i < EVLOG_MAX_TOPICS; i++)
        if (f->nalts[i] > EVLOG_MAX_ALTS)
            return false;
    return true;
}

/* Returns: one past the last constrained topic position. */
static size_t
ev_filter_depth(const struct evlog_filter *f)
{
    size_t d = 0;

    for (size_t i = 0; i < EVLOG_MAX_TOPICS; i++)
        if (f->nalts[i] > 0)
            d = i + 1;
    return d;
}

bool
evlog_filter_match(const struct evlog_filter *f, const struct evlog *l)
{
    bool ok = f->naddrs == 0;

    assert(evlog_filter_is_valid(f));
    for (size_t i = 0; i < f->naddrs && !ok; i++)
        ok = memcmp(f->addrs[i].b, l->address.b, 20) == 0;
    if (!ok || l->ntopics < ev_filter_depth(f))
        return false;
    for (size_t p = 0; p < EVLOG_MAX_TOPICS; p++) {
        bool hit = f->nalts[p] == 0;

        for (size_t a = 0; a < f->nalts[p] && !hit; a++)
            hit = memcmp(f->topics[p][a], l->topics[p], 32) == 0;
        if (!hit)
            return false;
    }
    return true;
}

struct ev_out {
    char *p;
    size_t cap, len;
    bool full;
};

static void
ev_put(struct ev_out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = true;
    else
        o->len += (size_t)n;
}

static void
ev_put_hex(struct ev_out *o, const uint8_t *b, size_t n)
{
    char hex[67];

    hex_encode(hex, sizeof(hex), b, n, true);
    ev_put(o, "\"%s\"", hex);
}

static void
ev_put_topics(struct ev_out *o, const struct evlog_filter *f, size_t depth)
{
    ev_put(o, "\"topics\":[");
    for (size_t p = 0; p < depth; p++) {
        if (p > 0)
            ev_put(o, ",");
        if (f->nalts[p] == 0) {
            ev_put(o, "null");
            continue;
        }
        ev_put(o, "[");
        for (size_t a = 0; a < f->nalts[p]; a++) {
            if (a > 0)
                ev_put(o, ",");
            ev_put_hex(o, f->topics[p][a], 32);
        }
        ev_put(o, "]");
    }
    ev_put(o, "]");
}

int
evlog_filter_json(char *out, size_t cap, const struct evlog_filter *f,
                  const char *extra)
{
    struct ev_out o = {.p = out, .cap = cap};
    size_t depth;
    bool sep = false;

    assert(out != NULL && cap > 0);
    if (!evlog_filter_is_valid(f))
        return KP_EINVAL;
    depth = ev_filter_depth(f);
    ev_put(&o, "{");
    if (f->naddrs > 0) {
        ev_put(&o, "\"address\":[");
        for (size_t i = 0; i < f->naddrs; i++) {
            if (i > 0)
                ev_put(&o, ",");
            ev_put_hex(&o, f->addrs[i].b, 20);
        }
        ev_put(&o, "]");
        sep = true;
    }
    if (depth > 0) {
        ev_put(&o, sep ? "," : "");
        ev_put_topics(&o, f, depth);
        sep = true;
    }
    if (extra != NULL && extra[0] != '\0')
        ev_put(&o, "%s%s", sep ? "," : "", extra);
    ev_put(&o, "}");
    if (o.full) {
        out[0] = '\0';
        return KP_ERANGE;
    }
    return 0;
}

bool
evlog_same(const struct evlog *a, const struct evlog *b)
{
    return a->log_index == b->log_index &&
           memcmp(a->block_hash, b->block_hash, 32) == 0;
}
