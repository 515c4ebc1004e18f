/*
 * cli_signer.c - `keeper signer-address` (see cli_signer.h).
 */
#include "keeper/cli_signer.h"

#include <getopt.h>
#include <stdio.h>

#include "chain/address.h"
#include "chain/signer.h"
#include "keeper/cli.h"
#include "keeper/cli_key.h"

#define SIGNER_USAGE "usage: keeper signer-address " CLI_KEY_USAGE

#define SIGNER_CMD "signer-address"

/* Returns: -1 to go on, or an exit status. */
static int
parse_args(struct cli_key_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_KEY_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **slot;
    int c;

    optind = 0; /* full re-initialisation (GNU) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((slot = cli_key_slot(a, c)) != NULL)
            *slot = optarg;
        else if (c == 'h')
            return puts(SIGNER_USAGE), CLI_EXIT_OK;
        else
            return cli_error(SIGNER_CMD ": bad option '%s'; %s",
                             argv[optind - 1], SIGNER_USAGE);
    }
    if (optind != argc)
        return cli_error(SIGNER_CMD ": unexpected argument '%s'", argv[optind]);
    return -1;
}

int
cli_signer_address(int argc, char **argv)
{
    struct cli_key_args a = {0};
    struct signer_opts o;
    struct signer *s;
    struct eth_addr addr;
    char text[ETH_ADDR_STR_LEN];
    int rc;

    if ((rc = parse_args(&a, argc, argv)) >= 0)
        return rc;
    if ((rc = cli_key_opts(&o, SIGNER_CMD, &a)) != 0)
        return rc;
    if (cli_key_open(&s, SIGNER_CMD, &o) != 0)
        return CLI_EXIT_FAIL;
    addr = signer_address(s);
    signer_free(s);
    eth_addr_to_checksum(text, &addr);
    puts(text);
    return CLI_EXIT_OK;
}
