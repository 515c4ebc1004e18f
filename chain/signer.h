/*
 * signer.h - the keeper's signing key: loaded once, held in locked memory
 * (secmem.h), used only through signer_sign_digest, wiped by signer_free.
 *
 * Sources:
 *   - a Web3 Secret Storage v3 keystore (keystore.h) with its password read
 *     from a file or an environment variable;
 *   - a raw key file (keyfile.h: 64 hex digits, refused when group or
 *     others may access it);
 *   - an environment variable holding the hex key: allowed for containers
 *     and CI, but the environment leaks easily (/proc/PID/environ to the
 *     same user, child processes, crash reporters), so the caller is told
 *     to log a warning (SIGNER_WARN_ENV_KEY).
 * The key never appears in argv, logs or error texts. The process is
 * expected to have set PR_SET_DUMPABLE to 0 (main does); the key pages are
 * also excluded from core dumps on their own (MADV_DONTDUMP).
 */
#ifndef KP_CHAIN_SIGNER_H
#define KP_CHAIN_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "chain/address.h"
#include "chain/ecdsa.h"

struct signer;

/* Where the key comes from. */
enum signer_source {
    SIGNER_SRC_KEYSTORE = 1,
    SIGNER_SRC_KEY_FILE = 2,
    SIGNER_SRC_ENV = 3,
};

/* Where a keystore's password comes from. */
enum signer_pw_source {
    SIGNER_PW_FILE = 1, /* pw_ref is a path; one trailing newline removed */
    SIGNER_PW_ENV = 2,  /* pw_ref is a variable name; value taken as is  */
};

/* Warnings signer_open reports for the caller to log (bit flags). */
#define SIGNER_WARN_ENV_KEY 0x1u  /* key taken from the environment        */
#define SIGNER_WARN_NO_MLOCK 0x2u /* mlock failed (first time in process) */

struct signer_opts {
    enum signer_source source;
    const char *path;                /* keystore or key file               */
    enum signer_pw_source pw_source; /* keystore only                      */
    const char *pw_ref;              /* password file path or variable     */
    const char *env_name;            /* SIGNER_SRC_ENV; NULL: KEYFILE_ENV  */
};

/* Load a key as `o` says.
 * Returns: 0; KP_EINVAL (bad options or key text); KP_EPERM (key file
 *          mode too open); KP_EIO; KP_ENOTFOUND (variable unset);
 *          KP_ELIMIT; KP_EUNSUPPORTED; KP_ECHECKSUM (wrong password);
 *          KP_ECRYPTO (not a valid secp256k1 key). err gets one line.
 * Out: *out (signer_free it), *warnings (SIGNER_WARN_* bits, may be NULL),
 *      err   In: o */
int signer_open(struct signer **out, unsigned *warnings, char *err,
                size_t errcap, const struct signer_opts *o);

/* Shorthands for signer_open with one source. Same returns. */
int signer_new_from_keystore(struct signer **out, unsigned *warnings, char *err,
                             size_t errcap, const char *path,
                             enum signer_pw_source pw_source,
                             const char *pw_ref);
int signer_new_from_key_file(struct signer **out, unsigned *warnings, char *err,
                             size_t errcap, const char *path);
/* `name` NULL means KEYFILE_ENV (KEEPER_PRIVATE_KEY). Always sets
 * SIGNER_WARN_ENV_KEY on success. */
int signer_new_from_env(struct signer **out, unsigned *warnings, char *err,
                        size_t errcap, const char *name);

/* Wipe the key and free. signer_free(NULL) is a no-op. */
void signer_free(struct signer *s);

/* Returns: the key's Ethereum address (computed once, at load). */
struct eth_addr signer_address(const struct signer *s);

/* Returns: the source the key was loaded from. */
enum signer_source signer_source(const struct signer *s);

/* Sign a 32-byte digest (the caller hashes, e.g. tx_signing_hash) with
 * ecdsa_sign: RFC 6979 nonce, low s, y parity.
 * Returns: 0, or KP_ECRYPTO (libsecp256k1 refused; not expected with a
 *          validated key).
 * Out: sig   In: digest */
int signer_sign_digest(const struct signer *s, struct eth_sig *sig,
                       const uint8_t digest[32]);

#endif
