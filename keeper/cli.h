/*
 * cli.h - the command-line front end: one handler per subcommand.
 *
 * Conventions shared by every subcommand:
 *   - options are parsed with getopt_long; "--" ends them, so values that
 *     start with '-' (negative numbers) can follow;
 *   - a private key never comes from argv: a keystore (its password from a
 *     file or a named variable), a key file (refused if readable by group
 *     or others) or a named environment variable (KEEPER_PRIVATE_KEY by
 *     default) - the options of keeper/cli_key.h;
 *   - results go to stdout, one per line; errors are one line
 *     "keeper: error: ..." on stderr;
 *   - exit status: 0 success, 1 failure of the operation (e.g. invalid
 *     configuration found), 2 bad input or usage.
 */
#ifndef KP_KEEPER_CLI_H
#define KP_KEEPER_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* Print "keeper: error: <fmt>" and a newline on stderr.
 * Returns: CLI_EXIT_USAGE, so handlers can `return cli_error(...)`. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "keeper: warning: <fmt>" and a newline on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Subcommand handlers. argv[0] is the subcommand's own name.
 * Returns: the process exit status. */
int cli_keccak(int argc, char **argv);
int cli_abi(int argc, char **argv);
int cli_tx(int argc, char **argv);
int cli_address(int argc, char **argv);

#endif
