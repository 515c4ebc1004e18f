/* secret.c - "${env:NAME}" / "${file:PATH}" references and file reading
 * (cfg_int.h). Reasons written to `why` name the variable or the file,
 * never the value. */
#include "config/cfg_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/err.h"

int
cfg_read_file(char **buf, size_t *len, const char *path, size_t cap)
{
    struct stat st;
    size_t n = 0;
    char *b;
    int fd;

    assert(buf != NULL && len != NULL && path != NULL);
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO named by a hostile config must not hang us. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return KP_EIO;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return KP_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return KP_EINVAL;
    }
    if ((uint64_t)st.st_size > cap) {
        close(fd);
        return KP_ELIMIT;
    }
    /* The size may change under us: read at most cap + 1 bytes. */
    b = kp_xmalloc(cap + 2);
    for (;;) {
        ssize_t r = read(fd, b + n, cap + 1 - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;

            close(fd);
            kp_wipe(b, n);
            free(b);
            errno = e;
            return KP_EIO;
        }
        if (r == 0 || (n += (size_t)r) > cap)
            break;
    }
    close(fd);
    if (n > cap) {
        /* Maybe part of a secret file: wipe it like a whole one. */
        kp_wipe(b, n);
        free(b);
        return KP_ELIMIT;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

bool
cfg_is_reference(const char *s, size_t len)
{
    return len >= 3 && s[0] == '$' && s[1] == '{' && s[len - 1] == '}';
}

static bool
is_env_name(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

int
cfg_join_path(char *out, size_t cap, const char *dir, const char *path,
              size_t len)
{
    int n;

    assert(out != NULL && dir != NULL && path != NULL);
    if (len > 0 && path[0] != '/' && dir[0] != '\0')
        n = snprintf(out, cap, "%s/%.*s", dir, (int)len, path);
    else
        n = snprintf(out, cap, "%.*s", (int)len, path);
    return n < 0 || (size_t)n >= cap ? KP_ERANGE : 0;
}

static int
resolve_env(struct cfg_secret *sec, const char *name, char *why, size_t whycap)
{
    const char *v = getenv(name);
    size_t n;

    if (v == NULL)
        return snprintf(why, whycap, "environment variable '%s' is not set",
                        name),
               KP_ENOTFOUND;
    if ((n = strlen(v)) == 0)
        return snprintf(why, whycap, "environment variable '%s' is empty",
                        name),
               KP_EINVAL;
    if (n >= sizeof(sec->value))
        return snprintf(why, whycap,
                        "environment variable '%s' is too long (more than "
                        "%zu bytes)",
                        name, sizeof(sec->value) - 1),
               KP_ELIMIT;
    memcpy(sec->value, v, n + 1);
    return 0;
}

/* Copy the file's text minus trailing newlines into sec->value. */
static int
take_file_value(struct cfg_secret *sec, const char *path, char *b, size_t n,
                char *why, size_t whycap)
{
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
        n--;
    if (n == 0)
        return snprintf(why, whycap, "secret file '%s' is empty", path),
               KP_EINVAL;
    if (memchr(b, '\0', n) != NULL)
        return snprintf(why, whycap, "secret file '%s' contains a NUL byte",
                        path),
               KP_EINVAL;
    memcpy(sec->value, b, n);
    sec->value[n] = '\0';
    return 0;
}

static int
resolve_file(struct cfg_secret *sec, const char *path, char *why, size_t whycap)
{
    char *b;
    size_t n;
    int rc = cfg_read_file(&b, &n, path, sizeof(sec->value) - 1);

    if (rc == KP_ELIMIT)
        return snprintf(why, whycap,
                        "secret file '%s' is too large (more than %zu bytes)",
                        path, sizeof(sec->value) - 1),
               rc;
    if (rc == KP_EINVAL)
        return snprintf(why, whycap, "secret file '%s' is not a regular file",
                        path),
               rc;
    if (rc != 0)
        return snprintf(why, whycap, "cannot read secret file '%s': %s", path,
                        strerror(errno)),
               rc;
    rc = take_file_value(sec, path, b, n, why, whycap);
    kp_wipe(b, n);
    free(b);
    return rc;
}

int
cfg_secret_resolve(struct cfg_secret *sec, const char *s, size_t len,
                   const char *dir, unsigned flags, char *why, size_t whycap)
{
    const char *body = s + 2;
    size_t blen = len - 3;
    char path[CFG_PATH_MAX];

    assert(sec != NULL && cfg_is_reference(s, len) && dir != NULL);
    memset(sec, 0, sizeof(*sec));
    if (blen >= sizeof(sec->ref))
        return snprintf(why, whycap,
                        "reference too long (more than %zu "
                        "characters)",
                        sizeof(sec->ref) - 1),
               KP_ELIMIT;
    memcpy(sec->ref, body, blen);
    sec->ref[blen] = '\0';
    if (blen > 4 && !memcmp(body, "env:", 4) && is_env_name(body + 4, blen - 4))
        return flags & CFG_LOAD_NO_SECRETS
                   ? 0
                   : resolve_env(sec, sec->ref + 4, why, whycap);
    if (blen > 5 && !memcmp(body, "file:", 5) &&
        !memchr(body + 5, '\0', blen - 5)) {
        if (cfg_join_path(path, sizeof(path), dir, body + 5, blen - 5) != 0)
            return snprintf(why, whycap, "secret file path too long"),
                   KP_ELIMIT;
        return flags & CFG_LOAD_NO_SECRETS
                   ? 0
                   : resolve_file(sec, path, why, whycap);
    }
    memset(sec->ref, 0, sizeof(sec->ref));
    snprintf(why, whycap,
             "invalid secret reference (use ${env:NAME} or ${file:PATH})");
    return KP_EINVAL;
}
