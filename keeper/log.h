/*
 * log.h - leveled, structured log lines: a module tag, a constant message
 * and key=value fields, as text or as JSON lines (--log-format json).
 *
 *   log_info("rpc", "endpoint failed over", "from", a->name, "to", b->name);
 *   log_warn("ws", "reconnecting", LOG_U64("attempt", n), LOG_RC(rc));
 *
 * Text:  2026-11-24T04:13:24.123Z INFO  rpc: endpoint failed over from=a to=b
 * JSON:  {"ts":"2026-11-24T04:13:24.123Z","level":"info","module":"rpc",
 *         "msg":"endpoint failed over","from":"a","to":"b"}
 *
 * Fields are pairs of strings. The macros collect them into an array whose
 * length the compiler counts, so a NULL value is printed as null (never
 * mistaken for the end of the list), an odd trailing key gets a null value,
 * and a non-string argument is a compile-time error. The typed helpers
 * (LOG_U64, LOG_I64, LOG_F64, LOG_BOOL) format into a buffer that lives
 * until the end of the statement and mark the field as a number, so JSON
 * gets a number and not a string. Their key must be a string literal.
 *
 * Robustness: NULL module/message/values are printed as "-"/""/null; text
 * values with spaces, quotes, '=' or control bytes are quoted and escaped;
 * JSON strings are escaped and invalid UTF-8 becomes U+FFFD; a line is
 * capped at LOG_LINE_MAX bytes (then marked truncated=true). Fields whose
 * key names a secret (password, secret, private_key, token...) print as
 * "[redacted]" as a last line of defence; secrets must still never be
 * passed here.
 *
 * One line is written with a single fwrite and flushed, so lines from the
 * loop thread and worker threads do not interleave. The level, format and
 * stream are process-wide (like syslog): set them once with log_init.
 */
#ifndef KP_KEEPER_LOG_H
#define KP_KEEPER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_ERROR = 3,
    LOG_LEVEL_FATAL = 4, /* used by log_fatal only; not a filter level */
};

enum log_format {
    LOG_FORMAT_TEXT = 0,
    LOG_FORMAT_JSON = 1,
};

/* Longest line written, newline included; longer lines are truncated. */
#define LOG_LINE_MAX 8192

/* Set the minimum level, the format and the stream (NULL: stderr).
 * May be called again (e.g. after a config reload). */
void log_init(enum log_level level, enum log_format format, FILE *out);

/* Returns: true if a line at `level` would be written (use it to skip
 * building expensive fields). */
bool log_enabled(enum log_level level);

/* Parse "debug", "info", "warn"/"warning", "error" (case-insensitive).
 * Returns: 0, or KP_EINVAL.   Out: *level   In: s (may be NULL) */
int log_level_parse(enum log_level *level, const char *s);

/* Parse "text" or "json".
 * Returns: 0, or KP_EINVAL.   Out: *format   In: s (may be NULL) */
int log_format_parse(enum log_format *format, const char *s);

/* Replace the wall clock (milliseconds since the Unix epoch) used for
 * timestamps; NULL restores the real clock. For tests. */
void log_set_clock(int64_t (*now_ms)(void));

/* Write one line if `level` passes the filter. `kv` holds the message
 * followed by key, value pairs: kv[0] = message, kv[1] = key, kv[2] =
 * value, ... (`n` entries). Prefer the macros below. */
void log_emitv(enum log_level level, const char *module, const char *const *kv,
               size_t n);

/* Write the line at level FATAL (never filtered), then exit(1). */
_Noreturn void log_fatalv(const char *module, const char *const *kv, size_t n);

/* clang-format off */
#define LOG_KV_(...) (const char *const[]){__VA_ARGS__}
/* clang-format on */
#define LOG_NKV_(...) (sizeof(LOG_KV_(__VA_ARGS__)) / sizeof(const char *))

/* log_xxx(module, message, key, value, ...) */
#define log_debug(module, ...)                                                 \
    do {                                                                       \
        if (log_enabled(LOG_LEVEL_DEBUG))                                      \
            log_emitv(LOG_LEVEL_DEBUG, (module), LOG_KV_(__VA_ARGS__),         \
                      LOG_NKV_(__VA_ARGS__));                                  \
    } while (0)
#define log_info(module, ...)                                                  \
    log_emitv(LOG_LEVEL_INFO, (module), LOG_KV_(__VA_ARGS__),                  \
              LOG_NKV_(__VA_ARGS__))
#define log_warn(module, ...)                                                  \
    log_emitv(LOG_LEVEL_WARN, (module), LOG_KV_(__VA_ARGS__),                  \
              LOG_NKV_(__VA_ARGS__))
#define log_error(module, ...)                                                 \
    log_emitv(LOG_LEVEL_ERROR, (module), LOG_KV_(__VA_ARGS__),                 \
              LOG_NKV_(__VA_ARGS__))
#define log_fatal(module, ...)                                                 \
    log_fatalv((module), LOG_KV_(__VA_ARGS__), LOG_NKV_(__VA_ARGS__))
/* OpenBSD spelling. */
#define fatal(module, ...) log_fatal(module, __VA_ARGS__)

/* A key prefixed with this byte carries a value that is emitted bare in
 * JSON when it is a valid JSON number/true/false (set by the helpers). */
#define LOG_RAW_KEY_ "\x1e"

/* Formatting helpers behind the typed macros.
 * Returns: buf.   Out: buf (at least LOG_NUM_BUF bytes) */
#define LOG_NUM_BUF 32
const char *log_fmt_u64(char *buf, uint64_t v);
const char *log_fmt_i64(char *buf, int64_t v);
const char *log_fmt_f64(char *buf, double v);

#define LOG_STR(k, v) (k), (v)
#define LOG_U64(k, v)                                                          \
    LOG_RAW_KEY_ k, log_fmt_u64((char[LOG_NUM_BUF]){0}, (uint64_t)(v))
#define LOG_I64(k, v)                                                          \
    LOG_RAW_KEY_ k, log_fmt_i64((char[LOG_NUM_BUF]){0}, (int64_t)(v))
#define LOG_F64(k, v)                                                          \
    LOG_RAW_KEY_ k, log_fmt_f64((char[LOG_NUM_BUF]){0}, (double)(v))
#define LOG_BOOL(k, v) LOG_RAW_KEY_ k, ((v) ? "true" : "false")
/* "err", kp_strerror(rc): include chain/err.h where this is used.
 * (Not LOG_ERR: <syslog.h> owns that name.) */
#define LOG_RC(rc) "err", kp_strerror(rc)

#endif
