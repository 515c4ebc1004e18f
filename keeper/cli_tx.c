/* cli_tx.c - placeholder until the transaction unit lands. */
#include "keeper/cli.h"

int
cli_tx(int argc, char **argv)
{
    return cli_error("tx: not implemented yet");
}

int
cli_address(int argc, char **argv)
{
    return cli_error("address: not implemented yet");
}
