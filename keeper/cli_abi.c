/* cli_abi.c - placeholder until the ABI unit lands. */
#include "keeper/cli.h"

int
cli_abi(int argc, char **argv)
{
    return cli_error("abi: not implemented yet");
}
