/*
 * anvil.h - a local anvil node per test group: started from the pinned
 * node_modules/.bin/anvil on a free port of 127.0.0.1, waited for until
 * it answers, killed and reaped by pid at the end.
 */
#ifndef KP_TESTS_SUPPORT_ANVIL_H
#define KP_TESTS_SUPPORT_ANVIL_H

#include <stdint.h>
#include <sys/types.h>

#define TS_ANVIL_CHAIN_ID "0x7a69" /* anvil's default, 31337 */
#define TS_ANVIL_WAIT_MS 30000     /* a loaded machine starts it slowly */

struct ts_anvil {
    pid_t pid; /* 0: not running */
    int port;
    char http[64]; /* http://127.0.0.1:<port> */
    char ws[64];   /* ws://127.0.0.1:<port> */
};

/* Start anvil on a free port, with the `extra` arguments (a NULL-terminated
 * list, or NULL); its output goes to /dev/null. Does not wait for it:
 * start several, then wait for each.
 * Returns: 0, or -1.   Out: *n */
int ts_anvil_spawn(struct ts_anvil *n, const char *const *extra);

/* Wait until `n` answers eth_chainId with TS_ANVIL_CHAIN_ID, `ms` at most.
 * Returns: 0, or -1 (with the reason on stderr). */
int ts_anvil_wait(const struct ts_anvil *n, uint64_t ms);

/* ts_anvil_spawn, then ts_anvil_wait for TS_ANVIL_WAIT_MS.
 * Returns: 0, or -1 (the node is then stopped again). */
int ts_anvil_start(struct ts_anvil *n, const char *const *extra);

/* Kill and reap the node, if running. */
void ts_anvil_stop(struct ts_anvil *n);

#endif
