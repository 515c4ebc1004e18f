/*
 * abi_text.c - values as text, in the argument syntax of `cast calldata`
 * (alloy's DynSolType::coerce_str), and back.
 *
 * The rules follow cast 1.x as observed, including its quirks: inside a
 * list, spaces may follow '[' ',' and precede ']' ')', but only numbers
 * and bare strings swallow spaces before a ','; a bare string ends at ','
 * or at the closing bracket of the innermost list and loses trailing
 * whitespace; quoted strings have no escapes. One deliberate difference:
 * intN is range-checked on both sides (cast accepts int8 -129 and
 * encodes a value that is not an int8).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/abi_int.h"
#include "chain/err.h"
#include "chain/hex.h"

struct tp {
    const char *s;
    size_t len;
    size_t pos;
    struct abi_arena *a;
    const struct abi_sig *sig;
    struct abi_error *err;
};

static int parse_value(struct tp *p, uint16_t ti, char list_end,
                       struct abi_value *v);

static char
peek(const struct tp *p)
{
    return p->pos < p->len ? p->s[p->pos] : '\0';
}

static bool
at(const struct tp *p, char c)
{
    return p->pos < p->len && p->s[p->pos] == c;
}

/* winnow's space0: spaces and tabs only. */
static void
skip_space0(struct tp *p)
{
    while (at(p, ' ') || at(p, '\t'))
        p->pos++;
}

static size_t
run_len(const struct tp *p, int (*pred)(int))
{
    size_t n = 0;

    while (p->pos + n < p->len && pred((unsigned char)p->s[p->pos + n]))
        n++;
    return n;
}

static int
is_dec(int c)
{
    return c >= '0' && c <= '9';
}

static int
is_hex(int c)
{
    return hex_digit(c) >= 0;
}

static int
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
expect(struct tp *p, char c)
{
    if (!at(p, c))
        return abi_fail(p->err, KP_EINVAL, p->pos, "expected '%c'", c);
    p->pos++;
    return 0;
}

/* ---- numbers ---- */

struct number {
    bool neg;
    unsigned radix;
    const char *digits, *fract;
    size_t ndigits, nfract;
    long exp;  /* from "e<N>" */
    long unit; /* decimal places of the unit */
};

static int
accumulate(struct u256 *r, const char *s, size_t n, unsigned radix)
{
    struct u256 acc;

    u256_from_u64(&acc, 0);
    for (size_t i = 0; i < n; i++) {
        int dg = hex_digit((unsigned char)s[i]);

        if (dg < 0 || (unsigned)dg >= radix)
            return KP_EINVAL;
        if (u256_mul_u64(&acc, &acc, radix) != 0 ||
            u256_add_u64(&acc, &acc, (uint64_t)dg) != 0)
            return KP_EOVERFLOW;
    }
    *r = acc;
    return 0;
}

/* The literal: 0x/0b/0o prefix (any case) then hex digits, or decimal
 * digits; an optional ".digits" fraction. */
static int
lex_literal(struct tp *p, struct number *x)
{
    const char *s = p->s + p->pos;
    size_t rest = p->len - p->pos;

    x->radix = 10;
    if (rest >= 2 && s[0] == '0' && strchr("xXbBoO", s[1]) != NULL &&
        s[1] != '\0') {
        x->radix = (s[1] == 'x' || s[1] == 'X')   ? 16
                   : (s[1] == 'b' || s[1] == 'B') ? 2
                                                  : 8;
        p->pos += 2;
    }
    x->digits = p->s + p->pos;
    x->ndigits = run_len(p, x->radix == 10 ? is_dec : is_hex);
    if (x->ndigits == 0)
        return abi_fail(p->err, KP_EINVAL, p->pos,
                        "expected at least one digit");
    p->pos += x->ndigits;
    if (at(p, '.')) {
        p->pos++;
        x->fract = p->s + p->pos;
        x->nfract = run_len(p, is_dec);
        if (x->nfract == 0)
            return abi_fail(p->err, KP_EINVAL, p->pos,
                            "expected at least one digit");
        p->pos += x->nfract;
    }
    return 0;
}

/* "e<int>" (taken only when well formed), spaces, then a unit. */
static int
lex_suffix(struct tp *p, struct number *x)
{
    size_t save = p->pos, n, u;

    if (at(p, 'e') || at(p, 'E')) {
        bool eneg = false;

        p->pos++;
        if (at(p, '+') || at(p, '-'))
            eneg = p->s[p->pos++] == '-';
        n = run_len(p, is_dec);
        if (n == 0) {
            p->pos = save;
        } else {
            for (size_t i = 0; i < n; i++)
                if (x->exp < 100000)
                    x->exp = x->exp * 10 + (p->s[p->pos + i] - '0');
            x->exp = eneg ? -x->exp : x->exp;
            p->pos += n;
        }
    }
    skip_space0(p);
    u = run_len(p, is_alpha);
    n = p->pos;
    p->pos += u;
    if (u == 0 || (u == 3 && !memcmp(p->s + n, "wei", 3)))
        x->unit = 0;
    else if (u == 5 && !memcmp(p->s + n, "ether", 5))
        x->unit = 18;
    else if ((u == 4 && !memcmp(p->s + n, "gwei", 4)) ||
             (u == 4 && !memcmp(p->s + n, "nano", 4)) ||
             (u == 9 && !memcmp(p->s + n, "nanoether", 9)))
        x->unit = 9;
    else
        return abi_fail(p->err, KP_EINVAL, n, "unknown unit '%.*s'", (int)u,
                        p->s + n);
    return 0;
}

/* (digits . fract) * 10^(unit + exp), exactly. */
static int
number_value(struct u256 *r, const struct number *x)
{
    struct u256 ip, fp, scale;
    long places = x->unit + x->exp;
    int rc;

    if (places < 0)
        return KP_EINVAL;
    if ((rc = accumulate(&ip, x->digits, x->ndigits, x->radix)) != 0)
        return rc;
    if (x->fract != NULL) {
        if ((long)x->nfract > places)
            return KP_EINVAL;
        if ((rc = accumulate(&fp, x->fract, x->nfract, 10)) != 0 ||
            u256_pow10(&scale, (unsigned)x->nfract) != 0 ||
            u256_mul(&ip, &ip, &scale) != 0 || u256_add(&ip, &ip, &fp) != 0)
            return KP_EOVERFLOW;
        places -= (long)x->nfract;
    }
    if (places > 77 || u256_pow10(&scale, (unsigned)places) != 0 ||
        u256_mul(r, &ip, &scale) != 0)
        return KP_EOVERFLOW;
    return 0;
}

/* Range-check magnitude `m` for the type, then apply the sign. */
static int
number_fit(struct u256 *r, const struct abi_type *t, bool neg,
           const struct u256 *m)
{
    unsigned bits = u256_bit_len(m);

    if (t->kind == ABI_UINT) {
        if (bits > t->size)
            return KP_ERANGE;
        *r = *m;
        return 0;
    }
    if (bits > t->size - 1u) {
        struct u256 min;

        /* Only -2^(N-1) itself has N significant bits. */
        u256_from_u64(&min, 1);
        u256_shl(&min, &min, t->size - 1u);
        if (!neg || u256_cmp(m, &min) != 0)
            return KP_ERANGE;
    }
    if (neg)
        u256_neg(r, m);
    else
        *r = *m;
    return 0;
}

static int
parse_number(struct tp *p, const struct abi_type *t, struct abi_value *v)
{
    struct number x = {0};
    struct u256 m;
    size_t start = p->pos;
    int rc;

    if (t->kind == ABI_INT && (at(p, '+') || at(p, '-')))
        x.neg = p->s[p->pos++] == '-';
    if ((rc = lex_literal(p, &x)) != 0 || (rc = lex_suffix(p, &x)) != 0)
        return rc;
    rc = number_value(&m, &x);
    if (rc == KP_EINVAL && x.unit + x.exp < 0)
        return abi_fail(p->err, rc, start, "negative units not allowed");
    if (rc == KP_EINVAL && x.fract != NULL)
        return abi_fail(p->err, rc, start, "too many decimals for the unit");
    if (rc == KP_EINVAL)
        return abi_fail(p->err, rc, start, "invalid digit for the base");
    if (rc != 0 || (rc = number_fit(&v->u.num, t, x.neg, &m)) != 0)
        return abi_fail(p->err, KP_ERANGE, start,
                        "number out of range for %s%u",
                        t->kind == ABI_UINT ? "uint" : "int",
                        (unsigned)t->size);
    v->kind = t->kind;
    return 0;
}

/* ---- hex, bool ---- */

/* An optional "0x" (lowercase, as cast) then hex digits; no digits are
 * allowed only after the prefix. */
static int
lex_hex(struct tp *p, const char **digits, size_t *n)
{
    bool prefix = p->len - p->pos >= 2 && p->s[p->pos] == '0' &&
                  p->s[p->pos + 1] == 'x';

    if (prefix)
        p->pos += 2;
    *digits = p->s + p->pos;
    *n = run_len(p, is_hex);
    if (!prefix && *n == 0)
        return abi_fail(p->err, KP_EINVAL, p->pos,
                        "expected hex digits or 0x for empty bytes");
    if (*n % 2 != 0)
        return abi_fail(p->err, KP_EINVAL, p->pos, "odd number of digits");
    p->pos += *n;
    return 0;
}

static int
parse_fixed_hex(struct tp *p, uint8_t *out, size_t want)
{
    size_t start = p->pos, n;
    const char *d;
    int rc;

    if ((rc = lex_hex(p, &d, &n)) != 0)
        return rc;
    if (n != 2 * want)
        return abi_fail(p->err, KP_ERANGE, start,
                        "expected %zu bytes, got %zu", want, n / 2);
    if (hex_decode_exact(out, want, d, n) != 0) /* digits checked above */
        return abi_fail(p->err, KP_EINVAL, start, "invalid hex");
    return 0;
}

static int
parse_bytes(struct tp *p, struct abi_value *v)
{
    size_t n, got;
    const char *d;
    uint8_t *buf;
    int rc;

    if ((rc = lex_hex(p, &d, &n)) != 0)
        return rc;
    if ((buf = abi_arena_bytes(p->a, n / 2)) == NULL)
        return abi_fail(p->err, KP_ELIMIT, p->pos, "arena full");
    if (hex_decode(buf, n / 2, &got, d, n) != 0) /* digits checked above */
        return abi_fail(p->err, KP_EINVAL, p->pos, "invalid hex");
    abi_value_bytes(v, buf, got);
    return 0;
}

static int
parse_bool(struct tp *p, struct abi_value *v)
{
    size_t n = run_len(p, is_alpha);

    if (n == 4 && !memcmp(p->s + p->pos, "true", 4))
        abi_value_bool(v, true);
    else if (n == 5 && !memcmp(p->s + p->pos, "false", 5))
        abi_value_bool(v, false);
    else
        return abi_fail(p->err, KP_EINVAL, p->pos, "invalid boolean");
    p->pos += n;
    return 0;
}

/* ---- strings ---- */

size_t
abi_trim_end(const char *s, size_t n)
{
    static const char *const wide[] = {
        "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\xa8",
        "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};

    while (n > 0) {
        unsigned char c = (unsigned char)s[n - 1];
        size_t k = 0;

        if (c == ' ' || (c >= '\t' && c <= '\r')) {
            n--;
            continue;
        }
        if (n >= 3 && !memcmp(s + n - 3, "\xe2\x80", 2) && c >= 0x80 &&
            c <= 0x8a)
            k = 3; /* U+2000..U+200A */
        for (size_t i = 0; k == 0 && i < sizeof(wide) / sizeof(wide[0]); i++) {
            size_t wl = strlen(wide[i]);

            if (n >= wl && !memcmp(s + n - wl, wide[i], wl))
                k = wl;
        }
        if (k == 0)
            break;
        n -= k;
    }
    return n;
}

static int
parse_string(struct tp *p, char list_end, struct abi_value *v)
{
    const char *s = p->s + p->pos;
    size_t n = 0;
    char c = peek(p);

    if (p->pos < p->len && (c == '"' || c == '\'')) {
        const char *end = memchr(s + 1, c, p->len - p->pos - 1);

        if (end == NULL)
            return abi_fail(p->err, KP_EINVAL, p->len, "unterminated string");
        abi_value_string(v, s + 1, (size_t)(end - s - 1));
        p->pos += (size_t)(end - s) + 1;
        return 0;
    }
    if (list_end == '\0') {
        n = p->len - p->pos;
    } else {
        while (p->pos + n < p->len && s[n] != ',' && s[n] != list_end)
            n++;
        if (n == 0)
            return abi_fail(p->err, KP_EINVAL, p->pos, "expected a string");
    }
    p->pos += n;
    abi_value_string(v, s, abi_trim_end(s, n));
    return 0;
}

/* ---- lists ---- */

/* A growable vector of parsed elements, copied into the arena once the
 * list ends (elements' own children are allocated in between, so the
 * list cannot grow in the arena itself). Bounded by the text size. */
struct vec {
    struct abi_value *v;
    size_t n, cap;
};

static struct abi_value *
vec_push(struct vec *x)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 8;
        x->v = kp_xrealloc(x->v, x->cap * sizeof(*x->v));
    }
    memset(&x->v[x->n], 0, sizeof(x->v[0]));
    return &x->v[x->n++];
}

static int
parse_elements(struct tp *p, uint16_t elem, struct vec *x)
{
    int rc;

    skip_space0(p);
    if (at(p, ']')) {
        p->pos++;
        return 0;
    }
    for (;;) {
        if ((rc = parse_value(p, elem, ']', vec_push(x))) != 0)
            return rc;
        if (!at(p, ','))
            break;
        p->pos++;
        skip_space0(p);
        if (at(p, ']'))
            break;
    }
    skip_space0(p);
    return expect(p, ']');
}

static int
parse_list(struct tp *p, const struct abi_type *t, struct abi_value *v)
{
    struct vec x = {NULL, 0, 0};
    size_t start = p->pos;
    struct abi_value *items;
    int rc;

    if ((rc = expect(p, '[')) != 0)
        return rc;
    rc = parse_elements(p, t->child, &x);
    if (rc == 0 && t->kind == ABI_FIXED_ARRAY && x.n != t->len)
        rc = abi_fail(p->err, KP_EINVAL, start,
                      "fixed array length mismatch: expected %u elements, "
                      "got %zu",
                      (unsigned)t->len, x.n);
    if (rc == 0 && (items = abi_arena_values(p->a, x.n)) == NULL)
        rc = abi_fail(p->err, KP_ELIMIT, start, "arena full");
    if (rc == 0) {
        if (x.n > 0)
            memcpy(items, x.v, x.n * sizeof(*items));
        abi_value_list(v, (enum abi_kind)t->kind, items, x.n);
    }
    free(x.v);
    return rc;
}

static int
parse_tuple(struct tp *p, const struct abi_type *t, struct abi_value *v)
{
    struct abi_value *items;
    uint16_t m = t->child;
    int rc;

    skip_space0(p);
    if ((rc = expect(p, '(')) != 0)
        return rc;
    if ((items = abi_arena_values(p->a, t->count)) == NULL)
        return abi_fail(p->err, KP_ELIMIT, p->pos, "arena full");
    for (size_t i = 0; i < t->count; i++, m = p->sig->nodes[m].next) {
        if (i > 0) {
            skip_space0(p);
            if ((rc = expect(p, ',')) != 0)
                return rc;
        }
        skip_space0(p);
        if ((rc = parse_value(p, m, ')', &items[i])) != 0)
            return rc;
    }
    skip_space0(p);
    if ((rc = expect(p, ')')) != 0)
        return rc;
    abi_value_list(v, ABI_TUPLE, items, t->count);
    return 0;
}

static int
parse_value(struct tp *p, uint16_t ti, char list_end, struct abi_value *v)
{
    const struct abi_type *t = &p->sig->nodes[ti];

    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
        return parse_number(p, t, v);
    case ABI_BOOL:
        return parse_bool(p, v);
    case ABI_ADDRESS:
        v->kind = ABI_ADDRESS;
        return parse_fixed_hex(p, v->u.addr.b, 20);
    case ABI_FIXED_BYTES:
        v->kind = ABI_FIXED_BYTES;
        v->u.fixed.len = (uint8_t)t->size;
        return parse_fixed_hex(p, v->u.fixed.b, t->size);
    case ABI_BYTES:
        return parse_bytes(p, v);
    case ABI_STRING:
        return parse_string(p, list_end, v);
    case ABI_ARRAY:
    case ABI_FIXED_ARRAY:
        return parse_list(p, t, v);
    default:
        return parse_tuple(p, t, v);
    }
}

int
abi_value_parse(struct abi_value *out, struct abi_arena *a,
                const struct abi_sig *sig, uint16_t type, const char *text,
                size_t len, struct abi_error *err)
{
    struct tp p = {text, len, 0, a, sig, err};
    int rc;

    assert(out != NULL && a != NULL && sig != NULL && type < sig->nnodes);
    assert(text != NULL || len == 0);
    memset(out, 0, sizeof(*out));
    if ((rc = parse_value(&p, type, '\0', out)) != 0)
        return rc;
    if (p.pos != len)
        return abi_fail(err, KP_EINVAL, p.pos,
                        "unexpected characters after the value");
    return 0;
}

int
abi_args_parse(struct abi_value *out, struct abi_arena *a,
               const struct abi_sig *sig, uint16_t tuple,
               const char *const *argv, size_t argc, struct abi_error *err)
{
    const struct abi_type *t;
    struct abi_value *items;
    uint16_t m;
    int rc;

    assert(out != NULL && a != NULL && sig != NULL && tuple < sig->nnodes);
    assert(argv != NULL || argc == 0);
    t = &sig->nodes[tuple];
    assert(t->kind == ABI_TUPLE);
    memset(out, 0, sizeof(*out));
    if (err != NULL)
        err->arg = -1;
    if (argc != t->count)
        return abi_fail(err, KP_EINVAL, 0, "expected %u arguments, got %zu",
                        (unsigned)t->count, argc);
    if ((items = abi_arena_values(a, argc)) == NULL)
        return abi_fail(err, KP_ELIMIT, 0, "arena full");
    m = t->child;
    for (size_t i = 0; i < argc; i++, m = sig->nodes[m].next) {
        if (err != NULL)
            err->arg = (int)i;
        assert(argv[i] != NULL);
        rc = abi_value_parse(&items[i], a, sig, m, argv[i], strlen(argv[i]),
                             err);
        if (rc != 0)
            return rc;
    }
    if (err != NULL)
        err->arg = -1;
    abi_value_list(out, ABI_TUPLE, items, argc);
    return 0;
}

/* ---- formatting ---- */

static bool
has_char(const uint8_t *s, size_t n, char c)
{
    return n > 0 && memchr(s, c, n) != NULL;
}

/* Whether `s` reads back unchanged without quotes. */
static bool
bare_ok(const uint8_t *s, size_t n, char list_end)
{
    if (n == 0)
        return list_end == '\0';
    if (s[0] == '"' || s[0] == '\'' || abi_trim_end((const char *)s, n) != n)
        return false;
    if (list_end == '\0')
        return true;
    return s[0] != ' ' && s[0] != '\t' && !has_char(s, n, ',') &&
           !has_char(s, n, list_end);
}

static void
format_string(struct abi_wr *w, const uint8_t *s, size_t n, char list_end)
{
    if (list_end == '\0' && bare_ok(s, n, list_end)) {
        abi_wr_put(w, (const char *)s, n);
    } else if (!has_char(s, n, '"') || !has_char(s, n, '\'')) {
        char q = has_char(s, n, '"') ? '\'' : '"';

        abi_wr_chr(w, q);
        abi_wr_put(w, (const char *)s, n);
        abi_wr_chr(w, q);
    } else if (bare_ok(s, n, list_end)) {
        abi_wr_put(w, (const char *)s, n);
    } else {
        /* Not expressible in cast's syntax: escape, for a reader. */
        abi_wr_chr(w, '"');
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\')
                abi_wr_chr(w, '\\');
            abi_wr_chr(w, (char)s[i]);
        }
        abi_wr_chr(w, '"');
    }
}

static void
format_list(struct abi_wr *w, const struct abi_value *v)
{
    char open = v->kind == ABI_TUPLE ? '(' : '[';
    char close = v->kind == ABI_TUPLE ? ')' : ']';

    abi_wr_chr(w, open);
    for (size_t i = 0; i < v->u.list.n; i++) {
        if (i > 0)
            abi_wr_put(w, ", ", 2);
        abi_format_value(w, &v->u.list.v[i], close);
    }
    abi_wr_chr(w, close);
}

void
abi_format_value(struct abi_wr *w, const struct abi_value *v, char list_end)
{
    char num[U256_DEC_MAX], addr[ETH_ADDR_STR_LEN];

    switch (v->kind) {
    case ABI_UINT:
        u256_fmt_dec(num, sizeof(num), &v->u.num);
        abi_wr_str(w, num);
        break;
    case ABI_INT:
        u256_fmt_dec_signed(num, sizeof(num), &v->u.num);
        abi_wr_str(w, num);
        break;
    case ABI_BOOL:
        abi_wr_str(w, v->u.b ? "true" : "false");
        break;
    case ABI_ADDRESS:
        eth_addr_to_checksum(addr, &v->u.addr);
        abi_wr_str(w, addr);
        break;
    case ABI_FIXED_BYTES:
    case ABI_TOPIC:
        abi_wr_hex(w, v->u.fixed.b, v->u.fixed.len);
        break;
    case ABI_BYTES:
        abi_wr_hex(w, v->u.bytes.p, v->u.bytes.len);
        break;
    case ABI_STRING:
        format_string(w, v->u.bytes.p, v->u.bytes.len, list_end);
        break;
    case ABI_ARRAY:
    case ABI_FIXED_ARRAY:
    case ABI_TUPLE:
        format_list(w, v);
        break;
    default:
        assert(!"abi: bad value kind");
    }
}

int
abi_value_format(char *out, size_t cap, size_t *outlen,
                 const struct abi_value *v)
{
    struct abi_wr w;

    assert((out != NULL || cap == 0) && v != NULL);
    abi_wr_init(&w, out, cap);
    abi_format_value(&w, v, '\0');
    return abi_wr_finish(&w, outlen);
}

/* ---- calldata from text ---- */

/* Every value takes at least one character of its text except a
 * top-level string, so the nodes of a parse are bounded by the text
 * size plus one per argument (and the enclosing tuple). */
static size_t
args_arena_size(const char *const *argv, size_t argc, size_t *text)
{
    size_t nodes;

    *text = 0;
    for (size_t i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);

        *text = n > ABI_MAX_ARGS_TEXT - *text ? ABI_MAX_ARGS_TEXT + 1
                                                : *text + n;
        if (*text > ABI_MAX_ARGS_TEXT)
            return 0;
    }
    nodes = *text + argc + 1;
    /* Node storage, worst-case alignment per allocation, hex bytes. */
    return nodes * (sizeof(struct abi_value) + _Alignof(struct abi_value)) +
           *text / 2 + 1;
}

int
abi_encode_call_text(uint8_t *out, size_t cap, size_t *outlen,
                     const struct abi_sig *sig, const char *const *argv,
                     size_t argc, struct abi_error *err)
{
    struct abi_arena a;
    struct abi_value args;
    size_t text, size;
    void *buf;
    int rc;

    assert(outlen != NULL && (out != NULL || cap == 0) && sig != NULL);
    assert(argv != NULL || argc == 0);
    *outlen = 0;
    if (err != NULL) {
        err->code = 0;
        err->arg = -1;
        err->msg[0] = '\0';
    }
    for (size_t i = 0; i < argc; i++)
        assert(argv[i] != NULL);
    if ((size = args_arena_size(argv, argc, &text)) == 0)
        return abi_fail(err, KP_ELIMIT, 0,
                        "arguments longer than %u bytes in all",
                        ABI_MAX_ARGS_TEXT);
    buf = kp_xmalloc(size);
    abi_arena_init(&a, buf, size);
    rc = abi_args_parse(&args, &a, sig, sig->inputs, argv, argc, err);
    if (rc == 0 && sig->name[0] == '\0')
        rc = abi_encode(out, cap, outlen, sig, sig->inputs, &args);
    else if (rc == 0)
        rc = abi_encode_call(out, cap, outlen, sig, &args);
    if (rc != 0 && rc != KP_ERANGE && (err == NULL || err->code == 0))
        rc = abi_fail(err, rc, 0, "%s", kp_strerror(rc));
    free(buf);
    return rc;
}
