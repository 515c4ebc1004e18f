#include "chain/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <secp256k1.h>

#include "chain/err.h"
#include "chain/hex.h"

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
keyfile_parse(uint8_t key[32], const char *s, size_t len)
{
    int ok;

    while (len && is_space(*s))
        s++, len--;
    while (len && is_space(s[len - 1]))
        len--;
    if (hex_decode_exact(key, 32, s, len) != 0)
        return KP_EINVAL;
    ok = secp256k1_ec_seckey_verify(secp256k1_context_static, key);
    if (!ok) {
        kp_wipe(key, 32);
        return KP_ECRYPTO;
    }
    return 0;
}

static int
read_key_file(char *buf, size_t cap, size_t *len, char *err, size_t errcap,
              const char *path)
{
    struct stat st;
    ssize_t n;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        snprintf(err, errcap, "cannot open key file %s: %s", path,
                 strerror(errno));
        return KP_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "key file %s is not a regular file", path);
        close(fd);
        return KP_EIO;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errcap,
                 "key file %s is accessible by group or others (mode %03o); "
                 "chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return KP_EPERM;
    }
    n = read(fd, buf, cap);
    close(fd);
    if (n < 0) {
        snprintf(err, errcap, "cannot read key file %s: %s", path,
                 strerror(errno));
        return KP_EIO;
    }
    *len = (size_t)n;
    return 0;
}

int
keyfile_load(uint8_t key[32], char *err, size_t errcap, const char *path)
{
    char buf[KEYFILE_MAX];
    const char *src;
    size_t len = 0;
    int rc;

    if (path) {
        if ((rc = read_key_file(buf, sizeof(buf), &len, err, errcap, path)))
            return rc;
        src = buf;
    } else if ((src = getenv(KEYFILE_ENV)) != NULL) {
        len = strlen(src);
    } else {
        snprintf(err, errcap, "no key: pass --key-file PATH or set %s",
                 KEYFILE_ENV);
        return KP_ENOTFOUND;
    }
    rc = keyfile_parse(key, src, len);
    kp_wipe(buf, sizeof(buf));
    if (rc == KP_EINVAL)
        snprintf(err, errcap, "%s does not hold a 32-byte hex private key",
                 path ? path : KEYFILE_ENV);
    else if (rc == KP_ECRYPTO)
        snprintf(err, errcap, "%s holds an invalid secp256k1 key",
                 path ? path : KEYFILE_ENV);
    return rc;
}
