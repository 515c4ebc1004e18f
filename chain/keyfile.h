/*
 * keyfile.h - load a raw secp256k1 private key for the CLI and signer.
 *
 * Sources, in order: a key file (64 hex digits, optional 0x, surrounding
 * whitespace allowed), refused when readable or writable by group or
 * others; or the KEEPER_PRIVATE_KEY environment variable. Never argv.
 * The key is validated (0 < k < n) and every temporary copy is wiped.
 */
#ifndef KP_CHAIN_KEYFILE_H
#define KP_CHAIN_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_ENV "KEEPER_PRIVATE_KEY"
#define KEYFILE_MAX 4096 /* bytes read from a key file at most */

/* Load a key from `path`, or from $KEEPER_PRIVATE_KEY when path is NULL.
 * Returns: 0; KP_EPERM (file mode too open); KP_EIO (cannot read);
 *          KP_ENOTFOUND (no path and no variable); KP_EINVAL (not 32
 *          bytes of hex); KP_ECRYPTO (not a valid secp256k1 key).
 *          On error a one-line reason is written to err.
 * Out: key, err   In: path, errcap */
int keyfile_load(uint8_t key[32], char *err, size_t errcap, const char *path);

/* Parse 64 hex digits (optional 0x, surrounding whitespace) as a key.
 * Returns: 0, KP_EINVAL, KP_ECRYPTO (zero or >= curve order). */
int keyfile_parse(uint8_t key[32], const char *s, size_t len);

#endif
