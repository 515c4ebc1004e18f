/*
 * evtest.h - helpers for the WebSocket and event stream tests (header
 * only): an anvil process on a free port, running a loop until a
 * condition holds (with a hard deadline, no sleeps), synchronous JSON-RPC
 * calls for the test's own steps, and a contract that logs.
 */
#ifndef KP_TESTS_EVTEST_H
#define KP_TESTS_EVTEST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "chain/err.h"
#include "chain/rpc.h"

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

struct evt_anvil {
    pid_t pid;
    int port;
    char http[64];
    char ws[64];
};

static __attribute__((unused)) int
evt_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static __attribute__((unused)) int
evt_anvil_spawn(struct evt_anvil *n)
{
    const char *src = getenv("KP_SOURCE_DIR");
    char bin[4096], port[16];
    pid_t parent = getpid();

    if (src == NULL)
        return -1;
    snprintf(bin, sizeof(bin), "%s/node_modules/.bin/anvil", src);
    if ((n->port = evt_free_port()) < 0)
        return -1;
    snprintf(port, sizeof(port), "%d", n->port);
    snprintf(n->http, sizeof(n->http), "http://127.0.0.1:%d", n->port);
    snprintf(n->ws, sizeof(n->ws), "ws://127.0.0.1:%d", n->port);
    n->pid = fork();
    if (n->pid < 0)
        return -1;
    if (n->pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        char *argv[] = {bin, "--host", "127.0.0.1", "--port", port, NULL};

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* die with the test */
        if (getppid() != parent)
            _exit(1);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin, argv);
        _exit(127);
    }
    return 0;
}

static __attribute__((unused)) void
evt_anvil_kill(struct evt_anvil *n)
{
    if (n->pid > 0) {
        kill(n->pid, SIGKILL);
        while (waitpid(n->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    n->pid = 0;
}

/* ---- running the loop until something holds ---- */

typedef bool (*evt_pred)(void *arg);

struct evt_until {
    evt_pred pred;
    void *arg;
    bool expired;
};

static __attribute__((unused)) void
evt_on_deadline(uv_timer_t *t)
{
    struct evt_until *u = t->data;

    u->expired = true;
    uv_stop(t->loop);
}

/* Checked before the loop would block. */
static __attribute__((unused)) void
evt_on_prepare(uv_prepare_t *p)
{
    struct evt_until *u = p->data;

    if (u->pred(u->arg))
        uv_stop(p->loop);
}

/* Run `loop` until pred(arg) or `ms` pass. Returns: whether pred held. */
static __attribute__((unused)) bool
evt_run_until(uv_loop_t *loop, evt_pred pred, void *arg, uint64_t ms)
{
    struct evt_until u = {.pred = pred, .arg = arg};
    uv_timer_t t;
    uv_prepare_t p;

    uv_timer_init(loop, &t);
    uv_prepare_init(loop, &p);
    t.data = p.data = &u;
    uv_timer_start(&t, evt_on_deadline, ms, 0);
    uv_prepare_start(&p, evt_on_prepare);
    while (!pred(arg) && !u.expired)
        uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_close((uv_handle_t *)&p, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return pred(arg);
}

struct evt_count {
    const int *v;
    int target;
};

static __attribute__((unused)) bool
evt_count_reached(void *arg)
{
    const struct evt_count *c = arg;

    return *c->v >= c->target;
}

/* Run until *v >= target or ms pass. */
static __attribute__((unused)) bool
evt_run_count(uv_loop_t *loop, const int *v, int target, uint64_t ms)
{
    struct evt_count c = {v, target};

    return evt_run_until(loop, evt_count_reached, &c, ms);
}

/* Let every closing handle finish (5 s at most: lws closes its context
 * over a few loop turns); Returns: uv_loop_close's result. */
static __attribute__((unused)) int
evt_drain(uv_loop_t *loop)
{
    uv_timer_t wake;
    uint64_t end;

    /* An unreferenced timer wakes the loop without keeping it alive. */
    uv_timer_init(loop, &wake);
    uv_timer_start(&wake, (uv_timer_cb)uv_timer_stop, 10, 10);
    uv_unref((uv_handle_t *)&wake);
    uv_update_time(loop);
    end = uv_now(loop) + 5000;
    while (uv_loop_alive(loop) && uv_now(loop) < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&wake, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (getenv("EVT_DEBUG"))
        uv_print_all_handles(loop, stderr);
    return uv_loop_close(loop);
}

/* ---- synchronous calls for the test's own steps ---- */

struct evt_call {
    int done;
    int err;
    char result[4096];
};

static __attribute__((unused)) void
evt_call_cb(void *arg, const cJSON *result, const struct rpc_status *st)
{
    struct evt_call *c = arg;

    c->done = 1;
    c->err = st->err;
    c->result[0] = '\0';
    if (result != NULL) {
        char *s = cJSON_PrintUnformatted(result);

        snprintf(c->result, sizeof(c->result), "%s", s);
        free(s);
    } else {
        snprintf(c->result, sizeof(c->result), "%s", st->text);
    }
}

/* Call and wait (15 s at most). Returns: the error (0) and the result as
 * JSON text in out (cap bytes). */
static __attribute__((unused)) int
evt_rpc(uv_loop_t *loop, struct rpc_client *c, const char *method,
        const char *params, char *out, size_t cap)
{
    struct evt_call k = {0};

    if (rpc_call(c, method, params, NULL, evt_call_cb, &k, NULL) != 0)
        return -1;
    if (!evt_run_count(loop, &k.done, 1, 15000))
        return KP_ETIMEOUT;
    if (out != NULL)
        snprintf(out, cap, "%s", k.result);
    return k.err;
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

/* Wait until anvil answers. Returns: 0 or -1. */
static __attribute__((unused)) int
evt_anvil_wait(struct evt_anvil *n)
{
    uv_loop_t loop;
    struct rpc_client *c = NULL;
    struct rpc_endpoint_cfg ep = {.url = n->http};
    struct rpc_opts o;
    char out[64];
    int rc = -1;

    rpc_opts_init(&o);
    o.head_poll_ms = 0;
    o.max_attempts = 100;
    o.backoff_base_ms = 20;
    o.backoff_max_ms = 100;
    o.seed = 7;
    uv_loop_init(&loop);
    if (rpc_client_new(&c, &loop, NULL, &ep, 1, &o) == 0) {
        if (evt_rpc(&loop, c, "eth_chainId", NULL, out, sizeof(out)) == 0)
            rc = 0;
        rpc_client_free(c);
    }
    evt_drain(&loop);
    return rc;
}

#endif
