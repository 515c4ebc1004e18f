#include "chain/tx.h"

#include <assert.h>
#include <string.h>

#include "chain/err.h"
#include "chain/keccak.h"
#include "chain/rlp.h"

/* Field counts of the signed RLP lists. */
#define TX_LEGACY_FIELDS 9
#define TX_2930_FIELDS 11
#define TX_1559_FIELDS 12
#define TX_FIELDS_MAX 12

/* ---- checks --------------------------------------------------------- */

static int
check_access(const struct tx_access *acl, size_t n)
{
    size_t i, keys = 0;

    if (n > TX_MAX_SIZE / 21)
        return KP_ELIMIT;
    if (n > 0 && acl == NULL)
        return KP_EINVAL;
    for (i = 0; i < n; i++) {
        if (acl[i].nkeys == 0)
            continue;
        if (acl[i].keys == NULL || acl[i].key_stride < 32)
            return KP_EINVAL;
        if (acl[i].nkeys > TX_MAX_SIZE / 33 - keys)
            return KP_ELIMIT;
        keys += acl[i].nkeys;
    }
    return 0;
}

int
tx_check(const struct tx *tx)
{
    assert(tx != NULL);
    if (tx->type != TX_LEGACY && tx->type != TX_2930 && tx->type != TX_1559)
        return KP_EINVAL;
    if (tx->data_len > TX_MAX_SIZE)
        return KP_ELIMIT;
    if (tx->data_len > 0 && tx->data == NULL)
        return KP_EINVAL;
    if (tx->type == TX_LEGACY)
        return 0;
    return check_access(tx->access, tx->naccess);
}

/* ---- encoding ------------------------------------------------------- */

static size_t
access_entry_payload(const struct tx_access *e)
{
    return rlp_bytes_size(e->addr.b, 20) + rlp_list_size(33 * e->nkeys);
}

static size_t
access_payload(const struct tx *tx)
{
    size_t i, n = 0;

    for (i = 0; i < tx->naccess; i++)
        n += rlp_list_size(access_entry_payload(&tx->access[i]));
    return n;
}

static void
put_access(struct rlp_enc *e, const struct tx *tx)
{
    const struct tx_access *a;
    size_t i, k;

    rlp_put_list_header(e, access_payload(tx));
    for (i = 0; i < tx->naccess; i++) {
        a = &tx->access[i];
        rlp_put_list_header(e, access_entry_payload(a));
        rlp_put_bytes(e, a->addr.b, 20);
        rlp_put_list_header(e, 33 * a->nkeys);
        for (k = 0; k < a->nkeys; k++)
            rlp_put_bytes(e, tx_access_key(a, k), 32);
    }
}

void
tx_legacy_v(struct u256 *v, const struct tx *tx, const struct eth_sig *sig)
{
    uint64_t add;

    assert(v != NULL && tx != NULL && sig != NULL);
    memset(v, 0, sizeof(*v));
    if (tx->chain_id == 0) {
        v->w[0] = 27u + sig->y_parity;
        return;
    }
    /* 2 * chain_id + 35 + y over two limbs: it can pass 2^64. */
    add = 35u + sig->y_parity;
    v->w[1] = tx->chain_id >> 63;
    v->w[0] = tx->chain_id << 1;
    v->w[0] += add;
    if (v->w[0] < add)
        v->w[1]++;
}

static void
put_to_value_data(struct rlp_enc *e, const struct tx *tx)
{
    rlp_put_bytes(e, tx->has_to ? tx->to.b : NULL, tx->has_to ? 20 : 0);
    rlp_put_u256(e, &tx->value);
    rlp_put_bytes(e, tx->data, tx->data_len);
}

static void
put_legacy(struct rlp_enc *e, const struct tx *tx, const struct eth_sig *sig)
{
    struct u256 v;

    rlp_put_u64(e, tx->nonce);
    rlp_put_u256(e, &tx->gas_price);
    rlp_put_u64(e, tx->gas_limit);
    put_to_value_data(e, tx);
    if (sig != NULL) {
        tx_legacy_v(&v, tx, sig);
        rlp_put_u256(e, &v);
        rlp_put_be_int(e, sig->r, 32);
        rlp_put_be_int(e, sig->s, 32);
    } else if (tx->chain_id != 0) {
        /* EIP-155: sign over (chain_id, 0, 0) in place of (v, r, s). */
        rlp_put_u64(e, tx->chain_id);
        rlp_put_u64(e, 0);
        rlp_put_u64(e, 0);
    }
}

static void
put_typed(struct rlp_enc *e, const struct tx *tx, const struct eth_sig *sig)
{
    rlp_put_u64(e, tx->chain_id);
    rlp_put_u64(e, tx->nonce);
    if (tx->type == TX_1559) {
        rlp_put_u256(e, &tx->max_priority_fee);
        rlp_put_u256(e, &tx->max_fee);
    } else {
        rlp_put_u256(e, &tx->gas_price);
    }
    rlp_put_u64(e, tx->gas_limit);
    put_to_value_data(e, tx);
    put_access(e, tx);
    if (sig != NULL) {
        rlp_put_u64(e, sig->y_parity);
        rlp_put_be_int(e, sig->r, 32);
        rlp_put_be_int(e, sig->s, 32);
    }
}

static void
put_fields(struct rlp_enc *e, const struct tx *tx, const struct eth_sig *sig)
{
    if (tx->type == TX_LEGACY)
        put_legacy(e, tx, sig);
    else
        put_typed(e, tx, sig);
}

/* Size of what put_fields writes; the two must agree (put_tx asserts). */
static size_t
fields_size(const struct tx *tx, const struct eth_sig *sig)
{
    struct u256 v;
    size_t n;

    n = rlp_u64_size(tx->nonce) + rlp_u64_size(tx->gas_limit) +
        (tx->has_to ? 21 : 1) + rlp_u256_size(&tx->value) +
        rlp_bytes_size(tx->data, tx->data_len);
    if (sig != NULL)
        n += rlp_be_int_size(sig->r, 32) + rlp_be_int_size(sig->s, 32);
    if (tx->type == TX_LEGACY) {
        n += rlp_u256_size(&tx->gas_price);
        if (sig != NULL) {
            tx_legacy_v(&v, tx, sig);
            n += rlp_u256_size(&v);
        } else if (tx->chain_id != 0) {
            n += rlp_u64_size(tx->chain_id) + 2;
        }
        return n;
    }
    n += rlp_u64_size(tx->chain_id) + rlp_list_size(access_payload(tx)) +
         (sig != NULL ? 1 : 0);
    if (tx->type == TX_1559)
        return n + rlp_u256_size(&tx->max_priority_fee) +
               rlp_u256_size(&tx->max_fee);
    return n + rlp_u256_size(&tx->gas_price);
}

/* Write the whole encoding (signed when sig != NULL). The payload length
 * is computed first, so that the list header goes out before the fields
 * (no memmove, and the same path streams into a hash). */
static int
put_tx(struct rlp_enc *e, const struct tx *tx, const struct eth_sig *sig)
{
    uint8_t type = (uint8_t)tx->type;
    size_t payload, start;
    int rc;

    if ((rc = tx_check(tx)) != 0)
        return rc;
    if (sig != NULL && sig->y_parity > 1)
        return KP_EINVAL;
    payload = fields_size(tx, sig);
    if (rlp_list_size(payload) + 1 > TX_MAX_SIZE)
        return KP_ELIMIT;
    if (tx->type != TX_LEGACY)
        rlp_put_raw(e, &type, 1);
    rlp_put_list_header(e, payload);
    start = e->len;
    put_fields(e, tx, sig);
    assert(e->len - start == payload);
    (void)start;
    return 0;
}

int
tx_encode_unsigned(uint8_t *out, size_t cap, size_t *outlen,
                   const struct tx *tx)
{
    struct rlp_enc e;
    int rc;

    assert(outlen != NULL && tx != NULL);
    *outlen = 0;
    rlp_enc_init(&e, out, cap);
    if ((rc = put_tx(&e, tx, NULL)) != 0)
        return rc;
    return rlp_enc_finish(&e, outlen);
}

int
tx_encode_signed(uint8_t *out, size_t cap, size_t *outlen, const struct tx *tx,
                 const struct eth_sig *sig)
{
    struct rlp_enc e;
    int rc;

    assert(outlen != NULL && tx != NULL && sig != NULL);
    *outlen = 0;
    rlp_enc_init(&e, out, cap);
    if ((rc = put_tx(&e, tx, sig)) != 0)
        return rc;
    return rlp_enc_finish(&e, outlen);
}

int
tx_signing_hash(uint8_t hash[32], const struct tx *tx)
{
    struct keccak256_ctx k;
    struct rlp_enc e;
    int rc;

    assert(hash != NULL && tx != NULL);
    keccak256_init(&k);
    rlp_enc_init_hash(&e, &k);
    if ((rc = put_tx(&e, tx, NULL)) != 0)
        return rc;
    keccak256_final(&k, hash);
    return 0;
}

int
tx_sign(struct eth_sig *sig, const struct tx *tx, const uint8_t key[32])
{
    uint8_t digest[32];
    int rc;

    assert(sig != NULL && key != NULL);
    if ((rc = tx_signing_hash(digest, tx)) != 0)
        return rc;
    return ecdsa_sign(sig, digest, key);
}

void
tx_hash(uint8_t hash[32], const uint8_t *raw, size_t len)
{
    assert(hash != NULL && (raw != NULL || len == 0));
    keccak256(hash, raw, len);
}

int
tx_recover_sender(struct eth_addr *from, const struct tx *tx,
                  const struct eth_sig *sig)
{
    uint8_t digest[32];
    int rc;

    assert(from != NULL && sig != NULL);
    if ((rc = tx_signing_hash(digest, tx)) != 0)
        return rc;
    return ecdsa_recover(from, sig, digest);
}

/* ---- decoding ------------------------------------------------------- */

static int
get_to(struct tx *tx, const struct rlp_item *it)
{
    if (it->is_list)
        return KP_EINVAL;
    if (it->len == 0) {
        tx->has_to = false;
        return 0;
    }
    tx->has_to = true;
    return rlp_get_fixed(tx->to.b, 20, it);
}

static int
get_data(struct tx *tx, const struct rlp_item *it)
{
    if (it->is_list)
        return KP_EINVAL;
    tx->data = it->p;
    tx->data_len = it->len;
    return 0;
}

/* Storage keys: a list of 32-byte strings, each encoded as 33 bytes, so
 * key i lies TX_RLP_KEY_STRIDE * i bytes after the first. */
static int
get_keys(struct tx_access *a, const struct rlp_item *list)
{
    struct rlp_iter iter;
    struct rlp_item key;
    int rc;

    if (!list->is_list)
        return KP_EINVAL;
    a->keys = NULL;
    a->nkeys = 0;
    a->key_stride = TX_RLP_KEY_STRIDE;
    rlp_iter_init(&iter, list);
    while (!rlp_iter_done(&iter)) {
        if ((rc = rlp_iter_next(&iter, &key)) != 0)
            return rc;
        if (key.is_list || key.len != 32)
            return KP_EINVAL;
        if (a->nkeys++ == 0)
            a->keys = key.p;
    }
    return 0;
}

static int
get_access_entry(struct tx_access *a, const struct rlp_item *it)
{
    struct rlp_item f[2];
    size_t n;
    int rc;

    if ((rc = rlp_list_items(f, 2, &n, it)) != 0)
        return rc == KP_ELIMIT ? KP_EINVAL : rc;
    if (n != 2)
        return KP_EINVAL;
    if ((rc = rlp_get_fixed(a->addr.b, 20, &f[0])) != 0)
        return rc;
    return get_keys(a, &f[1]);
}

static int
get_access(struct tx *tx, struct tx_access *acl, size_t cap,
           const struct rlp_item *list)
{
    struct rlp_iter iter;
    struct rlp_item it;
    size_t n = 0;
    int rc;

    if (!list->is_list)
        return KP_EINVAL;
    rlp_iter_init(&iter, list);
    while (!rlp_iter_done(&iter)) {
        if (n == cap)
            return KP_ELIMIT;
        if ((rc = rlp_iter_next(&iter, &it)) != 0)
            return rc;
        if ((rc = get_access_entry(&acl[n], &it)) != 0)
            return rc;
        n++;
    }
    tx->access = acl;
    tx->naccess = n;
    return 0;
}

static int
get_sig(struct eth_sig *sig, const struct rlp_item *r, const struct rlp_item *s)
{
    int rc;

    if ((rc = rlp_get_be32(sig->r, r)) != 0)
        return rc;
    if ((rc = rlp_get_be32(sig->s, s)) != 0)
        return rc;
    return ecdsa_sig_check(sig);
}

/* v = 27 + y (pre-EIP-155) or 2 * chain_id + 35 + y with chain_id >= 1. */
static int
get_legacy_v(struct tx *tx, struct eth_sig *sig, const struct rlp_item *it)
{
    struct u256 v;
    uint64_t lo, hi;
    int rc;

    if ((rc = rlp_get_u256(&v, it)) != 0)
        return rc;
    if (v.w[2] || v.w[3])
        return KP_ERANGE;
    if (v.w[1] == 0 && (v.w[0] == 27 || v.w[0] == 28)) {
        tx->chain_id = 0;
        sig->y_parity = (uint8_t)(v.w[0] - 27);
        return 0;
    }
    if (v.w[1] == 0 && v.w[0] < 37)
        return KP_EINVAL;
    lo = v.w[0] - 35;
    hi = v.w[1] - (v.w[0] < 35);
    if (hi > 1) /* chain_id = (v - 35) / 2 needs more than 64 bits */
        return KP_ERANGE;
    sig->y_parity = (uint8_t)(lo & 1);
    tx->chain_id = lo >> 1 | hi << 63;
    return 0;
}

/* Nonce, (fees), gas limit, to, value, data from f[0..]. */
static int
get_common(struct tx *tx, const struct rlp_item *f)
{
    int rc;

    if ((rc = rlp_get_u64(&tx->nonce, &f[0])) != 0)
        return rc;
    if (tx->type == TX_1559) {
        if ((rc = rlp_get_u256(&tx->max_priority_fee, &f[1])) != 0)
            return rc;
        if ((rc = rlp_get_u256(&tx->max_fee, &f[2])) != 0)
            return rc;
        f++;
    } else if ((rc = rlp_get_u256(&tx->gas_price, &f[1])) != 0) {
        return rc;
    }
    if ((rc = rlp_get_u64(&tx->gas_limit, &f[2])) != 0)
        return rc;
    if ((rc = get_to(tx, &f[3])) != 0)
        return rc;
    if ((rc = rlp_get_u256(&tx->value, &f[4])) != 0)
        return rc;
    return get_data(tx, &f[5]);
}

static int
split_fields(struct rlp_item *f, size_t want, const uint8_t *p, size_t len)
{
    struct rlp_item list;
    size_t n;
    int rc;

    if ((rc = rlp_decode(&list, p, len)) != 0)
        return rc;
    if (!list.is_list)
        return KP_EINVAL;
    rc = rlp_list_items(f, TX_FIELDS_MAX, &n, &list);
    if (rc == KP_ELIMIT || (rc == 0 && n != want))
        return KP_EINVAL;
    return rc;
}

static int
decode_legacy(struct tx *tx, struct eth_sig *sig, const uint8_t *raw,
              size_t len)
{
    struct rlp_item f[TX_FIELDS_MAX];
    int rc;

    if ((rc = split_fields(f, TX_LEGACY_FIELDS, raw, len)) != 0)
        return rc;
    if ((rc = get_common(tx, f)) != 0)
        return rc;
    if ((rc = get_legacy_v(tx, sig, &f[6])) != 0)
        return rc;
    return get_sig(sig, &f[7], &f[8]);
}

static int
decode_typed(struct tx *tx, struct eth_sig *sig, struct tx_access *acl,
             size_t acl_cap, const uint8_t *p, size_t len)
{
    struct rlp_item f[TX_FIELDS_MAX];
    size_t nf = tx->type == TX_1559 ? TX_1559_FIELDS : TX_2930_FIELDS;
    uint64_t y;
    int rc;

    if ((rc = split_fields(f, nf, p, len)) != 0)
        return rc;
    if ((rc = rlp_get_u64(&tx->chain_id, &f[0])) != 0)
        return rc;
    if ((rc = get_common(tx, f + 1)) != 0)
        return rc;
    if ((rc = get_access(tx, acl, acl_cap, &f[nf - 4])) != 0)
        return rc;
    if ((rc = rlp_get_u64(&y, &f[nf - 3])) != 0)
        return rc;
    if (y > 1)
        return KP_EINVAL;
    sig->y_parity = (uint8_t)y;
    return get_sig(sig, &f[nf - 2], &f[nf - 1]);
}

int
tx_decode(struct tx *tx, struct eth_sig *sig, struct tx_access *acl,
          size_t acl_cap, const uint8_t *raw, size_t len)
{
    assert(tx != NULL && sig != NULL && (acl != NULL || acl_cap == 0));
    assert(raw != NULL || len == 0);
    memset(tx, 0, sizeof(*tx));
    memset(sig, 0, sizeof(*sig));
    if (len == 0)
        return KP_ETRUNC;
    if (len > TX_MAX_SIZE)
        return KP_ELIMIT;
    if (raw[0] >= 0xc0) {
        tx->type = TX_LEGACY;
        return decode_legacy(tx, sig, raw, len);
    }
    if (raw[0] == TX_2930 || raw[0] == TX_1559) {
        tx->type = (enum tx_type)raw[0];
        return decode_typed(tx, sig, acl, acl_cap, raw + 1, len - 1);
    }
    /* 0x03 (blobs), 0x04 (EIP-7702) and later types are well-formed
     * envelopes this codec does not carry; 0x80-0xbf is an RLP string. */
    return raw[0] < 0x80 ? KP_EUNSUPPORTED : KP_EINVAL;
}
