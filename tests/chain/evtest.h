/*
 * evtest.h - helpers for the WebSocket and event stream tests (header
 * only): a contract that logs, synchronous JSON-RPC steps (deploy, emit,
 * receipts) in the JSON text the tests compare, and the group fixture
 * that starts anvil (evt_node) and deploys the contract (evt_contract).
 * Processes and loop driving come from tests/support.
 */
#ifndef KP_TESTS_EVTEST_H
#define KP_TESTS_EVTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <uv.h>

#include "chain/err.h"
#include "chain/rpc.h"
#include "tests/support/anvil.h"
#include "tests/support/rpcsync.h"
#include "tests/support/uvrun.h"

/* anvil's first dev account (unlocked: eth_sendTransaction signs). */
#define EVT_DEV "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define EVT_TOPIC                                                              \
    "0x1111111111111111111111111111111111111111111111111111111111111111"

/* The logging contract, hand-assembled.
 * runtime (44 bytes): CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY
 *   PUSH32 <topic> CALLDATASIZE PUSH1 0 LOG1 STOP
 *   - LOG1 of the whole calldata with topic0 = 0x11..11.
 * init (12 bytes): PUSH1 44 PUSH1 12 PUSH1 0 CODECOPY PUSH1 44 PUSH1 0
 *   RETURN - returns the runtime that follows it. */
#define EVT_RUNTIME                                                            \
    "3660006000377f"                                                           \
    "1111111111111111111111111111111111111111111111111111111111111111"         \
    "366000a100"
#define EVT_INIT "602c600c600039602c6000f3" EVT_RUNTIME

/* ---- synchronous calls for the test's own steps ---- */

/* Call and wait (15 s at most). Returns: the error (0) and, in out (cap
 * bytes, optional), the result as JSON text or else the error text. */
static __attribute__((unused)) int
evt_rpc(uv_loop_t *loop, struct rpc_client *c, const char *method,
        const char *params, char *out, size_t cap)
{
    struct ts_rpc_reply r;
    int rc = ts_rpc_call(&r, loop, c, method, params, 15000);

    if (out != NULL && r.result != NULL) {
        char *s = cJSON_PrintUnformatted(r.result);

        snprintf(out, cap, "%s", s);
        free(s);
    } else if (out != NULL) {
        snprintf(out, cap, "%s", r.text);
    }
    ts_rpc_reply_cleanup(&r);
    return rc;
}

/* Returns: the number in a JSON quantity string ("\"0x1a\""), or
 * UINT64_MAX. */
static __attribute__((unused)) uint64_t
evt_quantity(const char *json)
{
    cJSON *v = cJSON_Parse(json);
    uint64_t n = UINT64_MAX;

    if (v == NULL || rpc_quantity_u64(v, &n) != 0)
        n = UINT64_MAX;
    cJSON_Delete(v);
    return n;
}

static __attribute__((unused)) uint64_t
evt_block_number(uv_loop_t *loop, struct rpc_client *c)
{
    char out[128];

    if (evt_rpc(loop, c, "eth_blockNumber", NULL, out, sizeof(out)) != 0)
        return UINT64_MAX;
    return evt_quantity(out);
}

/* Wait until transaction `hash_json` ("\"0x..\"") is mined (anvil may
 * answer eth_sendTransaction before its block is in).
 * Returns: 0 with the receipt as JSON in out, or an error. */
static __attribute__((unused)) int
evt_receipt(uv_loop_t *loop, struct rpc_client *c, const char *hash_json,
            char *out, size_t cap)
{
    char params[128];
    int rc;

    snprintf(params, sizeof(params), "[%s]", hash_json);
    for (int i = 0; i < 1000; i++) {
        if ((rc = evt_rpc(loop, c, "eth_getTransactionReceipt", params, out,
                          cap)) != 0)
            return rc;
        if (strcmp(out, "null") != 0)
            return 0;
    }
    return KP_ETIMEOUT;
}

/* Send a transaction from the dev account and wait until it is mined.
 * Returns: 0 and the receipt in out (optional), or an error. */
static __attribute__((unused)) int
evt_send(uv_loop_t *loop, struct rpc_client *c, const char *tx_json, char *out,
         size_t cap)
{
    char params[1024], hash[80], buf[4096];
    int rc;

    snprintf(params, sizeof(params), "[%s]", tx_json);
    if ((rc = evt_rpc(loop, c, "eth_sendTransaction", params, hash,
                      sizeof(hash))) != 0)
        return rc;
    return evt_receipt(loop, c, hash, out ? out : buf, out ? cap : sizeof(buf));
}

/* Deploy the logging contract. Returns: 0 and its address in addr
 * ("0x..." 43 bytes). */
static __attribute__((unused)) int
evt_deploy(uv_loop_t *loop, struct rpc_client *c, char addr[43])
{
    char out[4096];
    cJSON *r, *a;
    int rc;

    if ((rc = evt_send(loop, c,
                       "{\"from\":\"" EVT_DEV "\",\"data\":\"0x" EVT_INIT "\"}",
                       out, sizeof(out))) != 0)
        return rc;
    r = cJSON_Parse(out);
    a = cJSON_GetObjectItem(r, "contractAddress");
    rc = cJSON_IsString(a) && strlen(a->valuestring) == 42 ? 0 : -1;
    if (rc == 0)
        snprintf(addr, 43, "%s", a->valuestring);
    cJSON_Delete(r);
    return rc;
}

/* Send a transaction to `addr` whose log data is the 32-byte big-endian
 * `tag`, and wait until it is mined (in a block of its own: anvil mines
 * every transaction as it comes). Returns: 0 or the error. */
static __attribute__((unused)) int
evt_emit(uv_loop_t *loop, struct rpc_client *c, const char *addr, uint64_t tag)
{
    char tx[512];

    snprintf(tx, sizeof(tx),
             "{\"from\":\"" EVT_DEV "\",\"to\":\"%s\",\"data\":\"0x%064llx\"}",
             addr, (unsigned long long)tag);
    return evt_send(loop, c, tx, NULL, 0);
}

/* Returns: the last 8 bytes of a log's data as a number (our tags). */
static __attribute__((unused)) uint64_t
evt_tag(const uint8_t *data, size_t len)
{
    uint64_t v = 0;

    for (size_t i = len >= 8 ? len - 8 : 0; i < len; i++)
        v = (v << 8) | data[i];
    return v;
}

/* ---- the group fixture ---- */

/* The group's node and the logging contract on it (per test program). */
static struct ts_anvil evt_node;
static char evt_contract[43];

/* cmocka group setup: libwebsockets quiet, anvil started. */
static __attribute__((unused)) int
evt_group_setup_node(void **state)
{
    (void)state;
    lws_set_log_level(LLL_ERR, NULL);
    return ts_anvil_start(&evt_node, NULL);
}

/* cmocka group setup: as evt_group_setup_node, and the logging contract
 * deployed at evt_contract. */
static __attribute__((unused)) int
evt_group_setup(void **state)
{
    uv_loop_t loop;
    struct rpc_client *c = NULL;
    int rc = -1;

    if (evt_group_setup_node(state) != 0 || uv_loop_init(&loop) != 0)
        return -1;
    if (ts_rpc_client_new(&c, &loop, evt_node.http, 0) == 0 &&
        (rc = evt_deploy(&loop, c, evt_contract)) != 0)
        fprintf(stderr, "cannot deploy the logging contract: %d\n", rc);
    rpc_client_free(c);
    ts_loop_close(&loop);
    return rc;
}

static __attribute__((unused)) int
evt_group_teardown(void **state)
{
    (void)state;
    ts_anvil_stop(&evt_node);
    return 0;
}

#endif
