/*
 * cli_config.h - the configuration subcommands (conventions in cli.h):
 *
 *   keeper check-config -c FILE|DIR [--no-secrets]
 *       "configuration OK" on stdout and exit 0, or every error as
 *       "FILE:LINE:COL: message" on stderr and exit 1.
 *   keeper print-config -c FILE|DIR [--no-secrets]
 *       the normalized configuration as YAML on stdout, secrets shown as
 *       "<redacted: env:NAME>"; errors as check-config.
 *
 * --no-secrets checks ${env:...} / ${file:...} references for syntax only
 * (for CI, away from the secrets). Usage errors exit 2.
 */
#ifndef KP_KEEPER_CLI_CONFIG_H
#define KP_KEEPER_CLI_CONFIG_H

/* Returns: the process exit status. argv[0] is the subcommand's name. */
int cli_check_config(int argc, char **argv);
int cli_print_config(int argc, char **argv);

#endif
