/*
 * proc.h - child processes and loopback ports for tests.
 *
 * Tests start their own helpers (anvil, solcjs, node) and must never leave
 * one running: a child started here gets PR_SET_PDEATHSIG, so it dies with
 * the test whatever ends the test, and the test stops and reaps it by pid.
 */
#ifndef KP_TESTS_SUPPORT_PROC_H
#define KP_TESTS_SUPPORT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TS_FD_KEEP (-1) /* the child inherits the test's descriptor */
#define TS_FD_NULL (-2) /* the child gets /dev/null */

struct ts_spawn_opts {
    const char *dir;  /* the child's working directory; NULL: the test's */
    int in, out, err; /* the child's 0, 1, 2: a descriptor, TS_FD_KEEP or
                         TS_FD_NULL */
    bool path_search; /* look argv[0] up in PATH */
};

/* Defaults: stdin kept, stdout and stderr to /dev/null (a chatty helper
 * must not bury the test's own output), the test's directory, argv[0] a
 * path.   Out: o */
void ts_spawn_opts_init(struct ts_spawn_opts *o);

/* Start argv[0] with arguments argv (NULL-terminated) as a child that dies
 * with the test. Descriptors given in `o` should be close-on-exec: the
 * child gets its copies as 0, 1, 2 only.
 * Returns: the child's pid, or -1.   In: argv, o (NULL: the defaults) */
pid_t ts_spawn(char *const argv[], const struct ts_spawn_opts *o);

/* Wait for child `pid` to end (EINTR is retried).
 * Returns: its exit status, or -1 if a signal ended it or it cannot be
 * waited for. */
int ts_reap(pid_t pid);

/* Send `sig` to child *pid and reap it; *pid becomes 0. Nothing happens
 * when *pid <= 0, so teardowns may call it whether or not setup got as far
 * as starting the child.   In/Out: *pid */
void ts_kill(pid_t *pid, int sig);

/* A socket bound to a port of 127.0.0.1 that never listens: connecting to
 * the port is refused, and no one else takes it while the socket is open.
 * Returns: the socket (close it), or -1.   Out: *port */
int ts_refusing_port(int *port);

/* Returns: a TCP port of 127.0.0.1 that was free a moment ago, or -1. */
int ts_free_port(void);

/* The path of `rel` in the source tree: $KP_SOURCE_DIR/rel (ctest sets
 * KP_SOURCE_DIR for every test).
 * Returns: 0, or -1 if KP_SOURCE_DIR is unset or the path does not fit.
 * Out: out (cap bytes)   In: rel */
int ts_source_path(char *out, size_t cap, const char *rel);

#endif
