/* schema.c - the configuration schema: one table line per key, and the
 * cross-field rules that a single line cannot express. Adding a key is
 * a field in cfg.h, a line here and a row in docs/config.md. */
#include "config/cfg_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/err.h"

#define FSIZE(T, m) sizeof(((T *)0)->m)

#define KEY(T, m, name, type, flags, def, min, max)                            \
    {                                                                          \
        name, type, flags, offsetof(T, m), FSIZE(T, m), 0, 0, def, min, max,   \
            NULL                                                               \
    }
#define KEY_ENUM(T, m, name, flags, def, table)                                \
    {                                                                          \
        name, CT_ENUM, flags, offsetof(T, m), FSIZE(T, m), 0, 0, def, NULL,    \
            NULL, table                                                        \
    }
#define KEY_SECTION(T, m, name, flags, schema)                                 \
    {                                                                          \
        name, CT_SECTION, flags, offsetof(T, m), FSIZE(T, m), 0, 0, NULL,      \
            NULL, NULL, &schema                                                \
    }
#define KEY_LIST(T, m, count, name, flags, min, schema)                        \
    {                                                                          \
        name, CT_LIST, flags, offsetof(T, m), FSIZE(T, m[0]),                  \
            offsetof(T, count), FSIZE(T, m) / FSIZE(T, m[0]), NULL, min, NULL, \
            &schema                                                            \
    }
#define SCHEMA(name, keys, check, is_set)                                      \
    {                                                                          \
        name, keys, sizeof(keys) / sizeof((keys)[0]), check, is_set            \
    }

#define REQ CF_REQUIRED

_Static_assert(sizeof(enum cfg_oracle_type) == sizeof(int) &&
                   sizeof(enum cfg_channel_type) == sizeof(int) &&
                   sizeof(enum cfg_severity) == sizeof(int) &&
                   sizeof(enum cfg_log_level) == sizeof(int) &&
                   sizeof(enum cfg_log_format) == sizeof(int),
               "CT_ENUM fields are stored as int");

static const struct cfg_enum oracle_types[] = {
    {"chainlink", CFG_ORACLE_CHAINLINK},
    {NULL, 0},
};

static const struct cfg_enum channel_types[] = {
    {"webhook", CFG_CHANNEL_WEBHOOK},
    {"slack", CFG_CHANNEL_SLACK},
    {"pagerduty", CFG_CHANNEL_PAGERDUTY},
    {NULL, 0},
};

static const struct cfg_enum severities[] = {
    {"info", CFG_SEVERITY_INFO},
    {"warning", CFG_SEVERITY_WARNING},
    {"critical", CFG_SEVERITY_CRITICAL},
    {NULL, 0},
};

static const struct cfg_enum log_levels[] = {
    {"debug", CFG_LOG_DEBUG},
    {"info", CFG_LOG_INFO},
    {"warn", CFG_LOG_WARN},
    {"error", CFG_LOG_ERROR},
    {NULL, 0},
};

static const struct cfg_enum log_formats[] = {
    {"text", CFG_LOG_TEXT},
    {"json", CFG_LOG_JSON},
    {NULL, 0},
};

#define PAGERDUTY_EVENTS_URL "https://events.pagerduty.com/v2/enqueue"

/* --- helpers for the rules --- */

/* Returns: whether key `name` is given in map with a non-null value. */
static bool
has(const struct ynode *map, const char *name)
{
    return !ynode_is_null(ynode_map_get(map, name, NULL));
}

/* Returns: the node of `name` in map (its value, else the map's owner). */
static const struct ynode *
at(const struct ynode *map, const char *name, const struct ynode *owner)
{
    const struct ynode *v = ynode_map_get(map, name, NULL);

    return v != NULL ? v : owner;
}

static bool
secret_is_set(const struct cfg_secret *s)
{
    return s->ref[0] != '\0' || s->value[0] != '\0';
}

/* Names of list entries, with the node to blame for each. */
struct named {
    const char *name;
    const struct ynode *node;
    const char *path; /* of the list */
    size_t index;
};

/* Report every name that repeats an earlier one. */
static void
check_unique(struct cfg_ctx *ctx, const struct named *v, size_t n,
             const char *what)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(v[i].name, v[j].name)) {
                cfg_ctx_error(ctx, v[i].node,
                              "%s[%zu].name: duplicate %s name '%s' (first "
                              "used by %s[%zu])",
                              v[i].path, v[i].index, what, v[i].name, v[j].path,
                              v[j].index);
                break;
            }
}

/* Collect the names of list `key` in map, whose entries are `size` bytes
 * apart with the name at offset 0. Returns: the new count in out. */
static size_t
collect_names(struct named *out, size_t n, const struct ynode *map,
              const char *key, const char *path, const void *base, size_t size,
              size_t count)
{
    const struct ynode *seq = ynode_map_get(map, key, NULL);

    for (size_t i = 0; i < count; i++) {
        /* No errors so far, so entry i came from item i. */
        const struct ynode *item = NULL;

        if (seq != NULL && seq->kind == YNODE_SEQ && i < seq->n)
            item = seq->kids[i];

        out[n].name = (const char *)base + i * size;
        out[n].node = at(item, "name", item);
        out[n].path = path;
        out[n].index = i;
        n++;
    }
    return n;
}

/* --- protocol --- */

static const struct cfg_key protocol_keys[] = {
    KEY(struct cfg_protocol, name, "name", CT_NAME, REQ, NULL, NULL, NULL),
    KEY(struct cfg_protocol, description, "description", CT_LABEL, 0, NULL,
        NULL, NULL),
};
static const struct cfg_schema protocol_schema =
    SCHEMA("protocol", protocol_keys, NULL, NULL);

/* --- chain --- */

/* A CA file larger than this is not a CA file (the whole system bundle
 * is a quarter of it). */
#define CA_FILE_MAX (1024 * 1024)

/* Check that the CA file `path` is a regular file the keeper can read
 * now, holding at least one PEM certificate: the TLS libraries find out
 * only when connecting, and then say little. */
static void
check_ca_readable(struct cfg_ctx *ctx, const struct ynode *at_node,
                  const char *path, const char *key)
{
    char *buf;
    size_t len;
    int rc = cfg_read_file(&buf, &len, path, CA_FILE_MAX);

    if (rc == KP_EIO)
        cfg_ctx_error(ctx, at_node, "%s: cannot read '%s': %s", key, path,
                      strerror(errno));
    else if (rc == KP_EINVAL)
        cfg_ctx_error(ctx, at_node, "%s: '%s' is not a regular file", key,
                      path);
    else if (rc == KP_ELIMIT)
        cfg_ctx_error(ctx, at_node,
                      "%s: '%s' is too large for a CA file (more than %d "
                      "bytes)",
                      key, path, CA_FILE_MAX);
    else if (!memmem(buf, len, "-----BEGIN CERTIFICATE-----", 27))
        cfg_ctx_error(ctx, at_node,
                      "%s: '%s' holds no PEM certificate (expected "
                      "'-----BEGIN CERTIFICATE-----')",
                      key, path);
    free(buf);
}

/* tls_ca_file applies to TLS URLs (`scheme`) only. A referenced URL is
 * not known with CFG_LOAD_NO_SECRETS, and neither is the file checked
 * then: like secrets, it belongs to the machine the keeper runs on. */
static void
check_ca_file(struct cfg_ctx *ctx, const struct ynode *map,
              const struct ynode *owner, const char *ca_file,
              const struct cfg_secret *url, const char *scheme,
              const char *path)
{
    const struct ynode *node = at(map, "tls_ca_file", owner);
    char key[160];

    if (ca_file[0] == '\0')
        return;
    snprintf(key, sizeof(key), "%s.tls_ca_file", path);
    if (url->value[0] != '\0' &&
        strncasecmp(url->value, scheme, strlen(scheme)) != 0) {
        cfg_ctx_error(ctx, node, "%s: applies to %s URLs only", key, scheme);
        return;
    }
    if (!(ctx->flags & CFG_LOAD_NO_SECRETS))
        check_ca_readable(ctx, node, ca_file, key);
}

static void
rpc_check(struct cfg_ctx *ctx, const struct ynode *map,
          const struct ynode *owner, void *obj, const char *path)
{
    const struct cfg_rpc_endpoint *e = obj;

    check_ca_file(ctx, map, owner, e->tls_ca_file, &e->url, "https://", path);
}

#define S struct cfg_rpc_endpoint
static const struct cfg_key rpc_keys[] = {
    KEY(S, name, "name", CT_NAME, 0, NULL, NULL, NULL),
    KEY(S, url, "url", CT_HTTP_URL, REQ | CF_SECRET_OK, NULL, NULL, NULL),
    KEY(S, weight, "weight", CT_U32, 0, "1", "1", "1000"),
    KEY(S, tls_ca_file, "tls_ca_file", CT_PATH, CF_OMIT_EMPTY, NULL, NULL,
        NULL),
};
#undef S
static const struct cfg_schema rpc_schema =
    SCHEMA("chain.rpc[]", rpc_keys, rpc_check, NULL);

static void
ws_check(struct cfg_ctx *ctx, const struct ynode *map,
         const struct ynode *owner, void *obj, const char *path)
{
    const struct cfg_ws_endpoint *e = obj;

    check_ca_file(ctx, map, owner, e->tls_ca_file, &e->url, "wss://", path);
}

#define S struct cfg_ws_endpoint
static const struct cfg_key ws_keys[] = {
    KEY(S, name, "name", CT_NAME, 0, NULL, NULL, NULL),
    KEY(S, url, "url", CT_WS_URL, REQ | CF_SECRET_OK, NULL, NULL, NULL),
    KEY(S, tls_ca_file, "tls_ca_file", CT_PATH, CF_OMIT_EMPTY, NULL, NULL,
        NULL),
};
#undef S
static const struct cfg_schema ws_schema =
    SCHEMA("chain.ws[]", ws_keys, ws_check, NULL);

/* Returns: whether ws endpoint `e` is known to be TLS (a referenced URL
 * is not known with CFG_LOAD_NO_SECRETS). */
static bool
ws_is_tls(const struct cfg_ws_endpoint *e)
{
    return !strncasecmp(e->url.value, "wss://", 6);
}

/* The WebSocket client holds every chain.ws URL with one TLS context, so
 * its wss endpoints trust one CA file (or all the system store). An
 * endpoint whose URL is not known is left out rather than guessed at. */
static void
check_ws_ca_same(struct cfg_ctx *ctx, const struct ynode *map,
                 const struct cfg_chain *c)
{
    const struct ynode *seq = ynode_map_get(map, "ws", NULL);
    size_t first = c->n_ws;

    for (size_t i = 0; i < c->n_ws; i++) {
        const struct ynode *item = NULL;

        if (!ws_is_tls(&c->ws[i]))
            continue;
        if (first == c->n_ws) {
            first = i;
            continue;
        }
        if (!strcmp(c->ws[i].tls_ca_file, c->ws[first].tls_ca_file))
            continue;
        if (seq != NULL && seq->kind == YNODE_SEQ && i < seq->n)
            item = seq->kids[i];
        cfg_ctx_error(ctx, at(item, "tls_ca_file", item),
                      "chain.ws[%zu].tls_ca_file: must be the same as "
                      "chain.ws[%zu]'s (the WebSocket client trusts one CA "
                      "file for all wss:// endpoints)",
                      i, first);
    }
}

/* Endpoint names default to rpc<i> / ws<i> and are unique across both
 * lists (they label metrics and logs). */
static void
chain_check(struct cfg_ctx *ctx, const struct ynode *map,
            const struct ynode *owner, void *obj, const char *path)
{
    struct cfg_chain *c = obj;
    struct named names[CFG_MAX_RPC + CFG_MAX_WS];
    size_t n;

    for (size_t i = 0; i < c->n_rpc; i++)
        if (c->rpc[i].name[0] == '\0')
            snprintf(c->rpc[i].name, sizeof(c->rpc[i].name), "rpc%zu", i);
    for (size_t i = 0; i < c->n_ws; i++)
        if (c->ws[i].name[0] == '\0')
            snprintf(c->ws[i].name, sizeof(c->ws[i].name), "ws%zu", i);
    n = collect_names(names, 0, map, "rpc", "chain.rpc", c->rpc,
                      sizeof(c->rpc[0]), c->n_rpc);
    n = collect_names(names, n, map, "ws", "chain.ws", c->ws, sizeof(c->ws[0]),
                      c->n_ws);
    check_unique(ctx, names, n, "endpoint");
    check_ws_ca_same(ctx, map, c);
}

#define S struct cfg_chain
static const struct cfg_key chain_keys[] = {
    KEY(S, chain_id, "chain_id", CT_U64, REQ, NULL, "1",
        "9223372036854775771"), /* EIP-2294 */
    KEY_LIST(S, rpc, n_rpc, "rpc", REQ, "1", rpc_schema),
    KEY_LIST(S, ws, n_ws, "ws", 0, NULL, ws_schema),
    KEY(S, max_lag_blocks, "max_lag_blocks", CT_U32, 0, "3", "0", "10000"),
    KEY(S, request_timeout_ms, "request_timeout", CT_DURATION, 0, "5s", "100ms",
        "5m"),
    KEY(S, poll_interval_ms, "poll_interval", CT_DURATION, 0, "2s", "100ms",
        "1h"),
    KEY(S, confirmations, "confirmations", CT_U32, 0, "1", "0", "1000"),
    KEY(S, max_reply_bytes, "max_reply_bytes", CT_SIZE, 0, "8MiB", "64KiB",
        "1GiB"),
};
#undef S
static const struct cfg_schema chain_schema =
    SCHEMA("chain", chain_keys, chain_check, NULL);

/* --- signer --- */

static bool
keystore_is_set(const void *obj)
{
    return ((const struct cfg_keystore *)obj)->path[0] != '\0';
}

#define S struct cfg_keystore
static const struct cfg_key keystore_keys[] = {
    KEY(S, path, "path", CT_PATH, REQ, NULL, NULL, NULL),
    KEY(S, password, "password", CT_TEXT, REQ | CF_SECRET, NULL, NULL, NULL),
};
#undef S
static const struct cfg_schema keystore_schema =
    SCHEMA("signer.keystore", keystore_keys, NULL, keystore_is_set);

/* Exactly one key source. */
static void
signer_check(struct cfg_ctx *ctx, const struct ynode *map,
             const struct ynode *owner, void *obj, const char *path)
{
    static const char *const kinds[] = {"keystore", "key_file", "key_env"};
    struct cfg_signer *s = obj;
    const struct ynode *first_key = NULL;
    int first = -1;

    for (int i = 0; i < 3; i++) {
        const struct ynode *k = NULL;

        if (!has(map, kinds[i]))
            continue;
        ynode_map_get(map, kinds[i], &k);
        if (first < 0) {
            first = i;
            first_key = k;
            continue;
        }
        /* Blame the one written last. */
        cfg_ctx_error(ctx, k->line > first_key->line ? k : first_key,
                      "%s: '%s' and '%s' cannot both be set (give one key "
                      "source)",
                      path, kinds[first], kinds[i]);
        return;
    }
    if (first < 0) {
        cfg_ctx_error(ctx, owner,
                      "%s: one of 'keystore', 'key_file' or 'key_env' is "
                      "required",
                      path);
        return;
    }
    s->kind = (enum cfg_signer_kind)(CFG_SIGNER_KEYSTORE + first);
}

#define S struct cfg_signer
static const struct cfg_key signer_keys[] = {
    KEY_SECTION(S, keystore, "keystore", 0, keystore_schema),
    KEY(S, key_file, "key_file", CT_PATH, CF_OMIT_EMPTY, NULL, NULL, NULL),
    KEY(S, key_env, "key_env", CT_ENVNAME, CF_OMIT_EMPTY, NULL, NULL, NULL),
    KEY(S, min_balance, "min_balance", CT_WEI, REQ, NULL, NULL, NULL),
};
#undef S
static const struct cfg_schema signer_schema =
    SCHEMA("signer", signer_keys, signer_check, NULL);

/* --- oracles --- */

/* A feed updates at least once per heartbeat; a max_age below it would
 * call a healthy feed stale between updates. */
static void
oracle_check(struct cfg_ctx *ctx, const struct ynode *map,
             const struct ynode *owner, void *obj, const char *path)
{
    const struct cfg_oracle *o = obj;

    if (o->max_age_ms < o->heartbeat_ms)
        cfg_ctx_error(ctx, at(map, "max_age", owner),
                      "%s.max_age: must be at least the heartbeat (a "
                      "healthy feed may be that old)",
                      path);
}

#define S struct cfg_oracle
static const struct cfg_key oracle_keys[] = {
    KEY(S, name, "name", CT_NAME, REQ, NULL, NULL, NULL),
    KEY_ENUM(S, type, "type", 0, "chainlink", oracle_types),
    KEY(S, address, "address", CT_ADDRESS, REQ, NULL, NULL, NULL),
    KEY(S, asset, "asset", CT_ASSET, REQ, NULL, NULL, NULL),
    KEY(S, max_age_ms, "max_age", CT_DURATION, REQ, NULL, "1s", "7d"),
    KEY(S, heartbeat_ms, "heartbeat", CT_DURATION, REQ, NULL, "1s", "7d"),
    {"ewma_lambda", CT_DOUBLE, CF_MIN_EXCL | CF_MAX_EXCL,
     offsetof(S, ewma_lambda), FSIZE(S, ewma_lambda), 0, 0, "0.94", "0", "1",
     NULL},
};
#undef S
static const struct cfg_schema oracle_schema =
    SCHEMA("oracles[]", oracle_keys, oracle_check, NULL);

/* --- reserve --- */

#define S struct cfg_reserve_contracts
static const struct cfg_key contracts_keys[] = {
    KEY(S, reserve, "reserve", CT_ADDRESS, REQ, NULL, NULL, NULL),
    KEY(S, clearinghouse, "clearinghouse", CT_ADDRESS, REQ, NULL, NULL, NULL),
    KEY(S, backstop, "backstop", CT_ADDRESS, REQ, NULL, NULL, NULL),
};
#undef S
static const struct cfg_schema contracts_schema =
    SCHEMA("reserve.contracts", contracts_keys, NULL, NULL);

#define S struct cfg_reserve_calls
#define CALL(m, def) KEY(S, m, #m, CT_READ_SIG, 0, def, NULL, NULL)
static const struct cfg_key calls_keys[] = {
    CALL(balance, "balance()(uint256)"),
    CALL(target, "targetBalance()(uint256)"),
    CALL(critical, "criticalThreshold()(uint256)"),
    CALL(depletion, "depletionThreshold()(uint256)"),
    CALL(uncovered_debt, "uncoveredDebt()(uint256)"),
    CALL(open_interest, "openInterest()(uint256)"),
    CALL(backstop_available, "available()(uint256)"),
};
#undef CALL
#undef S
static const struct cfg_schema calls_schema =
    SCHEMA("reserve.calls", calls_keys, NULL, NULL);

#define S struct cfg_reserve
static const struct cfg_key reserve_keys[] = {
    KEY_SECTION(S, contracts, "contracts", REQ, contracts_schema),
    KEY_SECTION(S, calls, "calls", 0, calls_schema),
    KEY(S, decimals, "decimals", CT_U32, 0, "6", "0", "36"),
};
#undef S
static const struct cfg_schema reserve_schema =
    SCHEMA("reserve", reserve_keys, NULL, NULL);

/* --- strategies --- */

/* The budget has no sensible default: it is the operator's risk limit. */
static void
inject_check(struct cfg_ctx *ctx, const struct ynode *map,
             const struct ynode *owner, void *obj, const char *path)
{
    const struct cfg_inject *in = obj;

    if (in->enabled && !has(map, "epoch_budget"))
        cfg_ctx_error(ctx, owner,
                      "%s: missing required key 'epoch_budget' (required "
                      "while enabled)",
                      path);
}

#define S struct cfg_inject
static const struct cfg_key inject_keys[] = {
    KEY(S, enabled, "enabled", CT_BOOL, 0, "true", NULL, NULL),
    KEY(S, call, "call", CT_WRITE_SIG, 0, "inject(uint256)", NULL, NULL),
    KEY(S, epoch_ms, "epoch", CT_DURATION, 0, "1d", "1m", "30d"),
    KEY(S, epoch_budget, "epoch_budget", CT_TOKEN, 0, "0", NULL, NULL),
    KEY(S, cooldown_ms, "cooldown", CT_DURATION, 0, "5m", "0s", "7d"),
};
#undef S
static const struct cfg_schema inject_schema =
    SCHEMA("strategies.inject", inject_keys, inject_check, NULL);

#define S struct cfg_clawback
static const struct cfg_key clawback_keys[] = {
    KEY(S, enabled, "enabled", CT_BOOL, 0, "false", NULL, NULL),
    KEY(S, call, "call", CT_WRITE_SIG, 0, "clawback(uint256)", NULL, NULL),
    KEY(S, cooldown_ms, "cooldown", CT_DURATION, 0, "1h", "0s", "7d"),
    KEY(S, require_approval, "require_approval", CT_BOOL, 0, "true", NULL,
        NULL),
};
#undef S
static const struct cfg_schema clawback_schema =
    SCHEMA("strategies.clawback", clawback_keys, NULL, NULL);

#define S struct cfg_strategies
static const struct cfg_key strategies_keys[] = {
    KEY_SECTION(S, inject, "inject", 0, inject_schema),
    KEY_SECTION(S, clawback, "clawback", 0, clawback_schema),
    {"amber_health", CT_DOUBLE, CF_MIN_EXCL, offsetof(S, amber_health),
     FSIZE(S, amber_health), 0, 0, "1.5", "1", "100", NULL},
    KEY(S, stress_move_bps, "stress_move", CT_PERCENT, 0, "20%", "0.01%",
        "100%"),
};
#undef S
static const struct cfg_schema strategies_schema =
    SCHEMA("strategies", strategies_keys, NULL, NULL);

/* --- tx --- */

static void
tx_check(struct cfg_ctx *ctx, const struct ynode *map,
         const struct ynode *owner, void *obj, const char *path)
{
    const struct cfg_tx *tx = obj;

    if (u256_cmp(&tx->priority_fee, &tx->max_fee) > 0)
        cfg_ctx_error(ctx, at(map, "priority_fee", at(map, "max_fee", owner)),
                      "%s.priority_fee: must not exceed max_fee", path);
}

#define S struct cfg_tx
static const struct cfg_key tx_keys[] = {
    KEY(S, gas_limit_margin_bps, "gas_limit_margin", CT_PERCENT, 0, "20%", "0%",
        "200%"),
    KEY(S, max_fee, "max_fee", CT_WEI, 0, "500gwei", "1", NULL),
    KEY(S, priority_fee, "priority_fee", CT_WEI, 0, "2gwei", NULL, NULL),
    KEY(S, replace_after_blocks, "replace_after_blocks", CT_U32, 0, "3", "1",
        "1000"),
    KEY(S, fee_bump_bps, "fee_bump", CT_PERCENT, 0, "12.5%", "12.5%", "100%"),
};
#undef S
static const struct cfg_schema tx_schema =
    SCHEMA("tx", tx_keys, tx_check, NULL);

/* --- alerts --- */

/* Slack and generic webhook URLs carry their token in the URL, so they
 * must be references - except on a loopback host (a local relay). The
 * PagerDuty URL is a public endpoint; its secret is the routing key. */
static void
check_hook_url(struct cfg_ctx *ctx, const struct ynode *map,
               const struct ynode *owner, const struct cfg_channel *ch,
               const char *path)
{
    const char *type = ch->type == CFG_CHANNEL_SLACK ? "slack" : "webhook";

    if (!secret_is_set(&ch->url)) {
        cfg_ctx_error(ctx, owner,
                      "%s: missing required key 'url' (required for %s)", path,
                      type);
        return;
    }
    if (ch->url.ref[0] == '\0' &&
        !cfg_url_is_loopback(ch->url.value, strlen(ch->url.value)))
        cfg_ctx_error(ctx, at(map, "url", owner),
                      "%s.url: secrets must be referenced: use ${env:NAME} or "
                      "${file:PATH} (%s URLs carry a token; inline URLs are "
                      "allowed for loopback hosts only)",
                      path, type);
}

/* Which keys each channel type needs. */
static void
channel_check(struct cfg_ctx *ctx, const struct ynode *map,
              const struct ynode *owner, void *obj, const char *path)
{
    struct cfg_channel *ch = obj;

    if (ch->type != CFG_CHANNEL_PAGERDUTY) {
        check_hook_url(ctx, map, owner, ch, path);
        if (secret_is_set(&ch->routing_key))
            cfg_ctx_error(ctx, at(map, "routing_key", owner),
                          "%s.routing_key: applies to pagerduty channels "
                          "only",
                          path);
        return;
    }
    if (!secret_is_set(&ch->routing_key))
        cfg_ctx_error(ctx, owner,
                      "%s: missing required key 'routing_key' (required for "
                      "pagerduty)",
                      path);
    if (!secret_is_set(&ch->url))
        snprintf(ch->url.value, sizeof(ch->url.value), "%s",
                 PAGERDUTY_EVENTS_URL);
}

#define S struct cfg_channel
static const struct cfg_key channel_keys[] = {
    KEY(S, name, "name", CT_NAME, REQ, NULL, NULL, NULL),
    KEY_ENUM(S, type, "type", REQ, NULL, channel_types),
    KEY(S, url, "url", CT_HTTP_URL, CF_SECRET_OK | CF_OMIT_EMPTY, NULL, NULL,
        NULL),
    KEY(S, routing_key, "routing_key", CT_TEXT, CF_SECRET | CF_OMIT_EMPTY, NULL,
        NULL, NULL),
    KEY_ENUM(S, min_severity, "min_severity", 0, "warning", severities),
};
#undef S
static const struct cfg_schema channel_schema =
    SCHEMA("alerts.channels[]", channel_keys, channel_check, NULL);

static void
alerts_check(struct cfg_ctx *ctx, const struct ynode *map,
             const struct ynode *owner, void *obj, const char *path)
{
    const struct cfg_alerts *a = obj;
    struct named names[CFG_MAX_CHANNELS];
    size_t n =
        collect_names(names, 0, map, "channels", "alerts.channels", a->channels,
                      sizeof(a->channels[0]), a->n_channels);

    check_unique(ctx, names, n, "channel");
}

#define S struct cfg_alerts
static const struct cfg_key alerts_keys[] = {
    KEY_LIST(S, channels, n_channels, "channels", 0, NULL, channel_schema),
};
#undef S
static const struct cfg_schema alerts_schema =
    SCHEMA("alerts", alerts_keys, alerts_check, NULL);

/* --- metrics, log --- */

static const struct cfg_key metrics_keys[] = {
    {"listen", CT_HOSTPORT, 0, 0, sizeof(struct cfg_metrics), 0, 0,
     "127.0.0.1:9464", NULL, NULL, NULL},
};
static const struct cfg_schema metrics_schema =
    SCHEMA("metrics", metrics_keys, NULL, NULL);

#define S struct cfg_log
static const struct cfg_key log_keys[] = {
    KEY_ENUM(S, level, "level", 0, "info", log_levels),
    KEY_ENUM(S, format, "format", 0, "text", log_formats),
};
#undef S
static const struct cfg_schema log_schema = SCHEMA("log", log_keys, NULL, NULL);

/* --- root --- */

static void
protocol_check(struct cfg_ctx *ctx, const struct ynode *map,
               const struct ynode *owner, void *obj, const char *path)
{
    const struct cfg_protocol *p = obj;
    struct named names[CFG_MAX_ORACLES];
    size_t n = collect_names(names, 0, map, "oracles", "oracles", p->oracles,
                             sizeof(p->oracles[0]), p->n_oracles);

    check_unique(ctx, names, n, "oracle");
}

#define S struct cfg_protocol
static const struct cfg_key root_keys[] = {
    /* protocol.name and .description live at the top of cfg_protocol. */
    {"protocol", CT_SECTION, REQ, 0, sizeof(S), 0, 0, NULL, NULL, NULL,
     &protocol_schema},
    KEY_SECTION(S, chain, "chain", REQ, chain_schema),
    KEY_SECTION(S, signer, "signer", REQ, signer_schema),
    KEY_LIST(S, oracles, n_oracles, "oracles", REQ, "1", oracle_schema),
    KEY_SECTION(S, reserve, "reserve", REQ, reserve_schema),
    KEY_SECTION(S, strategies, "strategies", REQ, strategies_schema),
    KEY_SECTION(S, tx, "tx", 0, tx_schema),
    KEY_SECTION(S, alerts, "alerts", 0, alerts_schema),
    KEY_SECTION(S, metrics, "metrics", 0, metrics_schema),
    KEY_SECTION(S, log, "log", 0, log_schema),
};
#undef S

const struct cfg_schema cfg_protocol_schema =
    SCHEMA("", root_keys, protocol_check, NULL);
