/*
 * cli_signer.c - `keeper signer-address` (see cli_signer.h).
 */
#include "keeper/cli_signer.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chain/address.h"
#include "chain/err.h"
#include "chain/keyfile.h"
#include "chain/signer.h"
#include "keeper/cli.h"

#define SIGNER_USAGE                                                           \
    "usage: keeper signer-address --keystore PATH (--password-file PATH | "    \
    "--password-env NAME) | --key-file PATH | --key-env NAME"

struct signer_args {
    const char *keystore, *password_file, *password_env;
    const char *key_file, *key_env;
};

/* Returns: -1 to go on, or an exit status. */
static int
parse_args(struct signer_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"keystore", required_argument, NULL, 'k'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"key-file", required_argument, NULL, 'f'},
        {"key-env", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 0; /* full re-initialisation (GNU) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a->keystore = optarg;
            break;
        case 'p':
            a->password_file = optarg;
            break;
        case 'P':
            a->password_env = optarg;
            break;
        case 'f':
            a->key_file = optarg;
            break;
        case 'e':
            a->key_env = optarg;
            break;
        case 'h':
            return puts(SIGNER_USAGE), CLI_EXIT_OK;
        default:
            return cli_error("signer-address: bad option '%s'; %s",
                             argv[optind - 1], SIGNER_USAGE);
        }
    }
    if (optind != argc)
        return cli_error("signer-address: unexpected argument '%s'",
                         argv[optind]);
    return -1;
}

/* Turn the arguments into signer options (exactly one source). */
static int
build_opts(struct signer_opts *o, const struct signer_args *a)
{
    int sources = !!a->keystore + !!a->key_file + !!a->key_env;

    memset(o, 0, sizeof(*o));
    if (sources > 1)
        return cli_error("signer-address: give one of --keystore, "
                         "--key-file, --key-env");
    if (!a->keystore && (a->password_file || a->password_env))
        return cli_error("signer-address: a password needs --keystore");
    if (a->keystore && !!a->password_file == !!a->password_env)
        return cli_error("signer-address: --keystore needs exactly one of "
                         "--password-file, --password-env");
    if (a->keystore) {
        o->source = SIGNER_SRC_KEYSTORE;
        o->path = a->keystore;
        o->pw_source = a->password_file ? SIGNER_PW_FILE : SIGNER_PW_ENV;
        o->pw_ref = a->password_file ? a->password_file : a->password_env;
    } else if (a->key_file) {
        o->source = SIGNER_SRC_KEY_FILE;
        o->path = a->key_file;
    } else {
        o->source = SIGNER_SRC_ENV;
        o->env_name = a->key_env; /* NULL: KEEPER_PRIVATE_KEY */
    }
    return -1;
}

static void
report_warnings(unsigned warnings, const struct signer_opts *o)
{
    if (warnings & SIGNER_WARN_ENV_KEY)
        cli_warn("signer: key taken from environment variable %s; prefer "
                 "a keystore or a key file",
                 o->env_name ? o->env_name : KEYFILE_ENV);
    if (warnings & SIGNER_WARN_NO_MLOCK)
        cli_warn("signer: cannot lock key memory (mlock); raise "
                 "RLIMIT_MEMLOCK so keys cannot be swapped out");
}

int
cli_signer_address(int argc, char **argv)
{
    struct signer_args a = {0};
    struct signer_opts o;
    struct signer *s;
    struct eth_addr addr;
    char err[512], text[ETH_ADDR_STR_LEN];
    unsigned warnings = 0;
    int rc;

    if ((rc = parse_args(&a, argc, argv)) >= 0 ||
        (rc = build_opts(&o, &a)) >= 0)
        return rc;
    if ((rc = signer_open(&s, &warnings, err, sizeof(err), &o)) != 0) {
        cli_error("signer-address: %s", err);
        return CLI_EXIT_FAIL;
    }
    report_warnings(warnings, &o);
    addr = signer_address(s);
    signer_free(s);
    eth_addr_to_checksum(text, &addr);
    puts(text);
    return CLI_EXIT_OK;
}
