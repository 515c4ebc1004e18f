/* Transaction manager against a real anvil: a small contract (compiled
 * with solcjs at test time) with a function that succeeds, ones that
 * revert with Error("nope") and a custom error, and one that succeeds
 * only once. Intents are confirmed with status 1; reverting calls end as
 * SIMULATED_REVERT with nothing sent; duplicate keys are refused; dry
 * runs send nothing; a stuck transaction is replaced at the same nonce
 * with both fees >= 112.5% and only one hash is mined; at the fee cap the
 * manager stops bumping and waits; "nonce too low" and "replacement
 * underpriced" from transactions sent outside are reconciled; a
 * transaction that reverts on chain ends FAILED with its receipt; the
 * journal holds every signed transaction; misuse of every public
 * function. The key is anvil's dev key #2, in a 0600 file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "chain/abi.h"
#include "chain/err.h"
#include "chain/hex.h"
#include "chain/rpc.h"
#include "chain/signer.h"
#include "chain/tx.h"
#include "chain/txm.h"
#include "tests/support/anvil.h"
#include "tests/support/rpcsync.h"
#include "tests/support/solc.h"
#include "tests/support/tmp.h"
#include "tests/support/uvrun.h"

#define GWEI 1000000000ull
#define DEADLINE_MS 20000
/* anvil's dev account #0 (unlocked; deploys and plays "someone else")
 * and the well-known dev key #2, whose account the manager uses. */
#define ACCT0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define KEY2 "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
#define ACCT2 "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
#define BLOCK_GAS_LIMIT "0x1c9c380" /* anvil's default, 30M */

static const char contract_src[] =
    "// SPDX-License-Identifier: MIT\n"
    "pragma solidity ^0.8.0;\n"
    "contract T {\n"
    "    error Custom(uint256 code, address who);\n"
    "    uint256 public n;\n"
    "    bool public done;\n"
    "    function ok() external { n += 1; }\n"
    "    function nope() external pure { revert(\"nope\"); }\n"
    "    function custom() external view { revert Custom(7, msg.sender); }\n"
    "    function once() external { require(!done, \"again\"); done = true; }\n"
    "}\n";

/* ---- group state ---- */

static struct {
    char dir[256]; /* temp dir: key file, journal */
    struct ts_anvil anvil;
    struct eth_addr contract;
    struct signer *signer;
} g;

/* ---- RPC for the test's own reads and anvil controls ---- */

static uint64_t
call_u64(uv_loop_t *loop, struct rpc_client *c, const char *method,
         const char *params)
{
    cJSON *r = ts_rpc_must(loop, c, method, params, DEADLINE_MS);
    uint64_t v = 0;

    assert_int_equal(rpc_quantity_u64(r, &v), 0);
    cJSON_Delete(r);
    return v;
}

static void
call_ok(uv_loop_t *loop, struct rpc_client *c, const char *method,
        const char *params)
{
    cJSON_Delete(ts_rpc_must(loop, c, method, params, DEADLINE_MS));
}

static struct rpc_client *
client_new(uv_loop_t *loop, const char *url)
{
    struct rpc_client *c = NULL;

    assert_int_equal(ts_rpc_client_new(&c, loop, url, 0), 0);
    return c;
}

/* ---- group setup: compile, start anvil, deploy, key ---- */

static int
deploy(uv_loop_t *loop, struct rpc_client *c, const char *bin)
{
    size_t cap = strlen(bin) + 256;
    char *params = malloc(cap), h[80];
    cJSON *r, *addr;
    int rc = -1;

    snprintf(params, cap,
             "[{\"from\":\"" ACCT0
             "\",\"data\":\"0x%s\",\"gas\":\"0x200000\"}]",
             bin);
    r = ts_rpc_must(loop, c, "eth_sendTransaction", params, DEADLINE_MS);
    snprintf(h, sizeof(h), "[\"%s\"]", r->valuestring);
    cJSON_Delete(r);
    /* Automine answers before the block is there: ask until it is. */
    r = NULL;
    for (int i = 0; i < 2000 && (!r || cJSON_IsNull(r)); i++) {
        cJSON_Delete(r);
        r = ts_rpc_must(loop, c, "eth_getTransactionReceipt", h, DEADLINE_MS);
    }
    addr = cJSON_GetObjectItem(r, "contractAddress");
    if (cJSON_IsString(addr) && eth_addr_parse(&g.contract, addr->valuestring,
                                               strlen(addr->valuestring)) == 0)
        rc = 0;
    cJSON_Delete(r);
    free(params);
    return rc;
}

static int
load_key(void)
{
    char path[300], err[160];

    snprintf(path, sizeof(path), "%s/key2", g.dir);
    if (ts_write_text(path, KEY2 "\n", 0600) != 0)
        return -1;
    return signer_new_from_key_file(&g.signer, NULL, err, sizeof(err), path);
}

static int
group_setup(void **state)
{
    char *bin = NULL;
    uv_loop_t loop;
    struct rpc_client *c;
    int rc = -1;

    (void)state;
    if (ts_tmpdir_make(g.dir, sizeof(g.dir), "txm") != 0 ||
        ts_solc_source(&bin, contract_src, "T") != 0 ||
        ts_anvil_start(&g.anvil, NULL) != 0 || load_key() != 0) {
        free(bin);
        return -1;
    }
    uv_loop_init(&loop);
    c = client_new(&loop, g.anvil.http);
    rc = deploy(&loop, c, bin);
    rpc_client_free(c);
    assert_int_equal(ts_loop_close(&loop), 0);
    free(bin);
    return rc;
}

static int
group_teardown(void **state)
{
    (void)state;
    ts_anvil_stop(&g.anvil);
    signer_free(g.signer);
    return ts_tmpdir_remove(g.dir);
}

/* ---- per-test fixture ---- */

#define MAX_REPORTS 32
#define MAX_EVENTS 512

struct rec {
    enum txm_state state;
    int err;
    char key[TXM_KEY_MAX + 1];
    char text[256];
    bool sent, has_tx, has_receipt;
    uint8_t hash[32];
    uint64_t nonce, gas_limit, block, gas_used;
    struct u256 max_fee, tip;
    unsigned ntx;
    int status;
    int revert_kind; /* -1: no decoded revert */
    char reason[64];
};

struct ev {
    enum txm_event_kind kind;
    enum txm_severity sev;
    char text[TXM_TEXT_MAX];
};

struct fx {
    uv_loop_t loop;
    struct rpc_client *c;
    struct txm *m;
    struct rec r[MAX_REPORTS];
    int nr;
    int finals;
    struct ev e[MAX_EVENTS];
    int ne;
};

static void
on_result(void *arg, const struct txm_report *r)
{
    struct fx *f = arg;
    struct rec *x;

    assert_true(f->nr < MAX_REPORTS);
    x = &f->r[f->nr++];
    memset(x, 0, sizeof(*x));
    x->state = r->state;
    x->err = r->err;
    snprintf(x->key, sizeof(x->key), "%s", r->key);
    snprintf(x->text, sizeof(x->text), "%s", r->text);
    x->sent = r->sent;
    x->has_tx = r->has_tx;
    memcpy(x->hash, r->hash, 32);
    x->nonce = r->nonce;
    x->gas_limit = r->gas_limit;
    x->max_fee = r->max_fee;
    x->tip = r->max_priority_fee;
    x->ntx = r->ntx;
    x->has_receipt = r->has_receipt;
    x->block = r->block;
    x->gas_used = r->gas_used;
    x->status = r->status;
    x->revert_kind = r->revert ? r->revert->kind : -1;
    if (r->revert && r->revert->kind == ABI_REVERT_ERROR)
        snprintf(x->reason, sizeof(x->reason), "%.*s",
                 (int)r->revert->reason_len, r->revert->reason);
    if (txm_state_is_final(r->state))
        f->finals++;
    /* Texts are one line. */
    assert_null(strchr(r->text, '\n'));
}

static void
on_event(void *arg, const struct txm_event *ev)
{
    struct fx *f = arg;

    assert_null(strchr(ev->text, '\n'));
    if (f->ne >= MAX_EVENTS)
        return;
    f->e[f->ne].kind = ev->kind;
    f->e[f->ne].sev = ev->severity;
    snprintf(f->e[f->ne].text, sizeof(f->e[f->ne].text), "%s", ev->text);
    f->ne++;
}

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (!f || uv_loop_init(&f->loop) != 0)
        return -1;
    f->c = client_new(&f->loop, g.anvil.http);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;

    txm_free(f->m);
    /* Leave anvil as the next test expects it. */
    call_ok(&f->loop, f->c, "anvil_setBlockGasLimit",
            "[\"" BLOCK_GAS_LIMIT "\"]");
    call_ok(&f->loop, f->c, "evm_setAutomine", "[true]");
    call_ok(&f->loop, f->c, "anvil_mine", "[\"0x1\"]");
    rpc_client_free(f->c);
    assert_int_equal(ts_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static struct txm_opts
opts(void)
{
    struct txm_opts o;

    txm_opts_init(&o);
    u256_from_u64(&o.max_fee, 500 * GWEI);
    return o;
}

static void
fx_txm(struct fx *f, const struct txm_opts *o)
{
    struct txm_opts oo = *o;

    oo.on_event = on_event;
    oo.event_arg = f;
    assert_int_equal(txm_new(&f->m, &f->loop, f->c, g.signer, &oo), 0);
}

/* Calldata of a no-argument function of the contract. */
static size_t
calldata(uint8_t out[4], const char *sig)
{
    struct abi_sig s;

    assert_int_equal(abi_sig_parse(&s, sig, strlen(sig), NULL), 0);
    memcpy(out, s.hash, 4);
    return 4;
}

struct intent_buf {
    struct txm_intent in;
    uint8_t data[4];
};

static void
intent(struct intent_buf *b, struct fx *f, const char *key, const char *fn)
{
    memset(b, 0, sizeof(*b));
    b->in.key = key;
    b->in.to = g.contract;
    b->in.data_len = calldata(b->data, fn);
    b->in.data = b->data;
    b->in.cb = on_result;
    b->in.arg = f;
}

static int
submit(struct fx *f, const char *key, const char *fn, bool dry)
{
    struct intent_buf b;

    intent(&b, f, key, fn);
    b.in.dry_run = dry;
    return txm_submit(f->m, &b.in);
}

static void
wait_finals(struct fx *f, int n)
{
    assert_true(ts_run_count(&f->loop, &f->finals, n, DEADLINE_MS));
}

static void
wait_reports(struct fx *f, int n)
{
    assert_true(ts_run_count(&f->loop, &f->nr, n, DEADLINE_MS));
}

static bool
idle(void *arg)
{
    return !txm_is_busy(arg);
}

static void
wait_idle(struct fx *f)
{
    assert_true(ts_run_until(&f->loop, idle, f->m, DEADLINE_MS));
}

static const struct rec *
last_of(const struct fx *f, enum txm_state st)
{
    for (int i = f->nr - 1; i >= 0; i--)
        if (f->r[i].state == st)
            return &f->r[i];
    return NULL;
}

static int
count_state(const struct fx *f, enum txm_state st)
{
    int n = 0;

    for (int i = 0; i < f->nr; i++)
        n += f->r[i].state == st;
    return n;
}

static const struct ev *
find_event(const struct fx *f, enum txm_event_kind k, const char *needle)
{
    for (int i = 0; i < f->ne; i++)
        if (f->e[i].kind == k && (!needle || strstr(f->e[i].text, needle)))
            return &f->e[i];
    return NULL;
}

static uint64_t
nonce_at(struct fx *f, const char *tag)
{
    char params[96];

    snprintf(params, sizeof(params), "[\"" ACCT2 "\",\"%s\"]", tag);
    return call_u64(&f->loop, f->c, "eth_getTransactionCount", params);
}

static uint64_t
head(struct fx *f)
{
    return call_u64(&f->loop, f->c, "eth_blockNumber", NULL);
}

/* Mine one block and tell the manager. Returns: the new head. */
static uint64_t
mine(struct fx *f)
{
    uint64_t h;

    call_ok(&f->loop, f->c, "anvil_mine", "[\"0x1\"]");
    h = head(f);
    txm_on_head(f->m, h);
    return h;
}

static cJSON *
receipt(struct fx *f, const uint8_t hash[32])
{
    char params[80];

    memcpy(params, "[\"", 2);
    hex_encode(params + 2, 67, hash, 32, true);
    strcat(params, "\"]");
    return ts_rpc_must(&f->loop, f->c, "eth_getTransactionReceipt", params,
                       DEADLINE_MS);
}

static cJSON *
tx_by_hash(struct fx *f, const uint8_t hash[32])
{
    char params[80];

    memcpy(params, "[\"", 2);
    hex_encode(params + 2, 67, hash, 32, true);
    strcat(params, "\"]");
    return ts_rpc_must(&f->loop, f->c, "eth_getTransactionByHash", params,
                       DEADLINE_MS);
}

static uint64_t
json_u64(const cJSON *o, const char *name)
{
    uint64_t v = 0;

    assert_int_equal(rpc_quantity_u64(cJSON_GetObjectItem(o, name), &v), 0);
    return v;
}

static struct u256
json_u256(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    struct u256 r;

    assert_true(cJSON_IsString(v));
    assert_int_equal(u256_parse(&r, v->valuestring, strlen(v->valuestring)), 0);
    return r;
}

/* The contract's counter n(). */
static uint64_t
counter(struct fx *f)
{
    char params[200], to[ETH_ADDR_STR_LEN];
    uint8_t sel[4];
    cJSON *r;
    uint8_t word[32];
    uint64_t v = 0;

    calldata(sel, "n()");
    hex_encode(to, sizeof(to), g.contract.b, 20, true);
    snprintf(params, sizeof(params),
             "[{\"to\":\"%s\",\"data\":\"0x%02x%02x%02x%02x\"},\"latest\"]", to,
             sel[0], sel[1], sel[2], sel[3]);
    r = ts_rpc_must(&f->loop, f->c, "eth_call", params, DEADLINE_MS);
    assert_int_equal(
        hex_decode_exact(word, 32, r->valuestring, strlen(r->valuestring)), 0);
    for (int i = 24; i < 32; i++)
        v = v << 8 | word[i];
    cJSON_Delete(r);
    return v;
}

/* Send a transaction behind the manager's back, from `from` (anvil's
 * accounts are unlocked, the manager's included); nonce UINT64_MAX: the
 * node picks it. Returns: its hash (0x-hex) in `hash`. */
static void
send_external(struct fx *f, const char *from, const char *fn, uint64_t nonce,
              uint64_t max_fee, uint64_t tip, char hash[67])
{
    char params[400], to[ETH_ADDR_STR_LEN], nfield[40] = "";
    uint8_t sel[4];
    cJSON *r;

    calldata(sel, fn);
    hex_encode(to, sizeof(to), g.contract.b, 20, true);
    if (nonce != UINT64_MAX)
        snprintf(nfield, sizeof(nfield), ",\"nonce\":\"0x%llx\"",
                 (unsigned long long)nonce);
    snprintf(params, sizeof(params),
             "[{\"from\":\"%s\",\"to\":\"%s\",\"data\":\"0x%02x%02x%02x"
             "%02x\"%s,\"gas\":\"0x30000\",\"maxFeePerGas\":\"0x%llx\","
             "\"maxPriorityFeePerGas\":\"0x%llx\"}]",
             from, to, sel[0], sel[1], sel[2], sel[3], nfield,
             (unsigned long long)max_fee, (unsigned long long)tip);
    r = ts_rpc_must(&f->loop, f->c, "eth_sendTransaction", params, DEADLINE_MS);
    assert_true(cJSON_IsString(r));
    snprintf(hash, 67, "%s", r->valuestring);
    cJSON_Delete(r);
}

/* ---- tests: no network needed ---- */

static void
test_send_classify(void **state)
{
    static const struct {
        const char *msg;
        enum txm_send_class c;
    } v[] = {
        {"already known", TXM_SEND_KNOWN},                /* geth */
        {"transaction already imported", TXM_SEND_KNOWN}, /* anvil */
        {"Known transaction (0x12ab)", TXM_SEND_KNOWN},   /* besu */
        {"AlreadyKnown", TXM_SEND_KNOWN},                 /* nethermind */
        {"nonce too low", TXM_SEND_NONCE_LOW},
        {"nonce too low: next nonce 5, tx nonce 3", TXM_SEND_NONCE_LOW},
        {"NONCE_TOO_LOW", TXM_SEND_NONCE_LOW},
        {"OldNonce, Current nonce: 7, nonce of rejected tx: 3",
         TXM_SEND_NONCE_LOW},
        {"replacement transaction underpriced", TXM_SEND_UNDERPRICED},
        {"REPLACEMENT_UNDERPRICED", TXM_SEND_UNDERPRICED},
        /* not a replacement: the pool's minimum price */
        {"transaction underpriced", TXM_SEND_ERROR},
        {"insufficient funds for gas * price + value", TXM_SEND_ERROR},
        {"max fee per gas less than block base fee", TXM_SEND_ERROR},
        {"nonce too high", TXM_SEND_ERROR},
        {"", TXM_SEND_ERROR},
        {NULL, TXM_SEND_ERROR},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
        if (txm_send_classify(v[i].msg) != v[i].c)
            fail_msg("case %zu (%s)", i, v[i].msg ? v[i].msg : "NULL");
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(txm_state_name(TXM_SIMULATED_REVERT),
                        "simulated_revert");
    assert_string_equal(txm_state_name(TXM_CONFIRMED), "confirmed");
    assert_string_equal(txm_state_name((enum txm_state)99), "?");
    assert_string_equal(txm_event_name(TXM_EV_BUMP_AT_CAP), "bump_at_cap");
    assert_string_equal(txm_event_name((enum txm_event_kind)0), "?");
    assert_string_equal(txm_event_name((enum txm_event_kind)999), "?");
    assert_false(txm_state_is_final(TXM_SENT));
    assert_false(txm_state_is_final(TXM_REPLACED));
    assert_true(txm_state_is_final(TXM_CONFIRMED));
    assert_true(txm_state_is_final(TXM_DRY_RUN));
}

static void
test_new_misuse(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts(), bad;
    struct txm *m = (struct txm *)1;

    bad = o;
    u256_from_u64(&bad.max_fee, 0);
    assert_int_equal(txm_new(&m, &f->loop, f->c, g.signer, &bad), KP_EINVAL);
    assert_null(m);
    bad = o;
    bad.fee_bump_bps = 1000; /* below 12.5% */
    assert_int_equal(txm_new(&m, &f->loop, f->c, g.signer, &bad), KP_EINVAL);
    bad = o;
    bad.replace_after_blocks = 0;
    assert_int_equal(txm_new(&m, &f->loop, f->c, g.signer, &bad), KP_EINVAL);
    bad = o;
    bad.fee_history_blocks = TXM_FEE_BLOCKS_MAX + 1;
    assert_int_equal(txm_new(&m, &f->loop, f->c, g.signer, &bad), KP_EINVAL);
    bad = o;
    bad.reward_percentile = 101;
    assert_int_equal(txm_new(&m, &f->loop, f->c, g.signer, &bad), KP_EINVAL);
    bad = o;
    bad.base_fee_mult = 0;
    assert_int_equal(txm_new(&m, &f->loop, f->c, g.signer, &bad), KP_EINVAL);
    bad = o;
    bad.confirmations = 0;
    assert_int_equal(txm_new(&m, &f->loop, f->c, g.signer, &bad), KP_EINVAL);
    txm_free(NULL);
}

static void
test_submit_misuse(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    struct intent_buf b;
    char longkey[TXM_KEY_MAX + 2];
    static uint8_t big[TXM_DATA_MAX + 1];
    struct abi_sig errs[TXM_MAX_ERRORS + 1];

    o.max_live = 2;
    fx_txm(f, &o);
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    const char *bad_keys[] = {"",         "has space", "quote\"", "back\\slash",
                              "tab\tkey", "\x7f",      longkey};

    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(*bad_keys); i++) {
        intent(&b, f, bad_keys[i], "ok()");
        assert_int_equal(txm_submit(f->m, &b.in), KP_EINVAL);
    }
    longkey[TXM_KEY_MAX] = '\0'; /* exactly TXM_KEY_MAX is fine */
    intent(&b, f, longkey, "ok()");
    b.in.dry_run = true;
    assert_int_equal(txm_submit(f->m, &b.in), 0);
    intent(&b, f, NULL, "ok()");
    assert_int_equal(txm_submit(f->m, &b.in), KP_EINVAL);
    intent(&b, f, "no-cb", "ok()");
    b.in.cb = NULL;
    assert_int_equal(txm_submit(f->m, &b.in), KP_EINVAL);
    intent(&b, f, "many-errors", "ok()");
    b.in.errors = errs;
    b.in.nerrors = TXM_MAX_ERRORS + 1;
    assert_int_equal(txm_submit(f->m, &b.in), KP_EINVAL);
    intent(&b, f, "null-data", "ok()");
    b.in.data = NULL;
    assert_int_equal(txm_submit(f->m, &b.in), KP_EINVAL);
    intent(&b, f, "big-data", "ok()");
    b.in.data = big;
    b.in.data_len = sizeof(big);
    assert_int_equal(txm_submit(f->m, &b.in), KP_ELIMIT);
    /* max_live = 2 */
    assert_int_equal(submit(f, "live-2", "ok()", true), 0);
    assert_int_equal(submit(f, "live-3", "ok()", true), KP_ELIMIT);
    assert_int_equal(txm_live_count(f->m), 2);
    wait_finals(f, 2);
    assert_int_equal(count_state(f, TXM_DRY_RUN), 2);
    assert_int_equal(txm_live_count(f->m), 0);
    assert_int_equal(txm_key_status(f->m, longkey), TXM_KEY_UNKNOWN);
}

static void
test_free_with_live_intents(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();

    fx_txm(f, &o);
    assert_int_equal(submit(f, "free-1", "ok()", false), 0);
    assert_int_equal(submit(f, "free-2", "nope()", false), 0);
    txm_free(f->m); /* cancels their calls: no callbacks, no leaks */
    f->m = NULL;
    for (int i = 0; i < 50; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->nr, 0);
}

/* ---- tests against anvil ---- */

static bool
u256_eq_u64(const struct u256 *a, uint64_t v)
{
    struct u256 b;

    u256_from_u64(&b, v);
    return u256_cmp(a, &b) == 0;
}

static void
test_confirmed(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    struct eth_addr me, want;
    uint64_t n0 = counter(f), nonce0 = nonce_at(f, "latest"), base;
    const struct rec *sent, *done;
    struct u256 expect;
    cJSON *tx, *rc, *blk;
    char params[64];

    o.poll_ms = 50; /* heads from the manager's own timer */
    fx_txm(f, &o);
    me = txm_address(f->m);
    assert_int_equal(eth_addr_parse(&want, ACCT2, strlen(ACCT2)), 0);
    assert_memory_equal(me.b, want.b, 20);
    assert_int_equal(submit(f, "ok-1", "ok()", false), 0);
    assert_int_equal(txm_key_status(f->m, "ok-1"), TXM_KEY_LIVE);
    assert_int_equal(txm_live_count(f->m), 1);
    wait_finals(f, 1);
    assert_int_equal(f->nr, 2);
    sent = &f->r[0];
    done = &f->r[1];
    assert_int_equal(sent->state, TXM_SENT);
    assert_true(sent->sent && sent->has_tx);
    assert_int_equal(sent->nonce, nonce0);
    assert_int_equal(done->state, TXM_CONFIRMED);
    assert_int_equal(done->err, 0);
    assert_true(done->has_receipt);
    assert_int_equal(done->status, 1);
    assert_memory_equal(done->hash, sent->hash, 32);
    assert_int_equal(done->ntx, 1);
    /* The margin: limit >= 120% of what the call used. */
    assert_true(done->gas_used > 21000);
    assert_true(done->gas_limit * 10 >= done->gas_used * 12);
    assert_int_equal(counter(f), n0 + 1);
    assert_int_equal(nonce_at(f, "latest"), nonce0 + 1);

    /* On chain: a type-2 transaction from the key's account with the
     * fees and limit reported, mined where the receipt says. */
    tx = tx_by_hash(f, done->hash);
    assert_string_equal(cJSON_GetObjectItem(tx, "type")->valuestring, "0x2");
    assert_string_equal(cJSON_GetObjectItem(tx, "from")->valuestring, ACCT2);
    assert_int_equal(json_u64(tx, "nonce"), nonce0);
    assert_int_equal(json_u64(tx, "gas"), done->gas_limit);
    expect = json_u256(tx, "maxFeePerGas");
    assert_int_equal(u256_cmp(&expect, &done->max_fee), 0);
    expect = json_u256(tx, "maxPriorityFeePerGas");
    assert_int_equal(u256_cmp(&expect, &done->tip), 0);
    cJSON_Delete(tx);
    rc = receipt(f, done->hash);
    assert_int_equal(json_u64(rc, "status"), 1);
    assert_int_equal(json_u64(rc, "blockNumber"), done->block);
    assert_int_equal(json_u64(rc, "gasUsed"), done->gas_used);
    cJSON_Delete(rc);
    /* maxFee = 2 x baseFee(next) + tip: with automine, the next block
     * was the one the transaction went into. The tip is at least the
     * configured floor. */
    snprintf(params, sizeof(params), "[\"0x%llx\",false]",
             (unsigned long long)done->block);
    blk = ts_rpc_must(&f->loop, f->c, "eth_getBlockByNumber", params,
                      DEADLINE_MS);
    base = json_u64(blk, "baseFeePerGas");
    cJSON_Delete(blk);
    assert_true(u256_cmp(&done->tip, &o.priority_fee) >= 0);
    u256_from_u64(&expect, 2 * base);
    u256_add(&expect, &expect, &done->tip);
    assert_int_equal(u256_cmp(&expect, &done->max_fee), 0);

    /* Done: never a second transaction for this key. */
    assert_int_equal(txm_key_status(f->m, "ok-1"), TXM_KEY_DONE);
    assert_int_equal(submit(f, "ok-1", "ok()", false), KP_ESTATE);
    assert_int_equal(txm_live_count(f->m), 0);
    assert_non_null(find_event(f, TXM_EV_SIMULATED, NULL));
    assert_non_null(find_event(f, TXM_EV_GAS, NULL));
    assert_non_null(find_event(f, TXM_EV_FEES, NULL));
    assert_non_null(find_event(f, TXM_EV_NONCE, NULL));
    assert_non_null(find_event(f, TXM_EV_BROADCAST, NULL));
}

static void
test_simulated_revert(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    uint64_t latest = nonce_at(f, "latest"), pending = nonce_at(f, "pending");
    uint64_t h0 = head(f);
    const struct rec *r;
    struct intent_buf b;
    struct abi_sig custom;
    const char *esig = "error Custom(uint256 code, address who)";

    fx_txm(f, &o);
    assert_int_equal(submit(f, "nope-1", "nope()", false), 0);
    wait_finals(f, 1);
    r = &f->r[0];
    assert_int_equal(f->nr, 1);
    assert_int_equal(r->state, TXM_SIMULATED_REVERT);
    assert_int_equal(r->err, KP_EREVERT);
    assert_int_equal(r->revert_kind, ABI_REVERT_ERROR);
    assert_string_equal(r->reason, "nope");
    assert_non_null(strstr(r->text, "nope"));
    assert_false(r->sent);
    assert_false(r->has_tx);
    /* Nothing sent: nonces and head as before. */
    assert_int_equal(nonce_at(f, "latest"), latest);
    assert_int_equal(nonce_at(f, "pending"), pending);
    assert_int_equal(head(f), h0);
    assert_null(find_event(f, TXM_EV_BROADCAST, NULL));
    /* Nothing was sent, so the key may be used again. */
    assert_int_equal(txm_key_status(f->m, "nope-1"), TXM_KEY_UNKNOWN);
    assert_int_equal(submit(f, "nope-1", "nope()", false), 0);
    wait_finals(f, 2);
    assert_int_equal(f->r[1].state, TXM_SIMULATED_REVERT);

    /* A custom error, decoded with its signature... */
    assert_int_equal(abi_sig_parse(&custom, esig, strlen(esig), NULL), 0);
    intent(&b, f, "custom-1", "custom()");
    b.in.errors = &custom;
    b.in.nerrors = 1;
    assert_int_equal(txm_submit(f->m, &b.in), 0);
    wait_finals(f, 3);
    r = &f->r[2];
    assert_int_equal(r->state, TXM_SIMULATED_REVERT);
    assert_int_equal(r->revert_kind, ABI_REVERT_CUSTOM);
    assert_string_equal(
        r->text, "Custom(7, 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC)");
    /* ...and without it: the selector. */
    assert_int_equal(submit(f, "custom-2", "custom()", false), 0);
    wait_finals(f, 4);
    r = &f->r[3];
    assert_int_equal(r->state, TXM_SIMULATED_REVERT);
    assert_int_equal(r->revert_kind, ABI_REVERT_UNKNOWN);
    assert_non_null(strstr(r->text, "0x2202f1fa"));
    assert_int_equal(nonce_at(f, "pending"), pending);
    assert_int_equal(head(f), h0);
}

static void
test_dry_run(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    uint64_t pending = nonce_at(f, "pending"), h0 = head(f), n0 = counter(f);

    fx_txm(f, &o);
    assert_int_equal(submit(f, "dry-1", "ok()", true), 0);
    wait_finals(f, 1);
    assert_int_equal(f->nr, 1);
    assert_int_equal(f->r[0].state, TXM_DRY_RUN);
    assert_int_equal(f->r[0].err, 0);
    assert_false(f->r[0].sent);
    assert_non_null(find_event(f, TXM_EV_SIMULATED, NULL));
    assert_null(find_event(f, TXM_EV_GAS, NULL));
    assert_null(find_event(f, TXM_EV_BROADCAST, NULL));
    assert_int_equal(nonce_at(f, "pending"), pending);
    assert_int_equal(head(f), h0);
    assert_int_equal(counter(f), n0);
    /* A dry run decides nothing: the key stays free. */
    assert_int_equal(txm_key_status(f->m, "dry-1"), TXM_KEY_UNKNOWN);
    /* A dry run of a reverting call reports the revert. */
    assert_int_equal(submit(f, "dry-2", "nope()", true), 0);
    wait_finals(f, 2);
    assert_int_equal(f->r[1].state, TXM_SIMULATED_REVERT);
}

static void
test_duplicates_and_concurrency(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    uint64_t nonce0 = nonce_at(f, "latest"), n0 = counter(f);
    uint64_t seen = 0;

    o.poll_ms = 50;
    fx_txm(f, &o);
    assert_int_equal(submit(f, "c-1", "ok()", false), 0);
    assert_int_equal(submit(f, "c-1", "ok()", false), KP_ESTATE);
    assert_int_equal(submit(f, "c-1", "nope()", true), KP_ESTATE);
    assert_int_equal(submit(f, "c-2", "ok()", false), 0);
    assert_int_equal(submit(f, "c-3", "ok()", false), 0);
    wait_finals(f, 3);
    assert_int_equal(count_state(f, TXM_CONFIRMED), 3);
    assert_int_equal(count_state(f, TXM_SENT), 3);
    /* One nonce each, consecutive. */
    for (int i = 0; i < f->nr; i++)
        if (f->r[i].state == TXM_CONFIRMED) {
            assert_true(f->r[i].nonce >= nonce0 && f->r[i].nonce < nonce0 + 3);
            assert_false(seen & (1u << (f->r[i].nonce - nonce0)));
            seen |= 1u << (f->r[i].nonce - nonce0);
        }
    assert_int_equal(seen, 7);
    assert_int_equal(counter(f), n0 + 3);
    assert_int_equal(nonce_at(f, "latest"), nonce0 + 3);
    for (int i = 1; i <= 3; i++) {
        char key[8];

        snprintf(key, sizeof(key), "c-%d", i);
        assert_int_equal(txm_key_status(f->m, key), TXM_KEY_DONE);
        assert_int_equal(submit(f, key, "ok()", false), KP_ESTATE);
    }
}

/* The base fee of the next block. */
static uint64_t
base_next(struct fx *f)
{
    cJSON *r = ts_rpc_must(&f->loop, f->c, "eth_feeHistory",
                           "[\"0x1\",\"latest\",[]]", DEADLINE_MS);
    cJSON *b = cJSON_GetObjectItem(r, "baseFeePerGas");
    uint64_t v = 0;

    assert_int_equal(
        rpc_quantity_u64(cJSON_GetArrayItem(b, cJSON_GetArraySize(b) - 1), &v),
        0);
    cJSON_Delete(r);
    return v;
}

static bool
is_null_json(cJSON *j)
{
    bool n = cJSON_IsNull(j);

    cJSON_Delete(j);
    return n;
}

/* Blocks stay empty while the block gas limit is below the transaction's
 * gas limit (anvil keeps the transaction pending), and anvil refuses new
 * transactions above it: lift it before the manager sends a replacement. */
static void
block_gas_limit(struct fx *f, bool low)
{
    call_ok(&f->loop, f->c, "anvil_setBlockGasLimit",
            low ? "[\"0x7530\"]" : "[\"" BLOCK_GAS_LIMIT "\"]");
}

static void
test_replacement(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    struct rec s1, s2;
    const struct rec *done;
    uint64_t nonce0 = nonce_at(f, "latest"), mf1, tip1, mf2, tip2;
    cJSON *rc;

    o.replace_after_blocks = 2;
    fx_txm(f, &o);
    call_ok(&f->loop, f->c, "evm_setAutomine", "[false]");
    txm_on_head(f->m, head(f));
    assert_int_equal(submit(f, "bump-1", "ok()", false), 0);
    wait_reports(f, 1);
    s1 = f->r[0];
    assert_int_equal(s1.state, TXM_SENT);
    assert_int_equal(s1.nonce, nonce0);

    /* One empty block: not yet. */
    block_gas_limit(f, true);
    mine(f);
    wait_idle(f);
    assert_int_equal(f->nr, 1);
    assert_true(is_null_json(receipt(f, s1.hash)));
    /* The second empty block triggers the replacement. */
    call_ok(&f->loop, f->c, "anvil_mine", "[\"0x1\"]");
    block_gas_limit(f, false);
    txm_on_head(f->m, head(f));
    wait_reports(f, 2);
    s2 = f->r[1];
    assert_int_equal(s2.state, TXM_REPLACED);
    assert_int_equal(s2.nonce, s1.nonce);
    assert_int_equal(s2.gas_limit, s1.gas_limit);
    assert_int_equal(s2.ntx, 2);
    assert_memory_not_equal(s2.hash, s1.hash, 32);
    /* Both fees >= 112.5% (in 128-bit arithmetic, independently). */
    assert_int_equal(u256_to_u64(&mf1, &s1.max_fee), 0);
    assert_int_equal(u256_to_u64(&tip1, &s1.tip), 0);
    assert_int_equal(u256_to_u64(&mf2, &s2.max_fee), 0);
    assert_int_equal(u256_to_u64(&tip2, &s2.tip), 0);
    assert_true((unsigned __int128)mf2 * 8 >= (unsigned __int128)mf1 * 9);
    assert_true((unsigned __int128)tip2 * 8 >= (unsigned __int128)tip1 * 9);
    assert_true(mf2 <= 500 * GWEI);
    assert_non_null(find_event(f, TXM_EV_BROADCAST, "replaces=1"));

    /* Mined: the replacement, once. */
    mine(f);
    wait_finals(f, 1);
    done = last_of(f, TXM_CONFIRMED);
    assert_non_null(done);
    assert_memory_equal(done->hash, s2.hash, 32);
    assert_int_equal(done->nonce, nonce0);
    assert_int_equal(done->status, 1);
    assert_true(is_null_json(receipt(f, s1.hash)));
    rc = receipt(f, s2.hash);
    assert_int_equal(json_u64(rc, "status"), 1);
    cJSON_Delete(rc);
    assert_int_equal(nonce_at(f, "latest"), nonce0 + 1);
    mine(f);
    mine(f);
    wait_idle(f);
    assert_int_equal(count_state(f, TXM_CONFIRMED), 1);
    assert_int_equal(f->finals, 1);
    assert_int_equal(txm_key_status(f->m, "bump-1"), TXM_KEY_DONE);
}

static int
count_events(const struct fx *f, enum txm_event_kind k)
{
    int n = 0;

    for (int i = 0; i < f->ne; i++)
        n += f->e[i].kind == k;
    return n;
}

static void
test_bump_at_cap(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    uint64_t base = base_next(f), cap;
    struct rec s1;
    const struct rec *done;

    /* A cap under 2 x base + tip: the first price is the cap itself, and
     * no 12.5% raise fits under it. */
    assert_true(base > 0);
    cap = base + base / 2 + 1;
    u256_from_u64(&o.max_fee, cap);
    o.replace_after_blocks = 1;
    fx_txm(f, &o);
    call_ok(&f->loop, f->c, "evm_setAutomine", "[false]");
    txm_on_head(f->m, head(f));
    assert_int_equal(submit(f, "cap-1", "ok()", false), 0);
    wait_reports(f, 1);
    s1 = f->r[0];
    assert_int_equal(s1.state, TXM_SENT);
    assert_true(u256_eq_u64(&s1.max_fee, cap));
    assert_non_null(find_event(f, TXM_EV_FEE_CAPPED, NULL));

    block_gas_limit(f, true);
    for (int i = 0; i < 4; i++) {
        mine(f);
        wait_idle(f);
    }
    /* No replacement; one warning, not one per block. The same bytes
     * went out again to keep them in the pools; anvil refuses them while
     * the block gas limit is low: warned once, not once per block. */
    assert_int_equal(f->nr, 1);
    assert_int_equal(count_events(f, TXM_EV_BUMP_AT_CAP), 1);
    assert_non_null(find_event(f, TXM_EV_BROADCAST, "again"));
    assert_true(count_events(f, TXM_EV_RPC_ERROR) <= 1);
    block_gas_limit(f, false);
    mine(f);
    wait_finals(f, 1);
    done = last_of(f, TXM_CONFIRMED);
    assert_non_null(done);
    assert_memory_equal(done->hash, s1.hash, 32);
    assert_int_equal(done->ntx, 1);
}

/* anvil's automine answers before the block is there: ask until the
 * receipt is. */
static void
wait_mined(struct fx *f, const char *hash_hex)
{
    uint8_t h[32];

    assert_int_equal(hex_decode_exact(h, 32, hash_hex, strlen(hash_hex)), 0);
    for (int i = 0; i < 2000; i++)
        if (!is_null_json(receipt(f, h)))
            return;
    fail_msg("transaction %s not mined", hash_hex);
}

static void
test_nonce_too_low(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    uint64_t nonce0;
    const struct rec *done;
    char ext[67];

    o.poll_ms = 50;
    fx_txm(f, &o);
    /* The manager learns the nonce and counts locally from here. */
    assert_int_equal(submit(f, "nl-1", "ok()", false), 0);
    wait_finals(f, 1);
    nonce0 = f->r[f->nr - 1].nonce;
    /* Someone else uses the next nonce of the account. */
    send_external(f, ACCT2, "ok()", nonce0 + 1, 100 * GWEI, 2 * GWEI, ext);
    wait_mined(f, ext);
    assert_int_equal(nonce_at(f, "latest"), nonce0 + 2);
    assert_int_equal(submit(f, "nl-2", "ok()", false), 0);
    wait_finals(f, 2);
    done = last_of(f, TXM_CONFIRMED);
    assert_non_null(done);
    assert_string_equal(done->key, "nl-2");
    assert_int_equal(done->nonce, nonce0 + 2);
    assert_int_equal(done->status, 1);
    assert_non_null(find_event(f, TXM_EV_RECONCILED, "nonce too low"));
    assert_non_null(find_event(f, TXM_EV_NONCE_RESYNC, NULL));
    assert_int_equal(nonce_at(f, "latest"), nonce0 + 3);
    /* One transaction for the intent: SENT once. */
    assert_int_equal(count_state(f, TXM_SENT), 2);
}

static void
test_underpriced_first_send(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    uint64_t nonce0;
    const struct rec *sent, *done;
    char ext[67];
    uint8_t ext_hash[32];
    cJSON *rc;

    o.poll_ms = 50;
    fx_txm(f, &o);
    assert_int_equal(submit(f, "up-1", "ok()", false), 0);
    wait_finals(f, 1);
    nonce0 = f->r[f->nr - 1].nonce;
    /* A pending transaction of the account at the manager's next nonce,
     * paying more than the manager will. */
    call_ok(&f->loop, f->c, "evm_setAutomine", "[false]");
    send_external(f, ACCT2, "ok()", nonce0 + 1, 400 * GWEI, 100 * GWEI, ext);
    assert_int_equal(submit(f, "up-2", "ok()", false), 0);
    wait_reports(f, 3);
    sent = &f->r[2];
    assert_int_equal(sent->state, TXM_SENT);
    assert_int_equal(sent->nonce, nonce0 + 2);
    assert_non_null(
        find_event(f, TXM_EV_RECONCILED, "replacement underpriced"));
    /* The other transaction was not replaced. */
    mine(f);
    wait_finals(f, 2);
    done = last_of(f, TXM_CONFIRMED);
    assert_string_equal(done->key, "up-2");
    assert_int_equal(done->nonce, nonce0 + 2);
    assert_int_equal(hex_decode_exact(ext_hash, 32, ext, strlen(ext)), 0);
    rc = receipt(f, ext_hash);
    assert_int_equal(json_u64(rc, "status"), 1);
    cJSON_Delete(rc);
}

static void
test_reverts_on_chain(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    const struct rec *r;
    char ext[67];

    fx_txm(f, &o);
    call_ok(&f->loop, f->c, "evm_setAutomine", "[false]");
    txm_on_head(f->m, head(f));
    /* The simulation passes (once() not yet called)... */
    assert_int_equal(submit(f, "once-1", "once()", false), 0);
    wait_reports(f, 1);
    assert_int_equal(f->r[0].state, TXM_SENT);
    /* ...but another account gets there first in the same block. */
    send_external(f, ACCT0, "once()", UINT64_MAX, 400 * GWEI, 100 * GWEI, ext);
    mine(f);
    wait_finals(f, 1);
    r = &f->r[1];
    assert_int_equal(r->state, TXM_FAILED);
    assert_int_equal(r->err, KP_EREVERT);
    assert_true(r->has_receipt);
    assert_int_equal(r->status, 0);
    assert_memory_equal(r->hash, f->r[0].hash, 32);
    assert_non_null(strstr(r->text, "reverted"));
    /* A transaction of the key was mined: the key is used up. */
    assert_int_equal(txm_key_status(f->m, "once-1"), TXM_KEY_DONE);
    assert_int_equal(submit(f, "once-1", "ok()", false), KP_ESTATE);
}

/* ---- journal ---- */

struct jrecs {
    int n;
    char key[TXM_KEY_MAX + 1];
    uint64_t nonce;
    uint8_t hash[32];
    struct eth_addr from;
    uint64_t tx_nonce;
};

static int
collect(void *arg, const struct txm_journal_rec *r)
{
    struct jrecs *j = arg;
    struct tx t;
    struct eth_sig sig;
    struct tx_access acl[4];

    j->n++;
    snprintf(j->key, sizeof(j->key), "%s", r->key);
    j->nonce = r->nonce;
    memcpy(j->hash, r->hash, 32);
    assert_int_equal(tx_decode(&t, &sig, acl, 4, r->raw, r->raw_len), 0);
    assert_int_equal(tx_recover_sender(&j->from, &t, &sig), 0);
    j->tx_nonce = t.nonce;
    return 0;
}

static int
failing_journal(void *arg, const struct txm_journal_rec *r)
{
    (void)r;
    ++*(int *)arg;
    return KP_EIO;
}

static void
test_journal(void **state)
{
    struct fx *f = *state;
    struct txm_opts o = opts();
    struct txm_journal *j = NULL;
    struct jrecs got = {0};
    struct eth_addr me;
    char path[300], bad[300];
    const struct rec *done;
    size_t line = 0;
    FILE *fp;
    int calls = 0;
    uint64_t pending;

    snprintf(path, sizeof(path), "%s/journal", g.dir);
    assert_int_equal(txm_journal_open(&j, path), 0);
    o.poll_ms = 50;
    o.journal = txm_journal_append;
    o.journal_arg = j;
    fx_txm(f, &o);
    assert_int_equal(submit(f, "j-1", "ok()", false), 0);
    wait_finals(f, 1);
    done = last_of(f, TXM_CONFIRMED);
    assert_non_null(done);
    txm_journal_close(j);

    /* The record: key, nonce, hash of the bytes, signed by our key. */
    assert_int_equal(txm_journal_read(path, &line, collect, &got), 0);
    assert_int_equal(got.n, 1);
    assert_int_equal(line, 1);
    assert_string_equal(got.key, "j-1");
    assert_int_equal(got.nonce, done->nonce);
    assert_int_equal(got.tx_nonce, done->nonce);
    assert_memory_equal(got.hash, done->hash, 32);
    me = txm_address(f->m);
    assert_memory_equal(got.from.b, me.b, 20);
    {
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    /* A torn last line (crash during the write) is skipped. */
    fp = fopen(path, "a");
    fputs("txm1 j-2 7 0xabc", fp);
    fclose(fp);
    memset(&got, 0, sizeof(got));
    assert_int_equal(txm_journal_read(path, &line, collect, &got), 0);
    assert_int_equal(got.n, 1);
    /* A damaged complete line is an error, with its line number. */
    snprintf(bad, sizeof(bad), "%s/journal-bad", g.dir);
    fp = fopen(bad, "w");
    fputs("txm1 k 1 0x00000000000000000000000000000000000000000000000000000000"
          "00000000 0x02c0\n",
          fp);
    fclose(fp);
    assert_int_equal(txm_journal_read(bad, &line, collect, &got), KP_EINVAL);
    assert_int_equal(line, 1);
    fp = fopen(bad, "w");
    fputs("garbage\n", fp);
    fclose(fp);
    assert_int_equal(txm_journal_read(bad, &line, collect, &got), KP_EINVAL);
    assert_int_equal(txm_journal_read("/nonexistent/j", NULL, collect, &got),
                     KP_EIO);
    assert_int_equal(txm_journal_open(&j, "/nonexistent/dir/j"), KP_EIO);
    assert_null(j);
    txm_journal_close(NULL);

    /* A journal that fails: nothing is broadcast, the intent fails, the
     * key stays free, the nonce unused. */
    txm_free(f->m);
    o.journal = failing_journal;
    o.journal_arg = &calls;
    fx_txm(f, &o);
    pending = nonce_at(f, "pending");
    assert_int_equal(submit(f, "j-2", "ok()", false), 0);
    wait_finals(f, 2);
    assert_int_equal(f->r[f->nr - 1].state, TXM_FAILED);
    assert_int_equal(f->r[f->nr - 1].err, KP_EIO);
    assert_false(f->r[f->nr - 1].sent);
    assert_int_equal(calls, 1);
    assert_non_null(find_event(f, TXM_EV_JOURNAL_FAILED, NULL));
    assert_int_equal(nonce_at(f, "pending"), pending);
    assert_int_equal(txm_key_status(f->m, "j-2"), TXM_KEY_UNKNOWN);
}

static void
test_journal_append_misuse(void **state)
{
    struct txm_journal *j = NULL;
    char path[300];
    uint8_t raw[4] = {1, 2, 3, 4};
    struct txm_journal_rec r = {.key = "k", .raw = raw, .raw_len = 4};

    (void)state;
    snprintf(path, sizeof(path), "%s/journal-misuse", g.dir);
    assert_int_equal(txm_journal_open(&j, path), 0);
    r.key = "has space";
    assert_int_equal(txm_journal_append(j, &r), KP_EINVAL);
    r.key = "";
    assert_int_equal(txm_journal_append(j, &r), KP_EINVAL);
    r.key = NULL;
    assert_int_equal(txm_journal_append(j, &r), KP_EINVAL);
    r.key = "k";
    r.raw_len = 0;
    assert_int_equal(txm_journal_append(j, &r), KP_EINVAL);
    r.raw_len = TX_MAX_SIZE + 1;
    assert_int_equal(txm_journal_append(j, &r), KP_EINVAL);
    txm_journal_close(j);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_classify),
        cmocka_unit_test(test_names),
        T(test_new_misuse),
        T(test_submit_misuse),
        T(test_free_with_live_intents),
        T(test_confirmed),
        T(test_simulated_revert),
        T(test_dry_run),
        T(test_duplicates_and_concurrency),
        T(test_replacement),
        T(test_bump_at_cap),
        T(test_nonce_too_low),
        T(test_underpriced_first_send),
        T(test_reverts_on_chain),
        T(test_journal),
        cmocka_unit_test(test_journal_append_misuse),
    };
#undef T

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
