/*
 * metrics.h - a small metrics registry rendered in the Prometheus text
 * exposition format 0.0.4.
 *
 * A family (name, help, type, label names, histogram buckets) is defined
 * once; a series is one combination of label values within a family.
 * Looking a series up costs a hash and a short scan, so do it once and
 * keep the handle: updating through the handle is a few arithmetic
 * instructions and never allocates.
 *
 *   metrics_register_keeper(reg, "1.2.0");
 *   struct metric *req;
 *   metrics_series(reg, &req, METRIC_RPC_REQUESTS_TOTAL,
 *                  METRIC_LABELS(ep->name, "eth_call"));
 *   metric_inc(req);                        // hot path
 *
 * Update functions accept a NULL handle (a metric the caller chose not to
 * create) and ignore updates that do not fit the type (a negative counter
 * increment, metric_set on a counter, metric_observe on a gauge): they
 * never fail and never crash.
 *
 * Single-threaded: the registry belongs to the loop thread.
 */
#ifndef KP_KEEPER_METRICS_H
#define KP_KEEPER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

/* Names of the metrics the daemon exports; every module uses these.
 *
 *   keeper_build_info             gauge      {version}, always 1
 *   keeper_up                     gauge      1 while running
 *   keeper_rpc_requests_total     counter    {endpoint, method}
 *   keeper_rpc_errors_total       counter    {endpoint, class}
 *   keeper_rpc_latency_seconds    histogram  {endpoint}
 *   keeper_head_block             gauge      {chain}
 *   keeper_head_age_seconds       gauge      {chain}
 *   keeper_ws_reconnects_total    counter    {endpoint}
 *   keeper_backfilled_logs_total  counter    {chain}
 *
 * `endpoint` is the configured endpoint name, never its URL (URLs carry
 * API keys); `chain` is the decimal chain id. */
#define METRIC_BUILD_INFO "keeper_build_info"
#define METRIC_UP "keeper_up"
#define METRIC_RPC_REQUESTS_TOTAL "keeper_rpc_requests_total"
#define METRIC_RPC_ERRORS_TOTAL "keeper_rpc_errors_total"
#define METRIC_RPC_LATENCY_SECONDS "keeper_rpc_latency_seconds"
#define METRIC_HEAD_BLOCK "keeper_head_block"
#define METRIC_HEAD_AGE_SECONDS "keeper_head_age_seconds"
#define METRIC_WS_RECONNECTS_TOTAL "keeper_ws_reconnects_total"
#define METRIC_BACKFILLED_LOGS_TOTAL "keeper_backfilled_logs_total"

/* Values of the `class` label of keeper_rpc_errors_total. */
#define METRIC_ERR_TRANSPORT "transport"
#define METRIC_ERR_HTTP "http"
#define METRIC_ERR_RPC "rpc"
#define METRIC_ERR_TIMEOUT "timeout"
#define METRIC_ERR_DECODE "decode"

/* Caps (every one reached returns KP_ELIMIT or KP_ERANGE). */
#define METRICS_MAX_LABELS 4   /* label pairs per series */
#define METRICS_MAX_BUCKETS 32 /* histogram buckets (+Inf implied) */
#define METRICS_MAX_FAMILIES 256
#define METRICS_MAX_SERIES 1024     /* per family: bounds cardinality */
#define METRICS_MAX_NAME 128        /* metric and label names */
#define METRICS_MAX_LABEL_VALUE 256 /* bytes */
#define METRICS_MAX_HELP 512        /* bytes */
#define METRICS_DEFAULT_RENDER_CAP (4u << 20)

enum metric_type {
    METRIC_TYPE_COUNTER = 0,
    METRIC_TYPE_GAUGE = 1,
    METRIC_TYPE_HISTOGRAM = 2,
};

struct metrics;
struct metric; /* one series: the handle updated on the hot path */

/* Describes a family. label_names: nlabels names. buckets: strictly
 * increasing finite upper bounds (the +Inf bucket is implied); histograms
 * only, NULL/0 for the others. */
struct metric_desc {
    const char *name;
    const char *help;
    enum metric_type type;
    const char *label_names[METRICS_MAX_LABELS];
    size_t nlabels;
    const double *buckets;
    size_t nbuckets;
};

/* Returns: a new empty registry whose rendering is capped at render_cap
 * bytes (0: METRICS_DEFAULT_RENDER_CAP). Never NULL. */
struct metrics *metrics_new(size_t render_cap);

/* Free the registry and every handle it gave out. NULL is a no-op. */
void metrics_free(struct metrics *reg);

/* Define a family. Defining the same family again with an identical
 * description is allowed (a config reload may re-register) and is a no-op.
 * A family without labels gets its one series at once, so it renders as 0
 * before the first update.
 * Names follow what `promtool check metrics` lints, so whatever is
 * accepted also passes it: counters end in "_total" and nothing else does;
 * no name ends in "_bucket", "_count" or "_sum"; "le", "quantile" and
 * "__"-prefixed label names are reserved; help text is required.
 * Returns: 0; KP_EINVAL for an invalid or reserved name, missing help, a
 * duplicate label name, unsorted/non-finite buckets, buckets on a
 * non-histogram, or a conflicting earlier definition; KP_ERANGE for too
 * many labels or buckets, or too long a help text; KP_ELIMIT when the
 * registry is full.
 * In: reg, d */
int metrics_define(struct metrics *reg, const struct metric_desc *d);

/* Find or create the series of family `name` with these label values
 * (in the order of the family's label names).
 * Returns: 0; KP_ENOTFOUND if no such family; KP_EINVAL if nvalues differs
 * from the family's label count or a value is NULL; KP_ERANGE if a value
 * is longer than METRICS_MAX_LABEL_VALUE; KP_ELIMIT if the family already
 * has METRICS_MAX_SERIES series.
 * Out: *out (owned by the registry; valid until metrics_free)
 * In: reg, name, values, nvalues */
int metrics_series(struct metrics *reg, struct metric **out, const char *name,
                   const char *const *values, size_t nvalues);

/* Label values as the (values, nvalues) argument pair of metrics_series:
 * metrics_series(reg, &h, NAME, METRIC_LABELS("a", "b")). Use NULL, 0 for
 * a family without labels. */
/* clang-format off */
#define METRIC_LABELS(...)                                                     \
    (const char *const[]){__VA_ARGS__},                                        \
    (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
/* clang-format on */

/* Hot-path updates. h may be NULL. */
void metric_inc(struct metric *h);               /* counter, gauge: +1 */
void metric_add(struct metric *h, double v);     /* counter (v >= 0), gauge */
void metric_set(struct metric *h, double v);     /* gauge */
void metric_observe(struct metric *h, double v); /* histogram */

/* Returns: the current value of a counter or gauge, the sample count of a
 * histogram; 0 for NULL. */
double metric_value(const struct metric *h);

/* Render the registry (families in definition order, series in creation
 * order; families without series are left out).
 * Returns: 0, or KP_ELIMIT if the text would exceed the render cap.
 * Out: *out (NUL-terminated, malloc'd: the caller frees), *outlen
 * In: reg */
int metrics_render(const struct metrics *reg, char **out, size_t *outlen);

/* Returns: true if s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
bool metrics_is_valid_name(const char *s);

/* Returns: true if s is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*). */
bool metrics_is_valid_label_name(const char *s);

/* Define the daemon's standard families (the METRIC_* names above) and set
 * keeper_build_info{version} = 1 and keeper_up = 1.
 * Returns: 0, or an error of metrics_define/metrics_series.
 * In: reg, version (NULL: "unknown") */
int metrics_register_keeper(struct metrics *reg, const char *version);

#endif
