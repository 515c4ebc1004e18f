#include "chain/keystore.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <secp256k1.h>

#include "chain/address.h"
#include "chain/err.h"
#include "chain/hex.h"
#include "chain/keccak.h"
#include "chain/keystore_int.h"

const struct keystore_limits keystore_default_limits = {
    .scrypt_max_n = UINT64_C(1) << 20,
    .scrypt_max_r = 32,
    .scrypt_max_p = 16,
    .scrypt_max_mem = UINT64_C(512) << 20,
    .scrypt_max_work = UINT64_C(1) << 23,
    .pbkdf2_max_c = UINT32_C(1) << 22,
};

/* Parsing state: where errors go and which caps apply. */
struct ks_parser {
    char *err;
    size_t errcap;
    const struct keystore_limits *lim;
};

static int ks_fail(char *err, size_t errcap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
ks_fail(char *err, size_t errcap, int rc, const char *fmt, ...)
{
    va_list ap;

    if (errcap) {
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define PFAIL(ps, rc, ...) ks_fail((ps)->err, (ps)->errcap, (rc), __VA_ARGS__)

/* A printable excerpt of an input string for an error message: the text
 * comes from the file, and must not break the one-line error (newlines,
 * terminal escapes) or make it long. */
struct ks_excerpt {
    char s[40];
};

static struct ks_excerpt
ks_excerpt(const char *in)
{
    struct ks_excerpt e;
    size_t i;

    for (i = 0; in[i] && i < 32; i++)
        e.s[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
    if (in[i])
        memcpy(e.s + i, "...", 3), i += 3;
    e.s[i] = 0;
    return e;
}

/* ---- JSON field access ------------------------------------------------ */

/* Find member `name` of object `obj` (exact case). A name given twice is
 * an error: JSON parsers disagree on which copy wins, and a keystore that
 * means different things to different tools is not one to trust.
 * Returns: 0 (*out NULL when absent), KP_EINVAL. */
static int
ks_member(struct ks_parser *ps, const cJSON **out, const cJSON *obj,
          const char *path, const char *name)
{
    const cJSON *it, *found = NULL;

    cJSON_ArrayForEach(it, obj)
    {
        if (it->string && !strcmp(it->string, name)) {
            if (found)
                return PFAIL(ps, KP_EINVAL, "duplicate key %s%s", path, name);
            found = it;
        }
    }
    *out = found;
    return 0;
}

static int
ks_require(struct ks_parser *ps, const cJSON **out, const cJSON *obj,
           const char *path, const char *name)
{
    int rc;

    if ((rc = ks_member(ps, out, obj, path, name)) != 0)
        return rc;
    if (!*out)
        return PFAIL(ps, KP_EINVAL, "missing %s%s", path, name);
    return 0;
}

static int
ks_object(struct ks_parser *ps, const cJSON **out, const cJSON *obj,
          const char *path, const char *name)
{
    int rc;

    if ((rc = ks_require(ps, out, obj, path, name)) != 0)
        return rc;
    if (!cJSON_IsObject(*out))
        return PFAIL(ps, KP_EINVAL, "%s%s is not an object", path, name);
    return 0;
}

static int
ks_string(struct ks_parser *ps, const char **out, const cJSON *obj,
          const char *path, const char *name)
{
    const cJSON *v;
    int rc;

    if ((rc = ks_require(ps, &v, obj, path, name)) != 0)
        return rc;
    if (!cJSON_IsString(v) || !v->valuestring)
        return PFAIL(ps, KP_EINVAL, "%s%s is not a string", path, name);
    *out = v->valuestring;
    return 0;
}

/* An integer-valued JSON number in [min, max]. Above `max` is a cap
 * (KP_ELIMIT); below `min`, fractional or not a number is KP_EINVAL. */
static int
ks_uint(struct ks_parser *ps, uint64_t *out, const cJSON *obj, const char *path,
        const char *name, uint64_t min, uint64_t max)
{
    const cJSON *v;
    double d;
    int rc;

    if ((rc = ks_require(ps, &v, obj, path, name)) != 0)
        return rc;
    if (!cJSON_IsNumber(v))
        return PFAIL(ps, KP_EINVAL, "%s%s is not a number", path, name);
    d = v->valuedouble;
    /* Compare as doubles first so that huge values and NaN never reach
     * the integer conversion. */
    if (!(d >= (double)min))
        return PFAIL(ps, KP_EINVAL, "%s%s must be at least %llu", path, name,
                     (unsigned long long)min);
    if (d > (double)max)
        return PFAIL(ps, KP_ELIMIT,
                     "%s%s = %.17g exceeds the limit %llu (hostile or "
                     "unsupported keystore)",
                     path, name, d, (unsigned long long)max);
    *out = (uint64_t)d;
    if ((double)*out != d || *out > max)
        return PFAIL(ps, KP_EINVAL, "%s%s is not an integer", path, name);
    return 0;
}

/* Hex string of min..max bytes ("0x" optional). */
static int
ks_hex(struct ks_parser *ps, uint8_t *out, size_t *outlen, const cJSON *obj,
       const char *path, const char *name, size_t min, size_t max)
{
    const char *s;
    size_t n, len;
    int rc;

    if ((rc = ks_string(ps, &s, obj, path, name)) != 0)
        return rc;
    len = strlen(s);
    if (hex_decode(out, max, &n, s, len) != 0 || n < min) {
        if (min == max)
            return PFAIL(ps, KP_EINVAL, "%s%s must be %zu bytes of hex", path,
                         name, min);
        return PFAIL(ps, KP_EINVAL, "%s%s must be %zu to %zu bytes of hex",
                     path, name, min, max);
    }
    if (outlen)
        *outlen = n;
    return 0;
}

/* ---- keystore sections ---------------------------------------------- */

static int
ks_parse_scrypt(struct ks_parser *ps, struct keystore *ks, const cJSON *kp)
{
    const char *path = "crypto.kdfparams.";
    const struct keystore_limits *lim = ps->lim;
    uint64_t n, r, p;
    int rc;

    if ((rc = ks_uint(ps, &n, kp, path, "n", 2, lim->scrypt_max_n)) ||
        (rc = ks_uint(ps, &r, kp, path, "r", 1, lim->scrypt_max_r)) ||
        (rc = ks_uint(ps, &p, kp, path, "p", 1, lim->scrypt_max_p)))
        return rc;
    if (n & (n - 1))
        return PFAIL(ps, KP_EINVAL, "%sn = %llu is not a power of two", path,
                     (unsigned long long)n);
    /* n <= 2^64/128/r cannot overflow with the caps above (n <= 2^32 and
     * r <= 2^32 would already be absurd); still divide to be sure. */
    if (n > lim->scrypt_max_mem / 128 / r)
        return PFAIL(ps, KP_ELIMIT,
                     "scrypt n=%llu r=%llu needs %llu MiB, above the limit "
                     "%llu MiB (hostile or unsupported keystore)",
                     (unsigned long long)n, (unsigned long long)r,
                     (unsigned long long)(n / 8192 * r),
                     (unsigned long long)(lim->scrypt_max_mem >> 20));
    if (n > lim->scrypt_max_work / r / p)
        return PFAIL(ps, KP_ELIMIT,
                     "scrypt n=%llu r=%llu p=%llu exceeds the work limit "
                     "n*r*p <= %llu (hostile or unsupported keystore)",
                     (unsigned long long)n, (unsigned long long)r,
                     (unsigned long long)p,
                     (unsigned long long)lim->scrypt_max_work);
    ks->kdf = KEYSTORE_KDF_SCRYPT;
    ks->n = n;
    ks->r = (uint32_t)r;
    ks->p = (uint32_t)p;
    return 0;
}

static int
ks_parse_pbkdf2(struct ks_parser *ps, struct keystore *ks, const cJSON *kp)
{
    const char *path = "crypto.kdfparams.", *prf;
    uint64_t c;
    int rc;

    if ((rc = ks_string(ps, &prf, kp, path, "prf")) != 0)
        return rc;
    if (strcmp(prf, "hmac-sha256") != 0)
        return PFAIL(ps, KP_EUNSUPPORTED,
                     "unsupported pbkdf2 prf \"%s\" (want hmac-sha256)",
                     ks_excerpt(prf).s);
    if ((rc = ks_uint(ps, &c, kp, path, "c", 1, ps->lim->pbkdf2_max_c)))
        return rc;
    ks->kdf = KEYSTORE_KDF_PBKDF2;
    ks->c = (uint32_t)c;
    return 0;
}

static int
ks_parse_kdf(struct ks_parser *ps, struct keystore *ks, const cJSON *crypto)
{
    const char *path = "crypto.kdfparams.", *kdf;
    const cJSON *kp;
    uint64_t dklen;
    int rc;

    if ((rc = ks_string(ps, &kdf, crypto, "crypto.", "kdf")) ||
        (rc = ks_object(ps, &kp, crypto, "crypto.", "kdfparams")))
        return rc;
    if (!strcmp(kdf, "scrypt"))
        rc = ks_parse_scrypt(ps, ks, kp);
    else if (!strcmp(kdf, "pbkdf2"))
        rc = ks_parse_pbkdf2(ps, ks, kp);
    else
        return PFAIL(ps, KP_EUNSUPPORTED,
                     "unsupported kdf \"%s\" (want scrypt or pbkdf2)",
                     ks_excerpt(kdf).s);
    if (rc)
        return rc;
    if ((rc = ks_uint(ps, &dklen, kp, path, "dklen", 1, UINT32_MAX)))
        return rc;
    if (dklen != 32)
        return PFAIL(ps, KP_EUNSUPPORTED, "%sdklen = %llu (only 32 supported)",
                     path, (unsigned long long)dklen);
    return ks_hex(ps, ks->salt, &ks->saltlen, kp, path, "salt", 1,
                  KEYSTORE_SALT_MAX);
}

static int
ks_parse_cipher(struct ks_parser *ps, struct keystore *ks, const cJSON *crypto)
{
    const char *cipher;
    const cJSON *cp;
    int rc;

    if ((rc = ks_string(ps, &cipher, crypto, "crypto.", "cipher")) != 0)
        return rc;
    if (strcmp(cipher, "aes-128-ctr") != 0)
        return PFAIL(ps, KP_EUNSUPPORTED,
                     "unsupported cipher \"%s\" (want aes-128-ctr)",
                     ks_excerpt(cipher).s);
    if ((rc = ks_object(ps, &cp, crypto, "crypto.", "cipherparams")) ||
        (rc = ks_hex(ps, ks->iv, NULL, cp, "crypto.cipherparams.", "iv", 16,
                     16)) ||
        (rc = ks_hex(ps, ks->ciphertext, &ks->ctlen, crypto, "crypto.",
                     "ciphertext", 1, 32)))
        return rc;
    return ks_hex(ps, ks->mac, NULL, crypto, "crypto.", "mac", 32, 32);
}

/* "crypto", or "Crypto" as early geth wrote it; not both. */
static int
ks_crypto(struct ks_parser *ps, const cJSON **out, const cJSON *root)
{
    const cJSON *lower, *upper;
    int rc;

    if ((rc = ks_member(ps, &lower, root, "", "crypto")) ||
        (rc = ks_member(ps, &upper, root, "", "Crypto")))
        return rc;
    if (lower && upper)
        return PFAIL(ps, KP_EINVAL, "both crypto and Crypto present");
    *out = lower ? lower : upper;
    if (!*out)
        return PFAIL(ps, KP_EINVAL, "missing crypto");
    if (!cJSON_IsObject(*out))
        return PFAIL(ps, KP_EINVAL, "crypto is not an object");
    return 0;
}

static int
ks_parse_root(struct ks_parser *ps, struct keystore *ks, const cJSON *root)
{
    const cJSON *crypto = NULL, *addr;
    uint64_t version;
    int rc;

    if (!cJSON_IsObject(root))
        return PFAIL(ps, KP_EINVAL, "keystore is not a JSON object");
    if ((rc = ks_uint(ps, &version, root, "", "version", 0, UINT32_MAX)))
        return rc == KP_ELIMIT
                   ? PFAIL(ps, KP_EUNSUPPORTED, "unsupported keystore version")
                   : rc;
    if (version != 3)
        return PFAIL(ps, KP_EUNSUPPORTED,
                     "unsupported keystore version %llu (want 3)",
                     (unsigned long long)version);
    if ((rc = ks_crypto(ps, &crypto, root)) ||
        (rc = ks_parse_kdf(ps, ks, crypto)) ||
        (rc = ks_parse_cipher(ps, ks, crypto)) ||
        (rc = ks_member(ps, &addr, root, "", "address")))
        return rc;
    if (!addr)
        return 0;
    ks->has_address = true;
    return ks_hex(ps, ks->address, NULL, root, "", "address", 20, 20);
}

int
keystore_parse(struct keystore *ks, char *err, size_t errcap, const char *json,
               size_t len, const struct keystore_limits *lim)
{
    struct ks_parser ps = {err, errcap, lim ? lim : &keystore_default_limits};
    cJSON *root;
    int rc;

    assert(ks && json && (err || !errcap));
    memset(ks, 0, sizeof(*ks));
    if (len > KEYSTORE_FILE_MAX)
        return PFAIL(&ps, KP_ELIMIT, "keystore larger than %d bytes",
                     KEYSTORE_FILE_MAX);
    root = cJSON_ParseWithLengthOpts(json, len, NULL, false);
    if (!root)
        return PFAIL(&ps, KP_EINVAL, "keystore is not valid JSON");
    rc = ks_parse_root(&ps, ks, root);
    cJSON_Delete(root);
    if (rc)
        memset(ks, 0, sizeof(*ks));
    return rc;
}

/* ---- decryption ------------------------------------------------------ */

static int
ks_kdf(uint8_t dk[32], const struct keystore *ks, const char *pw, size_t pwlen)
{
    if (ks->kdf == KEYSTORE_KDF_PBKDF2)
        return PKCS5_PBKDF2_HMAC(pw, (int)pwlen, ks->salt, (int)ks->saltlen,
                                 (int)ks->c, EVP_sha256(), 32, dk) == 1
                   ? 0
                   : KP_ECRYPTO;
    assert(ks->kdf == KEYSTORE_KDF_SCRYPT);
    return keystore_scrypt(dk, 32, pw, pwlen, ks->salt, ks->saltlen, ks->n,
                           ks->r, ks->p);
}

static int
ks_aes128ctr(uint8_t *out, const uint8_t key[16], const uint8_t iv[16],
             const uint8_t *in, size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0, ok;

    if (!ctx)
        return KP_ECRYPTO;
    ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
         EVP_DecryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
         EVP_DecryptFinal_ex(ctx, out + n, &m) == 1 && (size_t)(n + m) == len;
    EVP_CIPHER_CTX_free(ctx); /* also cleanses the expanded key */
    return ok ? 0 : KP_ECRYPTO;
}

static bool
ks_mac_ok(const struct keystore *ks, const uint8_t dk[32])
{
    struct keccak256_ctx ctx;
    uint8_t mac[32];
    bool ok;

    keccak256_init(&ctx);
    keccak256_update(&ctx, dk + 16, 16);
    keccak256_update(&ctx, ks->ciphertext, ks->ctlen);
    keccak256_final(&ctx, mac);
    ok = CRYPTO_memcmp(mac, ks->mac, 32) == 0;
    kp_wipe(&ctx, sizeof(ctx));
    return ok;
}

/* Validate the plaintext as a key and, if the file names an address,
 * check that it is this key's. */
static int
ks_check_key(char *err, size_t errcap, const struct keystore *ks,
             const uint8_t key[32])
{
    struct eth_addr addr;

    if (!secp256k1_ec_seckey_verify(secp256k1_context_static, key))
        return ks_fail(err, errcap, KP_ECRYPTO,
                       "keystore decrypts to an invalid secp256k1 key");
    if (!ks->has_address)
        return 0;
    if (eth_addr_from_privkey(&addr, key) != 0)
        return ks_fail(err, errcap, KP_ECRYPTO, "cannot derive the address");
    if (memcmp(addr.b, ks->address, 20) != 0)
        return ks_fail(err, errcap, KP_ECHECKSUM,
                       "keystore address field does not match its key");
    return 0;
}

int
keystore_decrypt(uint8_t key[32], char *err, size_t errcap,
                 const struct keystore *ks, const char *pw, size_t pwlen)
{
    uint8_t dk[32], plain[32];
    int rc;

    assert(key && ks && (pw || !pwlen) && (err || !errcap));
    assert(ks->ctlen >= 1 && ks->ctlen <= 32);
    if (!pw)
        pw = "";
    if ((rc = ks_kdf(dk, ks, pw, pwlen)) != 0) {
        ks_fail(err, errcap, rc, "key derivation failed");
        goto out;
    }
    if (!ks_mac_ok(ks, dk)) {
        rc = ks_fail(err, errcap, KP_ECHECKSUM,
                     "MAC mismatch: wrong password or corrupted keystore");
        goto out;
    }
    /* A short ciphertext is a key whose leading zero bytes were dropped. */
    memset(plain, 0, sizeof(plain));
    rc = ks_aes128ctr(plain + 32 - ks->ctlen, dk, ks->iv, ks->ciphertext,
                      ks->ctlen);
    if (rc != 0)
        ks_fail(err, errcap, rc, "AES-128-CTR decryption failed");
    else if ((rc = ks_check_key(err, errcap, ks, plain)) == 0)
        memcpy(key, plain, 32);
out:
    kp_wipe(dk, sizeof(dk));
    kp_wipe(plain, sizeof(plain));
    return rc;
}

/* ---- files and passwords --------------------------------------------- */

/* Read up to `cap` bytes of the regular file open at `fd`.
 * Returns: 0 (*len bytes read, *more true if the file has more), KP_EIO. */
static int
ks_read_fd(char *buf, size_t cap, size_t *len, bool *more, int fd)
{
    size_t got = 0;
    ssize_t n;
    char extra;

    while (got < cap) {
        n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return KP_EIO;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    *more = false;
    if (got == cap) {
        do
            n = read(fd, &extra, 1);
        while (n < 0 && errno == EINTR);
        kp_wipe(&extra, 1); /* may be a password byte */
        if (n < 0)
            return KP_EIO;
        *more = n > 0;
    }
    return 0;
}

/* Open `path` for reading and check it is a regular file.
 * Returns: the descriptor, or -1 with err set. */
static int
ks_open(char *err, size_t errcap, const char *what, const char *path)
{
    struct stat st;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        ks_fail(err, errcap, KP_EIO, "cannot open %s %s: %s", what, path,
                strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ks_fail(err, errcap, KP_EIO, "%s %s is not a regular file", what, path);
        close(fd);
        return -1;
    }
    return fd;
}

int
keystore_load(uint8_t key[32], char *err, size_t errcap, const char *path,
              const char *pw, size_t pwlen)
{
    char *buf, msg[256];
    struct keystore ks;
    size_t len;
    bool more;
    int fd, rc;

    assert(key && path && (err || !errcap));
    if ((fd = ks_open(err, errcap, "keystore", path)) < 0)
        return KP_EIO;
    buf = kp_xmalloc(KEYSTORE_FILE_MAX);
    rc = ks_read_fd(buf, KEYSTORE_FILE_MAX, &len, &more, fd);
    close(fd);
    if (rc != 0)
        rc = ks_fail(msg, sizeof(msg), KP_EIO, "read failed: %s",
                     strerror(errno));
    else if (more)
        rc = ks_fail(msg, sizeof(msg), KP_ELIMIT, "larger than %d bytes",
                     KEYSTORE_FILE_MAX);
    else if ((rc = keystore_parse(&ks, msg, sizeof(msg), buf, len, NULL)) == 0)
        rc = keystore_decrypt(key, msg, sizeof(msg), &ks, pw, pwlen);
    free(buf);
    if (rc != 0)
        ks_fail(err, errcap, rc, "keystore %s: %s", path, msg);
    return rc;
}

static void
strip_newline(const char *pw, size_t *len)
{
    if (*len && pw[*len - 1] == '\n') {
        (*len)--;
        if (*len && pw[*len - 1] == '\r')
            (*len)--;
    }
}

int
keystore_password_file(char *pw, size_t pwcap, size_t *pwlen, char *err,
                       size_t errcap, const char *path)
{
    size_t len;
    bool more;
    int fd, rc;

    assert(pw && pwlen && path && (err || !errcap));
    *pwlen = 0;
    if ((fd = ks_open(err, errcap, "password file", path)) < 0)
        return KP_EIO;
    rc = ks_read_fd(pw, pwcap, &len, &more, fd);
    close(fd);
    if (rc != 0 || more) {
        kp_wipe(pw, pwcap);
        if (rc != 0)
            return ks_fail(err, errcap, KP_EIO,
                           "cannot read password file %s: %s", path,
                           strerror(errno));
        return ks_fail(err, errcap, KP_ELIMIT,
                       "password file %s is longer than %zu bytes", path,
                       pwcap);
    }
    strip_newline(pw, &len);
    *pwlen = len;
    return 0;
}

int
keystore_password_env(char *pw, size_t pwcap, size_t *pwlen, char *err,
                      size_t errcap, const char *name)
{
    const char *v;
    size_t len;

    assert(pw && pwlen && name && (err || !errcap));
    *pwlen = 0;
    if (!*name)
        return ks_fail(err, errcap, KP_EINVAL, "empty password variable name");
    if (!(v = getenv(name)))
        return ks_fail(err, errcap, KP_ENOTFOUND,
                       "password variable %s is not set", name);
    len = strlen(v);
    if (len > pwcap)
        return ks_fail(err, errcap, KP_ELIMIT,
                       "password variable %s is longer than %zu bytes", name,
                       pwcap);
    memcpy(pw, v, len);
    *pwlen = len;
    return 0;
}
