/*
 * cli_keccak.c - `keeper keccak HEX|TEXT`: Keccak-256 of the bytes of a
 * 0x-prefixed hex argument, or of the argument's text otherwise (as cast).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/keccak.h"
#include "keeper/cli.h"

int
cli_keccak(int argc, char **argv)
{
    const char *in;
    size_t len, n;
    uint8_t digest[32], *buf;
    char out[67];
    int rc;

    if (argc == 3 && !strcmp(argv[1], "--"))
        argv++, argc--;
    if (argc != 2)
        return cli_error("usage: keeper keccak HEX|TEXT");
    in = argv[1];
    len = strlen(in);
    if (!hex_has_prefix(in, len)) {
        keccak256(digest, (const uint8_t *)in, len);
    } else {
        buf = kp_xmalloc(len / 2 + 1);
        rc = hex_decode(buf, len / 2 + 1, &n, in, len);
        if (rc == 0)
            keccak256(digest, buf, n);
        free(buf);
        if (rc != 0)
            return cli_error("keccak: '%s' is not valid hex: %s", in,
                             kp_strerror(rc));
    }
    hex_encode(out, sizeof(out), digest, 32, true);
    puts(out);
    return CLI_EXIT_OK;
}
