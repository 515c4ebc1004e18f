/*
 * daemon.h - `keeper run`: the long-running process.
 *
 * One thread, one libuv loop. On it: per protocol an rpc client, a head
 * source and the signer; the metrics/health HTTP server (httpd.h); a
 * timer that copies rpc counters into the metrics registry; and the
 * signal handlers:
 *
 *   SIGTERM, SIGINT  stop: timers stopped, clients, server and keys freed,
 *                    the loop run until every handle is closed, exit 0;
 *                    a second signal exits at once (status 1)
 *   SIGHUP           reload: the new configuration is loaded, validated
 *                    and its runtimes built before anything is replaced;
 *                    on any error the old configuration stays in force
 *
 * Readiness (/readyz): every protocol has verified its chain id and has a
 * head received from a healthy endpoint (not resting after failures, not
 * lagging) within max(3 x chain.poll_interval, 30 s).
 *
 * With `once`, no HTTP server is started and no alert is sent: one head
 * (and the chain id) is fetched per protocol, the protocol is evaluated
 * once at that head (after the first oracle read), any action decided is
 * simulated only, a summary line and a decision line per protocol are
 * printed on stdout, and the process exits 0 if every protocol got its
 * chain id and head, else 1 (as before the evaluation existed).
 */
#ifndef KP_KEEPER_DAEMON_H
#define KP_KEEPER_DAEMON_H

#include <stdbool.h>

#include "keeper/log.h"

struct daemon_opts {
    const char *config_path; /* file or directory (cfg_load) */
    const char *version;     /* shown in /status and keeper_build_info */
    bool once;
    bool dry_run; /* never send a transaction: simulate and log */
    /* Where state is kept across restarts (the transaction journal,
     * DIR/<protocol>.journal); NULL: nowhere, no journal. */
    const char *state_dir;
    /* Command-line overrides of the log section; they stay in force
     * across reloads. */
    bool log_level_set;
    enum log_level log_level;
    bool log_format_set;
    enum log_format log_format;
};

/* Load the configuration and run until stopped (or, with o->once, until
 * the single evaluation is done). Configuration errors are printed on
 * stderr as "FILE:LINE:COL: message" lines.
 * Returns: the process exit status: 0, or 1 (invalid configuration, a
 *          runtime that cannot start, or a failed --once). */
int daemon_run(const struct daemon_opts *o);

#endif
