/*
 * alert_int.h - private to keeper/alert*.c and their tests: the event a
 * payload is built from, the per-channel payload builders (alert_fmt.c),
 * and the retry policy.
 */
#ifndef KP_KEEPER_ALERT_INT_H
#define KP_KEEPER_ALERT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/http.h"
#include "keeper/alert.h"

enum alert_status {
    ALERT_FIRING = 0,
    ALERT_RESOLVED = 1,
    ALERT_EVENT = 2, /* one-shot notice */
};

/* Everything a payload needs. Strings are borrowed; summary and detail
 * values may be any bytes (the builders clean and cut them). */
struct alert_event {
    enum alert_status status;
    enum alert_severity sev; /* for RESOLVED: the last one raised */
    const char *protocol;
    const char *source;
    const char *key;
    const char *dedup_key;
    const char *summary;
    const char *const *kv; /* nkv/2 pairs; values may be NULL */
    size_t nkv;
    int64_t ts_ms; /* wall clock when raised, ms since the epoch */
};

/* Returns: "firing", "resolved", "event". */
const char *alert_status_name(enum alert_status s);

/* Write `ms` as ISO 8601 UTC with milliseconds, "2023-11-14T22:13:20.123Z".
 * Out: out (at least 25 bytes)   In: ms (>= 0) */
#define ALERT_TS_BUF 32
void alert_fmt_timestamp(char out[ALERT_TS_BUF], int64_t ms);

/* Copy at most `maxbytes` bytes of `in` into out, cut at a UTF-8
 * boundary, with invalid UTF-8 and control bytes (tab and newline kept
 * when `keep_nl`) replaced by U+FFFD.
 * Returns: the length written (out is NUL-terminated).
 * Out: out (cap bytes, cap > maxbytes)   In: cap, in, maxbytes, keep_nl */
size_t alert_fmt_clean(char *out, size_t cap, const char *in, size_t maxbytes,
                       bool keep_nl);

/* Build the JSON body for one channel type. PagerDuty needs the routing
 * key; the others ignore it (NULL).
 * Returns: 0 (the body is in *out: malloc'd, NUL-terminated, the caller
 * wipes and frees it). Out of memory is fatal.
 * Out: *out, *outlen   In: ev, routing_key */
int alert_fmt_webhook(char **out, size_t *outlen, const struct alert_event *ev);
int alert_fmt_slack(char **out, size_t *outlen, const struct alert_event *ev);
int alert_fmt_pagerduty(char **out, size_t *outlen,
                        const struct alert_event *ev, const char *routing_key);

/* What a finished attempt means for the delivery. */
enum alert_outcome {
    ALERT_OUT_DELIVERED = 0, /* 2xx */
    ALERT_OUT_RETRY,         /* transport error, timeout, 408, 5xx */
    ALERT_OUT_RATE_LIMITED,  /* 429: retry after at least rate_limited_ms,
                                unless Retry-After says otherwise */
    ALERT_OUT_PERMANENT,     /* any other status: never retried */
};

/* Returns: the outcome of an attempt that ended with `rep`. */
enum alert_outcome alert_classify(const struct http_reply *rep);

/* Wait before retry number `attempt` (1 = the first retry): the capped
 * exponential base * 2^(attempt-1), then a uniform jitter over its upper
 * half, so waits never shrink below half the schedule.
 * Returns: the wait in ms.
 * Out: *rng (advanced)   In: base_ms, max_ms, attempt (>= 1) */
uint64_t alert_backoff_ms(uint64_t *rng, uint32_t base_ms, uint32_t max_ms,
                          unsigned attempt);

#endif
