/*
 * cli_run.h - `keeper run`, the daemon (conventions in cli.h; the daemon
 * itself is daemon.h):
 *
 *   keeper run -c FILE|DIR [--once] [--dry-run]
 *              [--log-format text|json] [--log-level debug|info|warn|error]
 *
 * --log-format and --log-level override the config's log section, also
 * after a reload. Exit status: 0 (stopped by SIGTERM/SIGINT, or --once
 * succeeded), 1 (invalid configuration, cannot start, --once failed), 2
 * (usage).
 */
#ifndef KP_KEEPER_CLI_RUN_H
#define KP_KEEPER_CLI_RUN_H

/* Returns: the process exit status. argv[0] is the subcommand's name. */
int cli_run(int argc, char **argv);

#endif
