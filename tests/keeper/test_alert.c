/* keeper/alert: payload builders (known answers, UTF-8 cleaning, caps,
 * Slack escaping), dedup keys, the retry policy, and the manager end to
 * end against tests/keeper/alert_receiver.js, a real HTTP receiver (node)
 * that checks each API's documented request shape: one alert per
 * condition, severity changes, resolves with the same dedup_key,
 * min_severity, retries in order, no retry on 400, Retry-After on 429 and
 * 503 (from a small server on the test loop), giving up while the
 * loop keeps ticking, timeouts, queue overflow, metrics, secrets never in
 * logs, misuse. The loop is driven until a condition holds, with a hard
 * deadline; nothing sleeps. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "chain/err.h"
#include "chain/http.h"
#include "keeper/alert.h"
#include "keeper/alert_int.h"
#include "keeper/log.h"
#include "keeper/metrics.h"
#include "tests/keeper/promtool.h"
#include "tests/support/net.h"
#include "tests/support/proc.h"
#include "tests/support/uvrun.h"

#define WAIT_MS 15000
#define FIXED_NOW 1700000000123LL /* 2023-11-14T22:13:20.123Z */
#define ROUTING_KEY "R0UT1NGKEYsecret0123456789abcdef" /* 32 chars */

/* ---- the receiver process ---------------------------------------------- */

static uv_loop_t loop;
static pid_t rcv_pid = -1;
static int rcv_port = -1;
static int rcv_stdin = -1; /* held open: the receiver exits when it closes */
static uv_pipe_t rcv_out;
static char *rcv_buf;
static size_t rcv_len;
static cJSON *records; /* array of request records, in arrival order */

static char *log_text; /* everything logged (open_memstream) */
static size_t log_len;
static FILE *log_file;

static void
rcv_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    rcv_buf = realloc(rcv_buf, rcv_len + 65536 + 1);
    assert_non_null(rcv_buf);
    *buf = uv_buf_init(rcv_buf + rcv_len, 65536);
}

static void
rcv_line(const char *line)
{
    cJSON *rec;

    if (strncmp(line, "PORT ", 5) == 0) {
        rcv_port = atoi(line + 5);
        return;
    }
    rec = cJSON_Parse(line);
    if (rec)
        cJSON_AddItemToArray(records, rec);
    else
        fprintf(stderr, "receiver line not JSON: %s\n", line);
}

static void
rcv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    char *nl;

    (void)s;
    (void)buf;
    if (n <= 0)
        return;
    rcv_len += (size_t)n;
    rcv_buf[rcv_len] = '\0';
    while ((nl = memchr(rcv_buf, '\n', rcv_len)) != NULL) {
        size_t used = (size_t)(nl - rcv_buf) + 1;

        *nl = '\0';
        rcv_line(rcv_buf);
        memmove(rcv_buf, nl + 1, rcv_len - used);
        rcv_len -= used;
    }
}

static bool
port_known(void *arg)
{
    (void)arg;
    return rcv_port > 0;
}

/* Start the receiver with pipes for its stdin (held open: it exits when
 * that closes) and stdout (read on the loop); stderr stays the test's. */
static int
rcv_spawn(void)
{
    char script[4096];
    struct ts_spawn_opts so;
    int in[2], out[2];

    if (ts_source_path(script, sizeof(script),
                       "tests/keeper/alert_receiver.js") != 0)
        snprintf(script, sizeof(script), "./tests/keeper/alert_receiver.js");
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return -1;
    ts_spawn_opts_init(&so);
    so.in = in[0];
    so.out = out[1];
    so.err = TS_FD_KEEP;
    so.path_search = true;
    rcv_pid = ts_spawn((char *[]){"node", script, NULL}, &so);
    close(in[0]);
    close(out[1]);
    rcv_stdin = in[1];
    if (rcv_pid < 0)
        return -1;
    uv_pipe_init(&loop, &rcv_out, 0);
    uv_pipe_open(&rcv_out, out[0]);
    uv_read_start((uv_stream_t *)&rcv_out, rcv_alloc, rcv_read);
    return ts_run_until(&loop, port_known, NULL, WAIT_MS) ? 0 : -1;
}

static int
group_setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    records = cJSON_CreateArray();
    log_file = open_memstream(&log_text, &log_len);
    if (!log_file)
        return -1;
    log_init(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT, log_file);
    return rcv_spawn();
}

static int
group_teardown(void **state)
{
    int rc;

    (void)state;
    ts_kill(&rcv_pid, SIGTERM);
    if (rcv_stdin >= 0)
        close(rcv_stdin);
    uv_read_stop((uv_stream_t *)&rcv_out);
    uv_close((uv_handle_t *)&rcv_out, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop);
    log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, NULL);
    fclose(log_file);
    if (getenv("KP_TEST_SHOW_LOG") && log_text) /* for debugging */
        fputs(log_text, stderr);
    free(log_text);
    free(rcv_buf);
    cJSON_Delete(records);
    return rc == 0 ? 0 : -1;
}

/* ---- records ----------------------------------------------------------- */

/* Returns: the number of records whose path ends with "/<tag>". */
static size_t
count_tag(const char *tag)
{
    size_t n = 0, tl = strlen(tag);
    cJSON *r;

    cJSON_ArrayForEach(r, records)
    {
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(r, "path"));
        size_t pl = p ? strlen(p) : 0;

        if (pl > tl && p[pl - tl - 1] == '/' && strcmp(p + pl - tl, tag) == 0)
            n++;
    }
    return n;
}

/* Returns: the i-th record (0-based) whose path ends with "/<tag>". */
static cJSON *
nth_tag(const char *tag, size_t i)
{
    size_t tl = strlen(tag);
    cJSON *r;

    cJSON_ArrayForEach(r, records)
    {
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(r, "path"));
        size_t pl = p ? strlen(p) : 0;

        if (pl > tl && p[pl - tl - 1] == '/' && strcmp(p + pl - tl, tag) == 0 &&
            i-- == 0)
            return r;
    }
    fail_msg("no record %zu for tag %s", i, tag);
    return NULL;
}

static const char *
jstr(const cJSON *o, const char *path)
{
    char buf[256], *save = NULL, *tok;
    const cJSON *cur = o;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save))
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    return cur ? cJSON_GetStringValue(cur) : NULL;
}

/* Assert that record `r` passed the receiver's shape checks. */
static void
assert_valid(const cJSON *r)
{
    const cJSON *errs = cJSON_GetObjectItem(r, "errors");

    if (cJSON_GetArraySize(errs) != 0) {
        char *s = cJSON_PrintUnformatted(r);

        fail_msg("receiver found shape errors: %s", s);
    }
}

static long
rstatus(const cJSON *r)
{
    return (long)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "status"));
}

/* ---- manager fixtures -------------------------------------------------- */

static int64_t
fixed_now(void)
{
    return FIXED_NOW;
}

static struct alert_opts
test_opts(void)
{
    return (struct alert_opts){
        .protocol = "perpx",
        .source = "keeper-test",
        .backoff_base_ms = 20,
        .backoff_max_ms = 80,
        .give_up_ms = 10000,
        .rate_limited_ms = 150,
        .timeout_ms = 5000,
        .seed = 42,
        .now_ms = fixed_now,
    };
}

static void
chan_set(struct cfg_channel *c, const char *name, enum cfg_channel_type type,
         const char *path, enum cfg_severity min)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->type = type;
    snprintf(c->url.value, sizeof(c->url.value), "http://127.0.0.1:%d%s",
             rcv_port, path);
    if (type == CFG_CHANNEL_PAGERDUTY)
        snprintf(c->routing_key.value, sizeof(c->routing_key.value), "%s",
                 ROUTING_KEY);
    c->min_severity = min;
}

/* A manager with the one channel `name` at `path` of the receiver, for
 * every severity.   Out: *ch (the channel's settings) */
static struct alert_mgr *
mgr_one(struct cfg_channel *ch, const char *name, enum cfg_channel_type type,
        const char *path, const struct alert_opts *o, struct metrics *reg)
{
    struct alert_mgr *m;

    chan_set(ch, name, type, path, CFG_SEVERITY_INFO);
    assert_int_equal(alert_mgr_new(&m, &loop, reg, o, ch, 1), 0);
    return m;
}

/* hook, slack and pd channels at /hook/<tag>, /slack/<tag>, /pd/<tag>. */
static void
three_channels(struct cfg_channel ch[3], const char *tag, enum cfg_severity min)
{
    char p[128];

    snprintf(p, sizeof(p), "/hook/%s", tag);
    chan_set(&ch[0], "ops-hook", CFG_CHANNEL_WEBHOOK, p, min);
    snprintf(p, sizeof(p), "/slack/%s", tag);
    chan_set(&ch[1], "ops-slack", CFG_CHANNEL_SLACK, p, min);
    snprintf(p, sizeof(p), "/pd/%s", tag);
    chan_set(&ch[2], "oncall-pd", CFG_CHANNEL_PAGERDUTY, p, min);
}

struct settle {
    struct alert_mgr *m;
    const char *tag;
};

/* Nothing pending, and every attempt made has reached the receiver's
 * record list (each attempt ends delivered, retried or failed). */
static bool
settled(void *arg)
{
    struct settle *s = arg;
    struct alert_stats st;

    alert_mgr_stats(s->m, &st);
    return alert_mgr_pending(s->m) == 0 &&
           count_tag(s->tag) >= st.delivered + st.retries + st.failed;
}

/* Run until `m` has settled; `want` records then carry `tag`. */
static void
settle(struct alert_mgr *m, const char *tag, size_t want)
{
    struct settle s = {m, tag};

    assert_true(ts_run_until(&loop, settled, &s, WAIT_MS));
    assert_int_equal(count_tag(tag), want);
}

static void
mgr_done(struct alert_mgr *m)
{
    alert_mgr_free(m);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static double
counter(struct metrics *reg, const char *name, const char *const *v, size_t n)
{
    struct metric *h;

    assert_int_equal(metrics_series(reg, &h, name, v, n), 0);
    return metric_value(h);
}

/* ---- pure functions ---------------------------------------------------- */

static void
test_timestamp(void **state)
{
    char ts[ALERT_TS_BUF];

    (void)state;
    alert_fmt_timestamp(ts, 0);
    assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
    alert_fmt_timestamp(ts, FIXED_NOW);
    assert_string_equal(ts, "2023-11-14T22:13:20.123Z");
    alert_fmt_timestamp(ts, 951782400007LL); /* leap day 2000 */
    assert_string_equal(ts, "2000-02-29T00:00:00.007Z");
    alert_fmt_timestamp(ts, -5);
    assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
}

static void
test_clean(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(alert_fmt_clean(out, sizeof(out), "ok", 10, false), 2);
    assert_string_equal(out, "ok");
    /* Multi-byte characters are never split: "é" is 2 bytes. */
    assert_int_equal(alert_fmt_clean(out, sizeof(out), "a\xc3\xa9", 2, false),
                     1);
    assert_string_equal(out, "a");
    /* Invalid UTF-8 (a lone continuation, an overlong '/', a surrogate)
     * and control bytes become U+FFFD. */
    alert_fmt_clean(out, sizeof(out), "\x80|\xc0\xaf|\xed\xa0\x80|\x01", 60,
                    false);
    assert_string_equal(out, "\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                             "\xef\xbf\xbd");
    /* Line breaks: kept on request, else spaces. */
    alert_fmt_clean(out, sizeof(out), "a\nb\tc\r", 60, true);
    assert_string_equal(out, "a\nb\tc ");
    alert_fmt_clean(out, sizeof(out), "a\nb", 60, false);
    assert_string_equal(out, "a b");
    /* A 4-byte character is valid; one past U+10FFFF is not. */
    alert_fmt_clean(out, sizeof(out), "\xf0\x9f\x94\xa5\xf4\x90\x80\x80", 60,
                    false);
    assert_memory_equal(out, "\xf0\x9f\x94\xa5\xef\xbf\xbd", 7);
    alert_fmt_clean(out, sizeof(out), NULL, 10, false);
    assert_string_equal(out, "");
}

static void
test_dedup_key(void **state)
{
    char a[ALERT_DEDUP_KEY_MAX + 1], b[ALERT_DEDUP_KEY_MAX + 1];
    char key[ALERT_KEY_MAX + 1];

    (void)state;
    assert_int_equal(alert_dedup_key(a, sizeof(a), "perpx", "tier"), 0);
    assert_string_equal(a, "perpx/tier");
    assert_int_equal(alert_dedup_key(a, 10, "perpx", "tier"), KP_ERANGE);

    /* Exactly 255 bytes: kept as is. */
    memset(key, 'k', 249);
    key[249] = '\0';
    assert_int_equal(alert_dedup_key(a, sizeof(a), "perpx", key), 0);
    assert_int_equal(strlen(a), 255);
    assert_int_equal(a[5], '/');
    assert_null(strchr(a, '~'));

    /* 256: hashed, 255 bytes, stable, and distinct from a neighbour. */
    memset(key, 'k', ALERT_KEY_MAX);
    key[ALERT_KEY_MAX] = '\0';
    assert_int_equal(alert_dedup_key(a, sizeof(a), "perpx", key), 0);
    assert_int_equal(strlen(a), ALERT_DEDUP_KEY_MAX);
    assert_int_equal(a[238], '~');
    assert_int_equal(strncmp(a, "perpx/kkkk", 10), 0);
    assert_int_equal(alert_dedup_key(b, sizeof(b), "perpx", key), 0);
    assert_string_equal(a, b);
    key[ALERT_KEY_MAX - 1] = 'j';
    assert_int_equal(alert_dedup_key(b, sizeof(b), "perpx", key), 0);
    assert_int_equal(strlen(b), ALERT_DEDUP_KEY_MAX);
    assert_string_not_equal(a, b);
    assert_memory_equal(a, b, 238);
}

static void
test_backoff_and_classify(void **state)
{
    uint64_t rng = 7, d;
    struct http_reply rep = {0};

    (void)state;
    for (int i = 0; i < 200; i++) {
        d = alert_backoff_ms(&rng, 1000, 60000, 1);
        assert_true(d >= 500 && d <= 1000);
        d = alert_backoff_ms(&rng, 1000, 60000, 3);
        assert_true(d >= 2000 && d <= 4000);
        d = alert_backoff_ms(&rng, 1000, 60000, 40); /* capped, no overflow */
        assert_true(d >= 30000 && d <= 60000);
    }
    /* Jitter varies with the seed. */
    uint64_t r1 = 1, r2 = 2;
    assert_int_not_equal(alert_backoff_ms(&r1, 10000, 60000, 2),
                         alert_backoff_ms(&r2, 10000, 60000, 2));

    rep.status = 202;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_DELIVERED);
    rep.status = 200;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_DELIVERED);
    rep.status = 429;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_RATE_LIMITED);
    rep.status = 500;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_RETRY);
    rep.status = 503;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_RETRY);
    rep.status = 408;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_RETRY);
    rep.status = 400;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_PERMANENT);
    rep.status = 404;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_PERMANENT);
    rep.status = 301;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_PERMANENT);
    rep.status = 0;
    rep.err = KP_ETRANSPORT;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_RETRY);
    rep.err = KP_ETIMEOUT;
    assert_int_equal(alert_classify(&rep), ALERT_OUT_RETRY);
}

static struct alert_event
sample_event(enum alert_status st, const char *summary)
{
    static const char *const kv[] = {"reserve", "1200 <USDC>", "note", NULL};

    return (struct alert_event){
        .status = st,
        .sev = ALERT_CRITICAL,
        .protocol = "perpx",
        .source = "host-1",
        .key = "reserve/critical",
        .dedup_key = "perpx/reserve/critical",
        .summary = summary,
        .kv = kv,
        .nkv = 4,
        .ts_ms = FIXED_NOW,
    };
}

static void
test_fmt_webhook(void **state)
{
    struct alert_event ev = sample_event(ALERT_FIRING, "reserve & fund");
    char *body;
    size_t len;
    cJSON *j;

    (void)state;
    assert_int_equal(alert_fmt_webhook(&body, &len, &ev), 0);
    assert_int_equal(strlen(body), len);
    j = cJSON_Parse(body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "version")),
                     1);
    assert_string_equal(jstr(j, "status"), "firing");
    assert_string_equal(jstr(j, "key"), "reserve/critical");
    assert_string_equal(jstr(j, "dedup_key"), "perpx/reserve/critical");
    assert_string_equal(jstr(j, "severity"), "critical");
    assert_string_equal(jstr(j, "summary"), "reserve & fund");
    assert_string_equal(jstr(j, "protocol"), "perpx");
    assert_string_equal(jstr(j, "source"), "host-1");
    assert_string_equal(jstr(j, "timestamp"), "2023-11-14T22:13:20.123Z");
    assert_string_equal(jstr(j, "details.reserve"), "1200 <USDC>");
    assert_true(cJSON_IsNull(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "details"), "note")));
    assert_int_equal(cJSON_GetArraySize(j), 10);
    cJSON_Delete(j);
    free(body);
}

static void
test_fmt_slack(void **state)
{
    struct alert_event ev = sample_event(ALERT_FIRING, "<!channel> A&B > C");
    char *body, *big = malloc(5000);
    size_t len;
    cJSON *j, *blocks;
    const char *text;

    (void)state;
    assert_int_equal(alert_fmt_slack(&body, &len, &ev), 0);
    j = cJSON_Parse(body);
    assert_non_null(j);
    text = jstr(j, "text");
    assert_non_null(text);
    /* Escaped, so "<!channel>" cannot ping anyone. */
    assert_non_null(strstr(text, "&lt;!channel&gt; A&amp;B &gt; C"));
    assert_non_null(strstr(text, "CRITICAL"));
    assert_null(strchr(text, '<'));
    blocks = cJSON_GetObjectItem(j, "blocks");
    assert_int_equal(cJSON_GetArraySize(blocks), 2);
    assert_string_equal(jstr(cJSON_GetArrayItem(blocks, 0), "type"), "section");
    assert_string_equal(jstr(cJSON_GetArrayItem(blocks, 0), "text.type"),
                        "mrkdwn");
    assert_non_null(strstr(jstr(cJSON_GetArrayItem(blocks, 0), "text.text"),
                           "*reserve*: 1200 &lt;USDC&gt;"));
    assert_string_equal(jstr(cJSON_GetArrayItem(blocks, 1), "type"), "context");
    cJSON_Delete(j);
    free(body);

    /* Resolved reads as such. */
    ev = sample_event(ALERT_RESOLVED, "gone");
    assert_int_equal(alert_fmt_slack(&body, &len, &ev), 0);
    j = cJSON_Parse(body);
    assert_non_null(strstr(jstr(j, "text"), "RESOLVED"));
    cJSON_Delete(j);
    free(body);

    /* A summary of 4999 '&' is capped: texts stay within Slack's 3000. */
    memset(big, '&', 4999);
    big[4999] = '\0';
    ev = sample_event(ALERT_FIRING, big);
    assert_int_equal(alert_fmt_slack(&body, &len, &ev), 0);
    j = cJSON_Parse(body);
    assert_true(strlen(jstr(j, "text")) <= 3000);
    blocks = cJSON_GetObjectItem(j, "blocks");
    assert_true(strlen(jstr(cJSON_GetArrayItem(blocks, 0), "text.text")) <=
                3000);
    /* Never a cut entity. */
    text = jstr(j, "text");
    assert_true(strlen(text) >= 5 &&
                strcmp(text + strlen(text) - 5, "&amp;") == 0);
    cJSON_Delete(j);
    free(body);
    free(big);
}

static void
test_fmt_pagerduty(void **state)
{
    struct alert_event ev = sample_event(ALERT_FIRING, "x");
    char *body, *big = malloc(3000);
    size_t len;
    cJSON *j;

    (void)state;
    assert_int_equal(alert_fmt_pagerduty(&body, &len, &ev, ROUTING_KEY), 0);
    j = cJSON_Parse(body);
    assert_non_null(j);
    assert_string_equal(jstr(j, "routing_key"), ROUTING_KEY);
    assert_string_equal(jstr(j, "event_action"), "trigger");
    assert_string_equal(jstr(j, "dedup_key"), "perpx/reserve/critical");
    assert_string_equal(jstr(j, "payload.summary"), "x");
    assert_string_equal(jstr(j, "payload.source"), "host-1");
    assert_string_equal(jstr(j, "payload.severity"), "critical");
    assert_string_equal(jstr(j, "payload.timestamp"),
                        "2023-11-14T22:13:20.123Z");
    assert_string_equal(jstr(j, "payload.group"), "perpx");
    assert_string_equal(jstr(j, "payload.class"), "reserve");
    assert_string_equal(jstr(j, "payload.custom_details.reserve"),
                        "1200 <USDC>");
    assert_string_equal(jstr(j, "payload.custom_details.key"),
                        "reserve/critical");
    cJSON_Delete(j);
    free(body);

    /* Resolve: routing_key, event_action, dedup_key, nothing else. */
    ev = sample_event(ALERT_RESOLVED, "x");
    assert_int_equal(alert_fmt_pagerduty(&body, &len, &ev, ROUTING_KEY), 0);
    j = cJSON_Parse(body);
    assert_int_equal(cJSON_GetArraySize(j), 3);
    assert_string_equal(jstr(j, "event_action"), "resolve");
    assert_string_equal(jstr(j, "dedup_key"), "perpx/reserve/critical");
    assert_string_equal(jstr(j, "routing_key"), ROUTING_KEY);
    cJSON_Delete(j);
    free(body);

    /* A routing key needing JSON escapes still yields valid JSON. */
    assert_int_equal(alert_fmt_pagerduty(&body, &len, &ev, "a\"b\\c\n"), 0);
    j = cJSON_Parse(body);
    assert_non_null(j);
    assert_string_equal(jstr(j, "routing_key"), "a\"b\\c\n");
    cJSON_Delete(j);
    free(body);

    /* Summary: cut to 1024 bytes on a character boundary ("é" = 2). */
    for (int i = 0; i < 1500; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[2999] = '\0';
    ev = sample_event(ALERT_FIRING, big);
    ev.sev = ALERT_ERROR;
    assert_int_equal(alert_fmt_pagerduty(&body, &len, &ev, ROUTING_KEY), 0);
    j = cJSON_Parse(body);
    assert_int_equal(strlen(jstr(j, "payload.summary")), 1024);
    assert_string_equal(jstr(j, "payload.severity"), "error");
    cJSON_Delete(j);
    free(body);
    free(big);
}

/* ---- misuse ------------------------------------------------------------ */

static void
test_misuse(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch[ALERT_MAX_CHANNELS + 1];
    struct alert_mgr *m;
    char longkey[ALERT_KEY_MAX + 2];
    const char *kv40[80];
    static char names[40][4];

    (void)state;
    three_channels(ch, "misuse", CFG_SEVERITY_INFO);
    o.protocol = "Bad Name";
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);
    assert_null(m);
    o.protocol = NULL;
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);
    o = test_opts();
    o.queue_cap = 1;
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);
    o = test_opts();
    o.backoff_base_ms = 1000;
    o.backoff_max_ms = 10;
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);
    o = test_opts();
    for (int i = 0; i < ALERT_MAX_CHANNELS + 1; i++)
        ch[i] = ch[0];
    assert_int_equal(
        alert_mgr_new(&m, &loop, NULL, &o, ch, ALERT_MAX_CHANNELS + 1),
        KP_ERANGE);
    three_channels(ch, "misuse", CFG_SEVERITY_INFO);
    snprintf(ch[0].url.value, sizeof(ch[0].url.value), "ftp://x/y");
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);
    ch[0].url.value[0] = '\0'; /* webhook without URL */
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);
    three_channels(ch, "misuse", CFG_SEVERITY_INFO);
    ch[2].routing_key.value[0] = '\0';
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);
    three_channels(ch, "misuse", CFG_SEVERITY_INFO);
    ch[1].name[0] = '\0';
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), KP_EINVAL);

    /* A manager without channels works and sends nothing. */
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, NULL, 0), 0);
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        kv40[2 * i] = names[i];
        kv40[2 * i + 1] = i == 3 ? NULL : "v";
    }

    assert_int_equal(alert_raise(m, "", ALERT_INFO, "s", ALERT_NO_KV),
                     KP_EINVAL);
    assert_int_equal(alert_raise(m, NULL, ALERT_INFO, "s", ALERT_NO_KV),
                     KP_EINVAL);
    assert_int_equal(alert_raise(m, "a b", ALERT_INFO, "s", ALERT_NO_KV),
                     KP_EINVAL);
    assert_int_equal(alert_raise(m, "a\x80", ALERT_INFO, "s", ALERT_NO_KV),
                     KP_EINVAL);
    assert_int_equal(alert_raise(m, longkey, ALERT_INFO, "s", ALERT_NO_KV),
                     KP_ERANGE);
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, NULL, ALERT_NO_KV),
                     KP_EINVAL);
    assert_int_equal(
        alert_raise(m, "k", (enum alert_severity)9, "s", ALERT_NO_KV),
        KP_EINVAL);
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, "s", kv40, 3),
                     KP_EINVAL); /* odd */
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, "s", NULL, 2), KP_EINVAL);
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, "s", kv40, 66),
                     KP_ERANGE); /* 33 pairs */
    assert_int_equal(
        alert_raise(m, "k", ALERT_INFO, "s", ALERT_KV("a", "1", "a", "2")),
        KP_EINVAL); /* duplicate */
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, "s", ALERT_KV("", "1")),
                     KP_EINVAL);
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, "s", ALERT_KV(NULL, "1")),
                     KP_EINVAL);
    assert_int_equal(alert_notify(m, "a b", ALERT_INFO, "s", ALERT_NO_KV),
                     KP_EINVAL);
    assert_int_equal(alert_notify(m, "k", ALERT_INFO, NULL, ALERT_NO_KV),
                     KP_EINVAL);
    assert_int_equal(alert_clear(m, ""), KP_EINVAL);
    assert_int_equal(alert_clear(m, longkey), KP_ERANGE);
    assert_false(alert_is_active(m, NULL));
    assert_false(alert_is_active(m, "k"));
    /* 32 pairs are fine; a NULL value too. */
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, "s", kv40, 64), 0);
    assert_true(alert_is_active(m, "k"));
    assert_int_equal(alert_clear(m, "k"), 0);
    assert_int_equal(alert_clear(m, "k"), 0);
    assert_int_equal(alert_mgr_pending(m), 0);

    /* The condition table is bounded. */
    for (int i = 0; i < ALERT_MAX_CONDITIONS; i++) {
        char k[32];

        snprintf(k, sizeof(k), "c/%d", i);
        assert_int_equal(alert_raise(m, k, ALERT_INFO, "s", ALERT_NO_KV), 0);
    }
    assert_int_equal(alert_raise(m, "one-more", ALERT_INFO, "s", ALERT_NO_KV),
                     KP_ELIMIT);
    /* An active one may still change severity. */
    assert_int_equal(alert_raise(m, "c/7", ALERT_ERROR, "s", ALERT_NO_KV), 0);
    assert_string_equal(alert_severity_name((enum alert_severity)9), "unknown");
    assert_int_equal(alert_severity_from_cfg(CFG_SEVERITY_WARNING),
                     ALERT_WARNING);
    mgr_done(m);
    alert_mgr_free(NULL);
}

/* ---- against the receiver ---------------------------------------------- */

/* Raise once: one valid trigger per channel, with the right fields. */
static void
test_raise_one_per_channel(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch[3];
    struct alert_mgr *m;
    cJSON *r;

    (void)state;
    three_channels(ch, "t-raise", CFG_SEVERITY_INFO);
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), 0);
    assert_int_equal(alert_raise(m, "stale_oracle/ETH-USD", ALERT_WARNING,
                                 "ETH/USD price is 93 s old",
                                 ALERT_KV("age_s", "93", "max_age_s", "60")),
                     0);
    assert_true(alert_is_active(m, "stale_oracle/ETH-USD"));
    settle(m, "t-raise", 3);

    /* Records of different channels may interleave: go by kind. */
    for (size_t i = 0; i < 3; i++) {
        r = nth_tag("t-raise", i);
        assert_valid(r);
        const char *kind = jstr(r, "kind");

        if (strcmp(kind, "pagerduty") == 0) {
            assert_int_equal(rstatus(r), 202);
            assert_string_equal(jstr(r, "body.event_action"), "trigger");
            assert_string_equal(jstr(r, "body.dedup_key"),
                                "perpx/stale_oracle/ETH-USD");
            assert_string_equal(jstr(r, "body.routing_key"), ROUTING_KEY);
            assert_string_equal(jstr(r, "body.payload.severity"), "warning");
            assert_string_equal(jstr(r, "body.payload.summary"),
                                "ETH/USD price is 93 s old");
            assert_string_equal(jstr(r, "body.payload.source"), "keeper-test");
            assert_string_equal(jstr(r, "body.payload.class"), "stale_oracle");
            assert_string_equal(jstr(r, "body.payload.custom_details.age_s"),
                                "93");
        } else if (strcmp(kind, "slack") == 0) {
            assert_int_equal(rstatus(r), 200);
            assert_non_null(strstr(jstr(r, "body.text"), "WARNING"));
            assert_non_null(
                strstr(jstr(r, "body.text"), "ETH/USD price is 93 s old"));
        } else {
            assert_string_equal(kind, "webhook");
            assert_int_equal(rstatus(r), 200);
            assert_string_equal(jstr(r, "body.status"), "firing");
            assert_string_equal(jstr(r, "body.key"), "stale_oracle/ETH-USD");
            assert_string_equal(jstr(r, "body.severity"), "warning");
            assert_string_equal(jstr(r, "body.protocol"), "perpx");
            assert_string_equal(jstr(r, "body.details.max_age_s"), "60");
            assert_string_equal(jstr(r, "body.timestamp"),
                                "2023-11-14T22:13:20.123Z");
        }
    }
    mgr_done(m);
}

/* One alert per condition, not one per block; a severity change re-sends
 * with the same dedup_key; clear resolves with it; clearing an inactive
 * key sends nothing. */
static void
test_condition_lifecycle(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch[3];
    struct alert_mgr *m;
    struct alert_stats st;
    const char *tag = "t-life";

    (void)state;
    three_channels(ch, tag, CFG_SEVERITY_INFO);
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), 0);

    assert_int_equal(
        alert_raise(m, "tier", ALERT_WARNING, "amber: H=1.4", ALERT_NO_KV), 0);
    /* The next blocks: same severity, new numbers: nothing queued. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(
            alert_raise(m, "tier", ALERT_WARNING, "amber: H=1.3", ALERT_NO_KV),
            0);
    alert_mgr_stats(m, &st);
    assert_int_equal(st.queued, 3);
    settle(m, tag, 3);

    assert_int_equal(
        alert_raise(m, "tier", ALERT_CRITICAL, "T2: H=0.8", ALERT_NO_KV), 0);
    settle(m, tag, 6);

    assert_int_equal(alert_clear(m, "tier"), 0);
    assert_false(alert_is_active(m, "tier"));
    assert_int_equal(alert_clear(m, "tier"), 0);         /* inactive now */
    assert_int_equal(alert_clear(m, "never-raised"), 0); /* never was */
    alert_mgr_stats(m, &st);
    assert_int_equal(st.queued, 9);
    settle(m, tag, 9);

    /* PagerDuty saw trigger(warning), trigger(critical), resolve, all
     * with one dedup_key; the others firing, firing, resolved. */
    const char *pd_act[] = {"trigger", "trigger", "resolve"};
    const char *pd_sev[] = {"warning", "critical", NULL};
    const char *hook_st[] = {"firing", "firing", "resolved"};
    const char *slack_want[] = {"WARNING", "CRITICAL", "RESOLVED"};
    size_t npd = 0, nhook = 0, nslack = 0;

    for (size_t i = 0; i < 9; i++) {
        cJSON *r = nth_tag(tag, i);
        const char *kind = jstr(r, "kind");

        assert_valid(r);
        if (strcmp(kind, "pagerduty") == 0) {
            assert_string_equal(jstr(r, "body.event_action"), pd_act[npd]);
            assert_string_equal(jstr(r, "body.dedup_key"), "perpx/tier");
            if (pd_sev[npd])
                assert_string_equal(jstr(r, "body.payload.severity"),
                                    pd_sev[npd]);
            else
                assert_int_equal(
                    cJSON_GetArraySize(cJSON_GetObjectItem(r, "body")), 3);
            npd++;
        } else if (strcmp(kind, "webhook") == 0) {
            assert_string_equal(jstr(r, "body.status"), hook_st[nhook]);
            assert_string_equal(jstr(r, "body.dedup_key"), "perpx/tier");
            if (nhook == 2) /* the resolve repeats the last summary */
                assert_string_equal(jstr(r, "body.summary"), "T2: H=0.8");
            nhook++;
        } else {
            assert_non_null(strstr(jstr(r, "body.text"), slack_want[nslack]));
            nslack++;
        }
    }
    assert_int_equal(npd, 3);
    assert_int_equal(nhook, 3);
    assert_int_equal(nslack, 3);

    /* Raised again after the resolve: a new trigger. */
    assert_int_equal(
        alert_raise(m, "tier", ALERT_WARNING, "amber again", ALERT_NO_KV), 0);
    settle(m, tag, 12);
    mgr_done(m);
}

/* min_severity per channel; downgrades resolve where they no longer
 * qualify; a resolve goes only where a trigger went. */
static void
test_min_severity(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch[3];
    struct alert_mgr *m;
    const char *tag = "t-min";

    (void)state;
    three_channels(ch, tag, CFG_SEVERITY_CRITICAL);
    ch[0].min_severity = CFG_SEVERITY_WARNING; /* the webhook */
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), 0);

    /* Info goes nowhere; warning to the webhook only. */
    assert_int_equal(alert_notify(m, "info/x", ALERT_INFO, "i", ALERT_NO_KV),
                     0);
    assert_int_equal(alert_raise(m, "k", ALERT_INFO, "i", ALERT_NO_KV), 0);
    assert_int_equal(alert_mgr_pending(m), 0);
    assert_int_equal(alert_raise(m, "k", ALERT_WARNING, "w", ALERT_NO_KV), 0);
    settle(m, tag, 1);
    assert_string_equal(jstr(nth_tag(tag, 0), "kind"), "webhook");

    /* Critical: all three. */
    assert_int_equal(alert_raise(m, "k", ALERT_CRITICAL, "c", ALERT_NO_KV), 0);
    settle(m, tag, 4);

    /* Back to warning: the webhook updates, Slack and PD resolve. */
    assert_int_equal(alert_raise(m, "k", ALERT_WARNING, "w2", ALERT_NO_KV), 0);
    settle(m, tag, 7);
    for (size_t i = 4; i < 7; i++) {
        cJSON *r = nth_tag(tag, i);
        const char *kind = jstr(r, "kind");

        assert_valid(r);
        if (strcmp(kind, "pagerduty") == 0)
            assert_string_equal(jstr(r, "body.event_action"), "resolve");
        else if (strcmp(kind, "slack") == 0)
            assert_non_null(strstr(jstr(r, "body.text"), "RESOLVED"));
        else
            assert_string_equal(jstr(r, "body.severity"), "warning");
    }

    /* Clear: only the webhook still has it open. */
    assert_int_equal(alert_clear(m, "k"), 0);
    settle(m, tag, 8);
    assert_string_equal(jstr(nth_tag(tag, 7), "kind"), "webhook");
    assert_string_equal(jstr(nth_tag(tag, 7), "body.status"), "resolved");

    /* A critical notice reaches all three as an event / trigger. */
    assert_int_equal(alert_notify(m, "action/inject-1/failed", ALERT_CRITICAL,
                                  "inject failed: reverted",
                                  ALERT_KV("reason", "AtOrAboveTarget()")),
                     0);
    settle(m, tag, 11);
    for (size_t i = 8; i < 11; i++) {
        cJSON *r = nth_tag(tag, i);

        assert_valid(r);
        if (strcmp(jstr(r, "kind"), "webhook") == 0)
            assert_string_equal(jstr(r, "body.status"), "event");
        if (strcmp(jstr(r, "kind"), "pagerduty") == 0)
            assert_string_equal(jstr(r, "body.dedup_key"),
                                "perpx/action/inject-1/failed");
    }
    mgr_done(m);
}

/* 500 twice then 202: delivered once after two retries, and the resolve
 * queued meanwhile does not overtake its trigger. */
static void
test_retry_in_order(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch;
    struct alert_mgr *m;
    struct metrics *reg = metrics_new(0);
    struct alert_stats st;
    const char *tag = "t-retry";

    (void)state;
    m = mgr_one(&ch, "pd", CFG_CHANNEL_PAGERDUTY, "/fail/2/500/pd/t-retry", &o,
                reg);
    assert_int_equal(
        alert_raise(m, "signer/low_balance", ALERT_ERROR, "low", ALERT_NO_KV),
        0);
    assert_int_equal(alert_clear(m, "signer/low_balance"), 0);
    settle(m, tag, 4);
    const long want_status[] = {500, 500, 202, 202};
    const char *want_act[] = {"trigger", "trigger", "trigger", "resolve"};

    for (size_t i = 0; i < 4; i++) {
        cJSON *r = nth_tag(tag, i);

        assert_valid(r);
        assert_int_equal(rstatus(r), want_status[i]);
        assert_string_equal(jstr(r, "body.event_action"), want_act[i]);
        assert_string_equal(jstr(r, "body.dedup_key"),
                            "perpx/signer/low_balance");
    }
    alert_mgr_stats(m, &st);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.failed, 0);
    assert_int_equal(
        counter(reg, ALERT_METRIC_SENT_TOTAL, METRIC_LABELS("pd", "firing")),
        1);
    assert_int_equal(
        counter(reg, ALERT_METRIC_SENT_TOTAL, METRIC_LABELS("pd", "resolved")),
        1);
    assert_int_equal(
        counter(reg, ALERT_METRIC_FAILURES_TOTAL, METRIC_LABELS("pd")), 0);

    /* The families pass promtool. */
    char *text, report[4096];
    size_t len;

    assert_int_equal(metrics_render(reg, &text, &len), 0);
    assert_non_null(strstr(
        text, "keeper_alerts_sent_total{channel=\"pd\",status=\"firing\"} 1"));
    int prc = promtool_check(text, len, report, sizeof(report));
    if (prc != -1 && prc != 127)
        assert_int_equal(prc, 0);
    free(text);
    mgr_done(m);
    metrics_free(reg);
}

/* 429: retried, after at least rate_limited_ms. */
static void
test_rate_limited(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch;
    struct alert_mgr *m;
    const char *tag = "t-429";
    double t0, t1;

    (void)state;
    m = mgr_one(&ch, "pd", CFG_CHANNEL_PAGERDUTY, "/fail/1/429/pd/t-429", &o,
                NULL);
    assert_int_equal(alert_notify(m, "x", ALERT_WARNING, "x", ALERT_NO_KV), 0);
    settle(m, tag, 2);
    assert_int_equal(rstatus(nth_tag(tag, 0)), 429);
    assert_int_equal(rstatus(nth_tag(tag, 1)), 202);
    t0 = cJSON_GetNumberValue(cJSON_GetObjectItem(nth_tag(tag, 0), "t"));
    t1 = cJSON_GetNumberValue(cJSON_GetObjectItem(nth_tag(tag, 1), "t"));
    assert_true(t1 - t0 >= 140.0); /* 150 ms, less timer granularity */
    mgr_done(m);
}

/* ---- Retry-After: a scripted server on the test loop ------------------ */

#define RA_CONNS 4
#define RA_REQS 4

struct ra_conn {
    uv_tcp_t tcp;
    struct ra_srv *s;
    char buf[16384];
    size_t len;
};

/* Answers its first request with `first` and the rest 200; notes the loop
 * time each request arrived at (the alert timers run on the same loop). */
struct ra_srv {
    uv_tcp_t listener;
    int port;
    int open; /* handles not yet closed */
    const char *first;
    struct ra_conn *conns[RA_CONNS];
    int nconns;
    int nreq;
    uint64_t at[RA_REQS];
};

static void
ra_closed(uv_handle_t *h)
{
    struct ra_srv *s = h->data;

    if (h != (uv_handle_t *)&s->listener)
        free(h);
    s->open--;
}

static void
ra_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct ra_conn *k = (struct ra_conn *)h;

    (void)hint;
    *b = uv_buf_init(k->buf + k->len, (unsigned)(sizeof(k->buf) - 1 - k->len));
}

/* Answer every complete request at the front of k->buf. */
static void
ra_serve(struct ra_conn *k)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct ra_srv *s = k->s;
    char *end, *cl;
    size_t need;

    k->buf[k->len] = '\0';
    while ((end = strstr(k->buf, "\r\n\r\n")) != NULL) {
        cl = strcasestr(k->buf, "\ncontent-length:");
        need = (size_t)(end - k->buf) + 4 +
               (cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0);
        if (k->len < need)
            return;
        if (s->nreq < RA_REQS)
            s->at[s->nreq] = uv_now(&loop);
        s->nreq++;
        ts_write_copy((uv_stream_t *)&k->tcp, s->nreq == 1 ? s->first : ok,
                      strlen(s->nreq == 1 ? s->first : ok));
        memmove(k->buf, k->buf + need, k->len - need + 1);
        k->len -= need;
    }
}

static void
ra_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct ra_conn *k = (struct ra_conn *)st;

    (void)b;
    if (n < 0) {
        uv_read_stop(st);
        return;
    }
    k->len += (size_t)n;
    ra_serve(k);
}

static void
ra_accept(uv_stream_t *l, int status)
{
    struct ra_srv *s = l->data;
    struct ra_conn *k;

    if (status < 0 || s->nconns == RA_CONNS)
        return;
    k = calloc(1, sizeof(*k));
    assert_non_null(k);
    k->s = s;
    uv_tcp_init(&loop, &k->tcp);
    k->tcp.data = s;
    s->open++;
    s->conns[s->nconns++] = k;
    if (uv_accept(l, (uv_stream_t *)&k->tcp) == 0)
        uv_read_start((uv_stream_t *)&k->tcp, ra_alloc, ra_read);
}

static bool
ra_all_closed(void *arg)
{
    return ((struct ra_srv *)arg)->open == 0;
}

static void
ra_stop(struct ra_srv *s)
{
    for (int i = 0; i < s->nconns; i++)
        uv_close((uv_handle_t *)&s->conns[i]->tcp, ra_closed);
    uv_close((uv_handle_t *)&s->listener, ra_closed);
    assert_true(ts_run_until(&loop, ra_all_closed, s, WAIT_MS));
}

struct ra_wait {
    struct alert_mgr *m;
    struct ra_srv *s;
};

static bool
ra_second_done(void *arg)
{
    struct ra_wait *w = arg;

    return w->s->nreq >= 2 && alert_mgr_pending(w->m) == 0;
}

/* One alert to a webhook on a server answering `first`, then 200.
 * Returns: ms between the two attempts (exactly two must arrive). */
static uint64_t
ra_gap(const char *first, const struct alert_opts *o)
{
    struct ra_srv *s = calloc(1, sizeof(*s));
    struct cfg_channel ch;
    struct alert_mgr *m;
    struct alert_stats st;
    struct ra_wait w;
    uint64_t gap;

    assert_non_null(s);
    s->first = first;
    s->open = 1;
    assert_int_equal(ts_listen(&s->listener, &loop, 16, ra_accept, &s->port),
                     0);
    s->listener.data = s;
    chan_set(&ch, "hook", CFG_CHANNEL_WEBHOOK, "/hook", CFG_SEVERITY_INFO);
    snprintf(ch.url.value, sizeof(ch.url.value), "http://127.0.0.1:%d/hook",
             s->port);
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, o, &ch, 1), 0);
    assert_int_equal(alert_notify(m, "ra", ALERT_WARNING, "x", ALERT_NO_KV), 0);
    w = (struct ra_wait){m, s};
    assert_true(ts_run_until(&loop, ra_second_done, &w, WAIT_MS));
    alert_mgr_stats(m, &st);
    assert_int_equal(st.delivered, 1);
    assert_int_equal(st.retries, 1);
    assert_int_equal(s->nreq, 2);
    gap = s->at[1] - s->at[0];
    mgr_done(m);
    ra_stop(s);
    free(s);
    return gap;
}

/* 429 or 503 with Retry-After: the wait is the service's, not our fixed
 * rate-limit wait (30 s here, beyond the test's deadline), kept within
 * the backoff bounds. */
static void
test_retry_after(void **state)
{
    struct alert_opts o = test_opts();
    uint64_t gap;

    (void)state;
    o.rate_limited_ms = 30000;
    o.backoff_max_ms = 60000;
    gap = ra_gap("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
                 "Content-Length: 0\r\n\r\n",
                 &o);
    assert_true(gap >= 1000);
    assert_true(gap < 3000);
    assert_non_null(strstr(log_text, "retry_after_s=1 "));

    /* An hour is cut to the longest backoff. */
    o.backoff_max_ms = 300;
    gap = ra_gap("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\n"
                 "Content-Length: 0\r\n\r\n",
                 &o);
    assert_true(gap >= 300);
    assert_true(gap < 1000);

    /* "0" is raised to the shortest backoff. */
    o.backoff_base_ms = 200;
    o.backoff_max_ms = 60000;
    gap = ra_gap("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\n"
                 "Content-Length: 0\r\n\r\n",
                 &o);
    assert_true(gap >= 200);
    assert_true(gap < 1000);
}

/* 400: a permanent failure, never retried; the queue moves on. */
static void
test_400_not_retried(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch;
    struct alert_mgr *m;
    struct metrics *reg = metrics_new(0);
    struct alert_stats st;
    const char *tag = "t-400";

    (void)state;
    m = mgr_one(&ch, "hook400", CFG_CHANNEL_WEBHOOK, "/always/400/hook/t-400",
                &o, reg);
    assert_int_equal(alert_notify(m, "a", ALERT_WARNING, "a", ALERT_NO_KV), 0);
    assert_int_equal(alert_notify(m, "b", ALERT_WARNING, "b", ALERT_NO_KV), 0);
    settle(m, tag, 2);
    assert_string_equal(jstr(nth_tag(tag, 0), "body.key"), "a");
    assert_string_equal(jstr(nth_tag(tag, 1), "body.key"), "b");
    alert_mgr_stats(m, &st);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(
        counter(reg, ALERT_METRIC_FAILURES_TOTAL, METRIC_LABELS("hook400")), 2);
    assert_int_equal(counter(reg, ALERT_METRIC_SENT_TOTAL,
                             METRIC_LABELS("hook400", "event")),
                     0);
    mgr_done(m);
    metrics_free(reg);
}

struct ticker {
    uv_timer_t t;
    uint64_t last_ns, max_gap_ns;
    unsigned ticks;
};

static void
on_tick(uv_timer_t *t)
{
    struct ticker *k = (struct ticker *)t;
    uint64_t now = uv_hrtime();

    if (k->last_ns && now - k->last_ns > k->max_gap_ns)
        k->max_gap_ns = now - k->last_ns;
    k->last_ns = now;
    k->ticks++;
}

struct failed_n {
    struct alert_mgr *m;
    uint64_t n;
};

static bool
has_failed(void *arg)
{
    struct failed_n *f = arg;
    struct alert_stats st;

    alert_mgr_stats(f->m, &st);
    return st.failed >= f->n && alert_mgr_pending(f->m) == 0;
}

/* Receiver down: retries, gives up; the loop keeps ticking throughout. */
static void
test_receiver_down(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch;
    struct alert_mgr *m;
    struct alert_stats st;
    struct ticker tk = {0};
    struct failed_n f;
    uint64_t t0;
    int port = ts_free_port();

    (void)state;
    assert_true(port > 0);
    chan_set(&ch, "down", CFG_CHANNEL_WEBHOOK, "/hook/t-down",
             CFG_SEVERITY_INFO);
    snprintf(ch.url.value, sizeof(ch.url.value),
             "http://127.0.0.1:%d/hook/t-down", port);
    o.max_attempts = 3;
    o.backoff_base_ms = 800; /* waits of 400-800 ms: a blocking wait would */
    o.backoff_max_ms = 800;  /* show as a gap between ticks */
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, &ch, 1), 0);
    uv_timer_init(&loop, &tk.t);
    uv_timer_start(&tk.t, on_tick, 10, 10);

    t0 = uv_hrtime();
    assert_int_equal(
        alert_raise(m, "rpc/no_healthy", ALERT_CRITICAL, "no RPC", ALERT_NO_KV),
        0);
    assert_true(uv_hrtime() - t0 < 50u * 1000000u); /* raise returns at once */
    f = (struct failed_n){m, 1};
    assert_true(ts_run_until(&loop, has_failed, &f, WAIT_MS));
    alert_mgr_stats(m, &st);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.delivered, 0);
    assert_true(uv_hrtime() - t0 >= 800u * 1000000u); /* two waits >= 400 */
    assert_true(tk.ticks >= 30);
    assert_true(tk.max_gap_ns < 350u * 1000000u);
    assert_true(alert_is_active(m, "rpc/no_healthy")); /* still a condition */
    uv_timer_stop(&tk.t);
    uv_close((uv_handle_t *)&tk.t, NULL);
    mgr_done(m);
}

/* A receiver that never answers: each attempt times out, then give up. */
static void
test_timeout(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch;
    struct alert_mgr *m;
    struct alert_stats st;
    struct failed_n f;

    (void)state;
    o.timeout_ms = 200;
    o.max_attempts = 2;
    m = mgr_one(&ch, "hang", CFG_CHANNEL_SLACK, "/hang/slack/t-hang", &o, NULL);
    assert_int_equal(alert_notify(m, "x", ALERT_INFO, "x", ALERT_NO_KV), 0);
    f = (struct failed_n){m, 1};
    assert_true(ts_run_until(&loop, has_failed, &f, WAIT_MS));
    settle(m, "t-hang", 2);
    assert_valid(nth_tag("t-hang", 0));
    alert_mgr_stats(m, &st);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.failed, 1);
    mgr_done(m);
}

/* A full queue drops the oldest item of the lowest rank; the one in
 * delivery stays. */
static void
test_queue_overflow(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch;
    struct alert_mgr *m;
    struct metrics *reg = metrics_new(0);
    struct alert_stats st;
    struct failed_n f;
    const char *tag = "t-full";

    (void)state;
    o.timeout_ms = 150;
    o.max_attempts = 1;
    o.queue_cap = 3;
    m = mgr_one(&ch, "full", CFG_CHANNEL_WEBHOOK, "/hang/hook/t-full", &o, reg);
    assert_int_equal(alert_notify(m, "A", ALERT_INFO, "A", ALERT_NO_KV), 0);
    assert_int_equal(alert_notify(m, "B", ALERT_INFO, "B", ALERT_NO_KV), 0);
    assert_int_equal(alert_notify(m, "C", ALERT_CRITICAL, "C", ALERT_NO_KV), 0);
    assert_int_equal(alert_mgr_pending(m), 3);
    assert_int_equal(alert_notify(m, "D", ALERT_INFO, "D", ALERT_NO_KV),
                     0); /* B goes */
    assert_int_equal(alert_notify(m, "E", ALERT_CRITICAL, "E", ALERT_NO_KV),
                     0); /* D goes */
    assert_int_equal(alert_notify(m, "F", ALERT_INFO, "F", ALERT_NO_KV),
                     0); /* F itself goes: C and E outrank it */
    assert_int_equal(alert_mgr_pending(m), 3);
    alert_mgr_stats(m, &st);
    assert_int_equal(st.dropped, 3);
    assert_int_equal(
        counter(reg, ALERT_METRIC_DROPPED_TOTAL, METRIC_LABELS("full")), 3);
    f = (struct failed_n){m, 3};
    assert_true(ts_run_until(&loop, has_failed, &f, WAIT_MS));
    settle(m, tag, 3);
    assert_string_equal(jstr(nth_tag(tag, 0), "body.key"), "A");
    assert_string_equal(jstr(nth_tag(tag, 1), "body.key"), "C");
    assert_string_equal(jstr(nth_tag(tag, 2), "body.key"), "E");
    mgr_done(m);
    metrics_free(reg);
}

/* Freed with a request in flight and a retry waiting: no callback after
 * free, handles close (group teardown checks uv_loop_close). */
static bool
has_retried(void *arg)
{
    struct alert_stats st;

    alert_mgr_stats(arg, &st);
    return st.retries >= 1;
}

static void
test_free_busy(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch[2];
    struct alert_mgr *m;

    (void)state;
    chan_set(&ch[0], "hang", CFG_CHANNEL_WEBHOOK, "/hang/hook/t-busy",
             CFG_SEVERITY_INFO);
    chan_set(&ch[1], "flaky", CFG_CHANNEL_WEBHOOK, "/fail/9/503/hook/t-busy2",
             CFG_SEVERITY_INFO);
    o.backoff_base_ms = o.backoff_max_ms = 60000;
    o.give_up_ms = 600000;
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 2), 0);
    assert_int_equal(alert_notify(m, "x", ALERT_INFO, "x", ALERT_NO_KV), 0);
    /* The flaky channel's first 503 leaves its retry waiting a minute;
     * the hanging one is still in flight. */
    assert_true(ts_run_until(&loop, has_retried, m, WAIT_MS));
    assert_int_equal(alert_mgr_pending(m), 2);
    mgr_done(m);
}

/* The receiver's checks can fail: malformed bodies get 400 and errors. */
struct post {
    bool done;
    long status;
};

static void
on_post(void *arg, const struct http_reply *rep)
{
    struct post *p = arg;

    p->done = true;
    p->status = rep->status;
}

static bool
post_done(void *arg)
{
    return ((struct post *)arg)->done;
}

static void
test_receiver_rejects(void **state)
{
    static const char *const bad[][2] = {
        /* resolve without dedup_key, short routing key */
        {"/pd/t-neg", "{\"routing_key\":\"abc\",\"event_action\":\"resolve\"}"},
        /* trigger: summary over 1024, bad severity, no source */
        {"/pd/t-neg", "{\"routing_key\":\"" ROUTING_KEY "\",\"event_action\":"
                      "\"trigger\",\"payload\":{\"severity\":\"high\","
                      "\"summary\":\"x\",\"timestamp\":\"yesterday\"}}"},
        {"/slack/t-neg", "{\"blocks\":[{\"type\":\"section\"}]}"},
        {"/slack/t-neg", "{\"text\":\"<!channel> hi\"}"},
        {"/hook/t-neg", "{\"version\":2,\"status\":\"open\"}"},
    };
    static const char *const hdr[] = {"Content-Type: application/json"};
    struct http_client *c;
    char url[128];

    (void)state;
    http_client_new(&c, &loop);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct post p = {0};
        struct http_req_opts o = {.method = "POST",
                                  .url = url,
                                  .headers = hdr,
                                  .nheaders = 1,
                                  .body = bad[i][1],
                                  .body_len = strlen(bad[i][1]),
                                  .timeout_ms = 5000,
                                  .max_reply = 65536};

        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rcv_port,
                 bad[i][0]);
        assert_int_equal(http_request_start(c, &o, on_post, &p, NULL), 0);
        assert_true(ts_run_until(&loop, post_done, &p, WAIT_MS));
        assert_int_equal(p.status, 400);
    }
    http_client_free(c);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* Secrets (webhook URL tokens, routing keys) never reach the logs, even
 * when a server echoes the request back or the transport fails. */
static void
test_secrets_not_logged(void **state)
{
    struct alert_opts o = test_opts();
    struct cfg_channel ch[3];
    struct alert_mgr *m;
    struct failed_n f;
    int port = ts_free_port();

    (void)state;
    chan_set(&ch[0], "echo-pd", CFG_CHANNEL_PAGERDUTY,
             "/always/400/pd/SECRETPDPATHtoken/t-sec", CFG_SEVERITY_INFO);
    chan_set(&ch[1], "echo-hook", CFG_CHANNEL_WEBHOOK,
             "/always/500/hook/SECRETHOOKtoken/t-sec", CFG_SEVERITY_INFO);
    chan_set(&ch[2], "down-slack", CFG_CHANNEL_SLACK, "/x", CFG_SEVERITY_INFO);
    snprintf(ch[2].url.value, sizeof(ch[2].url.value),
             "http://127.0.0.1:%d/services/T0/B0/SECRETSLACKtoken", port);
    o.max_attempts = 2;
    assert_int_equal(alert_mgr_new(&m, &loop, NULL, &o, ch, 3), 0);
    assert_int_equal(alert_raise(m, "tier", ALERT_CRITICAL, "T3 clawback",
                                 ALERT_KV("url_like", "see runbook")),
                     0);
    f = (struct failed_n){m, 3};
    assert_true(ts_run_until(&loop, has_failed, &f, WAIT_MS));
    mgr_done(m);

    fflush(log_file);
    assert_non_null(log_text);
    assert_null(strstr(log_text, "SECRET"));
    assert_null(strstr(log_text, ROUTING_KEY));
    assert_null(strstr(log_text, "R0UT1NGKEY"));
    /* The echoes were seen, and quoted redacted; channels are named. */
    assert_non_null(strstr(log_text, "[redacted]"));
    assert_non_null(strstr(log_text, "channel=echo-pd"));
    assert_non_null(strstr(log_text, "channel=down-slack"));
    assert_non_null(strstr(log_text, "alert rejected, not retried"));
    assert_non_null(strstr(log_text, "alert delivery abandoned"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_dedup_key),
        cmocka_unit_test(test_backoff_and_classify),
        cmocka_unit_test(test_fmt_webhook),
        cmocka_unit_test(test_fmt_slack),
        cmocka_unit_test(test_fmt_pagerduty),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_raise_one_per_channel),
        cmocka_unit_test(test_condition_lifecycle),
        cmocka_unit_test(test_min_severity),
        cmocka_unit_test(test_retry_in_order),
        cmocka_unit_test(test_rate_limited),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_400_not_retried),
        cmocka_unit_test(test_receiver_down),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_queue_overflow),
        cmocka_unit_test(test_free_busy),
        cmocka_unit_test(test_receiver_rejects),
        cmocka_unit_test(test_secrets_not_logged),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
