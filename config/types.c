/* types.c - parsing, bounds and printing of each value type (cfg_int.h).
 * One parse/cmp/print triple per type; the table at the bottom maps
 * enum cfg_type to them. */
#include "config/cfg_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/address.h"
#include "chain/err.h"
#include "chain/hex.h"
#include "chain/u256.h"
#include "config/units.h"

#define WHY(...) (snprintf(why, whycap, __VA_ARGS__), KP_EINVAL)

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return len > 0;
}

/* Copy text into a char[k->size] field. */
static int
store_text(const struct cfg_key *k, void *field, const char *s, size_t len,
           char *why, size_t whycap)
{
    if (len >= k->size)
        return WHY("too long (at most %zu characters)", k->size - 1);
    memcpy(field, s, len);
    ((char *)field)[len] = '\0';
    return 0;
}

/* --- numbers --- */

static int
parse_bool(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
           const char *s, size_t len, char *why, size_t whycap)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};

    for (size_t i = 0; i < 3; i++) {
        if (strlen(yes[i]) == len && !memcmp(s, yes[i], len))
            return *(bool *)field = true, 0;
        if (strlen(no[i]) == len && !memcmp(s, no[i], len))
            return *(bool *)field = false, 0;
    }
    return WHY("expected true or false");
}

static void
print_bool(FILE *f, const struct cfg_key *k, const void *field,
           const struct cfg_print_ctx *pc)
{
    fputs(*(const bool *)field ? "true" : "false", f);
}

/* Returns: 0, or KP_EINVAL with why. */
static int
parse_uint(uint64_t *v, uint64_t max, const char *s, size_t len, char *why,
           size_t whycap)
{
    *v = 0;
    if (!all_digits(s, len))
        return WHY("expected a whole number");
    for (size_t i = 0; i < len; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');

        if (*v > (max - d) / 10)
            return WHY("number too large (at most %" PRIu64 ")", max);
        *v = *v * 10 + d;
    }
    return 0;
}

static int
parse_u32(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
          const char *s, size_t len, char *why, size_t whycap)
{
    uint64_t v;
    int rc = parse_uint(&v, UINT32_MAX, s, len, why, whycap);

    *(uint32_t *)field = (uint32_t)v;
    return rc;
}

static int
parse_u64(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
          const char *s, size_t len, char *why, size_t whycap)
{
    return parse_uint(field, UINT64_MAX, s, len, why, whycap);
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static void
print_u32(FILE *f, const struct cfg_key *k, const void *field,
          const struct cfg_print_ctx *pc)
{
    fprintf(f, "%" PRIu32, *(const uint32_t *)field);
}

static void
print_u64(FILE *f, const struct cfg_key *k, const void *field,
          const struct cfg_print_ctx *pc)
{
    fprintf(f, "%" PRIu64, *(const uint64_t *)field);
}

static int
parse_double(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
             const char *s, size_t len, char *why, size_t whycap)
{
    char buf[64], *end;
    double d;

    /* Plain decimal notation only: no hex floats, inf or nan. */
    if (len == 0 || len >= sizeof(buf) || strspn(s, "0123456789.eE+-") < len)
        return WHY("expected a number");
    memcpy(buf, s, len);
    buf[len] = '\0';
    d = strtod(buf, &end);
    if (end != buf + len || !isfinite(d))
        return WHY("expected a number");
    *(double *)field = d;
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void
print_double(FILE *f, const struct cfg_key *k, const void *field,
             const struct cfg_print_ctx *pc)
{
    double d = *(const double *)field;
    char buf[40];

    /* The shortest text that reads back as the same double. */
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    fputs(buf, f);
}

/* --- units --- */

static int
parse_duration(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
               const char *s, size_t len, char *why, size_t whycap)
{
    int rc = cfg_parse_duration(field, s, len);

    if (rc == 0)
        return 0;
    if (rc == KP_EOVERFLOW)
        return WHY("duration too long");
    if (all_digits(s, len))
        return WHY("missing unit: write e.g. 30s (units: ms, s, m, h, d)");
    return WHY("invalid duration: write a number and a unit, e.g. 30s, "
               "250ms, 2m, 1h, 1d");
}

static void
print_duration(FILE *f, const struct cfg_key *k, const void *field,
               const struct cfg_print_ctx *pc)
{
    char buf[CFG_UNIT_STR_MAX];

    cfg_fmt_duration(buf, sizeof(buf), *(const uint64_t *)field);
    fputs(buf, f);
}

static int
parse_percent(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
              const char *s, size_t len, char *why, size_t whycap)
{
    int rc = cfg_parse_percent(field, s, len);

    if (rc == 0)
        return 0;
    if (rc == KP_EOVERFLOW)
        return WHY("percentage too large");
    if (strspn(s, "0123456789.") == len)
        return WHY("missing '%%': write e.g. 20%%");
    return WHY("invalid percentage: write e.g. 20%% or 0.5%% (at most two "
               "decimals)");
}

static void
print_percent(FILE *f, const struct cfg_key *k, const void *field,
              const struct cfg_print_ctx *pc)
{
    char buf[CFG_UNIT_STR_MAX];

    cfg_fmt_percent(buf, sizeof(buf), *(const uint32_t *)field);
    fputs(buf, f);
}

static int
parse_size(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
           const char *s, size_t len, char *why, size_t whycap)
{
    int rc = cfg_parse_size(field, s, len);

    if (rc == 0)
        return 0;
    if (rc == KP_EOVERFLOW)
        return WHY("size too large");
    return WHY("invalid size: write a number of bytes or e.g. 64KiB, 8MiB, "
               "1GiB");
}

static void
print_size(FILE *f, const struct cfg_key *k, const void *field,
           const struct cfg_print_ctx *pc)
{
    char buf[CFG_UNIT_STR_MAX];

    cfg_fmt_size(buf, sizeof(buf), *(const uint64_t *)field);
    fputs(buf, f);
}

/* --- amounts --- */

static int
parse_wei(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
          const char *s, size_t len, char *why, size_t whycap)
{
    int rc = u256_parse_units(field, s, len);

    if (rc == KP_EOVERFLOW)
        return WHY("amount too large");
    if (rc != 0)
        return WHY("invalid amount: write a whole number of wei, with an "
                   "optional unit, e.g. 30gwei, 1.5ether, 250000e6");
    return 0;
}

/* Token amounts are base units of the reserve token: ether-style unit
 * names would scale by 10^18 whatever the token's decimals, so only
 * digits, a fraction and an exponent are accepted ("250000e6"). */
static int
parse_token(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
            const char *s, size_t len, char *why, size_t whycap)
{
    size_t i = strspn(s, "0123456789.");
    int rc;

    if (i < len && (s[i] == 'e' || s[i] == 'E'))
        i += 1 + strspn(s + i + 1, "0123456789");
    if (i != len || len == 0)
        return WHY("invalid token amount: write base units of the reserve "
                   "token, e.g. 250000e6 for 250000 at 6 decimals (unit "
                   "names like ether do not apply)");
    rc = u256_parse_units(field, s, len);
    if (rc == KP_EOVERFLOW)
        return WHY("amount too large");
    if (rc != 0)
        return WHY("invalid token amount: must be a whole number of base "
                   "units, e.g. 250000e6");
    return 0;
}

static int
cmp_u256(const void *a, const void *b)
{
    return u256_cmp(a, b);
}

/* The largest unit that keeps the number readable: ether from 0.001
 * ether, gwei from 0.001 gwei, else wei. u256_fmt_units is exact, and
 * u256_parse_units reads its output back to the same value. */
static void
print_wei(FILE *f, const struct cfg_key *k, const void *field,
          const struct cfg_print_ctx *pc)
{
    const struct u256 *a = field;
    char buf[U256_DEC_MAX + 2];
    struct u256 t;

    u256_from_u64(&t, 1000000000000000ULL);
    if (u256_cmp(a, &t) >= 0) {
        u256_fmt_units(buf, sizeof(buf), a, 18);
        fprintf(f, "%sether", buf);
        return;
    }
    u256_from_u64(&t, 1000000);
    if (u256_cmp(a, &t) >= 0) {
        u256_fmt_units(buf, sizeof(buf), a, 9);
        fprintf(f, "%sgwei", buf);
        return;
    }
    u256_fmt_dec(buf, sizeof(buf), a);
    fputs(buf, f);
}

static void
print_token(FILE *f, const struct cfg_key *k, const void *field,
            const struct cfg_print_ctx *pc)
{
    char buf[U256_DEC_MAX + 2];

    if (pc->token_decimals == 0 || u256_is_zero(field)) {
        u256_fmt_dec(buf, sizeof(buf), field);
        fputs(buf, f);
        return;
    }
    u256_fmt_units(buf, sizeof(buf), field, pc->token_decimals);
    fprintf(f, "%se%u", buf, pc->token_decimals);
}

/* --- enums --- */

static int
parse_enum(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
           const char *s, size_t len, char *why, size_t whycap)
{
    const struct cfg_enum *e = k->aux;
    size_t o;

    for (; e->name != NULL; e++) {
        if (strlen(e->name) == len && !memcmp(e->name, s, len)) {
            *(int *)field = e->value;
            return 0;
        }
    }
    o = (size_t)snprintf(why, whycap, "expected one of:");
    for (e = k->aux; e->name != NULL && o < whycap; e++)
        o += (size_t)snprintf(why + o, whycap - o, "%s %s",
                              e == k->aux ? "" : ",", e->name);
    return KP_EINVAL;
}

static void
print_enum(FILE *f, const struct cfg_key *k, const void *field,
           const struct cfg_print_ctx *pc)
{
    for (const struct cfg_enum *e = k->aux; e->name != NULL; e++)
        if (e->value == *(const int *)field) {
            fputs(e->name, f);
            return;
        }
    assert(!"enum value without a name");
}

/* --- strings --- */

/* Returns: the index of the first byte of s not in the class, or len. */
static size_t
span_class(const char *s, size_t len, bool (*ok)(unsigned char c, size_t i))
{
    for (size_t i = 0; i < len; i++)
        if (!ok((unsigned char)s[i], i))
            return i;
    return len;
}

static bool
name_char(unsigned char c, size_t i)
{
    return (c >= 'a' && c <= 'z') || is_digit((char)c) || c == '_' || c == '-';
}

static bool
label_char(unsigned char c, size_t i)
{
    return c >= 0x20 && c != 0x7f;
}

static bool
asset_char(unsigned char c, size_t i)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           is_digit((char)c) || c == '/' || c == '_' || c == '.' || c == '-';
}

static bool
env_char(unsigned char c, size_t i)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (i > 0 && is_digit((char)c));
}

static int
parse_name(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
           const char *s, size_t len, char *why, size_t whycap)
{
    if (len == 0 || span_class(s, len, name_char) != len)
        return WHY("invalid name: use lowercase letters, digits, '_' and "
                   "'-'");
    return store_text(k, field, s, len, why, whycap);
}

static int
parse_label(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
            const char *s, size_t len, char *why, size_t whycap)
{
    if (span_class(s, len, label_char) != len)
        return WHY("contains a control character");
    return store_text(k, field, s, len, why, whycap);
}

static int
parse_text(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
           const char *s, size_t len, char *why, size_t whycap)
{
    if (len == 0)
        return WHY("empty value");
    return store_text(k, field, s, len, why, whycap);
}

static int
parse_asset(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
            const char *s, size_t len, char *why, size_t whycap)
{
    if (len == 0 || span_class(s, len, asset_char) != len)
        return WHY("invalid asset: use letters, digits and '/', '_', '.', "
                   "'-', e.g. ETH/USD");
    return store_text(k, field, s, len, why, whycap);
}

static int
parse_envname(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
              const char *s, size_t len, char *why, size_t whycap)
{
    if (len == 0 || span_class(s, len, env_char) != len)
        return WHY("invalid environment variable name: use letters, digits "
                   "and '_', not starting with a digit");
    return store_text(k, field, s, len, why, whycap);
}

/* Relative paths are relative to the file that names them. */
static int
parse_path(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
           const char *s, size_t len, char *why, size_t whycap)
{
    if (len == 0)
        return WHY("empty path");
    if (cfg_join_path(field, k->size, ctx ? ctx->dir : "", s, len) != 0)
        return WHY("path too long (at most %zu characters)", k->size - 1);
    return 0;
}

static void
print_string(FILE *f, const struct cfg_key *k, const void *field,
             const struct cfg_print_ctx *pc)
{
    cfg_print_quoted(f, field);
}

/* --- URLs and host:port --- */

struct hostport {
    const char *host; /* without brackets */
    size_t hlen;
    bool has_port;
    uint32_t port;
};

static bool
host_char(unsigned char c, size_t i)
{
    return asset_char(c, i) && c != '/';
}

static bool
ip6_char(unsigned char c, size_t i)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           is_digit((char)c) || c == ':' || c == '.';
}

/* Split "host[:port]" or "[v6][:port]". Returns: 0, or KP_EINVAL with a
 * static reason in *why. */
static int
split_hostport(struct hostport *hp, const char *s, size_t len, const char **why)
{
    size_t i;

    memset(hp, 0, sizeof(*hp));
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);

        if (close == NULL)
            return *why = "unclosed '[' in host", KP_EINVAL;
        hp->host = s + 1;
        hp->hlen = (size_t)(close - s) - 1;
        i = (size_t)(close - s) + 1;
        if (span_class(hp->host, hp->hlen, ip6_char) != hp->hlen ||
            hp->hlen < 2)
            return *why = "invalid IPv6 address", KP_EINVAL;
    } else {
        hp->host = s;
        hp->hlen = span_class(s, len, host_char);
        i = hp->hlen;
        if (hp->hlen == 0)
            return *why = "missing host", KP_EINVAL;
    }
    if (i == len)
        return 0;
    if (s[i] != ':' || !all_digits(s + i + 1, len - i - 1) || len - i - 1 > 5)
        return *why = "invalid host or port", KP_EINVAL;
    hp->has_port = true;
    for (i++; i < len; i++)
        hp->port = hp->port * 10 + (uint32_t)(s[i] - '0');
    if (hp->port == 0 || hp->port > 65535)
        return *why = "port out of range (1-65535)", KP_EINVAL;
    return 0;
}

/* Find "scheme://authority" and return the authority's host:port.
 * Returns: 0, or KP_EINVAL with a static reason in *why. */
static int
split_url(struct hostport *hp, const char *s, size_t len, bool ws,
          const char **why)
{
    static const char *const schemes[2][2] = {{"http://", "https://"},
                                              {"ws://", "wss://"}};
    size_t a = 0, end, at;

    for (size_t i = 0; i < 2 && a == 0; i++) {
        size_t n = strlen(schemes[ws][i]);

        if (len >= n && !strncasecmp(s, schemes[ws][i], n))
            a = n;
    }
    if (a == 0)
        return *why = ws ? "expected a ws:// or wss:// URL"
                         : "expected an http:// or https:// URL",
               KP_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return *why = "URL contains a space or control character",
                   KP_EINVAL;
    end = a + strcspn(s + a, "/?#");
    if (end > len)
        end = len;
    /* user:password@host - the host follows the last '@'. */
    for (at = end; at > a && s[at - 1] != '@'; at--)
        ;
    return split_hostport(hp, s + at, end - at, why);
}

/* Returns: whether a user info part precedes the host found in `s`. */
static bool
url_has_userinfo(const char *s, const struct hostport *hp)
{
    const char *h = hp->host;

    if (h > s && h[-1] == '[')
        h--;
    return h > s && h[-1] == '@';
}

static int
parse_url(const struct cfg_key *k, void *field, const char *s, size_t len,
          bool ws, char *why, size_t whycap)
{
    struct hostport hp;
    const char *reason;

    if (split_url(&hp, s, len, ws, &reason) != 0)
        return WHY("%s", reason);
    /* The WebSocket client takes no credentials in the URL (libcurl does,
     * for http): said here rather than when the keeper starts. */
    if (ws && url_has_userinfo(s, &hp))
        return WHY("user info (user:password@) is not supported in a "
                   "WebSocket URL");
    return store_text(k, field, s, len, why, whycap);
}

static int
parse_http_url(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
               const char *s, size_t len, char *why, size_t whycap)
{
    return parse_url(k, field, s, len, false, why, whycap);
}

static int
parse_ws_url(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
             const char *s, size_t len, char *why, size_t whycap)
{
    return parse_url(k, field, s, len, true, why, whycap);
}

bool
cfg_url_is_loopback(const char *s, size_t len)
{
    struct hostport hp;
    const char *reason;
    char host[64];

    if (split_url(&hp, s, len, false, &reason) != 0 || hp.hlen >= sizeof(host))
        return false;
    memcpy(host, hp.host, hp.hlen);
    host[hp.hlen] = '\0';
    if (!strcasecmp(host, "localhost") || !strcmp(host, "::1"))
        return true;
    return !strncmp(host, "127.", 4) && strspn(host, "0123456789.") == hp.hlen;
}

static int
parse_hostport(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
               const char *s, size_t len, char *why, size_t whycap)
{
    struct cfg_metrics *m = field;
    struct hostport hp;
    struct in_addr v4;
    const char *reason;

    if (split_hostport(&hp, s, len, &reason) != 0)
        return WHY("%s: write host:port, e.g. 127.0.0.1:9464", reason);
    if (!hp.has_port)
        return WHY("missing port: write host:port, e.g. 127.0.0.1:9464");
    if (hp.hlen >= sizeof(m->host))
        return WHY("host too long");
    memcpy(m->host, hp.host, hp.hlen);
    m->host[hp.hlen] = '\0';
    /* What the metrics server can bind: an IPv4 address (0.0.0.0 for
     * every interface) or localhost. Names are not resolved to listen. */
    if (strcmp(m->host, "localhost") != 0 &&
        inet_pton(AF_INET, m->host, &v4) != 1)
        return WHY("%s: the metrics server listens on an IPv4 address or "
                   "localhost (e.g. 127.0.0.1:9464, 0.0.0.0:9464)",
                   strchr(m->host, ':') ? "IPv6 is not supported"
                                         : "not an IPv4 address");
    m->port = (uint16_t)hp.port;
    return 0;
}

static void
print_hostport(FILE *f, const struct cfg_key *k, const void *field,
               const struct cfg_print_ctx *pc)
{
    const struct cfg_metrics *m = field;

    if (strchr(m->host, ':') != NULL)
        fprintf(f, "\"[%s]:%u\"", m->host, (unsigned)m->port);
    else
        fprintf(f, "\"%s:%u\"", m->host, (unsigned)m->port);
}

/* --- addresses and signatures --- */

static int
parse_address(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
              const char *s, size_t len, char *why, size_t whycap)
{
    static const struct eth_addr zero;
    int rc;

    if (!hex_has_prefix(s, len) || len != 42)
        return WHY("invalid address: write 0x and 40 hex digits");
    rc = eth_addr_parse(field, s, len);
    if (rc == KP_ECHECKSUM)
        return WHY("address checksum (EIP-55) mismatch: check the address, "
                   "or write it in lowercase");
    if (rc != 0)
        return WHY("invalid address: write 0x and 40 hex digits");
    if (!memcmp(field, &zero, sizeof(zero)))
        return WHY("the zero address is not a contract");
    return 0;
}

static void
print_address(FILE *f, const struct cfg_key *k, const void *field,
              const struct cfg_print_ctx *pc)
{
    char buf[ETH_ADDR_STR_LEN];

    eth_addr_to_checksum(buf, field);
    fputs(buf, f);
}

static int
parse_read_sig(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
               const char *s, size_t len, char *why, size_t whycap)
{
    struct cfg_abisig sig;

    if (cfg_abisig_check(&sig, s, len, why, whycap) != 0)
        return KP_EINVAL;
    if (sig.n_in != 0 || sig.n_out != 1 || !sig.out_is_uint)
        return WHY("a read call takes no arguments and returns one "
                   "unsigned integer, e.g. balance()(uint256)");
    return store_text(k, field, s, len, why, whycap);
}

static int
parse_write_sig(const struct cfg_ctx *ctx, const struct cfg_key *k, void *field,
                const char *s, size_t len, char *why, size_t whycap)
{
    struct cfg_abisig sig;

    if (cfg_abisig_check(&sig, s, len, why, whycap) != 0)
        return KP_EINVAL;
    if (sig.n_in != 1 || !sig.in_is_uint)
        return WHY("an action call takes one unsigned integer (the "
                   "amount), e.g. inject(uint256)");
    return store_text(k, field, s, len, why, whycap);
}

/* --- table --- */

static const struct cfg_type_ops type_ops[CT_NTYPES] = {
    [CT_BOOL] = {"true or false", sizeof(bool), parse_bool, NULL, print_bool},
    [CT_U32] = {"a whole number", sizeof(uint32_t), parse_u32, cmp_u32,
                print_u32},
    [CT_U64] = {"a whole number", sizeof(uint64_t), parse_u64, cmp_u64,
                print_u64},
    [CT_DOUBLE] = {"a number", sizeof(double), parse_double, cmp_double,
                   print_double},
    [CT_DURATION] = {"a duration", sizeof(uint64_t), parse_duration, cmp_u64,
                     print_duration},
    [CT_PERCENT] = {"a percentage", sizeof(uint32_t), parse_percent, cmp_u32,
                    print_percent},
    [CT_SIZE] = {"a size", sizeof(uint64_t), parse_size, cmp_u64, print_size},
    [CT_WEI] = {"an amount", sizeof(struct u256), parse_wei, cmp_u256,
                print_wei},
    [CT_TOKEN] = {"a token amount", sizeof(struct u256), parse_token, cmp_u256,
                  print_token},
    [CT_ENUM] = {"a name", sizeof(int), parse_enum, NULL, print_enum},
    [CT_NAME] = {"a name", 0, parse_name, NULL, print_string},
    [CT_LABEL] = {"text", 0, parse_label, NULL, print_string},
    [CT_TEXT] = {"text", 0, parse_text, NULL, print_string},
    [CT_ASSET] = {"an asset name", 0, parse_asset, NULL, print_string},
    [CT_ENVNAME] = {"a variable name", 0, parse_envname, NULL, print_string},
    [CT_PATH] = {"a path", 0, parse_path, NULL, print_string},
    [CT_HTTP_URL] = {"a URL", 0, parse_http_url, NULL, print_string},
    [CT_WS_URL] = {"a URL", 0, parse_ws_url, NULL, print_string},
    [CT_ADDRESS] = {"an address", sizeof(struct eth_addr), parse_address, NULL,
                    print_address},
    [CT_READ_SIG] = {"an ABI signature", 0, parse_read_sig, NULL, print_string},
    [CT_WRITE_SIG] = {"an ABI signature", 0, parse_write_sig, NULL,
                      print_string},
    [CT_HOSTPORT] = {"host:port", sizeof(struct cfg_metrics), parse_hostport,
                     NULL, print_hostport},
};

const struct cfg_type_ops *
cfg_type(enum cfg_type t)
{
    assert(t < CT_NTYPES && type_ops[t].parse != NULL);
    return &type_ops[t];
}

void
cfg_parse_builtin(const struct cfg_key *k, void *field, const char *s)
{
    char why[256];
    int rc = cfg_type(k->type)->parse(NULL, k, field, s, strlen(s), why,
                                      sizeof(why));

    assert(rc == 0 && "a built-in default or bound does not parse");
    (void)rc;
}

void
cfg_print_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02X", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
