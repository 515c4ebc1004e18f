#include "keeper/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chain/err.h"

/* Room kept at the end of a line for closing a cut value and marking the
 * line truncated: '"' + ',"truncated":true' + '}' + '\n' fits in 32. */
#define LOG_RESERVE 32
#define LOG_MAX_FIELDS 64

static enum log_level g_level = LOG_LEVEL_INFO;
static enum log_format g_format = LOG_FORMAT_TEXT;
static FILE *g_out;
static int64_t (*g_clock)(void);

struct line {
    size_t len;
    bool full; /* something was dropped */
    char buf[LOG_LINE_MAX];
};

void
log_init(enum log_level level, enum log_format format, FILE *out)
{
    g_level = level > LOG_LEVEL_ERROR ? LOG_LEVEL_ERROR : level;
    g_format = format == LOG_FORMAT_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
    g_out = out;
}

bool
log_enabled(enum log_level level)
{
    return level >= g_level;
}

int
log_level_parse(enum log_level *level, const char *s)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        {"debug", LOG_LEVEL_DEBUG}, {"info", LOG_LEVEL_INFO},
        {"warn", LOG_LEVEL_WARN},   {"warning", LOG_LEVEL_WARN},
        {"error", LOG_LEVEL_ERROR},
    };

    if (s == NULL)
        return KP_EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *level = names[i].level;
            return 0;
        }
    }
    return KP_EINVAL;
}

int
log_format_parse(enum log_format *format, const char *s)
{
    if (s != NULL && strcasecmp(s, "text") == 0) {
        *format = LOG_FORMAT_TEXT;
        return 0;
    }
    if (s != NULL && strcasecmp(s, "json") == 0) {
        *format = LOG_FORMAT_JSON;
        return 0;
    }
    return KP_EINVAL;
}

void
log_set_clock(int64_t (*now_ms)(void))
{
    g_clock = now_ms;
}

/* ---- number helpers ---------------------------------------------------- */

const char *
log_fmt_u64(char *buf, uint64_t v)
{
    snprintf(buf, LOG_NUM_BUF, "%llu", (unsigned long long)v);
    return buf;
}

const char *
log_fmt_i64(char *buf, int64_t v)
{
    snprintf(buf, LOG_NUM_BUF, "%lld", (long long)v);
    return buf;
}

const char *
log_fmt_f64(char *buf, double v)
{
    /* Shortest of %.15g / %.17g that reads back as the same double. */
    snprintf(buf, LOG_NUM_BUF, "%.15g", v);
    if (isfinite(v) && strtod(buf, NULL) != v)
        snprintf(buf, LOG_NUM_BUF, "%.17g", v);
    return buf;
}

/* ---- line buffer ------------------------------------------------------- */

/* Append within the soft limit, all or nothing. */
static bool
put(struct line *l, const char *s, size_t n)
{
    if (l->full || n > LOG_LINE_MAX - LOG_RESERVE - l->len) {
        l->full = true;
        return false;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

static bool
puts_(struct line *l, const char *s)
{
    return put(l, s, strlen(s));
}

/* Append into the reserve: used only for the few closing bytes. */
static void
put_force(struct line *l, const char *s)
{
    size_t n = strlen(s);

    if (n > LOG_LINE_MAX - l->len)
        n = LOG_LINE_MAX - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* ---- escaping ---------------------------------------------------------- */

/* Returns: length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
    uint32_t cp;
    size_t n;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Reject overlongs, surrogates and values above U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return n;
}

/* JSON string body: escapes per RFC 8259, invalid UTF-8 as U+FFFD. */
static void
put_json_chars(struct line *l, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t avail = strlen(s);
    char esc[8];

    while (avail > 0) {
        size_t n = utf8_seq_len(p, avail);
        bool ok;

        if (n == 0) {
            ok = puts_(l, "\xef\xbf\xbd");
            n = 1;
        } else if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            ok = put(l, esc, 2);
        } else if (*p == '\n') {
            ok = puts_(l, "\\n");
        } else if (*p == '\t') {
            ok = puts_(l, "\\t");
        } else if (*p == '\r') {
            ok = puts_(l, "\\r");
        } else if (*p < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            ok = puts_(l, esc);
        } else {
            ok = put(l, (const char *)p, n);
        }
        if (!ok)
            return;
        p += n, avail -= n;
    }
}

static void
put_json_string(struct line *l, const char *s)
{
    if (!puts_(l, "\""))
        return;
    put_json_chars(l, s);
    put_force(l, "\"");
}

/* Text: keep the line one line; bytes >= 0x80 pass through. */
static void
put_text_chars(struct line *l, const char *s, bool quoted)
{
    char esc[8];
    bool ok = true;

    for (const unsigned char *p = (const unsigned char *)s; *p && ok; p++) {
        if (*p == '\n')
            ok = puts_(l, "\\n");
        else if (*p == '\t')
            ok = puts_(l, "\\t");
        else if (*p == '\r')
            ok = puts_(l, "\\r");
        else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            ok = puts_(l, esc);
        } else if (quoted && (*p == '"' || *p == '\\')) {
            esc[0] = '\\', esc[1] = (char)*p;
            ok = put(l, esc, 2);
        } else
            ok = put(l, (const char *)p, 1);
    }
}

static bool
text_needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return true;
    }
    return false;
}

static void
put_text_value(struct line *l, const char *v)
{
    if (!text_needs_quotes(v)) {
        put_text_chars(l, v, false);
        return;
    }
    if (!puts_(l, "\""))
        return;
    put_text_chars(l, v, true);
    put_force(l, "\"");
}

/* Keys are identifiers: anything else becomes '_', so a hostile value
 * passed as a key cannot forge fields. */
static void
key_sanitize(char *out, size_t outsz, const char *key)
{
    size_t i = 0;

    for (; key != NULL && key[i] != '\0' && i + 1 < outsz; i++) {
        char c = key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        out[i] = ok ? c : '_';
    }
    if (i == 0)
        out[i++] = '_';
    out[i] = '\0';
}

static bool
key_is_secret(const char *key)
{
    static const char *const words[] = {
        "password", "passwd",       "passphrase",    "secret", "private_key",
        "privkey",  "mnemonic",     "api_key",       "apikey", "auth_token",
        "bearer",   "access_token", "authorization",
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasestr(key, words[i]) != NULL)
            return true;
    }
    return false;
}

/* Returns: true if s is a JSON number, true, false or null token. */
static bool
is_json_scalar(const char *s)
{
    const char *p = s;

    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0 ||
        strcmp(s, "null") == 0)
        return true;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return false;
    if (*p == '.') {
        if (*++p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* ---- line layout ------------------------------------------------------- */

static int64_t
now_ms(void)
{
    struct timespec ts;

    if (g_clock != NULL)
        return g_clock();
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
format_ts(char *out, size_t outsz)
{
    int64_t ms = now_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (ms < 0 || gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, outsz, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static const char *
level_name(enum log_level level, bool json)
{
    static const char *const text[] = {"DEBUG", "INFO ", "WARN ", "ERROR",
                                       "FATAL"};
    static const char *const lower[] = {"debug", "info", "warn", "error",
                                        "fatal"};

    if ((unsigned)level > LOG_LEVEL_FATAL)
        level = LOG_LEVEL_ERROR;
    return json ? lower[level] : text[level];
}

struct field {
    bool prefixed;     /* print key with its leading '_' */
    char key[64];      /* '_' + sanitized key */
    const char *value; /* NULL: null */
    bool raw;          /* value may be emitted bare in JSON */
};

static void
field_get(struct field *f, const char *key, const char *value)
{
    static const char *const reserved[] = {"ts", "level", "module", "msg",
                                           "truncated"};

    f->prefixed = false;
    f->raw = key != NULL && key[0] == LOG_RAW_KEY_[0];
    key_sanitize(f->key + 1, sizeof(f->key) - 1, f->raw ? key + 1 : key);
    /* A field may not pose as one of the line's own keys (JSON would get
     * a duplicate): it is prefixed with '_'. */
    f->key[0] = '_';
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (strcmp(f->key + 1, reserved[i]) == 0) {
            f->prefixed = true;
            break;
        }
    }
    f->value = value;
    if (value != NULL && key_is_secret(f->key + 1)) {
        f->value = "[redacted]";
        f->raw = false;
    }
}

static const char *
field_key(const struct field *f)
{
    return f->prefixed ? f->key : f->key + 1;
}

static void
text_field(struct line *l, const struct field *f)
{
    size_t mark = l->len;

    if (!puts_(l, " ") || !puts_(l, field_key(f)) || !puts_(l, "=")) {
        l->len = mark;
        return;
    }
    put_text_value(l, f->value != NULL ? f->value : "(null)");
}

static void
json_field(struct line *l, const struct field *f)
{
    size_t mark = l->len;

    if (!puts_(l, ",\"") || !puts_(l, field_key(f)) || !puts_(l, "\":")) {
        l->len = mark;
        return;
    }
    if (f->value == NULL) {
        if (!puts_(l, "null"))
            l->len = mark;
    } else if (f->raw && is_json_scalar(f->value)) {
        if (!puts_(l, f->value))
            l->len = mark;
    } else {
        put_json_string(l, f->value);
    }
}

static void
layout(struct line *l, enum log_level level, const char *module,
       const char *const *kv, size_t n)
{
    bool json = g_format == LOG_FORMAT_JSON;
    const char *msg = (kv != NULL && n > 0 && kv[0] != NULL) ? kv[0] : "";
    char ts[40];

    if (module == NULL)
        module = "-";
    format_ts(ts, sizeof(ts));
    if (json) {
        puts_(l, "{\"ts\":\"");
        puts_(l, ts);
        puts_(l, "\",\"level\":\"");
        puts_(l, level_name(level, true));
        puts_(l, "\",\"module\":");
        put_json_string(l, module);
        puts_(l, ",\"msg\":");
        put_json_string(l, msg);
    } else {
        puts_(l, ts);
        puts_(l, " ");
        puts_(l, level_name(level, false));
        puts_(l, " ");
        put_text_chars(l, module, false);
        puts_(l, ": ");
        put_text_chars(l, msg, false);
    }
    for (size_t i = 1; kv != NULL && i < n && !l->full; i += 2) {
        struct field f;

        if ((i - 1) / 2 >= LOG_MAX_FIELDS) {
            l->full = true;
            break;
        }
        field_get(&f, kv[i], i + 1 < n ? kv[i + 1] : NULL);
        if (json)
            json_field(l, &f);
        else
            text_field(l, &f);
    }
    if (l->full)
        put_force(l, json ? ",\"truncated\":true" : " truncated=true");
    put_force(l, json ? "}\n" : "\n");
}

static void
emit(enum log_level level, const char *module, const char *const *kv, size_t n)
{
    struct line *l = malloc(sizeof(*l));
    FILE *out = g_out != NULL ? g_out : stderr;

    /* 8 KiB is too much for a worker thread's stack; a failed malloc
     * still gets a line out. */
    if (l == NULL) {
        fputs("log: out of memory\n", out);
        return;
    }
    l->len = 0;
    l->full = false;
    layout(l, level, module, kv, n);
    fwrite(l->buf, 1, l->len, out);
    fflush(out);
    free(l);
}

void
log_emitv(enum log_level level, const char *module, const char *const *kv,
          size_t n)
{
    if (!log_enabled(level))
        return;
    if (level > LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    emit(level, module, kv, n);
}

_Noreturn void
log_fatalv(const char *module, const char *const *kv, size_t n)
{
    emit(LOG_LEVEL_FATAL, module, kv, n);
    exit(1);
}
