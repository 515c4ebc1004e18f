/*
 * err.h - the one table of error codes shared by every module.
 *
 * A fallible function returns int: 0 on success or one of the negative
 * KP_E* codes below. Misuse by the programmer (NULL where a pointer is
 * required, an impossible enum) is an assertion, not an error code.
 * Out of memory is fatal (see kp_xmalloc).
 */
#ifndef KP_CHAIN_ERR_H
#define KP_CHAIN_ERR_H

#include <stddef.h>

enum kp_err {
    KP_OK = 0,
    KP_EINVAL = -1,     /* malformed input (syntax, encoding)            */
    KP_ERANGE = -2,     /* value out of range, or output buffer too small */
    KP_EOVERFLOW = -3,  /* arithmetic overflow                            */
    KP_ETRUNC = -4,     /* input ends before the data it announces        */
    KP_ETRAILING = -5,  /* bytes left over after a complete item          */
    KP_ENONCANON = -6,  /* non-canonical encoding (RLP, ABI padding)      */
    KP_ECRYPTO = -7,    /* signing, recovery or key validation failed     */
    KP_ECHECKSUM = -8,  /* EIP-55 or MAC checksum mismatch                */
    KP_ELIMIT = -9,     /* a size, depth or count cap was reached         */
    KP_EIO = -10,       /* file or system call failed (errno kept)        */
    KP_EPERM = -11,     /* permissions refused (e.g. key file mode)       */
    KP_ETIMEOUT = -12,  /* a deadline passed                              */
    KP_ETRANSPORT = -13,/* connection-level failure                       */
    KP_EHTTP = -14,     /* HTTP status other than 2xx                     */
    KP_ERPC = -15,      /* JSON-RPC error object                          */
    KP_ESTALE = -16,    /* data older than its allowed age                */
    KP_EREVERT = -17,   /* a call or transaction reverted                 */
    KP_ENOTFOUND = -18, /* no such item                                   */
    KP_EUNSUPPORTED = -19, /* well-formed but not supported               */
    KP_ECONFIG = -20,   /* configuration invalid                          */
    KP_ESTATE = -21,    /* operation not allowed in the current state     */
};

/* Returns: a static one-line description of `err` (never NULL). */
const char *kp_strerror(int err);

/* malloc/calloc/realloc/strdup that abort with a message on OOM.
 * Returns: never NULL. */
void *kp_xmalloc(size_t n);
void *kp_xcalloc(size_t n, size_t size);
void *kp_xrealloc(void *p, size_t n);
char *kp_xstrdup(const char *s);

/* Overwrite `n` bytes at `p` with zeros in a way the compiler keeps. */
void kp_wipe(void *p, size_t n);

#endif
