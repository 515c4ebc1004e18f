/*
 * rpc_reply.c - JSON-RPC 2.0 reply parsing and small helpers, no I/O
 * (kept apart so that the fuzzer can drive it directly).
 */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/rpc.h"
#include "chain/rpc_int.h"

/* JSON numbers are doubles in cJSON: integers are exact up to 2^53. */
#define RPC_EXACT_INT 9007199254740992.0

static int
rpc_reply_fail(char *errbuf, size_t errcap, const char *fmt, ...)
{
    va_list ap;

    if (errcap) {
        va_start(ap, fmt);
        vsnprintf(errbuf, errcap, fmt, ap);
        va_end(ap);
    }
    return KP_EINVAL;
}

static bool
rpc_json_is_int(const cJSON *v, double *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > RPC_EXACT_INT)
        return false;
    *out = d;
    return true;
}

/* Fill `it` from an error object. */
static int
rpc_parse_error_obj(const cJSON *e, struct rpc_reply_item *it)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    double d;

    if (!cJSON_IsObject(e) || !rpc_json_is_int(code, &d))
        return KP_EINVAL;
    if (msg && !cJSON_IsString(msg))
        return KP_EINVAL;
    memset(it, 0, sizeof(*it));
    it->err = KP_ERPC;
    it->code = (int64_t)d;
    it->message = msg ? msg->valuestring : "";
    it->data = cJSON_GetObjectItemCaseSensitive(e, "data");
    return 0;
}

/* Parse one reply object (id not checked here). */
static int
rpc_parse_one(const cJSON *o, struct rpc_reply_item *it, const char **why)
{
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "jsonrpc");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");

    if (!cJSON_IsObject(o))
        return *why = "reply is not an object", KP_EINVAL;
    /* Some servers omit "jsonrpc"; a wrong one is still an error. */
    if (ver && !(cJSON_IsString(ver) && !strcmp(ver->valuestring, "2.0")))
        return *why = "reply has a wrong jsonrpc version", KP_EINVAL;
    if (!res == !err)
        return *why = "reply needs exactly one of result and error", KP_EINVAL;
    if (err) {
        if (rpc_parse_error_obj(err, it) != 0)
            return *why = "reply has a malformed error object", KP_EINVAL;
        return 0;
    }
    memset(it, 0, sizeof(*it));
    it->result = res;
    return 0;
}

/* Returns: the index of `idv` within first_id..first_id+n-1, or -1. */
static long
rpc_id_index(const cJSON *idv, uint64_t first_id, size_t n)
{
    double d;

    if (!rpc_json_is_int(idv, &d) || d < (double)first_id)
        return -1;
    if (d - (double)first_id >= (double)n)
        return -1;
    return (long)(d - (double)first_id);
}

static int
rpc_parse_single(const cJSON *root, struct rpc_reply_item *it, char *errbuf,
                 size_t errcap, uint64_t id)
{
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(root, "id");
    const char *why = NULL;

    if (rpc_parse_one(root, it, &why) != 0)
        return rpc_reply_fail(errbuf, errcap, "%s", why);
    /* An error about a request the server could not read carries id null. */
    if (cJSON_IsNull(idv) && it->err == KP_ERPC)
        return 0;
    if (rpc_id_index(idv, id, 1) != 0)
        return rpc_reply_fail(errbuf, errcap, "reply id does not match");
    return 0;
}

static void
rpc_batch_missing(struct rpc_reply_item *items, const bool *seen, char *errbuf,
                  size_t errcap, uint64_t first_id, size_t n)
{
    bool noted = false;

    for (size_t i = 0; i < n; i++) {
        if (seen[i])
            continue;
        memset(&items[i], 0, sizeof(items[i]));
        items[i].err = KP_EINVAL;
        if (!noted && errcap && !errbuf[0])
            snprintf(errbuf, errcap, "no valid reply for id %llu",
                     (unsigned long long)(first_id + i));
        noted = true;
    }
}

static int
rpc_parse_batch(const cJSON *root, struct rpc_reply_item *items, char *errbuf,
                size_t errcap, uint64_t first_id, size_t n)
{
    bool seen[RPC_MAX_BATCH] = {false};
    const cJSON *el;
    struct rpc_reply_item one;

    if (cJSON_IsObject(root)) {
        /* A rejected batch is answered with a single error object. */
        const char *why = NULL;

        if (rpc_parse_one(root, &one, &why) != 0 || one.err != KP_ERPC)
            return rpc_reply_fail(errbuf, errcap, "batch reply is %s",
                                  why ? why : "a single result");
        for (size_t i = 0; i < n; i++)
            items[i] = one;
        return 0;
    }
    if (!cJSON_IsArray(root))
        return rpc_reply_fail(errbuf, errcap, "batch reply is not an array");
    cJSON_ArrayForEach(el, root)
    {
        const char *why = NULL;
        long i = rpc_id_index(cJSON_GetObjectItemCaseSensitive(el, "id"),
                              first_id, n);

        /* Unknown ids and duplicates are skipped: the first answer wins. */
        if (i < 0 || seen[i])
            continue;
        if (rpc_parse_one(el, &items[i], &why) != 0) {
            if (errcap && !errbuf[0])
                snprintf(errbuf, errcap, "%s", why);
            continue;
        }
        seen[i] = true;
    }
    rpc_batch_missing(items, seen, errbuf, errcap, first_id, n);
    return 0;
}

bool
rpc_only_space(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!isspace((unsigned char)*p))
            return false;
    return true;
}

int
rpc_reply_parse(cJSON **doc, struct rpc_reply_item *items, char *errbuf,
                size_t errcap, const char *body, size_t len, uint64_t first_id,
                size_t n, bool batch)
{
    const char *end = NULL;
    cJSON *root;
    int rc;

    assert(doc && items && (body || len == 0) && (errbuf || errcap == 0));
    assert(n >= 1 && n <= RPC_MAX_BATCH && (batch || n == 1));
    *doc = NULL;
    if (errcap)
        errbuf[0] = '\0';
    if (len == 0)
        return rpc_reply_fail(errbuf, errcap, "empty reply");
    root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!root)
        return rpc_reply_fail(errbuf, errcap, "reply is not JSON");
    if (!end || end < body || end > body + len ||
        !rpc_only_space(end, body + len)) {
        cJSON_Delete(root);
        return rpc_reply_fail(errbuf, errcap, "trailing bytes after reply");
    }
    if (batch)
        rc = rpc_parse_batch(root, items, errbuf, errcap, first_id, n);
    else
        rc = rpc_parse_single(root, items, errbuf, errcap, first_id);
    if (rc != 0) {
        cJSON_Delete(root);
        return rc;
    }
    *doc = root;
    return 0;
}

int
rpc_quantity_u64(const cJSON *v, uint64_t *out)
{
    const char *s;
    uint64_t x = 0;
    size_t n, sig = 0;

    assert(out);
    if (!cJSON_IsString(v) || !v->valuestring)
        return KP_EINVAL;
    s = v->valuestring;
    n = strlen(s);
    if (n < 3 || !hex_has_prefix(s, n))
        return KP_EINVAL;
    for (size_t j = 2; j < n; j++) {
        int d = hex_digit((unsigned char)s[j]);

        if (d < 0)
            return KP_EINVAL;
        if (sig > 0 || d != 0)
            sig++;
        if (sig > 16)
            return KP_ERANGE;
        x = (x << 4) | (uint64_t)d;
    }
    *out = x;
    return 0;
}

/* Reads that return the same answer for the same chain state: repeating
 * them cannot cause harm. */
static const char *const rpc_safe_methods[] = {
    "eth_blockNumber",
    "eth_call",
    "eth_chainId",
    "eth_estimateGas",
    "eth_feeHistory",
    "eth_gasPrice",
    "eth_getBalance",
    "eth_getBlockByHash",
    "eth_getBlockByNumber",
    "eth_getBlockReceipts",
    "eth_getCode",
    "eth_getLogs",
    "eth_getProof",
    "eth_getStorageAt",
    "eth_getTransactionByHash",
    "eth_getTransactionCount",
    "eth_getTransactionReceipt",
    "eth_maxPriorityFeePerGas",
    "eth_syncing",
    "net_version",
    "web3_clientVersion",
};

bool
rpc_method_is_safe(const char *method)
{
    assert(method);
    for (size_t i = 0; i < sizeof(rpc_safe_methods) / sizeof(*rpc_safe_methods);
         i++)
        if (!strcmp(method, rpc_safe_methods[i]))
            return true;
    return false;
}

const char *
rpc_errclass_name(enum rpc_errclass ec)
{
    static const char *const names[RPC_EC_COUNT] = {
        [RPC_EC_TRANSPORT] = "transport", [RPC_EC_TIMEOUT] = "timeout",
        [RPC_EC_HTTP] = "http",           [RPC_EC_RPC] = "rpc",
        [RPC_EC_MALFORMED] = "malformed", [RPC_EC_LIMIT] = "limit",
    };

    assert((unsigned)ec < RPC_EC_COUNT);
    return names[ec];
}
