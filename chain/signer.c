#include "chain/signer.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include "chain/address.h"
#include "chain/ecdsa.h"
#include "chain/err.h"
#include "chain/keyfile.h"
#include "chain/keystore.h"
#include "chain/secmem.h"

struct signer {
    struct secmem *key; /* 32 bytes: the secret key, nothing else */
    struct eth_addr addr;
    enum signer_source source;
};

static int
signer_fail(char *err, size_t errcap, int rc, const char *msg)
{
    if (errcap)
        snprintf(err, errcap, "%s", msg);
    return rc;
}

static struct signer *
signer_alloc(unsigned *warnings, enum signer_source source)
{
    struct signer *s = kp_xcalloc(1, sizeof(*s));
    bool lock_warn = false;

    s->key = secmem_new(32, &lock_warn);
    if (lock_warn)
        *warnings |= SIGNER_WARN_NO_MLOCK;
    s->source = source;
    return s;
}

/* The key has been written into s->key: validate it, finish the object. */
static int
signer_finish(struct signer **out, char *err, size_t errcap, struct signer *s)
{
    if (!secp256k1_ec_seckey_verify(secp256k1_context_static,
                                    secmem_data(s->key))) {
        signer_free(s);
        return signer_fail(err, errcap, KP_ECRYPTO,
                           "invalid secp256k1 private key");
    }
    if (eth_addr_from_privkey(&s->addr, secmem_data(s->key)) != 0) {
        signer_free(s);
        return signer_fail(err, errcap, KP_ECRYPTO,
                           "cannot derive the public key");
    }
    *out = s;
    return 0;
}

static int
signer_read_password(char *pw, size_t *pwlen, char *err, size_t errcap,
                     enum signer_pw_source pw_source, const char *pw_ref)
{
    if (!pw_ref)
        return signer_fail(err, errcap, KP_EINVAL,
                           "keystore needs a password file or variable");
    if (pw_source == SIGNER_PW_FILE)
        return keystore_password_file(pw, KEYSTORE_PASSWORD_MAX, pwlen, err,
                                      errcap, pw_ref);
    if (pw_source == SIGNER_PW_ENV)
        return keystore_password_env(pw, KEYSTORE_PASSWORD_MAX, pwlen, err,
                                     errcap, pw_ref);
    return signer_fail(err, errcap, KP_EINVAL, "unknown password source");
}

static int
signer_load_keystore(struct signer **out, unsigned *warnings, char *err,
                     size_t errcap, const struct signer_opts *o)
{
    struct secmem *pwm;
    struct signer *s;
    bool lock_warn = false;
    size_t pwlen;
    int rc;

    if (!o->path)
        return signer_fail(err, errcap, KP_EINVAL, "no keystore path");
    /* The password unlocks the key: it gets the same protection. */
    pwm = secmem_new(KEYSTORE_PASSWORD_MAX, &lock_warn);
    if (lock_warn)
        *warnings |= SIGNER_WARN_NO_MLOCK;
    rc = signer_read_password(secmem_data(pwm), &pwlen, err, errcap,
                              o->pw_source, o->pw_ref);
    if (rc != 0) {
        secmem_free(pwm);
        return rc;
    }
    s = signer_alloc(warnings, SIGNER_SRC_KEYSTORE);
    rc = keystore_load(secmem_data(s->key), err, errcap, o->path,
                       secmem_data(pwm), pwlen);
    secmem_free(pwm);
    if (rc != 0) {
        signer_free(s);
        return rc;
    }
    return signer_finish(out, err, errcap, s);
}

static int
signer_load_key_file(struct signer **out, unsigned *warnings, char *err,
                     size_t errcap, const struct signer_opts *o)
{
    struct signer *s;
    int rc;

    if (!o->path)
        return signer_fail(err, errcap, KP_EINVAL, "no key file path");
    s = signer_alloc(warnings, SIGNER_SRC_KEY_FILE);
    if ((rc = keyfile_load(secmem_data(s->key), err, errcap, o->path))) {
        signer_free(s);
        return rc;
    }
    return signer_finish(out, err, errcap, s);
}

static int
signer_load_env(struct signer **out, unsigned *warnings, char *err,
                size_t errcap, const struct signer_opts *o)
{
    const char *name = o->env_name ? o->env_name : KEYFILE_ENV;
    const char *v = getenv(name);
    struct signer *s;
    int rc;

    if (!v) {
        if (errcap)
            snprintf(err, errcap, "key variable %s is not set", name);
        return KP_ENOTFOUND;
    }
    s = signer_alloc(warnings, SIGNER_SRC_ENV);
    if ((rc = keyfile_parse(secmem_data(s->key), v, strlen(v))) != 0) {
        signer_free(s);
        if (errcap)
            snprintf(err, errcap,
                     "%s does not hold a valid 32-byte hex "
                     "private key",
                     name);
        return rc;
    }
    *warnings |= SIGNER_WARN_ENV_KEY;
    return signer_finish(out, err, errcap, s);
}

int
signer_open(struct signer **out, unsigned *warnings, char *err, size_t errcap,
            const struct signer_opts *o)
{
    unsigned dummy = 0;

    assert(out && o && (err || !errcap));
    *out = NULL;
    if (!warnings)
        warnings = &dummy;
    *warnings = 0;
    switch (o->source) {
    case SIGNER_SRC_KEYSTORE:
        return signer_load_keystore(out, warnings, err, errcap, o);
    case SIGNER_SRC_KEY_FILE:
        return signer_load_key_file(out, warnings, err, errcap, o);
    case SIGNER_SRC_ENV:
        return signer_load_env(out, warnings, err, errcap, o);
    }
    return signer_fail(err, errcap, KP_EINVAL, "unknown key source");
}

int
signer_new_from_keystore(struct signer **out, unsigned *warnings, char *err,
                         size_t errcap, const char *path,
                         enum signer_pw_source pw_source, const char *pw_ref)
{
    struct signer_opts o = {
        .source = SIGNER_SRC_KEYSTORE,
        .path = path,
        .pw_source = pw_source,
        .pw_ref = pw_ref,
    };

    return signer_open(out, warnings, err, errcap, &o);
}

int
signer_new_from_key_file(struct signer **out, unsigned *warnings, char *err,
                         size_t errcap, const char *path)
{
    struct signer_opts o = {.source = SIGNER_SRC_KEY_FILE, .path = path};

    return signer_open(out, warnings, err, errcap, &o);
}

int
signer_new_from_env(struct signer **out, unsigned *warnings, char *err,
                    size_t errcap, const char *name)
{
    struct signer_opts o = {.source = SIGNER_SRC_ENV, .env_name = name};

    return signer_open(out, warnings, err, errcap, &o);
}

void
signer_free(struct signer *s)
{
    if (!s)
        return;
    secmem_free(s->key); /* wipes */
    kp_wipe(s, sizeof(*s));
    free(s);
}

struct eth_addr
signer_address(const struct signer *s)
{
    assert(s);
    return s->addr;
}

enum signer_source
signer_source(const struct signer *s)
{
    assert(s);
    return s->source;
}

int
signer_sign_digest(const struct signer *s, struct eth_sig *sig,
                   const uint8_t digest[32])
{
    assert(s && sig && digest);
    return ecdsa_sign(sig, digest, secmem_data(s->key));
}
