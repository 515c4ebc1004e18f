/*
 * cli_key.h - the signing-key options every subcommand that needs a key
 * shares, so they all take the same key sources with the same errors:
 *
 *   --keystore PATH (--password-file PATH | --password-env NAME)
 *   | --key-file PATH
 *   | --key-env NAME
 *
 * With none of them the key comes from $KEEPER_PRIVATE_KEY (warned).
 * Option values are paths and variable NAMES only: a key or a password
 * never travels in argv, and nothing here prints one.
 *
 * Use: splice CLI_KEY_LONGOPTS into the subcommand's getopt_long table,
 * store every option cli_key_slot knows into a struct cli_key_args, then
 * cli_key_opts (validate) and cli_key_open (load, report warnings).
 */
#ifndef KP_KEEPER_CLI_KEY_H
#define KP_KEEPER_CLI_KEY_H

#include <getopt.h>

#include "chain/signer.h"

/* getopt_long values of the key options: above every character, so they
 * never clash with a subcommand's own short-option letters. */
#define CLI_KEY_OPT_KEYSTORE 0x1001
#define CLI_KEY_OPT_PASSWORD_FILE 0x1002
#define CLI_KEY_OPT_PASSWORD_ENV 0x1003
#define CLI_KEY_OPT_KEY_FILE 0x1004
#define CLI_KEY_OPT_KEY_ENV 0x1005

/* Entries for a `struct option` table (no terminator). */
/* clang-format off */
#define CLI_KEY_LONGOPTS                                                       \
    {"keystore", required_argument, NULL, CLI_KEY_OPT_KEYSTORE},               \
    {"password-file", required_argument, NULL, CLI_KEY_OPT_PASSWORD_FILE},     \
    {"password-env", required_argument, NULL, CLI_KEY_OPT_PASSWORD_ENV},       \
    {"key-file", required_argument, NULL, CLI_KEY_OPT_KEY_FILE},               \
    {"key-env", required_argument, NULL, CLI_KEY_OPT_KEY_ENV}
/* clang-format on */

/* The key options for usage texts. */
#define CLI_KEY_USAGE                                                          \
    "--keystore PATH (--password-file PATH | --password-env NAME) | "          \
    "--key-file PATH | --key-env NAME"

/* The key options as given (NULL when absent); the strings are argv's. */
struct cli_key_args {
    const char *keystore, *password_file, *password_env;
    const char *key_file, *key_env;
};

/* Returns: where the value of getopt_long result `c` belongs in `a`, or
 *          NULL if `c` is not a key option. */
const char **cli_key_slot(struct cli_key_args *a, int c);

/* Check that `a` names one key source and turn it into signer options.
 * `cmd` (e.g. "tx sign") prefixes the error line.
 * Returns: 0, or CLI_EXIT_USAGE after printing the error.
 * Out: o (its strings point into a)   In: cmd, a */
int cli_key_opts(struct signer_opts *o, const char *cmd,
                 const struct cli_key_args *a);

/* Load the key as `o` says (signer_open) and warn about what signer_open
 * reports (key from the environment, no mlock).
 * Returns: 0, or signer_open's KP_E* code after printing "<cmd>: <why>".
 * Out: *out (signer_free it)   In: cmd, o */
int cli_key_open(struct signer **out, const char *cmd,
                 const struct signer_opts *o);

#endif
