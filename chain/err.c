#include "chain/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kp_errtab[] = {
    [0] = "success",
    [1] = "invalid input",
    [2] = "out of range",
    [3] = "arithmetic overflow",
    [4] = "input truncated",
    [5] = "trailing bytes after item",
    [6] = "non-canonical encoding",
    [7] = "cryptographic operation failed",
    [8] = "checksum mismatch",
    [9] = "size or depth limit reached",
    [10] = "I/O error",
    [11] = "permission refused",
    [12] = "timed out",
    [13] = "transport failure",
    [14] = "HTTP error status",
    [15] = "JSON-RPC error",
    [16] = "stale data",
    [17] = "execution reverted",
    [18] = "not found",
    [19] = "unsupported",
    [20] = "invalid configuration",
    [21] = "not allowed in current state",
};

const char *
kp_strerror(int err)
{
    size_t i = (size_t)(err < 0 ? -err : err);

    if (i >= sizeof(kp_errtab) / sizeof(kp_errtab[0]) || !kp_errtab[i])
        return "unknown error";
    return kp_errtab[i];
}

static void
kp_oom(size_t n)
{
    fprintf(stderr, "keeper: fatal: out of memory (%zu bytes)\n", n);
    abort();
}

void *
kp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        kp_oom(n);
    return p;
}

void *
kp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        kp_oom(n * size);
    return p;
}

void *
kp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        kp_oom(n);
    return q;
}

char *
kp_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = kp_xmalloc(n);

    memcpy(p, s, n);
    return p;
}

void
kp_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
