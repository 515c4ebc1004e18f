/* keeper/log: exact text lines, JSON lines parsed back with cJSON, quoting
 * and escaping, level filtering, typed fields, truncation, odd input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "chain/err.h"
#include "keeper/log.h"

static FILE *g_mem;
static char *g_buf;
static size_t g_size;

static int64_t
fixed_clock(void)
{
    return 1795493604123; /* 2026-11-24T04:13:24.123Z */
}

static void
begin(enum log_level level, enum log_format format)
{
    g_mem = open_memstream(&g_buf, &g_size);
    assert_non_null(g_mem);
    log_set_clock(fixed_clock);
    log_init(level, format, g_mem);
}

/* Returns: everything logged since begin(); the caller frees. */
static char *
end(void)
{
    log_init(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, NULL);
    log_set_clock(NULL);
    fclose(g_mem);
    g_mem = NULL;
    return g_buf;
}

static void
test_text_exact(void **state)
{
    char want[512];
    char *out;

    (void)state;
    snprintf(want, sizeof(want),
             "2026-11-24T04:13:24.123Z INFO  rpc: endpoint failed over "
             "from=a to=b\n"
             "2026-11-24T04:13:24.123Z WARN  ws: reconnecting attempt=3 "
             "delta=-5 tls=false err=\"%s\"\n"
             "2026-11-24T04:13:24.123Z ERROR tx: sent\n"
             "2026-11-24T04:13:24.123Z DEBUG risk: tick h=1.5\n",
             kp_strerror(KP_ETIMEOUT));
    begin(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);
    log_info("rpc", "endpoint failed over", "from", "a", "to", "b");
    log_warn("ws", "reconnecting", LOG_U64("attempt", 3), LOG_I64("delta", -5),
             LOG_BOOL("tls", 0), LOG_RC(KP_ETIMEOUT));
    log_error("tx", "sent");
    log_debug("risk", "tick", LOG_F64("h", 1.5));
    out = end();
    assert_string_equal(out, want);
    free(out);
}

static void
test_text_quoting(void **state)
{
    char *out;

    (void)state;
    begin(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);
    log_info("m", "line1\nline2", "sp", "hello world", "q", "say \"hi\"", "bs",
             "a\\b", "nl", "a\nb", "eq", "k=v", "empty", "", "nul", NULL, "ctl",
             "\x01", "utf8", "d\xc3\xa9j\xc3\xa0");
    out = end();
    assert_string_equal(
        out, "2026-11-24T04:13:24.123Z INFO  m: line1\\nline2 "
             "sp=\"hello world\" q=\"say \\\"hi\\\"\" bs=\"a\\\\b\" "
             "nl=\"a\\nb\" eq=\"k=v\" empty=\"\" nul=(null) ctl=\"\\x01\" "
             "utf8=d\xc3\xa9j\xc3\xa0\n");
    free(out);
}

static cJSON *
parse_one(const char *line)
{
    const char *nl = strchr(line, '\n');
    cJSON *doc;

    assert_non_null(nl);
    assert_int_equal(nl[1], '\0'); /* exactly one line */
    doc = cJSON_ParseWithLength(line, (size_t)(nl - line));
    assert_non_null(doc);
    assert_true(cJSON_IsObject(doc));
    return doc;
}

static const char *
str_field(const cJSON *doc, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void
test_json_roundtrip(void **state)
{
    const char *tricky = "q\" bs\\ nl\n tab\t ctl\x01\x1f end";
    cJSON *doc;
    char *out;

    (void)state;
    begin(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    log_warn("rpc", "endpoint failed over", "from", "a", "v", tricky,
             LOG_U64("block", 18446744073709551615ull), LOG_I64("n", -7),
             LOG_F64("ratio", 0.25), LOG_BOOL("ok", 1), "nul", NULL);
    out = end();
    doc = parse_one(out);
    assert_string_equal(str_field(doc, "ts"), "2026-11-24T04:13:24.123Z");
    assert_string_equal(str_field(doc, "level"), "warn");
    assert_string_equal(str_field(doc, "module"), "rpc");
    assert_string_equal(str_field(doc, "msg"), "endpoint failed over");
    assert_string_equal(str_field(doc, "from"), "a");
    assert_string_equal(str_field(doc, "v"), tricky);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(doc, "block")));
    assert_non_null(strstr(out, "\"block\":18446744073709551615,"));
    assert_int_equal(cJSON_GetObjectItem(doc, "n")->valueint, -7);
    assert_true(cJSON_GetObjectItem(doc, "ratio")->valuedouble == 0.25);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "ok")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "nul")));
    /* Key order is fixed: ts, level, module, msg, then the fields. */
    assert_memory_equal(out, "{\"ts\":", 6);
    assert_non_null(strstr(out, "\"level\":\"warn\",\"module\":\"rpc\","
                                "\"msg\":\"endpoint failed over\","
                                "\"from\":\"a\""));
    cJSON_Delete(doc);
    free(out);
}

static void
test_json_odd_values(void **state)
{
    cJSON *doc;
    char *out;

    (void)state;
    begin(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    /* Invalid UTF-8 (lone continuation, truncated sequence, overlong,
     * surrogate) becomes U+FFFD; NaN is not a JSON number. */
    log_info("m", "bad\xff", "a", "x\x80y", "b", "\xe2\x82", "c", "\xc0\xaf",
             "d", "\xed\xa0\x80", LOG_F64("nan", NAN), "odd");
    out = end();
    doc = parse_one(out);
    assert_string_equal(str_field(doc, "msg"), "bad\xef\xbf\xbd");
    assert_string_equal(str_field(doc, "a"), "x\xef\xbf\xbdy");
    assert_string_equal(str_field(doc, "b"), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(str_field(doc, "c"), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(str_field(doc, "nan"), "nan");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "odd")));
    cJSON_Delete(doc);
    free(out);
}

static void
test_json_reserved_keys(void **state)
{
    cJSON *doc;
    char *out;

    (void)state;
    begin(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    log_info("m", "real", "msg", "fake", "level", "x", "ts", "y", "module", "z",
             "truncated", "w");
    out = end();
    /* No duplicate keys: the line's own keys keep their values. */
    assert_string_equal(strchr(out, ','),
                        ",\"level\":\"info\",\"module\":\"m\",\"msg\":\"real\","
                        "\"_msg\":\"fake\",\"_level\":\"x\",\"_ts\":\"y\","
                        "\"_module\":\"z\",\"_truncated\":\"w\"}\n");
    doc = parse_one(out);
    assert_string_equal(str_field(doc, "msg"), "real");
    cJSON_Delete(doc);
    free(out);
}

static void
test_levels(void **state)
{
    char *out;

    (void)state;
    begin(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
    assert_false(log_enabled(LOG_LEVEL_DEBUG));
    assert_false(log_enabled(LOG_LEVEL_INFO));
    assert_true(log_enabled(LOG_LEVEL_WARN));
    assert_true(log_enabled(LOG_LEVEL_ERROR));
    log_debug("m", "d");
    log_info("m", "i");
    log_warn("m", "w");
    log_error("m", "e");
    out = end();
    assert_string_equal(out, "2026-11-24T04:13:24.123Z WARN  m: w\n"
                             "2026-11-24T04:13:24.123Z ERROR m: e\n");
    free(out);

    begin(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
    log_warn("m", "w");
    out = end();
    assert_string_equal(out, "");
    free(out);
}

static void
test_keys_and_secrets(void **state)
{
    char *out;

    (void)state;
    begin(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
    log_info("m", "x", "a b=c", "1", NULL, "2", "", "3", "keystore_password",
             "hunter2", "PRIVATE_KEY", "0xdead", "api_key", "k");
    out = end();
    assert_string_equal(out, "2026-11-24T04:13:24.123Z INFO  m: x a_b_c=1 "
                             "_=2 _=3 keystore_password=[redacted] "
                             "PRIVATE_KEY=[redacted] api_key=[redacted]\n");
    assert_null(strstr(out, "hunter2"));
    free(out);
}

static void
test_null_and_empty(void **state)
{
    char *out;

    (void)state;
    begin(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
    log_emitv(LOG_LEVEL_INFO, NULL, NULL, 0);
    log_emitv(LOG_LEVEL_ERROR, "m", (const char *const[]){NULL}, 1);
    log_emitv((enum log_level)99, "m", (const char *const[]){"x"}, 1);
    log_info("m", "odd key", "k");
    out = end();
    assert_string_equal(out, "2026-11-24T04:13:24.123Z INFO  -: \n"
                             "2026-11-24T04:13:24.123Z ERROR m: \n"
                             "2026-11-24T04:13:24.123Z ERROR m: x\n"
                             "2026-11-24T04:13:24.123Z INFO  m: odd key "
                             "k=(null)\n");
    free(out);
}

static void
test_truncation(void **state)
{
    char *big = malloc(20000);
    char *out;
    cJSON *doc;

    (void)state;
    memset(big, '"', 19999); /* each becomes 2 bytes escaped */
    big[19999] = '\0';
    for (int fmt = 0; fmt < 2; fmt++) {
        begin(LOG_LEVEL_INFO, (enum log_format)fmt);
        log_info("m", "big", "a", "short", "v", big, "after", "x");
        out = end();
        assert_true(strlen(out) <= LOG_LINE_MAX);
        assert_int_equal(out[strlen(out) - 1], '\n');
        assert_non_null(strstr(out, "\"a\"") ? strstr(out, "short")
                                             : strstr(out, "a=short"));
        assert_null(strstr(out, "after"));
        if (fmt == LOG_FORMAT_JSON) {
            doc = parse_one(out);
            assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "truncated")));
            cJSON_Delete(doc);
        } else {
            assert_non_null(strstr(out, "\" truncated=true\n"));
        }
        free(out);
    }
    free(big);
}

static void
test_parse(void **state)
{
    enum log_level lv = LOG_LEVEL_INFO;
    enum log_format f = LOG_FORMAT_TEXT;

    (void)state;
    assert_int_equal(log_level_parse(&lv, "debug"), 0);
    assert_int_equal(lv, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse(&lv, "WARNING"), 0);
    assert_int_equal(lv, LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse(&lv, "Error"), 0);
    assert_int_equal(lv, LOG_LEVEL_ERROR);
    assert_int_equal(log_level_parse(&lv, "verbose"), KP_EINVAL);
    assert_int_equal(log_level_parse(&lv, ""), KP_EINVAL);
    assert_int_equal(log_level_parse(&lv, NULL), KP_EINVAL);
    assert_int_equal(lv, LOG_LEVEL_ERROR);
    assert_int_equal(log_format_parse(&f, "json"), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse(&f, "TEXT"), 0);
    assert_int_equal(f, LOG_FORMAT_TEXT);
    assert_int_equal(log_format_parse(&f, "xml"), KP_EINVAL);
    assert_int_equal(log_format_parse(&f, NULL), KP_EINVAL);
}

static void
test_fmt_helpers(void **state)
{
    char buf[LOG_NUM_BUF];

    (void)state;
    assert_string_equal(log_fmt_u64(buf, 0), "0");
    assert_string_equal(log_fmt_i64(buf, INT64_MIN), "-9223372036854775808");
    assert_string_equal(log_fmt_f64(buf, 0.1), "0.1");
    assert_string_equal(log_fmt_f64(buf, 1e300), "1e+300");
    assert_string_equal(log_fmt_f64(buf, 1.0 / 3.0), "0.33333333333333331");
}

static void
test_fatal_exits(void **state)
{
    char path[] = "/tmp/kp_log_fatal_XXXXXX";
    char line[256] = "";
    int fd = mkstemp(path), status = 0;
    pid_t pid;
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        f = fdopen(fd, "w");
        log_set_clock(fixed_clock);
        log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, f);
        fatal("main", "cannot start", "why", "test");
    }
    close(fd);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    unlink(path);
    assert_string_equal(line, "2026-11-24T04:13:24.123Z FATAL main: cannot "
                              "start why=test\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_exact),
        cmocka_unit_test(test_text_quoting),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_json_odd_values),
        cmocka_unit_test(test_json_reserved_keys),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_keys_and_secrets),
        cmocka_unit_test(test_null_and_empty),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_fmt_helpers),
        cmocka_unit_test(test_fatal_exits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
