/*
 * keystore.h - read Web3 Secret Storage v3 key files (the geth / cast /
 * ethers "keystore" JSON) and the passwords that unlock them.
 *
 * Supported: kdf "scrypt" (n, r, p, dklen, salt) and "pbkdf2" (c, prf
 * "hmac-sha256", dklen, salt); cipher "aes-128-ctr" (iv); MAC =
 * keccak256(derived_key[16..32] ++ ciphertext), compared in constant time.
 * The "crypto" object may also be spelled "Crypto" (old geth files).
 * Encryption (writing keystores) is not provided: keys are made by cast or
 * geth.
 *
 * A keystore is untrusted input: its KDF parameters decide how much memory
 * and CPU the decryption takes, so they are checked against caps before
 * any work (KP_ELIMIT), and the file itself is capped (KEYSTORE_FILE_MAX).
 * Parsing and decryption are separate so that callers (and the fuzzer) can
 * validate a file without running the KDF.
 *
 * Errors: every fallible function writes a one-line reason to `err`
 * (capacity `errcap`, may be 0) without any secret in it.
 */
#ifndef KP_CHAIN_KEYSTORE_H
#define KP_CHAIN_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYSTORE_FILE_MAX (64 * 1024) /* bytes of JSON at most */
#define KEYSTORE_PASSWORD_MAX 1024    /* suggested password buffer size */
#define KEYSTORE_SALT_MAX 64          /* salt bytes at most */

enum keystore_kdf {
    KEYSTORE_KDF_SCRYPT = 1,
    KEYSTORE_KDF_PBKDF2 = 2,
};

/* Caps on the work a keystore may ask for. The defaults admit every
 * standard file (geth "standard" scrypt n=2^18 r=8 p=1 needs 256 MiB;
 * the spec's pbkdf2 vector has c=262144) with headroom, and refuse the
 * rest before allocating anything. */
struct keystore_limits {
    uint64_t scrypt_max_n;    /* n <= this (n is a power of two >= 2)    */
    uint32_t scrypt_max_r;    /* 1 <= r <= this                          */
    uint32_t scrypt_max_p;    /* 1 <= p <= this                          */
    uint64_t scrypt_max_mem;  /* 128 * r * n <= this (bytes)             */
    uint64_t scrypt_max_work; /* n * r * p <= this (CPU, ~ salsa blocks) */
    uint32_t pbkdf2_max_c;    /* 1 <= c <= this                          */
};

/* n <= 2^20, r <= 32, p <= 16, 128*r*n <= 512 MiB, n*r*p <= 2^23 (four
 * times geth's standard cost, a few seconds), c <= 2^22. */
extern const struct keystore_limits keystore_default_limits;

/* A parsed, validated keystore. Holds no secret: the key is still
 * encrypted. Value type, fixed size. */
struct keystore {
    enum keystore_kdf kdf;
    uint64_t n;    /* scrypt */
    uint32_t r, p; /* scrypt */
    uint32_t c;    /* pbkdf2 */
    uint8_t salt[KEYSTORE_SALT_MAX];
    size_t saltlen; /* 1..KEYSTORE_SALT_MAX */
    uint8_t iv[16];
    uint8_t ciphertext[32];
    size_t ctlen; /* 1..32: old geth dropped a key's leading zeros */
    uint8_t mac[32];
    bool has_address; /* the optional "address" field */
    uint8_t address[20];
};

/* Parse and validate keystore JSON without running the KDF.
 * `lim` NULL means keystore_default_limits.
 * Returns: 0; KP_EINVAL (not JSON, missing field, wrong type, bad hex or
 *          hex of the wrong length, n not a power of two, duplicate key);
 *          KP_EUNSUPPORTED (version != 3, other kdf, prf, cipher or
 *          dklen != 32); KP_ELIMIT (input longer than KEYSTORE_FILE_MAX,
 *          a KDF parameter above `lim`).
 * Out: ks, err   In: json, len, lim */
int keystore_parse(struct keystore *ks, char *err, size_t errcap,
                   const char *json, size_t len,
                   const struct keystore_limits *lim);

/* Derive the key-encryption key from `pw`, check the MAC, decrypt.
 * If the file names an address, the decrypted key must match it.
 * `key` is written only on success; every temporary is wiped.
 * Returns: 0; KP_ECHECKSUM (MAC mismatch: wrong password or corrupted
 *          file; also an "address" field that does not match the key);
 *          KP_ECRYPTO (KDF failure, or the plaintext is not a valid
 *          secp256k1 key).
 * Out: key, err   In: ks (from keystore_parse), pw, pwlen */
int keystore_decrypt(uint8_t key[32], char *err, size_t errcap,
                     const struct keystore *ks, const char *pw, size_t pwlen);

/* Read the keystore file `path` (capped at KEYSTORE_FILE_MAX), parse it
 * with the default limits and decrypt it with `pw`.
 * Returns: 0, KP_EIO (cannot read, not a regular file), or a code of
 *          keystore_parse / keystore_decrypt. err names the file.
 * Out: key, err   In: path, pw, pwlen */
int keystore_load(uint8_t key[32], char *err, size_t errcap, const char *path,
                  const char *pw, size_t pwlen);

/* Read a password from the file `path`; one trailing newline ("\n" or
 * "\r\n") is removed, anything else is kept byte for byte. A file longer
 * than `pwcap` bytes is refused. The caller wipes `pw` after use; every
 * other copy is wiped here.
 * Returns: 0; KP_EIO (cannot open or read); KP_ELIMIT (too long).
 * Out: pw, *pwlen, err   In: pwcap, path */
int keystore_password_file(char *pw, size_t pwcap, size_t *pwlen, char *err,
                           size_t errcap, const char *path);

/* Copy the password from environment variable `name` (taken as is, no
 * newline stripping; an empty value is an empty password).
 * Returns: 0; KP_ENOTFOUND (variable unset); KP_ELIMIT (longer than
 *          `pwcap`); KP_EINVAL (empty name).
 * Out: pw, *pwlen, err   In: pwcap, name */
int keystore_password_env(char *pw, size_t pwcap, size_t *pwlen, char *err,
                          size_t errcap, const char *name);

#endif
