/*
 * cli_tx.c - `keeper tx sign`, `keeper tx decode` and `keeper address`.
 *
 *   keeper tx sign [--type legacy|2930|1559] --chain-id N --nonce N
 *       --gas-limit N (--gas-price WEI | --max-fee WEI --priority-fee WEI)
 *       [--to ADDR] [--value WEI] [--access-list JSON]
 *       [--data HEX | [--] SIG ARGS...] [KEY]
 *     prints the raw signed transaction as 0x hex (as `cast mktx`).
 *     Without --to the transaction creates a contract (data = init code).
 *     Amounts take units ("30gwei"); the type defaults to 1559.
 *   keeper tx decode HEX
 *     prints the transaction's fields, hash and recovered sender as JSON.
 *   keeper address [KEY]
 *     prints the EIP-55 address of the key.
 *
 * KEY is one of the key options of cli_key.h (a keystore with its
 * password file or variable, a key file, a key variable; by default
 * KEEPER_PRIVATE_KEY), never a key in argv. The key is held by the signer
 * (signer.h) and wiped as soon as the transaction is signed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chain/abi.h"
#include "chain/address.h"
#include "chain/err.h"
#include "chain/hex.h"
#include "chain/signer.h"
#include "chain/tx.h"
#include "chain/u256.h"
#include "keeper/cli.h"
#include "keeper/cli_key.h"

/* Caps on what a command line may ask for. */
#define CLI_ACL_MAX 1024      /* access-list entries                     */
#define CLI_ACL_KEYS_MAX 4096 /* storage keys over all entries           */
#define CLI_DECODE_ACL_MAX (TX_MAX_SIZE / 22) /* every entry >= 22 bytes */

/* The options of `tx sign`, as given (NULL when absent). */
struct sign_args {
    const char *type, *chain_id, *nonce, *gas_limit, *gas_price, *max_fee,
        *priority_fee, *to, *value, *data, *access_list;
    struct cli_key_args key;
    int nsig; /* SIG ARGS... after the options */
    char **sig;
};

/* What the parsed options own. */
struct sign_bufs {
    uint8_t *data;
    struct tx_access *acl;
    uint8_t (*keys)[32];
};

static void
sign_bufs_free(struct sign_bufs *b)
{
    free(b->data);
    free(b->acl);
    free(b->keys);
}

/* ---- small parsers -------------------------------------------------- */

static int
parse_u64(uint64_t *v, const char *what, const char *s)
{
    struct u256 u;

    if (u256_parse(&u, s, strlen(s)) != 0 || u256_to_u64(v, &u) != 0)
        return cli_error("tx sign: %s '%s' is not an integer below 2^64", what,
                         s);
    return 0;
}

static int
parse_amount(struct u256 *v, const char *what, const char *s)
{
    int rc = u256_parse_units(v, s, strlen(s));

    if (rc != 0)
        return cli_error("tx sign: %s '%s': %s", what, s, kp_strerror(rc));
    return 0;
}

static int
parse_addr(struct eth_addr *a, const char *what, const char *s)
{
    int rc = eth_addr_parse(a, s, strlen(s));

    if (rc == KP_ECHECKSUM)
        return cli_error("%s '%s' fails its EIP-55 checksum", what, s);
    if (rc != 0)
        return cli_error("%s '%s' is not a 20-byte hex address", what, s);
    return 0;
}

static int
parse_type(enum tx_type *t, const char *s)
{
    if (s == NULL || !strcmp(s, "1559") || !strcmp(s, "2"))
        *t = TX_1559;
    else if (!strcmp(s, "2930") || !strcmp(s, "1"))
        *t = TX_2930;
    else if (!strcmp(s, "legacy") || !strcmp(s, "0"))
        *t = TX_LEGACY;
    else
        return cli_error("tx sign: --type must be legacy, 2930 or 1559");
    return 0;
}

/* ---- access list JSON ----------------------------------------------- */

/* Count entries and keys, checking the shape:
 * [{"address": "0x..", "storageKeys": ["0x..", ...]}, ...] */
static int
acl_shape(size_t *nent, size_t *nkeys, const cJSON *arr)
{
    const cJSON *e, *keys;

    *nent = *nkeys = 0;
    if (!cJSON_IsArray(arr))
        return cli_error("tx sign: --access-list must be a JSON array");
    cJSON_ArrayForEach(e, arr)
    {
        keys = cJSON_GetObjectItemCaseSensitive(e, "storageKeys");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "address")) ||
            (keys != NULL && !cJSON_IsArray(keys)))
            return cli_error("tx sign: access-list entries need \"address\" "
                             "and a \"storageKeys\" array");
        *nkeys += (size_t)cJSON_GetArraySize(keys);
        if (++*nent > CLI_ACL_MAX || *nkeys > CLI_ACL_KEYS_MAX)
            return cli_error("tx sign: access list too large (max %d "
                             "entries, %d keys)",
                             CLI_ACL_MAX, CLI_ACL_KEYS_MAX);
    }
    return 0;
}

static int
acl_entry(struct tx_access *a, uint8_t (*keys)[32], const cJSON *e)
{
    const cJSON *k, *arr = cJSON_GetObjectItemCaseSensitive(e, "storageKeys");
    const char *addr =
        cJSON_GetObjectItemCaseSensitive(e, "address")->valuestring;

    if (parse_addr(&a->addr, "tx sign: access-list address", addr) != 0)
        return CLI_EXIT_USAGE;
    a->keys = keys[0];
    a->key_stride = 32;
    a->nkeys = 0;
    cJSON_ArrayForEach(k, arr)
    {
        if (!cJSON_IsString(k) ||
            hex_decode_exact(keys[a->nkeys], 32, k->valuestring,
                             strlen(k->valuestring)) != 0)
            return cli_error("tx sign: storage keys must be 32-byte hex");
        a->nkeys++;
    }
    return 0;
}

static int
parse_access_list(struct tx *tx, struct sign_bufs *b, const char *json)
{
    cJSON *arr = cJSON_Parse(json);
    const cJSON *e;
    size_t nent, nkeys, i = 0, k = 0;
    int rc;

    if (arr == NULL)
        return cli_error("tx sign: --access-list is not valid JSON");
    if ((rc = acl_shape(&nent, &nkeys, arr)) == 0) {
        b->acl = kp_xcalloc(nent ? nent : 1, sizeof(*b->acl));
        b->keys = kp_xcalloc(nkeys ? nkeys : 1, sizeof(*b->keys));
        cJSON_ArrayForEach(e, arr)
        {
            if ((rc = acl_entry(&b->acl[i], b->keys + k, e)) != 0)
                break;
            k += b->acl[i++].nkeys;
        }
        tx->access = b->acl;
        tx->naccess = nent;
    }
    cJSON_Delete(arr);
    return rc;
}

/* ---- tx sign -------------------------------------------------------- */

/* Calldata from an ABI signature and argument texts in cast syntax. */
static int
abi_calldata(struct tx *tx, struct sign_bufs *b, const char *sigtext,
             char **args, int nargs)
{
    struct abi_sig *sig = kp_xmalloc(sizeof(*sig));
    struct abi_error e;
    int rc;

    b->data = kp_xmalloc(TX_MAX_SIZE);
    rc = abi_sig_parse(sig, sigtext, strlen(sigtext), &e);
    if (rc == 0 && sig->kind == ABI_SIG_EVENT)
        rc = cli_error("tx sign: '%s' is an event, not a function", sigtext);
    else if (rc != 0)
        rc = cli_error("tx sign: bad signature '%s': column %zu: %s", sigtext,
                       e.pos + 1, e.msg);
    if (rc == 0)
        rc = abi_encode_call_text(b->data, TX_MAX_SIZE, &tx->data_len, sig,
                                  (const char *const *)args, (size_t)nargs, &e);
    if (rc == KP_ERANGE && tx->data_len > TX_MAX_SIZE)
        rc = cli_error("tx sign: calldata larger than %u bytes", TX_MAX_SIZE);
    else if (rc < 0 && e.arg >= 0)
        rc = cli_error("tx sign: argument %d '%s': %s", e.arg + 1, args[e.arg],
                       e.msg);
    else if (rc < 0)
        rc = cli_error("tx sign: %s", e.msg);
    tx->data = b->data;
    free(sig);
    return rc;
}

static int
parse_calldata(struct tx *tx, struct sign_bufs *b, const struct sign_args *a)
{
    size_t len, n;

    if (a->data != NULL && a->nsig > 0)
        return cli_error("tx sign: give --data or SIG ARGS, not both");
    if (a->nsig > 0)
        return abi_calldata(tx, b, a->sig[0], a->sig + 1, a->nsig - 1);
    if (a->data == NULL)
        return 0;
    len = strlen(a->data);
    b->data = kp_xmalloc(len / 2 + 1);
    if (hex_decode(b->data, len / 2 + 1, &n, a->data, len) != 0)
        return cli_error("tx sign: --data is not valid hex");
    tx->data = b->data;
    tx->data_len = n;
    return 0;
}

static int
parse_fees(struct tx *tx, const struct sign_args *a)
{
    if (tx->type == TX_1559) {
        if (a->gas_price || !a->max_fee || !a->priority_fee)
            return cli_error("tx sign: type 1559 takes --max-fee and "
                             "--priority-fee (not --gas-price)");
        if (parse_amount(&tx->max_fee, "--max-fee", a->max_fee) ||
            parse_amount(&tx->max_priority_fee, "--priority-fee",
                         a->priority_fee))
            return CLI_EXIT_USAGE;
        /* Nodes refuse such a transaction (EIP-1559 requires the tip to
         * be within the fee cap); say so now rather than after signing. */
        if (u256_cmp(&tx->max_priority_fee, &tx->max_fee) > 0)
            return cli_error("tx sign: --priority-fee exceeds --max-fee");
        return 0;
    }
    if (!a->gas_price || a->max_fee || a->priority_fee)
        return cli_error("tx sign: types legacy and 2930 take --gas-price "
                         "(not --max-fee/--priority-fee)");
    return parse_amount(&tx->gas_price, "--gas-price", a->gas_price);
}

static int
build_tx(struct tx *tx, struct sign_bufs *b, const struct sign_args *a)
{
    memset(tx, 0, sizeof(*tx));
    if (parse_type(&tx->type, a->type))
        return CLI_EXIT_USAGE;
    if (!a->chain_id || !a->nonce || !a->gas_limit)
        return cli_error("tx sign: --chain-id, --nonce and --gas-limit are "
                         "required");
    if (parse_u64(&tx->chain_id, "--chain-id", a->chain_id) ||
        parse_u64(&tx->nonce, "--nonce", a->nonce) ||
        parse_u64(&tx->gas_limit, "--gas-limit", a->gas_limit) ||
        parse_fees(tx, a))
        return CLI_EXIT_USAGE;
    if (a->value && parse_amount(&tx->value, "--value", a->value))
        return CLI_EXIT_USAGE;
    tx->has_to = a->to != NULL;
    if (a->to && parse_addr(&tx->to, "tx sign: --to", a->to))
        return CLI_EXIT_USAGE;
    if (a->access_list && tx->type == TX_LEGACY)
        return cli_error("tx sign: legacy transactions have no access list");
    if (a->access_list && parse_access_list(tx, b, a->access_list))
        return CLI_EXIT_USAGE;
    return parse_calldata(tx, b, a);
}

static int
print_signed(const struct tx *tx, const struct eth_sig *sig)
{
    uint8_t *raw;
    char *hex;
    size_t n;
    int rc;

    rc = tx_encode_signed(NULL, 0, &n, tx, sig);
    if (rc != KP_ERANGE)
        return cli_error("tx sign: %s", kp_strerror(rc));
    raw = kp_xmalloc(n);
    hex = kp_xmalloc(2 * n + 3);
    rc = tx_encode_signed(raw, n, &n, tx, sig);
    if (rc == 0) {
        hex_encode(hex, 2 * n + 3, raw, n, true);
        puts(hex);
    }
    free(hex);
    free(raw);
    return rc == 0 ? CLI_EXIT_OK : cli_error("tx sign: %s", kp_strerror(rc));
}

/* Sign and print. The key is loaded only once the transaction is known
 * to be valid, and freed (wiped) right after signing. */
static int
sign_and_print(const struct tx *tx, const struct signer_opts *key)
{
    struct signer *s;
    struct eth_sig sig;
    uint8_t digest[32];
    int rc;

    if ((rc = tx_signing_hash(digest, tx)) != 0)
        return cli_error("tx sign: %s", kp_strerror(rc));
    /* A key that cannot be loaded is bad input here, as it always was. */
    if (cli_key_open(&s, "tx sign", key) != 0)
        return CLI_EXIT_USAGE;
    rc = signer_sign_digest(s, &sig, digest);
    signer_free(s);
    if (rc != 0)
        return cli_error("tx sign: %s", kp_strerror(rc));
    return print_signed(tx, &sig);
}

static const struct option sign_options[] = {
    {"type", required_argument, NULL, 't'},
    {"chain-id", required_argument, NULL, 'c'},
    {"nonce", required_argument, NULL, 'n'},
    {"gas-limit", required_argument, NULL, 'g'},
    {"gas-price", required_argument, NULL, 'p'},
    {"max-fee", required_argument, NULL, 'm'},
    {"priority-fee", required_argument, NULL, 'P'},
    {"to", required_argument, NULL, 'T'},
    {"value", required_argument, NULL, 'v'},
    {"data", required_argument, NULL, 'd'},
    {"access-list", required_argument, NULL, 'a'},
    CLI_KEY_LONGOPTS,
    {NULL, 0, NULL, 0},
};

/* Returns: where option `c` is stored in `a`. */
static const char **
sign_slot(struct sign_args *a, int c)
{
    switch (c) {
    case 't':
        return &a->type;
    case 'c':
        return &a->chain_id;
    case 'n':
        return &a->nonce;
    case 'g':
        return &a->gas_limit;
    case 'p':
        return &a->gas_price;
    case 'm':
        return &a->max_fee;
    case 'P':
        return &a->priority_fee;
    case 'T':
        return &a->to;
    case 'v':
        return &a->value;
    case 'd':
        return &a->data;
    case 'a':
        return &a->access_list;
    default:
        return cli_key_slot(&a->key, c);
    }
}

static int
parse_sign_args(struct sign_args *a, int argc, char **argv)
{
    const char **slot;
    int c;

    memset(a, 0, sizeof(*a));
    optind = 0; /* GNU: reinitialise, scan from argv[1] */
    opterr = 0;
    /* "+": stop at the first non-option so that ABI arguments such as
     * "-5" need no quoting after the signature. */
    while ((c = getopt_long(argc, argv, "+", sign_options, NULL)) != -1) {
        if ((slot = sign_slot(a, c)) == NULL)
            return cli_error("tx sign: unknown or incomplete option '%s'",
                             argv[optind - 1]);
        if (*slot != NULL)
            return cli_error("tx sign: option '%s' given twice",
                             argv[optind - 1]);
        *slot = optarg;
    }
    a->nsig = argc - optind;
    a->sig = argv + optind;
    return 0;
}

static int
cli_tx_sign(int argc, char **argv)
{
    struct sign_args a;
    struct sign_bufs b = {0};
    struct signer_opts key;
    struct tx tx;
    int rc;

    if ((rc = parse_sign_args(&a, argc, argv)) != 0 ||
        (rc = cli_key_opts(&key, "tx sign", &a.key)) != 0)
        return rc;
    if ((rc = build_tx(&tx, &b, &a)) == 0)
        rc = sign_and_print(&tx, &key);
    sign_bufs_free(&b);
    return rc;
}

/* ---- tx decode ------------------------------------------------------ */

static void
json_u256(cJSON *o, const char *name, const struct u256 *v)
{
    char buf[U256_HEX_MAX];

    u256_fmt_hex(buf, sizeof(buf), v);
    cJSON_AddStringToObject(o, name, buf);
}

static void
json_u64(cJSON *o, const char *name, uint64_t v)
{
    struct u256 u;

    u256_from_u64(&u, v);
    json_u256(o, name, &u);
}

static void
json_be32(cJSON *o, const char *name, const uint8_t be[32])
{
    struct u256 u;

    u256_from_be(&u, be, 32);
    json_u256(o, name, &u);
}

static void
json_addr(cJSON *o, const char *name, const struct eth_addr *a)
{
    char buf[ETH_ADDR_STR_LEN];

    eth_addr_to_checksum(buf, a);
    cJSON_AddStringToObject(o, name, buf);
}

static void
json_hex(cJSON *o, const char *name, const uint8_t *p, size_t n)
{
    char *buf = kp_xmalloc(2 * n + 3);

    hex_encode(buf, 2 * n + 3, p, n, true);
    cJSON_AddStringToObject(o, name, buf);
    free(buf);
}

static void
json_access_list(cJSON *o, const struct tx *tx)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "accessList"), *e, *keys;
    char buf[67];

    for (size_t i = 0; i < tx->naccess; i++) {
        const struct tx_access *a = &tx->access[i];

        e = cJSON_CreateObject();
        json_addr(e, "address", &a->addr);
        keys = cJSON_AddArrayToObject(e, "storageKeys");
        for (size_t k = 0; k < a->nkeys; k++) {
            hex_encode(buf, sizeof(buf), tx_access_key(a, k), 32, true);
            cJSON_AddItemToArray(keys, cJSON_CreateString(buf));
        }
        cJSON_AddItemToArray(arr, e);
    }
}

static void
json_fees(cJSON *o, const struct tx *tx)
{
    if (tx->type == TX_1559) {
        json_u256(o, "maxPriorityFeePerGas", &tx->max_priority_fee);
        json_u256(o, "maxFeePerGas", &tx->max_fee);
    } else {
        json_u256(o, "gasPrice", &tx->gas_price);
    }
}

/* Fields in the order of JSON-RPC transaction objects. */
static cJSON *
tx_json(const struct tx *tx, const struct eth_sig *sig, const uint8_t hash[32],
        const struct eth_addr *from)
{
    cJSON *o = cJSON_CreateObject();
    struct u256 v;

    json_u64(o, "type", (uint64_t)tx->type);
    if (tx->type != TX_LEGACY || tx->chain_id != 0)
        json_u64(o, "chainId", tx->chain_id);
    json_u64(o, "nonce", tx->nonce);
    json_fees(o, tx);
    json_u64(o, "gas", tx->gas_limit);
    if (tx->has_to)
        json_addr(o, "to", &tx->to);
    else
        cJSON_AddNullToObject(o, "to");
    json_u256(o, "value", &tx->value);
    if (tx->type != TX_LEGACY)
        json_access_list(o, tx);
    json_hex(o, "input", tx->data, tx->data_len);
    json_be32(o, "r", sig->r);
    json_be32(o, "s", sig->s);
    if (tx->type == TX_LEGACY) {
        tx_legacy_v(&v, tx, sig);
        json_u256(o, "v", &v);
    } else {
        json_u64(o, "yParity", sig->y_parity);
        json_u64(o, "v", sig->y_parity);
    }
    json_hex(o, "hash", hash, 32);
    json_addr(o, "from", from);
    return o;
}

static int
decode_and_print(const uint8_t *raw, size_t n)
{
    struct tx_access *acl = kp_xcalloc(CLI_DECODE_ACL_MAX, sizeof(*acl));
    struct tx tx;
    struct eth_sig sig;
    struct eth_addr from;
    uint8_t hash[32];
    cJSON *o;
    char *s;
    int rc;

    rc = tx_decode(&tx, &sig, acl, CLI_DECODE_ACL_MAX, raw, n);
    if (rc == 0 && (rc = tx_recover_sender(&from, &tx, &sig)) != 0)
        rc = cli_error("tx decode: cannot recover the sender: %s",
                       kp_strerror(rc));
    else if (rc != 0)
        rc = cli_error("tx decode: not a valid signed transaction: %s",
                       kp_strerror(rc));
    if (rc == 0) {
        tx_hash(hash, raw, n);
        o = tx_json(&tx, &sig, hash, &from);
        s = cJSON_Print(o);
        puts(s);
        cJSON_free(s);
        cJSON_Delete(o);
    }
    free(acl);
    return rc;
}

static int
cli_tx_decode(int argc, char **argv)
{
    const char *in;
    uint8_t *raw;
    size_t len, n;
    int rc;

    if (argc == 3 && !strcmp(argv[1], "--"))
        argv++, argc--;
    if (argc != 2)
        return cli_error("usage: keeper tx decode HEX");
    in = argv[1];
    len = strlen(in);
    if (len / 2 > TX_MAX_SIZE + 1)
        return cli_error("tx decode: longer than %u bytes", TX_MAX_SIZE);
    raw = kp_xmalloc(len / 2 + 1);
    if (hex_decode(raw, len / 2 + 1, &n, in, len) != 0)
        rc = cli_error("tx decode: the argument is not valid hex");
    else
        rc = decode_and_print(raw, n);
    free(raw);
    return rc;
}

int
cli_tx(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "sign"))
        return cli_tx_sign(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "decode"))
        return cli_tx_decode(argc - 1, argv + 1);
    return cli_error("usage: keeper tx sign OPTIONS [-- SIG ARGS...] | "
                     "keeper tx decode HEX");
}

/* ---- address -------------------------------------------------------- */

#define ADDRESS_USAGE "usage: keeper address [" CLI_KEY_USAGE "]"

static const struct option address_options[] = {
    CLI_KEY_LONGOPTS,
    {NULL, 0, NULL, 0},
};

int
cli_address(int argc, char **argv)
{
    struct cli_key_args ka = {0};
    struct signer_opts o;
    struct signer *s;
    struct eth_addr a;
    char out[ETH_ADDR_STR_LEN];
    const char **slot;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", address_options, NULL)) != -1) {
        if ((slot = cli_key_slot(&ka, c)) == NULL)
            return cli_error("address: unknown or incomplete option '%s'",
                             argv[optind - 1]);
        *slot = optarg;
    }
    if (optind != argc)
        return cli_error(ADDRESS_USAGE);
    if ((rc = cli_key_opts(&o, "address", &ka)) != 0)
        return rc;
    if (cli_key_open(&s, "address", &o) != 0)
        return CLI_EXIT_USAGE;
    a = signer_address(s);
    signer_free(s);
    eth_addr_to_checksum(out, &a);
    puts(out);
    return CLI_EXIT_OK;
}
