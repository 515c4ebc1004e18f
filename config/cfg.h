/*
 * cfg.h - the keeper's configuration: one YAML file per protocol, loaded
 * into typed structs, validated against a schema, with every error
 * reported as "FILE:LINE:COL: message".
 *
 *   struct cfg cfg;
 *   struct cfg_errors errs;
 *
 *   cfg_errors_init(&errs);
 *   if (cfg_load(&cfg, "/etc/keeper", 0, &errs) != 0)
 *       cfg_errors_print(stderr, &errs);   (cfg holds nothing then)
 *   ...
 *   cfg_cleanup(&cfg);
 *   cfg_errors_cleanup(&errs);
 *
 * Units, as stored:
 *   durations   uint64_t milliseconds        (fields named *_ms)
 *   percents    uint32_t basis points        (fields named *_bps; 1% = 100)
 *   sizes       uint64_t bytes
 *   amounts     struct u256 in base units (wei for gas and balances, the
 *               reserve token's smallest unit for token budgets)
 *   addresses   struct eth_addr
 * Strings are fixed-size, NUL-terminated arrays; a value that does not fit
 * is a configuration error, never truncated.
 *
 * Secrets (signer password, alert webhook URLs and routing keys, and, if
 * the operator wants, RPC URLs) are written in the file as references,
 * "${env:NAME}" or "${file:PATH}", and resolved at load. The resolved
 * value lives only in memory (struct cfg_secret.value) and is wiped by
 * cfg_cleanup; cfg_print shows "<redacted: env:NAME>" instead.
 *
 * The full key reference is docs/config.md.
 */
#ifndef KP_CONFIG_CFG_H
#define KP_CONFIG_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chain/address.h"
#include "chain/u256.h"

#define CFG_NAME_MAX 64     /* names: protocol, endpoint, oracle, channel */
#define CFG_DESC_MAX 256    /* protocol.description */
#define CFG_PATH_MAX 1024   /* file paths (after joining with the config dir) */
#define CFG_REF_MAX 320     /* a secret reference as written, "env:NAME" */
#define CFG_SECRET_MAX 1024 /* a resolved secret value */
#define CFG_SIG_MAX 128     /* an ABI call signature */
#define CFG_ASSET_MAX 32    /* an oracle's asset label, "ETH/USD" */
#define CFG_HOST_MAX 256    /* metrics.listen host part */

#define CFG_MAX_RPC 8
#define CFG_MAX_WS 8
#define CFG_MAX_ORACLES 32
#define CFG_MAX_CHANNELS 16
#define CFG_MAX_FILES 64 /* *.yaml files in a -c DIR */

/* Input bounds (a hostile or broken file gets an error, not a crash). */
#define CFG_FILE_MAX (1024 * 1024) /* bytes per file */
#define CFG_DEPTH_MAX 16           /* nesting of mappings and sequences */
#define CFG_NODES_MAX 4096         /* YAML nodes per file */
#define CFG_SCALAR_MAX 4096        /* bytes per scalar */
#define CFG_ERRORS_MAX 100         /* errors kept per load; more are counted */

/* A secret field. When the file gave a reference, `ref` holds it as
 * written without the ${ } ("env:NAME", "file:/run/secrets/pw") and
 * `value` the resolved text (empty with CFG_LOAD_NO_SECRETS). When the
 * field allows inline values and one was given, `ref` is "" and `value`
 * holds it. Both empty: the optional field was not set. */
struct cfg_secret {
    char ref[CFG_REF_MAX];
    char value[CFG_SECRET_MAX];
};

/* --- protocol-level sections --- */

struct cfg_rpc_endpoint {
    char name[CFG_NAME_MAX];        /* default "rpc<index>" */
    struct cfg_secret url;          /* http(s); may be a reference */
    uint32_t weight;                /* share of load among healthy endpoints */
    char tls_ca_file[CFG_PATH_MAX]; /* https only: PEM CA certificates
                                       trusted instead of the system
                                       store; "": the system store */
};

struct cfg_ws_endpoint {
    char name[CFG_NAME_MAX];        /* default "ws<index>" */
    struct cfg_secret url;          /* ws(s); may be a reference */
    char tls_ca_file[CFG_PATH_MAX]; /* wss only, as for rpc; the same for
                                       every wss endpoint */
};

struct cfg_chain {
    uint64_t chain_id;
    struct cfg_rpc_endpoint rpc[CFG_MAX_RPC];
    size_t n_rpc; /* >= 1 */
    struct cfg_ws_endpoint ws[CFG_MAX_WS];
    size_t n_ws; /* 0: poll over HTTP */
    uint32_t max_lag_blocks;
    uint64_t request_timeout_ms;
    uint64_t poll_interval_ms;
    uint32_t confirmations;
    uint64_t max_reply_bytes;
};

enum cfg_signer_kind {
    CFG_SIGNER_NONE = 0, /* only while loading */
    CFG_SIGNER_KEYSTORE,
    CFG_SIGNER_KEY_FILE,
    CFG_SIGNER_KEY_ENV,
};

struct cfg_keystore {
    char path[CFG_PATH_MAX];    /* Web3 Secret Storage v3 JSON */
    struct cfg_secret password; /* always a reference */
};

struct cfg_signer {
    enum cfg_signer_kind kind; /* which one of the three was given */
    struct cfg_keystore keystore;
    char key_file[CFG_PATH_MAX]; /* raw hex key file */
    char key_env[CFG_NAME_MAX];  /* name of the variable holding the key */
    struct u256 min_balance;     /* wei; alert below this */
};

enum cfg_oracle_type {
    CFG_ORACLE_CHAINLINK = 0,
};

struct cfg_oracle {
    char name[CFG_NAME_MAX];
    enum cfg_oracle_type type;
    struct eth_addr address;
    char asset[CFG_ASSET_MAX];
    uint64_t max_age_ms;   /* older answers are stale (by updatedAt) */
    uint64_t heartbeat_ms; /* the feed's own heartbeat; <= max_age */
    double ewma_lambda;    /* daily EWMA decay, 0 < lambda < 1 */
};

struct cfg_reserve_contracts {
    struct eth_addr reserve;
    struct eth_addr clearinghouse;
    struct eth_addr backstop;
};

/* Read calls, as "name(inputs)(outputs)" with one uintN output. The first
 * five go to the reserve contract, open_interest to the clearinghouse,
 * backstop_available to the backstop pool. */
struct cfg_reserve_calls {
    char balance[CFG_SIG_MAX];
    char target[CFG_SIG_MAX];
    char critical[CFG_SIG_MAX];
    char depletion[CFG_SIG_MAX];
    char uncovered_debt[CFG_SIG_MAX];
    char open_interest[CFG_SIG_MAX];
    char backstop_available[CFG_SIG_MAX];
};

struct cfg_reserve {
    struct cfg_reserve_contracts contracts;
    struct cfg_reserve_calls calls;
    uint32_t decimals; /* of the reserve token */
};

struct cfg_inject {
    bool enabled;
    char call[CFG_SIG_MAX]; /* on the backstop pool, one uintN input */
    uint64_t epoch_ms;
    struct u256 epoch_budget; /* token base units per epoch */
    uint64_t cooldown_ms;
};

struct cfg_clawback {
    bool enabled;
    char call[CFG_SIG_MAX]; /* on the clearinghouse, one uintN input */
    uint64_t cooldown_ms;
    bool require_approval;
};

struct cfg_strategies {
    struct cfg_inject inject;
    struct cfg_clawback clawback;
    double amber_health;      /* warn below this health (> 1) */
    uint32_t stress_move_bps; /* adverse price move for stress tests */
};

struct cfg_tx {
    uint32_t gas_limit_margin_bps; /* added to the gas estimate */
    struct u256 max_fee;           /* wei per gas, cap incl. bumps */
    struct u256 priority_fee;      /* wei per gas */
    uint32_t replace_after_blocks;
    uint32_t fee_bump_bps; /* >= 1250 (12.5%) */
};

enum cfg_channel_type {
    CFG_CHANNEL_WEBHOOK = 0,
    CFG_CHANNEL_SLACK,
    CFG_CHANNEL_PAGERDUTY,
};

enum cfg_severity {
    CFG_SEVERITY_INFO = 0,
    CFG_SEVERITY_WARNING,
    CFG_SEVERITY_CRITICAL,
};

struct cfg_channel {
    char name[CFG_NAME_MAX];
    enum cfg_channel_type type;
    struct cfg_secret url;         /* pagerduty: events API default */
    struct cfg_secret routing_key; /* pagerduty only */
    enum cfg_severity min_severity;
};

struct cfg_alerts {
    struct cfg_channel channels[CFG_MAX_CHANNELS];
    size_t n_channels;
};

struct cfg_metrics {
    char host[CFG_HOST_MAX]; /* without [ ] for IPv6 */
    uint16_t port;
};

/* Same numbering as keeper/log.h's enum log_level / log_format. */
enum cfg_log_level {
    CFG_LOG_DEBUG = 0,
    CFG_LOG_INFO = 1,
    CFG_LOG_WARN = 2,
    CFG_LOG_ERROR = 3,
};

enum cfg_log_format {
    CFG_LOG_TEXT = 0,
    CFG_LOG_JSON = 1,
};

struct cfg_log {
    enum cfg_log_level level;
    enum cfg_log_format format;
};

/* One protocol: everything one file configures. */
struct cfg_protocol {
    char path[CFG_PATH_MAX];        /* file it came from */
    char name[CFG_NAME_MAX];        /* protocol.name, [a-z0-9_-] */
    char description[CFG_DESC_MAX]; /* protocol.description */
    struct cfg_chain chain;
    struct cfg_signer signer;
    struct cfg_oracle oracles[CFG_MAX_ORACLES];
    size_t n_oracles; /* >= 1 */
    struct cfg_reserve reserve;
    struct cfg_strategies strategies;
    struct cfg_tx tx;
    struct cfg_alerts alerts;
    /* Process-wide; after cfg_load these hold the merged values, the
     * same as cfg.metrics and cfg.log. */
    struct cfg_metrics metrics;
    struct cfg_log log;
};

/* A loaded configuration: the protocols in file-name order, and the
 * process-wide sections. metrics and log may appear in several files only
 * if they are identical there; files without them take those values. */
struct cfg {
    struct cfg_protocol *protocols;
    size_t n_protocols;
    struct cfg_metrics metrics;
    struct cfg_log log;
};

/* --- errors --- */

struct cfg_error {
    char *file;
    unsigned line, col; /* 1-based; 0 for errors about the whole file */
    char *msg;
};

struct cfg_errors {
    struct cfg_error *v;
    size_t n, cap;
    size_t dropped; /* errors past CFG_ERRORS_MAX, counted only */
};

/* Out: e */
void cfg_errors_init(struct cfg_errors *e);
/* Free every error; e may be reused (it is empty again). */
void cfg_errors_cleanup(struct cfg_errors *e);

/* Append "FILE:LINE:COL: message" (or "FILE: message" when line is 0).
 * Past CFG_ERRORS_MAX entries the error is only counted. */
void cfg_errors_add(struct cfg_errors *e, const char *file, unsigned line,
                    unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Order by file, line, column (stable). */
void cfg_errors_sort(struct cfg_errors *e);

/* Write one error as a line without its newline.
 * Returns: the length the full line needs (like snprintf).
 * Out: out   In: cap, err */
int cfg_error_format(char *out, size_t cap, const struct cfg_error *err);

/* Print each error on its own line, and "FILE: N more errors" when some
 * were dropped. */
void cfg_errors_print(FILE *f, const struct cfg_errors *e);

/* --- loading --- */

/* Check secret references for syntax only; do not read variables or
 * files (values stay empty). For checking a config away from its secrets,
 * and for fuzzing. */
#define CFG_LOAD_NO_SECRETS 0x1u

/* Load `path`: a file, or a directory whose *.yaml files (not starting
 * with '.') are loaded in name order, one protocol each.
 * Returns: 0, or KP_ECONFIG with every problem appended to errs (sorted)
 *          and *cfg left empty (cfg_cleanup is still allowed).
 * Out: cfg, errs   In: path, flags */
int cfg_load(struct cfg *cfg, const char *path, unsigned flags,
             struct cfg_errors *errs);

/* Load one protocol from memory; `name` is the file name used in errors
 * and relative paths (key files, ${file:}) are kept relative, i.e. to
 * the working directory. (cfg_load resolves them against the absolute
 * directory of the file.)
 * Returns: 0 or KP_ECONFIG as cfg_load.
 * Out: cfg, errs   In: name, buf, len, flags */
int cfg_load_mem(struct cfg *cfg, const char *name, const char *buf, size_t len,
                 unsigned flags, struct cfg_errors *errs);

/* Wipe every secret and free what cfg_load allocated. cfg may be one
 * that failed to load, or zeroed. */
void cfg_cleanup(struct cfg *cfg);

/* Print the normalized configuration (every key, defaults filled in) as
 * YAML, one document per protocol, secrets shown as
 * "<redacted: env:NAME>". Inline values of secret-capable fields (e.g. an
 * RPC URL written without a reference) are printed as written.
 * Returns: 0, or KP_EIO if writing failed.   In: f, cfg */
int cfg_print(FILE *f, const struct cfg *cfg);

/* Returns: the protocol named `name`, or NULL. */
const struct cfg_protocol *cfg_find_protocol(const struct cfg *cfg,
                                             const char *name);

#endif
