/* Temporary directories and small files for tests: see tmp.h. */
#include "tests/support/tmp.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CAP (1u << 24) /* tests read compiler output, not data sets */

int
ts_tmpdir_make(char *dir, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    int n;

    if (base == NULL || *base == '\0')
        base = "/tmp";
    n = snprintf(dir, cap, "%s/kp-%s-XXXXXX", base, tag);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

int
ts_tmpdir_remove(const char *dir)
{
    return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

char *
ts_read_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf = NULL;
    long size = 0;
    size_t n = 0;

    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 &&
        size <= READ_CAP && fseek(fp, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL)
        n = fread(buf, 1, (size_t)size, fp);
    if (buf != NULL && (ferror(fp) || n != (size_t)size)) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    while (buf != NULL && n > 0 && strchr(" \t\r\n", buf[n - 1]))
        n--;
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

int
ts_write_text(const char *path, const char *text, mode_t mode)
{
    size_t len = strlen(text);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    int rc = -1;

    if (fd < 0)
        return -1;
    if (write(fd, text, len) == (ssize_t)len)
        rc = 0;
    if (close(fd) != 0)
        rc = -1;
    return rc;
}
