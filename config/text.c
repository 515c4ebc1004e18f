/* text.c - message quoting, key suggestions, ABI signature checks
 * (cfg_int.h). */
#include "config/cfg_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"
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

/* --- ABI signatures --- */

/* Returns: whether tuple node `t` of sig has exactly one member, a uintN. */
static bool
is_one_uint(const struct abi_sig *sig, uint16_t t)
{
    const struct abi_type *tuple;

    if (t == ABI_NONE)
        return false;
    tuple = abi_sig_node(sig, t);
    return tuple->count == 1 &&
           abi_sig_node(sig, tuple->child)->kind == ABI_UINT;
}

int
cfg_abisig_check(struct cfg_abisig *out, const char *s, size_t len, char *why,
                 size_t whycap)
{
    /* struct abi_sig holds ABI_MAX_NODES nodes: keep it off the stack. */
    struct abi_sig *sig = kp_xmalloc(sizeof(*sig));
    struct abi_error err;
    int rc;

    assert(out != NULL && (s != NULL || len == 0));
    memset(out, 0, sizeof(*out));
    out->n_out = -1;
    rc = abi_sig_parse(sig, s, len, &err);
    if (rc == 0 && (sig->kind != ABI_SIG_FUNCTION || sig->name[0] == '\0')) {
        snprintf(err.msg, sizeof(err.msg), "not a function signature");
        err.pos = 0;
        rc = KP_EINVAL;
    }
    if (rc != 0) {
        snprintf(why, whycap,
                 "invalid ABI signature: %s at character %zu, expected e.g. "
                 "balance()(uint256)",
                 err.msg, err.pos + 1);
        free(sig);
        return KP_EINVAL;
    }
    out->n_in = abi_sig_node(sig, sig->inputs)->count;
    out->in_is_uint = is_one_uint(sig, sig->inputs);
    if (sig->outputs != ABI_NONE) {
        out->n_out = abi_sig_node(sig, sig->outputs)->count;
        out->out_is_uint = is_one_uint(sig, sig->outputs);
    }
    free(sig);
    return 0;
}
