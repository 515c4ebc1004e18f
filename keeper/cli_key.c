/*
 * cli_key.c - the signing-key options of the subcommands (see cli_key.h).
 */
#include "keeper/cli_key.h"

#include <assert.h>
#include <string.h>

#include "chain/err.h"
#include "chain/keyfile.h"
#include "keeper/cli.h"

const char **
cli_key_slot(struct cli_key_args *a, int c)
{
    assert(a != NULL);
    switch (c) {
    case CLI_KEY_OPT_KEYSTORE:
        return &a->keystore;
    case CLI_KEY_OPT_PASSWORD_FILE:
        return &a->password_file;
    case CLI_KEY_OPT_PASSWORD_ENV:
        return &a->password_env;
    case CLI_KEY_OPT_KEY_FILE:
        return &a->key_file;
    case CLI_KEY_OPT_KEY_ENV:
        return &a->key_env;
    default:
        return NULL;
    }
}

int
cli_key_opts(struct signer_opts *o, const char *cmd,
             const struct cli_key_args *a)
{
    int sources = !!a->keystore + !!a->key_file + !!a->key_env;

    assert(o != NULL && cmd != NULL && a != NULL);
    memset(o, 0, sizeof(*o));
    if (sources > 1)
        return cli_error("%s: give one of --keystore, --key-file, --key-env",
                         cmd);
    if (!a->keystore && (a->password_file || a->password_env))
        return cli_error("%s: a password needs --keystore", cmd);
    if (a->keystore && !!a->password_file == !!a->password_env)
        return cli_error("%s: --keystore needs exactly one of "
                         "--password-file, --password-env",
                         cmd);
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
    return 0;
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
cli_key_open(struct signer **out, const char *cmd, const struct signer_opts *o)
{
    char err[512];
    unsigned warnings = 0;
    int rc;

    assert(out != NULL && cmd != NULL && o != NULL);
    /* err holds paths and variable names, never key or password bytes
     * (signer.h), so it may be printed. */
    if ((rc = signer_open(out, &warnings, err, sizeof(err), o)) != 0) {
        cli_error("%s: %s", cmd, err);
        return rc;
    }
    report_warnings(warnings, o);
    return 0;
}
