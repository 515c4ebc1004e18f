/*
 * abi_type.c - human-readable signatures: parsing into a type tree,
 * canonical form, selector and event topic.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/abi_int.h"
#include "chain/err.h"
#include "chain/keccak.h"

struct sp {
    const char *s;
    size_t len;
    size_t pos;
    struct abi_sig *sig;
    struct abi_error *err;
};

/* ---- lexing ---- */

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static bool
is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '$';
}

static bool
is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void
skip_ws(struct sp *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
}

static char
peek(const struct sp *p)
{
    return p->pos < p->len ? p->s[p->pos] : '\0';
}

/* Length of the identifier at the current position (0 if none). */
static size_t
ident_len(const struct sp *p)
{
    size_t n = 0;

    if (p->pos >= p->len || !is_ident_start(p->s[p->pos]))
        return 0;
    while (p->pos + n < p->len && is_ident_char(p->s[p->pos + n]))
        n++;
    return n;
}

static bool
word_is(const struct sp *p, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p->s + p->pos, w, n) == 0;
}

static bool
word_in(const struct sp *p, size_t n, const char *const *words)
{
    for (; *words != NULL; words++)
        if (word_is(p, n, *words))
            return true;
    return false;
}

static int
expect(struct sp *p, char c)
{
    skip_ws(p);
    if (peek(p) != c)
        return abi_fail(p->err, KP_EINVAL, p->pos, "expected '%c'", c);
    p->pos++;
    return 0;
}

/* ---- nodes ---- */

static int
new_node(struct sp *p, enum abi_kind kind, uint16_t *idx)
{
    struct abi_type *t;

    if (p->sig->nnodes >= ABI_MAX_NODES)
        return abi_fail(p->err, KP_ELIMIT, p->pos,
                        "more than %d types in the signature", ABI_MAX_NODES);
    *idx = p->sig->nnodes++;
    t = &p->sig->nodes[*idx];
    memset(t, 0, sizeof(*t));
    t->kind = (uint8_t)kind;
    t->child = ABI_NONE;
    t->next = ABI_NONE;
    t->head = 32;
    return 0;
}

/* Parse the decimal digits of a type size ("256" in uint256): no
 * leading zero, at most 4 digits. Returns: the value, or -1. */
static long
type_number(const char *s, size_t n)
{
    long v = 0;

    if (n == 0 || n > 4 || s[0] == '0')
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Map an elementary type name to kind and size.
 * Returns: 0, KP_EINVAL (unknown), KP_EUNSUPPORTED (valid Solidity that
 * the ABI codec does not handle). */
static int
elementary(const char *s, size_t n, enum abi_kind *kind, uint16_t *size)
{
    static const struct {
        const char *pre;
        enum abi_kind kind;
        long min, max, step;
    } sized[] = {
        {"uint", ABI_UINT, 8, 256, 8},
        {"int", ABI_INT, 8, 256, 8},
        {"bytes", ABI_FIXED_BYTES, 1, 32, 1},
    };

    if (n == 4 && !memcmp(s, "uint", 4))
        return *kind = ABI_UINT, *size = 256, 0;
    if (n == 3 && !memcmp(s, "int", 3))
        return *kind = ABI_INT, *size = 256, 0;
    if (n == 7 && !memcmp(s, "address", 7))
        return *kind = ABI_ADDRESS, *size = 160, 0;
    if (n == 4 && !memcmp(s, "bool", 4))
        return *kind = ABI_BOOL, *size = 8, 0;
    if (n == 5 && !memcmp(s, "bytes", 5))
        return *kind = ABI_BYTES, *size = 0, 0;
    if (n == 6 && !memcmp(s, "string", 6))
        return *kind = ABI_STRING, *size = 0, 0;
    for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++) {
        size_t pl = strlen(sized[i].pre);
        long v;

        if (n <= pl || memcmp(s, sized[i].pre, pl) != 0)
            continue;
        v = type_number(s + pl, n - pl);
        if (v < 0)
            continue;
        if (v < sized[i].min || v > sized[i].max || v % sized[i].step)
            return KP_EINVAL;
        *kind = sized[i].kind;
        *size = (uint16_t)v;
        return 0;
    }
    if ((n >= 5 && !memcmp(s, "fixed", 5)) ||
        (n >= 6 && !memcmp(s, "ufixed", 6)) ||
        (n == 8 && !memcmp(s, "function", 8)))
        return KP_EUNSUPPORTED;
    return KP_EINVAL;
}

/* ---- parsing ---- */

static int parse_params(struct sp *p, unsigned level, bool top,
                        uint16_t *tuple, unsigned *depth);

static int
parse_elementary(struct sp *p, uint16_t *idx)
{
    size_t start = p->pos, n = ident_len(p);
    enum abi_kind kind;
    uint16_t size;
    int rc;

    if (n == 0)
        return abi_fail(p->err, KP_EINVAL, p->pos, "expected a type");
    rc = elementary(p->s + start, n, &kind, &size);
    if (rc == KP_EUNSUPPORTED)
        return abi_fail(p->err, rc, start, "type '%.*s' is not supported",
                        (int)n, p->s + start);
    if (rc != 0)
        return abi_fail(p->err, rc, start, "unknown type '%.*s'", (int)n,
                        p->s + start);
    if ((rc = new_node(p, kind, idx)) != 0)
        return rc;
    p->sig->nodes[*idx].size = size;
    p->sig->nodes[*idx].dynamic = kind == ABI_BYTES || kind == ABI_STRING;
    p->pos += n;
    return 0;
}

/* "[k]" or "[]" after a type: wrap *idx in an array node. */
static int
parse_array_suffix(struct sp *p, uint16_t *idx)
{
    size_t start = p->pos;
    long k = 0;
    uint16_t arr = ABI_NONE;
    struct abi_type *t, *elem;
    int rc;

    p->pos++; /* '[' */
    skip_ws(p);
    if (peek(p) >= '0' && peek(p) <= '9') {
        while (peek(p) >= '0' && peek(p) <= '9') {
            k = k * 10 + (p->s[p->pos++] - '0');
            if (k > ABI_MAX_FIXED_LEN)
                k = ABI_MAX_FIXED_LEN + 1; /* saturate; reported below */
        }
        if (k == 0 || k > ABI_MAX_FIXED_LEN)
            return abi_fail(p->err, k ? KP_ELIMIT : KP_EINVAL, start,
                            "fixed array length must be 1..%d",
                            ABI_MAX_FIXED_LEN);
    }
    if ((rc = expect(p, ']')) != 0)
        return rc;
    if ((rc = new_node(p, k ? ABI_FIXED_ARRAY : ABI_ARRAY, &arr)) != 0)
        return rc;
    t = &p->sig->nodes[arr];
    elem = &p->sig->nodes[*idx];
    t->child = *idx;
    t->len = (uint32_t)k;
    t->dynamic = k == 0 || elem->dynamic;
    if (!t->dynamic) {
        uint64_t size = (uint64_t)elem->head * (uint64_t)k;

        if (size > ABI_MAX_STATIC)
            return abi_fail(p->err, KP_ELIMIT, start,
                            "static type larger than %u bytes",
                            ABI_MAX_STATIC);
        t->head = (uint32_t)size;
    }
    *idx = arr;
    return 0;
}

static int
parse_type(struct sp *p, unsigned level, uint16_t *idx, unsigned *depth)
{
    size_t start, n;
    int rc;

    skip_ws(p);
    start = p->pos;
    n = ident_len(p);
    if (n == 5 && word_is(p, n, "tuple")) {
        p->pos += n;
        skip_ws(p);
        if (peek(p) != '(')
            return abi_fail(p->err, KP_EINVAL, p->pos, "expected '('");
    }
    if (peek(p) == '(') {
        if ((rc = parse_params(p, level + 1, false, idx, depth)) != 0)
            return rc;
        if (p->sig->nodes[*idx].count == 0)
            return abi_fail(p->err, KP_EINVAL, start, "empty tuple type");
    } else {
        if ((rc = parse_elementary(p, idx)) != 0)
            return rc;
        *depth = 0; /* depth counts tuples and arrays around a value */
    }
    for (;;) {
        size_t save = p->pos;

        skip_ws(p);
        if (peek(p) != '[') {
            p->pos = save;
            return 0;
        }
        if (++*depth > ABI_MAX_DEPTH)
            return abi_fail(p->err, KP_ELIMIT, p->pos,
                            "types nested deeper than %d", ABI_MAX_DEPTH);
        if ((rc = parse_array_suffix(p, idx)) != 0)
            return rc;
    }
}

/* Words that may follow a parameter's type and are not its name. */
static const char *const locations[] = {"memory", "calldata", "storage",
                                        NULL};

/* After a type: "payable", "indexed", a data location, then a name. */
static int
parse_param_tail(struct sp *p, bool top, struct abi_type *t)
{
    for (;;) {
        size_t n;

        skip_ws(p);
        n = ident_len(p);
        if (n == 0)
            return 0;
        if (word_is(p, n, "indexed")) {
            if (!top)
                return abi_fail(p->err, KP_EINVAL, p->pos,
                                "'indexed' only applies to event inputs");
            t->indexed = true;
            p->sig->nindexed++;
        } else if (word_is(p, n, "payable")) {
            if (t->kind != ABI_ADDRESS)
                return abi_fail(p->err, KP_EINVAL, p->pos,
                                "'payable' only applies to address");
        } else if (!word_in(p, n, locations)) {
            p->pos += n; /* the parameter's name: ends the parameter */
            return 0;
        }
        p->pos += n;
    }
}

static int
link_member(struct sp *p, uint16_t tuple, uint16_t *last, uint16_t member)
{
    struct abi_type *t = &p->sig->nodes[tuple];
    struct abi_type *m = &p->sig->nodes[member];

    if (*last == ABI_NONE)
        t->child = member;
    else
        p->sig->nodes[*last].next = member;
    *last = member;
    t->count++;
    t->dynamic = t->dynamic || m->dynamic;
    return 0;
}

static int
finish_tuple(struct sp *p, uint16_t tuple, size_t start)
{
    struct abi_type *t = &p->sig->nodes[tuple];
    uint64_t size = 0;

    for (uint16_t m = t->child; m != ABI_NONE; m = p->sig->nodes[m].next)
        size += p->sig->nodes[m].head;
    if (size > ABI_MAX_STATIC)
        return abi_fail(p->err, KP_ELIMIT, start,
                        "static type larger than %u bytes", ABI_MAX_STATIC);
    t->head = t->dynamic ? 32 : (uint32_t)size;
    return 0;
}

/* "(" [param ("," param)*] ")" into a tuple node. `top` marks the
 * inputs of the signature (where "indexed" may appear). */
static int
parse_params(struct sp *p, unsigned level, bool top, uint16_t *tuple,
             unsigned *depth)
{
    size_t start = p->pos;
    uint16_t last = ABI_NONE, member;
    unsigned d, maxd = 0;
    int rc;

    if (level > ABI_MAX_DEPTH)
        return abi_fail(p->err, KP_ELIMIT, p->pos,
                        "types nested deeper than %d", ABI_MAX_DEPTH);
    if ((rc = expect(p, '(')) != 0 || (rc = new_node(p, ABI_TUPLE, tuple)))
        return rc;
    skip_ws(p);
    if (peek(p) != ')') {
        for (;;) {
            if ((rc = parse_type(p, level, &member, &d)) != 0 ||
                (rc = parse_param_tail(p, top, &p->sig->nodes[member])) ||
                (rc = link_member(p, *tuple, &last, member)))
                return rc;
            maxd = d > maxd ? d : maxd;
            skip_ws(p);
            if (peek(p) != ',')
                break;
            p->pos++;
        }
    }
    if ((rc = expect(p, ')')) != 0)
        return rc;
    if ((*depth = maxd + 1) > ABI_MAX_DEPTH)
        return abi_fail(p->err, KP_ELIMIT, start,
                        "types nested deeper than %d", ABI_MAX_DEPTH);
    return finish_tuple(p, *tuple, start);
}

/* An optional leading "function", "event" or "error" keyword. */
static void
parse_keyword(struct sp *p)
{
    static const struct {
        const char *word;
        enum abi_sig_kind kind;
    } kw[] = {{"function", ABI_SIG_FUNCTION},
              {"event", ABI_SIG_EVENT},
              {"error", ABI_SIG_ERROR}};
    size_t n = ident_len(p);

    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
        if (word_is(p, n, kw[i].word) && p->pos + n < p->len &&
            is_space(p->s[p->pos + n])) {
            p->sig->kind = (uint8_t)kw[i].kind;
            p->pos += n;
            skip_ws(p);
            return;
        }
    }
}

static int
parse_name(struct sp *p)
{
    size_t n = ident_len(p);

    if (n > ABI_MAX_NAME)
        return abi_fail(p->err, KP_ELIMIT, p->pos,
                        "name longer than %d characters", ABI_MAX_NAME);
    memcpy(p->sig->name, p->s + p->pos, n);
    p->sig->name[n] = '\0';
    p->pos += n;
    return 0;
}

/* Words allowed between the inputs and the outputs. */
static const char *const modifiers[] = {
    "external", "public",   "internal", "private", "view", "pure",
    "payable",  "nonpayable", "virtual", "override", "constant", NULL};

/* Whatever follows the inputs: modifiers, "returns (...)", "(...)",
 * "anonymous". */
static int
parse_trailer(struct sp *p)
{
    unsigned depth;
    int rc;

    for (;;) {
        size_t n;

        skip_ws(p);
        n = ident_len(p);
        if (peek(p) == '(' || word_is(p, n, "returns")) {
            if (p->sig->outputs != ABI_NONE)
                return abi_fail(p->err, KP_EINVAL, p->pos,
                                "more than one output list");
            p->pos += n;
            if ((rc = parse_params(p, 1, false, &p->sig->outputs, &depth)))
                return rc;
        } else if (word_is(p, n, "anonymous")) {
            p->sig->anonymous = true;
            p->pos += n;
        } else if (n > 0 && word_in(p, n, modifiers)) {
            p->pos += n;
        } else if (p->pos < p->len) {
            return abi_fail(p->err, KP_EINVAL, p->pos, "unexpected '%c'",
                            peek(p));
        } else {
            return 0;
        }
    }
}

static int
check_kind(struct sp *p)
{
    struct abi_sig *sig = p->sig;

    if (sig->nindexed > 0 || sig->anonymous) {
        if (sig->kind != ABI_SIG_FUNCTION && sig->kind != ABI_SIG_EVENT)
            return abi_fail(p->err, KP_EINVAL, 0,
                            "'indexed'/'anonymous' only apply to events");
        sig->kind = ABI_SIG_EVENT;
    }
    if (sig->kind == ABI_SIG_EVENT) {
        if (sig->outputs != ABI_NONE)
            return abi_fail(p->err, KP_EINVAL, 0, "an event has no outputs");
        if (sig->nindexed > (sig->anonymous ? 4 : 3))
            return abi_fail(p->err, KP_ELIMIT, 0,
                            "too many indexed inputs (%u)", sig->nindexed);
    }
    if (sig->name[0] == '\0' && sig->kind != ABI_SIG_FUNCTION)
        return abi_fail(p->err, KP_EINVAL, 0, "an event or error needs a name");
    return 0;
}

int
abi_sig_parse(struct abi_sig *sig, const char *text, size_t len,
              struct abi_error *err)
{
    struct sp p = {text, len, 0, sig, err};
    char canon[ABI_CANON_MAX];
    unsigned depth;
    int rc;

    assert(sig != NULL && (text != NULL || len == 0));
    memset(sig, 0, offsetof(struct abi_sig, nodes));
    sig->inputs = sig->outputs = ABI_NONE;
    if (len > ABI_MAX_SIG_TEXT)
        return abi_fail(err, KP_ELIMIT, 0, "signature longer than %d bytes",
                        ABI_MAX_SIG_TEXT);
    if (memchr(text, '\0', len) != NULL)
        return abi_fail(err, KP_EINVAL, (size_t)((const char *)memchr(
                                            text, '\0', len) - text),
                        "NUL byte in signature");
    skip_ws(&p);
    parse_keyword(&p);
    if ((rc = parse_name(&p)) != 0 ||
        (rc = parse_params(&p, 1, true, &sig->inputs, &depth)) != 0 ||
        (rc = parse_trailer(&p)) != 0 || (rc = check_kind(&p)) != 0)
        return rc;
    if ((rc = abi_sig_canonical(canon, sizeof(canon), sig)) != 0)
        return abi_fail(err, KP_ELIMIT, 0, "canonical form too long");
    keccak256(sig->hash, (const uint8_t *)canon, strlen(canon));
    return 0;
}

/* ---- canonical form ---- */

static void
type_canon(struct abi_wr *w, const struct abi_sig *sig, uint16_t idx)
{
    const struct abi_type *t = &sig->nodes[idx];
    char num[16];

    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
    case ABI_FIXED_BYTES:
        snprintf(num, sizeof(num), "%s%u",
                 t->kind == ABI_UINT  ? "uint"
                 : t->kind == ABI_INT ? "int"
                                      : "bytes",
                 (unsigned)t->size);
        abi_wr_str(w, num);
        break;
    case ABI_ADDRESS:
        abi_wr_str(w, "address");
        break;
    case ABI_BOOL:
        abi_wr_str(w, "bool");
        break;
    case ABI_BYTES:
        abi_wr_str(w, "bytes");
        break;
    case ABI_STRING:
        abi_wr_str(w, "string");
        break;
    case ABI_ARRAY:
    case ABI_FIXED_ARRAY:
        type_canon(w, sig, t->child);
        if (t->kind == ABI_ARRAY)
            snprintf(num, sizeof(num), "[]");
        else
            snprintf(num, sizeof(num), "[%u]", (unsigned)t->len);
        abi_wr_str(w, num);
        break;
    case ABI_TUPLE:
        abi_wr_chr(w, '(');
        for (uint16_t m = t->child; m != ABI_NONE; m = sig->nodes[m].next) {
            if (m != t->child)
                abi_wr_chr(w, ',');
            type_canon(w, sig, m);
        }
        abi_wr_chr(w, ')');
        break;
    default:
        assert(!"abi: bad type node");
    }
}

int
abi_type_canonical(char *out, size_t cap, const struct abi_sig *sig,
                   uint16_t type)
{
    struct abi_wr w;

    assert(out != NULL && sig != NULL && type < sig->nnodes);
    abi_wr_init(&w, out, cap);
    type_canon(&w, sig, type);
    return abi_wr_finish(&w, NULL);
}

int
abi_sig_canonical(char *out, size_t cap, const struct abi_sig *sig)
{
    struct abi_wr w;

    assert(out != NULL && sig != NULL && sig->inputs < sig->nnodes);
    abi_wr_init(&w, out, cap);
    abi_wr_str(&w, sig->name);
    type_canon(&w, sig, sig->inputs);
    return abi_wr_finish(&w, NULL);
}

const struct abi_type *
abi_sig_node(const struct abi_sig *sig, uint16_t idx)
{
    assert(sig != NULL && idx < sig->nnodes);
    return &sig->nodes[idx];
}
