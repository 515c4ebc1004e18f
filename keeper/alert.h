/*
 * alert.h - paging on-call staff: conditions that fire and resolve, and
 * one-shot notices, delivered to generic JSON webhooks, Slack incoming
 * webhooks and PagerDuty Events API v2 from the loop, never blocking it.
 *
 *   alert_raise(m, "stale_oracle/ETH-USD", ALERT_WARNING,
 *               "ETH/USD price is 93 s old",
 *               ALERT_KV("age_s", "93", "max_age_s", "60"));
 *   ...                        (raised again on every block: sends nothing)
 *   alert_clear(m, "stale_oracle/ETH-USD");      (sends the resolve)
 *   alert_notify(m, "action/inject-42/confirmed", ALERT_INFO,
 *                "inject confirmed", ALERT_KV("tx", "0xab..."));
 *
 * A condition is named by a stable key, unique within the protocol. It is
 * one alert, not one per evaluation: raising an active condition again at
 * the same severity sends nothing (a changed summary alone does not count,
 * since summaries carry live numbers); a severity change sends a new
 * "firing" message (PagerDuty: a trigger with the same dedup_key, which
 * updates the open alert); clearing sends "resolved" (PagerDuty: resolve
 * with the same dedup_key); clearing an inactive key sends nothing. The
 * dedup_key is "<protocol>/<key>" (see alert_dedup_key).
 *
 * Each channel has a minimum severity. Per channel, a condition is open
 * while it is active at or above that minimum: it opens with a trigger,
 * a severity change while open re-sends, and it closes with a resolve
 * when cleared or when its severity drops below the minimum. So a channel
 * gets a resolve exactly for what it was sent.
 *
 * Delivery: one FIFO queue per channel and one request in flight per
 * channel, so nothing overtakes anything on a channel (a resolve never
 * overtakes its trigger, and the order of notices is kept) and a
 * rate-limited service is not hammered. Transport errors, timeouts, 408,
 * 429 and 5xx are retried with exponential backoff and jitter, up to
 * max_attempts or give_up_ms since the first attempt; a 429 or 503 with
 * Retry-After waits that long (kept between the backoff's base and max),
 * a 429 without it at least rate_limited_ms. Any other status is final: 2xx delivered,
 * the rest a permanent failure (the payload or the credentials are
 * wrong; retrying cannot help). A full queue drops the oldest waiting
 * item of the lowest rank (non-critical firing and notices first, then
 * resolves, critical last), counted and logged.
 *
 * Secrets: channel URLs and routing keys are copied into memory that is
 * wiped on free; logs name the channel only, and reply bodies quoted in
 * logs have any secret replaced by "[redacted]".
 *
 * Metrics (when a registry is given):
 *   keeper_alerts_sent_total     counter {channel, status}  delivered, by
 *                                 status firing | resolved | event
 *   keeper_alert_failures_total  counter {channel}  deliveries abandoned
 *                                 (permanent error or retries exhausted)
 *   keeper_alerts_dropped_total  counter {channel}  dropped, queue full
 *
 * Single-threaded: everything runs on the loop thread.
 */
#ifndef KP_KEEPER_ALERT_H
#define KP_KEEPER_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config/cfg.h"

struct alert_mgr;
struct metrics;

/* Ordered: a channel takes what is at or above its minimum. The names
 * ("info", ...) are PagerDuty's payload.severity values. */
enum alert_severity {
    ALERT_INFO = 0,
    ALERT_WARNING = 1,
    ALERT_ERROR = 2,
    ALERT_CRITICAL = 3,
};

/* Caps (inputs past them are refused or cut, as each function says). */
#define ALERT_KEY_MAX 512           /* bytes of a condition key */
#define ALERT_DEDUP_KEY_MAX 255     /* PagerDuty's dedup_key limit */
#define ALERT_SUMMARY_MAX 1024      /* PagerDuty's summary limit; cut */
#define ALERT_MAX_DETAILS 32        /* key/value pairs per alert */
#define ALERT_DETAIL_KEY_MAX 64     /* bytes of a detail key */
#define ALERT_DETAIL_VALUE_MAX 1024 /* bytes of a detail value; cut */
#define ALERT_MAX_CHANNELS CFG_MAX_CHANNELS
#define ALERT_MAX_CONDITIONS 1024 /* active conditions at once */
#define ALERT_PROTOCOL_MAX (CFG_NAME_MAX - 1)

#define ALERT_PAGERDUTY_URL "https://events.pagerduty.com/v2/enqueue"

/* Metric families (see the header comment). */
#define ALERT_METRIC_SENT_TOTAL "keeper_alerts_sent_total"
#define ALERT_METRIC_FAILURES_TOTAL "keeper_alert_failures_total"
#define ALERT_METRIC_DROPPED_TOTAL "keeper_alerts_dropped_total"

/* Tuning; a zero field takes the default shown. */
struct alert_opts {
    const char *protocol;     /* required: [a-z0-9_-], 1-63 chars */
    const char *source;       /* PagerDuty payload.source and the webhook
                                 "source"; NULL: the host name */
    uint32_t max_attempts;    /* 6: attempts per delivery, first included */
    uint32_t backoff_base_ms; /* 2000: wait before the first retry */
    uint32_t backoff_max_ms;  /* 60000: cap on one wait */
    uint32_t give_up_ms;      /* 300000: no retry starts later than this
                                 after the first attempt */
    uint32_t rate_limited_ms; /* 30000: least wait after a 429 */
    uint32_t timeout_ms;      /* 10000: one request, connect included */
    uint32_t queue_cap;       /* 128 per channel (at least 2) */
    uint64_t seed;            /* jitter PRNG seed; 0: from the clock */
    int64_t (*now_ms)(void);  /* wall clock (ms since the epoch) for
                                 timestamps; NULL: the real clock */
};

/* Counters over all channels, for /status and summaries. */
struct alert_stats {
    uint64_t queued;    /* deliveries enqueued (one per channel) */
    uint64_t delivered; /* accepted with a 2xx */
    uint64_t retries;   /* attempts after a retryable failure */
    uint64_t failed;    /* abandoned: permanent error or retries spent */
    uint64_t dropped;   /* dropped from a full queue */
    size_t active;      /* conditions active now */
};

/* Key/value details as the (kv, nkv) argument pair:
 * alert_raise(m, key, sev, summary, ALERT_KV("tier", "T2", "reserve",
 * "1200.5")). Use ALERT_NO_KV for none. A NULL value becomes JSON null. */
/* clang-format off */
#define ALERT_KV(...)                                                          \
    (const char *const[]){__VA_ARGS__},                                        \
    (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
/* clang-format on */
#define ALERT_NO_KV NULL, 0

/* Create a manager for one protocol and its channels (copied, secrets
 * included; `ch` may be freed afterwards). It owns an HTTP client on
 * `loop`. A PagerDuty channel without a URL posts to ALERT_PAGERDUTY_URL.
 * Returns: 0; KP_EINVAL for a bad protocol name or option, or a channel
 *          without a name, with a URL that is not http(s), a webhook or
 *          Slack channel without a URL, or a PagerDuty channel without a
 *          routing key (the channel is named in a log line, its secrets
 *          never are);
 *          KP_ERANGE for more than ALERT_MAX_CHANNELS channels; an error
 *          of metrics_define / metrics_series. Several managers (one per
 *          protocol) may share `reg`; series are per channel name.
 * Out: *out   In: loop, reg (NULL: no metrics), o, ch, nch */
int alert_mgr_new(struct alert_mgr **out, uv_loop_t *loop, struct metrics *reg,
                  const struct alert_opts *o, const struct cfg_channel *ch,
                  size_t nch);

/* Abandon queued and in-flight deliveries (see alert_mgr_pending to drain
 * first), wipe the secrets and release the manager; the memory goes once
 * the loop has closed its handles (run the loop before uv_loop_close).
 * NULL is a no-op. */
void alert_mgr_free(struct alert_mgr *m);

/* Raise condition `key` (or change its severity). Summary and values
 * longer than their caps are cut at a UTF-8 boundary; invalid UTF-8 and
 * control bytes are replaced.
 * Returns: 0 (also when nothing had to be sent); KP_EINVAL for a key
 *          that is empty or holds bytes outside printable ASCII or a
 *          space, a NULL summary, a bad severity, an odd nkv, or a detail
 *          key that is NULL, empty, repeated or longer than
 *          ALERT_DETAIL_KEY_MAX;
 *          KP_ERANGE for a key longer than ALERT_KEY_MAX or more than
 *          ALERT_MAX_DETAILS pairs; KP_ELIMIT when ALERT_MAX_CONDITIONS
 *          conditions are already active.
 * In: m, key, sev, summary, kv, nkv */
int alert_raise(struct alert_mgr *m, const char *key, enum alert_severity sev,
                const char *summary, const char *const *kv, size_t nkv);

/* Clear condition `key`: a resolve to every channel it was sent to.
 * Returns: 0 (also when it was not active); KP_EINVAL or KP_ERANGE for
 *          a key as alert_raise refuses.
 * In: m, key */
int alert_clear(struct alert_mgr *m, const char *key);

/* Send a one-shot notice (action sent / confirmed / failed, an info
 * event): status "event" on webhooks, a message on Slack, and on
 * PagerDuty a trigger whose dedup_key is built from `key` (so repeats
 * fold into one alert, and someone resolves it by hand). Not a condition:
 * nothing is remembered and nothing resolves it.
 * Returns: as alert_raise, without KP_ELIMIT.
 * In: m, key, sev, summary, kv, nkv */
int alert_notify(struct alert_mgr *m, const char *key, enum alert_severity sev,
                 const char *summary, const char *const *kv, size_t nkv);

/* Returns: true if condition `key` is active (false for a bad key). */
bool alert_is_active(const struct alert_mgr *m, const char *key);

/* Returns: deliveries queued or in flight over all channels (0: drained,
 * e.g. before a clean shutdown). */
size_t alert_mgr_pending(const struct alert_mgr *m);

/* Out: *st   In: m */
void alert_mgr_stats(const struct alert_mgr *m, struct alert_stats *st);

/* Returns: "info", "warning", "error", "critical" ("unknown" otherwise). */
const char *alert_severity_name(enum alert_severity s);

/* Returns: the alert severity for a configured one (info, warning,
 * critical map to the same names). */
enum alert_severity alert_severity_from_cfg(enum cfg_severity s);

/* Write the PagerDuty dedup_key of condition `key`: "<protocol>/<key>"
 * when that fits in ALERT_DEDUP_KEY_MAX bytes; otherwise its first 238
 * bytes, '~' and 16 hex digits of the keccak-256 of the whole, so it is
 * stable, within the cap, and distinct for distinct keys.
 * Returns: 0; KP_ERANGE if outcap < ALERT_DEDUP_KEY_MAX + 1.
 * Out: out   In: outcap, protocol, key */
int alert_dedup_key(char *out, size_t outcap, const char *protocol,
                    const char *key);

#endif
