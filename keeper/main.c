/*
 * main.c - entry point: dispatch to a subcommand handler (cli.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "keeper/cli.h"
#include "keeper/cli_key.h"
#include "keeper/cli_config.h"
#include "keeper/version.h"
#include "keeper/cli_run.h"
#include "keeper/cli_signer.h"

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct subcommand subcommands[] = {
    {"keccak", cli_keccak, "keccak HEX|TEXT"},
    {"abi", cli_abi, "abi encode SIG [ARGS...] | abi decode SIG HEX"},
    {"tx", cli_tx, "tx sign OPTIONS [-- SIG ARGS...] | tx decode HEX"},
    {"address", cli_address, "address [" CLI_KEY_USAGE "]"},
    {"run", cli_run,
     "run -c FILE|DIR [--once] [--dry-run] [--state-dir DIR] "
     "[--log-format text|json] [--log-level LEVEL]"},
    {"check-config", cli_check_config,
     "check-config -c FILE|DIR [--no-secrets]"},
    {"print-config", cli_print_config,
     "print-config -c FILE|DIR [--no-secrets]"},
    {"signer-address", cli_signer_address, "signer-address " CLI_KEY_USAGE},
};

#define NSUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void
usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: keeper COMMAND [ARGS...]\n\ncommands:\n");
    for (i = 0; i < NSUBCOMMANDS; i++)
        fprintf(f, "  keeper %s\n", subcommands[i].usage);
    fprintf(f, "  keeper --version\n");
}

int
main(int argc, char **argv)
{
    size_t i;

    /* Keys may pass through this process's memory: keep it out of core
     * dumps and away from ptrace by other users. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    if (argc < 2)
        return usage(stderr), CLI_EXIT_USAGE;
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))
        return puts("keeper " KEEPER_VERSION), CLI_EXIT_OK;
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout), CLI_EXIT_OK;
    for (i = 0; i < NSUBCOMMANDS; i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'keeper --help')", argv[1]);
    return CLI_EXIT_USAGE;
}
