/*
 * abi_revert.c - revert data: Error(string), Panic(uint256), custom
 * errors, and a one-line rendering of each.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/abi_int.h"
#include "chain/err.h"

static const uint8_t sel_error[4] = {0x08, 0xc3, 0x79, 0xa0};
static const uint8_t sel_panic[4] = {0x4e, 0x48, 0x7b, 0x71};

/* Solidity's panic codes (docs: "Panic via assert and Error via
 * require"). */
static const struct {
    uint8_t code;
    const char *reason;
} panics[] = {
    {0x00, "generic compiler panic"},
    {0x01, "assertion failed"},
    {0x11, "arithmetic underflow or overflow"},
    {0x12, "division or modulo by zero"},
    {0x21, "conversion to an invalid enum value"},
    {0x22, "incorrectly encoded storage byte array"},
    {0x31, "pop() on an empty array"},
    {0x32, "array index out of bounds"},
    {0x41, "out of memory (too much memory allocated or array too large)"},
    {0x51, "call to a zero-initialized internal function"},
};

const char *
abi_panic_reason(const struct u256 *code)
{
    uint64_t c;

    assert(code != NULL);
    if (u256_to_u64(&c, code) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(panics) / sizeof(panics[0]); i++)
        if (panics[i].code == c)
            return panics[i].reason;
    return NULL;
}

/* Decode a built-in error whose signature text is `text`. */
static int
decode_builtin(struct abi_revert *r, struct abi_arena *a, const char *text,
               const uint8_t *data, size_t len, struct abi_error *err)
{
    struct abi_sig sig;
    int rc;

    if ((rc = abi_sig_parse(&sig, text, strlen(text), err)) != 0)
        return rc; /* not reached: the texts are constant and valid */
    return abi_decode_call(&r->args, a, &sig, data, len, err);
}

static int
decode_custom(struct abi_revert *r, struct abi_arena *a, const uint8_t *data,
              size_t len, const struct abi_sig *errors, size_t nerrors,
              struct abi_error *err)
{
    for (size_t i = 0; i < nerrors; i++) {
        if (memcmp(errors[i].hash, data, 4) != 0)
            continue;
        r->kind = ABI_REVERT_CUSTOM;
        r->sig = &errors[i];
        return abi_decode_call(&r->args, a, &errors[i], data, len, err);
    }
    r->kind = ABI_REVERT_UNKNOWN;
    return 0;
}

int
abi_decode_revert(struct abi_revert *r, struct abi_arena *a,
                  const uint8_t *data, size_t len,
                  const struct abi_sig *errors, size_t nerrors,
                  struct abi_error *err)
{
    int rc;

    assert(r != NULL && a != NULL && (data != NULL || len == 0));
    assert(errors != NULL || nerrors == 0);
    memset(r, 0, sizeof(*r));
    r->datalen = len;
    if (err != NULL)
        err->code = 0;
    if (len == 0)
        return 0;
    if (len < 4)
        return abi_fail(err, KP_EINVAL, 0,
                        "revert data of %zu bytes has no selector", len);
    memcpy(r->selector, data, 4);
    if (!memcmp(data, sel_error, 4)) {
        r->kind = ABI_REVERT_ERROR;
        rc = decode_builtin(r, a, "Error(string)", data, len, err);
        if (rc == 0) {
            r->reason = (const char *)r->args.u.list.v[0].u.bytes.p;
            r->reason_len = r->args.u.list.v[0].u.bytes.len;
        }
        return rc;
    }
    if (!memcmp(data, sel_panic, 4)) {
        r->kind = ABI_REVERT_PANIC;
        rc = decode_builtin(r, a, "Panic(uint256)", data, len, err);
        if (rc == 0)
            r->panic_code = r->args.u.list.v[0].u.num;
        return rc;
    }
    return decode_custom(r, a, data, len, errors, nerrors, err);
}

int
abi_revert_format(char *out, size_t cap, size_t *outlen,
                  const struct abi_revert *r)
{
    struct abi_wr w;
    char num[U256_HEX_MAX];
    const char *why;

    assert((out != NULL || cap == 0) && r != NULL);
    abi_wr_init(&w, out, cap);
    switch (r->kind) {
    case ABI_REVERT_EMPTY:
        abi_wr_str(&w, "empty revert data");
        break;
    case ABI_REVERT_ERROR:
        abi_wr_str(&w, "Error");
        abi_format_value(&w, &r->args, '\0');
        break;
    case ABI_REVERT_PANIC:
        u256_fmt_hex(num, sizeof(num), &r->panic_code);
        why = abi_panic_reason(&r->panic_code);
        abi_wr_str(&w, "Panic(");
        abi_wr_str(&w, num);
        abi_wr_str(&w, "): ");
        abi_wr_str(&w, why != NULL ? why : "unknown panic code");
        break;
    case ABI_REVERT_CUSTOM:
        assert(r->sig != NULL);
        abi_wr_str(&w, r->sig->name);
        abi_format_value(&w, &r->args, '\0');
        break;
    default:
        abi_wr_str(&w, "unknown error selector ");
        abi_wr_hex(&w, r->selector, 4);
        snprintf(num, sizeof(num), " (%zu bytes)", r->datalen);
        abi_wr_str(&w, num);
        break;
    }
    return abi_wr_finish(&w, outlen);
}
