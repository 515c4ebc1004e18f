/* Arbitrary bytes into the strict RLP decoder. Whatever it accepts must be
 * canonical, so decoding the tree and encoding it again has to give back
 * exactly the input; integer items that read as u256 must re-encode to
 * their own bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chain/err.h"
#include "chain/rlp.h"

#define FUZZ_BUF 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[FUZZ_BUF];

static void
check_int(const struct rlp_item *it)
{
    uint8_t a[40], b[40];
    struct rlp_enc e;
    struct u256 v;
    uint64_t u;
    size_t na, nb;

    if (rlp_get_u256(&v, it) != 0) {
        if (rlp_get_u64(&u, it) == 0)
            __builtin_trap(); /* u64 accepts less than u256 */
        return;
    }
    rlp_enc_init(&e, a, sizeof(a));
    rlp_put_u256(&e, &v);
    if (rlp_enc_finish(&e, &na) != 0 || na != rlp_u256_size(&v))
        __builtin_trap();
    rlp_enc_init(&e, b, sizeof(b));
    rlp_put_bytes(&e, it->p, it->len);
    if (rlp_enc_finish(&e, &nb) != 0 || na != nb || memcmp(a, b, na))
        __builtin_trap();
}

/* Re-encode a decoded item (depth is bounded by rlp_validate). */
static void
reencode(struct rlp_enc *e, const struct rlp_item *it)
{
    struct rlp_iter iter;
    struct rlp_item child;
    size_t m;

    if (!it->is_list) {
        check_int(it);
        rlp_put_bytes(e, it->p, it->len);
        return;
    }
    m = rlp_list_begin(e);
    rlp_iter_init(&iter, it);
    while (!rlp_iter_done(&iter)) {
        if (rlp_iter_next(&iter, &child) != 0)
            __builtin_trap(); /* validated before */
        reencode(e, &child);
    }
    rlp_list_end(e, m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rlp_item it, items[8];
    struct rlp_enc e;
    size_t n, used;
    int rc;

    rc = rlp_decode_next(&it, &used, data, size);
    if (rc == 0 && (used == 0 || used > size))
        __builtin_trap();
    if (rlp_decode(&it, data, size) != 0)
        return 0;
    if (it.is_list) {
        rc = rlp_list_items(items, 8, &n, &it);
        if (rc != 0 && rc != KP_ELIMIT && rc != KP_ETRUNC && rc != KP_ENONCANON)
            __builtin_trap();
    }
    if (rlp_validate(&it) != 0 || size > FUZZ_BUF)
        return 0;
    rlp_enc_init(&e, out, sizeof(out));
    reencode(&e, &it);
    if (rlp_enc_finish(&e, &n) != 0 || n != size || memcmp(out, data, n))
        __builtin_trap();
    return 0;
}
