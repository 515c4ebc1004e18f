/*
 * txm_journal.c - an append-only file of signed transactions, one line
 * each, made durable (fdatasync) before the transaction is broadcast:
 *
 *   txm1 <key> <nonce> 0x<hash> 0x<raw>\n
 *
 * Keys hold no spaces (txm.h), so a line splits on single spaces. A crash
 * can leave a last line without its newline: the reader skips it (that
 * transaction was never broadcast, since broadcast waits for the sync).
 * The hash is checked against the bytes, so a damaged line is noticed.
 */
#include "chain/txm.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/err.h"
#include "chain/hex.h"
#include "chain/tx.h"

#define JOURNAL_TAG "txm1"
#define JOURNAL_LINE_MAX (64 + TXM_KEY_MAX + 2 * TX_MAX_SIZE)

struct txm_journal {
    int fd;
};

/* Make the directory entry of a new file durable too. */
static void
sync_parent_dir(const char *path)
{
    char *copy = kp_xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

int
txm_journal_open(struct txm_journal **out, const char *path)
{
    int fd;

    assert(out && path);
    *out = NULL;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return KP_EIO;
    sync_parent_dir(path);
    *out = kp_xmalloc(sizeof(**out));
    (*out)->fd = fd;
    return 0;
}

void
txm_journal_close(struct txm_journal *j)
{
    if (!j)
        return;
    close(j->fd);
    free(j);
}

static bool
journal_key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > TXM_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] >= 0x7f)
            return false;
    return true;
}

static int
write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return KP_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
txm_journal_append(void *arg, const struct txm_journal_rec *r)
{
    struct txm_journal *j = arg;
    size_t cap, n;
    char *line;
    int rc;

    assert(j && r);
    if (!r->key || !journal_key_ok(r->key) || !r->raw || r->raw_len == 0 ||
        r->raw_len > TX_MAX_SIZE)
        return KP_EINVAL;
    cap = 2 * r->raw_len + TXM_KEY_MAX + 128;
    line = kp_xmalloc(cap);
    n = (size_t)snprintf(line, cap, JOURNAL_TAG " %s %llu 0x", r->key,
                         (unsigned long long)r->nonce);
    hex_encode(line + n, cap - n, r->hash, 32, false);
    n += 64;
    memcpy(line + n, " 0x", 3);
    n += 3;
    hex_encode(line + n, cap - n, r->raw, r->raw_len, false);
    n += 2 * r->raw_len;
    line[n++] = '\n';
    /* One write of the whole line (O_APPEND), then the data on disk. */
    rc = write_all(j->fd, line, n);
    free(line);
    if (rc == 0 && fdatasync(j->fd) != 0)
        rc = KP_EIO;
    return rc;
}

/* Parse one complete line (without its newline) into `r`; the raw bytes
 * go to `raw` (TX_MAX_SIZE bytes). Returns: 0 or KP_EINVAL. */
static int
parse_line(struct txm_journal_rec *r, char *line, uint8_t *raw, char *key)
{
    char *f[5], *save = NULL, *end;
    unsigned long long nonce;
    uint8_t check[32];
    size_t n = 0;

    for (char *t = strtok_r(line, " ", &save); t && n < 5;
         t = strtok_r(NULL, " ", &save))
        f[n++] = t;
    if (n != 5 || strtok_r(NULL, " ", &save) || strcmp(f[0], JOURNAL_TAG) ||
        !journal_key_ok(f[1]) || f[2][0] < '0' || f[2][0] > '9')
        return KP_EINVAL;
    errno = 0;
    nonce = strtoull(f[2], &end, 10);
    if (errno || *end)
        return KP_EINVAL;
    if (hex_decode_exact(r->hash, 32, f[3], strlen(f[3])) != 0 ||
        !hex_has_prefix(f[4], strlen(f[4])) ||
        hex_decode(raw, TX_MAX_SIZE, &r->raw_len, f[4], strlen(f[4])) != 0 ||
        r->raw_len == 0)
        return KP_EINVAL;
    tx_hash(check, raw, r->raw_len);
    if (memcmp(check, r->hash, 32) != 0)
        return KP_EINVAL;
    snprintf(key, TXM_KEY_MAX + 1, "%s", f[1]);
    r->key = key;
    r->nonce = nonce;
    r->raw = raw;
    return 0;
}

static int
read_lines(FILE *fp, size_t *line,
           int (*fn)(void *arg, const struct txm_journal_rec *r), void *arg)
{
    size_t cap = JOURNAL_LINE_MAX + 2;
    uint8_t *raw = kp_xmalloc(TX_MAX_SIZE);
    char key[TXM_KEY_MAX + 1], *buf = kp_xmalloc(cap);
    int rc = 0;

    while (rc == 0 && fgets(buf, (int)cap, fp)) {
        size_t n = strlen(buf);
        struct txm_journal_rec r;

        ++*line;
        if (n == 0 || buf[n - 1] != '\n') {
            /* A torn last line was never broadcast; a longer one is bad. */
            if (!feof(fp) || n + 1 >= cap)
                rc = KP_EINVAL;
            break;
        }
        buf[n - 1] = '\0';
        if (parse_line(&r, buf, raw, key) != 0) {
            rc = KP_EINVAL;
            break;
        }
        rc = fn(arg, &r);
    }
    if (rc == 0 && ferror(fp))
        rc = KP_EIO;
    free(buf);
    free(raw);
    return rc;
}

int
txm_journal_read(const char *path, size_t *line,
                 int (*fn)(void *arg, const struct txm_journal_rec *r),
                 void *arg)
{
    size_t dummy = 0;
    FILE *fp;
    int rc;

    assert(path && fn);
    if (!line)
        line = &dummy;
    *line = 0;
    if (!(fp = fopen(path, "re")))
        return KP_EIO;
    rc = read_lines(fp, line, fn, arg);
    fclose(fp);
    return rc;
}
