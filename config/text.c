/* text.c - message quoting, key suggestions, ABI signature syntax
 * (cfg_int.h). */
#include "config/cfg_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "chain/err.h"

#define QUOTE_MAX 48

void
cfg_quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0;

    assert(out != NULL && cap >= 8 && (s != NULL || len == 0));
    out[o++] = '\'';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = (c >= 0x20 && c < 0x7f) ? 1 : 4;

        if (i >= QUOTE_MAX || o + need + 5 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (need == 1)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
    }
    out[o++] = '\'';
    out[o] = '\0';
}

/* Key names are short; anything longer is not a typo of one. */
#define EDIT_MAX 64

size_t
cfg_edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Three rows of the optimal-string-alignment table. */
    size_t r0[EDIT_MAX + 1], r1[EDIT_MAX + 1], r2[EDIT_MAX + 1];
    size_t *pp = r0, *prev = r1, *cur = r2;

    if (alen > EDIT_MAX || blen > EDIT_MAX)
        return (size_t)-1;
    for (size_t j = 0; j <= blen; j++)
        prev[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = prev[j - 1] + cost;

            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[blen];
}

/* One that contains the other, e.g. "timeout" for "request_timeout". */
static bool
contains(const char *s, size_t len, const char *name)
{
    size_t nl = strlen(name);

    if (len < 4 || nl < 4)
        return false;
    if (len < nl)
        return memmem(name, nl, s, len) != NULL;
    return memmem(s, len, name, nl) != NULL;
}

const char *
cfg_suggest(const char *s, size_t len, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;

    assert(s != NULL || len == 0);
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(names[i]), longest = nl > len ? nl : len;
        size_t d = cfg_edit_distance(s, len, names[i], nl);
        size_t limit = longest <= 4 ? 1 : longest <= 8 ? 2 : 3;

        if (d <= limit && d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    for (size_t i = 0; best == NULL && i < n; i++)
        if (contains(s, len, names[i]))
            best = names[i];
    return best;
}

/* --- ABI signatures ------------------------------------------------------ */

struct sigparse {
    const char *s;
    size_t len, i;
    unsigned depth;
    const char *why;
};

static bool
is_ident(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '$' || (!first && c >= '0' && c <= '9');
}

/* Returns: whether s[0..len) is 1-3 digits without a leading zero. */
static bool
parse_bits(const char *s, size_t len, unsigned *bits)
{
    *bits = 0;
    if (len == 0 || len > 3 || s[0] == '0')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *bits = *bits * 10 + (unsigned)(s[i] - '0');
    }
    return true;
}

/* Returns: whether s[0..len) starts with prefix and a valid size follows
 * (empty allowed when bare_ok). */
static bool
sized(const char *s, size_t len, const char *prefix, unsigned lo,
      unsigned hi, unsigned step, bool bare_ok)
{
    size_t pl = strlen(prefix);
    unsigned bits;

    if (len < pl || memcmp(s, prefix, pl) != 0)
        return false;
    if (len == pl)
        return bare_ok;
    return parse_bits(s + pl, len - pl, &bits) && bits >= lo && bits <= hi &&
           bits % step == 0;
}

/* Returns: whether s[0..len) names an elementary ABI type. */
static bool
is_elementary(const char *s, size_t len, bool *is_uint)
{
    static const char *const plain[] = {"address", "bool", "string",
                                        "function"};

    *is_uint = false;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strlen(plain[i]) == len && !memcmp(plain[i], s, len))
            return true;
    if (sized(s, len, "uint", 8, 256, 8, true))
        return *is_uint = true, true;
    return sized(s, len, "int", 8, 256, 8, true) ||
           sized(s, len, "bytes", 1, 32, 1, true);
}

static int parse_list(struct sigparse *p, int *count, bool *one_uint);

/* type := (elementary | "(" list ")") ("[" digits? "]")* */
static int
parse_type(struct sigparse *p, bool *is_uint)
{
    size_t start = p->i;

    *is_uint = false;
    if (p->i < p->len && p->s[p->i] == '(') {
        int n;
        bool u;

        if (parse_list(p, &n, &u) != 0)
            return KP_EINVAL;
    } else {
        while (p->i < p->len && is_ident(p->s[p->i], false))
            p->i++;
        if (!is_elementary(p->s + start, p->i - start, is_uint)) {
            p->why = p->i == start ? "expected a type"
                                   : "unknown ABI type";
            return KP_EINVAL;
        }
    }
    while (p->i < p->len && p->s[p->i] == '[') {
        *is_uint = false;
        for (p->i++; p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9';)
            p->i++;
        if (p->i == p->len || p->s[p->i] != ']')
            return p->why = "unclosed '['", KP_EINVAL;
        p->i++;
    }
    return 0;
}

/* list := "(" [type ("," type)*] ")" */
static int
parse_list(struct sigparse *p, int *count, bool *one_uint)
{
    bool u = false;

    *count = 0;
    if (p->i == p->len || p->s[p->i] != '(')
        return p->why = "expected '('", KP_EINVAL;
    if (++p->depth > 8)
        return p->why = "tuples nested too deep", KP_EINVAL;
    p->i++;
    if (p->i < p->len && p->s[p->i] == ')') {
        p->i++;
        p->depth--;
        *one_uint = false;
        return 0;
    }
    for (;;) {
        if (parse_type(p, &u) != 0)
            return KP_EINVAL;
        (*count)++;
        if (p->i < p->len && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->len && p->s[p->i] == ')')
            break;
        return p->why = "expected ',' or ')'", KP_EINVAL;
    }
    p->i++;
    p->depth--;
    *one_uint = *count == 1 && u;
    return 0;
}

int
cfg_abisig_check(struct cfg_abisig *sig, const char *s, size_t len,
                 char *why, size_t whycap)
{
    struct sigparse p = {.s = s, .len = len};

    assert(sig != NULL && (s != NULL || len == 0));
    memset(sig, 0, sizeof(*sig));
    sig->n_out = -1;
    while (p.i < len && is_ident(s[p.i], p.i == 0))
        p.i++;
    if (p.i == 0)
        p.why = "expected a function name";
    else if (parse_list(&p, &sig->n_in, &sig->in_is_uint) == 0 &&
             p.i < len &&
             parse_list(&p, &sig->n_out, &sig->out_is_uint) == 0 && p.i < len)
        p.why = "unexpected text after the output list";
    if (p.why != NULL) {
        snprintf(why, whycap,
                 "invalid ABI signature: %s at character %zu, expected e.g. "
                 "balance()(uint256)",
                 p.why, p.i + 1);
        return KP_EINVAL;
    }
    return 0;
}
