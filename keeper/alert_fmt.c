/*
 * alert_fmt.c - the request bodies of each channel type: the generic
 * webhook JSON (docs/alerts.md), Slack incoming webhooks ("text" plus
 * Block Kit blocks) and PagerDuty Events API v2 (trigger / resolve).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chain/err.h"
#include "keeper/alert_int.h"

/* Slack refuses a section whose text exceeds 3000 characters; the
 * top-level "text" is kept to the same size. */
#define SLACK_TEXT_MAX 3000

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

const char *
alert_status_name(enum alert_status s)
{
    switch (s) {
    case ALERT_FIRING:
        return "firing";
    case ALERT_RESOLVED:
        return "resolved";
    case ALERT_EVENT:
        return "event";
    }
    return "unknown";
}

void
alert_fmt_timestamp(char out[ALERT_TS_BUF], int64_t ms)
{
    time_t secs;
    struct tm tm;

    if (ms < 0)
        ms = 0;
    secs = (time_t)(ms / 1000);
    gmtime_r(&secs, &tm);
    snprintf(out, ALERT_TS_BUF, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ---- UTF-8 cleaning ---------------------------------------------------- */

/* Returns: the length of the valid UTF-8 sequence at s (1-4), or 0. */
static size_t
utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    /* Overlong forms, surrogates and code points past U+10FFFF are out. */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

size_t
alert_fmt_clean(char *out, size_t cap, const char *in, size_t maxbytes,
                bool keep_nl)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t len = 0;

    assert(out && cap > maxbytes);
    while (*s) {
        size_t n = utf8_seq_len(s);
        const char *src = (const char *)s;
        size_t outn = n;

        if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
            bool ws = *s == '\n' || *s == '\t' || *s == '\r';

            /* Line breaks become spaces where one line is wanted. */
            if (ws && (keep_nl && *s != '\r')) {
                src = (const char *)s;
                outn = 1;
            } else if (ws) {
                src = " ";
                outn = 1;
            } else {
                src = REPLACEMENT;
                outn = 3;
            }
            n = 1;
        }
        if (len + outn > maxbytes)
            break;
        memcpy(out + len, src, outn);
        len += outn;
        s += n;
    }
    out[len] = '\0';
    return len;
}

/* Returns: a cleaned, capped copy of `in` (malloc'd). */
static char *
clean_dup(const char *in, size_t maxbytes, bool keep_nl)
{
    char *out = kp_xmalloc(maxbytes + 1);

    alert_fmt_clean(out, maxbytes + 1, in, maxbytes, keep_nl);
    return out;
}

/* ---- a capped string builder ------------------------------------------ */

struct sbuf {
    char *p;
    size_t len, cap; /* cap: most bytes of text, NUL not counted */
    bool full;
};

static void
sb_init(struct sbuf *b, size_t cap)
{
    b->p = kp_xmalloc(cap + 1);
    b->p[0] = '\0';
    b->len = 0;
    b->cap = cap;
    b->full = false;
}

/* Append n bytes unless they do not fit (then mark the buffer full:
 * nothing more goes in, so a cut never splits a character or entity). */
static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->full || b->len + n > b->cap) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Append clean UTF-8 text with Slack's three control characters escaped
 * (&, <, > would otherwise be read as markup: "<!channel>" pings). */
static void
sb_put_slack(struct sbuf *b, const char *s)
{
    while (*s && !b->full) {
        size_t n = utf8_seq_len((const unsigned char *)s);

        if (n == 0)
            n = 1; /* not reached: the input was cleaned */
        if (*s == '&')
            sb_puts(b, "&amp;");
        else if (*s == '<')
            sb_puts(b, "&lt;");
        else if (*s == '>')
            sb_puts(b, "&gt;");
        else
            sb_put(b, s, n);
        s += n;
    }
}

/* ---- shared pieces ----------------------------------------------------- */

static char *
print_take(cJSON *root, size_t *outlen)
{
    char *s = cJSON_PrintUnformatted(root);

    if (!s) {
        fprintf(stderr, "alert: out of memory\n");
        abort();
    }
    cJSON_Delete(root);
    *outlen = strlen(s);
    return s;
}

static void
add_str(cJSON *o, const char *name, const char *v)
{
    if (!cJSON_AddStringToObject(o, name, v)) {
        fprintf(stderr, "alert: out of memory\n");
        abort();
    }
}

/* Add `s` cleaned and capped. */
static void
add_clean(cJSON *o, const char *name, const char *s, size_t maxbytes,
          bool keep_nl)
{
    char *v = clean_dup(s, maxbytes, keep_nl);

    add_str(o, name, v);
    free(v);
}

/* The details as a JSON object of strings (NULL values become null). */
static cJSON *
details_object(const struct alert_event *ev)
{
    cJSON *d = cJSON_CreateObject();

    for (size_t i = 0; d && i + 1 < ev->nkv; i += 2) {
        char *k = clean_dup(ev->kv[i], ALERT_DETAIL_KEY_MAX, false);

        if (ev->kv[i + 1] == NULL)
            cJSON_AddNullToObject(d, k);
        else
            add_clean(d, k, ev->kv[i + 1], ALERT_DETAIL_VALUE_MAX, true);
        free(k);
    }
    if (!d) {
        fprintf(stderr, "alert: out of memory\n");
        abort();
    }
    return d;
}

/* ---- generic webhook --------------------------------------------------- */

int
alert_fmt_webhook(char **out, size_t *outlen, const struct alert_event *ev)
{
    char ts[ALERT_TS_BUF];
    cJSON *root = cJSON_CreateObject();

    assert(out && outlen && ev);
    alert_fmt_timestamp(ts, ev->ts_ms);
    cJSON_AddNumberToObject(root, "version", 1);
    add_str(root, "status", alert_status_name(ev->status));
    add_str(root, "key", ev->key);
    add_str(root, "dedup_key", ev->dedup_key);
    add_str(root, "severity", alert_severity_name(ev->sev));
    add_clean(root, "summary", ev->summary, ALERT_SUMMARY_MAX, false);
    add_str(root, "protocol", ev->protocol);
    add_str(root, "source", ev->source);
    cJSON_AddItemToObject(root, "details", details_object(ev));
    add_str(root, "timestamp", ts);
    *out = print_take(root, outlen);
    return 0;
}

/* ---- Slack ------------------------------------------------------------- */

static const char *
slack_emoji(const struct alert_event *ev)
{
    if (ev->status == ALERT_RESOLVED)
        return ":white_check_mark:";
    switch (ev->sev) {
    case ALERT_CRITICAL:
        return ":red_circle:";
    case ALERT_ERROR:
        return ":large_orange_circle:";
    case ALERT_WARNING:
        return ":warning:";
    case ALERT_INFO:
        break;
    }
    return ":information_source:";
}

static const char *
slack_label(const struct alert_event *ev)
{
    static const char *const names[] = {"INFO", "WARNING", "ERROR", "CRITICAL"};

    if (ev->status == ALERT_RESOLVED)
        return "RESOLVED";
    return (unsigned)ev->sev <= ALERT_CRITICAL ? names[ev->sev] : "ALERT";
}

/* ":red_circle: *CRITICAL* [proto] summary" */
static void
slack_headline(struct sbuf *b, const struct alert_event *ev,
               const char *summary)
{
    sb_puts(b, slack_emoji(ev));
    sb_puts(b, " *");
    sb_puts(b, slack_label(ev));
    sb_puts(b, "* [");
    sb_put_slack(b, ev->protocol);
    sb_puts(b, "] ");
    sb_put_slack(b, summary);
}

/* Headline, then one "• *key*: value" line per detail while they fit. */
static char *
slack_section_text(const struct alert_event *ev, const char *summary)
{
    struct sbuf b;

    sb_init(&b, SLACK_TEXT_MAX);
    slack_headline(&b, ev, summary);
    for (size_t i = 0; i + 1 < ev->nkv && !b.full; i += 2) {
        char *k = clean_dup(ev->kv[i], ALERT_DETAIL_KEY_MAX, false);
        char *v = clean_dup(ev->kv[i + 1] ? ev->kv[i + 1] : "null",
                            ALERT_DETAIL_VALUE_MAX, false);
        struct sbuf line;

        /* Build the line apart so that a detail goes in whole or not. */
        sb_init(&line, SLACK_TEXT_MAX);
        sb_puts(&line, "\n\xe2\x80\xa2 *");
        sb_put_slack(&line, k);
        sb_puts(&line, "*: ");
        sb_put_slack(&line, v);
        if (!line.full)
            sb_put(&b, line.p, line.len);
        free(line.p);
        free(k);
        free(v);
    }
    return b.p;
}

static cJSON *
slack_text_obj(const char *type, const char *text)
{
    cJSON *t = cJSON_CreateObject();

    add_str(t, "type", type);
    add_str(t, "text", text);
    return t;
}

static cJSON *
slack_blocks(const struct alert_event *ev, const char *summary)
{
    char ts[ALERT_TS_BUF], *text = slack_section_text(ev, summary);
    cJSON *blocks = cJSON_CreateArray(), *sec = cJSON_CreateObject();
    cJSON *ctx = cJSON_CreateObject(), *els = cJSON_CreateArray();
    struct sbuf c;

    add_str(sec, "type", "section");
    cJSON_AddItemToObject(sec, "text", slack_text_obj("mrkdwn", text));
    cJSON_AddItemToArray(blocks, sec);
    free(text);

    alert_fmt_timestamp(ts, ev->ts_ms);
    sb_init(&c, SLACK_TEXT_MAX);
    sb_puts(&c, "`");
    sb_put_slack(&c, ev->dedup_key);
    sb_puts(&c, "` \xc2\xb7 ");
    sb_put_slack(&c, ev->source);
    sb_puts(&c, " \xc2\xb7 ");
    sb_puts(&c, ts);
    add_str(ctx, "type", "context");
    cJSON_AddItemToArray(els, slack_text_obj("mrkdwn", c.p));
    cJSON_AddItemToObject(ctx, "elements", els);
    cJSON_AddItemToArray(blocks, ctx);
    free(c.p);
    return blocks;
}

int
alert_fmt_slack(char **out, size_t *outlen, const struct alert_event *ev)
{
    char *summary = clean_dup(ev->summary, ALERT_SUMMARY_MAX, false);
    cJSON *root = cJSON_CreateObject();
    struct sbuf text;

    assert(out && outlen && ev);
    /* "text" is what notifications show when blocks are present. */
    sb_init(&text, SLACK_TEXT_MAX);
    slack_headline(&text, ev, summary);
    add_str(root, "text", text.p);
    cJSON_AddItemToObject(root, "blocks", slack_blocks(ev, summary));
    free(text.p);
    free(summary);
    *out = print_take(root, outlen);
    return 0;
}

/* ---- PagerDuty Events API v2 ------------------------------------------- */

/* The event class: the key up to its first '/' ("stale_oracle"). */
static char *
pd_class(const char *key)
{
    size_t n = strcspn(key, "/");
    char *c = kp_xmalloc(n + 1);

    memcpy(c, key, n);
    c[n] = '\0';
    return c;
}

static cJSON *
pd_payload(const struct alert_event *ev)
{
    char ts[ALERT_TS_BUF], *cls = pd_class(ev->key);
    cJSON *p = cJSON_CreateObject(), *d = details_object(ev);

    alert_fmt_timestamp(ts, ev->ts_ms);
    add_clean(p, "summary", ev->summary, ALERT_SUMMARY_MAX, false);
    add_str(p, "source", ev->source);
    add_str(p, "severity", alert_severity_name(ev->sev));
    add_str(p, "timestamp", ts);
    add_str(p, "component", "backstop-keeper");
    add_str(p, "group", ev->protocol);
    add_str(p, "class", cls);
    if (!cJSON_GetObjectItemCaseSensitive(d, "key"))
        add_str(d, "key", ev->key);
    cJSON_AddItemToObject(p, "custom_details", d);
    free(cls);
    return p;
}

/* Append `s` as a JSON string literal. */
static void
sb_put_json_str(struct sbuf *b, const char *s)
{
    sb_puts(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            sb_put(b, esc, 6);
        } else {
            sb_put(b, (const char *)s, 1);
        }
    }
    sb_puts(b, "\"");
}

int
alert_fmt_pagerduty(char **out, size_t *outlen, const struct alert_event *ev,
                    const char *routing_key)
{
    cJSON *root = cJSON_CreateObject();
    struct sbuf b;
    size_t rest_len;
    char *rest;

    assert(out && outlen && ev && routing_key);
    add_str(root, "event_action",
            ev->status == ALERT_RESOLVED ? "resolve" : "trigger");
    add_str(root, "dedup_key", ev->dedup_key);
    if (ev->status != ALERT_RESOLVED) {
        add_str(root, "client", "Backstop Keeper");
        cJSON_AddItemToObject(root, "payload", pd_payload(ev));
    }
    /* The routing key is spliced in here rather than handed to cJSON, so
     * that the only copies of it are ours, wiped when freed. */
    rest = print_take(root, &rest_len);
    sb_init(&b, rest_len + 6 * strlen(routing_key) + 32);
    sb_puts(&b, "{\"routing_key\":");
    sb_put_json_str(&b, routing_key);
    sb_puts(&b, ",");
    sb_put(&b, rest + 1, rest_len - 1);
    cJSON_free(rest);
    assert(!b.full);
    *out = b.p;
    *outlen = b.len;
    return 0;
}
