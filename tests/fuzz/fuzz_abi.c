/* Arbitrary bytes into the ABI codec:
 *   - the whole input as a signature: what parses has a canonical form
 *     that parses again to the same hash and the same text;
 *   - the input as data for a few fixed signatures (calldata inputs,
 *     event logs, revert data);
 *   - input = [n][n bytes of signature][rest]: the rest as data for that
 *     signature, and as newline-separated argument texts for it.
 * Whatever decodes or parses must encode, decode again to the same
 * values (compared through their text form), and re-encode to the same
 * bytes. Traps on any violation; the sanitizers catch the rest. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARENA (512u * 1024)
#define ENC_CAP (256u * 1024)
#define TEXT_CAP (2u * 1024 * 1024)
#define MAX_ARGS 16

static const char *const fixed[] = {
    "f(uint8,int16,address,bool,bytes3,bytes,string)",
    "g(uint256[][],string[],(uint8,bytes)[2])",
    "h((uint256,(bool,string[])[])[],int256[3],bytes32)",
    "event E(uint256 indexed a, string indexed s, bytes b, (uint8,bool) t)",
    "error Oops(address who, uint256[] amounts)",
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

static struct abi_sig fixed_sigs[NFIXED];
static bool ready;
static unsigned char arena1[ARENA], arena2[ARENA], arena3[ARENA];
static uint8_t enc1[ENC_CAP], enc2[ENC_CAP];
static char text1[TEXT_CAP], text2[TEXT_CAP];

static void
setup(void)
{
    for (size_t i = 0; i < NFIXED; i++)
        if (abi_sig_parse(&fixed_sigs[i], fixed[i], strlen(fixed[i]), NULL))
            __builtin_trap();
    ready = true;
}

static void
check_sig(const uint8_t *text, size_t len)
{
    static struct abi_sig a, b;
    char canon[ABI_CANON_MAX], again[ABI_CANON_MAX];
    struct abi_error e;

    if (abi_sig_parse(&a, (const char *)text, len, &e) != 0) {
        if (e.code == 0 || e.pos > len)
            __builtin_trap();
        return;
    }
    if (abi_sig_canonical(canon, sizeof(canon), &a) != 0 ||
        abi_sig_parse(&b, canon, strlen(canon), NULL) != 0 ||
        abi_sig_canonical(again, sizeof(again), &b) != 0 ||
        strcmp(canon, again) != 0 || memcmp(a.hash, b.hash, 32) != 0)
        __builtin_trap();
}

/* Whether the text syntax can hold every string in `v`: it has no
 * escapes, so a string with both quote characters may not survive. */
static bool
representable(const struct abi_value *v)
{
    if (v->kind == ABI_STRING)
        return v->u.bytes.len == 0 ||
               memchr(v->u.bytes.p, '"', v->u.bytes.len) == NULL ||
               memchr(v->u.bytes.p, '\'', v->u.bytes.len) == NULL;
    if (v->kind != ABI_ARRAY && v->kind != ABI_FIXED_ARRAY &&
        v->kind != ABI_TUPLE)
        return true;
    for (size_t i = 0; i < v->u.list.n; i++)
        if (!representable(&v->u.list.v[i]))
            return false;
    return true;
}

/* Each member of `v` to text and back: the same encoding (enc1). */
static void
reparse(const struct abi_sig *sig, uint16_t tuple, const struct abi_value *v,
        size_t n1)
{
    struct abi_arena a;
    struct abi_value *items, t;
    uint16_t m = sig->nodes[tuple].child;
    size_t len, n2, off = 0;

    if (!representable(v))
        return;
    abi_arena_init(&a, arena3, sizeof(arena3));
    if ((items = abi_arena_values(&a, v->u.list.n)) == NULL)
        return;
    /* Parsed strings point into their text: one region per member. */
    for (size_t i = 0; i < v->u.list.n; i++, m = sig->nodes[m].next) {
        if (abi_value_format(text2 + off, sizeof(text2) - off, &len,
                             &v->u.list.v[i]) != 0)
            return;
        if (abi_value_parse(&items[i], &a, sig, m, text2 + off, len, NULL))
            __builtin_trap();
        off += len + 1;
    }
    abi_value_list(&t, ABI_TUPLE, items, v->u.list.n);
    if (abi_encode(enc2, sizeof(enc2), &n2, sig, tuple, &t) != 0 ||
        n1 != n2 || memcmp(enc1, enc2, n1) != 0)
        __builtin_trap();
}

/* v (a tuple of type `tuple`) -> bytes -> values -> the same bytes and
 * the same text, and the text parses back to the same bytes. */
static void
roundtrip(const struct abi_sig *sig, uint16_t tuple, const struct abi_value *v)
{
    struct abi_arena a;
    struct abi_value w;
    size_t n1, n2, t1, t2;
    int rc;

    rc = abi_encode(enc1, sizeof(enc1), &n1, sig, tuple, v);
    if (rc == KP_ERANGE && n1 > sizeof(enc1))
        return; /* too big to follow further, fine */
    if (rc != 0)
        __builtin_trap(); /* decoded or parsed values always encode */
    abi_arena_init(&a, arena2, sizeof(arena2));
    rc = abi_decode(&w, &a, sig, tuple, enc1, n1, NULL);
    if (rc == KP_ELIMIT)
        return;
    if (rc != 0 || abi_encode(enc2, sizeof(enc2), &n2, sig, tuple, &w) != 0 ||
        n1 != n2 || memcmp(enc1, enc2, n1) != 0)
        __builtin_trap();
    if (abi_value_format(text1, sizeof(text1), &t1, v) != 0 ||
        abi_value_format(text2, sizeof(text2), &t2, &w) != 0 || t1 != t2 ||
        memcmp(text1, text2, t1) != 0)
        __builtin_trap();
    reparse(sig, tuple, &w, n1);
}

static void
check_data(const struct abi_sig *sig, const uint8_t *data, size_t len)
{
    struct abi_arena a;
    struct abi_value v;
    struct abi_error e;

    abi_arena_init(&a, arena1, sizeof(arena1));
    if (abi_decode(&v, &a, sig, sig->inputs, data, len, &e) == 0)
        roundtrip(sig, sig->inputs, &v);
    else if (e.code == 0)
        __builtin_trap();
    if (sig->outputs != ABI_NONE) {
        abi_arena_init(&a, arena1, sizeof(arena1));
        if (abi_decode_output(&v, &a, sig, data, len, NULL) == 0)
            roundtrip(sig, sig->outputs, &v);
    }
}

static void
check_log(const struct abi_sig *sig, const uint8_t *data, size_t len)
{
    struct abi_arena a;
    struct abi_value v;
    size_t nt = sig->nindexed + (sig->anonymous ? 0u : 1u);
    uint8_t topics[5][32];

    if (sig->kind != ABI_SIG_EVENT || len < 32 * nt || nt > 5)
        return;
    memcpy(topics, data, 32 * nt);
    if (!sig->anonymous)
        memcpy(topics[0], sig->hash, 32);
    abi_arena_init(&a, arena1, sizeof(arena1));
    abi_decode_log(&v, &a, sig, (const uint8_t (*)[32])topics, nt,
                   data + 32 * nt, len - 32 * nt, NULL);
}

static void
check_revert(const struct abi_sig *extra, const uint8_t *data, size_t len)
{
    static struct abi_sig errs[NFIXED + 1];
    struct abi_arena a;
    struct abi_revert r;
    size_t n = NFIXED;

    memcpy(errs, fixed_sigs, sizeof(fixed_sigs));
    if (extra != NULL)
        errs[n++] = *extra;
    abi_arena_init(&a, arena1, sizeof(arena1));
    if (abi_decode_revert(&r, &a, data, len, errs, n, NULL) == 0 &&
        abi_revert_format(text1, sizeof(text1), NULL, &r) != 0)
        __builtin_trap();
}

/* The rest of the input as newline-separated arguments. */
static void
check_text(const struct abi_sig *sig, const uint8_t *rest, size_t len)
{
    static char buf[4097];
    const char *argv[MAX_ARGS];
    struct abi_arena a;
    struct abi_value v;
    size_t argc = 0;

    if (len >= sizeof(buf) || memchr(rest, '\0', len) != NULL)
        return;
    memcpy(buf, rest, len);
    buf[len] = '\0';
    argv[argc++] = buf;
    for (char *p = buf; (p = strchr(p, '\n')) != NULL && argc < MAX_ARGS;) {
        *p++ = '\0';
        argv[argc++] = p;
    }
    abi_arena_init(&a, arena1, sizeof(arena1));
    if (abi_args_parse(&v, &a, sig, sig->inputs, argv, argc, NULL) == 0)
        roundtrip(sig, sig->inputs, &v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct abi_sig sig;

    if (!ready)
        setup();
    check_sig(data, size);
    for (size_t i = 0; i < NFIXED; i++) {
        check_data(&fixed_sigs[i], data, size);
        check_log(&fixed_sigs[i], data, size);
    }
    check_revert(NULL, data, size);
    if (size > 0 && (size_t)data[0] + 1 <= size &&
        abi_sig_parse(&sig, (const char *)data + 1, data[0], NULL) == 0) {
        const uint8_t *rest = data + 1 + data[0];
        size_t len = size - 1 - data[0];

        check_data(&sig, rest, len);
        check_log(&sig, rest, len);
        check_revert(&sig, rest, len);
        check_text(&sig, rest, len);
    }
    return 0;
}
