#include "keeper/cli.h"

#include <stdarg.h>
#include <stdio.h>

static void
cli_vprint(const char *what, const char *fmt, va_list ap)
{
    fprintf(stderr, "keeper: %s: ", what);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int
cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_vprint("error", fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

void
cli_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_vprint("warning", fmt, ap);
    va_end(ap);
}
