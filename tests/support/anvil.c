/* A local anvil node per test group: see anvil.h. */
#include "tests/support/anvil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "chain/rpc.h"
#include "tests/support/proc.h"
#include "tests/support/rpcsync.h"
#include "tests/support/uvrun.h"

#define MAX_EXTRA 8

int
ts_anvil_spawn(struct ts_anvil *n, const char *const *extra)
{
    char bin[4096], port[16];
    char *argv[6 + MAX_EXTRA] = {bin, "--host", "127.0.0.1", "--port", port};
    size_t argc = 5;

    memset(n, 0, sizeof(*n));
    if (ts_source_path(bin, sizeof(bin), "node_modules/.bin/anvil") != 0 ||
        (n->port = ts_free_port()) < 0)
        return -1;
    for (; extra && *extra; extra++) {
        if (argc == 5 + MAX_EXTRA)
            return -1;
        argv[argc++] = (char *)*extra;
    }
    snprintf(port, sizeof(port), "%d", n->port);
    snprintf(n->http, sizeof(n->http), "http://127.0.0.1:%d", n->port);
    snprintf(n->ws, sizeof(n->ws), "ws://127.0.0.1:%d", n->port);
    n->pid = ts_spawn(argv, NULL);
    return n->pid > 0 ? 0 : -1;
}

/* One eth_chainId, retried by the client while anvil is not listening.
 * Returns: 0 with anvil's chain id, KP_ETIMEOUT, or another error. */
static int
ask_chain_id(uv_loop_t *loop, struct rpc_client *c, uint64_t ms, char *why,
             size_t cap)
{
    struct ts_rpc_reply r;
    int rc = ts_rpc_call(&r, loop, c, "eth_chainId", NULL, ms);

    if (rc == 0 && !(cJSON_IsString(r.result) &&
                     strcmp(r.result->valuestring, TS_ANVIL_CHAIN_ID) == 0))
        rc = -1;
    snprintf(why, cap, "%s", rc == -1 ? "not anvil's chain id" : r.text);
    ts_rpc_reply_cleanup(&r);
    return rc;
}

int
ts_anvil_wait(const struct ts_anvil *n, uint64_t ms)
{
    uv_loop_t loop;
    struct rpc_client *c = NULL;
    char why[256] = "no client";
    uint64_t end;
    int rc = -1;

    if (uv_loop_init(&loop) != 0)
        return -1;
    end = uv_now(&loop) + ms;
    /* Each call is retried on refused connections; a call that still
     * fails (the node slower than the retries) is made again. */
    if (ts_rpc_client_new(&c, &loop, n->http, 100) == 0)
        do
            rc = ask_chain_id(&loop, c, end - uv_now(&loop), why, sizeof(why));
        while (rc != 0 && rc != -1 && uv_now(&loop) < end);
    rpc_client_free(c);
    ts_loop_close(&loop);
    if (rc != 0)
        fprintf(stderr, "anvil on port %d did not answer: %s\n", n->port, why);
    return rc == 0 ? 0 : -1;
}

int
ts_anvil_start(struct ts_anvil *n, const char *const *extra)
{
    if (ts_anvil_spawn(n, extra) != 0 ||
        ts_anvil_wait(n, TS_ANVIL_WAIT_MS) != 0) {
        ts_anvil_stop(n);
        return -1;
    }
    return 0;
}

void
ts_anvil_stop(struct ts_anvil *n)
{
    ts_kill(&n->pid, SIGKILL);
}
